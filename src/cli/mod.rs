//! The command line: clap types, settings resolution, and the mapping of
//! outcomes and errors to output and exit codes. One file per command.

mod apply;
mod audit;
pub mod complete;
pub mod completions;
mod doctor;
mod failover;
mod init;
mod plan;
mod policy;
mod render;
mod resource;
mod verify;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::ops::{self, Context, ContextOptions};
use crate::output::{Format, Printer, Style, WriteError};

const ABOUT: &str = "Place managed databases and apps on the right cloud, explain why, and commit the result to Git.";

/// What `idp` alone prints: enough to start, and where to look next.
const SHORT_OVERVIEW: &str = "\
idp places managed databases and apps on the right cloud, explains why, and
commits the result to a Git state repo that Argo CD reconciles.

The common workflow:
  idp init ./state                                  create a state repo
  idp plan -f orders-db.yaml --repo ./state         where would it land, and why?
  idp apply -f orders-db.yaml --repo ./state        commit the placement and manifests
  idp status mysql team-alpha/orders-db             where is it, and what changed it last?
  idp failover --cell payments --env prod           move a cell to its secondary cloud
  idp rollback                                      revert the last idp commit

More: `idp help` lists every command, `idp COMMAND --help` shows examples,
`idp doctor` checks your setup. Docs: docs/getting-started.md
";

const OVERVIEW: &str = "\
The common workflow:
  idp init ./state                             create a state repo
  idp plan mysql -f orders-db.yaml             where would it land, and why?
  idp apply -f orders-db.yaml --repo ./state   commit the placement and manifests
  idp status mysql team-alpha/orders-db        where is it, and what changed it last?
  idp failover --cell payments --env prod      move a cell to its secondary cloud
  idp rollback                                 revert the last idp commit

Exit codes: 0 success, 1 error (nothing written), 2 changes pending (with --detailed-exitcode).";

#[derive(Debug, Parser)]
#[command(name = "idp", version, about = ABOUT, after_help = OVERVIEW)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The state repo (default: the current directory, when it is one)
    #[arg(long, global = true, env = "IDP_REPO", value_name = "PATH")]
    pub repo: Option<PathBuf>,

    /// A policy file to use instead of the state repo's policy/policy.yaml
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Output format of results on stdout
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// Silence notes on stderr (warnings and errors still show)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to use colour (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Leave out table headers, for scripts
    #[arg(long, global = true)]
    pub no_headers: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::InitArgs),
    Plan(plan::PlanArgs),
    Apply(apply::ApplyArgs),
    Render(render::RenderArgs),
    Status(resource::StatusArgs),
    Delete(resource::DeleteArgs),
    Failover(failover::FailoverArgs),
    Failback(failover::FailbackArgs),
    History(audit::HistoryArgs),
    Rollback(audit::RollbackArgs),
    Verify(verify::VerifyArgs),
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    Doctor(doctor::DoctorArgs),
    Completions(completions::CompletionsArgs),
}

/// How a command ended, before it becomes an exit code.
pub enum Ending {
    Success,
    /// Success with pending changes, under `--detailed-exitcode`.
    Changes,
}

/// Parses the command line, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    fix_mmap_threshold();
    complete::answer_shell();
    if std::env::args_os().len() == 1 {
        print!("{SHORT_OVERVIEW}");
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // Usage errors exit 1 like every other error; --help and --version exit 0.
            return if error.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    let printer = printer(&cli.global);
    install_report_handler(printer.err_style.color);
    let result = match cli.command {
        Command::Init(args) => init::run(args, &cli.global, &printer),
        Command::Plan(args) => plan::run(args, &cli.global, &printer),
        Command::Apply(args) => apply::run(args, &cli.global, &printer),
        Command::Render(args) => render::run(args, &cli.global, &printer),
        Command::Status(args) => resource::run_status(args, &cli.global, &printer),
        Command::Delete(args) => resource::run_delete(args, &cli.global, &printer),
        Command::Failover(args) => failover::run(args.run, crate::cell::Side::Secondary, &cli.global, &printer),
        Command::Failback(args) => failover::run(args.run, crate::cell::Side::Primary, &cli.global, &printer),
        Command::History(args) => audit::run_history(args, &cli.global, &printer),
        Command::Rollback(args) => audit::run_rollback(args, &cli.global, &printer),
        Command::Verify(args) => verify::run(args, &cli.global, &printer),
        Command::Policy(command) => policy::run(command, &cli.global, &printer),
        Command::Doctor(args) => doctor::run(args, &cli.global, &printer),
        Command::Completions(args) => completions::run(args, &printer),
    };
    match result {
        Ok(Ending::Success) => ExitCode::SUCCESS,
        Ok(Ending::Changes) => ExitCode::from(2),
        Err(Failure::ClosedPipe) => ExitCode::SUCCESS,
        // The outcome on stdout already says what failed.
        Err(Failure::Silent) => ExitCode::from(1),
        Err(Failure::Error(report)) => {
            if printer.is_machine() {
                // CI reads the reason from stdout; people read the report below.
                let _ = printer.result(&ErrorOutcome::from(&report));
            }
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

/// glibc raises its mmap threshold each time a large block is freed (up to
/// 32 MiB), after which multi-megabyte buffers (a bulk apply's file list,
/// commit message, tree buffers) come from the heap and leave holes that
/// count as resident memory. A fixed threshold keeps them in their own
/// mappings, returned whole when freed: a 10,000-request apply peaks ~23 MB
/// lower (docs/performance.md).
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; glibc serializes it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// A command that did not succeed.
pub enum Failure {
    ClosedPipe,
    /// Failed, and the printed result already explains why (verify findings).
    Silent,
    Error(miette::Report),
}

impl From<ops::Error> for Failure {
    fn from(error: ops::Error) -> Self {
        Failure::Error(miette::Report::new(error))
    }
}

impl From<WriteError> for Failure {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::ClosedPipe => Failure::ClosedPipe,
            WriteError::Failed(e) => Failure::Error(miette::miette!(
                code = "idp::output::write",
                help = "check where stdout goes (a full disk?); a commit, if any, was made: `idp history` shows it",
                "cannot write the result to stdout: {e}"
            )),
        }
    }
}

/// The JSON/YAML document printed on stdout for a failure.
#[derive(serde::Serialize)]
struct ErrorOutcome {
    error: serde_json::Value,
}

impl From<&miette::Report> for ErrorOutcome {
    fn from(report: &miette::Report) -> Self {
        let d: &dyn miette::Diagnostic = report.as_ref();
        let mut related: Vec<serde_json::Value> = d
            .related()
            .into_iter()
            .flatten()
            .map(|r| json!({ "message": r.to_string(), "help": r.help().map(|h| h.to_string()) }))
            .collect();
        // A single problem is its own issue, so CI always finds them in one place.
        if related.is_empty() {
            related.push(json!({ "message": d.to_string(), "help": d.help().map(|h| h.to_string()) }));
        }
        let error = json!({
            "code": d.code().map(|c| c.to_string()),
            "message": d.to_string(),
            "help": d.help().map(|h| h.to_string()),
            "issues": related,
        });
        Self { error }
    }
}

impl crate::output::Outcome for ErrorOutcome {
    fn human(&self, _: &Style) -> String {
        String::new()
    }
}

fn printer(global: &GlobalArgs) -> Printer {
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

fn install_report_handler(color: bool) {
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new().color(color).unicode(color).terminal_links(false).context_lines(1).build(),
        )
    }));
}

