//! `idp failover` / `idp failback`: move a cell's data, compute and traffic
//! to its other side, so that there is never a moment with two writers.
//!
//! Staged (the default): one commit per sync wave (fence, data, compute,
//! traffic), each landing only once the management cluster reports the one
//! before it done (`ops::live`): the old side's fence observed, then the lag
//! within RPO, the new side writable, its apps up, its traffic records synced;
//! a last commit records the move. The cell's file records the last stage
//! committed (`cell::Runbook`), so `--resume` goes on after an interruption
//! and every other command renders the cell as the stage left it
//! (`CellState::moving`); `idp rollback` undoes a stage.
//!
//! `--no-wait` (a disaster in which the old side or the cluster cannot be
//! reached): the whole move as one commit, whose sync waves Argo CD applies
//! in order (fence -1, data 0, compute 1, traffic 2) without anyone checking
//! that each took effect.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::lag::LagSource;
use super::land::{Answer, Confirm, LandOptions, Landed, Landing, Proposal, Proposed, land};
use super::live::{Management, Origin, WaitEnd, WaitReport};
use super::objects::ObjectChange;
use super::plan::Change;
use super::resource::ResourceRef;
use super::runbook::{
    Desired, Overlay, Owners, Waiter, changes_of, gate, identity, lag_verdict, now, objects_of, short,
};
pub use super::runbook::{StageOutcome, StageStatus, Stopped};
use super::{Context, Error};
use crate::cell::{CellState, Event, Member, Observation, Runbook, Side, Stage};
use crate::layout;
use crate::policy::ComputeMode;
use crate::product::Role;
use crate::record::{DataLink, PlacementRecord};
use crate::render::{RenderInput, RenderedFile};
use crate::request::Request;
use crate::schedule;

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
    /// Stage by stage, waiting on the cluster; None: `--no-wait`, one commit.
    pub wait: Option<StageWaits>,
    /// Go on with the runbook the cell's file records.
    pub resume: bool,
}

/// How a staged runbook waits on the management cluster.
#[derive(Debug, Clone)]
pub struct StageWaits {
    /// Per stage (and for the lag gate).
    pub timeout: Duration,
    /// The kubeconfig context (`--context`).
    pub context: Option<String>,
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
    /// Staged (one commit per wave, each waited on) or one commit (`--no-wait`).
    pub staged: bool,
    /// Went on with a runbook an earlier run left part way.
    pub resumed: bool,
    pub observed_lag_seconds: Option<f64>,
    pub rpo_seconds: u32,
    /// The tightest RTO of the cell's members, when their drProfiles say.
    pub rto_minutes: Option<u32>,
    /// A staged runbook: how long this run took, from its first commit (or
    /// its resumed wait) to its end.
    pub elapsed_seconds: Option<u64>,
    /// The runbook, in the order Argo CD applies it.
    pub steps: Vec<String>,
    /// Every file the whole move changes.
    pub changes: Vec<Change>,
    /// What the whole move does to each Kubernetes object (`ops::objects`): a
    /// replacement a provider would refuse shows here, and is not refused:
    /// the runbook must run in an outage.
    pub objects: Vec<ObjectChange>,
    /// A staged runbook's stages: what each commits and what the cluster reported.
    pub stages: Vec<StageOutcome>,
    /// The last commit landed.
    pub commit: Option<String>,
    pub landed: Option<Landed>,
    /// `--no-wait`: what idp did not check before or after the commit.
    pub unverified: Vec<String>,
    /// Why a staged runbook stopped before its end (its commits stay).
    pub stopped: Option<Stopped>,
}

pub fn failover(
    ctx: &mut Context,
    options: &FailoverOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, FailoverOutcome>,
    progress: &dyn Fn(&str),
    say: &dyn Fn(&str),
) -> Result<Option<FailoverOutcome>, Error> {
    let environment = ctx
        .policy
        .policy
        .resolve_environment(&options.environment)
        .ok_or_else(|| Error::UnknownEnvironment { environment: options.environment.clone() })?
        .to_owned();
    let base = survey(ctx, options, &environment)?;
    check_runbook(&base, options)?;
    match &options.wait {
        None => one_commit(ctx, options, &environment, land_options, confirm, progress),
        Some(waits) => staged(ctx, base, options, waits, land_options, confirm, progress, say),
    }
}

