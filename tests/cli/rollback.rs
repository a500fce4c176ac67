//! Reverts touch exactly the paths of the commit they undo: `idp rollback` never lands
//! on another request's look-alike files (libgit2's and git's rename detection would),
//! refuses precisely when the request it would change is gone, names only the commit's
//! own files in a conflict, and `idp verify` flags a revert made by hand that went
//! astray, while a failover, which moves every member of its cell, passes.
//!
//! The story of every test: `team-x/a-db` and `team-y/b-db` are the same database in two
//! teams, so each one's files are look-alikes of the other's. Results are read back with
//! the `git` CLI.

use serde_json::Value;

use crate::common::{REQUEST, Run, TestEnv, edit, lines};

const STATE: &str = "state";

/// The files of team-y/b-db that a revert landing on look-alikes changes.
const B_REQUEST: &str = "requests/team-y/mysql-b-db.yaml";
const B_CLAIM: &str = "platform/team-y/mysql-b-db/cell-us-east.staging.primary.yaml";
const B_MEMBER: &str = "cells/cell-us-east/staging/members/team-y/mysql-b-db.yaml";
const A_REQUEST: &str = "requests/team-x/mysql-a-db.yaml";
const A_CLAIM: &str = "platform/team-x/mysql-a-db/cell-us-east.staging.primary.yaml";

/// REQUEST (cell-us-east, medium, ha) in staging as `namespace/name` of `size`, with a
/// drProfile when given. Staging: the stories delete databases in one commit, which a
/// production one's deletion protection would refuse (tests/cli/protection.rs).
fn database(namespace: &str, name: &str, size: &str, dr_profile: Option<&str>) -> String {
    let text = edit(REQUEST, "name: orders-db", &format!("name: {name}"));
    let text = edit(&text, "environment: production", "environment: staging");
    let text = edit(&text, "namespace: team-alpha", &format!("namespace: {namespace}"));
    let mut text = edit(&text, "size: large", &format!("size: {size}"));
    if let Some(profile) = dr_profile {
        text.push_str(&format!("  drProfile: {profile}\n"));
    }
    text
}

/// A TestEnv with an initialized state repo.
fn state_repo() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

/// `idp apply` of one request text (with `extra` flags), which must commit; the commit.
fn apply(env: &TestEnv, text: &str, extra: &[&str]) -> String {
    let file = env.write("request.yaml", text);
    let before = env.head(STATE);
    let mut args = vec!["apply", "-f", &file, "--repo", STATE, "--yes"];
    args.extend_from_slice(extra);
    env.idp(&args).code(0);
    let head = env.head(STATE);
    assert_ne!(head, before, "the apply made no commit");
    head
}

fn show(env: &TestEnv, rev: &str, path: &str) -> String {
    env.git_in(STATE, &["show", &format!("{rev}:{path}")])
}

/// The paths a commit changed, as git lists them without rename detection, sorted.
fn changed(env: &TestEnv, commit: &str) -> Vec<String> {
    let mut paths = lines(&env.git_in(STATE, &["show", "--no-renames", "--name-only", "--format=", commit]));
    paths.sort();
    paths
}

/// `error.message` and `error.help` of a refused JSON run, after checking that it wrote nothing.
fn refused(env: &TestEnv, run: &Run, head: &str) -> (String, String) {
    run.code(1);
    assert_eq!(env.head(STATE), head, "idp {}: a refusal must not commit", run.args);
    env.assert_clean(STATE);
    let doc = run.json();
    (doc["error"]["message"].as_str().unwrap().to_owned(), doc["error"]["help"].as_str().unwrap().to_owned())
}

/// `idp verify -o json` with its exit code; (code, findings).
fn verify(env: &TestEnv, repo: &str) -> (i32, Vec<Value>) {
    let run = env.idp(&["verify", "--repo", repo, "-o", "json"]);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    (run.code, findings)
}

/// The user's story up to the rollback: a-db created small (C1), resized to large (U),
/// b-db created large (its files look like a-db's after U), a-db deleted (D).
struct Story {
    create: String,
    resize: String,
    delete: String,
}

