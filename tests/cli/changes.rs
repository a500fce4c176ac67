//! What a change does to each object, as Terraform's plan shows it (create,
//! update in place, replace, delete), and `verify` catching a commit that
//! destroyed data without saying so (a plain `git revert` of a create, a
//! hand edit), on real repos read back with the git CLI.
//!
//! What this cannot prove offline: that Argo CD, Crossplane and the
//! providers do what the classification says. The replace rules come from
//! the shipped XRD's transition rules and the force-new table
//! (manifests/crossplane/force-new.yaml), each row citing the provider
//! source it was read from; no cluster runs here.

use serde_json::Value;

use crate::common::{TestEnv, edit};

const STATE: &str = "state";

/// The example orders-db in staging: production's is deletion-protected,
/// and these stories delete it.
fn with_orders_db() -> (TestEnv, String) {
    let env = TestEnv::new();
    env.init_state(STATE);
    let production = env.read(&env.example("orders-db.yaml"));
    let orders = env.write("orders-db.yaml", edit(&production, "environment: production", "environment: staging"));
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    (env, orders)
}

fn objects(plan: &Value) -> Vec<&Value> {
    plan["results"].as_array().unwrap().iter().flat_map(|r| r["objects"].as_array().unwrap()).collect()
}

fn verify_findings(env: &TestEnv) -> Vec<String> {
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.json()["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_new_database_is_a_create_and_a_resize_an_update_in_place_naming_the_field() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let orders = env.example("orders-db.yaml");
    let plan = env.idp(&["plan", "-f", &orders, "--repo", STATE, "-o", "json"]);
    let doc = plan.json();
    let created: Vec<(&str, &str, &str)> = objects(&doc)
        .iter()
        .map(|o| (o["action"].as_str().unwrap(), o["kind"].as_str().unwrap(), o["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        created,
        [
            ("create", "Application", "cell--cell-us-east--production"),
            ("create", "Application", "idp-namespaces"),
            ("create", "MySQLInstanceClaim", "orders-db"),
            ("create", "Namespace", "team-alpha")
        ]
    );
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);

    let bigger = env.write("orders-db.yaml", edit(&env.read("orders-db.yaml"), "storageGB: 100", "storageGB: 200"));
    let doc = env.idp(&["plan", "-f", &bigger, "--repo", STATE, "-o", "json"]).json();
    let updated = objects(&doc);
    assert_eq!(updated.len(), 1, "{doc:#}");
    assert_eq!(updated[0]["action"], "update");
    assert_eq!(updated[0]["destroysData"], false);
    assert_eq!(
        updated[0]["fields"],
        serde_json::json!([{"path": "spec.parameters.storageGB", "old": "100", "new": "200"}])
    );
    assert_eq!(doc["destroys"], serde_json::json!([]));

    let human = env.idp(&["plan", "-f", &bigger, "--repo", STATE, "--color", "never"]);
    assert!(
        human.stdout.lines().any(|l| l.starts_with("MySQLInstanceClaim team-alpha/orders-db")
            && l.contains("update in place")
            && l.contains("spec.parameters.storageGB 100 -> 200")),
        "{}",
        human.stdout
    );
}

#[test]
fn verify_catches_a_plain_git_revert_of_a_create_until_it_is_recorded() {
    let (env, _) = with_orders_db();
    env.set_identity(STATE);
    env.git_in(STATE, &["revert", "--no-edit", "HEAD"]);
    let revert = env.head(STATE);
    let findings = verify_findings(&env);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].starts_with(&format!("commit {revert} (Revert \"idp: create mysql team-alpha/orders-db"))
            && findings[0].contains("deleted MySQLInstanceClaim team-alpha/orders-db")
            && findings[0].contains("`Idp-Destroy: MySQLInstanceClaim team-alpha/orders-db`"),
        "{findings:?}"
    );

    // A later commit records it: verify passes, and says nothing of it again.
    let message = format!(
        "Record the deletion of orders-db\n\nIdp-Records: {}\nIdp-Destroy: MySQLInstanceClaim team-alpha/orders-db\n",
        &revert[..12]
    );
    env.git_in(STATE, &["commit", "--allow-empty", "-m", &message]);
    assert_eq!(verify_findings(&env), Vec::<String>::new());
}

