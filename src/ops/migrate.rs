//! `idp migrate mysql NS/NAME --to PROVIDER/REGION`: move a database to a
//! new claim in another place with its data, never a moment where the data
//! exists nowhere. A claim cannot move (its XRD refuses a new provider or
//! region, and a replacement would be a new, empty database), so the move is
//! a new claim of the next generation (`orders-m1`) that replication fills
//! from the old one. Staged like a failover (`ops::runbook`), each stage one
//! commit that lands only once the management cluster reports the one
//! before it done:
//!
//! 1. `provision`: the new claim, fenced read-only, and a ReplicationClaim
//!    (`<name>-migration`) from the old claim to it; wait until both are Ready.
//! 2. `fence`: the old claim turns read-only; wait until the fence is
//!    observed. Then the lag gate: with writes stopped the lag only drains,
//!    and the cutover waits until it is within RPO.
//! 3. `cutover`: the new claim is the writer and the record's primary; the
//!    apps that use the database read its connection secret, the DR
//!    replication reads from it, and the migration's replication runs back to
//!    the old claim, which stays a current copy; wait until the new claim is
//!    writable and the apps have rolled out.
//!
//! The old claim stays until `idp migrate --finish` deletes it, with the
//! explicit word (`--allow-destroy`), after `--finish --unprotect` when the
//! policy protects it. The placement record keeps the migration
//! (`record::Migration`), so `--resume` goes on after an interruption, every
//! other command renders the database as the stage left it, and `idp
//! rollback` undoes a stage.
//!
//! What stays where it was: the apps' compute. They read the moved database
//! from their runtime clusters, apart from their data (as `verify` says),
//! until their requests are re-applied with `--reschedule`. Argo CD leaves
//! what an Application deployed on its old destination cluster when that
//! changes (argo-cd #9172), so idp does not move compute in a migration.

use std::time::Instant;

use serde::Serialize;

use super::failover::StageWaits;
use super::lag::LagSource;
use super::land::{Answer, Confirm, LandOptions, Landed, Landing, Proposal, Proposed, land};
use super::live::{Management, Origin, WaitEnd, WaitReport};
use super::objects::ObjectChange;
use super::plan::Change;
use super::resource::ResourceRef;
use super::runbook::{
    Desired, Overlay, Owners, StageOutcome, StageStatus, Stopped, Waiter, changes_of, gate, identity, lag_verdict, now,
    objects_of, short,
};
use super::{Context, Error};
use crate::cell::{CellState, Side};
use crate::layout;
use crate::policy::Replication;
use crate::record::{Migration, MigrationObservation, MigrationStage, PlacementRecord};
use crate::render::{RenderInput, RenderedFile};
use crate::request::{Kind, Request};
use crate::schedule::Target;

#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// The database (`mysql NS/NAME`).
    pub target: ResourceRef,
    /// `--to PROVIDER/REGION`: where a new migration goes. None when
    /// starting one (neither `resume` nor `finish`): `--reschedule`, the best
    /// place the policy in force has for the primary.
    pub to: Option<String>,
    /// Go on with the migration the placement record holds.
    pub resume: bool,
    /// End a migration that is cut over: delete the old claim.
    pub finish: bool,
    /// With `finish`: turn the old claim's deletion protection off first.
    pub unprotect: bool,
    pub lag: LagSource,
    pub force: bool,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub waits: StageWaits,
}

#[derive(Debug, Serialize)]
pub struct MigrateOutcome {
    /// `migrate`, `unprotect` (`--finish --unprotect`) or `finish`.
    pub action: &'static str,
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// Where the data was when the migration started, and its claim.
    pub from: Target,
    pub from_claim: String,
    /// Where it goes, and the new claim.
    pub to: Target,
    pub to_claim: String,
    /// How the data is copied: `goldengate-cdc` or `backup-restore`.
    pub replication: &'static str,
    pub rpo_seconds: u32,
    pub observed_lag_seconds: Option<f64>,
    pub forced: bool,
    pub dry_run: bool,
    /// Went on with a migration an earlier run left part way.
    pub resumed: bool,
    /// The apps that read the database's connection secret, which the
    /// cutover moves to the new claim's (`kind ns/name`).
    pub apps: Vec<String>,
    /// Each stage (and the lag gate): what it commits and what the cluster reported.
    pub stages: Vec<StageOutcome>,
    /// Every file the whole run changes.
    pub changes: Vec<Change>,
    /// What the whole run does to each Kubernetes object.
    pub objects: Vec<ObjectChange>,
    /// The last commit landed.
    pub commit: Option<String>,
    pub landed: Option<Landed>,
    /// Why the run stopped before its end (its commits stay).
    pub stopped: Option<Stopped>,
    pub elapsed_seconds: Option<u64>,
    /// The command that comes next, when one does.
    pub next: Option<String>,
}

