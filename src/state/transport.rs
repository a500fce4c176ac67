//! The ssh and http(s) transports under libgit2, without OpenSSL: ssh runs the
//! system's OpenSSH client the way git does, http(s) speaks git's smart HTTP
//! protocol over ureq (rustls). libgit2 keeps its own git:// and local ones.
//!
//! This module owns reaching a network remote and authenticating to it. It
//! never touches refs or objects: libgit2 speaks the git protocol over the
//! streams it gets from here.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use ureq::ResponseExt;

use super::remote::network_timeout;

/// Makes libgit2 use these transports for ssh (also scp-like `host:path`,
/// which libgit2 hands to whatever serves `ssh://`) and http(s).
pub(super) fn register() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: registering appends to a process-wide list that libgit2 reads,
        // unlocked, whenever it creates a transport. Every idp code path that
        // creates a remote calls `register` first (`StateRepo::remote`), and Once
        // holds any concurrent caller until the registration is complete, so the
        // list is never read while it is written, and never written again.
        unsafe {
            for scheme in ["ssh", "ssh+git", "git+ssh"] {
                let _ = git2::transport::register(scheme, |remote| Transport::smart(remote, false, Ssh));
            }
            for scheme in ["http", "https"] {
                let _ = git2::transport::register(scheme, |remote| Transport::smart(remote, true, Http::default()));
            }
        }
    });
}

/// A remote's URL as idp may show it: a password in it replaced by `***`.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else { return url.into() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((info, host)) if info.contains(':') => {
            let user = info.split_once(':').map_or(info, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{}", &rest[end..]).into()
        }
        _ => url.into(),
    }
}

fn program(action: Service) -> &'static str {
    match action {
        Service::UploadPackLs | Service::UploadPack => "git-upload-pack",
        Service::ReceivePackLs | Service::ReceivePack => "git-receive-pack",
    }
}

