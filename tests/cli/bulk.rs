//! A bulk apply: above 100 changed files the new blobs and trees go into
//! one pack (src/state/pack.rs), written as the requests are rendered, and
//! the work tree and index are written from the blob ids idp computed.
//! Everything is read back with the git CLI.

use crate::common::{REQUEST, TestEnv, edit, yaml_documents};

/// 30 requests: about 200 files, well above the pack threshold.
const REQUESTS: usize = 30;

fn write_requests(env: &TestEnv, dir: &str, count: usize) {
    for i in 0..count {
        env.write(&format!("{dir}/db-{i:02}.yaml"), edit(REQUEST, "orders-db", &format!("db-{i:02}")));
    }
}

fn field(report: &str, name: &str) -> u64 {
    let line = report.lines().find(|l| l.starts_with(&format!("{name}: "))).expect("count-objects field");
    line[name.len() + 2..].trim().parse().unwrap()
}

#[test]
fn a_bulk_apply_lands_as_one_pack_that_git_reads_back_whole() {
    let env = TestEnv::new();
    env.idp(&["init", "state"]).code(0);
    let loose_before = field(&env.git(&["-C", "state", "count-objects", "-v"]), "count");
    write_requests(&env, "reqs", REQUESTS);

    let apply = env.idp(&["apply", "-f", "reqs", "--repo", "state", "--yes", "-o", "json"]);
    apply.code(0);
    let changed: usize =
        apply.json()["results"].as_array().unwrap().iter().map(|r| r["changes"].as_array().unwrap().len()).sum();
    assert!(changed > 100, "only {changed} files: the test no longer crosses the pack threshold");

    // One new pack and one loose object, the commit: it is written once the
    // pack holding its trees and blobs is in place. fsck checks every
    // object and link.
    let objects = env.git(&["-C", "state", "count-objects", "-v"]);
    assert_eq!(field(&objects, "count"), loose_before + 1, "{objects}");
    let head = env.head("state");
    assert!(env.path(&format!("state/.git/objects/{}/{}", &head[..2], &head[2..])).exists(), "the commit is loose");
    assert_eq!(field(&objects, "packs"), 1, "{objects}");
    assert!(field(&objects, "in-pack") as usize > changed, "{objects}");
    env.git(&["-C", "state", "fsck", "--strict", "--no-dangling"]);

    // The index names exactly HEAD's blobs, and the work tree matches both.
    let index = env.git(&["-C", "state", "ls-files", "-s"]);
    let head = env.git(&["-C", "state", "ls-tree", "-r", "HEAD"]);
    let staged: Vec<(&str, &str)> =
        index.lines().map(|l| (l.split(' ').nth(1).unwrap(), l.split('\t').nth(1).unwrap())).collect();
    let committed: Vec<(&str, &str)> = head
        .lines()
        .map(|l| (l.split(' ').nth(2).unwrap().split('\t').next().unwrap(), l.split('\t').nth(1).unwrap()))
        .collect();
    assert_eq!(staged, committed);
    assert_eq!(env.git(&["-C", "state", "status", "--porcelain"]), "");
    env.idp(&["verify", "--repo", "state"]).code(0);

    // The same requests again change nothing; one more commits loose on top.
    let again = env.idp(&["apply", "-f", "reqs", "--repo", "state", "--yes", "-o", "json"]);
    assert!(again.code(0).json()["commit"].is_null());
    env.write("more/extra.yaml", edit(REQUEST, "orders-db", "extra-db"));
    env.idp(&["apply", "-f", "more", "--repo", "state", "--yes"]).code(0);
    assert!(field(&env.git(&["-C", "state", "count-objects", "-v"]), "count") > loose_before);
    env.git(&["-C", "state", "fsck", "--strict", "--no-dangling"]);
    assert_eq!(env.git(&["-C", "state", "status", "--porcelain"]), "");
}

#[test]
fn a_bulk_apply_into_a_bare_repo_commits_the_same_tree() {
    let env = TestEnv::new();
    env.idp(&["init", "state"]).code(0);
    env.git(&["clone", "-q", "--bare", "state", "bare.git"]);
    write_requests(&env, "reqs", REQUESTS);

    env.idp(&["apply", "-f", "reqs", "--repo", "state", "--yes"]).code(0);
    env.idp(&["apply", "-f", "reqs", "--repo", "bare.git", "--yes"]).code(0);

    env.git(&["-C", "bare.git", "fsck", "--strict", "--no-dangling"]);
    let tree = |repo: &str| env.git(&["-C", repo, "rev-parse", "HEAD^{tree}"]);
    assert_eq!(tree("bare.git"), tree("state"));
}

