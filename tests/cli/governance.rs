//! Governance end to end: Rego rules (`deny`, `warn`, `deny_candidate`, `idp policy test`),
//! team permissions, cost estimates and budgets, cordoned candidates, `idp verify`,
//! `idp policy explain` and `idp policy diff`.
//!
//! Every test runs against a real state repo made by `idp init`, with a git identity in
//! the repo's own config. Policies and rules take effect by being committed with the git
//! CLI (the committed policy is the one in force), and results are read back with git.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::{GIT_IDENTITY, Run, TestEnv, crate_dir, default_policy_text, digest, edit};

// ---------------------------------------------------------------------------------------
// The sandbox: a state repo at `state/` under the work dir, files for requests beside it
// ---------------------------------------------------------------------------------------

const STATE: &str = "state";

/// The files of examples/orders-db.yaml (team-alpha/orders-db) in the state repo.
const ORDERS_REQUEST: &str = "requests/team-alpha/mysql-orders-db.yaml";
const ORDERS_PLACEMENT: &str = "placements/team-alpha/mysql-orders-db.yaml";
const ORDERS_PRIMARY: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml";

/// The medium tier's weights in the default policy, and weights that make cost decide:
/// with them orders-db (ha) would land on gcp/us-central1 (0.716) instead of aws (0.63).
const MEDIUM_WEIGHTS: &str = "    weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.25 }";
const COST_HEAVY_MEDIUM_WEIGHTS: &str = "    weights: { latency: 0.10, dr: 0.10, maturity: 0.10, cost: 0.70 }";

/// The message of policy/examples/rules/team_beta.rego for team-beta/orders-db.
const TEAM_BETA_DENIAL: &str = "team-beta/orders-db: team-beta may not use tier business_critical; choose critical or medium, or ask the platform team for an exception";

/// A `warn` rule written for these tests.
const STORAGE_WARN_RULE: &str = r#"# Large databases are allowed, with a warning.
package idp

warn contains msg if {
	input.request.storageGB > 1000
	msg := sprintf("%s/%s: storageGB %d is above 1000; consider archiving old data", [input.request.namespace, input.request.name, input.request.storageGB])
}
"#;

struct Gov {
    env: TestEnv,
}

impl Gov {
    /// `idp init state`, then a git identity in the state repo's config.
    fn new() -> Self {
        let gov = Self { env: TestEnv::new() };
        gov.env.init_state(STATE);
        gov
    }

    /// A state repo holding examples/orders-db.yaml, applied.
    fn with_orders_db() -> Self {
        let gov = Self::new();
        let orders = gov.example("orders-db.yaml");
        gov.apply(None, &[&orders]);
        gov
    }

