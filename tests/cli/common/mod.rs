//! `TestEnv`: runs the built `idp` in a temp directory with a cleared environment, so a
//! test sees only the files it wrote and the flags it passed. Also the checks every run
//! shares (no panic, one JSON document, located issues).

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The embedded default policy's version; the digest is computed from policy/policy.yaml.
pub const POLICY_VERSION: &str = "2026.11.0";

/// The "no state repo" note that every command prints outside a state repo.
pub const NO_STATE_NOTE: &str =
    "note: no state repo here (use --repo, IDP_REPO or `idp init`): planning against an empty state";

/// The help of every forbidden-field error.
pub const PLACEMENT_HELP: &str =
    "the platform decides placement; remove this field (describe needs with cell, tier, environment and ha)";

/// The help of every name and namespace error.
pub const DNS_HELP: &str =
    "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

/// A valid Kubernetes-form request. Tests edit single lines of it, so the line numbers
/// below are the ones their expected messages name.
pub const REQUEST: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: orders-db
  namespace: team-alpha
spec:
  cell: cell-us-east
  tier: medium
  environment: production
  size: large
  storageGB: 100
  ha: true
";
// Line numbers in REQUEST:   1 apiVersion  2 kind  3 metadata  4 name  5 namespace  6 spec
//                            7 cell  8 tier  9 environment  10 size  11 storageGB  12 ha

/// REQUEST with the exact text `from` replaced by `to` (which must occur exactly once).
pub fn request_with(from: &str, to: &str) -> String {
    edit(REQUEST, from, to)
}

/// `text` with `from` replaced by `to`; panics unless `from` occurs exactly once, so a
/// drifting fixture fails loudly instead of testing the unedited text.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur exactly once in:\n{text}");
    text.replacen(from, to, 1)
}

pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The default policy file as shipped (and embedded in the binary).
pub fn default_policy_text() -> String {
    std::fs::read_to_string(crate_dir().join("policy/policy.yaml")).expect("read policy/policy.yaml")
}

/// `sha256:<hex>` of some bytes, computed here rather than trusted from idp.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub struct TestEnv {
    root: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new().prefix("idp-cli-").tempdir().expect("create temp dir");
        std::fs::create_dir(root.path().join("work")).unwrap();
        std::fs::create_dir(root.path().join("home")).unwrap();
        Self { root }
    }

    /// The child's current directory: empty except for what the test writes.
    pub fn work_dir(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// Writes a file under the work dir and returns its relative path, which is how
    /// idp's messages will name it.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.work_dir().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        rel.to_owned()
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

    /// The built binary with a cleared environment, run in the work dir.
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_idp"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("home"))
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(self.work_dir());
        cmd
    }

    /// `std_command` with assert_cmd's conveniences (stdin, timeout).
    pub fn command(&self) -> Command {
        let mut cmd = Command::from_std(self.std_command());
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    pub fn idp(&self, args: &[&str]) -> Run {
        Run::from_output(args, self.command().args(args).output().expect("run idp"))
    }

    pub fn idp_stdin(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> Run {
        let output = self.command().args(args).write_stdin(stdin.into()).output().expect("run idp");
        Run::from_output(args, output)
    }

    /// `git ARGS` in the work dir with the same hermetic environment as idp (no user or
    /// system config, no prompts, C locale).
    pub fn git_output(&self, args: &[&str]) -> Output {
        std::process::Command::new("git")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .current_dir(self.work_dir())
            .args(args)
            .output()
            .expect("run git")
    }

    /// `git ARGS`, which must succeed; its stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let output = self.git_output(args);
        assert!(output.status.success(), "git {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("git stdout is UTF-8")
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
    fn from_output(args: &[&str], output: Output) -> Self {
        let run = Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        };
        assert!(
            !run.stderr.contains("panicked") && run.code != 101 && run.code != -1,
            "idp {} panicked or was killed (exit {}):\n{}",
            run.args,
            run.code,
            run.stderr
        );
        run
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

    /// stdout as exactly one JSON document (serde_json rejects trailing content).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("idp {}: stdout is not exactly one JSON document: {e}\n{}", self.args, self.stdout)
        })
    }

    /// `error.issues` of a JSON failure as (message, help) pairs.
    pub fn issues(&self) -> Vec<(String, Option<String>)> {
        let doc = self.json();
        let issues = doc["error"]["issues"]
            .as_array()
            .unwrap_or_else(|| panic!("idp {}: no error.issues array in {doc:#}", self.args));
        issues
            .iter()
            .map(|i| {
                let message = i["message"].as_str().expect("issue message is a string").to_owned();
                let help = i["help"].as_str().map(str::to_owned);
                (message, help)
            })
            .collect()
    }

    /// Asserts that stderr says `needle`, whatever the report's line wrapping.
    pub fn stderr_says(&self, needle: &str) -> &Self {
        assert!(
            unwrapped(&self.stderr).contains(&unwrapped(needle)),
            "idp {}: stderr does not say\n  {needle}\n--- stderr\n{}",
            self.args,
            self.stderr
        );
        self
    }
}

/// Text with miette's wrapping undone: the `|` gutter of continued messages and all
/// whitespace removed, so a phrase matches however the report broke its lines.
pub fn unwrapped(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.trim_start();
            line.strip_prefix("| ").unwrap_or(line)
        })
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Runs `idp plan -f FILE -o json` on `contents` written as `req.yaml`, and checks that it
/// fails with exactly one issue, `req.yaml:LOCATION: MESSAGE` with `help`, reported on
/// both stdout (JSON) and stderr (the report).
pub fn assert_single_issue(contents: &str, location: &str, message: &str, help: Option<&str>) {
    let env = TestEnv::new();
    let file = env.write("req.yaml", contents);
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(1);
    let expected = format!("{file}:{location}: {message}");
    assert_eq!(run.issues(), vec![(expected.clone(), help.map(str::to_owned))], "for request:\n{contents}");
    run.stderr_says(&expected);
    if let Some(help) = help {
        run.stderr_says(&format!("help: {help}"));
    }
}
