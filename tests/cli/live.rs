//! `idp status KIND NS/NAME --live` end to end: a real state repo, the idp binary, and a
//! stand-in Kubernetes API server (tests/support/fake_api.rs) serving API objects shaped
//! after the upstream types (tests/fixtures/live/, whose README pins the sources), with
//! their revisions set to the state repo's real commits.
//!
//! What this cannot prove: that a real API server, Argo CD and Crossplane answer like the
//! fixtures; TLS and real credentials (the stand-in speaks plain HTTP with a static token).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::common::{Run, TestEnv};
use crate::fake_api::{FakeApi, Seen, status};

const STATE: &str = "state";
const CELL_APP: &str = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/cell--cell-us-east--production";
const CLAIM: &str = "/apis/platform.example.org/v1alpha1/namespaces/team-alpha/mysqlinstanceclaims/orders-db";
const SECRET: &str = "/api/v1/namespaces/team-alpha/secrets/orders-db-conn";
/// The claims' composite (their `spec.resourceRef`), cluster-scoped.
const COMPOSITE: &str = "/apis/platform.example.org/v1alpha1/xmysqlinstances/orders-db-7xk2p";

pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/live/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The cell's Application, synced and Healthy at `revision`, compared with its own spec.
pub(crate) fn cell_application(revision: &str) -> Value {
    let mut app = fixture("application-syncing");
    let spec_source = app["spec"]["source"].clone();
    let spec_destination = app["spec"]["destination"].clone();
    app["status"]["sync"] = json!({
        "status": "Synced", "revision": revision,
        "comparedTo": {"source": spec_source, "destination": spec_destination}
    });
    app["status"]["health"] = json!({"status": "Healthy", "lastTransitionTime": "2026-12-06T15:20:00Z"});
    app["status"]["operationState"]["phase"] = json!("Succeeded");
    app["status"]["operationState"]["syncResult"]["revision"] = json!(revision);
    app
}

/// The objects the stand-in serves, by API path; any other path is 404.
type Served = Vec<(&'static str, Value)>;

#[derive(Default)]
struct Cluster {
    objects: Served,
}

impl Cluster {
    fn serve(self) -> FakeApi {
        let objects = Arc::new(Mutex::new(self.objects));
        FakeApi::start(move |seen: &Seen| {
            let objects = objects.lock().unwrap();
            match objects.iter().find(|(path, _)| *path == seen.path()) {
                // A Secret only as metadata: anything else would be a request for its data.
                Some((SECRET, _)) if !seen.header("accept").unwrap_or_default().contains("PartialObjectMetadata") => {
                    (406, status(406, "NotAcceptable", "metadata-only"))
                }
                Some((_, object)) => (200, object.to_string()),
                None => (404, fixture("status-notfound").to_string()),
            }
        })
    }
}

/// A state repo holding orders-db (examples/orders-db.yaml, cell-us-east/production), and
/// its commit.
fn placed() -> (TestEnv, String) {
    let env = TestEnv::new();
    env.init_state(STATE);
    let request = env.example("orders-db.yaml");
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    let head = env.head(STATE);
    (env, head)
}

/// A kubeconfig at the sandbox's ~/.kube/config (where kubectl looks) for `server`.
pub(crate) fn kubeconfig(env: &TestEnv, server: &str) {
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: mgmt\nclusters:\n- name: mgmt\n  cluster:\n    server: {server}\n\
         contexts:\n- name: mgmt\n  context:\n    cluster: mgmt\n    user: reader\n\
         users:\n- name: reader\n  user:\n    token: read-only-token\n"
    );
    let dir = env.home().join(".kube");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), text).unwrap();
}

fn live(env: &TestEnv, extra: &[&str]) -> Run {
    let mut args = vec!["status", "mysql", "team-alpha/orders-db", "--live", "--repo", STATE, "-o", "json"];
    args.extend_from_slice(extra);
    env.idp(&args)
}