fn story(env: &TestEnv) -> Story {
    let create = apply(env, &database("team-x", "a-db", "small", None), &[]);
    let resize = apply(env, &database("team-x", "a-db", "large", None), &[]);
    assert_eq!(env.title(STATE, &resize), "idp: update mysql team-x/a-db on aws/us-east-1");
    apply(env, &database("team-y", "b-db", "large", None), &[]);
    env.idp(&["delete", "mysql", "team-x/a-db", "--repo", STATE, "--yes", "--allow-destroy"]).code(0);
    let delete = env.head(STATE);
    Story { create, resize, delete }
}

#[test]
fn rolling_back_a_change_of_a_deleted_request_leaves_its_look_alike_alone_and_says_what_to_do() {
    let env = state_repo();
    let Story { create, resize, delete } = story(&env);
    let b_files = [B_REQUEST, B_CLAIM, B_MEMBER].map(|path| show(&env, "HEAD", path));

    // a-db is gone, so "undo its resize" has nothing to act on: reverting the resize now
    // would either recreate pieces of a deleted database at its old size or (with rename
    // detection) shrink team-y/b-db. Refusing, with the way back, is the only answer that
    // does what was asked; bringing a-db back first is the user's call.
    let run = env.idp(&["rollback", &resize, "--repo", STATE, "--yes", "-o", "json"]);
    let (message, help) = refused(&env, &run, &delete);
    assert_eq!(
        message,
        format!(
            "cannot revert {resize}: it changed mysql team-x/a-db, which commit {delete} (idp: delete mysql team-x/a-db (was on aws/us-east-1)) has removed since"
        )
    );
    assert_eq!(
        help,
        format!(
            "to undo its change, bring the request back first (`idp rollback {delete}`), then roll back {resize} again. Nothing was written"
        )
    );
    for (path, before) in [B_REQUEST, B_CLAIM, B_MEMBER].iter().zip(&b_files) {
        assert_eq!(&show(&env, "HEAD", path), before, "{path} changed");
    }
    assert!(show(&env, "HEAD", B_REQUEST).contains("size: large"));

    // The commit that created it: its removal already undid it (not "nothing to revert").
    let run = env.idp(&["rollback", &create, "--repo", STATE, "--yes", "-o", "json"]);
    let (message, help) = refused(&env, &run, &delete);
    assert!(
        message.starts_with(&format!("cannot revert {create}: it created mysql team-x/a-db, which commit {delete}"))
    );
    assert_eq!(help, "removing the request already undid what it did. Nothing was written");

    // Following the advice: the delete rolled back brings a-db back (large), then the
    // resize rolls back on a-db's own files and nowhere else.
    env.idp(&["rollback", &delete, "--repo", STATE, "--yes", "--allow-destroy"]).code(0);
    assert!(show(&env, "HEAD", A_REQUEST).contains("size: large"));
    env.idp(&["rollback", &resize, "--repo", STATE, "--yes"]).code(0);
    let revert = env.head(STATE);
    assert_eq!(env.title(STATE, &revert), "idp: revert update mysql team-x/a-db on aws/us-east-1");
    assert_eq!(changed(&env, &revert), changed(&env, &resize), "the revert touches exactly the resize's paths");
    assert!(show(&env, "HEAD", A_REQUEST).contains("size: small"));
    assert_eq!(show(&env, "HEAD", A_CLAIM), show(&env, &create, A_CLAIM), "a-db's claim is small again");
    for (path, before) in [B_REQUEST, B_CLAIM, B_MEMBER].iter().zip(&b_files) {
        assert_eq!(&show(&env, "HEAD", path), before, "{path} changed");
    }
    assert_eq!(verify(&env, STATE), (0, vec![]));
    env.assert_clean(STATE);
}