pub fn migrate(
    ctx: &mut Context,
    options: &MigrateOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, MigrateOutcome>,
    progress: &dyn Fn(&str),
    say: &dyn Fn(&str),
) -> Result<Option<MigrateOutcome>, Error> {
    let base = Subject::survey(ctx, &options.target)?;
    let id = base.target.display();
    if options.finish {
        return finish(ctx, &base, options, land_options, confirm, progress);
    }
    let migration = match (&base.record.migration, options.resume) {
        (Some(m), true) if m.stage < MigrationStage::Cutover => m.clone(),
        (Some(m), true) => return Err(Error::NoMigration { request: id.clone(), help: m.next(&id) }),
        (Some(m), false) => {
            let (stage, next) = (m.stage.as_str().into(), m.next(&id));
            return Err(Error::MigrationInProgress { request: id, stage, next });
        }
        (None, true) => {
            return Err(Error::NoMigration {
                request: id.clone(),
                help: format!(
                    "--resume reads the migration from this clone: if it was started elsewhere, pull the state repo first (`git pull`); otherwise start one with `idp migrate {id} --to PROVIDER/REGION`"
                ),
            });
        }
        (None, false) => base.start(ctx, options)?,
    };
    base.check_cell()?;
    staged(ctx, &base, migration, options, land_options, confirm, progress, say)
}

/// The database, its cell and the apps that read it, at the base commit.
struct Subject {
    target: ResourceRef,
    request: Request,
    record: PlacementRecord,
    cell: CellState,
    /// The apps that use the database: their connection secrets move with it.
    apps: Vec<(ResourceRef, Request, PlacementRecord)>,
    rpo_seconds: u32,
}

impl Subject {
    fn survey(ctx: &Context, target: &ResourceRef) -> Result<Self, Error> {
        let not_found = || Error::NotFound { resource: target.display() };
        let record = target.record(ctx)?.ok_or_else(not_found)?;
        let request = ctx.stored_request(target.kind, &target.namespace, &target.name)?.ok_or_else(not_found)?;
        let cell = ctx.cell_state(&request.cell, &request.environment)?;
        let rpo_seconds = record.reason.rpo_seconds(&ctx.policy.policy);
        let apps = ctx
            .apps_using(&target.namespace, &target.name)?
            .into_iter()
            .map(|(app_request, app)| (ResourceRef::of(&app_request), app_request, app))
            .collect();
        Ok(Self { target: target.clone(), request, record, cell, apps, rpo_seconds })
    }

