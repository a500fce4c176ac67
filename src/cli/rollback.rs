//! `idp rollback`: the undo button.

use clap::Args;

use super::{Ending, Failure, GlobalArgs, Question, WriteArgs, confirm_write, print_written, with_progress};
use crate::ops::land::Proposed;
use crate::ops::rollback::{Reverted, RollbackOptions, Target, rollback};
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp rollback\n  idp rollback 3f2a9c1 --yes\n  idp rollback --steps 2 --yes --push\n  idp rollback --to 3f2a9c1"
)]
pub struct RollbackArgs {
    /// The commit to revert (default: the newest idp commit not reverted yet; a revert is never undone by default)
    #[arg(conflicts_with_all = ["steps", "to"])]
    pub commit: Option<String>,
    /// Revert the newest N idp commits not reverted yet, in one commit
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100), conflicts_with = "to")]
    pub steps: Option<u32>,
    /// Revert every commit after COMMIT, back to the state it left, in one commit
    #[arg(long, value_name = "COMMIT")]
    pub to: Option<String>,
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
        // Said before asking: exactly which commits, then what that changes.
        let commits: Vec<String> =
            reverted.commits.iter().map(|c| format!("  {} {}", &c.commit[..12.min(c.commit.len())], c.title)).collect();
        let changes = reverted.changed.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n");
        let summary = format!("revert:\n{}\nchanges:\n{changes}\n", commits.join("\n"));
        confirm_write(consent, printer, Some(&summary), Question::YesNo("Commit this revert?".into()), proposed)
    };
    let target = match (args.commit, args.steps, args.to) {
        (Some(commit), _, _) => Target::Commit(commit),
        (None, _, Some(to)) => Target::To(to),
        (None, steps, None) => Target::Steps(steps.unwrap_or(1)),
    };
    let options = RollbackOptions { target, force: args.force };
    let land = args.write.land();
    let outcome = with_progress(printer, &mut ctx, |ctx, progress| rollback(ctx, &options, &land, &mut ask, progress))?;
    print_written(printer, outcome)
}
