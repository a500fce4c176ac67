//! The Backstage catalog: one entity per request beside its other files,
//! written by apply, removed by delete, re-rendered by verify, and a
//! Location that finds them.

use serde_json::Value;

use crate::common::TestEnv;

const STATE: &str = "state";
const ENTITY: &str = "catalog/team-payments/app-checkout.yaml";
const LOCATION: &str = "catalog/location.yaml";

fn with_payments() -> TestEnv {
    let env = TestEnv::new();
    for example in ["payments-c0.json", "payments-app.yaml"] {
        env.example(example);
    }
    env.init_state(STATE);
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes"]).code(0);
    env
}

fn show(env: &TestEnv, path: &str) -> String {
    env.git(&["-C", STATE, "show", &format!("HEAD:{path}")])
}

#[test]
fn apply_writes_an_entity_that_backstage_can_read() {
    let env = with_payments();
    let entity: Value = serde_saphyr::from_str(&show(&env, ENTITY)).unwrap();
    assert_eq!(entity["apiVersion"], "backstage.io/v1alpha1");
    assert_eq!(entity["kind"], "Resource");
    assert_eq!(entity["metadata"]["name"], "app-checkout");
    assert_eq!(entity["metadata"]["namespace"], "team-payments");
    assert_eq!(entity["spec"]["type"], "service");
    assert_eq!(entity["spec"]["owner"], "group:default/team-payments");
    assert_eq!(entity["spec"]["system"], "system:default/payments");
    assert_eq!(entity["spec"]["dependsOn"], serde_json::json!(["resource:team-payments/mysql-payments-db"]));
    let annotations = &entity["metadata"]["annotations"];
    assert_eq!(annotations["idp.platform.example.org/provider"], "aws");
    assert_eq!(annotations["idp.platform.example.org/region"], "us-east-1");
    assert_eq!(annotations["idp.platform.example.org/secondary"], "gcp/us-central1");
    let db: Value = serde_saphyr::from_str(&show(&env, "catalog/team-payments/mysql-payments-db.yaml")).unwrap();
    assert_eq!(db["spec"]["type"], "database");
    // The dependency points at an entity that exists.
    assert_eq!(db["metadata"]["name"], "mysql-payments-db");
    let location: Value = serde_saphyr::from_str(&show(&env, LOCATION)).unwrap();
    assert_eq!(location["kind"], "Location");
    assert_eq!(location["spec"]["targets"], serde_json::json!(["./*/*.yaml"]));
}

#[test]
fn verify_finds_a_hand_edited_entity_and_a_missing_location() {
    let env = with_payments();
    env.idp(&["verify", "--repo", STATE]).code(0);
    let path = format!("{STATE}/{ENTITY}");
    let edited = std::fs::read_to_string(env.work_dir().join(&path)).unwrap().replace("type: service", "type: website");
    env.write(&path, edited);
    env.git(&["-C", STATE, "commit", "-qam", "hand edit"]);
    env.git(&["-C", STATE, "rm", "-q", LOCATION]);
    env.git(&["-C", STATE, "commit", "-qm", "drop the location"]);
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let files: Vec<String> =
        run.json()["findings"].as_array().unwrap().iter().map(|f| f["file"].as_str().unwrap().to_owned()).collect();
    assert_eq!(files, [LOCATION, ENTITY]);
}

#[test]
fn a_repo_without_the_location_gets_it_with_the_next_apply() {
    let env = with_payments();
    env.git(&["-C", STATE, "rm", "-q", LOCATION]);
    env.git(&["-C", STATE, "commit", "-qm", "an older state repo"]);
    let run = env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes", "-o", "json"]);
    run.code(0);
    let result = &run.json()["results"][0];
    assert_eq!(result["status"], "updated");
    assert_eq!(result["changes"], serde_json::json!([{ "action": "create", "path": LOCATION }]));
    env.idp(&["verify", "--repo", STATE]).code(0);
}

#[test]
fn delete_removes_the_entity_and_rollback_brings_it_back() {
    let env = with_payments();
    env.idp(&["delete", "app", "team-payments/checkout", "--repo", STATE, "--yes"]).code(0);
    let listed = env.git(&["-C", STATE, "ls-files", "catalog"]);
    assert_eq!(listed, format!("{LOCATION}\ncatalog/team-payments/mysql-payments-db.yaml\n"));
    env.idp(&["rollback", "--repo", STATE, "--yes"]).code(0);
    assert!(show(&env, ENTITY).contains("name: app-checkout"));
    env.idp(&["verify", "--repo", STATE]).code(0);
}
