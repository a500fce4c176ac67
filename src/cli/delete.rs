//! `idp delete`: remove a request's files in one commit.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{
    Ending, Failure, GlobalArgs, Question, WriteArgs, confirm_write, plan::parse_kind, print_written, with_progress,
};
use crate::ops::delete::delete;
use crate::ops::land::Proposed;
use crate::output::Printer;
use crate::request::Kind;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp delete mysql team-alpha/orders-db\n  idp delete mysql team-alpha/orders-db --yes --allow-destroy"
)]
pub struct DeleteArgs {
    /// The kind: mysql
    #[arg(value_parser = parse_kind)]
    pub kind: Kind,
    /// NAMESPACE/NAME (namespace `default` when omitted)
    #[arg(add = ArgValueCandidates::new(super::complete::placed))]
    pub target: String,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(args: DeleteArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let target = super::status::resource(args.kind, &args.target)?;
    let mut ctx = super::context(global)?;
    let consent = args.write.consent();
    let mut ask = |files: &Vec<String>, proposed: &Proposed<'_>| {
        let summary =
            format!("will remove:\n{}\n", files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"));
        let question = Question::YesNo(format!("Delete {} {}/{}?", target.kind, target.namespace, target.name));
        confirm_write(consent, printer, Some(&summary), question, proposed)
    };
    let land = args.write.land();
    let outcome = with_progress(printer, |progress| delete(&mut ctx, &target, &land, &mut ask, progress))?;
    print_written(printer, outcome)
}
