//! ssh remotes: the system's OpenSSH client runs as a child process, the way
//! git runs it, and libgit2 speaks the git protocol over its stdin and stdout.
//! This file owns parsing ssh URLs, ssh's arguments and its error messages.

use std::ffi::OsString;
use std::io;
use std::process::Command;
use std::time::Duration;

use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream};

use super::child::ChildStream;
use super::{env, percent_decoded, program, split_user, timeout_in_force};

/// Set in ssh's environment when it runs idp as its SSH_ASKPASS.
const ASKPASS_MARKER: &str = "IDP_SSH_ASKPASS";

/// When ssh runs idp as its SSH_ASKPASS (to unlock `IDP_SSH_KEY` with
/// `IDP_SSH_KEY_PASSPHRASE`): Some(answer to print), or Some(None) to decline
/// a prompt that is not for a key's passphrase. None in every other run.
pub fn ssh_askpass() -> Option<Option<String>> {
    std::env::var_os(ASKPASS_MARKER)?;
    let prompt = std::env::args().nth(1).unwrap_or_default();
    Some(prompt.contains("passphrase").then(|| std::env::var("IDP_SSH_KEY_PASSPHRASE").ok()).flatten())
}

/// libgit2's stateful ssh subtransport: one OpenSSH process per connection.
pub(super) struct Ssh;

impl SmartSubtransport for Ssh {
    fn action(&self, url: &str, action: Service) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let target = SshTarget::parse(url).map_err(|e| git2::Error::from_str(&e))?;
        let stream = spawn_ssh(&target, program(action), &SshSettings::from_env())?;
        Ok(Box::new(stream))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// Where an ssh remote is: `ssh://[user@]host[:port]/path` (or `ssh+git://`,
/// `git+ssh://`), or scp-like `[user@]host:path`, whose path is relative to
/// the login's home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SshTarget {
    user: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
}

impl SshTarget {
    fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{}` is not an ssh remote: {why}", super::redact_url(url));
        let scheme = ["ssh://", "ssh+git://", "git+ssh://"]
            .iter()
            .find(|p| url.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p)));
        let target = match scheme {
            Some(scheme) => {
                let rest = &url[scheme.len()..];
                let slash = rest.find('/').ok_or_else(|| bad("no path after the host"))?;
                let (authority, path) = rest.split_at(slash);
                let (user, host) = split_user(authority);
                let (host, port) = split_port(host).ok_or_else(|| bad("the port is not a number"))?;
                let path = percent_decoded(path);
                // `ssh://host/~user/repo` is in a home directory, as git reads it.
                let path = match path.strip_prefix("/~") {
                    Some(home) => format!("~{home}"),
                    None => path,
                };
                Self { user: user.map(percent_decoded), host: percent_decoded(host), port, path }
            }
            None => {
                // The host ends at the first ':' outside [brackets]; a '/' before
                // it makes the whole thing a local path.
                let bracket = url.find("@[").map_or(0, |at| at + 1);
                let after = if url[bracket..].starts_with('[') {
                    bracket + url[bracket..].find(']').ok_or_else(|| bad("'[' without ']'"))?
                } else {
                    0
                };
                let colon = after + url[after..].find(':').ok_or_else(|| bad("no ':' between host and path"))?;
                let (authority, path) = (&url[..colon], &url[colon + 1..]);
                if authority.contains('/') {
                    return Err(bad("a local path"));
                }
                let (user, host) = split_user(authority);
                let (host, port) = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                    // `[host:port]:path` (git's old syntax for a port) or `[::1]:path`.
                    Some(inner) => match inner.rsplit_once(':') {
                        Some((h, p)) if !h.contains(':') => (h, Some(p.parse().map_err(|_| bad("bad port"))?)),
                        _ => (inner, None),
                    },
                    None => (host, None),
                };
                Self { user: user.map(str::to_owned), host: host.to_owned(), port, path: path.to_owned() }
            }
        };
        if target.user.as_deref().is_some_and(|user| user.contains(':')) {
            // ssh would take `user:password` for a user name and show it in its errors.
            return Err(bad("a password in an ssh URL is never used (ssh authenticates with keys): remove it"));
        }
        if target.host.is_empty() || target.path.is_empty() {
            return Err(bad("no host or no path"));
        }
        // ssh would read `-oProxyCommand=...` as an option: git refuses these too.
        if target.host.starts_with('-') || target.user.as_deref().is_some_and(|u| u.starts_with('-')) {
            return Err(bad("a host or user starting with '-'"));
        }
        Ok(target)
    }

    /// `[user@]host`, as ssh takes it.
    fn login(&self) -> String {
        match &self.user {
            Some(user) => format!("{user}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

fn split_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match hostport.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            if !after.is_empty() && !after.starts_with(':') {
                return None;
            }
            (host, after.strip_prefix(':'))
        }
        None => match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        },
    };
    match port.filter(|p| !p.is_empty()) {
        Some(port) => Some((host, Some(port.parse().ok()?))),
        None => Some((host, None)),
    }
}

