//! Changes that destroy stateful data need an explicit word: removing a
//! database's or a replication's claim (delete, rollback of a create, an
//! apply that drops a secondary) or moving one to another cloud. `--yes`
//! alone is refused with nothing written; `--allow-destroy` lands it and the
//! commit records each object (`Idp-Destroy`), read back with the git CLI.
//!
//! The databases here are in staging: production's are deletion-protected
//! by the default policy, which no word overrides (tests/cli/protection.rs).
//!
//! What this cannot prove offline: that Crossplane deletes the cloud
//! resource when its claim goes (that is its documented behaviour with the
//! default deletion policy; no cluster runs here). The terminal path (typing
//! NAMESPACE/NAME at the prompt) needs a terminal and is not driven here.

use crate::common::{Run, TestEnv, edit};

const STATE: &str = "state";

/// The example orders-db, in staging.
fn staging_orders_db(env: &TestEnv) -> String {
    edit(&env.read(&env.example("orders-db.yaml")), "environment: production", "environment: staging")
}

fn with_orders_db() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    let orders = env.write("orders-db.yaml", staging_orders_db(&env));
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    env
}

fn refused(env: &TestEnv, run: &Run, objects: &[&str]) {
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::destroy::refused", "{doc:#}");
    let message = doc["error"]["message"].as_str().unwrap();
    for object in objects {
        assert!(message.contains(object), "{object} in {message}");
    }
    env.assert_clean(STATE);
}

fn destroy_trailers(env: &TestEnv) -> Vec<String> {
    env.git_in(STATE, &["log", "-1", "--format=%(trailers:key=Idp-Destroy,valueonly)"])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn deleting_a_database_needs_allow_destroy_and_records_what_it_destroyed() {
    let env = with_orders_db();
    let head = env.head(STATE);
    let delete = ["delete", "mysql", "team-alpha/orders-db", "--yes", "--repo", STATE, "-o", "json"];
    refused(&env, &env.idp(&delete), &["delete MySQLInstanceClaim team-alpha/orders-db (mysql team-alpha/orders-db)"]);
    assert_eq!(env.head(STATE), head, "nothing was committed");

    let run = env.idp(&[&delete[..], &["--allow-destroy"]].concat());
    run.code(0);
    assert_eq!(run.json()["landed"]["destroyed"][0]["object"], "MySQLInstanceClaim team-alpha/orders-db");
    assert_eq!(destroy_trailers(&env), ["MySQLInstanceClaim team-alpha/orders-db"]);
}

#[test]
fn rolling_back_the_commit_that_created_a_database_is_a_delete() {
    let env = with_orders_db();
    let created = env.head(STATE);
    let rollback = ["rollback", &created, "--yes", "--repo", STATE, "-o", "json"];
    refused(&env, &env.idp(&rollback), &["MySQLInstanceClaim team-alpha/orders-db"]);
    env.idp(&[&rollback[..], &["--allow-destroy"]].concat()).code(0);
    assert_eq!(destroy_trailers(&env), ["MySQLInstanceClaim team-alpha/orders-db"]);
    assert_eq!(env.git_in(STATE, &["ls-tree", "-r", "--name-only", "HEAD", "platform/"]), "");
}

#[test]
fn an_apply_that_drops_a_secondary_shows_it_in_the_plan_and_needs_the_word() {
    let env = TestEnv::new();
    env.init_state(STATE);
    // orders-db with a drProfile gets a secondary on another cloud and a replication.
    let plain = staging_orders_db(&env);
    let with_dr = env.write("orders-dr.yaml", edit(&plain, "ha: true", "ha: true\n  drProfile: gold"));
    env.idp(&["apply", "-f", &with_dr, "--yes", "--repo", STATE]).code(0);
    // Without it, the primary stays on aws/us-east-1; the secondary and the replication go.
    let smaller = env.write("orders-db.yaml", plain);
    let secondary = "delete MySQLInstanceClaim team-alpha/orders-db-secondary";
    let replication = "delete ReplicationClaim team-alpha/orders-db-replication";

    let plan = env.idp(&["plan", "-f", &smaller, "--reschedule", "--repo", STATE, "-o", "json"]);
    plan.code(0);
    let doc = plan.json();
    let objects: Vec<&str> =
        doc["destroys"].as_array().unwrap().iter().map(|d| d["object"].as_str().unwrap()).collect();
    assert_eq!(
        objects,
        ["MySQLInstanceClaim team-alpha/orders-db-secondary", "ReplicationClaim team-alpha/orders-db-replication"]
    );
    let human = env.idp(&["plan", "-f", &smaller, "--reschedule", "--repo", STATE, "--color", "never"]);
    human.code(0);
    assert!(human.stdout.contains("This change destroys data"), "{}", human.stdout);
    assert!(
        human.stdout.contains("  - MySQLInstanceClaim team-alpha/orders-db-secondary will be destroyed"),
        "{}",
        human.stdout
    );

    let apply = ["apply", "-f", &smaller, "--reschedule", "--yes", "--repo", STATE, "-o", "json"];
    refused(&env, &env.idp(&apply), &[secondary, replication]);
    env.idp(&[&apply[..], &["--allow-destroy"]].concat()).code(0);
}

#[test]
fn deleting_an_app_destroys_no_data_and_needs_only_yes() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let payments = env.example("payments-c0.json");
    let app = env.example("payments-app.yaml");
    env.idp(&["apply", "mysql", "-f", &payments, "--yes", "--repo", STATE]).code(0);
    env.idp(&["apply", "-f", &app, "--yes", "--repo", STATE]).code(0);
    let run = env.idp(&["delete", "app", "team-payments/checkout", "--yes", "--repo", STATE, "-o", "json"]);
    run.code(0);
    assert_eq!(run.json()["landed"]["destroyed"], serde_json::json!([]));
    assert!(destroy_trailers(&env).is_empty());
}
