//! `idp plan`: both request forms, every way of naming input, the JSON/YAML/table
//! outputs, `--detailed-exitcode` and `--policy`. Contract errors are in plan_contract.rs.

use serde_json::{Value, json};

use crate::common::{NO_STATE_NOTE, POLICY_VERSION, TestEnv, default_policy_text, digest, edit, snapshot_settings};

/// `[namespace/name ...]` of a successful JSON plan, in output order.
fn ids(doc: &Value) -> Vec<String> {
    doc["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| format!("{}/{}", r["namespace"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect()
}

/// `provider/region` of a placement object.
fn at(placement: &Value) -> String {
    format!("{}/{}", placement["provider"].as_str().unwrap(), placement["region"].as_str().unwrap())
}

// ---------------------------------------------------------------------------------------
// Request forms
// ---------------------------------------------------------------------------------------

#[test]
fn kubernetes_form_is_placed_on_the_best_candidate_that_passes_the_gates() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(0);
    let doc = run.json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["kind"], "mysql");
    assert_eq!(r["namespace"], "team-alpha");
    assert_eq!(r["name"], "orders-db");
    assert_eq!(r["status"], "create");
    assert_eq!(r["sticky"], false);
    assert_eq!(
        r["placement"],
        json!({
            "provider": "aws",
            "region": "us-east-1",
            "runtimeCluster": "aws-use1-prod-01",
            "network": { "vpc_id": "vpc-aws-use1", "subnet_group": "db-private-use1" }
        })
    );
    assert_eq!(r["secondary"], Value::Null);
    assert_eq!(
        r["changes"],
        json!([
            { "action": "create", "path": "requests/team-alpha/mysql-orders-db.yaml" },
            { "action": "create", "path": "placements/team-alpha/mysql-orders-db.yaml" },
            { "action": "create", "path": "cells/cell-us-east/production/members/team-alpha/mysql-orders-db.yaml" },
            { "action": "create", "path": "catalog/team-alpha/mysql-orders-db.yaml" },
            { "action": "create", "path": "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml" },
            { "action": "create", "path": "platform/team-alpha/namespace.yaml" },
            { "action": "create", "path": "argocd/cells/cell-us-east/production.yaml" },
            { "action": "create", "path": "argocd/namespaces.yaml" },
        ])
    );

    let reason = &r["reason"];
    assert_eq!(reason["tier"], "medium");
    assert_eq!(reason["dr_profile"], Value::Null);
    assert_eq!(reason["rto_minutes"], 120);
    assert_eq!(reason["rpo_minutes"], 15.0);
    assert_eq!(reason["gates"], json!(["pitr", "private_networking", "multi_az"]));
    assert_eq!(reason["ha_enforced"], true);
    assert_eq!(reason["weights"], json!({ "latency": 0.25, "dr": 0.25, "maturity": 0.25, "cost": 0.25 }));
    assert_eq!(
        reason["selected"],
        json!({
            "provider": "aws",
            "region": "us-east-1",
            "runtime_cluster": "aws-use1-prod-01",
            "total_score": 0.825,
            "subscores": { "latency": 0.225, "dr": 0.2375, "maturity": 0.2375, "cost": 0.125 }
        })
    );
    let top: Vec<(u64, String, f64)> = reason["top_3_candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["rank"].as_u64().unwrap(), at(c), c["total_score"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        top,
        vec![
            (1, "aws/us-east-1".to_owned(), 0.825),
            (2, "gcp/us-central1".to_owned(), 0.815),
            (3, "aws/us-west-2".to_owned(), 0.8),
        ]
    );
    assert_eq!(
        reason["rejected"],
        json!([
            { "provider": "oci", "region": "us-ashburn-1", "runtime_cluster": "oci-iad-prod-01",
              "missing": ["multi_az"], "excluded": null },
            { "provider": "oci", "region": "eu-frankfurt-1", "runtime_cluster": "oci-fra-prod-01",
              "missing": ["multi_az"], "excluded": null },
        ])
    );
    assert_eq!(reason["candidates_evaluated"], 7);
    assert_eq!(reason["candidates_passed_gates"], 5);
    assert_eq!(reason["secondary"], Value::Null);
    assert_eq!(reason["follows"], Value::Null, "a database follows nothing");
    assert_eq!(reason["warnings"], json!([]), "the default policy has no rules");
    assert_eq!(reason["policy"]["version"], POLICY_VERSION);
    let keys: Vec<&String> = reason.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "tier",
            "dr_profile",
            "rto_minutes",
            "rpo_minutes",
            "gates",
            "ha_enforced",
            "weights",
            "selected",
            "top_3_candidates",
            "rejected",
            "candidates_evaluated",
            "candidates_passed_gates",
            "secondary",
            "follows",
            "warnings",
            "policy"
        ]
    );
    // The policy's estimate: aws large 600 + 100 GB x 0.115, doubled for ha.
    assert_eq!(
        r["cost"],
        json!({"monthlyUSD": 1223.0, "breakdown": {"instance": 600.0, "storage": 11.5, "ha": 611.5}, "estimate": true})
    );
    assert_eq!(r["warnings"], json!([]));
    assert_eq!(
        doc["spend"],
        // Without a budget the cell's current spend is not totalled (that reads every member).
        json!([{"scope": "cell cell-us-east", "currentUSD": null, "plannedUSD": 1223.0, "limitUSD": null}])
    );
}

