//! idp never commits what the cluster would refuse: every claim `plan`, `apply` and
//! `failover` would write is checked against the XRDs shipped in `manifests/crossplane/`
//! (schema and CEL rules, with the claim at HEAD as `oldSelf`), and `verify` checks the
//! committed ones. Results are read back with the git CLI.
//!
//! What these tests cannot prove offline: that a real API server admits what idp accepts.
//! They run no cluster, so the admission chain (webhooks, admission policies), defaulting
//! and pruning as the API server does them, validation ratcheting, CEL cost limits and
//! Kubernetes' own CEL libraries are idp's reading of them (src/xrd/), not the server's.

use serde_json::Value;

use crate::common::{REQUEST, Run, TestEnv, crate_dir, edit, request_with};

const STATE: &str = "state";
const PRIMARY: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml";

/// The JSON error of a failed run: (code, message, help).
fn error(run: &Run) -> (String, String, String) {
    let doc = run.json();
    let field = |name: &str| doc["error"][name].as_str().unwrap_or_default().to_owned();
    (field("code"), field("message"), field("help"))
}

/// A state repo with REQUEST (orders-db, 100 GB on aws/us-east-1) applied.
fn placed() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    apply(&env, REQUEST, &[]).code(0);
    env
}

fn apply(env: &TestEnv, request: &str, extra: &[&str]) -> Run {
    let file = env.write("req.yaml", request);
    let mut args = vec!["apply", "-f", &file, "--repo", STATE, "--yes", "-o", "json"];
    args.extend_from_slice(extra);
    env.idp(&args)
}

fn show(env: &TestEnv, spec: &str) -> String {
    env.git_in(STATE, &["show", spec])
}

#[test]
fn shrinking_storage_is_refused_and_nothing_is_written() {
    let env = placed();
    let head = env.head(STATE);
    let smaller = request_with("storageGB: 100", "storageGB: 50");
    let file = env.write("smaller.yaml", &smaller);
    for command in [&["plan"][..], &["apply", "--yes"]] {
        let mut args = command.to_vec();
        args.extend(["-f", &file, "--repo", STATE, "-o", "json"]);
        let run = env.idp(&args);
        run.code(1);
        let (code, message, help) = error(&run);
        assert_eq!(code, "idp::claim::refused");
        assert_eq!(
            message,
            format!(
                "mysql team-alpha/orders-db: the cluster would refuse {PRIMARY}: spec.parameters.storageGB: \
                 storageGB cannot shrink (stored: 100, now: 50) (rule `self >= oldSelf`)"
            ),
            "{command:?}"
        );
        assert_eq!(
            help,
            "no cloud can shrink a database's disk in place: keep storageGB as it is or grow it. Nothing was written"
        );
        run.stderr_says("storageGB cannot shrink");
    }
    assert_eq!(env.head(STATE), head, "nothing committed");
    assert!(show(&env, &format!("HEAD:{PRIMARY}")).contains("storageGB: 100"));
    env.assert_clean(STATE);
}

#[test]
fn storage_grows_and_never_shrinks_back() {
    let env = placed();
    let grown = apply(&env, &request_with("storageGB: 100", "storageGB: 200"), &[]);
    grown.code(0);
    assert_eq!(grown.json()["commit"].as_str(), Some(env.head(STATE).as_str()));
    assert!(show(&env, &format!("HEAD:{PRIMARY}")).contains("storageGB: 200"));
    let head = env.head(STATE);
    // Back to the size it was created with is a shrink of the disk it has now.
    let back = apply(&env, REQUEST, &[]);
    back.code(1);
    assert!(error(&back).1.contains("storageGB cannot shrink (stored: 200, now: 100)"), "{}", back.stdout);
    assert_eq!(env.head(STATE), head);
}

/// critical, ha false, cell-eu: oci/eu-frankfurt-1 (cost wins). With ha the placement no
/// longer fits, and `--reschedule` would move it to gcp/europe-west1 under the same claim
/// name: the old database deleted, an empty one created.
#[test]
fn reschedule_across_clouds_is_refused() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let analytics = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: analytics-db
  namespace: team-beta
spec:
  cell: cell-eu
  tier: critical
  environment: dev
  size: small
  storageGB: 20
  ha: false