fn env(key: &str) -> Option<OsString> {
    std::env::var_os(key).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------------------
// ssh: OpenSSH as a child process
// ---------------------------------------------------------------------------------------

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
struct Ssh;

impl SmartSubtransport for Ssh {
    fn action(&self, url: &str, action: Service) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let target = SshTarget::parse(url).map_err(|e| git2::Error::from_str(&e))?;
        let stream = SshStream::spawn(&target, program(action), &SshSettings::from_env())?;
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
        let bad = |why: &str| format!("`{url}` is not an ssh remote: {why}");
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
                let path = percent_decode(path);
                // `ssh://host/~user/repo` is in a home directory, as git reads it.
                let path = match path.strip_prefix("/~") {
                    Some(home) => format!("~{home}"),
                    None => path,
                };
                Self { user: user.map(percent_decode), host: percent_decode(host), port, path }
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

fn split_user(authority: &str) -> (Option<&str>, &str) {
    match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; None when the port is not one.
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

/// `%XX` escapes decoded, as git decodes ssh:// URLs; anything else kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `s` single-quoted for the remote shell, as git's `sq_quote` does it:
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
            timeout: network_timeout(),
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

/// How long a closing ssh gets to exit on its own before it is killed.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// The ssh child: libgit2 reads its stdout and writes its stdin.
struct SshStream {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<Vec<u8>>>,
    target: SshTarget,
    received: bool,
    /// The error already reported, repeated for any later call.
    failed: Option<String>,
}

impl SshStream {
    fn spawn(target: &SshTarget, program: &str, settings: &SshSettings) -> Result<Self, git2::Error> {
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
        command.args(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if settings.passphrase {
            let exe = std::env::current_exe()
                .map_err(|e| git2::Error::from_str(&format!("cannot find idp's own path for ssh's askpass: {e}")))?;
            command.env("SSH_ASKPASS", exe).env("SSH_ASKPASS_REQUIRE", "force").env(ASKPASS_MARKER, "1");
        }
        let mut child = command.spawn().map_err(|e| {
            let what = if settings.command.is_some() { "GIT_SSH_COMMAND" } else { "ssh" };
            let hint = match e.kind() {
                io::ErrorKind::NotFound => ": install the OpenSSH client, or set GIT_SSH_COMMAND",
                _ => "",
            };
            git2::Error::from_str(&format!("cannot run {what}: {e}{hint}"))
        })?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(git2::Error::from_str("ssh started without its pipes"));
        };
        // Drained all along, so a chatty ssh never blocks on a full pipe; kept
        // for the message when the connection fails.
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = (&mut stderr).take(64 << 10).read_to_end(&mut text);
            let _ = io::copy(&mut stderr, &mut io::sink());
            text
        });
        Ok(Self {
            child,
            stdin: Some(stdin),
            stdout,
            stderr: Some(stderr),
            target: target.clone(),
            received: false,
            failed: None,
        })
    }

    /// Waits up to `limit` for ssh to exit.
    fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                _ => return None,
            }
        }
    }

    /// The connection failed: what ssh said about it, and what to do.
    fn failure(&mut self, cause: Option<io::Error>) -> io::Error {
        if let Some(message) = &self.failed {
            return io::Error::other(message.clone());
        }
        let status = self.wait(EXIT_WAIT);
        let stderr = match self.stderr.take() {
            Some(thread) => {
                let deadline = Instant::now() + EXIT_WAIT;
                while !thread.is_finished() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if thread.is_finished() { thread.join().unwrap_or_default() } else { Vec::new() }
            }
            None => Vec::new(),
        };
        let stderr = String::from_utf8_lossy(&stderr);
        let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let mut message = format!("ssh {}", self.target.login());
        match status {
            Some(status) if !status.success() => message.push_str(&format!(" failed ({status})")),
            Some(_) => message.push_str(" closed the connection early"),
            None => message.push_str(" stopped answering"),
        }
        if !said.is_empty() {
            message.push_str(&format!(": {}", said.join(" ")));
        } else if let Some(cause) = cause {
            message.push_str(&format!(": {cause}"));
        }
        if let Some(hint) = ssh_hint(&said.join(" "), &self.target) {
            message.push_str(&format!(" ({hint})"));
        }
        self.failed = Some(message.clone());
        io::Error::other(message)
    }
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

impl Read for SshStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            return Err(self.failure(None));
        }
        match self.stdout.read(buf) {
            Ok(0) if !buf.is_empty() => {
                // The end of ssh's output: fine after a session, a failure before one.
                let status = self.wait(EXIT_WAIT);
                if self.received && status.is_some_and(|s| s.success()) { Ok(0) } else { Err(self.failure(None)) }
            }
            Ok(n) => {
                self.received = true;
                Ok(n)
            }
            Err(e) => Err(self.failure(Some(e))),
        }
    }
}

impl Write for SshStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = match self.stdin.as_mut() {
            Some(stdin) if self.failed.is_none() => stdin.write(buf),
            _ => Err(io::ErrorKind::BrokenPipe.into()),
        };
        written.map_err(|e| self.failure(Some(e)))
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = match self.stdin.as_mut() {
            Some(stdin) => stdin.flush(),
            None => Ok(()),
        };
        flushed.map_err(|e| self.failure(Some(e)))
    }
}

