//! `idp apply`: a prepared plan becomes one commit on the state repo.

use serde::Serialize;

use super::plan::{PlanResult, Prepared, ResultStatus};
use super::{Context, Error};
use crate::state::StateError;

#[derive(Debug, Serialize)]
pub struct ApplyOutcome {
    /// The commit made, or null when nothing changed.
    pub commit: Option<String>,
    pub results: Vec<PlanResult>,
}

/// Commits a prepared plan. Nothing is written when nothing changed; the
/// branch moves only if it still points where the plan was made.
pub fn apply(ctx: &Context, prepared: Prepared, message: Option<&str>) -> Result<ApplyOutcome, Error> {
    let state = ctx.state.as_ref().ok_or(Error::NoStateRepo)?;
    let Prepared { mut outcome, base, files, .. } = prepared;
    if files.is_empty() {
        return Ok(ApplyOutcome { commit: None, results: outcome.results });
    }
    let dirty = state.dirty_managed_paths()?;
    if !dirty.is_empty() {
        return Err(StateError::Dirty { paths: dirty }.into());
    }
    let text = commit_message(&outcome.results, message);
    let commit = state.commit_changes(base, &files, &text)?;
    for result in &mut outcome.results {
        result.status = match result.status {
            ResultStatus::Create => ResultStatus::Created,
            ResultStatus::Update => ResultStatus::Updated,
            other => other,
        };
    }
    Ok(ApplyOutcome { commit: Some(commit.to_string()), results: outcome.results })
}

/// Title says what and where; the body explains; trailers make `git log`
/// queryable (`git log --grep 'Idp-Request: mysql team-alpha/orders-db'`).
fn commit_message(results: &[PlanResult], message: Option<&str>) -> String {
    let changed: Vec<&PlanResult> = results.iter().filter(|r| !r.changes.is_empty()).collect();
    let title = match changed.as_slice() {
        [one] => format!(
            "idp: {} {} {}/{} on {}/{}",
            verb(one),
            one.kind,
            one.namespace,
            one.name,
            one.placement.provider,
            one.placement.region
        ),
        many => {
            let created = many.iter().filter(|r| r.status == ResultStatus::Create).count();
            format!("idp: apply {} requests ({created} created, {} updated)", many.len(), many.len() - created)
        }
    };
    let mut text = format!("{title}\n\n");
    if let Some(message) = message {
        text.push_str(message.trim());
        text.push_str("\n\n");
    }
    for r in &changed {
        let secondary =
            r.secondary.as_ref().map(|s| format!(", secondary {}/{}", s.provider, s.region)).unwrap_or_default();
        text.push_str(&format!(
            "- {} {} {}/{}: {}/{} ({}){secondary}, tier {}, total {}{}\n",
            verb(r),
            r.kind,
            r.namespace,
            r.name,
            r.placement.provider,
            r.placement.region,
            r.placement.runtime_cluster,
            r.reason.tier,
            r.reason.selected.total_score,
            if r.rescheduled { ", RESCHEDULED (--reschedule)" } else { "" },
        ));
    }
    text.push('\n');
    for r in &changed {
        let secondary =
            r.secondary.as_ref().map(|s| format!(" secondary={}/{}", s.provider, s.region)).unwrap_or_default();
        text.push_str(&format!("Idp-Action: {}\n", verb(r)));
        text.push_str(&format!("Idp-Request: {} {}/{}\n", r.kind, r.namespace, r.name));
        text.push_str(&format!("Idp-Placement: {}/{}{secondary}\n", r.placement.provider, r.placement.region));
        text.push_str(&format!("Idp-Policy-Version: {}\n", r.reason.policy.version));
    }
    text
}

fn verb(r: &PlanResult) -> &'static str {
    match (r.status, r.rescheduled) {
        (_, true) => "reschedule",
        (ResultStatus::Create | ResultStatus::Created, _) => "create",
        _ => "update",
    }
}