    /// idp with `--repo state` added.
    fn idp(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--repo", STATE]);
        self.env.idp(&all)
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

    /// `git status --porcelain` is empty: nothing written behind git's back.
    fn assert_clean(&self) {
        self.env.assert_clean(STATE);
    }

    /// A file of the state repo at a revision, as git has it.
    fn show(&self, rev: &str, path: &str) -> String {
        self.git(&["show", &format!("{rev}:{path}")])
    }

    fn state_path(&self, rel: &str) -> PathBuf {
        self.env.work_dir().join(STATE).join(rel)
    }

    /// Writes a file into the state repo's work tree (not committed).
    fn write_state(&self, rel: &str, contents: &str) {
        let path = self.state_path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn read_state(&self, rel: &str) -> String {
        std::fs::read_to_string(self.state_path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Writes `rel` into the state repo and commits it with git.
    fn commit_file(&self, rel: &str, contents: &str, message: &str) {
        self.write_state(rel, contents);
        self.git(&["add", "--", rel]);
        self.git(&["commit", "--quiet", "-m", message]);
    }

    /// Commits `text` as the state repo's policy/policy.yaml.
    fn commit_policy(&self, text: &str, message: &str) {
        self.commit_file("policy/policy.yaml", text, message);
    }

    /// Commits a shipped example rule (policy/examples/rules/NAME) as policy/rules/NAME.
    fn commit_example_rule(&self, name: &str) {
        let text = std::fs::read_to_string(crate_dir().join("policy/examples/rules").join(name))
            .unwrap_or_else(|e| panic!("read example rule {name}: {e}"));
        self.commit_file(&format!("policy/rules/{name}"), &text, &format!("rules: add {name}"));
    }

    /// Copies examples/NAME of the project into the work dir; its path for `-f`.
    fn example(&self, name: &str) -> String {
        self.env.example_as(name, &format!("examples/{name}"))
    }

    /// Writes a request file into the work dir (outside the state repo); its path.
    fn request(&self, rel: &str, contents: &str) -> String {
        self.env.write(rel, contents)
    }

    fn plan_json(&self, kind: Option<&str>, files: &[&str]) -> Run {
        self.run("plan", kind, files, &["-o", "json"])
    }

    fn apply_json(&self, kind: Option<&str>, files: &[&str]) -> Run {
        self.run("apply", kind, files, &["--yes", "-o", "json"])
    }

    /// `idp apply --yes -o json`, which must succeed; its JSON.
    fn apply(&self, kind: Option<&str>, files: &[&str]) -> Value {
        let run = self.apply_json(kind, files);
        run.code(0);
        run.json()
    }

    fn run(&self, command: &str, kind: Option<&str>, files: &[&str], extra: &[&str]) -> Run {
        let mut args = vec![command];
        args.extend(kind);
        for file in files {
            args.extend(["-f", file]);
        }
        args.extend_from_slice(extra);
        self.idp(&args)
    }

    /// `idp verify -o json` (with `--strict` if asked) and its exit code.
    fn verify(&self, strict: bool) -> (i32, Value) {
        let mut args = vec!["verify", "-o", "json"];
        if strict {
            args.push("--strict");
        }
        let run = self.idp(&args);
        (run.code, run.json())
    }
}

/// A MySQL request in the Kubernetes form with the line layout of `common::REQUEST`
/// (7 cell, 8 tier, 9 environment, 10 size, 11 storageGB, 12 ha).
#[derive(Clone, Copy)]
struct Db {
    namespace: &'static str,
    name: &'static str,
    cell: &'static str,
    tier: &'static str,
    environment: &'static str,
    size: &'static str,
    storage_gb: u32,
    ha: bool,
}

/// examples/orders-db.yaml.
const ORDERS_DB: Db = Db {
    namespace: "team-alpha",
    name: "orders-db",
    cell: "cell-us-east",
    tier: "medium",
    environment: "production",
    size: "large",
    storage_gb: 100,
    ha: true,
};

impl Db {
    fn yaml(&self) -> String {
        let Db { namespace, name, cell, tier, environment, size, storage_gb, ha } = self;
        format!(
            "apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: {name}
  namespace: {namespace}
spec:
  cell: {cell}
  tier: {tier}
  environment: {environment}
  size: {size}
  storageGB: {storage_gb}
  ha: {ha}
"
        )
    }
}

/// `provider/region` of a placement object (`placement`, `secondary`).
fn at(placement: &Value) -> String {
    let provider = placement["provider"].as_str().unwrap_or_else(|| panic!("no provider in {placement}"));
    let region = placement["region"].as_str().unwrap_or_else(|| panic!("no region in {placement}"));
    format!("{provider}/{region}")
}

/// `error.code` and `error.message` of a JSON failure.
fn error_of(run: &Run) -> (String, String) {
    let doc = run.json();
    let code = doc["error"]["code"].as_str().unwrap_or_else(|| panic!("no error.code in {doc:#}")).to_owned();
    let message = doc["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {doc:#}")).to_owned();
    (code, message)
}

/// A YAML document read by serde-saphyr (not idp's reader).
fn yaml(text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// The whitespace-separated cells of the one line of `text` starting with `prefix`.
fn row<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    assert_eq!(rows.len(), 1, "expected one line starting with `{prefix}`:\n{text}");
    rows[0].split_whitespace().collect()
}

/// The default policy with medium's weights making cost decide.
fn cost_heavy_policy() -> String {
    edit(&default_policy_text(), MEDIUM_WEIGHTS, COST_HEAVY_MEDIUM_WEIGHTS)
}

/// A finding of `idp verify -o json`.
fn finding(severity: &str, file: &str, message: &str) -> Value {
    json!({"severity": severity, "file": file, "message": message})
}

// ---------------------------------------------------------------------------------------
// 1. Rego admission: deny and warn
// ---------------------------------------------------------------------------------------

#[test]
fn a_deny_rule_refuses_plan_and_apply_and_names_its_file() {
    let gov = Gov::new();
    let beta = gov.request("beta.yaml", &Db { namespace: "team-beta", tier: "business_critical", ..ORDERS_DB }.yaml());
    // Only the committed rules are in force: the same file uncommitted changes nothing.
    let rule = std::fs::read_to_string(crate_dir().join("policy/examples/rules/team_beta.rego")).unwrap();
    gov.write_state("policy/rules/team_beta.rego", &rule);
    gov.plan_json(None, &[&beta]).code(0);
    gov.commit_example_rule("team_beta.rego");
    let head = gov.head();
    let expected = format!(
        "mysql team-beta/orders-db is refused by the policy rules: {TEAM_BETA_DENIAL} (policy/rules/team_beta.rego)"
    );

    let plan = gov.plan_json(None, &[&beta]);
    plan.code(1);
    assert_eq!(error_of(&plan), ("idp::rules::deny".to_owned(), expected.clone()));
    gov.run("plan", None, &[&beta], &[]).code(1).stderr_says(&expected);

    let apply = gov.apply_json(None, &[&beta]);
    apply.code(1);
    assert_eq!(error_of(&apply), ("idp::rules::deny".to_owned(), expected.clone()));
    apply.stderr_says(&expected);
    assert_eq!(gov.head(), head, "a refused apply must not commit");
    gov.assert_clean();

    // Another team may use business_critical: the same request from team-alpha plans.
    let alpha =
        gov.request("alpha.yaml", &Db { namespace: "team-alpha", tier: "business_critical", ..ORDERS_DB }.yaml());
    let plan = gov.plan_json(None, &[&alpha]);
    plan.code(0);
    let result = &plan.json()["results"][0];
    assert_eq!(result["status"], "create");
    assert_eq!(at(&result["placement"]), "aws/us-east-1");
    assert_eq!(at(&result["secondary"]), "gcp/us-central1");
    assert_eq!(result["warnings"], json!([]));
}

#[test]
fn a_warn_rule_lets_the_request_through_and_records_the_warning() {
    let gov = Gov::new();
    gov.commit_file("policy/rules/storage_warn.rego", STORAGE_WARN_RULE, "rules: warn on big storage");
    let file = gov.request("big.yaml", &Db { storage_gb: 2000, ..ORDERS_DB }.yaml());
    let warning = "team-alpha/orders-db: storageGB 2000 is above 1000; consider archiving old data \
                   (policy/rules/storage_warn.rego)";

    let human = gov.run("plan", None, &[&file], &[]);
    human.code(0);
    assert!(
        human.stdout.lines().any(|l| l.trim() == format!("warning: {warning}")),
        "the human plan shows the warning:\n{}",
        human.stdout
    );

    let plan = gov.plan_json(None, &[&file]);
    plan.code(0);
    let result = &plan.json()["results"][0];
    assert_eq!(result["status"], "create");
    assert_eq!(result["warnings"], json!([warning]));
    assert_eq!(result["reason"]["warnings"], json!([warning]));

    let head = gov.head();
    let applied = gov.apply(None, &[&file]);
    assert_eq!(applied["results"][0]["warnings"], json!([warning]));
    let commit = applied["commit"].as_str().expect("apply committed");
    assert_eq!(gov.git(&["rev-parse", "HEAD~1"]).trim(), head);
    assert_eq!(gov.head(), commit);
    assert_eq!(gov.git(&["log", "-1", "--format=%an <%ae>"]).trim(), GIT_IDENTITY);
    let record = yaml(&gov.show("HEAD", ORDERS_PLACEMENT));
    assert_eq!(record["reason"]["warnings"], json!([warning]));
    // The claim's placement-reason annotation carries the same reason.
    let claim = yaml(&gov.show("HEAD", ORDERS_PRIMARY));
    let annotation = claim["metadata"]["annotations"]["platform.example.org/placement-reason"].as_str().unwrap();
    let reason: Value = serde_json::from_str(annotation).unwrap();
    assert_eq!(reason["warnings"], json!([warning]));
}

/// docs/rules.md: a `warn` message is "printed (stderr) and recorded with the decision";
/// the README: "results on stdout, notes and diagnostics on stderr".
#[test]
fn a_warn_rule_message_is_printed_on_stderr() {
    let gov = Gov::new();
    gov.commit_file("policy/rules/storage_warn.rego", STORAGE_WARN_RULE, "rules: warn on big storage");
    let file = gov.request("big.yaml", &Db { storage_gb: 2000, ..ORDERS_DB }.yaml());
    let warning = "team-alpha/orders-db: storageGB 2000 is above 1000; consider archiving old data \
                   (policy/rules/storage_warn.rego)";
    for extra in [&[][..], &["-o", "json"][..]] {
        let run = gov.run("plan", None, &[&file], extra);
        run.code(0);
        run.stderr_says(warning);
    }
}

// ---------------------------------------------------------------------------------------
// 2. deny_candidate
// ---------------------------------------------------------------------------------------

#[test]
fn a_deny_candidate_rule_rejects_oci_for_production_in_cell_eu_only() {
    let gov = Gov::new();
    gov.commit_example_rule("eu_no_oci.rego");
    // critical without ha: cost decides, and oci/eu-frankfurt-1 (0.7695) would win.
    let prod =
        Db { name: "eu-db", cell: "cell-eu", tier: "critical", size: "small", storage_gb: 20, ha: false, ..ORDERS_DB };
    let file = gov.request("eu-prod.yaml", &prod.yaml());
    let plan = gov.plan_json(None, &[&file]);
    plan.code(0);
    let result = &plan.json()["results"][0];
    assert_eq!(at(&result["placement"]), "gcp/europe-west1");
    assert_eq!(result["placement"]["runtimeCluster"], "gcp-euw1-prod-01");
    assert_eq!(result["reason"]["selected"]["total_score"], json!(0.701));
    let outside_the_cell = |provider: &str, region: &str, cluster: &str| {
        json!({
            "provider": provider, "region": region, "runtime_cluster": cluster, "missing": [],
            "excluded": "not a candidate of cell cell-eu"
        })
    };
    // Each shown with its cluster for the request's environment (prod or dev).
    let us = |env: &str| {
        [
            outside_the_cell("aws", "us-east-1", &format!("aws-use1-{env}-01")),
            outside_the_cell("aws", "us-west-2", &format!("aws-usw2-{env}-01")),
            outside_the_cell("gcp", "us-central1", &format!("gcp-usc1-{env}-01")),
            outside_the_cell("oci", "us-ashburn-1", &format!("oci-iad-{env}-01")),
        ]
    };
    let denied = json!({
        "provider": "oci", "region": "eu-frankfurt-1", "runtime_cluster": "oci-fra-prod-01", "missing": [],
        "excluded": "denied by policy/rules/eu_no_oci.rego: oci is not allowed for production in cell-eu (eu-frankfurt-1/oci-fra-prod-01)"
    });
    let mut rejected = us("prod").to_vec();
    rejected.push(denied);
    assert_eq!(result["reason"]["rejected"], json!(rejected));
    assert_eq!(result["reason"]["candidates_passed_gates"], 2);
    let human = gov.run("plan", None, &[&file], &[]);
    human.code(0);
    assert_eq!(
        row(&human.stdout, "oci/eu-frankfurt-1 ").join(" "),
        "oci/eu-frankfurt-1 oci-fra-prod-01 denied by policy/rules/eu_no_oci.rego: oci is not allowed for \
         production in cell-eu (eu-frankfurt-1/oci-fra-prod-01)"
    );

    // The same request in dev: the rule does not apply and oci wins.
    let dev = gov.request("eu-dev.yaml", &Db { environment: "dev", ..prod }.yaml());
    let plan = gov.plan_json(None, &[&dev]);
    plan.code(0);
    let result = &plan.json()["results"][0];
    assert_eq!(at(&result["placement"]), "oci/eu-frankfurt-1");
    assert_eq!(result["reason"]["selected"]["total_score"], json!(0.7695));
    assert_eq!(result["placement"]["runtimeCluster"], "oci-fra-dev-01");
    assert_eq!(result["reason"]["rejected"], json!(us("dev")));
}

// ---------------------------------------------------------------------------------------
// 3. idp policy test, and rule files that do not compile
// ---------------------------------------------------------------------------------------

const EXAMPLE_TESTS: [(&str, &str); 7] = [
    ("test_oci_production_in_eu_denied", "policy/rules/eu_no_oci_test.rego"),
    ("test_aws_production_in_eu_allowed", "policy/rules/eu_no_oci_test.rego"),
    ("test_oci_dev_in_eu_allowed", "policy/rules/eu_no_oci_test.rego"),
    ("test_oci_production_in_other_cell_allowed", "policy/rules/eu_no_oci_test.rego"),
    ("test_team_beta_business_critical_denied", "policy/rules/team_beta_test.rego"),
    ("test_team_beta_critical_allowed", "policy/rules/team_beta_test.rego"),
    ("test_other_team_business_critical_allowed", "policy/rules/team_beta_test.rego"),
];

fn commit_all_example_rules(gov: &Gov) {
    for name in ["eu_no_oci.rego", "eu_no_oci_test.rego", "team_beta.rego", "team_beta_test.rego"] {
        gov.commit_example_rule(name);
    }
}

#[test]
fn policy_test_passes_the_example_tests_and_fails_a_failing_one() {
    let gov = Gov::new();
    commit_all_example_rules(&gov);

    let run = gov.idp(&["policy", "test"]);
    run.code(0);
    assert_eq!(run.stdout.lines().last(), Some("7 passed, 0 failed"), "{}", run.stdout);
    for (name, file) in EXAMPLE_TESTS {
        assert_eq!(row(&run.stdout, &format!("pass    {name} ")), ["pass", name, file]);
    }
    let json_run = gov.idp(&["policy", "test", "-o", "json"]);
    json_run.code(0);
    let results = json_run.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 7);
    assert!(results.iter().all(|r| r["passed"] == true && r["message"].is_null()), "{results:#?}");

    // A test that does not hold: team-beta is allowed critical, so nothing denies it.
    gov.commit_file(
        "policy/rules/beta_critical_test.rego",
        r#"package beta_critical_test

import data.idp

test_team_beta_critical_is_denied if {
	denials := idp.deny with input as {"request": {"name": "orders-db", "namespace": "team-beta", "tier": "critical"}}
	count(denials) > 0
}
"#,
        "rules: a failing test",
    );
    let run = gov.idp(&["policy", "test"]);
    run.code(1);
    assert_eq!(run.stdout.lines().last(), Some("7 passed, 1 failed"), "{}", run.stdout);
    let failing = row(&run.stdout, "FAIL ");
    assert_eq!(failing[1], "test_team_beta_critical_is_denied");
    assert_eq!(failing.last(), Some(&"policy/rules/beta_critical_test.rego"));
    let json_run = gov.idp(&["policy", "test", "-o", "json"]);
    json_run.code(1);
    let failed: Vec<Value> =
        json_run.json()["results"].as_array().unwrap().iter().filter(|r| r["passed"] == false).cloned().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["name"], "test_team_beta_critical_is_denied");
    assert_eq!(failed[0]["file"], "policy/rules/beta_critical_test.rego");
}

#[test]
fn a_rule_file_with_a_syntax_error_stops_plan_with_file_line_and_column() {
    let gov = Gov::new();
    // The Rego v0 form: docs/rules.md says idp refuses it with a message saying so.
    gov.commit_file(
        "policy/rules/broken.rego",
        "package idp\n\ndeny[msg] {\n    input.request.tier == \"low\"\n    msg := \"no low\"\n}\n",
        "rules: a broken rule",
    );
    let head = gov.head();
    let file = gov.request("orders.yaml", &ORDERS_DB.yaml());
    let expected = "policy/rules/broken.rego:3:11: `if` keyword is required before rule body";

    let plan = gov.plan_json(None, &[&file]);
    plan.code(1);
    assert_eq!(error_of(&plan), ("idp::rules::compile".to_owned(), expected.to_owned()));
    gov.run("plan", None, &[&file], &[]).code(1).stderr_says(expected);
    let apply = gov.apply_json(None, &[&file]);
    apply.code(1);
    assert_eq!(error_of(&apply).1, expected);
    assert_eq!(gov.head(), head);
    gov.idp(&["policy", "test"]).code(1).stderr_says(expected);
}

// ---------------------------------------------------------------------------------------
// 4. Team permissions
// ---------------------------------------------------------------------------------------

const TEAMS: &str =
    "teams:\n  team-beta: { tiers: [low, medium, critical] }\n  default: { environments: [dev, staging] }";

#[test]
fn team_permissions_refuse_with_located_messages_and_verify_flags_older_requests() {
    let gov = Gov::with_orders_db();
    // orders-db (team-alpha, production) was applied before the team rule existed.
    gov.commit_policy(&edit(&default_policy_text(), "teams: {}", TEAMS), "policy: team permissions");
    let head = gov.head();

    let beta = gov.request("beta.yaml", &Db { namespace: "team-beta", tier: "business_critical", ..ORDERS_DB }.yaml());
    let run = gov.plan_json(None, &[&beta]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "beta.yaml:8:9: namespace team-beta may not use tier business_critical".to_owned(),
            Some(
                "team-beta may use tiers: low, medium, critical; ask the platform team to change `teams` in the policy"
                    .to_owned()
            )
        )]
    );
    gov.run("plan", None, &[&beta], &[]).code(1).stderr_says("beta.yaml:8:9: namespace team-beta may not use tier");
    gov.apply_json(None, &[&beta]).code(1);
    assert_eq!(gov.head(), head);

    // team-beta is listed, so `default` does not limit its environments.
    let beta_ok = gov.request("beta-ok.yaml", &Db { namespace: "team-beta", tier: "critical", ..ORDERS_DB }.yaml());
    gov.plan_json(None, &[&beta_ok]).code(0);

    // A namespace not listed follows `default`: dev and staging only.
    let gamma_prod = gov.request("gamma-prod.yaml", &Db { namespace: "team-gamma", ..ORDERS_DB }.yaml());
    let run = gov.plan_json(None, &[&gamma_prod]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "gamma-prod.yaml:9:16: namespace team-gamma may not use environment production".to_owned(),
            Some(
                "team-gamma may use environments: dev, staging; ask the platform team to change `teams` in the policy"
                    .to_owned()
            )
        )]
    );
    let gamma_dev =
        gov.request("gamma-dev.yaml", &Db { namespace: "team-gamma", environment: "dev", ..ORDERS_DB }.yaml());
    let run = gov.plan_json(None, &[&gamma_dev]);
    run.code(0);
    assert_eq!(run.json()["results"][0]["status"], "create");

    // verify: the request committed before the rule stays placed (a team rule admits
    // what is submitted, it does not evict), so it is a warning, an error with --strict.
    let (code, report) = gov.verify(false);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    let on_request: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["file"] == ORDERS_REQUEST).collect();
    assert_eq!(
        on_request,
        [&finding(
            "warning",
            ORDERS_REQUEST,
            "requests/team-alpha/mysql-orders-db.yaml:9:16: namespace team-alpha may not use environment production \
             (hint: team-alpha may use environments: dev, staging; ask the platform team to change `teams` in the policy) \
             (placed before this rule: it stays placed; a change to it is refused)"
        )],
        "{report:#}"
    );
    let human = gov.idp(&["verify"]);
    human.code(0);
    assert!(human.stdout.contains(ORDERS_REQUEST), "{}", human.stdout);
    assert_eq!(gov.verify(true).0, 1, "--strict makes it an error");
}