fn parts(doc: &Value) -> Vec<(String, String)> {
    doc["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["object"].as_str().unwrap().to_owned(), p["state"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn a_database_synced_ready_and_published_is_ready() {
    let (env, head) = placed();
    let mut ready = fixture("claim-ready");
    ready["spec"]["parameters"]["writeFence"] = json!(false);
    let api = Cluster {
        objects: vec![(CELL_APP, cell_application(&head)), (CLAIM, ready), (SECRET, fixture("secret-metadata"))],
    }
    .serve();
    kubeconfig(&env, &api.url());
    let run = live(&env, &[]);
    let doc = run.code(0).json();
    assert_eq!(doc["state"], "READY", "{doc:#}");
    crate::output::assert_shape("status-live", &run.args, &doc);
    assert_eq!(doc["parts"][1]["composed"], "XMySQLInstance orders-db-7xk2p does not exist", "not served here");
    // The claim's write fence as wanted and as the cloud reports it: a failover's first question.
    assert_eq!(doc["parts"][1]["fence"], json!({"wanted": "read-write", "observed": "0", "applied": true}));
    assert_eq!(doc["parts"][0].get("fence"), None, "claims only");
    assert_eq!(doc["commit"], head.as_str());
    assert_eq!(doc["cluster"], format!("mgmt ({})", api.url()));
    assert_eq!(
        parts(&doc),
        [
            ("Application argocd/cell--cell-us-east--production".to_owned(), "READY".to_owned()),
            ("MySQLInstanceClaim team-alpha/orders-db".to_owned(), "READY".to_owned()),
            ("Secret team-alpha/orders-db-conn".to_owned(), "READY".to_owned()),
        ]
    );
    // The cell's view: each member's state, read the same way.
    let cell = env.idp(&["status", "cell", "cell-us-east", "prod", "--live", "--repo", STATE, "-o", "json"]);
    let cell_args = cell.args.clone();
    let cell = cell.code(0).json();
    crate::output::assert_shape("status-cell-live", &cell_args, &cell);
    assert_eq!(cell["environment"], "production");
    assert_eq!(cell["members"].as_array().unwrap().len(), 1);
    assert_eq!(cell["members"][0]["name"], "orders-db");
    assert_eq!(cell["members"][0]["state"], "READY");
    // Read-only, with the kubeconfig's credentials, and the Secret as metadata only.
    for seen in api.seen() {
        assert_eq!(seen.method, "GET", "{seen:?}");
        assert_eq!(seen.header("authorization"), Some("Bearer read-only-token"));
        if seen.path() == SECRET {
            assert!(seen.header("accept").unwrap().contains("as=PartialObjectMetadata"), "{seen:?}");
        }
    }
}

#[test]
fn each_lifecycle_state_from_what_the_cluster_reports() {
    let (env, head) = placed();
    let init = env.rev(STATE, "HEAD~1");
    let secret = || (SECRET, fixture("secret-metadata"));
    let cases: Vec<(&str, Served, &str)> = vec![
        // Argo CD synced an older commit: the change is committed, not applied.
        (
            "PENDING",
            vec![(CELL_APP, cell_application(&init)), (CLAIM, fixture("claim-ready")), secret()],
            "has not synced",
        ),
        // No claim yet, and the Application not there at all.
        ("PENDING", vec![], "Argo CD has no Application cell--cell-us-east--production yet"),
        // What is not ready, as the composite sums up its composed resources.
        (
            "PROVISIONING",
            vec![
                (CELL_APP, cell_application(&head)),
                (CLAIM, fixture("claim-creating")),
                (COMPOSITE, fixture("composite-unready")),
            ],
            "Ready=False (Waiting): Claim is waiting for composite resource to become Ready; composite: Unready resources: instance",
        ),
        (
            "DEGRADED",
            vec![(CELL_APP, cell_application(&head)), (CLAIM, fixture("claim-unavailable")), secret()],
            "Waiting",
        ),
        (
            "DELETING",
            vec![(CELL_APP, cell_application(&head)), (CLAIM, fixture("claim-deleting")), secret()],
            "being deleted",
        ),
        (
            "FAILED",
            vec![(CELL_APP, cell_application(&head)), (CLAIM, fixture("claim-reconcile-error"))],
            "refusing to modify uncontrolled secret",
        ),
    ];
    for (expected, objects, why) in cases {
        let api = Cluster { objects }.serve();
        kubeconfig(&env, &api.url());
        let doc = live(&env, &[]).code(0).json();
        assert_eq!(doc["state"], expected, "{doc:#}");
        assert!(doc["why"].as_str().unwrap().contains(why), "{why} not in {doc:#}");
    }
    // A sync of this very commit that Argo CD gave up on.
    let mut failed = fixture("application-sync-failed");
    failed["status"]["operationState"]["syncResult"]["revision"] = json!(head);
    let api = Cluster { objects: vec![(CELL_APP, failed)] }.serve();
    kubeconfig(&env, &api.url());
    let doc = live(&env, &[]).code(0).json();
    assert_eq!(doc["state"], "FAILED");
    assert!(doc["why"].as_str().unwrap().contains("is not permitted in project idp-platform"), "{doc:#}");
}

/// A cluster that cannot be reached, or refuses the read, is reported as such: no state,
/// exit 1, never a crash. An unknown context names the ones there are.
#[test]
fn a_cluster_that_cannot_be_read_is_reported_not_guessed() {
    let (env, _) = placed();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    kubeconfig(&env, &format!("http://127.0.0.1:{port}"));
    let run = live(&env, &[]);
    let doc = run.code(1).json();
    assert_eq!(doc["state"], Value::Null);
    assert!(doc["why"].as_str().unwrap().starts_with("cannot reach the cluster mgmt"), "{doc:#}");

    let api = FakeApi::start(|_: &Seen| (403, status(403, "Forbidden", "applications.argoproj.io is forbidden")));
    kubeconfig(&env, &api.url());
    let doc = live(&env, &[]).code(1).json();
    assert!(doc["why"].as_str().unwrap().contains("applications.argoproj.io is forbidden"), "{doc:#}");

    let doc = live(&env, &["--context", "prod-admin"]).code(1).json();
    let why = doc["why"].as_str().unwrap();
    assert!(why.contains("prod-admin") && why.contains("mgmt"), "{why}");

    // The human form says the same, on stdout, in words.
    let run =
        env.idp(&["status", "mysql", "team-alpha/orders-db", "--live", "--context", "prod-admin", "--repo", STATE]);
    run.code(1);
    assert!(run.stdout.starts_with("mysql team-alpha/orders-db: UNKNOWN\n"), "{}", run.stdout);
}

/// KUBECONFIG is honoured as kubectl does, and the policy may name the management context.
#[test]
fn the_context_comes_from_the_flag_the_policy_or_the_kubeconfig() {
    let (env, head) = placed();
    let api = Cluster { objects: vec![(CELL_APP, cell_application(&head))] }.serve();
    let path = env.write("elsewhere.yaml", format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: laptop\nclusters:\n- name: mgmt\n  cluster:\n    server: {}\n\
         contexts:\n- name: laptop\n  context:\n    cluster: nowhere\n    user: reader\n- name: platform-mgmt\n  context:\n    cluster: mgmt\n    user: reader\n\
         users:\n- name: reader\n  user:\n    token: read-only-token\n",
        api.url()
    ));
    let run = |extra: &[&str]| {
        let mut args = vec!["status", "mysql", "team-alpha/orders-db", "--live", "--repo", STATE, "-o", "json"];
        args.extend_from_slice(extra);
        let output = env.idp_command(&args).env("KUBECONFIG", &path).output().unwrap();
        Run::of(&args, &output)
    };
    // The current context names a cluster the file does not define.
    assert_eq!(run(&[]).code(1).json()["state"], Value::Null);
    assert_eq!(
        run(&["--context", "platform-mgmt"]).code(0).json()["cluster"],
        format!("platform-mgmt ({})", api.url())
    );

    let policy = env.read("state/policy/policy.yaml") + "kubeContexts:\n  management: platform-mgmt\n";
    env.write("state/policy/policy.yaml", policy);
    env.git_in(STATE, &["commit", "-qam", "policy: the management context"]);
    assert_eq!(run(&[]).code(0).json()["cluster"], format!("platform-mgmt ({})", api.url()));
}