#[test]
fn without_ha_a_critical_tier_request_goes_to_the_cheapest_good_candidate() {
    let env = TestEnv::new();
    let file = env.fixture("analytics-db.yaml");
    let doc = env.idp(&["plan", "-f", &file, "-o", "json"]).code(0).json();
    let r = &doc["results"][0];
    // cell-eu admits only EU regions; of those, oci/eu-frankfurt-1 is the cheapest.
    assert_eq!(at(&r["placement"]), "oci/eu-frankfurt-1");
    // A dev request: its apps would run on the region's dev cluster.
    assert_eq!(r["placement"]["runtimeCluster"], "oci-fra-dev-01");
    assert_eq!(r["reason"]["selected"]["total_score"], 0.7695);
    assert_eq!(r["reason"]["ha_enforced"], false);
    assert_eq!(r["reason"]["gates"], json!(["private_networking"]));
    assert_eq!(r["reason"]["candidates_evaluated"], 7);
    assert_eq!(r["reason"]["candidates_passed_gates"], 3);
    let outside: Vec<_> = r["reason"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (at(x), x["excluded"].as_str().unwrap().to_owned()))
        .collect();
    let not_in_cell = "not a candidate of cell cell-eu".to_owned();
    assert_eq!(
        outside,
        ["aws/us-east-1", "aws/us-west-2", "gcp/us-central1", "oci/us-ashburn-1"]
            .map(|c| (c.to_owned(), not_in_cell.clone()))
    );
}

#[test]
fn flat_form_is_accepted_when_the_kind_is_on_the_command_line() {
    let env = TestEnv::new();
    let file = env.fixture("payments-c0.json");
    let doc = env.idp(&["plan", "mysql", "-f", &file, "-o", "json"]).code(0).json();
    let r = &doc["results"][0];
    assert_eq!(r["kind"], "mysql");
    assert_eq!(r["namespace"], "team-payments");
    assert_eq!(r["name"], "payments-db");
    assert_eq!(at(&r["placement"]), "aws/us-east-1");
    assert_eq!(
        r["secondary"],
        json!({
            "provider": "gcp",
            "region": "us-central1",
            "runtimeCluster": "gcp-usc1-prod-01",
            "network": { "vpc_name": "vpc-gcp-usc1", "subnet": "db-private-usc1" }
        })
    );
    let reason = &r["reason"];
    assert_eq!(reason["tier"], "C0");
    assert_eq!(reason["dr_profile"], "gold");
    assert_eq!(reason["rto_minutes"], 15);
    assert_eq!(reason["rpo_minutes"], 0.5);
    assert_eq!(reason["selected"]["total_score"], 0.89);
    assert_eq!(reason["candidates_passed_gates"], 2);
    assert_eq!(reason["secondary"]["required"], true);
    assert_eq!(reason["secondary"]["selected"]["runtime_cluster"], "gcp-usc1-prod-01");
    assert_eq!(reason["secondary"]["selected"]["total_score"], 0.845);
}

#[test]
fn flat_form_without_a_kind_asks_for_one() {
    let env = TestEnv::new();
    let file = env.fixture("payments-c0.json");
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "payments-c0.json:1:1: a flat request does not say its kind".to_owned(),
            Some(
                "name it on the command line, e.g. `idp plan mysql -f body.json`, or use the Kubernetes form \
                 with apiVersion and kind"
                    .to_owned()
            )
        )]
    );
    run.stderr_says("payments-c0.json:1:1: a flat request does not say its kind")
        .stderr_says("help: name it on the command line, e.g. `idp plan mysql -f body.json`");
}

