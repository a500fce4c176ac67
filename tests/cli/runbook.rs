//! `idp failover` / `idp failback` as staged runbooks end to end: a real state repo, the
//! idp binary, and a stand-in Kubernetes API server (tests/support/fake_api.rs) that plays
//! a management cluster following Git: Argo CD has synced whatever HEAD is when asked, and
//! each claim is the committed one, Ready, with the write fence the cloud reports
//! (`status.fence.observed`, as the Compositions copy it: manifests/crossplane/
//! composition-mysql-*.yaml) either following `spec.parameters.writeFence` or stuck.
//! Shapes from tests/fixtures/live (its README pins the upstream sources).
//!
//! What this cannot prove: that a real Argo CD applies each stage's commit before it
//! reports it synced, or that a cloud applies the fence as its provider reports it; the
//! timings of a real cluster (the stand-in answers at once).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::common::{Run, TestEnv};
use crate::fake_api::FakeApi;
use crate::live::{cell_application, fixture, head_of, kubeconfig};
// The payments cell (a gold database and its app) in a fresh state repo.
use crate::output::payments_cell as payments;

const STATE: &str = "state";
const CELL_FILE: &str = "cells/payments/production.yaml";
const PRIMARY: &str = "platform/team-payments/mysql-payments-db/payments.production.primary.yaml";
const SECONDARY: &str = "platform/team-payments/mysql-payments-db/payments.production.secondary.yaml";
const REPLICATION: &str = "platform/team-payments/mysql-payments-db/payments.production.replication.yaml";
const APP_PRIMARY: &str = "platform/team-payments/app-checkout/payments.production.application-primary.yaml";
const APP_SECONDARY: &str = "platform/team-payments/app-checkout/payments.production.application-secondary.yaml";
const DNS: &str = "platform/team-payments/app-checkout/payments.production.dns.yaml";

/// How the stand-in's clouds answer a write fence.
#[derive(Clone, Copy)]
pub(crate) enum Cloud {
    /// As asked, at once.
    Follows,
    /// Never: every database stays read-write (a parameter group the provider cannot
    /// apply, a Composition that does not map the fence).
    NeverFences,
}

/// The committed document named `name` in namespace `namespace`, read with the git CLI
/// at HEAD (as Argo CD would have applied it).
fn committed(repo: &std::path::Path, namespace: &str, name: &str) -> Option<Value> {
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git").arg("-C").arg(repo).args(args).output().expect("git");
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let files = git(&["ls-tree", "-r", "--name-only", "HEAD", &format!("platform/{namespace}/")]);
    files.lines().find_map(|path| {
        let text = git(&["show", &format!("HEAD:{path}")]);
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).ok()?;
        documents.into_iter().find(|d| d["metadata"]["name"] == name && d["metadata"]["namespace"] == namespace)
    })
}

/// A management cluster that follows the state repo (see the module's comment).
pub(crate) fn cluster(env: &TestEnv, cloud: Cloud) -> FakeApi {
    cluster_with(env, cloud, |_| {})
}

/// The same, running `meanwhile` on the state repo before each answer (what
/// another operator does while the runbook waits).
fn cluster_with(env: &TestEnv, cloud: Cloud, meanwhile: impl Fn(&std::path::Path) + Send + Sync + 'static) -> FakeApi {
    let repo = env.path(STATE);
    FakeApi::start(move |seen| {
        meanwhile(&repo);
        let path = seen.path();
        if let Some(name) = path.strip_prefix("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/") {
            let mut app = cell_application(&head_of(&repo));
            app["metadata"]["name"] = json!(name);
            return (200, app.to_string());
        }
        if let Some(rest) = path.strip_prefix("/apis/platform.example.org/v1alpha1/namespaces/") {
            let parts: Vec<&str> = rest.split('/').collect();
            let Some(document) = committed(&repo, parts[0], parts[2]) else {
                return (404, fixture("status-notfound").to_string());
            };
            let mut claim = fixture("claim-ready");
            for field in ["kind", "metadata"] {
                claim[field] = document[field].clone();
            }
            claim["spec"]["parameters"] = document["spec"]["parameters"].clone();
            // No composite here: the claim's summary is all the stand-in serves.
            claim["spec"].as_object_mut().unwrap().remove("resourceRef");
            match (document["spec"]["parameters"]["writeFence"].as_bool(), cloud) {
                (Some(true), Cloud::Follows) => claim["status"]["fence"]["observed"] = json!("1"),
                (Some(_), _) => claim["status"]["fence"]["observed"] = json!("0"),
                (None, _) => drop(claim["status"].as_object_mut().unwrap().remove("fence")),
            }
            return (200, claim.to_string());
        }
        if path.starts_with("/api/v1/namespaces/") && path.contains("/secrets/") {
            return (200, fixture("secret-metadata").to_string());
        }
        (404, fixture("status-notfound").to_string())
    })
}

