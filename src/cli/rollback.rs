//! `idp rollback`: the undo button.

use clap::Args;

use super::{Consent, Ending, Failure, GlobalArgs, PushArgs, Question, confirm_write, print_written, with_progress};
use crate::ops::land::{LandOptions, Proposed};
use crate::ops::rollback::{Reverted, RollbackOptions, rollback};
use crate::output::Printer;

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
    /// Allow deleting or replacing databases and replications (destroys their data)
    #[arg(long)]
    pub allow_destroy: bool,

    #[command(flatten)]
    pub push: PushArgs,
}

pub fn run(args: RollbackArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let consent = Consent { yes: args.yes, allow_destroy: args.allow_destroy };
    let mut ask = |reverted: &Reverted, proposed: &Proposed<'_>| {
        let changes = reverted.changed.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n");
        let summary = format!("revert: {}\nchanges:\n{changes}\n", reverted.title);
        confirm_write(consent, printer, Some(&summary), Question::YesNo("Commit this revert?".into()), proposed)
    };
    let options = RollbackOptions { commit: args.commit, force: args.force };
    let land = LandOptions { push: args.push.options(), allow_destroy: args.allow_destroy };
    let outcome = with_progress(printer, |progress| rollback(&mut ctx, &options, &land, &mut ask, progress))?;
    print_written(printer, outcome)
}