#[test]
fn kind_on_the_command_line_also_accepts_the_kubernetes_form() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let doc = env.idp(&["plan", "mysql", "-f", &file, "-o", "json"]).code(0).json();
    assert_eq!(ids(&doc), ["team-alpha/orders-db"]);
}

#[test]
fn a_kind_idp_does_not_place_is_a_usage_error() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "postgress", "-f", &file, "-o", "json"]);
    run.code(1);
    // Under -o json a usage error is the one error document too.
    assert_eq!(run.json()["error"]["code"], "idp::usage::kind");
    run.stderr_says(
        "unknown kind `postgress` (did you mean `postgres`? idp places: mysql, postgres, redis, app)\n  help: `idp products` lists the products in force",
    );
}

#[test]
fn low_and_business_critical_tiers_get_a_secondary_on_another_provider() {
    let env = TestEnv::new();
    let file = env.fixture("two-requests.yaml");
    let doc = env.idp(&["plan", "-f", &file, "-o", "json"]).code(0).json();
    let results = doc["results"].as_array().unwrap();
    let summary: Vec<(String, String, String, f64)> = results
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                at(&r["placement"]),
                at(&r["secondary"]),
                r["reason"]["selected"]["total_score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("inventory-db".to_owned(), "aws/us-east-1".to_owned(), "gcp/us-central1".to_owned(), 0.8675),
            ("ledger-db".to_owned(), "aws/us-east-1".to_owned(), "gcp/us-central1".to_owned(), 0.8925),
        ]
    );
    for r in results {
        assert_ne!(r["secondary"]["provider"], r["placement"]["provider"], "secondary must be cross-cloud: {r:#}");
        assert_eq!(r["reason"]["secondary"]["required"], true);
    }
    // low: RTO 30 min, RPO 5 min; business_critical: RTO 15 min, RPO 1 min (PRODUCT.md section 3).
    assert_eq!((&results[0]["reason"]["rto_minutes"], &results[0]["reason"]["rpo_minutes"]), (&json!(30), &json!(5.0)));
    assert_eq!((&results[1]["reason"]["rto_minutes"], &results[1]["reason"]["rpo_minutes"]), (&json!(15), &json!(1.0)));
    assert_eq!(
        results[1]["reason"]["gates"],
        json!(["pitr", "multi_az", "private_networking", "cross_region_replication"])
    );
}

// ---------------------------------------------------------------------------------------
// Naming input: multi-document files, repeated -f, directories, stdin
// ---------------------------------------------------------------------------------------

#[test]
fn every_document_of_a_multi_document_file_is_planned_in_order() {
    let env = TestEnv::new();
    let file = env.fixture("two-requests.yaml");
    let doc = env.idp(&["plan", "-f", &file, "-o", "json"]).code(0).json();
    assert_eq!(ids(&doc), ["team-gamma/inventory-db", "team-gamma/ledger-db"]);
}

#[test]
fn repeated_f_plans_every_file_in_command_line_order() {
    let env = TestEnv::new();
    let orders = env.fixture("orders-db.yaml");
    let analytics = env.fixture("analytics-db.yaml");
    let two = env.fixture("two-requests.yaml");
    let doc = env.idp(&["plan", "-f", &orders, "-f", &two, "-f", &analytics, "-o", "json"]).code(0).json();
    assert_eq!(
        ids(&doc),
        ["team-alpha/orders-db", "team-gamma/inventory-db", "team-gamma/ledger-db", "team-beta/analytics-db"]
    );
}

#[test]
fn a_directory_is_read_file_by_file_in_sorted_order() {
    let env = TestEnv::new();
    // Written in reverse order, so creation or directory order would show.
    env.fixture_as("payments-c0.json", "requests/c-payments.json");
    env.fixture_as("orders-db.yaml", "requests/b-orders.yaml");
    env.fixture_as("analytics-db.yaml", "requests/a-analytics.yml");
    env.write("requests/README.md", "not a request\n");
    env.write("requests/notes.txt", "provider: aws\n");
    let doc = env.idp(&["plan", "mysql", "-f", "requests", "-o", "json"]).code(0).json();
    assert_eq!(ids(&doc), ["team-beta/analytics-db", "team-alpha/orders-db", "team-payments/payments-db"]);
}

