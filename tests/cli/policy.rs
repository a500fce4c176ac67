//! `idp policy show` and `idp policy validate`, on the built-in policy and on files.

use serde_json::json;

use crate::common::{POLICY_VERSION, TestEnv, default_policy_text, digest, edit, snapshot_settings};

const MEDIUM_WEIGHTS: &str = "    weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.25 }";

/// The default policy with the medium tier's weights summing to 1.05, and the line they are on.
fn policy_with_bad_weights() -> (String, usize) {
    let text = edit(
        &default_policy_text(),
        MEDIUM_WEIGHTS,
        "    weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.30 }",
    );
    let line = text.lines().position(|l| l.contains("cost: 0.30")).unwrap() + 1;
    (text, line)
}

/// The whitespace-separated cells of the table row starting with `first_cell`.
fn cells<'a>(table: &'a str, first_cell: &str) -> Vec<&'a str> {
    let rows: Vec<&str> = table.lines().filter(|l| l.split_whitespace().next() == Some(first_cell)).collect();
    assert_eq!(rows.len(), 1, "expected one row starting with {first_cell}:\n{table}");
    rows[0].split_whitespace().collect()
}

/// The table of `policy show` whose header's second column is `second_header`.
fn table<'a>(out: &'a str, second_header: &str) -> &'a str {
    out.split("\n\n")
        .find(|t| t.split_whitespace().nth(1) == Some(second_header))
        .unwrap_or_else(|| panic!("no table with a {second_header} column:\n{out}"))
}

#[test]
fn show_lists_tiers_candidates_and_profiles() {
    let env = TestEnv::new();
    let run = env.idp(&["policy", "show"]);
    run.code(0);
    let out = &run.stdout;
    let short_digest = &digest(default_policy_text().as_bytes())[..19];
    assert_eq!(
        out.lines().next().unwrap(),
        format!("policy {POLICY_VERSION} ({short_digest}) from the built-in default policy")
    );
    assert_eq!(cells(out, "TIER")[..3], ["TIER", "RTO", "RPO"]);
    for tier in ["low", "medium", "critical", "business_critical", "C0", "C1", "C2"] {
        cells(out, tier);
    }
    assert_eq!(
        cells(out, "medium"),
        [
            "medium",
            "120",
            "min",
            "900",
            "s",
            "pitr,private_networking",
            "0.25",
            "0.25",
            "0.25",
            "0.25",
            "optional",
            "(pitr,private_networking)",
            "-"
        ]
    );
    let candidates = table(out, "CAPABILITIES");
    let clusters = table(out, "DEV");
    assert_eq!(cells(clusters, "PROVIDER/REGION"), ["PROVIDER/REGION", "DEV", "STAGING", "PRODUCTION"]);
    for candidate in [
        "aws/us-east-1",
        "aws/eu-west-1",
        "aws/us-west-2",
        "gcp/us-central1",
        "gcp/europe-west1",
        "oci/us-ashburn-1",
        "oci/eu-frankfurt-1",
    ] {
        cells(candidates, candidate);
        cells(clusters, candidate);
    }
    assert_eq!(
        cells(candidates, "oci/us-ashburn-1"),
        ["oci/us-ashburn-1", "pitr,private_networking", "0.8", "0.7", "0.65", "0.85", "open"]
    );
    // Each environment's apps run on its own cluster.
    assert_eq!(
        cells(clusters, "oci/us-ashburn-1"),
        ["oci/us-ashburn-1", "oci-iad-dev-01", "oci-iad-stg-01", "oci-iad-prod-01"]
    );
    assert_eq!(cells(out, "gold"), ["gold", "warm", "goldengate-cdc", "dns-failover", "15", "min", "30", "s"]);
    assert_eq!(cells(out, "environments").join(" "), "environments dev, staging, production (alias prod)");
}

