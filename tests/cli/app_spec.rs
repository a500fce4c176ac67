//! An app's container as its request says it (issue 20, item 17): env (plain values, or
//! keys of Secrets by reference), resources, command and args, probes. Read back from the
//! committed state repo with `git` and a YAML reader, built with `kubectl kustomize` as
//! Argo CD builds a workload folder, and scanned by `idp verify`.

use serde_json::{Value, json};

use crate::common::{TestEnv, crate_dir, snapshot_settings, yaml_documents};

const STATE: &str = "state";

/// An App request of the payments cell (C0: a secondary on another cloud, and a traffic
/// record with its health check), `extra` lines appended to its spec.
fn app(image: &str, extra: &str) -> String {
    format!(
        "apiVersion: idp.platform.example.org/v1alpha1
kind: App
metadata:
  name: web
  namespace: team-web
spec:
  cell: payments
  tier: C0
  environment: prod
  image: {image}
  traffic:
    publicHost: web.payments.example.org
{extra}"
    )
}

fn state() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

/// Every YAML document committed at HEAD, with its path.
fn committed(env: &TestEnv) -> Vec<(String, Value)> {
    env.git_in(STATE, &["ls-files"])
        .lines()
        .filter(|path| path.ends_with(".yaml"))
        .flat_map(|path| {
            let text = env.git_in(STATE, &["show", &format!("HEAD:{path}")]);
            yaml_documents(&text).into_iter().map(move |doc| (path.to_owned(), doc))
        })
        .collect()
}

/// What the API server's schema of apps/v1 Deployment refuses in `doc`: Kubernetes 1.37's,
/// strict (no unknown field), pinned in tests/fixtures/crds/kubernetes (its README row).
fn deployment_violations(doc: &Value) -> Vec<String> {
    let path = crate_dir().join("tests/fixtures/crds/kubernetes/deployment-apps-v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the pinned schema compiles");
    validator.iter_errors(doc).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// The app container of each side's Deployment, primary first; every Deployment passes
/// the Kubernetes schema.
fn containers(docs: &[(String, Value)]) -> Vec<Value> {
    for (path, doc) in docs.iter().filter(|(_, d)| d["kind"] == "Deployment") {
        let violations = deployment_violations(doc);
        assert!(violations.is_empty(), "{path}: {violations:#?}");
    }
    let mut found: Vec<(String, Value)> = docs
        .iter()
        .filter(|(_, d)| d["kind"] == "Deployment")
        .map(|(path, d)| (path.clone(), d["spec"]["template"]["spec"]["containers"][0].clone()))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found.len(), 2, "a Deployment per side: {found:#?}");
    found.into_iter().map(|(_, c)| c).collect()
}

/// The path the traffic provider's health check asks (oci-dns, the default: an HTTPMonitor).
fn health_check_path(docs: &[(String, Value)]) -> Value {
    let monitors: Vec<&Value> = docs.iter().map(|(_, d)| d).filter(|d| d["kind"] == "HTTPMonitor").collect();
    assert_eq!(monitors.len(), 1, "{monitors:#?}");
    monitors[0]["spec"]["forProvider"]["path"].clone()
}

fn apply(env: &TestEnv, text: &str) {
    let file = env.write("web.yaml", text);
    env.idp(&["apply", "-f", &file, "--repo", STATE, "--yes"]).code(0);
}