#[test]
fn an_empty_directory_is_an_error() {
    let env = TestEnv::new();
    std::fs::create_dir(env.work_dir().join("requests")).unwrap();
    let run = env.idp(&["plan", "-f", "requests", "-o", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["message"], "requests holds no *.yaml, *.yml or *.json file");
    assert_eq!(doc["error"]["help"], "point -f at a request file or a directory of them");
    run.stderr_says("requests holds no *.yaml, *.yml or *.json file");
}

#[test]
fn dash_reads_a_request_from_stdin() {
    let env = TestEnv::new();
    let doc = env.idp_stdin(&["plan", "-f", "-", "-o", "json"], crate::common::REQUEST).code(0).json();
    assert_eq!(ids(&doc), ["team-alpha/orders-db"]);
    assert_eq!(at(&doc["results"][0]["placement"]), "aws/us-east-1");
}

#[test]
fn dash_reads_a_flat_request_from_stdin() {
    let env = TestEnv::new();
    let body = std::fs::read(crate::common::crate_dir().join("tests/fixtures/requests/payments-c0.json")).unwrap();
    let doc = env.idp_stdin(&["plan", "mysql", "-f", "-", "-o", "json"], body).code(0).json();
    assert_eq!(ids(&doc), ["team-payments/payments-db"]);
}

#[test]
fn problems_in_stdin_are_located_in_stdin() {
    let env = TestEnv::new();
    let request = crate::common::request_with("tier: medium", "tier: meduim");
    let run = env.idp_stdin(&["plan", "-f", "-", "-o", "json"], request);
    run.code(1);
    assert_eq!(run.issues()[0].0, "<stdin>:8:9: unknown tier `meduim`");
    run.stderr_says("<stdin>:8:9: unknown tier `meduim`");
}

// ---------------------------------------------------------------------------------------
// JSON and YAML
// ---------------------------------------------------------------------------------------

fn assert_matches_schema(doc: &Value) {
    // The documented shape of a successful `plan -o json` (PRODUCT.md section 4).
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/schemas/plan.schema.json")).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the plan schema compiles");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "plan JSON does not have the documented shape:\n{}\n{doc:#}", errors.join("\n"));
}

#[test]
fn json_output_has_the_documented_shape_with_and_without_a_secondary() {
    let env = TestEnv::new();
    let orders = env.fixture("orders-db.yaml");
    let payments = env.fixture("payments-c0.json");
    let doc = env.idp(&["plan", "mysql", "-f", &orders, "-f", &payments, "-o", "json"]).code(0).json();
    assert_matches_schema(&doc);
    assert_eq!(doc["results"][0]["secondary"], Value::Null);
    assert!(doc["results"][1]["secondary"].is_object());
    assert!(doc["results"][1]["reason"]["secondary"].is_object());
}

/// An App in orders-db's cell and environment, which names it and so follows it.
const WEB_APP: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: web
  namespace: team-alpha
spec:
  cell: cell-us-east
  tier: medium
  environment: production
  image: registry.example.org/alpha/web:1.0.0
  database: orders-db
";

#[test]
fn json_output_of_an_app_has_the_documented_shape_and_says_what_it_follows() {
    let env = TestEnv::new();
    let orders = env.fixture("orders-db.yaml");
    let web = env.write("web.yaml", WEB_APP);
    // The app comes first on the command line; it still follows the database planned with it.
    let doc = env.idp(&["plan", "-f", &web, "-f", &orders, "-o", "json"]).code(0).json();
    assert_matches_schema(&doc);
    assert_eq!(ids(&doc), ["team-alpha/web", "team-alpha/orders-db"]);
    let (app, db) = (&doc["results"][0], &doc["results"][1]);
    assert_eq!(app["kind"], "app");
    assert_eq!(app["reason"]["follows"], "mysql team-alpha/orders-db");
    assert_eq!(app["placement"], db["placement"]);
    assert_eq!(db["reason"]["follows"], Value::Null);
    let paths: Vec<&str> = app["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "requests/team-alpha/app-web.yaml",
            "placements/team-alpha/app-web.yaml",
            "cells/cell-us-east/production/members/team-alpha/app-web.yaml",
            "catalog/team-alpha/app-web.yaml",
            "workloads/team-alpha/web/primary/kustomization.yaml",
            "workloads/team-alpha/web/primary/deployment.yaml",
            "platform/team-alpha/app-web/cell-us-east.production.secrets-primary.yaml",
            "platform/team-alpha/app-web/cell-us-east.production.application-primary.yaml",
        ]
    );
}

