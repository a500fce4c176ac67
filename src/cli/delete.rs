//! `idp delete`: remove a request's files in one commit, or (`--unprotect`)
//! turn a database's deletion protection off in the commit before.

use clap::Args;
use clap_complete::ArgValueCandidates;

use super::{
    Ending, Failure, GlobalArgs, KindArg, Question, WriteArgs, confirm_write, parse_kind, print_written, with_progress,
};
use crate::live::lifecycle::Lifecycle;
use crate::ops::delete::{Removal, UnprotectOutcome, delete, unprotect};
use crate::ops::land::Proposed;
use crate::ops::live::{Management, Origin, Tracked};
use crate::ops::resource::ResourceRef;
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp delete mysql team-alpha/orders-db\n  idp delete mysql team-alpha/orders-db --yes --allow-destroy\n\nA deletion-protected database (production, by the default policy) takes two commits:\n  idp delete mysql team-alpha/orders-db --unprotect --yes\n  (wait until Argo CD has synced it)\n  idp delete mysql team-alpha/orders-db --yes --allow-destroy"
)]
pub struct DeleteArgs {
    /// The kind: mysql, postgres, redis, app (`idp products`)
    #[arg(value_parser = parse_kind, add = ArgValueCandidates::new(super::complete::kinds))]
    pub kind: KindArg,
    /// NAMESPACE/NAME (namespace `default` when omitted)
    #[arg(add = ArgValueCandidates::new(super::complete::placed))]
    pub target: String,

    #[command(flatten)]
    pub write: WriteArgs,

    #[command(flatten)]
    pub wait: super::wait::WaitArgs,

    /// Turn the cloud's deletion protection off (mysql only): commits the claims with deletionProtection false and nothing else; delete with --allow-destroy once Argo CD has synced it
    #[arg(long, conflicts_with = "allow_destroy")]
    pub unprotect: bool,
}

pub fn run(args: DeleteArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let target = super::status::resource(args.kind.resolve(&ctx)?, &args.target)?;
    if args.unprotect {
        return run_unprotect(&args, target, ctx, printer);
    }
    let consent = args.write.consent();
    let mut ask = |removal: &Removal, proposed: &Proposed<'_>| {
        let files = removal.files.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n");
        let summary = format!("will remove:\n{files}\n");
        let question = Question::YesNo(format!("Delete {} {}/{}?", target.kind, target.namespace, target.name));
        confirm_write(consent, printer, Some(&summary), question, proposed)
    };
    let land = args.write.land();
    // What the request rendered, read before the commit removes it: what --wait waits to see go.
    let tracked = args.wait.wait.then(|| Tracked::placed(&ctx, &target)).transpose()?;
    let outcome = with_progress(printer, &mut ctx, |ctx, progress| delete(ctx, &target, &land, &mut ask, progress))?;
    let Some(tracked) = tracked else { return print_written(printer, outcome) };
    let Some(mut outcome) = outcome else { return super::prompt::declined(printer) };
    if let Some(application) = &outcome.emptied_cell_application {
        printer.warn(&format!(
            "the last request of its cell: Argo CD will not prune {application} down to nothing by itself; \
             the wait ends once `argocd app sync {application} --prune` has run"
        ));
    }
    let ctx = super::context(global)?;
    let origin = Origin::of(land.push.as_ref(), Some(&outcome.landed));
    let removed = tracked.deleted_in(&outcome.commit).pushed_to(origin);
    let read = |cluster: &Management| Ok(vec![removed.read(&ctx, cluster)?]);
    let report = args.wait.wait(printer, &ctx, Lifecycle::Gone, &read)?;
    let ending = args.wait.ending(&report, Lifecycle::Gone);
    outcome.live = Some(report);
    printer.result(&outcome)?;
    ending
}

fn run_unprotect(
    args: &DeleteArgs,
    target: ResourceRef,
    mut ctx: crate::ops::Context,
    printer: &Printer,
) -> Result<Ending, Failure> {
    if !target.kind.is_data() {
        return Err(Failure::Error(miette::miette!(
            code = "idp::usage::unprotect",
            help = format!("`idp delete {} --yes` removes it without that step", target.display()),
            "--unprotect is for databases: {} has no deletion protection to turn off",
            target.display()
        )));
    }
    let consent = args.write.consent();
    let mut ask = |outcome: &UnprotectOutcome, proposed: &Proposed<'_>| {
        let summary = format!(
            "will turn deletion protection off for:\n{}\n",
            outcome.unprotected.iter().map(|o| format!("  {o}")).collect::<Vec<_>>().join("\n")
        );
        let question = Question::YesNo(format!("Unprotect {}?", target.display()));
        confirm_write(consent, printer, Some(&summary), question, proposed)
    };
    let land = args.write.land();
    let outcome = with_progress(printer, &mut ctx, |ctx, progress| unprotect(ctx, &target, &land, &mut ask, progress))?;
    print_written(printer, outcome)
}
