//! idp's own ssh and http(s) transports (src/state/transport/) against real servers:
//! git's `http-backend` behind a small HTTP server written here, git's upload-pack and
//! receive-pack behind a fake `ssh` (as git's own test suite does it), and a real
//! OpenSSH server on 127.0.0.1 where one can be started. Results are read back with
//! the git CLI. The git:// and local transports are libgit2's, tested in `remote.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::common::Run;
use crate::remote::{SEED, Sandbox, SilentServer, assert_push_times_out, landed, set_executable};

/// The served bare repo, under `srv/` (the HTTP server's project root).
const SERVED: &str = "srv/remote.git";

/// A seed state repo, its bare clone `srv/remote.git` (which accepts pushes over
/// HTTP), and clones of it with the test identity.
fn served(clones: &[&str]) -> Sandbox {
    let s = Sandbox::new();
    s.idp(&["init", SEED]).code(0);
    s.git(&["clone", "--quiet", "--bare", SEED, SERVED]);
    s.git_in(SERVED, &["config", "http.receivepack", "true"]);
    for clone in clones {
        s.git(&["clone", "--quiet", SERVED, clone]);
        s.set_identity(clone);
    }
    s
}

/// idp with extra environment variables (credentials, GIT_SSH_COMMAND).
fn idp_with(s: &Sandbox, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = s.idp_command(args);
    command.envs(env.iter().copied());
    let mut command = assert_cmd::Command::from_std(command);
    command.timeout(Duration::from_secs(90));
    Run::of(args, &command.output().expect("run idp"))
}

/// `apply --push` of a new request `name` over `url`; the run.
fn push(s: &Sandbox, clone: &str, name: &str, url: &str, env: &[(&str, &str)]) -> Run {
    let file = s.request(name);
    idp_with(s, env, &["apply", "-f", &file, "--repo", clone, "--yes", "--push", "--remote", url, "-o", "json"])
}

/// The pushed commit of a successful `push`, checked on the served repo.
fn assert_landed(s: &Sandbox, run: &Run, url: &str) -> String {
    run.code(0);
    let (commit, _) = landed(&run.json(), "main", url);
    assert_eq!(s.rev(SERVED, "main"), commit, "the served repo's main is the pushed commit");
    commit
}

/// A failed push changed nothing in the clone: HEAD, refs, work tree, no idp refs.
fn assert_unchanged(s: &Sandbox, clone: &str, before: &(String, String)) {
    assert_eq!((s.head(clone), s.refs(clone)), *before, "{clone}: HEAD or refs changed");
    s.assert_clean(clone);
    s.assert_no_idp_refs(clone);
}

fn snapshot(s: &Sandbox, clone: &str) -> (String, String) {
    (s.head(clone), s.refs(clone))
}

// ---------------------------------------------------------------------------------------
// http: the real `git http-backend` as a CGI
// ---------------------------------------------------------------------------------------

/// `git http-backend` behind a minimal HTTP/1.1 server on 127.0.0.1 (a thread per
/// connection, one request each). With credentials, every request needs them as
/// Basic auth (401 otherwise), as a private repo does. Paths under `/moved/` answer
/// 301 to the same path without that prefix; paths under `/offsite-PORT/` answer 301 to
/// the same path on the server at that port (another origin). The log notes every
/// request that carried an Authorization header.
struct GitHttpServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Cgi {
    backend: PathBuf,
    root: PathBuf,
    home: PathBuf,
    credentials: Option<(String, String)>,
}

