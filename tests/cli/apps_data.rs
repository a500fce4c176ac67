//! Apps name their data: an app follows the databases it names in `spec.database`
//! (MySQL requests of its own namespace) and no other; it is refused rather than placed
//! elsewhere when they are missing or apart; `verify` and `failover` hold the link; and
//! apps placed before they named their data keep their placement and manifests until
//! their request changes. Results are read back with the `git` CLI.

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, edit, yaml_documents};

const STATE: &str = "state";

/// A MySQL request in the Kubernetes form, with `extra` lines appended to its spec.
fn database(namespace: &str, name: &str, cell: &str, environment: &str, tier: &str, extra: &str) -> String {
    format!(
        "apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: {name}
  namespace: {namespace}
spec:
  cell: {cell}
  tier: {tier}
  environment: {environment}
  size: small
  storageGB: 20
  ha: true
{extra}"
    )
}

/// An App request, with `extra` lines appended to its spec.
fn app(namespace: &str, name: &str, cell: &str, environment: &str, tier: &str, extra: &str) -> String {
    format!(
        "apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: {name}
  namespace: {namespace}
spec:
  cell: {cell}
  tier: {tier}
  environment: {environment}
  image: registry.example.org/{namespace}/{name}:1.0.0
{extra}"
    )
}

fn state() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

/// `idp apply ARGS --repo state --yes -o json`.
fn apply(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["apply"];
    all.extend_from_slice(args);
    all.extend(["--repo", STATE, "--yes", "-o", "json"]);
    env.idp(&all)
}

/// An apply that must succeed; its results.
fn applied(env: &TestEnv, args: &[&str]) -> Vec<Value> {
    apply(env, args).code(0).json()["results"].as_array().expect("results").clone()
}

/// A refused run: exit 1, nothing committed, and the JSON error (code, message, help).
fn refused(env: &TestEnv, run: &Run, head: &str) -> (String, String, String) {
    run.code(1);
    assert_eq!(env.head(STATE), head, "idp {}: a refusal must not commit", run.args);
    env.assert_clean(STATE);
    let error = &run.json()["error"];
    let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
    (text("code"), text("message"), text("help"))
}

/// A file of the state repo at HEAD, as git shows it.
fn show(env: &TestEnv, path: &str) -> String {
    env.git_in(STATE, &["show", &format!("HEAD:{path}")])
}

/// `envFrom` of the app container of a side's Deployment at HEAD (null when it has none).
fn env_from(env: &TestEnv, namespace: &str, name: &str, side: &str) -> Value {
    let docs = yaml_documents(&show(env, &format!("workloads/{namespace}/{name}/{side}/deployment.yaml")));
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").expect("a Deployment");
    deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"].clone()
}

/// A database's connection secret in `envFrom`: required, as its PushSecret copies it to
/// the runtime cluster (a pod started without it would never read it).
fn secret_ref(name: &str) -> Value {
    json!({"secretRef": {"name": name, "optional": false}})
}

/// `provider/region` of a placement object (null: none).
fn at(placement: &Value) -> Option<String> {
    placement
        .is_object()
        .then(|| format!("{}/{}", placement["provider"].as_str().unwrap(), placement["region"].as_str().unwrap()))
}

/// The findings of `idp verify -o json` as (severity, file, message), and its exit code.
fn verify(env: &TestEnv) -> (i32, Vec<(String, String, String)>) {
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    let findings = run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_owned();
            (text("severity"), text("file"), text("message"))
        })
        .collect();
    (run.code, findings)
}

// ---------------------------------------------------------------------------------------
// The happy path
// ---------------------------------------------------------------------------------------

