//! Global flags resolved once into plain values: the printer (format,
//! colour per stream, quiet) and the context (state repo, policy).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::Failure;
use crate::ops::{Context, ContextOptions};
use crate::output::{Format, Printer, Style};
use crate::request::Kind;

/// The help section of the flags every command takes, apart from each
/// command's own (as kubectl and gh show them).
const GLOBAL: &str = "Global options";

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The state repo (default: the current directory, when it is one)
    #[arg(long, global = true, env = "IDP_REPO", hide_env_values = true, value_name = "PATH", help_heading = GLOBAL)]
    pub repo: Option<PathBuf>,

    /// A policy file to use instead of the state repo's policy/policy.yaml
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub policy: Option<PathBuf>,

    /// Output format of results on stdout
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table, help_heading = GLOBAL)]
    pub output: Format,

    /// Silence notes on stderr (warnings and errors still show)
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// When to use colour (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = GLOBAL)]
    pub color: ColorChoice,

    /// Leave out table headers, for scripts
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_headers: bool,

    /// Who idp's commits name, as "Name <email>" (default: git's user.name and user.email)
    #[arg(long, global = true, env = "IDP_AUTHOR", hide_env_values = true, value_name = "AUTHOR", help_heading = GLOBAL)]
    pub author: Option<crate::state::Author>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub(super) fn printer(global: &GlobalArgs) -> Printer {
    // Each stream gets colour only when it is a terminal itself: `idp plan | less`
    // keeps colour in the notes on stderr and none in the pipe.
    let color = |terminal: bool| match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal,
    };
    Printer {
        format: global.output,
        style: Style { color: color(std::io::stdout().is_terminal()), no_headers: global.no_headers },
        err_style: Style { color: color(std::io::stderr().is_terminal()), no_headers: global.no_headers },
        quiet: global.quiet,
    }
}

/// The error report's look. Lines are wrapped to the terminal only: in a CI
/// log (stderr not a terminal) a message stays on one line, so `grep` finds it.
pub(super) fn install_report_handler(color: bool) {
    let wrap = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .context_lines(1)
                .wrap_lines(wrap)
                .build(),
        )
    }));
}

/// Resolves the state repo and policy for a command.
pub(crate) fn context(global: &GlobalArgs) -> Result<Context, Failure> {
    context_with_policy(global, global.policy.clone())
}

/// [`context`] with `policy` as the policy file (its products beside it).
pub(crate) fn context_with_policy(global: &GlobalArgs, policy: Option<PathBuf>) -> Result<Context, Failure> {
    let options = ContextOptions {
        repo: global.repo.clone(),
        policy,
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        author: global.author.clone(),
    };
    let mut ctx = Context::resolve(&options)?;
    let printer = printer(global);
    for note in ctx.take_notes() {
        printer.note(&note);
    }
    Ok(ctx)
}

/// Plans without a state repo are valid (straight after a clone), but say so.
pub(crate) fn note_if_stateless(ctx: &Context, printer: &Printer) {
    if ctx.state.is_none() {
        printer.note("no state repo here (use --repo, IDP_REPO or `idp init`): planning against an empty state");
    }
}

/// A product named on the command line (`mysql`, an alias): a word here,
/// resolved against the products in force once the state repo is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindArg(String);

impl KindArg {
    /// The product it names, or a usage error naming those in force.
    pub fn resolve(&self, ctx: &Context) -> Result<Kind, Failure> {
        Kind::named(&ctx.products, &self.0).ok_or_else(|| {
            Failure::Error(miette::miette!(
                code = "idp::usage::kind",
                help = "`idp products` lists the products in force",
                "{}",
                ctx.products.unknown(&self.0)
            ))
        })
    }

    /// `Option<KindArg>` resolved.
    pub fn resolve_opt(arg: Option<&KindArg>, ctx: &Context) -> Result<Option<Kind>, Failure> {
        arg.map(|a| a.resolve(ctx)).transpose()
    }
}

/// clap's parser of a kind: any word; the products in force judge it.
pub fn parse_kind(s: &str) -> Result<KindArg, String> {
    Ok(KindArg(s.to_owned()))
}
