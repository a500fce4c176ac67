//! The render guard and what Argo CD really decodes (issue 19, items 5–8), end to end:
//! template overrides and rules committed to a real state repo try to make Argo CD apply
//! something other than what idp checked, to deploy from elsewhere, to take another
//! app's public host, or to hang or randomise a plan. Each is refused with a message
//! that names what to fix, exit 1, and the state repo as it was.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{REQUEST, Run, TestEnv, crate_dir, default_policy_text, edit};

const STATE: &str = "state";
const ORDERS_PRIMARY: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml";

/// An app with a public host in cell-us-east (no database): it renders an Argo CD
/// Application per side and claims its host under `hosts/`.
fn app(namespace: &str, name: &str, host: &str) -> String {
    format!(
        "apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: {name}
  namespace: {namespace}
spec:
  cell: cell-us-east
  tier: medium
  environment: production
  image: registry.example.org/shop/web:1.0.0
  traffic:
    publicHost: {host}
"
    )
}

fn state() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

fn embedded_template(name: &str) -> String {
    std::fs::read_to_string(crate_dir().join("templates").join(name)).unwrap()
}

fn commit(env: &TestEnv, rel: &str, text: &str) {
    env.write(&format!("{STATE}/{rel}"), text);
    env.git_in(STATE, &["add", "--all"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", &format!("add {rel}")]);
}

fn error_message(run: &Run) -> String {
    let doc = run.json();
    doc["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {doc:#}")).to_owned()
}

/// `apply`, `plan` and `render` of `request` are refused with `expected` in the message
/// (JSON), exit 1, and the state repo keeps its HEAD and a clean work tree.
fn assert_refused(env: &TestEnv, request: &str, expected: &str) {
    let head = env.head(STATE);
    for command in ["apply", "plan", "render"] {
        let mut args = vec![command, "-f", request, "--repo", STATE, "-o", "json"];
        if command == "apply" {
            args.push("--yes");
        }
        let run = env.idp(&args);
        run.code(1);
        // The error, or one of the located issues of an invalid request.
        let message = error_message(&run);
        let doc = run.json();
        let issues: Vec<&str> =
            doc["error"]["issues"].as_array().into_iter().flatten().filter_map(|i| i["message"].as_str()).collect();
        assert!(
            message.contains(expected) || issues.iter().any(|issue| issue.contains(expected)),
            "{command}: {message} {issues:?}"
        );
    }
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);
}

