//! `idp failover` / `idp failback`: move a cell's data, compute and traffic
//! to its other side as one reviewed, revertable commit.
//!
//! The commit fences the old writer (its claim turns read-only), brings the
//! new side's compute up and the old side's down, and switches the traffic
//! records; Argo CD applies them in sync waves in that order (fence -1,
//! data 0, compute 1, traffic 2), so there is never a moment with two
//! writers.

use serde::Serialize;

use super::lag::LagSource;
use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::objects::{Changeset, ObjectChange, manifest_documents};
use super::plan::{Change, ChangeAction};
use super::{Context, Error};
use crate::cell::{CellState, Event, Member, Side};
use crate::layout;
use crate::policy::ComputeMode;
use crate::record::{DataLink, PlacementRecord};
use crate::render::RenderInput;
use crate::request::Kind;
use crate::schedule;
use crate::state::FileChange;

#[derive(Debug, Clone)]
pub struct FailoverOptions {
    pub cell: String,
    /// A name or alias; resolved against the policy.
    pub environment: String,
    /// The side to move to: secondary for failover, primary for failback.
    pub to: Side,
    pub lag: LagSource,
    pub force: bool,
    pub reason: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Serialize)]
pub struct FailoverOutcome {
    pub action: &'static str,
    pub cell: String,
    pub environment: String,
    pub from: Side,
    pub to: Side,
    /// The cell was already on `to`: nothing to do.
    pub noop: bool,
    pub dry_run: bool,
    pub forced: bool,
    pub observed_lag_seconds: Option<f64>,
    pub rpo_seconds: u32,
    /// The runbook, in the order Argo CD applies it.
    pub steps: Vec<String>,
    pub changes: Vec<Change>,
    /// What the commit does to each Kubernetes object (`ops::objects`): a
    /// replacement a provider would refuse shows here, and is not refused:
    /// the runbook must run in an outage.
    pub objects: Vec<ObjectChange>,
    pub commit: Option<String>,
    pub landed: Option<Landed>,
}

pub fn failover(
    ctx: &mut Context,
    options: &FailoverOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, FailoverOutcome>,
    progress: &dyn Fn(&str),
) -> Result<Option<FailoverOutcome>, Error> {
    let environment = ctx
        .policy
        .policy
        .resolve_environment(&options.environment)
        .ok_or_else(|| Error::UnknownEnvironment { environment: options.environment.clone() })?
        .to_owned();
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let (mut outcome, files, message) = prepare(ctx, options, &environment)?;
        outcome.changes = changes_of(ctx, &files)?;
        outcome.objects = objects_of(ctx, &files)?;
        if outcome.noop || options.dry_run || files.is_empty() {
            return Ok(Proposal::unchanged(outcome));
        }
        Ok(Proposal::commit(outcome, files, message))
    })?;
    Ok(match landing {
        Landing::Declined => None,
        Landing::Unchanged(outcome) => Some(outcome),
        Landing::Landed(mut outcome, landed) => {
            outcome.commit = Some(landed.commit.clone());
            outcome.landed = Some(landed);
            Some(outcome)
        }
    })
}

