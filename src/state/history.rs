//! Reading history back: the commits reachable from a starting point, one
//! commit by id or by revision, the newest commit that changed some paths.
//! Nothing here writes.

use std::path::Path;

use git2::Oid;

use super::{ObjectId, StateError, StateRepo, git};

/// A commit as idp reads it back (the audit log, rollback, doctor).
#[derive(Debug, Clone)]
pub struct Commit {
    pub id: ObjectId,
    pub parents: Vec<ObjectId>,
    /// The author's name.
    pub author: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// The whole message, trailers included (bytes that are not UTF-8 replaced).
    pub message: String,
}

impl Commit {
    fn read(commit: &git2::Commit<'_>) -> Self {
        Self {
            id: ObjectId(commit.id()),
            parents: commit.parent_ids().map(ObjectId).collect(),
            author: String::from_utf8_lossy(commit.author().name_bytes()).into_owned(),
            time: commit.time().seconds(),
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        }
    }

    /// The first line of the message.
    pub fn title(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

/// A commit, as the audit commands show it.
pub struct CommitSummary {
    pub id: String,
    pub title: String,
    pub author: String,
    pub time: i64,
}

impl StateRepo {
    /// The commits reachable from `from`, newest first (git's default order),
    /// read one at a time as the caller goes, so it may stop early.
    pub fn log(&self, from: ObjectId) -> Result<impl Iterator<Item = Result<Commit, StateError>> + '_, StateError> {
        self.walk(from, false)
    }

    /// Like [`log`](Self::log), following first parents only (`git log --first-parent`).
    pub fn first_parent_log(
        &self,
        from: ObjectId,
    ) -> Result<impl Iterator<Item = Result<Commit, StateError>> + '_, StateError> {
        self.walk(from, true)
    }

