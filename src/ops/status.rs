//! `idp status KIND NS/NAME` and `idp status cell CELL ENV`: where a
//! request is placed and why, and what a cell runs on which side.

use serde::Serialize;

use super::resource::ResourceRef;
use super::{Context, Error};
use crate::cell::{Member, Side};
use crate::layout;
use crate::request::Kind;
use crate::schedule::Target;

#[derive(Debug, Serialize)]
pub struct StatusOutcome {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub placement: Target,
    pub secondary: Option<Target>,
    pub tier: String,
    pub dr_profile: Option<String>,
    pub total_score: f64,
    pub policy_version: String,
    /// Names only: the values live in the cluster, never in Git. Databases
    /// only; an app shows the database it follows in its reason.
    pub connection_secret: Option<String>,
    pub secondary_connection_secret: Option<String>,
    /// A database's `idp migrate` in progress, as its placement record holds it.
    pub migration: Option<crate::record::Migration>,
    pub files: Vec<String>,
    pub last_change: Option<CommitInfo>,
}

#[derive(Debug, Serialize)]
pub struct CommitInfo {
    pub commit: String,
    pub title: String,
    pub author: String,
    pub time: i64,
}

pub fn status(ctx: &Context, target: &ResourceRef) -> Result<StatusOutcome, Error> {
    let state = ctx.state()?;
    let not_found = || Error::NotFound { resource: target.display() };
    let record = target.record(ctx)?.ok_or_else(not_found)?;
    let files = target.files(ctx, Some(&record))?;
    let last_change =
        state.last_change(&files)?.map(|c| CommitInfo { commit: c.id, title: c.title, author: c.author, time: c.time });
    Ok(StatusOutcome {
        kind: target.kind,
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        connection_secret: (target.kind.is_data())
            .then(|| layout::secret_name(&target.name, Side::Primary, record.generation)),
        secondary_connection_secret: record
            .secondary
            .as_ref()
            .filter(|_| target.kind.is_data())
            .map(|_| layout::secret_name(&target.name, Side::Secondary, 0)),
        tier: record.reason.tier.clone(),
        dr_profile: record.reason.dr_profile.clone(),
        total_score: record.reason.selected.total_score,
        policy_version: record.reason.policy.version.clone(),
        migration: record.migration,
        placement: record.primary,
        secondary: record.secondary,
        files,
        last_change,
    })
}

#[derive(Debug, Serialize)]
pub struct CellStatusOutcome {
    pub cell: String,
    pub environment: String,
    pub active_side: crate::cell::Side,
    /// A staged failover or failback part way: its last committed stage.
    pub runbook: Option<crate::cell::Runbook>,
    pub traffic_provider: String,
    pub members: Vec<CellMemberStatus>,
    /// Newest first.
    pub events: Vec<crate::cell::Event>,
}

/// A member as its cell file records it (camelCase, like every record),
/// with what the policy says of its drProfile.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellMemberStatus {
    #[serde(flatten)]
    pub member: Member,
    pub rto_minutes: Option<u32>,
    pub rpo_seconds: Option<u32>,
    /// Where traffic goes now (apps with a public host).
    pub traffic_target: Option<String>,
}

/// `idp status cell CELL ENV`: what runs in a cell, on which side, and its
/// failover history.
pub fn cell_status(ctx: &Context, cell: &str, environment: &str) -> Result<CellStatusOutcome, Error> {
    let policy = &ctx.policy.policy;
    let environment = policy
        .resolve_environment(environment)
        .ok_or_else(|| Error::UnknownEnvironment { environment: environment.into() })?;
    let state = ctx.cell_state(cell, environment)?;
    let members = ctx.cell_members(cell, environment)?;
    if members.is_empty() && state.events.is_empty() {
        return Err(Error::EmptyCell { cell: cell.into(), environment: environment.into() });
    }
    let active = state.active_side;
    // Traffic moves with the runbook's traffic stage, before the active side is recorded.
    let traffic_side = match &state.runbook {
        Some(runbook) if runbook.stage >= crate::cell::Stage::Traffic => runbook.to,
        _ => active,
    };
    let members = members
        .iter()
        .map(|m| {
            let profile = m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p));
            let serving = match (traffic_side, &m.secondary) {
                (crate::cell::Side::Secondary, Some(secondary)) => secondary,
                _ => &m.primary,
            };
            let has_host = m.kind.is_app() && {
                let at = layout::CellOf { cell, environment };
                ctx.platform_file_exists(&layout::dns_path(m.kind, at, &m.namespace, &m.name), at).unwrap_or(false)
            };
            CellMemberStatus {
                member: m.clone(),
                rto_minutes: profile.map(|p| p.rto_minutes),
                rpo_seconds: profile.map(|p| p.rpo_seconds),
                traffic_target: has_host
                    .then(|| format!("{}.{}", serving.runtime_cluster, policy.traffic.ingress_domain)),
            }
        })
        .collect();
    Ok(CellStatusOutcome {
        cell: cell.into(),
        environment: environment.into(),
        active_side: active,
        runbook: state.runbook,
        traffic_provider: policy.traffic_provider(cell).into(),
        members,
        events: state.events.into_iter().rev().collect(),
    })
}
