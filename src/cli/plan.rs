//! `idp plan`

use std::path::PathBuf;

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, KindArg, parse_kind};
use crate::ops::plan::{PlanOptions, Requests, plan};
use crate::output::Printer;

const EXAMPLES: &str = "\
Examples:
  idp plan mysql -f examples/orders-db.yaml
  idp plan -f requests/ -o json --detailed-exitcode
  idp plan mysql -f body.json --repo ./state";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct PlanArgs {
    /// The kind of the requests, required by the flat form: mysql, postgres, redis, app (`idp products`)
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: Option<KindArg>,

    /// Request file or directory, read with its subfolders (repeatable; `-` reads stdin)
    #[arg(short = 'f', long = "file", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,

    /// Exit 2 when the plan has changes, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Show unified diffs of the files that would change
    #[arg(long)]
    pub diff: bool,

    /// Plan moving sticky placements that a changed request no longer fits
    #[arg(long)]
    pub reschedule: bool,
}

pub fn run(args: PlanArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    super::note_if_stateless(&ctx, printer);
    let prepared = plan(
        &ctx,
        &PlanOptions {
            kind: KindArg::resolve_opt(args.kind.as_ref(), &ctx)?,
            requests: Requests::Files(args.files),
            reschedule: args.reschedule,
            keep_rendered: false,
            explain: !printer.is_machine(),
            diff: args.diff && !printer.is_machine(),
            committing: false,
        },
    )?;
    warn_rules(printer, &prepared.outcome.results);
    printer.result(&prepared.outcome)?;
    if args.diff && !printer.is_machine() {
        printer.raw(&crate::output::diff(&prepared, &printer.style).map_err(crate::ops::Error::from)?)?;
    }
    Ok(if args.detailed_exitcode && prepared.outcome.has_changes() { Ending::Changes } else { Ending::Success })
}

/// Rule warnings go to stderr too, so they reach people even with `-o json`.
pub(super) fn warn_rules(printer: &Printer, results: &crate::ops::plan::results::Results) {
    for result in results.briefs() {
        for warning in &result.warnings {
            printer.warn(&format!("{} {}/{}: {warning}", result.kind, result.namespace, result.name));
        }
    }
}