#[test]
fn an_app_follows_the_database_it_names_and_each_side_gets_that_sides_secret() {
    let env = state();
    let db = env.example("payments-c0.json");
    let checkout = env.example("payments-app.yaml");
    let db = applied(&env, &["mysql", "-f", &db]).remove(0);
    let app = applied(&env, &["-f", &checkout]).remove(0);

    assert_eq!(app["reason"]["follows"], "mysql team-payments/payments-db");
    assert_eq!((at(&app["placement"]), at(&app["secondary"])), (at(&db["placement"]), at(&db["secondary"])));
    assert_eq!(at(&app["secondary"]).as_deref(), Some("gcp/us-central1"));
    // The stored request says what it uses; each side is wired to that side's secret.
    let stored = yaml_documents(&show(&env, "requests/team-payments/app-checkout.yaml")).remove(0);
    assert_eq!(stored["spec"]["database"], "payments-db");
    assert_eq!(env_from(&env, "team-payments", "checkout", "primary"), json!([secret_ref("payments-db-conn")]));
    assert_eq!(
        env_from(&env, "team-payments", "checkout", "secondary"),
        json!([secret_ref("payments-db-secondary-conn")])
    );
    let record = yaml_documents(&show(&env, "placements/team-payments/app-checkout.yaml")).remove(0);
    assert_eq!(record["reason"]["follows"], "mysql team-payments/payments-db");

    // The plan explains the link.
    let run = env.idp(&["plan", "-f", &checkout, "--repo", STATE]);
    run.code(0);
    assert!(
        run.stdout.contains("follows    mysql team-payments/payments-db (placed with its data, primary and secondary)"),
        "{}",
        run.stdout
    );
    assert_eq!(verify(&env), (0, Vec::new()));
}

#[test]
fn an_app_names_several_databases_placed_together_and_gets_each_one_under_its_prefix() {
    let env = state();
    let payments = env.write("payments.yaml", database("team-payments", "payments-db", "payments", "prod", "C0", ""));
    let reports = env.write("reports.yaml", database("team-payments", "reports-db", "payments", "prod", "C0", ""));
    let both = "  database: [payments-db, reports-db]\n";
    let checkout = env.write("checkout.yaml", app("team-payments", "checkout", "payments", "prod", "C0", both));
    let results = applied(&env, &["-f", &checkout, "-f", &payments, "-f", &reports]);
    let (app, db) = (&results[0], &results[1]);
    assert_eq!(app["reason"]["follows"], "mysql team-payments/payments-db, mysql team-payments/reports-db");
    assert_eq!((at(&app["placement"]), at(&app["secondary"])), (at(&db["placement"]), at(&db["secondary"])));
    // The first as it is, the second under its name: naming it renamed nothing of the first.
    let prefixed = |secret: &str| json!({"prefix": "REPORTS_DB_", "secretRef": {"name": secret, "optional": false}});
    assert_eq!(
        env_from(&env, "team-payments", "checkout", "primary"),
        json!([secret_ref("payments-db-conn"), prefixed("reports-db-conn")])
    );
    assert_eq!(
        env_from(&env, "team-payments", "checkout", "secondary"),
        json!([secret_ref("payments-db-secondary-conn"), prefixed("reports-db-secondary-conn")])
    );
    let stored = yaml_documents(&show(&env, "requests/team-payments/app-checkout.yaml")).remove(0);
    assert_eq!(stored["spec"]["database"], json!(["payments-db", "reports-db"]));
    let entity = yaml_documents(&show(&env, "catalog/team-payments/app-checkout.yaml")).remove(0);
    assert_eq!(
        entity["spec"]["dependsOn"],
        json!(["resource:team-payments/mysql-payments-db", "resource:team-payments/mysql-reports-db"])
    );
    assert_eq!(verify(&env), (0, Vec::new()));
}

