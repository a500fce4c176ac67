//! Properties of the scheduler over random policies and requests: whatever
//! the pool, the decision is deterministic, explainable and never picks a
//! candidate it rejected; and a placement once recorded is returned unchanged.
//!
//! Pools are random in size, providers, capabilities, scores, cordons and cell
//! restrictions; tiers in gates, weights and secondary rules; requests in ha
//! and drProfile.

use std::collections::BTreeMap;

use idp::layout::NameScheme;
use idp::policy::{Candidate, LoadedPolicy, Policy, SecondaryRule, Tier};
use idp::record::PlacementRecord;
use idp::request::Request;
use idp::schedule::{Demand, PolicyRef, ScheduleError, schedule, unsatisfied};
use proptest::prelude::*;

#[path = "support/mysql.rs"]
mod mysql_support;
use mysql_support::{MULTI_AZ, mysql};

const CAPABILITIES: [&str; 4] = ["pitr", "multi_az", "private_networking", "cross_region_replication"];
const PROVIDERS: [&str; 4] = ["aws", "gcp", "oci", "azure"];

fn subset(mask: u8) -> Vec<String> {
    CAPABILITIES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| (*c).to_owned()).collect()
}

prop_compose! {
    fn candidate()(
        provider in 0..4usize,
        caps in 0u8..16,
        scores in prop::collection::vec(0u32..=100, 4),
        cordoned in prop::bool::weighted(0.1),
        in_cell in prop::bool::weighted(0.8),
    ) -> (usize, Vec<String>, Vec<f64>, bool, bool) {
        (provider, subset(caps), scores.into_iter().map(|s| f64::from(s) / 100.0).collect(), cordoned, in_cell)
    }
}

prop_compose! {
    fn scenario()(
        pool in prop::collection::vec(candidate(), 1..12),
        weights in prop::collection::vec(1u32..=10, 4),
        gates in 0u8..16,
        secondary_gates in 0u8..16,
        required in any::<bool>(),
        ha in any::<bool>(),
        restricted in any::<bool>(),
    ) -> (Policy, bool) {
        let mut policy = LoadedPolicy::embedded().policy;
        let dims = policy.dimensions.clone();
        let mut allowed = Vec::new();
        policy.candidates = pool
            .into_iter()
            .enumerate()
            .map(|(i, (provider, capabilities, scores, cordoned, in_cell))| {
                let candidate = Candidate {
                    provider: PROVIDERS[provider].to_owned(),
                    region: format!("region-{i}"),
                    runtime_cluster: format!("cluster-{i}"),
                    runtime_clusters: BTreeMap::from([("dev".to_owned(), format!("cluster-{i}-dev"))]),
                    network: BTreeMap::new(),
                    capabilities,
                    scores: dims.iter().cloned().zip(scores).collect(),
                    cordoned,
                };
                if in_cell {
                    allowed.push(candidate.id());
                }
                candidate
            })
            .collect();
        // The request's cell may use the whole pool or only some of it.
        policy.cells.get_mut("cell-eu").expect("cell-eu in the default policy").candidates =
            restricted.then_some(allowed);
        let sum: u32 = weights.iter().sum();
        let weights = dims.iter().cloned().zip(weights.iter().map(|w| f64::from(*w) / f64::from(sum))).collect();
        let tier = Tier {
            rto_minutes: Some(60),
            rpo_seconds: Some(60),
            gates: subset(gates),
            weights,
            secondary: SecondaryRule { required, gates: subset(secondary_gates) },
            default_dr_profile: Some("gold".into()),
            deletion_protection: None,
        };
        policy.tiers.insert("t".into(), tier);
        (policy, ha)
    }
}

