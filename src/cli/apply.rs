//! `idp apply`

use std::path::PathBuf;

use clap::Args;

use super::{Ending, Failure, GlobalArgs, confirm, plan::parse_kind};
use crate::ops::apply::apply;
use crate::ops::plan::{PlanOptions, plan};
use crate::output::Printer;
use crate::request::Kind;

const EXAMPLES: &str = "\
Examples:
  idp apply -f examples/orders-db.yaml --repo ./state
  idp apply -f requests/ --yes -o json
  idp apply mysql -f body.json --yes -m 'JIRA-123: orders database'";

/// Plan requests and commit the result to the state repo as one commit
///
/// Plans exactly as `idp plan` does against the state repo's HEAD and policy,
/// shows the plan, asks for confirmation on a terminal (`--yes` skips it), then
/// writes requests/, placements/ and platform/ in a single commit. Applying the
/// same request again changes nothing; existing placements never move unless
/// `--reschedule` is given.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct ApplyArgs {
    /// The kind of the requests (required by the flat form): mysql
    #[arg(value_parser = parse_kind)]
    pub kind: Option<Kind>,

    /// Request file or directory (repeatable; `-` reads stdin)
    #[arg(short = 'f', long = "file", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,

    /// Do not ask for confirmation (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Extra text for the commit message body
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub message: Option<String>,

    /// Move sticky placements that a changed request no longer fits
    #[arg(long)]
    pub reschedule: bool,
}

pub fn run(args: ApplyArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global, printer)?;
    if ctx.state.is_none() {
        return Err(crate::ops::Error::NoStateRepo.into());
    }
    let prepared = plan(&ctx, &PlanOptions { kind: args.kind, files: args.files, reschedule: args.reschedule })?;
    if prepared.files.is_empty() {
        printer.note("no changes: every request is already in the state repo as planned");
    } else if !args.yes {
        if !printer.is_machine() {
            printer.raw_stderr(&crate::output::Outcome::human(&prepared.outcome, &printer.style));
        }
        let count = prepared.files.len();
        if !confirm(&format!("Commit {count} file change{} to the state repo?", if count == 1 { "" } else { "s" }))? {
            printer.note("nothing written");
            return Ok(Ending::Success);
        }
    }
    let outcome = apply(&ctx, prepared, args.message.as_deref())?;
    printer.result(&outcome)?;
    Ok(Ending::Success)
}