    fn walk(
        &self,
        from: ObjectId,
        first_parent: bool,
    ) -> Result<impl Iterator<Item = Result<Commit, StateError>> + '_, StateError> {
        let mut walk = self.repo.revwalk().map_err(git("walk history"))?;
        walk.push(from.0).map_err(git("walk history"))?;
        if first_parent {
            walk.simplify_first_parent().map_err(git("walk history"))?;
        }
        Ok(walk.map(|id| {
            let commit = self.repo.find_commit(id.map_err(git("walk history"))?).map_err(git("read a commit"))?;
            Ok(Commit::read(&commit))
        }))
    }

    /// The commits where this clone's history is cut (`git clone --depth N`):
    /// their parents were never fetched, so a walk ends there without having
    /// reached the first commit. Empty for a complete clone.
    pub fn shallow_boundary(&self) -> Result<Vec<ObjectId>, StateError> {
        if !self.repo.is_shallow() {
            return Ok(Vec::new());
        }
        // git keeps the cut in `.git/shallow`, one commit id a line; libgit2
        // reads the same file to end its walks there.
        let text = std::fs::read_to_string(self.repo.path().join("shallow")).unwrap_or_default();
        Ok(text.lines().filter_map(|line| git2::Oid::from_str(line.trim()).ok()).map(ObjectId).collect())
    }

    /// The files under `dir` that a commit changed, as `git log -- DIR` sees
    /// it: None when the folder is as one of its parents has it (a merge that
    /// brings in a change made on another branch is not that change again).
    /// A root commit is compared with nothing, so it adds every file.
    pub fn changed_under(&self, commit: &Commit, dir: &str) -> Result<Option<Vec<String>>, StateError> {
        let folder = |id: git2::Oid| -> Result<Option<git2::Tree<'_>>, StateError> {
            let tree = self.repo.find_commit(id).and_then(|c| c.tree()).map_err(git("read commit tree"))?;
            Ok(tree.get_path(Path::new(dir)).ok().and_then(|e| self.repo.find_tree(e.id()).ok()))
        };
        let now = folder(commit.id.0)?;
        let mut before = None;
        for parent in &commit.parents {
            let then = folder(parent.0)?;
            if then.as_ref().map(|t| t.id()) == now.as_ref().map(|t| t.id()) {
                return Ok(None);
            }
            before.get_or_insert(then);
        }
        let before = before.flatten();
        if before.is_none() && now.is_none() {
            return Ok(None);
        }
        let diff =
            self.repo.diff_tree_to_tree(before.as_ref(), now.as_ref(), None).map_err(git(format!("diff {dir}")))?;
        let mut files: Vec<String> = diff
            .deltas()
            .filter_map(|d| {
                d.new_file().path().or_else(|| d.old_file().path()).map(|p| format!("{dir}/{}", p.display()))
            })
            .collect();
        files.sort();
        files.dedup();
        Ok(Some(files))
    }

    /// One commit.
    pub fn commit(&self, id: ObjectId) -> Result<Commit, StateError> {
        let commit = self.repo.find_commit(id.0).map_err(git("read a commit"))?;
        Ok(Commit::read(&commit))
    }

    /// Whether `revision` (a full commit hash a reconciler reports) is `commit`
    /// or a descendant of it: whether what it synced includes that commit. A
    /// revision this clone does not hold (not fetched yet) does not.
    pub fn contains(&self, revision: &str, commit: ObjectId) -> bool {
        match Oid::from_str(revision) {
            Ok(oid) if revision.len() == 40 => {
                oid == commit.0 || self.repo.graph_descendant_of(oid, commit.0).unwrap_or(false)
            }
            _ => false,
        }
    }

    /// Whether this clone holds the commit `revision` (a full hash) names.
    pub fn has_commit(&self, revision: &str) -> bool {
        Oid::from_str(revision).is_ok_and(|oid| self.repo.find_commit(oid).is_ok())
    }

    /// The commit a revision names (`HEAD~2`, a branch, a hash), as git reads it.
    pub fn revparse(&self, revision: &str) -> Result<ObjectId, StateError> {
        let commit = self
            .repo
            .revparse_single(revision)
            .and_then(|o| o.peel_to_commit())
            .map_err(git(format!("find revision {revision}")))?;
        Ok(ObjectId(commit.id()))
    }

    /// The newest commit that changed any of `paths` (walks history from HEAD).
    pub fn last_change(&self, paths: &[String]) -> Result<Option<CommitSummary>, StateError> {
        match self.head()? {
            Some(head) => self.last_change_from(head, paths),
            None => Ok(None),
        }
    }

    /// The newest commit reachable from `from` that changed any of `paths`.
    pub fn last_change_from(&self, from: ObjectId, paths: &[String]) -> Result<Option<CommitSummary>, StateError> {
        let mut walk = self.repo.revwalk().map_err(git("walk history"))?;
        walk.push(from.0).map_err(git("walk history"))?;
        let id_at = |tree: &git2::Tree<'_>, path: &str| tree.get_path(Path::new(path)).ok().map(|e| e.id());
        for oid in walk {
            let commit = self.repo.find_commit(oid.map_err(git("walk history"))?).map_err(git("read commit"))?;
            let tree = commit.tree().map_err(git("read commit tree"))?;
            let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
            let changed = paths.iter().any(|p| id_at(&tree, p) != parent_tree.as_ref().and_then(|t| id_at(t, p)));
            if changed {
                return Ok(Some(CommitSummary {
                    id: commit.id().to_string(),
                    title: commit.summary().ok().flatten().unwrap_or_default().to_owned(),
                    author: commit.author().name().ok().unwrap_or_default().to_owned(),
                    time: commit.time().seconds(),
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::FileChange;

    #[test]
    fn the_log_reads_commits_newest_first_and_revisions_resolve_to_commits() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        let first = state.commit_changes(None, &[FileChange::upsert("a", "1")].into(), "first\n\nbody\n").unwrap();
        let second = state.commit_changes(Some(first), &[FileChange::upsert("a", "2")].into(), "second\n").unwrap();
        let log: Vec<Commit> = state.log(second).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(log.iter().map(|c| c.id).collect::<Vec<_>>(), [second, first]);
        assert_eq!(log[0].parents, [first]);
        assert!(log[1].parents.is_empty());
        assert_eq!((log[1].title(), log[1].message.as_str()), ("first", "first\n\nbody\n"));
        assert_eq!(state.first_parent_log(second).unwrap().count(), 2);
        assert_eq!(state.revparse("HEAD~1").unwrap(), first);
        assert_eq!(state.revparse(&second.to_string()).unwrap(), second);
        assert!(state.revparse("no-such-branch").is_err());
        assert_eq!(state.commit(first).unwrap().title(), "first");
    }

    #[test]
    fn a_commit_changes_a_folder_when_it_differs_from_every_parent() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        let root = state.commit_changes(None, &[FileChange::upsert("policy/p.yaml", "1")].into(), "root\n").unwrap();
        let other = state.commit_changes(Some(root), &[FileChange::upsert("a", "1")].into(), "a\n").unwrap();
        let edit = state
            .commit_changes(
                Some(other),
                &[FileChange::upsert("policy/p.yaml", "2"), FileChange::upsert("policy/r/x", "x")].into(),
                "e\n",
            )
            .unwrap();
        let changed = |id| state.changed_under(&state.commit(id).unwrap(), "policy").unwrap();
        assert_eq!(changed(root), Some(vec!["policy/p.yaml".to_owned()]));
        assert_eq!(changed(other), None);
        assert_eq!(changed(edit), Some(vec!["policy/p.yaml".to_owned(), "policy/r/x".to_owned()]));
        assert!(state.shallow_boundary().unwrap().is_empty());
    }
}
