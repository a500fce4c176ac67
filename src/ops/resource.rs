//! `idp status KIND NS/NAME` and `idp delete KIND NS/NAME`: one request's
//! files, found by path.

use serde::Serialize;

use super::publish::{Build, Landed, PushOptions, land_locally, land_on_remote};
use super::{Context, Error};
use crate::cell::Member;
use crate::record::PlacementRecord;
use crate::render;
use crate::request::Kind;
use crate::schedule::Target;
use crate::state::{self, FileChange, StateRepo};

/// `namespace/name` (namespace `default` when omitted) of a kind.
#[derive(Debug, Clone)]
pub struct ResourceRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ResourceRef {
    fn display(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    /// Every file idp keeps for the request at a commit.
    fn files(&self, state: &StateRepo, commit: state::ObjectId) -> Result<Vec<String>, Error> {
        let mut files = Vec::new();
        for path in [
            state::request_path(self.kind, &self.namespace, &self.name),
            state::placement_path(self.kind, &self.namespace, &self.name),
            state::catalog_path(self.kind, &self.namespace, &self.name),
        ] {
            if state.read_at(commit, &path)?.is_some() {
                files.push(path);
            }
        }
        files.extend(state.list_dir(commit, &state::platform_dir(self.kind, &self.namespace, &self.name))?);
        if self.kind == Kind::App {
            files.extend(state.list_dir(commit, &state::workload_dir(&self.namespace, &self.name))?);
        }
        if let Ok(Some(record)) = self.record(state, commit) {
            let member = Member::path(&record.cell, &record.environment, self.kind, &self.namespace, &self.name);
            if state.read_at(commit, &member)?.is_some() {
                files.push(member);
            }
        }
        Ok(files)
    }

    fn record(&self, state: &StateRepo, commit: state::ObjectId) -> Result<Option<PlacementRecord>, Error> {
        let path = state::placement_path(self.kind, &self.namespace, &self.name);
        let Some(bytes) = state.read_at(commit, &path)? else { return Ok(None) };
        let text = String::from_utf8_lossy(&bytes);
        PlacementRecord::parse(&text).map(Some).map_err(|e| Error::CorruptRecord { path, message: e.to_string() })
    }
}

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
    let state = ctx.state.as_ref().ok_or(Error::NoStateRepo)?;
    let not_found = || Error::NotFound { resource: target.display() };
    let head = ctx.base.ok_or_else(not_found)?;
    let record = target.record(state, head)?.ok_or_else(not_found)?;
    let files = target.files(state, head)?;
    let last_change =
        state.last_change(&files)?.map(|c| CommitInfo { commit: c.id, title: c.title, author: c.author, time: c.time });
    Ok(StatusOutcome {
        kind: target.kind,
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        connection_secret: (target.kind == Kind::MySql).then(|| render::secret_name(&target.name, "primary")),
        secondary_connection_secret: record
            .secondary
            .as_ref()
            .filter(|_| target.kind == Kind::MySql)
            .map(|_| render::secret_name(&target.name, "secondary")),
        tier: record.reason.tier.clone(),
        dr_profile: record.reason.dr_profile.clone(),
        total_score: record.reason.selected.total_score,
        policy_version: record.reason.policy.version.clone(),
        placement: record.primary,
        secondary: record.secondary,
        files,
        last_change,
    })
}

#[derive(Debug, Serialize)]
pub struct DeleteOutcome {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub commit: String,
    pub landed: Landed,
    pub removed: Vec<String>,
}

/// Asked once with the files to remove; `false` ends with nothing written.
pub type ConfirmDelete<'a> = &'a mut dyn FnMut(&[String]) -> Result<bool, Error>;

/// One commit removing every file of the request (and a push with
/// `--push`). None when the confirmation was declined.
pub fn delete(
    ctx: &mut Context,
    target: &ResourceRef,
    push: Option<&PushOptions>,
    confirm: ConfirmDelete<'_>,
    progress: &dyn Fn(&str),
) -> Result<Option<DeleteOutcome>, Error> {
    ctx.state()?;
    let mut asked = false;
    let build = |ctx: &Context| -> Result<Build<Vec<String>>, Error> {
        let state = ctx.state()?;
        let not_found = || Error::NotFound { resource: target.display() };
        let base = ctx.base.ok_or_else(not_found)?;
        let files = target.files(state, base)?;
        if files.is_empty() {
            return Err(not_found());
        }
        if !asked {
            asked = true;
            if !confirm(&files)? {
                return Ok(Build { value: Vec::new(), commit: None });
            }
        }
        let record = target.record(state, base).ok().flatten();
        let was = record
            .as_ref()
            .map(|r| format!(" (was on {}/{})", r.primary.provider, r.primary.region))
            .unwrap_or_default();
        let t = target;
        let mut message = format!(
            "idp: delete {} {}/{}{was}\n\nRemoves every file of the request; Argo CD prunes the claims.\n\n",
            t.kind, t.namespace, t.name
        );
        for file in &files {
            message.push_str(&format!("- {file}\n"));
        }
        message.push_str(&format!("\nIdp-Action: delete\nIdp-Request: {} {}/{}\n", t.kind, t.namespace, t.name));
        let changes: Vec<FileChange> = files.iter().map(|path| FileChange::Remove { path: path.clone() }).collect();
        Ok(Build { value: files, commit: Some((changes, message)) })
    };
    let (removed, landed) = match push {
        None => land_locally(ctx, build)?,
        Some(push) => {
            let mut build = build;
            land_on_remote(ctx, push, progress, |ctx, _| build(ctx))?
        }
    };
    Ok(landed.map(|landed| DeleteOutcome {
        kind: target.kind,
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        commit: landed.commit.clone(),
        landed,
        removed,
    }))
}

#[derive(Debug, Serialize)]
pub struct CellStatusOutcome {
    pub cell: String,
    pub environment: String,
    pub active_side: crate::cell::Side,
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
    let state = super::cells::state(ctx, cell, environment)?;
    let members = super::cells::members(ctx, cell, environment)?;
    if members.is_empty() && state.events.is_empty() {
        return Err(Error::EmptyCell { cell: cell.into(), environment: environment.into() });
    }
    let active = state.active_side;
    let members = members
        .iter()
        .map(|m| {
            let profile = m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p));
            let serving = match (active, &m.secondary) {
                (crate::cell::Side::Secondary, Some(secondary)) => secondary,
                _ => &m.primary,
            };
            let has_host = m.kind == Kind::App
                && ctx
                    .read(&format!("{}/dns.yaml", state::platform_dir(m.kind, &m.namespace, &m.name)))
                    .ok()
                    .flatten()
                    .is_some();
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
        traffic_provider: policy.traffic_provider(cell).into(),
        members,
        events: state.events.into_iter().rev().collect(),
    })
}
