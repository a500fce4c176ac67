//! The developer contract (PRODUCT.md section 2) as `idp plan` enforces it: every
//! problem exits 1, names `file:line:column`, says what to do, and never panics (every
//! run is checked for that in `common::Run`).

use serde_json::Value;

use crate::common::{
    DNS_HELP, PLACEMENT_HELP, REQUEST, Run, TestEnv, assert_single_issue, edit, request_with, unwrapped,
};

/// REQUEST with extra lines appended to its spec (they start at line 13).
fn request_plus(lines: &str) -> String {
    format!("{REQUEST}{lines}")
}

/// Runs `idp plan -f req.yaml -o json` on `contents` and checks that it is accepted.
fn assert_accepted(contents: &str) -> Value {
    let env = TestEnv::new();
    let file = env.write("req.yaml", contents);
    env.idp(&["plan", "-f", &file, "-o", "json"]).code(0).json()
}

/// Plans `contents` as req.yaml with `-o json`; expects exit 1.
fn plan_failing(contents: impl AsRef<[u8]>) -> Run {
    let env = TestEnv::new();
    let file = env.write("req.yaml", contents);
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(1);
    run
}

/// The messages a failure reports: its issues, or the error itself when it has none.
fn messages(run: &Run) -> Vec<String> {
    let issues = run.issues();
    if issues.is_empty() {
        vec![run.json()["error"]["message"].as_str().unwrap().to_owned()]
    } else {
        issues.into_iter().map(|(message, _)| message).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Forbidden placement fields
// ---------------------------------------------------------------------------------------

const FORBIDDEN: [&str; 4] = ["provider", "region", "runtimeCluster", "network"];

#[test]
fn placement_fields_in_spec_are_refused() {
    for field in FORBIDDEN {
        assert_single_issue(
            &request_plus(&format!("  {field}: x\n")),
            "13:3",
            &format!("`{field}` may not be set in a request"),
            Some(PLACEMENT_HELP),
        );
    }
}

#[test]
fn placement_fields_at_the_top_level_are_refused() {
    for field in FORBIDDEN {
        assert_single_issue(
            &request_plus(&format!("{field}: x\n")),
            "13:1",
            &format!("`{field}` may not be set in a request"),
            Some(PLACEMENT_HELP),
        );
    }
}

#[test]
fn placement_fields_in_metadata_are_refused() {
    for field in FORBIDDEN {
        assert_single_issue(
            &request_with("  namespace: team-alpha\n", &format!("  namespace: team-alpha\n  {field}: x\n")),
            "6:3",
            &format!("`{field}` may not be set in a request"),
            Some(PLACEMENT_HELP),
        );
    }
}

#[test]
fn placement_fields_nested_under_an_unknown_field_are_refused_too() {
    let run = plan_failing(request_plus(
        "  extra:\n    region: us-east-1\n    more:\n      - runtimeCluster: x\n      - deep: { network: { vpc: x }, provider: aws }\n",
    ));
    assert_eq!(
        run.issues(),
        vec![
            (
                "req.yaml:13:3: unknown field `extra` in spec".to_owned(),
                Some("spec accepts: cell, tier, environment, size, storageGB, ha, drProfile".to_owned())
            ),
            ("req.yaml:14:5: `region` may not be set in a request".to_owned(), Some(PLACEMENT_HELP.to_owned())),
            ("req.yaml:16:9: `runtimeCluster` may not be set in a request".to_owned(), Some(PLACEMENT_HELP.to_owned())),
            ("req.yaml:17:17: `network` may not be set in a request".to_owned(), Some(PLACEMENT_HELP.to_owned())),
            ("req.yaml:17:38: `provider` may not be set in a request".to_owned(), Some(PLACEMENT_HELP.to_owned())),
        ]
    );
    run.stderr_says("req.yaml:16:9: `runtimeCluster` may not be set in a request")
        .stderr_says(&format!("help: {PLACEMENT_HELP}"));
}

#[test]
fn placement_fields_brought_in_by_a_yaml_merge_key_are_refused() {
    let contents = format!("defaults: &d\n  region: us-east-1\n{REQUEST}  <<: *d\n");
    let run = plan_failing(contents);
    let messages = messages(&run);
    assert!(messages.contains(&"req.yaml:2:3: `region` may not be set in a request".to_owned()), "{messages:#?}");
    assert!(messages.contains(&"req.yaml:15:7: `region` may not be set in a request".to_owned()), "{messages:#?}");
}

#[test]
fn placement_fields_in_a_flat_request_are_refused() {
    let env = TestEnv::new();
    let body = "{\n  \"name\": \"payments-db\",\n  \"cell\": \"payments\",\n  \"tier\": \"C0\",\n  \"environment\": \"prod\",\n  \
                \"size\": \"small\",\n  \"storageGB\": 50,\n  \"runtimeCluster\": \"aws-use1-prod-01\"\n}\n";
    let file = env.write("body.json", body);
    let run = env.idp(&["plan", "mysql", "-f", &file, "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "body.json:8:3: `runtimeCluster` may not be set in a request".to_owned(),
            Some(PLACEMENT_HELP.to_owned())
        )]
    );
    run.stderr_says("body.json:8:3: `runtimeCluster` may not be set in a request");
}

// ---------------------------------------------------------------------------------------
// Unknown fields
// ---------------------------------------------------------------------------------------

#[test]
fn an_unknown_field_close_to_a_known_one_gets_a_suggestion() {
    assert_single_issue(
        &request_plus("  storageGb: 100\n"),
        "13:3",
        "unknown field `storageGb` in spec",
        Some("did you mean `storageGB`?"),
    );
}

#[test]
fn a_misspelt_required_field_is_reported_as_unknown_and_as_missing() {
    let run = plan_failing(request_with("storageGB: 100", "storageGb: 100"));
    assert_eq!(
        messages(&run),
        [
            "req.yaml:7:3: spec is missing the required field `storageGB`",
            "req.yaml:11:3: unknown field `storageGb` in spec",
        ]
    );
    assert_eq!(run.issues()[1].1.as_deref(), Some("did you mean `storageGB`?"));
}

#[test]
fn an_unknown_field_without_a_near_match_lists_the_accepted_fields() {
    assert_single_issue(
        &request_plus("  colour: blue\n"),
        "13:3",
        "unknown field `colour` in spec",
        Some("spec accepts: cell, tier, environment, size, storageGB, ha, drProfile"),
    );
    assert_single_issue(
        &request_with("  namespace: team-alpha\n", "  namespace: team-alpha\n  labels: { a: b }\n"),
        "6:3",
        "unknown field `labels` in metadata",
        Some("metadata accepts: name, namespace"),
    );
}

// ---------------------------------------------------------------------------------------
// Types and ranges
// ---------------------------------------------------------------------------------------

#[test]
fn storage_as_a_string_is_refused() {
    assert_single_issue(
        &request_with("storageGB: 100", "storageGB: \"100\""),
        "11:14",
        "`storageGB` must be an integer, not a string",
        Some("write the number without quotes, e.g. 100"),
    );
}

#[test]
fn storage_as_a_decimal_number_is_refused() {
    for value in ["1e3", "10.5", "100.0"] {
        assert_single_issue(
            &request_with("storageGB: 100", &format!("storageGB: {value}")),
            "11:14",
            "`storageGB` must be an integer, not a decimal number",
            Some("use a whole number, e.g. 100"),
        );
    }
}

#[test]
fn storage_outside_its_range_is_refused() {
    for value in ["-5", "0", "9", "65537", "4294967306"] {
        assert_single_issue(
            &request_with("storageGB: 100", &format!("storageGB: {value}")),
            "11:14",
            &format!("storageGB {value} is outside 10..=65536"),
            Some("ask for between 10 and 65536 GB"),
        );
    }
}

#[test]
fn storage_at_the_ends_of_its_range_is_accepted() {
    for value in ["10", "65536"] {
        let doc = assert_accepted(&request_with("storageGB: 100", &format!("storageGB: {value}")));
        assert_eq!(doc["results"][0]["status"], "create", "storageGB {value}");
    }
}

#[test]
fn ha_must_be_a_boolean() {
    for value in ["\"yes\"", "yes", "\"true\""] {
        assert_single_issue(
            &request_with("ha: true", &format!("ha: {value}")),
            "12:7",
            "`ha` must be true or false, not a string",
            Some("write true or false without quotes"),
        );
    }
    assert_single_issue(
        &request_with("ha: true", "ha: 1"),
        "12:7",
        "`ha` must be true or false, not an integer",
        Some("write true or false without quotes"),
    );
}

// ---------------------------------------------------------------------------------------
// Names and namespaces
// ---------------------------------------------------------------------------------------

#[test]
fn names_that_are_not_dns_labels_are_refused() {
    let too_long = "a".repeat(64);
    let cases: [(&str, &str); 8] = [
        ("Orders_DB", "Orders_DB"),
        ("../etc", "../etc"),
        (&too_long, &too_long),
        // A quoted "\n" is a real newline; the message shows it escaped.
        ("\"orders\\ndb\"", "orders\\ndb"),
        ("\"{{ x }}\"", "{{ x }}"),
        // Cyrillic 'о' (U+043E), a look-alike of 'o'.
        ("\u{43e}rders", "\u{43e}rders"),
        ("-orders", "-orders"),
        ("\"\"", ""),
    ];
    for (written, shown) in cases {
        assert_single_issue(
            &request_with("name: orders-db", &format!("name: {written}")),
            "4:9",
            &format!("name `{shown}` is not a DNS-1123 label"),
            Some(DNS_HELP),
        );
    }
}

/// An app of the payments cell, without a database.
const APP: &str = "apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: checkout
  namespace: team-payments
spec:
  cell: payments
  tier: C0
  environment: prod
  image: registry.example.org/payments/checkout:1.8.3
  traffic:
    publicHost: checkout.payments.example.org
";

/// Every name idp derives from a request's namespace and name (claims, the
/// request label, Applications, traffic objects, the catalog entity) fits
/// 63 characters. A name exactly at the budget plans, its manifests through
/// the render guard; one character more is refused up front, on the name's
/// line, showing the longest derived name and how long the name may be,
/// never later as an unsafe manifest blaming a template (issue 19).
#[test]
fn names_at_the_derived_name_budget_plan_and_one_more_is_refused() {
    /// The longest name idp derives from a namespace and name.
    type Derive = fn(&str, &str) -> String;
    // (request, namespace, the longest name it allows, the longest derived name one more makes, what that is)
    let cases: [(&str, &str, usize, Derive, &str); 4] = [
        (REQUEST, "t", 51, |_, name| format!("{name}-replication"), "its ReplicationClaim"),
        (REQUEST, "team-alpha", 46, |ns, name| format!("{ns}.mysql.{name}"), "the request label on every manifest"),
        // An app's Applications and traffic objects are cut and hashed to fit: its label is the limit.
        (APP, "t", 57, |ns, name| format!("{ns}.app.{name}"), "the request label on every manifest"),
        (APP, "team-payments", 45, |ns, name| format!("{ns}.app.{name}"), "the request label on every manifest"),
    ];
    for (request, namespace, most, longest, what) in cases {
        let with = |name: &str| {
            request
                .replacen("name: orders-db", &format!("name: {name}"), 1)
                .replacen("name: checkout", &format!("name: {name}"), 1)
                .replacen("namespace: team-alpha", &format!("namespace: {namespace}"), 1)
                .replacen("namespace: team-payments", &format!("namespace: {namespace}"), 1)
        };
        let name = "a".repeat(most);
        let doc = assert_accepted(&with(&name));
        assert_eq!(doc["results"][0]["name"], name.as_str());

        let name = "a".repeat(most + 1);
        let derived = longest(namespace, &name);
        let kind = if request == APP { "an app" } else { "a MySQL" };
        assert_single_issue(
            &with(&name),
            "4:9",
            &format!(
                "name `{name}` is too long: the longest name idp derives from it, `{derived}` ({what}), would be {} characters, 1 over the limit of 63",
                derived.len()
            ),
            Some(&format!("in namespace {namespace}, {kind} request's name may have at most {most} characters")),
        );
    }
}

/// A namespace so long that no name fits beside it is refused on its own line.
#[test]
fn a_namespace_no_name_fits_beside_is_refused_on_the_namespace() {
    let namespace = "n".repeat(58);
    let request =
        edit(&edit(APP, "namespace: team-payments", &format!("namespace: {namespace}")), "name: checkout", "name: a");
    assert_single_issue(
        &request,
        "5:14",
        &format!(
            "namespace `{namespace}` is too long for an app request: the longest name idp derives from it, `{namespace}.app.a` (the request label on every manifest), would be 64 characters, 1 over the limit of 63"
        ),
        Some("no name fits in this namespace; a namespace of at most 57 characters leaves room for one"),
    );
}

#[test]
fn namespaces_that_are_not_dns_labels_are_refused() {
    for (written, shown) in [("Team", "Team"), ("../etc", "../etc"), ("t\u{435}am-alpha", "t\u{435}am-alpha")] {
        assert_single_issue(
            &request_with("namespace: team-alpha", &format!("namespace: {written}")),
            "5:14",
            &format!("namespace `{shown}` is not a DNS-1123 label"),
            Some(DNS_HELP),
        );
    }
}

#[test]
fn a_name_that_is_not_a_string_is_refused() {
    assert_single_issue(
        &request_with("name: orders-db", "name: 123"),
        "4:9",
        "`name` must be a string, not an integer",
        Some("write a plain name, quoted if it looks like a number"),
    );
}

/// An unrendered template placeholder is a flow mapping in YAML; it should be refused
/// like any other mapping in a name (`name: {x: {y: 1}}` is), at the name's position.
#[test]
fn an_unrendered_template_placeholder_as_name_is_a_located_type_error() {
    assert_single_issue(
        &request_with("name: orders-db", "name: {{ x }}"),
        "4:9",
        "`name` must be a string, not a mapping",
        Some("write a plain name, quoted if it looks like a number"),
    );
}

// ---------------------------------------------------------------------------------------
// Values the policy defines
// ---------------------------------------------------------------------------------------

const TIERS: &str = "low, medium, critical, business_critical, C0, C1, C2";

#[test]
fn an_unknown_tier_lists_the_tiers_and_suggests_a_near_one() {
    assert_single_issue(
        &request_with("tier: medium", "tier: meduim"),
        "8:9",
        "unknown tier `meduim`",
        Some(&format!("did you mean `medium`? valid values in the policy in force: {TIERS}")),
    );
    assert_single_issue(
        &request_with("tier: medium", "tier: platinum"),
        "8:9",
        "unknown tier `platinum`",
        Some(&format!("valid values in the policy in force: {TIERS}")),
    );
}

#[test]
fn an_unknown_environment_lists_the_environments() {
    assert_single_issue(
        &request_with("environment: production", "environment: qa"),
        "9:16",
        "unknown environment `qa`",
        Some("valid values in the policy in force: dev, staging, production, prod"),
    );
}

#[test]
fn an_environment_alias_is_accepted() {
    let doc = assert_accepted(&request_with("environment: production", "environment: prod"));
    assert_eq!(doc["results"][0]["status"], "create");
}

#[test]
fn an_unknown_size_lists_the_sizes() {
    assert_single_issue(
        &request_with("size: large", "size: huge"),
        "10:9",
        "unknown size `huge`",
        Some("valid values in the policy in force: small, medium, large, xlarge"),
    );
}

#[test]
fn an_unknown_cell_lists_the_cells() {
    assert_single_issue(
        &request_with("cell: cell-us-east", "cell: nowhere"),
        "7:9",
        "unknown cell `nowhere`",
        Some("valid values in the policy in force: cell-us-east, cell-eu, payments"),
    );
}

/// `cell-ap-south` is not a typo of `cell-us-east`: suggesting it would steer a developer
/// to another continent. Only near misses get a suggestion.
#[test]
fn an_unrelated_cell_gets_no_suggestion() {
    assert_single_issue(
        &request_with("cell: cell-us-east", "cell: cell-ap-south"),
        "7:9",
        "unknown cell `cell-ap-south`",
        Some("valid values in the policy in force: cell-us-east, cell-eu, payments"),
    );
}

#[test]
fn a_misspelt_cell_gets_a_suggestion() {
    assert_single_issue(
        &request_with("cell: cell-us-east", "cell: cell-us-eats"),
        "7:9",
        "unknown cell `cell-us-eats`",
        Some("did you mean `cell-us-east`? valid values in the policy in force: cell-us-east, cell-eu, payments"),
    );
}

#[test]
fn an_unknown_dr_profile_lists_the_profiles() {
    assert_single_issue(
        &request_plus("  drProfile: platinum\n"),
        "13:14",
        "unknown drProfile `platinum`",
        Some("valid values in the policy in force: gold, silver, bronze"),
    );
}

#[test]
fn a_dr_profile_weaker_than_the_tier_is_refused_with_the_profiles_that_meet_it() {
    assert_single_issue(
        &request_plus("  drProfile: bronze\n"),
        "13:14",
        "drProfile bronze is weaker than tier medium: RTO 240 min > 120 min",
        Some("drProfiles that meet tier medium: gold, silver"),
    );
}

#[test]
fn a_dr_profile_on_a_tier_without_a_required_secondary_adds_one() {
    let doc = assert_accepted(&request_plus("  drProfile: silver\n"));
    let r = &doc["results"][0];
    assert_eq!(r["reason"]["dr_profile"], "silver");
    assert_eq!(r["secondary"]["provider"], "gcp");
    assert_eq!(r["secondary"]["region"], "us-central1");
}

// ---------------------------------------------------------------------------------------
// Document shape
// ---------------------------------------------------------------------------------------

#[test]
fn a_missing_required_field_is_located_and_explained() {
    let run = plan_failing(request_with("  size: large\n", ""));
    let issues = run.issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0].0, "req.yaml:7:3: spec is missing the required field `size`");
    run.stderr_says("req.yaml:7:3: spec is missing the required field `size`");
    // Every contract error comes with a hint (PRODUCT.md section 2).
    let help = issues[0].1.as_deref().unwrap_or_else(|| panic!("no help for a missing field: {issues:#?}"));
    assert!(help.contains("size"), "help should say how to add `size`: {help}");
}