impl Drop for SshStream {
    fn drop(&mut self) {
        // End of input lets ssh and the server finish the session cleanly.
        drop(self.stdin.take());
        if self.wait(EXIT_WAIT).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// http(s): git's smart HTTP protocol (stateless RPC) over ureq
// ---------------------------------------------------------------------------------------

/// libgit2's stateless http subtransport: one request per action, sharing
/// the agent, the redirected URL and the credentials of one connection.
#[derive(Default)]
struct Http {
    session: Arc<Mutex<Option<HttpSession>>>,
}

impl SmartSubtransport for Http {
    fn action(&self, url: &str, action: Service) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        if session.is_none() {
            *session = Some(HttpSession::new(url).map_err(|e| git2::Error::from_str(&e))?);
        }
        let service = match program(action) {
            "git-upload-pack" => "upload-pack",
            _ => "receive-pack",
        };
        let post = matches!(action, Service::UploadPack | Service::ReceivePack);
        Ok(Box::new(HttpStream {
            session: Arc::clone(&self.session),
            service,
            post,
            request: Vec::new(),
            response: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// Where credentials came from, for messages (never the secret itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Token,
    Url,
    Helper,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Token => "IDP_GIT_TOKEN",
            Source::Url => "the user and password in the URL",
            Source::Helper => "git's credential helper",
        }
    }
}

struct Credential {
    user: String,
    password: String,
    source: Source,
}

struct HttpSession {
    agent: ureq::Agent,
    /// `scheme://host[:port]/path`: no credentials, no trailing '/'; moves
    /// when the first request is redirected, as with git.
    base: String,
    url_user: Option<String>,
    url_password: Option<String>,
    /// Sent once the server asked (401), for the rest of the connection.
    auth: Option<Credential>,
    approved: bool,
}

impl HttpSession {
    fn new(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("`{url}` is not an http(s) URL"))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (userinfo, host) = split_user(authority);
        let (url_user, url_password) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((user, password)) => (Some(percent_decode(user)), Some(percent_decode(password))),
                None => (Some(percent_decode(info)), None),
            },
            None => (None, None),
        };
        let base = format!("{}://{host}{}", scheme.to_ascii_lowercase(), path.trim_end_matches('/'));
        if host.is_empty() {
            return Err(format!("`{base}` names no host"));
        }
        let timeout = Some(network_timeout());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects_will_error(false)
            .user_agent(concat!("git/2.0 (idp ", env!("CARGO_PKG_VERSION"), ")"))
            // Inactivity limits, not a total: a large push that keeps moving
            // is never cut off.
            .timeout_resolve(timeout)
            .timeout_connect(timeout)
            .timeout_per_read(timeout)
            .timeout_per_write(timeout)
            .tls_config(tls)
            .build()
            .into();
        Ok(Self { agent, base, url_user, url_password, auth: None, approved: false })
    }

    /// One request of `service`: the ref advertisement (GET), or `body` (POST).
    fn send(&mut self, service: &str, body: Option<&[u8]>) -> io::Result<ureq::http::Response<ureq::Body>> {
        loop {
            let basic = self.auth.as_ref().map(|c| {
                let pair = format!("{}:{}", c.user, c.password);
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
            });
            let result = match body {
                None => {
                    let url = format!("{}/info/refs?service=git-{service}", self.base);
                    let request = self.agent.get(&url).header("Accept", "*/*");
                    match &basic {
                        Some(auth) => request.header("Authorization", auth).call(),
                        None => request.call(),
                    }
                }
                Some(body) => {
                    let url = format!("{}/git-{service}", self.base);
                    let request = self
                        .agent
                        .post(&url)
                        .config()
                        .max_redirects(0)
                        .build()
                        .content_type(format!("application/x-git-{service}-request"))
                        .header("Accept", format!("application/x-git-{service}-result"));
                    match &basic {
                        Some(auth) => request.header("Authorization", auth).send(body),
                        None => request.send(body),
                    }
                }
            };
            let response = result.map_err(|e| io::Error::other(format!("{}: {}", self.base, describe(&e))))?;
            if body.is_none() {
                self.follow(&response.get_uri().to_string());
            }
            match response.status().as_u16() {
                200 => {
                    self.check_content_type(&response, service, body.is_some())?;
                    self.approve();
                    return Ok(response);
                }
                401 if self.auth.is_none() => match self.credentials() {
                    Some(credential) => self.auth = Some(credential),
                    None => {
                        return Err(self.refused(
                            "401 Unauthorized",
                            "the server wants credentials and none were found: set IDP_GIT_TOKEN, \
                             or configure a git credential helper",
                        ));
                    }
                },
                401 => {
                    let source = self.reject();
                    return Err(self.refused(
                        "401 Unauthorized",
                        &format!("the server refused the credentials from {}", source.describe()),
                    ));
                }
                403 => {
                    let what = match &self.auth {
                        Some(c) => format!(
                            "the credentials from {} may not {} this repository",
                            c.source.describe(),
                            if service == "receive-pack" { "push to" } else { "read" }
                        ),
                        None => "access denied: set IDP_GIT_TOKEN to a token with access to it".into(),
                    };
                    return Err(self.refused("403 Forbidden", &what));
                }
                404 => return Err(self.refused("404 Not Found", "no repository there: check the remote URL")),
                code @ 300..=399 => {
                    return Err(
                        self.refused(&code.to_string(), "redirected where idp does not follow (too many, or a POST)")
                    );
                }
                code => {
                    let reason = response.status().canonical_reason().unwrap_or("");
                    return Err(self.refused(&format!("{code} {reason}"), "the server failed; try again later"));
                }
            }
        }
    }

