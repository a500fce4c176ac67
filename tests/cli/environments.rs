//! Environments map to runtime clusters: a candidate's `runtimeClusters` names the
//! cluster each environment's apps run on (the default policy keeps dev and staging
//! off the `*-prod-01` clusters). Checked through what Argo CD is told (the
//! Application's `destination.name`, the PushSecret's store, the DNS target), read
//! back with the `git` CLI. What this cannot prove: that those clusters exist and are
//! registered with Argo CD under these names (docs/bootstrap.md says how).

use serde_json::Value;

use crate::common::{TestEnv, default_policy_text, edit, yaml_documents};

const STATE: &str = "state";

fn database(environment: &str) -> String {
    format!(
        "apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: db-{environment}
  namespace: team-shop
spec:
  cell: cell-us-east
  tier: low
  environment: {environment}
  size: small
  storageGB: 20
  ha: true
"
    )
}

fn app(environment: &str) -> String {
    format!(
        "apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: shop-{environment}
  namespace: team-shop
spec:
  cell: cell-us-east
  tier: low
  environment: {environment}
  image: registry.example.org/team-shop/shop:1.0.0
  database: db-{environment}
  traffic:
    publicHost: shop-{environment}.example.org
"
    )
}

/// A state repo whose policy runs every environment on the `runtimeCluster` of each
/// candidate, as policies did before `runtimeClusters`.
fn state_with_one_cluster_per_region() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    let without_map: String =
        default_policy_text().lines().filter(|l| !l.contains("runtimeClusters:")).map(|l| format!("{l}\n")).collect();
    env.write("state/policy/policy.yaml", without_map);
    env.git_in(STATE, &["commit", "-qam", "policy: one cluster per region"]);
    env
}

fn show(env: &TestEnv, path: &str) -> String {
    env.git_in(STATE, &["show", &format!("HEAD:{path}")])
}

/// The app's file `what` (application-primary, dns, ...) in `environment`.
fn app_file(env: &TestEnv, environment: &str, what: &str) -> String {
    show(env, &format!("platform/team-shop/app-shop-{environment}/cell-us-east.{environment}.{what}.yaml"))
}

fn destination(env: &TestEnv, environment: &str, side: &str) -> Value {
    let application = yaml_documents(&app_file(env, environment, &format!("application-{side}")));
    application[0]["spec"]["destination"]["name"].clone()
}

#[test]
fn each_environment_runs_its_apps_on_its_own_clusters() {
    let env = TestEnv::new();
    env.init_state(STATE);
    for (environment, suffix) in [("dev", "dev"), ("staging", "stg"), ("production", "prod")] {
        let db = env.write(&format!("db-{environment}.yaml"), database(environment));
        let web = env.write(&format!("app-{environment}.yaml"), app(environment));
        let run = env.idp(&["apply", "-f", &db, "-f", &web, "--repo", STATE, "--yes", "-o", "json"]);
        let doc = run.code(0).json();
        let (primary, secondary) = (format!("aws-use1-{suffix}-01"), format!("gcp-usc1-{suffix}-01"));
        for result in doc["results"].as_array().unwrap() {
            assert_eq!(result["placement"]["runtimeCluster"], primary.as_str(), "{result:#}");
            assert_eq!(result["secondary"]["runtimeCluster"], secondary.as_str(), "{result:#}");
        }
        // What Argo CD is told: deploy there, and reach the app through that cluster's gateway.
        assert_eq!(destination(&env, environment, "primary"), primary.as_str());
        assert_eq!(destination(&env, environment, "secondary"), secondary.as_str());
        let dns = app_file(&env, environment, "dns");
        assert!(dns.contains(&format!("{primary}.apps.example.org")), "{dns}");
        assert!(dns.contains(&format!("{secondary}.apps.example.org")), "{dns}");
        if environment != "production" {
            assert!(!dns.contains("-prod-01"), "{environment} reaches a production cluster:\n{dns}");
        }
    }
    // The render guard admits every cluster the policy names, in each environment.
    env.idp(&["verify", "--repo", STATE]).code(0);
}

/// A database placed before the policy mapped environments to clusters keeps its record
/// (sticky); an app that follows it afterwards runs on the cluster of its own
/// environment in the database's region, not on the cluster the old record names.
#[test]
fn an_app_follows_its_data_onto_its_environments_cluster() {
    let env = state_with_one_cluster_per_region();
    let db = env.write("db.yaml", database("staging"));
    env.idp(&["apply", "-f", &db, "--repo", STATE, "--yes"]).code(0);
    let record = || yaml_documents(&show(&env, "placements/team-shop/mysql-db-staging.yaml")).remove(0);
    assert_eq!(record()["primary"]["runtimeCluster"], "aws-use1-prod-01");

    env.write("state/policy/policy.yaml", default_policy_text());
    env.git_in(STATE, &["commit", "-qam", "policy: staging clusters"]);
    let web = env.write("app.yaml", app("staging"));
    let doc = env.idp(&["apply", "-f", &web, "--repo", STATE, "--yes", "-o", "json"]).code(0).json();
    let result = &doc["results"][0];
    assert_eq!(result["reason"]["follows"], "mysql team-shop/db-staging");
    assert_eq!(result["placement"]["runtimeCluster"], "aws-use1-stg-01");
    assert_eq!(result["secondary"]["runtimeCluster"], "gcp-usc1-stg-01");
    assert_eq!(destination(&env, "staging", "primary"), "aws-use1-stg-01");
    assert_eq!(record()["primary"]["runtimeCluster"], "aws-use1-prod-01", "the database's record is sticky");
}

