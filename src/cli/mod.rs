//! The command line: clap types, settings resolution, and the mapping of
//! outcomes and errors to output and exit codes. One file per command.

mod apply;
pub mod complete;
pub mod completions;
mod delete;
mod doctor;
mod failover;
mod failure;
mod history;
mod init;
mod list;
mod migrate;
mod plan;
mod policy;
mod products;
mod prompt;
mod push;
mod render;
mod rollback;
mod settings;
mod status;
mod verify;
mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use failure::{Ending, Failure};
pub(crate) use prompt::{Consent, Question, confirm_write, print_written, with_progress};
pub use push::{PushArgs, WriteArgs};
pub use settings::{ColorChoice, GlobalArgs};
pub(crate) use settings::{KindArg, context, note_if_stateless, parse_kind};

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
    /// writes the request, its placement record, its manifests (platform/, and
    /// workloads/ for an app), its cell membership and its Backstage entity in a
    /// single commit. Applying the same request again changes nothing; existing
    /// placements never move unless `--reschedule` is given. `--all` re-plans every
    /// request the state repo stores, to re-render them after a policy or template
    /// change.
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
    Status(status::StatusArgs),
    /// List what is placed: where, tier, secondary, monthly cost; then each cell's spend
    ///
    /// Reads the placement records at HEAD, like `kubectl get`: one row per
    /// request with its cell and environment, tier, primary (provider/region and
    /// runtime cluster), secondary and the monthly cost estimate recorded when
    /// it was applied. Below, the spend of each cell listed (all of the cell's
    /// requests, as budgets count them), with its budget when the policy sets
    /// one. Filters: KIND, --cell, --namespace. Writes nothing.
    List(list::ListArgs),
    /// List the products a request may ask for, as their definitions and XRDs say
    ///
    /// Each product in force: its name and aliases (what `idp plan KIND` takes),
    /// its manifest kind (what request files say), its role, the claim kind of
    /// its XRD, its request fields, and where its definition comes from (idp's
    /// own, or the state repo's `policy/products/<name>/product.yaml`). With a
    /// product named, what each field takes under the policy in force: type,
    /// values or range, default, and the gates it adds. Writes nothing.
    Products(products::ProductsArgs),
    /// Remove a request's files in one commit (Argo CD prunes the resources)
    ///
    /// Removes the request, its placement record, its manifests under platform/
    /// (and workloads/ for an app), its cell membership and its Backstage entity,
    /// after showing the list and asking on a terminal. `idp rollback` of that
    /// commit brings everything back, placement included. A database whose claims
    /// are deletion-protected (production, by the default policy) is refused until
    /// `--unprotect` has turned that off in a commit of its own and Argo CD has
    /// synced it.
    Delete(delete::DeleteArgs),
    /// Move a cell's data, compute and traffic to its secondary cloud, stage by stage
    ///
    /// Checks that every database has a secondary and a replication claim and
    /// every app a secondary Application, and that the lag can be read. Then one
    /// commit per stage, each landing once the management cluster reports the one
    /// before it done: fence the primary databases (and wait until the cloud
    /// reports them read-only), check replication lag against the drProfile's RPO,
    /// make the secondary databases writable, scale the secondary apps up and the
    /// primary apps down, switch the DNS records, record the move. `--resume` goes
    /// on after an interruption; `--no-wait` commits it all at once, unverified,
    /// for a disaster in which the cluster cannot be read. Idempotent.
    Failover(failover::FailoverArgs),
    /// Return a failed-over cell to its primary cloud, stage by stage
    ///
    /// The reverse of `idp failover`, with the same stages and checks in the other
    /// direction: replication from the secondary back to the primary must be
    /// within RPO. A cell with cold standbys (bronze) keeps their automated sync
    /// until the cluster reports them scaled to 0, then stops it in the last
    /// commit. With `--no-wait`, that is a second run of `idp failback` (no lag
    /// needed) once Argo CD has applied the 0.
    Failback(failover::FailbackArgs),
    /// Move a database to another cloud or region with its data, stage by stage
    ///
    /// A claim cannot move, so the database gets a new claim of the next
    /// generation (`orders-db-m1`) where `--to` says (or, with `--reschedule`,
    /// where the policy in force places it now). One commit per stage, each
    /// landing once the management cluster reports the one before it done:
    /// provision the new claim read-only and replicate into it (CDC, or backup and
    /// restore when the drProfile says so), fence the old claim, wait until the
    /// replication lag is within RPO, cut over (the new claim takes writes; the
    /// apps' connection secrets and the DR replication move to it, and replication
    /// runs back to the old one). The old claim stays until `--finish` deletes it
    /// with `--allow-destroy`. `--resume` goes on after an interruption; `idp
    /// rollback` undoes a stage.
    Migrate(migrate::MigrateArgs),
    /// Show idp's commits as an audit log: who placed what, where, and when
    ///
    /// Reads the `Idp-*` trailers of the state repo's commits, newest first: one
    /// row per action on a request (create, update, reschedule, delete, revert,
    /// failover, failback), with its placement and the policy version in force;
    /// and one row per commit that changed `policy/`, idp's or a person's, with
    /// what it changed (cordons, version). Other commits idp did not write are
    /// left out. On a shallow clone, says where the history is cut.
    History(history::HistoryArgs),
    /// Revert one idp commit as a new commit (default: the newest)
    ///
    /// Computes `git revert` in memory: a conflict with a later commit is an error
    /// that names the paths, and nothing is written. Argo CD then reconciles the
    /// cluster back (pruning what the reverted commit added).
    Rollback(rollback::RollbackArgs),
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
    /// Inspect and check the placement policy
    ///
    /// The policy in force is `--policy FILE`, else policy/policy.yaml of the
    /// state repo, else the default built into idp.
    #[command(
        subcommand_required = true,
        arg_required_else_help = true,
        after_help = "Examples:\n  idp policy show\n  idp policy diff HEAD policy/policy.yaml\n  idp policy cordon aws/us-east-1 --reason 'INC-1234'"
    )]
    Policy(policy::PolicyArgs),
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

