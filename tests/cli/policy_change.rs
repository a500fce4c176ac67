//! A committed policy change governs what is submitted from then on, not what is placed:
//! admission rules (team permissions, reserved namespaces, the derived-name budget) refuse
//! new requests and changes, while failover, `status cell` and `verify` keep working on
//! the requests the old policy admitted, and `policy diff` lists the placed requests the
//! new policy would refuse. Results are read back with the git CLI.

use serde_json::Value;

use crate::common::{TestEnv, edit};

const STATE: &str = "state";

/// The payments cell (C0 database, app following it), then a policy commit that allows
/// team-payments only `dev`.
fn restricted() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    let database = env.example("payments-c0.json");
    env.idp(&["apply", "mysql", "-f", &database, "--repo", STATE, "--yes"]).code(0);
    let app = env.example("payments-app.yaml");
    env.idp(&["apply", "-f", &app, "--repo", STATE, "--yes"]).code(0);
    let policy = env.read(&format!("{STATE}/policy/policy.yaml"));
    env.write(
        &format!("{STATE}/policy/policy.yaml"),
        edit(&policy, "\nteams: {}\n", "\nteams:\n  team-payments: { environments: [dev] }\n"),
    );
    env.git(&["-C", STATE, "commit", "--quiet", "-am", "policy: team-payments may use dev only"]);
    env
}

#[test]
fn a_team_permission_change_refuses_changes_and_never_blocks_a_failover() {
    let env = restricted();
    let json = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--repo", STATE, "-o", "json"]);
        env.idp(&all)
    };

    // What is placed still moves, shows and verifies.
    let status = json(&["status", "cell", "payments", "prod"]);
    status.code(0);
    let verify = json(&["verify"]).code(0).json();
    assert_eq!(verify["requests"], 2, "{verify:#}");
    let head = env.head(STATE);
    json(&["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "2", "--yes"]).code(0);
    assert_ne!(env.head(STATE), head, "the failover committed");
    assert_eq!(
        env.git(&["-C", STATE, "log", "-1", "--format=%(trailers:key=Idp-Action,valueonly)"]).trim(),
        "failover"
    );

    // A change is a submission: the new rule refuses it, naming the rule.
    let changed = env.read(&env.example("payments-c0.json")).replace("\"storageGB\": 50", "\"storageGB\": 60");
    let file = env.write("changed.json", changed);
    let run = json(&["apply", "mysql", "-f", &file, "--yes"]);
    run.code(1);
    assert!(run.stderr.contains("may not use environment production"), "{}", run.stderr);

    // policy diff names what the new policy would refuse, and why.
    let diff = json(&["policy", "diff", "HEAD~2", "HEAD~1"]).code(0).json();
    let refused: Vec<String> = diff["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}/{}",
                r["kind"].as_str().unwrap(),
                r["namespace"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(refused, ["app team-payments/checkout", "mysql team-payments/payments-db"], "{diff:#}");
    assert!(diff["refused"][0]["why"][0].as_str().unwrap().contains("may not use environment production"));
    let human = env.idp(&["policy", "diff", "HEAD~2", "HEAD~1", "--repo", STATE]).code(0).stdout.clone();
    assert!(human.contains("2 requests placed that the new policy would refuse"), "{human}");
}

/// A request the policy no longer describes at all (its tier removed) is a finding of
/// `verify`, and still one of the repo's requests in the count.
#[test]
fn verify_counts_a_request_that_no_longer_validates() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let file = env.fixture("orders-db.yaml");
    env.idp(&["apply", "-f", &file, "--repo", STATE, "--yes"]).code(0);
    let request = env.read(&format!("{STATE}/requests/team-alpha/mysql-orders-db.yaml"));
    env.write(
        &format!("{STATE}/requests/team-alpha/mysql-orders-db.yaml"),
        edit(&request, "tier: medium", "tier: gone"),
    );
    env.git(&["-C", STATE, "commit", "--quiet", "-am", "hand edit"]);
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let doc: Value = run.json();
    assert_eq!(doc["requests"], 1, "{doc:#}");
}
