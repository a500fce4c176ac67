//! `idp verify`

use clap::Args;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::verify::verify;
use crate::output::Printer;

/// Check a whole state repo: the CI gate (exit 1 on any finding)
///
/// The policy validates and the rules compile; every request has its
/// placement record and files, and re-rendering reproduces the committed
/// files byte for byte (hand edits are caught); nothing is orphaned under
/// platform/ or workloads/; every manifest carries idp's labels; no Secret or
/// secret-looking value is anywhere. Placements on cordoned candidates, or
/// that the current policy would make elsewhere, are warnings (`--strict`
/// makes them errors). Nothing is ever moved.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  idp verify --repo ./state\n  idp verify --strict -o json")]
pub struct VerifyArgs {
    /// Treat warnings (cordoned candidates, policy drift) as errors
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: VerifyArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    if ctx.state.is_none() {
        return Err(crate::ops::Error::NoStateRepo.into());
    }
    let outcome = verify(&ctx, args.strict)?;
    printer.result(&outcome)?;
    if outcome.ok { Ok(Ending::Success) } else { Err(Failure::Silent) }
}
