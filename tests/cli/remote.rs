//! The remote and CI features end to end: `apply --push` racing other pipelines on one
//! shared remote, `--branch` for pull requests, unreachable and refusing remotes,
//! `rollback`, `history`, the local writer lock, and `delete`/`rollback --push`.
//!
//! Every test builds real repositories in a temp dir (`idp init seed`, a bare clone as
//! the remote, one clone per pipeline) and reads the results back with the `git` CLI.
//! Pipelines are separate `idp` processes spawned together and then waited for, so the
//! races are real ones. Hooks only run when a real `git receive-pack` serves the push,
//! so the refusal tests serve the remote with `git daemon` over `git://`.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{GIT_NAME, POLICY_VERSION, Run, TestEnv, crate_dir, edit, lines};

// ---------------------------------------------------------------------------------------
// The sandbox: a TestEnv, and helpers to read repos with git
// ---------------------------------------------------------------------------------------

/// The seed repo (`idp init`) and its bare clone, the shared remote.
pub(crate) const SEED: &str = "seed";
const REMOTE: &str = "remote.git";
/// A purely local state repo, for the tests that need no remote.
const STATE: &str = "state";

/// How long a spawned pipeline may run before the test kills it and fails.
const PIPELINE_DEADLINE: Duration = Duration::from_secs(120);

/// The example request (team-alpha/orders-db, cell-us-east, medium, ha → aws/us-east-1),
/// in staging: the delete and rollback tests remove databases in one commit, which a
/// production one's deletion protection would refuse (tests/cli/protection.rs).
fn example_request() -> String {
    let text =
        std::fs::read_to_string(crate_dir().join("examples/orders-db.yaml")).expect("read examples/orders-db.yaml");
    edit(&text, "environment: production", "environment: staging")
}

/// The example request renamed to `name`.
fn request_named(name: &str) -> String {
    edit(&example_request(), "name: orders-db", &format!("name: {name}"))
}

/// The example request renamed, in another namespace and cell.
fn request_in(namespace: &str, name: &str, cell: &str) -> String {
    let text = request_named(name);
    let text = edit(&text, "namespace: team-alpha", &format!("namespace: {namespace}"));
    edit(&text, "cell: cell-us-east", &format!("cell: {cell}"))
}

/// Where the cell state of the example request's cell lives.
const US_EAST: &str = "cells/cell-us-east/";

/// `(status, path)` of a request's four files outside cells/, sorted like `name_status`.
fn request_status(status: &str, namespace: &str, name: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        request_files(namespace, name).into_iter().map(|p| (status.to_owned(), p)).collect();
    v.sort();
    v
}

/// team-alpha's Namespace manifest: written by the first of its databases
/// to land, never removed; no request's own file.
const TEAM_ALPHA_NAMESPACE: &str = "platform/team-alpha/namespace.yaml";

/// The request names the rollback, history and delete tests use.
const ABC: [&str; 3] = ["db-a", "db-b", "db-c"];

fn ids(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|n| format!("team-alpha/{n}")).collect();
    v.sort();
    v
}

/// The files a mysql request owns in the state repo, outside cells/.
fn request_files(namespace: &str, name: &str) -> [String; 4] {
    [
        format!("requests/{namespace}/mysql-{name}.yaml"),
        format!("placements/{namespace}/mysql-{name}.yaml"),
        format!("platform/{namespace}/mysql-{name}/cell-us-east.staging.primary.yaml"),
        format!("catalog/{namespace}/mysql-{name}.yaml"),
    ]
}

/// A [`TestEnv`] with this suite's repos and readers.
pub(crate) struct Sandbox {
    env: TestEnv,
}

impl std::ops::Deref for Sandbox {
    type Target = TestEnv;

    fn deref(&self) -> &TestEnv {
        &self.env
    }
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        Self { env: TestEnv::new() }
    }

    /// `seed/` made by `idp init` and `remote.git`, its bare clone.
    fn with_remote() -> Self {
        let s = Self::new();
        s.idp(&["init", SEED]).code(0);
        s.git(&["clone", "--quiet", "--bare", SEED, REMOTE]);
        s
    }

    /// A local state repo `state/` with the test identity.
    fn with_state_repo() -> Self {
        let s = Self::new();
        s.init_state(STATE);
        s
    }

    /// A pipeline's working clone of the remote, with the test identity in its config.
    fn clone_remote(&self, name: &str) {
        self.git(&["clone", "--quiet", REMOTE, name]);
        self.set_identity(name);
    }

    /// `<name>.yaml`: the example request renamed to `name`.
    pub(crate) fn request(&self, name: &str) -> String {
        self.write(&format!("{name}.yaml"), request_named(name))
    }

    /// Starts idp without waiting; stdout and stderr go to files (no pipe can fill up).
    fn spawn_idp(&self, args: &[&str]) -> Pipeline {
        let id = fastrand::u64(..);
        let out = self.env.work_dir().parent().unwrap().join(format!("out-{id}"));
        let err = self.env.work_dir().parent().unwrap().join(format!("err-{id}"));
        let child = self
            .idp_command(args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("spawn idp");
        Pipeline { args: args.iter().map(|a| (*a).to_owned()).collect(), child, out, err }
    }

    /// One trailer's values as git parses them out of a commit message.
    fn trailer(&self, repo: &str, commit: &str, key: &str) -> Vec<String> {
        lines(&self.git_in(repo, &["log", "-1", &format!("--format=%(trailers:key={key},valueonly)"), commit]))
    }

    /// `(status letter, path)` of what a commit changed against its parent.
    fn name_status(&self, repo: &str, commit: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            lines(&self.git_in(repo, &["diff-tree", "--no-commit-id", "--name-status", "-r", commit]))
                .into_iter()
                .map(|l| {
                    let (status, path) = l.split_once('\t').unwrap_or_else(|| panic!("name-status line: {l}"));
                    (status.to_owned(), path.to_owned())
                })
                .collect();
        out.sort();
        out
    }

    /// `name_status` without the cell-state files (`cells/...`), which applies, deletes
    /// and reverts also update (`assert_cell_changes` and `cell_members` check those), and
    /// without what the first request of a namespace or cell writes once and nobody removes
    /// (the namespace's manifest, the Argo CD Applications under `argocd/`).
    fn request_changes(&self, repo: &str, commit: &str) -> Vec<(String, String)> {
        self.name_status(repo, commit)
            .into_iter()
            .filter(|(_, path)| {
                !path.starts_with("cells/") && !path.starts_with("argocd/") && path != TEAM_ALPHA_NAMESPACE
            })
            .collect()
    }

    /// A commit changed no cell state but under `cell_dir` (its request's cell).
    fn assert_cell_changes(&self, repo: &str, commit: &str, cell_dir: &str) {
        for (status, path) in self.name_status(repo, commit) {
            if path.starts_with("cells/") {
                assert!(path.starts_with(cell_dir), "{commit}: {status} {path} is not under {cell_dir}");
            }
        }
    }

    /// Which of the mysql requests `team-alpha/<name>` for `names` the cell state under
    /// `cell_dir` lists at `rev` (sorted `team-alpha/<name>`): a member file named
    /// `mysql-<name>.yaml`, or a `namespace: team-alpha` + `name: <name>` entry in a
    /// member list. None when the repo keeps no cell state there, so the check works
    /// whichever of the two layouts the cell state uses.
    fn cell_members(&self, repo: &str, rev: &str, cell_dir: &str, names: &[&str]) -> Option<Vec<String>> {
        let files = self.ls_tree(repo, rev, cell_dir);
        if files.is_empty() {
            return None;
        }
        let mut found = BTreeSet::new();
        for file in &files {
            let text = self.git_in(repo, &["show", &format!("{rev}:{file}")]);
            let lines: Vec<&str> = text.lines().map(|l| l.trim_start_matches(['-', ' '])).collect();
            for name in names {
                let member_file = file.ends_with(&format!("/team-alpha/mysql-{name}.yaml"));
                let listed = lines.windows(2).any(|w| {
                    let pair = [w[0], w[1]];
                    pair.contains(&"namespace: team-alpha") && pair.contains(&format!("name: {name}").as_str())
                });
                if member_file || listed {
                    found.insert(format!("team-alpha/{name}"));
                }
            }
        }
        Some(found.into_iter().collect())
    }

    /// The files of a tree under `dir`, sorted.
    fn ls_tree(&self, repo: &str, rev: &str, dir: &str) -> Vec<String> {
        let mut files = lines(&self.git_in(repo, &["ls-tree", "-r", "--name-only", rev, dir]));
        files.sort();
        files
    }

    /// Every ref with what it points at (`git for-each-ref`), for before/after checks.
    pub(crate) fn refs(&self, repo: &str) -> String {
        self.git_in(repo, &["for-each-ref", "--format=%(refname) %(objectname)"])
    }

    /// No temporary push refs left in a repo.
    pub(crate) fn assert_no_idp_refs(&self, repo: &str) {
        assert_eq!(self.git_in(repo, &["for-each-ref", "refs/idp"]), "", "{repo}: refs/idp/* left behind");
    }

    /// `branch` of `repo` is one straight line of single-parent commits from the root.
    fn assert_linear(&self, repo: &str, branch: &str) {
        assert_eq!(self.git_in(repo, &["rev-list", "--merges", branch]), "", "{repo}: merge commits on {branch}");
        let parents = lines(&self.git_in(repo, &["rev-list", "--parents", branch]));
        let roots = parents.iter().filter(|l| l.split_whitespace().count() == 1).count();
        assert_eq!(roots, 1, "{repo}: {branch} must have exactly one root:\n{}", parents.join("\n"));
        assert!(
            parents.iter().all(|l| l.split_whitespace().count() <= 2),
            "{repo}: {branch} is not linear:\n{}",
            parents.join("\n")
        );
    }

    /// Applies files (already written) with `--yes -o json` to a repo; asserts success.
    fn apply(&self, repo: &str, files: &[&str], extra: &[&str]) -> Value {
        let mut args = vec!["apply"];
        for f in files {
            args.extend(["-f", f]);
        }
        args.extend(["--repo", repo, "--yes", "-o", "json"]);
        args.extend_from_slice(extra);
        let run = self.idp(&args);
        run.code(0);
        run.json()
    }
}

