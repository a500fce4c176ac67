//! Placement: gates, weighted scores, ranking, the secondary, and the reason.
//!
//! A pure function of (policy, demand): no IO, no clock, no randomness. Every
//! candidate is either ranked or rejected with what it lacked, so the reason
//! record explains the whole decision. Ties keep policy order (stable sort).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use miette::Diagnostic;
use serde::{Deserialize, Serialize};

use crate::policy::{Candidate, Policy};

/// What placement needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct Demand<'a> {
    pub cell: &'a str,
    /// The canonical environment: it picks each candidate's runtime cluster.
    pub environment: &'a str,
    pub tier: &'a str,
    /// Whether the request asks for high availability (recorded in the reason).
    pub ha: bool,
    /// The capabilities its fields require of a primary beyond the tier's
    /// gates (MySQL's `ha: true` requires multi_az): its product's
    /// definition says which.
    pub gates: &'a [String],
    /// The drProfile the request names; the tier's default applies otherwise.
    pub dr_profile: Option<&'a str>,
    /// The provider pairs its secondary may be placed in with its primary,
    /// when its product's replication is limited to some (None: any pair).
    pub pairs: Option<SecondaryPairs<'a>>,
}

/// The replication that keeps a secondary and the provider pairs it works
/// between, either way round.
#[derive(Debug, Clone, Copy)]
pub struct SecondaryPairs<'a> {
    pub tool: &'a str,
    pub between: &'a [[String; 2]],
}

impl SecondaryPairs<'_> {
    pub fn allows(&self, a: &str, b: &str) -> bool {
        self.between.iter().any(|[x, y]| (x == a && y == b) || (x == b && y == a))
    }
}

/// The policy identity recorded with every decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub version: String,
    pub digest: String,
}

/// Where one side of a request runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub provider: String,
    pub region: String,
    pub runtime_cluster: String,
    pub network: BTreeMap<String, String>,
}

impl Target {
    pub fn of(candidate: &Candidate, environment: &str) -> Self {
        Self {
            provider: candidate.provider.clone(),
            region: candidate.region.clone(),
            runtime_cluster: candidate.runtime_cluster_in(environment).to_owned(),
            network: candidate.network.clone(),
        }
    }

    /// `provider/region`, as candidates are named in the policy.
    pub fn id(&self) -> String {
        format!("{}/{}", self.provider, self.region)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub primary: Target,
    pub secondary: Option<Target>,
    pub reason: Reason,
    /// Every candidate that passed the gates, best first: the full table for
    /// people. The reason keeps only the top three, so records stay small.
    #[serde(skip)]
    pub ranking: Vec<Ranked>,
}

/// The explanation recorded in the claim annotation and the placement record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub tier: String,
    pub dr_profile: Option<String>,
    pub rto_minutes: u32,
    pub rpo_minutes: f64,
    pub gates: Vec<String>,
    pub ha_enforced: bool,
    pub weights: IndexMap<String, f64>,
    pub selected: Scored,
    pub top_3_candidates: Vec<Ranked>,
    pub rejected: Vec<Rejection>,
    pub candidates_evaluated: usize,
    pub candidates_passed_gates: usize,
    pub secondary: Option<SecondaryReason>,
    /// For an app that follows its data: the database it was co-located with.
    #[serde(default)]
    pub follows: Option<String>,
    /// Warnings of the policy rules when the decision was made.
    #[serde(default)]
    pub warnings: Vec<String>,
    pub policy: PolicyRef,
}

impl Reason {
    /// The RPO a replication of the placement is held to: its drProfile's,
    /// else the one recorded (the tier's).
    pub fn rpo_seconds(&self, policy: &Policy) -> u32 {
        let profile = self.dr_profile.as_deref().and_then(|name| policy.dr_profiles.get(name));
        profile.map_or((self.rpo_minutes * 60.0).round() as u32, |p| p.rpo_seconds)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub provider: String,
    pub region: String,
    pub runtime_cluster: String,
    pub total_score: f64,
    /// Each dimension's contribution, raw score × weight; they add up to the total.
    pub subscores: IndexMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub rank: usize,
    pub provider: String,
    pub region: String,
    pub runtime_cluster: String,
    pub total_score: f64,
    pub subscores: IndexMap<String, f64>,
}

/// A candidate that could not be chosen, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub provider: String,
    pub region: String,
    pub runtime_cluster: String,
    /// Gate capabilities it lacks.
    pub missing: Vec<String>,
    /// A reason other than a missing capability: outside the cell, same provider
    /// as the primary.
    pub excluded: Option<String>,
}