#[test]
fn json_stdout_is_one_document_and_the_note_goes_to_stderr() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(0);
    run.json(); // exactly one document, nothing before or after it
    assert!(run.stdout.starts_with('{') && run.stdout.ends_with("}\n"), "stdout:\n{}", run.stdout);
    assert!(!run.stdout.contains("note:"));
    assert_eq!(run.stderr, format!("{NO_STATE_NOTE}\n"));
}

#[test]
fn quiet_silences_the_note() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "-q", "-f", &file, "-o", "json"]);
    run.code(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn the_recorded_digest_is_the_sha256_of_the_default_policy() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let doc = env.idp(&["plan", "-f", &file, "-o", "json"]).code(0).json();
    assert_eq!(
        doc["results"][0]["reason"]["policy"],
        json!({ "version": POLICY_VERSION, "digest": digest(default_policy_text().as_bytes()) })
    );
}

#[test]
fn yaml_output_is_the_json_document() {
    let env = TestEnv::new();
    let orders = env.fixture("orders-db.yaml");
    let payments = env.fixture("payments-c0.json");
    let args = ["plan", "mysql", "-f", &orders, "-f", &payments];
    let json_doc = env.idp(&[&args[..], &["-o", "json"]].concat()).code(0).json();
    let run = env.idp(&[&args[..], &["-o", "yaml"]].concat());
    run.code(0);
    let yaml_doc: Value =
        serde_saphyr::from_str(&run.stdout).unwrap_or_else(|e| panic!("-o yaml is not YAML: {e}\n{}", run.stdout));
    assert_eq!(yaml_doc, json_doc);
}

// ---------------------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------------------

#[test]
fn detailed_exitcode_is_2_when_the_plan_creates() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    env.idp(&["plan", "-f", &file, "--detailed-exitcode"]).code(2);
    let run = env.idp(&["plan", "-f", &file, "--detailed-exitcode", "-o", "json"]);
    run.code(2);
    assert_eq!(run.json()["results"][0]["status"], "create");
}

#[test]
fn a_plan_without_detailed_exitcode_exits_0_even_with_changes() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    env.idp(&["plan", "-f", &file]).code(0);
    env.idp(&["plan", "-f", &file, "-o", "json"]).code(0);
}

#[test]
fn detailed_exitcode_still_exits_1_on_an_error() {
    let env = TestEnv::new();
    let file = env.write("req.yaml", crate::common::request_with("tier: medium", "tier: meduim"));
    env.idp(&["plan", "-f", &file, "--detailed-exitcode"]).code(1);
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// The one line of `table` that starts with `first_cell`.
fn row<'a>(table: &'a str, first_cell: &str) -> &'a str {
    let rows: Vec<&str> = table.lines().filter(|l| l.split_whitespace().next() == Some(first_cell)).collect();
    assert_eq!(rows.len(), 1, "expected one row starting with {first_cell}:\n{table}");
    rows[0]
}

#[test]
fn table_ranks_candidates_marks_the_primary_and_explains_rejections() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "-f", &file]);
    run.code(0);
    let out = &run.stdout;

    let header = row(out, "RANK");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns, ["RANK", "PROVIDER/REGION", "CLUSTER", "TOTAL", "LATENCY", "DR", "MATURITY", "COST"]);

    let first = row(out, "1");
    assert!(first.contains("aws/us-east-1") && first.contains("aws-use1-prod-01"), "{first}");
    assert!(first.contains("0.8250"), "{first}");
    assert!(first.trim_end().ends_with("← primary"), "{first}");
    assert_eq!(out.matches("← primary").count(), 1, "{out}");
    assert!(!out.contains("← secondary"), "{out}");

    assert_eq!(row(out, "REJECTED").split_whitespace().collect::<Vec<_>>(), ["REJECTED", "CLUSTER", "WHY"]);
    assert!(row(out, "oci/us-ashburn-1").trim_end().ends_with("missing multi_az"), "{out}");
    assert!(row(out, "oci/eu-frankfurt-1").trim_end().ends_with("missing multi_az"), "{out}");

    let short_digest = &digest(default_policy_text().as_bytes())[..19]; // "sha256:" + 12 hex digits
    assert_eq!(row(out, "policy"), format!("policy     {POLICY_VERSION} ({short_digest})"));
    assert_eq!(row(out, "evaluated"), "evaluated  7 candidates, 5 passed the gates");
}