    /// A new migration to `options.to`, checked against the policy: a
    /// candidate of the cell passing the tier's gates, elsewhere than the
    /// primary, in another provider than the secondary, under names no
    /// other request holds.
    fn start(&self, ctx: &Context, options: &MigrateOptions) -> Result<Migration, Error> {
        let policy = &ctx.policy.policy;
        // The policy rules' refusals, by candidate, as plan asks them.
        let refused = super::rules::refusals(&super::rules::load(ctx)?, policy, &self.request)?;
        let here = self.record.primary.id();
        let standby = self.record.secondary.as_ref();
        let target = match options.to.as_deref() {
            Some(to) => {
                let refuse = |why: String| Error::MigrateTarget {
                    request: self.target.display(),
                    to: crate::names::printable(to),
                    why,
                };
                let (provider, region) =
                    to.split_once('/').ok_or_else(|| refuse("it is not PROVIDER/REGION".into()))?;
                let candidate = policy.candidate(provider, region).ok_or_else(|| {
                    let pool: Vec<String> = policy.candidates.iter().map(|c| c.id()).collect();
                    refuse(format!("it is not in the policy's candidate pool ({})", pool.join(", ")))
                })?;
                let target = Target::of(candidate, &self.request.environment);
                if let Some(why) = unfit(candidate, Some(&here), standby, &refused) {
                    return Err(refuse(why));
                }
                if let Some(why) = crate::schedule::unsatisfied(policy, &self.request.demand(), &target) {
                    return Err(refuse(why));
                }
                target
            }
            // --reschedule: the best place the policy in force has for the primary.
            None => {
                let refuse = |c: &crate::policy::Candidate| unfit(c, None, standby, &refused);
                let target = crate::schedule::best_primary(policy, &self.request.demand(), &refuse)
                    .map_err(|error| Error::Schedule { request: self.target.display(), error })?;
                if target.id() == here {
                    return Err(Error::MigrateTarget {
                        request: self.target.display(),
                        to: here,
                        why: "the policy in force places its primary where it is; `--to PROVIDER/REGION` moves it elsewhere".into(),
                    });
                }
                target
            }
        };
        let generation = self.record.generation + 1;
        let (namespace, name) = (&self.target.namespace, &self.target.name);
        for taken in [layout::claim_name(name, Side::Primary, generation), layout::migration_name(name)] {
            if let Some(holder) = ctx.data_placement(namespace, &taken)? {
                return Err(Error::MigrateTarget {
                    request: self.target.display(),
                    to: target.id(),
                    why: format!(
                        "the migration's claim would be named {taken}, and {} {namespace}/{taken} (placed before names ending so were reserved) holds that name",
                        holder.request_kind
                    ),
                });
            }
        }
        let profile = self.record.reason.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p));
        // CDC, unless the database's drProfile copies by backup and restore.
        let replication = profile.map_or(Replication::GoldengateCdc, |p| p.replication);
        // Both the migration's replication (old to new) and the DR one (new to
        // the secondary) must work between their providers, as the product says.
        let product = ctx.products.named(self.target.kind.cli_name());
        let limited = |tool: Replication, a: &str, b: &str| {
            let pairs = product.and_then(|p| p.replicated_by(tool)).and_then(|r| r.between())?;
            let allowed = crate::schedule::SecondaryPairs { tool: tool.as_str(), between: pairs }.allows(a, b);
            (!allowed).then(|| format!("{} does not replicate {a} to {b} for this product", tool.as_str()))
        };
        let dr = profile.map(|p| p.replication).zip(self.record.secondary.as_ref());
        let why = limited(replication, &self.record.primary.provider, &target.provider)
            .or_else(|| dr.and_then(|(tool, secondary)| limited(tool, &target.provider, &secondary.provider)));
        if let Some(why) = why {
            return Err(Error::MigrateTarget { request: self.target.display(), to: target.id(), why });
        }
        Ok(Migration {
            stage: MigrationStage::Provision,
            from: self.record.primary.clone(),
            from_generation: self.record.generation,
            to: target,
            to_generation: generation,
            replication,
            started_at: now(),
            by: identity(ctx),
            reason: options.reason.clone(),
            observed: Vec::new(),
            observed_lag_seconds: None,
            forced: options.force,
            unprotected: false,
        })
    }

    /// A migration runs only while the cell serves from its primary side, with
    /// no failover or failback part way: those move the same claims.
    fn check_cell(&self) -> Result<(), Error> {
        let cell = &self.cell;
        let busy = match &cell.runbook {
            Some(runbook) => Some(format!("a {} is part way (stage {})", runbook.action, runbook.stage.as_str())),
            None if cell.active_side != Side::Primary => Some("it is failed over to its secondary side".into()),
            None => None,
        };
        match busy {
            Some(why) => Err(Error::MigrateCell {
                request: self.target.display(),
                cell: cell.cell.clone(),
                environment: cell.environment.clone(),
                why,
            }),
            None => Ok(()),
        }
    }

    /// The database's record with `migration` at `stage`; None: finished.
    fn record_at(&self, migration: &Migration, stage: Option<MigrationStage>) -> PlacementRecord {
        let mut record = self.record.clone();
        let cut_over = stage.is_none_or(|s| s == MigrationStage::Cutover);
        if cut_over {
            record.primary = migration.to.clone();
            record.generation = migration.to_generation;
        }
        record.migration = stage.map(|stage| Migration { stage, ..migration.clone() });
        record
    }

    /// The files of the database and of the apps that read it, with the
    /// database's record as `record` says.
    fn desired(&self, ctx: &Context, record: &PlacementRecord) -> Result<Desired, Error> {
        let policy = &ctx.policy.policy;
        let renderer = ctx.renderer()?;
        let cell = &self.cell;
        let mut desired = Desired::default();
        let (request, target) = (&self.request, &self.target);
        let decision = record.decision();
        let data = crate::record::DataClaims::of_database(record);
        let input = RenderInput {
            request,
            decision: &decision,
            policy,
            active: cell.active_side,
            moving: cell.moving(),
            names: record.names(),
            unprotect: false,
            draining: cell.cold_standbys_draining,
            data: &data,
        };
        desired.add_request(ctx, target, &self.record, renderer.request_files(&input)?)?;
        let placement = layout::placement_path(target.kind, &target.namespace, &target.name);
        desired.add(RenderedFile::untemplated(placement, record.to_yaml()), Some(target));
        let mut member = record.member();
        member.monthly_usd = crate::cost::estimate(policy, request, &decision).map(|c| c.monthly_usd);
        let at = (&request.cell, &request.environment);
        let member_path = layout::member_path(at.0, at.1, target.kind, &target.namespace, &target.name);
        desired.add(RenderedFile::untemplated(member_path, member.to_yaml()), Some(target));
        let data = ctx.data_claims(request, &decision.reason, Some(record))?;
        let (entity_path, entity) = crate::catalog::entity(request, &decision, &data)?;
        desired.add(RenderedFile::untemplated(entity_path, entity), Some(target));

        for (app, app_request, app_record) in &self.apps {
            let app_decision = app_record.decision();
            let mut data = ctx.data_claims(app_request, &app_decision.reason, Some(app_record))?;
            data.insert(record);
            let app_cell = ctx.cell_state(&app_request.cell, &app_request.environment)?;
            let input = RenderInput {
                request: app_request,
                decision: &app_decision,
                policy,
                active: app_cell.active_side,
                moving: app_cell.moving(),
                names: app_record.names(),
                unprotect: false,
                draining: app_cell.cold_standbys_draining,
                data: &data,
            };
            for file in renderer.request_files(&input)? {
                desired.add(file, Some(app));
            }
        }
        Ok(desired)
    }

    fn id(&self) -> String {
        self.target.display()
    }
}

