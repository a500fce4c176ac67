//! Fetch and push against the remote state repo (the ssh and http(s)
//! transports, with their credentials, are in `transport`).
//!
//! A push is never forced. A rejected push is reported as what it is: a stale
//! base (someone else pushed first: fetch, re-plan, retry) or a refusal by
//! the server (hook, protected branch: do not retry).

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ErrorCode, FetchOptions, Oid, PushOptions, RemoteCallbacks};

use super::transport::{Transfer, local_url, redact_url};
use super::{ObjectId, StateError, StateRepo, git};

/// A temporary ref through which a commit is pushed (libgit2 pushes refs,
/// not bare object ids). Removed after every push attempt.
const PUSH_REF: &str = "refs/idp/push";

/// A transport error, with what to do when it was the timeout that fired
/// (ssh says "not responding" when its keep-alives go unanswered).
fn network(context: String, timeout: Duration) -> impl FnOnce(git2::Error) -> StateError {
    move |e| {
        let secs = timeout.as_secs().max(1);
        let timed_out = e.message().contains("timed out") || e.message().contains("not responding");
        let context = if timed_out {
            format!("{context}: the remote did not answer within {secs} s (--timeout)")
        } else {
            context
        };
        git(context)(e)
    }
}

/// Progress of a transfer, for the caller's progress line.
pub type Progress<'a> = &'a dyn Fn(&str);

/// Why a push did not land.
#[derive(Debug)]
pub enum PushFailure {
    /// The branch moved on the remote since the fetch: re-plan and retry.
    Stale(String),
    /// The server refused the update (pre-receive hook, protected branch).
    Rejected(String),
    /// The server could not store what was sent (a full disk, a size limit).
    NotStored(String),
    /// Transport, authentication or repository trouble.
    Failed(StateError),
}

