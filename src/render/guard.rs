//! The parse-back guard: rendered text is read again as YAML and checked
//! before it can be written. It trusts nothing about the template.

use serde_json::Value;

use crate::names;
use crate::policy::Policy;
use crate::request::Request;

/// Where Argo CD runs; its Applications live there.
pub const ARGOCD_NAMESPACE: &str = "argocd";

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
/// Traffic providers add theirs in the policy.
pub const ALLOWED_KINDS: &[(&str, &str)] = &[
    ("platform.example.org/v1alpha1", "MySQLInstanceClaim"),
    ("platform.example.org/v1alpha1", "ReplicationClaim"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("argoproj.io/v1alpha1", "Application"),
];

fn scope_of(api_version: &str, kind: &str, policy: &Policy) -> Option<Scope> {
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

fn documents(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| format!("the output is not valid YAML: {e}"))?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.is_empty() {
        return Err("the output holds no document".into());
    }
    Ok(docs)
}

fn str_at<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
    doc.pointer(pointer).and_then(Value::as_str)
}

/// Checks the manifests rendered for a request.
pub fn check_request_manifest(text: &str, request: &Request, policy: &Policy) -> Result<(), String> {
    let expected = super::labels(request);
    for doc in documents(text)? {
        let api_version = str_at(&doc, "/apiVersion").ok_or("a document has no apiVersion")?;
        let kind = str_at(&doc, "/kind").ok_or("a document has no kind")?;
        let Some(scope) = scope_of(api_version, kind, policy) else {
            return Err(format!("{api_version} {kind} is not on idp's allowlist"));
        };
        let name = str_at(&doc, "/metadata/name").ok_or_else(|| format!("{kind} has no metadata.name"))?;
        if !names::is_dns_label(name) {
            return Err(format!("{kind} name {name:?} is not a DNS-1123 label"));
        }
        let namespace = str_at(&doc, "/metadata/namespace");
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
        // An Application may only deploy into the request's namespace.
        if scope == Scope::ArgoCd && str_at(&doc, "/spec/destination/namespace") != Some(request.namespace.as_str()) {
            return Err(format!("Application {name} deploys outside the request's namespace {:?}", request.namespace));
        }
        let labels = doc.pointer("/metadata/labels").and_then(Value::as_object);
        for (key, value) in &expected {
            let found = labels.and_then(|l| l.get(*key)).and_then(Value::as_str);
            if found != Some(value.as_str()) {
                return Err(format!("{kind} {name} lacks label {key}: {value}"));
            }
        }
    }
    Ok(())
}

/// Checks the Argo CD bootstrap written by `idp init`.
pub fn check_bootstrap(text: &str) -> Result<(), String> {
    for doc in documents(text)? {
        let pair = (str_at(&doc, "/apiVersion").unwrap_or_default(), str_at(&doc, "/kind").unwrap_or_default());
        if !matches!(pair, ("argoproj.io/v1alpha1", "AppProject" | "Application")) {
            return Err(format!("{} {} is not an Argo CD AppProject or Application", pair.0, pair.1));
        }
        if str_at(&doc, "/metadata/name").is_none() {
            return Err(format!("{} has no metadata.name", pair.1));
        }
    }
    Ok(())
}