/// What a move starts from: the cell, its members and their placements, and
/// the checks that hold whatever the stage.
struct Move {
    /// The cell's file at the base commit.
    cell: CellState,
    members: Vec<Placed>,
    from: Side,
    to: Side,
    action: &'static str,
    /// The second commit of a one-commit failback of a cell with cold
    /// standbys: their scale to 0 is applied, their automated sync stops.
    finishing: bool,
    /// The cell's cold standbys keep automated sync until their scale to 0 is
    /// applied (`CellState::cold_standbys_draining`).
    draining: bool,
    rpo_seconds: u32,
    rto_minutes: Option<u32>,
    /// The apps whose standby is cold, `namespace/name`.
    cold: Vec<String>,
}

struct Placed {
    member: Member,
    record: PlacementRecord,
    request: Request,
}

impl Placed {
    fn reference(&self) -> ResourceRef {
        ResourceRef { kind: self.member.kind, namespace: self.member.namespace.clone(), name: self.member.name.clone() }
    }
}

/// The checks before any move: the cell exists and holds requests, each has
/// a standby beside its data. Read at the base commit.
fn survey(ctx: &Context, options: &FailoverOptions, environment: &str) -> Result<Move, Error> {
    let policy = &ctx.policy.policy;
    let cell = ctx.cell_state(&options.cell, environment)?;
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
    let (from, to) = (cell.active_side, options.to);
    // A failback of a cell with cold standbys in one commit is two commits: the
    // first keeps their automated sync so that Argo CD applies their scale to
    // 0, the second (this command again) stops it. Nothing moves in the second.
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
            .filter(|m| !databases_only || m.kind.is_data())
            .filter_map(|m| m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p)))
            .map(|p| p.rpo_seconds)
            .min()
    };
    let rpo_seconds = rpo_of(true).or_else(|| rpo_of(false)).unwrap_or(0);
    // The tightest RTO among all members: the time the whole move has.
    let rto_minutes = members
        .iter()
        .filter_map(|m| m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p)))
        .map(|p| p.rto_minutes)
        .min();
    let cold: Vec<String> = members
        .iter()
        .filter(|m| m.kind.is_app() && m.secondary.is_some())
        .filter(|m| {
            m.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p)).map(|p| p.compute_mode)
                == Some(ComputeMode::Cold)
        })
        .map(|m| format!("{}/{}", m.namespace, m.name))
        .collect();
    let draining = to == Side::Primary && !finishing && !cold.is_empty();

    // Every member must have a standby to move to.
    let mut missing = Vec::new();
    let mut placed = Vec::new();
    let moving = from != to || finishing || cell.runbook.is_some();
    for member in members {
        let id = format!("{} {}/{}", member.kind, member.namespace, member.name);
        let Some(record) = ctx.placement(member.kind, &member.namespace, &member.name)? else {
            missing.push(format!("{id}: no placement record"));
            continue;
        };
        let (namespace, name) = (member.namespace.as_str(), member.name.as_str());
        let at = layout::CellOf { cell: &options.cell, environment };
        let kind = member.kind;
        if kind.is_data() && ctx.products.named(kind.cli_name()).is_some_and(|p| p.replication.is_empty()) {
            missing.push(format!(
                "{id}: a {} keeps no secondary in another cloud (its product lists no replication), so no failover can move it",
                kind.manifest_kind()
            ));
            continue;
        }
        let standby = match kind.role() {
            Role::Data => vec![
                ("secondary", layout::claim_path(kind, at, namespace, name, Side::Secondary, 0)),
                ("replication", layout::replication_path(kind, at, namespace, name)),
            ],
            Role::App => {
                vec![("application secondary", layout::application_path(kind, at, namespace, name, Side::Secondary))]
            }
        };
        for (what, path) in standby {
            if !ctx.platform_file_exists(&path, at)? {
                missing.push(format!("{id}: no {what}"));
            }
        }
        let request = ctx.stored_request(member.kind, namespace, name)?;
        let link = request.as_ref().map_or(DataLink::None, |r| DataLink::of(r, &record.reason));
        if member.kind.is_app() {
            missing.extend(broken_links(ctx, &id, &link, &record)?);
        }
        if record.secondary.is_none() {
            let names_none = member.kind.is_app() && link == DataLink::None;
            let hint = if names_none { ", and it names no database to follow (spec.database)" } else { "" };
            missing.push(format!("{id}: placed without a secondary{hint}"));
            continue;
        }
        let Some(request) = request else {
            missing.push(format!("{id}: no request file"));
            continue;
        };
        placed.push(Placed { member, record, request });
    }
    if moving && !missing.is_empty() {
        return Err(Error::NoStandby { cell: options.cell.clone(), environment: environment.into(), missing });
    }
    Ok(Move { cell, members: placed, from, to, action, finishing, draining, rpo_seconds, rto_minutes, cold })
}

