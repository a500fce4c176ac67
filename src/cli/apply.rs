//! `idp apply`

use std::path::PathBuf;

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, KindArg, Question, WriteArgs, confirm_write, parse_kind, with_progress};
use crate::live::lifecycle::Lifecycle;
use crate::ops::apply::{ApplyOptions, apply};
use crate::ops::land::Proposed;
use crate::ops::live::{Management, Origin, Tracked};
use crate::ops::plan::{PlanOptions, PlanOutcome, Requests};
use crate::ops::resource::ResourceRef;
use crate::output::Printer;

const EXAMPLES: &str = "\
Examples:
  idp apply -f examples/orders-db.yaml --repo ./state
  idp apply -f requests/ --yes -o json
  idp apply -f examples/orders-db.yaml --push --yes --wait --wait-timeout 20m
  idp apply --all --yes -m 'templates: new claim labels'";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES, override_usage = "idp apply [OPTIONS] [KIND] --file <PATH>...\n       idp apply [OPTIONS] --all")]
pub struct ApplyArgs {
    /// The kind of the requests, required by the flat form: mysql, postgres, redis, app (`idp products`)
    #[arg(value_parser = parse_kind, conflicts_with = "all", add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: Option<KindArg>,

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

    #[command(flatten)]
    pub wait: super::wait::WaitArgs,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(args: ApplyArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let options = ApplyOptions {
        plan: PlanOptions {
            kind: KindArg::resolve_opt(args.kind.as_ref(), &ctx)?,
            requests: if args.all { Requests::Stored } else { Requests::Files(args.files) },
            reschedule: args.reschedule,
            keep_rendered: false,
            explain: !printer.is_machine(),
            diff: false,
            committing: true,
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
            if args.wait.wait {
                // A context at the new commit: the requests' files as committed.
                let ctx = super::context(global)?;
                let origin = Origin::of(options.land.push.as_ref(), outcome.landed.as_ref());
                let tracked = outcome
                    .results
                    .briefs()
                    .map(|r| {
                        let target =
                            ResourceRef { kind: r.kind, namespace: r.namespace.to_string(), name: r.name.clone() };
                        Tracked::placed(&ctx, &target).map(|t| t.pushed_to(origin.clone()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let read = |cluster: &Management| tracked.iter().map(|t| t.read(&ctx, cluster)).collect();
                let report = args.wait.wait(printer, &ctx, Lifecycle::Ready, &read)?;
                let ending = args.wait.ending(&report, Lifecycle::Ready);
                outcome.live = Some(report);
                printer.result(&outcome)?;
                return ending;
            }
            printer.result(&outcome)?;
            Ok(Ending::Success)
        }
        None => super::prompt::declined(printer),
    }
}