#[test]
fn databases_placed_apart_or_in_another_cell_are_refused_saying_which() {
    let env = state();
    let payments = env.example("payments-c0.json");
    applied(&env, &["mysql", "-f", &payments]);
    // A medium database has no secondary: it is not where payments-db is.
    let ledger = env.write("ledger.yaml", database("team-payments", "ledger-db", "payments", "prod", "medium", ""));
    let eu = env.write("eu.yaml", database("team-payments", "eu-db", "cell-eu", "dev", "medium", ""));
    applied(&env, &["-f", &ledger, "-f", &eu]);
    let head = env.head(STATE);

    let both = "  database: [payments-db, ledger-db]\n";
    let checkout = env.write("checkout.yaml", app("team-payments", "checkout", "payments", "prod", "C0", both));
    let (code, message, help) = refused(&env, &apply(&env, &["-f", &checkout]), &head);
    assert_eq!(code, "idp::plan::data_apart");
    assert_eq!(
        message,
        "app team-payments/checkout names databases that are placed apart: mysql team-payments/payments-db on aws/us-east-1 (secondary gcp/us-central1); mysql team-payments/ledger-db on aws/us-east-1 (no secondary)"
    );
    assert!(help.contains("name only databases placed together"), "{help}");

    let elsewhere =
        env.write("elsewhere.yaml", app("team-payments", "checkout", "payments", "prod", "C0", "  database: eu-db\n"));
    let (code, message, _) = refused(&env, &apply(&env, &["-f", &elsewhere]), &head);
    assert_eq!(code, "idp::plan::data_elsewhere");
    assert_eq!(
        message,
        "app team-payments/checkout in cell payments/production names mysql team-payments/eu-db, which is in cell cell-eu/dev"
    );
}

// ---------------------------------------------------------------------------------------
// What a new user ran into
// ---------------------------------------------------------------------------------------

#[test]
fn an_app_of_another_team_neither_follows_nor_may_name_its_database() {
    let env = state();
    let ledger = env.write("ledger.yaml", database("team-payments", "ledger-db", "payments", "prod", "C0", ""));
    applied(&env, &["-f", &ledger]);

    // It names nothing: it uses nothing, whatever else is in the cell.
    let reports = env.write("reports.yaml", app("team-other", "reports", "payments", "prod", "C1", ""));
    let result = applied(&env, &["-f", &reports]).remove(0);
    assert_eq!(result["reason"]["follows"], Value::Null);
    for side in ["primary", "secondary"] {
        assert_eq!(env_from(&env, "team-other", "reports", side), Value::Null, "{side}: no secret wired");
    }
    let run = env.idp(&["plan", "-f", &reports, "--repo", STATE]);
    run.code(0);
    assert!(run.stdout.contains("follows    nothing: the app names no database (spec.database)"), "{}", run.stdout);

    // It may not name another namespace's database: refused where it says so.
    let head = env.head(STATE);
    let named = env.write(
        "named.yaml",
        app("team-other", "reports", "payments", "prod", "C1", "  database: team-payments/ledger-db\n"),
    );
    let run = apply(&env, &["-f", &named]);
    refused(&env, &run, &head);
    assert_eq!(
        run.issues(),
        [(
            "named.yaml:11:13: database `team-payments/ledger-db` is in another namespace: an app may use only databases of its own namespace (team-other)".to_owned(),
            Some("request a database of your own in team-other and name it (`database: <name>`), or ask the team of team-payments for an API in front of its data".to_owned())
        )]
    );
    run.stderr_says("named.yaml:11:13: database `team-payments/ledger-db` is in another namespace");
}

#[test]
fn an_app_applied_before_its_database_is_refused_then_follows_it_in_one_invocation() {
    let env = state();
    let checkout = env.example("payments-app.yaml");
    let head = env.head(STATE);
    let (code, message, help) = refused(&env, &apply(&env, &["-f", &checkout]), &head);
    assert_eq!(code, "idp::plan::data_missing");
    assert_eq!(message, "app team-payments/checkout names team-payments/payments-db, which is not placed");
    assert!(help.contains("apply the database first, or in the same invocation"), "{help}");

    // In one invocation, the app first on the command line: it follows the database.
    let db = env.write("payments-db.yaml", database("team-payments", "payments-db", "payments", "prod", "C0", ""));
    let results = applied(&env, &["-f", &checkout, "-f", &db]);
    assert_eq!(results[0]["reason"]["follows"], "mysql team-payments/payments-db");
    assert_eq!(at(&results[0]["placement"]), at(&results[1]["placement"]));
    assert_eq!(at(&results[0]["secondary"]), at(&results[1]["secondary"]));
}