fn failover(env: &TestEnv, extra: &[&str]) -> Run {
    let mut args = vec!["failover", "--cell", "payments", "--env", "prod", "--repo", STATE, "--yes", "-o", "json"];
    args.extend_from_slice(extra);
    env.idp(&args)
}

/// The payments cell's manifests in `env` are those a one-commit failover of a fresh
/// payments cell writes.
fn assert_ends_as_the_one_commit_runbook(env: &TestEnv) {
    let twin = payments();
    let args = ["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "3"];
    twin.idp(&[&args[..], &["--repo", STATE, "--yes"]].concat()).code(0);
    let tree = |env: &TestEnv| env.git_in(STATE, &["ls-tree", "-r", "HEAD", "platform/", "workloads/"]);
    assert_eq!(tree(env), tree(&twin));
}

/// The files a commit changed, as git lists them.
fn changed(env: &TestEnv, commit: &str) -> Vec<String> {
    let out = env.git_in(STATE, &["diff-tree", "--no-commit-id", "--name-only", "-r", commit]);
    out.lines().map(str::to_owned).collect()
}

fn cell_file(env: &TestEnv, revision: &str) -> Value {
    let text = env.git_in(STATE, &["show", &format!("{revision}:{CELL_FILE}")]);
    serde_saphyr::from_str(&text).unwrap()
}

fn stages(doc: &Value) -> Vec<(String, String)> {
    let stages = doc["stages"].as_array().unwrap();
    stages.iter().map(|s| (s["stage"].as_str().unwrap().into(), s["status"].as_str().unwrap().into())).collect()
}

/// A whole failover, as its outcome's stages say it: each stage and the gate done.
const EVERY_STAGE_DONE: [(&str, &str); 6] = [
    ("fence", "done"),
    ("lag", "done"),
    ("data", "done"),
    ("compute", "done"),
    ("traffic", "done"),
    ("record", "done"),
];

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// A failover is four stage commits and a record, each landing only once the cluster
/// reports the one before done: the fence commit touches only the old writer's claim, the
/// data commit the new writer and the replication, then the Applications, then DNS. It
/// ends where the one-commit runbook ends.
#[test]
fn a_staged_failover_commits_each_stage_once_the_cluster_reports_the_one_before() {
    let env = payments();
    let before = env.head(STATE);
    let api = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &api.url());
    let run = failover(&env, &["--replication-lag", "3", "--reason", "us-east-1 degraded"]);
    let doc = run.code(0).json();
    crate::output::assert_shape("failover", &run.args, &doc);
    let done = pairs(&EVERY_STAGE_DONE);
    assert_eq!(stages(&doc), done, "{doc:#}");
    assert_eq!((doc["staged"].as_bool(), doc["stopped"].is_null()), (Some(true), true));
    assert_eq!(doc["rto_minutes"], 15, "gold's RTO");
    assert!(doc["elapsed_seconds"].is_u64(), "{doc:#}");

    let commits: Vec<String> =
        env.git_in(STATE, &["rev-list", "--reverse", &format!("{before}..HEAD")]).lines().map(str::to_owned).collect();
    assert_eq!(commits.len(), 5, "four stages and the record");
    let moved: Vec<Vec<String>> = commits.iter().map(|c| changed(&env, c)).collect();
    let expect = |files: &[&str]| {
        let mut files: Vec<String> = files.iter().map(|f| (*f).to_owned()).collect();
        files.push(CELL_FILE.to_owned());
        files.sort();
        files
    };
    assert_eq!(moved[0], expect(&[PRIMARY]), "fence: the old writer only");
    assert_eq!(moved[1], expect(&[REPLICATION, SECONDARY]), "data");
    assert_eq!(moved[2], expect(&[APP_PRIMARY, APP_SECONDARY]), "compute");
    assert_eq!(moved[3], expect(&[DNS]), "traffic");
    assert_eq!(moved[4], expect(&[]), "record");
    for (commit, stage) in commits.iter().zip(["fence", "data", "compute", "traffic", "record"]) {
        let message = env.git_in(STATE, &["log", "-1", "--format=%B", commit]);
        assert!(message.contains(&format!("Idp-Stage: {stage}\n")), "{message}");
        assert!(message.contains("Idp-Action: failover\nIdp-Cell: payments production\n"), "{message}");
        assert!(message.contains("Reason: us-east-1 degraded"), "{message}");
    }

    // The fence commit: both databases read-only, the runbook recorded at its stage.
    let fenced = |side: &str| {
        let text = env.git_in(STATE, &["show", &format!("{}:{side}", commits[0])]);
        crate::common::yaml_documents(&text)[0]["spec"]["parameters"]["writeFence"].clone()
    };
    assert_eq!((fenced(PRIMARY), fenced(SECONDARY)), (json!(true), json!(true)), "no writer between fence and data");
    let during = cell_file(&env, &commits[0]);
    assert_eq!((&during["activeSide"], &during["runbook"]["stage"]), (&json!("primary"), &json!("fence")));

    // The record: the active side moves, the runbook goes, the event keeps what was observed.
    let cell = cell_file(&env, "HEAD");
    assert_eq!((&cell["activeSide"], &cell["runbook"]), (&json!("secondary"), &Value::Null));
    let event = &cell["events"][0];
    let observed: Vec<&str> =
        event["observed"].as_array().unwrap().iter().map(|o| o["stage"].as_str().unwrap()).collect();
    assert_eq!(observed, ["fence", "data", "compute", "traffic"]);
    assert_eq!((&event["observedLagSeconds"], &event["reason"]), (&json!(3.0), &json!("us-east-1 degraded")));
    run.stderr_says("failover payments: stage fence committed");
    run.stderr_says("waiting: mysql team-payments/payments-db READY");
    assert_eq!(env.idp(&["verify", "--repo", STATE]).code, 0);

    // The same end state as the one-commit runbook.
    assert_ends_as_the_one_commit_runbook(&env);
}

