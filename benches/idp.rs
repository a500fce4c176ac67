//! In-process benchmarks of idp's hot paths (`cargo bench`, divan).
//!
//! - `schedule_default_policy`: one placement decision on the built-in policy
//!   (7 candidates), for a tier with and without a cross-cloud secondary.
//! - `schedule_1000_candidates`: one decision over a synthetic pool of 1,000
//!   candidates, built from the built-in policy by cloning its candidates
//!   into distinct providers and regions (and validated as a policy file).
//! - `render_request_files`: the manifests of one request (claims, and for a
//!   tier with a secondary the replication too), parse-back guard included.
//! - `parse_request`: validating one request file (Kubernetes form).
//! - `check_claims`: the XRD check of one request's rendered files, each
//!   against itself as the stored claim (so transition rules run too).
//! - `load_xrds`: reading the shipped XRDs and compiling their CEL rules, which
//!   a process does once, on its first claim.
//!
//! divan prints the time per operation (median and spread over samples).
//! Whole-process costs (git, file IO, the CLI) are `bench/run.sh`'s business.

use divan::{Bencher, black_box};
use idp::cell::Side;
use idp::layout::NameScheme;
use idp::policy::{self, Candidate, LoadedPolicy, Policy, PolicyOrigin, ProviderPrices};
use idp::product::Products;
use idp::render::{RenderInput, Renderer};
use idp::request::{self, Request};
use idp::schedule::{self, Decision, Demand, PolicyRef};
use idp::xrd::{EMBEDDED_XRDS, Xrds};
use idp::yaml::Source;

/// The gates MySQL's `ha: true` adds (its product definition).
static MULTI_AZ: std::sync::LazyLock<[String; 1]> = std::sync::LazyLock::new(|| ["multi_az".to_owned()]);

fn main() {
    divan::main();
}

/// `examples/orders-db.yaml`: medium tier, no secondary.
const ORDERS_DB: &str = include_str!("../examples/orders-db.yaml");

/// A C0 request: the tier requires a cross-cloud secondary (gold, warm).
const PAYMENTS_C0: &str = "apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: ledger-db
  namespace: team-payments
spec:
  cell: payments
  tier: C0
  environment: production
  size: xlarge
  storageGB: 500
  ha: true
";

fn policy_ref(loaded: &LoadedPolicy) -> PolicyRef {
    PolicyRef { version: loaded.policy.version.clone(), digest: loaded.digest.clone() }
}

fn parse_one(text: &str, policy: &Policy) -> Request {
    let mut requests = request::parse_sources(
        &[Source::new("bench.yaml", text)],
        None,
        policy,
        Products::embedded(),
        request::Admission::Submitted,
    )
    .expect("a valid request");
    requests.remove(0)
}

const TIERS: &[&str] = &["medium", "C0"];

fn demand_for(tier: &str) -> Demand<'_> {
    match tier {
        "C0" => Demand {
            cell: "payments",
            environment: "production",
            tier: "C0",
            ha: true,
            gates: &*MULTI_AZ,
            pairs: None,
            dr_profile: None,
        },
        _ => Demand {
            cell: "cell-us-east",
            environment: "production",
            tier,
            ha: true,
            gates: &*MULTI_AZ,
            pairs: None,
            dr_profile: None,
        },
    }
}

#[divan::bench(args = TIERS)]
fn schedule_default_policy(bencher: Bencher, tier: &str) {
    let loaded = LoadedPolicy::embedded();
    let policy_ref = policy_ref(&loaded);
    let demand = demand_for(tier);
    bencher.bench(|| schedule::schedule(black_box(&loaded.policy), &policy_ref, black_box(&demand)).unwrap());
}

/// Extra providers of the synthetic pool, priced like aws.
const SYNTHETIC_PROVIDERS: usize = 10;
const POOL: usize = 1000;