/// Checks, lag, re-rendering and the new cell state: everything but writing.
fn prepare(
    ctx: &Context,
    options: &FailoverOptions,
    environment: &str,
) -> Result<(FailoverOutcome, Vec<FileChange>, String), Error> {
    let policy = &ctx.policy.policy;
    let cell_path = layout::cell_state_path(&options.cell, environment);
    let mut cell = ctx.cell_state(&options.cell, environment)?;
    // A cell the policy does not define is a typo, not an empty cell.
    if !policy.cells.contains_key(&options.cell) {
        return Err(Error::UnknownName {
            what: "cell",
            name: options.cell.clone(),
            valid: policy.cells.keys().cloned().collect(),
        });
    }
    let members = ctx.cell_members(&options.cell, environment)?;
    if members.is_empty() {
        return Err(Error::EmptyCell { cell: options.cell.clone(), environment: environment.into() });
    }
    let from = cell.active_side;
    let to = options.to;
    // A failback of a cell with cold standbys is two commits: the first keeps
    // their automated sync so that Argo CD applies their scale to 0, the second
    // (this command again) stops it. Nothing moves in the second.
    let finishing = to == Side::Primary && from == Side::Primary && cell.cold_standbys_draining;
    let action = match (to, finishing) {
        (Side::Secondary, _) => "failover",
        (Side::Primary, false) => "failback",
        (Side::Primary, true) => "finish-failback",
    };

    // The tightest RPO among the cell's databases bounds the acceptable lag;
    // a cell of apps only takes its apps' drProfiles.
    let rpo_of = |databases_only: bool| {
        members
            .iter()
            .filter(|m| !databases_only || m.kind == Kind::MySql)
            .filter_map(|m| m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p)))
            .map(|p| p.rpo_seconds)
            .min()
    };
    let rpo_seconds = rpo_of(true).or_else(|| rpo_of(false)).unwrap_or(0);
    // Apps whose standby is cold: a failback scales their secondary to 0 with
    // automated sync kept, and the second commit stops that sync.
    let cold: Vec<String> = members
        .iter()
        .filter(|m| m.kind == Kind::App && m.secondary.is_some())
        .filter(|m| {
            m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p)).map(|p| p.compute_mode)
                == Some(ComputeMode::Cold)
        })
        .map(|m| format!("{}/{}", m.namespace, m.name))
        .collect();
    let draining = to == Side::Primary && !finishing && !cold.is_empty();
    let steps =
        if finishing { finish_runbook(&cell, &cold) } else { runbook(action, &cell, &members, to, &cold, environment) };
    let mut outcome = FailoverOutcome {
        action,
        cell: options.cell.clone(),
        environment: environment.into(),
        from,
        to,
        noop: from == to && !finishing,
        dry_run: options.dry_run,
        forced: options.force,
        observed_lag_seconds: None,
        rpo_seconds,
        steps,
        changes: Vec::new(),
        objects: Vec::new(),
        commit: None,
        landed: None,
    };
    if outcome.noop {
        return Ok((outcome, Vec::new(), String::new()));
    }

    // Every member must have a standby to move to.
    let renderer = ctx.renderer()?;
    let mut missing = Vec::new();
    let mut files = Vec::new();
    for member in &members {
        let id = format!("{} {}/{}", member.kind, member.namespace, member.name);
        let Some(record) = ctx.placement(member.kind, &member.namespace, &member.name)? else {
            missing.push(format!("{id}: no placement record"));
            continue;
        };
        let (namespace, name) = (member.namespace.as_str(), member.name.as_str());
        let at = layout::CellOf { cell: &options.cell, environment };
        let standby = match member.kind {
            Kind::MySql => vec![
                ("secondary", layout::claim_path(at, namespace, name, Side::Secondary)),
                ("replication", layout::replication_path(at, namespace, name)),
            ],
            Kind::App => {
                vec![("application secondary", layout::application_path(at, namespace, name, Side::Secondary))]
            }
        };
        for (what, path) in standby {
            if !ctx.platform_file_exists(&path, at)? {
                missing.push(format!("{id}: no {what}"));
            }
        }
        let request = ctx.stored_request(member.kind, namespace, name)?;
        let link = request.as_ref().map_or(DataLink::None, |r| DataLink::of(r, &record.reason));
        if member.kind == Kind::App {
            missing.extend(broken_links(ctx, &id, &link, &record)?);
        }
        if record.secondary.is_none() {
            let names_none = member.kind == Kind::App && link == DataLink::None;
            let hint = if names_none { ", and it names no database to follow (spec.database)" } else { "" };
            missing.push(format!("{id}: placed without a secondary{hint}"));
            continue;
        }
        let Some(request) = request else {
            missing.push(format!("{id}: no request file"));
            continue;
        };
        let decision = record.decision();
        let input = RenderInput {
            request: &request,
            decision: &decision,
            policy,
            active: to,
            names: record.names(),
            unprotect: false,
            draining,
        };
        let rendered = renderer.request_files(&input)?;
        // Files under the names an older idp gave them move to the names the
        // cell's Application selects (same objects; see layout::platform_file).
        let reference =
            super::resource::ResourceRef { kind: member.kind, namespace: namespace.into(), name: name.into() };
        for path in reference.rendered_files(ctx, Some(&record))? {
            if layout::is_manifest_path(&path) && !rendered.iter().any(|f| f.path == path) {
                files.push(FileChange::Remove { path });
            }
        }
        for file in rendered {
            let stored = ctx.read(&file.path)?;
            if stored.as_deref() != Some(file.content.as_bytes()) {
                // The re-rendered claims must pass their XRDs too (a template
                // override renders them as much as a plan does).
                super::claims::admit(&id, &file.path, &file.documents, stored.as_deref())?;
                files.push(FileChange::upsert(file.path, file.content.as_bytes()));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Error::NoStandby { cell: options.cell.clone(), environment: environment.into(), missing });
    }

    // Lag within RPO, or an explicit, recorded --force. Finishing a failback
    // moves no data: there is no lag to check.
    let observed = if finishing { None } else { options.lag.observe()? };
    outcome.observed_lag_seconds = observed.as_ref().map(|(lag, _)| *lag);
    // A dry run gives the verdict the real run would: an operator rehearsing
    // the runbook must learn that the lag gate will stop it.
    match &observed {
        Some((lag, _)) if *lag > f64::from(rpo_seconds) && !options.force => {
            return Err(Error::LagAboveRpo { lag: *lag, rpo: rpo_seconds });
        }
        None if !finishing && !options.force => return Err(Error::LagUnknown),
        _ => {}
    }

    let by = ctx.state()?.identity().unwrap_or_default();
    cell.active_side = to;
    cell.cold_standbys_draining = draining;
    cell.events.push(Event {
        action: action.into(),
        from,
        to,
        // To the second, as every other time idp records.
        at: jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        by,
        observed_lag_seconds: outcome.observed_lag_seconds,
        lag_source: observed.map(|(_, source)| source),
        rpo_seconds,
        forced: options.force,
        reason: options.reason.clone(),
    });
    files.push(FileChange::upsert(cell_path, cell.to_yaml().as_bytes()));

    let lag = outcome.observed_lag_seconds.map_or("unknown".to_owned(), |l| format!("{l}s"));
    let mut message = format!("idp: {action} cell {}/{environment} to {}\n\n", options.cell, to.as_str());
    for (i, step) in outcome.steps.iter().enumerate() {
        message.push_str(&format!("{}. {step}\n", i + 1));
    }
    if let Some(reason) = &options.reason {
        message.push_str(&format!("\nReason: {}\n", reason.trim()));
    }
    message.push_str(&format!(
        "\nIdp-Action: {action}\nIdp-Cell: {} {environment}\nIdp-Active-Side: {}\nIdp-Observed-Lag: {lag}\nIdp-RPO: {rpo_seconds}s\nIdp-Forced: {}\n",
        options.cell,
        to.as_str(),
        options.force
    ));
    Ok((outcome, files, message))
}

