//! `idp history`: the audit log, read from idp's commits and their trailers,
//! and from every commit that changed the policy (idp's or a person's), with
//! what it changed. Says where a shallow clone cuts it.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use super::{Context, Error};
use crate::layout::{self, POLICY_PATH, RequestFileName};
use crate::state::{Commit, ObjectId, PathChange, StateRepo};

/// The most requests a commit message names one by one (`Idp-Request`
/// trailers and a line each); a commit that changes more counts them in
/// [`REQUESTS_TRAILER`] instead.
pub const NAMED_LIMIT: usize = 50;

/// The count of a commit's requests when its message does not name them:
/// its tree diff does (the requests whose files it changed), and each one's
/// placement record at the commit says where it went.
pub const REQUESTS_TRAILER: &str = "Idp-Requests";

/// The folder whose commits are policy changes: the policy, its rules and tests.
const POLICY_DIR: &str = "policy";

#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub cell: Option<String>,
    /// At most this many entries, newest first.
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct HistoryOutcome {
    pub entries: Vec<HistoryEntry>,
    /// The commits where a shallow clone's history ends (their parents were
    /// never fetched), when the walk reached them: older entries exist but
    /// this clone cannot show them. Empty when nothing was cut.
    pub cut_at: Vec<String>,
}

/// One action on one request (a commit that applied three requests gives
/// three entries).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub time: String,
    pub author: String,
    pub action: String,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub cell: Option<String>,
    pub environment: Option<String>,
    pub placement: Option<String>,
    pub policy_version: Option<String>,
    pub commit: String,
    pub title: String,
    /// What the commit changed under `policy/`, when it did.
    pub policy_change: Option<PolicyChange>,
}

/// A commit's change to the policy: the files, and what it means for
/// placements (versions, cordons), as far as the policy files can be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyChange {
    pub files: Vec<String>,
    /// `version A -> B`, `cordoned aws/us-east-1`, `uncordoned ...`.
    pub summary: Vec<String>,
}

/// `Idp-*` trailers of a commit message, in order: those of its trailer block,
/// the last paragraph, when every line of it is a `Key: value` trailer (as
/// `git interpret-trailers` reads a message). idp writes its trailers there,
/// below any text a person gave it (`-m`, `--reason`), so that text cannot
/// add an action, a request or a destroy record of its own.
pub fn trailers(message: &str) -> Vec<(&str, &str)> {
    let block = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
    let parsed: Option<Vec<(&str, &str)>> = block
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(": ")?;
            let token = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            token.then_some((key, value.trim()))
        })
        .collect();
    parsed.unwrap_or_default().into_iter().filter(|(key, _)| key.starts_with("Idp-")).collect()
}

/// Whether a commit was written by idp (it carries an action trailer).
pub fn is_idp_commit(message: &str) -> bool {
    trailers(message).iter().any(|(k, _)| *k == "Idp-Action")
}

/// What a commit's trailers say it is about: the requests it names, and the
/// cells (cell, environment) it moves as a whole.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Named {
    pub requests: Vec<RequestFileName>,
    /// A cell trailer that follows no request: a failover, a failback, or a
    /// rollback of one, which change every member of the cell.
    pub cells: Vec<(String, String)>,
}

/// Whether a commit's requests are named by its tree diff, not its message.
pub fn named_by_tree(message: &str) -> bool {
    trailers(message).iter().any(|(k, _)| *k == REQUESTS_TRAILER)
}

/// The requests and cells a commit names: its trailers, and for a commit
/// that only counts its requests, those whose files it changed.
pub fn named_in(state: &StateRepo, commit: &Commit) -> Result<Named, Error> {
    match named_by_tree(&commit.message) {
        true => Ok(named_with(commit, &state.changed_files(commit.id)?)),
        false => Ok(named(&commit.message)),
    }
}

/// [`named_in`] of a commit whose changes against its first parent are at
/// hand: a bulk commit's diff is not worked out twice.
pub fn named_with(commit: &Commit, changes: &[PathChange]) -> Named {
    let mut named = named(&commit.message);
    if named_by_tree(&commit.message) {
        named.requests.extend(requests_of(changes).into_keys());
    }
    named
}