/// A runbook part way is resumed, or finished with `--resume --no-wait`;
/// nothing else starts over it.
fn check_runbook(base: &Move, options: &FailoverOptions) -> Result<(), Error> {
    let (cell, environment) = (base.cell.cell.clone(), base.cell.environment.clone());
    match (&base.cell.runbook, options.resume) {
        (Some(runbook), resume) if !resume || runbook.to != options.to => Err(Error::RunbookInProgress {
            cell,
            environment,
            action: runbook.action.clone(),
            stage: runbook.stage.as_str().into(),
        }),
        (None, true) => Err(Error::NothingToResume { cell, environment, action: base.action.into() }),
        _ => Ok(()),
    }
}

impl Move {
    fn outcome(&self, options: &FailoverOptions, environment: &str) -> FailoverOutcome {
        let staged = options.wait.is_some();
        FailoverOutcome {
            action: self.action,
            cell: options.cell.clone(),
            environment: environment.into(),
            from: self.from,
            to: self.to,
            noop: self.from == self.to && !self.finishing && self.cell.runbook.is_none(),
            dry_run: options.dry_run,
            forced: options.force || self.cell.runbook.as_ref().is_some_and(|r| r.forced),
            staged,
            resumed: self.cell.runbook.is_some(),
            observed_lag_seconds: None,
            rpo_seconds: self.rpo_seconds,
            rto_minutes: self.rto_minutes,
            elapsed_seconds: None,
            steps: self.steps(staged),
            changes: Vec::new(),
            objects: Vec::new(),
            stages: Vec::new(),
            commit: None,
            landed: None,
            unverified: Vec::new(),
            stopped: None,
        }
    }

    /// The cell's file once the move is done, recording `event`.
    fn done(&self, draining: bool, event: Event) -> CellState {
        let mut cell = self.cell.clone();
        cell.active_side = self.to;
        cell.cold_standbys_draining = draining;
        cell.runbook = None;
        cell.events.push(event);
        cell
    }

    /// The cell's file once `stage` of `runbook` is committed.
    fn at_stage(&self, runbook: &Runbook, stage: Stage) -> CellState {
        let mut cell = self.cell.clone();
        cell.cold_standbys_draining = self.draining;
        cell.runbook = Some(Runbook { stage, ..runbook.clone() });
        cell
    }

    /// The files a commit changed, by the member that owns each.
    fn owners(&self, changed: &[crate::state::PathChange]) -> Owners {
        let members: Vec<ResourceRef> = self.members.iter().map(Placed::reference).collect();
        super::runbook::owners(members.iter(), changed)
    }

    /// Every file of the cell's members as `cell` renders them, and the
    /// cell's file: path → content and the member it belongs to.
    fn desired(&self, ctx: &Context, cell: &CellState) -> Result<Desired, Error> {
        let policy = &ctx.policy.policy;
        let renderer = ctx.renderer()?;
        let mut desired = Desired::default();
        for placed in &self.members {
            let decision = placed.record.decision();
            let data = ctx.data_claims(&placed.request, &decision.reason, Some(&placed.record))?;
            let input = RenderInput {
                data: &data,
                request: &placed.request,
                decision: &decision,
                policy,
                active: cell.active_side,
                moving: cell.moving(),
                names: placed.record.names(),
                unprotect: false,
                draining: cell.cold_standbys_draining,
            };
            desired.add_request(ctx, &placed.reference(), &placed.record, renderer.request_files(&input)?)?;
        }
        let path = layout::cell_state_path(&cell.cell, &cell.environment);
        desired.add(RenderedFile::untemplated(path, cell.to_yaml()), None);
        Ok(desired)
    }
}