#[test]
fn an_unknown_api_version_names_the_one_to_use() {
    assert_single_issue(
        &request_with("apiVersion: idp.platform.example.org/v1alpha1", "apiVersion: idp.platform.example.org/v1"),
        "1:13",
        "unknown apiVersion `idp.platform.example.org/v1`",
        Some("requests use apiVersion: idp.platform.example.org/v1alpha1"),
    );
}

#[test]
fn an_unknown_kind_names_the_kinds_idp_places() {
    assert_single_issue(
        &request_with("kind: MySQL", "kind: Postgres"),
        "2:7",
        "unknown kind `Postgres`",
        Some("did you mean `PostgreSQL`? idp places: MySQL, PostgreSQL, Redis, App"),
    );
}

#[test]
fn a_request_that_is_not_a_mapping_is_refused() {
    assert_single_issue(
        "- orders-db\n",
        "1:1",
        "a request is a mapping of fields, not a list",
        Some("see examples/orders-db.yaml"),
    );
}

#[test]
fn an_empty_file_is_refused() {
    for (case, contents) in [("empty", ""), ("only ---", "---\n"), ("only a comment", "# nothing here\n")] {
        let run = plan_failing(contents);
        let doc = run.json();
        assert_eq!(doc["error"]["message"], "req.yaml holds no YAML document", "{case}");
        assert_eq!(doc["error"]["help"], "write at least one document; see examples/orders-db.yaml", "{case}");
        run.stderr_says("req.yaml holds no YAML document");
    }
}

