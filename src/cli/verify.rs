//! `idp verify`

use clap::Args;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::verify::verify;
use crate::output::Printer;

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