impl GitHttpServer {
    /// Serves `<work>/srv`, or None (after saying why) when git has no http-backend.
    fn start(s: &Sandbox, credentials: Option<(&str, &str)>) -> Option<Self> {
        let exec_path = s.git(&["--exec-path"]);
        let backend = Path::new(exec_path.trim()).join("git-http-backend");
        if !backend.exists() {
            eprintln!("SKIPPED: git has no http-backend ({}); install git's full package", backend.display());
            return None;
        }
        let cgi = Arc::new(Cgi {
            backend,
            root: s.path("srv"),
            home: s.home(),
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, flag) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (cgi, log) = (Arc::clone(&cgi), Arc::clone(&log));
                        std::thread::spawn(move || {
                            if let Err(e) = serve(stream, &cgi, &log) {
                                log.lock().unwrap().push(format!("server error: {e}"));
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Some(Self { port, requests, stop, thread: Some(thread) })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// `METHOD TARGET REMOTE_USER` of every request that reached the backend.
    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, cgi: &Cgi, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or_default().to_owned(), words.next().unwrap_or_default().to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let mut body = vec![0; header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0)];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut stream = stream;

    if let Some((port, rest)) = path.strip_prefix("/offsite-").and_then(|p| p.split_once('/')) {
        let location = format!("http://127.0.0.1:{port}/{rest}{}{query}", if query.is_empty() { "" } else { "?" });
        return respond(&mut stream, "301 Moved Permanently", &[format!("Location: {location}")], b"");
    }
    if let Some(rest) = path.strip_prefix("/moved") {
        let location = format!(
            "http://{}{rest}{}{query}",
            header("host").unwrap_or_default(),
            if query.is_empty() { "" } else { "?" }
        );
        return respond(&mut stream, "301 Moved Permanently", &[format!("Location: {location}")], b"");
    }
    let user = match &cgi.credentials {
        None => None,
        Some((user, password)) => {
            let expected = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            if header("authorization") != Some(&format!("Basic {expected}")) {
                let sent = if header("authorization").is_some() { " +authorization" } else { "" };
                log.lock().unwrap().push(format!("{method} {target} 401{sent}"));
                let challenge = "WWW-Authenticate: Basic realm=\"idp test\"".to_owned();
                return respond(&mut stream, "401 Unauthorized", &[challenge], b"authentication required\n");
            }
            Some(user.clone())
        }
    };
    log.lock().unwrap().push(format!("{method} {target} {}", user.as_deref().unwrap_or("-")));

    let mut command = Command::new(&cgi.backend);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &cgi.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", &cgi.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(user) = &user {
        command.env("REMOTE_USER", user);
    }
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written beside the read: the backend may answer before it has read everything.
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let output = child.wait_with_output()?;
    let _ = writer.join();

    let out = output.stdout;
    let (head, body) = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => (&out[..at], &out[at + 4..]),
        None => match out.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&out[..at], &out[at + 2..]),
            None => (&out[..0], &out[..]),
        },
    };
    let head = String::from_utf8_lossy(head);
    let mut status = "200 OK".to_owned();
    let mut forwarded = Vec::new();
    for line in head.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => status = value.trim().to_owned(),
            _ => forwarded.push(line.to_owned()),
        }
    }
    respond(&mut stream, &status, &forwarded, body)
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[String], body: &[u8]) -> std::io::Result<()> {
    let mut response = format!("HTTP/1.1 {status}\r\n");
    for header in headers {
        response.push_str(&format!("{header}\r\n"));
    }
    response.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    stream.write_all(response.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[test]
fn http_push_lands_and_another_clone_fetches_it() {
    let s = served(&["w1", "w2"]);
    let Some(server) = GitHttpServer::start(&s, None) else { return };
    let url = server.url("remote.git");

    let first = assert_landed(&s, &push(&s, "w1", "db-http-1", &url, &[]), &url);
    assert_eq!(s.head("w1"), first, "w1 was fast-forwarded to the pushed commit");
    s.assert_clean("w1");
    s.assert_no_idp_refs("w1");
    // The push went through the smart protocol: advertisement, then receive-pack.
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("GET /remote.git/info/refs?service=git-receive-pack")),
        "{requests:#?}"
    );
    assert!(requests.iter().any(|r| r.starts_with("POST /remote.git/git-receive-pack")), "{requests:#?}");

    // w2 was cloned before that push: its apply fetches it over HTTP and builds on it.
    let second = assert_landed(&s, &push(&s, "w2", "db-http-2", &url, &[]), &url);
    assert_eq!(s.rev(SERVED, &format!("{second}^")), first, "w2's commit is built on the fetched one");
    assert_eq!(s.head("w2"), second);
    assert_eq!(s.count(SERVED, "main"), 3);
    assert!(server.requests().iter().any(|r| r.starts_with("POST /remote.git/git-upload-pack")));
    s.assert_fsck(SERVED);
}