/// A medium database of team-a in cell-us-east/production and its app, then the
/// database given a secondary (drProfile gold, --reschedule): the app is left without
/// one. Returns the database's secondary.
fn database_gains_a_secondary(env: &TestEnv) -> String {
    let db = env.write("db.yaml", database("team-a", "db", "cell-us-east", "production", "medium", ""));
    let web = env.write("web.yaml", app("team-a", "web", "cell-us-east", "production", "medium", "  database: db\n"));
    let results = applied(env, &["-f", &db, "-f", &web]);
    assert_eq!((&results[0]["secondary"], &results[1]["secondary"]), (&Value::Null, &Value::Null));
    assert_eq!(verify(env), (0, Vec::new()));

    let gold =
        env.write("db.yaml", database("team-a", "db", "cell-us-east", "production", "medium", "  drProfile: gold\n"));
    let db = applied(env, &["-f", &gold, "--reschedule"]).remove(0);
    at(&db["secondary"]).expect("the database has a secondary now")
}

#[test]
fn verify_reports_an_app_left_behind_by_its_database_until_it_is_rescheduled() {
    let env = state();
    let secondary = database_gains_a_secondary(&env);
    let (code, findings) = verify(&env);
    assert_eq!(code, 1);
    assert_eq!(
        findings,
        [(
            "error".to_owned(),
            "placements/team-a/app-web.yaml".to_owned(),
            format!(
                "app team-a/web no longer sits with mysql team-a/db: mysql team-a/db has a secondary on {secondary}, the app has none; re-apply the app with --reschedule so it follows its database again (or, if the database moved by mistake, roll that back)"
            )
        )]
    );

    // Re-applying the app says the same, and never moves it silently.
    let head = env.head(STATE);
    let (code, message, help) = refused(&env, &apply(&env, &["-f", "web.yaml"]), &head);
    assert_eq!(code, "idp::plan::sticky_conflict");
    assert!(
        message.ends_with(&format!(
            "it no longer sits with the data it names: mysql team-a/db has a secondary on {secondary}, the app has none"
        )),
        "{message}"
    );
    assert!(help.contains("--reschedule"), "{help}");

    let app = applied(&env, &["-f", "web.yaml", "--reschedule"]).remove(0);
    assert_eq!(at(&app["secondary"]), Some(secondary));
    assert_eq!(verify(&env), (0, Vec::new()));
}

#[test]
fn failover_refuses_naming_the_app_left_behind_by_its_database() {
    let env = state();
    let secondary = database_gains_a_secondary(&env);
    let head = env.head(STATE);
    let run = env.idp(&[
        "failover",
        "--no-wait",
        "--cell",
        "cell-us-east",
        "--env",
        "production",
        "--force",
        "--repo",
        STATE,
        "--yes",
        "-o",
        "json",
    ]);
    let (code, message, help) = refused(&env, &run, &head);
    assert_eq!(code, "idp::failover::no_standby");
    assert!(
        message.contains(&format!(
            "app team-a/web → mysql team-a/db: mysql team-a/db has a secondary on {secondary}, the app has none; re-apply the app with --reschedule so it follows its database"
        )),
        "{message}"
    );
    assert!(!message.contains("mysql team-a/db: no"), "the database has its standby: {message}");
    assert!(help.contains("--reschedule"), "{help}");

    // Fixed as it says: the cell moves, app and database together.
    applied(&env, &["-f", "web.yaml", "--reschedule"]);
    env.idp(&[
        "failover",
        "--no-wait",
        "--cell",
        "cell-us-east",
        "--env",
        "production",
        "--force",
        "--repo",
        STATE,
        "--yes",
    ])
    .code(0);
}

// ---------------------------------------------------------------------------------------
// Apps placed before apps named their data
// ---------------------------------------------------------------------------------------

/// The seed app as idp placed it before apps named their data: the same placement
/// record and manifests, and a stored request without `database`.
fn legacy_seed(env: &TestEnv) -> String {
    let db = env.example("payments-c0.json");
    applied(env, &["mysql", "-f", &db]);
    let checkout = env.example("payments-app.yaml");
    applied(env, &["-f", &checkout]);
    let stored = format!("{STATE}/requests/team-payments/app-checkout.yaml");
    env.write(&stored, edit(&env.read(&stored), "  database: payments-db\n", ""));
    env.git_in(STATE, &["commit", "--quiet", "-am", "the app as stored before apps named their data"]);
    env.write("legacy.yaml", edit(&env.read(&checkout), "  database: payments-db\n", ""))
}

