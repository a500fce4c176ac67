//! Object identity: two requests never render the same Kubernetes object.
//! idp derives object names from a request's namespace and name, joining
//! parts with `-`, which names may contain too; plan and apply refuse a
//! request whose objects would meet another request's, naming both and the
//! object, and write nothing. No new database's name ends in `-secondary` or
//! `-replication` (the suffixes of its derived claims): such a name is refused
//! where it is written, and a database placed before that rule keeps its name.
//! (`verify`'s whole-repo check has its own test.)

use serde_json::Value;

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

fn plan(env: &TestEnv, kind: Option<&str>, file: &str) -> Run {
    let mut args = vec!["plan"];
    args.extend(kind);
    args.extend(["-f", file, "--repo", STATE, "-o", "json"]);
    env.idp(&args)
}

fn refused(env: &TestEnv, run: &Run, message: &str) {
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::plan::name_collision", "{doc:#}");
    assert_eq!(doc["error"]["message"], message, "{doc:#}");
    env.assert_clean(STATE);
}

/// The placement record a request placed before the naming rule has: the record of a
/// look-alike placed in a scratch repo, renamed, committed by hand. Applying the
/// request then finds it placed, and renders it as that record says.
fn placed_before(env: &TestEnv, kind: &str, namespace: &str, name: &str, request: &str) {
    let scratch = format!("scratch/{namespace}/{name}");
    env.init_state(&scratch);
    let (named, renamed) = match kind {
        "mysql" => (format!("\"{name}\""), "\"look-alike\"".to_owned()),
        _ => (format!("  name: {name}\n"), "  name: look-alike\n".to_owned()),
    };
    let look_alike = env.write(&format!("{scratch}.request"), edit(&env.read(request), &named, &renamed));
    let mut args = vec!["apply"];
    if kind == "mysql" {
        args.push("mysql");
    }
    args.extend(["-f", &look_alike, "--yes", "--repo", &scratch, "-o", "json"]);
    env.idp(&args).code(0);
    let record = env.read(&format!("{scratch}/placements/{namespace}/{kind}-look-alike.yaml"));
    let record = edit(&record, "  name: look-alike\n", &format!("  name: {name}\n"));
    let path = format!("placements/{namespace}/{kind}-{name}.yaml");
    env.write(&format!("{STATE}/{path}"), record);
    env.git_in(STATE, &["add", "--", &path]);
    env.git_in(STATE, &["commit", "--quiet", "-m", &format!("{kind} {namespace}/{name}, placed by an older idp")]);
}

#[test]
fn a_new_database_named_like_another_ones_secondary_claim_is_refused_where_its_name_is_written() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    let head = env.head(STATE);
    let twin = database(&env, "team-z", "orders-secondary");
    for run in [plan(&env, Some("mysql"), &twin), apply(&env, Some("mysql"), &twin)] {
        run.code(1);
        assert_eq!(run.json()["error"]["code"], "idp::request::invalid");
        let message = format!(
            "{twin}:2:11: name `orders-secondary` ends in `-secondary`: idp names a database's secondary claim \
             `<name>-secondary` and its replication claim `<name>-replication`, so a new database may not end so"
        );
        let help = "choose a name that does not end in -secondary or -replication; requests placed before this rule keep their names";
        assert_eq!(run.issues(), [(message.clone(), Some(help.to_owned()))]);
        run.stderr_says(&message);
    }
    assert_eq!(env.head(STATE), head, "nothing was committed");
    env.assert_clean(STATE);
    // Alone in its namespace, too: the rule is about the name, not the neighbours.
    let run = apply(&env, Some("mysql"), &database(&env, "team-y", "orders-replication"));
    run.code(1);
    assert!(run.issues()[0].0.contains("name `orders-replication` ends in `-replication`"), "{:?}", run.issues());
    assert_eq!(env.head(STATE), head);
}

#[test]
fn a_database_placed_before_the_rule_keeps_its_name_and_still_meets_its_twin_refused() {
    let env = state();
    let legacy = database(&env, "team-z", "orders-secondary");
    placed_before(&env, "mysql", "team-z", "orders-secondary", &legacy);
    let created = apply(&env, Some("mysql"), &legacy);
    created.code(0);
    assert_eq!(created.json()["results"][0]["sticky"], true);
    let again = plan(&env, Some("mysql"), &legacy);
    again.code(0);
    assert_eq!(again.json()["results"][0]["changes"], Value::Array(Vec::new()), "it re-plans as it is");

    // orders with its secondary would take the claim orders-secondary.
    let head = env.head(STATE);
    refused(
        &env,
        &apply(&env, Some("mysql"), &database(&env, "team-z", "orders")),
        "mysql team-z/orders and mysql team-z/orders-secondary would both render MySQLInstanceClaim team-z/orders-secondary",
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");
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
    // Another namespace's orders, and names that do not end in a reserved suffix.
    apply(&env, Some("mysql"), &database(&env, "team-y", "orders-db")).code(0);
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders-second")).code(0);
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders-secondary-db")).code(0);
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