#[test]
fn http_follows_a_redirect_of_the_first_request() {
    let s = served(&["w1"]);
    let Some(server) = GitHttpServer::start(&s, None) else { return };
    let url = server.url("moved/remote.git");

    assert_landed(&s, &push(&s, "w1", "db-moved", &url, &[]), &url);
    let posts: Vec<String> = server.requests().into_iter().filter(|r| r.starts_with("POST")).collect();
    assert!(!posts.is_empty() && posts.iter().all(|r| r.starts_with("POST /remote.git/")), "{posts:#?}");
}

/// A redirect to another server (another host or port) is followed for reading, but the
/// credentials idp holds for the URL's own server (IDP_GIT_TOKEN, the URL's password)
/// never go there: the other server's 401 is refused with a message that says why.
#[test]
fn http_credentials_never_follow_a_redirect_to_another_server() {
    const TOKEN: &str = "tok-offsite-do-not-send";
    let s = served(&["w1"]);
    let Some(other) = GitHttpServer::start(&s, Some(("x-access-token", TOKEN))) else { return };
    let Some(server) = GitHttpServer::start(&s, None) else { return };
    let url = server.url(&format!("offsite-{}/remote.git", other.port));
    let with_password = url.replacen("http://", &format!("http://x-access-token:{TOKEN}@"), 1);
    let before = snapshot(&s, "w1");
    let remote_main = s.rev(SERVED, "main");
    for (remote, env) in [(&url, vec![("IDP_GIT_TOKEN", TOKEN)]), (&with_password, vec![])] {
        let run = push(&s, "w1", "db-offsite", remote, &env);
        run.code(1);
        run.stderr_says(&format!("redirected here from http://127.0.0.1:{}", server.port));
        run.stderr_says("idp sends credentials to no other server");
        assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN), "{}", run.stderr);
        assert_unchanged(&s, "w1", &before);
    }
    let requests = other.requests();
    assert!(!requests.is_empty(), "the redirect was not followed: {:#?}", server.requests());
    assert!(requests.iter().all(|r| r.ends_with(" 401")), "credentials reached the other server: {requests:#?}");
    assert_eq!(s.rev(SERVED, "main"), remote_main, "nothing was pushed");
}

#[test]
fn http_without_credentials_is_refused_clearly_and_a_token_lands() {
    const TOKEN: &str = "tok-3f9a1c-do-not-print";
    let s = served(&["w1"]);
    let Some(server) = GitHttpServer::start(&s, Some(("x-access-token", TOKEN))) else { return };
    let url = server.url("remote.git");
    let before = snapshot(&s, "w1");
    let remote_main = s.rev(SERVED, "main");

    let run = push(&s, "w1", "db-private", &url, &[]);
    run.code(1);
    run.stderr_says("HTTP 401 Unauthorized").stderr_says("set IDP_GIT_TOKEN").stderr_says(&url);
    let message = run.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("401"), "error.message: {message}");
    assert_unchanged(&s, "w1", &before);

    let run = push(&s, "w1", "db-private", &url, &[("IDP_GIT_TOKEN", "not-the-token-either")]);
    run.code(1);
    run.stderr_says("refused the credentials from IDP_GIT_TOKEN");
    assert!(!run.stderr.contains("not-the-token") && !run.stdout.contains("not-the-token"), "{}", run.stderr);
    assert_unchanged(&s, "w1", &before);
    assert_eq!(s.rev(SERVED, "main"), remote_main, "nothing reached the server");

    let run = push(&s, "w1", "db-private", &url, &[("IDP_GIT_TOKEN", TOKEN)]);
    assert_landed(&s, &run, &url);
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.starts_with("POST /remote.git/git-receive-pack") && r.ends_with(" x-access-token"))
    );
    s.assert_fsck(SERVED);
}