fn total(policy: &Policy, candidate: &Candidate) -> f64 {
    let tier = &policy.tiers["t"];
    let raw: f64 = policy.dimensions.iter().map(|d| candidate.scores[d] * tier.weights[d]).sum();
    (raw * 10_000.0).round() / 10_000.0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decisions_are_deterministic_and_explainable((policy, ha) in scenario(), dev in any::<bool>()) {
        let pref = PolicyRef { version: "p".into(), digest: "d".into() };
        let environment = if dev { "dev" } else { "production" };
        let demand = Demand { cell: "cell-eu", environment, tier: "t", ha, gates: if ha { &*MULTI_AZ } else { &[] }, pairs: None, dr_profile: None };
        let first = schedule(&policy, &pref, &demand);
        let second = schedule(&policy, &pref, &demand);
        prop_assert_eq!(format!("{first:?}"), format!("{second:?}"));

        let mut gates = policy.tiers["t"].gates.clone();
        if ha && !gates.iter().any(|g| g == "multi_az") {
            gates.push("multi_az".into());
        }
        let eligible = |c: &&Candidate| !c.cordoned && policy.cell_allows("cell-eu", c);
        let passing: Vec<&Candidate> =
            policy.candidates.iter().filter(eligible).filter(|c| gates.iter().all(|g| c.has(g))).collect();
        match first {
            Ok(decision) => {
                let winner = policy.candidates.iter().find(|c| c.id() == decision.primary.id()).unwrap();
                // The winner passes every gate and has the maximum total.
                prop_assert!(gates.iter().all(|g| winner.has(g)));
                let best = passing.iter().map(|c| total(&policy, c)).fold(f64::MIN, f64::max);
                prop_assert_eq!(decision.reason.selected.total_score, best);
                prop_assert_eq!(total(&policy, winner), best);
                // No rejected candidate is ever selected.
                let selected_rejected =
                    decision.reason.rejected.iter().any(|r| r.provider == decision.primary.provider && r.region == decision.primary.region);
                prop_assert!(!selected_rejected);
                prop_assert!(eligible(&winner), "a cordoned or out-of-cell candidate won");
                // Every cluster shown is the candidate's cluster for the environment.
                prop_assert_eq!(&decision.primary.runtime_cluster, winner.runtime_cluster_in(environment));
                let cluster_of = |region: &str| {
                    policy.candidates.iter().find(|c| c.region == region).unwrap().runtime_cluster_in(environment).to_owned()
                };
                for ranked in &decision.ranking {
                    prop_assert_eq!(&ranked.runtime_cluster, &cluster_of(&ranked.region));
                }
                for rejected in &decision.reason.rejected {
                    prop_assert_eq!(&rejected.runtime_cluster, &cluster_of(&rejected.region));
                }
                // Totals lie in 0..=1, and the ranking is sorted, best first.
                for ranked in decision.reason.top_3_candidates.iter().chain(&decision.ranking) {
                    prop_assert!((0.0..=1.0).contains(&ranked.total_score));
                }
                prop_assert!(decision.ranking.windows(2).all(|w| w[0].total_score >= w[1].total_score));
                prop_assert_eq!(decision.reason.candidates_passed_gates, passing.len());
                // A required secondary is always in another provider and passes its gates.
                if policy.tiers["t"].secondary.required {
                    let secondary = decision.secondary.as_ref().unwrap();
                    prop_assert_ne!(&secondary.provider, &decision.primary.provider);
                    let candidate = policy.candidates.iter().find(|c| c.id() == secondary.id()).unwrap();
                    prop_assert!(policy.tiers["t"].secondary.gates.iter().all(|g| candidate.has(g)));
                    prop_assert!(eligible(&candidate));
                    let rejected = &decision.reason.secondary.as_ref().unwrap().rejected;
                    prop_assert!(!rejected.iter().any(|r| r.provider == secondary.provider && r.region == secondary.region));
                } else {
                    prop_assert!(decision.secondary.is_none(), "a secondary nobody asked for");
                }
                // A sticky placement still fits the request it was made for.
                prop_assert_eq!(unsatisfied(&policy, &demand, &decision.primary), None);
            }
            Err(ScheduleError::NoCandidate { rejected, .. }) => {
                prop_assert!(passing.is_empty());
                prop_assert_eq!(rejected.len(), policy.candidates.len());
            }
            Err(ScheduleError::NoSecondary { .. }) if !policy.tiers["t"].secondary.required => {
                prop_assert!(false, "NoSecondary without a required secondary");
            }
            Err(ScheduleError::NoSecondary { .. }) => {
                prop_assert!(!passing.is_empty());
                prop_assert!(policy.tiers["t"].secondary.required);
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }
}

fn request() -> Request {
    Request {
        kind: mysql("small", 10, false).0,
        name: "db".into(),
        namespace: "team".into(),
        cell: "cell-eu".into(),
        tier: "t".into(),
        environment: "production".into(),
        dr_profile: None,
        spec: mysql("small", 10, false).1,
        origin: "prop".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Sticky placements: what plan reads back from `placements/` is the
    /// decision that was recorded, field for field; and a later policy that
    /// only rescores the pool (new weights, new scores) still finds the
    /// placement fitting, so it is kept instead of moved.
    #[test]
    fn recorded_placements_are_returned_unchanged(
        (policy, ha) in scenario(),
        (later, _) in scenario(),
        wants_dr in any::<bool>(),
    ) {
        let pref = PolicyRef { version: "p".into(), digest: "d".into() };
        let dr_profile = wants_dr.then_some("gold");
        let demand = Demand { cell: "cell-eu", environment: "production", tier: "t", ha, gates: if ha { &*MULTI_AZ } else { &[] }, pairs: None, dr_profile };
        let Ok(decision) = schedule(&policy, &pref, &demand) else { return Ok(()) };
        if wants_dr {
            prop_assert!(decision.secondary.is_some(), "a drProfile asks for a secondary");
        }
        let mut req = request();
        req.dr_profile = dr_profile.map(str::to_owned);
        req.spec = mysql("small", 10, ha).1;
        let yaml = PlacementRecord::new(&req, &decision, NameScheme::for_new(req.kind)).to_yaml();
        let read_back = PlacementRecord::parse(&yaml, idp::product::Products::embedded()).expect("a record reads back").decision();
        prop_assert_eq!(&read_back.primary, &decision.primary);
        prop_assert_eq!(&read_back.secondary, &decision.secondary);
        prop_assert_eq!(&read_back.reason, &decision.reason);

        // The same pool and cell rules, rescored: the old placement still fits.
        let mut rescored = policy.clone();
        for (candidate, other) in rescored.candidates.iter_mut().zip(later.candidates.iter().cycle()) {
            candidate.scores = other.scores.clone();
        }
        rescored.tiers.get_mut("t").unwrap().weights = later.tiers["t"].weights.clone();
        prop_assert_eq!(unsatisfied(&rescored, &demand, &read_back.primary), None);
    }
}
