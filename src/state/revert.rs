//! Undoing a commit in memory, `git revert`'s way (libgit2's three-way
//! `revert_commit` onto a base): the file changes of the new commit, or the
//! paths that conflict. Nothing is written.
//!
//! Without rename detection: a revert undoes the commit at the paths it
//! changed, never at a look-alike file elsewhere (another request's files are
//! look-alikes of the one whose files were deleted since).

use std::collections::BTreeSet;

use git2::MergeOptions;

use super::{FileChange, ObjectId, StateError, StateRepo, git};

/// What reverting a commit onto a base gives.
#[derive(Debug)]
pub enum Revert {
    /// The changes that undo the commit on the base (none when the base has
    /// already undone it), all at paths the commit changed.
    Changes(Vec<FileChange>),
    /// The paths, all of them ones the commit changed, where the commit and
    /// the base's later changes collide.
    Conflicts(Vec<String>),
}

impl StateRepo {
    /// Reverts `commit` (which has one parent) onto `base`.
    pub fn revert(&self, commit: ObjectId, base: ObjectId) -> Result<Revert, StateError> {
        let repo = &self.repo;
        let target = repo.find_commit(commit.0).map_err(git("read the reverted commit"))?;
        let ours = repo.find_commit(base.0).map_err(git("read the base commit"))?;
        let touched: BTreeSet<String> = self.changed_files(commit)?.into_iter().map(|c| c.path).collect();
        let mut options = MergeOptions::new();
        options.find_renames(false);
        let mut index = repo.revert_commit(&target, &ours, 0, Some(&options)).map_err(git("revert in memory"))?;
        if index.has_conflicts() {
            let paths: BTreeSet<String> = index
                .conflicts()
                .map_err(git("read conflicts"))?
                .filter_map(|c| c.ok())
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            return Ok(Revert::Conflicts(paths.into_iter().collect()));
        }
        let tree = repo
            .find_tree(index.write_tree_to(repo).map_err(git("write the reverted tree"))?)
            .map_err(git("read the reverted tree"))?;
        let base_tree = ours.tree().map_err(git("read the base tree"))?;
        let mut changes = Vec::new();
        for change in self.tree_changes(Some(&base_tree), &tree)? {
            if !touched.contains(&change.path) {
                // A change where the commit changed nothing: libgit2 without
                // rename detection never makes one, and if it ever did, the
                // revert would not undo this commit alone. Refuse, naming
                // the commit's own files.
                return Ok(Revert::Conflicts(touched.into_iter().collect()));
            }
            changes.push(match change.blob {
                Some(id) => FileChange::upsert(change.path, self.blob(id)?),
                None => FileChange::Remove { path: change.path },
            });
        }
        Ok(Revert::Changes(changes))
    }

    /// Reverts `commits` (newest first, one parent each) onto `base`, one after
    /// the other as `git revert A B C` would, and gives the changes of all of
    /// them as one: each step is an unreferenced commit object, the base of the
    /// next (harmless, like any object no ref names).
    pub fn revert_all(&self, commits: &[ObjectId], base: ObjectId) -> Result<Revert, StateError> {
        let mut onto = base;
        for commit in commits {
            match self.revert(*commit, onto)? {
                Revert::Changes(changes) => {
                    onto = self.create_commit(Some(onto), &changes.into(), "idp: rollback step\n")?
                }
                conflicts => return Ok(conflicts),
            }
        }
        let tree = |id: ObjectId| self.repo.find_commit(id.0).and_then(|c| c.tree()).map_err(git("read a tree"));
        let mut changes = Vec::new();
        for change in self.tree_changes(Some(&tree(base)?), &tree(onto)?)? {
            changes.push(match change.blob {
                Some(id) => FileChange::upsert(change.path, self.blob(id)?),
                None => FileChange::Remove { path: change.path },
            });
        }
        Ok(Revert::Changes(changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(state: &StateRepo, changes: &[FileChange], message: &str) -> ObjectId {
        state.commit_changes(state.head().unwrap(), &changes.into(), message).unwrap()
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

    #[test]
    fn reverting_several_commits_gives_their_undo_as_one_change() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        commit(&state, &[FileChange::upsert("a.yaml", "one\n")], "first");
        let second = commit(&state, &[FileChange::upsert("a.yaml", "two\n"), FileChange::upsert("b.yaml", "b\n")], "2");
        let third = commit(&state, &[FileChange::upsert("a.yaml", "three\n")], "third");
        let Revert::Changes(mut changes) = state.revert_all(&[third, second], third).unwrap() else { panic!() };
        changes.sort_by(|a, b| a.path().cmp(b.path()));
        assert_eq!(changes, [FileChange::upsert("a.yaml", "one\n"), FileChange::Remove { path: "b.yaml".into() }]);
        assert_eq!(state.head().unwrap(), Some(third), "no ref moved");
        // In the wrong order the older commit's revert meets the newer change.
        assert!(matches!(state.revert_all(&[second, third], third).unwrap(), Revert::Conflicts(_)));
    }

    #[test]
    fn a_revert_never_lands_on_a_look_alike_of_a_file_deleted_since() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        let claim = |name: &str, size: &str| format!("name: {name}\nsize: {size}\n{}", "spec: same\n".repeat(20));
        commit(&state, &[FileChange::upsert("x/a.yaml", claim("a", "small"))], "create a");
        let resize = commit(&state, &[FileChange::upsert("x/a.yaml", claim("a", "large"))], "resize a");
        commit(&state, &[FileChange::upsert("y/b.yaml", claim("b", "large"))], "create b");
        let deleted = commit(&state, &[FileChange::Remove { path: "x/a.yaml".into() }], "delete a");
        match state.revert(resize, deleted).unwrap() {
            Revert::Conflicts(paths) => assert_eq!(paths, ["x/a.yaml"]),
            Revert::Changes(changes) => panic!("reverted onto another file: {changes:?}"),
        }
    }
}