#[test]
fn http_credentials_come_from_the_url_or_git_s_credential_helper() {
    let s = served(&["w1"]);
    let Some(server) = GitHttpServer::start(&s, Some(("alice", "pa55-word"))) else { return };
    let url = server.url("remote.git");

    // In the URL: used, and never shown (the result names the URL without it).
    let with_password = url.replacen("http://", "http://alice:pa55-word@", 1);
    let run = push(&s, "w1", "db-url", &with_password, &[]);
    run.code(0);
    let shown = url.replacen("http://", "http://alice:***@", 1);
    landed(&run.json(), "main", &shown);
    assert!(!run.stdout.contains("pa55-word") && !run.stderr.contains("pa55-word"), "{}", run.stdout);
    let wrong = url.replacen("http://", "http://alice:wrong-pw@", 1);
    let run = push(&s, "w1", "db-url-wrong", &wrong, &[]);
    run.code(1);
    run.stderr_says("refused the credentials from the user and password in the URL");
    assert!(!run.stderr.contains("wrong-pw") && !run.stdout.contains("wrong-pw"), "{}", run.stderr);
    assert!(s.git_in("w1", &["for-each-ref"]).lines().all(|r| !r.contains("pa55") && !r.contains("wrong")));

    // git's credential helper (`store`, from the user's git config): its entry is
    // used and approved; a refused one is rejected, so the helper forgets it.
    let store = s.home().join("git-credentials");
    s.git(&["config", "--global", "credential.helper", &format!("store --file={}", store.display())]);
    let entry = |password: &str| format!("http://alice:{password}@127.0.0.1:{}\n", server.port);
    std::fs::write(&store, entry("pa55-word")).unwrap();
    assert_landed(&s, &push(&s, "w1", "db-helper", &url, &[]), &url);

    std::fs::write(&store, entry("stale-pw")).unwrap();
    let before = snapshot(&s, "w1");
    let run = push(&s, "w1", "db-helper-stale", &url, &[]);
    run.code(1);
    run.stderr_says("refused the credentials from git's credential helper");
    assert!(!run.stderr.contains("stale-pw"), "{}", run.stderr);
    assert_unchanged(&s, "w1", &before);
    let left = std::fs::read_to_string(&store).unwrap_or_default();
    assert!(!left.contains("stale-pw"), "the refused credential was not rejected: {left}");
}

#[test]
fn http_404_says_to_check_the_url() {
    let s = served(&["w1"]);
    let Some(server) = GitHttpServer::start(&s, None) else { return };
    let url = server.url("no-such-repo.git");
    let before = snapshot(&s, "w1");

    let run = push(&s, "w1", "db-404", &url, &[]);

    run.code(1);
    run.stderr_says("HTTP 404 Not Found").stderr_says("check the remote URL").stderr_says(&url);
    assert_unchanged(&s, "w1", &before);
}

#[test]
fn http_remote_that_never_answers_times_out() {
    let s = served(&["w1"]);
    let hung = SilentServer::start();
    let url = format!("http://127.0.0.1:{}/remote.git", hung.port);
    let file = s.request("db-hung");
    let before = snapshot(&s, "w1");

    assert_push_times_out(&s, &file, &url);
    assert_unchanged(&s, "w1", &before);
}

// ---------------------------------------------------------------------------------------
// ssh: a fake ssh that runs the remote command locally, and a real sshd
// ---------------------------------------------------------------------------------------