/// Each commit of a staged runbook: the four stages, then the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Stage(Stage),
    Record,
}

impl Point {
    fn as_str(self) -> &'static str {
        match self {
            Point::Stage(stage) => stage.as_str(),
            Point::Record => "record",
        }
    }

    /// The points after `stage` (all of them when nothing is committed yet).
    fn after(stage: Option<Stage>) -> Vec<Point> {
        let stages = Stage::ALL.into_iter().filter(|s| stage.is_none_or(|done| *s > done));
        stages.map(Point::Stage).chain(std::iter::once(Point::Record)).collect()
    }
}

/// The runbook as one commit (`--no-wait`, or a finished cell's second
/// failback commit), or the rest of a staged one at once (`--resume --no-wait`).
fn one_commit(
    ctx: &mut Context,
    options: &FailoverOptions,
    environment: &str,
    land_options: &LandOptions,
    confirm: Confirm<'_, FailoverOutcome>,
    progress: &dyn Fn(&str),
) -> Result<Option<FailoverOutcome>, Error> {
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let base = survey(ctx, options, environment)?;
        let mut outcome = base.outcome(options, environment);
        outcome.unverified = unverified(&base);
        if outcome.noop {
            return Ok(Proposal::unchanged(outcome));
        }
        // Lag within RPO, or an explicit, recorded --force. Finishing a failback
        // moves no data, and a staged runbook past its gate checked it then.
        let checked = base.cell.runbook.as_ref().filter(|r| r.stage >= Stage::Data);
        let observed = match checked {
            Some(runbook) => runbook.observed_lag_seconds.zip(runbook.lag_source.clone()),
            None if base.finishing => None,
            None => lag_verdict(&options.lag, base.rpo_seconds, outcome.forced, false)?,
        };
        outcome.observed_lag_seconds = observed.as_ref().map(|(lag, _)| *lag);
        let runbook = base.cell.runbook.clone();
        let reason = options.reason.clone().or_else(|| runbook.as_ref().and_then(|r| r.reason.clone()));
        let event = Event {
            action: base.action.into(),
            from: base.from,
            to: base.to,
            at: now(),
            by: runbook.as_ref().map_or_else(|| identity(ctx), |r| r.by.clone()),
            observed_lag_seconds: outcome.observed_lag_seconds,
            lag_source: observed.map(|(_, source)| source),
            rpo_seconds: base.rpo_seconds,
            forced: outcome.forced,
            reason: reason.clone(),
            observed: runbook.map(|r| r.observed).unwrap_or_default(),
        };
        let cell = base.done(base.draining, event);
        let files = base.desired(ctx, &cell)?.against(&ctx.products, &|path| ctx.read(path))?.files;
        outcome.changes = changes_of(&|path| ctx.read(path), &files)?;
        outcome.objects = objects_of(&ctx.products, &|path| ctx.read(path), &files)?;
        if options.dry_run || files.is_empty() {
            return Ok(Proposal::unchanged(outcome));
        }
        let message = message(&base, &outcome, None, &outcome.steps, reason.as_deref());
        Ok(Proposal::commit(outcome, files, message))
    })?;
    Ok(landing.into_value(|outcome, landed| {
        outcome.commit = Some(landed.commit.clone());
        outcome.landed = Some(landed);
    }))
}