#[test]
fn a_conflict_names_only_the_files_of_the_reverted_commit() {
    let env = state_repo();
    // a-db with a standby (silver), resized: U changes its secondary claim too.
    apply(&env, &database("team-x", "a-db", "large", Some("silver")), &[]);
    let resize = apply(&env, &database("team-x", "a-db", "xlarge", Some("silver")), &[]);
    // b-db, a look-alike with a standby of another size, then a-db drops its standby:
    // a-db's secondary claim is gone, b-db's looks like it.
    apply(&env, &database("team-y", "b-db", "medium", Some("silver")), &[]);
    let dropped = apply(&env, &database("team-x", "a-db", "xlarge", None), &["--reschedule", "--allow-destroy"]);
    assert!(
        changed(&env, &dropped).contains(&"platform/team-x/mysql-a-db/cell-us-east.staging.secondary.yaml".to_owned())
    );
    let b_secondary = show(&env, "HEAD", "platform/team-y/mysql-b-db/cell-us-east.staging.secondary.yaml");

    let run = env.idp(&["rollback", &resize, "--repo", STATE, "--yes", "-o", "json"]);

    let (message, _) = refused(&env, &run, &dropped);
    let prefix = format!("reverting {resize} conflicts with later changes to: ");
    let listed: Vec<String> = message
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("not a conflict: {message}"))
        .split(", ")
        .map(str::to_owned)
        .collect();
    assert_eq!(
        listed,
        [
            "cells/cell-us-east/staging/members/team-x/mysql-a-db.yaml",
            "platform/team-x/mysql-a-db/cell-us-east.staging.secondary.yaml",
            "requests/team-x/mysql-a-db.yaml",
        ]
    );
    let resized = changed(&env, &resize);
    for path in &listed {
        assert!(resized.contains(path), "{path} is not a file of {resize}: {resized:?}");
    }
    assert_eq!(show(&env, "HEAD", "platform/team-y/mysql-b-db/cell-us-east.staging.secondary.yaml"), b_secondary);
}

#[test]
fn verify_flags_a_git_revert_that_landed_on_another_requests_files() {
    let env = state_repo();
    let Story { resize, delete, .. } = story(&env);

    // The documented way to revert by hand refuses here, as idp does.
    let careful =
        env.git_output(&["-C", STATE, "revert", "--no-edit", "--strategy=recursive", "-X", "no-renames", &resize]);
    assert!(!careful.status.success(), "git revert without renames should conflict on a-db's deleted files");
    env.git_in(STATE, &["revert", "--abort"]);
    assert_eq!(env.head(STATE), delete);

    // A plain `git revert` follows a-db's files to their look-alikes: b-db shrinks.
    env.git_in(STATE, &["revert", "--no-edit", &resize]);
    let wrong = env.head(STATE);
    assert_eq!(changed(&env, &wrong), [B_MEMBER, B_CLAIM, B_REQUEST], "the git revert should land on b-db");
    assert!(show(&env, "HEAD", B_REQUEST).contains("size: small"));

    let (code, findings) = verify(&env, STATE);

    assert_eq!(code, 1, "{findings:#?}");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["file"], B_MEMBER);
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "commit {wrong} (Revert \"idp: update mysql team-x/a-db on aws/us-east-1\") changed files of mysql team-y/b-db, which it does not name (it is about mysql team-x/a-db): {B_MEMBER}, {B_CLAIM}, {B_REQUEST}."
        )),
        "{message}"
    );
    assert!(message.contains(&format!("`idp rollback --force {wrong}`")), "{message}");

    // A shallow clone holding the reverted commit sees it too; one too shallow to know
    // what the revert undid judges nothing it cannot read, and still runs.
    let url = format!("file://{}", env.path(STATE).display());
    env.git(&["clone", "--quiet", "--depth", "4", &url, "deep"]);
    let (code, findings) = verify(&env, "deep");
    assert_eq!((code, findings.len()), (1, 1), "{findings:#?}");
    assert_eq!(findings[0]["file"], B_MEMBER);
    env.git(&["clone", "--quiet", "--depth", "1", &url, "shallow"]);
    assert_eq!(verify(&env, "shallow"), (0, vec![]));

    // The advice works: the stray revert rolled back, b-db is large again and verify passes.
    env.idp(&["rollback", "--force", &wrong, "--repo", STATE, "--yes"]).code(0);
    assert_eq!(changed(&env, "HEAD"), [B_MEMBER, B_CLAIM, B_REQUEST]);
    assert!(show(&env, "HEAD", B_REQUEST).contains("size: large"));
    assert_eq!(verify(&env, STATE), (0, vec![]));
}

