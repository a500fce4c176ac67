//! `idp migrate` end to end: a real state repo, the idp binary, and the stand-in
//! management cluster of tests/cli/runbook.rs, which follows Git (Argo CD has synced
//! whatever HEAD is, each claim is the committed one, Ready, with the write fence its
//! cloud reports).
//!
//! What this cannot prove: that replication really copies the data (a ReplicationClaim
//! the stand-in reports Ready is all idp can read, with the lag an operator's query
//! gives), that a real Argo CD applies each stage's commit before it reports it synced,
//! or the timings of a real cluster and cloud.

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, assert_human_snapshot, yaml_documents};
use crate::live::kubeconfig;
use crate::runbook::{Cloud, cluster};

const STATE: &str = "state";
const DIR: &str = "platform/team-alpha/mysql-orders-db";
const OLD: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml";
const NEW: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary-m1.yaml";
const MIGRATION: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.migration.yaml";
const RECORD: &str = "placements/team-alpha/mysql-orders-db.yaml";
const MEMBER: &str = "cells/cell-us-east/production/members/team-alpha/mysql-orders-db.yaml";
const CATALOG: &str = "catalog/team-alpha/mysql-orders-db.yaml";
const DEPLOYMENT: &str = "workloads/team-alpha/orders-api/primary/deployment.yaml";
const PUSH: &str = "platform/team-alpha/app-orders-api/cell-us-east.production.secrets-primary.yaml";

/// An app of the orders database's namespace that reads it.
const ORDERS_API: &str = "apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: orders-api
  namespace: team-alpha
spec:
  cell: cell-us-east
  tier: medium
  environment: production
  image: registry.example.org/orders/api:2.1.0
  port: 8080
  replicas: 2
  database: orders-db
";

/// The example orders-db (medium, production: deletion-protected, no secondary, on
/// aws/us-east-1) and the app that reads it, applied to a fresh state repo.
fn orders() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env.example("orders-db.yaml");
    env.write("orders-api.yaml", ORDERS_API);
    env.idp(&["apply", "-f", "orders-db.yaml", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "-f", "orders-api.yaml", "--repo", STATE, "--yes"]).code(0);
    env
}

fn migrate(env: &TestEnv, extra: &[&str]) -> Run {
    let mut args = vec!["migrate", "mysql", "team-alpha/orders-db", "--repo", STATE, "--yes", "-o", "json"];
    args.extend_from_slice(extra);
    env.idp(&args)
}

/// The files a commit changed, as git lists them.
fn changed(env: &TestEnv, commit: &str) -> Vec<String> {
    let out = env.git_in(STATE, &["diff-tree", "--no-commit-id", "--name-only", "-r", commit]);
    out.lines().map(str::to_owned).collect()
}

/// The documents of `path` at `revision`, none when it is not there.
fn documents(env: &TestEnv, revision: &str, path: &str) -> Vec<Value> {
    let listed = env.git_in(STATE, &["ls-tree", "--name-only", revision, path]);
    if listed.trim().is_empty() {
        return Vec::new();
    }
    yaml_documents(&env.git_in(STATE, &["show", &format!("{revision}:{path}")]))
}

fn record(env: &TestEnv, revision: &str) -> Value {
    documents(env, revision, RECORD).remove(0)
}