/// HEAD of the repo at `path`, read with the git CLI when the stand-in is asked (as Argo
/// CD would see it, minutes after a commit).
pub(crate) fn head_of(path: &std::path::Path) -> String {
    let output = std::process::Command::new("git").arg("-C").arg(path).args(["rev-parse", "HEAD"]).output();
    String::from_utf8(output.expect("git rev-parse").stdout).expect("a hash").trim().to_owned()
}

/// A stand-in that follows the state repo: the cell's Application is synced to whatever
/// HEAD is when it is asked (as Argo CD would be, minutes later), and the claim answers
/// `claims` in turn, the last one for ever.
fn following(env: &TestEnv, claims: Vec<Value>) -> FakeApi {
    let repo = env.path(STATE);
    let served = Arc::new(Mutex::new(0usize));
    FakeApi::start(move |seen: &Seen| match seen.path() {
        CELL_APP => (200, cell_application(&head_of(&repo)).to_string()),
        CLAIM => {
            let mut n = served.lock().unwrap();
            let claim = &claims[(*n).min(claims.len() - 1)];
            *n += 1;
            (200, claim.to_string())
        }
        SECRET => (200, fixture("secret-metadata").to_string()),
        _ => (404, fixture("status-notfound").to_string()),
    })
}

fn ready_claim() -> Value {
    let mut ready = fixture("claim-ready");
    ready["spec"]["parameters"]["writeFence"] = json!(false);
    ready
}

