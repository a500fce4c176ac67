//! Undoing a commit in memory, `git revert`'s way (libgit2's three-way
//! `revert_commit` onto a base): the file changes of the new commit, or the
//! paths that conflict. Nothing is written.

use super::{FileChange, ObjectId, StateError, StateRepo, git};

/// What reverting a commit onto a base gives.
#[derive(Debug)]
pub enum Revert {
    /// The changes that undo the commit on the base (none when the base has
    /// already undone it).
    Changes(Vec<FileChange>),
    /// The paths where the commit and the base's later changes collide.
    Conflicts(Vec<String>),
}

impl StateRepo {
    /// Reverts `commit` (which has one parent) onto `base`.
    pub fn revert(&self, commit: ObjectId, base: ObjectId) -> Result<Revert, StateError> {
        let repo = &self.repo;
        let target = repo.find_commit(commit.0).map_err(git("read the reverted commit"))?;
        let ours = repo.find_commit(base.0).map_err(git("read the base commit"))?;
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
            return Ok(Revert::Conflicts(paths));
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
        Ok(Revert::Changes(changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(state: &StateRepo, changes: &[FileChange], message: &str) -> ObjectId {
        state.commit_changes(state.head().unwrap(), changes, message).unwrap()
    }

    #[test]
    fn a_revert_gives_the_changes_that_undo_a_commit_or_the_paths_in_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        commit(&state, &[FileChange::upsert("a.yaml", "one\n")], "first");
        let second = commit(
            &state,
            &[FileChange::upsert("a.yaml", "two\n"), FileChange::upsert("dir/b.yaml", "new\n")],
            "second",
        );
        let Revert::Changes(mut changes) = state.revert(second, second).unwrap() else { panic!("a conflict") };
        changes.sort_by(|a, b| a.path().cmp(b.path()));
        assert_eq!(changes, [FileChange::upsert("a.yaml", "one\n"), FileChange::Remove { path: "dir/b.yaml".into() }]);

        let third = commit(&state, &[FileChange::upsert("a.yaml", "three\n")], "third");
        match state.revert(second, third).unwrap() {
            Revert::Conflicts(paths) => assert_eq!(paths, ["a.yaml"]),
            Revert::Changes(changes) => panic!("reverted over a later change: {changes:?}"),
        }
    }
}