/// A fence the cloud never applies: the runbook waits, then stops at the fence with the
/// cloud's reason, exit 1, one commit. Meanwhile every command renders the cell as the
/// stage left it; nothing else starts over it; `--resume` goes on once the fence holds.
#[test]
fn a_fence_that_never_takes_effect_stops_the_runbook_until_it_is_resumed() {
    let env = payments();
    let before = env.head(STATE);
    let stuck = cluster(&env, Cloud::NeverFences);
    kubeconfig(&env, &stuck.url());
    let run = failover(&env, &["--replication-lag", "3", "--wait-timeout", "2s"]);
    let doc = run.code(1).json();
    crate::output::assert_shape("failover", &run.args, &doc);
    run.stderr_says("failover stopped at its fence stage (timed out):");
    run.stderr_says("waiting for the write fence: want read-only, the cloud reports read-write (0)");
    run.stderr_says("--resume");
    assert_eq!(doc["stopped"]["stage"], "fence");
    assert_eq!(stages(&doc), pairs(&[("fence", "not-done")]));
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", &format!("{before}..HEAD")]).trim(), "1");
    let fence = env.head(STATE);
    assert_eq!(cell_file(&env, "HEAD")["runbook"]["stage"], "fence");

    // The cell as the stage left it: verify finds nothing, a re-apply changes nothing,
    // status says where the runbook is.
    assert_eq!(env.idp(&["verify", "--repo", STATE]).code, 0);
    let reapply = env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(reapply.code(0).json()["commit"], Value::Null, "nothing renders differently mid-runbook");
    let status = env.idp(&["status", "cell", "payments", "prod", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!((&status["runbook"]["action"], &status["runbook"]["stage"]), (&json!("failover"), &json!("fence")));
    let run = env.idp(&["status", "cell", "payments", "prod", "--live", "--repo", STATE, "-o", "json"]);
    let live = run.code(0).json();
    crate::output::assert_shape("status-cell-live", &run.args, &live);
    assert_eq!(live["runbook"]["stage"], "fence");
    let human = env.idp(&["status", "cell", "payments", "prod", "--repo", STATE, "--color", "never"]);
    assert!(human.code(0).stdout.contains("failover to secondary in progress since"), "{}", human.stdout);
    assert!(human.stdout.contains("stage fence committed; `idp failover --cell payments --env production --resume`"));

    // Nothing starts over it: not a new failover, not a failback, not a resume of the other.
    for args in [&["failover"][..], &["failback"], &["failback", "--resume"]] {
        let mut argv = args.to_vec();
        argv.extend(["--cell", "payments", "--env", "prod", "--replication-lag", "3", "--repo", STATE, "--yes"]);
        argv.extend(["-o", "json"]);
        let run = env.idp(&argv);
        assert_eq!(run.code(1).json()["error"]["code"], "idp::failover::in_progress", "{}", run.args);
    }
    assert_eq!(env.head(STATE), fence);

    // Once the cloud applies the fence, --resume waits for it and goes on.
    let fixed = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &fixed.url());
    let run = failover(&env, &["--resume", "--replication-lag", "3"]);
    let doc = run.code(0).json();
    assert_eq!(doc["resumed"], true);
    let done = pairs(&EVERY_STAGE_DONE);
    assert_eq!(stages(&doc), done, "{doc:#}");
    assert_eq!(doc["stages"][0]["commit"], fence.as_str(), "the fence committed before, waited for again");
    let waited = &doc["stages"][0]["wait"]["requests"][0];
    assert_eq!((&waited["name"], &waited["state"]), (&json!("payments-db"), &json!("READY")), "{doc:#}");
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", &format!("{fence}..HEAD")]).trim(), "4");
    let cell = cell_file(&env, "HEAD");
    assert_eq!((&cell["activeSide"], &cell["runbook"]), (&json!("secondary"), &Value::Null));

    // Nothing is left to resume.
    let run = failover(&env, &["--resume", "--replication-lag", "3"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::failover::nothing_to_resume");
}

/// A staged runbook reads the cluster before it writes anything; `--no-wait` is the
/// disaster path and says what it cannot verify. `--resume --no-wait` finishes a runbook
/// part way in one commit.
#[test]
fn without_a_cluster_only_no_wait_moves_and_it_says_what_it_cannot_verify() {
    let env = payments();
    let before = env.head(STATE);
    let run = failover(&env, &["--replication-lag", "3"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::failover::cluster");
    run.stderr_says("--no-wait");
    assert_eq!(env.head(STATE), before, "nothing written");

    // Stopped at its fence (the cloud never fences), then the cluster goes away.
    let stuck = cluster(&env, Cloud::NeverFences);
    kubeconfig(&env, &stuck.url());
    failover(&env, &["--replication-lag", "3", "--wait-timeout", "1s"]).code(1);
    let fence = env.head(STATE);
    std::fs::remove_file(env.home().join(".kube/config")).unwrap();

    let run = failover(&env, &["--resume", "--no-wait", "--replication-lag", "3"]);
    let doc = run.code(0).json();
    run.stderr_says("warning: --no-wait: not verified: that the primary databases' write fence took effect");
    assert!(!doc["unverified"].as_array().unwrap().is_empty());
    assert_eq!(env.rev(STATE, "HEAD~1"), fence, "the rest in one commit");
    let cell = cell_file(&env, "HEAD");
    assert_eq!((&cell["activeSide"], &cell["runbook"]), (&json!("secondary"), &Value::Null));

    // The same end state as a failover that never stopped.
    assert_ends_as_the_one_commit_runbook(&env);
}

/// A Prometheus query API whose lag drains after `high` queries above RPO (or never).
fn lag_api(high: usize, then: f64) -> FakeApi {
    let served = Arc::new(Mutex::new(0usize));
    FakeApi::start(move |seen| {
        assert_eq!(seen.path(), "/api/v1/query");
        let mut n = served.lock().unwrap();
        *n += 1;
        let lag = if *n <= high { 100.0 } else { then };
        let body = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"cell": "payments"}, "value": [1_765_000_000.0, lag.to_string()]}
        ]}});
        (200, body.to_string())
    })
}

