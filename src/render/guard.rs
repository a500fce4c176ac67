//! The parse-back guard: rendered text is read again as YAML and checked
//! before it can be written. It trusts nothing about the template.

use crate::names;
use crate::policy::Policy;
use crate::product::ClaimRef;
use crate::request::Request;
use crate::yaml::{self, Node, Value};

/// Where Argo CD runs; its Applications live there.
pub const ARGOCD_NAMESPACE: &str = "argocd";

/// The Argo CD project `idp init` writes (bootstrap/argocd/appproject.yaml):
/// every Application idp renders belongs to it.
pub const ARGOCD_PROJECT: &str = "idp-platform";

/// Where a kind's objects must live.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the request's namespace.
    Request,
    /// In Argo CD's namespace (Applications).
    ArgoCd,
    /// Cluster-scoped: no namespace at all.
    Cluster,
}

/// `(apiVersion, kind)` pairs idp itself may write, and where they live.
/// Traffic providers add theirs in the policy; a data product's claim kind
/// is its definition's (its XRD's), for its own requests only.
pub const ALLOWED_KINDS: &[(&str, &str)] = &[
    ("platform.example.org/v1alpha1", "ReplicationClaim"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("argoproj.io/v1alpha1", "Application"),
    // An app's database secrets, copied to its runtime clusters by the External
    // Secrets Operator: names only, in the app's namespace on the management cluster.
    // v1alpha1 is the one version external-secrets v2.9.0 serves for PushSecret
    // (config/crds/bases/external-secrets.io_pushsecrets.yaml).
    ("external-secrets.io/v1alpha1", "PushSecret"),
    // An app's public host on its runtime clusters, in the app's namespace.
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
];

fn scope_of(api_version: &str, kind: &str, policy: &Policy, claim: Option<&ClaimRef>) -> Option<Scope> {
    if claim.is_some_and(|c| c.api_version == api_version && c.kind == kind) {
        return Some(Scope::Request);
    }
    if ALLOWED_KINDS.contains(&(api_version, kind)) {
        return Some(if kind == "Application" { Scope::ArgoCd } else { Scope::Request });
    }
    policy
        .traffic
        .providers
        .values()
        .flat_map(|p| &p.kinds)
        .find(|k| k.api_version == api_version && k.kind == kind)
        .map(|k| if k.namespaced { Scope::Request } else { Scope::Cluster })
}

/// Labels every request manifest carries; values are checked per request.
pub const STANDARD_LABELS: [&str; 5] = [
    "app.kubernetes.io/managed-by",
    "platform.example.org/cell",
    "platform.example.org/environment",
    "platform.example.org/tier",
    "platform.example.org/request",
];

fn documents(text: &str) -> Result<Vec<Node>, String> {
    // Plain YAML only: with a merge key, Argo CD could apply other values than the ones checked here.
    let docs = yaml::plain_documents(text).map_err(|e| match e.kind {
        yaml::ErrorKind::Reference => e.in_text(text),
        _ => format!("the output is not valid YAML: {}", e.in_text(text)),
    })?;
    if docs.is_empty() {
        return Err("the output holds no document".into());
    }
    Ok(docs)
}

// The one secret scanner, shared with `verify` (`crate::secrets`).
use crate::secrets::secret_value;

/// Checks the manifests rendered for a request; returns their documents,
/// parsed once, for the checks after this one (the claims' XRDs).
/// `claim`: the claim kind of the request's product, for a data request.
pub fn check_request_manifest(
    text: &str,
    request: &Request,
    policy: &Policy,
    claim: Option<&ClaimRef>,
) -> Result<Vec<Node>, String> {
    let expected = super::labels(request);
    let docs = documents(text)?;
    for doc in &docs {
        let api_version = doc.str_at(&["apiVersion"]).ok_or("a document has no apiVersion")?;
        let kind = doc.str_at(&["kind"]).ok_or("a document has no kind")?;
        let Some(scope) = scope_of(api_version, kind, policy, claim) else {
            return Err(format!("{api_version} {kind} is not on idp's allowlist"));
        };
        // Whatever a policy lists: idp references secrets, it never writes one.
        if kind == "Secret" {
            return Err(format!("{api_version} Secret: idp never writes Secrets; reference them by name"));
        }
        if let Some(found) = secret_value(doc) {
            return Err(format!("{kind}: {found}; secrets are referenced by name, never written"));
        }
        let name = doc.str_at(&["metadata", "name"]).ok_or_else(|| format!("{kind} has no metadata.name"))?;
        if !names::is_dns_label(name) {
            return Err(format!("{kind} name {name:?} is not a DNS-1123 label"));
        }
        let namespace = doc.str_at(&["metadata", "namespace"]);
        let expected_namespace = match scope {
            Scope::Request => Some(request.namespace.as_str()),
            Scope::ArgoCd => Some(ARGOCD_NAMESPACE),
            Scope::Cluster => None,
        };
        if namespace != expected_namespace {
            let found = namespace.map_or("no namespace".to_owned(), |ns| format!("namespace {ns:?}"));
            let wanted = expected_namespace.map_or("no namespace (cluster-scoped)".to_owned(), |ns| format!("{ns:?}"));
            return Err(format!("{kind} {name} is in {found}, not the request's {wanted}"));
        }
        if scope == Scope::ArgoCd {
            check_application(doc, name, request, policy)?;
        }
        let labels = doc.at(&["metadata", "labels"]);
        for (key, value) in &expected {
            // Validation makes these plain; a request built any other way must not
            // carry newlines or quotes into a label.
            if !names::is_label_value(value) {
                return Err(format!("{kind} {name}: label {key} value {value:?} is not a Kubernetes label value"));
            }
            let found = labels.and_then(|l| l.str_at(&[key]));
            if found != Some(value.as_str()) {
                return Err(format!("{kind} {name} lacks label {key}: {value}"));
            }
        }
    }
    Ok(docs)
}

/// An Application deploys what idp wrote for this request and nothing else:
/// in the bootstrap project, from the state repo at the policy's revision,
/// the request's own workload folder (`workloads/<ns>/<name>/<side>`), with
/// no other source options than the Deployment's replica count, onto a
/// runtime cluster of the policy by name, into the request's namespace.
/// Every field of `spec`, `source` and `destination` is named here: one
/// that is not (`sources`, `helm`, `kustomize.namespace`, `destination.server`)
/// is refused, so a template cannot point Argo CD anywhere else.
fn check_application(doc: &Node, name: &str, request: &Request, policy: &Policy) -> Result<(), String> {
    let refuse = |what: String| Err(format!("Application {name} {what}"));
    let only = |path: &[&str], allowed: &[&str]| -> Result<(), String> {
        let Some(node) = doc.at(path) else { return Ok(()) };
        let Some(entries) = node.as_map() else {
            return Err(format!("Application {name}: {} is not a mapping", path.join(".")));
        };
        match entries.iter().find(|(key, _)| !allowed.contains(&key.name.as_str())) {
            Some((key, _)) => Err(format!(
                "Application {name}: {}.{} is not a field idp writes (only {})",
                path.join("."),
                key.name,
                allowed.join(", ")
            )),
            None => Ok(()),
        }
    };
    only(&["spec"], &["project", "source", "destination", "syncPolicy"])?;
    only(&["spec", "source"], &["repoURL", "targetRevision", "path", "kustomize"])?;
    only(&["spec", "source", "kustomize"], &["replicas"])?;
    only(&["spec", "destination"], &["name", "namespace"])?;
    let field = |path: &[&str]| doc.str_at(path);
    let shown = |value: Option<&str>| value.map_or("nothing".to_owned(), |v| format!("{v:?}"));
    let project = field(&["spec", "project"]);
    if project != Some(ARGOCD_PROJECT) {
        return refuse(format!("is in project {}, not idp's {ARGOCD_PROJECT:?}", shown(project)));
    }
    let repo = field(&["spec", "source", "repoURL"]);
    if repo != Some(policy.gitops.repo_url.as_str()) {
        return refuse(format!(
            "deploys from {}, not the state repo {:?} (gitops.repoURL)",
            shown(repo),
            policy.gitops.repo_url
        ));
    }
    let revision = field(&["spec", "source", "targetRevision"]);
    if revision != Some(policy.gitops.revision.as_str()) {
        return refuse(format!(
            "deploys revision {}, not the state repo's {:?} (gitops.revision)",
            shown(revision),
            policy.gitops.revision
        ));
    }
    let path = field(&["spec", "source", "path"]);
    let own = [crate::cell::Side::Primary, crate::cell::Side::Secondary]
        .map(|side| crate::layout::workload_side_dir(&request.namespace, &request.name, side));
    if !own.iter().any(|dir| Some(dir.as_str()) == path) {
        return refuse(format!("deploys path {}, not the request's own folder {} or {}", shown(path), own[0], own[1]));
    }
    if let Some(replicas) = doc.at(&["spec", "source", "kustomize", "replicas"]) {
        let Value::Seq(items) = &replicas.value else {
            return refuse("sets spec.source.kustomize.replicas to something other than a list".into());
        };
        for item in items {
            if item.as_map().is_none_or(|entries| entries.iter().any(|(k, _)| k.name != "name" && k.name != "count"))
                || item.str_at(&["name"]) != Some(request.name.as_str())
                || !matches!(item.at(&["count"]).map(|c| &c.value), Some(Value::Int(_)))
            {
                return refuse(format!(
                    "sets replicas of something other than the request's Deployment {:?} (name and count only)",
                    request.name
                ));
            }
        }
    }
    let cluster = field(&["spec", "destination", "name"]);
    if !cluster.is_some_and(|c| {
        policy.candidates.iter().flat_map(|candidate| candidate.runtime_clusters()).any(|known| known == c)
    }) {
        return refuse(format!(
            "deploys to cluster {}, not a runtime cluster of the policy's candidates",
            shown(cluster)
        ));
    }
    if field(&["spec", "destination", "namespace"]) != Some(request.namespace.as_str()) {
        return refuse(format!("deploys outside the request's namespace {:?}", request.namespace));
    }
    Ok(())
}

/// Checks the Argo CD bootstrap written by `idp init`.
pub fn check_bootstrap(text: &str) -> Result<(), String> {
    for doc in documents(text)? {
        if let Some(found) = secret_value(&doc) {
            return Err(format!("{found}; secrets are referenced by name, never written"));
        }
        let pair = (doc.str_at(&["apiVersion"]).unwrap_or_default(), doc.str_at(&["kind"]).unwrap_or_default());
        if !matches!(pair, ("argoproj.io/v1alpha1", "AppProject" | "Application")) {
            return Err(format!("{} {} is not an Argo CD AppProject or Application", pair.0, pair.1));
        }
        if doc.str_at(&["metadata", "name"]).is_none() {
            return Err(format!("{} has no metadata.name", pair.1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{RenderInput, Renderer};
    use crate::request::Spec;
    use crate::yaml::Value;

    /// Every path of a document's keys: its structure, without the values.
    fn shape(node: &Node, at: String, out: &mut Vec<String>) {
        match &node.value {
            Value::Map(entries) => entries.iter().for_each(|(k, v)| shape(v, format!("{at}/{}", k.name), out)),
            Value::Seq(items) => items.iter().enumerate().for_each(|(i, v)| shape(v, format!("{at}/{i}"), out)),
            _ => out.push(at),
        }
    }

    fn render(request: &Request) -> Result<Vec<Vec<Node>>, super::super::RenderError> {
        let (policy, _, decision) = crate::test_support::payments_c0();
        let names = crate::layout::NameScheme::for_new(request.kind);
        let input = RenderInput {
            data: &crate::record::DataClaims::NONE,
            request,
            decision: &decision,
            policy: &policy,
            active: Default::default(),
            names,
            unprotect: false,
            draining: false,
            moving: None,
        };
        let files = Renderer::embedded().request_files(&input)?;
        Ok(files.iter().map(|f| documents(&f.content).unwrap()).collect())
    }

    const HOSTILE: [&str; 6] =
        ["a\nkind: Secret", "a\" injected: \"x", "{{ 7*7 }}", "../../etc", "\u{43e}rders", "a'b: [c]"];

    /// Requests are validated before they are rendered; rendering one that was
    /// not (a bug elsewhere) still cannot put a crafted value into a name, a
    /// namespace or a label.
    #[test]
    fn hostile_names_that_skipped_validation_are_refused_by_the_guard() {
        let (_, base, _) = crate::test_support::payments_c0();
        for hostile in HOSTILE {
            for field in ["name", "namespace", "cell", "tier", "environment"] {
                let mut request = base.clone();
                let slot = match field {
                    "name" => &mut request.name,
                    "namespace" => &mut request.namespace,
                    "cell" => &mut request.cell,
                    "tier" => &mut request.tier,
                    _ => &mut request.environment,
                };
                *slot = hostile.to_owned();
                assert!(render(&request).is_err(), "{field} = {hostile:?} was rendered");
            }
        }
    }

    /// A value that is not a name (an image reference) is written as a quoted
    /// scalar: whatever it holds, the documents keep their shape and the value
    /// reads back unchanged.
    #[test]
    fn request_values_cannot_change_a_manifests_structure() {
        use crate::request::{Container, EnvValue, EnvVar, Probes, Quantities, Resources};
        // Every container setting holds `text` (validation refuses all of the hostile ones).
        let container = |text: &str| {
            let quantities = || Quantities { cpu: Some(text.into()), memory: Some(text.into()) };
            Container {
                env: vec![
                    EnvVar { name: "A".into(), value: EnvValue::Plain(text.into()) },
                    EnvVar { name: "B".into(), value: EnvValue::SecretKeyRef { name: text.into(), key: text.into() } },
                ],
                resources: Resources { requests: quantities(), limits: quantities() },
                command: vec![text.into()],
                args: vec![text.into(), text.into()],
                probes: Probes::Http,
                liveness_path: Some(format!("/{text}")),
            }
        };
        let (_, mut app, _) = crate::test_support::payments_c0();
        app.kind = crate::test_support::app();
        app.spec = Spec::App {
            image: "registry.example.org/a:1".into(),
            port: 8080,
            replicas: 2,
            health_path: None,
            container: Box::new(container("x")),
            public_host: None,
            databases: Vec::new(),
            dependency_kinds: None,
        };
        let benign = render(&app).unwrap();
        let shapes = |docs: &[Vec<Node>]| -> Vec<String> {
            let mut out = Vec::new();
            docs.iter().flatten().for_each(|d| shape(d, String::new(), &mut out));
            out
        };
        for hostile in HOSTILE {
            let image = format!("registry.example.org/a:1{hostile}");
            // The health path too (validation refuses all of these).
            let path = format!("/{hostile}");
            app.spec = Spec::App {
                image: image.clone(),
                port: 8080,
                replicas: 2,
                health_path: Some(path.clone()),
                container: Box::new(container(hostile)),
                public_host: None,
                databases: Vec::new(),
                dependency_kinds: None,
            };
            let docs = render(&app).unwrap();
            let paths: Vec<&str> = docs
                .iter()
                .flatten()
                .filter_map(|d| {
                    let containers = d.at(&["spec", "template", "spec", "containers"])?;
                    match &containers.value {
                        Value::Seq(items) => items.first()?.str_at(&["readinessProbe", "httpGet", "path"]),
                        _ => None,
                    }
                })
                .collect();
            assert!(!paths.is_empty() && paths.iter().all(|p| *p == path), "{paths:?}");
            assert_eq!(shapes(&docs), shapes(&benign), "{hostile:?} changed the structure");
            let images: Vec<&str> = docs
                .iter()
                .flatten()
                .filter_map(|d| {
                    let containers = d.at(&["spec", "template", "spec", "containers"])?;
                    match &containers.value {
                        Value::Seq(items) => items.first()?.str_at(&["image"]),
                        _ => None,
                    }
                })
                .collect();
            assert!(!images.is_empty() && images.iter().all(|i| *i == image), "{images:?}");
            // Each container setting reads back as it was written.
            for doc in docs.iter().flatten().filter(|d| d.str_at(&["kind"]) == Some("Deployment")) {
                let c = doc.at(&["spec", "template", "spec", "containers"]).and_then(|c| match &c.value {
                    Value::Seq(items) => items.first(),
                    _ => None,
                });
                let c = c.expect("a container");
                let at = |path: &[&str]| c.str_at(path);
                assert_eq!(at(&["livenessProbe", "httpGet", "path"]), Some(format!("/{hostile}").as_str()));
                for section in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        assert_eq!(at(&["resources", section, resource]), Some(hostile), "{section}.{resource}");
                    }
                }
                let env = c.at(&["env"]).expect("env");
                let Value::Seq(env) = &env.value else { panic!("env is a list") };
                assert_eq!(env[0].str_at(&["value"]), Some(hostile));
                assert_eq!(env[1].str_at(&["valueFrom", "secretKeyRef", "name"]), Some(hostile));
                assert_eq!(env[1].str_at(&["valueFrom", "secretKeyRef", "key"]), Some(hostile));
                for field in ["command", "args"] {
                    let Some(Value::Seq(items)) = c.at(&[field]).map(|n| &n.value) else { panic!("{field}") };
                    assert!(items.iter().all(|i| i.as_str() == Some(hostile)), "{field}");
                }
            }
        }
    }

    /// An Application a template override points elsewhere is refused, and
    /// so is a merge key that would make Argo CD read another value than the
    /// guard (sigs.k8s.io/yaml lets a later `<<` win over explicit keys).
    #[test]
    fn applications_are_pinned_to_the_project_the_state_repo_and_the_requests_folder() {
        let (policy, mut app, decision) = crate::test_support::payments_c0();
        app.kind = crate::test_support::app();
        app.spec = crate::test_support::app_spec(None, Vec::new());
        let input = RenderInput {
            data: &crate::record::DataClaims::NONE,
            request: &app,
            decision: &decision,
            policy: &policy,
            active: Default::default(),
            names: crate::layout::NameScheme::for_new(app.kind),
            unprotect: false,
            draining: false,
            moving: None,
        };
        let files = Renderer::embedded().request_files(&input).unwrap();
        let application = files.iter().find(|f| f.template == "app/application.yaml.j2").unwrap();
        let text = &application.content;
        assert!(check_request_manifest(text, &app, &policy, None).is_ok());
        let name = application.documents[0].str_at(&["metadata", "name"]).unwrap();
        let line = |prefix: &str| text.lines().find(|l| l.trim_start().starts_with(prefix)).unwrap().to_owned();
        let cases = [
            (
                line("project:"),
                "  project: default".to_owned(),
                "is in project \"default\", not idp's \"idp-platform\"",
            ),
            (
                line("repoURL:"),
                "    repoURL: https://git.example.com/evil.git".into(),
                "deploys from \"https://git.example.com/evil.git\", not the state repo",
            ),
            (
                line("targetRevision:"),
                "    targetRevision: evil".into(),
                "deploys revision \"evil\", not the state repo's",
            ),
            (
                line("path:"),
                "    path: workloads/team-other/web/primary".into(),
                "deploys path \"workloads/team-other/web/primary\", not the request's own folder",
            ),
            (line("path:"), "    path: workloads".into(), "deploys path \"workloads\""),
            (
                line("kustomize:"),
                "    kustomize:\n      namespace: kube-system".into(),
                ": spec.source.kustomize.namespace is not a field idp writes",
            ),
            (
                line("path:"),
                format!("{}\n    helm: {{releaseName: x}}", line("path:")),
                ": spec.source.helm is not a field idp writes",
            ),
            (
                line("project:"),
                format!("{}\n  sources: [{{repoURL: https://git.example.com/evil.git, path: .}}]", line("project:")),
                ": spec.sources is not a field idp writes",
            ),
            (
                line("name: \"aws-"),
                "    server: https://kubernetes.default.svc".into(),
                ": spec.destination.server is not a field idp writes",
            ),
            (
                line("name: \"aws-"),
                "    name: in-cluster".into(),
                "deploys to cluster \"in-cluster\", not a runtime cluster",
            ),
            (
                line("- name:"),
                "        - name: coredns".into(),
                "sets replicas of something other than the request's Deployment",
            ),
            (line("project:"), "  project: idp-platform\n  <<: {project: default}".into(), "a YAML merge key (`<<`)"),
        ];
        for (from, to, expected) in cases {
            let hostile = text.replacen(&from, &to, 1);
            assert_ne!(&hostile, text, "{from:?}");
            let error = check_request_manifest(&hostile, &app, &policy, None).unwrap_err();
            let expected =
                if expected.starts_with(':') { format!("Application {name}{expected}") } else { expected.to_owned() };
            assert!(error.contains(&expected), "{to:?}: {error}");
        }
    }

    fn yaml(text: &str) -> Node {
        documents(text).unwrap().remove(0)
    }

    #[test]
    fn secret_values_are_found_and_references_are_not() {
        let clean = "spec:\n  writeConnectionSecretToRef: {name: db-conn}\n  template:\n    spec:\n      automountServiceAccountToken: false\n      containers:\n        - envFrom: [{secretRef: {name: db-conn}}]\n          env: [{name: DB_PASSWORD_FILE_NAME, valueFrom: {secretKeyRef: {name: db-conn, key: password}}}]\n";
        assert_eq!(secret_value(&yaml(clean)), None);
        for (text, expected) in [
            ("spec: {password: hunter2}", ".spec.password holds a literal value"),
            ("spec: {apiToken: abc}", ".spec.apiToken holds a literal value"),
            ("data: {tls.key: \"-----BEGIN RSA PRIVATE KEY-----\\nMII\"}", ".data.tls.key holds a private key"),
            ("a: [x, \"id AKIAABCDEFGHIJKLMNOP\"]", ".a[1] holds an AWS access key id"),
            ("env: [{name: DB_PASSWORD, value: hunter2}]", ".env[0].value sets DB_PASSWORD to a literal value"),
        ] {
            assert_eq!(secret_value(&yaml(text)).as_deref(), Some(expected), "{text}");
        }
    }
}
