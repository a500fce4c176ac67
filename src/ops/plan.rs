//! `idp plan`: validate, schedule (sticky first), and say what would change.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Error};
use crate::record::PlacementRecord;
use crate::render::Renderer;
use crate::request::{self, Kind, Request};
use crate::schedule::{self, Decision, PolicyRef, Ranked, Reason, Target};
use crate::state::{self, FileChange};

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub kind: Option<Kind>,
    pub files: Vec<PathBuf>,
    /// Move sticky placements that a changed request no longer fits.
    pub reschedule: bool,
}

/// A plan and the exact file changes that applying it would commit.
pub struct Prepared {
    pub outcome: PlanOutcome,
    /// The validated requests, in the order of `outcome.results`.
    pub requests: Vec<Request>,
    /// HEAD when the plan was made; the commit must sit right on top of it.
    pub base: Option<git2::Oid>,
    pub files: Vec<FileChange>,
    /// What each path held at `base`, for `--diff`.
    pub before: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Serialize)]
pub struct PlanOutcome {
    pub results: Vec<PlanResult>,
}

impl PlanOutcome {
    pub fn has_changes(&self) -> bool {
        self.results.iter().any(|r| !r.changes.is_empty())
    }
}

#[derive(Debug, Serialize)]
pub struct PlanResult {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub status: ResultStatus,
    pub sticky: bool,
    /// A sticky placement was moved on `--reschedule`.
    pub rescheduled: bool,
    pub placement: Target,
    pub secondary: Option<Target>,
    pub reason: Reason,
    pub changes: Vec<Change>,
    /// The full ranking when this run scheduled; empty for sticky results.
    #[serde(skip)]
    pub ranking: Vec<Ranked>,
}

/// What happens (plan) or happened (apply) to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Create,
    Update,
    Exists,
    Created,
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: ChangeAction,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    Create,
    Update,
    Delete,
}

pub fn plan(ctx: &Context, options: &PlanOptions) -> Result<Prepared, Error> {
    let requests = request::load(&options.files, options.kind, &ctx.policy.policy)?;
    let base = ctx.base;
    let renderer = Renderer::for_state(ctx)?;
    let mut prepared = Prepared {
        outcome: PlanOutcome { results: Vec::new() },
        requests: Vec::new(),
        base,
        files: Vec::new(),
        before: BTreeMap::new(),
    };
    for request in &requests {
        let result = plan_one(ctx, &renderer, base, request, options.reschedule, &mut prepared)?;
        prepared.outcome.results.push(result);
    }
    prepared.requests = requests;
    Ok(prepared)
}

fn plan_one(
    ctx: &Context,
    renderer: &Renderer,
    base: Option<git2::Oid>,
    request: &Request,
    reschedule: bool,
    prepared: &mut Prepared,
) -> Result<PlanResult, Error> {
    let policy = &ctx.policy.policy;
    let placement_path = state::placement_path(request.kind, &request.namespace, &request.name);
    let existing = ctx.read(&placement_path)?.map(|bytes| parse_record(&placement_path, bytes)).transpose()?;
    let mut rescheduled = false;
    let (decision, record_bytes) = match existing {
        Some((record, bytes)) => match sticky_conflict(policy, request, &record) {
            None => (record.decision(), bytes),
            Some(why) if !reschedule => {
                return Err(Error::StickyConflict {
                    request: format!("{} {}", request.kind, request.id()),
                    placement: record.primary.id(),
                    why,
                });
            }
            Some(_) => {
                rescheduled = true;
                let decision = decide(ctx, request)?;
                let bytes = PlacementRecord::new(request, &decision).to_yaml().into_bytes();
                (decision, bytes)
            }
        },
        None => {
            let decision = decide(ctx, request)?;
            let bytes = PlacementRecord::new(request, &decision).to_yaml().into_bytes();
            (decision, bytes)
        }
    };
    let sticky = !rescheduled && ctx.read(&placement_path)?.is_some();

    // Every file this request should have, then the difference from HEAD.
    let mut desired: Vec<(String, Vec<u8>)> = vec![
        (state::request_path(request.kind, &request.namespace, &request.name), request_yaml(request).into_bytes()),
        (placement_path, record_bytes),
    ];
    for file in renderer.request_files(request, &decision, policy)? {
        desired.push((file.path, file.content.into_bytes()));
    }
    let mut changes = Vec::new();
    for (path, content) in &desired {
        let current = ctx.read(path)?;
        let action = match &current {
            None => ChangeAction::Create,
            Some(old) if old == content => continue,
            Some(_) => ChangeAction::Update,
        };
        if let Some(old) = current {
            prepared.before.insert(path.clone(), old);
        }
        changes.push(Change { action, path: path.clone() });
        prepared.files.push(FileChange::Upsert { path: path.clone(), content: content.clone() });
    }
    // Files of this request that are no longer rendered (a dropped secondary).
    if let (Some(state), Some(base)) = (&ctx.state, base) {
        for path in state.list_dir(base, &state::platform_dir(request.kind, &request.namespace, &request.name))? {
            if !desired.iter().any(|(p, _)| *p == path) {
                if let Some(old) = state.read_at(base, &path)? {
                    prepared.before.insert(path.clone(), old);
                }
                changes.push(Change { action: ChangeAction::Delete, path: path.clone() });
                prepared.files.push(FileChange::Remove { path });
            }
        }
    }

    let status = match (sticky || rescheduled, changes.is_empty()) {
        (false, _) => ResultStatus::Create,
        (true, true) => ResultStatus::Exists,
        (true, false) => ResultStatus::Update,
    };
    let Decision { primary, secondary, reason, ranking } = decision;
    Ok(PlanResult {
        kind: request.kind,
        namespace: request.namespace.clone(),
        name: request.name.clone(),
        status,
        sticky,
        rescheduled,
        placement: primary,
        secondary,
        reason,
        changes,
        ranking,
    })
}

fn decide(ctx: &Context, request: &Request) -> Result<Decision, Error> {
    let policy_ref = PolicyRef { version: ctx.policy.policy.version.clone(), digest: ctx.policy.digest.clone() };
    schedule::schedule(&ctx.policy.policy, &policy_ref, &request.demand())
        .map_err(|source| Error::Schedule { request: format!("{} {}", request.kind, request.id()), source })
}

/// Why a recorded placement cannot serve the request as it now reads.
fn sticky_conflict(policy: &crate::policy::Policy, request: &Request, record: &PlacementRecord) -> Option<String> {
    if let Some(why) = schedule::unsatisfied(policy, &request.demand(), &record.primary) {
        return Some(why);
    }
    let tier = policy.tiers.get(&request.tier)?;
    let wants_secondary = tier.secondary.required || request.dr_profile.is_some();
    match (wants_secondary, record.secondary.is_some()) {
        (true, false) => {
            Some(format!("tier {} now needs a cross-cloud secondary, which the placement lacks", request.tier))
        }
        (false, true) => Some("the request no longer asks for a secondary, which the placement has".into()),
        _ => None,
    }
}

/// The normalized request as stored under `requests/`.
pub fn request_yaml(request: &Request) -> String {
    serde_saphyr::to_string(&request.to_manifest()).expect("a request manifest always serializes")
}

fn parse_record(path: &str, bytes: Vec<u8>) -> Result<(PlacementRecord, Vec<u8>), Error> {
    let text =
        std::str::from_utf8(&bytes).map_err(|e| Error::CorruptRecord { path: path.into(), message: e.to_string() })?;
    let record =
        PlacementRecord::parse(text).map_err(|e| Error::CorruptRecord { path: path.into(), message: e.to_string() })?;
    Ok((record, bytes))
}
