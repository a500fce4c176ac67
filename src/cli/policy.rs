//! `idp policy show|validate|explain|diff|test`

use std::path::PathBuf;

use clap::Subcommand;
use clap_complete::ArgValueCandidates;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::policy::{PolicyOutcome, PricingOutcome, ValidateOutcome, diff, explain, load_named};
use crate::output::Printer;

// `idp policy`'s subcommands, as the arguments of a command: clap_derive
// defers a command's arguments (`Command`'s `defer`) but builds a nested
// subcommand enum eagerly (clap_derive 4.6.9 `derives/subcommand.rs`,
// `Kind::Subcommand`), which every run of idp paid for (0.11 M instructions
// of a plan's 13.3 M, and 23 of `idp --version`'s 289 page faults).
// (No doc comment: it would replace the help that `Command::Policy` gives.)
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the policy in force: tiers, gates, weights and candidates
    ///
    /// Prints the candidate pool with capabilities and raw scores, the tiers with
    /// their targets, gates, weights and secondary rules, the DR profiles,
    /// environments, cells and traffic providers.
    #[command(
        after_help = "Examples:\n  idp policy show\n  idp policy show --costs\n  idp policy show --repo ./state -o yaml"
    )]
    Show {
        /// Show the price table used for cost estimates instead
        #[arg(long)]
        costs: bool,
    },
    /// Show what a request of a tier would get, and why, without a request file
    ///
    /// Runs the scheduler for an imaginary request of TIER (in a cell, with ha or
    /// a drProfile if given) and shows the same ranking, rejections, gates and
    /// weights as `idp plan`. Reads no state repo placements; writes nothing.
    #[command(
        after_help = "Examples:\n  idp policy explain medium\n  idp policy explain C0 --cell payments --ha\n  idp policy explain critical -o json"
    )]
    Explain {
        /// The tier
        #[arg(add = ArgValueCandidates::new(super::complete::tiers))]
        tier: String,
        /// Plan within this cell's candidates (default: the whole pool)
        #[arg(long, add = ArgValueCandidates::new(super::complete::cells))]
        cell: Option<String>,
        /// Show the runtime clusters of this environment (default: each
        /// candidate's `runtimeCluster`)
        #[arg(long = "env", value_name = "ENV", add = ArgValueCandidates::new(super::complete::environments))]
        environment: Option<String>,
        /// As for a request with ha: true (adds the gates its product's `ha` field adds: multi_az for MySQL)
        #[arg(long)]
        ha: bool,
        /// As for a request naming this drProfile
        #[arg(long, value_name = "PROFILE", add = ArgValueCandidates::new(super::complete::dr_profiles))]
        dr_profile: Option<String>,
    },
    /// Run the Rego tests (`*_test.rego`) of the policy rules
    ///
    /// Evaluates every `test_*` rule of the `*_test.rego` files under
    /// policy/rules/ (or rules/ beside --policy FILE). Exits 1 when one fails.
    /// No test at all is a warning (an error with --strict): rules nobody tests
    /// are rules nobody knows to work.
    #[command(
        after_help = "Examples:\n  idp policy test --repo ./state\n  idp policy test --strict   # in CI: no tests is a failure too\n  idp policy test --policy policy/examples/policy.yaml   # rules/ beside the file"
    )]
    Test {
        /// Fail when there are no tests to run
        #[arg(long)]
        strict: bool,
    },
    /// Show which placements in the state repo a policy change would decide differently
    ///
    /// Schedules every request of the state repo under OLD and NEW and lists
    /// those whose primary or secondary would differ (or that NEW refuses).
    /// Placements are sticky, so nothing moves: this is for reviewing a change.
    #[command(
        after_help = "Examples:\n  idp policy diff HEAD policy/policy.yaml     # the committed policy vs your edit\n  idp policy diff HEAD~3 HEAD --repo ./state\n  idp policy diff old.yaml new.yaml -o json"
    )]
    Diff {
        /// The policy before: a file, or a revision of the state repo
        old: String,
        /// The policy after: a file, or a revision of the state repo
        new: String,
    },
    /// Check a policy file (default: the policy in force) and report every problem
    ///
    /// Reports every problem at once, each with its line and column: unknown
    /// fields and values, scores outside 0..=1, weights that do not add up to
    /// 1, drProfiles weaker than their tier, duplicate candidates, and more.
    /// Then the product definitions in force (`policy/products/`): each
    /// against its XRD and the policy, and all of them together.
    #[command(after_help = "Examples:\n  idp policy validate policy/policy.yaml\n  idp policy validate --repo ./state")]
    Validate {
        /// The policy file to check, with the product definitions beside it
        /// (`products/<name>/product.yaml` in its folder)
        file: Option<PathBuf>,
    },
    /// Cordon a candidate: no new placements there; the placed ones stay
    ///
    /// Sets `cordoned: true` on PROVIDER/REGION in the state repo's
    /// policy/policy.yaml (one line, comments kept) and commits it like any
    /// change: confirmed, with --push, and found again with `idp history`.
    #[command(after_help = "Examples:
  idp policy cordon aws/us-east-1 --reason 'INC-1234: us-east-1 degraded'
  idp policy cordon gcp/us-central1 --yes --push")]
    Cordon(CordonArgs),
    /// Take a candidate's cordon off: it takes new placements again
    ///
    /// Removes `cordoned: true` from PROVIDER/REGION in policy/policy.yaml and
    /// commits it, like `idp policy cordon`.
    #[command(after_help = "Examples:
  idp policy uncordon aws/us-east-1 --reason 'INC-1234 resolved'
  idp policy uncordon aws/us-east-1 --yes --push")]
    Uncordon(CordonArgs),
}

