//! Deletion protection: the policy protects production databases (an environment's
//! `deletionProtection`, or a tier's that forces it), idp renders it into both claims
//! of a request, and removing a protected database takes two recorded commits:
//! `idp delete --unprotect` (the claims with protection off, nothing else), then, once
//! Argo CD has synced it, `idp delete --allow-destroy`. Until the first has landed,
//! every command that would delete or replace a protected claim is refused, whatever
//! word it is given. Results are read back with the git CLI and serde-saphyr.
//!
//! What this cannot prove offline: that the providers refuse to delete a protected
//! database (that is the clouds' documented behaviour; tests/manifests.rs checks that
//! the Compositions put the claim's value on the providers' fields), nor that Argo CD
//! has synced the unprotect commit before the delete: idp cannot see the cluster.

use serde_json::Value;

use crate::common::{Run, TestEnv, assert_human_snapshot, default_policy_text, edit, lines, yaml_documents};

const STATE: &str = "state";

const ORDERS: &str = "team-alpha/orders-db";
const ORDERS_CLAIM: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml";
const PAYMENTS: &str = "team-payments/payments-db";
const PAYMENTS_PRIMARY: &str = "platform/team-payments/mysql-payments-db/payments.production.primary.yaml";
const PAYMENTS_SECONDARY: &str = "platform/team-payments/mysql-payments-db/payments.production.secondary.yaml";
const ANALYTICS_CLAIM: &str = "platform/team-beta/mysql-analytics-db/cell-eu.dev.primary.yaml";

/// A state repo with `examples` applied, one commit each.
fn with(examples: &[&str]) -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    for example in examples {
        let file = env.example(example);
        let kind: &[&str] = if example.ends_with(".json") { &["mysql"] } else { &[] };
        env.idp(&[&["apply"], kind, &["-f", &file, "--yes", "--repo", STATE]].concat()).code(0);
    }
    env
}

/// `spec.parameters.deletionProtection` of the claim at `path` in the state repo's `rev`.
fn protection(env: &TestEnv, rev: &str, path: &str) -> Value {
    let docs = yaml_documents(&env.git_in(STATE, &["show", &format!("{rev}:{path}")]));
    assert_eq!(docs.len(), 1, "{path}");
    docs[0]["spec"]["parameters"]["deletionProtection"].clone()
}

/// A trailer's values in HEAD's message, as git parses them.
fn trailer(env: &TestEnv, key: &str) -> Vec<String> {
    lines(&env.git_in(STATE, &["log", "-1", &format!("--format=%(trailers:key={key},valueonly)")]))
}

/// The paths HEAD changed, as `git show --stat` lists them.
fn stat_paths(env: &TestEnv) -> Vec<String> {
    let stat = env.git_in(STATE, &["show", "--stat=200", "--format=", "HEAD"]);
    let mut paths: Vec<String> =
        stat.lines().filter(|l| l.contains('|')).map(|l| l.split('|').next().unwrap().trim().to_owned()).collect();
    paths.sort();
    paths
}