impl Rejection {
    /// One line for humans: what kept this candidate out.
    pub fn why(&self) -> String {
        let mut parts = Vec::new();
        if let Some(excluded) = &self.excluded {
            parts.push(excluded.clone());
        }
        if !self.missing.is_empty() {
            parts.push(format!("missing {}", self.missing.join(", ")));
        }
        parts.join("; ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondaryReason {
    pub required: bool,
    pub gates: Vec<String>,
    pub selected: Scored,
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ScheduleError {
    #[error("the data this app follows sits on {placement}, which fails the app's gates: {why}")]
    #[diagnostic(
        code(idp::schedule::follow),
        help("give the app a tier whose gates the database's placement meets, or move the database")
    )]
    CannotFollow { placement: String, why: String },

    #[error("tier `{0}` is not defined by the policy")]
    #[diagnostic(code(idp::schedule::tier))]
    UnknownTier(String),

    #[error("drProfile `{0}` is not defined by the policy")]
    #[diagnostic(code(idp::schedule::dr_profile))]
    UnknownDrProfile(String),

    #[error("no candidate passes the gates of tier {tier} ({}) in cell {cell}", gates.join(", "))]
    #[diagnostic(
        code(idp::schedule::no_candidate),
        help(
            "every candidate was rejected:\n{}\nchoose another tier or cell, or ask the platform team to extend the pool",
            list(rejected)
        )
    )]
    NoCandidate { tier: String, cell: String, gates: Vec<String>, rejected: Vec<Rejection> },

    #[error("tier {tier} needs a secondary in another provider than {primary}, and none passes the secondary gates ({})", gates.join(", "))]
    #[diagnostic(
        code(idp::schedule::no_secondary),
        help(
            "candidates considered for the secondary:\n{}\nchoose a tier or drProfile without a cross-cloud secondary, or ask the platform team to extend the pool",
            list(rejected)
        )
    )]
    NoSecondary { tier: String, primary: String, gates: Vec<String>, rejected: Vec<Rejection> },
}

fn list(rejected: &[Rejection]) -> String {
    rejected.iter().map(|r| format!("  - {}/{}: {}", r.provider, r.region, r.why())).collect::<Vec<_>>().join("\n")
}

/// Places a request: the best candidate passing the tier's gates and, when the
/// tier or drProfile calls for one, the best candidate of another provider
/// passing the secondary gates.
pub fn schedule(policy: &Policy, policy_ref: &PolicyRef, demand: &Demand<'_>) -> Result<Decision, ScheduleError> {
    schedule_with(policy, policy_ref, demand, &|_| None)
}

