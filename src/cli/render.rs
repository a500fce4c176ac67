//! `idp render`

use std::path::PathBuf;

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs, KindArg, parse_kind};
use crate::ops::plan::{PlanOptions, Requests, plan};
use crate::ops::render::RenderOutcome;
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp render -f examples/orders-db.yaml\n  idp render -f examples/orders-db.yaml | kubectl apply --dry-run=client -f -"
)]
pub struct RenderArgs {
    /// The kind of the requests, required by the flat form: mysql, postgres, redis, app (`idp products`)
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: Option<KindArg>,

    /// Request file or directory (repeatable; `-` reads stdin)
    #[arg(short = 'f', long = "file", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: RenderArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    super::note_if_stateless(&ctx, printer);
    let prepared = plan(
        &ctx,
        &PlanOptions {
            kind: KindArg::resolve_opt(args.kind.as_ref(), &ctx)?,
            requests: Requests::Files(args.files),
            reschedule: false,
            keep_rendered: true,
            explain: false,
            diff: false,
            committing: false,
        },
    )?;
    let outcome = RenderOutcome::from(prepared.rendered);
    printer.result(&outcome)?;
    Ok(Ending::Success)
}
