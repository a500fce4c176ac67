//! `idp rollback`: the undo button.

use clap::Args;

use super::{Ending, Failure, GlobalArgs, Question, WriteArgs, confirm_write, print_written, with_progress};
use crate::ops::land::Proposed;
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

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(args: RollbackArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let consent = args.write.consent();
    let mut ask = |reverted: &Reverted, proposed: &Proposed<'_>| {
        let changes = reverted.changed.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n");
        let summary = format!("revert: {}\nchanges:\n{changes}\n", reverted.title);
        confirm_write(consent, printer, Some(&summary), Question::YesNo("Commit this revert?".into()), proposed)
    };
    let options = RollbackOptions { commit: args.commit, force: args.force };
    let land = args.write.land();
    let outcome = with_progress(printer, &mut ctx, |ctx, progress| rollback(ctx, &options, &land, &mut ask, progress))?;
    print_written(printer, outcome)
}