/// Writes `<work>/fake-ssh`, which stands in for ssh as in git's test suite: it logs
/// its arguments (one per line, `--` after each run) to `<work>/ssh.log`, skips the
/// options and the host, and runs the remote command here with `sh -c`. Its path,
/// for GIT_SSH_COMMAND.
fn fake_ssh(s: &Sandbox) -> String {
    let log = s.path("ssh.log");
    let script = s.path("fake-ssh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             for arg in \"$@\"; do printf '%s\\n' \"$arg\"; done >> '{log}'\n\
             echo -- >> '{log}'\n\
             while :; do\n\
             \x20 case \"$1\" in\n\
             \x20   -o|-i|-p) shift 2 ;;\n\
             \x20   -*) shift ;;\n\
             \x20   *) break ;;\n\
             \x20 esac\n\
             done\n\
             exec sh -c \"$2\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    set_executable(&script);
    script.to_str().unwrap().to_owned()
}

/// The argument lists the fake ssh was run with, in order.
fn ssh_runs(s: &Sandbox) -> Vec<Vec<String>> {
    let log = std::fs::read_to_string(s.path("ssh.log")).unwrap_or_default();
    log.split("--\n").filter(|r| !r.is_empty()).map(|r| r.lines().map(str::to_owned).collect()).collect()
}

#[test]
fn ssh_push_and_fetch_run_openssh_like_git() {
    let s = served(&["w1", "w2"]);
    let ssh = fake_ssh(&s);
    let served = s.path(SERVED);
    let known_hosts = s.path("known_hosts");
    let url = format!("ssh://git@git.example.invalid:2222{}", served.display());
    let env = [
        ("GIT_SSH_COMMAND", ssh.as_str()),
        ("IDP_SSH_KEY", "/keys/idp_ed25519"),
        ("IDP_SSH_KNOWN_HOSTS", known_hosts.to_str().unwrap()),
    ];

    let first = assert_landed(&s, &push(&s, "w1", "db-ssh-1", &url, &env), &url);

    let runs = ssh_runs(&s);
    let expected = |program: &str| -> Vec<String> {
        let mut args: Vec<String> = [
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
            "-o",
            &format!("UserKnownHostsFile={}", known_hosts.display()),
            "-i",
            "/keys/idp_ed25519",
            "-o",
            "IdentitiesOnly=yes",
            "-p",
            "2222",
            "git@git.example.invalid",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("{program} '{}'", served.display()));
        args
    };
    assert_eq!(runs.first(), Some(&expected("git-upload-pack")), "the fetch: {runs:#?}");
    assert_eq!(runs.last(), Some(&expected("git-receive-pack")), "the push: {runs:#?}");

    // w2 fetches over ssh what w1 pushed, and builds on it.
    let second = assert_landed(&s, &push(&s, "w2", "db-ssh-2", &url, &env), &url);
    assert_eq!(s.rev(SERVED, &format!("{second}^")), first);
    s.assert_fsck(SERVED);
}

#[test]
fn ssh_scp_like_urls_keep_the_path_relative_to_the_home_and_quoted() {
    let s = served(&["w1"]);
    // A path the remote shell must see as one word: a quote, a space and a `!`.
    s.git(&["clone", "--quiet", "--bare", SEED, "srv/it's a!.git"]);
    let ssh = fake_ssh(&s);
    // The fake runs the command in idp's directory, which stands for the login's home.
    let url = "git@git.example.invalid:srv/it's a!.git";

    let run = push(&s, "w1", "db-scp", url, &[("GIT_SSH_COMMAND", &ssh)]);

    run.code(0);
    let (commit, _) = landed(&run.json(), "main", url);
    assert_eq!(s.rev("srv/it's a!.git", "main"), commit);
    let runs = ssh_runs(&s);
    let last = runs.last().expect("ssh ran");
    assert_eq!(last[last.len() - 2..], ["git@git.example.invalid", r"git-receive-pack 'srv/it'\''s a'\!'.git'"]);
    assert!(!last.iter().any(|a| a == "-p" || a == "-i"), "no port, no key: {last:?}");
}

#[test]
fn a_failing_ssh_reports_what_it_said() {
    let s = served(&["w1"]);
    let script = s.path("refusing-ssh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"git@git.example.invalid: Permission denied (publickey).\" >&2\nexit 255\n",
    )
    .unwrap();
    set_executable(&script);
    let before = snapshot(&s, "w1");

    let run = push(
        &s,
        "w1",
        "db-denied",
        "git@git.example.invalid:state.git",
        &[("GIT_SSH_COMMAND", script.to_str().unwrap())],
    );

    run.code(1);
    run.stderr_says("Permission denied (publickey).").stderr_says("set IDP_SSH_KEY to a key it accepts");
    let message = run.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("Permission denied (publickey)"), "error.message: {message}");
    assert_unchanged(&s, "w1", &before);

    // No ssh at all: said so.
    let run = idp_with(
        &s,
        &[("PATH", "/nonexistent")],
        &[
            "apply",
            "-f",
            "db-denied.yaml",
            "--repo",
            "w1",
            "--yes",
            "--push",
            "--remote",
            "git@git.example.invalid:state.git",
        ],
    );
    run.code(1);
    run.stderr_says("install the OpenSSH client, or set GIT_SSH_COMMAND");
}

