//! `idp products`: the products in force.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, KindArg, parse_kind};
use crate::ops::products::products;
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp products\n  idp products mysql\n  idp products postgres --schema > postgres.schema.json"
)]
pub struct ProductsArgs {
    /// Only this product, with what each of its fields takes
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: Option<KindArg>,

    /// Print the JSON Schema of the product's requests (Kubernetes form) under the policy in force, for editors and CI
    #[arg(long, requires = "kind")]
    pub schema: bool,
}

pub fn run(args: ProductsArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    let kind = KindArg::resolve_opt(args.kind.as_ref(), &ctx)?;
    if let (true, Some(kind)) = (args.schema, kind) {
        let product = ctx.products.named(kind.cli_name()).expect("a resolved kind is a product in force");
        let schema = crate::request::request_schema(product, &ctx.policy.policy);
        let text = serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n";
        printer.raw(&text)?;
        return Ok(Ending::Success);
    }
    printer.result(&products(&ctx, kind))?;
    Ok(Ending::Success)
}
