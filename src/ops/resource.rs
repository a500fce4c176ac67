//! `idp status KIND NS/NAME` and `idp delete KIND NS/NAME`: one request's
//! files, found by path.

use serde::Serialize;

use super::publish::{Build, Landed, PushOptions, land_locally, land_on_remote};
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
    let head = ctx.base.ok_or_else(not_found)?;
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
        let placement = target.record(state, base).ok().flatten().map(|r| r.primary);
        let was = placement.map(|p| format!(" (was on {}/{})", p.provider, p.region)).unwrap_or_default();
        let t = target;
        let mut message = format!(
            "idp: delete {} {}/{}{was}\n\nRemoves every file of the request; Argo CD prunes the claims.\n\n",
            t.kind, t.namespace, t.name
        );
        for file in &files {
            message.push_str(&format!("- {file}\n"));
        }
        message.push_str(&format!("\nIdp-Action: delete\nIdp-Request: {} {}/{}\n", t.kind, t.namespace, t.name));
        let changes = files.iter().map(|path| FileChange::Remove { path: path.clone() }).collect();
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
