//! A bulk apply: above 100 changed files the new objects go into one pack
//! (src/state/pack.rs) and the work tree and index are written from the
//! blob ids idp computed. Everything is read back with the git CLI.

use crate::common::{REQUEST, TestEnv, edit};

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

    // One new pack, no new loose objects; fsck checks every object and link.
    let objects = env.git(&["-C", "state", "count-objects", "-v"]);
    assert_eq!(field(&objects, "count"), loose_before, "{objects}");
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
