//! `idp status KIND NS/NAME` and `idp delete KIND NS/NAME`: one request's
//! files, found by path.

use serde::Serialize;

use super::{Context, Error};
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
    fn files(&self, state: &StateRepo, commit: git2::Oid) -> Result<Vec<String>, Error> {
        let mut files = Vec::new();
        for path in [
            state::request_path(self.kind, &self.namespace, &self.name),
            state::placement_path(self.kind, &self.namespace, &self.name),
        ] {
            if state.read_at(commit, &path)?.is_some() {
                files.push(path);
            }
        }
        files.extend(state.list_dir(commit, &state::platform_dir(self.kind, &self.namespace, &self.name))?);
        Ok(files)
    }

    fn record(&self, state: &StateRepo, commit: git2::Oid) -> Result<Option<PlacementRecord>, Error> {
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
    /// Names only: the values live in the cluster, never in Git.
    pub connection_secret: String,
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
    let head = state.head()?.ok_or_else(not_found)?;
    let record = target.record(state, head)?.ok_or_else(not_found)?;
    let files = target.files(state, head)?;
    let last_change =
        state.last_change(&files)?.map(|c| CommitInfo { commit: c.id, title: c.title, author: c.author, time: c.time });
    Ok(StatusOutcome {
        kind: target.kind,
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        connection_secret: render::secret_name(&target.name, "primary"),
        secondary_connection_secret: record.secondary.as_ref().map(|_| render::secret_name(&target.name, "secondary")),
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
    pub removed: Vec<String>,
}

/// What a delete would remove, checked before anything is asked or written.
pub struct PreparedDelete {
    target: ResourceRef,
    base: git2::Oid,
    files: Vec<String>,
    placement: Option<Target>,
}

impl PreparedDelete {
    pub fn files(&self) -> &[String] {
        &self.files
    }
}

pub fn prepare_delete(ctx: &Context, target: &ResourceRef) -> Result<PreparedDelete, Error> {
    let state = ctx.state.as_ref().ok_or(Error::NoStateRepo)?;
    let not_found = || Error::NotFound { resource: target.display() };
    let base = state.head()?.ok_or_else(not_found)?;
    let files = target.files(state, base)?;
    if files.is_empty() {
        return Err(not_found());
    }
    let placement = target.record(state, base).ok().flatten().map(|r| r.primary);
    Ok(PreparedDelete { target: target.clone(), base, files, placement })
}

pub fn delete(ctx: &Context, prepared: PreparedDelete) -> Result<DeleteOutcome, Error> {
    let state = ctx.state.as_ref().ok_or(Error::NoStateRepo)?;
    let dirty = state.dirty_managed_paths()?;
    if !dirty.is_empty() {
        return Err(crate::state::StateError::Dirty { paths: dirty }.into());
    }
    let t = &prepared.target;
    let was = prepared.placement.as_ref().map(|p| format!(" (was on {}/{})", p.provider, p.region)).unwrap_or_default();
    let mut message = format!(
        "idp: delete {} {}/{}{was}\n\nRemoves every file of the request; Argo CD prunes the claims.\n\n",
        t.kind, t.namespace, t.name
    );
    for file in &prepared.files {
        message.push_str(&format!("- {file}\n"));
    }
    message.push_str(&format!("\nIdp-Action: delete\nIdp-Request: {} {}/{}\n", t.kind, t.namespace, t.name));
    let changes: Vec<FileChange> =
        prepared.files.iter().map(|path| FileChange::Remove { path: path.clone() }).collect();
    let commit = state.commit_changes(Some(prepared.base), &changes, &message)?;
    Ok(DeleteOutcome {
        kind: t.kind,
        namespace: t.namespace.clone(),
        name: t.name.clone(),
        commit: commit.to_string(),
        removed: prepared.files,
    })
}
