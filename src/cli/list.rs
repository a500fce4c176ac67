//! `idp list`: what is placed, where, and what it costs (kubectl `get`).

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, KindArg, parse_kind};
use crate::ops::list::{ListOptions, list};
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp list\n  idp list mysql --cell payments\n  idp list --namespace team-alpha -o json"
)]
pub struct ListArgs {
    /// Only this kind: mysql, postgres, redis or app (`idp products`)
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: Option<KindArg>,
    /// Only requests in this cell
    #[arg(long, add = ArgValueCandidates::new(super::complete::cells))]
    pub cell: Option<String>,
    /// Only requests in this namespace
    #[arg(long, add = ArgValueCandidates::new(super::complete::namespaces))]
    pub namespace: Option<String>,
}

pub fn run(args: ListArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    for (flag, value) in [("--namespace", &args.namespace), ("--cell", &args.cell)] {
        // Both name a folder of the state repo: nothing else reaches a path.
        if let Some(value) = value.as_deref().filter(|v| !crate::names::is_dns_label(v)) {
            return Err(Failure::Error(miette::miette!(
                code = "idp::usage::target",
                help = "namespaces and cells are DNS-1123 labels: lowercase letters, digits and '-', e.g. team-alpha",
                "{flag} `{}` is not a DNS-1123 label",
                value.escape_debug()
            )));
        }
    }
    let ctx = super::context(global)?;
    if ctx.state.is_none() {
        // An empty list would read as "nothing is placed" when nothing was read.
        return Err(Failure::Error(miette::miette!(
            code = "idp::state::none",
            help = "pass --repo DIR (or set IDP_REPO, or run inside the state repo); `idp init DIR` creates one",
            "no state repo here: `idp list` shows what a state repo holds"
        )));
    }
    let kind = KindArg::resolve_opt(args.kind.as_ref(), &ctx)?;
    let outcome = list(&ctx, &ListOptions { kind, cell: args.cell.clone(), namespace: args.namespace })?;
    printer.result(&outcome)?;
    if outcome.items.is_empty() && !printer.is_machine() {
        let scope = args.cell.map(|c| format!(" in cell {c}")).unwrap_or_default();
        printer.note(&format!("nothing is placed{scope}; `idp apply -f FILE` places a request"));
    }
    Ok(Ending::Success)
}