impl StateRepo {
    /// The URL of a named remote, or the name itself when it is a URL or
    /// path (so `--remote file:///srv/state.git` works without `git remote add`;
    /// a remote's name cannot hold ':', so `git@host:state.git` is a URL too).
    /// Every fetch and push starts here, within its `Transfer` (which
    /// registers idp's transports and installs the timeout).
    fn remote(&self, name: &str, _transfer: &Transfer) -> Result<git2::Remote<'_>, StateError> {
        match self.repo.find_remote(name) {
            // A configured relative path is relative to the repo, as git reads
            // it, not to wherever idp was started.
            Ok(remote) => match remote.url().ok().and_then(local_repo_path).filter(|path| path.is_relative()) {
                Some(path) => {
                    let absolute = std::path::absolute(self.path.join(&path))
                        .map_err(|e| StateError::NotARepo { path: format!("{} ({e})", path.display()) })?;
                    let url = absolute
                        .to_str()
                        .ok_or_else(|| StateError::NotARepo { path: absolute.display().to_string() })?;
                    self.repo.remote_anonymous(url).map_err(git(format!("open remote {name}")))
                }
                None => Ok(remote),
            },
            Err(_) if name.contains(':') || name.contains('/') || Path::new(name).exists() => {
                self.repo.remote_anonymous(name).map_err(git(format!("open remote {}", redact_url(name))))
            }
            Err(e) => Err(git(format!("find remote {name} (add it with `git remote add {name} URL`)"))(e)),
        }
    }

    /// Fetches `branch` from the remote; the commit it points at there, or
    /// None when the remote has no such branch. A remote silent for `timeout`
    /// fails the fetch.
    pub fn fetch_branch(
        &self,
        remote_name: &str,
        branch: &str,
        timeout: Duration,
        progress: Progress<'_>,
    ) -> Result<Option<ObjectId>, StateError> {
        let transfer = Transfer::start(timeout);
        let mut remote = self.remote(remote_name, &transfer)?;
        let tracking = tracking_ref(remote_name, branch);
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(progress));
        let refspec = format!("+refs/heads/{branch}:{tracking}");
        // A branch the remote lacks is not an error: the first push creates it.
        match remote.fetch(&[&refspec], Some(&mut options), None) {
            Ok(()) => {}
            Err(e) => return Err(network(format!("fetch {branch} from {}", redact_url(remote_name)), timeout)(e)),
        }
        let advertised = remote
            .list()
            .map_err(git("read the remote's refs"))?
            .iter()
            .any(|h| h.name() == format!("refs/heads/{branch}"));
        if !advertised {
            let _ = self.repo.find_reference(&tracking).and_then(|mut r| r.delete());
            return Ok(None);
        }
        match self.repo.refname_to_id(&tracking) {
            Ok(oid) => Ok(Some(ObjectId(oid))),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git("read the fetched branch")(e)),
        }
    }

    /// The remote's default branch (what its HEAD names), for `--branch`.
    pub fn remote_default_branch(&self, remote_name: &str, timeout: Duration) -> Result<String, StateError> {
        let transfer = Transfer::start(timeout);
        let mut remote = self.remote(remote_name, &transfer)?;
        remote
            .connect_auth(git2::Direction::Fetch, Some(callbacks(&|_| {})), None)
            .map_err(network(format!("connect to {}", redact_url(remote_name)), timeout))?;
        let head = remote.default_branch().map_err(|e| match e.code() {
            // What a fresh `git init --bare` advertises: no refs at all, its HEAD
            // naming a branch that does not exist yet.
            ErrorCode::NotFound => StateError::NoDefaultBranch { remote: redact_url(remote_name).into_owned() },
            _ => git("read the remote's default branch")(e),
        })?;
        let name = head.as_str().unwrap_or("refs/heads/main").trim_start_matches("refs/heads/").to_owned();
        Ok(name)
    }

    /// Pushes `commit` to `branch` on the remote, only if the branch still
    /// points at `expected` (what the caller fetched and built on). A remote
    /// silent for `timeout` fails the push.
    pub fn push_commit(
        &self,
        remote_name: &str,
        commit: ObjectId,
        branch: &str,
        expected: Option<ObjectId>,
        timeout: Duration,
        progress: Progress<'_>,
    ) -> Result<(), PushFailure> {
        let commit = commit.0;
        let transfer = Transfer::start(timeout);
        let remote = self.remote(remote_name, &transfer).map_err(PushFailure::Failed)?;
        // A local remote is pushed to through git's receive-pack, like a
        // network one, so its hooks and `receive.*` settings apply. A relative
        // path is relative to the repo, as git reads it.
        let local = remote.url().ok().and_then(local_repo_path).map(|p| local_url(&self.path.join(p)));
        drop(remote);
        let url = local.as_deref().unwrap_or(remote_name);
        let refname = format!("refs/heads/{branch}");
        let expected = expected.map(|e| e.0);
        let result = self.push_refspec(url, remote_name, commit, &refname, expected, &transfer, progress);
        if result.is_ok() {
            let _ = self.repo.reference(&tracking_ref(remote_name, branch), commit, true, "idp: pushed");
        }
        result
    }

    /// A plain push of `commit` to `refname` on the remote, fast-forward only.
    /// Pushes `commit` to `refname` at `url` (`remote_name` is what messages
    /// call it), only if the branch there is at `expected`: the push runs on
    /// the connection whose advertisement was checked, and the server moves
    /// the branch from the advertised value or not at all.
    #[allow(clippy::too_many_arguments)]
    fn push_refspec(
        &self,
        url: &str,
        remote_name: &str,
        commit: Oid,
        refname: &str,
        expected: Option<Oid>,
        transfer: &Transfer,
        progress: Progress<'_>,
    ) -> Result<(), PushFailure> {
        let failed = |e: git2::Error| {
            PushFailure::Failed(network(format!("push to {}", redact_url(remote_name)), transfer.timeout)(e))
        };
        let mut remote = self.remote(url, transfer).map_err(PushFailure::Failed)?;
        let mut connection =
            remote.connect_auth(git2::Direction::Push, Some(callbacks(progress)), None).map_err(failed)?;
        let advertised =
            connection.list().map_err(failed)?.iter().find(|head| head.name() == refname).map(|head| head.oid());
        if advertised != expected {
            let now = advertised.map_or("nothing".to_owned(), |oid| oid.to_string());
            return Err(PushFailure::Stale(format!("{refname} moved to {now} since it was fetched")));
        }
        self.repo
            .reference(PUSH_REF, commit, true, "idp: push")
            .map_err(|e| PushFailure::Failed(git("prepare the push")(e)))?;
        let refused = std::cell::RefCell::new(None::<String>);
        // What the server printed (its hooks' output), for a refusal's message.
        let said = std::cell::RefCell::new(String::new());
        let result = {
            let mut cb = callbacks(progress);
            cb.push_update_reference(|_, status| {
                if let Some(status) = status {
                    *refused.borrow_mut() = Some(status.to_owned());
                }
                Ok(())
            });
            cb.sideband_progress(|data| {
                let mut said = said.borrow_mut();
                if said.len() < SERVER_MESSAGE_LIMIT {
                    said.push_str(&String::from_utf8_lossy(data));
                }
                true
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(cb);
            connection.remote().push(&[format!("{PUSH_REF}:{refname}")], Some(&mut options))
        };
        let _ = self.repo.find_reference(PUSH_REF).and_then(|mut r| r.delete());
        match result {
            Err(e) if e.code() == ErrorCode::NotFastForward => Err(PushFailure::Stale(e.message().to_owned())),
            // libgit2's words for a report-status whose `unpack` is not ok
            // (libgit2 src/libgit2/transports/smart_protocol.c): the server got
            // the pack and could not keep it, so the connection was fine.
            Err(e) if e.message().contains("unpacking the sent packfile failed on the remote") => {
                Err(PushFailure::NotStored(with_server_message(e.message().to_owned(), &said.into_inner())))
            }
            Err(e) => Err(failed(e)),
            // A server refusal arrives as Ok with a status per ref.
            Ok(()) => match refused.into_inner() {
                Some(status) if is_stale_status(&status) => Err(PushFailure::Stale(status)),
                Some(status) => Err(PushFailure::Rejected(with_server_message(status, &said.into_inner()))),
                None => Ok(()),
            },
        }
    }

    /// Moves the local branch to a pushed commit when that is a fast-forward,
    /// updating a non-bare repo's work tree. When it cannot, the branch is left
    /// alone and the reason returned: the push landed all the same.
    pub fn fast_forward(&self, branch: &str, commit: ObjectId) -> Result<Option<String>, StateError> {
        let commit = commit.0;
        let local = format!("refs/heads/{branch}");
        let current = self.repo.refname_to_id(&local).ok();
        if current == Some(commit) {
            return Ok(None);
        }
        if let Some(current) = current
            && !self.repo.graph_descendant_of(commit, current).unwrap_or(false)
        {
            return Ok(Some(format!("the local {branch} has commits the remote does not")));
        }
        let checked_out = self.branch_ref().ok().as_deref() == Some(local.as_str());
        if !checked_out || self.repo.is_bare() {
            self.repo
                .reference(&local, commit, true, "idp: fast-forward to the pushed commit")
                .map_err(git(format!("move {local}")))?;
            return Ok(None);
        }
        // Someone else's index lock (a git command running, or one that was
        // killed): idp cannot tell which, so it leaves the clone as it is.
        let index_lock = self.repo.path().join("index.lock");
        if index_lock.exists() {
            return Ok(Some(format!(
                "{} exists (a git command is running, or one was killed: remove the file if none is running)",
                index_lock.display()
            )));
        }
        let dirty = self.dirty_managed_paths()?;
        if let Some(path) = dirty.first() {
            return Ok(Some(format!("the work tree has uncommitted changes ({path} and {} more)", dirty.len() - 1)));
        }
        match current {
            Some(current) => self.move_checked_out_branch(&local, current, commit)?,
            // An unborn branch: nothing in the work tree belongs to it yet.
            None => {
                self.repo
                    .reference(&local, commit, false, "idp: fast-forward to the pushed commit")
                    .map_err(git(format!("move {local}")))?;
                let tree = self.repo.find_commit(commit).and_then(|c| c.tree()).map_err(git("read the pushed tree"))?;
                let mut checkout = git2::build::CheckoutBuilder::new();
                checkout.safe();
                self.repo.checkout_tree(tree.as_object(), Some(&mut checkout)).map_err(git("update the work tree"))?;
            }
        }
        Ok(None)
    }

    /// Where a local branch points, if it exists.
    pub fn local_branch_head(&self, branch: &str) -> Result<Option<ObjectId>, StateError> {
        match self.repo.refname_to_id(&format!("refs/heads/{branch}")) {
            Ok(oid) => Ok(Some(ObjectId(oid))),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(format!("read refs/heads/{branch}"))(e)),
        }
    }

    /// Repairs what an idp run stopped half-way (killed, disk full) left in
    /// this clone: a checkout it did not finish, lock files it held, the ref
    /// of a push. Call under the writer lock. What was repaired, to be told.
    pub fn repair_interrupted(&self) -> Result<Vec<String>, StateError> {
        let mut repaired = self.finish_interrupted_checkout()?;
        if let Ok(mut leftover) = self.repo.find_reference(PUSH_REF) {
            leftover.delete().map_err(git(format!("remove {PUSH_REF}")))?;
            repaired.push(format!("removed {PUSH_REF}, left by a push that was stopped"));
        }
        Ok(repaired)
    }
}