/// A request that names none of the new fields renders what it always did: the Deployment
/// of the example app, byte for byte as idp rendered it before requests could say more
/// (this snapshot was compared with the previous binary's `idp render` of the same file).
#[test]
fn an_app_without_container_settings_renders_as_before() {
    let env = state();
    let db = env.example("payments-c0.json");
    env.idp(&["apply", "mysql", "-f", &db, "--repo", STATE, "--yes"]).code(0);
    let app = env.example("payments-app.yaml");
    let run = env.idp(&["render", "-f", &app, "--repo", STATE]);
    run.code(0);
    let deployment = run
        .stdout
        .split("---\n")
        .find(|part| part.starts_with("# Source: workloads/team-payments/checkout/primary/deployment.yaml"))
        .expect("the primary Deployment");
    snapshot_settings().bind(|| insta::assert_snapshot!("checkout_primary_deployment", deployment));
    let parsed = yaml_documents(deployment);
    assert_eq!(deployment_violations(&parsed[0]), Vec::<String>::new());
    // The schema is no formality: it refuses what the kubelet would not read.
    for (pointer, wrong) in [
        ("/spec/template/spec/containers/0/resources/requests/cpu", json!(["1"])),
        ("/spec/template/spec/containers/0/readinessProbe/httpGet/path", json!(7)),
        ("/spec/template/spec/containers/0/env", json!([{"name": "A", "valueFrom": {"secretRef": {"name": "s"}}}])),
        ("/spec/template/spec/containers/0/args", json!("--listen")),
    ] {
        let mut bad = parsed[0].clone();
        match bad.pointer_mut(pointer) {
            Some(slot) => *slot = wrong,
            None => bad["spec"]["template"]["spec"]["containers"][0][pointer.rsplit('/').next().unwrap()] = wrong,
        }
        assert!(!deployment_violations(&bad).is_empty(), "{pointer} taken");
    }
    let container = &parsed[0]["spec"]["template"]["spec"]["containers"][0];
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(container[probe]["httpGet"], json!({"path": "/healthz", "port": "http"}), "{probe}");
    }
    assert!(container.get("env").is_none() && container.get("command").is_none() && container.get("args").is_none());
    // The stored request has no field it did not write.
    env.idp(&["apply", "-f", &app, "--repo", STATE, "--yes"]).code(0);
    let stored = env.git_in(STATE, &["show", "HEAD:requests/team-payments/app-checkout.yaml"]);
    for field in ["env", "resources", "command", "args", "probes", "livenessPath", "healthPath"] {
        assert!(!stored.contains(&format!("{field}:")), "{field} in\n{stored}");
    }
}

/// Every field, written once: each side's Deployment carries it as written, the readiness
/// probe and the traffic health check ask the same path, the workload folder builds with
/// kustomize, `verify` finds no secret (a Secret is named, never its value), and applying
/// the same request again changes nothing (the stored form reads back as the request).
#[test]
fn every_container_setting_reaches_both_sides_deployments() {
    let env = state();
    let request = app(
        "registry.example.org/team-web/web:2.1.0",
        r#"  port: 8080
  healthPath: /ready
  livenessPath: /live
  command: [/app/web]
  args: ["--listen", ":8080", "--motd", "a: {b} # not a comment"]
  env:
    - name: LOG_LEVEL
      value: debug
    - name: GREETING
      value: "it's \"quoted\": [x]"
    - name: DB_PASSWORD
      valueFrom:
        secretKeyRef: {name: web-db, key: password}
  resources:
    requests: {cpu: 250m, memory: 256Mi}
    limits: {cpu: 1.5, memory: 1Gi}
"#,
    );
    apply(&env, &request);
    let docs = committed(&env);
    for container in containers(&docs) {
        assert_eq!(container["command"], json!(["/app/web"]));
        assert_eq!(container["args"], json!(["--listen", ":8080", "--motd", "a: {b} # not a comment"]));
        assert_eq!(
            container["env"],
            json!([
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "GREETING", "value": "it's \"quoted\": [x]"},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "password"}}},
            ])
        );
        assert_eq!(
            container["resources"],
            json!({"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1.5", "memory": "1Gi"}})
        );
        assert_eq!(container["readinessProbe"]["httpGet"], json!({"path": "/ready", "port": "http"}));
        assert_eq!(container["livenessProbe"]["httpGet"], json!({"path": "/live", "port": "http"}));
    }
    assert_eq!(health_check_path(&docs), "/ready", "the traffic health check asks the readiness path");

    let verify = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    verify.code(0);
    assert_eq!(verify.json()["findings"], json!([]), "{}", verify.stdout);

    let stored = yaml_documents(&env.git_in(STATE, &["show", "HEAD:requests/team-web/app-web.yaml"]));
    assert_eq!(stored[0]["spec"]["env"][2]["valueFrom"]["secretKeyRef"]["name"], "web-db");
    assert_eq!(stored[0]["spec"]["resources"]["limits"]["cpu"], "1.5");
    let file = env.write("web.yaml", &request);
    env.idp(&["plan", "-f", &file, "--repo", STATE, "--detailed-exitcode"]).code(0);

    // Argo CD builds each side's folder with kustomize: it builds, and holds the Deployment as committed.
    if std::process::Command::new("kubectl").args(["version", "--client"]).output().is_err() {
        eprintln!("skipped the kustomize build: no kubectl on PATH");
        return;
    }
    for side in ["primary", "secondary"] {
        let folder = format!("workloads/team-web/web/{side}");
        let dir = tempfile::tempdir().unwrap();
        for path in env.git_in(STATE, &["ls-files", &folder]).lines() {
            let name = path.rsplit('/').next().unwrap();
            std::fs::write(dir.path().join(name), env.git_in(STATE, &["show", &format!("HEAD:{path}")])).unwrap();
        }
        let out = std::process::Command::new("kubectl").arg("kustomize").arg(dir.path()).output().unwrap();
        assert!(out.status.success(), "{side}: {}", String::from_utf8_lossy(&out.stderr));
        let built = yaml_documents(&String::from_utf8(out.stdout).unwrap());
        let deployment = docs
            .iter()
            .find(|(path, d)| path.starts_with(&folder) && d["kind"] == "Deployment")
            .map(|(_, d)| d)
            .unwrap();
        assert!(built.contains(deployment), "{side}: kustomize changed the Deployment: {built:#?}");
    }
}