#[test]
fn a_file_that_is_not_utf8_is_refused() {
    let mut contents = REQUEST.as_bytes().to_vec();
    contents.extend_from_slice(b"  # caf\xe9\n");
    let run = plan_failing(contents);
    let doc = run.json();
    // Located at the first invalid byte: line 13, after "  # caf".
    assert_eq!(doc["error"]["message"], "req.yaml:13:8: not UTF-8 text");
    assert_eq!(doc["error"]["help"], "save the file as UTF-8; binary files are not requests");
    run.stderr_says("req.yaml:13:8: not UTF-8 text");
}

#[test]
fn a_nonexistent_path_is_an_error() {
    let env = TestEnv::new();
    let run = env.idp(&["plan", "-f", "missing.yaml", "-o", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["message"], "cannot read missing.yaml: No such file or directory (os error 2)");
    assert_eq!(doc["error"]["help"], "check the path and its permissions");
    run.stderr_says("cannot read missing.yaml").stderr_says("help: check the path and its permissions");
}

// ---------------------------------------------------------------------------------------
// YAML syntax: located like every other problem
// ---------------------------------------------------------------------------------------

#[test]
fn a_duplicate_key_is_located() {
    let run = plan_failing(request_with("  tier: medium\n", "  tier: medium\n  tier: low\n"));
    let messages = messages(&run);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].starts_with("req.yaml:9:3: "), "not located as file:line:column: {}", messages[0]);
    run.stderr_says("help: each key may appear once in a mapping; remove the repeated key");
}