/// What keeps an app from moving with its data: each database it names
/// (or followed before apps named their data) must be placed, and the app
/// must sit on its sides, or a failover would move them apart.
fn broken_links(ctx: &Context, id: &str, link: &DataLink, record: &PlacementRecord) -> Result<Vec<String>, Error> {
    let how = if matches!(link, DataLink::Implicit { .. }) { " (followed without being named)" } else { "" };
    let mut broken = Vec::new();
    for (namespace, name) in link.databases() {
        let database = format!("{} {namespace}/{name}", Kind::MySql);
        let Some(data) = ctx.placement(Kind::MySql, namespace, name)? else {
            broken.push(format!(
                "{id} → {database}{how}: the database is not placed; apply it, or name another in the app's spec.database and re-apply the app"
            ));
            continue;
        };
        let with = (&data.primary, data.secondary.as_ref());
        if let Some(why) = schedule::apart(&database, with, (&record.primary, record.secondary.as_ref())) {
            broken.push(format!(
                "{id} → {database}{how}: {why}; re-apply the app with --reschedule so it follows its database"
            ));
        }
    }
    Ok(broken)
}

/// The runbook steps, in sync-wave order.
fn runbook(
    action: &str,
    cell: &CellState,
    members: &[Member],
    to: Side,
    cold: &[String],
    environment: &str,
) -> Vec<String> {
    let from = to.other();
    let of = |kind: Kind| {
        members
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| format!("{}/{}", m.namespace, m.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (dbs, apps) = (of(Kind::MySql), of(Kind::App));
    let mut steps = vec![format!("check every member has a {} standby and replication lag is within RPO", to.as_str())];
    if !dbs.is_empty() {
        steps.push(format!("wave -1 (fence): fence the {} databases read-only: {dbs}", from.as_str()));
        steps.push(format!(
            "wave 0 (data): make the {} databases writable and replicate from them to the {} side",
            to.as_str(),
            from.as_str()
        ));
    }
    if !apps.is_empty() {
        steps.push(format!(
            "wave 1 (compute): scale the {} apps up with automated sync, the {} apps to 0: {apps}",
            to.as_str(),
            from.as_str()
        ));
        steps.push(format!("wave 2 (traffic): point the DNS failover records at the {} side", to.as_str()));
        if to == Side::Primary && !cold.is_empty() {
            // An Application without automated sync never syncs a change by
            // itself: dropping it in the commit that scales the standby to 0
            // would leave the standby running. Two commits order the two.
            steps.push(format!(
                "then, once Argo CD reports the cold standbys' secondary Applications synced at 0 replicas, run `idp failback {} --env {environment}` again to stop their automated sync (step 2 of 2): {}",
                cell.cell,
                cold.join(", ")
            ));
        }
    }
    steps.push(format!("record the {action} in cells/{}/{}.yaml", cell.cell, cell.environment));
    steps
}

/// The second commit of a failback with cold standbys.
fn finish_runbook(cell: &CellState, cold: &[String]) -> Vec<String> {
    vec![
        format!(
            "check that Argo CD has applied the failback's scale to 0 (argocd app get: Synced, 0 replicas) on the secondary Applications of: {}",
            cold.join(", ")
        ),
        "wave 1 (compute): stop their automated sync; they stay at 0 until a failover".to_owned(),
        format!("record the finished failback in cells/{}/{}.yaml", cell.cell, cell.environment),
    ]
}

fn objects_of(ctx: &Context, files: &[FileChange]) -> Result<Vec<ObjectChange>, Error> {
    let mut changeset = Changeset::default();
    for file in files {
        let path = file.path();
        let before = manifest_documents(path, ctx.read(path)?.as_deref());
        changeset.file(path, before, manifest_documents(path, file.content().as_deref()));
    }
    changeset.classify()
}

fn changes_of(ctx: &Context, files: &[FileChange]) -> Result<Vec<Change>, Error> {
    files
        .iter()
        .map(|f| {
            let action = match (f, ctx.read(f.path())?.is_some()) {
                (FileChange::Remove { .. }, _) => ChangeAction::Delete,
                (_, true) => ChangeAction::Update,
                (_, false) => ChangeAction::Create,
            };
            Ok(Change { action, path: f.path().to_owned() })
        })
        .collect()
}