/// The built-in policy with its 7 candidates cloned into a pool of `size`:
/// providers `aws`, `gcp`, `oci` and `cloud0..cloud9`, each region suffixed
/// with its index (so every `provider/region` is distinct), scores jittered
/// deterministically so that ranking has work to do. Round-tripped through
/// the policy loader, so the result is a policy file idp would accept.
fn synthetic_policy(size: usize) -> LoadedPolicy {
    let mut policy = LoadedPolicy::embedded().policy;
    let base = policy.candidates.clone();
    let mut providers: Vec<String> = vec!["aws".into(), "gcp".into(), "oci".into()];
    providers.extend((0..SYNTHETIC_PROVIDERS).map(|i| format!("cloud{i}")));
    if let Some(pricing) = &mut policy.pricing {
        let aws: ProviderPrices = pricing.providers["aws"].clone();
        for provider in &providers {
            pricing.providers.entry(provider.clone()).or_insert_with(|| aws.clone());
        }
    }
    policy.candidates = (0..size)
        .map(|i| {
            let mut c: Candidate = base[i % base.len()].clone();
            c.provider = providers[i % providers.len()].clone();
            c.region = format!("{}-{i}", c.region);
            c.runtime_cluster = format!("{}-{i}", c.runtime_cluster);
            for (k, score) in c.scores.values_mut().enumerate() {
                // A stable pseudo-random nudge in [-0.05, 0.05], kept in 0..=1.
                let nudge = ((i * 7919 + k * 104_729) % 1001) as f64 / 10_000.0 - 0.05;
                *score = (*score + nudge).clamp(0.0, 1.0);
            }
            c
        })
        .collect();
    // The payments cell names candidates that no longer exist; keep it valid.
    for cell in policy.cells.values_mut() {
        if let Some(ids) = &mut cell.candidates {
            *ids = policy.candidates.iter().take(9).map(Candidate::id).collect();
        }
    }
    let yaml = serde_saphyr::to_string(&policy).expect("a policy serializes");
    policy::load(Source::new("synthetic-policy.yaml", yaml), PolicyOrigin::Embedded)
        .unwrap_or_else(|e| panic!("the synthetic policy is valid: {:?}", miette::Report::new(e)))
}

#[divan::bench(args = TIERS)]
fn schedule_1000_candidates(bencher: Bencher, tier: &str) {
    let loaded = synthetic_policy(POOL);
    assert_eq!(loaded.policy.candidates.len(), POOL);
    let policy_ref = policy_ref(&loaded);
    let demand = Demand { cell: "cell-us-east", ..demand_for(tier) };
    let decision = schedule::schedule(&loaded.policy, &policy_ref, &demand).unwrap();
    assert_eq!(decision.reason.candidates_evaluated, POOL);
    bencher.bench(|| schedule::schedule(black_box(&loaded.policy), &policy_ref, black_box(&demand)).unwrap());
}

fn request_for(tier: &str) -> &'static str {
    if tier == "C0" { PAYMENTS_C0 } else { ORDERS_DB }
}

#[divan::bench(args = TIERS)]
fn render_request_files(bencher: Bencher, tier: &str) {
    let loaded = LoadedPolicy::embedded();
    let policy = &loaded.policy;
    let request = parse_one(request_for(tier), policy);
    let decision: Decision = schedule::schedule(policy, &policy_ref(&loaded), &request.demand()).unwrap();
    let renderer = Renderer::embedded();
    let names = NameScheme::for_new(request.kind);
    let input = RenderInput {
        data: &idp::record::DataClaims::NONE,
        request: &request,
        decision: &decision,
        policy,
        active: Side::Primary,
        names,
        unprotect: false,
        draining: false,
        moving: None,
    };
    let files = renderer.request_files(&input).unwrap();
    assert_eq!(files.len(), if tier == "C0" { 3 } else { 1 }, "claims (+ replication)");
    bencher.bench(|| renderer.request_files(black_box(&input)).unwrap());
}

#[divan::bench(args = TIERS)]
fn parse_request(bencher: Bencher, tier: &str) {
    let policy = LoadedPolicy::embedded().policy;
    let sources = [Source::new("bench.yaml", request_for(tier))];
    bencher.bench(|| {
        request::parse_sources(black_box(&sources), None, &policy, Products::embedded(), request::Admission::Submitted)
            .unwrap()
    });
}

#[divan::bench(args = TIERS)]
fn check_claims(bencher: Bencher, tier: &str) {
    let loaded = LoadedPolicy::embedded();
    let policy = &loaded.policy;
    let request = parse_one(request_for(tier), policy);
    let decision: Decision = schedule::schedule(policy, &policy_ref(&loaded), &request.demand()).unwrap();
    let names = NameScheme::for_new(request.kind);
    let input = RenderInput {
        data: &idp::record::DataClaims::NONE,
        request: &request,
        decision: &decision,
        policy,
        active: Side::Primary,
        names,
        unprotect: false,
        draining: false,
        moving: None,
    };
    let files = Renderer::embedded().request_files(&input).unwrap();
    let xrds = Xrds::embedded().unwrap();
    bencher.bench(|| {
        for file in &files {
            let checked = xrds.check_file(black_box(&file.content), Some(&file.content)).unwrap();
            assert!(checked.iter().all(|c| c.violations.is_empty()));
        }
    });
}

#[divan::bench]
fn load_xrds(bencher: Bencher) {
    bencher.bench(|| Xrds::parse(black_box(EMBEDDED_XRDS)).unwrap());
}
