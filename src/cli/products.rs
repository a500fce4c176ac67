//! `idp products`: the products in force.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, KindArg, parse_kind};
use crate::ops::products::products;
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  idp products\n  idp products mysql\n  idp products -o json")]
pub struct ProductsArgs {
    /// Only this product, with what each of its fields takes
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: Option<KindArg>,
}

pub fn run(args: ProductsArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    let kind = KindArg::resolve_opt(args.kind.as_ref(), &ctx)?;
    printer.result(&products(&ctx, kind))?;
    Ok(Ending::Success)
}
