//! `idp list`: what is placed, where, on which tier, with its secondary and the
//! monthly cost recorded when it was applied, then each cell's spend. Every figure
//! is checked against the state repo read with the git CLI, and costs against what
//! `idp plan` estimates for the same request.

use serde_json::{Value, json};

use crate::common::{TestEnv, edit, lines};

const STATE: &str = "state";

/// orders-db (cell-us-east, medium, no secondary), the payments C0 database and
/// the checkout app that follows it (payments, secondary on gcp): two cells, two
/// namespaces, both kinds.
fn populated() -> TestEnv {
    let env = TestEnv::new();
    for example in ["orders-db.yaml", "payments-c0.json", "payments-app.yaml"] {
        env.example(example);
    }
    env.init_state(STATE);
    env.idp(&["apply", "-f", "orders-db.yaml", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes"]).code(0);
    env
}

fn list(env: &TestEnv, args: &[&str]) -> Value {
    let argv = [&["list", "--repo", STATE, "-o", "json"][..], args].concat();
    env.idp(&argv).code(0).json()
}

/// `kind namespace/name` of each item, in order.
fn ids(doc: &Value) -> Vec<String> {
    doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {doc:#}"))
        .iter()
        .map(|i| {
            format!(
                "{} {}/{}",
                i["kind"].as_str().unwrap(),
                i["namespace"].as_str().unwrap(),
                i["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// A file of the state repo at HEAD, read with git and parsed as YAML.
fn record(env: &TestEnv, path: &str) -> Value {
    let text = env.git_in(STATE, &["show", &format!("HEAD:{path}")]);
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const DB: &str = "mysql team-alpha/orders-db";
const PAYMENTS_DB: &str = "mysql team-payments/payments-db";
const CHECKOUT: &str = "app team-payments/checkout";

#[test]
fn list_shows_each_placement_as_its_record_says_with_the_cost_the_plan_recorded() {
    let env = populated();

    let doc = list(&env, &[]);

    // Path order: namespace, then kind-name.
    assert_eq!(ids(&doc), [DB, CHECKOUT, PAYMENTS_DB]);
    for item in doc["items"].as_array().unwrap() {
        let (kind, ns, name) =
            (item["kind"].as_str().unwrap(), item["namespace"].as_str().unwrap(), item["name"].as_str().unwrap());
        let placement = record(&env, &format!("placements/{ns}/{kind}-{name}.yaml"));
        assert_eq!(item["placement"], placement["primary"], "{item:#}");
        assert_eq!(item["secondary"], placement["secondary"], "{item:#}");
        assert_eq!(item["tier"], placement["reason"]["tier"], "{item:#}");
        assert_eq!(item["dr_profile"], placement["reason"]["dr_profile"], "{item:#}");
        assert_eq!((&item["cell"], &item["environment"]), (&placement["cell"], &placement["environment"]));
        let member = record(
            &env,
            &format!("cells/{}/production/members/{ns}/{kind}-{name}.yaml", item["cell"].as_str().unwrap()),
        );
        assert!(item["monthly_usd"].as_f64().is_some_and(|c| c > 0.0), "{item:#}");
        assert_eq!(item["monthly_usd"], member["monthlyUSD"], "the recorded estimate: {item:#}");
    }
    assert_eq!(doc["items"][0]["secondary"], Value::Null, "medium without a drProfile has no secondary");
    assert_eq!(doc["items"][2]["secondary"]["provider"], "gcp");

    // The estimate is the plan's: a plan of the same request, sticky, says the same.
    let plan = env.idp(&["plan", "mysql", "-f", "payments-c0.json", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(doc["items"][2]["monthly_usd"], plan["results"][0]["cost"]["monthlyUSD"]);

    // Spend: each cell's requests and their sum, with no budget set.
    let cost = |i: usize| doc["items"][i]["monthly_usd"].as_f64().unwrap();
    let payments = ((cost(1) + cost(2)) * 100.0).round() / 100.0;
    assert_eq!(
        doc["spend"],
        json!([
            {"cell": "cell-us-east", "requests": 1, "monthly_usd": cost(0), "limit_usd": null},
            {"cell": "payments", "requests": 2, "monthly_usd": payments, "limit_usd": null},
        ])
    );
}

#[test]
fn list_filters_by_kind_cell_and_namespace_and_spend_stays_the_whole_cells() {
    let env = populated();
    let all = list(&env, &[]);
    let payments_spend = all["spend"][1].clone();

    assert_eq!(ids(&list(&env, &["mysql"])), [DB, PAYMENTS_DB]);
    // Kind names as other commands take them, any case.
    assert_eq!(ids(&list(&env, &["App"])), [CHECKOUT]);
    assert_eq!(ids(&list(&env, &["--cell", "payments"])), [CHECKOUT, PAYMENTS_DB]);
    assert_eq!(ids(&list(&env, &["--namespace", "team-alpha"])), [DB]);
    assert_eq!(ids(&list(&env, &["mysql", "--cell", "payments", "--namespace", "team-payments"])), [PAYMENTS_DB]);

    // What budgets count: the whole cell, whatever the listing shows of it.
    let apps = list(&env, &["app"]);
    assert_eq!(apps["spend"], json!([payments_spend]));
    // A cell with nothing of the filter still shows its spend.
    let none = list(&env, &["--cell", "payments", "--namespace", "team-alpha"]);
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["spend"], json!([payments_spend]));
    // A registered cell that holds nothing: an empty listing, not an error.
    let eu = list(&env, &["--cell", "cell-eu"]);
    assert_eq!(
        eu,
        json!({"items": [], "spend": [{"cell": "cell-eu", "requests": 0, "monthly_usd": null, "limit_usd": null}]})
    );
    // A namespace with nothing placed is empty too (as `kubectl get -n` is).
    assert_eq!(list(&env, &["--namespace", "team-nobody"]), json!({"items": [], "spend": []}));
}

#[test]
fn list_table_has_uppercase_headers_then_the_cells_spend_with_their_budgets() {
    let env = populated();
    // A budget for payments, committed by hand as a platform engineer would.
    let policy = format!("{STATE}/policy/policy.yaml");
    env.write(
        &policy,
        edit(&env.read(&policy), "budgets: {}", "budgets:\n  cells: { payments: { monthlyUSD: 1000 } }"),
    );
    env.git_in(STATE, &["commit", "--quiet", "--all", "-m", "Budget for payments"]);
    let doc = list(&env, &[]);
    let spent = doc["spend"][1]["monthly_usd"].as_f64().unwrap();
    assert_eq!(doc["spend"][1]["limit_usd"], 1000.0);

    let run = env.idp(&["list", "--repo", STATE]);
    run.code(0);
    let rows = lines(&run.stdout);
    let words = |row: &str| row.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        words(&rows[0]),
        ["KIND", "NAMESPACE", "NAME", "CELL", "ENV", "TIER", "PRIMARY", "CLUSTER", "SECONDARY", "USD/MONTH"]
    );
    let payments_db = rows.iter().find(|r| r.contains("payments-db")).unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(
        words(payments_db),
        [
            "mysql",
            "team-payments",
            "payments-db",
            "payments",
            "production",
            "C0",
            "aws/us-east-1",
            "aws-use1-prod-01",
            "gcp/us-central1",
            &format!("~{:.2}", doc["items"][2]["monthly_usd"].as_f64().unwrap()),
        ]
    );
    assert!(words(rows.iter().find(|r| r.contains("orders-db")).unwrap()).contains(&"-".to_owned()), "no secondary");
    let spend_header = rows.iter().position(|r| r.starts_with("CELL")).unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(words(&rows[spend_header]), ["CELL", "REQUESTS", "USD/MONTH", "BUDGET"]);
    assert_eq!(
        words(&rows[spend_header + 2]),
        ["payments", "2", &format!("~{spent:.2}"), "1000.00", &format!("({:.0}%)", spent / 10.0)]
    );
    // No budget is said as such, not left out.
    assert_eq!(words(&rows[spend_header + 1])[3], "none");

    let bare = env.idp(&["list", "--repo", STATE, "--no-headers"]);
    bare.code(0);
    assert!(!bare.stdout.contains("KIND") && !bare.stdout.contains("BUDGET"), "{}", bare.stdout);
    assert_eq!(lines(&bare.stdout).iter().filter(|l| !l.trim().is_empty()).count(), 3 + 2);
}

#[test]
fn an_empty_state_repo_lists_nothing_and_says_so() {
    let env = TestEnv::new();
    env.init_state(STATE);

    let run = env.idp(&["list", "--repo", STATE]);
    run.code(0);
    assert_eq!(run.stdout, "", "nothing on stdout for nothing placed");
    run.stderr_says("nothing is placed");
    assert_eq!(list(&env, &[]), json!({"items": [], "spend": []}));

    // Outside a state repo nothing was read: an error, not an empty list.
    let outside = env.idp(&["list"]);
    outside.code(1);
    outside.stderr_says("no state repo here");
}

#[test]
fn an_unknown_kind_cell_or_a_bad_namespace_is_a_clear_error() {
    let env = populated();

    let kind = env.idp(&["list", "database", "--repo", STATE]);
    kind.code(1);
    kind.stderr_says("unknown kind `database` (idp places: mysql, postgres, redis, app)");
    assert_eq!(kind.stdout, "");

    let cell = env.idp(&["list", "--cell", "cell-nowhere", "--repo", STATE]);
    cell.code(1);
    cell.stderr_says("unknown cell `cell-nowhere`");
    cell.stderr_says("cell-us-east, cell-eu, payments");
    let json = env.idp(&["list", "--cell", "cell-nowhere", "--repo", STATE, "-o", "json"]).code(1).json();
    assert_eq!(json["error"]["code"], "idp::usage::unknown", "{json:#}");

    let namespace = env.idp(&["list", "--namespace", "../team-alpha", "--repo", STATE]);
    namespace.code(1);
    namespace.stderr_says("--namespace `../team-alpha` is not a DNS-1123 label");
}

/// The table as people read it, reviewed as a snapshot.
#[test]
fn human_output_of_list() {
    let env = populated();
    let run = env.idp(&["list", "--repo", STATE]);
    run.code(0);
    crate::common::assert_human_snapshot!("human_list", run);
}

/// A placement record idp cannot read is an error naming it, never a row left out
/// (or a cost counted as nothing).
#[test]
fn an_unreadable_placement_record_is_an_error_naming_it() {
    let env = populated();
    let path = "placements/team-alpha/mysql-orders-db.yaml";
    env.write(&format!("{STATE}/{path}"), "apiVersion: [not a record\n");
    env.git_in(STATE, &["commit", "--quiet", "--all", "-m", "a broken record"]);

    let run = env.idp(&["list", "--repo", STATE]);
    run.code(1);
    run.stderr_says(&format!("{path} in the state repo is not a record idp can read"));
    assert_eq!(run.stdout, "");
    // The other namespace's folder is read alone, and lists.
    assert_eq!(ids(&list(&env, &["--namespace", "team-payments"])), [CHECKOUT, PAYMENTS_DB]);
}
