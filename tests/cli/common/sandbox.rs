//! The one sandbox of the command-line tests: a temp dir, a cleared environment, the
//! built `idp`, the `git` CLI with a fixed identity and a fixed clock, and the insta
//! filters that hide what differs from run to run (temp paths, commit ids, digests,
//! times). Every test that runs idp or git goes through [`TestEnv`], so a test sees only
//! the files it wrote, the flags it passed and the variables set here.
//!
//! Shared with tests/completions.rs (`#[path = "cli/common/sandbox.rs"]`), which uses a
//! part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

use tempfile::TempDir;

/// The identity of every commit made in a sandbox: by the git CLI, through the
/// environment, and by idp, through the repo config that [`TestEnv::set_identity`]
/// writes (libgit2 reads the config, not `GIT_AUTHOR_*`).
pub const GIT_NAME: &str = "Idp Tester";
pub const GIT_EMAIL: &str = "tester@example.org";
/// `Name <email>`, as git log `%an <%ae>` and idp's failover events write it.
pub const GIT_IDENTITY: &str = "Idp Tester <tester@example.org>";
/// The clock of every commit the git CLI makes here. idp stamps its own commits with
/// the real clock, so their ids and times differ from run to run.
pub const GIT_DATE: &str = "2026-01-02T03:04:05+00:00";

/// What differs from run to run in idp's output, and what takes its place in a
/// snapshot. Applied in order: digests before the hex runs they contain.
pub const SNAPSHOT_FILTERS: &[(&str, &str)] = &[
    // A sandbox's temp dir (`/tmp/idp-cli-AbC123`), wherever the OS keeps temp files.
    (r#"[^\s'"]*idp-cli-[0-9A-Za-z]+"#, "[TEMP]"),
    (r"sha256:[0-9a-f]+", "sha256:[DIGEST]"),
    (r"\b[0-9a-f]{40}\b", "[COMMIT]"),
    // A commit id cut short, as history and status print it.
    (r"\b[0-9a-f]{12}\b", "[SHORT]"),
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "[TIME]"),
    (r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?", "[TIME]"),
];

/// The current insta settings with [`SNAPSHOT_FILTERS`] added.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in SNAPSHOT_FILTERS {
        settings.add_filter(pattern, *replacement);
    }
    settings
}

pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub struct TestEnv {
    root: TempDir,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new().prefix("idp-cli-").tempdir().expect("create temp dir");
        std::fs::create_dir(root.path().join("work")).unwrap();
        std::fs::create_dir(root.path().join("home")).unwrap();
        Self { root }
    }

    /// The temp dir: `work/`, `home/` and whatever else a test puts beside them.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The child's current directory: empty except for what the test writes.
    pub fn work_dir(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// `$HOME` of every child: empty, so no user config reaches idp or git.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// A path under the work dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.work_dir().join(rel)
    }

    /// Writes a file under the work dir and returns its relative path, which is how
    /// idp's messages will name it.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        rel.to_owned()
    }

    /// A file under the work dir.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Copies tests/fixtures/requests/<name> into the work dir as `rel`.
    pub fn fixture_as(&self, name: &str, rel: &str) -> String {
        let bytes = std::fs::read(crate_dir().join("tests/fixtures/requests").join(name))
            .unwrap_or_else(|e| panic!("read fixture {name}: {e}"));
        self.write(rel, bytes)
    }

    /// Copies tests/fixtures/requests/<name> into the work dir under the same name.
    pub fn fixture(&self, name: &str) -> String {
        self.fixture_as(name, name)
    }

    /// Copies examples/<name> of the project into the work dir as `rel`.
    pub fn example_as(&self, name: &str, rel: &str) -> String {
        let bytes = std::fs::read(crate_dir().join("examples").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        self.write(rel, bytes)
    }

    /// Copies examples/<name> of the project into the work dir under the same name.
    pub fn example(&self, name: &str) -> String {
        self.example_as(name, name)
    }

    // --- processes -----------------------------------------------------------------------

    /// `program` in the work dir with the sandbox's environment and nothing else: PATH,
    /// an empty HOME, no system git config, no colour, no prompts, the C locale, UTC, and
    /// the git identity and clock. Every child process of a test starts here.
    pub fn hermetic(&self, program: impl AsRef<OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("GIT_AUTHOR_NAME", GIT_NAME)
            .env("GIT_AUTHOR_EMAIL", GIT_EMAIL)
            .env("GIT_COMMITTER_NAME", GIT_NAME)
            .env("GIT_COMMITTER_EMAIL", GIT_EMAIL)
            .env("GIT_AUTHOR_DATE", GIT_DATE)
            .env("GIT_COMMITTER_DATE", GIT_DATE)
            .current_dir(self.work_dir());
        cmd
    }

    /// The built binary, [`hermetic`](Self::hermetic).
    pub fn std_command(&self) -> std::process::Command {
        self.hermetic(env!("CARGO_BIN_EXE_idp"))
    }

    /// `std_command` without a git identity in the environment (the repos' config may
    /// still hold one): what idp finds on a machine nobody configured.
    pub fn anonymous_command(&self) -> std::process::Command {
        let mut cmd = self.std_command();
        for key in ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"] {
            cmd.env_remove(key);
        }
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    /// idp run with [`anonymous_command`](Self::anonymous_command).
    pub fn idp_anonymous(&self, args: &[&str]) -> Run {
        Run::of(args, &self.anonymous_command().args(args).output().expect("run idp"))
    }

    /// `std_command` with assert_cmd's conveniences (stdin, timeout).
    pub fn command(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.std_command());
        cmd.timeout(std::time::Duration::from_secs(90));
        cmd
    }

    /// idp with `args` and stdin closed, to spawn and wait for as the test needs.
    pub fn idp_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.std_command();
        cmd.args(args).stdin(std::process::Stdio::null());
        cmd
    }

    /// idp with `args` and an empty stdin (a pipe, not a terminal), run to the end.
    pub fn idp(&self, args: &[&str]) -> Run {
        self.idp_stdin(args, "")
    }

    /// idp with `stdin` piped in (a pipe is not a terminal).
    pub fn idp_stdin(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> Run {
        let output = self.command().args(args).write_stdin(stdin.into()).output().expect("run idp");
        Run::of(args, &output)
    }

    /// The git CLI with `args`, [`hermetic`](Self::hermetic), stdin closed.
    pub fn git_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.hermetic("git");
        cmd.args(args).stdin(std::process::Stdio::null());
        cmd
    }

    /// `git ARGS` in the work dir, whatever its outcome.
    pub fn git_output(&self, args: &[&str]) -> Output {
        self.git_command(args).output().expect("run git")
    }

    /// `git ARGS`, which must succeed; its stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let output = self.git_output(args);
        assert!(output.status.success(), "git {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("git stdout is UTF-8")
    }

    /// `git -C REPO ARGS`, which must succeed; its stdout.
    pub fn git_in(&self, repo: &str, args: &[&str]) -> String {
        let mut all = vec!["-C", repo];
        all.extend_from_slice(args);
        self.git(&all)
    }

    // --- state repos ---------------------------------------------------------------------

    /// Writes the test identity into a repo's config, where libgit2, and so idp, reads
    /// the author of its commits.
    pub fn set_identity(&self, repo: &str) {
        self.git_in(repo, &["config", "user.name", GIT_NAME]);
        self.git_in(repo, &["config", "user.email", GIT_EMAIL]);
    }

    /// `idp init REPO`, then the test identity in its config.
    pub fn init_state(&self, repo: &str) {
        self.idp(&["init", repo]).code(0);
        self.set_identity(repo);
    }

    /// A revision of a repo as a full commit id.
    pub fn rev(&self, repo: &str, spec: &str) -> String {
        self.git_in(repo, &["rev-parse", "--verify", spec]).trim().to_owned()
    }

    pub fn head(&self, repo: &str) -> String {
        self.rev(repo, "HEAD")
    }

    /// The commits of `range` (`HEAD`, `main`, `a..b`).
    pub fn count(&self, repo: &str, range: &str) -> usize {
        self.git_in(repo, &["rev-list", "--count", range]).trim().parse().expect("a count")
    }

    /// A commit's subject line.
    pub fn title(&self, repo: &str, commit: &str) -> String {
        self.git_in(repo, &["log", "-1", "--format=%s", commit]).trim_end().to_owned()
    }

    /// The work tree and the index match HEAD: nothing written behind git's back.
    pub fn assert_clean(&self, repo: &str) {
        let status = self.git_in(repo, &["status", "--porcelain", "--untracked-files=all"]);
        assert_eq!(status, "", "{repo}: work tree or index not clean");
    }

    /// `git fsck --strict` finds nothing wrong (dangling objects are not errors).
    pub fn assert_fsck(&self, repo: &str) {
        let output = self.git_output(&["-C", repo, "fsck", "--strict", "--no-dangling", "--no-progress"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.trim().is_empty(),
            "{repo}: git fsck:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// One finished run of idp. Construction already checks that it did not panic.
pub struct Run {
    pub args: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// A finished idp process, checked for panics and kills.
    pub fn of(args: &[&str], output: &Output) -> Self {
        let run = Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8"),
        };
        run.assert_not_crashed();
        run
    }

    /// No panic message, no panic exit code, not killed by a signal.
    pub fn assert_not_crashed(&self) {
        assert!(
            !self.stderr.contains("panicked") && self.code != 101 && self.code != -1,
            "idp {} panicked or was killed (exit {}):\n{}",
            self.args,
            self.code,
            self.stderr
        );
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "idp {}: exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.stdout, self.stderr
        );
        self
    }

    /// Both streams as the user sees them, for a snapshot.
    pub fn human(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }
}