#[test]
fn table_marks_the_secondary() {
    let env = TestEnv::new();
    let file = env.fixture("payments-c0.json");
    let run = env.idp(&["plan", "mysql", "-f", &file]);
    run.code(0);
    assert!(row(&run.stdout, "1").contains("aws/us-east-1") && row(&run.stdout, "1").ends_with("← primary"));
    assert!(row(&run.stdout, "2").contains("gcp/us-central1") && row(&run.stdout, "2").ends_with("← secondary"));
}

#[test]
fn no_headers_leaves_out_the_header_rows() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "--no-headers", "-f", &file]);
    run.code(0);
    assert!(!run.stdout.contains("RANK"), "{}", run.stdout);
    assert!(!run.stdout.contains("REJECTED"), "{}", run.stdout);
    assert!(row(&run.stdout, "1").contains("aws/us-east-1"));
}

#[test]
fn table_snapshot_of_orders_db() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "-f", &file]);
    run.code(0);
    snapshot_settings().bind(|| insta::assert_snapshot!(run.stdout));
}

// ---------------------------------------------------------------------------------------
// --policy
// ---------------------------------------------------------------------------------------

const MEDIUM_WEIGHTS: &str = "    weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.25 }";

#[test]
fn a_custom_policy_changes_the_decision_and_the_recorded_digest() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    // Medium tier cares most about cost: gcp/us-central1 (cost 0.65) overtakes aws/us-east-1.
    let policy = edit(
        &default_policy_text(),
        MEDIUM_WEIGHTS,
        "    weights: { latency: 0.20, dr: 0.20, maturity: 0.20, cost: 0.40 }",
    );
    let policy_file = env.write("cost-first.yaml", &policy);
    let doc = env.idp(&["plan", "--policy", &policy_file, "-f", &file, "-o", "json"]).code(0).json();
    let reason = &doc["results"][0]["reason"];
    assert_eq!(at(&doc["results"][0]["placement"]), "gcp/us-central1");
    assert_eq!(reason["selected"]["total_score"], 0.782);
    assert_eq!(reason["weights"], json!({ "latency": 0.2, "dr": 0.2, "maturity": 0.2, "cost": 0.4 }));
    assert_eq!(reason["policy"]["digest"], digest(policy.as_bytes()).as_str());
    assert_ne!(reason["policy"]["digest"], digest(default_policy_text().as_bytes()).as_str());
}

#[test]
fn an_invalid_policy_is_reported_at_its_weights() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let policy = edit(
        &default_policy_text(),
        MEDIUM_WEIGHTS,
        "    weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.30 }",
    );
    let line = policy.lines().position(|l| l.contains("cost: 0.30")).unwrap() + 1;
    let policy_file = env.write("bad-policy.yaml", &policy);
    let run = env.idp(&["plan", "--policy", &policy_file, "-f", &file, "-o", "json"]);
    run.code(1);
    let expected = format!("bad-policy.yaml:{line}:5: weights of tier medium sum to 1.05, not 1");
    assert_eq!(
        run.issues(),
        vec![(expected.clone(), Some("weights are shares of the total score; make them add up to 1".to_owned()))]
    );
    run.stderr_says(&expected);
}

#[test]
fn a_missing_policy_file_is_an_error() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "--policy", "nope.yaml", "-f", &file, "-o", "json"]);
    run.code(1);
    assert_eq!(run.json()["error"]["message"], "cannot read nope.yaml: No such file or directory (os error 2)");
    run.stderr_says("cannot read nope.yaml");
}

/// A tier that gates on `multi_az` places the database where it can be highly
/// available, and renders it so: the tier's HA requirement wins over `ha: false`.
/// A tier that does not gate on it renders `ha` as the request says.
#[test]
fn a_tier_that_requires_multi_az_renders_ha_whatever_the_request_says() {
    let env = TestEnv::new();
    for (tier, expected) in [("business_critical", "true"), ("low", "true"), ("medium", "false")] {
        let file = env.write(
            &format!("{tier}.json"),
            format!(
                r#"{{"name": "x-db", "namespace": "team-alpha", "cell": "cell-us-east", "tier": "{tier}", "environment": "staging", "size": "small", "storageGB": 20, "ha": false}}"#
            ),
        );
        let run = env.idp(&["render", "mysql", "-f", &file]);
        run.code(0);
        let primary = run.stdout.split("\n---").next().unwrap_or_default();
        assert!(primary.contains(&format!("\n    ha: {expected}\n")), "{tier}:\n{primary}");
    }
}
