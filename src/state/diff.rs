//! What a commit changed, path by path, for the checks that a commit (or
//! its revert) touched only what it should. Nothing here writes, and nothing
//! here detects renames: a file that moved is a removal at one path and an
//! addition at another, which is exactly what Argo CD sees.

use std::cmp::Ordering;
use std::path::Path;

use git2::{ErrorCode, ObjectType, Tree, TreeEntry};

use super::{ObjectId, StateError, StateRepo, git};

/// One file a commit changed against its first parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChange {
    pub path: String,
    /// The blob the commit left at the path; None when it removed the file.
    pub blob: Option<ObjectId>,
    /// The blob the path held before; None when the commit added the file.
    pub old: Option<ObjectId>,
}

impl StateRepo {
    /// The files `commit` changed against its first parent (every file, for a
    /// commit without parents). Subtrees whose id did not change are skipped
    /// unread, so a commit costs what it changed, not the size of the repo.
    pub fn changed_files(&self, commit: ObjectId) -> Result<Vec<PathChange>, StateError> {
        let commit = self.repo.find_commit(commit.0).map_err(git("read a commit"))?;
        let tree = commit.tree().map_err(git("read a commit tree"))?;
        let parent = match commit.parent_count() {
            0 => None,
            _ => Some(commit.parent(0).and_then(|p| p.tree()).map_err(git("read a parent commit"))?),
        };
        self.tree_changes(parent.as_ref(), &tree)
    }

    /// The files that differ between two trees, without rename detection:
    /// both trees' entries walked side by side in git's order, descending
    /// only into subtrees whose ids differ. (libgit2's diff builds the path
    /// of every entry of every folder it opens; a state repo's folders hold
    /// a namespace each, so that was most of the time of a long history.)
    pub(super) fn tree_changes(&self, old: Option<&Tree<'_>>, new: &Tree<'_>) -> Result<Vec<PathChange>, StateError> {
        let mut changes = Vec::new();
        self.compare(&mut String::new(), old, Some(new), &mut changes)?;
        Ok(changes)
    }

    fn compare(
        &self,
        prefix: &mut String,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
        changes: &mut Vec<PathChange>,
    ) -> Result<(), StateError> {
        let (mut i, mut j) = (0, 0);
        loop {
            let (a, b) = (old.and_then(|t| t.get(i)), new.and_then(|t| t.get(j)));
            let order = match (&a, &b) {
                (None, None) => return Ok(()),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => git_order(a, b),
            };
            if order != Ordering::Greater {
                i += 1;
            }
            if order != Ordering::Less {
                j += 1;
            }
            let (a, b) = match order {
                Ordering::Less => (a, None),
                Ordering::Greater => (None, b),
                Ordering::Equal => (a, b),
            };
            if let (Some(a), Some(b)) = (&a, &b)
                && a.id() == b.id()
                && a.filemode() == b.filemode()
            {
                continue;
            }
            let entry = a.as_ref().or(b.as_ref()).expect("one side has the entry");
            let len = prefix.len();
            prefix.push_str(&String::from_utf8_lossy(entry.name_bytes()));
            let subtree = |e: &Option<TreeEntry<'_>>| -> Result<Option<Tree<'_>>, StateError> {
                match e {
                    Some(e) if e.kind() == Some(ObjectType::Tree) => {
                        Ok(Some(self.repo.find_tree(e.id()).map_err(git("read a tree"))?))
                    }
                    _ => Ok(None),
                }
            };
            let (old_tree, new_tree) = (subtree(&a)?, subtree(&b)?);
            let blob =
                |e: &Option<TreeEntry<'_>>| e.as_ref().filter(|e| e.kind() == Some(ObjectType::Blob)).map(|e| e.id());
            let (old_blob, new_blob) = (blob(&a), blob(&b));
            if old_blob.is_some() || new_blob.is_some() {
                changes.push(PathChange {
                    path: prefix.clone(),
                    blob: new_blob.map(ObjectId),
                    old: old_blob.map(ObjectId),
                });
            }
            if old_tree.is_some() || new_tree.is_some() {
                prefix.push('/');
                self.compare(prefix, old_tree.as_ref(), new_tree.as_ref(), changes)?;
            }
            prefix.truncate(len);
        }
    }

    /// The id of the file at `path` at a commit, without reading it; None
    /// when no file is there.
    pub fn file_id(&self, commit: ObjectId, path: &str) -> Result<Option<ObjectId>, StateError> {
        let tree = self.tree_at(commit.0)?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(ObjectId(entry.id()))),
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(format!("look up {path}"))(e)),
        }
    }
}

