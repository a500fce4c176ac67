//! What the command-line tests share: the sandbox ([`TestEnv`], in sandbox.rs), the
//! request fixtures and the expected messages many modules check, and the checks of a
//! run's JSON and report.

mod sandbox;

use serde_json::Value;

pub use sandbox::*;

/// Snapshots a run as its user sees it (stdout, then stderr) under the shared filters
/// ([`snapshot_settings`]), as `name`, described by its command line.
macro_rules! assert_human_snapshot {
    ($name:expr, $run:expr) => {{
        let run: &$crate::common::Run = &$run;
        let mut settings = $crate::common::snapshot_settings();
        settings.set_description(format!("idp {}", run.args));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!($name, run.human()));
    }};
}
pub(crate) use assert_human_snapshot;

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

/// The default policy file as shipped (and embedded in the binary).
pub fn default_policy_text() -> String {
    std::fs::read_to_string(crate_dir().join("policy/policy.yaml")).expect("read policy/policy.yaml")
}

/// `sha256:<hex>` of some bytes, computed here rather than trusted from idp.
pub fn digest(bytes: &[u8]) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The non-empty lines of a text (git's output, say).
pub fn lines(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// Paths as owned strings, sorted, to compare with a sorted listing.
pub fn sorted(paths: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    v.sort();
    v
}

/// Every document of a YAML stream, read by serde-saphyr (not idp's reader).
pub fn yaml_documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("not a valid YAML stream: {e}\n{text}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

impl Run {
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
