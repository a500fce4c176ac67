//! The state repo: the only module that touches git2.
//!
//! Reads go straight to the object database at a commit (never the work
//! tree), so bare and non-bare repos behave alike and what idp reads is
//! exactly what Argo CD would reconcile. Every lookup is by path; nothing here
//! walks the whole tree on the plan/apply path.

mod changes;
mod chunked;
mod commit;
mod config;
mod diff;
mod history;
mod lock;
mod pack;
mod remote;
mod revert;
mod transport;
mod tree;
mod tree_update;

use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Once;

use git2::{ErrorCode, ObjectType, Oid, Repository, Tree};
use miette::Diagnostic;

use crate::layout::MARKER_PATH;

pub use changes::{Changes, FileChange};
pub use commit::{Author, VERSION_TRAILER, given_identity};
pub use config::global_config_string;
pub use diff::PathChange;
pub use history::{Commit, CommitSummary};
pub use lock::{DEFAULT_LOCK_WAIT, RepoLock};
pub use pack::{PACK_THRESHOLD, PackStream};
pub use remote::{PushFailure, tracking_ref};
pub use revert::Revert;
pub use transport::{DEFAULT_NETWORK_TIMEOUT, redact_url, ssh_askpass};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum StateError {
    #[error("{path} is not a Git repository")]
    #[diagnostic(
        code(idp::state::not_a_repo),
        help("create a state repo with `idp init {path}`, or point --repo at one")
    )]
    NotARepo { path: String },

    #[error("{path} is a Git repository but not an idp state repo (no {MARKER_PATH} at HEAD)")]
    #[diagnostic(
        code(idp::state::not_a_state_repo),
        help("run `idp init --force {path}` to adopt it, or point --repo at the state repo")
    )]
    NotAStateRepo { path: String },

    #[error("uncommitted changes in idp-managed paths: {}", paths.join(", "))]
    #[diagnostic(
        code(idp::state::dirty),
        help("commit, stash or discard them first (`git status`); idp will not mix its commit with hand edits")
    )]
    Dirty { paths: Vec<String> },

    #[error("HEAD of {path} is detached: idp commits onto a branch")]
    #[diagnostic(
        code(idp::state::detached),
        help("check out the state repo's branch first (`git -C {path} switch main`)")
    )]
    DetachedHead { path: String },

    #[error("{path} belongs to another user, and git opens such a repository only where it is declared safe")]
    #[diagnostic(
        code(idp::state::not_owned),
        help(
            "run idp as the repository's owner; or, if you trust everyone who can write it, declare it safe: `git config --global --add safe.directory <its absolute path>`"
        )
    )]
    NotOwned { path: String },

    #[error(
        "{remote} has no default branch: its HEAD names a branch that does not exist (as in a fresh `git init --bare`)"
    )]
    #[diagnostic(
        code(idp::push::no_default_branch),
        help(
            "name the branch to start from with --base BRANCH, push a first commit without --branch (`idp apply --push` creates it), or point the remote's HEAD at an existing branch (`git symbolic-ref HEAD refs/heads/main` in it)"
        )
    )]
    NoDefaultBranch { remote: String },

    #[error("no identity to commit as: git's user.name and user.email are not set, nor --author or IDP_AUTHOR")]
    #[diagnostic(
        code(idp::state::no_identity),
        help(
            "say who commits, as git asks: `git config --global user.name \"Your Name\"` and `git config --global user.email you@example.com` (or in the state repo without --global); in CI, --author \"Name <email>\" or IDP_AUTHOR"
        )
    )]
    NoIdentity,

    #[error("cannot write to {path}: {reason}")]
    #[diagnostic(
        code(idp::state::not_writable),
        help(
            "idp writes its lock and commits into the repo's .git directory: run it as a user who may write there, on a writable file system, or in a clone of the repo (`git clone`)"
        )
    )]
    NotWritable { path: String, reason: String },

    #[error("another idp process is writing this repo: {holder}")]
    #[diagnostic(
        code(idp::state::locked),
        help("wait for it to finish and run again; the lock is released when that process exits, even if it crashes")
    )]
    Lock { holder: String },

    #[error("committed {commit}, but updating the work tree failed: {message}")]
    #[diagnostic(
        code(idp::state::checkout),
        help(
            "the commit is in place; fix the cause (disk space?) and run idp again: the next apply finishes the checkout"
        )
    )]
    CheckoutIncomplete { commit: String, message: String },

    /// libgit2's message without its `; class=…; code=…` suffix, which says
    /// nothing to the person reading (and is not repeated as a cause).
    #[error("git: {context}: {}", error.message())]
    #[diagnostic(code(idp::state::git))]
    Git { context: String, error: git2::Error },
}

impl StateError {
    /// A connection the server (or a proxy before it) dropped mid-exchange, as a
    /// busy git server does: worth another attempt, like a lost race. Timeouts and
    /// refusals are not: they say the server is not there.
    pub fn is_transient(&self) -> bool {
        let StateError::Git { error: source, .. } = self else { return false };
        let message = source.message().to_ascii_lowercase();
        matches!(source.class(), git2::ErrorClass::Net | git2::ErrorClass::Os | git2::ErrorClass::Ssh)
            && ["reset by peer", "broken pipe", "early eof", "unexpected disconnect", "connection closed"]
                .iter()
                .any(|sign| message.contains(sign))
    }
}

