//! `idp doctor`: checks the environment idp runs in and says, for each
//! problem, how to fix it. It reads and connects; it never writes.
//!
//! Every check runs even when an earlier one fails, so one run lists
//! everything that is wrong.

use std::path::Path;

use miette::Diagnostic;
use serde::Serialize;

use super::history::trailers;
use super::{Context, ContextOptions};
use crate::layout::MARKER_PATH;
use crate::state::{DEFAULT_NETWORK_TIMEOUT, StateRepo, VERSION_TRAILER, global_config_string, redact_url};

#[derive(Debug, Clone)]
pub struct DoctorOptions {
    pub context: ContextOptions,
    /// Connect to this remote (`--remote`); None skips the check.
    pub remote: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    /// What was found.
    pub message: String,
    /// What to do about it (warn and fail only).
    pub fix: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DoctorOutcome {
    /// No check failed (warnings allowed).
    pub ok: bool,
    pub checks: Vec<Check>,
}

fn ok(name: &'static str, message: impl Into<String>) -> Check {
    Check { name, status: CheckStatus::Ok, message: message.into(), fix: None }
}

fn warn(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { name, status: CheckStatus::Warn, message: message.into(), fix: Some(fix.into()) }
}

fn fail(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { name, status: CheckStatus::Fail, message: message.into(), fix: Some(fix.into()) }
}

pub fn doctor(options: &DoctorOptions) -> DoctorOutcome {
    let mut checks = Vec::new();
    let state = state_repo(options, &mut checks);
    checks.push(git_identity(state.as_ref(), options.context.author.as_ref()));
    // With the repo found (or none), the policy and templates it holds.
    let context = ContextOptions { repo: state.as_ref().map(|s| s.path().to_path_buf()), ..options.context.clone() };
    match Context::resolve(&context) {
        Ok(ctx) => {
            checks.push(policy(&ctx));
            if ctx.state.is_some() {
                checks.push(templates(&ctx));
                checks.push(version(&ctx));
            }
        }
        Err(e) => {
            // The report's own help points at problems listed below it, which doctor does not print.
            let is_policy = e.code().is_some_and(|c| c.to_string().starts_with("idp::policy"));
            let fix = if is_policy {
                "`idp policy validate` lists every problem with its line and column; fix them and commit".to_owned()
            } else {
                help_of(&e, "fix the policy; `idp policy validate FILE` checks a file")
            };
            checks.push(fail("policy", e.to_string(), fix));
        }
    }
    if let Some(state) = &state {
        let remote = options.remote.as_deref().unwrap_or("origin");
        checks.push(credentials(state, remote));
        if options.remote.is_some() {
            checks.push(reachable(state, remote));
        }
    }
    DoctorOutcome { ok: checks.iter().all(|c| c.status != CheckStatus::Fail), checks }
}

fn help_of(error: &dyn miette::Diagnostic, default: &str) -> String {
    error.help().map_or_else(|| default.to_owned(), |h| h.to_string())
}

/// The state repo: found, with a commit, on a branch, no uncommitted edits
/// under idp's paths.
fn state_repo(options: &DoctorOptions, checks: &mut Vec<Check>) -> Option<StateRepo> {
    const NAME: &str = "state repo";
    let state = match &options.context.repo {
        Some(path) => match StateRepo::open_state(path) {
            Ok(state) => state,
            Err(e) => {
                checks.push(fail(NAME, e.to_string(), help_of(&e, "create one with `idp init DIR`")));
                return None;
            }
        },
        None => match StateRepo::discover(&options.context.cwd) {
            Some(state) => state,
            None => {
                checks.push(warn(
                    NAME,
                    "none here: plans run against an empty state, and apply cannot commit",
                    "create one with `idp init DIR`, then pass --repo DIR or set IDP_REPO=DIR",
                ));
                return None;
            }
        },
    };
    let path = state.path().display().to_string();
    if let Err(e) = state.branch_ref() {
        checks.push(fail(NAME, format!("{path}: {e}"), help_of(&e, "`git switch main`")));
        return Some(state);
    }
    match state.dirty_managed_paths() {
        Ok(dirty) if !dirty.is_empty() => checks.push(warn(
            NAME,
            format!("{path} has uncommitted edits under idp's paths: {}", dirty.join(", ")),
            "idp refuses to write over them: commit or discard them (`git -C REPO status`)",
        )),
        Err(e) => checks.push(fail(NAME, e.to_string(), "check the repository with `git status`")),
        Ok(_) => checks.push(ok(NAME, path)),
    }
    Some(state)
}

/// Who idp's commits name as author (the audit log), found as idp finds it:
/// `--author`/`IDP_AUTHOR`, `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, git's config.
fn git_identity(state: Option<&StateRepo>, author: Option<&crate::state::Author>) -> Check {
    const NAME: &str = "git identity";
    if let Some(given) = crate::state::given_identity(author) {
        let source = if author.is_some() { "--author or IDP_AUTHOR" } else { "GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL" };
        return ok(NAME, format!("{} <{}> ({source})", given.name, given.email));
    }
    let get = |key: &str| {
        match state {
            Some(state) => state.config_string(key),
            None => global_config_string(key),
        }
        .filter(|v| !v.trim().is_empty())
    };
    match (get("user.name"), get("user.email")) {
        (Some(name), Some(email)) => ok(NAME, format!("{name} <{email}>")),
        _ => fail(
            NAME,
            "user.name or user.email is not set: idp refuses to commit, as git does",
            "git config --global user.name 'Your Name' && git config --global user.email you@example.org; \
             in CI, --author 'Name <email>' or IDP_AUTHOR",
        ),
    }
}

/// The policy in force validates and its rules compile.
fn policy(ctx: &Context) -> Check {
    const NAME: &str = "policy";
    let loaded = &ctx.policy;
    match super::rules::load(ctx) {
        Ok(_) => ok(NAME, format!("version {} from {} ({})", loaded.policy.version, loaded.origin, loaded.digest)),
        Err(e) => {
            fail(NAME, format!("the rules do not compile: {e}"), "fix the rule; `idp policy test` runs its tests")
        }
    }
}

/// Templates a state repo overrides replace idp's defaults, and do not pick
/// up changes to them when idp is upgraded.
fn templates(ctx: &Context) -> Check {
    const NAME: &str = "templates";
    match ctx.renderer().and_then(|renderer| Ok(renderer.compile_all().map(|()| renderer)?)) {
        Ok(renderer) if renderer.overridden.is_empty() => ok(NAME, "idp's defaults (no overrides under templates/)"),
        Ok(renderer) => warn(
            NAME,
            format!("the state repo overrides {}", renderer.overridden.join(", ")),
            "overrides do not follow idp upgrades: compare each with templates/<name> of the idp release you run, \
             and delete the ones you no longer need",
        ),
        Err(e) => {
            fail(NAME, e.to_string(), "fix the template under templates/; `idp render -f REQUEST` shows its output")
        }
    }
}

/// This idp against the newest idp that wrote the state repo.
fn version(ctx: &Context) -> Check {
    const NAME: &str = "version";
    let this = env!("CARGO_PKG_VERSION");
    let Some(written) = last_writer(ctx) else {
        return ok(NAME, format!("idp {this}; no commit records which idp wrote the state repo"));
    };
    match compare(&written, this) {
        std::cmp::Ordering::Greater => fail(
            NAME,
            format!("the state repo was last written by idp {written}, newer than this idp {this}"),
            format!("upgrade idp to {written} or later (`cargo install --path .` in a fresh checkout)"),
        ),
        _ => ok(NAME, format!("idp {this}; the state repo was last written by idp {written}")),
    }
}

/// The version in the newest `Idp-Version` trailer, else the layout marker's
/// `createdBy`. Reads at most a few hundred commits.
fn last_writer(ctx: &Context) -> Option<String> {
    let state = ctx.state.as_ref()?;
    for commit in state.first_parent_log(ctx.base?).ok()?.take(500).flatten() {
        if let Some((_, version)) = trailers(&commit.message).into_iter().rev().find(|(k, _)| *k == VERSION_TRAILER) {
            return Some(version.to_owned());
        }
    }
    let marker = ctx.read(MARKER_PATH).ok()??;
    let text = String::from_utf8_lossy(&marker);
    text.lines().find_map(|l| l.strip_prefix("createdBy: idp ")).map(|v| v.trim().to_owned())
}

/// Compares dotted versions numerically (`0.10.0` > `0.9.3`); a
/// pre-release suffix is ignored.
fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<u64> {
        v.split(['-', '+']).next().unwrap_or_default().split('.').map(|p| p.parse().unwrap_or(0)).collect()
    };
    parts(a).cmp(&parts(b))
}