/// `apply --wait` exits 0 only once the cluster reports the change READY, saying on stderr
/// what it waits for; the one JSON document carries what the cluster reported.
#[test]
fn apply_wait_returns_once_the_change_is_ready() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let api = following(&env, vec![fixture("claim-creating"), fixture("claim-creating"), ready_claim()]);
    kubeconfig(&env, &api.url());
    let request = env.example("orders-db.yaml");
    let run = env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes", "--wait", "-o", "json"]);
    let doc = run.code(0).json();
    assert_eq!(doc["commit"], env.head(STATE).as_str());
    assert_eq!(doc["live"]["ready"], true, "{doc:#}");
    assert_eq!(doc["live"]["ended"], Value::Null);
    assert_eq!(doc["live"]["requests"][0]["state"], "READY");
    crate::output::assert_shape("apply", &run.args, &doc);
    run.stderr_says("waiting: mysql team-alpha/orders-db PROVISIONING: claim orders-db Ready=False (Waiting)");
    run.stderr_says("waiting: mysql team-alpha/orders-db READY");
}

/// Not ready in time, or failed: exit 1 naming the request, its state and why; the commit
/// stays.
#[test]
fn apply_wait_fails_on_timeout_or_failure_naming_what_is_not_ready() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let api = following(&env, vec![fixture("claim-creating")]);
    kubeconfig(&env, &api.url());
    let request = env.example("orders-db.yaml");
    let run =
        env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes", "--wait", "--wait-timeout", "1s", "-o", "json"]);
    let doc = run.code(1).json();
    assert_eq!(doc["commit"], env.head(STATE).as_str(), "the commit stays");
    assert_eq!((doc["live"]["ready"].as_bool(), doc["live"]["ended"].as_str()), (Some(false), Some("timeout")));
    crate::output::assert_shape("apply", &run.args, &doc);
    run.stderr_says("not ready after 1s:");
    run.stderr_says("mysql team-alpha/orders-db is PROVISIONING: claim orders-db Ready=False (Waiting)");

    // A claim that cannot reconcile and never was Ready: no point waiting for it.
    let api = following(&env, vec![fixture("claim-reconcile-error")]);
    kubeconfig(&env, &api.url());
    let changed = env.write("orders-db-xl.yaml", env.read(&request).replace("size: large", "size: xlarge"));
    let run = env.idp(&["apply", "-f", &changed, "--repo", STATE, "--yes", "--wait"]);
    run.code(1);
    run.stderr_says("the change failed in the cluster:");
    run.stderr_says("refusing to modify uncontrolled secret");

    // Usage: a duration, positive.
    for bad in ["soon", "0s"] {
        env.idp(&["apply", "-f", &changed, "--repo", STATE, "--yes", "--wait", "--wait-timeout", bad]).code(1);
    }
}

