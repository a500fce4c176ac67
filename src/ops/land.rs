//! Landing one commit, locally or on a remote shared by many pipelines: the
//! one path every command that writes the state repo takes (`land`), with
//! its one confirmation.
//!
//! Local: take the repo lock, re-read HEAD, build, compare-and-swap the
//! branch. Remote (`--push`): fetch the target branch, build against the
//! fetched head, push fast-forward only; when another pipeline won the race,
//! fetch again and rebuild from scratch (so sticky checks see its placements),
//! with jittered exponential backoff. History stays linear: no force, no merge.

use std::time::Duration;

use serde::Serialize;

use super::destroy::{self, Destroy};
use super::{Context, Error};
use crate::state::{Changes, DEFAULT_LOCK_WAIT, ObjectId, PushFailure};

/// `--push` and its companions.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// A remote name or URL; default `origin`.
    pub remote: String,
    /// Commit onto this new (or existing) branch instead of the base, for a
    /// pull-request flow.
    pub branch: Option<String>,
    /// The branch `--branch` starts from; default the remote's default branch.
    pub base: Option<String>,
    /// Attempts before giving up on a contended branch.
    pub max_attempts: u32,
    /// How long the remote may stay silent (connecting, or between two reads
    /// or writes) before a fetch or push gives up.
    pub timeout: Duration,
}

/// Where a commit landed.
#[derive(Debug, Clone, Serialize)]
pub struct Landed {
    pub commit: String,
    /// The branch moved, on the remote when pushed.
    pub branch: String,
    pub remote: Option<String>,
    pub attempts: u32,
    /// The stateful objects the commit destroys (said explicitly).
    pub destroyed: Vec<Destroy>,
}

/// How a writing command may land: where, and whether it may destroy.
#[derive(Debug, Clone, Default)]
pub struct LandOptions {
    /// `--push`: land on a remote instead of the local branch.
    pub push: Option<PushOptions>,
    /// `--allow-destroy`: the explicit word for deleting or replacing
    /// stateful data (`ops::destroy`).
    pub allow_destroy: bool,
}

/// What a writing command proposes against a base commit: the value it
/// reports, and the commit to make (None when there is nothing to write).
pub struct Proposal<T> {
    pub value: T,
    pub commit: Option<NewCommit>,
}

pub struct NewCommit {
    pub files: Changes,
    pub message: String,
}

impl<T> Proposal<T> {
    /// Nothing to write: the value is the whole result.
    pub fn unchanged(value: T) -> Self {
        Self { value, commit: None }
    }

    pub fn commit(value: T, files: impl Into<Changes>, message: String) -> Self {
        Self { value, commit: Some(NewCommit { files: files.into(), message }) }
    }
}

/// What the confirmation is shown besides the command's own value.
pub struct Proposed<'a> {
    pub files: &'a Changes,
    /// Stateful objects the commit would destroy.
    pub destroys: &'a [Destroy],
}

/// An answer to the confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    No,
    Yes,
    /// Yes, and the person typed the explicit word for what is destroyed.
    YesDestroy,
}

