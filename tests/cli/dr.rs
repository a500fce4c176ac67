//! Disaster recovery end to end: apps that follow their database, the standby each
//! drProfile keeps (warm, pilot, cold), and `idp failover` / `idp failback` /
//! `idp status cell` on real state repos in temp dirs (docs/disaster-recovery.md,
//! PRODUCT.md §7). Every result is read back with the `git` CLI, never with idp's reader.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    GIT_IDENTITY, PLACEMENT_HELP, Run, TestEnv, crate_dir, default_policy_text, edit, lines, sorted, yaml_documents,
};
use crate::crd_schema;

// ---------------------------------------------------------------------------------------
// The seed example and its files
// ---------------------------------------------------------------------------------------

const STATE: &str = "state";
/// `by` of every event: the identity in the state repo's config.
const BY: &str = GIT_IDENTITY;
const REASON: &str = "us-east-1 degraded";

const DB_PRIMARY: &str = "platform/team-payments/mysql-payments-db/payments.production.primary.yaml";
const DB_SECONDARY: &str = "platform/team-payments/mysql-payments-db/payments.production.secondary.yaml";
const DB_REPLICATION: &str = "platform/team-payments/mysql-payments-db/payments.production.replication.yaml";
const APP_PRIMARY: &str = "platform/team-payments/app-checkout/payments.production.application-primary.yaml";
const APP_SECONDARY: &str = "platform/team-payments/app-checkout/payments.production.application-secondary.yaml";
const APP_DNS: &str = "platform/team-payments/app-checkout/payments.production.dns.yaml";
const DEPLOY_PRIMARY: &str = "workloads/team-payments/checkout/primary/deployment.yaml";
const DEPLOY_SECONDARY: &str = "workloads/team-payments/checkout/secondary/deployment.yaml";
const KUSTOMIZATION_PRIMARY: &str = "workloads/team-payments/checkout/primary/kustomization.yaml";
const KUSTOMIZATION_SECONDARY: &str = "workloads/team-payments/checkout/secondary/kustomization.yaml";
const CELL_FILE: &str = "cells/payments/production.yaml";

/// What a failover (or failback) of the seed cell changes: the fenced claim, the
/// replication direction, both sides' Applications (their replica counts), the DNS record
/// and the cell state. The workload folders do not change: a failover's scaling travels
/// in the Applications, which the root applies in the compute wave.
const MOVE_FILES: [&str; 7] =
    [DB_PRIMARY, DB_SECONDARY, DB_REPLICATION, APP_PRIMARY, APP_SECONDARY, APP_DNS, CELL_FILE];

const PRIMARY_TARGET: &str = "aws-use1-prod-01.apps.example.org";
const SECONDARY_TARGET: &str = "gcp-usc1-prod-01.apps.example.org";

/// A silver (pilot) database and its app in cell-us-east/dev, which names it (apps
/// follow only the databases they name).
const SILVER: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: ledger-db
  namespace: team-silver
spec:
  cell: cell-us-east
  tier: C1
  environment: dev
  drProfile: silver
  size: small
  storageGB: 20
---
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: ledger-web
  namespace: team-silver
spec:
  cell: cell-us-east
  tier: C1
  environment: dev
  drProfile: silver
  image: registry.example.org/silver/ledger-web:2.0.1
  replicas: 4
  database: ledger-db
  traffic:
    publicHost: ledger.silver.example.org
    mode: active-passive
";

/// A bronze (cold, backup-restore) database and its app in cell-eu/dev; the app takes
/// the default port and replicas, pins its image by digest and names its database.
const BRONZE: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: archive-db
  namespace: team-bronze
spec:
  cell: cell-eu
  tier: C2
  environment: dev
  drProfile: bronze
  size: small
  storageGB: 20
---
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: archive-web
  namespace: team-bronze
spec:
  cell: cell-eu
  tier: C2
  environment: dev
  drProfile: bronze
  image: registry.example.org/bronze/archive-web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  database: archive-db
  traffic:
    publicHost: archive.bronze.example.org
";

// ---------------------------------------------------------------------------------------
// The sandbox: a TestEnv with an initialized state repo
// ---------------------------------------------------------------------------------------

struct Dr {
    env: TestEnv,
}

/// The two seed applies (examples/payments-c0.json, then examples/payments-app.yaml).
struct Seed {
    db: Value,
    app: Value,
    db_commit: String,
    app_commit: String,
}

