//! `idp migrate`: move a database to another place with its data.

use clap::{ArgGroup, Args};
use clap_complete::ArgValueCandidates;

use super::failover::LagArgs;
use super::{Ending, Failure, GlobalArgs, KindArg, Question, WriteArgs, confirm_write, parse_kind, with_progress};
use crate::ops::failover::StageWaits;
use crate::ops::land::Proposed;
use crate::ops::migrate::{MigrateOptions, MigrateOutcome, migrate};
use crate::output::{Outcome, Printer};

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("step").required(true).args(["to", "reschedule", "resume", "finish"])),
    after_help = "Examples:\n  idp migrate mysql team-alpha/orders-db --to gcp/us-central1 --lag-url http://prometheus:9090 --dry-run\n  idp migrate mysql team-alpha/orders-db --to gcp/us-central1 --lag-url http://prometheus:9090 --push\n\nOnce the apps work on the new claim, the old one goes in its own commit (two, when protected):\n  idp migrate mysql team-alpha/orders-db --finish --unprotect --yes\n  (wait until Argo CD has synced it)\n  idp migrate mysql team-alpha/orders-db --finish --allow-destroy --yes"
)]
pub struct MigrateArgs {
    /// The kind: a database product (mysql)
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: KindArg,
    /// NAMESPACE/NAME (namespace `default` when omitted)
    #[arg(add = ArgValueCandidates::new(super::complete::placed))]
    pub target: String,
    /// Where to move the database: a candidate of the policy (PROVIDER/REGION)
    #[arg(long, value_name = "PROVIDER/REGION", add = ArgValueCandidates::new(super::complete::pool))]
    pub to: Option<String>,
    /// Where the policy in force places the primary now (after a cordon, a new
    /// candidate, new weights), keeping its secondary; instead of --to
    #[arg(long)]
    pub reschedule: bool,
    /// Go on with the migration the placement record holds as part way
    #[arg(long)]
    pub resume: bool,
    /// Once cut over: delete the old claim and the migration's replication (needs --allow-destroy)
    #[arg(long)]
    pub finish: bool,
    /// With --finish: turn the old claim's deletion protection off, in a commit of its own
    #[arg(long, requires = "finish", conflicts_with = "allow_destroy")]
    pub unprotect: bool,
    #[command(flatten)]
    pub lag: LagArgs,
    /// Proceed without a lag reading or above RPO; recorded in the commit
    #[arg(long)]
    pub force: bool,
    /// Why: recorded in the placement record and the commits
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Show the stages and the changes; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// How long each stage waits for the cluster to report it done (`90s`, `15m`)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = super::wait::parse_duration)]
    pub wait_timeout: std::time::Duration,
    /// The kubeconfig context of the management cluster (default: the policy's
    /// kubeContexts.management, else the current context)
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// The default lag query: the lag of the migration's replication.
const DEFAULT_LAG_QUERY: &str =
    r#"max(idp_replication_lag_seconds{namespace="$namespace",replication="$replication"})"#;

pub fn run(args: MigrateArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let kind = args.kind.resolve(&ctx)?;
    if !kind.is_data() {
        return Err(Failure::Error(miette::miette!(
            code = "idp::migrate::kind",
            help = "an app follows its database: once the database has moved, re-apply the app's request with --reschedule (`idp apply -f FILE --reschedule`)",
            "`idp migrate` moves databases (mysql), not {kind}",
        )));
    }
    if ctx.products.named(kind.cli_name()).is_some_and(|p| p.replication.is_empty()) {
        return Err(Failure::Error(miette::miette!(
            code = "idp::migrate::kind",
            help = "a migration fills the new claim by replication; its product definition lists none (`idp products {kind}`)",
            "`idp migrate` cannot move {kind}: it has no replication between clouds",
        )));
    }
    let target = super::status::resource(kind, &args.target)?;
    // Argo CD syncs the branch it tracks: a stage pushed to a pull-request
    // branch would wait for ever. `--finish` does not wait.
    if let (false, Some(branch)) = (args.finish, &args.write.push.branch) {
        return Err(Failure::Error(miette::miette!(
            code = "idp::migrate::branch",
            help = "a migration lands each stage on the branch Argo CD tracks; review it with --dry-run",
            "--branch {branch}: a migration waits for Argo CD to sync each stage, which it does only on its own branch"
        )));
    }
    let replication = crate::layout::migration_name(&target.name);
    // The request's cell and environment, for a query that names them.
    let placed = ctx.stored_request(target.kind, &target.namespace, &target.name).ok().flatten();
    let (cell, environment) = placed.map(|r| (r.cell, r.environment)).unwrap_or_default();
    let variables = [
        ("$namespace", target.namespace.as_str()),
        ("$replication", replication.as_str()),
        ("$cell", cell.as_str()),
        ("$environment", environment.as_str()),
    ];
    let lag = args.lag.source(DEFAULT_LAG_QUERY, &variables);
    let options = MigrateOptions {
        target: target.clone(),
        to: args.to.clone(),
        resume: args.resume,
        finish: args.finish,
        unprotect: args.unprotect,
        lag,
        force: args.force,
        reason: args.reason.clone(),
        dry_run: args.dry_run,
        waits: StageWaits { timeout: args.wait_timeout, context: args.context.clone() },
    };
    let consent = args.write.consent();
    let id = format!("{}/{}", target.namespace, target.name);
    let mut ask = |plan: &MigrateOutcome, proposed: &Proposed<'_>| {
        let prompt = match plan.action {
            "migrate" => format!("Type {id} to migrate it to {}", plan.to.id()),
            "unprotect" => format!("Type {id} to turn its old claim's deletion protection off"),
            _ => format!("Type {id} to delete its old claim {}", plan.from_claim),
        };
        let question = Question::Typed { prompt, expected: &id };
        confirm_write(consent, printer, Some(&plan.human(&printer.err_style)), question, proposed)
    };
    let land = args.write.land();
    let say = |line: &str| super::prompt::note_beside_progress(printer, line);
    let outcome =
        with_progress(printer, &mut ctx, |ctx, progress| migrate(ctx, &options, &land, &mut ask, progress, &say))?;
    let Some(outcome) = outcome else { return super::prompt::declined(printer) };
    printer.result(&outcome)?;
    match &outcome.stopped {
        None => Ok(Ending::Success),
        Some(stopped) => Err(Failure::AfterResult(miette::miette!(
            code = "idp::migrate::stage_not_done",
            help = format!(
                "the stage's commit stays: fix the cause, then `idp migrate {} {id} --resume` goes on from there (it waits for this stage again); `idp status {} {id} --live` shows the cluster; `idp rollback` undoes the last stage",
                outcome.kind, outcome.kind
            ),
            "the migration of {} {id} stopped at its {} stage{}:\n  {}",
            outcome.kind,
            stopped.stage,
            super::failover::ended(stopped.ended),
            stopped.reasons.join("\n  ")
        ))),
    }
}
