//! `idp history` and `idp rollback`: the audit log and the undo button.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, Progress, PushArgs, confirm};
use crate::ops::history::{HistoryOptions, history};
use crate::ops::rollback::{RollbackOptions, rollback};
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp history\n  idp history --namespace team-alpha --name orders-db\n  idp history --cell payments -n 20 -o json"
)]
pub struct HistoryArgs {
    /// Only requests in this namespace
    #[arg(long, add = ArgValueCandidates::new(super::complete::namespaces))]
    pub namespace: Option<String>,
    /// Only requests with this name
    #[arg(long, add = ArgValueCandidates::new(super::complete::names))]
    pub name: Option<String>,
    /// Only requests in this cell
    #[arg(long, add = ArgValueCandidates::new(super::complete::cells))]
    pub cell: Option<String>,
    /// At most N entries, newest first
    #[arg(short = 'n', long = "limit", value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  idp rollback\n  idp rollback 3f2a9c1 --yes\n  idp rollback --yes --push")]
pub struct RollbackArgs {
    /// The commit to revert (default: the newest idp commit)
    pub commit: Option<String>,
    /// Revert a commit that idp did not write
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    pub push: PushArgs,
}

pub fn run_history(args: HistoryArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    let options = HistoryOptions { namespace: args.namespace, name: args.name, cell: args.cell, limit: args.limit };
    printer.result(&history(&ctx, &options)?)?;
    Ok(Ending::Success)
}

pub fn run_rollback(args: RollbackArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let yes = args.yes;
    let mut ask = |title: &str, paths: &[String]| -> Result<bool, crate::ops::Error> {
        if yes {
            return Ok(true);
        }
        printer.raw_stderr(&format!(
            "revert: {title}\nchanges:\n{}\n",
            paths.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
        ));
        confirm("Commit this revert?")
    };
    let options = RollbackOptions { commit: args.commit, force: args.force };
    let progress = Progress::new(printer);
    let outcome = rollback(&mut ctx, &options, args.push.options().as_ref(), &mut ask, &|m| progress.say(m))?;
    progress.done();
    match outcome {
        Some(outcome) => printer.result(&outcome)?,
        None => printer.note("nothing written"),
    }
    Ok(Ending::Success)
}