/// [`schedule`], with candidates a caller refuses (policy rules): a refused
/// candidate is rejected like a gate failure, with the caller's reason.
pub fn schedule_with(
    policy: &Policy,
    policy_ref: &PolicyRef,
    demand: &Demand<'_>,
    refuse: &dyn Fn(&Candidate) -> Option<String>,
) -> Result<Decision, ScheduleError> {
    let tier = policy.tiers.get(demand.tier).ok_or_else(|| ScheduleError::UnknownTier(demand.tier.into()))?;
    let dr_name = policy.effective_dr_profile(tier, demand.dr_profile);
    let dr = match dr_name {
        Some(name) => Some(policy.dr_profiles.get(name).ok_or_else(|| ScheduleError::UnknownDrProfile(name.into()))?),
        None => None,
    };

    let Primaries { gates, weights, evaluated } = rank_primaries(policy, tier, demand, refuse)?;
    let winner = &evaluated.ranked[0];
    let primary = &policy.candidates[winner.index];

    let wants_secondary = tier.secondary.required || demand.dr_profile.is_some();
    let secondary = if wants_secondary {
        let other = evaluate(policy, &weights, &tier.secondary.gates, demand, &|c| {
            (c.provider == primary.provider)
                .then(|| format!("same provider as the primary ({})", primary.provider))
                .or_else(|| {
                    let pairs = demand.pairs.filter(|p| !p.allows(&primary.provider, &c.provider))?;
                    Some(format!(
                        "{} does not replicate {} to {} for this product",
                        pairs.tool, primary.provider, c.provider
                    ))
                })
                .or_else(|| refuse(c))
        });
        let Some(best) = other.ranked.first() else {
            return Err(ScheduleError::NoSecondary {
                tier: demand.tier.into(),
                primary: primary.id(),
                gates: tier.secondary.gates.clone(),
                // Same-provider candidates are not what the operator needs to fix.
                rejected: other.rejected.into_iter().filter(|r| r.provider != primary.provider).collect(),
            });
        };
        Some((best.clone(), other.rejected, &policy.candidates[best.index]))
    } else {
        None
    };

    let (rto_minutes, rpo_seconds) = match (tier.rto_minutes, tier.rpo_seconds, dr) {
        (Some(rto), Some(rpo), _) => (rto, rpo),
        (_, _, Some(dr)) => (dr.rto_minutes, dr.rpo_seconds),
        // Policy validation guarantees targets from one of the two.
        _ => (0, 0),
    };
    let ranking: Vec<Ranked> =
        evaluated.ranked.iter().enumerate().map(|(i, c)| c.ranked(policy, demand.environment, i + 1)).collect();
    let reason = Reason {
        tier: demand.tier.into(),
        dr_profile: dr_name.map(str::to_owned),
        rto_minutes,
        rpo_minutes: round4(f64::from(rpo_seconds) / 60.0),
        gates,
        ha_enforced: demand.ha,
        weights,
        selected: winner.scored(policy, demand.environment),
        top_3_candidates: ranking.iter().take(3).cloned().collect(),
        rejected: evaluated.rejected,
        candidates_evaluated: policy.candidates.len(),
        candidates_passed_gates: evaluated.ranked.len(),
        secondary: secondary.as_ref().map(|(best, rejected, _)| SecondaryReason {
            required: tier.secondary.required,
            gates: tier.secondary.gates.clone(),
            selected: best.scored(policy, demand.environment),
            rejected: rejected.clone(),
        }),
        follows: None,
        warnings: Vec::new(),
        policy: policy_ref.clone(),
    };
    Ok(Decision {
        primary: Target::of(primary, demand.environment),
        secondary: secondary.map(|(_, _, candidate)| Target::of(candidate, demand.environment)),
        reason,
        ranking,
    })
}

/// A primary's gates (the tier's, and those the request's fields add), the tier's weights,
/// and every candidate ranked by them or rejected.
struct Primaries {
    gates: Vec<String>,
    weights: IndexMap<String, f64>,
    evaluated: Evaluation,
}

/// The candidates for a primary; an error when none passes.
fn rank_primaries(
    policy: &Policy,
    tier: &crate::policy::Tier,
    demand: &Demand<'_>,
    refuse: &dyn Fn(&Candidate) -> Option<String>,
) -> Result<Primaries, ScheduleError> {
    let mut gates = tier.gates.clone();
    for gate in demand.gates {
        if !gates.contains(gate) {
            gates.push(gate.clone());
        }
    }
    let weights: IndexMap<String, f64> =
        policy.dimensions.iter().map(|d| (d.clone(), tier.weights.get(d).copied().unwrap_or(0.0))).collect();
    let evaluated = evaluate(policy, &weights, &gates, demand, refuse);
    if evaluated.ranked.is_empty() {
        return Err(ScheduleError::NoCandidate {
            tier: demand.tier.into(),
            cell: demand.cell.into(),
            gates,
            rejected: evaluated.rejected,
        });
    }
    Ok(Primaries { gates, weights, evaluated })
}

/// The best place for a request's primary alone, under the policy in force,
/// with `refuse` saying which candidates may not take it (and why): where
/// `idp migrate --reschedule` moves a database, keeping its secondary.
pub fn best_primary(
    policy: &Policy,
    demand: &Demand<'_>,
    refuse: &dyn Fn(&Candidate) -> Option<String>,
) -> Result<Target, ScheduleError> {
    let tier = policy.tiers.get(demand.tier).ok_or_else(|| ScheduleError::UnknownTier(demand.tier.into()))?;
    let best = &rank_primaries(policy, tier, demand, refuse)?.evaluated.ranked[0];
    Ok(Target::of(&policy.candidates[best.index], demand.environment))
}

