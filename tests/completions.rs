//! The completion scripts checked in under completions/ must be what
//! `idp completions SHELL` prints today: a stale script completes flags that
//! no longer exist. Regenerate with
//! `for s in bash zsh fish powershell elvish; do cargo run -q -- completions $s > completions/idp.$s; done`.

use clap_complete::Shell;

#[test]
fn checked_in_completion_scripts_are_fresh() {
    for (shell, name) in [
        (Shell::Bash, "bash"),
        (Shell::Zsh, "zsh"),
        (Shell::Fish, "fish"),
        (Shell::PowerShell, "powershell"),
        (Shell::Elvish, "elvish"),
    ] {
        let path = format!("{}/completions/idp.{name}", env!("CARGO_MANIFEST_DIR"));
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == idp::cli::completions::script(shell),
            "{path} is stale; regenerate it (see the comment at the top of tests/completions.rs)"
        );
    }
}