/// Git's order of the entries of a tree: by name, a folder's name read as
/// if it ended in '/'. Two trees' entries walked in it meet at equal names.
fn git_order(a: &TreeEntry<'_>, b: &TreeEntry<'_>) -> Ordering {
    let end = |e: &TreeEntry<'_>| if e.kind() == Some(ObjectType::Tree) { &b"/"[..] } else { &b""[..] };
    a.name_bytes().iter().chain(end(a)).cmp(b.name_bytes().iter().chain(end(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::FileChange;

    #[test]
    fn a_commit_changes_the_paths_it_wrote_and_a_move_is_a_removal_and_an_addition() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        let text = "a file long enough for git to call a copy of it a rename\n".repeat(20);
        let first = state
            .commit_changes(
                None,
                &[FileChange::upsert("a/one.yaml", text.clone()), FileChange::upsert("b/two.yaml", "two\n")].into(),
                "first\n",
            )
            .unwrap();
        let root: Vec<String> = state.changed_files(first).unwrap().into_iter().map(|c| c.path).collect();
        assert_eq!(root, ["a/one.yaml", "b/two.yaml"]);

        let moved = state
            .commit_changes(
                Some(first),
                &[FileChange::Remove { path: "a/one.yaml".into() }, FileChange::upsert("c/one.yaml", text)].into(),
                "move\n",
            )
            .unwrap();
        let changes = state.changed_files(moved).unwrap();
        let new_id = state.file_id(moved, "c/one.yaml").unwrap();
        assert!(new_id.is_some());
        assert_eq!(
            changes,
            [
                PathChange { path: "a/one.yaml".into(), blob: None, old: new_id },
                PathChange { path: "c/one.yaml".into(), blob: new_id, old: None },
            ]
        );
        assert_eq!(state.file_id(moved, "a/one.yaml").unwrap(), None);
        assert_eq!(state.file_id(moved, "c").unwrap(), None, "a folder is not a file");
    }

    /// What libgit2's own diff says a commit changed, as (path, blob).
    fn libgit2_diff(state: &StateRepo, commit: ObjectId) -> Vec<PathChange> {
        let commit = state.repo.find_commit(commit.0).unwrap();
        let parent = commit.parent(0).ok().map(|p| p.tree().unwrap());
        let diff = state.repo.diff_tree_to_tree(parent.as_ref(), Some(&commit.tree().unwrap()), None).unwrap();
        let mut changes: Vec<PathChange> = diff
            .deltas()
            .map(|d| PathChange {
                path: d.new_file().path().or(d.old_file().path()).unwrap().to_string_lossy().into_owned(),
                blob: d.new_file().exists().then(|| ObjectId(d.new_file().id())),
                old: d.old_file().exists().then(|| ObjectId(d.old_file().id())),
            })
            .collect();
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes
    }

    #[test]
    fn the_changed_files_are_the_ones_libgit2s_diff_finds_whatever_the_names() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        // Names that sort differently as a folder (read as "a/") and as a file.
        let first = ["a/x.yaml", "a-b", "a.b/y.yaml", "a0", "b/deep/er/z.yaml", "b/keep.yaml", "c", "z/n-1/f", "z/n/f"];
        let mut parent = None;
        let mut rounds: Vec<Vec<FileChange>> =
            vec![first.iter().map(|p| FileChange::upsert(*p, p.as_bytes())).collect()];
        rounds.push(vec![
            FileChange::upsert("a/x.yaml", "changed"),
            FileChange::Remove { path: "a-b".into() },
            FileChange::Remove { path: "b/deep/er/z.yaml".into() },
            FileChange::upsert("a.c", "new"),
            FileChange::upsert("z/n/f", "changed"),
        ]);
        // A file's name as a folder, and back (a folder and a file of one name
        // cannot share a commit).
        rounds.push(vec![FileChange::upsert("a-b/now-a-folder", "f"), FileChange::Remove { path: "c".into() }]);
        rounds.push(vec![
            FileChange::Remove { path: "a-b/now-a-folder".into() },
            FileChange::upsert("c/inside", "c is a folder"),
        ]);
        rounds.push(vec![FileChange::upsert("a-b", "a file again"), FileChange::upsert("a-b.yaml", "beside it")]);
        for (round, changes) in rounds.iter().enumerate() {
            let commit = state.commit_changes(parent, &changes.as_slice().into(), &format!("round {round}\n")).unwrap();
            let mut mine = state.changed_files(commit).unwrap();
            mine.sort_by(|a, b| a.path.cmp(&b.path));
            assert_eq!(mine, libgit2_diff(&state, commit), "round {round}");
            parent = Some(commit);
        }
    }
}
