//! Writing the state repo: one commit per invocation, built in the object
//! database (blobs + tree updates on HEAD's tree), then a compare-and-swap of
//! the branch. The work tree and index of a non-bare repo follow for exactly
//! the paths that changed.

use std::path::Path;

use std::collections::HashSet;

use git2::{IndexEntry, IndexTime, ObjectType, Oid, Signature, Status, StatusOptions};

use super::changes::{Changes, FileChange};
use super::pack::{Blob, PACK_THRESHOLD, PackStream};
use super::tree_update;
use super::{ObjectId, StateError, StateRepo, git};

/// Turns off libgit2's check that each object an index entry (or tree)
/// names exists, until dropped. Process-wide: idp stages from one thread.
struct TrustedObjects;

impl TrustedObjects {
    fn start() -> Self {
        git2::opts::strict_object_creation(false);
        Self
    }
}

impl Drop for TrustedObjects {
    fn drop(&mut self) {
        git2::opts::strict_object_creation(true);
    }
}

/// The index entry `git add` would make for a file just written, from its
/// blob id and stat data, so the file is not read and hashed a second time.
fn index_entry(path: &str, id: Oid, metadata: &std::fs::Metadata) -> IndexEntry {
    use std::os::unix::fs::MetadataExt;
    let time = |secs: i64, nanos: i64| IndexTime::new(secs as i32, nanos as u32);
    IndexEntry {
        ctime: time(metadata.ctime(), metadata.ctime_nsec()),
        mtime: time(metadata.mtime(), metadata.mtime_nsec()),
        dev: metadata.dev() as u32,
        ino: metadata.ino() as u32,
        mode: 0o100644,
        uid: metadata.uid(),
        gid: metadata.gid(),
        file_size: metadata.size() as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

fn io_error(context: String, error: std::io::Error) -> StateError {
    StateError::Git { context, error: git2::Error::from_str(&error.to_string()) }
}

/// The identity given to idp or to git through the environment, before
/// git's configuration: `--author`, else `GIT_AUTHOR_NAME` and `GIT_AUTHOR_EMAIL`.
pub fn given_identity(author: Option<&Author>) -> Option<Author> {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
    match (author, env("GIT_AUTHOR_NAME"), env("GIT_AUTHOR_EMAIL")) {
        (Some(author), _, _) => Some(author.clone()),
        (None, Some(name), Some(email)) => Some(Author { name, email }),
        _ => None,
    }
}

/// `--author "Name <email>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub email: String,
}

impl std::str::FromStr for Author {
    type Err = String;

    /// `Name <email>`, as git writes an identity.
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{}` is not `Name <email>`", crate::names::printable(text));
        let (name, rest) = text.split_once('<').ok_or_else(bad)?;
        let email = rest.strip_suffix('>').ok_or_else(bad)?;
        let name = name.trim();
        let forbidden =
            |s: &str| s.is_empty() || s.contains(['<', '>', '\n', '\0']) || s.contains(crate::yaml::is_control);
        if forbidden(name) || forbidden(email) || !email.contains('@') {
            return Err(bad());
        }
        Ok(Self { name: name.to_owned(), email: email.to_owned() })
    }
}

/// The trailer naming the idp version that wrote a commit.
pub const VERSION_TRAILER: &str = "Idp-Version";

/// In a non-bare repo, names the commit whose checkout is under way (and, for
/// a fast-forward after a push, the branch's commit before it): written
/// before the branch moves, removed once the work tree and index match it. If
/// idp dies (or the disk fills) in between, the next write finishes the job.
const CHECKOUT_MARK: &str = "idp-checkout";

impl StateRepo {
    /// Managed paths with uncommitted changes in the work tree or index.
    pub fn dirty_managed_paths(&self) -> Result<Vec<String>, StateError> {
        self.uncommitted(crate::layout::MANAGED_PREFIXES)
    }

    /// Paths under `prefixes` with uncommitted changes in the work tree or
    /// index (none in a bare repo).
    pub fn uncommitted(&self, prefixes: &[&str]) -> Result<Vec<String>, StateError> {
        if self.repo.is_bare() {
            return Ok(Vec::new());
        }
        let mut options = StatusOptions::new();
        options.include_untracked(true).recurse_untracked_dirs(true);
        for prefix in prefixes {
            options.pathspec(prefix);
        }
        let statuses = self.repo.statuses(Some(&mut options)).map_err(git("read work tree status"))?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != Status::CURRENT && !s.status().contains(Status::IGNORED))
            .filter_map(|s| s.path().ok().map(str::to_owned))
            .collect())
    }

    /// Who idp's commits name (author and committer): `--author` or
    /// `IDP_AUTHOR`, else what git would use (`GIT_AUTHOR_NAME` and
    /// `GIT_AUTHOR_EMAIL`, else `user.name` and `user.email` of the repo's
    /// config and the global one). Without any, idp refuses, like git: a
    /// commit by nobody in particular is no audit record.
    pub fn set_author(&mut self, author: Option<Author>) {
        self.author = author;
    }

    fn signature(&self) -> Result<Signature<'static>, StateError> {
        match given_identity(self.author.as_ref()) {
            Some(author) => Signature::now(&author.name, &author.email).map_err(git("make a signature")),
            None => self.repo.signature().map_err(|e| match e.code() {
                git2::ErrorCode::NotFound => StateError::NoIdentity,
                _ => git("read user.name and user.email")(e),
            }),
        }
    }

    /// Refuses, before a repo exists to read config from, when no identity
    /// would be found: `idp init` writes nothing it cannot commit.
    pub fn require_identity_for_new_repo(author: Option<&Author>) -> Result<(), StateError> {
        let set = |key: &str| super::global_config_string(key).is_some_and(|v| !v.trim().is_empty());
        if given_identity(author).is_some() || (set("user.name") && set("user.email")) {
            Ok(())
        } else {
            Err(StateError::NoIdentity)
        }
    }

    /// Who idp's commits name as author, as `Name <email>` (`?` for a part
    /// that is not UTF-8).
    pub fn identity(&self) -> Result<String, StateError> {
        let s = self.signature()?;
        Ok(format!("{} <{}>", s.name().unwrap_or("?"), s.email().unwrap_or("?")))
    }

    /// Commits `changes` on top of `parent` (HEAD as read when planning) and
    /// moves the current branch there only if it still points at `parent`.
    pub fn commit_changes(
        &self,
        parent: Option<ObjectId>,
        changes: &Changes,
        message: &str,
    ) -> Result<ObjectId, StateError> {
        let parent = parent.map(|p| p.0);
        let commit = self.write_commit(parent, changes, message)?;
        let branch = self.branch_ref()?;
        let log = format!("idp: {}", message.lines().next().unwrap_or_default());
        let mark = self.repo.path().join(CHECKOUT_MARK);
        if !self.repo.is_bare() {
            std::fs::write(&mark, commit.to_string()).map_err(|e| io_error(format!("write {}", mark.display()), e))?;
        }
        let moved = match parent {
            Some(old) => self.repo.reference_matching(&branch, commit, true, old, &log),
            None => self.repo.reference(&branch, commit, false, &log),
        };
        if let Err(e) = moved {
            // The branch did not move: nothing to finish, and a lock that
            // stopped it is someone else's, not for a later run to remove.
            let _ = std::fs::remove_file(&mark);
            return Err(git(format!("move {branch} (did another process commit meanwhile?)"))(e));
        }
        if !self.repo.is_bare() {
            self.sync_work_tree(changes)
                .map_err(|e| StateError::CheckoutIncomplete { commit: commit.to_string(), message: e.to_string() })?;
            let _ = std::fs::remove_file(&mark);
        }
        Ok(ObjectId(commit))
    }

    /// Finishes the checkout of HEAD that an earlier idp process started and
    /// did not complete (killed, disk full): the paths HEAD changed (against
    /// the commit the mark names as the old branch value, else HEAD's parent)
    /// are written to the work tree and index. A mark for another commit is
    /// stale (the process died before moving the branch, which it does before
    /// touching the work tree) and is dropped. Call under the writer lock.
    /// What was repaired, for the person to be told.
    pub fn finish_interrupted_checkout(&self) -> Result<Vec<String>, StateError> {
        let mark = self.repo.path().join(CHECKOUT_MARK);
        let Ok(text) = std::fs::read_to_string(&mark) else { return Ok(Vec::new()) };
        let mut repaired = self.remove_interrupted_locks()?;
        let mut ids = text.split_whitespace().map(Oid::from_str);
        let (marked, from) = (ids.next(), ids.next());
        if let (Some(Ok(marked)), Some(ObjectId(head))) = (marked, self.head()?)
            && marked == head
        {
            let from = match from {
                Some(from) => Some(from.map_err(git("read the checkout mark"))?),
                None => self.repo.find_commit(head).ok().and_then(|c| c.parent_id(0).ok()),
            };
            let changes = self.changes_between(from, head)?;
            self.sync_work_tree(&changes)?;
            repaired.push(format!(
                "finished updating the work tree and index to {} ({} file(s)): an earlier idp run was stopped after moving the branch",
                &head.to_string()[..12],
                changes.len()
            ));
        }
        std::fs::remove_file(&mark).map_err(|e| io_error(format!("remove {}", mark.display()), e))?;
        Ok(repaired)
    }

    /// The changes that turn `from`'s tree (nothing when None) into `to`'s.
    fn changes_between(&self, from: Option<Oid>, to: Oid) -> Result<Changes, StateError> {
        let tree = |id: Oid| self.repo.find_commit(id).and_then(|c| c.tree()).map_err(git(format!("read {id}")));
        let old = from.map(tree).transpose()?;
        let new = tree(to)?;
        let diff = self.repo.diff_tree_to_tree(old.as_ref(), Some(&new), None).map_err(git("diff the commits"))?;
        let mut changes = Changes::new();
        for delta in diff.deltas() {
            let file = delta.new_file();
            let path = file.path().or(delta.old_file().path()).and_then(Path::to_str).unwrap_or_default();
            changes.push(if delta.status() == git2::Delta::Deleted {
                FileChange::Remove { path: path.to_owned() }
            } else {
                let blob = self.repo.find_blob(file.id()).map_err(git(format!("read {path}")))?;
                FileChange::upsert(path, blob.content())
            })?;
        }
        Ok(changes)
    }

    /// Moves the checked-out branch of a non-bare repo from `from` to
    /// `commit` (a fast-forward the caller checked) and brings the work tree
    /// and index along for the paths that differ, under the same mark as a
    /// commit: a run stopped half-way is finished by the next one.
    pub(super) fn move_checked_out_branch(&self, branch: &str, from: Oid, commit: Oid) -> Result<(), StateError> {
        let mark = self.repo.path().join(CHECKOUT_MARK);
        std::fs::write(&mark, format!("{commit} {from}"))
            .map_err(|e| io_error(format!("write {}", mark.display()), e))?;
        if let Err(e) =
            self.repo.reference_matching(branch, commit, true, from, "idp: fast-forward to the pushed commit")
        {
            let _ = std::fs::remove_file(&mark);
            return Err(git(format!("move {branch}"))(e));
        }
        let changes = self.changes_between(Some(from), commit)?;
        self.sync_work_tree(&changes)
            .map_err(|e| StateError::CheckoutIncomplete { commit: commit.to_string(), message: e.to_string() })?;
        let _ = std::fs::remove_file(&mark);
        Ok(())
    }

    /// The lock files git's own writes leave behind when the process holding
    /// them is killed: the branch's and its reflog's (moving the branch), the
    /// index's (syncing the work tree). Called only when the checkout mark
    /// says an idp write was cut short between those two steps, under idp's
    /// writer lock: they are that write's, and every later commit (idp's or
    /// the git CLI's) would fail on them. The ones removed, by name.
    fn remove_interrupted_locks(&self) -> Result<Vec<String>, StateError> {
        let git_dir = self.repo.path();
        let mut locks = vec![git_dir.join("index.lock")];
        if let Ok(branch) = self.branch_ref() {
            locks.push(git_dir.join(format!("{branch}.lock")));
            locks.push(git_dir.join(format!("logs/{branch}.lock")));
        }
        let mut removed = Vec::new();
        for lock in locks {
            match std::fs::remove_file(&lock) {
                Ok(()) => removed.push(format!("removed {}, left by an idp run that was stopped", lock.display())),
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(format!("remove the stale lock {}", lock.display()), e));
                }
                Err(_) => {}
            }
        }
        Ok(removed)
    }

    /// Writes a commit object for `changes` on top of `parent` without moving
    /// any branch: until a ref points at it, it is invisible and harmless.
    pub fn create_commit(
        &self,
        parent: Option<ObjectId>,
        changes: &Changes,
        message: &str,
    ) -> Result<ObjectId, StateError> {
        self.write_commit(parent.map(|p| p.0), changes, message).map(ObjectId)
    }

    fn write_commit(&self, parent: Option<Oid>, changes: &Changes, message: &str) -> Result<Oid, StateError> {
        // idp's commits say which idp wrote them (`idp doctor` compares).
        let stamped = format!("{message}{VERSION_TRAILER}: {}\n", env!("CARGO_PKG_VERSION"));
        let message = if message.contains("\nIdp-Action: ") { stamped.as_str() } else { message };
        let parent = parent.map(|oid| self.repo.find_commit(oid).map_err(git("read the base commit"))).transpose()?;
        let base = parent.as_ref().map(|c| c.tree_id());
        let tree = if changes.pack().is_none() && changes.len() < PACK_THRESHOLD {
            let odb = self.repo.odb().map_err(git("open the object store"))?;
            for change in changes.iter() {
                if let FileChange::Upsert { path, blob } = change {
                    self.repo.blob(&blob.content()?).map_err(git(format!("write {path}")))?;
                }
            }
            let mut write = |bytes: &[u8]| odb.write(ObjectType::Tree, bytes).map_err(git("write a tree"));
            tree_update::apply(&self.repo, base, changes, &mut write)?
        } else {
            // The blobs are in a pack stream already (a bulk plan's) or go
            // into one now; the trees follow, and the pack is installed whole
            // before the commit that names them is written.
            let pack = match changes.pack() {
                Some(pack) => std::sync::Arc::clone(pack),
                None => PackStream::create(&self.pack_dir())?,
            };
            for blob in changes.memory_blobs() {
                pack.append(ObjectType::Blob, &blob.content()?)?;
            }
            let mut write = |bytes: &[u8]| pack.append(ObjectType::Tree, bytes).map(|number| pack.id(number));
            let tree = tree_update::apply(&self.repo, base, changes, &mut write)?;
            pack.install(&self.pack_dir())?;
            self.repo.odb().and_then(|odb| odb.refresh()).map_err(git("read the new pack"))?;
            tree
        };
        let tree = self.repo.find_tree(tree).map_err(git("read the new tree"))?;
        let signature = self.signature()?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo.commit(None, &signature, &signature, message, &tree, &parents).map_err(git("write the commit"))
    }

    /// `objects/pack/` of the repo.
    fn pack_dir(&self) -> std::path::PathBuf {
        self.repo.path().join("objects").join("pack")
    }

    /// A pack for the next commit, written in the object store (and
    /// invisible there until the commit installs it).
    pub fn start_pack(&self) -> Result<std::sync::Arc<PackStream>, StateError> {
        PackStream::create(&self.pack_dir())
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
    fn sync_work_tree(&self, changes: &Changes) -> Result<(), StateError> {
        let root = self
            .repo
            .workdir()
            .ok_or_else(|| StateError::NotARepo { path: self.path.display().to_string() })?
            .to_path_buf();
        let mut index = self.repo.index().map_err(git("open the index"))?;
        // The blobs are the commit's, in the object store already: libgit2
        // would otherwise read each one's header back as it is staged
        // (`index_insert`, strict object creation), which maps the whole
        // pack of a bulk commit into memory.
        let _trusted = TrustedObjects::start();
        // Removals first: the folders they empty are pruned before any new
        // file needs one, and made again for it.
        for change in changes.iter() {
            if let FileChange::Remove { path } = &change {
                remove_file(&root, path)?;
                let _ = index.remove_path(Path::new(path));
            }
        }
        let mut folders = HashSet::new();
        let mut upserts = changes.iter().filter_map(|change| match change {
            FileChange::Upsert { path, blob } => Some((path, blob)),
            FileChange::Remove { .. } => None,
        });
        loop {
            let batch: Vec<(String, Blob)> = upserts.by_ref().take(WRITE_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            for (path, _) in &batch {
                make_folders(&root, path, &mut folders)?;
            }
            for ((path, blob), written) in batch.iter().zip(write_files(&root, &batch)?) {
                index.add(&index_entry(path, blob.id(), &written)).map_err(git(format!("stage {path}")))?;
            }
        }
        index.write().map_err(git("write the index"))
    }
}

/// Files a work tree sync writes at a time: two threads write each batch,
/// then its index entries are staged. Creating files is most of a bulk
/// apply's work tree time, and the kernel does it on either core.
const WRITE_BATCH: usize = 1024;

/// Batches smaller than this are written on the calling thread alone.
const WRITE_ALONE: usize = 64;

/// Makes the folders of `path` that `folders` does not hold yet, parents
/// first: one `mkdir` each, where making the innermost one first failed
/// once for every new parent.
fn make_folders(root: &Path, path: &str, folders: &mut HashSet<String>) -> Result<(), StateError> {
    for (end, _) in path.match_indices('/') {
        let folder = &path[..end];
        if folders.contains(folder) {
            continue;
        }
        let full = root.join(folder);
        match std::fs::create_dir(&full) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(io_error(format!("update {}", full.display()), e));
            }
            _ => {}
        }
        folders.insert(folder.to_owned());
    }
    Ok(())
}

/// Writes each blob's content to its file (its folder made already) and
/// returns the stat data of each, in order: the two halves of a larger
/// batch on two threads.
fn write_files(root: &Path, batch: &[(String, Blob)]) -> Result<Vec<std::fs::Metadata>, StateError> {
    let write = |files: &[(String, Blob)]| -> Result<Vec<std::fs::Metadata>, StateError> {
        files
            .iter()
            .map(|(path, blob)| {
                let full = root.join(path);
                let io = |e| io_error(format!("update {}", full.display()), e);
                let content = blob.content()?;
                let mut file = std::fs::File::create(&full).map_err(io)?;
                std::io::Write::write_all(&mut file, &content).map_err(io)?;
                file.metadata().map_err(io)
            })
            .collect()
    };
    if batch.len() < WRITE_ALONE {
        return write(batch);
    }
    let (first, second) = batch.split_at(batch.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| write(second));
        let mut written = write(first)?;
        let rest = other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written.extend(rest?);
        Ok(written)
    })
}

/// Removes a file of the work tree (gone already is fine) and the folders
/// it leaves empty: they would linger as clutter.
fn remove_file(root: &Path, path: &str) -> Result<(), StateError> {
    let full = root.join(path);
    match std::fs::remove_file(&full) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io_error(format!("update {}", full.display()), e));
        }
        _ => {}
    }
    let mut dir = full.parent();
    while let Some(d) = dir.filter(|d| *d != root) {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The work tree and index follow a commit: a batch large enough for
    /// two writer threads, folders made parents first, and removals that
    /// empty a folder another new file then needs (and one that empties a
    /// folder for good). `git status` and `git diff` are the judges.
    #[test]
    fn the_work_tree_and_index_follow_commits_of_many_files_and_removals() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        let many: Vec<FileChange> = (0..WRITE_BATCH + WRITE_ALONE + 1)
            .map(|i| FileChange::upsert(format!("cells/c{}/team-{}/db-{i}.yaml", i % 3, i % 17), format!("n: {i}\n")))
            .chain([FileChange::upsert("keep/a/old.yaml", "old\n"), FileChange::upsert("gone/b/only.yaml", "x\n")])
            .collect();
        let first = state.commit_changes(None, &many.into(), "many\n").unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git").args(args).current_dir(dir.path()).output().unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        assert_eq!(git(&["status", "--porcelain"]), "");
        assert_eq!(git(&["ls-files"]).lines().count(), WRITE_BATCH + WRITE_ALONE + 3);
        assert_eq!(std::fs::read_to_string(dir.path().join("cells/c1/team-1/db-1.yaml")).unwrap(), "n: 1\n");

        // keep/a/ is emptied and refilled in one commit; gone/ is emptied.
        let changes = vec![
            FileChange::Remove { path: "keep/a/old.yaml".into() },
            FileChange::upsert("keep/a/z-new.yaml", "new\n"),
            FileChange::Remove { path: "gone/b/only.yaml".into() },
            FileChange::upsert("cells/c0/team-0/db-0.yaml", "n: changed\n"),
        ];
        state.commit_changes(Some(first), &changes.into(), "second\n").unwrap();
        assert_eq!(git(&["status", "--porcelain", "--ignored"]), "");
        assert_eq!(git(&["diff", "HEAD~1", "--name-status", "--", "keep", "gone"]).lines().count(), 3);
        assert_eq!(std::fs::read_to_string(dir.path().join("keep/a/z-new.yaml")).unwrap(), "new\n");
        assert!(!dir.path().join("keep/a/old.yaml").exists());
        assert!(!dir.path().join("gone").exists(), "an emptied folder is pruned");
    }

    /// A write killed while git held its lock files leaves them behind; the
    /// next write (under idp's lock, with the mark saying a write was cut
    /// short) removes them instead of failing on them forever. Without the
    /// mark, a lock file is someone else's and is left alone.
    #[test]
    fn locks_of_an_interrupted_write_are_removed_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateRepo::init(dir.path()).unwrap();
        let first = state.commit_changes(None, &[FileChange::upsert("a", "1")].into(), "first\n").unwrap();
        let git_dir = state.repo.path().to_path_buf();
        let branch = state.branch_ref().unwrap();
        let locks = [git_dir.join("index.lock"), git_dir.join(format!("{branch}.lock"))];

        for lock in &locks {
            std::fs::write(lock, "").unwrap();
        }
        state.finish_interrupted_checkout().unwrap();
        assert!(locks.iter().all(|l| l.exists()), "no mark: not idp's locks");
        assert!(state.commit_changes(Some(first), &[FileChange::upsert("a", "2")].into(), "blocked\n").is_err());
        assert!(!git_dir.join(CHECKOUT_MARK).exists(), "a write stopped by a live lock leaves no mark");

        std::fs::write(git_dir.join(CHECKOUT_MARK), first.to_string()).unwrap();
        state.finish_interrupted_checkout().unwrap();
        assert!(locks.iter().all(|l| !l.exists()), "the interrupted write's locks are gone");
        let second = state.commit_changes(Some(first), &[FileChange::upsert("a", "2")].into(), "second\n").unwrap();
        assert_eq!(state.head().unwrap(), Some(second));
    }
}