/// A request that a new team rule refuses still renders its own files: they are not
/// orphans, and `verify` must not advise removing them (Argo CD would prune the database).
#[test]
fn verify_does_not_call_the_files_of_a_refused_request_orphans() {
    let gov = Gov::with_orders_db();
    gov.commit_policy(&edit(&default_policy_text(), "teams: {}", TEAMS), "policy: team permissions");
    let (code, report) = gov.verify(false);
    assert_eq!(code, 0, "{report:#}");
    let orphans: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("orphan"))
        .collect();
    assert!(orphans.is_empty(), "files of mysql team-alpha/orders-db reported as orphans: {orphans:#?}");
}

// ---------------------------------------------------------------------------------------
// 5. Cost estimates
// ---------------------------------------------------------------------------------------

#[test]
fn plans_carry_cost_estimates_and_a_spend_table() {
    let gov = Gov::new();
    let orders = gov.example("orders-db.yaml");
    let run = gov.plan_json(None, &[&orders]);
    run.code(0);
    assert_eq!(
        run.json()["results"][0]["cost"],
        json!({"monthlyUSD": 1223.0, "breakdown": {"instance": 600.0, "storage": 11.5, "ha": 611.5}, "estimate": true})
    );

    let payments = gov.example("payments-c0.json");
    let run = gov.plan_json(Some("mysql"), &[&payments]);
    run.code(0);
    assert_eq!(
        run.json()["results"][0]["cost"],
        json!({
            "monthlyUSD": 460.0,
            "breakdown": {"instance": 150.0, "storage": 5.75, "ha": 155.75, "secondary": 148.5},
            "estimate": true
        })
    );

    let human = gov.run("plan", None, &[&orders], &[]);
    human.code(0);
    assert_eq!(
        row(&human.stdout, "cost ").join(" "),
        "cost ~1223.00 USD/month, estimated (instance 600.00, storage 11.50, ha 611.50)"
    );
    assert_eq!(row(&human.stdout, "SPEND ").join(" "), "SPEND (ESTIMATED USD/MONTH) CURRENT THIS PLAN TOTAL BUDGET");
    // No budget on the cell: its current spend is not totalled.
    assert_eq!(row(&human.stdout, "cell cell-us-east ").join(" "), "cell cell-us-east - 1223.00 - -");
}

