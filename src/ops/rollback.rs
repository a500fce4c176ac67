//! `idp rollback`: revert one idp commit as a new commit (`git revert`
//! semantics, computed in memory; nothing is written on a conflict).

use serde::Serialize;

use super::history::{is_idp_commit, named, trailers};
use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::{Context, Error};
use crate::layout;
use crate::request::Kind;
use crate::state::{Commit, ObjectId, Revert, StateRepo};

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
    // The commit to revert is resolved once, by the first attempt, and shown and
    // confirmed as that commit: a retry after a lost race reverts the same one,
    // never "the newest idp commit" (or `HEAD~1`) of the new remote head, which
    // may be another pipeline's.
    let mut pinned: Option<ObjectId> = None;
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let state = ctx.state()?;
        let base = ctx.base.ok_or(Error::NothingToRevert)?;
        let target = match (pinned, &options.commit) {
            (Some(id), _) => state.commit(id)?,
            (None, Some(rev)) => {
                let id = state.revparse(rev).map_err(|_| Error::UnknownRevision { revision: rev.clone() })?;
                state.commit(id)?
            }
            (None, None) => latest_idp_commit(ctx, base)?.ok_or(Error::NothingToRevert)?,
        };
        pinned = Some(target.id);
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
        let gone = gone(state, &target, base)?;
        if !gone.is_empty() {
            let commit = target.id.to_string();
            let restore: Vec<String> = gone.iter().filter_map(|g| g.restore.clone()).collect();
            let help = if restore.is_empty() {
                "removing the request already undid what it did. Nothing was written".to_owned()
            } else {
                format!(
                    "to undo its change, bring the request back first ({}), then roll back {commit} again. Nothing was written",
                    restore.join(", ")
                )
            };
            return Err(Error::RequestGone { commit, gone: gone.into_iter().map(|g| g.what).collect(), help });
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

/// A request that a reverted commit changed and that no longer exists.
struct Gone {
    /// What happened to it.
    what: String,
    /// The command that brings it back, unless the commit created it (then
    /// its removal already undid the commit).
    restore: Option<String>,
}

/// The requests `target` changed that no longer exist at `base`. Reverting
/// the commit then would give back pieces of a deleted request, or nothing,
/// and never the undo that was asked for: the request has to come back first.
fn gone(state: &StateRepo, target: &Commit, base: ObjectId) -> Result<Vec<Gone>, Error> {
    let mut gone = Vec::new();
    for request in named(&target.message).requests {
        let Some(kind) = Kind::from_cli_name(&request.kind) else { continue };
        let path = layout::request_path(kind, &request.namespace, &request.name);
        if state.file_id(target.id, &path)?.is_none() || state.file_id(base, &path)?.is_some() {
            continue;
        }
        let created = match target.parents.first() {
            Some(parent) => state.file_id(*parent, &path)?.is_none(),
            None => true,
        };
        let id = format!("{kind} {}/{}", request.namespace, request.name);
        let changed = if created { format!("it created {id}") } else { format!("it changed {id}") };
        gone.push(match state.last_change_from(base, &[path])? {
            Some(removal) => Gone {
                what: format!("{changed}, which commit {} ({}) has removed since", removal.id, removal.title),
                restore: (!created).then(|| format!("`idp rollback {}`", removal.id)),
            },
            None => Gone {
                what: format!("{changed}, which no longer exists"),
                restore: (!created).then(|| format!("`idp apply` {id} again")),
            },
        });
    }
    Ok(gone)
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
