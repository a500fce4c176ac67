//! Crash safety: `idp apply` of a large batch, and `idp apply --push`, killed with
//! SIGKILL at random moments. After every kill the state repo must be whole: `git fsck`
//! clean, the branch at the old commit or at the complete new one (never a partial
//! commit), `idp verify` passing, and a re-run completing the apply.
//!
//! The default run is bounded for CI (300 requests, 8 kills per test: a debug build
//! applies a few dozen requests a second on a shared 2-core machine). For a soak:
//! `IDP_KILL_ROUNDS=100 IDP_KILL_REQUESTS=2000 IDP_KILL_BIN=target/release/idp
//! cargo test --test cli crash -- --nocapture --test-threads 1`. `IDP_KILL_SEED` replays
//! a failing run (the seed is printed first).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TestEnv;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Soak {
    env: TestEnv,
    rng: fastrand::Rng,
    seed: u64,
    requests: usize,
}

impl Soak {
    fn new() -> Self {
        let seed = env_number("IDP_KILL_SEED", fastrand::u64(..));
        let requests = env_number("IDP_KILL_REQUESTS", 300) as usize;
        let env = TestEnv::new();
        eprintln!("crash test: seed {seed} (IDP_KILL_SEED={seed} replays it), {requests} requests");
        Self { env, rng: fastrand::Rng::with_seed(seed), seed, requests }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.env.work_dir().join(rel)
    }