#[test]
fn a_duplicate_key_message_does_not_leak_parser_options() {
    let run = plan_failing(request_with("  tier: medium\n", "  tier: medium\n  tier: low\n"));
    let message = &messages(&run)[0];
    assert!(message.contains("duplicate") && message.contains("tier"), "{message}");
    // DuplicateKeyPolicy is a serde-saphyr option, not something a developer can set.
    assert!(!message.contains("DuplicateKeyPolicy"), "{message}");
    assert!(!unwrapped(&run.stderr).contains("DuplicateKeyPolicy"), "{}", run.stderr);
}

#[test]
fn a_tab_used_for_indentation_is_located() {
    let run = plan_failing(request_with("  name: orders-db", "\tname: orders-db"));
    let messages = messages(&run);
    // The line is what matters; column 1 (the tab) or 2 (after it) both point there.
    assert!(messages[0].starts_with("req.yaml:4:"), "not located as file:line:column: {}", messages[0]);
    run.stderr_says("help: indent YAML with spaces, not tabs");
}

#[test]
fn a_tab_after_a_plain_scalar_is_located_on_its_own_line() {
    let run = plan_failing(request_with("  tier: medium", "\ttier: medium"));
    let messages = messages(&run);
    assert!(messages[0].starts_with("req.yaml:8:"), "the tab is on line 8: {}", messages[0]);
    run.stderr_says("help: indent YAML with spaces, not tabs");
}