/// A refusal of a protected destroy: exit 1, its code, the objects and the way out
/// named, and nothing written.
fn refused_as_protected(env: &TestEnv, run: &Run, head: &str, objects: &[&str], request: &str) {
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::destroy::protected", "{doc:#}");
    let message = doc["error"]["message"].as_str().unwrap();
    for object in objects {
        assert!(message.contains(object), "{object} in {message}");
    }
    let help = doc["error"]["help"].as_str().unwrap();
    assert!(help.contains(&format!("`idp delete mysql {request} --unprotect`")), "{help}");
    assert!(help.contains("wait until Argo CD has synced"), "{help}");
    assert!(help.contains(&format!("`idp delete mysql {request} --allow-destroy`")), "{help}");
    assert_eq!(env.head(STATE), head, "nothing was committed");
    env.assert_clean(STATE);
}

#[test]
fn production_claims_are_protected_on_both_sides_and_dev_claims_are_not() {
    let env = with(&["orders-db.yaml", "payments-c0.json", "analytics-db.yaml"]);
    assert_eq!(protection(&env, "HEAD", ORDERS_CLAIM), Value::Bool(true), "production, medium");
    assert_eq!(protection(&env, "HEAD", PAYMENTS_PRIMARY), Value::Bool(true), "production (prod), C0 primary");
    assert_eq!(protection(&env, "HEAD", PAYMENTS_SECONDARY), Value::Bool(true), "its secondary");
    assert_eq!(protection(&env, "HEAD", ANALYTICS_CLAIM), Value::Bool(false), "dev");

    let show = env.idp(&["policy", "show", "--repo", STATE, "-o", "json"]).code(0).json();
    let environments = &show["policy"]["environments"];
    assert_eq!(environments["production"]["deletionProtection"], true);
    assert_eq!(
        (&environments["dev"]["deletionProtection"], &environments["staging"]["deletionProtection"]),
        (&Value::Bool(false), &Value::Bool(false))
    );
}

#[test]
fn a_tier_can_force_protection_in_any_environment() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let policy = edit(&default_policy_text(), "  critical:\n", "  critical:\n    deletionProtection: true\n");
    env.write("state/policy/policy.yaml", policy);
    env.git_in(STATE, &["commit", "--quiet", "-am", "policy: protect tier critical everywhere"]);
    let shown = env.idp(&["policy", "show", "--repo", STATE, "--color", "never"]).code(0).stdout.clone();
    assert!(shown.contains("protected     databases in environments production; tiers critical"), "{shown}");

    // analytics-db is a dev database of tier critical.
    let analytics = env.example("analytics-db.yaml");
    env.idp(&["apply", "-f", &analytics, "--yes", "--repo", STATE]).code(0);
    assert_eq!(protection(&env, "HEAD", ANALYTICS_CLAIM), Value::Bool(true));
    let head = env.head(STATE);
    let delete =
        ["delete", "mysql", "team-beta/analytics-db", "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"];
    refused_as_protected(
        &env,
        &env.idp(&delete),
        &head,
        &["delete MySQLInstanceClaim team-beta/analytics-db"],
        "team-beta/analytics-db",
    );

    // A tier cannot turn an environment's protection off.
    let off = edit(&default_policy_text(), "  critical:\n", "  critical:\n    deletionProtection: false\n");
    let file = env.write("off.yaml", off);
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    run.stderr_says("tier critical sets deletionProtection: false, which turns nothing off");
}

#[test]
fn deleting_a_protected_database_is_refused_even_with_allow_destroy() {
    let env = with(&["orders-db.yaml"]);
    let head = env.head(STATE);
    for args in [
        &["delete", "mysql", ORDERS, "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"][..],
        &["delete", "mysql", ORDERS, "--yes", "--repo", STATE, "-o", "json"][..],
    ] {
        refused_as_protected(&env, &env.idp(args), &head, &["delete MySQLInstanceClaim team-alpha/orders-db"], ORDERS);
    }
    let run = env.idp(&["delete", "mysql", ORDERS, "--yes", "--allow-destroy", "--repo", STATE, "--color", "never"]);
    run.code(1);
    assert_human_snapshot!("protected_delete_refused", run);
}