#[test]
fn runtime_clusters_are_keyed_by_canonical_environments() {
    let env = TestEnv::new();
    let text = edit(
        &default_policy_text(),
        "{ staging: aws-use1-stg-01, dev: aws-use1-dev-01 }",
        "{ staging: aws-use1-stg-01, prod: aws-use1-blue-01 }",
    );
    let line = text.lines().position(|l| l.contains("aws-use1-blue-01")).unwrap() + 1;
    // Located at the entry's value, as every policy issue is.
    let column = text.lines().nth(line - 1).unwrap().find("aws-use1-blue-01").unwrap() + 1;
    let file = env.write("policy.yaml", &text);
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.issues(),
        [(
            format!("{file}:{line}:{column}: unknown environment `prod` (valid: dev, staging, production)"),
            Some("`prod` is an alias; key the cluster by `production`".to_owned())
        )]
    );
}

#[test]
fn policy_explain_shows_the_clusters_of_an_environment() {
    let env = TestEnv::new();
    let explain = |args: &[&str]| {
        let mut argv = vec!["policy", "explain", "low"];
        argv.extend_from_slice(args);
        argv.extend(["-o", "json"]);
        env.idp(&argv).code(0).json()
    };
    let doc = explain(&["--env", "dev"]);
    assert_eq!(doc["environment"], "dev");
    assert_eq!(doc["placement"]["runtimeCluster"], "aws-use1-dev-01");
    assert_eq!(doc["secondary"]["runtimeCluster"], "gcp-usc1-dev-01");
    // An alias resolves; without --env, each candidate's runtimeCluster.
    assert_eq!(explain(&["--env", "prod"])["placement"]["runtimeCluster"], "aws-use1-prod-01");
    assert_eq!(explain(&["--env", "prod"])["environment"], "production");
    assert_eq!(explain(&[])["environment"], Value::Null);
    assert_eq!(explain(&[])["placement"]["runtimeCluster"], "aws-use1-prod-01");

    let run = env.idp(&["policy", "explain", "low", "--env", "qa", "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["message"], "unknown environment `qa`");
    assert_eq!(error["help"], "valid values in the policy in force: dev, staging, production, prod");
}

/// An app placed before the policy gave its environment a cluster of its own stays
/// where it is (placements never move silently); `verify` says so, and `--reschedule`
/// moves it.
#[test]
fn an_app_left_on_its_old_cluster_is_reported_until_rescheduled() {
    let env = state_with_one_cluster_per_region();
    let (db, web) = (env.write("db.yaml", database("dev")), env.write("app.yaml", app("dev")));
    env.idp(&["apply", "-f", &db, "-f", &web, "--repo", STATE, "--yes"]).code(0);
    env.idp(&["verify", "--repo", STATE]).code(0);

    env.write("state/policy/policy.yaml", default_policy_text());
    env.git_in(STATE, &["commit", "-qam", "policy: dev clusters"]);
    // The review of the change names the app, and not the database.
    let diff = env.idp(&["policy", "diff", "HEAD~1", "HEAD", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(
        diff["changed"],
        serde_json::json!([{
            "kind": "app", "namespace": "team-shop", "name": "shop-dev",
            "old": "aws/us-east-1 (aws-use1-prod-01) + gcp/us-central1 (gcp-usc1-prod-01)",
            "new": "aws/us-east-1 (aws-use1-dev-01) + gcp/us-central1 (gcp-usc1-dev-01)"
        }])
    );
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    let warnings: Vec<String> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("runtime cluster"))
        .map(|f| format!("{}: {}", f["file"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    let record = "placements/team-shop/app-shop-dev.yaml";
    assert_eq!(
        warnings,
        [
            format!(
                "{record}: runs on runtime cluster aws-use1-prod-01 in aws/us-east-1, where the policy now runs dev apps on aws-use1-dev-01 (apply with --reschedule to move it)"
            ),
            format!(
                "{record}: runs on runtime cluster gcp-usc1-prod-01 in gcp/us-central1, where the policy now runs dev apps on gcp-usc1-dev-01 (apply with --reschedule to move it)"
            ),
        ],
        "only the app: a database's record names no cluster that anything runs on"
    );

    // A plain re-apply keeps it there, and says why.
    let head = env.head(STATE);
    let kept = env.idp(&["apply", "-f", &web, "--repo", STATE, "--yes"]);
    kept.code(0).stderr_says("where the policy now runs dev apps on aws-use1-dev-01: pass --reschedule to move it");
    assert_eq!(env.head(STATE), head);
    assert_eq!(destination(&env, "dev", "primary"), "aws-use1-prod-01");

    env.idp(&["apply", "-f", &web, "--repo", STATE, "--yes", "--reschedule"]).code(0);
    assert_eq!(env.title(STATE, "HEAD"), "idp: reschedule app team-shop/shop-dev on aws/us-east-1");
    assert_eq!(destination(&env, "dev", "primary"), "aws-use1-dev-01");
    assert_eq!(destination(&env, "dev", "secondary"), "gcp-usc1-dev-01");
    let run = env.idp(&["verify", "--repo", STATE]);
    assert!(!run.stdout.contains("runtime cluster"), "{}", run.stdout);
}
