//! `idp failover` and `idp failback`: the cell runbook.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Consent, Ending, Failure, GlobalArgs, PushArgs, Question, confirm_write, with_progress};
use crate::cell::Side;
use crate::ops::failover::{FailoverOptions, FailoverOutcome, StageWaits, failover};
use crate::ops::lag::LagSource;
use crate::ops::land::{LandOptions, Proposed};
use crate::output::{Outcome, Printer};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp failover --cell payments --env prod --lag-url http://prometheus:9090 --reason 'us-east-1 degraded' --push\n  idp failover --cell payments --env prod --lag-url http://prometheus:9090 --dry-run\n  idp failover --cell payments --env prod --resume --lag-url http://prometheus:9090 --push --yes\n  idp failover --cell payments --env prod --no-wait --replication-lag 4 --reason 'us-east-1 unreachable' --push"
)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub run: RunbookArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp failback --cell payments --env prod --lag-url http://prometheus:9090 --push\n  idp failback --cell payments --env prod --replication-lag 2 --dry-run\n  idp failback --cell payments --env prod --resume --replication-lag 2 --push --yes"
)]
pub struct FailbackArgs {
    #[command(flatten)]
    pub run: RunbookArgs,
}

// Where a runbook reads the replication lag from (a plain comment: a doc comment
// here would become the summary of the commands that flatten it).
#[derive(Debug, Args)]
pub struct LagArgs {
    /// Observed replication lag in seconds (your reading)
    #[arg(long, value_name = "SECONDS", conflicts_with = "lag_url", value_parser = parse_lag)]
    pub replication_lag: Option<f64>,
    /// A Prometheus-compatible API to read the lag from (instant query)
    #[arg(long, value_name = "URL")]
    pub lag_url: Option<String>,
    /// The query to send to --lag-url ($cell and $environment are substituted; for a migration, $namespace and $replication too)
    #[arg(long, value_name = "PROMQL", requires = "lag_url")]
    pub lag_query: Option<String>,
}

impl LagArgs {
    /// The source, with `default_query` for --lag-url without --lag-query and
    /// each `($variable, value)` substituted.
    pub fn source(&self, default_query: &str, variables: &[(&str, &str)]) -> LagSource {
        match (self.replication_lag, &self.lag_url) {
            (Some(seconds), _) => LagSource::Reading(seconds),
            (None, Some(url)) => {
                let query = self.lag_query.as_deref().unwrap_or(default_query);
                let query = variables.iter().fold(query.to_owned(), |q, (name, value)| q.replace(name, value));
                LagSource::Prometheus { url: url.clone(), query }
            }
            (None, None) => LagSource::Unknown,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// The cell to move
    #[arg(long, value_name = "CELL", add = ArgValueCandidates::new(super::complete::cells))]
    pub cell: String,
    /// Its environment (aliases such as prod work)
    #[arg(long = "env", value_name = "ENV", add = ArgValueCandidates::new(super::complete::environments))]
    pub environment: String,
    #[command(flatten)]
    pub lag: LagArgs,
    /// Proceed without a lag reading or above RPO; recorded in the commit
    #[arg(long)]
    pub force: bool,
    /// Why: recorded in the cell's state file and the commit
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Show the runbook, its stages and the changes; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Go on with the failover or failback the cell's file records as part way
    /// (after an interruption, a timeout or a fix)
    #[arg(long)]
    pub resume: bool,
    /// Commit the whole runbook at once without waiting on the cluster: for a
    /// disaster in which the management cluster or the old side cannot be
    /// reached. Nothing is verified, and idp says what
    #[arg(long, conflicts_with_all = ["wait_timeout", "context"])]
    pub no_wait: bool,
    /// How long each stage waits for the cluster to report it done (`90s`, `15m`)
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = super::wait::parse_duration)]
    pub wait_timeout: std::time::Duration,
    /// The kubeconfig context of the management cluster (default: the policy's
    /// kubeContexts.management, else the current context)
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// Do not ask for the cell name (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub push: PushArgs,
}

