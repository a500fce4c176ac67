//! `idp policy show|validate|explain|diff`: the policy in force, as data,
//! and what it decides.

use serde::Serialize;

use super::{Context, Error};
use crate::layout::{self, POLICY_PATH};
use crate::policy::{LoadedPolicy, Policy, PolicyOrigin};
use crate::request::{Admission, Kind};
use crate::schedule::{Demand, PolicyRef, Ranked, Reason, Target, schedule};
use crate::yaml::Source;

#[derive(Debug, Serialize)]
pub struct PolicyOutcome {
    pub origin: String,
    pub version: String,
    pub digest: String,
    pub policy: Policy,
}

impl PolicyOutcome {
    pub fn new(loaded: &LoadedPolicy) -> Self {
        Self {
            origin: loaded.origin.to_string(),
            version: loaded.policy.version.clone(),
            digest: loaded.digest.clone(),
            policy: loaded.policy.clone(),
        }
    }
}

/// `idp policy show --costs`: the price table behind every estimate.
#[derive(Debug, Serialize)]
pub struct PricingOutcome {
    pub version: String,
    pub pricing: Option<crate::policy::Pricing>,
    pub budgets: crate::policy::Budgets,
}

impl PricingOutcome {
    pub fn new(loaded: &LoadedPolicy) -> Self {
        Self {
            version: loaded.policy.version.clone(),
            pricing: loaded.policy.pricing.clone(),
            budgets: loaded.policy.budgets.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ValidateOutcome {
    pub valid: bool,
    pub origin: String,
    pub version: String,
    pub digest: String,
    /// The products in force, each `name (where its definition comes from)`.
    pub products: Vec<String>,
}

/// `idp policy explain`: what a request of a tier would get, and why.
#[derive(Debug, Serialize)]
pub struct ExplainOutcome {
    pub tier: String,
    /// Null: the whole pool, as for a cell without restrictions.
    pub cell: Option<String>,
    /// Null: none given, so each candidate's default `runtimeCluster`.
    pub environment: Option<String>,
    pub ha: bool,
    pub placement: Target,
    pub secondary: Option<Target>,
    pub reason: Reason,
    #[serde(skip)]
    pub ranking: Vec<Ranked>,
}

pub fn explain(
    loaded: &LoadedPolicy,
    tier: &str,
    cell: Option<&str>,
    environment: Option<&str>,
    (ha, gates): (bool, &[String]),
    dr_profile: Option<&str>,
) -> Result<ExplainOutcome, Error> {
    let policy = &loaded.policy;
    let environment = match environment {
        None => None,
        Some(name) => Some(policy.resolve_environment(name).ok_or_else(|| Error::UnknownName {
            what: "environment",
            name: name.into(),
            valid: policy.environment_names(),
        })?),
    };
    if let Some(cell) = cell
        && !policy.cells.contains_key(cell)
    {
        return Err(Error::UnknownName {
            what: "cell",
            name: cell.into(),
            valid: policy.cells.keys().cloned().collect(),
        });
    }
    if !policy.tiers.contains_key(tier) {
        return Err(Error::UnknownName {
            what: "tier",
            name: tier.into(),
            valid: policy.tiers.keys().cloned().collect(),
        });
    }
    let demand = Demand {
        cell: cell.unwrap_or(""),
        environment: environment.unwrap_or(""),
        tier,
        ha,
        gates,
        dr_profile,
        pairs: None,
    };
    let decision = schedule(policy, &policy_ref(loaded), &demand)
        .map_err(|error| Error::Schedule { request: format!("tier {tier}"), error })?;
    Ok(ExplainOutcome {
        tier: tier.into(),
        cell: cell.map(str::to_owned),
        environment: environment.map(str::to_owned),
        ha,
        placement: decision.primary,
        secondary: decision.secondary,
        reason: decision.reason,
        ranking: decision.ranking,
    })
}

/// `idp policy diff OLD NEW`: which placements in the state repo the new
/// policy would decide differently. Placements are sticky, so nothing moves;
/// this is for reviewing a policy change before it merges.
#[derive(Debug, Serialize)]
pub struct PolicyDiffOutcome {
    pub old: PolicyRef,
    pub new: PolicyRef,
    pub evaluated: usize,
    pub changed: Vec<DecisionChange>,
    /// Requests the new policy's admission rules would refuse (as submitted
    /// again, or changed) that the old one admitted: placed, they stay and
    /// fail over; a change to them would be refused.
    pub refused: Vec<Refused>,
}

#[derive(Debug, Serialize)]
pub struct Refused {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// What the new policy says, each problem on its own.
    pub why: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DecisionChange {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// `provider/region` (+ secondary), or the error the policy gives.
    pub old: String,
    pub new: String,
}

pub fn diff(ctx: &Context, old: &LoadedPolicy, new: &LoadedPolicy) -> Result<PolicyDiffOutcome, Error> {
    let state = ctx.state()?;
    let mut changed = Vec::new();
    let mut refused = Vec::new();
    let mut evaluated = 0;
    if let Some(base) = ctx.base {
        // A review command may read every request; plan and apply only with `apply --all`.
        for path in state.list_dir(base, layout::REQUESTS_DIR)? {
            let Some(bytes) = state.read_at(base, &path)? else { continue };
            // A request either policy accepts; one neither accepts is verify's business.
            let validate = |loaded: &LoadedPolicy, admission| {
                let source = Source::from_bytes(path.clone(), bytes.clone()).map_err(|e| vec![e.to_string()])?;
                crate::request::parse_sources(&[source], None, &loaded.policy, &ctx.products, admission)
                    .map_err(|e| e.messages())
                    .map(|mut requests| requests.pop())
            };
            let parse = |loaded: &LoadedPolicy| validate(loaded, Admission::Stored).ok().flatten();
            let Some(request) = parse(new).or_else(|| parse(old)) else { continue };
            evaluated += 1;
            // The old policy is asked only about what the new one refuses.
            if let Err(why) = validate(new, Admission::Submitted)
                && validate(old, Admission::Submitted).is_ok()
            {
                refused.push(Refused {
                    kind: request.kind,
                    namespace: request.namespace.clone(),
                    name: request.name.clone(),
                    why,
                });
            }
            // An app's runtime cluster is part of where it runs; a database's is not.
            let side = |t: &Target| match request.kind.is_app() {
                true => format!("{} ({})", t.id(), t.runtime_cluster),
                false => t.id(),
            };
            let place = |loaded: &LoadedPolicy| match schedule(&loaded.policy, &policy_ref(loaded), &request.demand()) {
                Ok(d) => match d.secondary {
                    Some(s) => format!("{} + {}", side(&d.primary), side(&s)),
                    None => side(&d.primary),
                },
                Err(e) => format!("unplaceable: {e}"),
            };
            let (before, after) = (place(old), place(new));
            if before != after {
                changed.push(DecisionChange {
                    kind: request.kind,
                    namespace: request.namespace,
                    name: request.name,
                    old: before,
                    new: after,
                });
            }
        }
    }
    Ok(PolicyDiffOutcome { old: policy_ref(old), new: policy_ref(new), evaluated, changed, refused })
}

fn policy_ref(loaded: &LoadedPolicy) -> PolicyRef {
    PolicyRef { version: loaded.policy.version.clone(), digest: loaded.digest.clone() }
}

/// A policy named on the command line: a file, or a revision of the state
/// repo (`HEAD~1`, `main`) whose `policy/policy.yaml` is read.
pub fn load_named(ctx: &Context, name: &str) -> Result<LoadedPolicy, Error> {
    let path = std::path::Path::new(name);
    if path.is_file() {
        let source = Source::read(path).map_err(crate::policy::PolicyError::from)?;
        return Ok(crate::policy::load(source, PolicyOrigin::File(name.into()))?);
    }
    let state = ctx.state()?;
    let commit = state.revparse(name).map_err(|_| Error::UnknownPolicy { revision: name.into() })?;
    let bytes = state
        .read_at(commit, POLICY_PATH)?
        .ok_or_else(|| Error::UnknownPolicy { revision: format!("{name} (no {POLICY_PATH} there)") })?;
    let source =
        Source::from_bytes(format!("{name}:{POLICY_PATH}"), bytes).map_err(crate::policy::PolicyError::from)?;
    Ok(crate::policy::load(source, PolicyOrigin::StateRepo(format!("{} at {name}", state.path().display())))?)
}

/// `idp policy cordon|uncordon PROVIDER/REGION`: the policy change as a
/// reviewed commit of its own, so "who cordoned it, when, why" is in the
/// history like every other change.
#[derive(Debug, Serialize)]
pub struct CordonOutcome {
    /// `cordon` or `uncordon`.
    pub action: &'static str,
    pub candidate: String,
    /// None when it already was as asked.
    pub commit: Option<String>,
    pub landed: Option<super::land::Landed>,
    /// Requests placed there (primary or secondary): they stay.
    pub placed: usize,
}

pub fn cordon(
    ctx: &mut Context,
    candidate: &str,
    cordoned: bool,
    reason: Option<&str>,
    land_options: &super::land::LandOptions,
    confirm: super::land::Confirm<'_, CordonOutcome>,
    progress: &dyn Fn(&str),
) -> Result<Option<CordonOutcome>, Error> {
    use super::land::{Proposal, land};
    let action = if cordoned { "cordon" } else { "uncordon" };
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let state = ctx.state()?;
        let base = ctx.base.ok_or(Error::NoPolicyFile)?;
        let text = state.read_at(base, POLICY_PATH)?.ok_or(Error::NoPolicyFile)?;
        let text = String::from_utf8(text).map_err(|_| Error::NoPolicyFile)?;
        let placed = placed_on(ctx, candidate)?;
        let outcome = CordonOutcome { action, candidate: candidate.to_owned(), commit: None, landed: None, placed };
        let edited = crate::policy::edit::set_cordoned(&text, candidate, cordoned)
            .map_err(|message| Error::PolicyEdit { candidate: candidate.to_owned(), message })?;
        let Some(edited) = edited else { return Ok(Proposal::unchanged(outcome)) };
        // What is committed must load, like every policy.
        let source = Source::new(format!("{}:{POLICY_PATH}", state.path().display()), edited.clone());
        crate::policy::load(source, PolicyOrigin::StateRepo(state.path().display().to_string()))?;
        let mut message = format!("idp: {action} {candidate}\n\n");
        if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            message.push_str(&format!("Reason: {reason}\n\n"));
        }
        message.push_str(&format!("Idp-Action: {action}\nIdp-Candidate: {candidate}\n"));
        let files = vec![crate::state::FileChange::upsert(POLICY_PATH, edited)];
        Ok(Proposal::commit(outcome, files, message))
    })?;
    Ok(landing.into_value(|outcome, landed| {
        outcome.commit = Some(landed.commit.clone());
        outcome.landed = Some(landed);
    }))
}

/// How many requests are placed on a candidate, primary or secondary.
fn placed_on(ctx: &Context, candidate: &str) -> Result<usize, Error> {
    let mut placed = 0;
    for path in ctx.list(layout::PLACEMENTS_DIR)? {
        let Some(bytes) = ctx.read(&path)? else { continue };
        let record: crate::record::PlacementRecord = super::records::parse_record(&path, &bytes, &ctx.products)?;
        let on = |t: &Target| t.id() == candidate;
        if on(&record.primary) || record.secondary.as_ref().is_some_and(on) {
            placed += 1;
        }
    }
    Ok(placed)
}
