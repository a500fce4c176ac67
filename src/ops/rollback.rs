//! `idp rollback`: revert one idp commit as a new commit (`git revert`
//! semantics, computed in memory; nothing is written on a conflict).

use serde::Serialize;

use super::history::{REQUESTS_TRAILER, is_idp_commit, named_in, trailers};
use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::{Context, Error};
use crate::layout;
use crate::state::{Commit, ObjectId, Revert, StateRepo};

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// What to revert; default the newest idp commit not yet undone.
    pub target: Target,
    /// Revert a commit idp did not write.
    pub force: bool,
}

/// Which commits a rollback reverts.
#[derive(Debug, Clone)]
pub enum Target {
    /// One commit, by revision (`HEAD~2`, a hash).
    Commit(String),
    /// The newest N idp commits that are not reverts and not reverted yet:
    /// undo, as an editor's undo goes back, never toggling a revert.
    Steps(u32),
    /// Every commit after this revision, back to the state it left.
    To(String),
}

#[derive(Debug, Serialize)]
pub struct RollbackOutcome {
    /// The newest commit reverted.
    pub reverted: String,
    pub reverted_title: String,
    /// Every commit reverted, newest first.
    pub reverted_commits: Vec<RevertedCommit>,
    pub commit: String,
    pub landed: Landed,
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevertedCommit {
    pub commit: String,
    pub title: String,
}

/// What one attempt reverts: the commits (newest first), the changed paths.
pub struct Reverted {
    pub commits: Vec<RevertedCommit>,
    pub changed: Vec<String>,
}

/// Reverts commits as one new commit; None when the confirmation was declined.
pub fn rollback(
    ctx: &mut Context,
    options: &RollbackOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, Reverted>,
    progress: &dyn Fn(&str),
) -> Result<Option<RollbackOutcome>, Error> {
    // The commits to revert are resolved once, by the first attempt, and shown
    // and confirmed as those commits: a retry after a lost race reverts the
    // same ones, never "the newest idp commit" (or `HEAD~1`) of the new remote
    // head, which may be another pipeline's.
    let mut pinned: Option<Vec<ObjectId>> = None;
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let state = ctx.state()?;
        let base = ctx.base.ok_or(Error::NothingToRevert)?;
        let ids = match &pinned {
            Some(ids) => ids.clone(),
            None => targets(ctx, &options.target, base)?,
        };
        pinned = Some(ids.clone());
        let mut commits = Vec::new();
        for id in &ids {
            let target = state.commit(*id)?;
            let title = target.title().to_owned();
            if !options.force && !is_idp_commit(&target.message) {
                return Err(Error::NotIdpCommit { commit: target.id.to_string(), title });
            }
            if target.parents.len() != 1 {
                return Err(Error::UnknownRevision {
                    revision: format!("{} (a merge or root commit cannot be reverted)", target.id),
                });
            }
            refuse_gone(state, &target, base, &ids)?;
            commits.push(target);
        }
        let changes = match state.revert_all(&ids, base)? {
            Revert::Changes(changes) => changes,
            Revert::Conflicts(paths) => {
                let commit = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                return Err(Error::RevertConflict { commit, paths });
            }
        };
        if changes.is_empty() {
            return Err(Error::NothingToRevert);
        }
        let changed: Vec<String> = changes.iter().map(|c| c.path().to_owned()).collect();
        let text = message(&commits);
        let commits = commits.iter().map(|c| RevertedCommit { commit: c.id.to_string(), title: c.title().to_owned() });
        Ok(Proposal::commit(Reverted { commits: commits.collect(), changed }, changes, text))
    })?;
    Ok(match landing {
        Landing::Landed(r, landed) => Some(RollbackOutcome {
            reverted: r.commits[0].commit.clone(),
            reverted_title: r.commits[0].title.clone(),
            reverted_commits: r.commits,
            commit: landed.commit.clone(),
            landed,
            changed: r.changed,
        }),
        Landing::Unchanged(_) | Landing::Declined => None,
    })
}