#[test]
fn policy_show_costs_prints_the_price_table_as_estimates() {
    let gov = Gov::new();
    let run = gov.idp(&["policy", "show", "--costs"]);
    run.code(0);
    assert!(run.stdout.contains("estimates"), "{}", run.stdout);
    assert_eq!(row(&run.stdout, "aws ").join(" "), "aws 150.00 300.00 600.00 1200.00 0.1150 35.00");
    assert_eq!(row(&run.stdout, "gcp ").join(" "), "gcp 140.00 280.00 560.00 1120.00 0.1700 32.00");
    assert_eq!(row(&run.stdout, "oci ").join(" "), "oci 100.00 200.00 400.00 800.00 0.0255 25.00");

    let run = gov.idp(&["policy", "show", "--costs", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["pricing"]["providers"]["aws"]["sizes"]["large"], json!(600.0));
    assert_eq!(doc["pricing"]["haMultiplier"], json!(2.0));
}

// ---------------------------------------------------------------------------------------
// 6. Budgets
// ---------------------------------------------------------------------------------------

#[test]
fn a_cell_budget_refuses_a_plan_that_would_exceed_it() {
    let gov = Gov::new();
    gov.commit_policy(
        &edit(&default_policy_text(), "budgets: {}", "budgets:\n  cells: { cell-us-east: { monthlyUSD: 2000 } }"),
        "policy: cell budget",
    );
    let orders = gov.example("orders-db.yaml");
    gov.apply(None, &[&orders]);
    let head = gov.head();

    // xlarge, 100 GB, no ha on aws: 1200 + 11.50 = 1211.50, and 1223 + 1211.50 > 2000.
    let big = gov.request("big.yaml", &Db { name: "big-db", size: "xlarge", ha: false, ..ORDERS_DB }.yaml());
    let expected = "cell cell-us-east would exceed its budget: $1223 now + $1211.5 planned > $2000 a month (estimates)";
    let run = gov.plan_json(None, &[&big]);
    run.code(1);
    assert_eq!(error_of(&run), ("idp::budget::exceeded".to_owned(), expected.to_owned()));
    let run = gov.apply_json(None, &[&big]);
    run.code(1);
    assert_eq!(error_of(&run).1, expected);
    gov.run("apply", None, &[&big], &["--yes"]).code(1).stderr_says(expected);
    assert_eq!(gov.head(), head, "a refused apply must not commit");
    gov.assert_clean();

    // small, 10 GB, no ha: 150 + 1.15 = 151.15 fits.
    let cheap = gov
        .request("cheap.yaml", &Db { name: "cheap-db", size: "small", storage_gb: 10, ha: false, ..ORDERS_DB }.yaml());
    let run = gov.plan_json(None, &[&cheap]);
    run.code(0);
    let doc = run.json();
    assert_eq!(
        doc["results"][0]["cost"],
        json!({"monthlyUSD": 151.15, "breakdown": {"instance": 150.0, "storage": 1.15}, "estimate": true})
    );
    assert_eq!(doc["spend"][0]["scope"], "cell cell-us-east");
    assert_eq!(doc["spend"][0]["currentUSD"], json!(1223.0));
    assert_eq!(doc["spend"][0]["plannedUSD"], json!(151.15));
    assert_eq!(doc["spend"][0]["limitUSD"].as_f64(), Some(2000.0));
    let applied = gov.apply(None, &[&cheap]);
    assert_eq!(applied["results"][0]["status"], "created");
    assert_eq!(gov.git(&["rev-parse", "HEAD~1"]).trim(), head);
}

#[test]
fn a_namespace_budget_refuses_orders_db() {
    let gov = Gov::new();
    gov.commit_policy(
        &edit(&default_policy_text(), "budgets: {}", "budgets:\n  namespaces: { team-alpha: { monthlyUSD: 1000 } }"),
        "policy: namespace budget",
    );
    let head = gov.head();
    let orders = gov.example("orders-db.yaml");
    let expected = "namespace team-alpha would exceed its budget: $0 now + $1223 planned > $1000 a month (estimates)";
    let run = gov.apply_json(None, &[&orders]);
    run.code(1);
    assert_eq!(error_of(&run), ("idp::budget::exceeded".to_owned(), expected.to_owned()));
    assert_eq!(gov.head(), head);
    gov.assert_clean();

    // Another namespace has no budget; a cheap team-alpha request fits.
    let other = gov.request("other.yaml", &Db { namespace: "team-other", ..ORDERS_DB }.yaml());
    gov.apply(None, &[&other]);
    let cheap = gov
        .request("cheap.yaml", &Db { name: "cheap-db", size: "small", storage_gb: 10, ha: false, ..ORDERS_DB }.yaml());
    gov.apply(None, &[&cheap]);
}

// ---------------------------------------------------------------------------------------
// 7. Cordoned candidates
// ---------------------------------------------------------------------------------------

#[test]
fn a_cordoned_candidate_takes_no_new_placements_and_verify_reports_existing_ones() {
    let gov = Gov::with_orders_db();
    assert_eq!(at(&yaml(&gov.show("HEAD", ORDERS_PLACEMENT))["primary"]), "aws/us-east-1");
    gov.commit_policy(
        &edit(
            &default_policy_text(),
            "    runtimeCluster: aws-use1-prod-01\n",
            "    runtimeCluster: aws-use1-prod-01\n    cordoned: true\n",
        ),
        "policy: cordon aws/us-east-1",
    );

    let new = gov.request("new.yaml", &Db { name: "new-db", ha: false, ..ORDERS_DB }.yaml());
    let run = gov.plan_json(None, &[&new]);
    run.code(0);
    let result = &run.json()["results"][0];
    assert_eq!(at(&result["placement"]), "gcp/us-central1");
    assert_eq!(
        result["reason"]["rejected"],
        json!([{
            "provider": "aws", "region": "us-east-1", "runtime_cluster": "aws-use1-prod-01",
            "missing": [], "excluded": "cordoned"
        }])
    );
    gov.apply(None, &[&new]);
    assert_eq!(at(&yaml(&gov.show("HEAD", "placements/team-alpha/mysql-new-db.yaml"))["primary"]), "gcp/us-central1");

    // orders-db stays where it is: sticky, nothing to commit.
    let head = gov.head();
    let orders = gov.example("orders-db.yaml");
    let again = gov.apply(None, &[&orders]);
    assert_eq!(again["commit"], Value::Null);
    assert_eq!(again["results"][0]["status"], "exists");
    assert_eq!(again["results"][0]["sticky"], true);
    assert_eq!(at(&again["results"][0]["placement"]), "aws/us-east-1");
    assert_eq!(gov.head(), head);

    let cordoned = "placed on cordoned candidate aws/us-east-1";
    let drift = "policy drift: the current policy would place it on gcp/us-central1 (it stays on aws/us-east-1)";
    let (code, report) = gov.verify(false);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(
        report["findings"],
        json!([finding("warning", ORDERS_PLACEMENT, cordoned), finding("warning", ORDERS_PLACEMENT, drift)])
    );
    let human = gov.idp(&["verify"]);
    human.code(0);
    assert!(human.stdout.contains("cordoned"), "{}", human.stdout);

    let (code, report) = gov.verify(true);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["findings"],
        json!([finding("error", ORDERS_PLACEMENT, cordoned), finding("error", ORDERS_PLACEMENT, drift)])
    );
}

