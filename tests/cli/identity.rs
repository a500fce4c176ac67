//! Object identity: two requests never render the same Kubernetes object.
//! idp derives object names from a request's namespace and name, joining
//! parts with `-`, which names may contain too; plan and apply refuse a
//! request whose objects would meet another request's, naming both and the
//! object, and write nothing. (`verify`'s whole-repo check has its own test.)

use crate::common::{Run, TestEnv, edit};

const STATE: &str = "state";

fn state() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

/// payments-c0.json (C0: a secondary on another cloud) renamed.
fn database(env: &TestEnv, namespace: &str, name: &str) -> String {
    let text = edit(&env.read(&env.example("payments-c0.json")), "\"payments-db\"", &format!("\"{name}\""));
    let text = edit(&text, "\"team-payments\"", &format!("\"{namespace}\""));
    env.write(&format!("{namespace}/{name}.json"), text)
}

/// payments-app.yaml (with a public host and a secondary) renamed, naming no database
/// (identity is about names; these apps are placed on their own).
fn app(env: &TestEnv, namespace: &str, name: &str) -> String {
    let text = edit(&env.read(&env.example("payments-app.yaml")), "name: checkout", &format!("name: {name}"));
    let text = edit(&text, "  database: payments-db\n", "");
    let text = edit(&text, "namespace: team-payments", &format!("namespace: {namespace}"));
    env.write(&format!("{namespace}/{name}.yaml"), text)
}

fn apply(env: &TestEnv, kind: Option<&str>, file: &str) -> Run {
    let mut args = vec!["apply"];
    args.extend(kind);
    args.extend(["-f", file, "--yes", "--repo", STATE, "-o", "json"]);
    env.idp(&args)
}

fn refused(env: &TestEnv, run: &Run, message: &str) {
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::plan::name_collision", "{doc:#}");
    assert_eq!(doc["error"]["message"], message, "{doc:#}");
    env.assert_clean(STATE);
}

#[test]
fn a_database_named_like_another_ones_secondary_claim_is_refused_either_way_round() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    let head = env.head(STATE);
    let twin = database(&env, "team-z", "orders-secondary");
    refused(
        &env,
        &apply(&env, Some("mysql"), &twin),
        "mysql team-z/orders-secondary and mysql team-z/orders would both render MySQLInstanceClaim team-z/orders-secondary",
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");

    // The other order: orders-secondary first, then orders with its secondary.
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders-secondary")).code(0);
    let run = env.idp(&["plan", "mysql", "-f", &database(&env, "team-z", "orders"), "--repo", STATE, "-o", "json"]);
    refused(
        &env,
        &run,
        "mysql team-z/orders and mysql team-z/orders-secondary would both render MySQLInstanceClaim team-z/orders-secondary",
    );
}

#[test]
fn apps_whose_namespace_and_name_join_alike_are_refused_in_the_repo_and_in_one_plan() {
    let env = state();
    apply(&env, None, &app(&env, "team-a", "web-x")).code(0);
    let head = env.head(STATE);
    refused(
        &env,
        &apply(&env, None, &app(&env, "team-a-web", "x")),
        "app team-a-web/x and app team-a/web-x would both render Application argocd/team-a-web-x-primary",
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");

    let env = state();
    let (one, two) = (app(&env, "team-a", "web-x"), app(&env, "team-a-web", "x"));
    let run = env.idp(&["apply", "-f", &one, "-f", &two, "--yes", "--repo", STATE, "-o", "json"]);
    refused(
        &env,
        &run,
        "app team-a/web-x and app team-a-web/x would both render Application argocd/team-a-web-x-primary",
    );
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", "HEAD"]).trim(), "1", "only idp init's commit");
}

#[test]
fn names_that_only_look_alike_are_fine() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    // Another namespace, and a name that is not `orders` + `-secondary`.
    apply(&env, Some("mysql"), &database(&env, "team-y", "orders-secondary")).code(0);
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders-second")).code(0);
    apply(&env, None, &app(&env, "team-a", "web-x")).code(0);
    apply(&env, None, &app(&env, "team-b", "web-x")).code(0);
}

#[test]
fn verify_finds_two_files_that_hold_one_object_even_when_written_by_hand() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    apply(&env, None, &app(&env, "team-a", "web-x")).code(0);
    let clean = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    clean.code(0);

    // A claim written by hand into another folder, named like orders' secondary.
    let secondary = env.read(&format!("{STATE}/platform/team-z/mysql-orders/secondary.yaml"));
    env.write(&format!("{STATE}/platform/team-z/by-hand.yaml"), &secondary);
    env.git_in(STATE, &["add", "--", "platform/team-z/by-hand.yaml"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", "a claim by hand"]);

    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    let says = |file: &str, text: &str| {
        findings.iter().any(|f| f["file"] == file && f["message"].as_str().is_some_and(|m| m.contains(text)))
    };
    assert!(
        says(
            "platform/team-z/by-hand.yaml",
            "holds MySQLInstanceClaim team-z/orders-secondary on the management cluster, as does platform/team-z/mysql-orders/secondary.yaml (mysql team-z/orders)"
        ),
        "{findings:#?}"
    );
    assert!(
        says("platform/team-z/mysql-orders/secondary.yaml", "as does platform/team-z/by-hand.yaml"),
        "{findings:#?}"
    );
    // The app's two sides hold the same Deployment, on two runtime clusters: no finding.
    assert!(!findings.iter().any(|f| f["file"].as_str().is_some_and(|p| p.starts_with("workloads/"))), "{findings:#?}");
}