    fn refused(&self, status: &str, what: &str) -> io::Error {
        io::Error::other(format!("{}: HTTP {status}: {what}", self.base))
    }

    /// After a redirect of the ref advertisement, later requests go to the new place.
    fn follow(&mut self, final_url: &str) {
        let path = final_url.split_once('?').map_or(final_url, |(path, _)| path);
        if let Some(base) = path.strip_suffix("/info/refs") {
            self.base = base.to_owned();
        }
    }

    fn check_content_type(
        &self,
        response: &ureq::http::Response<ureq::Body>,
        service: &str,
        post: bool,
    ) -> io::Result<()> {
        let expected = format!("application/x-git-{service}-{}", if post { "result" } else { "advertisement" });
        let found = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("none");
        if found.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(&expected) {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "{}: not a Git smart HTTP server (Content-Type {found}, expected {expected}): check the remote URL",
            self.base
        )))
    }

    /// IDP_GIT_TOKEN, else the URL's user and password, else git's credential helper.
    fn credentials(&self) -> Option<Credential> {
        if let Some(token) = env("IDP_GIT_TOKEN").and_then(|t| t.into_string().ok()) {
            let user = self.url_user.clone().unwrap_or_else(|| "x-access-token".into());
            return Some(Credential { user, password: token, source: Source::Token });
        }
        if let (Some(user), Some(password)) = (&self.url_user, &self.url_password) {
            return Some(Credential { user: user.clone(), password: password.clone(), source: Source::Url });
        }
        let filled = git_credential("fill", &self.helper_request(None)?)?;
        let field = |key: &str| filled.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=')).map(str::to_owned);
        Some(Credential { user: field("username")?, password: field("password")?, source: Source::Helper })
    }

    /// What `git credential` reads: the URL's parts, and the credential to
    /// approve or reject. None when a part would break its line format.
    fn helper_request(&self, credential: Option<&Credential>) -> Option<String> {
        let (protocol, rest) = self.base.split_once("://")?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut fields = vec![("protocol", protocol), ("host", host), ("path", path)];
        match credential {
            Some(c) => fields.extend([("username", c.user.as_str()), ("password", c.password.as_str())]),
            None => fields.extend(self.url_user.as_deref().map(|user| ("username", user))),
        }
        if fields.iter().any(|(_, value)| value.contains(['\n', '\0'])) {
            return None;
        }
        Some(fields.iter().map(|(key, value)| format!("{key}={value}\n")).collect())
    }

    /// Tells the credential helper that its credential worked (once).
    fn approve(&mut self) {
        if let Some(c) = self.auth.as_ref().filter(|c| c.source == Source::Helper && !self.approved) {
            if let Some(request) = self.helper_request(Some(c)) {
                git_credential("approve", &request);
            }
            self.approved = true;
        }
    }

    /// Tells the credential helper that its credential was refused; where the
    /// refused credential came from.
    fn reject(&self) -> Source {
        let Some(c) = &self.auth else { return Source::Token };
        if c.source == Source::Helper
            && let Some(request) = self.helper_request(Some(c))
        {
            git_credential("reject", &request);
        }
        c.source
    }
}

