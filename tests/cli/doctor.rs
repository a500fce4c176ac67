//! `idp doctor`: each check says what it found and, for a problem, how to
//! fix it; a failed check exits 1, warnings do not.

use serde_json::Value;

use crate::common::TestEnv;

const STATE: &str = "state";

fn state_repo() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

/// `(status, fix present)` of the named check.
fn check(doc: &Value, name: &str) -> (String, bool) {
    let check = doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == name);
    let check = check.unwrap_or_else(|| panic!("no check {name}: {doc:#}"));
    (check["status"].as_str().unwrap().to_owned(), check["fix"].is_string())
}

#[test]
fn a_fresh_state_repo_passes_every_check() {
    let env = state_repo();
    let run = env.idp(&["doctor", "--repo", STATE, "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    for name in ["state repo", "git identity", "policy", "templates", "version", "credentials"] {
        assert_eq!(check(&doc, name), ("ok".to_owned(), false), "{name}: {doc:#}");
    }
    let table = env.idp(&["doctor", "--repo", STATE]);
    table.code(0);
    assert!(table.stdout.starts_with("STATUS  CHECK"), "{}", table.stdout);
}

/// Without any git identity idp refuses to commit, so doctor fails that check (and says
/// how to fix it); outside a state repo it warns.
#[test]
fn outside_a_state_repo_without_identity_it_fails_and_says_how_to_fix() {
    let env = TestEnv::new();
    let anonymous = |args: &[&str]| env.idp_anonymous(args);
    let run = anonymous(&["doctor", "-o", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(check(&doc, "state repo"), ("warn".to_owned(), true));
    assert_eq!(check(&doc, "git identity"), ("fail".to_owned(), true));
    let table = anonymous(&["doctor"]);
    assert!(table.stdout.contains("How to fix:\nstate repo: create one with `idp init DIR`"), "{}", table.stdout);
    assert!(table.stdout.contains("IDP_AUTHOR"), "{}", table.stdout);
}

#[test]
fn a_broken_policy_an_override_and_a_newer_writer_are_reported() {
    let env = state_repo();
    env.write("state/policy/policy.yaml", "apiVersion: idp.platform.example.org/v1alpha1\nkind: Policy\n");
    env.write("state/templates/mysql/claim.yaml.j2", "{{ request.name | tojson }}\n");
    env.git(&["-C", STATE, "add", "-A"]);
    env.git(&["-C", STATE, "commit", "-qm", "idp: from the future\n\nIdp-Action: create\nIdp-Version: 99.0.0"]);
    let run = env.idp(&["doctor", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(check(&doc, "policy"), ("fail".to_owned(), true));

    // With a valid policy again, the override and the version show.
    env.git(&["-C", STATE, "checkout", "-q", "HEAD~1", "--", "policy/policy.yaml"]);
    env.git(&["-C", STATE, "commit", "-qm", "restore the policy"]);
    let doc = env.idp(&["doctor", "--repo", STATE, "-o", "json"]).code(1).json();
    assert_eq!(check(&doc, "policy"), ("ok".to_owned(), false));
    assert_eq!(check(&doc, "templates"), ("warn".to_owned(), true));
    assert_eq!(check(&doc, "version"), ("fail".to_owned(), true));
    let version = doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == "version").unwrap();
    assert!(version["message"].as_str().unwrap().contains("idp 99.0.0"), "{version}");
}

#[test]
fn the_remote_check_connects() {
    let env = state_repo();
    env.git(&["init", "-q", "--bare", "--initial-branch=main", "remote.git"]);
    let remote = env.work_dir().join("remote.git");
    env.git(&["-C", STATE, "remote", "add", "origin", remote.to_str().unwrap()]);
    env.git(&["-C", STATE, "push", "-q", "origin", "main"]);
    let doc = env.idp(&["doctor", "--repo", STATE, "--remote", "-o", "json"]).code(0).json();
    assert_eq!(check(&doc, "remote"), ("ok".to_owned(), false));
    env.git(&["-C", STATE, "remote", "set-url", "origin", "/nonexistent/state.git"]);
    let doc = env.idp(&["doctor", "--repo", STATE, "--remote", "-o", "json"]).code(1).json();
    assert_eq!(check(&doc, "remote"), ("fail".to_owned(), true));
}

#[test]
fn the_credentials_check_names_the_mechanism_and_never_a_password() {
    let env = state_repo();
    env.git(&["-C", STATE, "remote", "add", "origin", "https://bob:s3cret@git.example.org/state.git"]);
    let run = env.idp(&["doctor", "--repo", STATE, "-o", "json"]);
    let doc = run.json();
    assert_eq!(check(&doc, "credentials"), ("ok".to_owned(), false), "{doc:#}");
    let message = doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == "credentials").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(message, "https://bob:***@git.example.org/state.git: the user and password in the URL");
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));

    // ssh: a key that is not there fails, with the fix.
    env.git(&["-C", STATE, "remote", "set-url", "origin", "git@git.example.org:state.git"]);
    let output =
        env.command().env("IDP_SSH_KEY", "/nonexistent/key").args(["doctor", "--repo", STATE, "-o", "json"]).output();
    let doc: Value = serde_json::from_slice(&output.unwrap().stdout).unwrap();
    assert_eq!(check(&doc, "credentials"), ("fail".to_owned(), true), "{doc:#}");
}