/// The requests whose files a commit's `changes` touch, by path
/// (`RequestFileName::owner_of`), each with the change to its placement
/// record when the commit made one.
fn requests_of(changes: &[PathChange]) -> BTreeMap<RequestFileName, Option<PathChange>> {
    let mut requests: BTreeMap<RequestFileName, Option<PathChange>> = BTreeMap::new();
    for change in changes {
        let Some(owner) = RequestFileName::owner_of(&change.path) else { continue };
        let record = change.path.starts_with(layout::PLACEMENTS_DIR)
            && change.path == layout::placement_path_of(&owner.kind, &owner.namespace, &owner.name);
        let slot = requests.entry(owner).or_default();
        if record {
            *slot = Some(change.clone());
        }
    }
    requests
}

/// The requests and cells a commit's `Idp-*` trailers name.
pub fn named(message: &str) -> Named {
    let mut named = Named::default();
    for entry in entries_of(message) {
        match (entry.kind, entry.namespace, entry.name, entry.cell) {
            (Some(kind), Some(namespace), Some(name), _) => {
                named.requests.push(RequestFileName { kind, namespace, name })
            }
            (None, None, None, Some(cell)) => named.cells.push((cell, entry.environment.unwrap_or_default())),
            _ => {}
        }
    }
    named
}