/// `delete --wait` exits 0 once nothing the request rendered is left: the cell's
/// Application synced the deletion and the claim is gone (DELETING while Crossplane's
/// finalizer deletes the cloud database). What this cannot prove: how long a real cloud
/// takes, or that Argo CD prunes as the stand-in pretends.
#[test]
fn delete_wait_returns_once_the_claim_is_gone() {
    let env = TestEnv::new();
    env.init_state(STATE);
    // Staging: no deletion protection to turn off first.
    let request = env.write("db.yaml", env.read(&env.example("orders-db.yaml")).replace("production", "staging"));
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    let repo = env.path(STATE);
    let claims = [Some(ready_claim()), Some(fixture("claim-deleting-background")), None];
    let served = Arc::new(Mutex::new(0usize));
    let api = FakeApi::start(move |seen: &Seen| match seen.path() {
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/cell--cell-us-east--staging" => {
            (200, cell_application(&head_of(&repo)).to_string())
        }
        CLAIM => {
            let mut n = served.lock().unwrap();
            let claim = claims[(*n).min(claims.len() - 1)].clone();
            *n += 1;
            match claim {
                Some(claim) => (200, claim.to_string()),
                None => (404, fixture("status-notfound").to_string()),
            }
        }
        _ => (404, fixture("status-notfound").to_string()),
    });
    kubeconfig(&env, &api.url());
    let run = env.idp(&[
        "delete",
        "mysql",
        "team-alpha/orders-db",
        "--repo",
        STATE,
        "--yes",
        "--allow-destroy",
        "--wait",
        "-o",
        "json",
    ]);
    let doc = run.code(0).json();
    assert_eq!(doc["commit"], env.head(STATE).as_str());
    assert_eq!(doc["live"]["ready"], true, "{doc:#}");
    assert_eq!(doc["live"]["requests"][0]["state"], "GONE");
    crate::output::assert_shape("delete", &run.args, &doc);
    run.stderr_says(
        "waiting: mysql team-alpha/orders-db DELETING: MySQLInstanceClaim team-alpha/orders-db is being deleted",
    );
    run.stderr_says("waiting: mysql team-alpha/orders-db GONE");
    // The cell's last request: Argo CD will not prune its Application down to nothing.
    run.stderr_says("argocd app sync cell--cell-us-east--staging --prune");
}

