//! Monthly cost estimates from the policy's price table. Estimates, not
//! invoices: every figure says so.

use indexmap::IndexMap;
use serde::Serialize;

use crate::cell::Side;
use crate::policy::{ComputeMode, Policy};
use crate::request::{Request, Spec};
use crate::schedule::Decision;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    #[serde(rename = "monthlyUSD")]
    pub monthly_usd: f64,
    /// What the total is made of, in USD per month.
    pub breakdown: IndexMap<String, f64>,
    /// Always true: list prices from the policy, not a bill.
    pub estimate: bool,
}

/// The estimated monthly cost of a placed request, or None when the policy
/// has no price table.
pub fn estimate(policy: &Policy, request: &Request, decision: &Decision) -> Option<Cost> {
    let pricing = policy.pricing.as_ref()?;
    let prices = |provider: &str| pricing.providers.get(provider);
    let mut breakdown = IndexMap::new();
    match &request.spec {
        Spec::Data { fields, cost, .. } => {
            // The product's cost model says which fields the table prices: a
            // size, a size per GB (none: no storage line), an ha multiplier.
            let model = cost.as_ref()?;
            let size = fields.get(&model.size).and_then(|s| s.as_str())?;
            let storage_gb = model.per_gb.as_ref().map(|f| fields.get(f).and_then(|g| g.as_f64()).unwrap_or(0.0));
            let ha = model.ha.as_ref().and_then(|f| fields.get(f)).and_then(|h| h.as_bool()).unwrap_or(false);
            let database = |provider: &str| {
                let p = prices(provider)?;
                Some((p.sizes.get(size).copied()? * model.factor, storage_gb.unwrap_or(0.0) * p.per_gb * model.factor))
            };
            let (instance, storage) = database(&decision.primary.provider)?;
            breakdown.insert("instance".into(), instance);
            if storage_gb.is_some() {
                breakdown.insert("storage".into(), storage);
            }
            if ha {
                breakdown.insert("ha".into(), (instance + storage) * (pricing.ha_multiplier - 1.0));
            }
            if let Some(secondary) = &decision.secondary {
                let (instance, storage) = database(&secondary.provider)?;
                breakdown.insert("secondary".into(), (instance + storage) * pricing.secondary_multiplier);
            }
        }
        Spec::App { replicas, .. } => {
            breakdown.insert("replicas".into(), f64::from(*replicas) * prices(&decision.primary.provider)?.per_replica);
            if let Some(secondary) = &decision.secondary {
                let mode = decision
                    .reason
                    .dr_profile
                    .as_deref()
                    .and_then(|d| policy.dr_profiles.get(d))
                    .map(|d| d.compute_mode);
                let standby = standby_replicas(mode, *replicas);
                breakdown.insert("standby".into(), f64::from(standby) * prices(&secondary.provider)?.per_replica);
            }
        }
    }
    for value in breakdown.values_mut() {
        *value = cents(*value);
    }
    Some(Cost { monthly_usd: cents(breakdown.values().sum()), breakdown, estimate: true })
}

/// Replicas a standby side runs before a failover, by compute mode.
pub fn standby_replicas(mode: Option<ComputeMode>, replicas: u32) -> u32 {
    match mode {
        Some(ComputeMode::Warm) => replicas.min(1),
        _ => 0,
    }
}

/// Replicas one side of an app runs, given the cell's active side.
pub fn side_replicas(side: Side, active: Side, mode: Option<ComputeMode>, replicas: u32) -> u32 {
    match (side == active, side) {
        (true, _) => replicas,
        (false, Side::Primary) => 0,
        (false, Side::Secondary) => standby_replicas(mode, replicas),
    }
}

/// Rounded to cents; `+ 0.0` turns the -0.0 of an empty sum into 0.0.
pub fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A product's cost model prices the fields it names: Redis has no
    /// storage line; a factor scales the table; no model, no estimate.
    #[test]
    fn each_product_is_priced_by_its_cost_model() {
        let (policy, mut request, mut decision) = crate::test_support::payments_c0();
        decision.secondary = None;
        let products = crate::product::Products::embedded();
        let redis = products.named("redis").unwrap();
        request.spec = Spec::data(
            redis,
            serde_json::json!({"size": "small", "ha": true, "version": "7.x"}).as_object().unwrap().clone(),
        );
        let cost = estimate(&policy, &request, &decision).unwrap();
        assert_eq!(cost.breakdown.keys().collect::<Vec<_>>(), ["instance", "ha"]);
        assert_eq!(cost.monthly_usd, 300.0);

        let mut half = redis.clone();
        half.cost.as_mut().unwrap().factor = 0.5;
        request.spec =
            Spec::data(&half, serde_json::json!({"size": "small", "ha": false}).as_object().unwrap().clone());
        assert_eq!(estimate(&policy, &request, &decision).unwrap().monthly_usd, 75.0);

        let mut unpriced = redis.clone();
        unpriced.cost = None;
        request.spec =
            Spec::data(&unpriced, serde_json::json!({"size": "small", "ha": false}).as_object().unwrap().clone());
        assert_eq!(estimate(&policy, &request, &decision), None);
    }

    #[test]
    fn a_database_costs_instance_storage_ha_and_secondary() {
        let (policy, request, decision) = crate::test_support::payments_c0();
        let cost = estimate(&policy, &request, &decision).unwrap();
        // aws small 150 + 50 GB x 0.115; ha doubles; secondary on gcp: 140 + 50 x 0.17.
        assert_eq!(cost.breakdown["instance"], 150.0);
        assert_eq!(cost.breakdown["storage"], 5.75);
        assert_eq!(cost.breakdown["ha"], 155.75);
        assert_eq!(cost.breakdown["secondary"], 148.5);
        assert_eq!(cost.monthly_usd, 460.0);
        assert!(cost.estimate);
        assert_eq!(cents(Vec::<f64>::new().into_iter().sum()).to_string(), "0");
    }

    #[test]
    fn standby_replicas_follow_the_compute_mode() {
        assert_eq!(side_replicas(Side::Secondary, Side::Primary, Some(ComputeMode::Warm), 3), 1);
        assert_eq!(side_replicas(Side::Secondary, Side::Primary, Some(ComputeMode::Pilot), 3), 0);
        assert_eq!(side_replicas(Side::Secondary, Side::Primary, Some(ComputeMode::Cold), 3), 0);
        assert_eq!(side_replicas(Side::Secondary, Side::Secondary, Some(ComputeMode::Cold), 3), 3);
        assert_eq!(side_replicas(Side::Primary, Side::Secondary, Some(ComputeMode::Warm), 3), 0);
    }
}
