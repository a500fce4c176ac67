//! `idp apply`: a prepared plan becomes one commit on the state repo.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::history::{NAMED_LIMIT, REQUESTS_TRAILER};
use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::plan::results::{Brief, Results};
use super::plan::{PlanOptions, PlanOutcome, Requests, ResultStatus, plan};
use super::{Context, Error};

#[derive(Debug, Serialize)]
pub struct ApplyOutcome {
    /// The commit made, or null when nothing changed.
    pub commit: Option<String>,
    /// Where it landed (branch, remote, attempts), or null.
    pub landed: Option<Landed>,
    pub results: Results,
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
        let message = commit_message(&prepared.outcome.results, all, options.message.as_deref());
        Ok(Proposal::commit(prepared.outcome, prepared.files, message))
    })?;
    Ok(match landing {
        Landing::Declined => None,
        Landing::Unchanged(plan) => {
            Some(ApplyOutcome { commit: None, landed: None, results: plan.results, live: None })
        }
        Landing::Landed(mut plan, landed) => {
            plan.results.landed();
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
///
/// A commit that changes more than [`NAMED_LIMIT`] requests names none of
/// them: its body counts them per cell and placement, and its
/// `Idp-Requests` trailer says that its tree diff names them (`idp history`
/// reads each one's placement record there). A message of 60,000 lines for
/// a bulk apply would cost every later reader of the commit, a plan among
/// them, the time to parse it.
fn commit_message(results: &Results, all: bool, message: Option<&str>) -> String {
    // Read twice rather than held: a bulk plan's briefs are made one at a time.
    let changed = || results.briefs().filter(|r| r.changed);
    let count = changed().count();
    let title = match changed().next() {
        _ if all => {
            let plural = if results.len() == 1 { "" } else { "s" };
            format!("idp: re-render {count} of {} stored request{plural} (apply --all)", results.len())
        }
        Some(one) if count == 1 => format!(
            "idp: {} {} {}/{} on {}/{}",
            verb(&one),
            one.kind,
            one.namespace,
            one.name,
            one.placement.provider,
            one.placement.region
        ),
        _ => {
            let created = changed().filter(|r| r.status == ResultStatus::Create).count();
            format!("idp: apply {count} requests ({created} created, {} updated)", count - created)
        }
    };
    let mut text = format!("{title}\n\n");
    if let Some(message) = message {
        text.push_str(message.trim());
        text.push_str("\n\n");
    }
    if count > NAMED_LIMIT {
        text.push_str(&bulk_summary(changed(), count));
        return text;
    }
    let changed: Vec<Brief> = changed().collect();
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
            r.tier,
            r.total_score,
            if r.rescheduled { ", RESCHEDULED (--reschedule)" } else { "" },
        ));
    }
    text.push('\n');
    for r in &changed {
        let secondary =
            r.secondary.as_ref().map(|s| format!(" secondary={}/{}", s.provider, s.region)).unwrap_or_default();
        text.push_str(&format!("Idp-Action: {}\n", verb(r)));
        text.push_str(&format!("Idp-Request: {} {}/{}\n", r.kind, r.namespace, r.name));
        text.push_str(&format!("Idp-Cell: {} {}\n", r.cell, r.environment));
        text.push_str(&format!("Idp-Placement: {}/{}{secondary}\n", r.placement.provider, r.placement.region));
        text.push_str(&format!("Idp-Policy-Version: {}\n", r.policy_version));
    }
    text
}

/// The body and trailers of a commit too large to name its requests: how
/// many per cell and environment, and per placement, then the count. Its
/// size depends on the policy (cells, candidates), not on the requests.
fn bulk_summary(changed: impl Iterator<Item = Brief>, count: usize) -> String {
    let mut per_cell: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut versions = BTreeSet::new();
    let mut rescheduled = 0;
    for r in changed {
        let cell = format!("{} {}", r.cell, r.environment);
        let secondary = r.secondary.as_ref().map(|s| format!(" + {}/{}", s.provider, s.region)).unwrap_or_default();
        let placement = format!("{}/{}{secondary}", r.placement.provider, r.placement.region);
        *per_cell.entry(cell).or_default().entry(placement).or_default() += 1;
        versions.insert(r.policy_version.to_string());
        rescheduled += usize::from(r.rescheduled);
    }
    let mut text = format!(
        "{count} requests, too many to name here: `idp history --namespace NS --name NAME` shows one,\n\
         from this commit's changes and the request's placement record (placements/).\n"
    );
    if rescheduled > 0 {
        text.push_str(&format!("{rescheduled} of them RESCHEDULED (--reschedule).\n"));
    }
    for (cell, placements) in &per_cell {
        let count: usize = placements.values().sum();
        text.push_str(&format!("- {cell}: {count}\n"));
        for (placement, count) in placements {
            text.push_str(&format!("  - {placement}: {count}\n"));
        }
    }
    text.push_str(&format!("\nIdp-Action: apply\n{REQUESTS_TRAILER}: {count}\n"));
    for version in versions {
        text.push_str(&format!("Idp-Policy-Version: {version}\n"));
    }
    text
}

fn verb(r: &Brief) -> &'static str {
    match (r.status, r.rescheduled) {
        (_, true) => "reschedule",
        (ResultStatus::Create | ResultStatus::Created, _) => "create",
        _ => "update",
    }
}