/// `verify --live`: Git against the management cluster. The claim served is the one Git
/// renders plus what the API server and Crossplane add (status, references, defaults),
/// which is not drift; a field Git renders and the cluster holds otherwise is.
#[test]
fn verify_live_reports_drift_missing_objects_and_claims_no_request_explains() {
    let (env, head) = placed();
    let rendered =
        env.git_in(STATE, &["show", "HEAD:platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml"]);
    let mut claim = crate::common::yaml_documents(&rendered).remove(0);
    claim["spec"]["compositeDeletePolicy"] = json!("Background");
    claim["spec"]["resourceRef"] =
        json!({"apiVersion": "platform.example.org/v1alpha1", "kind": "XMySQLInstance", "name": "orders-db-x7k2p"});
    claim["status"] = fixture("claim-ready")["status"].clone();
    let list = |items: Vec<Value>| json!({"apiVersion": "platform.example.org/v1alpha1", "kind": "MySQLInstanceClaimList", "metadata": {}, "items": items});
    let stray = json!({"apiVersion": "platform.example.org/v1alpha1", "kind": "MySQLInstanceClaim",
                       "metadata": {"name": "stray", "namespace": "team-x", "labels": {"app.kubernetes.io/managed-by": "idp"}}});
    let all_claims = "/apis/platform.example.org/v1alpha1/mysqlinstanceclaims";
    let all_replications = "/apis/platform.example.org/v1alpha1/replicationclaims";
    let verify = |objects: Served| {
        let api = Cluster { objects }.serve();
        kubeconfig(&env, &api.url());
        let run = env.idp(&["verify", "--live", "--repo", STATE, "-o", "json"]);
        let findings: Vec<(String, String)> = run.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["severity"].as_str().unwrap().to_owned(), f["message"].as_str().unwrap().to_owned()))
            .collect();
        (run.code, findings)
    };

    // As Git renders it: nothing to say.
    let in_sync = vec![
        (CELL_APP, cell_application(&head)),
        (CLAIM, claim.clone()),
        (all_claims, list(vec![claim.clone()])),
        (all_replications, list(vec![])),
    ];
    assert_eq!(verify(in_sync), (0, vec![]));

    // A hand edit in the cluster, and a claim nobody asked for.
    let mut edited = claim.clone();
    edited["spec"]["parameters"]["size"] = json!("xlarge");
    let (code, findings) = verify(vec![
        (CELL_APP, cell_application(&head)),
        (CLAIM, edited),
        (all_claims, list(vec![claim.clone(), stray])),
        (all_replications, list(vec![])),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        findings,
        [
            // Sorted by file: the cluster's name, then the Git path.
            ("error".to_owned(), "MySQLInstanceClaim team-x/stray is labelled as idp's but no request explains it (a hand-made claim, or one Argo CD did not prune)".to_owned()),
            ("error".to_owned(), "MySQLInstanceClaim team-alpha/orders-db differs from Git at spec.parameters.size: Git \"large\", cluster \"xlarge\"".to_owned()),
        ]
    );

    // Missing: an error once Argo CD synced the commit, a warning before.
    let missing = |revision: &str| {
        vec![(CELL_APP, cell_application(revision)), (all_claims, list(vec![])), (all_replications, list(vec![]))]
    };
    let (code, findings) = verify(missing(&head));
    assert_eq!(code, 1);
    assert_eq!(
        findings,
        [(
            "error".to_owned(),
            "MySQLInstanceClaim team-alpha/orders-db is not in the cluster, though Argo CD synced the commit"
                .to_owned()
        )]
    );
    let (code, findings) = verify(missing(&env.rev(STATE, "HEAD~1")));
    assert_eq!(code, 0);
    assert_eq!(findings[0].0, "warning");
}

/// An app's live state is its cell's Application and its own Applications (one per
/// side), whose health Argo CD reports for the Deployment on the runtime cluster.
#[test]
fn an_app_is_ready_when_its_applications_are_synced_and_healthy() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let request = env.example("web-app.yaml");
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    let head = env.head(STATE);
    let at_head = |name: &str| {
        let mut app = fixture(name);
        app["status"]["sync"]["revision"] = json!(head);
        app
    };
    let cell = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/cell--cell-eu--dev";
    let primary = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/team-web--storefront-primary";
    for (served, expected) in [("application-synced-healthy", "READY"), ("application-degraded", "DEGRADED")] {
        let api = Cluster { objects: vec![(cell, cell_application(&head)), (primary, at_head(served))] }.serve();
        kubeconfig(&env, &api.url());
        let run = env.idp(&["status", "app", "team-web/storefront", "--live", "--repo", STATE, "-o", "json"]);
        let doc = run.code(0).json();
        assert_eq!(doc["state"], expected, "{doc:#}");
        assert_eq!(
            parts(&doc).into_iter().map(|(object, _)| object).collect::<Vec<_>>(),
            ["Application argocd/cell--cell-eu--dev", "Application argocd/team-web--storefront-primary"]
        );
    }
}

/// A database with a secondary: its primary and secondary claims (each with the fence it
/// asks for) and its ReplicationClaim (which has none: xrd-replication.yaml) are all READY
/// once Crossplane reports them Ready, and so is the request. The stand-in is the cluster of
/// tests/cli/runbook.rs, following Git.
#[test]
fn apply_wait_of_a_database_with_a_standby_is_ready_with_its_replication() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let api = crate::runbook::cluster(&env, crate::runbook::Cloud::Follows);
    kubeconfig(&env, &api.url());
    let request = env.example("payments-c0.json");
    let run = env.idp(&[
        "apply",
        "mysql",
        "-f",
        &request,
        "--repo",
        STATE,
        "--yes",
        "--wait",
        "--wait-timeout",
        "20s",
        "-o",
        "json",
    ]);
    let doc = run.code(0).json();
    let parts = parts(&doc["live"]["requests"][0]);
    let replication = ("ReplicationClaim team-payments/payments-db-replication".to_owned(), "READY".to_owned());
    assert!(parts.contains(&replication), "{parts:?}");
}

