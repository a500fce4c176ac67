//! Re-rendering what the state repo holds: `idp apply --all` re-plans every stored
//! request after a policy or template change, sticky placements kept, in one commit;
//! `-f DIR` reads a directory with its subfolders (the state repo's own
//! `requests/<namespace>/`), and never leads outside it. Commits are read back with git.

use crate::common::{REQUEST, TestEnv, edit, lines, request_with};

const STATE: &str = "state";

/// The requests the tests place, in two namespaces (and two cells).
const REQUESTS: [&str; 3] = [
    "requests/team-alpha/mysql-orders-db.yaml",
    "requests/team-alpha/mysql-payments-db.yaml",
    "requests/team-beta/mysql-analytics-db.yaml",
];

/// A state repo holding REQUESTS, applied one by one.
fn placed() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    let orders = env.write("orders-db.yaml", REQUEST);
    let payments = env.write("payments-db.yaml", request_with("name: orders-db", "name: payments-db"));
    let analytics = env.fixture("analytics-db.yaml");
    for file in [orders, payments, analytics] {
        env.idp(&["apply", "-f", &file, "--repo", STATE, "--yes"]).code(0);
    }
    env
}

/// Every placement record at HEAD, as git shows it.
fn placements(env: &TestEnv) -> Vec<(String, String)> {
    lines(&env.git_in(STATE, &["ls-tree", "-r", "--name-only", "HEAD", "placements"]))
        .into_iter()
        .map(|path| {
            let record = env.git_in(STATE, &["show", &format!("HEAD:{path}")]);
            (path, record)
        })
        .collect()
}

/// The files a commit changed, as git lists them.
fn changed_files(env: &TestEnv, commit: &str) -> Vec<String> {
    lines(&env.git_in(STATE, &["diff-tree", "--no-commit-id", "--name-only", "-r", commit]))
}

fn commit_in_state(env: &TestEnv, message: &str) {
    env.git_in(STATE, &["add", "-A"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", message]);
}

/// A template override and a weight change that would move every database, committed
/// together as a platform change: `apply --all` re-renders every request's claim in one
/// commit, and keeps every placement (the weights move nothing without --reschedule).
#[test]
fn apply_all_rerenders_every_stored_request_in_one_commit_and_keeps_placements() {
    let env = placed();
    let before = placements(&env);
    assert_eq!(before.len(), 3);
    let claim = std::fs::read_to_string(crate::common::crate_dir().join("templates/data/claim.yaml.j2")).unwrap();
    let marked = edit(
        &claim,
        "    platform.example.org/role: {{ side | tojson }}\n",
        "    platform.example.org/role: {{ side | tojson }}\n    example.org/rendered-by: \"v2\"\n",
    );
    env.write("state/templates/mysql/claim.yaml.j2", marked);
    let policy = env.read("state/policy/policy.yaml");
    let weighed = edit(
        &policy,
        "weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.25 }",
        "weights: { latency: 0.05, dr: 0.05, maturity: 0.05, cost: 0.85 }",
    );
    env.write("state/policy/policy.yaml", weighed);
    commit_in_state(&env, "platform: label claims, cost-first medium tier");
    let base = env.head(STATE);

    let run = env.idp(&["apply", "--all", "--repo", STATE, "--yes", "-o", "json"]);
    run.code(0);
    let out = run.json();
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "every stored request is re-planned:\n{}", run.stdout);
    assert!(results.iter().all(|r| r["status"] == "updated" && r["sticky"] == true), "{}", run.stdout);

    // One commit on top of the platform change, touching every request's claim and nothing
    // that records a placement.
    assert_eq!(env.rev(STATE, "HEAD^"), base, "one commit");
    assert_eq!(env.title(STATE, "HEAD"), "idp: re-render 3 of 3 stored requests (apply --all)");
    let files = changed_files(&env, "HEAD");
    for request in REQUESTS {
        let name = request.trim_start_matches("requests/").trim_end_matches(".yaml");
        let claims: Vec<&String> = files.iter().filter(|f| f.starts_with(&format!("platform/{name}/"))).collect();
        assert!(!claims.is_empty(), "{name} is re-rendered: {files:?}");
        for claim in claims {
            assert!(env.git_in(STATE, &["show", &format!("HEAD:{claim}")]).contains("example.org/rendered-by: \"v2\""));
        }
    }
    assert!(files.iter().all(|f| f.starts_with("platform/")), "only rendered manifests change: {files:?}");
    assert_eq!(placements(&env), before, "placements are sticky");
    env.assert_clean(STATE);

    // Nothing left to re-render: no commit, and it says so.
    let head = env.head(STATE);
    let again = env.idp(&["apply", "--all", "--repo", STATE, "--yes"]);
    again.code(0).stderr_says("no changes: every request is already in the state repo as planned");
    assert_eq!(env.head(STATE), head);
}

/// On a repo whose requests are rendered as the policy and templates say, `--all` commits
/// nothing; on one that stores no request, it says that.
#[test]
fn apply_all_on_an_unchanged_repo_says_no_changes() {
    let env = placed();
    let head = env.head(STATE);
    let run = env.idp(&["apply", "--all", "--repo", STATE, "--yes", "-o", "json"]);
    run.code(0).stderr_says("no changes: every request is already in the state repo as planned");
    assert_eq!(run.json()["commit"], serde_json::Value::Null);
    assert_eq!(run.json()["results"].as_array().unwrap().len(), 3);
    assert_eq!(env.head(STATE), head);

    let empty = TestEnv::new();
    empty.init_state(STATE);
    let head = empty.head(STATE);
    empty.idp(&["apply", "--all", "--repo", STATE, "--yes"]).code(0).stderr_says("the state repo stores no request");
    assert_eq!(empty.head(STATE), head);
}

/// `--all` and `-f` (or a kind) name the requests two ways: refused as a usage error.
/// Outside a state repo there is nothing stored to re-plan.
#[test]
fn apply_all_conflicts_with_files_and_needs_a_state_repo() {
    let env = placed();
    let head = env.head(STATE);
    let orders = env.write("orders-db.yaml", REQUEST);
    let run = env.idp(&["apply", "--all", "-f", &orders, "--repo", STATE, "--yes"]);
    run.code(1).stderr_says("'--all' cannot be used with");
    env.idp(&["apply", "mysql", "--all", "--repo", STATE, "--yes"]).code(1).stderr_says("cannot be used with");
    env.idp(&["apply", "--repo", STATE, "--yes"]).code(1).stderr_says("--file <PATH>");
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);

    env.idp(&["apply", "--all", "--yes"]).code(1).stderr_says("state repo");
}

