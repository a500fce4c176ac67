//! http(s) remotes: git's smart HTTP protocol (stateless RPC) over ureq with
//! rustls. This file owns the requests, redirects, credentials (token, URL,
//! git's credential helper) and what a refusal means.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream};
use ureq::ResponseExt;

use super::{env, percent_decoded, program, split_user, timeout_in_force};

/// libgit2's stateless http subtransport: one request per action, sharing
/// the agent, the redirected URL and the credentials of one connection.
#[derive(Default)]
pub(super) struct Http {
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
    /// `scheme://host[:port]` of the URL as given: the one origin that
    /// credentials are ever sent to, whatever a redirect says.
    origin: String,
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
                Some((user, password)) => (Some(percent_decoded(user)), Some(percent_decoded(password))),
                None => (Some(percent_decoded(info)), None),
            },
            None => (None, None),
        };
        let base = format!("{}://{host}{}", scheme.to_ascii_lowercase(), path.trim_end_matches('/'));
        if host.is_empty() {
            return Err(format!("`{base}` names no host"));
        }
        let origin = origin_of(&base);
        let https = origin.starts_with("https://");
        let timeout = Some(timeout_in_force());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects_will_error(false)
            // An https remote is never downgraded: ureq refuses a redirect
            // to http:// (as libgit2 does, `git_net_url_apply_redirect`)...
            .https_only(https)
            // ...and a redirected request never carries the Authorization
            // header (ureq's default, pinned here).
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
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
        Ok(Self { agent, base, origin, url_user, url_password, auth: None, approved: false })
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
                self.follow(&response.get_uri().to_string())?;
            }
            match response.status().as_u16() {
                200 => {
                    self.check_content_type(&response, service, body.is_some())?;
                    self.approve();
                    return Ok(response);
                }
                401 if self.auth.is_none() && origin_of(&self.base) != self.origin => {
                    // Redirected elsewhere, and that server asks: what idp holds is
                    // for the URL's own server only (IDP_GIT_TOKEN, the URL's password,
                    // the helper's entry for it).
                    return Err(self.refused(
                        "401 Unauthorized",
                        &format!(
                            "redirected here from {}, and idp sends credentials to no other server: \
                             use this URL as the remote if it is the repository's own",
                            self.origin
                        ),
                    ));
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

    /// After a redirect of the ref advertisement, later requests go to the
    /// new place; never from https to anything else (ureq refuses that
    /// already; this holds it whatever ureq is configured to do).
    fn follow(&mut self, final_url: &str) -> io::Result<()> {
        let path = final_url.split_once('?').map_or(final_url, |(path, _)| path);
        let Some(base) = path.strip_suffix("/info/refs") else { return Ok(()) };
        if self.origin.starts_with("https://") && !base.to_ascii_lowercase().starts_with("https://") {
            return Err(io::Error::other(format!(
                "{}: redirected to {}: idp never follows https to plain http",
                self.base,
                crate::secrets::redact_url(base)
            )));
        }
        self.base = base.to_owned();
        Ok(())
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
        ureq::Error::Timeout(_) => format!("timed out (no answer within {} s)", timeout_in_force().as_secs()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::RequireHttpsOnly(to) => {
            format!("redirected to {}: idp never follows https to plain http", crate::secrets::redact_url(to))
        }
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

/// `scheme://host[:port]` of a URL without credentials, in lower case.
fn origin_of(base: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else { return base.to_ascii_lowercase() };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}").to_ascii_lowercase()
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
    fn a_redirected_advertisement_moves_the_base_but_never_the_origin() {
        let mut s = HttpSession::new("https://bob:pw@Old.example.org/state").unwrap();
        s.follow("https://new.example.org/org/state.git/info/refs?service=git-upload-pack").unwrap();
        assert_eq!(s.base, "https://new.example.org/org/state.git");
        assert_eq!(s.origin, "https://old.example.org", "credentials stay with the URL's own server");
        assert_eq!(origin_of("http://[::1]:8080/x.git"), "http://[::1]:8080");
    }

    #[test]
    fn https_is_never_downgraded() {
        let mut s = HttpSession::new("https://git.example.org/state.git").unwrap();
        assert!(s.agent.config().https_only(), "ureq refuses any http:// request, redirects included");
        assert_eq!(s.agent.config().redirect_auth_headers(), ureq::config::RedirectAuthHeaders::Never);
        let err = s.follow("HTTP://git.example.org/state.git/info/refs?service=git-upload-pack").unwrap_err();
        assert!(err.to_string().contains("never follows https to plain http"), "{err}");
        assert_eq!(s.base, "https://git.example.org/state.git");
        let plain = HttpSession::new("http://git.example.org/state.git").unwrap();
        assert!(!plain.agent.config().https_only());
        let error = ureq::Error::RequireHttpsOnly("http://u:pw@evil.example.org/x".into());
        assert_eq!(
            describe(&error),
            "redirected to http://u:***@evil.example.org/x: idp never follows https to plain http"
        );
    }
}