/// An image that serves no health path (nginx serves `/`, not `/healthz`) becomes Ready with
/// `probes: tcp` (the port accepting connections) or `probes: none`; the traffic health check
/// then asks `/`, or the healthPath the request names. Without `probes`, /healthz as before.
#[test]
fn an_image_without_a_health_path_is_probed_on_its_port_or_not_at_all() {
    for (extra, readiness, health_check) in [
        ("", Some(json!({"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10})), "/healthz"),
        ("  probes: tcp\n", Some(json!({"tcpSocket": {"port": "http"}, "periodSeconds": 10})), "/"),
        (
            "  probes: tcp\n  healthPath: /index.html\n",
            Some(json!({"tcpSocket": {"port": "http"}, "periodSeconds": 10})),
            "/index.html",
        ),
        ("  probes: none\n", None, "/"),
    ] {
        let env = state();
        apply(&env, &app("nginx:1.27", &format!("  port: 8080\n{extra}")));
        let docs = committed(&env);
        for container in containers(&docs) {
            assert_eq!(container.get("readinessProbe"), readiness.as_ref(), "{extra}");
            match &readiness {
                Some(_) if container["readinessProbe"].get("tcpSocket").is_some() => {
                    assert_eq!(
                        container["livenessProbe"],
                        json!({"tcpSocket": {"port": "http"}, "initialDelaySeconds": 10, "periodSeconds": 20})
                    );
                }
                Some(_) => assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz"),
                None => assert!(container.get("livenessProbe").is_none(), "{container:#}"),
            }
        }
        assert_eq!(health_check_path(&docs), health_check, "{extra}");
    }
}

/// A secret written into a request is refused on its line, and never repeated: not in the
/// message, not in the report's snippet of the line (starred out), not in the JSON error,
/// whatever the colour (a CI log must not get a copy).
#[test]
fn a_secret_in_a_request_is_refused_without_being_repeated() {
    let env = state();
    for (extra, says) in [
        ("  env:\n    - name: API_TOKEN\n      value: hunter2\n", "env `API_TOKEN` is named like a secret"),
        (
            "  env:\n    - name: DSN\n      value: mysql://app:hunter2@db/x\n",
            "env `DSN` value holds a URL with a password",
        ),
        ("  args: [\"--dsn=mysql://app:hunter2@db/x\"]\n", "args[0] holds a URL with a password in it"),
    ] {
        let file = env.write("web.yaml", app("registry.example.org/team-web/web:2.1.0", extra));
        for args in [&["-o", "json"][..], &["--color", "never"], &["--color", "always"]] {
            let mut all = vec!["plan", "-f", &file, "--repo", STATE];
            all.extend_from_slice(args);
            let run = env.idp(&all);
            run.code(1);
            assert!(run.stdout.contains(says) || run.stderr.contains(says), "{extra}: {}{}", run.stdout, run.stderr);
            assert!(
                !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
                "{extra} {args:?}: {}",
                run.stderr
            );
        }
    }
}

/// The example of docs/requests.md for an image without a health path plans as it says.
#[test]
fn the_web_app_example_plans_with_tcp_probes() {
    let env = state();
    let example = env.example("web-app.yaml");
    let run = env.idp(&["render", "-f", &example, "--repo", STATE]);
    run.code(0);
    let docs = yaml_documents(&run.stdout);
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").expect("a Deployment");
    assert_eq!(deployment_violations(deployment), Vec::<String>::new());
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["tcpSocket"], json!({"port": "http"}));
    assert_eq!(container["env"][1]["valueFrom"]["secretKeyRef"], json!({"name": "storefront-api", "key": "token"}));
    assert_eq!(
        container["resources"],
        json!({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}})
    );
}