/// `git credential ACTION` (the git CLI: its helpers, as configured), never
/// prompting; its output, or None when git is missing or has nothing.
fn git_credential(action: &str, request: &str) -> Option<String> {
    let mut child = Command::new("git")
        .args(["credential", action])
        .env("GIT_TERMINAL_PROMPT", "0")
        // An empty GIT_ASKPASS also stops git from trying SSH_ASKPASS.
        .env("GIT_ASKPASS", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(format!("{request}\n").as_bytes()));
    let output = child.wait_with_output().ok()?;
    (written.is_some_and(|w| w.is_ok()) && output.status.success())
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A ureq error as a person reads it; a timeout says "timed out", which the
/// caller turns into the `--timeout` message.
fn describe(error: &ureq::Error) -> String {
    let message = match error {
        ureq::Error::Timeout(_) => format!("timed out (no answer within {} s)", network_timeout().as_secs()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    };
    if message.contains("certificate") {
        // rustls reports through io errors; its verdicts all name the certificate.
        return format!(
            "{message} (is the server's CA in the system's trust store? SSL_CERT_FILE can point at a bundle that has it)"
        );
    }
    message
}

/// One request/response exchange: what libgit2 writes is buffered and sent
/// on its first read; the response body is then streamed back.
struct HttpStream {
    session: Arc<Mutex<Option<HttpSession>>>,
    service: &'static str,
    post: bool,
    request: Vec<u8>,
    response: Option<(String, ureq::BodyReader<'static>)>,
}

impl Read for HttpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.response.is_none() {
            let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            let session = session.as_mut().ok_or_else(|| io::Error::other("no http connection"))?;
            let body = std::mem::take(&mut self.request);
            let response = session.send(self.service, self.post.then_some(&body[..]))?;
            self.response = Some((session.base.clone(), response.into_body().into_reader()));
        }
        let Some((base, reader)) = self.response.as_mut() else { return Ok(0) };
        reader.read(buf).map_err(|e| io::Error::other(format!("{base}: {}", describe(&ureq::Error::from(e)))))
    }
}

impl Write for HttpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.response.is_some() {
            return Err(io::Error::other("a request written after its response was read"));
        }
        self.request.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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

    #[test]
    fn http_urls_lose_their_credentials_and_keep_their_path() {
        let s = HttpSession::new("https://bob:s%40cret@git.example.org:8443/org/state.git/").unwrap();
        assert_eq!(s.base, "https://git.example.org:8443/org/state.git");
        assert_eq!((s.url_user.as_deref(), s.url_password.as_deref()), (Some("bob"), Some("s@cret")));
        assert_eq!(
            s.helper_request(None).unwrap(),
            "protocol=https\nhost=git.example.org:8443\npath=org/state.git\nusername=bob\n"
        );
        let s = HttpSession::new("http://[::1]:8080/x.git").unwrap();
        assert_eq!((s.base.as_str(), s.url_user.as_deref()), ("http://[::1]:8080/x.git", None));
        assert!(HttpSession::new("https:///x.git").is_err());
        let s = HttpSession::new("https://bad%0Auser@host/x.git").unwrap();
        assert_eq!(s.helper_request(None), None, "a newline would forge a line of git credential's input");
    }

    #[test]
    fn passwords_in_urls_are_never_shown() {
        assert_eq!(redact_url("https://bob:s3cret@host/x.git"), "https://bob:***@host/x.git");
        assert_eq!(redact_url("https://x:a@b@host:8443/x?y"), "https://x:***@host:8443/x?y");
        assert_eq!(redact_url("https://bob@host/x.git"), "https://bob@host/x.git");
        assert_eq!(redact_url("git@host:org/x.git"), "git@host:org/x.git");
        assert_eq!(redact_url("origin"), "origin");
    }

    #[test]
    fn a_redirected_advertisement_moves_the_base() {
        let mut s = HttpSession::new("https://old.example.org/state").unwrap();
        s.follow("https://new.example.org/org/state.git/info/refs?service=git-upload-pack");
        assert_eq!(s.base, "https://new.example.org/org/state.git");
    }
}