/// Why a candidate cannot take a database's primary by migration, if it
/// cannot: it is where the primary is (`here`), in its standby's provider,
/// cordoned, or refused by the policy rules (`refused`, by candidate).
fn unfit(
    candidate: &crate::policy::Candidate,
    here: Option<&str>,
    standby: Option<&Target>,
    refused: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    if let Some(here) = here.filter(|here| candidate.id() == *here) {
        return Some(format!("the database is there already ({here})"));
    }
    if let Some(standby) = standby.filter(|s| s.provider == candidate.provider) {
        return Some(format!(
            "its secondary is in {} ({}), and a database and its standby are never in one provider",
            standby.provider,
            standby.id()
        ));
    }
    if candidate.cordoned {
        return Some("it is cordoned: it takes no new placements (`idp policy uncordon`)".into());
    }
    refused.get(&candidate.id()).map(|why| format!("the policy rules refuse it: {why}"))
}

/// What one stage of a migration commits.
fn describe(base: &Subject, stage: MigrationStage, m: &Migration) -> String {
    let name = &base.target.name;
    let from = layout::claim_name(name, Side::Primary, m.from_generation);
    let to = layout::claim_name(name, Side::Primary, m.to_generation);
    let mut moving = Vec::new();
    if !base.apps.is_empty() {
        moving.push("the apps' connection secrets");
    }
    if base.record.secondary.is_some() {
        moving.push("the DR replication");
    }
    let moving = match moving.is_empty() {
        true => String::new(),
        false => format!(", {} move to it", moving.join(" and ")),
    };
    match stage {
        MigrationStage::Provision => format!(
            "provision {to} on {} read-only and replicate {from} into it ({}); wait until both are Ready",
            m.to.id(),
            m.replication.as_str()
        ),
        MigrationStage::Fence => {
            format!(
                "fence {from} on {} read-only: no writes anywhere until the cutover; wait for the fence",
                m.from.id()
            )
        }
        MigrationStage::Cutover => format!(
            "cut over: {to} takes writes and becomes the primary{moving}, and replication runs back to {from}; wait until it is writable{}",
            if base.apps.is_empty() { "" } else { " and the apps have rolled out" }
        ),
    }
}