/// Parses the command line, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    fix_mmap_threshold();
    complete::answer_shell();
    if std::env::args_os().len() == 1 {
        let _ = std::io::Write::write_all(&mut std::io::stdout(), SHORT_OVERVIEW.as_bytes());
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return failure::usage_error(&error),
    };
    let printer = settings::printer(&cli.global);
    settings::install_report_handler(printer.err_style.color);
    let result = match cli.command {
        Command::Init(args) => init::run(args, &cli.global, &printer),
        Command::Plan(args) => plan::run(args, &cli.global, &printer),
        Command::Apply(args) => apply::run(args, &cli.global, &printer),
        Command::Render(args) => render::run(args, &cli.global, &printer),
        Command::Status(args) => status::run(args, &cli.global, &printer),
        Command::List(args) => list::run(args, &cli.global, &printer),
        Command::Products(args) => products::run(args, &cli.global, &printer),
        Command::Delete(args) => delete::run(args, &cli.global, &printer),
        Command::Failover(args) => failover::run(args.run, crate::cell::Side::Secondary, &cli.global, &printer),
        Command::Failback(args) => failover::run(args.run, crate::cell::Side::Primary, &cli.global, &printer),
        Command::Migrate(args) => migrate::run(args, &cli.global, &printer),
        Command::History(args) => history::run(args, &cli.global, &printer),
        Command::Rollback(args) => rollback::run(args, &cli.global, &printer),
        Command::Verify(args) => verify::run(args, &cli.global, &printer),
        Command::Policy(args) => policy::run(args.command, &cli.global, &printer),
        Command::Doctor(args) => doctor::run(args, &cli.global, &printer),
        Command::Completions(args) => completions::run(args, &printer),
    };
    failure::exit_code(result, &printer)
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// A run builds the arguments of the command it invokes, and nothing of
    /// the others: a command with subcommands of its own (`policy`) must be
    /// deferred like the rest. What it costs is not measured here (see
    /// docs/performance.md); that the parser and its help stay the same is,
    /// by the checked-in man pages (tests/completions.rs) and tests/cli/help.rs.
    #[test]
    fn no_command_is_built_before_it_is_invoked() {
        let cli = Cli::command();
        for command in cli.get_subcommands() {
            let name = command.get_name();
            assert_eq!(command.get_arguments().count(), 0, "`idp {name}`'s arguments are built eagerly");
            assert_eq!(command.get_subcommands().count(), 0, "`idp {name}`'s subcommands are built eagerly");
        }
        let mut built = Cli::command();
        built.build();
        let policy = built.find_subcommand("policy").expect("idp policy");
        assert!(policy.get_subcommands().any(|c| c.get_name() == "diff"), "built on use");
    }
}
