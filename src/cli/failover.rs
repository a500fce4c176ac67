//! `idp failover` and `idp failback`: the cell runbook.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Consent, Ending, Failure, GlobalArgs, PushArgs, Question, confirm_write, print_written, with_progress};
use crate::cell::Side;
use crate::ops::failover::{FailoverOptions, FailoverOutcome, failover};
use crate::ops::lag::LagSource;
use crate::ops::land::{LandOptions, Proposed};
use crate::output::{Outcome, Printer};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp failover --cell payments --env prod --replication-lag 4 --reason 'us-east-1 outage'\n  idp failover --cell payments --env prod --lag-url http://prometheus:9090 --yes --push\n  idp failover --cell payments --env prod --lag-url http://prometheus:9090 --dry-run"
)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub run: RunbookArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp failback --cell payments --env prod --replication-lag 2\n  idp failback --cell payments --env prod --replication-lag 2 --dry-run"
)]
pub struct FailbackArgs {
    #[command(flatten)]
    pub run: RunbookArgs,
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// The cell to move
    #[arg(long, value_name = "CELL", add = ArgValueCandidates::new(super::complete::cells))]
    pub cell: String,
    /// Its environment (aliases such as prod work)
    #[arg(long = "env", value_name = "ENV", add = ArgValueCandidates::new(super::complete::environments))]
    pub environment: String,
    /// Observed replication lag in seconds (your reading)
    #[arg(long, value_name = "SECONDS", conflicts_with = "lag_url", value_parser = parse_lag)]
    pub replication_lag: Option<f64>,
    /// A Prometheus-compatible API to read the lag from (instant query)
    #[arg(long, value_name = "URL")]
    pub lag_url: Option<String>,
    /// The query to send to --lag-url ($cell and $environment are substituted)
    #[arg(long, value_name = "PROMQL", requires = "lag_url")]
    pub lag_query: Option<String>,
    /// Proceed without a lag reading or above RPO; recorded in the commit
    #[arg(long)]
    pub force: bool,
    /// Why: recorded in the cell's state file and the commit
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Show the runbook and the changes; write nothing
    #[arg(long)]
    pub dry_run: bool,
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
    let lag = match (args.replication_lag, &args.lag_url) {
        (Some(seconds), _) => LagSource::Reading(seconds),
        (None, Some(url)) => {
            let query = args.lag_query.clone().unwrap_or_else(|| DEFAULT_LAG_QUERY.to_owned());
            let query = query.replace("$cell", &args.cell).replace("$environment", &environment);
            LagSource::Prometheus { url: url.clone(), query }
        }
        (None, None) => LagSource::Unknown,
    };
    let options = FailoverOptions {
        cell: args.cell.clone(),
        environment: args.environment.clone(),
        to,
        lag,
        force: args.force,
        reason: args.reason.clone(),
        dry_run: args.dry_run,
    };
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
    let outcome = with_progress(printer, &mut ctx, |ctx, progress| failover(ctx, &options, &land, &mut ask, progress))?;
    print_written(printer, outcome)
}

/// A lag reading is a finite, non-negative number of seconds.
fn parse_lag(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(lag) if lag.is_finite() && lag >= 0.0 => Ok(lag),
        _ => Err(format!("`{s}` is not a number of seconds (a finite number, 0 or more)")),
    }
}