/// The default lag query: the worst GoldenGate lag of the cell.
const DEFAULT_LAG_QUERY: &str = r#"max(idp_replication_lag_seconds{cell="$cell",environment="$environment"})"#;

pub fn run(args: RunbookArgs, to: Side, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    // The query names the environment as the cell's files do, not as typed.
    let environment = ctx.policy.policy.resolve_environment(&args.environment).unwrap_or(&args.environment).to_owned();
    let lag = args.lag.source(DEFAULT_LAG_QUERY, &[("$cell", &args.cell), ("$environment", &environment)]);
    let options = FailoverOptions {
        cell: args.cell.clone(),
        environment: args.environment.clone(),
        to,
        lag,
        force: args.force,
        reason: args.reason.clone(),
        dry_run: args.dry_run,
        wait: (!args.no_wait).then(|| StageWaits { timeout: args.wait_timeout, context: args.context.clone() }),
        resume: args.resume,
    };
    // Argo CD syncs the branch it tracks: a stage pushed to a pull-request
    // branch would wait for ever.
    if let (false, Some(branch)) = (args.no_wait, &args.push.branch) {
        return Err(Failure::Error(miette::miette!(
            code = "idp::failover::branch",
            help = "a staged runbook lands each stage on the branch Argo CD tracks; review it with --dry-run, or commit it at once to a branch with --no-wait",
            "--branch {branch}: a staged {} waits for Argo CD to sync each stage, which it does only on its own branch",
            if to == Side::Secondary { "failover" } else { "failback" }
        )));
    }
    let consent = Consent { yes: args.yes, allow_destroy: false };
    let mut ask = |plan: &FailoverOutcome, proposed: &Proposed<'_>| {
        let what = match plan.action {
            "failover" => "fail it over",
            "failback" => "fail it back",
            _ => "finish its failback",
        };
        let prompt = format!("Type the cell name ({}) to {what}", args.cell);
        let question = Question::Typed { prompt, expected: &args.cell };
        confirm_write(consent, printer, Some(&plan.human(&printer.err_style)), question, proposed)
    };
    // A failover moves roles; it destroys no claim (land would refuse one).
    let land = LandOptions { push: args.push.options(), allow_destroy: false };
    let say = |line: &str| super::prompt::note_beside_progress(printer, line);
    let outcome =
        with_progress(printer, &mut ctx, |ctx, progress| failover(ctx, &options, &land, &mut ask, progress, &say))?;
    let Some(outcome) = outcome else { return super::prompt::declined(printer) };
    for unchecked in &outcome.unverified {
        printer.warn(&format!("--no-wait: not verified: {unchecked}"));
    }
    printer.result(&outcome)?;
    match &outcome.stopped {
        None => Ok(Ending::Success),
        Some(stopped) => Err(Failure::AfterResult(miette::miette!(
            code = "idp::failover::stage_not_done",
            help = format!(
                "the stage's commit stays: fix the cause, then `idp {} --cell {} --env {} --resume` goes on from there (it waits for this stage again); `idp status cell {} {} --live` shows the cluster; `idp rollback` undoes the last stage",
                outcome.action, outcome.cell, outcome.environment, outcome.cell, outcome.environment
            ),
            "{} stopped at its {} stage{}:\n  {}",
            outcome.action,
            stopped.stage,
            ended(stopped.ended),
            stopped.reasons.join("\n  ")
        ))),
    }
}

/// Why a stage's wait ended, said after the stage's name.
pub(super) fn ended(ended: Option<crate::ops::live::WaitEnd>) -> &'static str {
    match ended {
        Some(crate::ops::live::WaitEnd::Timeout) => " (timed out)",
        Some(crate::ops::live::WaitEnd::Failed) => " (failed in the cluster)",
        Some(crate::ops::live::WaitEnd::Unreadable) => " (the cluster cannot be read)",
        None => "",
    }
}

/// A lag reading is a finite, non-negative number of seconds.
fn parse_lag(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(lag) if lag.is_finite() && lag >= 0.0 => Ok(lag),
        _ => Err(format!("`{s}` is not a number of seconds (a finite number, 0 or more)")),
    }
}