fn verify_findings(env: &TestEnv) -> Vec<(String, String)> {
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    let report = run.json();
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{report:#}"))
        .iter()
        .map(|f| (f["file"].as_str().unwrap().to_owned(), f["message"].as_str().unwrap().to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// 5. Merge keys, anchors and aliases: every decoder must read what the guard read
// ---------------------------------------------------------------------------------------

/// The example of the issue: explicit keys win over `<<` in idp's reader, a later `<<`
/// wins in sigs.k8s.io/yaml, so the guard would check a claim in team-alpha while Argo CD
/// applied it in kube-system.
#[test]
fn a_template_that_renders_a_merge_key_is_refused_where_it_is() {
    let env = state();
    let claim = embedded_template("data/claim.yaml.j2");
    let anchor = "  namespace: {{ request.namespace | tojson }}\n";
    assert_eq!(claim.matches(anchor).count(), 1, "the claim template changed; update this test");
    let merged = claim.replacen(anchor, &format!("{anchor}  <<: {{namespace: kube-system}}\n"), 1);
    commit(&env, "templates/mysql/claim.yaml.j2", &merged);
    let request = env.write("orders-db.yaml", REQUEST);
    assert_refused(
        &env,
        &request,
        "template mysql/claim.yaml.j2 produced an unsafe manifest: a YAML merge key (`<<`): rendered manifests and the state repo hold plain YAML only",
    );
}

#[test]
fn a_template_that_renders_an_anchor_and_alias_is_refused() {
    let env = state();
    let claim = embedded_template("data/claim.yaml.j2");
    let labels = "  labels:\n";
    assert_eq!(claim.matches(labels).count(), 1, "the claim template changed; update this test");
    commit(&env, "templates/mysql/claim.yaml.j2", &claim.replacen(labels, "  labels: &labels\n", 1));
    let request = env.write("orders-db.yaml", REQUEST);
    assert_refused(&env, &request, "a YAML anchor (`&name`)");
}

/// `verify` reads the repo as Argo CD would have to: a merge key committed by hand is a
/// finding that names the file, line and column.
#[test]
fn verify_flags_a_merge_key_committed_by_hand() {
    let env = state();
    let request = env.write("orders-db.yaml", REQUEST);
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    let claim = env.read(&format!("{STATE}/{ORDERS_PRIMARY}"));
    let namespace = "  namespace: \"team-alpha\"\n";
    assert_eq!(claim.matches(namespace).count(), 1, "{claim}");
    let line = claim[..claim.find(namespace).unwrap()].lines().count() + 2;
    commit(
        &env,
        ORDERS_PRIMARY,
        &claim.replacen(namespace, &format!("{namespace}  <<: {{namespace: kube-system}}\n"), 1),
    );
    let findings = verify_findings(&env);
    let expected = format!(
        "line {line} column 3: a YAML merge key (`<<`): rendered manifests and the state repo hold plain YAML only"
    );
    assert!(
        findings.iter().any(|(file, message)| file == ORDERS_PRIMARY && message.starts_with(&expected)),
        "{findings:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. Argo CD Applications deploy the request's own folder of the state repo, nothing else
// ---------------------------------------------------------------------------------------

#[test]
fn an_application_template_pointing_elsewhere_is_refused() {
    let application = embedded_template("app/application.yaml.j2");
    let cases = [
        ("  project: idp-platform\n", "  project: default\n", "is in project \"default\", not idp's \"idp-platform\""),
        (
            "    repoURL: {{ repo_url | tojson }}\n",
            "    repoURL: \"https://git.example.com/attacker/anything.git\"\n",
            "deploys from \"https://git.example.com/attacker/anything.git\", not the state repo",
        ),
        (
            "    targetRevision: {{ revision | tojson }}\n",
            "    targetRevision: \"attacker-branch\"\n",
            "deploys revision \"attacker-branch\", not the state repo's \"main\"",
        ),
        (
            "    path: {{ workload_path | tojson }}\n",
            "    path: \"workloads/team-other\"\n",
            "deploys path \"workloads/team-other\", not the request's own folder",
        ),
        (
            "    name: {{ runtime_cluster | tojson }}\n",
            "    server: \"https://kubernetes.default.svc\"\n",
            "spec.destination.server is not a field idp writes",
        ),
        (
            "    kustomize:\n",
            "    kustomize:\n      namespace: kube-system\n",
            "spec.source.kustomize.namespace is not a field idp writes",
        ),
    ];
    for (from, to, expected) in cases {
        let env = state();
        assert_eq!(application.matches(from).count(), 1, "the Application template changed; update this test");
        commit(&env, "templates/app/application.yaml.j2", &application.replacen(from, to, 1));
        let request = env.write("web.yaml", app("team-shop", "web", "web.example.org"));
        assert_refused(&env, &request, expected);
    }
}

// ---------------------------------------------------------------------------------------
// 7. Reserved namespaces and public hosts
// ---------------------------------------------------------------------------------------

/// A second app naming a host another app holds is refused, naming the owner; the claim
/// goes with the app that held it, and then the host is free.
#[test]
fn a_public_host_serves_one_app() {
    let env = state();
    let first = env.write("web.yaml", app("team-shop", "web", "shop.example.org"));
    env.idp(&["apply", "-f", &first, "--repo", STATE, "--yes"]).code(0);
    assert_eq!(
        env.read(&format!("{STATE}/hosts/shop.example.org.yaml")),
        "# The public host shop.example.org belongs to this app; idp writes and removes this file with it.\napp: team-shop/web\n"
    );
    let thief = env.write("thief.yaml", app("team-other", "thief", "shop.example.org"));
    assert_refused(
        &env,
        &thief,
        "app team-other/thief: publicHost shop.example.org belongs to app team-shop/web (hosts/shop.example.org.yaml)",
    );
    // Two apps of one plan cannot share a host either.
    let second = env.write("second.yaml", app("team-other", "second", "new.example.org"));
    let third = env.write("third.yaml", app("team-third", "third", "new.example.org"));
    let run = env.idp(&["plan", "-f", &second, "-f", &third, "--repo", STATE, "-o", "json"]);
    run.code(1);
    assert!(error_message(&run).contains("publicHost new.example.org belongs to app team-other/second"));
    // Re-applying the owner changes nothing; verify agrees.
    let run = env.idp(&["plan", "-f", &first, "--repo", STATE, "-o", "json"]);
    run.code(0);
    assert_eq!(run.json()["results"][0]["status"], "exists", "{}", run.stdout);
    assert_eq!(verify_findings(&env), Vec::<(String, String)>::new());
    // The owner moves to another host: the old one is free.
    let moved = env.write("web.yaml", app("team-shop", "web", "shop2.example.org"));
    env.idp(&["apply", "-f", &moved, "--repo", STATE, "--yes"]).code(0);
    assert!(!env.path(&format!("{STATE}/hosts/shop.example.org.yaml")).exists());
    env.idp(&["apply", "-f", &thief, "--repo", STATE, "--yes"]).code(0);
    // Deleting an app frees its host.
    env.idp(&["delete", "app", "team-other/thief", "--repo", STATE, "--yes"]).code(0);
    assert!(!env.path(&format!("{STATE}/hosts/shop.example.org.yaml")).exists());
    assert_eq!(verify_findings(&env), Vec::<(String, String)>::new());
}

/// A reserved namespace is refused by default and accepted once the policy allows it.
#[test]
fn a_reserved_namespace_is_used_only_when_the_policy_allows_it() {
    let env = state();
    let request = env.write("cm.yaml", edit(REQUEST, "namespace: team-alpha", "namespace: cert-manager"));
    assert_refused(&env, &request, "namespace `cert-manager` is reserved for the clusters and the platform");
    let policy = edit(&default_policy_text(), "allowReservedNamespaces: []", "allowReservedNamespaces: [cert-manager]");
    commit(&env, "policy/policy.yaml", &policy);
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
}

// ---------------------------------------------------------------------------------------
// 8. Templates that never end, rules that decide by chance
// ---------------------------------------------------------------------------------------

#[test]
fn a_template_that_never_ends_is_stopped() {
    let env = state();
    let looping = "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}\n";
    commit(&env, "templates/mysql/claim.yaml.j2", looping);
    let request = env.write("orders-db.yaml", REQUEST);
    let started = Instant::now();
    assert_refused(
        &env,
        &request,
        "template mysql/claim.yaml.j2 did more work than a template may (over 100000 steps) and was stopped",
    );
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

#[test]
fn a_rule_that_decides_by_chance_is_refused() {
    let env = state();
    let rule = "package idp\n\ndeny contains \"coin\" if {\n\trand.intn(\"coin\", 2) == 0\n}\n";
    commit(&env, "policy/rules/coin.rego", rule);
    let request = env.write("orders-db.yaml", REQUEST);
    let head = env.head(STATE);
    let run = env.idp(&["plan", "-f", &request, "--repo", STATE, "-o", "json"]);
    run.code(1);
    let message = error_message(&run);
    assert!(message.contains("rand.intn is not available: idp's decisions are deterministic"), "{message}");
    let doc: Value = run.json();
    assert!(doc.to_string().contains("policy/rules/coin.rego:4:"), "{doc:#}");
    assert_eq!(env.head(STATE), head);
}
