//! `idp plan`: validate, schedule (sticky first), and say what would change.

use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Error};
use crate::record::PlacementRecord;
use crate::request::{self, Kind, Request};
use crate::schedule::{self, Decision, PolicyRef, Ranked, Reason, Target};
use crate::state::{self, StateRepo};

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub kind: Option<Kind>,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct PlanOutcome {
    pub results: Vec<PlanResult>,
}

impl PlanOutcome {
    pub fn has_changes(&self) -> bool {
        self.results.iter().any(|r| r.status != PlanStatus::Exists)
    }
}

#[derive(Debug, Serialize)]
pub struct PlanResult {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub status: PlanStatus,
    pub sticky: bool,
    pub placement: Target,
    pub secondary: Option<Target>,
    pub reason: Reason,
    pub changes: Vec<Change>,
    /// The full ranking when this run scheduled; empty for sticky results.
    #[serde(skip)]
    pub ranking: Vec<Ranked>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    Create,
    Update,
    Exists,
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

pub fn plan(ctx: &Context, options: &PlanOptions) -> Result<PlanOutcome, Error> {
    let requests = request::load(&options.files, options.kind, &ctx.policy.policy)?;
    let results = requests.iter().map(|request| plan_one(ctx, request)).collect::<Result<_, _>>()?;
    Ok(PlanOutcome { results })
}

fn plan_one(ctx: &Context, request: &Request) -> Result<PlanResult, Error> {
    let existing = match &ctx.state {
        Some(state) => existing_placement(state, request)?,
        None => None,
    };
    let (decision, status, sticky) = match existing {
        Some(record) => (record.decision(), PlanStatus::Exists, true),
        None => {
            let policy_ref =
                PolicyRef { version: ctx.policy.policy.version.clone(), digest: ctx.policy.digest.clone() };
            let decision = schedule::schedule(&ctx.policy.policy, &policy_ref, &request.demand())
                .map_err(|source| Error::Schedule { request: format!("{} {}", request.kind, request.id()), source })?;
            (decision, PlanStatus::Create, false)
        }
    };
    let Decision { primary, secondary, reason, ranking } = decision;
    Ok(PlanResult {
        kind: request.kind,
        namespace: request.namespace.clone(),
        name: request.name.clone(),
        status,
        sticky,
        placement: primary,
        secondary,
        reason,
        changes: Vec::new(),
        ranking,
    })
}

/// The sticky lookup: one path, never a scan.
fn existing_placement(state: &StateRepo, request: &Request) -> Result<Option<PlacementRecord>, Error> {
    let path = state::placement_path(request.kind, &request.namespace, &request.name);
    let Some(bytes) = state.read(&path)? else { return Ok(None) };
    let text =
        String::from_utf8(bytes).map_err(|e| Error::CorruptRecord { path: path.clone(), message: e.to_string() })?;
    PlacementRecord::parse(&text).map(Some).map_err(|e| Error::CorruptRecord { path, message: e.to_string() })
}