/// The repository path of a local remote (`file://` URL or a plain path);
/// None for network remotes (`ssh://`, `https://`, `git://`, `user@host:path`).
fn local_repo_path(url: &str) -> Option<PathBuf> {
    if let Some(path) = url.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    let scp_like = url.split_once(':').is_some_and(|(host, _)| !host.contains('/') && host.len() > 1);
    (!url.contains("://") && !scp_like).then(|| PathBuf::from(url))
}

/// Where a remote branch is tracked locally.
pub fn tracking_ref(remote_name: &str, branch: &str) -> String {
    // Anonymous remotes (URLs) get a stable, path-safe name, without a password.
    let name: String =
        redact_url(remote_name).chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("refs/remotes/{name}/{branch}")
}

/// How much of what the server prints during a push is kept for a refusal.
const SERVER_MESSAGE_LIMIT: usize = 4 << 10;

/// A refusal, with what the server printed (a hook's reason, a protected
/// branch notice) as one line, its control characters escaped.
fn with_server_message(status: String, said: &str) -> String {
    // Progress (`Resolving deltas: 40% (2/5)\r`) is not a reason.
    let progress = ["Resolving deltas", "Unpacking objects", "Counting objects", "Compressing objects"];
    let lines: Vec<&str> = said
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty() && !progress.iter().any(|p| line.starts_with(p)))
        .collect();
    if lines.is_empty() {
        return status;
    }
    format!("{status} (remote: {})", crate::names::printable(&lines.join(" / ")))
}