/// What idp would authenticate with, for the remote's transport: for
/// http(s) a token, the URL or git's credential helper; for ssh the OpenSSH
/// client with IDP_SSH_KEY, the ssh-agent or its own configuration.
fn credentials(state: &StateRepo, remote: &str) -> Check {
    const NAME: &str = "credentials";
    let url = match state.remote_url(remote) {
        Some(url) => url,
        None if remote.contains(':') || remote.contains('/') => remote.to_owned(),
        None => return ok(NAME, format!("no remote `{remote}`: nothing to push to (add one for --push)")),
    };
    let shown = redact_url(&url).into_owned();
    let env = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
    let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    if matches!(scheme.as_deref(), Some("https" | "http")) {
        if env("IDP_GIT_TOKEN").is_some() {
            return ok(NAME, format!("{shown}: a token in IDP_GIT_TOKEN"));
        }
        if shown != url {
            return ok(NAME, format!("{shown}: the user and password in the URL"));
        }
        let helper = state.config_string("credential.helper");
        return match helper {
            Some(helper) if on_path("git") => ok(NAME, format!("{shown}: git's credential helper `{helper}`")),
            Some(helper) => warn(
                NAME,
                format!("{shown}: a credential helper (`{helper}`) is configured, but git is not installed to run it"),
                "install git, or export IDP_GIT_TOKEN=<a token with write access>",
            ),
            None => warn(
                NAME,
                format!("{shown}: no IDP_GIT_TOKEN and no git credential helper"),
                "export IDP_GIT_TOKEN=<a token with write access>, or configure `git config credential.helper`",
            ),
        };
    }
    let scp_like = scheme.is_none() && url.split_once(':').is_some_and(|(host, _)| !host.contains('/'));
    if !(scp_like || matches!(scheme.as_deref(), Some("ssh" | "ssh+git" | "git+ssh"))) {
        return ok(NAME, format!("{shown}: git:// or a local path, no credentials needed"));
    }
    let client = if env("GIT_SSH_COMMAND").is_some() {
        "GIT_SSH_COMMAND"
    } else if on_path("ssh") {
        "OpenSSH (`ssh`)"
    } else {
        return fail(
            NAME,
            format!("{shown}: no `ssh` on PATH"),
            "install the OpenSSH client (Debian: openssh-client), or set GIT_SSH_COMMAND",
        );
    };
    if let Some(file) = env("IDP_SSH_KNOWN_HOSTS").filter(|f| !Path::new(f).is_file()) {
        return fail(
            NAME,
            format!("{shown}: IDP_SSH_KNOWN_HOSTS names {}, which is not a file", Path::new(&file).display()),
            "point IDP_SSH_KNOWN_HOSTS at a known_hosts file that lists the server's host key",
        );
    }
    match env("IDP_SSH_KEY") {
        Some(key) if Path::new(&key).is_file() => ok(NAME, format!("{shown}: {client} with the key in IDP_SSH_KEY")),
        Some(key) => fail(
            NAME,
            format!("{shown}: IDP_SSH_KEY names {}, which is not a file", Path::new(&key).display()),
            "point IDP_SSH_KEY at a private key file",
        ),
        None if env("SSH_AUTH_SOCK").is_some() => ok(NAME, format!("{shown}: {client} with the ssh-agent")),
        None => ok(NAME, format!("{shown}: {client} with its own keys and ~/.ssh/config")),
    }
}