// ---------------------------------------------------------------------------------------
// 8. verify
// ---------------------------------------------------------------------------------------

#[test]
fn verify_passes_a_clean_repo_and_warns_about_policy_drift() {
    let gov = Gov::new();
    let orders = gov.example("orders-db.yaml");
    let payments = gov.example("payments-c0.json");
    let app = gov.example("payments-app.yaml");
    gov.apply(None, &[&orders]);
    gov.apply(Some("mysql"), &[&payments]);
    gov.apply(None, &[&app]);

    let human = gov.idp(&["verify"]);
    human.code(0);
    assert!(human.stdout.contains("0 findings"), "{}", human.stdout);
    let (code, report) = gov.verify(false);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["requests"], 3);
    assert_eq!(report["findings"], json!([]));

    gov.commit_policy(&cost_heavy_policy(), "policy: cost-heavy medium");
    let drift = finding(
        "warning",
        ORDERS_PLACEMENT,
        "policy drift: the current policy would place it on gcp/us-central1 (it stays on aws/us-east-1)",
    );
    let (code, report) = gov.verify(false);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["findings"], json!([drift]));
    let human = gov.idp(&["verify"]);
    human.code(0);
    assert!(human.stdout.contains("policy drift"), "{}", human.stdout);

    let (code, report) = gov.verify(true);
    assert_eq!(code, 1, "{report:#}");
    let mut error = drift.clone();
    error["severity"] = json!("error");
    assert_eq!(report["findings"], json!([error]));
    gov.idp(&["verify", "--strict"]).code(1);
}