/// An app's workload on its runtime cluster, where the policy names that cluster's context
/// (`kubeContexts.runtime`): its Deployment read there as Argo CD reads a Deployment's health
/// (gitops-engine pkg/health/health_deployment.go), and every runtime cluster reported, read
/// or not and why, per cluster; one that cannot be reached never fails the read of the
/// management cluster. What this cannot prove: a real runtime cluster's credentials (the
/// stand-ins speak plain HTTP with a static token).
#[test]
fn an_apps_workload_is_read_on_its_runtime_cluster_where_the_policy_names_its_context() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let request = env.example("web-app.yaml");
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    let head = env.head(STATE);
    let path = "platform/team-web/app-storefront/cell-eu.dev.application-primary.yaml";
    let application = &crate::common::yaml_documents(&env.git_in(STATE, &["show", &format!("HEAD:{path}")]))[0];
    let runtime = application["spec"]["destination"]["name"].as_str().unwrap().to_owned();
    let count = application["spec"]["source"]["kustomize"]["replicas"][0]["count"].as_i64().unwrap();
    let mut synced = fixture("application-synced-healthy");
    synced["status"]["sync"]["revision"] = json!(head);
    let management = Cluster {
        objects: vec![
            ("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/cell--cell-eu--dev", cell_application(&head)),
            ("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/team-web--storefront-primary", synced),
        ],
    }
    .serve();
    let deployment = |name: &str, updated: i64| {
        let mut served = fixture(name);
        served["metadata"]["name"] = json!("storefront");
        served["metadata"]["namespace"] = json!("team-web");
        served["spec"]["replicas"] = json!(count);
        served["status"]["replicas"] = json!(count);
        served["status"]["updatedReplicas"] = json!(updated);
        served["status"]["availableReplicas"] = json!(updated);
        served
    };
    const WORKLOAD: &str = "/apis/apps/v1/namespaces/team-web/deployments/storefront";
    let kubeconfig_for = |runtime_server: &str| {
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: mgmt\nclusters:\n- name: mgmt\n  cluster:\n    server: {}\n\
             - name: rt\n  cluster:\n    server: {runtime_server}\n\
             contexts:\n- name: mgmt\n  context:\n    cluster: mgmt\n    user: reader\n- name: runtime\n  context:\n    cluster: rt\n    user: reader\n\
             users:\n- name: reader\n  user:\n    token: read-only-token\n",
            management.url()
        );
        let dir = env.home().join(".kube");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config"), text).unwrap();
    };
    let status = || env.idp(&["status", "app", "team-web/storefront", "--live", "--repo", STATE, "-o", "json"]);

    // No context for the runtime cluster: not read, and said so.
    let available = Cluster { objects: vec![(WORKLOAD, deployment("deployment-available", count))] }.serve();
    kubeconfig_for(&available.url());
    let doc = status().code(0).json();
    assert_eq!(doc["state"], "READY", "{doc:#}");
    assert_eq!((&doc["runtime"][0]["cluster"], &doc["runtime"][0]["context"]), (&json!(runtime), &Value::Null));
    assert_eq!(doc["runtime"][0]["read"], false);
    assert!(available.seen().is_empty(), "not asked without a context");

    // The policy names it: the Deployment is read there.
    let policy = env.read("state/policy/policy.yaml") + &format!("kubeContexts:\n  runtime:\n    {runtime}: runtime\n");
    env.write("state/policy/policy.yaml", policy);
    env.git_in(STATE, &["commit", "-qam", "policy: the runtime cluster's context"]);
    let run = status();
    let doc = run.code(0).json();
    crate::output::assert_shape("status-live", &run.args, &doc);
    let object = format!("Deployment team-web/storefront on {runtime}");
    assert!(parts(&doc).contains(&(object.clone(), "READY".to_owned())), "{doc:#}");
    assert_eq!((&doc["runtime"][0]["context"], &doc["runtime"][0]["read"]), (&json!("runtime"), &json!(true)));

    // A rollout under way, then one past its deadline.
    for (fixture_name, updated, state, says) in [
        ("deployment-rolling", count - 1, "PROVISIONING", format!("{} of {count} replicas updated", count - 1)),
        ("deployment-deadline", count - 1, "DEGRADED", "exceeded its progress deadline".to_owned()),
    ] {
        let api = Cluster { objects: vec![(WORKLOAD, deployment(fixture_name, updated))] }.serve();
        kubeconfig_for(&api.url());
        let doc = status().code(0).json();
        assert_eq!(doc["state"], state, "{fixture_name}: {doc:#}");
        assert!(doc["why"].as_str().unwrap().contains(&says), "{fixture_name}: {doc:#}");
    }

    // The runtime cluster cannot be reached: the management cluster's read stands, and the
    // runtime cluster is reported as not read, with why.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = gone.local_addr().unwrap().port();
    drop(gone);
    kubeconfig_for(&format!("http://127.0.0.1:{port}"));
    let doc = status().code(0).json();
    assert_eq!(doc["state"], "READY", "{doc:#}");
    assert_eq!((&doc["runtime"][0]["read"], &doc["runtime"][0]["context"]), (&json!(false), &json!("runtime")));
    let human = env.idp(&["status", "app", "team-web/storefront", "--live", "--repo", STATE, "--color", "never"]);
    assert!(human.code(0).stdout.contains(&format!("runtime cluster {runtime} (context runtime) cannot be read")));
}