    /// `batch-<round>/`: `requests` MySQL requests (named for the round, so every
    /// round has work to do) in files of 100 documents.
    fn write_batch(&self, round: u64) -> String {
        let dir = format!("batch-{round}");
        for chunk in 0..self.requests.div_ceil(100) {
            let mut text = String::new();
            for i in chunk * 100..((chunk + 1) * 100).min(self.requests) {
                let cell = if i % 2 == 0 { "cell-us-east" } else { "cell-eu" };
                let tier = if i % 3 == 0 { "critical" } else { "medium" };
                text.push_str(&format!(
                    "---\napiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: r{round}-db-{i}\n  namespace: team-{}\nspec:\n  cell: {cell}\n  tier: {tier}\n  environment: production\n  size: small\n  storageGB: {}\n",
                    i % 10,
                    10 + i
                ));
            }
            self.env.write(&format!("{dir}/part-{chunk:03}.yaml"), text);
        }
        dir
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match std::env::var_os("IDP_KILL_BIN") {
            // A release build for long soaks: same environment, another program.
            Some(bin) => self.env.hermetic(crate::common::crate_dir().join(bin)),
            None => self.env.std_command(),
        };
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    /// Runs idp to completion; (exit code, stderr).
    fn idp(&self, args: &[&str]) -> (i32, String) {
        let output = self.command(args).output().expect("run idp");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{}: idp {} panicked:\n{stderr}", self.seed, args.join(" "));
        (output.status.code().unwrap_or(-1), stderr)
    }

    fn must(&self, args: &[&str]) {
        let (code, stderr) = self.idp(args);
        assert_eq!(code, 0, "seed {}: idp {} failed:\n{stderr}", self.seed, args.join(" "));
    }

    fn git(&self, repo: &str, args: &[&str]) -> String {
        let mut all = vec!["-C", repo];
        all.extend_from_slice(args);
        self.env.git(&all).trim().to_owned()
    }

    fn init_repo(&self, name: &str) {
        self.must(&["init", name]);
        self.env.set_identity(name);
        self.no_auto_gc(name);
    }

    /// The git CLI's `gc --auto` (after fetch, reset, ...) repacks and prunes loose
    /// objects in the background, which `git fsck` then finds missing mid-walk; idp
    /// never runs gc, so the test's own git calls must not either.
    fn no_auto_gc(&self, repo: &str) {
        self.git(repo, &["config", "gc.auto", "0"]);
        self.git(repo, &["config", "gc.autoDetach", "false"]);
    }

    /// Starts `args`, waits `delay`, then SIGKILLs it unless it finished first.
    /// Whether it was killed; a run that finished updates `full`, the duration of a
    /// whole run on this machine right now (other jobs make it vary).
    fn kill_after(&self, args: &[&str], delay: Duration, full: &mut Duration) -> bool {
        let mut child: Child = self.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        while started.elapsed() < delay {
            if child.try_wait().unwrap().is_some() {
                *full = started.elapsed();
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // std's kill() is SIGKILL on Unix: no handler, no cleanup.
        let killed = child.kill().is_ok();
        let status = child.wait().unwrap();
        killed && status.code().is_none()
    }

    /// A kill moment in 0..=1.2 × `full`, half of them in its last fifth, where the
    /// commit and the branch update happen.
    fn moment(&mut self, full: Duration) -> Duration {
        let share = if self.rng.bool() { self.rng.f64() * 1.2 } else { 0.8 + self.rng.f64() * 0.3 };
        full.mul_f64(share)
    }

    /// `git fsck --strict` finds nothing wrong (dangling objects of a killed run are
    /// not errors: nothing refers to them).
    fn assert_fsck(&self, repo: &str, round: u64) {
        let output = self.env.git_output(&["-C", repo, "fsck", "--strict", "--no-dangling", "--no-progress"]);
        assert!(
            output.status.success() && output.stdout.is_empty(),
            "seed {} round {round}: git fsck of {repo}:\n{}{}",
            self.seed,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `rev` holds every request of the round's batch (a complete commit).
    fn holds_batch(&self, repo: &str, rev: &str, round: u64) -> bool {
        let files = self.git(repo, &["ls-tree", "-r", "--name-only", rev, "requests/"]);
        let prefix = format!("-r{round}-db-");
        files.lines().filter(|f| f.contains(&prefix)).count() == self.requests
    }

    /// The branch is at `old`, or one commit on it that holds the whole batch.
    fn assert_old_or_new(&self, repo: &str, branch: &str, old: &str, round: u64) -> bool {
        let now = self.git(repo, &["rev-parse", branch]);
        if now == old {
            return false;
        }
        let parent = self.git(repo, &["rev-parse", &format!("{branch}^")]);
        assert_eq!(parent, old, "seed {} round {round}: {repo} {branch} is not old or old+1", self.seed);
        assert!(self.holds_batch(repo, branch, round), "seed {} round {round}: a partial commit", self.seed);
        true
    }
}

fn rounds() -> u64 {
    env_number("IDP_KILL_ROUNDS", 8)
}

#[test]
fn apply_killed_at_random_moments_leaves_the_state_repo_whole() {
    let mut s = Soak::new();
    s.init_repo("state");
    // How long a full apply of one batch takes here, on a scratch copy.
    s.init_repo("scratch");
    let batch = s.write_batch(0);
    let started = Instant::now();
    s.must(&["apply", "-f", &batch, "--repo", "scratch", "--yes", "-q"]);
    let mut full = started.elapsed();
    eprintln!("crash test: a full apply of {} requests takes {full:?}", s.requests);

    let (mut killed, mut landed) = (0, 0);
    for round in 1..=rounds() {
        let batch = s.write_batch(round);
        let old = s.git("state", &["rev-parse", "HEAD"]);
        let delay = s.moment(full);
        let was_killed = s.kill_after(&["apply", "-f", &batch, "--repo", "state", "--yes", "-q"], delay, &mut full);

        s.assert_fsck("state", round);
        let moved = s.assert_old_or_new("state", "HEAD", &old, round);
        killed += u64::from(was_killed);
        landed += u64::from(was_killed && moved);
        s.must(&["verify", "--repo", "state", "-q"]);
        // A re-run completes the apply (or finds it complete) and leaves a clean checkout.
        s.must(&["apply", "-f", &batch, "--repo", "state", "--yes", "-q"]);
        assert!(s.holds_batch("state", "HEAD", round), "seed {} round {round}: re-run incomplete", s.seed);
        let status = s.git("state", &["status", "--porcelain", "--untracked-files=all"]);
        assert_eq!(status, "", "seed {} round {round}: the work tree does not match HEAD", s.seed);
        s.must(&["verify", "--repo", "state", "-q"]);
        s.assert_fsck("state", round);
        std::fs::remove_dir_all(s.path(&batch)).unwrap();
        // Later rounds start from a small repo again, so every round costs the same.
        let base = s.git("state", &["rev-list", "--max-parents=0", "HEAD"]);
        s.git("state", &["reset", "--quiet", "--hard", &base]);
    }
    eprintln!("crash test: {} rounds, {killed} killed mid-run, {landed} of them after the branch moved", rounds());
}

#[test]
fn apply_push_killed_at_random_moments_leaves_both_repos_whole() {
    let mut s = Soak::new();
    s.init_repo("seed");
    s.env.git(&["clone", "--quiet", "--bare", "seed", "remote.git"]);
    s.env.git(&["clone", "--quiet", "remote.git", "w1"]);
    s.no_auto_gc("remote.git");
    s.no_auto_gc("w1");
    s.env.set_identity("w1");
    let base = s.git("remote.git", &["rev-parse", "main"]);
    let batch = s.write_batch(0);
    let started = Instant::now();
    s.must(&["apply", "-f", &batch, "--repo", "w1", "--yes", "--push", "-q"]);
    let mut full = started.elapsed();
    eprintln!("crash test: a full apply --push of {} requests takes {full:?}", s.requests);

    let (mut killed, mut landed) = (0, 0);
    for round in 1..=rounds() {
        // Both repos back at the base, so every round pushes a batch of the same size.
        s.env.git(&["-C", "remote.git", "update-ref", "refs/heads/main", &base]);
        s.git("w1", &["fetch", "--quiet", "origin"]);
        s.git("w1", &["reset", "--quiet", "--hard", &base]);
        let batch = s.write_batch(round);
        let delay = s.moment(full);
        let args = ["apply", "-f", &batch, "--repo", "w1", "--yes", "--push", "-q"];
        let was_killed = s.kill_after(&args, delay, &mut full);

        s.assert_fsck("remote.git", round);
        s.assert_fsck("w1", round);
        let moved = s.assert_old_or_new("remote.git", "main", &base, round);
        killed += u64::from(was_killed);
        landed += u64::from(was_killed && moved);
        let local = s.git("w1", &["rev-parse", "HEAD"]);
        let remote = s.git("remote.git", &["rev-parse", "main"]);
        assert!(local == base || local == remote, "seed {} round {round}: the clone moved elsewhere", s.seed);
        s.must(&["verify", "--repo", "w1", "-q"]);
        // A re-run lands the batch on the remote (or finds it there).
        s.must(&["apply", "-f", &batch, "--repo", "w1", "--yes", "--push", "-q"]);
        assert!(s.holds_batch("remote.git", "main", round), "seed {} round {round}: re-run incomplete", s.seed);
        assert_eq!(s.git("w1", &["for-each-ref", "refs/idp"]), "", "seed {} round {round}: refs/idp left", s.seed);
        // ...and leaves the clone clean at what it pushed, whatever the kill interrupted.
        assert_eq!(s.git("w1", &["rev-parse", "HEAD"]), s.git("remote.git", &["rev-parse", "main"]));
        let status = s.git("w1", &["status", "--porcelain", "--untracked-files=all"]);
        assert_eq!(status, "", "seed {} round {round}: the clone's work tree does not match HEAD", s.seed);
        s.assert_fsck("remote.git", round);
        std::fs::remove_dir_all(s.path(&batch)).unwrap();
    }
    eprintln!("crash test: {} push rounds, {killed} killed mid-run, {landed} of them after the remote moved", rounds());
    assert!(Path::new(&s.path("remote.git")).exists());
}
