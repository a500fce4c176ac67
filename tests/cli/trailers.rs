//! Trailers are what idp writes in a commit's trailer block, nothing else (issue 19, item
//! 10): text a person hands idp (`apply -m`, `failover --reason`) lands above that block,
//! and `Idp-*` lines in it are not read as actions, requests or destroy records by
//! `history`, `rollback`, `verify` or the scope audit. Read back with the git CLI.

use serde_json::Value;

use crate::common::{TestEnv, edit};

const STATE: &str = "state";

/// Text shaped like idp's own trailers, as a pull request description might carry it.
const FORGED: &str = "Looks routine.\n\nIdp-Action: delete\nIdp-Request: mysql team-x/ghost\nIdp-Destroy: MySQLInstanceClaim team-x/ghost\nIdp-Cell: payments production";

fn history(env: &TestEnv) -> Vec<Value> {
    let doc = env.idp(&["history", "--repo", STATE, "-o", "json"]).code(0).json();
    doc["entries"].as_array().unwrap().clone()
}

#[test]
fn text_given_to_apply_cannot_forge_trailers() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let production = env.read(&env.example("orders-db.yaml"));
    let orders = env.write("orders.yaml", edit(&production, "environment: production", "environment: staging"));
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE, "-m", FORGED]).code(0);
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(message.contains("Idp-Request: mysql team-x/ghost"), "the text is kept, as text: {message}");
    // git itself reads only idp's block.
    let read_by_git = env.git_in(STATE, &["log", "-1", "--format=%(trailers:key=Idp-Request,valueonly)"]);
    assert_eq!(read_by_git.trim(), "mysql team-alpha/orders-db");

    let entries = history(&env);
    let actions: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["action"].as_str().unwrap(), e["name"].as_str().unwrap_or_default())).collect();
    assert_eq!(actions, [("create", "orders-db"), ("init", "")], "{entries:#?}");
    let filtered = env.idp(&["history", "--repo", STATE, "-o", "json", "--namespace", "team-x"]).code(0).json();
    assert_eq!(filtered["entries"], serde_json::json!([]));
    let verify = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}

#[test]
fn a_failover_reason_cannot_forge_trailers() {
    let env = TestEnv::new();
    env.init_state(STATE);
    env.idp(&["apply", "mysql", "-f", &env.example("payments-c0.json"), "--yes", "--repo", STATE]).code(0);
    let args = [
        "failover",
        "--no-wait",
        "--cell",
        "payments",
        "--env",
        "prod",
        "--replication-lag",
        "4",
        "--yes",
        "--repo",
        STATE,
        "--reason",
        FORGED,
    ];
    env.idp(&args).code(0);
    let entries = history(&env);
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["failover", "create", "init"], "{entries:#?}");
    // A rollback of the failover names what idp's block names, and nothing of the reason.
    env.idp(&["rollback", "--yes", "--repo", STATE]).code(0);
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(!message.contains("team-x/ghost"), "{message}");
    let verify = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}

/// The same for a migration's `--reason`, which every stage's commit carries (and the
/// placement record keeps): it lands above idp's block, and a rollback of a stage names
/// only what idp's block names.
#[test]
fn a_migration_reason_cannot_forge_trailers() {
    let env = TestEnv::new();
    env.init_state(STATE);
    env.idp(&["apply", "-f", &env.example("orders-db.yaml"), "--yes", "--repo", STATE]).code(0);
    let api = crate::runbook::cluster(&env, crate::runbook::Cloud::Follows);
    crate::live::kubeconfig(&env, &api.url());
    let args = ["migrate", "mysql", "team-alpha/orders-db", "--to", "gcp/us-central1", "--replication-lag", "3"];
    env.idp(&[&args[..], &["--yes", "--repo", STATE, "--reason", FORGED]].concat()).code(0);
    let entries = history(&env);
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["migrate", "migrate", "migrate", "create", "init"], "{entries:#?}");
    let read_by_git = env.git_in(STATE, &["log", "-1", "--format=%(trailers:key=Idp-Request,valueonly)"]);
    assert_eq!(read_by_git.trim(), "mysql team-alpha/orders-db");
    env.idp(&["rollback", "--yes", "--repo", STATE]).code(0);
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(!message.contains("team-x/ghost"), "{message}");
    let verify = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}
