//! `idp rollback`: revert one idp commit as a new commit (`git revert`
//! semantics, computed in memory; nothing is written on a conflict).

use serde::Serialize;

use super::history::{is_idp_commit, trailers};
use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::{Context, Error};
use crate::state::{Commit, ObjectId, Revert};

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// A revision (`HEAD~2`, a hash); default the newest idp commit.
    pub commit: Option<String>,
    /// Revert a commit idp did not write.
    pub force: bool,
}

#[derive(Debug, Serialize)]
pub struct RollbackOutcome {
    pub reverted: String,
    pub reverted_title: String,
    pub commit: String,
    pub landed: Landed,
    pub changed: Vec<String>,
}

/// What one attempt reverts: the commit, its title, the changed paths.
pub struct Reverted {
    pub commit: String,
    pub title: String,
    pub changed: Vec<String>,
}

/// Reverts a commit; None when the confirmation was declined.
pub fn rollback(
    ctx: &mut Context,
    options: &RollbackOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, Reverted>,
    progress: &dyn Fn(&str),
) -> Result<Option<RollbackOutcome>, Error> {
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let state = ctx.state()?;
        let base = ctx.base.ok_or(Error::NothingToRevert)?;
        let target = match &options.commit {
            Some(rev) => {
                let id = state.revparse(rev).map_err(|_| Error::UnknownRevision { revision: rev.clone() })?;
                state.commit(id)?
            }
            None => latest_idp_commit(ctx, base)?.ok_or(Error::NothingToRevert)?,
        };
        let message = target.message.clone();
        let title = target.title().to_owned();
        if !options.force && !is_idp_commit(&message) {
            return Err(Error::NotIdpCommit { commit: target.id.to_string(), title });
        }
        if target.parents.len() != 1 {
            return Err(Error::UnknownRevision {
                revision: format!("{} (a merge or root commit cannot be reverted)", target.id),
            });
        }
        let changes = match state.revert(target.id, base)? {
            Revert::Changes(changes) => changes,
            Revert::Conflicts(paths) => return Err(Error::RevertConflict { commit: target.id.to_string(), paths }),
        };
        let changed: Vec<String> = changes.iter().map(|c| c.path().to_owned()).collect();
        if changes.is_empty() {
            return Err(Error::NothingToRevert);
        }
        let reverted = target.id.to_string();
        let short_title = title.strip_prefix("idp: ").unwrap_or(&title);
        let mut text = format!("idp: revert {short_title}\n\nThis reverts commit {reverted}.\n\n");
        text.push_str(&format!("Idp-Action: revert\nIdp-Reverts: {reverted}\n"));
        // The requests (and cells) it touches, so history filters find it.
        for (key, value) in trailers(&message) {
            if matches!(key, "Idp-Request" | "Idp-Cell") {
                text.push_str(&format!("{key}: {value}\n"));
            }
        }
        Ok(Proposal::commit(Reverted { commit: reverted, title, changed }, changes, text))
    })?;
    Ok(match landing {
        Landing::Landed(r, landed) => Some(RollbackOutcome {
            reverted: r.commit,
            reverted_title: r.title,
            commit: landed.commit.clone(),
            landed,
            changed: r.changed,
        }),
        Landing::Unchanged(_) | Landing::Declined => None,
    })
}

fn latest_idp_commit(ctx: &Context, base: ObjectId) -> Result<Option<Commit>, Error> {
    for commit in ctx.state()?.log(base)? {
        let commit = commit?;
        // The first commit (init) is the repo itself, not a change to undo.
        if is_idp_commit(&commit.message) && commit.parents.len() == 1 {
            return Ok(Some(commit));
        }
    }
    Ok(None)
}