/// What a one-commit runbook leaves unchecked, said loudly.
fn unverified(base: &Move) -> Vec<String> {
    let (from, to) = (base.from.as_str(), base.to.as_str());
    let mut said = vec![
        format!("that the {from} databases' write fence took effect before the {to} side turned writable"),
        "that the replication lag was within RPO once the fence stopped writes (only the reading given)".to_owned(),
        format!("that the {to} databases, apps and traffic records are Ready"),
    ];
    if base.draining {
        said.push("that the cold standbys' scale to 0 was applied before the next failback stops their sync".into());
    }
    said.push(format!(
        "`idp status cell {} {} --live` shows what the cluster reports once it can be read",
        base.cell.cell, base.cell.environment
    ));
    said
}

/// The staged runbook: plan every stage, confirm once, then commit and wait
/// stage by stage.
#[allow(clippy::too_many_arguments)]
fn staged(
    ctx: &mut Context,
    base: Move,
    options: &FailoverOptions,
    waits: &StageWaits,
    land_options: &LandOptions,
    confirm: Confirm<'_, FailoverOutcome>,
    progress: &dyn Fn(&str),
    say: &dyn Fn(&str),
) -> Result<Option<FailoverOutcome>, Error> {
    let environment = base.cell.environment.clone();
    let environment = environment.as_str();
    let mut outcome = base.outcome(options, environment);
    if outcome.noop {
        return Ok(Some(outcome));
    }
    let resumed_at = base.cell.runbook.as_ref().map(|r| r.stage);
    let mut runbook = base.cell.runbook.clone().unwrap_or_else(|| Runbook {
        action: base.action.into(),
        to: base.to,
        stage: Stage::Fence,
        started_at: now(),
        by: identity(ctx),
        forced: options.force,
        reason: options.reason.clone(),
        observed: Vec::new(),
        observed_lag_seconds: None,
        lag_source: None,
    });
    runbook.forced |= options.force;
    outcome.observed_lag_seconds = runbook.observed_lag_seconds;
    // The lag gate is ahead unless the runbook passed it, or no data moves.
    let gate_ahead = !base.finishing && resumed_at.is_none_or(|s| s < Stage::Data);
    if gate_ahead {
        let observed = lag_verdict(&options.lag, base.rpo_seconds, runbook.forced, true)?;
        outcome.observed_lag_seconds = observed.map(|(seconds, _)| seconds);
    }

    // Every stage planned over the one before it: for the dry run and the confirmation.
    let points = Point::after(resumed_at);
    let mut overlay = Overlay { ctx, written: BTreeMap::new() };
    for &point in &points {
        let cell = cell_at(&base, &runbook, point, &outcome);
        let files = base.desired(ctx, &cell)?.against(&ctx.products, &|path| overlay.read(path))?;
        if point == Point::Stage(Stage::Data) && gate_ahead {
            outcome.stages.push(gate_outcome(&base, StageStatus::Planned));
        }
        let moves = files.moves_anything() || point == Point::Record;
        let mut stage = stage_outcome(&base, point, if moves { StageStatus::Planned } else { StageStatus::Unchanged });
        if moves {
            stage.changes = changes_of(&|path| overlay.read(path), &files.files)?;
            stage.objects = objects_of(&ctx.products, &|path| overlay.read(path), &files.files)?;
            overlay.write(&files.files)?;
        }
        outcome.stages.push(stage);
    }
    let whole = overlay.changes();
    outcome.changes = changes_of(&|path| ctx.read(path), &whole)?;
    outcome.objects = objects_of(&ctx.products, &|path| ctx.read(path), &whole)?;
    if options.dry_run {
        return Ok(Some(outcome));
    }

    // Waits need the cluster: find out now, before anything is written.
    let cluster = Management::connect(ctx, waits.context.clone());
    let cell_application = layout::cell_application_name(layout::CellOf { cell: &options.cell, environment });
    cluster.probe(&cell_application).map_err(|why| Error::ClusterUnreadable {
        action: base.action.into(),
        cluster: cluster.described().to_owned(),
        why,
    })?;
    if confirm(&outcome, &Proposed { files: &whole.as_slice().into(), destroys: &[] })? == Answer::No {
        return Ok(None);
    }
    outcome.stages.clear();
    let started = Instant::now();
    let mut run = || -> Result<(), Error> {
        let at = layout::CellOf { cell: &options.cell, environment };
        let mut waiter = Waiter { at, origin: None, cluster: &cluster, timeout: waits.timeout, say };

        // A resumed runbook first waits for the stage it had committed.
        if let Some(stage) = resumed_at {
            let state = ctx.state()?;
            let cell_path = layout::cell_state_path(&options.cell, environment);
            let commit = state.last_change(&[cell_path])?.map(|c| c.id).unwrap_or_default();
            let owners = base.owners(&state.changed_files(state.revparse(&commit)?)?);
            say(&format!(
                "{} {}: stage {} was committed ({}); waiting for it",
                base.action,
                options.cell,
                stage.as_str(),
                short(&commit)
            ));
            let mut entry = stage_outcome(&base, Point::Stage(stage), StageStatus::Done);
            entry.commit = Some(commit.clone());
            let report = waiter.wait(ctx, &owners, &commit)?;
            if !finish_wait(&mut outcome, entry, report, &mut runbook, Point::Stage(stage), &cluster) {
                return Ok(());
            }
        }

        // The stage the cell's file must still record when the next one lands:
        // another failover, failback or rollback in between is not overwritten.
        let mut committed = resumed_at;
        for &point in &points {
            if point == Point::Stage(Stage::Data) && gate_ahead {
                match gate(&options.lag, base.rpo_seconds, runbook.forced, waits.timeout, say) {
                    Ok(observed) => {
                        outcome.observed_lag_seconds = observed.as_ref().map(|(lag, _)| *lag);
                        (runbook.observed_lag_seconds, runbook.lag_source) = observed.unzip();
                        outcome.stages.push(gate_outcome(&base, StageStatus::Done));
                    }
                    Err(why) => {
                        outcome.stages.push(gate_outcome(&base, StageStatus::NotDone));
                        outcome.stopped =
                            Some(Stopped { stage: "lag", ended: Some(WaitEnd::Timeout), reasons: vec![why] });
                        return Ok(());
                    }
                }
            }
            let landing = land(ctx, land_options, &mut |_, _| Ok(Answer::Yes), progress, |ctx| {
                let now = survey(ctx, options, environment)?;
                let found = now.cell.runbook.as_ref().map(|r| r.stage);
                if found != committed || now.from != base.from {
                    let said = |stage: Option<Stage>| {
                        stage.map_or("no runbook".to_owned(), |s| format!("stage {}", s.as_str()))
                    };
                    return Err(Error::RunbookChanged {
                        cell: options.cell.clone(),
                        environment: environment.into(),
                        expected: said(committed),
                        found: format!("{}, active side {}", said(found), now.from.as_str()),
                    });
                }
                let cell = cell_at(&now, &runbook, point, &outcome);
                let files = now.desired(ctx, &cell)?.against(&ctx.products, &|path| ctx.read(path))?;
                let mut stage = stage_outcome(&now, point, StageStatus::Unchanged);
                if !files.moves_anything() && point != Point::Record {
                    return Ok(Proposal::unchanged((stage, files.owners)));
                }
                stage.status = StageStatus::Done;
                stage.changes = changes_of(&|path| ctx.read(path), &files.files)?;
                stage.objects = objects_of(&ctx.products, &|path| ctx.read(path), &files.files)?;
                let steps = std::slice::from_ref(&stage.what);
                let message = message(&now, &outcome, Some(point), steps, runbook.reason.as_deref());
                Ok(Proposal::commit((stage, files.owners), files.files, message))
            })?;
            let (mut stage, owners, landed) = match landing {
                Landing::Landed((stage, owners), landed) => (stage, owners, landed),
                Landing::Unchanged((stage, _)) => {
                    outcome.stages.push(stage);
                    continue;
                }
                // Every stage after the first confirmation is answered yes.
                Landing::Declined => return Ok(()),
            };
            let commit = landed.commit.clone();
            say(&format!("{} {}: stage {} committed ({})", base.action, options.cell, point.as_str(), short(&commit)));
            if let Point::Stage(stage) = point {
                committed = Some(stage);
            }
            stage.commit = Some(commit.clone());
            outcome.commit = Some(commit.clone());
            waiter.origin = Origin::of(land_options.push.as_ref(), Some(&landed));
            outcome.landed = Some(landed);
            // Read the stage's files as committed.
            let id = ctx.state()?.revparse(&commit)?;
            ctx.rebase(Some(id))?;
            let report = waiter.wait(ctx, &owners, &commit)?;
            if !finish_wait(&mut outcome, stage, report, &mut runbook, point, &cluster) {
                return Ok(());
            }
        }
        Ok(())
    };
    run()?;
    outcome.elapsed_seconds = Some(started.elapsed().as_secs());
    Ok(Some(outcome))
}