/// `results[].status` of an apply or plan result.
fn statuses(result: &Value) -> Vec<String> {
    result["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array in {result:#}"))
        .iter()
        .map(|r| r["status"].as_str().expect("status is a string").to_owned())
        .collect()
}

/// An idp process started by `Sandbox::spawn_idp`.
struct Pipeline {
    args: Vec<String>,
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Pipeline {
    /// Waits for the process (killing it past the deadline, which fails the test).
    fn finish(mut self, deadline: Instant) -> Run {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for idp") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "idp {} still running after {PIPELINE_DEADLINE:?}; killed\n--- stderr\n{}",
                    self.args.join(" "),
                    std::fs::read_to_string(&self.err).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let run = Run {
            args: self.args.join(" "),
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&self.out).expect("read stdout"),
            stderr: std::fs::read_to_string(&self.err).expect("read stderr"),
        };
        run.assert_not_crashed();
        run
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // A test that panicked before finish() must not leave pipelines running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Spawns every command at once, then waits for all of them.
fn race(s: &Sandbox, commands: &[Vec<String>]) -> Vec<Run> {
    let pipelines: Vec<Pipeline> =
        commands.iter().map(|args| s.spawn_idp(&args.iter().map(String::as_str).collect::<Vec<_>>())).collect();
    let deadline = Instant::now() + PIPELINE_DEADLINE;
    pipelines.into_iter().map(|p| p.finish(deadline)).collect()
}

/// The `landed` object of a pushed apply, checked for shape; (commit, attempts).
pub(crate) fn landed(result: &Value, branch: &str, remote: &str) -> (String, u64) {
    let landed = &result["landed"];
    let commit = result["commit"].as_str().unwrap_or_else(|| panic!("no commit in {result:#}")).to_owned();
    assert_eq!(landed["commit"], commit.as_str(), "landed.commit is the commit: {result:#}");
    assert_eq!(landed["branch"], branch, "landed.branch: {landed:#}");
    assert_eq!(landed["remote"], remote, "landed.remote: {landed:#}");
    let attempts = landed["attempts"].as_u64().unwrap_or_else(|| panic!("landed.attempts: {landed:#}"));
    assert!(attempts >= 1, "at least one attempt: {landed:#}");
    (commit, attempts)
}

// ---------------------------------------------------------------------------------------
// Concurrent pipelines pushing to one remote
// ---------------------------------------------------------------------------------------

#[test]
fn concurrent_pushes_of_distinct_requests_all_land_on_a_linear_history() {
    const PIPELINES: usize = 8;
    let s = Sandbox::with_remote();
    let init = s.rev(REMOTE, "main");
    let mut commands = Vec::new();
    for i in 1..=PIPELINES {
        let clone = format!("w{i}");
        s.clone_remote(&clone);
        let file = s.request(&format!("db-{i}"));
        commands.push(
            ["apply", "-f", &file, "--repo", &clone, "--yes", "--push", "-o", "json"].map(str::to_owned).to_vec(),
        );
    }

    let runs = race(&s, &commands);

    let mut total_attempts = 0;
    let mut landed_commits = BTreeSet::new();
    for (i, run) in runs.iter().enumerate() {
        run.code(0);
        let result = run.json();
        assert_eq!(statuses(&result), ["created"], "pipeline {}: {result:#}", i + 1);
        let (commit, attempts) = landed(&result, "main", "origin");
        total_attempts += attempts;
        // The pipeline's own clone was fast-forwarded to what it pushed, work tree included.
        let clone = format!("w{}", i + 1);
        assert_eq!(s.head(&clone), commit, "{clone}: HEAD is the pushed commit");
        s.assert_clean(&clone);
        s.assert_no_idp_refs(&clone);
        assert!(landed_commits.insert(commit), "two pipelines report the same commit");
    }
    assert!(total_attempts >= PIPELINES as u64, "attempts: {total_attempts}");

    // The remote: init plus exactly one commit per pipeline, in one straight line.
    assert_eq!(s.count(REMOTE, "main"), PIPELINES + 1, "{}", s.git_in(REMOTE, &["log", "--oneline", "main"]));
    s.assert_linear(REMOTE, "main");
    let on_main: BTreeSet<String> =
        lines(&s.git_in(REMOTE, &["rev-list", "main", &format!("^{init}")])).into_iter().collect();
    assert_eq!(on_main, landed_commits, "the commits on main are exactly the ones the pipelines report");

    // Each commit adds exactly one request's files and removes nothing: a retry rebuilt
    // its commit on the new head rather than replaying a stale tree.
    for commit in &on_main {
        let title = s.title(REMOTE, commit);
        let name = (1..=PIPELINES)
            .map(|i| format!("db-{i}"))
            .find(|n| title.contains(&format!("team-alpha/{n} ")))
            .unwrap_or_else(|| panic!("{commit}: title names no request: {title}"));
        assert_eq!(s.request_changes(REMOTE, commit), request_status("A", "team-alpha", &name), "{commit} ({title})");
        s.assert_cell_changes(REMOTE, commit, US_EAST);
    }
    // The namespace's manifest, which every pipeline's first attempt wrote, landed once.
    let adding_namespace = on_main
        .iter()
        .filter(|c| s.name_status(REMOTE, c).contains(&("A".to_owned(), TEAM_ALPHA_NAMESPACE.to_owned())));
    assert_eq!(adding_namespace.count(), 1);
    // So did the cell's Argo CD Application.
    let cell_application = ("A".to_owned(), "argocd/cells/cell-us-east/staging.yaml".to_owned());
    assert_eq!(on_main.iter().filter(|c| s.name_status(REMOTE, c).contains(&cell_application)).count(), 1);
    // The cell state, which every pipeline updated, lists all of them.
    let all: Vec<String> = (1..=PIPELINES).map(|i| format!("team-alpha/db-{i}")).collect();
    let names: Vec<String> = (1..=PIPELINES).map(|i| format!("db-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Some(members) = s.cell_members(REMOTE, "main", US_EAST, &names) {
        assert_eq!(members, all, "{US_EAST} on main");
    }

    let expected: Vec<String> = {
        let mut v: Vec<String> = (1..=PIPELINES).map(|i| format!("placements/team-alpha/mysql-db-{i}.yaml")).collect();
        v.sort();
        v
    };
    assert_eq!(s.ls_tree(REMOTE, "main", "placements/"), expected);
    assert_eq!(s.ls_tree(REMOTE, "main", "requests/").len(), PIPELINES);
    s.assert_fsck(REMOTE);
    s.assert_no_idp_refs(REMOTE);
}

#[test]
fn concurrent_pushes_of_the_same_request_create_it_exactly_once() {
    let s = Sandbox::with_remote();
    let file = s.request("db-same");
    let mut commands = Vec::new();
    for clone in ["w1", "w2"] {
        s.clone_remote(clone);
        commands
            .push(["apply", "-f", &file, "--repo", clone, "--yes", "--push", "-o", "json"].map(str::to_owned).to_vec());
    }

    let runs = race(&s, &commands);

    let mut all: Vec<String> = Vec::new();
    for run in &runs {
        run.code(0);
        let result = run.json();
        let status = statuses(&result);
        assert_eq!(status.len(), 1, "{result:#}");
        if status[0] == "created" {
            landed(&result, "main", "origin");
        } else {
            assert_eq!(result["commit"], Value::Null, "an `exists` result commits nothing: {result:#}");
        }
        all.extend(status);
    }
    all.sort();
    assert_eq!(all, ["created", "exists"]);

    assert_eq!(s.count(REMOTE, "main"), 2, "{}", s.git_in(REMOTE, &["log", "--oneline", "main"]));
    assert_eq!(s.ls_tree(REMOTE, "main", "placements/"), ["placements/team-alpha/mysql-db-same.yaml"]);
    s.assert_linear(REMOTE, "main");
    s.assert_fsck(REMOTE);
}

// ---------------------------------------------------------------------------------------
// Unreachable remotes
// ---------------------------------------------------------------------------------------

/// Pushes a new request to a remote that cannot be reached and checks that it fails
/// naming the remote and the branch, and that the pipeline's clone is untouched.
fn assert_unreachable_push_changes_nothing(s: &Sandbox, clone: &str, remote_args: &[&str], remote_named: &str) {
    let file = s.request("db-lost");
    let head = s.head(clone);
    let refs = s.refs(clone);
    let mut args = vec!["apply", "-f", &file, "--repo", clone, "--yes", "--push"];
    args.extend_from_slice(remote_args);

    let run = s.idp(&args);
    run.code(1);
    run.stderr_says(remote_named).stderr_says("main").stderr_says("attempt");

    // The same in JSON: one error document on stdout.
    args.extend(["-o", "json"]);
    let run = s.idp(&args);
    run.code(1);
    let message = run.json()["error"]["message"].as_str().expect("error.message").to_owned();
    assert!(message.contains(remote_named) && message.contains("main"), "error.message: {message}");

    assert_eq!(s.head(clone), head, "{clone}: HEAD moved");
    assert_eq!(s.refs(clone), refs, "{clone}: refs changed");
    assert_eq!(s.git_in(clone, &["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
    s.assert_clean(clone);
    s.assert_no_idp_refs(clone);
}

#[test]
fn push_to_an_unreachable_url_fails_and_leaves_the_clone_unchanged() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let url = "file:///nonexistent/x.git";
    assert_unreachable_push_changes_nothing(&s, "w1", &["--remote", url], url);
    // Nothing was lost: the same apply against the real remote lands.
    let result = s.apply("w1", &["db-lost.yaml"], &["--push"]);
    let (commit, _) = landed(&result, "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
}

#[test]
fn push_to_an_origin_that_is_missing_fails_and_leaves_the_clone_unchanged() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let missing = s.path("gone.git");
    s.git_in("w1", &["remote", "set-url", "origin", missing.to_str().unwrap()]);
    assert_unreachable_push_changes_nothing(&s, "w1", &[], "origin");
    // Once the remote is back, the next run lands.
    s.git_in("w1", &["remote", "set-url", "origin", s.path(REMOTE).to_str().unwrap()]);
    let result = s.apply("w1", &["db-lost.yaml"], &["--push"]);
    let (commit, _) = landed(&result, "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
}

/// A TCP server that accepts connections and never says a word: a hung remote.
pub(crate) struct SilentServer {
    pub(crate) port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    pub(crate) fn start() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            // Accepted connections are held open, unanswered, until the test ends.
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self { port, stop, thread: Some(thread) }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `apply --push` of `file` from clone `w1` to `url`, a server that never
/// answers, with `--timeout 2`: refused with the timeout message, no sooner
/// than the timeout and long before 20 s.
pub(crate) fn assert_push_times_out(s: &Sandbox, file: &str, url: &str) {
    let started = Instant::now();
    let run = s.idp(&["apply", "-f", file, "--repo", "w1", "--yes", "--push", "--remote", url, "--timeout", "2"]);
    let elapsed = started.elapsed();
    run.code(1);
    run.stderr_says(url).stderr_says("did not answer within 2 s (--timeout)");
    assert!(elapsed >= Duration::from_secs(2), "gave up before the timeout: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "a 2 s timeout took {elapsed:?}");
}

#[test]
fn push_to_a_remote_that_never_answers_times_out_and_the_next_run_lands() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let hung = SilentServer::start();
    let url = format!("git://127.0.0.1:{}/remote.git", hung.port);
    let file = s.request("db-hung");
    let (head, refs) = (s.head("w1"), s.refs("w1"));

    assert_push_times_out(&s, &file, &url);
    assert_eq!(s.head("w1"), head, "HEAD moved");
    assert_eq!(s.refs("w1"), refs, "refs changed");
    s.assert_clean("w1");
    s.assert_no_idp_refs("w1");

    // Nothing was lost: the same apply against the real remote lands.
    let result = s.apply("w1", &[&file], &["--push"]);
    let (commit, _) = landed(&result, "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
    s.assert_fsck(REMOTE);
}

#[test]
fn the_network_timeout_has_a_documented_default_and_bounds() {
    let s = Sandbox::new();
    let help = s.idp(&["apply", "--help"]);
    help.code(0);
    assert!(
        unwrapped_help(&help.stdout).contains("--timeout<SECONDS>"),
        "apply --help documents --timeout:\n{}",
        help.stdout
    );
    assert!(unwrapped_help(&help.stdout).contains("[default:60]"), "{}", help.stdout);
    for bad in ["0", "3601", "soon"] {
        let run = s.idp(&["apply", "-f", "x.yaml", "--yes", "--push", "--timeout", bad]);
        run.code(1);
        run.stderr_says("--timeout");
    }
}

fn unwrapped_help(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

// ---------------------------------------------------------------------------------------
// A remote served by `git daemon`, where receive-pack runs hooks
// ---------------------------------------------------------------------------------------

/// `git daemon` serving `<work>/srv` on a free local port; killed on drop.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    /// Starts the daemon, or None (after saying why) when this git has no daemon.
    fn start(s: &Sandbox, base: &str) -> Option<Self> {
        // The daemon itself, not `git daemon`: git runs it as a child, and killing git
        // would leave the daemon running.
        let exec_path = s.git(&["--exec-path"]);
        let program = Path::new(exec_path.trim()).join("git-daemon");
        if !program.exists() {
            eprintln!("SKIPPED: `git daemon` is not installed (no {}); install it to run this test", program.display());
            return None;
        }
        let base = s.path(base);
        let base = base.to_str().expect("UTF-8 temp path");
        let port = free_port();
        let log = std::fs::File::create(s.path("daemon.log")).unwrap();
        let mut child = s
            .hermetic(&program)
            .args([
                "--export-all",
                "--enable=receive-pack",
                "--informative-errors",
                &format!("--base-path={base}"),
                &format!("--port={port}"),
                "--reuseaddr",
                "--listen=127.0.0.1",
                base,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn git daemon");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "git daemon exited ({status}) before listening:\n{}",
                    std::fs::read_to_string(s.path("daemon.log")).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("git daemon did not listen on port {port} within 15 s");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Some(Self { child, port })
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy in front of a git daemon whose first `resets` connections are reset by
/// the peer, the way a busy git server or its load balancer drops one: it waits for the
/// client's request and closes without reading it, which makes the kernel answer with a
/// RST (unread data on close). Every later connection is forwarded to the daemon.
struct ResettingProxy {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ResettingProxy {
    fn start(upstream: u16, resets: usize) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut accepted = 0;
            while !flag.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                accepted += 1;
                client.set_nonblocking(false).unwrap();
                if accepted <= resets {
                    let mut byte = [0u8; 1];
                    let _ = client.peek(&mut byte);
                    drop(client);
                    continue;
                }
                let server = TcpStream::connect(("127.0.0.1", upstream)).expect("reach the daemon");
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Self { port, stop, thread: Some(thread) }
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for ResettingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Issue 19, item 14: a connection reset by a busy server is retried like a lost race,
/// within `--max-retries`, and the push lands.
#[test]
fn a_connection_reset_by_the_server_is_retried_and_the_push_lands() {
    let Some((s, daemon)) = served_remote(&["w1"]) else { return };
    let proxy = ResettingProxy::start(daemon.port, 2);
    let url = proxy.url("remote.git");
    let result = s.apply("w1", &[&s.request("db-reset")], &["--push", "--remote", &url]);
    let (commit, attempts) = landed(&result, "main", &url);
    assert_eq!(s.rev(SERVED, "main"), commit);
    assert!(attempts >= 2, "the resets were retried: {result:#}");
    s.assert_clean("w1");
}

/// ... and a server that keeps resetting fails after the bounded attempts, saying so.
#[test]
fn a_server_that_keeps_resetting_fails_after_the_bounded_attempts() {
    let Some((s, daemon)) = served_remote(&["w1"]) else { return };
    let proxy = ResettingProxy::start(daemon.port, usize::MAX);
    let url = proxy.url("remote.git");
    let head = s.head("w1");
    let file = s.request("db-reset");
    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push", "--remote", &url, "--max-retries", "3"]);
    run.code(1);
    run.stderr_says("Connection reset by peer");
    run.stderr_says("after 3 attempts");
    assert_eq!(s.head("w1"), head);
    assert_eq!(s.rev(SERVED, "main"), s.rev("seed", "HEAD"));
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().unwrap().port()
}

/// `srv/remote.git` (served by a daemon) cloned from a fresh seed, and clones of it.
fn served_remote(clones: &[&str]) -> Option<(Sandbox, GitDaemon)> {
    let s = Sandbox::new();
    s.idp(&["init", SEED]).code(0);
    s.git(&["clone", "--quiet", "--bare", SEED, "srv/remote.git"]);
    let daemon = GitDaemon::start(&s, "srv")?;
    for clone in clones {
        s.git(&["clone", "--quiet", "srv/remote.git", clone]);
        s.set_identity(clone);
    }
    Some((s, daemon))
}

const SERVED: &str = "srv/remote.git";

#[test]
fn daemon_push_lands() {
    let Some((s, daemon)) = served_remote(&["w1"]) else { return };
    let url = daemon.url("remote.git");
    let file = s.request("db-net");

    let result = s.apply("w1", &[&file], &["--push", "--remote", &url]);

    let (commit, _) = landed(&result, "main", &url);
    assert_eq!(s.rev(SERVED, "main"), commit);
    assert_eq!(
        lines(&s.git_in(SERVED, &["log", "--format=%s", "main"])),
        ["idp: create mysql team-alpha/db-net on aws/us-east-1", "idp: initialize state repo"]
    );
    assert_eq!(s.head("w1"), commit, "the clone was fast-forwarded to the pushed commit");
    s.assert_clean("w1");
    s.assert_no_idp_refs("w1");
    s.assert_fsck(SERVED);
}

#[test]
fn daemon_concurrent_pushes_all_land() {
    const PIPELINES: usize = 4;
    let clones: Vec<String> = (1..=PIPELINES).map(|i| format!("w{i}")).collect();
    let Some((s, daemon)) = served_remote(&clones.iter().map(String::as_str).collect::<Vec<_>>()) else { return };
    let url = daemon.url("remote.git");
    let commands: Vec<Vec<String>> = clones
        .iter()
        .enumerate()
        .map(|(i, clone)| {
            let file = s.request(&format!("db-{}", i + 1));
            ["apply", "-f", &file, "--repo", clone, "--yes", "--push", "--remote", &url, "-o", "json"]
                .map(str::to_owned)
                .to_vec()
        })
        .collect();

    let runs = race(&s, &commands);

    let mut attempts = 0;
    for run in &runs {
        run.code(0);
        attempts += landed(&run.json(), "main", &url).1;
    }
    assert!(attempts >= PIPELINES as u64);
    assert_eq!(s.count(SERVED, "main"), PIPELINES + 1, "{}", s.git_in(SERVED, &["log", "--oneline", "main"]));
    s.assert_linear(SERVED, "main");
    assert_eq!(s.ls_tree(SERVED, "main", "placements/").len(), PIPELINES);
    s.assert_fsck(SERVED);
}

#[test]
fn daemon_push_refused_by_a_pre_receive_hook_fails_without_retrying() {
    let Some((s, daemon)) = served_remote(&["w1"]) else { return };
    let url = daemon.url("remote.git");
    // The hook counts its runs, so a retry would show as a second line.
    let runs_log = s.path("hook-runs.log");
    let hook = s.path(&format!("{SERVED}/hooks/pre-receive"));
    std::fs::write(
        &hook,
        format!("#!/bin/sh\necho run >> '{}'\necho 'main is frozen' >&2\nexit 1\n", runs_log.display()),
    )
    .unwrap();
    set_executable(&hook);
    let file = s.request("db-refused");
    let head = s.head("w1");
    let branches = s.git_in("w1", &["for-each-ref", "refs/heads"]);
    let remote_main = s.rev(SERVED, "main");

    let started = Instant::now();
    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push", "--remote", &url]);
    let elapsed = started.elapsed();

    run.code(1);
    run.stderr_says("refused");
    run.stderr_says("main is frozen");
    assert!(run.stderr.contains("main"), "the message names the branch:\n{}", run.stderr);
    let hook_runs = std::fs::read_to_string(&runs_log).unwrap_or_default();
    assert_eq!(hook_runs.lines().count(), 1, "the hook ran more than once (a retry):\n{hook_runs}");
    assert!(elapsed < Duration::from_secs(10), "a refusal should fail fast, took {elapsed:?}");
    assert_eq!(s.rev(SERVED, "main"), remote_main, "the remote's main moved");
    assert_eq!(s.head("w1"), head, "the clone's HEAD moved");
    assert_eq!(s.git_in("w1", &["for-each-ref", "refs/heads"]), branches, "the clone's branches changed");
    s.assert_clean("w1");
    s.assert_no_idp_refs("w1");

    // Nothing was lost: once the server accepts again, the same apply lands.
    std::fs::remove_file(&hook).unwrap();
    let result = s.apply("w1", &[&file], &["--push", "--remote", &url]);
    let (commit, _) = landed(&result, "main", &url);
    assert_eq!(s.rev(SERVED, "main"), commit);
    s.assert_fsck(SERVED);
}

/// A local remote is pushed to through git's receive-pack, as `git push` does, so the
/// receiving repository's own rules apply: its pre-receive hook runs (once: a refusal is
/// not retried) and what it printed reaches the pipeline's log, for a path and a
/// `file://` URL alike. (Before, idp wrote the remote's objects and ref itself and no
/// hook ever ran.)
#[test]
fn a_local_remotes_pre_receive_hook_runs_and_its_refusal_is_shown() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let runs_log = s.path("hook-runs.log");
    let hook = s.path(&format!("{REMOTE}/hooks/pre-receive"));
    std::fs::write(
        &hook,
        format!("#!/bin/sh\necho run >> '{}'\necho 'main is frozen until Monday' >&2\nexit 1\n", runs_log.display()),
    )
    .unwrap();
    set_executable(&hook);
    let file = s.request("db-frozen");
    let remote_main = s.rev(REMOTE, "main");
    let head = s.head("w1");
    let file_url = format!("file://{}", s.path(REMOTE).display());
    for remote in [None, Some(file_url.as_str())] {
        let mut args = vec!["apply", "-f", file.as_str(), "--repo", "w1", "--yes", "--push"];
        args.extend(remote.iter().flat_map(|r| ["--remote", r]));
        let run = s.idp(&args);
        run.code(1);
        run.stderr_says("pre-receive hook declined");
        run.stderr_says("main is frozen until Monday");
        assert_eq!(s.rev(REMOTE, "main"), remote_main, "the remote's main moved");
        assert_eq!(s.head("w1"), head, "the clone's HEAD moved");
        s.assert_clean("w1");
        s.assert_no_idp_refs("w1");
    }
    let hook_runs = std::fs::read_to_string(&runs_log).unwrap_or_default();
    assert_eq!(hook_runs.lines().count(), 2, "one hook run per apply, never a retry:\n{hook_runs}");
    // The way out offered is a pull-request branch, unless that was what was refused.
    let json = |extra: &[&str]| {
        let mut args = vec!["apply", "-f", file.as_str(), "--repo", "w1", "--yes", "--push", "-o", "json"];
        args.extend(extra);
        let run = s.idp(&args);
        run.code(1);
        run.json()["error"]["help"].as_str().unwrap().to_owned()
    };
    assert!(json(&[]).contains("Use --branch NAME"));
    let help = json(&["--branch", "feat"]);
    assert!(!help.contains("--branch") && help.contains("ask the repo owner"), "{help}");

    std::fs::remove_file(&hook).unwrap();
    let result = s.apply("w1", &[&file], &["--push"]);
    let (commit, _) = landed(&result, "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
    s.assert_fsck(REMOTE);
}

/// A non-bare remote's checked-out branch belongs to whoever works in it: receive-pack
/// refuses to move it (`receive.denyCurrentBranch`, git's default), so their next commit
/// cannot silently undo the placements idp pushed. The owner's own setting is honoured:
/// with `updateInstead` the push lands and their work tree follows.
#[test]
fn a_non_bare_remotes_checked_out_branch_is_not_moved_under_its_owner() {
    let s = Sandbox::new();
    s.idp(&["init", SEED]).code(0);
    s.git(&["clone", "--quiet", SEED, "owner"]);
    s.set_identity("owner");
    s.git(&["clone", "--quiet", "owner", "w1"]);
    s.set_identity("w1");
    let file = s.request("db-owner");
    let owner_main = s.rev("owner", "main");

    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push"]);
    run.code(1);
    run.stderr_says("branch is currently checked out");
    assert_eq!(s.rev("owner", "main"), owner_main, "the owner's checked-out branch moved");
    s.assert_clean("owner");
    s.assert_no_idp_refs("w1");

    s.git_in("owner", &["config", "receive.denyCurrentBranch", "updateInstead"]);
    let result = s.apply("w1", &[&file], &["--push"]);
    let (commit, _) = landed(&result, "main", "origin");
    assert_eq!(s.rev("owner", "main"), commit);
    // Clean at the new commit: the work tree holds what was pushed.
    s.assert_clean("owner");
}

// ---------------------------------------------------------------------------------------
// What a run stopped half-way leaves in the clone, and the next run's repair
// ---------------------------------------------------------------------------------------
//
// These build, with the git CLI, the exact state a SIGKILL leaves at one moment (a kill
// cannot be aimed at a moment from a test); `crash.rs` kills real runs at random moments
// and checks the same outcome: a clean clone at the remote's head after the next run.

/// A kill after the post-push fast-forward moved the branch and before the work tree
/// followed leaves HEAD at the pushed commit, the work tree and index at the old one (so
/// the clone looks dirty) and git's index.lock behind. The next run finishes the update,
/// removes the lock, says so, and lands its own commit.
#[test]
fn a_fast_forward_stopped_half_way_is_finished_by_the_next_run() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let before = s.head("w1");
    let first = s.request("db-one");
    let (pushed, _) = landed(&s.apply("w1", &[&first], &["--push"]), "main", "origin");

    s.git_in("w1", &["reset", "--quiet", "--hard", &before]);
    s.git_in("w1", &["update-ref", "refs/heads/main", &pushed]);
    std::fs::write(s.path("w1/.git/idp-checkout"), format!("{pushed} {before}")).unwrap();
    std::fs::write(s.path("w1/.git/index.lock"), "").unwrap();

    let second = s.request("db-two");
    let run = s.idp(&["apply", "-f", &second, "--repo", "w1", "--yes", "--push", "-o", "json"]);
    run.code(0);
    run.stderr_says(&format!("finished updating the work tree and index to {}", &pushed[..12]));
    run.stderr_says("index.lock, left by an idp run that was stopped");
    let (commit, _) = landed(&run.json(), "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
    assert_eq!(s.head("w1"), commit);
    s.assert_clean("w1");
    assert!(!s.path("w1/.git/idp-checkout").exists() && !s.path("w1/.git/index.lock").exists());
}

/// An index.lock idp did not leave (a git command running in the clone, or one killed)
/// is not idp's to remove. The push still lands and is reported with its commit (exit 0);
/// the clone stays where it was, and idp says why and what to do. Once the lock is gone,
/// the next run brings the clone to the remote's head.
#[test]
fn a_push_that_landed_reports_its_commit_whatever_stops_the_local_fast_forward() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let before = s.head("w1");
    std::fs::write(s.path("w1/.git/index.lock"), "").unwrap();
    let first = s.request("db-locked");
    let run = s.idp(&["apply", "-f", &first, "--repo", "w1", "--yes", "--push", "-o", "json"]);
    run.code(0);
    let (commit, _) = landed(&run.json(), "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
    run.stderr_says(&format!("{} landed on origin main; this clone's main was not moved to it", &commit[..12]));
    run.stderr_says("index.lock exists (a git command is running, or one was killed");
    assert_eq!(s.head("w1"), before);
    assert!(s.path("w1/.git/index.lock").exists(), "someone else's lock was removed");

    std::fs::remove_file(s.path("w1/.git/index.lock")).unwrap();
    let second = s.request("db-after");
    let (next, _) = landed(&s.apply("w1", &[&second], &["--push"]), "main", "origin");
    assert_eq!(s.head("w1"), next);
    assert_eq!(s.rev(REMOTE, "main"), next);
    s.assert_clean("w1");
}

/// A kill after the push landed and before the clone moved (the mark not yet written)
/// leaves the clone clean and behind. The same apply run again finds nothing to push,
/// and brings the clone up to the remote's head, saying so.
#[test]
fn a_clone_left_behind_by_a_stopped_run_catches_up_on_the_next_one() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let before = s.head("w1");
    let file = s.request("db-behind");
    let (pushed, _) = landed(&s.apply("w1", &[&file], &["--push"]), "main", "origin");
    s.git_in("w1", &["reset", "--quiet", "--hard", &before]);

    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push", "-o", "json"]);
    run.code(0);
    assert_eq!(run.json()["commit"], Value::Null, "nothing new to push");
    run.stderr_says("this clone's main was behind origin");
    assert_eq!(s.head("w1"), pushed);
    assert_eq!(s.rev(REMOTE, "main"), pushed);
    s.assert_clean("w1");
}

/// A kill during a network push can leave `refs/idp/push` (the ref libgit2 pushes
/// from). The next run of any writing command removes it and says so.
#[test]
fn a_push_ref_left_by_a_stopped_push_is_removed_by_the_next_run() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    s.git_in("w1", &["update-ref", "refs/idp/push", "HEAD"]);
    let file = s.request("db-local");
    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes"]);
    run.code(0);
    run.stderr_says("removed refs/idp/push, left by a push that was stopped");
    s.assert_no_idp_refs("w1");
    s.assert_clean("w1");
}

/// A remote that receives the pack and cannot keep it (here `receive.maxInputSize`; a
/// full disk reads the same, see `faults.rs`) is not an unreachable one: the error says
/// it could not store the push, with the remote's own words and no libgit2 codes; no
/// retry, nothing moved, and the same command lands once the remote takes it.
#[test]
fn a_remote_that_cannot_store_the_push_says_so() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    s.git_in(REMOTE, &["config", "receive.maxInputSize", "100"]);
    let file = s.request("db-big");
    let remote_main = s.rev(REMOTE, "main");
    let head = s.head("w1");
    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push", "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::push::not_stored", "{error:#}");
    assert_eq!(
        error["message"],
        "origin could not store the push to main: unpacking the sent packfile failed on the remote \
         (remote: fatal: pack exceeds maximum allowed size)"
    );
    assert!(error["help"].as_str().unwrap().contains("disk may be full"), "{error:#}");
    assert_eq!(s.rev(REMOTE, "main"), remote_main);
    assert_eq!(s.head("w1"), head);
    s.assert_clean("w1");
    s.assert_no_idp_refs("w1");

    s.git_in(REMOTE, &["config", "--unset", "receive.maxInputSize"]);
    let (commit, _) = landed(&s.apply("w1", &[&file], &["--push"]), "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), commit);
}

/// `--branch` and `--base` take what `git switch -c` takes, and refuse names git would
/// read as something else (`HEAD`, `@`, `+main`, `-f`, a full ref), before anything is
/// fetched or written.
#[test]
fn branch_names_git_would_read_as_something_else_are_refused() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let file = s.request("db-branch");
    let refs = s.refs(REMOTE);
    for (flag, name, why) in [
        ("--branch", "HEAD", "names the checked-out commit, not a branch"),
        ("--branch", "@", "names the checked-out commit, not a branch"),
        ("--branch", "+main", "starts with '+', which git reads as a forced update"),
        ("--branch=-f", "", "starts with '-', which git reads as an option"),
        ("--branch", "refs/heads/x", "is a full ref name"),
        ("--branch", "a..b", "is not a valid Git branch name"),
        ("--base", "@", "names the checked-out commit, not a branch"),
    ] {
        let mut args = vec!["apply", "-f", file.as_str(), "--repo", "w1", "--yes", "--push", flag];
        if !name.is_empty() {
            args.push(name);
        }
        let run = s.idp(&args);
        run.code(1);
        run.stderr_says(why);
        assert_eq!(s.refs(REMOTE), refs, "{flag} {name}: the remote changed");
        s.assert_clean("w1");
    }
}

/// A plain `git init --bare` remote advertises no default branch (its HEAD names a
/// branch nobody pushed). `doctor --remote` and `apply --push --branch` say exactly that
/// and what to do, never libgit2's "no error; code=NotFound (-3)". The remote is
/// configured by a path relative to the clone, as `git remote add origin ../x.git`
/// writes it (read relative to the repo, as git does, not to where idp runs).
#[test]
fn a_remote_whose_head_names_a_missing_branch_says_so() {
    let s = Sandbox::new();
    s.idp(&["init", "w1"]).code(0);
    s.git(&["init", "--quiet", "--bare", "empty.git"]);
    s.git_in("w1", &["remote", "add", "origin", "../empty.git"]);
    s.set_identity("w1");
    let said = "origin has no default branch: its HEAD names a branch that does not exist";

    let doctor = s.idp(&["doctor", "--repo", "w1", "--remote", "origin"]);
    assert!(doctor.stdout.contains(said), "{}", doctor.stdout);
    assert!(doctor.stdout.contains("--base BRANCH"), "{}", doctor.stdout);

    let file = s.request("db-first");
    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push", "--branch", "feat", "-o", "json"]);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "idp::push::no_default_branch");
    run.stderr_says(said);
    for raw in ["no error", "code=", "class="] {
        assert!(!run.stderr.contains(raw) && !doctor.stdout.contains(raw), "{raw}:\n{}{}", run.stderr, doctor.stdout);
    }
    assert_eq!(s.git_in("empty.git", &["for-each-ref"]), "");

    // The ways out the help names: a first push creates main; --base names the start.
    let (first, _) = landed(&s.apply("w1", &[&file], &["--push"]), "main", "origin");
    let second = s.request("db-second");
    let (commit, _) =
        landed(&s.apply("w1", &[&second], &["--push", "--branch", "feat", "--base", "main"]), "feat", "origin");
    assert_eq!(s.rev("empty.git", "feat^"), first);
    assert_eq!(s.rev("empty.git", "feat"), commit);
}

pub(crate) fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------------------------------------------------------------------------------------
// --branch: a pull-request branch instead of main
// ---------------------------------------------------------------------------------------

#[test]
fn push_to_a_new_branch_leaves_main_alone() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let main_before = s.rev(REMOTE, "main");
    let local_before = s.head("w1");
    let file = s.request("db-pr");

    let run = s.idp(&["apply", "-f", &file, "--repo", "w1", "--yes", "--push", "--branch", "feature-x"]);

    run.code(0);
    assert!(
        run.stdout.contains("feature-x") || run.stderr.contains("feature-x"),
        "the output names the branch\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(s.rev(REMOTE, "main"), main_before, "the remote's main moved");
    assert_eq!(s.count(REMOTE, "main..feature-x"), 1);
    assert_eq!(s.rev(REMOTE, "feature-x^"), main_before, "feature-x starts at main");
    assert_eq!(s.request_changes(REMOTE, "feature-x"), request_status("A", "team-alpha", "db-pr"));
    s.assert_cell_changes(REMOTE, "feature-x", US_EAST);
    assert_eq!(s.head("w1"), local_before, "the clone's main is not the pushed branch");
    s.assert_clean("w1");
    s.assert_no_idp_refs("w1");
}

#[test]
fn push_to_a_branch_from_another_base() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    let first = s.request("db-one");
    let second = s.request("db-two");
    let feature = s.apply("w1", &[&first], &["--push", "--branch", "feature-x"]);
    let (feature_commit, _) = landed(&feature, "feature-x", "origin");

    let result = s.apply("w1", &[&second], &["--push", "--branch", "feature-y", "--base", "feature-x"]);

    let (commit, _) = landed(&result, "feature-y", "origin");
    assert_eq!(s.rev(REMOTE, "feature-y"), commit);
    assert_eq!(s.rev(REMOTE, "feature-y^"), feature_commit, "feature-y is built on feature-x");
    assert_eq!(s.count(REMOTE, "main"), 1, "main still holds only the init commit");
    assert_eq!(
        s.ls_tree(REMOTE, "feature-y", "placements/"),
        ["placements/team-alpha/mysql-db-one.yaml", "placements/team-alpha/mysql-db-two.yaml"]
    );
}

// ---------------------------------------------------------------------------------------
// rollback
// ---------------------------------------------------------------------------------------

/// Applies db-a, db-b, db-c to the local state repo, one commit each; their commits.
fn three_commits(s: &Sandbox) -> [String; 3] {
    ["db-a", "db-b", "db-c"].map(|name| {
        let file = s.request(name);
        let result = s.apply(STATE, &[&file], &[]);
        result["commit"].as_str().expect("commit").to_owned()
    })
}

#[test]
fn rollback_of_a_middle_commit_removes_only_its_files() {
    let s = Sandbox::with_state_repo();
    let [_, b, c] = three_commits(&s);
    assert_eq!(s.head(STATE), c);
    let b_title = s.title(STATE, &b);

    let run = s.idp(&["rollback", &b, "--repo", STATE, "--yes", "--allow-destroy"]);

    run.code(0);
    let revert = s.head(STATE);
    assert_eq!(s.rev(STATE, "HEAD^"), c, "the revert is a new commit on top");
    assert_eq!(
        s.title(STATE, &revert),
        format!("idp: revert {}", b_title.strip_prefix("idp: ").expect("an idp title"))
    );
    assert_eq!(s.title(STATE, &revert), "idp: revert create mysql team-alpha/db-b on aws/us-east-1");
    assert_eq!(s.trailer(STATE, &revert, "Idp-Reverts"), [b]);
    assert_eq!(s.request_changes(STATE, &revert), request_status("D", "team-alpha", "db-b"));
    s.assert_cell_changes(STATE, &revert, US_EAST);
    let stat = s.git_in(STATE, &["show", "--stat=200", "--format=", &revert]);
    for file in request_files("team-alpha", "db-b") {
        assert!(stat.contains(&file), "git show --stat does not list {file}:\n{stat}");
    }
    if let Some(members) = s.cell_members(STATE, "HEAD", US_EAST, &ABC) {
        assert_eq!(members, ids(&["db-a", "db-c"]), "{US_EAST} after the revert");
    }
    for name in ["db-a", "db-c"] {
        for file in request_files("team-alpha", name) {
            assert!(s.path(&format!("{STATE}/{file}")).is_file(), "{file} is gone");
        }
    }
    for file in request_files("team-alpha", "db-b") {
        assert!(!s.path(&format!("{STATE}/{file}")).exists(), "{file} is still in the work tree");
    }
    s.assert_clean(STATE);
    assert_eq!(s.count(STATE, "HEAD"), 5);
}

#[test]
fn rollback_without_a_commit_reverts_the_newest_idp_commit() {
    let s = Sandbox::with_state_repo();
    let init = s.head(STATE);
    // Nothing but the init commit: nothing to revert.
    let run = s.idp(&["rollback", "--repo", STATE, "--yes", "--allow-destroy"]);
    run.code(1);
    assert_eq!(s.head(STATE), init);

    let [_, _, c] = three_commits(&s);
    // A plain git commit on top is not an idp commit; the default skips it.
    s.write(&format!("{STATE}/README2"), "notes\n");
    s.git_in(STATE, &["add", "README2"]);
    s.git_in(STATE, &["commit", "--quiet", "-m", "add README2"]);
    let plain = s.head(STATE);

    let run = s.idp(&["rollback", "--repo", STATE, "--yes", "--allow-destroy", "-o", "json"]);

    run.code(0);
    let revert = s.head(STATE);
    assert_eq!(s.rev(STATE, "HEAD^"), plain);
    assert_eq!(s.trailer(STATE, &revert, "Idp-Reverts"), [c.as_str()]);
    assert_eq!(s.title(STATE, &revert), "idp: revert create mysql team-alpha/db-c on aws/us-east-1");
    let result = run.json();
    assert_eq!(result["commit"], revert.as_str(), "{result:#}");
    assert_eq!(result["reverted"], c.as_str(), "{result:#}");
    assert!(s.path(&format!("{STATE}/README2")).is_file(), "the plain commit's file stays");
    assert_eq!(s.request_changes(STATE, &revert), request_status("D", "team-alpha", "db-c"));
    s.assert_cell_changes(STATE, &revert, US_EAST);
    if let Some(members) = s.cell_members(STATE, "HEAD", US_EAST, &ABC) {
        assert_eq!(members, ids(&["db-a", "db-b"]), "{US_EAST} after the revert");
    }
    s.assert_clean(STATE);
}

/// Issue 19, item 9: the commit `rollback --push` reverts is the one it showed and the
/// person confirmed, whatever lands on the remote meanwhile. Another pipeline's commit
/// lands between the rollback's fetch and its push (injected deterministically from the
/// progress callback, which reports the push just before it happens): the push loses the
/// race, the retry rebuilds on the new head, and still reverts the confirmed commit, not
/// the newest idp commit of that head. Run in process, through the library, to place the
/// race; the other pipeline is the idp binary.
#[test]
#[allow(clippy::result_large_err)] // the confirmation's error type is the library's Error
fn rollback_push_reverts_the_confirmed_commit_after_a_lost_race() {
    use idp::ops::land::{Answer, LandOptions, PushOptions};
    use idp::ops::rollback::{RollbackOptions, Target, rollback};
    use idp::ops::{Context, ContextOptions};

    let s = Sandbox::with_remote();
    for clone in ["w1", "w2"] {
        s.clone_remote(clone);
    }
    let a = s.apply("w1", &[&s.request("db-a")], &["--push"])["commit"].as_str().unwrap().to_owned();
    let b = s.apply("w1", &[&s.request("db-b")], &["--push"])["commit"].as_str().unwrap().to_owned();
    let other = s.request("db-c");

    let repo = s.path("w1");
    let mut ctx =
        Context::resolve(&ContextOptions { repo: Some(repo.clone()), policy: None, cwd: repo, author: None }).unwrap();
    let land = LandOptions {
        push: Some(PushOptions {
            remote: "origin".into(),
            branch: None,
            base: None,
            max_attempts: 5,
            timeout: Duration::from_secs(30),
        }),
        allow_destroy: true,
    };
    let mut confirmed = Vec::new();
    let mut confirm = |reverted: &idp::ops::rollback::Reverted, _: &idp::ops::land::Proposed<'_>| {
        confirmed.push(reverted.commits[0].commit.clone());
        Ok(Answer::Yes)
    };
    let raced = std::cell::Cell::new(false);
    let progress = |message: &str| {
        if message.starts_with("push ") && !raced.replace(true) {
            s.idp(&["apply", "-f", &other, "--repo", "w2", "--yes", "--push"]).code(0);
        }
    };
    let options = RollbackOptions { target: Target::Steps(1), force: false };
    let outcome = rollback(&mut ctx, &options, &land, &mut confirm, &progress).unwrap().expect("it landed");
    assert!(raced.get(), "the other pipeline pushed in between");
    assert_eq!(confirmed, std::slice::from_ref(&b), "asked once, about the newest idp commit it saw");
    assert_eq!(outcome.reverted, b);
    assert!(outcome.landed.attempts >= 2, "the first push lost the race: {:?}", outcome.landed);
    let head = s.rev(REMOTE, "main");
    assert_eq!(head, outcome.commit);
    assert_eq!(s.trailer(REMOTE, &head, "Idp-Reverts"), [b.as_str()]);
    // The other pipeline's request stands; db-a too.
    let files = s.ls_tree(REMOTE, "main", "requests/team-alpha");
    assert_eq!(files, ["requests/team-alpha/mysql-db-a.yaml", "requests/team-alpha/mysql-db-c.yaml"]);
    assert_ne!(a, b);
}

#[test]
fn rollback_that_conflicts_with_a_later_update_writes_nothing() {
    let s = Sandbox::with_state_repo();
    let file = s.request("db-x");
    let first = s.apply(STATE, &[&file], &[])["commit"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(s.path(&file)).unwrap();
    s.write(&file, edit(&text, "size: large", "size: xlarge"));
    let update = s.apply(STATE, &[&file], &[]);
    assert_eq!(statuses(&update), ["updated"], "{update:#}");
    let head = s.head(STATE);
    assert_ne!(head, first);

    let run = s.idp(&["rollback", &first, "--repo", STATE, "--yes"]);

    run.code(1);
    let changed_later: Vec<String> = s
        .name_status(STATE, &head)
        .into_iter()
        .map(|(_, path)| path)
        .filter(|p| p.starts_with("placements/") || p.starts_with("platform/") || p.starts_with("requests/"))
        .collect();
    assert!(!changed_later.is_empty());
    for path in &changed_later {
        run.stderr_says(path);
    }
    assert_eq!(s.head(STATE), head, "HEAD moved");
    assert_eq!(s.count(STATE, "HEAD"), 3);
    s.assert_clean(STATE);
}

#[test]
fn rollback_of_a_commit_idp_did_not_write_needs_force() {
    let s = Sandbox::with_state_repo();
    let file = s.request("db-a");
    s.apply(STATE, &[&file], &[]);
    s.write(&format!("{STATE}/README2"), "notes\n");
    s.git_in(STATE, &["add", "README2"]);
    s.git_in(STATE, &["commit", "--quiet", "-m", "add README2"]);
    let plain = s.head(STATE);

    let run = s.idp(&["rollback", &plain, "--repo", STATE, "--yes"]);
    run.code(1);
    run.stderr_says("--force");
    assert_eq!(s.head(STATE), plain, "HEAD moved");
    s.assert_clean(STATE);

    let run = s.idp(&["rollback", &plain, "--repo", STATE, "--yes", "--force"]);
    run.code(0);
    let revert = s.head(STATE);
    assert_eq!(s.rev(STATE, "HEAD^"), plain);
    assert_eq!(s.name_status(STATE, &revert), [("D".to_owned(), "README2".to_owned())]);
    assert_eq!(s.title(STATE, &revert), "idp: revert add README2");
    assert_eq!(s.trailer(STATE, &revert, "Idp-Reverts"), [plain]);
    assert!(s.path(&format!("{STATE}/requests/team-alpha/mysql-db-a.yaml")).is_file());
    s.assert_clean(STATE);
}

// ---------------------------------------------------------------------------------------
// A plain `git revert` keeps the repo consistent
// ---------------------------------------------------------------------------------------

#[test]
fn a_git_revert_made_with_git_undoes_an_apply_for_idp_too() {
    let s = Sandbox::with_state_repo();
    let file = s.request("db-a");
    let applied = s.apply(STATE, &[&file], &[])["commit"].as_str().unwrap().to_owned();

    s.git_in(STATE, &["revert", "--no-edit", &applied]);
    let reverted = s.head(STATE);
    assert!(s.ls_tree(STATE, "HEAD", "placements/").is_empty());
    if let Some(members) = s.cell_members(STATE, "HEAD", US_EAST, &ABC) {
        assert!(members.is_empty(), "the cell state still lists {members:?} after git revert");
    }

    let plan = s.idp(&["plan", "-f", &file, "--repo", STATE, "-o", "json"]);
    plan.code(0);
    let plan = plan.json();
    assert_eq!(statuses(&plan), ["create"], "{plan:#}");
    let status = s.idp(&["status", "mysql", "team-alpha/db-a", "--repo", STATE]);
    status.code(1);
    status.stderr_says("not in the state repo");

    let again = s.apply(STATE, &[&file], &[]);
    assert_eq!(statuses(&again), ["created"], "{again:#}");
    let commit = again["commit"].as_str().unwrap();
    assert_eq!(s.rev(STATE, "HEAD^"), reverted);
    assert_eq!(s.request_changes(STATE, commit), request_status("A", "team-alpha", "db-a"));
    s.assert_cell_changes(STATE, commit, US_EAST);
    if let Some(members) = s.cell_members(STATE, "HEAD", US_EAST, &ABC) {
        assert_eq!(members, ids(&["db-a"]), "{US_EAST} after the second apply");
    }
    s.idp(&["status", "mysql", "team-alpha/db-a", "--repo", STATE]).code(0);
    s.assert_clean(STATE);
}

// ---------------------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------------------

const HISTORY_KEYS: [&str; 13] = [
    "action",
    "author",
    "cell",
    "commit",
    "environment",
    "kind",
    "name",
    "namespace",
    "placement",
    "policy_change",
    "policy_version",
    "time",
    "title",
];

fn history(s: &Sandbox, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["history", "--repo", STATE, "-o", "json"];
    args.extend_from_slice(filters);
    let run = s.idp(&args);
    run.code(0);
    let doc = run.json();
    doc["entries"].as_array().unwrap_or_else(|| panic!("no entries array: {doc:#}")).clone()
}

/// `(action, namespace/name)` of each entry, in order.
fn who(entries: &[Value]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| {
            let action = e["action"].as_str().unwrap().to_owned();
            let id = match (e["namespace"].as_str(), e["name"].as_str()) {
                (Some(ns), Some(name)) => format!("{ns}/{name}"),
                _ => "-".to_owned(),
            };
            (action, id)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// Four requests over two namespaces and two cells (the middle two in one commit),
/// then a rollback of the newest, team-beta/db-b.
fn history_repo() -> Sandbox {
    let s = Sandbox::with_state_repo();
    let alpha_a = s.write("alpha-a.yaml", request_in("team-alpha", "db-a", "cell-us-east"));
    let alpha_c = s.write("alpha-c.yaml", request_in("team-alpha", "db-c", "cell-eu"));
    let beta_a = s.write("beta-a.yaml", request_in("team-beta", "db-a", "cell-us-east"));
    let beta_b = s.write("beta-b.yaml", request_in("team-beta", "db-b", "cell-eu"));
    s.apply(STATE, &[&alpha_a], &[]);
    let both = s.apply(STATE, &[&alpha_c, &beta_a], &[]);
    assert_eq!(statuses(&both), ["created", "created"], "{both:#}");
    let b = s.apply(STATE, &[&beta_b], &[])["commit"].as_str().unwrap().to_owned();
    s.idp(&["rollback", "--repo", STATE, "--yes", "--allow-destroy"]).code(0);
    assert_eq!(s.trailer(STATE, "HEAD", "Idp-Reverts"), [b]);
    s
}

#[test]
fn history_lists_every_action_newest_first_with_its_fields() {
    let s = history_repo();

    let entries = history(&s, &[]);

    let actions = who(&entries);
    assert_eq!(actions.len(), 6, "{actions:?}");
    assert_eq!(actions[..2], pairs(&[("revert", "team-beta/db-b"), ("create", "team-beta/db-b")])[..]);
    // One commit applied two requests: two entries with that one commit.
    let mut pair = vec![actions[2].clone(), actions[3].clone()];
    pair.sort();
    assert_eq!(pair, pairs(&[("create", "team-alpha/db-c"), ("create", "team-beta/db-a")]));
    assert_eq!(entries[2]["commit"], entries[3]["commit"]);
    assert_eq!(actions[4..], pairs(&[("create", "team-alpha/db-a"), ("init", "-")])[..]);

    // Commits, titles and times as git reads them, newest first.
    let log = lines(&s.git_in(STATE, &["log", "--format=%H%x09%s%x09%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ"]));
    let git_commits: Vec<(String, String, String)> = log
        .iter()
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap().to_owned(), f.next().unwrap().to_owned(), f.next().unwrap().to_owned())
        })
        .collect();
    let mut seen: Vec<(String, String, String)> = Vec::new();
    for entry in &entries {
        let object = entry.as_object().expect("an entry is an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, HISTORY_KEYS, "{entry:#}");
        let triple = (
            entry["commit"].as_str().unwrap().to_owned(),
            entry["title"].as_str().unwrap().to_owned(),
            entry["time"].as_str().unwrap().to_owned(),
        );
        if seen.last() != Some(&triple) {
            seen.push(triple);
        }
    }
    assert_eq!(seen, git_commits, "history's commits, titles and times are git's, newest first");

    for entry in entries.iter().filter(|e| e["action"] == "create") {
        assert_eq!(entry["author"], GIT_NAME, "{entry:#}");
        assert_eq!(entry["kind"], "mysql", "{entry:#}");
        assert_eq!(entry["environment"], "staging", "{entry:#}");
        assert_eq!(entry["policy_version"], POLICY_VERSION, "{entry:#}");
        let placement = entry["placement"].as_str().unwrap_or_else(|| panic!("no placement: {entry:#}"));
        // The placement and cell history names are the ones in the placement record
        // that commit wrote.
        let ns = entry["namespace"].as_str().unwrap();
        let name = entry["name"].as_str().unwrap();
        let commit = entry["commit"].as_str().unwrap();
        let text = s.git_in(STATE, &["show", &format!("{commit}:placements/{ns}/mysql-{name}.yaml")]);
        let record: Value = serde_saphyr::from_str(&text).expect("a YAML placement record");
        let primary = format!(
            "{}/{}",
            record["primary"]["provider"].as_str().unwrap(),
            record["primary"]["region"].as_str().unwrap()
        );
        assert_eq!(placement.split_whitespace().next(), Some(primary.as_str()), "{entry:#}");
        assert_eq!(entry["cell"], record["cell"], "{entry:#}");
    }
    assert_eq!(entries[1]["cell"], "cell-eu");
    assert_eq!(entries[4]["cell"], "cell-us-east");
    assert_eq!(entries[4]["placement"], "aws/us-east-1");
    assert_eq!(entries[0]["kind"], "mysql");
    assert_eq!(entries[0]["commit"], s.head(STATE).as_str());
}

#[test]
fn history_filters_by_namespace_name_cell_and_limit() {
    let s = history_repo();
    let all = history(&s, &[]);

    assert_eq!(
        who(&history(&s, &["--namespace", "team-beta"])),
        who(&all).into_iter().filter(|(_, id)| id.starts_with("team-beta/")).collect::<Vec<_>>()
    );
    assert_eq!(who(&history(&s, &["--namespace", "team-beta"])).len(), 3);
    assert_eq!(
        who(&history(&s, &["--name", "db-a"])),
        who(&all).into_iter().filter(|(_, id)| id.ends_with("/db-a")).collect::<Vec<_>>()
    );
    assert_eq!(who(&history(&s, &["--name", "db-a"])).len(), 2);
    assert_eq!(
        who(&history(&s, &["--namespace", "team-alpha", "--name", "db-a"])),
        pairs(&[("create", "team-alpha/db-a")])
    );

    let eu = history(&s, &["--cell", "cell-eu"]);
    assert!(eu.iter().all(|e| e["cell"] == "cell-eu"), "{eu:#?}");
    let eu_creates: Vec<(String, String)> = who(&eu).into_iter().filter(|(a, _)| a == "create").collect();
    assert_eq!(eu_creates, pairs(&[("create", "team-beta/db-b"), ("create", "team-alpha/db-c")]));
    let us: Vec<(String, String)> = who(&history(&s, &["--cell", "cell-us-east"]));
    assert_eq!(us, pairs(&[("create", "team-beta/db-a"), ("create", "team-alpha/db-a")]));
    assert!(history(&s, &["--cell", "cell-nowhere"]).is_empty());

    for n in [1, 2, 4] {
        let limited = history(&s, &["-n", &n.to_string()]);
        assert_eq!(limited, all[..n].to_vec(), "-n {n}");
    }
    let beta_one = history(&s, &["--namespace", "team-beta", "-n", "1"]);
    assert_eq!(who(&beta_one), pairs(&[("revert", "team-beta/db-b")]));
}

#[test]
fn history_with_a_limit_of_zero_lists_nothing() {
    let s = history_repo();
    let run = s.idp(&["history", "--repo", STATE, "-o", "json", "-n", "0"]);
    // Either refused as a usage error or an empty list; never "at most 0" meaning one.
    if run.code == 0 {
        let doc = run.json();
        assert_eq!(doc["entries"], Value::Array(Vec::new()), "-n 0 listed entries:\n{doc:#}");
    } else {
        assert!(run.code == 1 || run.code == 2, "exit {}: {}", run.code, run.stderr);
    }
}

#[test]
fn history_table_has_the_audit_columns_and_shows_reverts() {
    let s = history_repo();

    let run = s.idp(&["history", "--repo", STATE]);

    run.code(0);
    let rows = lines(&run.stdout);
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["TIME", "AUTHOR", "ACTION", "REQUEST", "PLACEMENT", "POLICY", "COMMIT"]
    );
    assert_eq!(rows.len(), 1 + history(&s, &[]).len(), "{}", run.stdout);
    let revert = &rows[1];
    assert!(revert.contains(" revert ") && revert.contains("team-beta/db-b"), "first row: {revert}");
    let short = &s.head(STATE)[..12];
    assert!(revert.contains(short), "the row names the commit {short}: {revert}");
    assert!(
        rows.iter().any(|r| r.contains(" create ") && r.contains("team-alpha/db-a") && r.contains("aws/us-east-1"))
    );
}

/// A platform engineer's hand edit of the policy, committed with git as someone else.
fn commit_policy_edit(s: &Sandbox, from: &str, to: &str, title: &str) {
    let path = format!("{STATE}/policy/policy.yaml");
    s.write(&path, edit(&s.read(&path), from, to));
    s.git_in(STATE, &["commit", "--quiet", "--all", "--author", "Pat Platform <pat@example.org>", "-m", title]);
}

#[test]
fn history_shows_policy_commits_with_who_changed_what() {
    let s = history_repo();
    let cordon = "runtimeCluster: aws-use1-prod-01\n    cordoned: true";
    let bumped = "version: \"2026.12.0\"";
    let version_line = s
        .read(&format!("{STATE}/policy/policy.yaml"))
        .lines()
        .find(|l| l.starts_with("version:"))
        .expect("the policy has a version line")
        .to_owned();
    commit_policy_edit(&s, "runtimeCluster: aws-use1-prod-01", cordon, "Cordon us-east-1: AWS incident INC-42");
    let cordoned = s.head(STATE);
    // A hand edit outside policy/ is not a policy change: left out as before.
    s.write(&format!("{STATE}/NOTES.md"), "notes\n");
    s.git_in(STATE, &["add", "NOTES.md"]);
    s.git_in(STATE, &["commit", "--quiet", "-m", "notes"]);
    commit_policy_edit(&s, cordon, "runtimeCluster: aws-use1-prod-01", "Uncordon us-east-1");
    commit_policy_edit(&s, &version_line, bumped, "Policy 2026.12.0");

    let entries = history(&s, &[]);

    let policy: Vec<&Value> = entries.iter().filter(|e| e["action"] == "policy").collect();
    assert_eq!(policy.len(), 3, "{entries:#?}");
    let titles: Vec<&str> = policy.iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Policy 2026.12.0", "Uncordon us-east-1", "Cordon us-east-1: AWS incident INC-42"]);
    let summaries: Vec<Value> = policy.iter().map(|e| e["policy_change"]["summary"].clone()).collect();
    assert_eq!(
        summaries,
        [
            serde_json::json!([format!("version {POLICY_VERSION} -> 2026.12.0")]),
            serde_json::json!(["uncordoned aws/us-east-1"]),
            serde_json::json!(["cordoned aws/us-east-1"]),
        ]
    );
    for entry in &policy {
        assert_eq!(entry["author"], "Pat Platform", "{entry:#}");
        assert_eq!(entry["policy_change"]["files"], serde_json::json!(["policy/policy.yaml"]), "{entry:#}");
        assert!(entry["namespace"].is_null() && entry["kind"].is_null(), "{entry:#}");
    }
    assert_eq!(policy[0]["policy_version"], "2026.12.0");
    assert_eq!(policy[2]["policy_version"], POLICY_VERSION);
    assert_eq!(policy[2]["commit"], cordoned.as_str());
    assert!(!entries.iter().any(|e| e["title"] == "notes"), "a commit outside policy/ is not listed");
    // idp's own commit that wrote the policy says so too; its requests' commits do not.
    let init = entries.last().unwrap();
    assert_eq!(
        (init["action"].as_str(), init["policy_change"]["files"][0].as_str()),
        (Some("init"), Some("policy/policy.yaml"))
    );
    assert!(entries.iter().filter(|e| e["action"] == "create").all(|e| e["policy_change"].is_null()));
    // A request filter leaves policy changes out, as it leaves out init.
    assert!(history(&s, &["--namespace", "team-beta"]).iter().all(|e| e["action"] != "policy"));

    // The table: who, what (the title and what it did), when.
    let run = s.idp(&["history", "--repo", STATE]);
    run.code(0);
    let row = lines(&run.stdout)
        .into_iter()
        .find(|r| r.contains("Cordon us-east-1"))
        .unwrap_or_else(|| panic!("no cordon row:\n{}", run.stdout));
    assert!(row.contains("Pat Platform") && row.contains(" policy "), "{row}");
    assert!(row.contains("Cordon us-east-1: AWS incident INC-42 (cordoned aws/us-east-1)"), "{row}");
    assert!(row.contains(&cordoned[..12]), "{row}");
}

#[test]
fn history_on_a_shallow_clone_says_where_it_is_cut() {
    let s = history_repo();
    let full = s.idp(&["history", "--repo", STATE, "-o", "json"]);
    full.code(0);
    assert_eq!(full.json()["cut_at"], serde_json::json!([]));
    assert!(!full.stderr.contains("shallow"), "{}", full.stderr);
    let all = history(&s, &[]);

    let url = format!("file://{}", s.path(STATE).display());
    s.git(&["clone", "--quiet", "--depth", "2", &url, "shallow"]);
    let boundary = s.rev("shallow", "HEAD~1");
    let run = s.idp(&["history", "--repo", "shallow", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["cut_at"], serde_json::json!([boundary]), "{doc:#}");
    run.stderr_says(&format!(
        "history is cut at {}: this clone is shallow; `git fetch --unshallow` for the rest",
        &boundary[..12]
    ));
    // The two commits the clone holds, as the full repo shows them; the boundary
    // commit is not taken for one that wrote the whole policy.
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(who(entries), who(&all[..2]));
    assert!(entries.iter().all(|e| e["policy_change"].is_null()), "{doc:#}");
    let table = s.idp(&["history", "--repo", "shallow"]);
    table.code(0).stderr_says("this clone is shallow");

    // A limit reached before the boundary cuts nothing.
    let one = s.idp(&["history", "--repo", "shallow", "-o", "json", "-n", "1"]);
    assert_eq!(one.code(0).json()["cut_at"], serde_json::json!([]));
    assert!(!one.stderr.contains("shallow"), "{}", one.stderr);

    s.git_in("shallow", &["fetch", "--quiet", "--unshallow"]);
    let whole = s.idp(&["history", "--repo", "shallow", "-o", "json"]);
    let doc = whole.code(0).json();
    assert_eq!(doc["cut_at"], serde_json::json!([]));
    assert_eq!(who(doc["entries"].as_array().unwrap()), who(&all));
}

// ---------------------------------------------------------------------------------------
// The local writer lock
// ---------------------------------------------------------------------------------------

#[test]
fn a_held_lock_makes_apply_wait_then_fail_naming_the_holder() {
    let s = Sandbox::with_state_repo();
    let file = s.request("db-a");
    let head = s.head(STATE);
    let lock_path = s.path(&format!("{STATE}/.git/idp.lock"));
    let mut lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&lock_path)
        .expect("open idp.lock");
    lock.lock().expect("lock idp.lock");
    lock.write_all(b"pid 1 on testhost").unwrap();
    lock.flush().unwrap();

    let started = Instant::now();
    let run = s.idp(&["apply", "-f", &file, "--repo", STATE, "--yes"]);
    let waited = started.elapsed();

    run.code(1);
    run.stderr_says("pid 1 on testhost");
    assert!(waited >= Duration::from_secs(9), "gave up after {waited:?}, before the 10 s wait");
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    assert_eq!(s.head(STATE), head);
    s.assert_clean(STATE);

    // Releasing the lock is all it takes: no stale lock file blocks the next writer.
    drop(lock);
    assert!(lock_path.exists(), "the lock file itself stays (it is just a file)");
    let result = s.apply(STATE, &[&file], &[]);
    assert_eq!(statuses(&result), ["created"]);
    assert_eq!(s.rev(STATE, "HEAD^"), head);
}

#[test]
fn a_writer_waits_for_a_lock_released_within_the_wait() {
    let s = Sandbox::with_state_repo();
    let file = s.request("db-a");
    let lock_path = s.path(&format!("{STATE}/.git/idp.lock"));
    let lock =
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).unwrap();
    lock.lock().expect("lock idp.lock");

    let pipeline = s.spawn_idp(&["apply", "-f", &file, "--repo", STATE, "--yes", "-o", "json"]);
    std::thread::sleep(Duration::from_secs(2));
    drop(lock);
    let run = pipeline.finish(Instant::now() + PIPELINE_DEADLINE);

    run.code(0);
    assert_eq!(statuses(&run.json()), ["created"]);
    assert_eq!(s.count(STATE, "HEAD"), 2);
}

// ---------------------------------------------------------------------------------------
// delete and rollback with --push
// ---------------------------------------------------------------------------------------

#[test]
fn delete_and_rollback_with_push_land_on_the_remote() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    s.clone_remote("stale");
    let a = s.request("db-a");
    let b = s.request("db-b");
    s.apply("w1", &[&a], &["--push"]);
    s.apply("w1", &[&b], &["--push"]);
    assert_eq!(s.count(REMOTE, "main"), 3);

    // delete from a clone that has never seen db-a: it plans against the fetched head.
    let run = s.idp(&[
        "delete",
        "mysql",
        "team-alpha/db-a",
        "--repo",
        "stale",
        "--yes",
        "--allow-destroy",
        "--push",
        "-o",
        "json",
    ]);
    run.code(0);
    let deleted = run.json();
    let (delete_commit, _) = landed(&deleted, "main", "origin");
    assert_eq!(s.rev(REMOTE, "main"), delete_commit);
    assert_eq!(s.request_changes(REMOTE, &delete_commit), request_status("D", "team-alpha", "db-a"));
    s.assert_cell_changes(REMOTE, &delete_commit, US_EAST);
    if let Some(members) = s.cell_members(REMOTE, "main", US_EAST, &ABC) {
        assert_eq!(members, ids(&["db-b"]), "{US_EAST} after the delete");
    }
    assert_eq!(s.ls_tree(REMOTE, "main", "placements/"), ["placements/team-alpha/mysql-db-b.yaml"]);
    assert_eq!(s.head("stale"), delete_commit, "the stale clone was fast-forwarded");
    s.assert_clean("stale");

    // rollback (the newest idp commit, the delete) from the other clone, now behind.
    let run = s.idp(&["rollback", "--repo", "w1", "--yes", "--allow-destroy", "--push", "-o", "json"]);
    run.code(0);
    let result = run.json();
    let revert = result["commit"].as_str().unwrap_or_else(|| panic!("no commit: {result:#}")).to_owned();
    assert_eq!(result["landed"]["remote"], "origin", "{result:#}");
    assert_eq!(result["landed"]["branch"], "main", "{result:#}");
    assert_eq!(s.rev(REMOTE, "main"), revert);
    assert_eq!(s.rev(REMOTE, "main^"), delete_commit);
    assert_eq!(s.trailer(REMOTE, &revert, "Idp-Reverts"), [delete_commit.as_str()]);
    assert!(
        s.title(REMOTE, &revert).starts_with("idp: revert delete mysql team-alpha/db-a"),
        "{}",
        s.title(REMOTE, &revert)
    );
    assert_eq!(
        s.ls_tree(REMOTE, "main", "placements/"),
        ["placements/team-alpha/mysql-db-a.yaml", "placements/team-alpha/mysql-db-b.yaml"]
    );
    assert_eq!(s.request_changes(REMOTE, &revert), request_status("A", "team-alpha", "db-a"));
    if let Some(members) = s.cell_members(REMOTE, "main", US_EAST, &ABC) {
        assert_eq!(members, ids(&["db-a", "db-b"]), "{US_EAST} after the rollback");
    }
    assert_eq!(s.head("w1"), revert);
    s.assert_clean("w1");
    s.assert_linear(REMOTE, "main");
    s.assert_fsck(REMOTE);
    s.assert_no_idp_refs(REMOTE);
}

#[test]
fn rollback_with_push_of_a_commit_only_the_remote_has() {
    let s = Sandbox::with_remote();
    s.clone_remote("w1");
    s.clone_remote("stale");
    let a = s.request("db-a");
    let applied = s.apply("w1", &[&a], &["--push"]);
    let (commit, _) = landed(&applied, "main", "origin");

    let run = s.idp(&["rollback", &commit, "--repo", "stale", "--yes", "--allow-destroy", "--push"]);

    run.code(0);
    let revert = s.rev(REMOTE, "main");
    assert_eq!(s.rev(REMOTE, "main^"), commit);
    assert_eq!(s.trailer(REMOTE, &revert, "Idp-Reverts"), [commit]);
    assert!(s.ls_tree(REMOTE, "main", "placements/").is_empty());
}
