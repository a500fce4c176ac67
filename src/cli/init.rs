//! `idp init`

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::{Ending, Failure, GlobalArgs};
use crate::ops::init::{InitOptions, init, traffic_providers};
use crate::output::Printer;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp init ./state --gitops-url https://github.com/acme/idp-state.git\n  idp init ./state --traffic-provider route53 --gitops-url git@github.com:acme/idp-state.git\n  idp init --force .   # adopt an existing repository, keeping its files"
)]
pub struct InitArgs {
    /// Where to create the state repo (asked for on a terminal when omitted)
    pub dir: Option<PathBuf>,

    /// The DNS provider for failover records: oci-dns (default), route53 or cloudflare
    #[arg(long, value_name = "NAME")]
    pub traffic_provider: Option<String>,

    /// Where Argo CD reads this state repo: https, ssh or git@host:path, without credentials
    /// (written to the policy's gitops.repoURL and the Argo CD bootstrap)
    #[arg(long, value_name = "URL")]
    pub gitops_url: Option<String>,

    /// Adopt a repository that already has commits or files (existing files are kept)
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    let (dir, traffic_provider) = match args.dir.or_else(|| global.repo.clone()) {
        Some(dir) => (dir, args.traffic_provider),
        None => ask(args.traffic_provider)?,
    };
    let options = InitOptions {
        dir,
        force: args.force,
        traffic_provider,
        author: global.author.clone(),
        gitops_url: args.gitops_url,
    };
    let outcome = init(&options)?;
    printer.result(&outcome)?;
    Ok(Ending::Success)
}

/// The questions `idp init` asks on a terminal; each has a flag.
fn ask(provider: Option<String>) -> Result<(PathBuf, Option<String>), Failure> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::Error(miette::miette!(
            code = "idp::init::no_dir",
            help = "pass the directory, e.g. `idp init ./state` (and --traffic-provider NAME to choose DNS)",
            "`idp init` needs DIR when it is not run on a terminal"
        )));
    }
    let interrupted = |e: dialoguer::Error| Failure::Error(miette::miette!(code = "idp::init::prompt", "{e}"));
    let dir: String = dialoguer::Input::new()
        .with_prompt("Where should the state repo be created?")
        .default("./state".to_owned())
        .interact_text()
        .map_err(interrupted)?;
    let provider = match provider {
        Some(p) => p,
        None => {
            let providers = traffic_providers();
            let choice = dialoguer::Select::new()
                .with_prompt("Which DNS provider switches traffic on failover?")
                .items(&providers)
                .default(0)
                .interact()
                .map_err(interrupted)?;
            providers[choice].clone()
        }
    };
    Ok((PathBuf::from(dir.trim()), Some(provider)))
}