/// A commit of more requests than a message names one by one (50) counts
/// them (`Idp-Requests`) instead of naming each: its size no longer grows
/// with the apply. What each request got is still answered, from the
/// commit's changes and the request's placement record, by `idp history`,
/// by `verify`'s audit of what a commit may change, and by a rollback.
#[test]
fn a_commit_of_many_requests_counts_them_and_history_still_answers_per_request() {
    let env = TestEnv::new();
    env.idp(&["init", "state"]).code(0);
    // Staging: no deletion protection, so that the create can be rolled back.
    for i in 0..51 {
        let request = edit(&edit(REQUEST, "orders-db", &format!("db-{i:02}")), "production", "staging");
        env.write(&format!("reqs/db-{i:02}.yaml"), request);
    }
    env.idp(&["apply", "-f", "reqs", "--repo", "state", "--yes"]).code(0);
    let bulk = env.head("state");

    let message = env.git(&["-C", "state", "log", "-1", "--format=%B"]);
    assert!(message.len() < 2_000, "{} bytes: {message}", message.len());
    assert!(message.starts_with("idp: apply 51 requests (51 created, 0 updated)\n"), "{message}");
    let trailers = env.git(&["-C", "state", "log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(trailers.contains("Idp-Action: apply\nIdp-Requests: 51\nIdp-Policy-Version: "), "{trailers}");
    assert!(!trailers.contains("Idp-Request:"), "{trailers}");

    // One request's entry, as its placement record at the commit says.
    let one = env.idp(&["history", "--namespace", "team-alpha", "--name", "db-07", "--repo", "state", "-o", "json"]);
    let entries = one.code(0).json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let record = yaml_documents(&env.git(&["-C", "state", "show", "HEAD:placements/team-alpha/mysql-db-07.yaml"]));
    let record = &record[0];
    let entry = &entries[0];
    assert_eq!((entry["action"].as_str(), entry["kind"].as_str()), (Some("create"), Some("mysql")));
    assert_eq!(entry["commit"].as_str(), Some(bulk.as_str()));
    assert_eq!(entry["cell"], record["cell"]);
    assert_eq!(entry["environment"], record["environment"]);
    assert_eq!(entry["policy_version"], record["reason"]["policy"]["version"]);
    let side = |s: &serde_json::Value| format!("{}/{}", s["provider"].as_str().unwrap(), s["region"].as_str().unwrap());
    let placement = match record.get("secondary") {
        Some(secondary) if !secondary.is_null() => {
            format!("{} secondary={}", side(&record["primary"]), side(secondary))
        }
        _ => side(&record["primary"]),
    };
    assert_eq!(entry["placement"].as_str(), Some(placement.as_str()));
    let newest = env.idp(&["history", "-n", "5", "--repo", "state", "-o", "json"]).code(0).json();
    let newest = newest["entries"].as_array().unwrap();
    assert_eq!(newest.len(), 5);
    assert!(newest.iter().all(|e| e["commit"].as_str() == Some(bulk.as_str()) && e["action"] == "create"));

    // verify judges the commit by the requests its changes name: none is a stray.
    env.idp(&["verify", "--repo", "state"]).code(0);

    // A rollback of it names its requests the same way, and history says
    // each was reverted.
    env.idp(&["rollback", &bulk, "--repo", "state", "--yes", "--allow-destroy"]).code(0);
    let revert = env.git(&["-C", "state", "log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(revert.contains("Idp-Requests: 51"), "{revert}");
    assert!(!revert.contains("Idp-Request:"), "{revert}");
    let one = env.idp(&["history", "--namespace", "team-alpha", "--name", "db-07", "--repo", "state", "-o", "json"]);
    let actions: Vec<String> = one.code(0).json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().into())
        .collect();
    assert_eq!(actions, ["revert", "create"]);
    env.idp(&["verify", "--repo", "state"]).code(0);
}

/// At the limit, a commit still names each of its 50 requests.
#[test]
fn a_commit_of_fifty_requests_names_each() {
    let env = TestEnv::new();
    env.idp(&["init", "state"]).code(0);
    write_requests(&env, "reqs", 50);
    env.idp(&["apply", "-f", "reqs", "--repo", "state", "--yes"]).code(0);
    let trailers = env.git(&["-C", "state", "log", "-1", "--format=%(trailers:key=Idp-Request,valueonly)"]);
    assert_eq!(trailers.lines().filter(|l| !l.is_empty()).count(), 50, "{trailers}");
}

/// Above 200 requests, a plan written as JSON or YAML spools its results
/// (src/ops/plan/results.rs): the output is the same list, in the order of the
/// files, with the statuses of the commit.
#[test]
fn a_bulk_apply_s_spooled_results_come_out_in_file_order_as_committed() {
    let env = TestEnv::new();
    env.idp(&["init", "state"]).code(0);
    write_requests(&env, "reqs", 201);
    let plan = env.idp(&["plan", "-f", "reqs", "--repo", "state", "-o", "yaml"]);
    let planned: serde_json::Value = serde_saphyr::from_str(&plan.code(0).stdout).unwrap();
    let apply = env.idp(&["apply", "-f", "reqs", "--repo", "state", "--yes", "-o", "json"]).code(0).json();
    let results = apply["results"].as_array().unwrap();
    let names: Vec<&str> = results.iter().map(|r| r["name"].as_str().unwrap()).collect();
    // The files' order: by name, db-10 before db-100.
    let mut expected: Vec<String> = (0..201).map(|i| format!("db-{i:02}")).collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(results.iter().all(|r| r["status"] == "created" && r["reason"]["tier"] == "medium"));
    for (planned, applied) in planned["results"].as_array().unwrap().iter().zip(results) {
        assert_eq!(planned["status"], "create");
        let mut applied = applied.clone();
        applied["status"] = "create".into();
        assert_eq!(*planned, applied);
    }
    env.git(&["-C", "state", "fsck", "--strict", "--no-dangling"]);
    env.idp(&["verify", "--repo", "state"]).code(0);
}