/// Records a stage's wait in the outcome, and what the cluster reported in
/// the runbook (written with the next stage); false when it stopped the runbook.
fn finish_wait(
    outcome: &mut FailoverOutcome,
    mut stage: StageOutcome,
    report: Option<WaitReport>,
    runbook: &mut Runbook,
    point: Point,
    cluster: &Management,
) -> bool {
    outcome.stopped = stage.settle(report);
    let done = outcome.stopped.is_none();
    if done && let Point::Stage(stage) = point {
        runbook.observed.push(Observation { stage, at: now(), cluster: cluster.described().to_owned() });
    }
    outcome.stages.push(stage);
    done
}

/// The cell's file at `point` of the runbook.
fn cell_at(base: &Move, runbook: &Runbook, point: Point, outcome: &FailoverOutcome) -> CellState {
    match point {
        Point::Stage(stage) => base.at_stage(runbook, stage),
        Point::Record => base.done(
            false,
            Event {
                action: base.action.into(),
                from: base.from,
                to: base.to,
                at: now(),
                by: runbook.by.clone(),
                observed_lag_seconds: runbook.observed_lag_seconds.or(outcome.observed_lag_seconds),
                lag_source: runbook.lag_source.clone(),
                rpo_seconds: base.rpo_seconds,
                forced: runbook.forced,
                reason: runbook.reason.clone(),
                observed: runbook.observed.clone(),
            },
        ),
    }
}