/// A throwaway OpenSSH server on 127.0.0.1: its own host key, and a user key (with a
/// passphrase) that it accepts for the current user. Killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    user: String,
    key: PathBuf,
    known_hosts: PathBuf,
}

const PASSPHRASE: &str = "correct horse battery";

impl Sshd {
    /// Starts sshd, or None (after saying why) where that is not possible.
    fn start(s: &Sandbox) -> Option<Self> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            eprintln!("SKIPPED: no /usr/sbin/sshd; install openssh-server to run this test");
            return None;
        }
        let dir = s.path("sshd");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, passphrase) in [("host_key", ""), ("user_key", PASSPHRASE)] {
            let made = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "idp-test", "-f"])
                .arg(dir.join(name))
                .output();
            if !made.as_ref().is_ok_and(|o| o.status.success()) {
                eprintln!("SKIPPED: ssh-keygen failed: {made:?}");
                return None;
            }
        }
        std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap().trim().to_owned();
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let d = dir.display();
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
                 PidFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 AllowUsers {user}\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let mut child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sshd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default();
                eprintln!("SKIPPED: sshd did not start ({exited:?}): {}", log.trim());
                return None;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        let known_hosts = dir.join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {}\n", host_key.join(" "))).unwrap();
        Some(Self { child, port, user, key: dir.join("user_key"), known_hosts })
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ssh_end_to_end_against_a_real_sshd() {
    let s = served(&["w1"]);
    let Some(sshd) = Sshd::start(&s) else { return };
    let url = format!("ssh://{}@127.0.0.1:{}{}", sshd.user, sshd.port, s.path(SERVED).display());
    let key = sshd.key.to_str().unwrap();
    let mut env = vec![
        ("IDP_SSH_KEY", key),
        ("IDP_SSH_KEY_PASSPHRASE", PASSPHRASE),
        ("IDP_SSH_KNOWN_HOSTS", sshd.known_hosts.to_str().unwrap()),
    ];

    // The key is unlocked by idp itself (ssh runs it as SSH_ASKPASS).
    let run = push(&s, "w1", "db-sshd", &url, &env);
    let commit = assert_landed(&s, &run, &url);
    assert_eq!(s.head("w1"), commit);
    assert!(!run.stdout.contains(PASSPHRASE) && !run.stderr.contains(PASSPHRASE));

    // A server whose host key is not known is refused, and nothing changes.
    let empty = s.path("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    env[2] = ("IDP_SSH_KNOWN_HOSTS", empty.to_str().unwrap());
    let before = snapshot(&s, "w1");
    let run = push(&s, "w1", "db-sshd-unknown", &url, &env);
    run.code(1);
    run.stderr_says("Host key verification failed").stderr_says("ssh-keyscan -p");
    assert_unchanged(&s, "w1", &before);

    // Without its passphrase the key cannot be used (ssh never prompts).
    env.remove(1);
    env[1] = ("IDP_SSH_KNOWN_HOSTS", sshd.known_hosts.to_str().unwrap());
    let run = push(&s, "w1", "db-sshd-locked", &url, &env);
    run.code(1);
    run.stderr_says("Permission denied");
    assert_unchanged(&s, "w1", &before);
}