/// A fresh repo with orders-db applied, tampered with by `tamper` and committed with git;
/// `idp verify -o json` must fail, and every finding must be an error on `file`. The
/// findings' messages.
fn verify_catches(tamper: impl FnOnce(&Gov), file: &str) -> Vec<String> {
    let gov = Gov::with_orders_db();
    let (code, report) = gov.verify(false);
    assert_eq!((code, &report["findings"]), (0, &json!([])), "verify passes before tampering");
    tamper(&gov);
    gov.git(&["add", "--all"]);
    gov.git(&["commit", "--quiet", "-m", "a change made without idp"]);
    gov.assert_clean();
    let (code, report) = gov.verify(false);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["ok"], false);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["severity"], "error", "{report:#}");
        assert_eq!(f["file"], file, "{report:#}");
    }
    let human = gov.idp(&["verify"]);
    human.code(1);
    assert!(human.stdout.contains(file), "{}", human.stdout);
    findings.iter().map(|f| f["message"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn verify_catches_a_hand_edit_of_a_platform_file() {
    let messages = verify_catches(
        |gov| {
            let text = edit(&gov.read_state(ORDERS_PRIMARY), "storageGB: 100", "storageGB: 500");
            gov.write_state(ORDERS_PRIMARY, &text);
        },
        ORDERS_PRIMARY,
    );
    assert_eq!(
        messages,
        ["differs from what idp renders for mysql team-alpha/orders-db (a hand edit, or a policy or template \
          change not yet applied: re-apply the request)"]
    );
}

#[test]
fn verify_catches_an_orphan_platform_file() {
    let ghost = "platform/team-x/mysql-ghost/cell-us-east.production.primary.yaml";
    let messages = verify_catches(
        |gov| {
            let text = gov.read_state(ORDERS_PRIMARY).replace("team-alpha", "team-x").replace("orders-db", "ghost");
            gov.write_state(ghost, &text);
        },
        ghost,
    );
    assert_eq!(messages, ["is an orphan: no request renders it (remove it, or restore its request)"]);
}

#[test]
fn verify_catches_a_secret_manifest() {
    let secret = "platform/team-alpha/mysql-orders-db/secret.yaml";
    let messages = verify_catches(
        |gov| {
            gov.write_state(
                secret,
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: orders-db-conn\n  namespace: team-alpha\n  \
                 labels:\n    app.kubernetes.io/managed-by: idp\ntype: Opaque\n",
            );
        },
        secret,
    );
    assert!(messages.iter().any(|m| m == "holds a kind: Secret"), "{messages:?}");
}

#[test]
fn verify_catches_a_secret_looking_value() {
    let config = "platform/team-alpha/mysql-orders-db/config.yaml";
    let messages = verify_catches(
        |gov| {
            gov.write_state(
                config,
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orders-db-config\n  namespace: team-alpha\n  \
                 labels:\n    app.kubernetes.io/managed-by: idp\ndata:\n  password: hunter2\n",
            );
        },
        config,
    );
    assert!(
        messages.iter().any(|m| m
            == "line 9: .data.password holds a literal value; secrets are referenced by name, never stored in the state repo"),
        "{messages:?}"
    );
    assert!(messages.iter().all(|m| !m.contains("hunter2")), "a finding repeats the secret: {messages:?}");
}

#[test]
fn verify_catches_a_manifest_without_the_managed_by_label() {
    let messages = verify_catches(
        |gov| {
            let text = edit(&gov.read_state(ORDERS_PRIMARY), "    \"app.kubernetes.io/managed-by\": \"idp\"\n", "");
            gov.write_state(ORDERS_PRIMARY, &text);
        },
        ORDERS_PRIMARY,
    );
    assert!(
        messages.iter().any(|m| m == "orders-db lacks the label app.kubernetes.io/managed-by: idp"),
        "{messages:?}"
    );
}

#[test]
fn verify_catches_a_missing_platform_file() {
    let messages = verify_catches(|gov| std::fs::remove_file(gov.state_path(ORDERS_PRIMARY)).unwrap(), ORDERS_PRIMARY);
    // Removing the claim by hand also deletes the database, unrecorded.
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains(
            "deleted MySQLInstanceClaim team-alpha/orders-db of mysql team-alpha/orders-db without an `Idp-Destroy"
        ),
        "{messages:?}"
    );
    assert_eq!(messages[1], "is missing: mysql team-alpha/orders-db renders it");
}

#[test]
fn verify_catches_a_hand_edit_of_the_request_file() {
    let messages = verify_catches(
        |gov| {
            let text = edit(&gov.read_state(ORDERS_REQUEST), "storageGB: 100", "storageGB: 100  # keep it small");
            gov.write_state(ORDERS_REQUEST, &text);
        },
        ORDERS_REQUEST,
    );
    assert_eq!(messages, ["is not in idp's normalized form (edited by hand?)"]);
}

// ---------------------------------------------------------------------------------------
// 9. policy explain
// ---------------------------------------------------------------------------------------

#[test]
fn policy_explain_shows_the_ranking_of_a_tier() {
    let gov = Gov::new();
    let run = gov.idp(&["policy", "explain", "medium"]);
    run.code(0);
    let expected_head = "\
a medium request (whole pool) would land on aws/us-east-1 (aws-use1-prod-01), total 0.825

RANK  PROVIDER/REGION     CLUSTER            TOTAL  LATENCY      DR  MATURITY    COST
1     aws/us-east-1       aws-use1-prod-01  0.8250   0.2250  0.2375    0.2375  0.1250  ← primary
2     gcp/us-central1     gcp-usc1-prod-01  0.8150   0.2200  0.2125    0.2200  0.1625
3     aws/us-west-2       aws-usw2-prod-01  0.8000   0.2125  0.2250    0.2250  0.1375
4     oci/us-ashburn-1    oci-iad-prod-01   0.7500   0.2000  0.1750    0.1625  0.2125
5     gcp/europe-west1    gcp-euw1-prod-01  0.7475   0.1800  0.2050    0.2125  0.1500
6     aws/eu-west-1       aws-euw1-prod-01  0.7375   0.1750  0.2250    0.2250  0.1125
7     oci/eu-frankfurt-1  oci-fra-prod-01   0.7075   0.1700  0.1625    0.1500  0.2250
";
    assert!(run.stdout.starts_with(expected_head), "--- stdout\n{}", run.stdout);

    let run = gov.idp(&["policy", "explain", "medium", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(at(&doc["placement"]), "aws/us-east-1");
    assert_eq!(doc["reason"]["selected"]["total_score"], json!(0.825));
    assert_eq!(doc["reason"]["candidates_passed_gates"], 7);
    assert_eq!(doc["reason"]["rejected"], json!([]));
}

#[test]
fn policy_explain_with_ha_rejects_the_oci_candidates() {
    let gov = Gov::new();
    let run = gov.idp(&["policy", "explain", "medium", "--ha", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["ha"], true);
    assert_eq!(at(&doc["placement"]), "aws/us-east-1");
    assert_eq!(
        doc["reason"]["rejected"],
        json!([
            {"provider": "oci", "region": "us-ashburn-1", "runtime_cluster": "oci-iad-prod-01", "missing": ["multi_az"], "excluded": null},
            {"provider": "oci", "region": "eu-frankfurt-1", "runtime_cluster": "oci-fra-prod-01", "missing": ["multi_az"], "excluded": null}
        ])
    );
    let human = gov.idp(&["policy", "explain", "medium", "--ha"]);
    human.code(0);
    assert_eq!(row(&human.stdout, "oci/us-ashburn-1 ").join(" "), "oci/us-ashburn-1 oci-iad-prod-01 missing multi_az");
    assert_eq!(
        row(&human.stdout, "oci/eu-frankfurt-1 ").join(" "),
        "oci/eu-frankfurt-1 oci-fra-prod-01 missing multi_az"
    );
}

#[test]
fn policy_explain_c0_in_payments_has_a_secondary() {
    let gov = Gov::new();
    let run = gov.idp(&["policy", "explain", "C0", "--cell", "payments", "--ha", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["tier"], "C0");
    assert_eq!(doc["cell"], "payments");
    assert_eq!(at(&doc["placement"]), "aws/us-east-1");
    assert_eq!(doc["placement"]["runtimeCluster"], "aws-use1-prod-01");
    assert_eq!(at(&doc["secondary"]), "gcp/us-central1");
    assert_eq!(doc["secondary"]["runtimeCluster"], "gcp-usc1-prod-01");
}

#[test]
fn policy_explain_refuses_unknown_tiers_and_cells_with_the_valid_values() {
    let gov = Gov::new();
    let run = gov.idp(&["policy", "explain", "platinum", "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "unknown tier `platinum`".to_owned(),
            Some(
                "valid values in the policy in force: low, medium, critical, business_critical, C0, C1, C2".to_owned()
            )
        )]
    );
    gov.idp(&["policy", "explain", "platinum"]).code(1).stderr_says("unknown tier `platinum`");

    let run = gov.idp(&["policy", "explain", "medium", "--cell", "cell-mars", "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "unknown cell `cell-mars`".to_owned(),
            Some("valid values in the policy in force: cell-us-east, cell-eu, payments".to_owned())
        )]
    );
}

// ---------------------------------------------------------------------------------------
// 10. policy diff
// ---------------------------------------------------------------------------------------

#[test]
fn policy_diff_lists_the_placements_a_policy_change_would_move() {
    let gov = Gov::with_orders_db();
    let analytics = gov.example("analytics-db.yaml");
    gov.apply(None, &[&analytics]);
    let head = gov.head();
    let new_policy = cost_heavy_policy();
    let new_file = gov.request("cost-heavy.yaml", &new_policy);
    let expected_changed = json!([{
        "kind": "mysql", "namespace": "team-alpha", "name": "orders-db",
        "old": "aws/us-east-1", "new": "gcp/us-central1"
    }]);
    let old_digest = digest(default_policy_text().as_bytes());
    let new_digest = digest(new_policy.as_bytes());

    let run = gov.idp(&["policy", "diff", "HEAD", &new_file, "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["evaluated"], 2);
    assert_eq!(doc["changed"], expected_changed);
    assert_eq!(doc["old"]["digest"], old_digest.as_str());
    assert_eq!(doc["new"]["digest"], new_digest.as_str());
    let human = gov.idp(&["policy", "diff", "HEAD", &new_file]);
    human.code(0);
    assert!(human.stdout.contains("1 of 2 placements would be decided differently"), "{}", human.stdout);
    assert_eq!(
        row(&human.stdout, "mysql team-alpha/orders-db ").join(" "),
        "mysql team-alpha/orders-db aws/us-east-1 gcp/us-central1"
    );
    assert_eq!(gov.head(), head, "policy diff writes nothing");

    // The same change as two revisions of the committed policy.
    gov.commit_policy(&new_policy, "policy: cost-heavy medium");
    let run = gov.idp(&["policy", "diff", "HEAD~1", "HEAD", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["evaluated"], 2);
    assert_eq!(doc["changed"], expected_changed);
    assert_eq!(doc["old"]["digest"], old_digest.as_str());
    assert_eq!(doc["new"]["digest"], new_digest.as_str());
    let first = gov.git(&["rev-parse", "HEAD~1"]);
    let run = gov.idp(&["policy", "diff", first.trim(), "HEAD", "-o", "json"]);
    run.code(0);
    assert_eq!(run.json()["changed"], expected_changed);

    // Placements are sticky: the diff moved nothing.
    assert_eq!(at(&yaml(&gov.show("HEAD", ORDERS_PLACEMENT))["primary"]), "aws/us-east-1");
}