impl Subject {
    fn outcome(&self, action: &'static str, m: &Migration, options: &MigrateOptions) -> MigrateOutcome {
        let name = &self.target.name;
        MigrateOutcome {
            action,
            kind: self.target.kind,
            namespace: self.target.namespace.clone(),
            name: name.clone(),
            from: m.from.clone(),
            from_claim: layout::claim_name(name, Side::Primary, m.from_generation),
            to: m.to.clone(),
            to_claim: layout::claim_name(name, Side::Primary, m.to_generation),
            replication: m.replication.as_str(),
            rpo_seconds: self.rpo_seconds,
            observed_lag_seconds: m.observed_lag_seconds,
            forced: options.force || m.forced,
            dry_run: options.dry_run,
            resumed: self.record.migration.is_some() && action == "migrate",
            apps: self.apps.iter().map(|(app, ..)| app.display()).collect(),
            stages: Vec::new(),
            changes: Vec::new(),
            objects: Vec::new(),
            commit: None,
            landed: None,
            stopped: None,
            elapsed_seconds: None,
            next: None,
        }
    }

    /// A migration commit's message: what it does, and the trailers `idp
    /// history` and `idp rollback` read (the database's, then each app's
    /// whose files it changes).
    fn message(&self, title: &str, what: &str, stage: &str, m: &Migration, apps: &[&ResourceRef]) -> String {
        let id = self.id();
        let mut message = format!("idp: {title} {id}\n\n{what}\n");
        if let Some(reason) = &m.reason {
            message.push_str(&format!("\nReason: {}\n", reason.trim()));
        }
        let cell = format!("Idp-Cell: {} {}\n", self.request.cell, self.request.environment);
        message.push_str(&format!("\nIdp-Action: migrate\nIdp-Request: {id}\n{cell}Idp-Stage: {stage}\n"));
        message.push_str(&format!("Idp-Placement: {} -> {}\nIdp-Forced: {}\n", m.from.id(), m.to.id(), m.forced));
        for app in apps {
            message.push_str(&format!("Idp-Action: update\nIdp-Request: {}\n", app.display()));
        }
        message
    }
}