#[derive(Debug, clap::Args)]
pub struct CordonArgs {
    /// The candidate, as PROVIDER/REGION (`idp policy show` lists them)
    pub candidate: String,
    /// Why, recorded in the commit
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub write: super::WriteArgs,
}

pub fn run(command: PolicyCommand, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    match command {
        PolicyCommand::Show { costs } => {
            let ctx = super::context(global)?;
            if costs {
                printer.result(&PricingOutcome::new(&ctx.policy))?;
            } else {
                printer.result(&PolicyOutcome::new(&ctx.policy))?;
            }
        }
        PolicyCommand::Explain { tier, cell, environment, ha, dr_profile } => {
            let ctx = super::context(global)?;
            let gates = if ha { ctx.products.field_gates("ha") } else { Vec::new() };
            let outcome = explain(
                &ctx.policy,
                &tier,
                cell.as_deref(),
                environment.as_deref(),
                (ha, &gates),
                dr_profile.as_deref(),
            )?;
            printer.result(&outcome)?;
        }
        PolicyCommand::Test { strict } => {
            let ctx = super::context(global)?;
            let (rules, tests) = crate::ops::rules::files(&ctx)?;
            let report = crate::rules::run_tests(rules, tests).map_err(crate::ops::Error::from)?;
            printer.result(&report)?;
            if report.results.is_empty() {
                printer.warn("no Rego tests found (policy/rules/*_test.rego): nothing was checked");
                if strict {
                    return Err(Failure::Silent);
                }
            }
            if !report.passed() {
                return Err(Failure::Silent);
            }
        }
        PolicyCommand::Cordon(args) => return cordon(args, true, global, printer),
        PolicyCommand::Uncordon(args) => return cordon(args, false, global, printer),
        PolicyCommand::Diff { old, new } => {
            let ctx = super::context(global)?;
            let (old, new) = (load_named(&ctx, &old)?, load_named(&ctx, &new)?);
            printer.result(&diff(&ctx, &old, &new)?)?;
        }
        PolicyCommand::Validate { file } => {
            // The policy and the product definitions beside it, each checked.
            let ctx = super::settings::context_with_policy(global, file.or_else(|| global.policy.clone()))?;
            let loaded = &ctx.policy;
            printer.result(&ValidateOutcome {
                valid: true,
                origin: loaded.origin.to_string(),
                version: loaded.policy.version.clone(),
                digest: loaded.digest.clone(),
                products: ctx.products.iter().map(|p| format!("{} ({})", p.name, p.origin)).collect(),
            })?;
        }
    }
    Ok(Ending::Success)
}

fn cordon(args: CordonArgs, cordoned: bool, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let mut ctx = super::context(global)?;
    let consent = args.write.consent();
    let mut ask = |outcome: &crate::ops::policy::CordonOutcome, proposed: &crate::ops::land::Proposed<'_>| {
        let summary = format!(
            "{} {} in {} ({} placed there stay)\n",
            outcome.action,
            outcome.candidate,
            crate::layout::POLICY_PATH,
            crate::names::counted(outcome.placed, "request")
        );
        let question = super::Question::YesNo(format!("Commit the {} of {}?", outcome.action, outcome.candidate));
        super::confirm_write(consent, printer, Some(&summary), question, proposed)
    };
    let land = args.write.land();
    let outcome = super::with_progress(printer, &mut ctx, |ctx, progress| {
        crate::ops::policy::cordon(ctx, &args.candidate, cordoned, args.reason.as_deref(), &land, &mut ask, progress)
    })?;
    super::print_written(printer, outcome)
}