#[test]
fn unprotect_commits_only_the_claims_then_delete_with_allow_destroy_lands() {
    let env = with(&["payments-c0.json"]);
    let created = env.head(STATE);
    let primary = "MySQLInstanceClaim team-payments/payments-db";
    let secondary = "MySQLInstanceClaim team-payments/payments-db-secondary";

    let run = env.idp(&["delete", "mysql", PAYMENTS, "--unprotect", "--yes", "--repo", STATE, "-o", "json"]);
    run.code(0);
    let doc = run.json();
    let unprotected = env.head(STATE);
    assert_ne!(unprotected, created);
    assert_eq!(doc["commit"], unprotected.as_str());
    assert_eq!(doc["unprotected"], serde_json::json!([primary, secondary]));
    assert_eq!(env.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), created, "one commit");

    // The commit: its subject, its trailers, exactly the two claims, one line each.
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert_eq!(message.lines().next(), Some("idp: unprotect mysql team-payments/payments-db"), "{message}");
    assert_eq!(trailer(&env, "Idp-Unprotect"), [primary, secondary]);
    assert_eq!(trailer(&env, "Idp-Action"), ["unprotect"]);
    assert_eq!(trailer(&env, "Idp-Request"), ["mysql team-payments/payments-db"]);
    assert!(trailer(&env, "Idp-Destroy").is_empty());
    assert_eq!(stat_paths(&env), [PAYMENTS_PRIMARY, PAYMENTS_SECONDARY]);
    let diff = env.git_in(STATE, &["show", "--format=", "--unified=0", "HEAD"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(
        changed,
        ["-    deletionProtection: true", "+    deletionProtection: false"].repeat(2),
        "nothing but protection changes:\n{diff}"
    );
    assert_eq!(protection(&env, "HEAD", PAYMENTS_PRIMARY), Value::Bool(false));
    assert_eq!(protection(&env, "HEAD", PAYMENTS_SECONDARY), Value::Bool(false));
    env.assert_clean(STATE);

    // Again: nothing is protected, nothing is written, and it says so.
    let again = env.idp(&["delete", "mysql", PAYMENTS, "--unprotect", "--yes", "--repo", STATE, "-o", "json"]);
    again.code(0);
    assert_eq!((&again.json()["commit"], &again.json()["unprotected"]), (&Value::Null, &serde_json::json!([])));
    assert_eq!(env.head(STATE), unprotected);
    let human = env.idp(&["delete", "mysql", PAYMENTS, "--unprotect", "--yes", "--repo", STATE]);
    assert!(
        human.code(0).stdout.contains("mysql team-payments/payments-db is not deletion-protected: nothing written")
    );

    // verify accepts the lifted protection, with a warning.
    let verify = env.idp(&["verify", "--repo", STATE, "-o", "json"]).code(0).json();
    let findings = verify["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{verify:#}");
    for finding in findings {
        assert_eq!(finding["severity"], "warning", "{finding:#}");
        assert!(finding["message"].as_str().unwrap().contains("deletion protection is off"), "{finding:#}");
    }

    // The second commit: an ordinary delete with the explicit word.
    let delete = ["delete", "mysql", PAYMENTS, "--yes", "--repo", STATE, "-o", "json"];
    let run = env.idp(&delete);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "idp::destroy::refused");
    let run = env.idp(&[&delete[..], &["--allow-destroy"]].concat());
    run.code(0);
    assert_eq!(env.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), unprotected);
    let destroyed = [primary, secondary, "ReplicationClaim team-payments/payments-db-replication"];
    let mut trailers = trailer(&env, "Idp-Destroy");
    trailers.sort();
    assert_eq!(trailers, destroyed);
    assert!(run.json()["landed"]["destroyed"].as_array().unwrap().iter().all(|d| d["protected"] == false));
    // Only the namespace's manifest stays: Argo CD never deletes a namespace.
    assert_eq!(
        env.git_in(STATE, &["ls-tree", "-r", "--name-only", "HEAD", "platform/"]),
        "platform/team-payments/namespace.yaml\n"
    );
    env.assert_clean(STATE);
}

#[test]
fn human_output_of_unprotect() {
    let env = with(&["orders-db.yaml"]);
    let run = env.idp(&["delete", "mysql", ORDERS, "--unprotect", "--yes", "--repo", STATE, "--color", "never"]);
    run.code(0);
    assert_human_snapshot!("unprotect", run);
}

#[test]
fn rolling_back_the_create_commit_of_a_protected_database_is_refused() {
    let env = with(&["orders-db.yaml"]);
    let created = env.head(STATE);
    let rollback = ["rollback", &created, "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"];
    refused_as_protected(
        &env,
        &env.idp(&rollback),
        &created,
        &["delete MySQLInstanceClaim team-alpha/orders-db"],
        ORDERS,
    );
}

