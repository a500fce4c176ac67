//! Writing the state repo: one commit per invocation, built in the object
//! database (blobs + tree updates on HEAD's tree), then a compare-and-swap of
//! the branch. The work tree and index of a non-bare repo follow for exactly
//! the paths that changed.

use std::path::Path;

use git2::{FileMode, Oid, Signature, Status, StatusOptions, build::TreeUpdateBuilder};

use super::{StateError, StateRepo, git};

/// One file to write or remove, by repo-relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Upsert { path: String, content: Vec<u8> },
    Remove { path: String },
}

impl FileChange {
    pub fn path(&self) -> &str {
        match self {
            FileChange::Upsert { path, .. } | FileChange::Remove { path } => path,
        }
    }
}

/// The trailer naming the idp version that wrote a commit.
pub const VERSION_TRAILER: &str = "Idp-Version";

/// Paths idp owns; uncommitted edits there block a write.
pub const MANAGED_PREFIXES: &[&str] = &[
    "requests/",
    "placements/",
    "platform/",
    "workloads/",
    "cells/",
    "policy/",
    "bootstrap/",
    "catalog/",
    "templates/",
];

impl StateRepo {
    /// The files below a directory at a commit (that directory only, recursively;
    /// never the whole tree).
    pub fn list_dir(&self, commit: Oid, dir: &str) -> Result<Vec<String>, StateError> {
        let tree = self.repo.find_commit(commit).and_then(|c| c.tree()).map_err(git("read commit tree"))?;
        let Ok(entry) = tree.get_path(Path::new(dir)) else { return Ok(Vec::new()) };
        let Ok(subtree) = self.repo.find_tree(entry.id()) else { return Ok(Vec::new()) };
        let mut files = Vec::new();
        subtree
            .walk(git2::TreeWalkMode::PreOrder, |parent, e| {
                if e.kind() == Some(git2::ObjectType::Blob) {
                    files.push(format!("{dir}/{parent}{}", e.name().unwrap_or_default()));
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(git(format!("list {dir}")))?;
        Ok(files)
    }

    /// Managed paths with uncommitted changes in the work tree or index.
    pub fn dirty_managed_paths(&self) -> Result<Vec<String>, StateError> {
        if self.repo.is_bare() {
            return Ok(Vec::new());
        }
        let mut options = StatusOptions::new();
        options.include_untracked(true).recurse_untracked_dirs(true);
        for prefix in MANAGED_PREFIXES {
            options.pathspec(prefix);
        }
        let statuses = self.repo.statuses(Some(&mut options)).map_err(git("read work tree status"))?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != Status::CURRENT && !s.status().contains(Status::IGNORED))
            .filter_map(|s| s.path().ok().map(str::to_owned))
            .collect())
    }

    /// The author of idp's commits: the repo's git identity, else `idp`.
    pub fn signature(&self) -> Result<Signature<'static>, StateError> {
        self.repo.signature().or_else(|_| Signature::now("idp", "idp@localhost")).map_err(git("make a signature"))
    }

    /// Commits `changes` on top of `parent` (HEAD as read when planning) and
    /// moves the current branch there only if it still points at `parent`.
    pub fn commit_changes(
        &self,
        parent: Option<Oid>,
        changes: &[FileChange],
        message: &str,
    ) -> Result<Oid, StateError> {
        let commit = self.create_commit(parent, changes, message)?;
        let branch = self.branch_ref()?;
        let log = format!("idp: {}", message.lines().next().unwrap_or_default());
        match parent {
            Some(old) => self.repo.reference_matching(&branch, commit, true, old, &log),
            None => self.repo.reference(&branch, commit, false, &log),
        }
        .map_err(git(format!("move {branch} (did another process commit meanwhile?)")))?;
        if !self.repo.is_bare() {
            self.sync_work_tree(changes)?;
        }
        Ok(commit)
    }

    /// Writes a commit object for `changes` on top of `parent` without moving
    /// any branch: until a ref points at it, it is invisible and harmless.
    pub fn create_commit(&self, parent: Option<Oid>, changes: &[FileChange], message: &str) -> Result<Oid, StateError> {
        // idp's commits say which idp wrote them (`idp doctor` compares).
        let stamped = format!("{message}{VERSION_TRAILER}: {}\n", env!("CARGO_PKG_VERSION"));
        let message = if message.contains("\nIdp-Action: ") { stamped.as_str() } else { message };
        let base = match parent {
            Some(oid) => self.repo.find_commit(oid).and_then(|c| c.tree()).map_err(git("read the base tree"))?,
            None => {
                let empty = self.repo.treebuilder(None).and_then(|b| b.write()).map_err(git("write empty tree"))?;
                self.repo.find_tree(empty).map_err(git("read empty tree"))?
            }
        };
        let mut update = TreeUpdateBuilder::new();
        for change in changes {
            match change {
                FileChange::Upsert { path, content } => {
                    let blob = self.repo.blob(content).map_err(git(format!("write {path}")))?;
                    update.upsert(path.as_str(), blob, FileMode::Blob);
                }
                FileChange::Remove { path } => {
                    update.remove(path.as_str());
                }
            }
        }
        let tree_id = update.create_updated(&self.repo, &base).map_err(git("build the new tree"))?;
        let tree = self.repo.find_tree(tree_id).map_err(git("read the new tree"))?;
        let signature = self.signature()?;
        let parents = match parent {
            Some(oid) => vec![self.repo.find_commit(oid).map_err(git("read the base commit"))?],
            None => Vec::new(),
        };
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repo.commit(None, &signature, &signature, message, &tree, &parent_refs).map_err(git("write the commit"))
    }

    /// The branch HEAD names (also when it has no commit yet). A detached
    /// HEAD names none, and idp will not guess which branch to move.
    pub fn branch_ref(&self) -> Result<String, StateError> {
        let head = self.repo.find_reference("HEAD").map_err(git("read HEAD"))?;
        match head.symbolic_target() {
            Ok(Some(branch)) => Ok(branch.to_owned()),
            _ => Err(StateError::DetachedHead { path: self.path.display().to_string() }),
        }
    }

    /// Brings the work tree and index in line with a commit for the given
    /// paths only, so other staged or local work is left alone.
    fn sync_work_tree(&self, changes: &[FileChange]) -> Result<(), StateError> {
        let root = self
            .repo
            .workdir()
            .ok_or_else(|| StateError::NotARepo { path: self.path.display().to_string() })?
            .to_path_buf();
        let mut index = self.repo.index().map_err(git("open the index"))?;
        for change in changes {
            let path = Path::new(change.path());
            let full = root.join(path);
            let io = |e: std::io::Error| StateError::Git {
                context: format!("update {}", full.display()),
                source: git2::Error::from_str(&e.to_string()),
            };
            match change {
                FileChange::Upsert { content, .. } => {
                    if let Some(dir) = full.parent() {
                        std::fs::create_dir_all(dir).map_err(io)?;
                    }
                    std::fs::write(&full, content).map_err(io)?;
                    index.add_path(path).map_err(git(format!("stage {}", path.display())))?;
                }
                FileChange::Remove { .. } => {
                    match std::fs::remove_file(&full) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                        _ => {}
                    }
                    // Empty directories would linger as clutter in the work tree.
                    let mut dir = full.parent();
                    while let Some(d) = dir.filter(|d| *d != root) {
                        if std::fs::remove_dir(d).is_err() {
                            break;
                        }
                        dir = d.parent();
                    }
                    let _ = index.remove_path(path);
                }
            }
        }
        index.write().map_err(git("write the index"))
    }
}
