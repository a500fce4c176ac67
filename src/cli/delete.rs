//! `idp delete`: remove a request's files in one commit.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{
    Ending, Failure, GlobalArgs, PushArgs, Question, confirm_write, plan::parse_kind, print_written, with_progress,
};
use crate::ops::delete::delete;
use crate::output::Printer;
use crate::request::Kind;
use crate::state::FileChange;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp delete mysql team-alpha/orders-db\n  idp delete mysql team-alpha/orders-db --yes"
)]
pub struct DeleteArgs {
    /// The kind: mysql
    #[arg(value_parser = parse_kind)]
    pub kind: Kind,
    /// NAMESPACE/NAME (namespace `default` when omitted)
    #[arg(add = ArgValueCandidates::new(super::complete::placed))]
    pub target: String,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,

    #[command(flatten)]
    pub push: PushArgs,
}

pub fn run(args: DeleteArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let target = super::status::resource(args.kind, &args.target)?;
    let mut ctx = super::context(global)?;
    let mut ask = |files: &Vec<String>, _: &[FileChange]| {
        let summary =
            format!("will remove:\n{}\n", files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"));
        let question = Question::YesNo(format!("Delete {} {}/{}?", target.kind, target.namespace, target.name));
        confirm_write(args.yes, printer, Some(&summary), question)
    };
    let push = args.push.options();
    let outcome = with_progress(printer, |progress| delete(&mut ctx, &target, push.as_ref(), &mut ask, progress))?;
    print_written(printer, outcome)
}