/// Places an app with the data it uses: its primary on the database's
/// primary, its secondary on the database's secondary (when the database has
/// one), so that a failover moves both together. The ranking and rejections
/// still explain every candidate; the reason says what was followed.
pub fn follow(
    policy: &Policy,
    policy_ref: &PolicyRef,
    demand: &Demand<'_>,
    data: (&Target, Option<&Target>),
    source: &str,
    refuse: &dyn Fn(&Candidate) -> Option<String>,
) -> Result<Decision, ScheduleError> {
    let (primary, data_secondary) = data;
    if let Some(why) = unsatisfied(policy, demand, primary) {
        return Err(ScheduleError::CannotFollow { placement: primary.id(), why });
    }
    let mut decision = schedule_with(policy, policy_ref, demand, refuse)?;
    let weights = decision.reason.weights.clone();
    let index_of = |target: &Target| policy.candidate_index(&target.provider, &target.region);
    let scored = |target: &Target| Some(score(policy, index_of(target)?, &weights).scored(policy, demand.environment));
    // The app runs on the runtime cluster of its own environment in the data's
    // region; the database's record may predate the policy's cluster map.
    let beside = |target: &Target| match policy.candidate(&target.provider, &target.region) {
        Some(candidate) => {
            Target { runtime_cluster: candidate.runtime_cluster_in(demand.environment).to_owned(), ..target.clone() }
        }
        None => target.clone(),
    };
    if let Some(selected) = scored(primary) {
        decision.reason.selected = selected;
    }
    decision.primary = beside(primary);
    if let Some(secondary) = data_secondary {
        decision.secondary = Some(beside(secondary));
        let selected = scored(secondary);
        match (&mut decision.reason.secondary, selected) {
            (Some(reason), Some(selected)) => reason.selected = selected,
            (None, Some(selected)) => {
                let tier = &policy.tiers[demand.tier];
                decision.reason.secondary = Some(SecondaryReason {
                    required: false,
                    gates: tier.secondary.gates.clone(),
                    selected,
                    rejected: Vec::new(),
                });
            }
            _ => {}
        }
    }
    decision.reason.follows = Some(source.to_owned());
    Ok(decision)
}

/// `provider/region (secondary provider/region)`, or `(no secondary)`: where
/// both sides of a placement are, for messages.
pub fn sides(primary: &Target, secondary: Option<&Target>) -> String {
    match secondary {
        Some(s) => format!("{} (secondary {})", primary.id(), s.id()),
        None => format!("{} (no secondary)", primary.id()),
    }
}

/// Why an app's placement no longer sits with the data it follows (named
/// `data` in the message), if it does not: the primary must be the data's,
/// and so must the secondary when the data has one ([`follow`] gives an app
/// without a secondary of the data's its own, or none).
pub fn apart(data: &str, with: (&Target, Option<&Target>), app: (&Target, Option<&Target>)) -> Option<String> {
    let ((primary, secondary), (app_primary, app_secondary)) = (with, app);
    if primary.id() != app_primary.id() {
        return Some(format!("{data} is on {}, the app on {}", primary.id(), app_primary.id()));
    }
    match (secondary, app_secondary) {
        (Some(s), None) => Some(format!("{data} has a secondary on {}, the app has none", s.id())),
        (Some(s), Some(a)) if s.id() != a.id() => {
            Some(format!("{data} has its secondary on {}, the app on {}", s.id(), a.id()))
        }
        _ => None,
    }
}

/// Why an app's side no longer runs where the policy runs its environment's
/// apps, if it does not: the policy mapped the environment to a new runtime
/// cluster after the app was placed. The app stays (placements never move
/// silently) until `--reschedule`.
pub fn stale_cluster(policy: &Policy, environment: &str, placed: &Target) -> Option<String> {
    let candidate = policy.candidate(&placed.provider, &placed.region)?;
    let wanted = candidate.runtime_cluster_in(environment);
    (wanted != placed.runtime_cluster).then(|| {
        format!(
            "runs on runtime cluster {} in {}, where the policy now runs {environment} apps on {wanted}",
            placed.runtime_cluster,
            placed.id()
        )
    })
}