/// The lag gate comes after the fence: with writes stopped the lag drains, so a query
/// above RPO is read again until it is within it; one that never drains stops the
/// runbook at the gate, the fence holding.
#[test]
fn the_lag_gate_waits_after_the_fence_for_the_lag_to_drain() {
    let env = payments();
    let api = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &api.url());
    // Read once before anything is written (above RPO: not refused, gated later), once
    // after the fence (still above), then within RPO.
    let draining = lag_api(2, 2.0);
    let doc = failover(&env, &["--lag-url", &draining.url()]).code(0).json();
    assert_eq!(doc["observed_lag_seconds"], 2.0);
    assert_eq!(doc["stages"][1]["stage"], "lag");
    assert_eq!(doc["stages"][1]["status"], "done");
    assert!(draining.seen().len() >= 3, "read again until it drained");

    let env = payments();
    let api = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &api.url());
    let before = env.head(STATE);
    let stuck = lag_api(usize::MAX, 0.0);
    let run = failover(&env, &["--lag-url", &stuck.url(), "--wait-timeout", "2s"]);
    let doc = run.code(1).json();
    run.stderr_says("failover stopped at its lag stage");
    run.stderr_says("replication lag 100s is still above the RPO of 30s");
    assert_eq!(stages(&doc), pairs(&[("fence", "done"), ("lag", "not-done")]));
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", &format!("{before}..HEAD")]).trim(), "1", "the fence only");
}

