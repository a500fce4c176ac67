//! `idp completions SHELL`

use clap::Args;
use clap_complete::env::Shells;

use super::{Ending, Failure};
use crate::output::Printer;

/// The shells `idp completions` supports, as clap_complete names them.
pub const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp completions bash > ~/.local/share/bash-completion/completions/idp\n  idp completions zsh > \"${fpath[1]}/_idp\"\n  idp completions fish > ~/.config/fish/completions/idp.fish"
)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish
    #[arg(value_parser = SHELLS)]
    pub shell: String,
}

/// The completion script of a shell, as `idp completions` prints it.
pub fn script(shell: &str) -> String {
    let mut out = Vec::new();
    if let Some(completer) = Shells::builtins().completer(shell) {
        // Written to memory; cannot fail.
        let _ = completer.write_registration(super::complete::VAR, "idp", "idp", "idp", &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn run(args: CompletionsArgs, printer: &Printer) -> Result<Ending, Failure> {
    printer.raw(&script(&args.shell))?;
    Ok(Ending::Success)
}