/// The stages from the one after `committed`, planned, confirmed once, then
/// committed and waited on one by one.
#[allow(clippy::too_many_arguments)]
fn staged(
    ctx: &mut Context,
    base: &Subject,
    mut migration: Migration,
    options: &MigrateOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, MigrateOutcome>,
    progress: &dyn Fn(&str),
    say: &dyn Fn(&str),
) -> Result<Option<MigrateOutcome>, Error> {
    let id = base.id();
    let resumed_at = base.record.migration.as_ref().map(|m| m.stage);
    migration.forced |= options.force;
    let forced = migration.forced;
    let mut outcome = base.outcome("migrate", &migration, options);
    // Refused before anything is written: no lag source, or a reading given by
    // hand above RPO (it cannot drain). A query is read at the gate only: the
    // migration's replication it measures does not exist before provision.
    if !matches!(options.lag, LagSource::Prometheus { .. }) {
        let observed = lag_verdict(&options.lag, base.rpo_seconds, forced, true)?;
        outcome.observed_lag_seconds = observed.map(|(seconds, _)| seconds).or(outcome.observed_lag_seconds);
    }

    let stages: Vec<MigrationStage> =
        MigrationStage::ALL.into_iter().filter(|s| resumed_at.is_none_or(|done| *s > done)).collect();
    let mut overlay = Overlay { ctx, written: Default::default() };
    for &stage in &stages {
        if stage == MigrationStage::Cutover {
            outcome.stages.push(StageOutcome::gate(base.rpo_seconds, StageStatus::Planned));
        }
        let record = base.record_at(&migration, Some(stage));
        let files = base.desired(ctx, &record)?.against(&ctx.products, &|path| overlay.read(path))?;
        let mut planned = StageOutcome::new(stage.as_str(), describe(base, stage, &migration), StageStatus::Planned);
        planned.changes = changes_of(&|path| overlay.read(path), &files.files)?;
        planned.objects = objects_of(&ctx.products, &|path| overlay.read(path), &files.files)?;
        // A change upjet refuses would leave a composed resource Synced=False (the
        // DR replication's, when its GoldenGate Connection changes technologyType
        // with the provider: manifests/crossplane/force-new.yaml).
        if let Some((object, forces)) = super::plan::provider_replacements(&planned.objects) {
            return Err(Error::MigrateTarget {
                request: id.clone(),
                to: migration.to.id(),
                why: format!(
                    "its {} stage would change {object} in a way its provider can only replace (upjet refuses it, and the resource would stay Synced=False): {}",
                    stage.as_str(),
                    forces.join("; ")
                ),
            });
        }
        overlay.write(&files.files)?;
        outcome.stages.push(planned);
    }
    let whole = overlay.changes();
    outcome.changes = changes_of(&|path| ctx.read(path), &whole)?;
    outcome.objects = objects_of(&ctx.products, &|path| ctx.read(path), &whole)?;
    let finish = format!("idp migrate {id} --finish --allow-destroy");
    outcome.next = Some(match base.apps.is_empty() {
        true => format!("once its clients work on {}: {finish}", migration.to.id()),
        false => {
            let apps: Vec<String> = base.apps.iter().map(|(app, ..)| app.display()).collect();
            format!(
                "re-apply each app with --reschedule so it runs next to its data ({}); once they work: {finish}",
                apps.join(", ")
            )
        }
    });
    if options.dry_run {
        return Ok(Some(outcome));
    }

    // Every stage waits on the cluster: find out now, before anything is written.
    let cluster = Management::connect(ctx, options.waits.context.clone());
    let at = base.request.at();
    cluster.probe(&layout::cell_application_name(at)).map_err(|why| Error::MigrateCluster {
        request: id.clone(),
        cluster: cluster.described().to_owned(),
        why,
    })?;
    if confirm(&outcome, &Proposed { files: &whole.as_slice().into(), destroys: &[] })? == Answer::No {
        return Ok(None);
    }
    outcome.stages.clear();
    let started = Instant::now();
    let mut waiter = Waiter { at, origin: None, cluster: &cluster, timeout: options.waits.timeout, say };
    let finished = |outcome: &mut MigrateOutcome, entry, report, stage, m: &mut Migration| {
        record_wait(outcome, entry, report, stage, m, &cluster)
    };

    // A resumed migration first waits for the stage it had committed.
    if let Some(stage) = resumed_at {
        let state = ctx.state()?;
        let files = base.target.files(ctx, Some(&base.record))?;
        let commit = state.last_change(&files)?.map(|c| c.id).unwrap_or_default();
        let owners = owners_of(base, &state.changed_files(state.revparse(&commit)?)?);
        say(&format!("migrate {id}: stage {} was committed ({}); waiting for it", stage.as_str(), short(&commit)));
        let mut entry = StageOutcome::new(stage.as_str(), describe(base, stage, &migration), StageStatus::Done);
        entry.commit = Some(commit.clone());
        let report = waiter.wait(ctx, &owners, &commit)?;
        if !finished(&mut outcome, entry, report, stage, &mut migration) {
            return Ok(Some(outcome));
        }
    }

    // The stage the record must still hold when the next one lands: another
    // migration, a rollback or a delete in between is not overwritten.
    let mut committed = resumed_at;
    for &stage in &stages {
        if stage == MigrationStage::Cutover {
            match gate(&options.lag, base.rpo_seconds, forced, options.waits.timeout, say) {
                Ok(observed) => {
                    outcome.observed_lag_seconds = observed.as_ref().map(|(lag, _)| *lag);
                    migration.observed_lag_seconds = outcome.observed_lag_seconds;
                    outcome.stages.push(StageOutcome::gate(base.rpo_seconds, StageStatus::Done));
                }
                Err(why) => {
                    outcome.stages.push(StageOutcome::gate(base.rpo_seconds, StageStatus::NotDone));
                    let ended = Some(WaitEnd::Timeout);
                    outcome.stopped = Some(Stopped { stage: "lag", ended, reasons: vec![why] });
                    return Ok(Some(outcome));
                }
            }
        }
        let landing = land(ctx, land_options, &mut |_, _| Ok(Answer::Yes), progress, |ctx| {
            let now = Subject::survey(ctx, &base.target)?;
            let found = now.record.migration.as_ref().map(|m| m.stage);
            if found != committed {
                let said = |stage: Option<MigrationStage>| {
                    stage.map_or("no migration".to_owned(), |s| format!("stage {}", s.as_str()))
                };
                return Err(Error::MigrationChanged {
                    request: id.clone(),
                    expected: said(committed),
                    found: said(found),
                });
            }
            now.check_cell()?;
            let record = now.record_at(&migration, Some(stage));
            let files = now.desired(ctx, &record)?.against(&ctx.products, &|path| ctx.read(path))?;
            let what = describe(&now, stage, &migration);
            let mut entry = StageOutcome::new(stage.as_str(), what.clone(), StageStatus::Done);
            entry.changes = changes_of(&|path| ctx.read(path), &files.files)?;
            entry.objects = objects_of(&ctx.products, &|path| ctx.read(path), &files.files)?;
            let apps: Vec<&ResourceRef> = files.owners.keys().filter(|o| o.kind.is_app()).collect();
            let message = now.message("migrate", &what, stage.as_str(), &migration, &apps);
            Ok(Proposal::commit((entry, files.owners), files.files, message))
        })?;
        let (mut entry, owners, landed) = match landing {
            Landing::Landed((entry, owners), landed) => (entry, owners, landed),
            Landing::Unchanged(_) | Landing::Declined => return Ok(Some(outcome)),
        };
        let commit = landed.commit.clone();
        say(&format!("migrate {id}: stage {} committed ({})", stage.as_str(), short(&commit)));
        committed = Some(stage);
        entry.commit = Some(commit.clone());
        outcome.commit = Some(commit.clone());
        waiter.origin = Origin::of(land_options.push.as_ref(), Some(&landed));
        outcome.landed = Some(landed);
        let id = ctx.state()?.revparse(&commit)?;
        ctx.rebase(Some(id))?;
        let owners = with_applications(base, owners);
        let report = waiter.wait(ctx, &owners, &commit)?;
        if !finished(&mut outcome, entry, report, stage, &mut migration) {
            return Ok(Some(outcome));
        }
    }
    outcome.elapsed_seconds = Some(started.elapsed().as_secs());
    Ok(Some(outcome))
}