/// `idp verify` finds nothing.
fn verified(env: &TestEnv) {
    let run = env.idp(&["verify", "--repo", STATE]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

fn stages(doc: &Value) -> Vec<(String, String)> {
    let stages = doc["stages"].as_array().unwrap();
    stages.iter().map(|s| (s["stage"].as_str().unwrap().into(), s["status"].as_str().unwrap().into())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

fn sorted(files: &[&str]) -> Vec<String> {
    let mut files: Vec<String> = files.iter().map(|f| (*f).to_owned()).collect();
    files.sort();
    files
}

/// A migration is three stage commits, each landing only once the cluster reports the
/// one before done: the new claim and the replication into it, the old claim's fence,
/// then the cutover that makes the new claim the writer and moves the app's connection
/// secret to it. At every commit the data is in a claim: the old one stays, fenced and
/// replicated back to, until `--finish`, which needs its protection off first and the
/// explicit word.
#[test]
fn a_migration_moves_the_database_stage_by_stage_and_keeps_the_old_claim_until_finish() {
    let env = orders();
    let before = env.head(STATE);
    let api = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &api.url());
    let run =
        migrate(&env, &["--to", "gcp/us-central1", "--replication-lag", "3", "--reason", "INC-7 leave us-east-1"]);
    let doc = run.code(0).json();
    crate::output::assert_shape("migrate", &run.args, &doc);
    let done = [("provision", "done"), ("fence", "done"), ("lag", "done"), ("cutover", "done")];
    assert_eq!(stages(&doc), pairs(&done), "{doc:#}");
    assert_eq!((doc["from_claim"].as_str(), doc["to_claim"].as_str()), (Some("orders-db"), Some("orders-db-m1")));
    assert_eq!((&doc["replication"], &doc["apps"]), (&json!("goldengate-cdc"), &json!(["app team-alpha/orders-api"])));
    assert_eq!(
        doc["next"],
        "re-apply each app with --reschedule so it runs next to its data (app team-alpha/orders-api); once they work: idp migrate mysql team-alpha/orders-db --finish --allow-destroy"
    );
    run.stderr_says("migrate mysql team-alpha/orders-db: stage provision committed");
    run.stderr_says("waiting: mysql team-alpha/orders-db READY");

    let commits: Vec<String> =
        env.git_in(STATE, &["rev-list", "--reverse", &format!("{before}..HEAD")]).lines().map(str::to_owned).collect();
    assert_eq!(commits.len(), 3, "provision, fence, cutover");
    assert_eq!(changed(&env, &commits[0]), sorted(&[MIGRATION, NEW, RECORD]), "provision");
    assert_eq!(changed(&env, &commits[1]), sorted(&[OLD, RECORD]), "fence: the old claim only");
    assert_eq!(
        changed(&env, &commits[2]),
        sorted(&[CATALOG, MEMBER, MIGRATION, NEW, RECORD, DEPLOYMENT, PUSH]),
        "cutover: the new writer, the way back, and the app's secret"
    );
    for (commit, stage) in commits.iter().zip(["provision", "fence", "cutover"]) {
        let message = env.git_in(STATE, &["log", "-1", "--format=%B", commit]);
        assert!(message.contains(&format!("Idp-Action: migrate\nIdp-Request: mysql team-alpha/orders-db\nIdp-Cell: cell-us-east production\nIdp-Stage: {stage}\n")), "{message}");
        assert!(message.contains("Reason: INC-7 leave us-east-1"), "{message}");
    }
    let history =
        env.idp(&["history", "--namespace", "team-alpha", "--name", "orders-db", "--repo", STATE, "-o", "json"]);
    let history = history.code(0).json().to_string();
    assert_eq!(history.matches("\"migrate\"").count(), 3, "each stage is in the audit log: {history}");
    let cutover = env.git_in(STATE, &["log", "-1", "--format=%B", &commits[2]]);
    assert!(cutover.contains("Idp-Action: update\nIdp-Request: app team-alpha/orders-api\n"), "{cutover}");

    // Provision: the new claim on gcp, read-only, replicated into from the old one.
    let new = &documents(&env, &commits[0], NEW)[0];
    assert_eq!(new["metadata"]["name"], "orders-db-m1");
    assert_eq!(new["spec"]["writeConnectionSecretToRef"]["name"], "orders-db-m1-conn");
    let p = &new["spec"]["parameters"];
    assert_eq!((&p["provider"], &p["region"], &p["writeFence"]), (&json!("gcp"), &json!("us-central1"), &json!(true)));
    let replication = &documents(&env, &commits[0], MIGRATION)[0];
    assert_eq!(
        (&replication["kind"], &replication["metadata"]["name"]),
        (&json!("ReplicationClaim"), &json!("orders-db-migration"))
    );
    let r = &replication["spec"]["parameters"];
    assert_eq!((&r["source"]["claimName"], &r["target"]["claimName"]), (&json!("orders-db"), &json!("orders-db-m1")));
    assert_eq!((&r["tool"], &r["mode"]), (&json!("oci-goldengate"), &json!("cdc")));
    let old = |revision: &str| documents(&env, revision, OLD)[0]["spec"]["parameters"]["writeFence"].clone();
    assert_eq!(old(&commits[0]), json!(false), "the old claim takes writes until the fence");
    assert_eq!(record(&env, &commits[0])["migration"]["stage"], "provision");

    // Fence: no writer anywhere until the cutover.
    assert_eq!(old(&commits[1]), json!(true));
    assert_eq!(documents(&env, &commits[1], NEW)[0]["spec"]["parameters"]["writeFence"], json!(true));

    // Cutover: the new claim writes; the old one stays, fenced, and replication runs back to it.
    assert_eq!(documents(&env, "HEAD", NEW)[0]["spec"]["parameters"]["writeFence"], json!(false));
    assert_eq!(old("HEAD"), json!(true));
    let back = &documents(&env, "HEAD", MIGRATION)[0]["spec"]["parameters"];
    assert_eq!(
        (&back["source"]["claimName"], &back["direction"]),
        (&json!("orders-db-m1"), &json!("secondary-to-primary"))
    );
    let recorded = record(&env, "HEAD");
    assert_eq!((&recorded["primary"]["provider"], &recorded["generation"]), (&json!("gcp"), &json!(1)));
    let migration = &recorded["migration"];
    assert_eq!((&migration["stage"], &migration["observedLagSeconds"]), (&json!("cutover"), &json!(3.0)));
    let observed: Vec<&str> =
        migration["observed"].as_array().unwrap().iter().map(|o| o["stage"].as_str().unwrap()).collect();
    assert_eq!(observed, ["provision", "fence"], "what the cluster reported before each next stage");
    let deployment = env.git_in(STATE, &["show", &format!("HEAD:{DEPLOYMENT}")]);
    assert!(deployment.contains("orders-db-m1-conn") && !deployment.contains("\"orders-db-conn\""), "{deployment}");
    let push = env.git_in(STATE, &["show", &format!("HEAD:{PUSH}")]);
    assert!(push.contains("orders-db-m1-conn"), "{push}");

    // Every other command sees the database as the migration left it; the app reads it
    // from where it runs, and is told apart from its data until it is moved next to it.
    let reapply = env.idp(&["apply", "-f", "orders-db.yaml", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(reapply.code(0).json()["commit"], Value::Null, "nothing renders differently");
    let verify = env.idp(&["verify", "--repo", STATE]);
    verify.code(1);
    assert!(
        verify.stdout.contains("app team-alpha/orders-api no longer sits with mysql team-alpha/orders-db"),
        "{}",
        verify.stdout
    );
    let app = env.idp(&["apply", "-f", "orders-api.yaml", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(app.code(1).json()["error"]["code"], "idp::plan::sticky_conflict");
    let moved = env.idp(&["apply", "-f", "orders-api.yaml", "--reschedule", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(moved.code(0).json()["results"][0]["placement"]["provider"], "gcp", "{}", moved.stdout);
    // Argo CD leaves what the Application deployed on the cluster it moved off: said.
    moved.stderr_says("its primary side moves from runtime cluster aws-use1-prod-01 to gcp-usc1-prod-01");
    moved.stderr_says("argo-cd #9172");
    let deployment = env.git_in(STATE, &["show", &format!("HEAD:{DEPLOYMENT}")]);
    assert!(deployment.contains("orders-db-m1-conn"), "the moved app keeps the new claim's secret: {deployment}");
    verified(&env);
    let status = env.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "-o", "json"]);
    let status = status.code(0).json();
    crate::output::assert_shape("status", "status mysql team-alpha/orders-db", &status);
    assert_eq!(
        (&status["connection_secret"], &status["migration"]["stage"]),
        (&json!("orders-db-m1-conn"), &json!("cutover"))
    );
    let human = env.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "--color", "never"]);
    assert!(human.code(0).stdout.contains("aws/us-east-1 → gcp/us-central1 since"), "{}", human.stdout);
    let cut_over = env.head(STATE);

    // --finish: the old claim is deletion-protected (production): refused, naming the two commits.
    let refused = migrate(&env, &["--finish", "--allow-destroy"]);
    let error = refused.code(1).json();
    assert_eq!(error["error"]["code"], "idp::migrate::protected", "{error:#}");
    refused.stderr_says("idp migrate mysql team-alpha/orders-db --finish --unprotect");
    assert_eq!(env.head(STATE), cut_over);
    let unprotect = migrate(&env, &["--finish", "--unprotect"]);
    let doc = unprotect.code(0).json();
    crate::output::assert_shape("migrate", &unprotect.args, &doc);
    assert_eq!(changed(&env, "HEAD"), sorted(&[OLD, RECORD]), "the old claim's protection, and nothing else");
    assert_eq!(documents(&env, "HEAD", OLD)[0]["spec"]["parameters"]["deletionProtection"], json!(false));
    assert_eq!(documents(&env, "HEAD", NEW)[0]["spec"]["parameters"]["deletionProtection"], json!(true));
    let unprotected = env.head(STATE);

    // Without the explicit word nothing is deleted; with it, the old claim and the way back go.
    let refused = migrate(&env, &["--finish"]);
    assert_eq!(refused.code(1).json()["error"]["code"], "idp::destroy::refused");
    assert_eq!(env.head(STATE), unprotected);
    let finish = migrate(&env, &["--finish", "--allow-destroy"]);
    let doc = finish.code(0).json();
    crate::output::assert_shape("migrate", &finish.args, &doc);
    assert_eq!(changed(&env, "HEAD"), sorted(&[MIGRATION, OLD, RECORD]));
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(message.contains("Idp-Destroy: MySQLInstanceClaim team-alpha/orders-db\n"), "{message}");
    assert!(message.contains("Idp-Destroy: ReplicationClaim team-alpha/orders-db-migration\n"), "{message}");
    let files = env.git_in(STATE, &["ls-tree", "-r", "--name-only", "HEAD", DIR]);
    assert_eq!(files.lines().collect::<Vec<_>>(), [NEW], "the new claim alone");
    let recorded = record(&env, "HEAD");
    assert_eq!((&recorded["generation"], &recorded["migration"]), (&json!(1), &Value::Null));
    verified(&env);
    let reapply = env.idp(&["apply", "-f", "orders-db.yaml", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(reapply.code(0).json()["commit"], Value::Null, "the record keeps its generation");
    // Nothing left to finish or resume (in this clone: one started elsewhere is pulled first).
    for extra in [&["--finish", "--allow-destroy"][..], &["--resume", "--replication-lag", "1"]] {
        assert_eq!(migrate(&env, extra).code(1).json()["error"]["code"], "idp::migrate::nothing");
    }
    migrate(&env, &["--resume", "--replication-lag", "1"]).stderr_says("pull the state repo first (`git pull`)");
}

/// A new claim the cloud never reports as the stage wants it (here: its fence never
/// read-only): the migration waits, then stops at provision with the cloud's reason,
/// exit 1, one commit. Meanwhile the database renders as the stage left it and nothing
/// else starts over it; `--resume` waits for provision again and goes on.
#[test]
fn a_migration_stopped_at_a_stage_resumes_from_its_record() {
    let env = orders();
    let before = env.head(STATE);
    let stuck = cluster(&env, Cloud::NeverFences);
    kubeconfig(&env, &stuck.url());
    let run = migrate(&env, &["--to", "gcp/us-central1", "--replication-lag", "3", "--wait-timeout", "2s"]);
    let doc = run.code(1).json();
    crate::output::assert_shape("migrate", &run.args, &doc);
    assert_eq!(stages(&doc), pairs(&[("provision", "not-done")]));
    assert_eq!(doc["stopped"]["stage"], "provision");
    run.stderr_says("the migration of mysql team-alpha/orders-db stopped at its provision stage (timed out):");
    run.stderr_says("want read-only, the cloud reports read-write (0)");
    run.stderr_says("idp migrate mysql team-alpha/orders-db --resume");
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", &format!("{before}..HEAD")]).trim(), "1");
    let provisioned = env.head(STATE);
    assert_eq!(record(&env, "HEAD")["migration"]["stage"], "provision");

    // The database as the stage left it.
    verified(&env);
    for file in ["orders-db.yaml", "orders-api.yaml"] {
        let reapply = env.idp(&["apply", "-f", file, "--repo", STATE, "--yes", "-o", "json"]);
        assert_eq!(reapply.code(0).json()["commit"], Value::Null, "{file}: nothing renders differently");
    }
    let human = env.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "--color", "never"]);
    assert!(
        human
            .code(0)
            .stdout
            .contains("stage provision committed; `idp migrate mysql team-alpha/orders-db --resume` goes on"),
        "{}",
        human.stdout
    );
    // The cluster's view names each claim of the migration and why it is not there yet.
    let run = env.idp(&["status", "mysql", "team-alpha/orders-db", "--live", "--repo", STATE, "-o", "json"]);
    let live = run.json();
    crate::output::assert_shape("status-live", &run.args, &live);
    let parts: Vec<&str> = live["parts"].as_array().unwrap().iter().map(|p| p["object"].as_str().unwrap()).collect();
    for object in [
        "MySQLInstanceClaim team-alpha/orders-db",
        "MySQLInstanceClaim team-alpha/orders-db-m1",
        "ReplicationClaim team-alpha/orders-db-migration",
    ] {
        assert!(parts.contains(&object), "{object} in {parts:?}");
    }
    assert!(live["why"].as_str().unwrap().contains("orders-db-m1"), "{live:#}");
    // Nothing starts over it, and nothing finishes it before its cutover.
    let again = migrate(&env, &["--to", "oci/us-ashburn-1", "--replication-lag", "3"]);
    assert_eq!(again.code(1).json()["error"]["code"], "idp::migrate::in_progress");
    let early = migrate(&env, &["--finish", "--allow-destroy"]);
    assert_eq!(early.code(1).json()["error"]["code"], "idp::migrate::nothing");
    early.stderr_says("at stage provision, not cut over");
    assert_eq!(env.head(STATE), provisioned);

    // Once the cloud applies the fence, --resume waits for provision and goes on.
    let fixed = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &fixed.url());
    let run = migrate(&env, &["--resume", "--replication-lag", "3"]);
    let doc = run.code(0).json();
    crate::output::assert_shape("migrate", &run.args, &doc);
    let done = [("provision", "done"), ("fence", "done"), ("lag", "done"), ("cutover", "done")];
    assert_eq!(stages(&doc), pairs(&done), "{doc:#}");
    assert_eq!(doc["resumed"], true);
    assert_eq!(doc["stages"][0]["commit"], json!(provisioned), "the resumed wait is for the provision commit");
    assert!(
        doc["stages"][0]["wait"]["requests"].to_string().contains("orders-db-m1"),
        "it read the new claim: {doc:#}"
    );
    run.stderr_says("stage provision was committed");
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", &format!("{provisioned}..HEAD")]).trim(), "2");
    assert_eq!(record(&env, "HEAD")["migration"]["stage"], "cutover");

    // `idp rollback` undoes a stage, the record with it: the old claim is the writer again
    // (still fenced, as the fence stage left it), and --resume cuts over again.
    let cut_over = env.head(STATE);
    env.idp(&["rollback", "--repo", STATE, "--yes"]).code(0);
    let recorded = record(&env, "HEAD");
    assert_eq!((&recorded["migration"]["stage"], &recorded["generation"]), (&json!("fence"), &Value::Null));
    let deployment = env.git_in(STATE, &["show", &format!("HEAD:{DEPLOYMENT}")]);
    assert!(deployment.contains("\"orders-db-conn\""), "the app reads the old claim again: {deployment}");
    verified(&env);
    let run = migrate(&env, &["--resume", "--replication-lag", "3"]);
    let doc = run.code(0).json();
    assert_eq!(stages(&doc), pairs(&[("fence", "done"), ("lag", "done"), ("cutover", "done")]), "{doc:#}");
    let tree = |revision: &str| env.git_in(STATE, &["rev-parse", &format!("{revision}:platform")]);
    assert_eq!(tree("HEAD"), tree(&cut_over), "the same cutover");
}

/// Every refusal comes before anything is written, with the reason and its code.
#[test]
fn a_migration_it_cannot_make_is_refused_before_anything_is_written() {
    let env = orders();
    env.example("payments-c0.json");
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    let head = env.head(STATE);
    let target = |to: &str, needle: &str| {
        let run = migrate(&env, &["--to", to, "--replication-lag", "3"]);
        let doc = run.code(1).json();
        assert_eq!(doc["error"]["code"], "idp::migrate::target", "{to}: {doc:#}");
        run.stderr_says(needle);
    };
    target("gcp", "it is not PROVIDER/REGION");
    target("azure/westeurope", "it is not in the policy's candidate pool (aws/us-east-1, ");
    target("aws/us-east-1", "the database is there already (aws/us-east-1)");
    target("oci/us-ashburn-1", "oci/us-ashburn-1 lacks multi_az required by tier medium with ha");
    // A database and its standby are never in one provider.
    let run = env.idp(&[
        "migrate",
        "mysql",
        "team-payments/payments-db",
        "--to",
        "gcp/us-central1",
        "--replication-lag",
        "3",
        "--repo",
        STATE,
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::target");
    run.stderr_says("its secondary is in gcp (gcp/us-central1)");

    assert_eq!(env.head(STATE), head, "nothing was written");
    // A DR replication by CDC keys each database's GoldenGate Connection by provider,
    // whose technologyType is ForceNew: a cutover to a third provider would leave it
    // Synced=False (manifests/crossplane/force-new.yaml), so it is refused.
    let text = env.read("orders-db.yaml");
    env.write(
        "c1-db.yaml",
        text.replace("name: orders-db", "name: c1-db")
            .replace("tier: medium", "tier: C1")
            .replace("ha: true", "ha: false"),
    );
    env.idp(&["apply", "-f", "c1-db.yaml", "--repo", STATE, "--yes"]).code(0);
    let head = env.head(STATE);
    let run = env.idp(&[
        "migrate",
        "mysql",
        "team-alpha/c1-db",
        "--to",
        "oci/us-ashburn-1",
        "--replication-lag",
        "3",
        "--dry-run",
        "--repo",
        STATE,
        "-o",
        "json",
    ]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::target");
    run.stderr_says("its cutover stage would change ReplicationClaim team-alpha/c1-db-replication");
    run.stderr_says("sets goldengate.oci.upbound.io/v1alpha1 Connection spec.forProvider.technologyType");

    // The lag: unknown, or a reading above RPO (900 s for tier medium).
    let lag = |extra: &[&str], code: &str| {
        let run = migrate(&env, &[&["--to", "gcp/us-central1"][..], extra].concat());
        assert_eq!(run.code(1).json()["error"]["code"], code, "{}", run.args);
    };
    lag(&[], "idp::failover::lag_unknown");
    lag(&["--replication-lag", "2000"], "idp::failover::lag");
    // No cluster to wait on (no kubeconfig in the sandbox): no blind migration.
    let run = migrate(&env, &["--to", "gcp/us-central1", "--replication-lag", "3"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::cluster");
    run.stderr_says("there is no way to run it blind");
    // Apps move with their data; a migration lands on the branch Argo CD syncs.
    let run =
        env.idp(&["migrate", "app", "team-alpha/orders-api", "--to", "gcp/us-central1", "--repo", STATE, "-o", "json"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::kind");
    let run = migrate(&env, &["--to", "gcp/us-central1", "--replication-lag", "3", "--push", "--branch", "move"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::branch");
    // One of --to, --resume and --finish.
    assert_eq!(migrate(&env, &[]).code(1).json()["error"]["code"], "idp::usage::missing_argument");
    assert_eq!(env.head(STATE), head, "nothing was written");
    env.assert_clean(STATE);
}

/// A database with a DR standby moves region: the standby's claim is never touched by
/// the migration, and the DR replication reads from the new claim from the cutover on.
/// A failover stays possible in the middle of a migration (disaster recovery is never
/// blocked by it); the migration does not go on until the cell is back.
#[test]
fn a_migration_keeps_the_standby_moves_the_dr_replication_and_never_blocks_a_failover() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let text = env.read(&env.example("orders-db.yaml"));
    env.write(
        "ledger-db.yaml",
        text.replace("name: orders-db", "name: ledger-db").replace("tier: medium", "tier: low"),
    );
    env.idp(&["apply", "-f", "ledger-db.yaml", "--repo", STATE, "--yes"]).code(0);
    let dir = "platform/team-alpha/mysql-ledger-db";
    let secondary = format!("{dir}/cell-us-east.production.secondary.yaml");
    let replication = format!("{dir}/cell-us-east.production.replication.yaml");
    let new = format!("{dir}/cell-us-east.production.primary-m1.yaml");
    let ledger = |extra: &[&str]| {
        let args = [
            "migrate",
            "mysql",
            "team-alpha/ledger-db",
            "--replication-lag",
            "3",
            "--repo",
            STATE,
            "--yes",
            "-o",
            "json",
        ];
        env.idp(&[&args[..], extra].concat())
    };
    let runbook = |action: &str| {
        let args = [
            action,
            "--no-wait",
            "--cell",
            "cell-us-east",
            "--env",
            "prod",
            "--replication-lag",
            "3",
            "--repo",
            STATE,
            "--yes",
        ];
        env.idp(&args).code(0);
    };
    let before = env.head(STATE);
    let stuck = cluster(&env, Cloud::NeverFences);
    kubeconfig(&env, &stuck.url());
    ledger(&["--to", "aws/eu-west-1", "--wait-timeout", "1s"]).code(1);

    // A disaster mid-migration: the cell fails over; the new claim stays a fenced copy.
    runbook("failover");
    let fence = |path: &str| documents(&env, "HEAD", path)[0]["spec"]["parameters"]["writeFence"].clone();
    assert_eq!((fence(&secondary), fence(&new)), (json!(false), json!(true)));
    let run = ledger(&["--resume"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::cell");
    run.stderr_says("it is failed over to its secondary side");
    runbook("failback");

    let fixed = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &fixed.url());
    let doc = ledger(&["--resume"]).code(0).json();
    assert_eq!(doc["replication"], "goldengate-cdc", "gold replicates by CDC");
    let migrations =
        env.git_in(STATE, &["log", "--format=%H", "--grep", "Idp-Action: migrate", &format!("{before}..HEAD")]);
    let migrations: Vec<&str> = migrations.lines().collect();
    assert_eq!(migrations.len(), 3, "provision, fence, cutover");
    for commit in &migrations {
        assert!(!changed(&env, commit).contains(&secondary), "the migration never touches the standby");
    }
    assert!(changed(&env, migrations[0]).contains(&replication), "the cutover moves the DR replication");
    let dr = &documents(&env, "HEAD", &replication)[0]["spec"]["parameters"];
    assert_eq!((&dr["primary"]["claimName"], &dr["primary"]["region"]), (&json!("ledger-db-m1"), &json!("eu-west-1")));
    assert_eq!(
        (&dr["source"]["claimName"], &dr["target"]["claimName"]),
        (&json!("ledger-db-m1"), &json!("ledger-db-secondary"))
    );
    verified(&env);

    // One migration at a time: the next starts once this one is finished.
    let run = ledger(&["--to", "aws/us-west-2"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::in_progress");
    run.stderr_says("idp migrate mysql team-alpha/ledger-db --finish --allow-destroy");
}

/// `--lag-url`: the migration's replication does not exist before provision, so its
/// lag is read at the gate only, once the fence stopped writes, with the query naming
/// the migration's replication claim; a run never reads it earlier (a dry run not at all).
#[test]
fn a_lag_query_is_read_at_the_gate_after_the_fence() {
    let env = orders();
    let repo = env.path(STATE);
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let asked = heads.clone();
    let prometheus = crate::fake_api::FakeApi::start(move |seen| {
        asked.lock().unwrap().push((crate::live::head_of(&repo), seen.query().unwrap_or_default().to_owned()));
        let body = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"replication": "orders-db-migration"}, "value": [1_765_000_000.0, "2"]}
        ]}});
        (200, body.to_string())
    });
    let dry = migrate(&env, &["--to", "gcp/us-central1", "--lag-url", &prometheus.url(), "--dry-run"]);
    assert_eq!(stages(&dry.code(0).json()).len(), 4);
    assert!(heads.lock().unwrap().is_empty(), "a dry run reads no lag");

    let api = cluster(&env, Cloud::Follows);
    kubeconfig(&env, &api.url());
    let doc = migrate(&env, &["--to", "gcp/us-central1", "--lag-url", &prometheus.url()]).code(0).json();
    assert_eq!(doc["observed_lag_seconds"], 2.0);
    let fence = env.git_in(STATE, &["log", "-1", "--format=%H", "--grep", "Idp-Stage: fence"]);
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 1, "read once, at the gate: {heads:?}");
    assert_eq!(heads[0].0, fence.trim(), "after the fence, before the cutover");
    let query = &heads[0].1;
    for needle in ["namespace%3D%22team-alpha%22", "replication%3D%22orders-db-migration%22"] {
        assert!(query.contains(needle) || query.contains(&needle.replace("%3D", "=").replace("%22", "\"")), "{query}");
    }
    assert_eq!(record(&env, "HEAD")["migration"]["observedLagSeconds"], 2.0);
}

/// A migration abandoned before its cutover is undone with `idp rollback`: the new claim
/// holds only a copy, so it is not deletion-protected until the cutover (even in
/// production), and deleting it still takes the explicit word.
#[test]
fn a_migration_abandoned_before_its_cutover_rolls_back_with_the_explicit_word() {
    let env = orders();
    let before = env.head(STATE);
    let stuck = cluster(&env, Cloud::NeverFences);
    kubeconfig(&env, &stuck.url());
    migrate(&env, &["--to", "gcp/us-central1", "--replication-lag", "3", "--wait-timeout", "1s"]).code(1);
    assert_eq!(documents(&env, "HEAD", NEW)[0]["spec"]["parameters"]["deletionProtection"], json!(false));
    let refused = env.idp(&["rollback", "--repo", STATE, "--yes", "-o", "json"]);
    assert_eq!(refused.code(1).json()["error"]["code"], "idp::destroy::refused");
    env.idp(&["rollback", "--repo", STATE, "--yes", "--allow-destroy"]).code(0);
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(message.contains("Idp-Destroy: MySQLInstanceClaim team-alpha/orders-db-m1\n"), "{message}");
    let tree = |revision: &str| env.git_in(STATE, &["rev-parse", &format!("{revision}^{{tree}}")]);
    assert_eq!(tree("HEAD"), tree(&before), "as before the migration");
    verified(&env);
}

/// What an operator reads before saying yes: every stage with its files, the objects
/// each changes as Terraform shows them, and the next step.
#[test]
fn human_output_of_a_migration_dry_run() {
    let env = orders();
    let args = ["migrate", "mysql", "team-alpha/orders-db", "--to", "gcp/us-central1", "--replication-lag", "3"];
    let run = env.idp(&[&args[..], &["--dry-run", "--repo", STATE, "--color", "never"]].concat());
    run.code(0);
    assert_human_snapshot!("human_migrate_dry_run", run);
}

/// `--reschedule`: the policy in force picks the place, as plan would for a new request
/// of the same spec; where that is where the database is, there is nothing to migrate.
/// A cordoned candidate takes no migration, named or picked.
#[test]
fn a_migration_by_reschedule_goes_where_the_policy_places_a_new_request_now() {
    let env = orders();
    let run = migrate(&env, &["--reschedule", "--replication-lag", "3", "--dry-run"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::target");
    run.stderr_says("the policy in force places its primary where it is");

    let cordon = |candidate: &str| {
        let args = ["policy", "cordon", candidate, "--reason", "INC-9", "--yes", "--repo", STATE];
        env.idp(&args).code(0);
    };
    cordon("aws/us-east-1");
    let doc = migrate(&env, &["--reschedule", "--replication-lag", "3", "--dry-run"]).code(0).json();
    crate::output::assert_shape("migrate", "migrate --reschedule --dry-run", &doc);
    let text = env.read("orders-db.yaml");
    env.write("twin.yaml", text.replace("name: orders-db", "name: orders-twin"));
    let plan = env.idp(&["plan", "-f", "twin.yaml", "--repo", STATE, "-o", "json"]).code(0).json();
    let placed = &plan["results"][0]["placement"];
    assert_eq!((&doc["to"]["provider"], &doc["to"]["region"]), (&placed["provider"], &placed["region"]), "{plan:#}");
    let to = format!("{}/{}", doc["to"]["provider"].as_str().unwrap(), doc["to"]["region"].as_str().unwrap());

    cordon(&to);
    let head = env.head(STATE);
    let run = migrate(&env, &["--to", &to, "--replication-lag", "3"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::target");
    run.stderr_says("it is cordoned: it takes no new placements");
    let again = migrate(&env, &["--reschedule", "--replication-lag", "3", "--dry-run"]).code(0).json();
    assert_ne!(again["to"], doc["to"], "the next best, the cordoned one left out");
    assert_eq!(env.head(STATE), head);

    // The policy rules' deny_candidate refuse a place for a migration as for a plan.
    let rule = "package idp\n\ndeny_candidate contains msg if {\n\tinput.candidate.provider == \"gcp\"\n\tmsg := \"no gcp for team-alpha\"\n}\n";
    env.write("state/policy/rules/no_gcp.rego", rule);
    env.git_in(STATE, &["add", "policy/rules/no_gcp.rego"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", "rules: no gcp"]);
    let run = migrate(&env, &["--to", "gcp/europe-west1", "--replication-lag", "3", "--dry-run"]);
    assert_eq!(run.code(1).json()["error"]["code"], "idp::migrate::target");
    run.stderr_says("the policy rules refuse it: denied by policy/rules/no_gcp.rego: no gcp for team-alpha");
}