// ---------------------------------------------------------------------------------------
// Duplicates and many problems
// ---------------------------------------------------------------------------------------

#[test]
fn the_same_request_twice_in_one_file_is_refused() {
    let run = plan_failing(format!("{REQUEST}---\n{REQUEST}"));
    assert_eq!(
        run.issues(),
        vec![(
            "req.yaml:14:1: mysql team-alpha/orders-db is requested twice (first in req.yaml#1)".to_owned(),
            Some("give each request once per invocation".to_owned())
        )]
    );
}

#[test]
fn the_same_request_in_two_files_is_refused() {
    let env = TestEnv::new();
    let first = env.fixture("orders-db.yaml");
    let second = env.write("copy.yaml", edit(REQUEST, "storageGB: 100", "storageGB: 200"));
    let run = env.idp(&["plan", "-f", &first, "-f", &second, "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.issues(),
        vec![(
            "copy.yaml:1:1: mysql team-alpha/orders-db is requested twice (first in orders-db.yaml)".to_owned(),
            Some("give each request once per invocation".to_owned())
        )]
    );
    run.stderr_says("copy.yaml:1:1: mysql team-alpha/orders-db is requested twice");
}

const MANY_PROBLEMS: [(&str, &str); 7] = [
    ("many-problems.yaml:5:9: name `Orders_DB` is not a DNS-1123 label", DNS_HELP),
    ("many-problems.yaml:8:3: spec is missing the required field `storageGB`", ""),
    (
        "many-problems.yaml:9:9: unknown tier `meduim`",
        "did you mean `medium`? valid values in the policy in force: low, medium, critical, business_critical, C0, C1, C2",
    ),
    ("many-problems.yaml:11:3: `provider` may not be set in a request", PLACEMENT_HELP),
    ("many-problems.yaml:13:3: unknown field `storageGb` in spec", "did you mean `storageGB`?"),
    (
        "many-problems.yaml:15:3: unknown field `extra` in spec",
        "spec accepts: cell, tier, environment, size, storageGB, ha, drProfile",
    ),
    ("many-problems.yaml:16:5: `region` may not be set in a request", PLACEMENT_HELP),
];

#[test]
fn every_problem_of_a_file_is_reported_in_file_order() {
    let env = TestEnv::new();
    let file = env.fixture("many-problems.yaml");
    let run = env.idp(&["plan", "-f", &file, "-o", "json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::request::invalid");
    assert_eq!(doc["error"]["message"], "requests invalid: 7 problems found");
    let messages: Vec<String> = run.issues().into_iter().map(|(m, _)| m).collect();
    assert_eq!(messages, MANY_PROBLEMS.map(|(m, _)| m));
    for (message, help) in MANY_PROBLEMS.iter().filter(|(_, help)| !help.is_empty()) {
        assert!(run.issues().contains(&(message.to_string(), Some(help.to_string()))), "{message}: help {help}");
    }

    // The report on stderr has them all, in the same order.
    let stderr = unwrapped(&run.stderr);
    let positions: Vec<usize> = MANY_PROBLEMS
        .iter()
        .map(|(m, _)| stderr.find(&unwrapped(m)).unwrap_or_else(|| panic!("stderr lacks {m}:\n{}", run.stderr)))
        .collect();
    assert!(positions.is_sorted(), "stderr reports problems out of order:\n{}", run.stderr);
}

#[test]
fn problems_in_several_files_are_all_reported() {
    let env = TestEnv::new();
    let many = env.fixture("many-problems.yaml");
    let other = env.write("other.yaml", request_with("size: large", "size: huge"));
    let run = env.idp(&["plan", "-f", &many, "-f", &other, "-o", "json"]);
    run.code(1);
    assert_eq!(run.json()["error"]["message"], "requests invalid: 8 problems found");
    assert_eq!(run.issues().last().unwrap().0, "other.yaml:10:9: unknown size `huge`");
}

#[test]
fn report_snapshot_of_many_problems() {
    let env = TestEnv::new();
    let file = env.fixture("many-problems.yaml");
    let run = env.idp(&["plan", "-q", "-f", &file]);
    run.code(1);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.stderr);
}