#[test]
fn an_apply_that_drops_a_protected_secondary_is_refused_and_the_plan_says_why() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let plain = env.read(&env.example("orders-db.yaml"));
    let with_dr = env.write("orders-dr.yaml", edit(&plain, "ha: true", "ha: true\n  drProfile: gold"));
    env.idp(&["apply", "-f", &with_dr, "--yes", "--repo", STATE]).code(0);
    let head = env.head(STATE);
    let smaller = env.write("orders-db.yaml", plain);

    let plan = env.idp(&["plan", "-f", &smaller, "--reschedule", "--repo", STATE, "-o", "json"]).code(0).json();
    let protected: Vec<(&str, bool)> = plan["destroys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["object"].as_str().unwrap(), d["protected"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        protected,
        [
            ("MySQLInstanceClaim team-alpha/orders-db-secondary", true),
            ("ReplicationClaim team-alpha/orders-db-replication", false)
        ]
    );
    let human = env.idp(&["plan", "-f", &smaller, "--reschedule", "--repo", STATE, "--color", "never"]);
    assert!(
        human.code(0).stdout.contains(
            "deletion-protected: refused until `idp delete mysql team-alpha/orders-db --unprotect` has landed and synced"
        ),
        "{}",
        human.stdout
    );

    let apply = ["apply", "-f", &smaller, "--reschedule", "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"];
    refused_as_protected(
        &env,
        &env.idp(&apply),
        &head,
        &["delete MySQLInstanceClaim team-alpha/orders-db-secondary"],
        ORDERS,
    );

    // Unprotected, the same apply lands; the primary it keeps is protected again.
    env.idp(&["delete", "mysql", ORDERS, "--unprotect", "--yes", "--repo", STATE]).code(0);
    env.idp(&apply).code(0);
    assert_eq!(trailer(&env, "Idp-Destroy").len(), 2);
    assert_eq!(protection(&env, "HEAD", ORDERS_CLAIM), Value::Bool(true));
}

#[test]
fn a_later_apply_puts_protection_back_as_the_policy_says() {
    let env = with(&["orders-db.yaml"]);
    let created = env.head(STATE);
    env.idp(&["delete", "mysql", ORDERS, "--unprotect", "--yes", "--repo", STATE]).code(0);
    assert_eq!(protection(&env, "HEAD", ORDERS_CLAIM), Value::Bool(false));

    let orders = env.example("orders-db.yaml");
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    assert_eq!(protection(&env, "HEAD", ORDERS_CLAIM), Value::Bool(true));
    assert_eq!(env.git_in(STATE, &["diff", "--stat", &created, "HEAD", "--", "platform/"]), "", "back as created");
    let head = env.head(STATE);
    let delete = ["delete", "mysql", ORDERS, "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"];
    refused_as_protected(&env, &env.idp(&delete), &head, &["MySQLInstanceClaim team-alpha/orders-db"], ORDERS);
}

#[test]
fn unprotect_is_for_databases_and_is_its_own_commit() {
    let env = with(&["payments-c0.json", "payments-app.yaml"]);
    let head = env.head(STATE);
    let run =
        env.idp(&["delete", "app", "team-payments/checkout", "--unprotect", "--yes", "--repo", STATE, "-o", "json"]);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "idp::usage::unprotect");
    run.stderr_says("--unprotect is for databases: app team-payments/checkout has no deletion protection");

    // Both at once would be one commit; the cloud needs the first synced before the second.
    let run = env.idp(&["delete", "mysql", PAYMENTS, "--unprotect", "--allow-destroy", "--yes", "--repo", STATE]);
    run.code(1);
    run.stderr_says("cannot be used with");
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);
}

#[test]
fn unprotect_changes_nothing_but_protection_or_refuses() {
    let env = with(&["orders-db.yaml"]);
    // A hand edit of the claim, committed with git: re-rendering would undo it.
    let claim = format!("{STATE}/{ORDERS_CLAIM}");
    env.write(&claim, edit(&env.read(&claim), "storageGB: 100", "storageGB: 120"));
    env.git_in(STATE, &["commit", "--quiet", "-am", "grow orders-db by hand"]);
    let head = env.head(STATE);

    let run = env.idp(&["delete", "mysql", ORDERS, "--unprotect", "--yes", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::unprotect::drift", "{doc:#}");
    assert!(doc["error"]["message"].as_str().unwrap().contains(ORDERS_CLAIM), "{doc:#}");
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);
}