/// `apply --push --wait` while another pipeline pushes after it: Argo CD reports a revision
/// this clone has never fetched. It is fetched (once) from the remote the commit went to,
/// and found to contain the commit. What this cannot prove: a remote over the network (the
/// remote here is a local bare repository).
#[test]
fn a_wait_fetches_a_revision_another_pipeline_pushed_after_the_commit() {
    let env = TestEnv::new();
    env.idp(&["init", "seed"]).code(0);
    env.git(&["clone", "--quiet", "--bare", "seed", "remote.git"]);
    for clone in [STATE, "other"] {
        env.git(&["clone", "--quiet", "remote.git", clone]);
        env.set_identity(clone);
    }
    let (remote, other) = (env.path("remote.git"), env.path("other"));
    let pushed = Arc::new(Mutex::new(false));
    let api = FakeApi::start(move |seen: &Seen| {
        let git = |dir: &std::path::Path, args: &[&str]| {
            let out = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().expect("git");
            String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
        };
        let mut pushed = pushed.lock().unwrap();
        if !*pushed {
            // Another pipeline lands a commit on top of ours before Argo CD polls.
            git(&other, &["pull", "--quiet", "--ff-only"]);
            git(&other, &["commit", "--quiet", "--allow-empty", "-m", "another pipeline"]);
            git(&other, &["push", "--quiet"]);
            *pushed = true;
        }
        match seen.path() {
            CELL_APP => (200, cell_application(&git(&remote, &["rev-parse", "HEAD"])).to_string()),
            CLAIM => (200, ready_claim().to_string()),
            SECRET => (200, fixture("secret-metadata").to_string()),
            _ => (404, fixture("status-notfound").to_string()),
        }
    });
    kubeconfig(&env, &api.url());
    let request = env.example("orders-db.yaml");
    let run = env.idp(&[
        "apply",
        "-f",
        &request,
        "--repo",
        STATE,
        "--yes",
        "--push",
        "--wait",
        "--wait-timeout",
        "10s",
        "-o",
        "json",
    ]);
    let doc = run.code(0).json();
    assert_eq!(doc["live"]["requests"][0]["state"], "READY", "{doc:#}");
    let newer = env.git_in("remote.git", &["rev-parse", "HEAD"]);
    assert_ne!(newer.trim(), doc["commit"].as_str().unwrap(), "Argo CD synced a later commit than the apply's");
}