fn gate_outcome(base: &Move, status: StageStatus) -> StageOutcome {
    StageOutcome::gate(base.rpo_seconds, status)
}

fn stage_outcome(base: &Move, point: Point, status: StageStatus) -> StageOutcome {
    StageOutcome::new(point.as_str(), base.describe(point), status)
}

impl Move {
    fn of_role(&self, role: Role) -> String {
        let names: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.member.kind.role() == role)
            .map(|m| format!("{}/{}", m.member.namespace, m.member.name))
            .collect();
        names.join(", ")
    }

    /// What a stage's commit does, as its message and the outcome say it.
    fn describe(&self, point: Point) -> String {
        let (from, to) = (self.from.as_str(), self.to.as_str());
        match point {
            Point::Stage(Stage::Fence) => {
                format!(
                    "fence the {from} databases read-only, wait until the cloud reports it: {}",
                    self.of_role(Role::Data)
                )
            }
            Point::Stage(Stage::Data) => {
                format!("make the {to} databases writable and replicate from them to the {from} side, wait until Ready")
            }
            Point::Stage(Stage::Compute) => format!(
                "scale the {to} apps up with automated sync, the {from} apps to 0, wait until synced and Healthy: {}",
                self.of_role(Role::App)
            ),
            Point::Stage(Stage::Traffic) => {
                format!("point the DNS failover records at the {to} side, wait until synced")
            }
            Point::Record if self.draining || self.finishing => format!(
                "stop the cold standbys' automated sync (they stay at 0 until a failover) and record the {} in cells/{}/{}.yaml: {}",
                self.action,
                self.cell.cell,
                self.cell.environment,
                self.cold.join(", ")
            ),
            Point::Record => {
                format!("record the {} in cells/{}/{}.yaml", self.action, self.cell.cell, self.cell.environment)
            }
        }
    }

    /// The runbook steps, in sync-wave order.
    fn steps(&self, staged: bool) -> Vec<String> {
        let (from, to) = (self.from, self.to);
        let (cell, environment) = (&self.cell.cell, &self.cell.environment);
        if self.finishing {
            return vec![
                format!(
                    "check that Argo CD has applied the failback's scale to 0 (argocd app get: Synced, 0 replicas) on the secondary Applications of: {}",
                    self.cold.join(", ")
                ),
                "wave 1 (compute): stop their automated sync; they stay at 0 until a failover".to_owned(),
                format!("record the finished failback in cells/{cell}/{environment}.yaml"),
            ];
        }
        let (dbs, apps) = (self.of_role(Role::Data), self.of_role(Role::App));
        let mut steps =
            vec![format!("check every member has a {} standby and replication lag is within RPO", to.as_str())];
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
            if to == Side::Primary && !self.cold.is_empty() && !staged {
                // An Application without automated sync never syncs a change by
                // itself: dropping it in the commit that scales the standby to 0
                // would leave the standby running. Two commits order the two.
                steps.push(format!(
                    "then, once Argo CD reports the cold standbys' secondary Applications synced at 0 replicas, run `idp failback --cell {cell} --env {environment}` again to stop their automated sync (step 2 of 2): {}",
                    self.cold.join(", ")
                ));
            }
        }
        steps.push(self.describe(Point::Record));
        steps
    }
}

