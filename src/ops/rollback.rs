//! `idp rollback`: revert one idp commit as a new commit (`git revert`
//! semantics, computed in memory; nothing is written on a conflict).

use serde::Serialize;

use super::history::{is_idp_commit, trailers};
use super::land::{Confirm, Landed, Landing, Proposal, PushOptions, land};
use super::{Context, Error};
use crate::state::{FileChange, git};

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
    push: Option<&PushOptions>,
    confirm: Confirm<'_, Reverted>,
    progress: &dyn Fn(&str),
) -> Result<Option<RollbackOutcome>, Error> {
    let landing = land(ctx, push, confirm, progress, |ctx| {
        let state = ctx.state()?;
        let repo = state.git();
        let base = ctx.base.ok_or(Error::NothingToRevert)?;
        let target = match &options.commit {
            Some(rev) => repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .map_err(|_| Error::UnknownRevision { revision: rev.clone() })?,
            None => latest_idp_commit(ctx, base)?.ok_or(Error::NothingToRevert)?,
        };
        let message = String::from_utf8_lossy(target.message_bytes()).into_owned();
        let title = message.lines().next().unwrap_or_default().to_owned();
        if !options.force && !is_idp_commit(&message) {
            return Err(Error::NotIdpCommit { commit: target.id().to_string(), title });
        }
        if target.parent_count() != 1 {
            return Err(Error::UnknownRevision {
                revision: format!("{} (a merge or root commit cannot be reverted)", target.id()),
            });
        }
        let ours = repo.find_commit(base).map_err(git("read the base commit"))?;
        let mut index = repo.revert_commit(&target, &ours, 0, None).map_err(git("revert in memory"))?;
        if index.has_conflicts() {
            let mut paths: Vec<String> = index
                .conflicts()
                .map_err(git("read conflicts"))?
                .filter_map(|c| c.ok())
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            paths.dedup();
            return Err(Error::RevertConflict { commit: target.id().to_string(), paths });
        }
        let tree = repo
            .find_tree(index.write_tree_to(repo).map_err(git("write the reverted tree"))?)
            .map_err(git("read the reverted tree"))?;
        let base_tree = ours.tree().map_err(git("read the base tree"))?;
        let diff = repo.diff_tree_to_tree(Some(&base_tree), Some(&tree), None).map_err(git("compare trees"))?;
        let mut changes = Vec::new();
        for delta in diff.deltas() {
            let new = delta.new_file();
            let path =
                new.path().or(delta.old_file().path()).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            if new.exists() {
                let blob = repo.find_blob(new.id()).map_err(git(format!("read {path}")))?;
                changes.push(FileChange::upsert(path, blob.content()));
            } else {
                changes.push(FileChange::Remove { path });
            }
        }
        let changed: Vec<String> = changes.iter().map(|c| c.path().to_owned()).collect();
        if changes.is_empty() {
            return Err(Error::NothingToRevert);
        }
        let reverted = target.id().to_string();
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

fn latest_idp_commit(ctx: &Context, base: git2::Oid) -> Result<Option<git2::Commit<'_>>, Error> {
    let repo = ctx.state()?.git();
    let mut walk = repo.revwalk().map_err(git("walk history"))?;
    walk.push(base).map_err(git("walk history"))?;
    for oid in walk {
        let commit = repo.find_commit(oid.map_err(git("walk history"))?).map_err(git("read a commit"))?;
        let message = String::from_utf8_lossy(commit.message_bytes());
        // The first commit (init) is the repo itself, not a change to undo.
        if is_idp_commit(&message) && commit.parent_count() == 1 {
            return Ok(Some(commit));
        }
    }
    Ok(None)
}