/// The commit a revert undoes, as its message names it: an idp commit's
/// `Idp-Reverts` trailer (whatever its free text says), or the line
/// `git revert` writes ("This reverts commit <id>.").
pub fn reverted_commit(message: &str) -> Option<&str> {
    let id = if is_idp_commit(message) {
        trailers(message).into_iter().find(|(k, _)| *k == "Idp-Reverts").map(|(_, v)| v)
    } else {
        message.lines().find_map(|line| {
            let rest = line.trim().strip_prefix("This reverts commit ")?;
            rest.split(|c: char| c == '.' || c.is_whitespace()).next()
        })
    };
    id.filter(|id| id.len() >= 7 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn history(ctx: &Context, options: &HistoryOptions) -> Result<HistoryOutcome, Error> {
    let state = ctx.state()?;
    let mut outcome = HistoryOutcome { entries: Vec::new(), cut_at: Vec::new() };
    let Some(base) = ctx.base else { return Ok(outcome) };
    let boundary = state.shallow_boundary()?;
    let full = |entries: &Vec<HistoryEntry>| options.limit.is_some_and(|limit| entries.len() >= limit);
    for commit in state.log(base)? {
        let commit = commit?;
        if full(&outcome.entries) {
            break;
        }
        // What a boundary commit changed is unknowable here (its parent is
        // missing, so it would seem to add the whole policy).
        let cut = boundary.contains(&commit.id);
        let policy_change = if cut { None } else { policy_change(state, &commit)? };
        let time = jiff::Timestamp::from_second(commit.time).map(|t| t.to_string()).unwrap_or_default();
        let mut of_commit: Vec<Pending> = entries_of(&commit.message).into_iter().map(Pending::Told).collect();
        if named_by_tree(&commit.message) && !cut {
            // The message counts its requests; its tree diff names them.
            let told = match of_commit.pop() {
                Some(Pending::Told(entry)) => entry,
                _ => HistoryEntry::empty(),
            };
            of_commit.extend(requests_of(&state.changed_files(commit.id)?).into_iter().map(|(request, record)| {
                Pending::Recorded {
                    request,
                    record,
                    action: told.action.clone(),
                    policy_version: told.policy_version.clone(),
                }
            }));
        }
        if of_commit.is_empty() && policy_change.is_some() {
            // A policy edit made without idp (a reviewed pull request): it
            // changes where every later request lands, so it is audited too.
            of_commit.push(Pending::Told(HistoryEntry { action: "policy".into(), ..HistoryEntry::empty() }));
        }
        for pending in of_commit {
            if full(&outcome.entries) {
                break;
            }
            let (namespace, name) = pending.request();
            let wanted = options.namespace.as_ref().is_none_or(|ns| namespace == Some(ns))
                && options.name.as_ref().is_none_or(|n| name == Some(n));
            if !wanted {
                continue;
            }
            let entry = pending.entry(state, &commit);
            let entry = HistoryEntry {
                time: time.clone(),
                author: commit.author.clone(),
                commit: commit.id.to_string(),
                title: commit.title().to_owned(),
                policy_version: entry
                    .policy_version
                    .clone()
                    .or_else(|| policy_change.as_ref().and_then(|_| policy_version_at(state, commit.id))),
                policy_change: policy_change.clone(),
                ..entry
            };
            if options.cell.as_ref().is_none_or(|c| entry.cell.as_ref() == Some(c)) {
                outcome.entries.push(entry);
            }
        }
        if cut {
            outcome.cut_at.push(commit.id.to_string());
        }
    }
    Ok(outcome)
}

/// An entry of a commit, as its message tells it, or one of the requests
/// its tree diff names, read from its placement record only when shown.
enum Pending {
    Told(HistoryEntry),
    Recorded {
        request: RequestFileName,
        /// The commit's change to the request's placement record, if any.
        record: Option<PathChange>,
        /// The commit's action (`apply`, `revert`) and the policy version
        /// its trailers give, for a record without one.
        action: String,
        policy_version: Option<String>,
    },
}

impl Pending {
    fn request(&self) -> (Option<&String>, Option<&String>) {
        match self {
            Pending::Told(entry) => (entry.namespace.as_ref(), entry.name.as_ref()),
            Pending::Recorded { request, .. } => (Some(&request.namespace), Some(&request.name)),
        }
    }

    fn entry(self, state: &StateRepo, commit: &Commit) -> HistoryEntry {
        let (request, record, told, told_version) = match self {
            Pending::Told(entry) => return entry,
            Pending::Recorded { request, record, action, policy_version } => (request, record, action, policy_version),
        };
        // An apply says per request what it did by its record; a revert
        // (of a bulk apply) is a revert for each of them.
        let action = match &record {
            _ if told != "apply" => told,
            Some(PathChange { old: None, .. }) => "create".into(),
            Some(PathChange { blob: None, .. }) => "delete".into(),
            _ => "update".into(),
        };
        // A removed record is read as it was before the commit.
        let blob = record.as_ref().map_or_else(
            || state.file_id(commit.id, &layout::placement_path_of(&request.kind, &request.namespace, &request.name)),
            |change| Ok(change.blob.or(change.old)),
        );
        let sketch: RecordSketch = blob
            .ok()
            .flatten()
            .and_then(|id| state.blob(id).ok())
            .and_then(|bytes| serde_saphyr::from_slice(&bytes).ok())
            .unwrap_or_default();
        let side = |s: &SideSketch| format!("{}/{}", s.provider, s.region);
        let placement = sketch.primary.as_ref().map(|primary| match &sketch.secondary {
            Some(secondary) => format!("{} secondary={}", side(primary), side(secondary)),
            None => side(primary),
        });
        let policy_version = sketch.reason.and_then(|r| r.policy).and_then(|p| p.version).or(told_version);
        HistoryEntry {
            action,
            kind: Some(request.kind),
            namespace: Some(request.namespace),
            name: Some(request.name),
            cell: sketch.cell,
            environment: sketch.environment,
            placement,
            policy_version,
            ..HistoryEntry::empty()
        }
    }
}

/// The parts of a placement record a history entry names, read leniently:
/// a record idp can no longer read still gives its request an entry.
#[derive(Debug, Default, Deserialize)]
struct RecordSketch {
    #[serde(default)]
    cell: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    primary: Option<SideSketch>,
    #[serde(default)]
    secondary: Option<SideSketch>,
    #[serde(default)]
    reason: Option<ReasonSketch>,
}

#[derive(Debug, Deserialize)]
struct SideSketch {
    provider: String,
    region: String,
}

#[derive(Debug, Deserialize)]
struct ReasonSketch {
    #[serde(default)]
    policy: Option<PolicySketch>,
}

/// What a commit changed under `policy/`, or None when it changed nothing there.
fn policy_change(state: &StateRepo, commit: &Commit) -> Result<Option<PolicyChange>, Error> {
    let Some(files) = state.changed_under(commit, POLICY_DIR)? else { return Ok(None) };
    let mut summary = Vec::new();
    if files.iter().any(|f| f == POLICY_PATH) {
        let now = policy_sketch(state, commit.id);
        let before = commit.parents.first().and_then(|p| policy_sketch(state, *p));
        summary = summarize(before.as_ref(), now.as_ref());
    }
    Ok(Some(PolicyChange { files, summary }))
}

/// The parts of a policy file a history entry names. Read leniently (unknown
/// fields ignored, unreadable files skipped): an old or broken policy in the
/// history never stops the audit log.
#[derive(Debug, Default, Deserialize)]
struct PolicySketch {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    candidates: Vec<CandidateSketch>,
}

#[derive(Debug, Deserialize)]
struct CandidateSketch {
    provider: String,
    region: String,
    #[serde(default)]
    cordoned: bool,
}

fn policy_sketch(state: &StateRepo, commit: ObjectId) -> Option<PolicySketch> {
    let bytes = state.read_at(commit, POLICY_PATH).ok()??;
    serde_saphyr::from_str(std::str::from_utf8(&bytes).ok()?).ok()
}

fn policy_version_at(state: &StateRepo, commit: ObjectId) -> Option<String> {
    policy_sketch(state, commit)?.version
}

/// The version change and the candidates cordoned or uncordoned (a candidate
/// added cordoned counts as cordoned; one removed is named as removed).
fn summarize(before: Option<&PolicySketch>, now: Option<&PolicySketch>) -> Vec<String> {
    let mut summary = Vec::new();
    let version = |p: Option<&PolicySketch>| p.and_then(|p| p.version.clone());
    match (version(before), version(now)) {
        (Some(a), Some(b)) if a != b => summary.push(format!("version {a} -> {b}")),
        (None, Some(b)) => summary.push(format!("version {b}")),
        _ => {}
    }
    let pool = |p: Option<&PolicySketch>| -> Vec<(String, bool)> {
        p.map(|p| p.candidates.iter().map(|c| (format!("{}/{}", c.provider, c.region), c.cordoned)).collect())
            .unwrap_or_default()
    };
    let (old, new) = (pool(before), pool(now));
    let was = |id: &str| old.iter().find(|(o, _)| o == id).map(|(_, cordoned)| *cordoned);
    for (id, cordoned) in &new {
        match (was(id), cordoned) {
            (Some(false) | None, true) => summary.push(format!("cordoned {id}")),
            (Some(true), false) => summary.push(format!("uncordoned {id}")),
            _ => {}
        }
    }
    if now.is_some() {
        for (id, _) in old.iter().filter(|(id, _)| !new.iter().any(|(n, _)| n == id)) {
            summary.push(format!("removed {id}"));
        }
    }
    summary
}

/// Splits a commit's trailers into entries; each `Idp-Action` starts one,
/// and the trailers after it describe it. A revert's action applies to every
/// request it names.
fn entries_of(message: &str) -> Vec<HistoryEntry> {
    let mut entries: Vec<HistoryEntry> = Vec::new();
    let mut action = String::new();
    for (key, value) in trailers(message) {
        match key {
            "Idp-Action" => {
                action = value.to_owned();
                entries.push(HistoryEntry { action: action.clone(), ..HistoryEntry::empty() });
            }
            "Idp-Request" => {
                // A second request under the same action (reverts) gets its own entry.
                if entries.last().is_some_and(|e| e.name.is_some()) {
                    entries.push(HistoryEntry { action: action.clone(), ..HistoryEntry::empty() });
                }
                if let Some(e) = entries.last_mut()
                    && let Some((kind, id)) = value.split_once(' ')
                {
                    let (namespace, name) = id.split_once('/').unwrap_or(("default", id));
                    e.kind = Some(kind.into());
                    e.namespace = Some(namespace.into());
                    e.name = Some(name.into());
                }
            }
            "Idp-Cell" => {
                if let Some(e) = entries.last_mut() {
                    let (cell, environment) = value.split_once(' ').unwrap_or((value, ""));
                    e.cell = Some(cell.into());
                    e.environment = (!environment.is_empty()).then(|| environment.into());
                }
            }
            "Idp-Placement" => {
                if let Some(e) = entries.last_mut() {
                    e.placement = Some(value.into());
                }
            }
            "Idp-Policy-Version" => {
                if let Some(e) = entries.last_mut() {
                    e.policy_version = Some(value.into());
                }
            }
            _ => {}
        }
    }
    entries
}

impl HistoryEntry {
    fn empty() -> Self {
        Self {
            time: String::new(),
            author: String::new(),
            action: String::new(),
            kind: None,
            namespace: None,
            name: None,
            cell: None,
            environment: None,
            placement: None,
            policy_version: None,
            commit: String::new(),
            title: String::new(),
            policy_change: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_action_and_request() {
        let message = "idp: apply 2 requests\n\n- body\n\nIdp-Action: create\nIdp-Request: mysql team-a/db1\nIdp-Cell: payments production\nIdp-Placement: aws/us-east-1 secondary=gcp/us-central1\nIdp-Policy-Version: 1\nIdp-Action: update\nIdp-Request: mysql team-b/db2\nIdp-Placement: oci/us-ashburn-1\nIdp-Policy-Version: 1\n";
        let entries = entries_of(message);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].action.as_str(), entries[0].name.as_deref(), entries[0].cell.as_deref()),
            ("create", Some("db1"), Some("payments"))
        );
        assert_eq!(entries[1].placement.as_deref(), Some("oci/us-ashburn-1"));
        let revert =
            "idp: revert x\n\nIdp-Action: revert\nIdp-Reverts: abc\nIdp-Request: mysql a/x\nIdp-Request: mysql b/y\n";
        let entries = entries_of(revert);
        assert_eq!(
            entries.iter().map(|e| (e.action.as_str(), e.name.as_deref().unwrap())).collect::<Vec<_>>(),
            [("revert", "x"), ("revert", "y")]
        );
        assert!(!is_idp_commit("fix typo\n\nSigned-off-by: a <b>\n"));
    }

    #[test]
    fn a_policy_change_reads_as_its_version_and_cordons() {
        let sketch = |version: &str, pool: &[(&str, bool)]| PolicySketch {
            version: Some(version.into()),
            candidates: pool
                .iter()
                .map(|(id, cordoned)| {
                    let (provider, region) = id.split_once('/').unwrap();
                    CandidateSketch { provider: provider.into(), region: region.into(), cordoned: *cordoned }
                })
                .collect(),
        };
        let before = sketch("1", &[("aws/us-east-1", false), ("gcp/us-central1", true), ("oci/eu-frankfurt-1", false)]);
        let after = sketch("2", &[("aws/us-east-1", true), ("gcp/us-central1", false), ("aws/eu-west-1", true)]);
        assert_eq!(
            summarize(Some(&before), Some(&after)),
            [
                "version 1 -> 2",
                "cordoned aws/us-east-1",
                "uncordoned gcp/us-central1",
                "cordoned aws/eu-west-1",
                "removed oci/eu-frankfurt-1"
            ]
        );
        assert_eq!(summarize(None, Some(&sketch("1", &[("aws/us-east-1", false)]))), ["version 1"]);
        assert!(summarize(Some(&before), Some(&before)).is_empty());
        // An unreadable policy after the change says nothing rather than "removed" everything.
        assert!(summarize(Some(&before), None).is_empty());
    }

    #[test]
    fn a_commit_names_its_requests_and_the_cells_it_moves_as_a_whole() {
        let request = |kind: &str, namespace: &str, name: &str| RequestFileName {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        };
        let apply = "idp: apply\n\nIdp-Action: create\nIdp-Request: mysql team-a/db1\nIdp-Cell: payments production\nIdp-Action: update\nIdp-Request: app web\n";
        assert_eq!(
            named(apply),
            Named {
                requests: vec![request("mysql", "team-a", "db1"), request("app", "default", "web")],
                cells: vec![]
            }
        );
        let failover =
            "idp: failover\n\nIdp-Action: failover\nIdp-Cell: payments production\nIdp-Active-Side: secondary\n";
        assert_eq!(named(failover), Named { requests: vec![], cells: vec![("payments".into(), "production".into())] });
        let rollback = "idp: revert failover\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n\nIdp-Action: revert\nIdp-Reverts: 0123456789abcdef0123456789abcdef01234567\nIdp-Cell: payments production\n";
        assert_eq!(named(rollback).cells, [("payments".to_owned(), "production".to_owned())]);
        assert_eq!(reverted_commit(rollback), Some("0123456789abcdef0123456789abcdef01234567"));

        let git_revert = "Revert \"idp: update\"\n\nThis reverts commit 89abcdef0123456789abcdef0123456789abcdef.\n";
        assert_eq!(reverted_commit(git_revert), Some("89abcdef0123456789abcdef0123456789abcdef"));
        let referenced = "Revert x\n\nThis reverts commit 89abcde (idp: update, 2026-01-02).\n";
        assert_eq!(reverted_commit(referenced), Some("89abcde"));
        assert_eq!(reverted_commit("Revert x\n\nThis reverts commit HEAD~1.\n"), None);
        assert_eq!(reverted_commit(apply), None);
        let quoted = "idp: apply\n\nThis reverts commit 89abcdef0123456789abcdef0123456789abcdef.\n\nIdp-Action: update\nIdp-Request: app web\n";
        assert_eq!(reverted_commit(quoted), None, "an apply's message is not a revert");
        assert_eq!(named("fix typo\n"), Named::default());
    }
}