/// A runbook commit's message: what it does and the trailers `idp history`
/// and `verify` read.
fn message(
    base: &Move,
    outcome: &FailoverOutcome,
    point: Option<Point>,
    steps: &[String],
    reason: Option<&str>,
) -> String {
    let (cell, environment) = (&base.cell.cell, &base.cell.environment);
    let action = base.action;
    let title = match point {
        Some(point) => format!("idp: {action} cell {cell}/{environment} to {}: {}", base.to.as_str(), point.as_str()),
        None => format!("idp: {action} cell {cell}/{environment} to {}", base.to.as_str()),
    };
    let mut message = format!("{title}\n\n");
    for (i, step) in steps.iter().enumerate() {
        message.push_str(&format!("{}. {step}\n", i + 1));
    }
    if let Some(reason) = reason {
        message.push_str(&format!("\nReason: {}\n", reason.trim()));
    }
    let lag = outcome.observed_lag_seconds.map_or("unknown".to_owned(), |l| format!("{l}s"));
    // The active side moves with the record (the one commit of --no-wait).
    let active = match point {
        Some(Point::Stage(_)) => base.from,
        _ => base.to,
    };
    message.push_str(&format!("\nIdp-Action: {action}\nIdp-Cell: {cell} {environment}\n"));
    if let Some(point) = point {
        message.push_str(&format!("Idp-Stage: {}\n", point.as_str()));
    }
    message.push_str(&format!(
        "Idp-Active-Side: {}\nIdp-Observed-Lag: {lag}\nIdp-RPO: {}s\nIdp-Forced: {}\n",
        active.as_str(),
        base.rpo_seconds,
        outcome.forced
    ));
    message
}

/// What keeps an app from moving with its data: each database it names
/// (or followed before apps named their data) must be placed, and the app
/// must sit on its sides, or a failover would move them apart.
fn broken_links(ctx: &Context, id: &str, link: &DataLink, record: &PlacementRecord) -> Result<Vec<String>, Error> {
    let how = if matches!(link, DataLink::Implicit { .. }) { " (followed without being named)" } else { "" };
    let mut broken = Vec::new();
    for (namespace, name) in link.databases() {
        let Some(data) = ctx.data_placement(namespace, name)? else {
            broken.push(format!(
                "{id} → {namespace}/{name}{how}: the database is not placed; apply it, or name another in the app's spec.database and re-apply the app"
            ));
            continue;
        };
        let database = format!("{} {namespace}/{name}", data.request_kind);
        let with = (&data.primary, data.secondary.as_ref());
        // Only the data the app follows moves with it (`spec.dependsOn`: the first).
        if !link.followed().contains(&(namespace, name)) {
            continue;
        }
        if let Some(why) = schedule::apart(&database, with, (&record.primary, record.secondary.as_ref())) {
            broken.push(format!(
                "{id} → {database}{how}: {why}; re-apply the app with --reschedule so it follows its database"
            ));
        }
    }
    Ok(broken)
}
