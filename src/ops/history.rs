//! `idp history`: the audit log, read from idp's commits and their trailers.

use serde::Serialize;

use super::{Context, Error};

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

/// `Idp-*` trailers of a commit message, in order.
pub fn trailers(message: &str) -> Vec<(&str, &str)> {
    message
        .lines()
        .filter_map(|line| line.split_once(": "))
        .filter(|(key, _)| key.starts_with("Idp-") && !key.contains(' '))
        .map(|(k, v)| (k, v.trim()))
        .collect()
}

/// Whether a commit was written by idp (it carries an action trailer).
pub fn is_idp_commit(message: &str) -> bool {
    trailers(message).iter().any(|(k, _)| *k == "Idp-Action")
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
}
