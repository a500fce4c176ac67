//! Render, then parse back: for any request that validates, every rendered
//! document is of a kind on the product's allowlist (or a traffic kind of the
//! policy), never a Secret, in the request's namespace (Applications: in
//! argocd, deploying into the request's namespace), with idp's labels. These
//! checks are written here again, independently of the render guard, so that
//! a guard that let something through would be caught too.
#![no_main]

use idp::cell::Side;
use idp::policy::LoadedPolicy;
use idp::render::{ALLOWED_KINDS, RenderInput, Renderer};
use idp::request::{self, Kind};
use idp::schedule::{PolicyRef, schedule};
use idp::yaml::Source;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let cli_kind = if selector & 1 == 0 { Some(Kind::MySql) } else { Some(Kind::App) };
    let active = if selector & 2 == 0 { Side::Primary } else { Side::Secondary };
    let Ok(source) = Source::from_bytes("fuzz.yaml".into(), bytes.to_vec()) else { return };
    let loaded = LoadedPolicy::embedded();
    let policy = &loaded.policy;
    let Ok(requests) = request::parse_sources(&[source], cli_kind, policy, request::Admission::Submitted) else {
        return;
    };
    let renderer = Renderer::embedded();
    let pref = PolicyRef { version: policy.version.clone(), digest: loaded.digest.clone() };
    for r in &requests {
        let Ok(mut decision) = schedule(policy, &pref, &r.demand()) else { continue };
        // The databases an app uses come from its spec.database (fuzzed) or, for an
        // app placed before apps named their data, from the reason's `follows`.
        if selector & 4 != 0 {
            decision.reason.follows = Some("mysql team/orders-db".into());
        }
        let names = idp::layout::NameScheme::for_new(r.kind);
        let input = RenderInput { request: r, decision: &decision, policy, active, names };
        // The embedded templates must render every valid request safely: a
        // guard refusal here would be a template bug.
        let files = renderer.request_files(&input).unwrap_or_else(|e| panic!("{} {}: {e}", r.kind, r.id()));
        assert!(!files.is_empty());
        for file in files {
            assert!(!file.path.contains(".."), "path {}", file.path);
            let docs: Vec<Value> = serde_saphyr::from_multiple(&file.content).expect("rendered YAML parses");
            for doc in docs.iter().filter(|d| !d.is_null()) {
                check(doc, r, policy, &file.content);
            }
        }
    }
});

fn str_at<'a>(doc: &'a Value, pointer: &str) -> &'a str {
    doc.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no {pointer} in {doc}"))
}

fn check(doc: &Value, r: &request::Request, policy: &idp::policy::Policy, text: &str) {
    let (api_version, kind) = (str_at(doc, "/apiVersion"), str_at(doc, "/kind"));
    assert_ne!(kind, "Secret", "a Secret was rendered:\n{text}");
    let traffic = policy
        .traffic
        .providers
        .values()
        .flat_map(|p| &p.kinds)
        .find(|k| k.api_version == api_version && k.kind == kind);
    let allowed = ALLOWED_KINDS.contains(&(api_version, kind)) || traffic.is_some();
    assert!(allowed, "{api_version} {kind} is not on the allowlist:\n{text}");
    let namespace = doc.pointer("/metadata/namespace").and_then(Value::as_str);
    if kind == "Application" {
        assert_eq!(namespace, Some("argocd"), "{text}");
        assert_eq!(str_at(doc, "/spec/destination/namespace"), r.namespace, "{text}");
    } else if traffic.is_some_and(|k| !k.namespaced) {
        assert_eq!(namespace, None, "{text}");
    } else {
        assert_eq!(namespace, Some(r.namespace.as_str()), "{text}");
    }
    assert_eq!(str_at(doc, "/metadata/labels/app.kubernetes.io~1managed-by"), "idp", "{text}");
    let label = format!("{}.{}.{}", r.namespace, r.kind, r.name);
    assert_eq!(str_at(doc, "/metadata/labels/platform.example.org~1request"), label, "{text}");
    assert!(idp::names::is_dns_label(str_at(doc, "/metadata/name")), "{text}");
}