/// Why an existing placement can no longer serve a changed request, if it
/// cannot: its candidate lacks a gate the request now needs, or it left the
/// request's cell. Sticky placements are only moved on an explicit
/// `--reschedule`.
pub fn unsatisfied(policy: &Policy, demand: &Demand<'_>, existing: &Target) -> Option<String> {
    let tier = policy.tiers.get(demand.tier)?;
    let Some(candidate) = policy.candidate(&existing.provider, &existing.region) else {
        return Some(format!("{} is no longer in the policy's candidate pool", existing.id()));
    };
    if !policy.cell_allows(demand.cell, candidate) {
        return Some(format!("{} is not a candidate of cell {}", existing.id(), demand.cell));
    }
    let mut missing: Vec<&str> = tier.gates.iter().map(String::as_str).filter(|g| !candidate.has(g)).collect();
    for gate in demand.gates.iter().map(String::as_str) {
        if !candidate.has(gate) && !missing.contains(&gate) {
            missing.push(gate);
        }
    }
    (!missing.is_empty()).then(|| {
        format!(
            "{} lacks {} required by tier {}{}",
            existing.id(),
            missing.join(", "),
            demand.tier,
            if demand.ha { " with ha" } else { "" }
        )
    })
}

#[derive(Debug, Clone)]
struct Evaluated {
    index: usize,
    total: f64,
    subscores: IndexMap<String, f64>,
}

impl Evaluated {
    fn scored(&self, policy: &Policy, environment: &str) -> Scored {
        let c = &policy.candidates[self.index];
        Scored {
            provider: c.provider.clone(),
            region: c.region.clone(),
            runtime_cluster: c.runtime_cluster_in(environment).to_owned(),
            total_score: self.total,
            subscores: self.subscores.clone(),
        }
    }

    fn ranked(&self, policy: &Policy, environment: &str, rank: usize) -> Ranked {
        let Scored { provider, region, runtime_cluster, total_score, subscores } = self.scored(policy, environment);
        Ranked { rank, provider, region, runtime_cluster, total_score, subscores }
    }
}

struct Evaluation {
    ranked: Vec<Evaluated>,
    rejected: Vec<Rejection>,
}

/// Gates then scores every candidate of the pool; `exclude` rejects a
/// candidate for a reason of the caller's (e.g. the primary's provider).
fn evaluate(
    policy: &Policy,
    weights: &IndexMap<String, f64>,
    gates: &[String],
    demand: &Demand<'_>,
    exclude: &dyn Fn(&Candidate) -> Option<String>,
) -> Evaluation {
    let cell = demand.cell;
    let mut ranked = Vec::new();
    let mut rejected = Vec::new();
    for (index, candidate) in policy.candidates.iter().enumerate() {
        let missing: Vec<String> = gates.iter().filter(|g| !candidate.has(g)).cloned().collect();
        let excluded = if !policy.cell_allows(cell, candidate) {
            Some(format!("not a candidate of cell {cell}"))
        } else if candidate.cordoned {
            Some("cordoned".to_owned())
        } else {
            exclude(candidate)
        };
        if missing.is_empty() && excluded.is_none() {
            ranked.push(score(policy, index, weights));
        } else {
            rejected.push(Rejection {
                provider: candidate.provider.clone(),
                region: candidate.region.clone(),
                runtime_cluster: candidate.runtime_cluster_in(demand.environment).to_owned(),
                missing,
                excluded,
            });
        }
    }
    // Stable: equal totals keep policy order.
    ranked.sort_by(|a, b| b.total.total_cmp(&a.total));
    Evaluation { ranked, rejected }
}

