//! The flags of the commands that write the state repo: `--yes`,
//! `--allow-destroy`, and `--push` with its companions.

use clap::Args;

use super::Consent;
use crate::ops;
use crate::ops::land::LandOptions;

// `--yes`, `--allow-destroy` and the push flags of apply, delete and rollback
// (a plain comment: a doc comment here would become those commands' summary).
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Do not ask for confirmation (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Allow deleting or replacing databases and replications (destroys their data)
    #[arg(long)]
    pub allow_destroy: bool,

    #[command(flatten)]
    pub push: PushArgs,
}

impl WriteArgs {
    pub(crate) fn consent(&self) -> Consent {
        Consent { yes: self.yes, allow_destroy: self.allow_destroy }
    }

    pub fn land(&self) -> LandOptions {
        LandOptions { push: self.push.options(), allow_destroy: self.allow_destroy }
    }
}

// `--push` and its companions, shared by every command that commits (a plain
// comment: a doc comment here would become those commands' summary).
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push the commit to a remote, re-planning and retrying when another pipeline pushed first
    #[arg(long)]
    pub push: bool,

    /// The remote (a name or a URL)
    #[arg(long, value_name = "NAME", default_value = "origin", requires = "push")]
    pub remote: String,

    /// Commit onto this branch (created from --base) for a pull request
    #[arg(long, value_name = "NAME", requires = "push", value_parser = parse_branch)]
    pub branch: Option<String>,

    /// The branch to build on (default: the current branch; with --branch, the remote's default branch)
    #[arg(long, value_name = "NAME", requires = "push", value_parser = parse_branch)]
    pub base: Option<String>,

    /// Attempts before giving up when other pipelines keep pushing first
    #[arg(long, value_name = "N", default_value_t = 10, requires = "push")]
    pub max_retries: u32,

    /// Give up when a network remote stays silent this long (connecting, or between two reads or writes)
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = crate::state::DEFAULT_NETWORK_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600),
        requires = "push"
    )]
    pub timeout: u64,
}

impl PushArgs {
    /// The resolved push settings.
    pub fn options(&self) -> Option<ops::land::PushOptions> {
        self.push.then(|| ops::land::PushOptions {
            remote: self.remote.clone(),
            branch: self.branch.clone(),
            base: self.base.clone(),
            max_attempts: self.max_retries.max(1),
            timeout: std::time::Duration::from_secs(self.timeout),
        })
    }
}

/// A branch name as `git switch -c` takes one (`git check-ref-format --branch`),
/// refusing what git would read as something else: `HEAD` and `@` (the
/// checked-out commit), a leading `-` (an option) or `+` (a forced refspec),
/// a full ref name.
fn parse_branch(name: &str) -> Result<String, String> {
    let why = if name == "HEAD" || name == "@" {
        "names the checked-out commit, not a branch"
    } else if name.starts_with('-') {
        "starts with '-', which git reads as an option"
    } else if name.starts_with('+') {
        "starts with '+', which git reads as a forced update"
    } else if name.starts_with("refs/") {
        "is a full ref name: give the branch's own name (`main`, not `refs/heads/main`)"
    } else if !crate::state::is_valid_branch_ref(name) {
        "is not a valid Git branch name (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', '@{', control characters, \
         or a component starting with '.' or ending in '.lock'; `git check-ref-format --branch NAME` checks one)"
    } else {
        return Ok(name.to_owned());
    };
    Err(format!("`{}` {why}", crate::names::printable(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_what_git_takes_for_a_new_branch() {
        for good in ["main", "idp/orders-db", "release-1.2", "feature/a_b", "x@y"] {
            assert_eq!(parse_branch(good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "HEAD",
            "@",
            "+main",
            "-main",
            "--force",
            "refs/heads/main",
            "a..b",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a@{1}",
            ".hidden",
            "a/.b",
            "a.lock",
            "a/",
            "/a",
            "a//b",
            "",
            "a\u{7}",
            "a\nb",
        ] {
            assert!(parse_branch(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(!parse_branch("a\u{1b}[31m").unwrap_err().contains('\u{1b}'), "the name is shown escaped");
    }
}
