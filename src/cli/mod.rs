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

/// The commands. Each is built only when invoked (`defer`), so a run pays
/// for one command's arguments, not every command's; the summaries live
/// here because the command list in `idp --help` shows them unbuilt.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a state repo: policy, Argo CD bootstrap, Backstage location, README, first commit
    ///
    /// Creates DIR as a Git repository, or adopts an empty one, and commits the
    /// default policy, the Argo CD bootstrap, the Backstage catalog location and
    /// a README explaining the layout. Without DIR, on a terminal, asks for the
    /// directory and the traffic provider; without a terminal DIR is required.
    Init(init::InitArgs),
    /// Validate requests, schedule them and show where they would land and why
    ///
    /// Reads request files (Kubernetes form, or the flat form when KIND is given),
    /// validates them against the policy in force, places each one (an existing
    /// placement is kept: sticky) and explains every candidate. Writes nothing.
    Plan(plan::PlanArgs),
    /// Plan requests and commit the result to the state repo as one commit
    ///
    /// Plans exactly as `idp plan` does against the state repo's HEAD and policy,
    /// shows the plan, asks for confirmation on a terminal (`--yes` skips it), then
    /// writes requests/, placements/ and platform/ in a single commit. Applying the
    /// same request again changes nothing; existing placements never move unless
    /// `--reschedule` is given.
    Apply(apply::ApplyArgs),
    /// Print the manifests a request renders to, as one YAML stream (or JSON with -o json); writes nothing
    ///
    /// Plans the requests like `idp plan` (sticky placements from the state repo,
    /// if there is one) and prints every manifest under platform/ and workloads/
    /// exactly as `idp apply` would commit it, each preceded by a `# Source:`
    /// comment naming its path.
    Render(render::RenderArgs),
    /// Show where a request is placed and why, or what a cell runs and on which side
    ///
    /// `idp status KIND NAMESPACE/NAME` shows a request's placement, secondary,
    /// reason, files, last change and connection secret name. `idp status cell
    /// CELL ENV` shows a cell's databases and apps with their placements, the
    /// active side, drProfiles, traffic and the last failover events.
    Status(resource::StatusArgs),
    /// Remove a request's files in one commit (Argo CD prunes the resources)
    ///
    /// Removes the request, its placement record, its manifests under platform/
    /// (and workloads/ for an app), its cell membership and its Backstage entity,
    /// after showing the list and asking on a terminal. `idp rollback` of that
    /// commit brings everything back, placement included.
    Delete(resource::DeleteArgs),
    /// Move a cell's data, compute and traffic to its secondary cloud, as one commit
    ///
    /// Checks that every database has a secondary and a replication claim and
    /// every app a secondary Application, checks replication lag against the
    /// drProfile's RPO, then fences the primary databases, scales the secondary
    /// apps up and the primary apps down, and switches the DNS records, ordered
    /// with Argo CD sync waves (data, compute, traffic). Idempotent.
    Failover(failover::FailoverArgs),
    /// Return a failed-over cell to its primary cloud, as one commit
    ///
    /// The reverse of `idp failover`, with the same checks in the other direction:
    /// replication from the secondary back to the primary must be within RPO.
    Failback(failover::FailbackArgs),
    /// Show idp's commits as an audit log: who placed what, where, and when
    ///
    /// Reads the `Idp-*` trailers of the state repo's commits, newest first: one
    /// row per action on a request (create, update, reschedule, delete, revert,
    /// failover, failback), with its placement and the policy version in force.
    /// Commits that idp did not write are left out.
    History(audit::HistoryArgs),
    /// Revert one idp commit as a new commit (default: the newest)
    ///
    /// Computes `git revert` in memory: a conflict with a later commit is an error
    /// that names the paths, and nothing is written. Argo CD then reconciles the
    /// cluster back (pruning what the reverted commit added).
    Rollback(audit::RollbackArgs),
    /// Check a whole state repo: the CI gate (exit 1 on any finding)
    ///
    /// The policy validates and the rules compile; every request has its
    /// placement record and files, and re-rendering reproduces the committed
    /// files byte for byte (hand edits are caught); nothing is orphaned under
    /// platform/ or workloads/; every manifest carries idp's labels; no Secret or
    /// secret-looking value is anywhere. Placements on cordoned candidates, or
    /// that the current policy would make elsewhere, are warnings (`--strict`
    /// makes them errors). Nothing is ever moved.
    Verify(verify::VerifyArgs),
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Check the environment idp runs in, and say how to fix what is wrong
    ///
    /// Checks the git identity idp's commits will carry, that a state repo is
    /// found (on a branch, without uncommitted edits under idp's paths), that the
    /// policy validates and its rules compile, which templates the state repo
    /// overrides, the credentials for its remote, that this idp is not older than
    /// the one that last wrote the state repo and, with --remote, that the remote
    /// answers. Exits 1 when a check fails; warnings do not fail. Writes nothing.
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script
    ///
    /// The script asks idp itself for completions as you type (so it must find
    /// `idp` on PATH): subcommands and flags, and values read from the policy and
    /// the state repo (IDP_REPO, else the current directory): tiers, cells,
    /// environments, drProfiles and NAMESPACE/NAME of placed requests. The same
    /// scripts are checked in under completions/ in the idp project.
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

// `--push` and its companions, shared by every command that commits (a plain
// comment: a doc comment here would become those commands' summary).
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
    /// The resolved push settings.
    pub fn options(&self) -> Option<ops::publish::PushOptions> {
        self.push.then(|| ops::publish::PushOptions {
            remote: self.remote.clone(),
            branch: self.branch.clone(),
            base: self.base.clone(),
            max_attempts: self.max_retries.max(1),
            timeout: std::time::Duration::from_secs(self.timeout),
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