/// Each stage is a commit of its own: `idp rollback` undoes the last one, the cell file
/// with it, so a runbook abandoned at its fence leaves the cell as it was before.
#[test]
fn rollback_undoes_a_stage_and_the_runbook_with_it() {
    let env = payments();
    let before = env.head(STATE);
    let stuck = cluster(&env, Cloud::NeverFences);
    kubeconfig(&env, &stuck.url());
    failover(&env, &["--replication-lag", "3", "--wait-timeout", "1s"]).code(1);
    env.idp(&["rollback", "--repo", STATE, "--yes"]).code(0);
    let tree = |revision: &str| env.git_in(STATE, &["ls-tree", "-r", revision, "platform/", "cells/"]);
    assert_eq!(tree("HEAD"), tree(&before), "the fence lifted, no runbook recorded");
    assert_eq!(env.idp(&["verify", "--repo", STATE]).code, 0);
    let status = env.idp(&["status", "cell", "payments", "prod", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(status["runbook"], Value::Null);
}

/// Another operator's rollback between two stages: the runbook stops rather than land
/// its next stage over it.
#[test]
fn a_rollback_between_two_stages_stops_the_runbook() {
    let env = payments();
    let reverted = Arc::new(Mutex::new(false));
    let api = cluster_with(&env, Cloud::Follows, move |repo| {
        let git = |args: &[&str]| {
            let output = std::process::Command::new("git").arg("-C").arg(repo).args(args).output().expect("git");
            String::from_utf8(output.stdout).expect("utf-8")
        };
        let mut reverted = reverted.lock().unwrap();
        if !*reverted && git(&["log", "-1", "--format=%B"]).contains("Idp-Stage: fence") {
            git(&["revert", "--no-edit", "HEAD"]);
            *reverted = true;
        }
    });
    kubeconfig(&env, &api.url());
    let run = failover(&env, &["--replication-lag", "3"]);
    let doc = run.code(1).json();
    assert_eq!(doc["error"]["code"], "idp::failover::changed");
    run.stderr_says("it expected stage fence, the state repo now records no runbook");
    assert!(env.git_in(STATE, &["log", "-1", "--format=%s"]).starts_with("Revert"), "nothing landed over the revert");
}
