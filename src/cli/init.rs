//! `idp init`

use std::path::PathBuf;

use clap::Args;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::init::{InitOptions, init};
use crate::output::Printer;

/// Create a state repo: policy, Argo CD bootstrap, README, first commit
///
/// Creates DIR (default: the current directory) as a Git repository, or adopts
/// an empty one, and commits the default policy, the Argo CD bootstrap and a
/// README explaining the layout.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp init ./state\n  idp init --force .   # adopt an existing repository, keeping its files"
)]
pub struct InitArgs {
    /// Where to create the state repo
    pub dir: Option<PathBuf>,

    /// Adopt a repository that already has commits or files (existing files are kept)
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let dir = args.dir.or_else(|| global.repo.clone()).unwrap_or_else(|| PathBuf::from("."));
    let outcome = init(&InitOptions { dir, force: args.force })?;
    printer.result(&outcome)?;
    Ok(Ending::Success)
}
