//! idp: a control plane for a cell-based Internal Developer Platform.
//!
//! The library holds everything; `main.rs` only calls [`run`]. Modules below
//! `cli` and `output` never print and never see clap.

// Diagnostics carry their source text and spans, so error values are large;
// they are built once, on the way out, so boxing them would buy nothing.
#![allow(clippy::result_large_err)]

pub mod catalog;
pub mod cell;
pub mod cli;
pub mod compose;
pub mod cost;
pub mod layout;
pub mod live;
pub mod names;
pub mod ops;
pub mod output;
pub mod policy;
pub mod product;
pub mod record;
pub mod render;
pub mod request;
pub mod rules;
pub mod schedule;
pub mod secrets;
pub mod state;
pub mod xrd;
pub mod yaml;

pub use cli::run;

/// Fixtures shared by the unit tests of several modules.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::policy::{LoadedPolicy, Policy};
    use crate::product::Products;
    use crate::request::{Kind, Request, Spec};

    /// The built-in MySQL product.
    pub fn mysql() -> Kind {
        Kind::named(Products::embedded(), "mysql").expect("a built-in product")
    }

    /// The built-in app product.
    pub fn app() -> Kind {
        Kind::named(Products::embedded(), "app").expect("a built-in product")
    }

    /// The built-in products' kinds.
    pub fn kinds() -> Vec<Kind> {
        Kind::all(Products::embedded())
    }

    /// Holds a file generated from idp's sources to what generating it
    /// gives now, or with `IDP_REGENERATE=1` writes it: `path` from the
    /// crate's root, `module` the `cargo test --lib` filter that writes it.
    pub fn assert_generated(path: &str, generated: &str, module: &str) {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if std::env::var_os("IDP_REGENERATE").is_some_and(|v| v == "1") {
            std::fs::write(&file, generated).expect("the generated file is writable");
        }
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(current == generated, "{path} is stale: regenerate it with IDP_REGENERATE=1 cargo test --lib {module}");
    }

    /// A MySQL request's spec, as validation makes it.
    pub fn mysql_spec(size: &str, storage_gb: u32, ha: bool) -> Spec {
        let product = Products::embedded().named("mysql").expect("a built-in product");
        let fields = serde_json::json!({ "size": size, "storageGB": storage_gb, "ha": ha });
        Spec::data(product, fields.as_object().expect("an object").clone())
    }
    use crate::schedule::{Decision, Demand, PolicyRef, schedule};

    /// The gates MySQL's `ha: true` adds (its product definition).
    static MULTI_AZ: std::sync::LazyLock<[String; 1]> = std::sync::LazyLock::new(|| ["multi_az".to_owned()]);

    /// The seed's payments database (C0, ha, small, 50 GB) placed on the
    /// default policy: aws/us-east-1 with a gcp/us-central1 secondary.
    pub fn payments_c0() -> (Policy, Request, Decision) {
        let policy = LoadedPolicy::embedded().policy;
        let pref = PolicyRef { version: "v".into(), digest: "sha256:00".into() };
        let demand = Demand {
            cell: "payments",
            environment: "production",
            tier: "C0",
            ha: true,
            gates: &*MULTI_AZ,
            pairs: None,
            dr_profile: None,
        };
        let decision = schedule(&policy, &pref, &demand).expect("the seed places");
        let request = Request {
            kind: mysql(),
            name: "db".into(),
            namespace: "team".into(),
            cell: "payments".into(),
            tier: "C0".into(),
            environment: "production".into(),
            dr_profile: None,
            spec: mysql_spec("small", 50, true),
            origin: "t".into(),
        };
        (policy, request, decision)
    }

    /// An app's spec as the unit tests use it: the defaults of every
    /// container setting, with the public host and databases given.
    pub fn app_spec(public_host: Option<&str>, databases: Vec<String>) -> Spec {
        Spec::App {
            image: "registry.example.org/a:1".into(),
            port: 8080,
            replicas: 2,
            health_path: None,
            container: Default::default(),
            public_host: public_host.map(Into::into),
            databases,
            dependency_kinds: None,
        }
    }

    /// Every database the default policy places: each tier, cell, drProfile
    /// (or none) and HA choice the scheduler accepts, as (a case name for
    /// messages, the request, its decision).
    pub fn default_policy_databases() -> (Policy, Vec<(String, Request, Decision)>) {
        let policy = LoadedPolicy::embedded().policy;
        let pref = PolicyRef { version: "v".into(), digest: "sha256:00".into() };
        let profiles: Vec<Option<&str>> =
            std::iter::once(None).chain(policy.dr_profiles.keys().map(|p| Some(p.as_str()))).collect();
        let mut databases = Vec::new();
        for tier in policy.tiers.keys() {
            for cell in policy.cells.keys() {
                for dr_profile in &profiles {
                    for ha in [false, true] {
                        let demand = Demand {
                            cell,
                            environment: "production",
                            tier,
                            ha,
                            gates: if ha { &*MULTI_AZ } else { &[] },
                            pairs: None,
                            dr_profile: *dr_profile,
                        };
                        let Ok(decision) = schedule(&policy, &pref, &demand) else { continue };
                        let request = Request {
                            kind: mysql(),
                            name: "db".into(),
                            namespace: "team".into(),
                            cell: cell.clone(),
                            tier: tier.clone(),
                            environment: "production".into(),
                            dr_profile: dr_profile.map(str::to_owned),
                            spec: mysql_spec("small", 50, ha),
                            origin: "t".into(),
                        };
                        databases.push((format!("{tier} {cell} {dr_profile:?} ha={ha}"), request, decision));
                    }
                }
            }
        }
        (policy, databases)
    }

    /// The files idp renders for a new request with `active` serving.
    pub fn render(
        policy: &Policy,
        request: &Request,
        decision: &Decision,
        active: crate::cell::Side,
    ) -> Vec<crate::render::RenderedFile> {
        let names = crate::layout::NameScheme::for_new(request.kind);
        let input = crate::render::RenderInput {
            data: &crate::record::DataClaims::NONE,
            request,
            decision,
            policy,
            active,
            moving: None,
            names,
            unprotect: false,
            draining: false,
        };
        crate::render::Renderer::embedded().request_files(&input).unwrap()
    }
}
