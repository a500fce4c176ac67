//! `idp policy show|validate`

use std::path::PathBuf;

use clap::Subcommand;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::policy::{PolicyOutcome, ValidateOutcome};
use crate::output::Printer;
use crate::policy::{self, PolicyOrigin};
use crate::yaml::Source;

/// Inspect and check the placement policy
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the policy in force: tiers, gates, weights and candidates
    #[command(after_help = "Examples:\n  idp policy show\n  idp policy show --repo ./state -o yaml")]
    Show,
    /// Check a policy file (default: the policy in force) and report every problem
    #[command(after_help = "Examples:\n  idp policy validate policy/policy.yaml\n  idp policy validate --repo ./state")]
    Validate {
        /// The policy file to check
        file: Option<PathBuf>,
    },
}

pub fn run(command: PolicyCommand, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    match command {
        PolicyCommand::Show => {
            let ctx = super::context(global)?;
            printer.result(&PolicyOutcome::new(&ctx.policy))?;
        }
        PolicyCommand::Validate { file } => {
            let loaded = match file {
                Some(file) => {
                    let source =
                        Source::read(&file).map_err(|e| crate::ops::Error::from(policy::PolicyError::from(e)))?;
                    policy::load(source, PolicyOrigin::File(file.display().to_string()))
                        .map_err(crate::ops::Error::from)?
                }
                None => super::context(global)?.policy,
            };
            printer.result(&ValidateOutcome {
                valid: true,
                origin: loaded.origin.to_string(),
                version: loaded.policy.version.clone(),
                digest: loaded.digest.clone(),
            })?;
        }
    }
    Ok(Ending::Success)
}