#[test]
fn show_json_carries_the_policy_with_its_tiers_in_policy_order() {
    let env = TestEnv::new();
    let run = env.idp(&["policy", "show", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["version"], POLICY_VERSION);
    assert_eq!(doc["digest"], digest(default_policy_text().as_bytes()).as_str());
    assert_eq!(doc["origin"], "the built-in default policy");
    let tiers = doc["policy"]["tiers"].as_object().expect("policy.tiers is an object");
    assert_eq!(tiers.keys().collect::<Vec<_>>(), ["low", "medium", "critical", "business_critical", "C0", "C1", "C2"]);
    assert_eq!(tiers["medium"]["rtoMinutes"], 120);
    assert_eq!(tiers["medium"]["weights"], json!({ "latency": 0.25, "dr": 0.25, "maturity": 0.25, "cost": 0.25 }));
    let candidates = doc["policy"]["candidates"].as_array().expect("policy.candidates is an array");
    assert_eq!(candidates.len(), 7);
    assert_eq!(candidates[0]["runtimeCluster"], "aws-use1-prod-01");

    // Traffic: a default provider, the ingress domain, and per provider the kinds it may write.
    let traffic = &doc["policy"]["traffic"];
    let keys: Vec<&String> = traffic.as_object().expect("policy.traffic is an object").keys().collect();
    assert_eq!(keys, ["defaultProvider", "ingressDomain", "gateway", "providers"]);
    assert_eq!(traffic["defaultProvider"], "oci-dns");
    assert_eq!(traffic["ingressDomain"], "apps.example.org");
    assert_eq!(traffic["gateway"], json!({"name": "public", "namespace": "gateway-system"}));
    let kinds = |provider: &str| -> Vec<(String, String, bool)> {
        traffic["providers"][provider]["kinds"]
            .as_array()
            .unwrap_or_else(|| panic!("no kinds for {provider}: {traffic:#}"))
            .iter()
            .map(|k| {
                (k["apiVersion"].as_str().unwrap().to_owned(), k["kind"].as_str().unwrap().to_owned(), {
                    k["namespaced"].as_bool().unwrap()
                })
            })
            .collect()
    };
    let providers: Vec<&String> = traffic["providers"].as_object().unwrap().keys().collect();
    assert_eq!(providers, ["oci-dns", "route53", "cloudflare"]);
    let own = |group: &str, names: &[&str]| -> Vec<(String, String, bool)> {
        names.iter().map(|k| (group.to_owned(), (*k).to_owned(), false)).collect()
    };
    let mut oci = own("healthchecks.oci.upbound.io/v1alpha1", &["HTTPMonitor"]);
    oci.extend(own("dns.oci.upbound.io/v1alpha1", &["SteeringPolicy", "SteeringPolicyAttachment"]));
    assert_eq!(kinds("oci-dns"), oci);
    assert_eq!(kinds("route53"), own("route53.aws.upbound.io/v1beta1", &["HealthCheck", "Record"]));
    assert_eq!(
        kinds("cloudflare"),
        own("loadbalancer.cloudflare.upbound.io/v1alpha1", &["Monitor", "Pool", "LoadBalancer"])
    );
    assert_eq!(doc["policy"]["gitops"]["repoURL"], "https://git.example.org/platform/idp-state.git");
}

#[test]
fn validate_checks_the_traffic_providers_a_policy_names() {
    let env = TestEnv::new();
    // A cell may pick another known provider.
    let route53 = edit(&default_policy_text(), "  cell-eu:\n", "  cell-eu:\n    trafficProvider: route53\n");
    let file = env.write("route53.yaml", &route53);
    env.idp(&["policy", "validate", &file]).code(0);
    let doc = env.idp(&["policy", "show", "--policy", &file, "-o", "json"]).code(0).json();
    assert_eq!(doc["policy"]["cells"]["cell-eu"]["trafficProvider"], "route53");

    // An unknown one, in a cell or as the default, is refused where it is written.
    let unknown = edit(&default_policy_text(), "  cell-eu:\n", "  cell-eu:\n    trafficProvider: akamai\n");
    let line = unknown.lines().position(|l| l.contains("akamai")).unwrap() + 1;
    let file = env.write("unknown.yaml", &unknown);
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    let messages: Vec<String> = run.issues().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        messages,
        [format!("unknown.yaml:{line}:22: unknown traffic provider `akamai` (valid: oci-dns, route53, cloudflare)")]
    );

    let default = edit(&default_policy_text(), "  defaultProvider: oci-dns\n", "  defaultProvider: akamai\n");
    let line = default.lines().position(|l| l.contains("akamai")).unwrap() + 1;
    let file = env.write("default.yaml", &default);
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    let messages: Vec<String> = run.issues().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        messages,
        [format!("default.yaml:{line}:20: default traffic provider `akamai` is not in traffic.providers")]
    );
}

