//! Listing what a commit holds under a folder. The plan/apply path only
//! ever lists one request's folders; `each_file` (the whole tree) is for
//! `idp verify`.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, TreeWalkMode, TreeWalkResult};

use super::{ObjectId, StateError, StateRepo, git};

impl StateRepo {
    /// The files below a directory at a commit (that directory only, recursively;
    /// never the whole tree).
    pub fn list_dir(&self, commit: ObjectId, dir: &str) -> Result<Vec<String>, StateError> {
        let mut files = Vec::new();
        self.walk_dir(commit, dir, |path, _| files.push(path))?;
        Ok(files)
    }

    /// Calls `found` with the path and blob id of every file below `dir` at
    /// a commit, in git's order; nothing when `dir` is not a folder there.
    fn walk_dir(
        &self,
        commit: ObjectId,
        dir: &str,
        mut found: impl FnMut(String, git2::Oid),
    ) -> Result<(), StateError> {
        let tree = self.tree_at(commit.0)?;
        let Ok(entry) = tree.get_path(Path::new(dir)) else { return Ok(()) };
        let Ok(subtree) = self.repo.find_tree(entry.id()) else { return Ok(()) };
        subtree
            .walk(TreeWalkMode::PreOrder, |parent, e| {
                if e.kind() == Some(ObjectType::Blob) {
                    found(format!("{dir}/{parent}{}", e.name().unwrap_or_default()), e.id());
                }
                TreeWalkResult::Ok
            })
            .map_err(git(format!("list {dir}")))
    }

    /// The folders directly under `dir` at a commit (none when `dir` is not a
    /// folder there).
    pub fn subdirs(&self, commit: ObjectId, dir: &str) -> Result<Vec<String>, StateError> {
        let tree = self.tree_at(commit.0)?;
        let Ok(entry) = tree.get_path(Path::new(dir)) else { return Ok(Vec::new()) };
        let Ok(subtree) = self.repo.find_tree(entry.id()) else { return Ok(Vec::new()) };
        Ok(subtree
            .iter()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .filter_map(|e| e.name().ok().map(str::to_owned))
            .collect())
    }

    /// The files under `dir` whose content in the work tree differs from
    /// `commit`'s, or that only one of them has; none in a bare repo. Read
    /// without the index: after a bulk apply it holds tens of thousands of
    /// entries, and loading it (as a status does) cost a plan 70 ms.
    pub fn edited_in_work_tree(&self, commit: Option<ObjectId>, dir: &str) -> Result<Vec<String>, StateError> {
        let Some(root) = self.repo.workdir() else { return Ok(Vec::new()) };
        let mut committed: BTreeMap<String, git2::Oid> = BTreeMap::new();
        if let Some(commit) = commit {
            self.walk_dir(commit, dir, |path, id| {
                committed.insert(path, id);
            })?;
        }
        let mut edited = Vec::new();
        let mut folders = vec![dir.to_owned()];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(root.join(&folder)) else { continue };
            for entry in entries.flatten() {
                let path = format!("{folder}/{}", entry.file_name().to_string_lossy());
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => folders.push(path),
                    Ok(kind) if kind.is_file() => {
                        // Compared with the blob's bytes, not its id: hashing the
                        // file (SHA-1 with collision detection) cost more than reading
                        // the blob, which the policy's loading has just read anyway.
                        let same = committed.get(&path).is_some_and(|id| {
                            let blob = self.repo.find_blob(*id);
                            let file = std::fs::read(entry.path());
                            matches!((blob, file), (Ok(blob), Ok(bytes)) if blob.content() == bytes.as_slice())
                        });
                        committed.remove(&path);
                        if !same {
                            edited.push(path);
                        }
                    }
                    _ => {}
                }
            }
        }
        edited.extend(committed.into_keys());
        edited.sort();
        Ok(edited)
    }

    /// Every file at a commit with its blob id (for [`blob`](Self::blob)),
    /// in git's order, which is the byte order of the paths. Walks the whole
    /// tree; the path is lent, so a caller that keeps it decides how.
    pub fn each_file(&self, commit: ObjectId, mut found: impl FnMut(&str, ObjectId)) -> Result<(), StateError> {
        let tree = self.repo.find_commit(commit.0).and_then(|c| c.tree()).map_err(git("read HEAD tree"))?;
        let mut path = String::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob) {
                path.clear();
                path.push_str(dir);
                path.push_str(entry.name().unwrap_or_default());
                found(&path, ObjectId(entry.id()));
            }
            TreeWalkResult::Ok
        })
        .map_err(git("walk HEAD tree"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::FileChange;

    #[test]
    fn folders_and_files_are_listed_at_a_commit() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        // With names around `/` in byte order: `a-b/` < `a.yaml` < `a/` < `a0`.
        let files = [
            "p/ns-a/x.yaml",
            "p/ns-a/deep/y.yaml",
            "p/ns-b/z.yaml",
            "p/file.yaml",
            "top.yaml",
            "q/a0.yaml",
            "q/a/x.yaml",
            "q/a.yaml",
            "q/a-b/x.yaml",
        ];
        let changes: Vec<FileChange> = files.iter().map(|f| FileChange::upsert(*f, f.as_bytes())).collect();
        let commit = state.commit_changes(None, &changes.as_slice().into(), "files\n").unwrap();
        assert_eq!(state.subdirs(commit, "p").unwrap(), ["ns-a", "ns-b"]);
        assert!(state.subdirs(commit, "missing").unwrap().is_empty());
        assert!(state.subdirs(commit, "top.yaml").unwrap().is_empty());
        let mut all = Vec::new();
        state.each_file(commit, |path, id| all.push((path.to_owned(), id))).unwrap();
        let mut expected = files.map(str::to_owned).to_vec();
        expected.sort();
        // In the byte order of the paths, as git orders a tree's walk.
        assert_eq!(all.iter().map(|(path, _)| path.clone()).collect::<Vec<_>>(), expected);
        assert_eq!(state.blob(all[1].1).unwrap(), b"p/ns-a/deep/y.yaml");
        let mut listed = state.list_dir(commit, "p/ns-a").unwrap();
        listed.sort();
        assert_eq!(listed, ["p/ns-a/deep/y.yaml", "p/ns-a/x.yaml"]);
    }
}