/// Records a stage's wait in the outcome, and what the cluster reported in
/// the migration (written with the next stage); false when it stopped the run.
fn record_wait(
    outcome: &mut MigrateOutcome,
    mut entry: StageOutcome,
    report: Option<WaitReport>,
    stage: MigrationStage,
    migration: &mut Migration,
    cluster: &Management,
) -> bool {
    outcome.stopped = entry.settle(report);
    let done = outcome.stopped.is_none();
    if done {
        migration.observed.push(MigrationObservation { stage, at: now(), cluster: cluster.described().to_owned() });
    }
    outcome.stages.push(entry);
    done
}

/// The files a commit changed, by the request that owns each: what a
/// resumed migration waits for first.
fn owners_of(base: &Subject, changed: &[crate::state::PathChange]) -> Owners {
    super::runbook::owners(std::iter::once(&base.target).chain(base.apps.iter().map(|(app, ..)| app)), changed)
}

/// An app's changed files are its workload and its PushSecrets, which say
/// nothing of a rollout: the wait reads its Applications too (synced,
/// Healthy, and the Deployment rolled out where a runtime context is mapped).
fn with_applications(base: &Subject, mut owners: Owners) -> Owners {
    for (app, request, record) in &base.apps {
        if let Some(files) = owners.get_mut(app) {
            let sides = std::iter::once(Side::Primary).chain(record.secondary.as_ref().map(|_| Side::Secondary));
            files.extend(
                sides.map(|side| layout::application_path(app.kind, request.at(), &app.namespace, &app.name, side)),
            );
            files.sort();
            files.dedup();
        }
    }
    owners
}