#[test]
fn verify_passes_a_failover_its_failback_and_their_rollback_and_flags_only_the_stray() {
    let env = state_repo();
    for example in ["payments-c0.json", "payments-app.yaml"] {
        env.example(example);
    }
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes"]).code(0);
    let runbook = |action: &str| {
        let args = [
            action,
            "--no-wait",
            "--cell",
            "payments",
            "--env",
            "prod",
            "--replication-lag",
            "4",
            "--repo",
            STATE,
            "--yes",
        ];
        env.idp(&args).code(0);
        env.head(STATE)
    };
    let failover = runbook("failover");
    // The failover moves both members: the database's and the app's files.
    let moved = changed(&env, &failover);
    assert!(moved.iter().any(|p| p.starts_with("platform/team-payments/mysql-payments-db/")), "{moved:?}");
    assert!(moved.iter().any(|p| p.starts_with("platform/team-payments/app-checkout/")), "{moved:?}");
    let failback = runbook("failback");
    env.idp(&["rollback", &failback, "--repo", STATE, "--yes"]).code(0);
    env.git_in(STATE, &["revert", "--no-edit", "HEAD"]);
    assert_eq!(verify(&env, STATE), (0, vec![]), "the failover, the failback and their reverts name their cell");

    // In the same history, a git revert that went astray is the one finding.
    let Story { resize, .. } = story(&env);
    env.git_in(STATE, &["revert", "--no-edit", &resize]);
    let wrong = env.head(STATE);
    let (code, findings) = verify(&env, STATE);
    assert_eq!(code, 1);
    let flagged: Vec<&str> = findings.iter().filter_map(|f| f["message"].as_str()).collect();
    assert_eq!(flagged.len(), 1, "{findings:#?}");
    assert!(flagged[0].starts_with(&format!("commit {wrong} ")), "{findings:#?}");
}

/// `idp rollback` is undo: each plain rollback reverts the newest idp commit that is not
/// a revert and not reverted yet, so two in a row undo the last two changes instead of
/// the second re-doing what the first undid. `--steps N` undoes N in one commit, `--to
/// COMMIT` goes back to the tree COMMIT left, and each names every commit it reverts.
#[test]
fn rollbacks_undo_in_order_and_never_toggle() {
    let env = state_repo();
    let init = env.head(STATE);
    let first = apply(&env, &database("team-x", "a-db", "small", None), &[]);
    let second = apply(&env, &database("team-y", "b-db", "small", None), &[]);
    let tree = |rev: &str| env.git_in(STATE, &["rev-parse", &format!("{rev}^{{tree}}")]);
    let rollback = |extra: &[&str]| {
        let mut args = vec!["rollback", "--repo", STATE, "--yes", "--allow-destroy", "-o", "json"];
        args.extend_from_slice(extra);
        env.idp(&args).code(0).json()
    };

    let undo = rollback(&[]);
    assert_eq!(undo["reverted"], second.as_str());
    assert_eq!(tree("HEAD"), tree(&first));
    let undo = rollback(&[]);
    assert_eq!(undo["reverted"], first.as_str(), "the second rollback undoes the next change, not the first revert");
    assert_eq!(tree("HEAD"), tree(&init));
    let run = env.idp(&["rollback", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::rollback::not_enough");

    // Redo both, then undo both in one commit that names each.
    let third = apply(&env, &database("team-x", "a-db", "small", None), &[]);
    let fourth = apply(&env, &database("team-y", "b-db", "small", None), &[]);
    let both = rollback(&["--steps", "2"]);
    let reverted: Vec<&str> =
        both["reverted_commits"].as_array().unwrap().iter().map(|c| c["commit"].as_str().unwrap()).collect();
    assert_eq!(reverted, [fourth.as_str(), third.as_str()]);
    assert_eq!(tree("HEAD"), tree(&init));
    let trailers = env.git_in(STATE, &["log", "-1", "--format=%(trailers:key=Idp-Reverts,valueonly)"]);
    assert_eq!(lines(&trailers), [fourth.clone(), third.clone()]);
    assert_eq!(env.git_in(STATE, &["log", "-1", "--format=%s"]).trim(), "idp: revert 2 commits");

    // --to: everything after a commit, reverts included, back to the tree it left.
    let run = env.idp(&["rollback", "--repo", STATE, "--yes", "--allow-destroy", "--to", &third, "-o", "json"]);
    run.code(0);
    assert_eq!(tree("HEAD"), tree(&third));
    let run = env.idp(&["rollback", "--repo", STATE, "--yes", "--steps", "9", "-o", "json"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::rollback::not_enough");
}
