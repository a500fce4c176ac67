//! `idp history`: the audit log.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::history::{HistoryOptions, history};
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

pub fn run(args: HistoryArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    let options = HistoryOptions { namespace: args.namespace, name: args.name, cell: args.cell, limit: args.limit };
    let outcome = history(&ctx, &options)?;
    printer.result(&outcome)?;
    if !outcome.cut_at.is_empty() {
        let short: Vec<&str> = outcome.cut_at.iter().map(|c| c.get(..12).unwrap_or(c)).collect();
        printer.note(&format!(
            "history is cut at {}: this clone is shallow; `git fetch --unshallow` for the rest",
            short.join(", ")
        ));
    }
    Ok(Ending::Success)
}