#[test]
fn verify_passes_destroys_idp_recorded_and_those_undone_since() {
    let (env, orders) = with_orders_db();
    env.idp(&["delete", "mysql", "team-alpha/orders-db", "--yes", "--allow-destroy", "--repo", STATE]).code(0);
    assert_eq!(verify_findings(&env), Vec::<String>::new(), "idp's own delete carries its trailers");

    // A hand deletion, then the database applied again: what the deletion
    // left no longer stands, so history has nothing to say.
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    env.set_identity(STATE);
    env.git_in(STATE, &["rm", "-q", "platform/team-alpha/mysql-orders-db/cell-us-east.staging.primary.yaml"]);
    env.git_in(STATE, &["commit", "-q", "-m", "tidy up"]);
    assert_eq!(verify_findings(&env).iter().filter(|f| f.contains("without an `Idp-Destroy")).count(), 1);
    env.git_in(STATE, &["revert", "--no-edit", "HEAD"]);
    assert_eq!(verify_findings(&env), Vec::<String>::new());
}

#[test]
fn a_change_the_provider_can_only_replace_is_refused_naming_the_field_and_its_source() {
    // The analytics database lands on oci/eu-frankfurt-1. Its placement
    // record keeps the network it was placed with (a policy change does not
    // move it); an operator who edits the record to a new database subnet
    // asks OCI to move a MySQL DB system to another subnet, which it cannot
    // do (subnet_id is ForceNew) and upjet refuses: re-applying is refused.
    let env = TestEnv::new();
    env.init_state(STATE);
    let analytics = env.example("analytics-db.yaml");
    let placed = env.idp(&["apply", "-f", &analytics, "--yes", "--repo", STATE, "-o", "json"]);
    assert_eq!(placed.json()["results"][0]["placement"]["provider"], "oci");
    let record = "state/placements/team-beta/mysql-analytics-db.yaml";
    env.write(record, edit(&env.read(record), "subnet_id: db-private-fra", "subnet_id: db-private-fra-2"));
    env.set_identity(STATE);
    env.git_in(STATE, &["commit", "-q", "-am", "analytics-db: new database subnet"]);
    let head = env.head(STATE);

    let run = env.idp(&["apply", "-f", &analytics, "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::plan::provider_refuses", "{error:#}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(
            "spec.parameters.network.subnet_id db-private-fra -> db-private-fra-2 sets \
             mysql.oci.upbound.io/v1alpha1 MysqlDbSystem spec.forProvider.subnetId"
        ) && message.contains("terraform-provider-oci"),
        "{message}"
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");
    env.assert_clean(STATE);
    let human = env.idp(&["plan", "-f", &analytics, "--repo", STATE, "--color", "never"]);
    human.code(1);
    crate::common::assert_human_snapshot!("plan_refuses_a_replacement_the_provider_refuses", human);
}

#[test]
fn the_plan_that_drops_a_secondary_shows_each_object_and_the_data_it_destroys() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let plain = env.read(&env.example("orders-db.yaml"));
    let with_dr = env.write("orders-dr.yaml", edit(&plain, "ha: true", "ha: true\n  drProfile: gold"));
    env.idp(&["apply", "-f", &with_dr, "--yes", "--repo", STATE]).code(0);
    let smaller = env.write("orders-db.yaml", plain);
    let run = env.idp(&["plan", "-f", &smaller, "--reschedule", "--repo", STATE, "--color", "never"]);
    run.code(0);
    crate::common::assert_human_snapshot!("plan_drops_a_secondary", run);
}