/// The revert commit's message: what it undoes, and trailers naming each
/// reverted commit and the requests and cells they touched (history filters
/// find it by them).
fn message(commits: &[Commit]) -> String {
    let mut text = match commits {
        [one] => {
            let title = one.title();
            format!(
                "idp: revert {}\n\nThis reverts commit {}.\n\n",
                title.strip_prefix("idp: ").unwrap_or(title),
                one.id
            )
        }
        many => {
            let mut text = format!("idp: revert {} commits\n\nThis reverts, newest first:\n", many.len());
            for commit in many {
                text.push_str(&format!("- {} {}\n", commit.id, commit.title()));
            }
            text.push('\n');
            text
        }
    };
    text.push_str("Idp-Action: revert\n");
    for commit in commits {
        text.push_str(&format!("Idp-Reverts: {}\n", commit.id));
    }
    let mut named = std::collections::BTreeSet::new();
    for commit in commits {
        for (key, value) in trailers(&commit.message) {
            // A commit that only counts its requests (`Idp-Requests`) is
            // reverted by one that names them the same way: by its changes.
            if matches!(key, "Idp-Request" | "Idp-Cell" | REQUESTS_TRAILER) && named.insert((key, value)) {
                text.push_str(&format!("{key}: {value}\n"));
            }
        }
    }
    text
}

/// The commits a target names, newest first.
fn targets(ctx: &Context, target: &Target, base: ObjectId) -> Result<Vec<ObjectId>, Error> {
    let state = ctx.state()?;
    let resolve = |rev: &str| state.revparse(rev).map_err(|_| Error::UnknownRevision { revision: rev.to_owned() });
    match target {
        Target::Commit(rev) => Ok(vec![resolve(rev)?]),
        Target::Steps(steps) => {
            let undoable = undoable(ctx, base, *steps as usize)?;
            if undoable.len() < *steps as usize {
                return Err(Error::NotEnoughToRevert { asked: *steps, found: undoable.len() });
            }
            Ok(undoable)
        }
        Target::To(rev) => {
            let to = resolve(rev)?;
            let mut after = Vec::new();
            for commit in state.first_parent_log(base)? {
                let commit = commit?;
                if commit.id == to {
                    return if after.is_empty() { Err(Error::NothingToRevert) } else { Ok(after) };
                }
                after.push(commit.id);
            }
            Err(Error::UnknownRevision { revision: format!("{rev} (not on the branch's history)") })
        }
    }
}

/// Up to `count` idp commits, newest first, that a plain `idp rollback` may
/// undo: not a revert itself, not reverted since, not the first commit.
fn undoable(ctx: &Context, base: ObjectId, count: usize) -> Result<Vec<ObjectId>, Error> {
    let mut reverted = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    for commit in ctx.state()?.log(base)? {
        let commit = commit?;
        let trailers = trailers(&commit.message);
        if trailers.iter().any(|(k, v)| *k == "Idp-Action" && *v == "revert") {
            // A revert that was itself reverted undid nothing in the end.
            if !reverted.contains(&commit.id.to_string()) {
                reverted.extend(trailers.iter().filter(|(k, _)| *k == "Idp-Reverts").map(|(_, v)| v.to_string()));
            }
            continue;
        }
        // The first commit (init) is the repo itself, not a change to undo.
        if is_idp_commit(&commit.message) && commit.parents.len() == 1 && !reverted.contains(&commit.id.to_string()) {
            found.push(commit.id);
            if found.len() == count {
                break;
            }
        }
    }
    Ok(found)
}

/// Refuses a revert of a commit whose requests were removed since (`gone`).
fn refuse_gone(state: &StateRepo, target: &Commit, base: ObjectId, reverting: &[ObjectId]) -> Result<(), Error> {
    let gone = gone(state, target, base, reverting)?;
    if gone.is_empty() {
        return Ok(());
    }
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
    Err(Error::RequestGone { commit, gone: gone.into_iter().map(|g| g.what).collect(), help })
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
/// A removal that is itself among the commits `reverting` is undone first.
fn gone(state: &StateRepo, target: &Commit, base: ObjectId, reverting: &[ObjectId]) -> Result<Vec<Gone>, Error> {
    let mut gone = Vec::new();
    for request in named_in(state, target)?.requests {
        if !crate::names::is_dns_label(&request.kind) {
            continue;
        }
        let path = layout::request_path_of(&request.kind, &request.namespace, &request.name);
        if state.file_id(target.id, &path)?.is_none() || state.file_id(base, &path)?.is_some() {
            continue;
        }
        let created = match target.parents.first() {
            Some(parent) => state.file_id(*parent, &path)?.is_none(),
            None => true,
        };
        let id = format!("{} {}/{}", request.kind, request.namespace, request.name);
        let changed = if created { format!("it created {id}") } else { format!("it changed {id}") };
        gone.push(match state.last_change_from(base, &[path])? {
            Some(removal) if reverting.iter().any(|id| id.to_string() == removal.id) => continue,
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