/// Whether `program` is an executable file in a PATH directory.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Connects to the remote and reads its default branch, as `--push` would
/// with its default `--timeout`.
fn reachable(state: &StateRepo, remote: &str) -> Check {
    const NAME: &str = "remote";
    match state.remote_default_branch(remote, DEFAULT_NETWORK_TIMEOUT) {
        Ok(branch) => ok(NAME, format!("`{remote}` answers; its default branch is {branch}")),
        // It answered: a first push to it works, a `--branch` needs `--base`.
        Err(e @ crate::state::StateError::NoDefaultBranch { .. }) => {
            let fix = miette::Diagnostic::help(&e).map(|help| help.to_string()).unwrap_or_default();
            warn(NAME, e.to_string(), fix)
        }
        Err(e) => fail(
            NAME,
            e.to_string(),
            "check the URL (`git remote -v`), the network, the credentials above and, for ssh, the host key \
             (IDP_SSH_KNOWN_HOSTS or ~/.ssh/known_hosts)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare("0.10.0", "0.9.3"), Ordering::Greater);
        assert_eq!(compare("0.1.0", "0.1.0"), Ordering::Equal);
        assert_eq!(compare("0.1.0-rc.1", "0.1.0"), Ordering::Equal);
        assert_eq!(compare("1.2", "1.2.1"), Ordering::Less);
    }
}