";
    let placed = apply(&env, analytics, &[]);
    placed.code(0);
    assert_eq!(placed.json()["results"][0]["placement"]["provider"], "oci");
    let head = env.head(STATE);
    let run = apply(&env, &edit(analytics, "ha: false", "ha: true"), &["--reschedule"]);
    run.code(1);
    let (code, message, help) = error(&run);
    assert_eq!(code, "idp::claim::refused");
    let file = "platform/team-beta/mysql-analytics-db/cell-eu.dev.primary.yaml";
    assert!(
        message.starts_with(&format!("mysql team-beta/analytics-db: the cluster would refuse {file}: ")),
        "{message}"
    );
    for expected in [
        "spec.parameters.provider: provider is immutable; fail over or re-place instead (stored: \"oci\", now: \"gcp\") (rule `self == oldSelf`)",
        "spec.parameters.region: region is immutable; fail over or re-place instead (stored: \"eu-frankfurt-1\", now: \"europe-west1\") (rule `self == oldSelf`)",
    ] {
        assert!(message.contains(expected), "{expected}\nnot in\n{message}");
    }
    for phrase in
        ["replace the database with a new, empty one", "`idp migrate mysql NAMESPACE/NAME --to PROVIDER/REGION`"]
    {
        assert!(help.contains(phrase), "{phrase} not in {help}");
    }
    assert_eq!(env.head(STATE), head, "nothing committed");
    assert!(show(&env, &format!("HEAD:{file}")).contains("provider: \"oci\""));
    env.assert_clean(STATE);
}

/// The embedded claim template with one more parameter, which the XRD does not declare:
/// the API server would drop it silently, so the setting it stands for would never apply.
fn override_with_undeclared_field() -> String {
    let template = std::fs::read_to_string(crate_dir().join("templates/data/claim.yaml.j2")).unwrap();
    edit(
        &template,
        "    writeFence: {{ write_fence | tojson }}\n",
        "    writeFence: {{ write_fence | tojson }}\n    backupRetentionDays: 7\n",
    )
}

fn commit_override(env: &TestEnv) -> String {
    env.write(&format!("{STATE}/templates/mysql/claim.yaml.j2"), override_with_undeclared_field());
    env.git_in(STATE, &["add", "templates"]);
    env.git_in(STATE, &["commit", "-q", "-m", "templates: retention on every claim"]);
    env.head(STATE)
}

#[test]
fn a_template_override_that_renders_an_invalid_claim_is_refused() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let head = commit_override(&env);
    let run = apply(&env, REQUEST, &[]);
    run.code(1);
    let (code, message, help) = error(&run);
    assert_eq!(code, "idp::claim::refused");
    assert_eq!(
        message,
        format!(
            "mysql team-alpha/orders-db: the cluster would refuse {PRIMARY}: spec.parameters.backupRetentionDays: \
             not declared by the XRD: the API server would drop it without a word (a template bug)"
        )
    );
    assert!(help.contains("the template override under templates/"), "{help}");
    assert_eq!(env.head(STATE), head, "nothing committed");
    env.assert_clean(STATE);
}

/// Failover re-renders every claim of the cell (fence flipped, replication turned round):
/// the override in force then is held to the same check.
#[test]
fn failover_refuses_claims_an_override_makes_invalid() {
    let env = TestEnv::new();
    env.init_state(STATE);
    apply(&env, &format!("{REQUEST}  drProfile: silver\n"), &[]).code(0);
    let head = commit_override(&env);
    let run = env.idp(&[
        "failover",
        "--no-wait",
        "--cell",
        "cell-us-east",
        "--env",
        "production",
        "--replication-lag",
        "0",
        "--repo",
        STATE,
        "--yes",
        "-o",
        "json",
    ]);
    run.code(1);
    let (code, message, _) = error(&run);
    assert_eq!(code, "idp::claim::refused");
    assert!(message.contains("spec.parameters.backupRetentionDays: not declared by the XRD"), "{message}");
    assert_eq!(env.head(STATE), head, "nothing committed");
}

#[test]
fn verify_reports_committed_claims_the_cluster_would_refuse() {
    let env = placed();
    let claim = show(&env, &format!("HEAD:{PRIMARY}"));
    env.write(&format!("{STATE}/{PRIMARY}"), edit(&claim, "size: \"large\"", "size: \"huge\""));
    env.git_in(STATE, &["commit", "-q", "-a", "-m", "hand edit"]);
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let findings: Vec<Value> = run.json()["findings"].as_array().unwrap().clone();
    let refused: Vec<&str> = findings
        .iter()
        .filter(|f| f["file"] == PRIMARY)
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains("would refuse"))
        .collect();
    assert_eq!(
        refused,
        ["MySQLInstanceClaim orders-db: the cluster would refuse it: spec.parameters.size: must be one of \
             \"small\", \"medium\", \"large\", \"xlarge\" (found \"huge\")"]
    );
}