/// The one confirmation of every writing command: asked once, with the
/// first proposal that would write, before anything is written. `No` ends
/// the command with nothing written.
pub type Confirm<'a, T> = &'a mut dyn FnMut(&T, &Proposed<'_>) -> Result<Answer, Error>;

/// How a writing command ended.
pub enum Landing<T> {
    /// There was nothing to write.
    Unchanged(T),
    /// The commit landed; the value is the one built for it.
    Landed(T, Landed),
    /// The confirmation was declined: nothing written.
    Declined,
}

impl<T> Landing<T> {
    /// The command's value (None when declined), told by `record` where its
    /// commit landed, if it made one.
    pub fn into_value(self, record: impl FnOnce(&mut T, Landed)) -> Option<T> {
        match self {
            Landing::Declined => None,
            Landing::Unchanged(value) => Some(value),
            Landing::Landed(mut value, landed) => {
                record(&mut value, landed);
                Some(value)
            }
        }
    }
}

/// Builds a proposal against the newest base, confirms it once, and lands
/// its commit: under the repo lock on the local branch, or with `--push` on
/// the remote, rebuilding from scratch after every lost race. Every command
/// that writes the state repo goes through here.
///
/// A commit that destroys stateful data lands only with the explicit word
/// (`options.allow_destroy`, or [`Answer::YesDestroy`] for exactly what is
/// destroyed) and records each object in an `Idp-Destroy` trailer; one that
/// destroys a deletion-protected database never lands.
pub fn land<T>(
    ctx: &mut Context,
    options: &LandOptions,
    confirm: Confirm<'_, T>,
    progress: &dyn Fn(&str),
    mut build: impl FnMut(&Context) -> Result<Proposal<T>, Error>,
) -> Result<Landing<T>, Error> {
    ctx.state()?;
    let mut answer = None;
    // What the person was shown as destroyed when they answered.
    let mut confirmed: Vec<String> = Vec::new();
    let mut destroyed = Vec::new();
    let mut attempt = |ctx: &Context| -> Result<Option<Proposal<T>>, Error> {
        let mut proposal = build(ctx)?;
        let Some(commit) = &mut proposal.commit else { return Ok(Some(proposal)) };
        let destroys = destroy::classify(ctx, &commit.files)?;
        // Before the confirmation: no answer can destroy a protected database.
        destroy::refuse_protected(&destroys)?;
        let answer = match answer {
            Some(answer) => answer,
            None => {
                let given = confirm(&proposal.value, &Proposed { files: &commit.files, destroys: &destroys })?;
                confirmed = destroys.iter().map(|d| d.object.clone()).collect();
                *answer.insert(given)
            }
        };
        if answer == Answer::No {
            return Ok(None);
        }
        let typed = answer == Answer::YesDestroy && destroys.iter().all(|d| confirmed.contains(&d.object));
        if !destroys.is_empty() && !options.allow_destroy && !typed {
            return Err(Error::DestroyRefused { objects: destroys.iter().map(Destroy::describe).collect() });
        }
        commit.message.push_str(&destroy::trailers(&destroys));
        destroyed = destroys;
        Ok(Some(proposal))
    };
    let landing = match &options.push {
        None => land_locally(ctx, &mut attempt)?,
        Some(push) => land_on_remote(ctx, push, progress, &mut attempt)?,
    };
    Ok(match landing {
        Landing::Landed(value, landed) => Landing::Landed(value, Landed { destroyed, ..landed }),
        other => other,
    })
}

/// What one attempt yields: a proposal, or None when it was declined.
type Attempt<'a, T> = &'a mut dyn FnMut(&Context) -> Result<Option<Proposal<T>>, Error>;

/// Builds against the local HEAD and commits under the repo lock.
fn land_locally<T>(ctx: &mut Context, attempt: Attempt<'_, T>) -> Result<Landing<T>, Error> {
    let state = ctx.state()?;
    let _lock = state.lock(DEFAULT_LOCK_WAIT)?;
    for repaired in state.repair_interrupted()? {
        ctx.note(repaired);
    }
    let state = ctx.state()?;
    // Another process may have committed between resolving and locking.
    let head = state.head()?;
    let branch = state.branch_ref()?;
    ctx.rebase(head)?;
    let Some(Proposal { value, commit }) = attempt(ctx)? else { return Ok(Landing::Declined) };
    let Some(NewCommit { files, message }) = commit else { return Ok(Landing::Unchanged(value)) };
    let state = ctx.state()?;
    let dirty = state.dirty_managed_paths()?;
    if !dirty.is_empty() {
        return Err(crate::state::StateError::Dirty { paths: dirty }.into());
    }
    let commit = state.commit_changes(head, &files, &message)?;
    let branch = branch.trim_start_matches("refs/heads/").to_owned();
    Ok(Landing::Landed(
        value,
        Landed { commit: commit.to_string(), branch, remote: None, attempts: 1, destroyed: Vec::new() },
    ))
}

/// Builds against the remote's head and pushes, retrying lost races.
fn land_on_remote<T>(
    ctx: &mut Context,
    options: &PushOptions,
    progress: &dyn Fn(&str),
    attempt_on: Attempt<'_, T>,
) -> Result<Landing<T>, Error> {
    let state = ctx.state()?;
    let _lock = state.lock(DEFAULT_LOCK_WAIT)?;
    for repaired in state.repair_interrupted()? {
        ctx.note(repaired);
    }
    let state = ctx.state()?;
    let remote = options.remote.clone();
    // What messages and the result name: the URL without a password in it.
    let shown = crate::state::redact_url(&remote).into_owned();
    let local_branch = state.branch_ref()?.trim_start_matches("refs/heads/").to_owned();
    let (target, base_branch) = match &options.branch {
        Some(branch) => {
            let base = match &options.base {
                Some(base) => base.clone(),
                None => state.remote_default_branch(&remote, options.timeout)?,
            };
            (branch.clone(), Some(base))
        }
        None => (options.base.clone().unwrap_or_else(|| local_branch.clone()), None),
    };

    let mut last = String::new();
    let attempts = options.max_attempts.max(1);
    for attempt in 1..=attempts {
        let state = ctx.state()?;
        progress(&format!("fetch {target} from {shown} (attempt {attempt})"));
        // A connection the server dropped is retried like a lost race, within
        // the same bound; anything else about reaching it ends here.
        let reached = |branch: &str, result: Result<Option<ObjectId>, crate::state::StateError>| match result {
            Ok(head) => Ok(Some(head)),
            Err(e) if e.is_transient() && attempt < attempts => {
                progress(&format!("{shown} dropped the connection ({e}); retrying"));
                std::thread::sleep(backoff(attempt));
                Ok(None)
            }
            Err(e) => Err(unreachable(&shown, branch, attempt, e)),
        };
        let fetch = |branch: &str| reached(branch, state.fetch_branch(&remote, branch, options.timeout, progress));
        let Some(mut head) = fetch(&target)? else { continue };
        // What the target branch must still point at for the push to land.
        let head_on_remote = head;
        if head.is_none()
            && let Some(base) = &base_branch
        {
            let Some(base_head) = fetch(base)? else { continue };
            head = base_head;
        }
        // A remote without the branch gets the local history plus the commit.
        let head = match head {
            Some(head) => Some(head),
            None => state.head()?,
        };
        ctx.rebase(head)?;
        let Some(Proposal { value, commit }) = attempt_on(ctx)? else { return Ok(Landing::Declined) };
        let Some(NewCommit { files, message }) = commit else {
            // Nothing to push: the remote has it all, maybe from an earlier run
            // stopped between its push and moving this clone. Catch up.
            if let (Some(remote_head), true) = (head_on_remote, target == local_branch) {
                catch_up(ctx, &target, remote_head, &shown)?;
            }
            return Ok(Landing::Unchanged(value));
        };
        let state = ctx.state()?;
        let commit = state.create_commit(head, &files, &message)?;
        progress(&format!("push {} to {shown} {target}", short(commit)));
        match state.push_commit(&remote, commit, &target, head_on_remote, options.timeout, progress) {
            Ok(()) => {
                // The commit landed: nothing about this clone changes that, or
                // keeps it from being reported.
                let behind = match state.fast_forward(&target, commit) {
                    _ if target != local_branch => None,
                    Ok(reason) => reason,
                    Err(e) => Some(format!("{e}; the next idp run in it finishes the update")),
                };
                if let Some(reason) = behind {
                    ctx.note(format!(
                        "{} landed on {shown} {target}; this clone's {local_branch} was not moved to it: {reason}",
                        short(commit)
                    ));
                }
                let landed = Landed {
                    commit: commit.to_string(),
                    branch: target,
                    remote: Some(shown),
                    attempts: attempt,
                    destroyed: Vec::new(),
                };
                return Ok(Landing::Landed(value, landed));
            }
            Err(PushFailure::Stale(message)) => {
                last = message;
                if attempt < options.max_attempts {
                    let wait = backoff(attempt);
                    progress(&format!("{target} moved on {shown}; retrying in {} ms", wait.as_millis()));
                    std::thread::sleep(wait);
                }
            }
            Err(PushFailure::Rejected(message)) => {
                // A refusal while the branch moved is a lost race in disguise;
                // on an unmoved branch it is the server saying no.
                let Some(now) = reached(&target, state.fetch_branch(&remote, &target, options.timeout, progress))?
                else {
                    continue;
                };
                if now == head_on_remote || attempt == options.max_attempts {
                    let way_out = match &options.branch {
                        None => "Use --branch NAME to open a pull request instead, or ask the repo owner",
                        Some(_) => {
                            "A pull-request branch was refused too: ask the repo owner which branches you may push"
                        }
                    };
                    let help = format!(
                        "the remote said no (its hook, a protected branch, or a non-bare repo with the branch \
                         checked out: push to a bare repo); retrying would not help. {way_out}"
                    );
                    return Err(Error::PushRejected { remote: shown, branch: target, message, help });
                }
                last = message;
                std::thread::sleep(backoff(attempt));
            }
            Err(PushFailure::NotStored(message)) => {
                return Err(Error::PushNotStored { remote: shown, branch: target, message });
            }
            // Only a transient failure comes back from here; it was already waited out.
            Err(PushFailure::Failed(error)) => {
                reached(&target, Err(error))?;
            }
        }
    }
    Err(Error::PushExhausted { remote: shown, branch: target, attempts: options.max_attempts, last })
}

/// Moves this clone's branch to the remote's head when it is behind it (and
/// can fast-forward), and says so; says why when it cannot.
fn catch_up(ctx: &mut Context, branch: &str, remote_head: ObjectId, shown: &str) -> Result<(), Error> {
    let state = ctx.state()?;
    let local = state.local_branch_head(branch)?;
    if local == Some(remote_head) {
        return Ok(());
    }
    let note = match state.fast_forward(branch, remote_head) {
        Ok(None) => format!(
            "this clone's {branch} was behind {shown} (an earlier run stopped after its push?): moved it to {}",
            short(remote_head)
        ),
        Ok(Some(reason)) => format!("this clone's {branch} is behind {shown} ({}): {reason}", short(remote_head)),
        Err(e) => format!("this clone's {branch} is behind {shown} ({}): {e}", short(remote_head)),
    };
    ctx.note(note);
    Ok(())
}

fn unreachable(remote: &str, branch: &str, attempt: u32, error: crate::state::StateError) -> Error {
    Error::PushFailed { remote: remote.into(), branch: branch.into(), attempts: attempt, message: error.to_string() }
}

/// Exponential from 100 ms, capped at 5 s, with full jitter so that
/// pipelines that collided once do not collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let ceiling = (100u64 << attempt.min(6)).min(5_000);
    Duration::from_millis(fastrand::u64(ceiling / 4..=ceiling))
}

fn short(oid: ObjectId) -> String {
    oid.to_string()[..12].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..20 {
            let wait = backoff(attempt).as_millis() as u64;
            let ceiling = (100u64 << attempt.min(6)).min(5_000);
            assert!(wait >= ceiling / 4 && wait <= ceiling, "attempt {attempt}: {wait}");
        }
    }
}