/// Some servers report a lost race as a per-ref status rather than an error.
fn is_stale_status(status: &str) -> bool {
    let s = status.to_ascii_lowercase();
    s.contains("non-fast-forward")
        || s.contains("fetch first")
        || s.contains("stale")
        || s.contains("cannot lock ref")
        // receive-pack's answer when the branch moved between its check and its update
        || s.contains("failed to update ref")
}

/// Progress for fetch and push. Credentials are the transports' business:
/// libgit2's git:// and local transports need none.
fn callbacks<'a>(progress: Progress<'a>) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    cb.transfer_progress(move |stats| {
        progress(&format!("fetch: {}/{} objects", stats.received_objects(), stats.total_objects()));
        true
    });
    cb.push_transfer_progress(move |current, total, _| progress(&format!("push: {current}/{total} objects")));
    cb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_remotes_are_recognised() {
        assert_eq!(local_repo_path("file:///srv/state.git"), Some(PathBuf::from("/srv/state.git")));
        assert_eq!(local_repo_path("/srv/state.git"), Some(PathBuf::from("/srv/state.git")));
        assert_eq!(local_repo_path("../state.git"), Some(PathBuf::from("../state.git")));
        assert_eq!(local_repo_path("ssh://git@host/state.git"), None);
        assert_eq!(local_repo_path("https://host/state.git"), None);
        assert_eq!(local_repo_path("git@github.com:org/state.git"), None);
    }

    #[test]
    fn tracking_refs_are_path_safe() {
        assert_eq!(tracking_ref("origin", "main"), "refs/remotes/origin/main");
        assert_eq!(tracking_ref("file:///srv/state.git", "main"), "refs/remotes/file____srv_state_git/main");
    }
}