/// A candidate's weighted total and per-dimension contributions.
fn score(policy: &Policy, index: usize, weights: &IndexMap<String, f64>) -> Evaluated {
    let candidate = &policy.candidates[index];
    let raw = |dim: &str| candidate.scores.get(dim).copied().unwrap_or(0.0);
    let subscores = weights.iter().map(|(dim, w)| (dim.clone(), round4(raw(dim) * w))).collect();
    let total = round4(weights.iter().map(|(dim, w)| raw(dim) * w).sum());
    Evaluated { index, total, subscores }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gates MySQL's `ha: true` adds (its product definition).
    static MULTI_AZ: std::sync::LazyLock<[String; 1]> = std::sync::LazyLock::new(|| ["multi_az".to_owned()]);
    use crate::policy::LoadedPolicy;

    fn policy() -> Policy {
        LoadedPolicy::embedded().policy
    }

    fn pref() -> PolicyRef {
        PolicyRef { version: "test".into(), digest: "sha256:0".into() }
    }

    fn place(tier: &str, ha: bool, cell: &str, dr: Option<&str>) -> Result<Decision, ScheduleError> {
        schedule(
            &policy(),
            &pref(),
            &Demand {
                cell,
                environment: "production",
                tier,
                ha,
                gates: if ha { &*MULTI_AZ } else { &[] },
                pairs: None,
                dr_profile: dr,
            },
        )
    }

    #[test]
    fn medium_lands_on_aws_use1_with_or_without_ha() {
        for ha in [false, true] {
            let d = place("medium", ha, "cell-us-east", None).unwrap();
            assert_eq!(d.primary.id(), "aws/us-east-1");
            assert_eq!(d.reason.selected.total_score, 0.825);
            assert_eq!(d.secondary, None);
            assert_eq!(d.reason.ha_enforced, ha);
        }
        let d = place("medium", false, "cell-us-east", None).unwrap();
        assert_eq!(d.reason.candidates_evaluated, 7);
        assert_eq!(d.reason.candidates_passed_gates, 7);
        assert_eq!(d.reason.rto_minutes, 120);
        assert_eq!(d.reason.rpo_minutes, 15.0);
        let ranks: Vec<_> = d.reason.top_3_candidates.iter().map(|c| (c.rank, c.total_score)).collect();
        assert_eq!(ranks, [(1, 0.825), (2, 0.815), (3, 0.8)]);
    }

    #[test]
    fn medium_with_ha_rejects_oci_for_multi_az() {
        let d = place("medium", true, "cell-us-east", None).unwrap();
        assert_eq!(d.reason.candidates_passed_gates, 5);
        assert!(d.reason.gates.contains(&"multi_az".to_owned()));
        let rejected: Vec<_> = d.reason.rejected.iter().map(|r| (r.region.as_str(), r.missing.clone())).collect();
        assert_eq!(
            rejected,
            [("us-ashburn-1", vec!["multi_az".to_owned()]), ("eu-frankfurt-1", vec!["multi_az".to_owned()])]
        );
    }

    #[test]
    fn critical_without_ha_prefers_cheap_oci() {
        let d = place("critical", false, "cell-us-east", None).unwrap();
        assert_eq!(d.primary.id(), "oci/us-ashburn-1");
        assert_eq!(d.reason.selected.total_score, 0.78);
        let s = &d.reason.selected.subscores;
        assert_eq!((s["latency"], s["dr"], s["maturity"], s["cost"]), (0.12, 0.105, 0.13, 0.425));
    }

    #[test]
    fn low_requires_a_secondary_in_another_provider() {
        let d = place("low", false, "cell-us-east", None).unwrap();
        assert_eq!(d.primary.id(), "aws/us-east-1");
        assert_eq!(d.secondary.as_ref().unwrap().id(), "gcp/us-central1");
        let sec = d.reason.secondary.as_ref().unwrap();
        assert!(sec.required);
        assert_eq!(sec.selected.total_score, 0.8365);
        assert!(
            sec.rejected
                .iter()
                .any(|r| r.provider == "aws" && r.excluded.as_deref().unwrap().contains("same provider"))
        );
        assert_eq!(d.reason.dr_profile.as_deref(), Some("gold"));
    }

    #[test]
    fn business_critical_gets_a_cross_cloud_secondary_without_cross_region_replication() {
        let d = place("business_critical", true, "cell-us-east", None).unwrap();
        assert_eq!(d.primary.id(), "aws/us-east-1");
        assert_eq!(d.reason.candidates_passed_gates, 2);
        let secondary = d.secondary.unwrap();
        assert_ne!(secondary.provider, "aws");
        assert_eq!(secondary.id(), "gcp/us-central1");
    }

    #[test]
    fn c0_targets_come_from_its_default_dr_profile() {
        let d = place("C0", true, "payments", None).unwrap();
        assert_eq!(d.reason.dr_profile.as_deref(), Some("gold"));
        assert_eq!((d.reason.rto_minutes, d.reason.rpo_minutes), (15, 0.5));
        assert_eq!(d.primary.id(), "aws/us-east-1");
        assert_eq!(d.secondary.unwrap().id(), "gcp/us-central1");
        // Outside the payments cell, four candidates are excluded.
        let outside = d.reason.rejected.iter().filter(|r| r.excluded.is_some()).count();
        assert_eq!(outside, 4);
    }

    #[test]
    fn optional_secondary_only_when_a_dr_profile_is_named() {
        assert!(place("C2", false, "cell-eu", None).unwrap().secondary.is_none());
        let d = place("C2", false, "cell-eu", Some("bronze")).unwrap();
        let secondary = d.secondary.unwrap();
        assert_ne!(secondary.provider, d.primary.provider);
        assert!(!d.reason.secondary.unwrap().required);
        assert!(place("medium", false, "cell-eu", Some("gold")).unwrap().secondary.is_some());
    }

    #[test]
    fn no_candidate_lists_every_rejection() {
        let mut p = policy();
        p.cells.get_mut("payments").unwrap().candidates = Some(vec!["oci/us-ashburn-1".into()]);
        let err = schedule(
            &p,
            &pref(),
            &Demand {
                cell: "payments",
                environment: "production",
                tier: "low",
                ha: false,
                gates: &[],
                pairs: None,
                dr_profile: None,
            },
        )
        .unwrap_err();
        let ScheduleError::NoCandidate { rejected, .. } = &err else { panic!("{err:?}") };
        assert_eq!(rejected.len(), 7);
        assert_eq!(rejected[5].missing, ["multi_az"]);
    }

    #[test]
    fn impossible_secondary_explains_each_other_provider_candidate() {
        let mut p = policy();
        p.cells.get_mut("payments").unwrap().candidates = Some(vec!["aws/us-east-1".into(), "oci/us-ashburn-1".into()]);
        let err = schedule(
            &p,
            &pref(),
            &Demand {
                cell: "payments",
                environment: "production",
                tier: "low",
                ha: false,
                gates: &[],
                pairs: None,
                dr_profile: None,
            },
        )
        .unwrap_err();
        let ScheduleError::NoSecondary { rejected, primary, .. } = &err else { panic!("{err:?}") };
        assert_eq!(primary, "aws/us-east-1");
        assert!(rejected.iter().all(|r| r.provider != "aws"));
        let oci = rejected.iter().find(|r| r.region == "us-ashburn-1").unwrap();
        assert_eq!(oci.missing, ["multi_az"]);
        assert!(rejected.iter().filter(|r| r.provider == "gcp").all(|r| r.excluded.is_some()));
    }

    #[test]
    fn cordoned_candidates_take_no_new_placements() {
        let mut p = policy();
        p.candidates[0].cordoned = true;
        let d = schedule(
            &p,
            &pref(),
            &Demand {
                cell: "cell-us-east",
                environment: "production",
                tier: "medium",
                ha: false,
                gates: &[],
                pairs: None,
                dr_profile: None,
            },
        )
        .unwrap();
        assert_eq!(d.primary.id(), "gcp/us-central1");
        let aws = d.reason.rejected.iter().find(|r| r.region == "us-east-1").unwrap();
        assert_eq!(aws.excluded.as_deref(), Some("cordoned"));
        // An existing placement there still fits: sticky placements stay.
        let existing = place("medium", false, "cell-us-east", None).unwrap().primary;
        assert_eq!(
            unsatisfied(
                &p,
                &Demand {
                    cell: "cell-us-east",
                    environment: "production",
                    tier: "medium",
                    ha: false,
                    gates: &[],
                    pairs: None,
                    dr_profile: None
                },
                &existing
            ),
            None
        );
    }

    #[test]
    fn ties_keep_policy_order() {
        let mut p = policy();
        for c in &mut p.candidates {
            c.scores.values_mut().for_each(|s| *s = 0.5);
        }
        let d = schedule(
            &p,
            &pref(),
            &Demand {
                cell: "cell-us-east",
                environment: "production",
                tier: "critical",
                ha: false,
                gates: &[],
                pairs: None,
                dr_profile: None,
            },
        )
        .unwrap();
        let order: Vec<_> = d.reason.top_3_candidates.iter().map(|c| c.region.as_str()).collect();
        assert_eq!(order, ["us-east-1", "eu-west-1", "us-west-2"]);
    }

    #[test]
    fn a_cell_named_for_a_region_keeps_its_data_there() {
        // The default policy restricts cell-eu to EU regions: every tier,
        // primary and secondary alike, stays in the EU.
        for tier in ["low", "medium", "critical", "business_critical", "C0", "C1", "C2"] {
            let d = place(tier, false, "cell-eu", Some("gold")).unwrap();
            for side in std::iter::once(&d.primary).chain(d.secondary.as_ref()) {
                assert!(
                    ["aws/eu-west-1", "gcp/europe-west1", "oci/eu-frankfurt-1"].contains(&side.id().as_str()),
                    "{tier}: {}",
                    side.id()
                );
            }
        }
    }

    #[test]
    fn unknown_names_are_errors_not_panics() {
        assert!(matches!(place("gold-plated", false, "cell-eu", None), Err(ScheduleError::UnknownTier(_))));
        assert!(matches!(place("medium", false, "cell-eu", Some("tin")), Err(ScheduleError::UnknownDrProfile(_))));
    }

    #[test]
    fn apps_follow_their_data() {
        let p = policy();
        let db = place("C0", true, "payments", None).unwrap();
        let app = Demand {
            cell: "payments",
            environment: "production",
            tier: "C1",
            ha: false,
            gates: &[],
            pairs: None,
            dr_profile: None,
        };
        let d = follow(&p, &pref(), &app, (&db.primary, db.secondary.as_ref()), "mysql team/db", &|_| None).unwrap();
        assert_eq!((d.primary.id(), d.secondary.as_ref().unwrap().id()), (db.primary.id(), db.secondary.unwrap().id()));
        assert_eq!(d.reason.follows.as_deref(), Some("mysql team/db"));
        assert_eq!(d.reason.selected.provider, "aws");
        // A database on a candidate that fails the app's gates cannot be followed.
        let oci = place("critical", false, "cell-us-east", None).unwrap();
        let strict = Demand {
            cell: "cell-us-east",
            environment: "production",
            tier: "low",
            ha: false,
            gates: &[],
            pairs: None,
            dr_profile: None,
        };
        assert!(matches!(
            follow(&p, &pref(), &strict, (&oci.primary, None), "x", &|_| None),
            Err(ScheduleError::CannotFollow { .. })
        ));
    }

    #[test]
    fn an_app_apart_from_its_data_is_told_which_side_differs() {
        let db = place("C0", true, "payments", None).unwrap();
        let (primary, secondary) = (&db.primary, db.secondary.as_ref().unwrap());
        let other = place("critical", false, "cell-us-east", None).unwrap().primary;
        let data = (primary, Some(secondary));
        assert_eq!(apart("db", data, (primary, Some(secondary))), None);
        assert_eq!(apart("db", (primary, None), (primary, Some(&other))), None, "its own secondary");
        assert_eq!(
            apart("db", data, (primary, None)).unwrap(),
            "db has a secondary on gcp/us-central1, the app has none"
        );
        assert_eq!(
            apart("db", data, (primary, Some(&other))).unwrap(),
            "db has its secondary on gcp/us-central1, the app on oci/us-ashburn-1"
        );
        assert_eq!(apart("db", data, (&other, None)).unwrap(), "db is on aws/us-east-1, the app on oci/us-ashburn-1");
        assert_eq!(sides(primary, Some(secondary)), "aws/us-east-1 (secondary gcp/us-central1)");
        assert_eq!(sides(&other, None), "oci/us-ashburn-1 (no secondary)");
    }

    #[test]
    fn existing_placements_are_checked_against_changed_requests() {
        let p = policy();
        let oci = place("critical", false, "cell-us-east", None).unwrap().primary;
        let still = Demand {
            cell: "cell-us-east",
            environment: "production",
            tier: "critical",
            ha: false,
            gates: &[],
            pairs: None,
            dr_profile: None,
        };
        assert_eq!(unsatisfied(&p, &still, &oci), None);
        let ha = Demand { ha: true, gates: &*MULTI_AZ, pairs: None, ..still };
        assert!(unsatisfied(&p, &ha, &oci).unwrap().contains("lacks multi_az"));
        let moved = Demand { cell: "payments", environment: "production", tier: "critical", ..still };
        assert_eq!(unsatisfied(&p, &moved, &oci), None);
        let gone = Target { region: "mars-1".into(), ..oci };
        assert!(unsatisfied(&p, &still, &gone).unwrap().contains("no longer"));
    }
}
