//! `idp doctor`

use clap::Args;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::ContextOptions;
use crate::ops::doctor::{DoctorOptions, doctor};
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp doctor\n  idp doctor --repo ./state --remote\n  idp doctor -o json | jq '.checks[] | select(.status != \"ok\")'"
)]
pub struct DoctorArgs {
    /// Also connect to this remote, as `--push` would
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "origin")]
    pub remote: Option<String>,
}

pub fn run(args: DoctorArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let options = DoctorOptions {
        context: ContextOptions {
            repo: global.repo.clone(),
            policy: global.policy.clone(),
            cwd: std::env::current_dir().unwrap_or_else(|_| ".".into()),
            author: global.author.clone(),
        },
        remote: args.remote,
    };
    let outcome = doctor(&options);
    printer.result(&outcome)?;
    if outcome.ok { Ok(Ending::Success) } else { Err(Failure::Silent) }
}
