//! `idp apply`: a prepared plan becomes one commit on the state repo.

use std::collections::HashMap;

use serde::Serialize;

use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::plan::{PlanOptions, PlanOutcome, PlanResult, Requests, ResultStatus, plan};
use super::{Context, Error};
use crate::request::{Kind, Request};

#[derive(Debug, Serialize)]
pub struct ApplyOutcome {
    /// The commit made, or null when nothing changed.
    pub commit: Option<String>,
    /// Where it landed (branch, remote, attempts), or null.
    pub landed: Option<Landed>,
    pub results: Vec<PlanResult>,
    /// With `--wait`: what the cluster reported when the wait ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<super::live::WaitReport>,
}

pub struct ApplyOptions {
    pub plan: PlanOptions,
    /// Extra text for the commit body.
    pub message: Option<String>,
    /// Where it lands (`--push`) and whether it may destroy.
    pub land: LandOptions,
}

/// Plans and commits (and pushes). None when the confirmation was declined.
pub fn apply(
    ctx: &mut Context,
    options: &ApplyOptions,
    confirm: Confirm<'_, PlanOutcome>,
    progress: &dyn Fn(&str),
) -> Result<Option<ApplyOutcome>, Error> {
    let landing = land(ctx, &options.land, confirm, progress, |ctx| {
        let prepared = plan(ctx, &options.plan)?;
        if prepared.files.is_empty() {
            return Ok(Proposal::unchanged(prepared.outcome));
        }
        let all = matches!(options.plan.requests, Requests::Stored);
        let message = commit_message(&prepared.outcome.results, &prepared.requests, all, options.message.as_deref());
        Ok(Proposal::commit(prepared.outcome, prepared.files, message))
    })?;
    Ok(match landing {
        Landing::Declined => None,
        Landing::Unchanged(plan) => {
            Some(ApplyOutcome { commit: None, landed: None, results: plan.results, live: None })
        }
        Landing::Landed(mut plan, landed) => {
            for result in &mut plan.results {
                result.status = match result.status {
                    ResultStatus::Create => ResultStatus::Created,
                    ResultStatus::Update => ResultStatus::Updated,
                    other => other,
                };
            }
            Some(ApplyOutcome {
                commit: Some(landed.commit.clone()),
                landed: Some(landed),
                results: plan.results,
                live: None,
            })
        }
    })
}

/// Title says what and where; the body explains; trailers make `git log`
/// queryable (`git log --grep 'Idp-Request: mysql team-alpha/orders-db'`).
/// `all`: every stored request was re-planned (`apply --all`), which the
/// title says, since nothing about the requests themselves changed.
fn commit_message(results: &[PlanResult], requests: &[Request], all: bool, message: Option<&str>) -> String {
    let changed: Vec<&PlanResult> = results.iter().filter(|r| !r.changes.is_empty()).collect();
    let title = match changed.as_slice() {
        many if all => {
            let plural = if results.len() == 1 { "" } else { "s" };
            format!("idp: re-render {} of {} stored request{plural} (apply --all)", many.len(), results.len())
        }
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
    let cells: HashMap<(Kind, &str, &str), &Request> =
        requests.iter().map(|q| ((q.kind, q.namespace.as_str(), q.name.as_str()), q)).collect();
    for r in &changed {
        let secondary =
            r.secondary.as_ref().map(|s| format!(" secondary={}/{}", s.provider, s.region)).unwrap_or_default();
        text.push_str(&format!("Idp-Action: {}\n", verb(r)));
        text.push_str(&format!("Idp-Request: {} {}/{}\n", r.kind, r.namespace, r.name));
        if let Some(q) = cells.get(&(r.kind, r.namespace.as_str(), r.name.as_str())) {
            text.push_str(&format!("Idp-Cell: {} {}\n", q.cell, q.environment));
        }
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