/// Whether `refs/heads/<name>` is a valid ref name (git's check-ref-format rules).
pub fn is_valid_branch_ref(name: &str) -> bool {
    git2::Reference::is_valid_name(&format!("refs/heads/{name}"))
}

fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> StateError {
    let context = context.into();
    move |error| StateError::Git { context, error }
}

/// Process-wide libgit2 settings for a tool that reads many paths at one
/// commit. libgit2's object cache skips commits and trees above 4 KiB, so a
/// bulk commit's long message or a folder of thousands of entries would be
/// inflated again on every lookup; and like the git CLI, reads trust object
/// ids instead of re-hashing every object read (`git fsck` is the check).
pub fn tune_libgit2() {
    static TUNED: Once = Once::new();
    TUNED.call_once(|| {
        const LIMIT: usize = 64 << 20;
        for kind in [ObjectType::Commit, ObjectType::Tree] {
            // SAFETY: set once, before this process reads any object.
            let _ = unsafe { git2::opts::set_cache_object_limit(kind, LIMIT) };
        }
        git2::opts::strict_hash_verification(false);
    });
}

/// The id of a commit or a file's blob. Callers compare it, show it (the
/// full hex hash) and hand it back to `StateRepo`; only `state` turns it into
/// a git object.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(Oid);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An opened state repo.
pub struct StateRepo {
    repo: Repository,
    path: PathBuf,
    /// `--author` / `IDP_AUTHOR`: who idp's commits name, before git's own sources.
    author: Option<Author>,
    /// The root tree of the commit last read: resolving it is the one step
    /// every path lookup shares.
    root: Cell<Option<(Oid, Oid)>>,
}

impl StateRepo {
    fn new(repo: Repository, path: PathBuf) -> Self {
        Self { repo, path, author: None, root: Cell::new(None) }
    }

    /// Opens the repository at exactly `path` (bare or not).
    pub fn open(path: &Path) -> Result<Self, StateError> {
        tune_libgit2();
        let shown = path.display().to_string();
        let repo = Repository::open(path).map_err(|source| match source.code() {
            ErrorCode::Owner => StateError::NotOwned { path: shown.clone() },
            ErrorCode::NotFound => StateError::NotARepo { path: shown.clone() },
            _ => StateError::Git { context: format!("open {shown}"), error: source },
        })?;
        Ok(Self::new(repo, path.to_path_buf()))
    }

    /// Creates a repository at `dir` (and the folders to it) whose first
    /// branch is `main`, and opens it.
    pub fn init(dir: &Path) -> Result<Self, StateError> {
        let mut options = git2::RepositoryInitOptions::new();
        options.initial_head("main").mkpath(true);
        Repository::init_opts(dir, &options)
            .map_err(|error| StateError::Git { context: format!("create a repository in {}", dir.display()), error })?;
        Self::open(dir)
    }

    /// Opens `path` and requires it to be an idp state repo.
    pub fn open_state(path: &Path) -> Result<Self, StateError> {
        let state = Self::open(path)?;
        if !state.is_state_repo()? {
            return Err(StateError::NotAStateRepo { path: path.display().to_string() });
        }
        Ok(state)
    }

    /// The state repo containing the current directory, if there is one.
    pub fn discover(dir: &Path) -> Option<Self> {
        tune_libgit2();
        let repo = Repository::discover(dir).ok()?;
        let path = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
        let state = Self::new(repo, path);
        state.is_state_repo().ok()?.then_some(state)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The commit HEAD points at, or None in a repo without commits.
    pub fn head(&self) -> Result<Option<ObjectId>, StateError> {
        match self.repo.head() {
            Ok(head) => Ok(head.target().map(ObjectId)),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(git("read HEAD")(e)),
        }
    }

    pub fn is_state_repo(&self) -> Result<bool, StateError> {
        match self.head()? {
            Some(head) => Ok(self.read_at(head, MARKER_PATH)?.is_some()),
            None => Ok(false),
        }
    }

    /// The root tree of a commit.
    fn tree_at(&self, commit: Oid) -> Result<Tree<'_>, StateError> {
        let tree_id = match self.root.get() {
            Some((known, tree)) if known == commit => tree,
            _ => {
                let tree = self.repo.find_commit(commit).map_err(git("read commit"))?.tree_id();
                self.root.set(Some((commit, tree)));
                tree
            }
        };
        self.repo.find_tree(tree_id).map_err(git("read commit tree"))
    }

    /// The bytes of a file at a commit, or None if the path holds no file.
    pub fn read_at(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>, StateError> {
        let tree = self.tree_at(commit.0)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(git(format!("look up {path}"))(e)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self.repo.find_blob(entry.id()).map_err(git(format!("read {path}")))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The bytes of a blob found by a tree walk.
    pub fn blob(&self, id: ObjectId) -> Result<Vec<u8>, StateError> {
        Ok(self.repo.find_blob(id.0).map_err(git(format!("read blob {id}")))?.content().to_vec())
    }

    /// The file at HEAD, or None (also in a repo without commits).
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StateError> {
        match self.head()? {
            Some(head) => self.read_at(head, path),
            None => Ok(None),
        }
    }
}
