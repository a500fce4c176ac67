//! `idp history`: the audit log, read from idp's commits and their trailers.

use serde::Serialize;

use super::{Context, Error};
use crate::layout::RequestFileName;

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
    let Some(base) = ctx.base else { return Ok(HistoryOutcome { entries: Vec::new() }) };
    let mut entries = Vec::new();
    for commit in state.log(base)? {
        let commit = commit?;
        let time = jiff::Timestamp::from_second(commit.time).map(|t| t.to_string()).unwrap_or_default();
        let title = commit.title().to_owned();
        for entry in entries_of(&commit.message) {
            if options.limit.is_some_and(|limit| entries.len() >= limit) {
                return Ok(HistoryOutcome { entries });
            }
            let entry = HistoryEntry {
                time: time.clone(),
                author: commit.author.clone(),
                commit: commit.id.to_string(),
                title: title.clone(),
                ..entry
            };
            let keep = options.namespace.as_ref().is_none_or(|ns| entry.namespace.as_ref() == Some(ns))
                && options.name.as_ref().is_none_or(|n| entry.name.as_ref() == Some(n))
                && options.cell.as_ref().is_none_or(|c| entry.cell.as_ref() == Some(c));
            if keep {
                entries.push(entry);
            }
        }
    }
    Ok(HistoryOutcome { entries })
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
