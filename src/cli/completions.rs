//! `idp completions SHELL`

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Ending, Failure};
use crate::output::Printer;

/// Print a shell completion script
///
/// The scripts are also checked in under completions/ in the idp project.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp completions bash > ~/.local/share/bash-completion/completions/idp\n  idp completions zsh > \"${fpath[1]}/_idp\"\n  idp completions fish > ~/.config/fish/completions/idp.fish"
)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish
    pub shell: Shell,
}

/// The completion script of a shell, as `idp completions` prints it.
pub fn script(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "idp", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

pub fn run(args: CompletionsArgs, printer: &Printer) -> Result<Ending, Failure> {
    printer.raw(&script(args.shell))?;
    Ok(Ending::Success)
}
