//! `idp apply`

use std::path::PathBuf;

use clap::Args;

use super::{Ending, Failure, GlobalArgs, Question, WriteArgs, confirm_write, plan::parse_kind, with_progress};
use crate::ops::apply::{ApplyOptions, apply};
use crate::ops::land::Proposed;
use crate::ops::live::{LiveOutcome, wait_ready};
use crate::ops::plan::{PlanOptions, PlanOutcome, Requests};
use crate::ops::resource::ResourceRef;
use crate::output::Printer;
use crate::request::Kind;

const EXAMPLES: &str = "\
Examples:
  idp apply -f examples/orders-db.yaml --repo ./state
  idp apply -f requests/ --yes -o json
  idp apply -f examples/orders-db.yaml --push --yes --wait --wait-timeout 20m
  idp apply --all --yes -m 'templates: new claim labels'";

/// `90s`, `15m`, `1h30m` (jiff's friendly format), or ISO 8601 (`PT15M`).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration: jiff::SignedDuration = text.parse().map_err(|e| format!("not a duration (e.g. 90s, 15m): {e}"))?;
    std::time::Duration::try_from(duration)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "a duration must be positive".to_owned())
}

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES, override_usage = "idp apply [OPTIONS] [KIND] --file <PATH>...\n       idp apply [OPTIONS] --all")]
pub struct ApplyArgs {
    /// The kind of the requests (required by the flat form): mysql
    #[arg(value_parser = parse_kind, conflicts_with = "all")]
    pub kind: Option<Kind>,

    /// Request file or directory, read with its subfolders (repeatable; `-` reads stdin)
    #[arg(short = 'f', long = "file", value_name = "PATH", required_unless_present = "all", conflicts_with = "all")]
    pub files: Vec<PathBuf>,

    /// Re-plan every request stored in the state repo (after a policy or template change), in one commit
    #[arg(long)]
    pub all: bool,

    /// Extra text for the commit message body
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub message: Option<String>,

    /// Move sticky placements that a changed request no longer fits
    #[arg(long)]
    pub reschedule: bool,

    /// After the commit (and push), wait until the management cluster reports every
    /// request of the change READY: Argo CD synced the commit, every claim Ready, every
    /// connection secret written (read-only, as `idp status --live`). Exits 1 when one
    /// FAILED, or on --wait-timeout, naming what is not ready and why
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits (`90s`, `15m`, `1h`)
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration, requires = "wait")]
    pub wait_timeout: std::time::Duration,

    /// The kubeconfig context of the management cluster for --wait (default: the
    /// policy's kubeContexts.management, else the current context)
    #[arg(long, value_name = "CONTEXT", requires = "wait")]
    pub context: Option<String>,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(args: ApplyArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let options = ApplyOptions {
        plan: PlanOptions {
            kind: args.kind,
            requests: if args.all { Requests::Stored } else { Requests::Files(args.files) },
            reschedule: args.reschedule,
            keep_rendered: false,
            explain: !printer.is_machine(),
        },
        message: args.message,
        land: args.write.land(),
    };
    let consent = args.write.consent();
    let mut confirm_plan = |plan: &PlanOutcome, proposed: &Proposed<'_>| {
        // Under -o json the plan is the result, not a note on stderr.
        let summary = (!printer.is_machine()).then(|| crate::output::Outcome::human(plan, &printer.err_style));
        let count = proposed.files.len();
        let prompt = format!("Commit {count} file change{} to the state repo?", if count == 1 { "" } else { "s" });
        confirm_write(consent, printer, summary.as_deref(), Question::YesNo(prompt), proposed)
    };
    let outcome = with_progress(printer, &mut ctx, |ctx, progress| apply(ctx, &options, &mut confirm_plan, progress))?;
    match outcome {
        Some(outcome) => {
            if outcome.commit.is_none() && outcome.results.is_empty() {
                printer.note("no changes: the state repo stores no request yet (requests/ is empty)");
            } else if outcome.commit.is_none() {
                printer.note("no changes: every request is already in the state repo as planned");
            }
            if let Some(landed) = &outcome.landed
                && args.write.push.branch.is_some()
            {
                printer.note(&format!("pushed branch {}: open a pull request from it", landed.branch));
            }
            super::plan::warn_rules(printer, &outcome.results);
            let mut outcome = outcome;
            if args.wait {
                // A context at the new commit: the requests' files as committed.
                let ctx = super::context(global)?;
                let targets: Vec<ResourceRef> = outcome
                    .results
                    .iter()
                    .map(|r| ResourceRef { kind: r.kind, namespace: r.namespace.clone(), name: r.name.clone() })
                    .collect();
                let cluster = super::status::management(&ctx, args.context);
                let mut progress = |requests: &[LiveOutcome]| {
                    for r in requests {
                        let state = r.state.map_or("UNKNOWN", |s| s.as_str());
                        printer.note(&format!("waiting: {} {}/{} {state}: {}", r.kind, r.namespace, r.name, r.why));
                    }
                };
                let report = wait_ready(&ctx, &targets, &cluster, args.wait_timeout, &mut progress)?;
                let not_ready = report.not_ready();
                let ended = report.ended;
                outcome.live = Some(report);
                printer.result(&outcome)?;
                return match ended {
                    None => Ok(Ending::Success),
                    Some(why) => {
                        let lead = match why {
                            "timeout" => format!("not ready after {}s", args.wait_timeout.as_secs()),
                            "failed" => "the change failed in the cluster".to_owned(),
                            _ => "the management cluster cannot be read".to_owned(),
                        };
                        Err(Failure::AfterResult(miette::miette!(
                            code = "idp::wait::not_ready",
                            help = "the commit stays (Git is the desired state): `idp status KIND NS/NAME --live` shows it again; fix the cause and re-apply, or `idp rollback`",
                            "{lead}:\n  {}",
                            not_ready.join("\n  ")
                        )))
                    }
                };
            }
            printer.result(&outcome)?;
            Ok(Ending::Success)
        }
        None => super::prompt::declined(printer),
    }
}