/// `--finish`: once cut over, delete the old claim and the migration's
/// replication (the explicit word required), or with `--unprotect` first
/// turn the old claim's deletion protection off in a commit of its own.
fn finish(
    ctx: &mut Context,
    base: &Subject,
    options: &MigrateOptions,
    land_options: &LandOptions,
    confirm: Confirm<'_, MigrateOutcome>,
    progress: &dyn Fn(&str),
) -> Result<Option<MigrateOutcome>, Error> {
    let id = base.id();
    let migration = match &base.record.migration {
        Some(m) if m.stage == MigrationStage::Cutover => m.clone(),
        Some(m) => {
            return Err(Error::NoMigration {
                request: id.clone(),
                help: format!(
                    "its migration to {} is at stage {}, not cut over: `idp migrate {id} --resume` goes on, `idp rollback` undoes the last stage",
                    m.to.id(),
                    m.stage.as_str()
                ),
            });
        }
        None => {
            return Err(Error::NoMigration {
                request: id.clone(),
                help: format!("start one with `idp migrate {id} --to PROVIDER/REGION`"),
            });
        }
    };
    let action = if options.unprotect { "unprotect" } else { "finish" };
    let old_claim = layout::claim_name(&base.target.name, Side::Primary, migration.from_generation);
    let what = match options.unprotect {
        true => format!("turn deletion protection off for the old claim {old_claim}, and nothing else"),
        false => {
            format!("delete the old claim {old_claim} and the migration's replication: the data stays in the new claim")
        }
    };
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let now = Subject::survey(ctx, &base.target)?;
        if now.record.migration.as_ref() != Some(&migration) {
            let found =
                now.record.migration.as_ref().map_or("no migration".into(), |m| format!("stage {}", m.stage.as_str()));
            return Err(Error::MigrationChanged { request: id.clone(), expected: "stage cutover".into(), found });
        }
        let old_file = layout::claim_path(
            now.target.kind,
            now.request.at(),
            &now.target.namespace,
            &now.target.name,
            Side::Primary,
            migration.from_generation,
        );
        let protected = ctx.read(&old_file)?.is_some_and(|text| {
            !super::destroy::protected_claims(&ctx.products, &String::from_utf8_lossy(&text)).is_empty()
        });
        let record = match options.unprotect {
            true if !protected => {
                let mut outcome = now.outcome(action, &migration, options);
                outcome.next =
                    Some(format!("{old_claim} is not deletion-protected: idp migrate {id} --finish --allow-destroy"));
                return Ok(Proposal::unchanged(outcome));
            }
            true => {
                let mut record = now.record.clone();
                record.migration = Some(Migration { unprotected: true, ..migration.clone() });
                record
            }
            false => now.record_at(&migration, None),
        };
        let files = now.desired(ctx, &record)?.against(&ctx.products, &|path| ctx.read(path))?;
        let mut outcome = now.outcome(action, &migration, options);
        outcome.changes = changes_of(&|path| ctx.read(path), &files.files)?;
        outcome.objects = objects_of(&ctx.products, &|path| ctx.read(path), &files.files)?;
        outcome.next = options.unprotect.then(|| {
            format!("once Argo CD has synced it and the cloud has turned protection off: idp migrate {id} --finish --allow-destroy")
        });
        if files.files.is_empty() || options.dry_run {
            return Ok(Proposal::unchanged(outcome));
        }
        let reason = options.reason.clone().or(migration.reason.clone());
        let mut message =
            now.message(&format!("migrate ({action})"), &what, action, &Migration { reason, ..migration.clone() }, &[]);
        if options.unprotect {
            let trailer = super::delete::UNPROTECT_TRAILER;
            let product = ctx.products.named(now.target.kind.cli_name());
            let claim = product.and_then(|p| p.claim.as_ref()).map_or("claim", |c| c.kind.as_str());
            message.push_str(&format!("{trailer}: {claim} {}/{old_claim}\n", now.target.namespace));
        }
        Ok(Proposal::commit(outcome, files.files, message))
    });
    let landing = landing.map_err(|error| match error {
        Error::DestroyProtected { objects, .. } => Error::MigrationProtected { request: id.clone(), objects },
        error => error,
    })?;
    Ok(landing.into_value(|outcome, landed| {
        outcome.commit = Some(landed.commit.clone());
        outcome.landed = Some(landed);
    }))
}
