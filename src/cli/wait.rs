//! `--wait` of `idp apply` and `idp delete`: after the commit (and push), wait
//! until the management cluster reports the change done (read-only, as
//! `idp status --live` reads it).

use clap::Args;

use super::{Ending, Failure};
use crate::live::lifecycle::Lifecycle;
use crate::ops::live::{LiveOutcome, Management, WaitEnd, WaitReport, wait_for};
use crate::ops::{Context, Error};
use crate::output::Printer;

// The wait flags (a plain comment: a doc comment here would become the
// commands' summary).
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// After the commit (and push), wait until the management cluster reports the
    /// change done: every request READY after an apply (Argo CD synced the commit,
    /// every claim Ready, every connection secret written), GONE after a delete.
    /// Read-only, as `idp status --live`. Exits 1 when one FAILED, or on
    /// --wait-timeout, naming what is not done and why
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits (`90s`, `15m`, `1h`)
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration, requires = "wait")]
    pub wait_timeout: std::time::Duration,

    /// The kubeconfig context of the management cluster for --wait (default: the
    /// policy's kubeContexts.management, else the current context)
    #[arg(long, value_name = "CONTEXT", requires = "wait")]
    pub context: Option<String>,
}

/// `90s`, `15m`, `1h30m` (jiff's friendly format), or ISO 8601 (`PT15M`).
pub(super) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration: jiff::SignedDuration = text.parse().map_err(|e| format!("not a duration (e.g. 90s, 15m): {e}"))?;
    std::time::Duration::try_from(duration)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "a duration must be positive".to_owned())
}

impl WaitArgs {
    /// Waits until `read` reports every request in `goal`, with progress on stderr.
    pub(super) fn wait(
        &self,
        printer: &Printer,
        ctx: &Context,
        goal: Lifecycle,
        read: &dyn Fn(&Management) -> Result<Vec<LiveOutcome>, Error>,
    ) -> Result<WaitReport, Failure> {
        let cluster = Management::connect(ctx, self.context.clone());
        let mut progress = |requests: &[LiveOutcome]| {
            for request in requests {
                printer.note(&request.progress_line());
            }
        };
        Ok(wait_for(goal, &|| read(&cluster), &cluster, self.wait_timeout, &mut progress)?)
    }

    /// Success when the wait reached `goal`; else the error, on stderr only
    /// (the result, printed before, is the one document on stdout).
    pub(super) fn ending(&self, report: &WaitReport, goal: Lifecycle) -> Result<Ending, Failure> {
        let Some(why) = report.ended else { return Ok(Ending::Success) };
        let lead = match why {
            WaitEnd::Timeout => format!("not {} after {}s", goal.as_str().to_lowercase(), self.wait_timeout.as_secs()),
            WaitEnd::Failed => "the change failed in the cluster".to_owned(),
            WaitEnd::Unreadable => "the management cluster cannot be read".to_owned(),
        };
        Err(Failure::AfterResult(miette::miette!(
            code = "idp::wait::not_ready",
            help = "the commit stays (Git is the desired state): `idp status KIND NS/NAME --live` shows the cluster catching up; fix the cause and re-apply, or `idp rollback`",
            "{lead}:\n  {}",
            report.not_there(goal).join("\n  ")
        )))
    }
}
