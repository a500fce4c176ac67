//! Fetch and push against the remote state repo (the ssh and http(s)
//! transports, with their credentials, are in `transport`).
//!
//! A push is never forced. A rejected push is reported as what it is: a stale
//! base (someone else pushed first: fetch, re-plan, retry) or a refusal by
//! the server (hook, protected branch: do not retry).

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ErrorCode, FetchOptions, Oid, PushOptions, RemoteCallbacks};

use super::transport::{Transfer, redact_url};
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
            Ok(remote) => Ok(remote),
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
        let head = remote.default_branch().map_err(git("read the remote's default branch"))?;
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
        let (commit, expected) = (commit.0, expected.map(|e| e.0));
        let transfer = Transfer::start(timeout);
        let remote = self.remote(remote_name, &transfer).map_err(PushFailure::Failed)?;
        // A relative path is relative to the repo, as git reads it.
        let local_path = remote.url().ok().and_then(local_repo_path).map(|p| self.path.join(p));
        drop(remote);
        let result = match &local_path {
            // libgit2's local transport updates refs without checking their old
            // value under a lock, so two pushes can both "succeed" and one be
            // lost. Pack the new objects into the remote's object store, then
            // move the branch with a compare-and-swap in the remote repo itself.
            Some(path) => self.push_to_local(path, commit, branch, expected, progress),
            // Network servers (git receive-pack) check the old value under a lock.
            None => self.push_refspec(remote_name, commit, &format!("refs/heads/{branch}"), &transfer, progress),
        };
        if result.is_ok() {
            let _ = self.repo.reference(&tracking_ref(remote_name, branch), commit, true, "idp: pushed");
        }
        result
    }

    fn push_to_local(
        &self,
        path: &Path,
        commit: Oid,
        branch: &str,
        expected: Option<Oid>,
        progress: Progress<'_>,
    ) -> Result<(), PushFailure> {
        let failed = |context: String| move |e: git2::Error| PushFailure::Failed(git(context)(e));
        let target = git2::Repository::open(path).map_err(failed(format!("open {}", path.display())))?;
        // Only the objects the remote lacks: the new commit minus what the
        // branch already has, packed straight into the remote's object store.
        let mut walk = self.repo.revwalk().map_err(failed("walk the new commit".into()))?;
        walk.push(commit).map_err(failed("walk the new commit".into()))?;
        if let Some(old) = expected.filter(|old| self.repo.find_commit(*old).is_ok()) {
            walk.hide(old).map_err(failed("walk the new commit".into()))?;
        }
        let mut pack = self.repo.packbuilder().map_err(failed("pack the new objects".into()))?;
        pack.insert_walk(&mut walk).map_err(failed("pack the new objects".into()))?;
        progress(&format!("push: {} objects", pack.object_count()));
        let odb = target.odb().map_err(failed(format!("open the objects of {}", path.display())))?;
        let mut writer = odb.packwriter().map_err(failed(format!("write objects into {}", path.display())))?;
        let mut written = Ok(());
        pack.foreach(|chunk| {
            written = std::io::Write::write_all(&mut writer, chunk);
            written.is_ok()
        })
        .map_err(failed("pack the new objects".into()))?;
        written.map_err(|e| {
            PushFailure::Failed(StateError::Git {
                context: format!("write objects into {}", path.display()),
                source: git2::Error::from_str(&e.to_string()),
            })
        })?;
        writer.commit().map_err(failed(format!("write objects into {}", path.display())))?;

        let refname = format!("refs/heads/{branch}");
        let moved = match expected {
            Some(old) => target.reference_matching(&refname, commit, true, old, "idp: push"),
            None => target.reference(&refname, commit, false, "idp: push"),
        };
        match moved {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Exists | ErrorCode::Locked) => {
                Err(PushFailure::Stale(e.message().to_owned()))
            }
            Err(e) => Err(PushFailure::Failed(git(format!("update {refname} in {}", path.display()))(e))),
        }
    }

    /// A plain push of `commit` to `refname` on the remote, fast-forward only.
    fn push_refspec(
        &self,
        remote_name: &str,
        commit: Oid,
        refname: &str,
        transfer: &Transfer,
        progress: Progress<'_>,
    ) -> Result<(), PushFailure> {
        let mut remote = self.remote(remote_name, transfer).map_err(PushFailure::Failed)?;
        self.repo
            .reference(PUSH_REF, commit, true, "idp: push")
            .map_err(|e| PushFailure::Failed(git("prepare the push")(e)))?;
        let refused = std::cell::RefCell::new(None::<String>);
        let result = {
            let mut cb = callbacks(progress);
            cb.push_update_reference(|_, status| {
                if let Some(status) = status {
                    *refused.borrow_mut() = Some(status.to_owned());
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(cb);
            remote.push(&[format!("{PUSH_REF}:{refname}")], Some(&mut options))
        };
        let _ = self.repo.find_reference(PUSH_REF).and_then(|mut r| r.delete());
        match result {
            Err(e) if e.code() == ErrorCode::NotFastForward => Err(PushFailure::Stale(e.message().to_owned())),
            Err(e) => {
                Err(PushFailure::Failed(network(format!("push to {}", redact_url(remote_name)), transfer.timeout)(e)))
            }
            // A server refusal arrives as Ok with a status per ref.
            Ok(()) => match refused.into_inner() {
                Some(status) if is_stale_status(&status) => Err(PushFailure::Stale(status)),
                Some(status) => Err(PushFailure::Rejected(status)),
                None => Ok(()),
            },
        }
    }

    /// Moves the local branch to a pushed commit when that is a fast-forward,
    /// updating a non-bare repo's work tree; otherwise leaves it alone.
    pub fn fast_forward(&self, branch: &str, commit: ObjectId) -> Result<bool, StateError> {
        let commit = commit.0;
        let local = format!("refs/heads/{branch}");
        let current = self.repo.refname_to_id(&local).ok();
        if let Some(current) = current
            && current != commit
            && !self.repo.graph_descendant_of(commit, current).unwrap_or(false)
        {
            return Ok(false);
        }
        let checked_out = self.branch_ref().ok().as_deref() == Some(local.as_str());
        if checked_out && !self.repo.is_bare() {
            if !self.dirty_managed_paths()?.is_empty() {
                return Ok(false);
            }
            let tree = self.repo.find_commit(commit).and_then(|c| c.tree()).map_err(git("read the pushed tree"))?;
            let mut checkout = git2::build::CheckoutBuilder::new();
            checkout.safe();
            self.repo.checkout_tree(tree.as_object(), Some(&mut checkout)).map_err(git("update the work tree"))?;
        }
        self.repo
            .reference(&local, commit, true, "idp: fast-forward to the pushed commit")
            .map_err(git(format!("move {local}")))?;
        Ok(true)
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