/// `'` becomes `'\''`, and `!` becomes `'\!'` (for csh).
fn shell_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if c == '\'' || c == '!' {
            out.push_str("'\\");
            out.push(c);
            out.push('\'');
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// How ssh runs, from the environment and `--timeout`.
struct SshSettings {
    /// `GIT_SSH_COMMAND`, run by `sh -c` like git does; else `ssh`.
    command: Option<OsString>,
    key: Option<OsString>,
    known_hosts: Option<OsString>,
    /// `IDP_SSH_KEY_PASSPHRASE` is set: ssh asks idp itself (`ssh_askpass`).
    passphrase: bool,
    timeout: Duration,
}

impl SshSettings {
    fn from_env() -> Self {
        Self {
            command: env("GIT_SSH_COMMAND"),
            key: env("IDP_SSH_KEY"),
            known_hosts: env("IDP_SSH_KNOWN_HOSTS"),
            passphrase: env("IDP_SSH_KEY_PASSPHRASE").is_some(),
            timeout: timeout_in_force(),
        }
    }
}

/// ssh's arguments, git's shape: `[options] [-p port] [user@]host "command"`.
fn ssh_args(target: &SshTarget, remote_command: &str, settings: &SshSettings) -> Vec<OsString> {
    let secs = settings.timeout.as_secs().max(1);
    let mut args: Vec<OsString> = Vec::new();
    let mut option = |o: String| args.extend(["-o".into(), o.into()]);
    if settings.passphrase {
        // BatchMode would also stop ssh from asking idp for the passphrase;
        // nothing else may prompt.
        option("PasswordAuthentication=no".into());
        option("KbdInteractiveAuthentication=no".into());
    } else {
        // Never prompt: a pipeline has nobody to answer.
        option("BatchMode=yes".into());
    }
    option(format!("ConnectTimeout={secs}"));
    // A server silent for about `--timeout` ends the connection.
    option(format!("ServerAliveInterval={}", secs.div_ceil(3)));
    option("ServerAliveCountMax=3".into());
    // A host whose key is not known is refused, never trusted on first use.
    option("StrictHostKeyChecking=yes".into());
    if let Some(file) = &settings.known_hosts {
        let mut o = OsString::from("UserKnownHostsFile=");
        o.push(file);
        args.extend(["-o".into(), o]);
    }
    if let Some(key) = &settings.key {
        args.extend(["-i".into(), key.clone(), "-o".into(), "IdentitiesOnly=yes".into()]);
    }
    if let Some(port) = target.port {
        args.extend(["-p".into(), port.to_string().into()]);
    }
    args.extend([target.login().into(), remote_command.into()]);
    args
}

/// Runs ssh to `program` on the server, the way git does.
fn spawn_ssh(target: &SshTarget, program: &str, settings: &SshSettings) -> Result<ChildStream, git2::Error> {
    let remote_command = format!("{program} {}", shell_quote(&target.path));
    let args = ssh_args(target, &remote_command, settings);
    let mut command = match &settings.command {
        Some(line) => {
            let mut script = line.clone();
            script.push(" \"$@\"");
            let mut command = Command::new("sh");
            command.arg("-c").arg(script).arg(line);
            command
        }
        None => Command::new("ssh"),
    };
    command.args(&args);
    if settings.passphrase {
        let exe = std::env::current_exe()
            .map_err(|e| git2::Error::from_str(&format!("cannot find idp's own path for ssh's askpass: {e}")))?;
        command.env("SSH_ASKPASS", exe).env("SSH_ASKPASS_REQUIRE", "force").env(ASKPASS_MARKER, "1");
    }
    let hint_target = target.clone();
    ChildStream::spawn(command, format!("ssh {}", target.login()), move |stderr| ssh_hint(stderr, &hint_target))
        .map_err(|e| {
            let what = if settings.command.is_some() { "GIT_SSH_COMMAND" } else { "ssh" };
            let hint = match e.kind() {
                io::ErrorKind::NotFound => ": install the OpenSSH client, or set GIT_SSH_COMMAND",
                _ => "",
            };
            git2::Error::from_str(&format!("cannot run {what}: {e}{hint}"))
        })
}

/// What to do about a failure ssh explained on stderr.
fn ssh_hint(stderr: &str, target: &SshTarget) -> Option<String> {
    if stderr.contains("Host key verification failed") {
        let port = target.port.map(|p| format!("-p {p} ")).unwrap_or_default();
        return Some(format!(
            "the host key of {} is not the one in IDP_SSH_KNOWN_HOSTS or ~/.ssh/known_hosts: add it with \
             `ssh-keyscan {port}{} >> FILE` after checking its fingerprint",
            target.host, target.host
        ));
    }
    if stderr.contains("Permission denied") {
        return Some(
            "the server refused every key offered: set IDP_SSH_KEY to a key it accepts (and IDP_SSH_KEY_PASSPHRASE \
             if the key has one), or load one into ssh-agent"
                .into(),
        );
    }
    if stderr.contains("does not appear to be a git repository") || stderr.contains("not a git repository") {
        return Some("check the repository path in the remote URL".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(user: Option<&str>, host: &str, port: Option<u16>, path: &str) -> SshTarget {
        SshTarget { user: user.map(str::to_owned), host: host.into(), port, path: path.into() }
    }

    #[test]
    fn ssh_urls_are_parsed_like_git() {
        let cases = [
            ("ssh://git@example.org/org/state.git", target(Some("git"), "example.org", None, "/org/state.git")),
            ("ssh://example.org:2222/srv/state.git", target(None, "example.org", Some(2222), "/srv/state.git")),
            ("SSH://u@h/x", target(Some("u"), "h", None, "/x")),
            ("ssh+git://u@h:22/x", target(Some("u"), "h", Some(22), "/x")),
            ("git+ssh://h/x", target(None, "h", None, "/x")),
            ("ssh://[::1]:2222/srv/x.git", target(None, "::1", Some(2222), "/srv/x.git")),
            ("ssh://git@[fe80::1]/x", target(Some("git"), "fe80::1", None, "/x")),
            ("ssh://h/~alice/x.git", target(None, "h", None, "~alice/x.git")),
            ("ssh://h/a%20b.git", target(None, "h", None, "/a b.git")),
            ("ssh://h:/x", target(None, "h", None, "/x")),
            // scp-like: the path is taken as written, relative to the login's home.
            ("git@github.com:org/state.git", target(Some("git"), "github.com", None, "org/state.git")),
            ("host:state.git", target(None, "host", None, "state.git")),
            ("host:/abs/state.git", target(None, "host", None, "/abs/state.git")),
            ("host:~/state.git", target(None, "host", None, "~/state.git")),
            ("[::1]:state.git", target(None, "::1", None, "state.git")),
            ("git@[::1]:state.git", target(Some("git"), "::1", None, "state.git")),
            ("[host:2222]:state.git", target(None, "host", Some(2222), "state.git")),
            ("me@host:dir:with:colons", target(Some("me"), "host", None, "dir:with:colons")),
            ("a@b@host:x", target(Some("a@b"), "host", None, "x")),
        ];
        for (url, expected) in cases {
            assert_eq!(SshTarget::parse(url), Ok(expected), "{url}");
        }
    }

    #[test]
    fn bad_ssh_urls_are_refused_not_guessed() {
        for url in [
            "ssh://host",
            "ssh://host:port/x",
            "ssh://-oProxyCommand=touch%20pwned/x",
            "ssh://-oProxyCommand=x@host/x",
            "-oProxyCommand=x:repo",
            "./local:path",
            "/abs/dir:x",
            "host:",
            ":path",
            "[::1:repo",
            "ssh://[::1]x/y",
            "no-colon-at-all",
        ] {
            assert!(SshTarget::parse(url).is_err(), "{url} was accepted: {:?}", SshTarget::parse(url));
        }
    }

    #[test]
    fn passwords_in_ssh_urls_are_refused_and_never_repeated() {
        for url in ["ssh://git:hunter2@host/x", "ssh://git:hun/ter2@host:22/x", "SSH://git:hunter2@host:22/x"] {
            let err = SshTarget::parse(url).unwrap_err();
            assert!(!err.contains("hunter2") && !err.contains("ter2"), "{err}");
            assert!(err.contains("git:***@host"), "{err}");
        }
        let err = SshTarget::parse("ssh://git:hunter2@host/x").unwrap_err();
        assert!(
            err.ends_with("a password in an ssh URL is never used (ssh authenticates with keys): remove it"),
            "{err}"
        );
    }

    #[test]
    fn paths_are_quoted_for_the_remote_shell_like_git() {
        assert_eq!(shell_quote("org/state.git"), "'org/state.git'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a!b"), r"'a'\!'b'");
        assert_eq!(shell_quote("$(rm -rf ~); `x`"), "'$(rm -rf ~); `x`'");
        assert_eq!(shell_quote(""), "''");
    }

    fn settings() -> SshSettings {
        SshSettings { command: None, key: None, known_hosts: None, passphrase: false, timeout: Duration::from_secs(60) }
    }

    fn args(target: &SshTarget, settings: &SshSettings) -> Vec<String> {
        ssh_args(target, "git-upload-pack 'x'", settings).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn ssh_runs_in_batch_mode_with_strict_host_keys_and_the_timeout() {
        let t = target(Some("git"), "example.org", None, "x");
        assert_eq!(
            args(&t, &settings()),
            [
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=60",
                "-o",
                "ServerAliveInterval=20",
                "-o",
                "ServerAliveCountMax=3",
                "-o",
                "StrictHostKeyChecking=yes",
                "git@example.org",
                "git-upload-pack 'x'"
            ]
        );
    }

    #[test]
    fn ssh_gets_the_key_the_known_hosts_and_the_port() {
        let t = target(None, "::1", Some(2222), "x");
        let s = SshSettings {
            key: Some("/keys/id".into()),
            known_hosts: Some("/keys/known".into()),
            timeout: Duration::from_secs(2),
            ..settings()
        };
        let args = args(&t, &s);
        let joined = args.join(" ");
        assert!(joined.contains("-o ConnectTimeout=2 -o ServerAliveInterval=1 -o ServerAliveCountMax=3"), "{joined}");
        assert!(joined.contains("-o UserKnownHostsFile=/keys/known"), "{joined}");
        assert!(joined.contains("-i /keys/id -o IdentitiesOnly=yes"), "{joined}");
        assert!(joined.ends_with("-p 2222 ::1 git-upload-pack 'x'"), "{joined}");
    }

    #[test]
    fn with_a_passphrase_ssh_may_ask_idp_and_nothing_else() {
        let t = target(None, "h", None, "x");
        let joined = args(&t, &SshSettings { passphrase: true, ..settings() }).join(" ");
        assert!(!joined.contains("BatchMode"), "{joined}");
        assert!(joined.contains("-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no"), "{joined}");
        assert!(joined.contains("StrictHostKeyChecking=yes"), "{joined}");
    }
}