/// Resolves the state repo and policy for a command.
pub(crate) fn context(global: &GlobalArgs) -> Result<Context, Failure> {
    let options = ContextOptions {
        repo: global.repo.clone(),
        policy: global.policy.clone(),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    Ok(Context::resolve(&options)?)
}

/// Plans without a state repo are valid (straight after a clone), but say so.
pub(crate) fn note_if_stateless(ctx: &Context, printer: &Printer) {
    if ctx.state.is_none() {
        printer.note("no state repo here (use --repo, IDP_REPO or `idp init`): planning against an empty state");
    }
}

/// `--push` and its companions, shared by every command that commits.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push the commit to a remote, re-planning and retrying when another pipeline pushed first
    #[arg(long)]
    pub push: bool,

    /// The remote (a name or a URL)
    #[arg(long, value_name = "NAME", default_value = "origin", requires = "push")]
    pub remote: String,

    /// Commit onto this branch (created from --base) for a pull request
    #[arg(long, value_name = "NAME", requires = "push")]
    pub branch: Option<String>,

    /// The branch to build on (default: the current branch; with --branch, the remote's default branch)
    #[arg(long, value_name = "NAME", requires = "push")]
    pub base: Option<String>,

    /// Attempts before giving up when other pipelines keep pushing first
    #[arg(long, value_name = "N", default_value_t = 10, requires = "push")]
    pub max_retries: u32,

    /// Give up when a network remote stays silent this long (connecting, or between two reads or writes)
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = crate::state::DEFAULT_NETWORK_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600),
        requires = "push"
    )]
    pub timeout: u64,
}

impl PushArgs {
    /// The resolved push settings. libgit2's network timeout is process-wide,
    /// so it is set here, before anything is fetched or pushed.
    pub fn options(&self) -> Option<ops::publish::PushOptions> {
        if self.push {
            crate::state::set_network_timeout(std::time::Duration::from_secs(self.timeout));
        }
        self.push.then(|| ops::publish::PushOptions {
            remote: self.remote.clone(),
            branch: self.branch.clone(),
            base: self.base.clone(),
            max_attempts: self.max_retries.max(1),
        })
    }
}

/// A progress line on stderr for fetch, push and retries; silent unless
/// stderr is a terminal and the output is for people.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(printer: &Printer) -> Self {
        let show = !printer.is_machine() && !printer.quiet && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    pub fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Asks a yes/no question on the terminal. Without one, refuses: a script
/// must say `--yes`, and nothing may hang waiting for input.
pub(crate) fn confirm(prompt: &str) -> Result<bool, ops::Error> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(ops::Error::NeedsConfirmation);
    }
    Ok(dialoguer::Confirm::new().with_prompt(prompt).default(false).interact().unwrap_or(false))
}

/// Asks for a typed answer (the cell name before a failover), so a stray
/// Enter cannot move a cell. Without a terminal, refuses like `confirm`.
pub(crate) fn confirm_typed(prompt: &str, expected: &str) -> Result<bool, ops::Error> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(ops::Error::NeedsConfirmation);
    }
    let answer: String =
        dialoguer::Input::new().with_prompt(prompt).allow_empty(true).interact_text().unwrap_or_default();
    Ok(answer.trim() == expected)
}
