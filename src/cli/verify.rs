//! `idp verify`

use clap::Args;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::verify::verify;
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp verify --repo ./state\n  idp verify --strict -o json\n  idp verify --live --context mgmt-admin"
)]
pub struct VerifyArgs {
    /// Treat warnings (cordoned candidates, policy drift) as errors
    #[arg(long)]
    pub strict: bool,

    /// Also compare Git with the management cluster (read-only): objects Git renders
    /// that are missing though Argo CD synced them, fields the cluster holds otherwise,
    /// claims labelled as idp's that no request explains
    #[arg(long)]
    pub live: bool,

    /// The kubeconfig context of the management cluster for --live (default: the
    /// policy's kubeContexts.management, else the current context)
    #[arg(long, value_name = "CONTEXT", requires = "live")]
    pub context: Option<String>,
}

pub fn run(args: VerifyArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let ctx = super::context(global)?;
    if ctx.state.is_none() {
        return Err(crate::ops::Error::NoStateRepo.into());
    }
    let mut outcome = verify(&ctx, args.strict)?;
    if args.live {
        let cluster = crate::ops::live::Management::connect(&ctx, args.context);
        outcome.add(crate::ops::live::drift(&ctx, &cluster)?);
    }
    printer.result(&outcome)?;
    if outcome.ok { Ok(Ending::Success) } else { Err(Failure::Silent) }
}
