//! Properties of the scheduler over random policies and requests: whatever
//! the pool, the decision is deterministic, explainable and never picks a
//! candidate it rejected.

use std::collections::BTreeMap;

use idp::policy::{Candidate, LoadedPolicy, Policy, SecondaryRule, Tier};
use idp::schedule::{Demand, PolicyRef, ScheduleError, schedule, unsatisfied};
use proptest::prelude::*;

const CAPABILITIES: [&str; 4] = ["pitr", "multi_az", "private_networking", "cross_region_replication"];
const PROVIDERS: [&str; 4] = ["aws", "gcp", "oci", "azure"];

fn subset(mask: u8) -> Vec<String> {
    CAPABILITIES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| (*c).to_owned()).collect()
}

prop_compose! {
    fn candidate()(provider in 0..4usize, caps in 0u8..16, scores in prop::collection::vec(0u32..=100, 4)) -> (usize, Vec<String>, Vec<f64>) {
        (provider, subset(caps), scores.into_iter().map(|s| f64::from(s) / 100.0).collect())
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
    ) -> (Policy, bool) {
        let mut policy = LoadedPolicy::embedded().policy;
        let dims = policy.dimensions.clone();
        policy.candidates = pool
            .into_iter()
            .enumerate()
            .map(|(i, (provider, capabilities, scores))| Candidate {
                provider: PROVIDERS[provider].to_owned(),
                region: format!("region-{i}"),
                runtime_cluster: format!("cluster-{i}"),
                network: BTreeMap::new(),
                capabilities,
                scores: dims.iter().cloned().zip(scores).collect(),
                cordoned: false,
            })
            .collect();
        let sum: u32 = weights.iter().sum();
        let weights = dims.iter().cloned().zip(weights.iter().map(|w| f64::from(*w) / f64::from(sum))).collect();
        let tier = Tier {
            rto_minutes: Some(60),
            rpo_seconds: Some(60),
            gates: subset(gates),
            weights,
            secondary: SecondaryRule { required, gates: subset(secondary_gates) },
            default_dr_profile: Some("gold".into()),
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
    fn decisions_are_deterministic_and_explainable((policy, ha) in scenario()) {
        let pref = PolicyRef { version: "p".into(), digest: "d".into() };
        let demand = Demand { cell: "cell-eu", tier: "t", ha, dr_profile: None };
        let first = schedule(&policy, &pref, &demand);
        let second = schedule(&policy, &pref, &demand);
        prop_assert_eq!(format!("{first:?}"), format!("{second:?}"));

        let mut gates = policy.tiers["t"].gates.clone();
        if ha && !gates.iter().any(|g| g == "multi_az") {
            gates.push("multi_az".into());
        }
        let passing: Vec<&Candidate> = policy.candidates.iter().filter(|c| gates.iter().all(|g| c.has(g))).collect();
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
                // Totals lie in 0..=1.
                for ranked in &decision.reason.top_3_candidates {
                    prop_assert!((0.0..=1.0).contains(&ranked.total_score));
                }
                prop_assert_eq!(decision.reason.candidates_passed_gates, passing.len());
                // A required secondary is always in another provider and passes its gates.
                if policy.tiers["t"].secondary.required {
                    let secondary = decision.secondary.as_ref().unwrap();
                    prop_assert_ne!(&secondary.provider, &decision.primary.provider);
                    let candidate = policy.candidates.iter().find(|c| c.id() == secondary.id()).unwrap();
                    prop_assert!(policy.tiers["t"].secondary.gates.iter().all(|g| candidate.has(g)));
                }
                // A sticky placement still fits the request it was made for.
                prop_assert_eq!(unsatisfied(&policy, &demand, &decision.primary), None);
            }
            Err(ScheduleError::NoCandidate { rejected, .. }) => {
                prop_assert!(passing.is_empty());
                prop_assert_eq!(rejected.len(), policy.candidates.len());
            }
            Err(ScheduleError::NoSecondary { .. }) => {
                prop_assert!(!passing.is_empty());
                prop_assert!(policy.tiers["t"].secondary.required);
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }
}
