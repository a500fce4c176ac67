//! idp's own records read back from the state repo (placement records, cell
//! member files): one policy for a record idp cannot read, whichever command
//! reads it. It is an error that names the file, and nothing is written;
//! never a record silently skipped (a budget would be under-counted).

use crate::common::{Run, TestEnv, default_policy_text, edit};

const STATE: &str = "state";
const ORDERS_MEMBER: &str = "cells/cell-us-east/production/members/team-alpha/mysql-orders-db.yaml";
const ORDERS_RECORD: &str = "placements/team-alpha/mysql-orders-db.yaml";

/// A state repo with a cell budget and orders-db applied (1223 USD a month).
fn with_orders_db() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    let policy =
        edit(&default_policy_text(), "budgets: {}", "budgets:\n  cells: { cell-us-east: { monthlyUSD: 2000 } }");
    commit_file(&env, "policy/policy.yaml", &policy, "policy: cell budget");
    let orders = env.example("orders-db.yaml");
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    env
}

fn git(env: &TestEnv, args: &[&str]) -> String {
    env.git_in(STATE, args)
}

fn commit_file(env: &TestEnv, rel: &str, contents: &str, message: &str) {
    env.write(&format!("{STATE}/{rel}"), contents);
    git(env, &["add", "--", rel]);
    git(env, &["commit", "--quiet", "-m", message]);
}

/// (error code, message) of a JSON failure.
fn error_of(run: &Run) -> (String, String) {
    let doc = run.json();
    (doc["error"]["code"].as_str().unwrap_or_default().to_owned(), doc["error"]["message"].as_str().unwrap().to_owned())
}

#[test]
fn a_corrupt_member_file_stops_a_budgeted_plan_instead_of_being_left_out_of_the_total() {
    let env = with_orders_db();
    commit_file(&env, ORDERS_MEMBER, "kind: [unterminated\n", "break the member file by hand");
    let before = env.head(STATE);
    // 151.15 USD fits the 2000 budget only if orders-db's 1223 is forgotten.
    let cheap = env.write(
        "cheap.yaml",
        edit(
            &edit(&env.read(&env.example("orders-db.yaml")), "orders-db", "cheap-db"),
            "size: large\n  storageGB: 100\n  ha: true",
            "size: small\n  storageGB: 10\n  ha: false",
        ),
    );
    for command in [&["plan"][..], &["apply", "--yes"]] {
        let run = env.idp(&[command, &["-f", &cheap, "--repo", STATE, "-o", "json"]].concat());
        run.code(1);
        let (code, message) = error_of(&run);
        assert_eq!(code, "idp::state::record", "{message}");
        assert!(
            message.starts_with(&format!("{ORDERS_MEMBER} in the state repo is not a record idp can read")),
            "{message}"
        );
    }
    assert_eq!(env.head(STATE), before, "nothing was committed");
}

#[test]
fn delete_and_status_refuse_a_corrupt_placement_record_and_name_it() {
    let env = with_orders_db();
    commit_file(&env, ORDERS_RECORD, "apiVersion: 7\n", "break the placement record by hand");
    let before = env.head(STATE);
    for args in
        [&["delete", "mysql", "team-alpha/orders-db", "--yes"][..], &["status", "mysql", "team-alpha/orders-db"]]
    {
        let run = env.idp(&[args, &["--repo", STATE, "-o", "json"]].concat());
        run.code(1);
        let (code, message) = error_of(&run);
        assert_eq!(code, "idp::state::record", "idp {args:?}: {message}");
        assert!(message.starts_with(ORDERS_RECORD), "idp {args:?}: {message}");
    }
    assert_eq!(env.head(STATE), before, "delete wrote nothing");
    assert!(git(&env, &["ls-files", "--", "platform/team-alpha/mysql-orders-db"]).contains("primary.yaml"));
}

#[test]
fn verify_reports_a_corrupt_placement_record_as_a_finding_naming_it() {
    let env = with_orders_db();
    commit_file(&env, ORDERS_RECORD, "\u{0}\u{1}not yaml", "break the placement record by hand");
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    assert!(
        findings.iter().any(|f| f["file"] == ORDERS_RECORD
            && f["message"].as_str().is_some_and(|m| m.contains("is not a record idp can read"))),
        "{findings:#?}"
    );
}
