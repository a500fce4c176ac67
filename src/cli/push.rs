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
    #[arg(long, value_name = "NAME", requires = "push")]
    pub branch: Option<String>,

    /// The branch to build on (default: the current branch; with --branch, the remote's default branch)
    #[arg(long, value_name = "NAME", requires = "push")]
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