/// A stored request the policy in force no longer accepts is reported against its
/// stored file, and nothing is written.
#[test]
fn apply_all_reports_a_stored_request_the_policy_refuses_against_its_file() {
    let env = placed();
    let policy = env.read("state/policy/policy.yaml");
    env.write("state/policy/policy.yaml", edit(&policy, "\n  medium:\n", "\n  middling:\n"));
    commit_in_state(&env, "rename tier medium");
    let head = env.head(STATE);
    let run = env.idp(&["apply", "--all", "--repo", STATE, "--yes"]);
    run.code(1).stderr_says("requests/team-alpha/mysql-orders-db.yaml").stderr_says("unknown tier `medium`");
    run.stderr_says("requests/team-alpha/mysql-payments-db.yaml");
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);
}

/// `-f DIR` reads the requests in DIR's subfolders too, in path order: a tree laid out
/// by namespace plans every request, and the state repo's own `requests/` (the documented
/// CI `idp apply -f requests/`) plans as unchanged.
#[test]
fn a_nested_request_directory_plans_every_request() {
    let env = TestEnv::new();
    env.init_state(STATE);
    env.fixture_as("analytics-db.yaml", "tree/team-beta/analytics.yaml");
    env.write("tree/team-alpha/orders.yaml", REQUEST);
    env.write("tree/team-alpha/more/deeper/payments.yml", request_with("name: orders-db", "name: payments-db"));
    env.write("tree/team-alpha/README.md", "not a request\n");
    env.write("tree/.drafts/ignored.yaml", "not: parsed\n");
    let run = env.idp(&["plan", "-f", "tree", "--repo", STATE, "-o", "json"]);
    run.code(0);
    let names: Vec<String> =
        run.json()["results"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
    // tree/team-alpha/more/deeper/payments.yml < tree/team-alpha/orders.yaml < tree/team-beta/…
    assert_eq!(names, ["payments-db", "orders-db", "analytics-db"]);

    env.idp(&["apply", "-f", "tree", "--repo", STATE, "--yes"]).code(0);
    assert_eq!(env.count(STATE, "HEAD"), 2, "one commit for the tree");
    let head = env.head(STATE);
    let run = env.idp(&["apply", "-f", "state/requests/", "--repo", STATE, "--yes", "-o", "json"]);
    run.code(0).stderr_says("no changes");
    assert_eq!(run.json()["results"].as_array().unwrap().len(), 3);
    assert_eq!(env.head(STATE), head);
}

/// A symbolic link to a folder outside the directory is refused like one to a file, on
/// its own line, before anything is read from it; a link looping back is bounded.
#[test]
fn a_symlinked_subdirectory_leading_outside_is_refused() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let head = env.head(STATE);
    let secret = "hunter2-outside-the-tree";
    env.write("outside/secret.yaml", format!("key: {secret}\n"));
    env.write("tree/team-alpha/orders.yaml", REQUEST);
    std::os::unix::fs::symlink(env.path("outside"), env.path("tree/team-alpha/elsewhere")).unwrap();
    let plan: &[&str] = &["plan", "-f", "tree", "--repo", STATE];
    let apply: &[&str] = &["apply", "-f", "tree", "--repo", STATE, "--yes"];
    for args in [plan, apply] {
        let run = env.idp(args);
        run.code(1);
        run.stderr_says(
            "tree/team-alpha/elsewhere leads outside tree: a request directory is read for its own files only",
        );
        assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret), "idp {} leaks the target", run.args);
    }
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);

    // A link back up the tree would loop: the depth bound ends it.
    std::fs::remove_file(env.path("tree/team-alpha/elsewhere")).unwrap();
    std::os::unix::fs::symlink("..", env.path("tree/team-alpha/loop")).unwrap();
    let run = env.idp(&["plan", "-f", "tree", "--repo", STATE]);
    run.code(1).stderr_says("is nested more than 8 folders deep in tree");
    assert_eq!(env.head(STATE), head);
}