#[test]
fn show_with_a_policy_file_shows_that_file() {
    let env = TestEnv::new();
    let text = edit(
        &default_policy_text(),
        MEDIUM_WEIGHTS,
        "    weights: { latency: 0.20, dr: 0.20, maturity: 0.20, cost: 0.40 }",
    );
    let file = env.write("cost-first.yaml", &text);
    let run = env.idp(&["policy", "show", "--policy", &file, "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["digest"], digest(text.as_bytes()).as_str());
    assert_eq!(doc["policy"]["tiers"]["medium"]["weights"]["cost"], 0.4);
    assert!(doc["origin"].as_str().unwrap().contains("cost-first.yaml"), "{}", doc["origin"]);
}

#[test]
fn show_snapshot() {
    let env = TestEnv::new();
    let run = env.idp(&["policy", "show"]);
    run.code(0);
    snapshot_settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn validate_accepts_the_built_in_policy() {
    let env = TestEnv::new();
    let run = env.idp(&["policy", "validate"]);
    run.code(0);
    let expected_digest = digest(default_policy_text().as_bytes());
    assert_eq!(
        run.stdout,
        format!(
            "✓ the built-in default policy is valid: version {POLICY_VERSION}, {expected_digest}\n\
             ✓ product mysql (policy/products/mysql/product.yaml (built-in))\n\
             ✓ product postgres (policy/products/postgres/product.yaml (built-in))\n\
             ✓ product redis (policy/products/redis/product.yaml (built-in))\n\
             ✓ product app (policy/products/app/product.yaml (built-in))\n"
        )
    );
    let doc = env.idp(&["policy", "validate", "-o", "json"]).code(0).json();
    assert_eq!(
        doc,
        json!({
            "valid": true,
            "origin": "the built-in default policy",
            "version": POLICY_VERSION,
            "digest": expected_digest,
            "products": [
                "mysql (policy/products/mysql/product.yaml (built-in))",
                "postgres (policy/products/postgres/product.yaml (built-in))",
                "redis (policy/products/redis/product.yaml (built-in))",
                "app (policy/products/app/product.yaml (built-in))",
            ],
        })
    );
}

#[test]
fn validate_accepts_a_valid_file() {
    let env = TestEnv::new();
    let file = env.write("policy.yaml", default_policy_text());
    let run = env.idp(&["policy", "validate", &file]);
    run.code(0);
    assert!(run.stdout.starts_with("✓ policy.yaml is valid: version 2026.11.0, sha256:"), "{}", run.stdout);
}

#[test]
fn validate_refuses_weights_that_do_not_sum_to_one_at_their_location() {
    let env = TestEnv::new();
    let (text, line) = policy_with_bad_weights();
    let file = env.write("policy.yaml", text);
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    let expected = format!("policy.yaml:{line}:5: weights of tier medium sum to 1.05, not 1");
    assert_eq!(
        run.issues(),
        vec![(expected.clone(), Some("weights are shares of the total score; make them add up to 1".to_owned()))]
    );
    run.stderr_says(&expected).stderr_says("help: weights are shares of the total score; make them add up to 1");
    // Without -o json, the same in the report and nothing on stdout.
    let run = env.idp(&["policy", "validate", &file]);
    run.code(1);
    assert_eq!(run.stdout, "");
    run.stderr_says(&expected);
}

#[test]
fn validate_reports_every_problem_in_file_order() {
    let env = TestEnv::new();
    let (text, weights_line) = policy_with_bad_weights();
    let text = edit(
        &text,
        "    gates: [pitr, multi_az, private_networking]\n    weights: { latency: 0.30",
        "    gates: [pitr, multi_az, private_network]\n    weights: { latency: 0.30",
    );
    let gates_line = text.lines().position(|l| l.contains("private_network]")).unwrap() + 1;
    let file = env.write("policy.yaml", text);
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    let messages: Vec<String> = run.issues().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        messages,
        [
            format!(
                "policy.yaml:{gates_line}:5: unknown gate capability `private_network` (valid: pitr, multi_az, \
                 private_networking, cross_region_replication)"
            ),
            format!("policy.yaml:{weights_line}:5: weights of tier medium sum to 1.05, not 1"),
        ]
    );
    assert_eq!(run.json()["error"]["message"], "policy.yaml: the policy has 2 problems");
}

#[test]
fn validate_refuses_a_file_that_is_not_a_policy_with_a_clean_located_message() {
    let env = TestEnv::new();
    let file = env.write("policy.yaml", "version: \"1\"\n");
    let run = env.idp(&["policy", "validate", &file, "-o", "json"]);
    run.code(1);
    let issues = run.issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let message = &issues[0].0;
    assert!(message.starts_with("policy.yaml:1:1: "), "{message}");
    assert!(message.contains("apiVersion"), "{message}");
    // The location is said once, and the parser's own "error:" prefix is not passed on.
    assert!(!message.contains("line 1 column 1"), "location said twice: {message}");
    assert!(!message.contains("error:"), "parser prefix leaked: {message}");
}

#[test]
fn validate_of_a_missing_file_is_an_error() {
    let env = TestEnv::new();
    let run = env.idp(&["policy", "validate", "nope.yaml", "-o", "json"]);
    run.code(1);
    assert_eq!(run.json()["error"]["message"], "cannot read nope.yaml: No such file or directory (os error 2)");
    run.stderr_says("cannot read nope.yaml");
}

/// `policy show` says which candidates are cordoned (no new placements), in the table
/// and in JSON.
#[test]
fn show_marks_cordoned_candidates() {
    let env = TestEnv::new();
    let policy = edit(
        &default_policy_text(),
        "    runtimeCluster: aws-use1-prod-01\n",
        "    runtimeCluster: aws-use1-prod-01\n    cordoned: true\n",
    );
    let file = env.write("policy.yaml", policy);
    let shown = env.idp(&["policy", "show", "--policy", &file]).code(0).stdout.clone();
    let candidates = table(&shown, "CAPABILITIES");
    assert_eq!(cells(candidates, "aws/us-east-1").last(), Some(&"cordoned"), "{shown}");
    assert_eq!(cells(candidates, "aws/eu-west-1").last(), Some(&"open"), "{shown}");
    let doc = env.idp(&["policy", "show", "--policy", &file, "-o", "json"]).code(0).json();
    let cordoned: Vec<&str> = doc["policy"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cordoned"] == true)
        .map(|c| c["region"].as_str().unwrap())
        .collect();
    assert_eq!(cordoned, ["us-east-1"]);
}

/// No Rego test at all is a warning: nothing was checked. `--strict` (for CI) makes it
/// a failure.
#[test]
fn policy_test_without_tests_warns_and_fails_with_strict() {
    let env = TestEnv::new();
    env.init_state("state");
    let run = env.idp(&["policy", "test", "--repo", "state"]);
    run.code(0);
    run.stderr_says("warning: no Rego tests found");
    let run = env.idp(&["policy", "test", "--repo", "state", "--strict"]);
    run.code(1);
    run.stderr_says("no Rego tests found");
}

/// The policy is read at HEAD; uncommitted edits to it are not in force, and idp says so
/// (with the flag that previews them) instead of silently using the committed one.
#[test]
fn uncommitted_policy_edits_are_named_and_the_preview_flag_given() {
    let env = TestEnv::new();
    env.init_state("state");
    let request = env.fixture("orders-db.yaml");
    let policy = env.read("state/policy/policy.yaml");
    env.write("state/policy/policy.yaml", format!("{policy}# an edit under review\n"));
    for args in [
        &["plan", "-f", request.as_str(), "--repo", "state"][..],
        &["verify", "--repo", "state"],
        &["policy", "show", "--repo", "state"],
        &["policy", "test", "--repo", "state"],
    ] {
        let run = env.idp(args);
        run.stderr_says("uncommitted edits to policy/policy.yaml are not used: this uses the policy, rules and product definitions at HEAD");
        run.stderr_says("to preview them, pass --policy state/policy/policy.yaml");
    }
    let run = env.idp(&["plan", "-f", &request, "--repo", "state", "--policy", "state/policy/policy.yaml"]);
    run.code(0);
    assert!(!run.stderr.contains("uncommitted edits"), "{}", run.stderr);

    // Read from the work tree against HEAD, not from the index: an edit
    // undone is none, a new file is one.
    env.write("state/policy/policy.yaml", &policy);
    env.write("state/policy/rules/extra.rego", "package idp\n");
    let run = env.idp(&["plan", "-f", &request, "--repo", "state"]);
    run.code(0).stderr_says("uncommitted edits to policy/rules/extra.rego are not used");
    std::fs::remove_file(env.path("state/policy/rules/extra.rego")).unwrap();
    let run = env.idp(&["plan", "-f", &request, "--repo", "state"]);
    assert!(!run.code(0).stderr.contains("uncommitted edits"), "{}", run.stderr);
}

/// `idp policy cordon` is the one-line policy change as a reviewed commit: the line is
/// added under the candidate (everything else byte-identical, read back with git), the
/// commit carries the action, candidate and reason, new placements skip it while the
/// placed request stays, and `uncordon` gives back the exact file. Doing it twice changes
/// nothing; an unknown candidate is refused with nothing written.
#[test]
fn cordon_and_uncordon_commit_one_line_of_the_policy() {
    let env = TestEnv::new();
    env.init_state("state");
    let request = env.fixture("orders-db.yaml");
    env.idp(&["apply", "-f", &request, "--repo", "state", "--yes"]).code(0);
    let before = env.git(&["-C", "state", "show", "HEAD:policy/policy.yaml"]);
    let json = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--repo", "state", "--yes", "-o", "json"]);
        env.idp(&all)
    };

    let doc = json(&["policy", "cordon", "aws/us-east-1", "--reason", "INC-1234: degraded"]).code(0).json();
    assert_eq!((doc["action"].as_str(), doc["placed"].as_u64()), (Some("cordon"), Some(1)), "{doc:#}");
    let after = env.git(&["-C", "state", "show", "HEAD:policy/policy.yaml"]);
    let diff = env.git(&["-C", "state", "diff", "-U0", "HEAD~1", "HEAD", "--", "policy/policy.yaml"]);
    assert_eq!(after.lines().count(), before.lines().count() + 1);
    assert!(diff.contains("\n+    cordoned: true\n"), "{diff}");
    let message = env.git(&["-C", "state", "log", "-1", "--format=%B"]);
    for line in [
        "idp: cordon aws/us-east-1",
        "Reason: INC-1234: degraded",
        "Idp-Action: cordon",
        "Idp-Candidate: aws/us-east-1",
    ] {
        assert!(message.contains(line), "{line}:\n{message}");
    }
    let head = env.head("state");
    assert_eq!(json(&["policy", "cordon", "aws/us-east-1"]).code(0).json()["commit"], serde_json::Value::Null);
    assert_eq!(env.head("state"), head, "cordoning twice commits nothing");

    // New placements skip it; the placed request stays where it is.
    let other = env.write("other.yaml", env.read(&request).replace("name: orders-db", "name: other-db"));
    let plan = env.idp(&["plan", "-f", &other, "--repo", "state", "-o", "json"]).code(0).json();
    assert_ne!(plan["results"][0]["placement"]["region"], "us-east-1", "{plan:#}");
    let status = env.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", "state", "-o", "json"]).code(0).json();
    assert_eq!(status["placement"]["region"], "us-east-1");

    json(&["policy", "uncordon", "aws/us-east-1"]).code(0);
    assert_eq!(env.git(&["-C", "state", "show", "HEAD:policy/policy.yaml"]), before, "uncordon restores the file");

    let head = env.head("state");
    let run = json(&["policy", "cordon", "aws/mars-1"]);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "idp::policy::edit");
    assert_eq!(env.head("state"), head);
}

/// `policy diff` names what it could not read as a policy, with a code of its own (not
/// rollback's), and `status` outside a state repo does not claim the command writes.
#[test]
fn policy_diff_and_read_commands_say_what_is_missing_in_their_own_words() {
    let env = TestEnv::new();
    env.init_state("state");
    let run = env.idp(&["policy", "diff", "HEAD", "nosuch", "--repo", "state", "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::policy::revision", "{error:#}");
    assert_eq!(error["message"], "`nosuch` is neither a policy file nor a revision of the state repo");
    let run = env.idp(&["status", "mysql", "team-alpha/orders-db", "-o", "json"]);
    run.code(1);
    assert_eq!(run.json()["error"]["message"], "there is no state repo here");
}

/// A scheduling error is said once: the request's words, then the schedule's, not the
/// schedule's again as a "cause".
#[test]
fn explain_says_a_scheduling_error_once() {
    let env = TestEnv::new();
    let run = env.idp(&["policy", "explain", "critical", "--dr-profile", "nope"]);
    run.code(1);
    assert_eq!(run.stderr.matches("drProfile `nope` is not defined by the policy").count(), 1, "{}", run.stderr);
    run.stderr_says("tier critical: drProfile `nope` is not defined by the policy");
}