impl Dr {
    fn new() -> Self {
        let env = TestEnv::new();
        env.init_state(STATE);
        Self { env }
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> String {
        self.env.write(rel, contents)
    }

    /// examples/<name> copied into the work dir.
    fn example(&self, name: &str) -> String {
        self.env.example(name)
    }

    fn idp(&self, args: &[&str]) -> Run {
        self.env.idp(args)
    }

    /// `git -C state ARGS`, which must succeed; its stdout.
    fn git(&self, args: &[&str]) -> String {
        let mut all = vec!["-C", STATE];
        all.extend_from_slice(args);
        self.env.git(&all)
    }

    fn head(&self) -> String {
        self.env.head(STATE)
    }

    fn commit_count(&self) -> usize {
        self.env.count(STATE, "HEAD")
    }

    /// The paths a commit touched, sorted, renames shown as delete + add.
    fn changed_paths(&self, commit: &str) -> Vec<String> {
        let mut paths = lines(&self.git(&["show", "--no-renames", "--name-only", "--format=", commit]));
        paths.sort();
        paths
    }

    fn title(&self, commit: &str) -> String {
        self.env.title(STATE, commit)
    }

    /// Every trailer of a commit, as git itself parses them.
    fn trailers(&self, commit: &str) -> Vec<String> {
        lines(&self.git(&["log", "-1", "--format=%(trailers:only,unfold)", commit]))
    }

    fn show(&self, rev: &str, path: &str) -> String {
        self.git(&["show", &format!("{rev}:{path}")])
    }

    fn exists(&self, rev: &str, path: &str) -> bool {
        self.env.git_output(&["-C", STATE, "cat-file", "-e", &format!("{rev}:{path}")]).status.success()
    }

    fn docs(&self, rev: &str, path: &str) -> Vec<Value> {
        yaml_documents(&self.show(rev, path))
    }

    fn doc(&self, rev: &str, path: &str) -> Value {
        let mut docs = self.docs(rev, path);
        assert_eq!(docs.len(), 1, "{rev}:{path} should hold one document");
        docs.remove(0)
    }

    /// The files under `dir` at a revision.
    fn ls(&self, rev: &str, dir: &str) -> Vec<String> {
        lines(&self.git(&["ls-tree", "-r", "--name-only", rev, dir]))
    }

    fn assert_clean(&self) {
        self.env.assert_clean(STATE);
    }

    /// `idp apply [KIND] -f FILE... --yes -o json`, which must succeed; its results.
    fn apply(&self, kind: Option<&str>, files: &[&str]) -> Vec<Value> {
        let mut args = vec!["apply"];
        args.extend(kind);
        for f in files {
            args.extend(["-f", f]);
        }
        args.extend(["--repo", STATE, "--yes", "-o", "json"]);
        let doc = self.idp(&args).code(0).json();
        assert_eq!(doc["commit"], self.head().as_str(), "apply names its commit");
        doc["results"].as_array().expect("results").clone()
    }

    /// The seed DR example, as docs/disaster-recovery.md applies it.
    fn seed(&self) -> Seed {
        let db_file = self.example("payments-c0.json");
        let app_file = self.example("payments-app.yaml");
        let db = self.apply(Some("mysql"), &[&db_file]).remove(0);
        let db_commit = self.head();
        let app = self.apply(None, &[&app_file]).remove(0);
        let app_commit = self.head();
        Seed { db, app, db_commit, app_commit }
    }

    /// `idp ACTION --cell CELL --env ENV --repo state --yes EXTRA...`.
    fn run_book(&self, action: &str, cell: &str, environment: &str, extra: &[&str]) -> Run {
        // The one-commit runbook: no cluster here (tests/cli/runbook.rs waits on a stand-in).
        let mut args = vec![action, "--no-wait", "--cell", cell, "--env", environment, "--repo", STATE, "--yes"];
        args.extend_from_slice(extra);
        self.idp(&args)
    }

    /// A failover or failback that must succeed and commit; its JSON outcome.
    fn moved(&self, action: &str, cell: &str, environment: &str, extra: &[&str]) -> Value {
        let before = self.head();
        let mut args = extra.to_vec();
        args.extend(["-o", "json"]);
        let doc = self.run_book(action, cell, environment, &args).code(0).json();
        let head = self.head();
        assert_ne!(head, before, "{action} of {cell}/{environment} made no commit:\n{doc:#}");
        assert_eq!(self.git(&["rev-parse", "HEAD~1"]).trim(), before, "{action} is exactly one commit");
        assert_eq!(doc["commit"], head.as_str());
        self.assert_clean();
        doc
    }

    /// The JSON error of a refused run, after checking that nothing was written.
    fn refused(&self, run: &Run, head: &str) -> (String, String) {
        run.code(1);
        assert_eq!(self.head(), head, "idp {}: a refusal must not commit", run.args);
        self.assert_clean();
        let doc = run.json();
        (
            doc["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message: {doc:#}")).to_owned(),
            doc["error"]["help"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

/// `provider/region` of a placement object.
fn at(placement: &Value) -> String {
    format!("{}/{}", placement["provider"].as_str().unwrap(), placement["region"].as_str().unwrap())
}

/// `(action, path)` of an outcome's `changes`, sorted by path.
fn changes(outcome: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = outcome["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("changes is not an array: {outcome:#}"))
        .iter()
        .map(|c| (c["action"].as_str().unwrap().to_owned(), c["path"].as_str().unwrap().to_owned()))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// The Deployment's replicas in a workload file (Deployment + Service).
/// The replica count an app side's Argo CD Application sets on its Deployment
/// (`spec.source.kustomize.replicas`): how many run on that side.
fn replicas(application: &Value) -> u64 {
    let replicas = application["spec"]["source"]["kustomize"]["replicas"].as_array().expect("kustomize replicas");
    assert_eq!(replicas.len(), 1, "{application:#}");
    replicas[0]["count"].as_u64().expect("count is a number")
}

/// `spec.syncPolicy.automated` of an Argo CD Application (null when it is not synced).
fn automated(application: &Value) -> &Value {
    &application["spec"]["syncPolicy"]["automated"]
}

/// The OCI steering policy's PRIORITY rule: (answer condition, rank), active side 1.
fn priorities(dns: &[Value]) -> Vec<(String, i64)> {
    let steering = dns.iter().find(|d| d["kind"] == "SteeringPolicy").expect("a SteeringPolicy");
    let rule = steering["spec"]["forProvider"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleType"] == "PRIORITY")
        .expect("a PRIORITY rule");
    rule["defaultAnswerData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["answerCondition"].as_str().unwrap().to_owned(), a["value"].as_i64().unwrap()))
        .collect()
}

/// The events of a cell state file.
fn events(cell: &Value) -> &Vec<Value> {
    cell["events"].as_array().unwrap_or_else(|| panic!("no events array in {cell:#}"))
}

const EVENT_KEYS: [&str; 10] =
    ["action", "from", "to", "at", "by", "observedLagSeconds", "lagSource", "rpoSeconds", "forced", "reason"];

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap_or_else(|| panic!("not a mapping: {value:#}")).keys().map(String::as_str).collect()
}

// ---------------------------------------------------------------------------------------
// 1. The seed example end to end
// ---------------------------------------------------------------------------------------

#[test]
fn the_seed_example_fails_over_and_back_in_one_commit_each() {
    let dr = Dr::new();
    let seed = dr.seed();

    // The app follows its database: the same clusters on both sides.
    assert_eq!(at(&seed.db["placement"]), "aws/us-east-1");
    assert_eq!(at(&seed.db["secondary"]), "gcp/us-central1");
    assert_eq!(seed.app["kind"], "app");
    assert_eq!(seed.app["placement"], seed.db["placement"]);
    assert_eq!(seed.app["secondary"], seed.db["secondary"]);
    assert_eq!(seed.app["reason"]["follows"], "mysql team-payments/payments-db");
    assert_eq!(seed.db["reason"]["follows"], Value::Null);
    let record = dr.doc("HEAD", "placements/team-payments/app-checkout.yaml");
    assert_eq!(record["requestKind"], "app");
    assert_eq!((record["cell"].as_str(), record["environment"].as_str()), (Some("payments"), Some("production")));
    assert_eq!(record["reason"]["follows"], "mysql team-payments/payments-db");
    assert_eq!(dr.git(&["rev-parse", "HEAD~1"]).trim(), seed.db_commit);
    assert_eq!(
        dr.changed_paths(&seed.app_commit),
        sorted(&[
            "requests/team-payments/app-checkout.yaml",
            "placements/team-payments/app-checkout.yaml",
            "cells/payments/production/members/team-payments/app-checkout.yaml",
            "catalog/team-payments/app-checkout.yaml",
            "hosts/checkout.payments.example.org.yaml",
            APP_PRIMARY,
            APP_SECONDARY,
            APP_DNS,
            "platform/team-payments/app-checkout/payments.production.secrets-primary.yaml",
            "platform/team-payments/app-checkout/payments.production.secrets-secondary.yaml",
            DEPLOY_PRIMARY,
            DEPLOY_SECONDARY,
            KUSTOMIZATION_PRIMARY,
            KUSTOMIZATION_SECONDARY,
            "workloads/team-payments/checkout/primary/httproute.yaml",
            "workloads/team-payments/checkout/secondary/httproute.yaml",
        ])
    );
    assert!(!dr.exists("HEAD", CELL_FILE), "apply never writes the cell state file");

    // Before: the primary serves, the gold standby is warm (1 replica, synced).
    assert_eq!(replicas(&dr.doc("HEAD", APP_PRIMARY)), 3);
    assert_eq!(replicas(&dr.doc("HEAD", APP_SECONDARY)), 1);
    // Only the active side takes writes: the standby is fenced, a wave ahead.
    assert_eq!(dr.doc("HEAD", DB_PRIMARY)["spec"]["parameters"]["writeFence"], false);
    assert_eq!(dr.doc("HEAD", DB_SECONDARY)["spec"]["parameters"]["writeFence"], true);
    assert_eq!(dr.doc("HEAD", DB_PRIMARY)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "0");
    assert_eq!(dr.doc("HEAD", DB_SECONDARY)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "-1");
    assert_eq!(
        priorities(&dr.docs("HEAD", APP_DNS)),
        [("answer.pool == 'primary'".to_owned(), 1), ("answer.pool == 'secondary'".to_owned(), 2)]
    );
    let count = dr.commit_count();

    // Failover: one commit with exactly the seven files.
    let outcome = dr.moved("failover", "payments", "prod", &["--replication-lag", "4", "--reason", REASON]);
    let failover = dr.head();
    assert_eq!(dr.commit_count(), count + 1);
    assert_eq!(dr.changed_paths("HEAD"), sorted(&MOVE_FILES));
    assert_eq!(outcome["action"], "failover");
    assert_eq!((outcome["from"].as_str(), outcome["to"].as_str()), (Some("primary"), Some("secondary")));
    assert_eq!(
        (&outcome["noop"], &outcome["dry_run"], &outcome["forced"]),
        (&json!(false), &json!(false), &json!(false))
    );
    assert_eq!(outcome["observed_lag_seconds"], 4.0);
    assert_eq!(outcome["rpo_seconds"], 30);
    let mut expected_changes: Vec<(String, String)> = MOVE_FILES
        .iter()
        .map(|p| ((if *p == CELL_FILE { "create" } else { "update" }).to_owned(), (*p).to_owned()))
        .collect();
    expected_changes.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(changes(&outcome), expected_changes);

    // Wave -1: the primary claim is fenced, and nothing else of it changes; wave 0: the
    // secondary claim loses its fence.
    let mut fenced = dr.doc(&seed.app_commit, DB_PRIMARY);
    fenced["spec"]["parameters"]["writeFence"] = json!(true);
    fenced["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = json!("-1");
    assert_eq!(dr.doc("HEAD", DB_PRIMARY), fenced);
    let mut unfenced = dr.doc(&seed.app_commit, DB_SECONDARY);
    unfenced["spec"]["parameters"]["writeFence"] = json!(false);
    unfenced["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = json!("0");
    assert_eq!(dr.doc("HEAD", DB_SECONDARY), unfenced);
    // ... and replication runs from the new active side to the old one: the direction
    // turns, the databases keep their roles.
    let before = dr.doc(&seed.app_commit, DB_REPLICATION);
    assert_eq!(before["spec"]["parameters"]["source"]["claimName"], "payments-db");
    assert_eq!(before["spec"]["parameters"]["direction"], "primary-to-secondary");
    let mut reversed = before.clone();
    reversed["spec"]["parameters"]["source"] = before["spec"]["parameters"]["target"].clone();
    reversed["spec"]["parameters"]["target"] = before["spec"]["parameters"]["source"].clone();
    reversed["spec"]["parameters"]["direction"] = json!("secondary-to-primary");
    assert_eq!(dr.doc("HEAD", DB_REPLICATION), reversed);
    assert_eq!(dr.doc("HEAD", DB_REPLICATION)["spec"]["parameters"]["source"]["provider"], "gcp");

    // Wave 1: the secondary app takes the full replica count, the primary goes to 0, in
    // the Applications the root applies in that wave; the workload folders do not change.
    for (path, from, to) in [(APP_PRIMARY, 3, 0), (APP_SECONDARY, 1, 3)] {
        let mut expected = dr.doc(&seed.app_commit, path);
        assert_eq!(replicas(&expected), from, "{path} before");
        expected["spec"]["source"]["kustomize"]["replicas"][0]["count"] = json!(to);
        assert_eq!(dr.doc("HEAD", path), expected, "{path}");
    }
    for path in [DEPLOY_PRIMARY, DEPLOY_SECONDARY, KUSTOMIZATION_PRIMARY, KUSTOMIZATION_SECONDARY] {
        assert_eq!(dr.show("HEAD", path), dr.show(&seed.app_commit, path), "{path}");
    }

    // Wave 2: the DNS failover answers with the secondary first; both targets stay.
    let mut expected_dns = dr.docs(&seed.app_commit, APP_DNS);
    for doc in &mut expected_dns {
        if doc["kind"] == "SteeringPolicy" {
            for rule in doc["spec"]["forProvider"]["rules"].as_array_mut().unwrap() {
                if rule["ruleType"] == "PRIORITY" {
                    for answer in rule["defaultAnswerData"].as_array_mut().unwrap() {
                        answer["value"] = json!(3 - answer["value"].as_i64().unwrap());
                    }
                }
            }
        }
    }
    assert_eq!(dr.docs("HEAD", APP_DNS), expected_dns);
    assert_eq!(
        priorities(&dr.docs("HEAD", APP_DNS)),
        [("answer.pool == 'primary'".to_owned(), 2), ("answer.pool == 'secondary'".to_owned(), 1)]
    );

    // The cell state file records the move.
    let cell = dr.doc("HEAD", CELL_FILE);
    assert_eq!(keys(&cell), ["apiVersion", "kind", "cell", "environment", "activeSide", "events"]);
    assert_eq!(cell["apiVersion"], "idp.platform.example.org/v1alpha1");
    assert_eq!(cell["kind"], "CellState");
    assert_eq!((cell["cell"].as_str(), cell["environment"].as_str()), (Some("payments"), Some("production")));
    assert_eq!(cell["activeSide"], "secondary");
    assert_eq!(events(&cell).len(), 1);
    let event = &events(&cell)[0];
    assert_eq!(keys(event), EVENT_KEYS);
    assert_eq!(
        (&event["action"], &event["from"], &event["to"], &event["by"]),
        (&json!("failover"), &json!("primary"), &json!("secondary"), &json!(BY))
    );
    assert_eq!(event["observedLagSeconds"].as_f64(), Some(4.0));
    assert_eq!(event["lagSource"], "operator reading");
    assert_eq!(event["rpoSeconds"], 30);
    assert_eq!(event["forced"], false);
    assert_eq!(event["reason"], REASON);
    let event_time: jiff::Timestamp = event["at"].as_str().unwrap().parse().expect("`at` is an RFC 3339 time");
    let commit_time: i64 = dr.git(&["log", "-1", "--format=%ct"]).trim().parse().unwrap();
    assert!((event_time.as_second() - commit_time).abs() <= 60, "at {event_time} vs commit time {commit_time}");

    // The commit says what and why, in its title, body and trailers, as the repo's user.
    assert_eq!(dr.title("HEAD"), "idp: failover cell payments/production to secondary");
    assert_eq!(dr.git(&["log", "-1", "--format=%an <%ae>"]).trim(), BY);
    let message = dr.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains(&format!("Reason: {REASON}")), "{message}");
    assert_eq!(
        dr.trailers("HEAD"),
        [
            "Idp-Action: failover",
            "Idp-Cell: payments production",
            "Idp-Active-Side: secondary",
            "Idp-Observed-Lag: 4s",
            "Idp-RPO: 30s",
            "Idp-Forced: false",
            concat!("Idp-Version: ", env!("CARGO_PKG_VERSION")),
        ]
    );

    // Failback: one commit, the same seven files, and platform/ and workloads/ exactly as
    // before the failover.
    let outcome = dr.moved("failback", "payments", "prod", &["--replication-lag", "2"]);
    assert_eq!(dr.git(&["rev-parse", "HEAD~1"]).trim(), failover);
    assert_eq!(dr.changed_paths("HEAD"), sorted(&MOVE_FILES));
    assert_eq!((outcome["from"].as_str(), outcome["to"].as_str()), (Some("secondary"), Some("primary")));
    assert_eq!(dr.git(&["diff", "--stat", &seed.app_commit, "HEAD", "--", "platform", "workloads"]), "");
    assert_eq!(lines(&dr.git(&["diff", "--name-only", &seed.app_commit, "HEAD"])), [CELL_FILE]);
    let cell = dr.doc("HEAD", CELL_FILE);
    assert_eq!(cell["activeSide"], "primary");
    let events = events(&cell);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], dr.doc(&failover, CELL_FILE)["events"][0], "the failover event is kept as it was");
    let back = &events[1];
    assert_eq!(keys(back), EVENT_KEYS);
    assert_eq!(
        (&back["action"], &back["from"], &back["to"], &back["by"]),
        (&json!("failback"), &json!("secondary"), &json!("primary"), &json!(BY))
    );
    assert_eq!(back["observedLagSeconds"].as_f64(), Some(2.0));
    assert_eq!((&back["rpoSeconds"], &back["forced"], &back["reason"]), (&json!(30), &json!(false), &Value::Null));
    assert_eq!(dr.title("HEAD"), "idp: failback cell payments/production to primary");
    assert_eq!(
        dr.trailers("HEAD"),
        [
            "Idp-Action: failback",
            "Idp-Cell: payments production",
            "Idp-Active-Side: primary",
            "Idp-Observed-Lag: 2s",
            "Idp-RPO: 30s",
            "Idp-Forced: false",
            concat!("Idp-Version: ", env!("CARGO_PKG_VERSION")),
        ]
    );

    // `idp history --cell payments` is the audit log of all four commits.
    let history = dr.idp(&["history", "--cell", "payments", "--repo", STATE, "-o", "json"]).code(0).json();
    let entries: Vec<(&str, &str)> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["commit"].as_str().unwrap()))
        .collect();
    let head = dr.head();
    assert_eq!(
        entries,
        [
            ("failback", head.as_str()),
            ("failover", failover.as_str()),
            ("create", seed.app_commit.as_str()),
            ("create", seed.db_commit.as_str())
        ]
    );
}

#[test]
fn the_seed_app_renders_applications_workloads_and_dns_from_the_policy() {
    let dr = Dr::new();
    dr.seed();
    for (side, path, cluster, secret, count) in [
        ("primary", APP_PRIMARY, "aws-use1-prod-01", "payments-db-conn", 3),
        ("secondary", APP_SECONDARY, "gcp-usc1-prod-01", "payments-db-secondary-conn", 1),
    ] {
        let application = dr.doc("HEAD", path);
        assert_eq!(application["apiVersion"], "argoproj.io/v1alpha1", "{side}");
        assert_eq!(application["kind"], "Application", "{side}");
        assert_eq!(application["metadata"]["name"], format!("team-payments--checkout-{side}"));
        assert_eq!(application["metadata"]["namespace"], "argocd", "{side}");
        assert_eq!(application["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "1", "{side}");
        assert_eq!(application["metadata"]["labels"]["platform.example.org/request"], "team-payments.app.checkout");
        assert_eq!(
            application["spec"]["source"],
            json!({
                "repoURL": "https://git.example.org/platform/idp-state.git",
                "targetRevision": "main",
                "path": format!("workloads/team-payments/checkout/{side}"),
                "kustomize": {"replicas": [{"name": "checkout", "count": count}]},
            })
        );
        // The workload folder is a kustomize source whose files are the side's.
        let kustomization = dr.doc("HEAD", &format!("workloads/team-payments/checkout/{side}/kustomization.yaml"));
        assert_eq!(kustomization["kind"], "Kustomization");
        assert_eq!(kustomization["resources"], json!(["deployment.yaml", "httproute.yaml"]));
        assert_eq!(application["spec"]["destination"], json!({"name": cluster, "namespace": "team-payments"}));
        assert_eq!(automated(&application), &json!({"prune": true, "selfHeal": true}), "{side}: gold is warm");

        let workload = dr.docs("HEAD", &format!("workloads/team-payments/checkout/{side}/deployment.yaml"));
        let kinds: Vec<&str> = workload.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Deployment", "Service"], "{side}");
        let container = &workload[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "registry.example.org/payments/checkout:1.8.3");
        assert_eq!(container["ports"][0]["containerPort"], 8080);
        // The app gets the name of its database's connection secret on its own side.
        assert_eq!(container["envFrom"][0]["secretRef"]["name"], secret, "{side}");
        for doc in &workload {
            assert_eq!(doc["metadata"]["namespace"], "team-payments");
            assert_eq!(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "1");
            assert_eq!(doc["metadata"]["labels"]["platform.example.org/role"], side);
        }
    }

    // The DNS failover comes from the default provider, oci-dns, in the last wave.
    let dns = dr.docs("HEAD", APP_DNS);
    let kinds: Vec<(&str, &str)> =
        dns.iter().map(|d| (d["apiVersion"].as_str().unwrap(), d["kind"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        [
            ("healthchecks.oci.upbound.io/v1alpha1", "HTTPMonitor"),
            ("dns.oci.upbound.io/v1alpha1", "SteeringPolicy"),
            ("dns.oci.upbound.io/v1alpha1", "SteeringPolicyAttachment"),
        ]
    );
    for doc in &dns {
        assert_eq!(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "2");
        assert_eq!(doc["metadata"]["namespace"], Value::Null, "DNS records are cluster-scoped");
        assert_eq!(doc["metadata"]["labels"]["app.kubernetes.io/managed-by"], "idp");
    }
    assert_eq!(dns[0]["spec"]["forProvider"]["targets"], json!([PRIMARY_TARGET, SECONDARY_TARGET]));
    let answers: Vec<&Value> =
        dns[1]["spec"]["forProvider"]["answers"].as_array().unwrap().iter().map(|a| &a["rdata"]).collect();
    assert_eq!(answers, [&json!(PRIMARY_TARGET), &json!(SECONDARY_TARGET)]);
    assert_eq!(dns[2]["spec"]["forProvider"]["domainName"], "checkout.payments.example.org");
    // In the zone the policy names for oci-dns, not the host's parent (payments.example.org).
    assert_eq!(dns[2]["spec"]["forProvider"]["zoneIdRef"]["name"], "example.org");

    // status of an app: no connection secret of its own.
    let status = dr.idp(&["status", "app", "team-payments/checkout", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(status["kind"], "app");
    assert_eq!((&status["connection_secret"], &status["secondary_connection_secret"]), (&Value::Null, &Value::Null));
    assert_eq!(at(&status["secondary"]), "gcp/us-central1");
    let status =
        dr.idp(&["status", "mysql", "team-payments/payments-db", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(status["connection_secret"], "payments-db-conn");
    assert_eq!(status["secondary_connection_secret"], "payments-db-secondary-conn");
}

// ---------------------------------------------------------------------------------------
// 2. Idempotency
// ---------------------------------------------------------------------------------------

#[test]
fn failover_and_failback_are_idempotent() {
    let dr = Dr::new();
    dr.seed();

    // A cell that never failed over is on its primary: failback has nothing to do.
    let head = dr.head();
    let run = dr.run_book("failback", "payments", "prod", &["--replication-lag", "1"]);
    run.code(0);
    assert_eq!(run.stdout, "failback cell payments/production: already on primary, nothing to do\n");
    assert_eq!(dr.head(), head);
    assert!(!dr.exists("HEAD", CELL_FILE));

    dr.moved("failover", "payments", "prod", &["--replication-lag", "4"]);
    let failed_over = dr.head();
    let count = dr.commit_count();
    for extra in [&["--replication-lag", "4"][..], &[]] {
        // Already on the secondary: no commit, and no lag reading needed to say so.
        let run = dr.run_book("failover", "payments", "prod", extra);
        run.code(0);
        assert_eq!(run.stdout, "failover cell payments/production: already on secondary, nothing to do\n");
        let mut json_args = extra.to_vec();
        json_args.extend(["-o", "json"]);
        let doc = dr.run_book("failover", "payments", "prod", &json_args).code(0).json();
        assert_eq!(doc["noop"], true);
        assert_eq!((&doc["from"], &doc["to"]), (&json!("secondary"), &json!("secondary")));
        assert_eq!((&doc["commit"], &doc["changes"]), (&Value::Null, &json!([])));
        assert_eq!(dr.head(), failed_over);
        assert_eq!(dr.commit_count(), count);
        dr.assert_clean();
    }

    dr.moved("failback", "payments", "prod", &["--replication-lag", "2"]);
    let back = dr.head();
    let doc = dr.run_book("failback", "payments", "prod", &["--replication-lag", "2", "-o", "json"]).code(0).json();
    assert_eq!(doc["noop"], true);
    assert_eq!(doc["commit"], Value::Null);
    assert_eq!(dr.head(), back);
    assert_eq!(events(&dr.doc("HEAD", CELL_FILE)).len(), 2, "a no-op records no event");
}

// ---------------------------------------------------------------------------------------
// 3. Silver (pilot) and bronze (cold) standbys
// ---------------------------------------------------------------------------------------

/// What a drProfile's standby looks like, per docs/disaster-recovery.md.
struct Standby {
    namespace: &'static str,
    db: &'static str,
    app: &'static str,
    cell: &'static str,
    replicas: u64,
    secondary_automated: bool,
    tool: &'static str,
    mode: &'static str,
    rpo_seconds: u64,
}

const SILVER_STANDBY: Standby = Standby {
    namespace: "team-silver",
    db: "ledger-db",
    app: "ledger-web",
    cell: "cell-us-east",
    replicas: 4,
    secondary_automated: true,
    tool: "oci-goldengate",
    mode: "cdc",
    rpo_seconds: 120,
};

const BRONZE_STANDBY: Standby = Standby {
    namespace: "team-bronze",
    db: "archive-db",
    app: "archive-web",
    cell: "cell-eu",
    replicas: 2,
    secondary_automated: false,
    tool: "backup-restore",
    mode: "backup-restore",
    rpo_seconds: 900,
};

impl Standby {
    fn platform(&self, kind: &str, file: &str) -> String {
        let name = if kind == "mysql" { self.db } else { self.app };
        format!("platform/{}/{kind}-{name}/{}.dev.{file}", self.namespace, self.cell)
    }

    fn deployment(&self, side: &str) -> String {
        format!("workloads/{}/{}/{side}/deployment.yaml", self.namespace, self.app)
    }
}

#[test]
fn silver_and_bronze_keep_the_standby_their_compute_mode_says() {
    let dr = Dr::new();
    let silver = dr.write("silver.yaml", SILVER);
    let bronze = dr.write("bronze.yaml", BRONZE);
    let results = dr.apply(None, &[&silver, &bronze]);
    assert_eq!(results.len(), 4);

    for (standby, results) in [(&SILVER_STANDBY, &results[..2]), (&BRONZE_STANDBY, &results[2..])] {
        let label = standby.namespace;
        let (db, app) = (&results[0], &results[1]);
        assert_eq!((db["name"].as_str(), app["name"].as_str()), (Some(standby.db), Some(standby.app)));
        assert!(db["secondary"].is_object(), "{label}: the database has a standby");
        assert_eq!(app["placement"], db["placement"], "{label}");
        assert_eq!(app["secondary"], db["secondary"], "{label}");
        assert_eq!(app["reason"]["follows"], format!("mysql {}/{}", standby.namespace, standby.db));

        // Data: the replication tool and RPO of the profile, also selecting the Composition.
        let replication = dr.doc("HEAD", &standby.platform("mysql", "replication.yaml"));
        let parameters = &replication["spec"]["parameters"];
        assert_eq!(parameters["tool"], standby.tool, "{label}");
        assert_eq!(parameters["mode"], standby.mode, "{label}");
        assert_eq!(parameters["expectedRpoSeconds"], standby.rpo_seconds, "{label}");
        assert_eq!(replication["spec"]["compositionSelector"], json!({"matchLabels": {"tool": standby.tool}}));
        assert_eq!(replication["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "0");

        // Compute: the primary runs the app, the standby runs 0 replicas, synced or not.
        let primary = dr.doc("HEAD", &standby.platform("app", "application-primary.yaml"));
        assert_eq!(automated(&primary), &json!({"prune": true, "selfHeal": true}), "{label}");
        let secondary = dr.doc("HEAD", &standby.platform("app", "application-secondary.yaml"));
        if standby.secondary_automated {
            assert_eq!(automated(&secondary), &json!({"prune": true, "selfHeal": true}), "{label}");
        } else {
            assert_eq!(automated(&secondary), &Value::Null, "{label}: a cold standby is not synced");
            assert_eq!(secondary["spec"]["syncPolicy"]["syncOptions"], json!(["CreateNamespace=true"]));
        }
        assert_eq!(replicas(&primary), standby.replicas, "{label}");
        assert_eq!(replicas(&secondary), 0, "{label}");
        assert!(dr.exists("HEAD", &standby.platform("app", "dns.yaml")), "{label}");
    }
    let workload = dr.docs("HEAD", &BRONZE_STANDBY.deployment("primary"));
    let container = &workload[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        "registry.example.org/bronze/archive-web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(container["ports"][0]["containerPort"], 8080, "port defaults to 8080");

    // Each cell's bound is its own profile's RPO.
    let head = dr.head();
    let (message, _) =
        dr.refused(&dr.run_book("failover", "cell-us-east", "dev", &["--replication-lag", "121", "-o", "json"]), &head);
    assert_eq!(message, "replication lag 121s is above the RPO of 120s");

    // A failover of the bronze cell starts the cold standby: synced, at full size.
    let b = &BRONZE_STANDBY;
    let outcome = dr.moved("failover", b.cell, "dev", &["--replication-lag", "600"]);
    assert_eq!(outcome["rpo_seconds"], 900);
    let secondary = dr.doc("HEAD", &b.platform("app", "application-secondary.yaml"));
    assert_eq!(automated(&secondary), &json!({"prune": true, "selfHeal": true}));
    assert_eq!(replicas(&secondary), 2);
    assert_eq!(replicas(&dr.doc("HEAD", &b.platform("app", "application-primary.yaml"))), 0);
    assert_eq!(dr.doc("HEAD", &b.platform("mysql", "primary.yaml"))["spec"]["parameters"]["writeFence"], true);
    let replication = dr.doc("HEAD", &b.platform("mysql", "replication.yaml"));
    assert_eq!(replication["spec"]["parameters"]["source"]["claimName"], "archive-db-secondary");
    assert_eq!(replication["spec"]["parameters"]["tool"], "backup-restore");
    let mut moved = vec![
        b.platform("mysql", "primary.yaml"),
        b.platform("mysql", "secondary.yaml"),
        b.platform("mysql", "replication.yaml"),
        b.platform("app", "application-primary.yaml"),
        b.platform("app", "application-secondary.yaml"),
        b.platform("app", "dns.yaml"),
        // The cold standby's database secret is copied there only now that it is active.
        b.platform("app", "secrets-secondary.yaml"),
        "cells/cell-eu/dev.yaml".to_owned(),
    ];
    moved.sort();
    assert_eq!(dr.changed_paths("HEAD"), moved);
    assert!(!dr.exists("HEAD", &format!("cells/{}/dev.yaml", SILVER_STANDBY.cell)), "the silver cell did not move");
}

/// Issue 18 item 11: an Application without automated sync never syncs a change by itself
/// (argo-cd controller/appcontroller.go: autoSync returns at once when automated sync is
/// off), so a failback that dropped a cold standby's automated sync in the commit that
/// scales it to 0 would leave it running. The failback is two commits: the first scales
/// the standby to 0 and keeps its sync (the root applies the count in the compute wave,
/// and the child syncs it), the second, the same command run again once Argo CD shows the
/// 0 applied, stops the sync. What this cannot prove: that Argo CD applied the 0 between
/// the two; that is the runbook's check (and `--wait`'s, once idp reads live state).
#[test]
fn a_bronze_failback_scales_the_cold_standby_to_0_before_a_second_commit_stops_its_sync() {
    let dr = Dr::new();
    let bronze = dr.write("bronze.yaml", BRONZE);
    dr.apply(None, &[&bronze]);
    let b = &BRONZE_STANDBY;
    let application = b.platform("app", "application-secondary.yaml");
    let cell_file = format!("cells/{}/dev.yaml", b.cell);
    let steps = |outcome: &Value| -> Vec<String> {
        outcome["steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    let failover = dr.moved("failover", b.cell, "dev", &["--replication-lag", "600"]);
    assert!(steps(&failover).iter().all(|s| !s.contains("step 2 of 2")), "{failover:#}");
    assert_eq!(replicas(&dr.doc("HEAD", &application)), 2);

    // Commit 1: the standby goes to 0 and keeps automated sync, so Argo CD applies the 0.
    let failback = dr.moved("failback", b.cell, "dev", &["--replication-lag", "600"]);
    let secondary = dr.doc("HEAD", &application);
    assert_eq!(replicas(&secondary), 0);
    assert_eq!(automated(&secondary), &json!({"prune": true, "selfHeal": true}));
    assert_eq!(dr.doc("HEAD", &cell_file)["coldStandbysDraining"], true);
    let steps_1 = steps(&failback);
    let next = steps_1.iter().find(|s| s.contains("step 2 of 2")).expect("the runbook names the second step");
    assert!(
        next.contains("idp failback --cell cell-eu --env dev") && next.ends_with(": team-bronze/archive-web"),
        "{next}"
    );

    // Commit 2: the same command again; nothing moves, so no lag is asked for. Only the
    // standby's Application (and the cell state) change: it stops syncing, at 0, and the
    // copy of its database secret goes with its sync.
    let before = dr.head();
    let secrets = b.platform("app", "secrets-secondary.yaml");
    assert!(dr.exists("HEAD", &secrets), "a draining standby keeps its copy");
    let finish = dr.moved("failback", b.cell, "dev", &[]);
    assert_eq!(finish["action"], "finish-failback");
    assert_eq!(dr.changed_paths("HEAD"), sorted(&[application.as_str(), cell_file.as_str(), secrets.as_str()]));
    assert!(!dr.exists("HEAD", &secrets));
    let secondary = dr.doc("HEAD", &application);
    assert_eq!(automated(&secondary), &Value::Null);
    assert_eq!(replicas(&secondary), 0);
    let cell = dr.doc("HEAD", &cell_file);
    assert_eq!(cell["coldStandbysDraining"], Value::Null);
    assert_eq!(cell["activeSide"], "primary");
    assert_eq!(cell["events"].as_array().unwrap().last().unwrap()["action"], "finish-failback");
    let title = dr.title("HEAD");
    assert!(title.contains("finish-failback"), "{title}");
    assert_eq!(dr.git(&["rev-list", "--count", &format!("{before}..HEAD")]).trim(), "1");

    // A third run has nothing left to do.
    let head = dr.head();
    let noop = dr.run_book("failback", b.cell, "dev", &["-o", "json"]).code(0).json();
    assert_eq!(noop["noop"], true, "{noop:#}");
    assert_eq!(dr.head(), head);
}

/// Staged, the bronze failback is one command: its compute stage scales the cold standby
/// to 0 with its sync kept, and its record, which lands only once the cluster reported that
/// stage synced and Healthy, stops the sync: the check the one-commit runbook leaves to the
/// operator between its two commits. What this cannot prove: that a real Argo CD reports
/// the child Application synced only after the 0 is applied (the stand-in of
/// tests/cli/runbook.rs says synced at HEAD at once).
#[test]
fn a_staged_bronze_failback_stops_the_cold_standbys_sync_once_the_cluster_applied_its_0() {
    use crate::runbook::{Cloud, cluster};
    let dr = Dr::new();
    let bronze = dr.write("bronze.yaml", BRONZE);
    dr.apply(None, &[&bronze]);
    let api = cluster(&dr.env, Cloud::Follows);
    crate::live::kubeconfig(&dr.env, &api.url());
    let b = &BRONZE_STANDBY;
    let application = b.platform("app", "application-secondary.yaml");
    let staged = |action: &str| {
        let before = dr.head();
        let args = [action, "--cell", b.cell, "--env", "dev", "--replication-lag", "600", "--repo", STATE, "--yes"];
        let doc = dr.idp(&[&args[..], &["-o", "json"]].concat()).code(0).json();
        (before, doc)
    };
    staged("failover");
    let (before, failback) = staged("failback");
    assert_eq!(failback["action"], "failback");
    let steps: Vec<&str> = failback["steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(steps.iter().all(|s| !s.contains("step 2 of 2")), "one command: {steps:?}");
    let commits: Vec<String> =
        dr.git(&["rev-list", "--reverse", &format!("{before}..HEAD")]).lines().map(str::to_owned).collect();
    let compute = &commits[2];
    assert!(dr.title(compute).ends_with(": compute"), "{}", dr.title(compute));
    let scaled = dr.doc(compute, &application);
    assert_eq!((replicas(&scaled), automated(&scaled)), (0, &json!({"prune": true, "selfHeal": true})));
    let record = commits.last().unwrap();
    assert!(dr.title(record).ends_with(": record"));
    let stopped = dr.doc(record, &application);
    assert_eq!((replicas(&stopped), automated(&stopped)), (0, &Value::Null));
    let cell = dr.doc("HEAD", &format!("cells/{}/dev.yaml", b.cell));
    assert_eq!((&cell["activeSide"], &cell["coldStandbysDraining"]), (&json!("primary"), &Value::Null));
    assert_eq!(dr.idp(&["verify", "--repo", STATE]).code, 0);
}

/// The replica count a side's Application carries reaches its Deployment the way Argo CD
/// builds a kustomize source: it runs `kustomize edit set replicas NAME=COUNT` in the
/// folder (argo-cd util/kustomize/kustomize.go, `Build`), which writes the kustomization's
/// `replicas` field, then builds it. Here `kubectl kustomize` (kustomize built into
/// kubectl) builds the folder as committed, with that field added, before and after a
/// failover. What this cannot prove: Argo CD's own kustomize version and invocation, run
/// here only as their source reads; skipped, and said, where kubectl is absent.
#[test]
fn each_sides_replica_count_reaches_its_deployment_through_kustomize() {
    if std::process::Command::new("kubectl").args(["version", "--client"]).output().is_err() {
        eprintln!("skipped: no kubectl on PATH to build the kustomize sources");
        return;
    }
    let dr = Dr::new();
    let seed = dr.seed();
    dr.moved("failover", "payments", "prod", &["--replication-lag", "4"]);
    for rev in [seed.app_commit.as_str(), "HEAD"] {
        for (side, application) in [("primary", APP_PRIMARY), ("secondary", APP_SECONDARY)] {
            let application = dr.doc(rev, application);
            let count = replicas(&application);
            let folder = application["spec"]["source"]["path"].as_str().unwrap().to_owned();
            let dir = tempfile::tempdir().unwrap();
            for file in dr.ls(rev, &folder) {
                let name = file.rsplit('/').next().unwrap();
                std::fs::write(dir.path().join(name), dr.show(rev, &file)).unwrap();
            }
            let kustomization = dir.path().join("kustomization.yaml");
            let mut text = std::fs::read_to_string(&kustomization).unwrap();
            text.push_str(&format!("replicas:\n- name: checkout\n  count: {count}\n"));
            std::fs::write(&kustomization, text).unwrap();
            let out = std::process::Command::new("kubectl").arg("kustomize").arg(dir.path()).output().unwrap();
            assert!(out.status.success(), "{rev} {side}: {}", String::from_utf8_lossy(&out.stderr));
            let built = yaml_documents(&String::from_utf8(out.stdout).unwrap());
            let committed: Vec<Value> = dr
                .ls(rev, &folder)
                .iter()
                .filter(|file| !file.ends_with("/kustomization.yaml"))
                .flat_map(|file| dr.docs(rev, file))
                .collect();
            assert_eq!(built.len(), committed.len(), "{rev} {side}: kustomize builds every object of the folder");
            for doc in &committed {
                let mut expected = doc.clone();
                if doc["kind"] == "Deployment" {
                    expected["spec"]["replicas"] = json!(count);
                }
                assert!(built.contains(&expected), "{rev} {side}: {expected:#} not in {built:#?}");
            }
        }
    }
}

/// A failback of a cell whose standbys are all synced (silver: pilot light) is one commit,
/// and leaves nothing to finish.
#[test]
fn a_failback_without_cold_standbys_is_one_commit() {
    let dr = Dr::new();
    let silver = dr.write("silver.yaml", SILVER);
    dr.apply(None, &[&silver]);
    let s = &SILVER_STANDBY;
    dr.moved("failover", s.cell, "dev", &["--replication-lag", "1"]);
    let failback = dr.moved("failback", s.cell, "dev", &["--replication-lag", "1"]);
    assert!(failback["steps"].as_array().unwrap().iter().all(|s| !s.as_str().unwrap().contains("step 2 of 2")));
    assert_eq!(dr.doc("HEAD", &format!("cells/{}/dev.yaml", s.cell))["coldStandbysDraining"], Value::Null);
    let head = dr.head();
    assert_eq!(dr.run_book("failback", s.cell, "dev", &["-o", "json"]).code(0).json()["noop"], true);
    assert_eq!(dr.head(), head);
}

// ---------------------------------------------------------------------------------------
// 4. Lag checks and --force
// ---------------------------------------------------------------------------------------

#[test]
fn lag_above_the_rpo_or_unknown_is_refused_and_writes_nothing() {
    let dr = Dr::new();
    dr.seed();
    let head = dr.head();

    let run = dr.run_book("failover", "payments", "prod", &["--replication-lag", "45", "-o", "json"]);
    let (message, help) = dr.refused(&run, &head);
    assert_eq!(message, "replication lag 45s is above the RPO of 30s");
    assert!(help.contains("--force"), "{help}");
    run.stderr_says("replication lag 45s is above the RPO of 30s");

    let run = dr.run_book("failover", "payments", "prod", &["-o", "json"]);
    let (message, help) = dr.refused(&run, &head);
    assert_eq!(message, "the replication lag is unknown");
    for flag in ["--replication-lag", "--lag-url", "--force"] {
        assert!(help.contains(flag), "the help should name {flag}: {help}");
    }

    // Not on a terminal and no --yes: the runbook is shown, nothing is written.
    let run = dr.env.idp_stdin(
        &["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "4", "--repo", STATE],
        "payments\n",
    );
    run.code(1);
    run.stderr_says("refusing to write without confirmation: not on a terminal");
    assert_eq!(dr.head(), head);
    dr.assert_clean();
    assert!(!dr.exists("HEAD", CELL_FILE));
}

#[test]
fn a_lag_reading_that_is_not_a_number_of_seconds_is_refused() {
    // NaN compares false with everything, so "NaN > RPO" must not read as "within RPO";
    // a negative lag is not a reading either.
    let dr = Dr::new();
    dr.seed();
    let head = dr.head();
    for lag in ["NaN", "-5"] {
        let flag = format!("--replication-lag={lag}");
        let run = dr.run_book("failover", "payments", "prod", &[flag.as_str(), "-o", "json"]);
        assert_eq!(run.code, 1, "--replication-lag {lag} was accepted:\n{}", run.stdout);
        assert_eq!(dr.head(), head);
        assert!(!dr.exists("HEAD", CELL_FILE));
    }
}

#[test]
fn force_proceeds_without_a_reading_or_above_the_rpo_and_is_recorded() {
    let dr = Dr::new();
    dr.seed();
    let outcome = dr.moved("failover", "payments", "prod", &["--force", "--reason", "drill"]);
    assert_eq!(outcome["forced"], true);
    assert_eq!(outcome["observed_lag_seconds"], Value::Null);
    let event = events(&dr.doc("HEAD", CELL_FILE))[0].clone();
    assert_eq!(event["forced"], true);
    assert_eq!(event["observedLagSeconds"], Value::Null);
    assert_eq!(event["lagSource"], Value::Null);
    assert_eq!(event["reason"], "drill");
    let trailers = dr.trailers("HEAD");
    assert!(trailers.contains(&"Idp-Forced: true".to_owned()), "{trailers:?}");
    assert!(trailers.contains(&"Idp-Observed-Lag: unknown".to_owned()), "{trailers:?}");
    assert_eq!(dr.changed_paths("HEAD"), sorted(&MOVE_FILES));

    // Above the RPO with --force: moves, and says what the lag was.
    dr.moved("failback", "payments", "prod", &["--replication-lag", "45", "--force"]);
    let event = events(&dr.doc("HEAD", CELL_FILE))[1].clone();
    assert_eq!((&event["action"], &event["forced"]), (&json!("failback"), &json!(true)));
    assert_eq!(event["observedLagSeconds"].as_f64(), Some(45.0));
    let trailers = dr.trailers("HEAD");
    assert!(trailers.contains(&"Idp-Forced: true".to_owned()), "{trailers:?}");
    assert!(trailers.contains(&"Idp-Observed-Lag: 45s".to_owned()), "{trailers:?}");
}

#[test]
fn the_rpo_bound_is_the_tightest_of_the_cells_databases() {
    // A silver database (RPO 120 s) joins the gold seed cell (RPO 30 s), and an app of
    // another namespace, which names no database and so is placed on its own (C1 gives
    // it a secondary of its own).
    let dr = Dr::new();
    dr.seed();
    let more = dr.write(
        "more.yaml",
        "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: ledger-db
  namespace: team-ledger
spec:
  cell: payments
  tier: C1
  environment: production
  drProfile: silver
  size: small
  storageGB: 20
---
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: reports
  namespace: team-reports
spec:
  cell: payments
  tier: C1
  environment: production
  image: registry.example.org/reports/web:0.3.0
",
    );
    let results = dr.apply(None, &[&more]);
    // It names no database: it follows none (it no longer picks up another team's).
    assert_eq!(results[1]["reason"]["follows"], Value::Null);
    assert!(results[1]["secondary"].is_object(), "C1 requires a secondary");
    let head = dr.head();
    let run = dr.run_book("failover", "payments", "prod", &["--replication-lag", "31", "-o", "json"]);
    assert_eq!(dr.refused(&run, &head).0, "replication lag 31s is above the RPO of 30s");
    let outcome = dr.moved("failover", "payments", "prod", &["--replication-lag", "30"]);
    assert_eq!(outcome["rpo_seconds"], 30, "a lag equal to the RPO is within it");
    // Both databases are fenced in the same commit.
    for claim in [DB_PRIMARY, "platform/team-ledger/mysql-ledger-db/payments.production.primary.yaml"] {
        assert_eq!(dr.doc("HEAD", claim)["spec"]["parameters"]["writeFence"], true, "{claim}");
    }
}

// ---------------------------------------------------------------------------------------
// 5. A cell without a standby
// ---------------------------------------------------------------------------------------

const PLAIN: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: plain-db
  namespace: team-plain
spec:
  cell: cell-eu
  tier: medium
  environment: staging
  size: small
  storageGB: 20
---
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: plain-web
  namespace: team-plain
spec:
  cell: cell-eu
  tier: medium
  environment: staging
  image: registry.example.org/plain/web:1.0.0
  database: plain-db
";

#[test]
fn a_cell_without_a_standby_cannot_fail_over() {
    let dr = Dr::new();
    let file = dr.write("plain.yaml", PLAIN);
    let results = dr.apply(None, &[&file]);
    assert_eq!(results[0]["secondary"], Value::Null, "medium without a drProfile has no secondary");
    assert_eq!(results[1]["secondary"], Value::Null);
    assert_eq!(results[1]["reason"]["follows"], "mysql team-plain/plain-db");
    assert!(!dr.exists("HEAD", "platform/team-plain/app-plain-web/cell-eu.staging.application-secondary.yaml"));
    let head = dr.head();

    for extra in [&["--replication-lag", "1"][..], &["--force"]] {
        let mut args = extra.to_vec();
        args.extend(["-o", "json"]);
        let run = dr.run_book("failover", "cell-eu", "staging", &args);
        let (message, help) = dr.refused(&run, &head);
        assert!(message.starts_with("cell cell-eu/staging cannot move: "), "{message}");
        for missing in [
            "mysql team-plain/plain-db: no secondary",
            "mysql team-plain/plain-db: no replication",
            "app team-plain/plain-web: no application secondary",
        ] {
            assert!(message.contains(missing), "the refusal should say `{missing}`: {message}");
        }
        assert!(help.contains("drProfile"), "{help}");
        assert!(!dr.exists("HEAD", "cells/cell-eu/staging.yaml"));
    }

    // A cell with nothing in it has nothing to move.
    let run = dr.run_book("failover", "payments", "dev", &["--force", "-o", "json"]);
    assert_eq!(dr.refused(&run, &head).0, "cell payments/dev has nothing placed in it");
    // A cell the policy does not know is a typo, said as one, with the cells it knows.
    let run = dr.run_book("failover", "paymnets", "prod", &["--force", "-o", "json"]);
    let (message, help) = dr.refused(&run, &head);
    assert_eq!(message, "unknown cell `paymnets`");
    assert!(help.contains("payments"), "{help}");
}

// ---------------------------------------------------------------------------------------
// 6. Lag from a Prometheus-compatible API
// ---------------------------------------------------------------------------------------

const ONE_SAMPLE: &str =
    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"12.5"]}]}}"#;
const NO_SAMPLES: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;

/// A Prometheus query API on 127.0.0.1 that answers every `GET /api/v1/query` with one
/// fixed body and records the (decoded) `query` parameters it received.
struct LagServer {
    url: String,
    addr: SocketAddr,
    queries: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LagServer {
    fn start(body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (queries, stop) = (queries.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, body, &queries);
                    }
                }
            })
        };
        Self { url: format!("http://{addr}"), addr, queries, stop, thread: Some(thread) }
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

impl Drop for LagServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, body: &str, queries: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Headers up to the blank line; a GET has no body.
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or_default();
    let (path, query_string) = target.split_once('?').unwrap_or((target, ""));
    let (status, body) = if request_line.starts_with("GET ") && path == "/api/v1/query" {
        let query = query_string.split('&').find_map(|pair| pair.strip_prefix("query=")).map(percent_decode);
        queries.lock().unwrap().push(query.unwrap_or_default());
        ("200 OK", body)
    } else {
        queries.lock().unwrap().push(format!("unexpected request: {}", request_line.trim_end()));
        ("404 Not Found", r#"{"status":"error","error":"not found"}"#)
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = &stream;
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// Decodes a URL query value (`%XX` escapes and `+` for space).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).expect("the query is UTF-8")
}

#[test]
fn lag_is_read_from_a_prometheus_api() {
    let dr = Dr::new();
    dr.seed();
    let server = LagServer::start(ONE_SAMPLE);
    let outcome = dr.moved("failover", "payments", "prod", &["--lag-url", &server.url]);
    assert_eq!(outcome["observed_lag_seconds"], 12.5);
    let event = events(&dr.doc("HEAD", CELL_FILE))[0].clone();
    assert_eq!(event["observedLagSeconds"].as_f64(), Some(12.5));
    assert_eq!(event["forced"], false);
    let source = event["lagSource"].as_str().expect("lagSource is a string");
    assert!(source.contains(&server.url), "lagSource should name the URL: {source}");
    assert!(dr.trailers("HEAD").contains(&"Idp-Observed-Lag: 12.5s".to_owned()));

    let queries = server.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert!(queries[0].starts_with("max(idp_replication_lag_seconds{"), "{queries:?}");
    assert!(queries[0].contains(r#"cell="payments""#), "{queries:?}");
    assert!(source.contains(&queries[0]), "lagSource should carry the query: {source}");
}

/// A `--lag-url` with a password (Prometheus behind basic auth) is recorded and shown with
/// the password as `***`, wherever idp writes or prints it: the cell's file, the commit,
/// the outcome, the refusal; passwords holding `/`, `#`, `?` (which no URL parser reads
/// as a password, so the query fails) included.
#[test]
fn a_lag_url_password_is_never_recorded_nor_printed() {
    let dr = Dr::new();
    dr.seed();
    let server = LagServer::start(ONE_SAMPLE);
    let url = server.url.replacen("http://", "http://lagbot:hunter2-lag@", 1);
    let run = dr.run_book("failover", "payments", "prod", &["--lag-url", &url, "-o", "json"]);
    run.code(0);
    let source = events(&dr.doc("HEAD", CELL_FILE))[0]["lagSource"].as_str().unwrap().to_owned();
    assert!(source.starts_with(&server.url.replacen("http://", "http://lagbot:***@", 1)), "{source}");
    let commit = dr.env.git(&["-C", STATE, "show", "HEAD"]);
    for (what, text) in
        [("the cell file", source.as_str()), ("the commit", &commit), ("stdout", &run.stdout), ("stderr", &run.stderr)]
    {
        assert!(!text.contains("hunter2"), "{what} holds the password:\n{text}");
    }
    let head = dr.head();
    for password in ["hunter2/lag", "hunter2#lag", "hunter2?lag", "hunter2/a@b?c#lag"] {
        let url = server.url.replacen("http://", &format!("http://lagbot:{password}@"), 1);
        for output in ["json", "table"] {
            let run = dr.run_book("failback", "payments", "prod", &["--lag-url", &url, "-o", output]);
            run.code(1);
            assert_eq!(dr.head(), head);
            let everything = format!("{}{}", run.stdout, run.stderr);
            assert!(!everything.contains("hunter2") && !everything.contains("lag@"), "{password}: {everything}");
            assert!(everything.contains("lagbot:***@"), "{password}: {everything}");
        }
    }
}

#[test]
fn the_default_lag_query_names_the_environment_idp_records() {
    // `--env prod` is an alias; the cell, its state file and every label say `production`,
    // so the metric selector must too, whichever spelling the operator typed.
    let dr = Dr::new();
    dr.seed();
    let server = LagServer::start(ONE_SAMPLE);
    dr.run_book("failover", "payments", "prod", &["--lag-url", &server.url, "--dry-run"]).code(0);
    assert_eq!(server.queries(), [r#"max(idp_replication_lag_seconds{cell="payments",environment="production"})"#]);
}

#[test]
fn a_lag_query_override_is_sent_with_cell_and_environment_substituted() {
    let dr = Dr::new();
    dr.seed();
    let server = LagServer::start(ONE_SAMPLE);
    let query = r#"max by (cell) (goldengate_lag_seconds{cell="$cell", env="$environment"} + 0)"#;
    let outcome = dr.moved("failover", "payments", "production", &["--lag-url", &server.url, "--lag-query", query]);
    assert_eq!(outcome["observed_lag_seconds"], 12.5);
    assert_eq!(server.queries(), [r#"max by (cell) (goldengate_lag_seconds{cell="payments", env="production"} + 0)"#]);
}

#[test]
fn a_prometheus_answer_without_samples_is_not_zero_lag() {
    let dr = Dr::new();
    dr.seed();
    let head = dr.head();
    let server = LagServer::start(NO_SAMPLES);
    let run = dr.run_book("failover", "payments", "prod", &["--lag-url", &server.url, "-o", "json"]);
    let (message, _) = dr.refused(&run, &head);
    assert_eq!(message, format!("cannot read the replication lag from {}: the query returned no samples", server.url));
    assert_eq!(server.queries().len(), 1);
    assert!(!dr.exists("HEAD", CELL_FILE));

    // Nothing listening: an error too, never a move.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let run = dr.run_book("failover", "payments", "prod", &["--lag-url", &closed, "-o", "json"]);
    let (message, _) = dr.refused(&run, &head);
    assert!(message.starts_with(&format!("cannot read the replication lag from {closed}: ")), "{message}");
}

/// Prometheus writes an unbounded or unknown lag as `+Inf` or `NaN` (a stalled replicat,
/// a division by a zero rate), and a broken exporter can send anything. One such sample
/// beside a small one means the lag is not known: the failover is refused, never decided
/// on the samples that happen to parse. (`--force` without `--lag-url` remains the way to
/// move without a reading; that is tested with the runbook's gate.)
#[test]
fn a_lag_sample_that_is_not_a_finite_number_of_seconds_refuses_the_failover() {
    let dr = Dr::new();
    dr.seed();
    let head = dr.head();
    for bad in ["+Inf", "Inf", "NaN", "-3", "-0.5", "soon", ""] {
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"side":"primary"}},"value":[1700000000,"1.5"]}},{{"metric":{{"side":"secondary"}},"value":[1700000000,"{bad}"]}}]}}}}"#
        );
        let server = LagServer::start(Box::leak(body.into_boxed_str()));
        for dry_run in [false, true] {
            let mut args = vec!["--lag-url", server.url.as_str(), "-o", "json"];
            if dry_run {
                args.push("--dry-run");
            }
            let run = dr.run_book("failover", "payments", "prod", &args);
            let (message, _) = dr.refused(&run, &head);
            assert_eq!(
                message,
                format!(
                    "cannot read the replication lag from {}: sample {bad:?} of {{side=\"secondary\"}} is not a lag in seconds, so the lag is unknown or unbounded",
                    server.url
                ),
                "{bad} (dry run: {dry_run})"
            );
        }
        assert!(!dr.exists("HEAD", CELL_FILE));
    }
}

// ---------------------------------------------------------------------------------------
// 7. --dry-run
// ---------------------------------------------------------------------------------------

/// The runbook steps the seed cell's failover prints, in order.
fn assert_runbook_waves(steps: &[String]) {
    let position = |needle: &str| {
        steps
            .iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("no step mentions {needle:?}: {steps:#?}"))
    };
    let (fence, data, compute, traffic) = (
        position("wave -1 (fence)"),
        position("wave 0 (data)"),
        position("wave 1 (compute)"),
        position("wave 2 (traffic)"),
    );
    assert!(fence < data && data < compute && compute < traffic, "{steps:#?}");
    assert!(steps[fence].contains("team-payments/payments-db"), "{steps:#?}");
    assert!(steps[compute].contains("team-payments/checkout"), "{steps:#?}");
}

#[test]
fn dry_run_prints_the_runbook_and_writes_nothing() {
    let dr = Dr::new();
    dr.seed();
    let head = dr.head();
    let run = dr.run_book("failover", "payments", "prod", &["--replication-lag", "4", "--dry-run"]);
    run.code(0);
    let steps: Vec<String> = run.stdout.lines().map(str::to_owned).collect();
    assert_runbook_waves(&steps);
    assert!(run.stdout.starts_with("failover cell payments/production: primary → secondary\n"), "{}", run.stdout);
    assert!(run.stdout.contains("lag 4s (RPO 30s)"), "{}", run.stdout);
    assert!(run.stdout.ends_with("dry run: nothing written\n"), "{}", run.stdout);
    assert_eq!(dr.head(), head);
    dr.assert_clean();

    let doc = dr.run_book("failover", "payments", "prod", &["--replication-lag", "4", "--dry-run", "-o", "json"]);
    let doc = doc.code(0).json();
    assert_eq!((&doc["dry_run"], &doc["noop"], &doc["commit"]), (&json!(true), &json!(false), &Value::Null));
    let steps: Vec<String> = doc["steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
    assert_runbook_waves(&steps);
    assert_eq!(dr.head(), head);
    assert!(!dr.exists("HEAD", CELL_FILE));
}

#[test]
fn dry_run_lists_the_file_changes_it_would_commit() {
    // docs/disaster-recovery.md: "--dry-run prints the runbook and the file changes".
    let dr = Dr::new();
    dr.seed();
    let doc = dr.run_book("failover", "payments", "prod", &["--replication-lag", "4", "--dry-run", "-o", "json"]);
    let doc = doc.code(0).json();
    let paths: Vec<String> = changes(&doc).into_iter().map(|(_, path)| path).collect();
    assert_eq!(paths, sorted(&MOVE_FILES), "{doc:#}");
}

/// A dry run gives the verdict the real run would give: without a lag reading, or with
/// one above RPO, it refuses as the real run does (an operator rehearsing the runbook
/// learns that the gate will stop it); `--force` previews the forced move.
#[test]
fn a_dry_run_gives_the_real_runs_verdict_on_the_lag() {
    let dr = Dr::new();
    dr.seed();
    let head = dr.head();
    let base = ["failover", "--cell", "payments", "--env", "prod", "--repo", STATE, "-o", "json"];
    for (extra, code) in
        [(&[][..], "idp::failover::lag_unknown"), (&["--replication-lag", "3600"][..], "idp::failover::lag")]
    {
        for dry_run in [false, true] {
            let mut args = base.to_vec();
            args.extend(extra);
            args.push("--yes");
            if dry_run {
                args.push("--dry-run");
            }
            let run = dr.idp(&args);
            run.code(1);
            assert_eq!(run.json()["error"]["code"], code, "{extra:?} dry run {dry_run}");
            assert_eq!(dr.head(), head);
        }
    }
    let run = dr.idp(&[
        "failover",
        "--no-wait",
        "--cell",
        "payments",
        "--env",
        "prod",
        "--dry-run",
        "--force",
        "--repo",
        STATE,
    ]);
    run.code(0);
    assert_runbook_waves(&run.stdout.lines().map(str::to_owned).collect::<Vec<_>>());
    assert_eq!(dr.head(), head);
    dr.assert_clean();
}

#[test]
fn the_failback_runbook_says_what_its_commit_does() {
    // The runbook is recorded in the commit message: every step it claims must be in the
    // files, and the files must not do what it does not say.
    let dr = Dr::new();
    dr.seed();
    dr.moved("failover", "payments", "prod", &["--replication-lag", "4"]);
    dr.moved("failback", "payments", "prod", &["--replication-lag", "2"]);
    let message = dr.git(&["log", "-1", "--format=%B"]);
    let claims_fence = message.contains("fence the secondary databases");
    let fenced = dr.doc("HEAD", DB_SECONDARY)["spec"]["parameters"]["writeFence"] == true;
    assert_eq!(
        claims_fence, fenced,
        "the failback commit says it fences the secondary: {claims_fence}; the secondary claim's writeFence: {fenced}\n{message}"
    );
}

// ---------------------------------------------------------------------------------------
// 8. idp status cell
// ---------------------------------------------------------------------------------------

/// The whitespace-separated cells of the one table row whose first cell is `first`.
fn row<'a>(table: &'a str, first: &str, second: &str) -> Vec<&'a str> {
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| {
            let mut cells = l.split_whitespace();
            cells.next() == Some(first) && cells.next() == Some(second)
        })
        .collect();
    assert_eq!(rows.len(), 1, "expected one row starting with {first} {second}:\n{table}");
    rows[0].split_whitespace().collect()
}

#[test]
fn status_cell_shows_members_sides_and_events_before_and_after_failover() {
    let dr = Dr::new();
    dr.seed();
    let status = |dr: &Dr| dr.idp(&["status", "cell", "payments", "prod", "--repo", STATE]).code(0).stdout.clone();
    let status_json =
        |dr: &Dr| dr.idp(&["status", "cell", "payments", "prod", "--repo", STATE, "-o", "json"]).code(0).json();

    let out = status(&dr);
    assert_eq!(out.lines().next(), Some("cell payments/production: active side primary, traffic via oci-dns"));
    let header: Vec<&str> = out.lines().find(|l| l.starts_with("KIND")).expect("a header").split_whitespace().collect();
    assert_eq!(header, ["KIND", "REQUEST", "PRIMARY", "SECONDARY", "DRPROFILE", "RTO", "RPO", "TRAFFIC"]);
    assert_eq!(
        row(&out, "app", "team-payments/checkout"),
        [
            "app",
            "team-payments/checkout",
            "aws/us-east-1",
            "gcp/us-central1",
            "gold",
            "15",
            "min",
            "30",
            "s",
            PRIMARY_TARGET
        ]
    );
    assert_eq!(
        row(&out, "mysql", "team-payments/payments-db"),
        ["mysql", "team-payments/payments-db", "aws/us-east-1", "gcp/us-central1", "gold", "15", "min", "30", "s", "-"]
    );
    assert!(!out.contains("ACTION"), "no events yet:\n{out}");

    let doc = status_json(&dr);
    assert_eq!((doc["cell"].as_str(), doc["environment"].as_str()), (Some("payments"), Some("production")));
    assert_eq!(doc["active_side"], "primary");
    assert_eq!(doc["traffic_provider"], "oci-dns");
    assert_eq!(doc["events"], json!([]));
    let members = doc["members"].as_array().unwrap();
    let ids: Vec<String> = members
        .iter()
        .map(|m| {
            format!(
                "{} {}/{}",
                m["kind"].as_str().unwrap(),
                m["namespace"].as_str().unwrap(),
                m["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(ids, ["app team-payments/checkout", "mysql team-payments/payments-db"]);
    for m in members {
        assert_eq!(
            (at(&m["primary"]), at(&m["secondary"])),
            ("aws/us-east-1".to_owned(), "gcp/us-central1".to_owned())
        );
        assert_eq!(m["primary"]["runtimeCluster"], "aws-use1-prod-01");
        assert_eq!(m["drProfile"], "gold");
        assert_eq!((&m["rtoMinutes"], &m["rpoSeconds"]), (&json!(15), &json!(30)));
    }
    assert_eq!(members[0]["trafficTarget"], PRIMARY_TARGET);
    assert_eq!(members[1]["trafficTarget"], Value::Null);

    // After the failover: the secondary is active and traffic goes to its cluster.
    dr.moved("failover", "payments", "prod", &["--replication-lag", "4", "--reason", REASON]);
    let out = status(&dr);
    assert_eq!(out.lines().next(), Some("cell payments/production: active side secondary, traffic via oci-dns"));
    assert_eq!(row(&out, "app", "team-payments/checkout").last(), Some(&SECONDARY_TARGET));
    let event_row = out.lines().find(|l| l.contains("failover (primary → secondary)")).expect("the event row");
    for cell in [BY, "4s", "30s", "false", REASON] {
        assert!(event_row.contains(cell), "event row lacks {cell:?}: {event_row}");
    }
    let doc = status_json(&dr);
    assert_eq!(doc["active_side"], "secondary");
    assert_eq!(doc["members"][0]["trafficTarget"], SECONDARY_TARGET);
    assert_eq!(doc["events"], dr.doc("HEAD", CELL_FILE)["events"]);

    // After the failback: two events, newest first, in both forms.
    dr.moved("failback", "payments", "prod", &["--replication-lag", "2"]);
    let out = status(&dr);
    assert_eq!(out.lines().next(), Some("cell payments/production: active side primary, traffic via oci-dns"));
    assert_eq!(row(&out, "app", "team-payments/checkout").last(), Some(&PRIMARY_TARGET));
    let back = out.find("failback (secondary → primary)").expect("the failback row");
    let over = out.find("failover (primary → secondary)").expect("the failover row");
    assert!(back < over, "events newest first:\n{out}");
    let doc = status_json(&dr);
    let actions: Vec<&str> = events(&doc).iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["failback", "failover"]);
    assert_eq!(doc["members"][0]["trafficTarget"], PRIMARY_TARGET);
}

// ---------------------------------------------------------------------------------------
// 9. Rendered Applications against the upstream Argo CD CRD
// ---------------------------------------------------------------------------------------

#[test]
fn every_rendered_application_validates_against_the_argo_cd_crd() {
    // The pinned upstream CRD: tests/fixtures/crds/README.md.
    let path = crate_dir().join("tests/fixtures/crds/argo-cd/application-crd.yaml");
    let crd = yaml_documents(&std::fs::read_to_string(&path).unwrap()).remove(0);
    assert_eq!(crd["spec"]["names"]["kind"], "Application");

    // Gold, silver and bronze, before and after each cell's failover.
    let dr = Dr::new();
    dr.seed();
    let silver = dr.write("silver.yaml", SILVER);
    let bronze = dr.write("bronze.yaml", BRONZE);
    dr.apply(None, &[&silver, &bronze]);
    let mut revisions = vec![dr.head()];
    for (cell, environment) in [("payments", "prod"), ("cell-us-east", "dev"), ("cell-eu", "dev")] {
        dr.moved("failover", cell, environment, &["--replication-lag", "1"]);
    }
    revisions.push(dr.head());

    let mut validated = 0;
    let mut problems = Vec::new();
    let mut automated_seen = Vec::new();
    for revision in &revisions {
        let files: Vec<String> =
            dr.ls(revision, "platform").into_iter().filter(|f| f.contains(".application-")).collect();
        assert_eq!(files.len(), 6, "three apps, two sides each: {files:?}");
        for file in files {
            let application = dr.doc(revision, &file);
            automated_seen.push(!automated(&application).is_null());
            problems.extend(
                crd_schema::validate_against_crd(&crd, &application)
                    .into_iter()
                    .map(|v| format!("{revision}:{file}: {v}")),
            );
            validated += 1;
        }
    }
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(validated, 12);
    // Both shapes of syncPolicy were among them: with automated and without (cold standby).
    assert!(automated_seen.contains(&true) && automated_seen.contains(&false));

    // The validator is strict: a field the CRD does not declare is reported.
    let mut application = dr.doc("HEAD", APP_SECONDARY);
    application["spec"]["destination"]["clusterName"] = json!("x");
    let found: Vec<String> =
        crd_schema::validate_against_crd(&crd, &application).iter().map(ToString::to_string).collect();
    assert!(found.iter().any(|v| v.starts_with("spec.destination.clusterName")), "{found:#?}");
}

// ---------------------------------------------------------------------------------------
// 10. App validation
// ---------------------------------------------------------------------------------------

/// A valid App request. Tests edit single lines; the locations below are its lines.
const APP: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: web
  namespace: team-web
spec:
  cell: cell-eu
  tier: C2
  environment: dev
  image: registry.example.org/web/site:1.0.0
  port: 8080
  replicas: 2
  traffic:
    publicHost: web.example.org
    mode: active-passive
";
// Lines: 10 image (value at column 10), 11 port (col 9), 12 replicas (col 13),
//        13 traffic, 14 publicHost (col 17), 15 mode (key col 5, value col 11).

/// `idp plan -f req.yaml -o json` on `contents`, which must fail with exactly one issue;
/// (message, help). Also checks that the report on stderr says the same.
fn single_issue(contents: &str) -> (String, String) {
    let env = TestEnv::new();
    let file = env.write("req.yaml", contents);
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(1);
    let issues = run.issues();
    assert_eq!(issues.len(), 1, "for request:\n{contents}\n{issues:#?}");
    let (message, help) = issues.into_iter().next().unwrap();
    run.stderr_says(&message);
    (message, help.unwrap_or_default())
}

#[test]
fn app_validation_errors_are_located() {
    // The unedited request is valid.
    let env = TestEnv::new();
    let file = env.write("web.yaml", APP);
    env.idp(&["plan", "-f", &file, "-o", "json"]).code(0);

    let pinned = "name a pinned image, e.g. registry.example.org/orders/api:1.4.2 or ...@sha256:<digest>";
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "image: registry.example.org/web/site:1.0.0",
            "image: registry.example.org/x/y",
            "req.yaml:10:10: image `registry.example.org/x/y` carries no tag or digest",
            pinned,
        ),
        (
            "image: registry.example.org/web/site:1.0.0",
            "image: registry.example.org/x/y@sha256:abc",
            "req.yaml:10:10: image `registry.example.org/x/y@sha256:abc` has a malformed digest `sha256:abc`: idp takes sha256: and 64 lowercase hex digits",
            pinned,
        ),
        (
            "publicHost: web.example.org",
            "publicHost: Web_Example",
            "req.yaml:14:17: publicHost `Web_Example` is not a DNS name",
            "use a lowercase host name such as orders.example.org",
        ),
        ("port: 8080", "port: 0", "req.yaml:11:9: port 0 is outside 1..=65535", "ask for between 1 and 65535"),
        ("port: 8080", "port: 70000", "req.yaml:11:9: port 70000 is outside 1..=65535", "ask for between 1 and 65535"),
        ("replicas: 2", "replicas: -1", "req.yaml:12:13: replicas -1 is outside 0..=100", "ask for between 0 and 100"),
        (
            "    mode: active-passive\n",
            "    mode: active-active\n",
            "req.yaml:15:11: unknown traffic mode `active-active`",
            "active-passive",
        ),
        (
            "    mode: active-passive\n",
            "    mode: active-passive\n    weight: 3\n",
            "req.yaml:16:5: unknown field `weight` in traffic",
            "traffic accepts: publicHost, mode",
        ),
        (
            "    mode: active-passive\n",
            "    mdoe: active-passive\n",
            "req.yaml:15:5: unknown field `mdoe` in traffic",
            "did you mean `mode`?",
        ),
    ];
    for (from, to, message, help) in cases {
        let (got, got_help) = single_issue(&edit(APP, from, to));
        assert_eq!(got, message, "{from} -> {to}");
        assert!(got_help.contains(help), "{from} -> {to}: help {got_help:?} should say {help:?}");
    }

    // The host must lie within the zone the cell's traffic provider names (example.org in
    // the default policy), strictly: the apex takes no CNAME.
    for host in ["web.example.com", "example.org", "web.notexample.org"] {
        let (message, help) = single_issue(&edit(APP, "publicHost: web.example.org", &format!("publicHost: {host}")));
        assert_eq!(
            message,
            format!("req.yaml:14:17: publicHost `{host}` is not within zone example.org of traffic provider oci-dns")
        );
        assert!(help.contains("traffic.providers.oci-dns.zone"), "{help}");
    }
    // A deeper host is within the apex zone.
    let env = TestEnv::new();
    let file = env.write("web.yaml", edit(APP, "publicHost: web.example.org", "publicHost: shop.eu.example.org"));
    env.idp(&["plan", "-f", &file, "-o", "json"]).code(0);

    // Placement fields are refused in an App too, at any depth.
    let (message, help) =
        single_issue(&edit(APP, "    mode: active-passive\n", "    mode: active-passive\n    region: x\n"));
    assert_eq!(message, "req.yaml:16:5: `region` may not be set in a request");
    assert_eq!(help, PLACEMENT_HELP);
    let (message, _) = single_issue(&edit(APP, "  replicas: 2\n", "  replicas: 2\n  runtimeCluster: x\n"));
    assert_eq!(message, "req.yaml:13:3: `runtimeCluster` may not be set in a request");
}

#[test]
fn an_app_takes_the_documented_defaults() {
    let dr = Dr::new();
    let minimal = edit(&edit(APP, "  port: 8080\n  replicas: 2\n", ""), "    mode: active-passive\n", "");
    let file = dr.write("web.yaml", &minimal);
    dr.apply(None, &[&file]);
    let request = dr.doc("HEAD", "requests/team-web/app-web.yaml");
    assert_eq!(request["spec"]["port"], 8080);
    assert_eq!(request["spec"]["replicas"], 2);
    assert_eq!(request["spec"]["traffic"], json!({"publicHost": "web.example.org", "mode": "active-passive"}));
    // No database in the cell: the app is scheduled on its own and follows nothing.
    let record = dr.doc("HEAD", "placements/team-web/app-web.yaml");
    assert_eq!(record["reason"]["follows"], Value::Null);
    assert_eq!(replicas(&dr.doc("HEAD", "platform/team-web/app-web/cell-eu.dev.application-primary.yaml")), 2);
}

// ---------------------------------------------------------------------------------------
// 11. A cell with its own traffic provider
// ---------------------------------------------------------------------------------------

const EU_APP: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: eu-db
  namespace: team-eu
spec:
  cell: cell-eu
  tier: C1
  environment: staging
  size: small
  storageGB: 20
---
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: eu-web
  namespace: team-eu
spec:
  cell: cell-eu
  tier: C1
  environment: staging
  image: registry.example.org/eu/web:3.1.4
  database: eu-db
  traffic:
    publicHost: web.eu.example.org
";

#[test]
fn a_cell_with_a_route53_override_renders_route53_records() {
    let dr = Dr::new();
    let policy = edit(&default_policy_text(), "  cell-eu:\n", "  cell-eu:\n    trafficProvider: route53\n");
    dr.write("state/policy/policy.yaml", &policy);
    dr.git(&["commit", "--quiet", "-am", "cell-eu: route53"]);
    let file = dr.write("eu.yaml", EU_APP);
    let results = dr.apply(None, &[&file]);
    let member = dr.doc("HEAD", "cells/cell-eu/staging/members/team-eu/app-eu-web.yaml");
    let primary = format!("{}.apps.example.org", member["primary"]["runtimeCluster"].as_str().unwrap());
    let secondary = format!("{}.apps.example.org", member["secondary"]["runtimeCluster"].as_str().unwrap());
    assert_eq!(results[1]["reason"]["follows"], "mysql team-eu/eu-db");

    let dns_path = "platform/team-eu/app-eu-web/cell-eu.staging.dns.yaml";
    let check = |dr: &Dr, active: &str, standby: &str| {
        let dns = dr.docs("HEAD", dns_path);
        let kinds: Vec<(&str, &str, &str)> = dns
            .iter()
            .map(|d| {
                (
                    d["apiVersion"].as_str().unwrap(),
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        let route53 = "route53.aws.upbound.io/v1beta1";
        assert_eq!(
            kinds,
            [
                (route53, "HealthCheck", "team-eu--eu-web-primary-health"),
                (route53, "HealthCheck", "team-eu--eu-web-secondary-health"),
                (route53, "Record", "team-eu--eu-web-active"),
                (route53, "Record", "team-eu--eu-web-standby"),
            ]
        );
        for doc in &dns {
            assert_eq!(doc["metadata"]["namespace"], Value::Null);
            assert_eq!(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "2");
            assert_eq!(doc["metadata"]["labels"]["platform.example.org/cell"], "cell-eu");
        }
        assert_eq!(dns[0]["spec"]["forProvider"]["fqdn"], primary.as_str());
        assert_eq!(dns[1]["spec"]["forProvider"]["fqdn"], secondary.as_str());
        for (doc, target, role) in [(&dns[2], active, "PRIMARY"), (&dns[3], standby, "SECONDARY")] {
            let record = &doc["spec"]["forProvider"];
            assert_eq!(record["name"], "web.eu.example.org");
            assert_eq!(record["zoneIdRef"]["name"], "example.org", "the policy's zone for route53");
            assert_eq!(record["records"], json!([target]));
            assert_eq!(record["failoverRoutingPolicy"], json!([{"type": role}]));
        }
    };
    check(&dr, &primary, &secondary);
    let status = dr.idp(&["status", "cell", "cell-eu", "staging", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(status["traffic_provider"], "route53");

    // A failover swaps the targets of the two records.
    dr.moved("failover", "cell-eu", "staging", &["--replication-lag", "10"]);
    check(&dr, &secondary, &primary);

    // Other cells keep the default provider.
    let silver = dr.write("silver.yaml", SILVER);
    dr.apply(None, &[&silver]);
    let dns = dr.docs("HEAD", "platform/team-silver/app-ledger-web/cell-us-east.dev.dns.yaml");
    assert_eq!(dns[0]["apiVersion"], "healthchecks.oci.upbound.io/v1alpha1");
}

// ---------------------------------------------------------------------------------------
// A failed-over cell stays failed over
// ---------------------------------------------------------------------------------------

#[test]
fn apply_in_a_failed_over_cell_renders_the_active_side() {
    let dr = Dr::new();
    dr.seed();
    dr.moved("failover", "payments", "prod", &["--replication-lag", "4"]);
    let cell_before = dr.show("HEAD", CELL_FILE);

    // A new image: the deployments change their image only; the secondary keeps serving.
    let app = dr.write(
        "checkout.yaml",
        edit(
            &std::fs::read_to_string(crate_dir().join("examples/payments-app.yaml")).unwrap(),
            "checkout:1.8.3",
            "checkout:1.9.0",
        ),
    );
    dr.apply(None, &[&app]);
    assert_eq!(
        dr.changed_paths("HEAD"),
        sorted(&["requests/team-payments/app-checkout.yaml", DEPLOY_PRIMARY, DEPLOY_SECONDARY])
    );
    assert_eq!(replicas(&dr.doc("HEAD", APP_PRIMARY)), 0);
    assert_eq!(replicas(&dr.doc("HEAD", APP_SECONDARY)), 3);
    assert_eq!(dr.show("HEAD", CELL_FILE), cell_before, "apply never writes the cell state");
    let image = &dr.docs("HEAD", DEPLOY_SECONDARY)[0]["spec"]["template"]["spec"]["containers"][0]["image"];
    assert_eq!(image, "registry.example.org/payments/checkout:1.9.0");
    // The new side stays fenced: the apply rendered the claims for the active side too.
    assert_eq!(dr.doc("HEAD", DB_PRIMARY)["spec"]["parameters"]["writeFence"], true);
}

#[test]
fn rollback_of_a_failover_restores_the_files_and_the_cell_state() {
    // docs/disaster-recovery.md: `idp rollback` of the failover commit restores the files
    // exactly, including the cell state.
    let dr = Dr::new();
    let seed = dr.seed();
    dr.moved("failover", "payments", "prod", &["--replication-lag", "4"]);
    let failed_over = dr.head();
    dr.idp(&["rollback", &failed_over, "--repo", STATE, "--yes"]).code(0);
    assert_eq!(dr.git(&["rev-parse", "HEAD~1"]).trim(), failed_over);
    dr.assert_clean();
    assert_eq!(dr.git(&["diff", "--stat", &seed.app_commit, "HEAD"]), "", "the tree is the one before the failover");
    assert!(!dr.exists("HEAD", CELL_FILE));
    let status = dr.idp(&["status", "cell", "payments", "prod", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(status["active_side"], "primary");
}

// ---------------------------------------------------------------------------------------
// GoldenGate replication keeps its databases by role across a failover
// ---------------------------------------------------------------------------------------

/// The objects of a failover outcome (`ops::objects`) as `(action, kind)`, and the
/// ReplicationClaim's changed field paths.
fn object_actions(outcome: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let objects = outcome["objects"].as_array().unwrap_or_else(|| panic!("no objects: {outcome:#}"));
    let actions = objects
        .iter()
        .map(|o| (o["action"].as_str().unwrap().to_owned(), o["kind"].as_str().unwrap().to_owned()))
        .collect();
    let replication = objects.iter().find(|o| o["kind"] == "ReplicationClaim").expect("the replication changes");
    let fields = replication["fields"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_owned());
    (actions, fields.collect())
}

/// What a failover may change on the replication claim: its direction, never its databases.
fn only_the_direction(fields: &[String]) -> bool {
    fields.iter().all(|f| {
        f == "spec.parameters.direction"
            || f.starts_with("spec.parameters.source.")
            || f.starts_with("spec.parameters.target.")
    })
}

#[test]
fn a_failover_of_goldengate_replication_replaces_nothing() {
    // GoldenGate Connections belong to the primary and the secondary database; only the
    // Extract/Replicat direction moves. Keyed by direction, each Connection's
    // technologyType (ForceNew) would flip between two clouds and upjet would refuse it.
    let dr = Dr::new();
    let seed = dr.seed();
    let before = dr.doc(&seed.app_commit, DB_REPLICATION)["spec"]["parameters"].clone();
    assert_eq!(before["tool"], "oci-goldengate");
    for (action, direction) in [("failover", "secondary-to-primary"), ("failback", "primary-to-secondary")] {
        let outcome = dr.moved(action, "payments", "prod", &["--replication-lag", "4"]);
        let (actions, fields) = object_actions(&outcome);
        assert!(actions.iter().all(|(a, _)| a == "update"), "{action}: {actions:?}");
        assert!(only_the_direction(&fields), "{action}: {fields:?}");
        let now = &dr.doc("HEAD", DB_REPLICATION)["spec"]["parameters"];
        assert_eq!((&now["primary"], &now["secondary"]), (&before["primary"], &before["secondary"]), "{action}");
        assert_eq!(now["direction"], direction);
        // source and target spell the direction out (the backup-restore Composition reads them).
        let (from, to) =
            if direction == "primary-to-secondary" { ("primary", "secondary") } else { ("secondary", "primary") };
        assert_eq!((&now["source"], &now["target"]), (&now[from], &now[to]), "{action}");
    }
    assert_eq!((&before["primary"]["provider"], &before["secondary"]["provider"]), (&json!("aws"), &json!("gcp")));
    assert_eq!(before["direction"], "primary-to-secondary");
}

#[test]
fn a_replication_claim_written_before_roles_takes_them_in_place() {
    // A state repo written by an idp that keyed replication by direction only: its
    // ReplicationClaim has source and target, no primary, secondary or direction. That
    // claim is the stored one (`oldSelf`) the new one is checked against, and the first
    // render with roles creates the role-keyed Connections rather than replacing anything.
    let dr = Dr::new();
    dr.seed();
    let path = format!("{STATE}/{DB_REPLICATION}");
    let text = dr.env.read(&path);
    let mut old = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let role = ["primary:", "secondary:", "direction:"].iter().any(|k| line.trim_start().starts_with(k));
        if indent == 4 && role {
            skipping = true;
        } else if !(skipping && indent > 4) {
            skipping = false;
            old.push_str(line);
            old.push('\n');
        }
    }
    assert!(!old.contains("primary:") && old.contains("source:"), "{old}");
    dr.write(&path, &old);
    dr.env.set_identity(STATE);
    dr.env.git_in(STATE, &["commit", "-q", "--allow-empty", "-am", "replication as the previous idp wrote it"]);

    let outcome = dr.moved("failover", "payments", "prod", &["--replication-lag", "4"]);
    let (actions, fields) = object_actions(&outcome);
    assert!(actions.iter().all(|(a, _)| a == "update"), "{actions:?}");
    assert!(fields.iter().any(|f| f == "spec.parameters.primary.provider"), "{fields:?}");
    let now = &dr.doc("HEAD", DB_REPLICATION)["spec"]["parameters"];
    assert_eq!(
        (&now["primary"]["claimName"], &now["direction"]),
        (&json!("payments-db"), &json!("secondary-to-primary"))
    );
}