#[test]
fn an_app_that_followed_implicitly_is_kept_byte_for_byte_until_its_request_changes() {
    let env = state();
    let legacy = legacy_seed(&env);
    let warning = "follows mysql team-payments/payments-db without naming it (placed before apps named their data): add `database: payments-db` to its spec and re-apply it";

    // verify re-renders it as it is (no file differs) and warns.
    let (code, findings) = verify(&env);
    assert_eq!(code, 0);
    assert_eq!(
        findings,
        [(
            "warning".to_owned(),
            "placements/team-payments/app-checkout.yaml".to_owned(),
            format!("app team-payments/checkout {warning}")
        )]
    );
    let strict = env.idp(&["verify", "--strict", "--repo", STATE, "-o", "json"]);
    strict.code(1);

    // Applied as stored: nothing changes, and the plan warns.
    let head = env.head(STATE);
    let result = applied(&env, &["-f", &legacy]).remove(0);
    assert_eq!((result["status"].as_str(), result["changes"].clone()), (Some("exists"), json!([])));
    assert_eq!(result["warnings"], json!([warning]));
    assert_eq!(result["reason"]["follows"], "mysql team-payments/payments-db");
    assert_eq!(env.head(STATE), head);

    // Changed without naming it: refused, saying how to keep or drop the link.
    let changed = env.write("changed.yaml", edit(&env.read(&legacy), "checkout:1.8.3", "checkout:1.9.0"));
    let (code, message, help) = refused(&env, &apply(&env, &["-f", &changed]), &head);
    assert_eq!(code, "idp::plan::implicit_data");
    assert_eq!(
        message,
        "app team-payments/checkout follows mysql team-payments/payments-db without naming it, and its changed request names no database"
    );
    assert!(help.contains("add `database: payments-db` to its spec"), "{help}");
    assert!(help.contains("--reschedule"), "{help}");

    // Named: the same placement, the new image, and nothing to warn about.
    let named =
        env.write("named.yaml", edit(&env.read(&env.example("payments-app.yaml")), "checkout:1.8.3", "checkout:1.9.0"));
    let result = applied(&env, &["-f", &named]).remove(0);
    assert_eq!((result["sticky"].as_bool(), result["warnings"].clone()), (Some(true), json!([])));
    let mut paths = crate::common::lines(&env.git_in(STATE, &["show", "--name-only", "--format=", "HEAD"]));
    paths.sort();
    assert_eq!(
        paths,
        [
            "requests/team-payments/app-checkout.yaml",
            "workloads/team-payments/checkout/primary/deployment.yaml",
            "workloads/team-payments/checkout/secondary/deployment.yaml",
        ]
    );
    assert_eq!(env_from(&env, "team-payments", "checkout", "primary"), json!([secret_ref("payments-db-conn")]));
    assert_eq!(verify(&env), (0, Vec::new()));
}

#[test]
fn an_app_that_followed_implicitly_can_let_go_of_its_database_with_reschedule() {
    let env = state();
    let legacy = legacy_seed(&env);
    let changed = env.write("changed.yaml", edit(&env.read(&legacy), "checkout:1.8.3", "checkout:1.9.0"));
    let result = applied(&env, &["-f", &changed, "--reschedule"]).remove(0);
    assert_eq!(result["rescheduled"], true);
    assert_eq!(result["reason"]["follows"], Value::Null);
    assert_eq!(
        result["warnings"],
        json!(["no longer follows mysql team-payments/payments-db: it names no database (spec.database)"])
    );
    for side in ["primary", "secondary"] {
        assert_eq!(env_from(&env, "team-payments", "checkout", side), Value::Null, "{side}");
    }
    assert_eq!(verify(&env), (0, Vec::new()));
}
