//! The operations behind the commands: each composes request, policy,
//! schedule, render and state, and returns an outcome. Nothing here prints.

pub mod apply;
pub mod budget;
mod claims;
mod context;
pub mod delete;
pub mod destroy;
pub mod doctor;
pub mod failover;
pub mod history;
pub mod init;
pub mod lag;
pub mod land;
pub mod list;
pub mod live;
pub mod migrate;
pub mod objects;
pub mod plan;
pub mod policy;
pub mod products;
pub mod records;
pub mod render;
pub mod resource;
pub mod rollback;
pub mod rules;
pub mod runbook;
pub mod scope;
pub mod status;
pub mod verify;

use miette::Diagnostic;

pub use context::{Context, ContextOptions};

use crate::policy::PolicyError;
use crate::product::ProductError;
use crate::render::RenderError;
use crate::request::RequestError;
use crate::schedule::ScheduleError;
use crate::state::StateError;

/// Any failure of an operation. All of them exit 1 and leave the state repo
/// as it was.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] PolicyError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Product(#[from] ProductError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),

    /// The schedule's words after the request's: not a cause chain, which
    /// would print them a second time.
    #[error("{request}: {error}")]
    #[diagnostic(forward(error))]
    Schedule { request: String, error: ScheduleError },

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Render(#[from] RenderError),

    #[error("{resource} is not in the state repo")]
    #[diagnostic(code(idp::state::not_found), help("`idp plan` shows where it would land; `idp apply` places it"))]
    NotFound { resource: String },

    #[error("{data} is used by {}", apps.join(", "))]
    #[diagnostic(
        code(idp::delete::in_use),
        help(
            "take it out of each app's spec.dependsOn (or spec.database) and apply the app first, or delete the app. Nothing was written"
        )
    )]
    DataInUse { data: String, apps: Vec<String> },

    #[error("refusing to initialize {path}: {why}")]
    #[diagnostic(
        code(idp::init::not_empty),
        help("pass --force to adopt it (existing files are kept), or choose an empty directory")
    )]
    NotEmpty { path: String, why: String },

    #[error("--gitops-url `{url}` {why}")]
    #[diagnostic(code(idp::init::gitops_url), help("{help}"))]
    GitopsUrl { url: String, why: String, help: String },

    #[error("refusing to write without confirmation: not on a terminal")]
    #[diagnostic(code(idp::confirm::no_terminal), help("pass --yes to confirm from a script or CI job"))]
    NeedsConfirmation,

    #[error("unknown environment `{environment}`")]
    #[diagnostic(code(idp::failover::environment), help("`idp policy show` lists the environments and their aliases"))]
    UnknownEnvironment { environment: String },

    #[error("cell {cell}/{environment} has nothing placed in it")]
    #[diagnostic(code(idp::failover::empty), help("`idp status cell {cell} {environment}` shows what the cell holds"))]
    EmptyCell { cell: String, environment: String },

    #[error("cell {cell}/{environment} cannot move: {}", missing.join("; "))]
    #[diagnostic(
        code(idp::failover::no_standby),
        help(
            "every database needs a secondary claim and a replication claim, every app a secondary Application beside its database's; give them a drProfile (or a tier with a required secondary) and apply with --reschedule, databases first. Nothing was written"
        )
    )]
    NoStandby { cell: String, environment: String, missing: Vec<String> },

    #[error("replication lag {lag}s is above the RPO of {rpo}s")]
    #[diagnostic(
        code(idp::failover::lag),
        help(
            "wait for replication to catch up and read the lag again; --force proceeds anyway and records that it was forced. Nothing was written"
        )
    )]
    LagAboveRpo { lag: f64, rpo: u32 },

    #[error("the replication lag is unknown")]
    #[diagnostic(
        code(idp::failover::lag_unknown),
        help(
            "pass --replication-lag SECONDS (your reading) or --lag-url URL (a Prometheus API); --force proceeds without one and records that it was forced"
        )
    )]
    LagUnknown,

    #[error("a {action} of cell {cell}/{environment} is in progress: its {stage} stage is committed")]
    #[diagnostic(
        code(idp::failover::in_progress),
        help(
            "`idp {action} --cell {cell} --env {environment} --resume` goes on from there (add --no-wait to finish in one commit when the cluster cannot be read); `idp status cell {cell} {environment}` shows the stage; `idp rollback` undoes the last stage. Nothing was written"
        )
    )]
    RunbookInProgress { cell: String, environment: String, action: String, stage: String },

    #[error("cell {cell}/{environment} has no {action} in progress to resume")]
    #[diagnostic(
        code(idp::failover::nothing_to_resume),
        help(
            "--resume reads the runbook from this clone: if it was started elsewhere, pull the state repo first (`git pull`); `idp status cell {cell} {environment}` shows the active side; run the command without --resume to start one"
        )
    )]
    NothingToResume { cell: String, environment: String, action: String },

    #[error(
        "cell {cell}/{environment} changed under the runbook: it expected {expected}, the state repo now records {found}"
    )]
    #[diagnostic(
        code(idp::failover::changed),
        help(
            "another failover, failback or rollback of the cell landed between two stages; `idp history --cell {cell}` shows it and `idp status cell {cell} {environment}` where the cell is now. Nothing more was written"
        )
    )]
    RunbookChanged { cell: String, environment: String, expected: String, found: String },

    #[error("a staged {action} waits on the management cluster, which cannot be read ({cluster}): {why}")]
    #[diagnostic(
        code(idp::failover::cluster),
        help(
            "fix the kubeconfig context (--context, the policy's kubeContexts.management) and retry; in a disaster in which the cluster cannot be reached, --no-wait commits the whole runbook at once without verifying it. Nothing was written"
        )
    )]
    ClusterUnreadable { action: String, cluster: String, why: String },

    #[error("cannot migrate {request} to {to}: {why}")]
    #[diagnostic(
        code(idp::migrate::target),
        help(
            "`idp policy show` lists the candidates; choose one of the request's cell that passes its tier's gates, in another provider than its secondary (and, for a database whose DR replication is CDC, in the provider it is on: each GoldenGate Connection is of one cloud's technology for good). Nothing was written"
        )
    )]
    MigrateTarget { request: String, to: String, why: String },

    #[error("a migration of {request} is in progress: its {stage} stage is committed")]
    #[diagnostic(
        code(idp::migrate::in_progress),
        help(
            "{next}; `idp status {request}` shows it. A placement does not move, nor does another migration start, until it is finished. Nothing was written"
        )
    )]
    MigrationInProgress { request: String, stage: String, next: String },

    #[error("{request} has no migration to go on with")]
    #[diagnostic(code(idp::migrate::nothing), help("{help}. Nothing was written"))]
    NoMigration { request: String, help: String },

    #[error("{request} cannot migrate while its cell {cell}/{environment} moves: {why}")]
    #[diagnostic(
        code(idp::migrate::cell),
        help(
            "a failover and a migration move the same claims: finish the runbook (`idp failover --resume`, or `idp failback` to come back), then migrate (or `--resume`). Nothing was written"
        )
    )]
    MigrateCell { request: String, cell: String, environment: String, why: String },

    #[error("a migration waits on the management cluster, which cannot be read ({cluster}): {why}")]
    #[diagnostic(
        code(idp::migrate::cluster),
        help(
            "fix the kubeconfig context (--context, the policy's kubeContexts.management) and retry: every stage of {request}'s migration lands only once the cluster reports the one before it done, so there is no way to run it blind. Nothing was written"
        )
    )]
    MigrateCluster { request: String, cluster: String, why: String },

    #[error("{request} changed under its migration: it expected {expected}, the state repo now records {found}")]
    #[diagnostic(
        code(idp::migrate::changed),
        help(
            "another migrate, a rollback or a delete landed between two stages; `idp history` shows it and `idp status {request}` where the migration is now. Nothing more was written"
        )
    )]
    MigrationChanged { request: String, expected: String, found: String },

    #[error("deletion protection is on for the old claim of {request}: {}", objects.join(", "))]
    #[diagnostic(
        code(idp::migrate::protected),
        help(
            "the cloud would refuse to delete it, and --allow-destroy cannot override that. It takes two commits: `idp migrate {request} --finish --unprotect` (it turns the old claim's protection off and changes nothing else); wait until Argo CD has synced it and the provider has turned protection off; then `idp migrate {request} --finish --allow-destroy`. Nothing was written"
        )
    )]
    MigrationProtected { request: String, objects: Vec<String> },

    #[error("cannot read the replication lag from {url}: {message}")]
    #[diagnostic(
        code(idp::failover::lag_query),
        help("check the URL and the query (--lag-query), or pass --replication-lag SECONDS")
    )]
    LagQuery { url: String, message: String },

    #[error("{scope} would exceed its budget: ${current} now + ${planned} planned > ${limit} a month (estimates)")]
    #[diagnostic(
        code(idp::budget::exceeded),
        help(
            "choose a smaller size, a cheaper tier or fewer replicas, or ask the platform team to raise `budgets` in the policy. Nothing was written"
        )
    )]
    OverBudget { scope: String, current: f64, planned: f64, limit: f64 },

    #[error("unknown {what} `{name}`")]
    #[diagnostic(code(idp::usage::unknown), help("valid values in the policy in force: {}", valid.join(", ")))]
    UnknownName { what: &'static str, name: String, valid: Vec<String> },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Rules(#[from] crate::rules::RulesError),

    #[error("could not {what} a bulk plan's results in a temporary file: {message}")]
    #[diagnostic(
        code(idp::spool),
        help(
            "a plan of many requests written as JSON or YAML keeps its results in the temporary folder \
             ($TMPDIR, else /tmp) until they are printed: check that it exists, is writable and has room"
        )
    )]
    Spool { what: String, message: String },

    #[error("cannot read rule file {path}: {message}")]
    #[diagnostic(code(idp::rules::io))]
    RulesIo { path: String, message: String },

    #[error("{request} is refused by the policy rules: {}", denials.join("; "))]
    #[diagnostic(
        code(idp::rules::deny),
        help(
            "each message names the rule file that refused it; change the request, or ask the platform team about the rule"
        )
    )]
    Denied { request: String, denials: Vec<String> },

    #[error("nothing to revert")]
    #[diagnostic(code(idp::rollback::nothing), help("`idp history` lists idp's commits"))]
    NothingToRevert,

    #[error("cannot revert {commit}: {}", gone.join("; "))]
    #[diagnostic(code(idp::rollback::gone), help("{help}"))]
    RequestGone { commit: String, gone: Vec<String>, help: String },

    #[error("this state repo has no {} to edit", crate::layout::POLICY_PATH)]
    #[diagnostic(
        code(idp::policy::no_file),
        help("`idp init` writes one; a repo using the built-in policy has nothing to cordon in")
    )]
    NoPolicyFile,

    #[error("cannot change {candidate} in the policy: {message}")]
    #[diagnostic(code(idp::policy::edit), help("`idp policy show` lists the candidates; nothing was written"))]
    PolicyEdit { candidate: String, message: String },

    #[error("asked to revert {asked} commit(s), and only {found} idp commit(s) are left to undo")]
    #[diagnostic(
        code(idp::rollback::not_enough),
        help("reverts and commits already reverted are not counted; `idp history` lists what is there")
    )]
    NotEnoughToRevert { asked: u32, found: usize },

    #[error("`{revision}` is neither a policy file nor a revision of the state repo")]
    #[diagnostic(
        code(idp::policy::revision),
        help(
            "name a policy file, or a commit of the state repo that holds policy/policy.yaml (`HEAD`, `HEAD~1`, a hash)"
        )
    )]
    UnknownPolicy { revision: String },

    #[error("`{revision}` is not a commit of the state repo")]
    #[diagnostic(code(idp::rollback::revision), help("name a commit from `idp history` or `git log`"))]
    UnknownRevision { revision: String },

    #[error("{commit} was not written by idp: {title}")]
    #[diagnostic(code(idp::rollback::not_idp), help("pass --force to revert it anyway"))]
    NotIdpCommit { commit: String, title: String },

    #[error("reverting {commit} conflicts with later changes to: {}", paths.join(", "))]
    #[diagnostic(
        code(idp::rollback::conflict),
        help(
            "a later commit changed the same files; revert that one first (newest first), or resolve by hand with `git revert`. Nothing was written"
        )
    )]
    RevertConflict { commit: String, paths: Vec<String> },

    #[error("there is no state repo here")]
    #[diagnostic(
        code(idp::state::none),
        help("create one with `idp init DIR`, then pass --repo DIR (or set IDP_REPO)")
    )]
    NoStateRepo,

    #[error("{remote} refused the push to {branch}: {message}")]
    #[diagnostic(code(idp::push::rejected))]
    PushRejected {
        remote: String,
        branch: String,
        message: String,
        /// What to do: `--branch` only when it was not the branch refused.
        #[help]
        help: String,
    },

    #[error("{remote} could not store the push to {branch}: {message}")]
    #[diagnostic(
        code(idp::push::not_stored),
        help(
            "the remote received the commit and could not keep it: its disk may be full, or a limit of its own (receive.maxInputSize, a quota) refused it. Ask the remote's owner; the local repo is unchanged and the same command lands once the remote has room"
        )
    )]
    PushNotStored { remote: String, branch: String, message: String },

    #[error("cannot reach {remote} ({branch}) after {}: {message}", crate::names::counted(*attempts as usize, "attempt"))]
    #[diagnostic(
        code(idp::push::failed),
        help(
            "check the remote URL, the network and the credentials (ssh: IDP_SSH_KEY, ssh-agent or ~/.ssh/config, and the host key in IDP_SSH_KNOWN_HOSTS or ~/.ssh/known_hosts; https: IDP_GIT_TOKEN or a git credential helper); the local repo is unchanged"
        )
    )]
    PushFailed { remote: String, branch: String, attempts: u32, message: String },

    #[error("{branch} on {remote} kept moving: {attempts} attempts lost the race (last: {last})")]
    #[diagnostic(
        code(idp::push::exhausted),
        help(
            "many pipelines are writing at once; run again, or raise --max-retries. Nothing was pushed and the local branch is unchanged"
        )
    )]
    PushExhausted { remote: String, branch: String, attempts: u32, last: String },

    #[error("{request} is placed on {placement}, which no longer fits the request: {why}")]
    #[diagnostic(
        code(idp::plan::sticky_conflict),
        help(
            "placements never move silently; pass --reschedule to move it (a new placement, loudly recorded), or revert the request change"
        )
    )]
    StickyConflict { request: String, placement: String, why: String },

    #[error("refusing to destroy stateful data without an explicit word: {}", objects.join("; "))]
    #[diagnostic(
        code(idp::destroy::refused),
        help(
            "these objects hold data: Crossplane would delete them, or replace them with empty ones. To go ahead, pass --allow-destroy (or run on a terminal without --yes and type the request's NAMESPACE/NAME when asked); --yes alone is never enough. Nothing was written"
        )
    )]
    DestroyRefused { objects: Vec<String> },

    #[error("refusing to destroy a deletion-protected database: {}", objects.join("; "))]
    #[diagnostic(code(idp::destroy::protected), help("{help}"))]
    DestroyProtected { objects: Vec<String>, help: String },

    #[error("{request}: {file} differs from what idp renders in more than deletion protection")]
    #[diagnostic(
        code(idp::unprotect::drift),
        help(
            "an unprotect commit changes nothing but deletion protection, and this claim no longer matches what idp renders for the request (a policy or template change not yet applied, or a hand edit: `idp verify` names it). Re-apply the request first (`idp apply`), then unprotect. Nothing was written"
        )
    )]
    UnprotectDrift { request: String, file: String },

    #[error("{app} names {database}, which is not placed")]
    #[diagnostic(
        code(idp::plan::data_missing),
        help(
            "an app goes where the databases it names are, never elsewhere: apply the database first, or in the same invocation (`idp apply -f db.yaml -f app.yaml`). Nothing was written"
        )
    )]
    DataMissing { app: String, database: String },

    #[error("{app} in cell {cell} names {database}, which is in cell {at}")]
    #[diagnostic(
        code(idp::plan::data_elsewhere),
        help(
            "an app runs in the cell and environment of its data, so that they fail over together: give the app the database's cell and environment, or name a database of its own. Nothing was written"
        )
    )]
    DataElsewhere { app: String, database: String, cell: String, at: String },

    #[error("{app} names databases that are placed apart: {}", placements.join("; "))]
    #[diagnostic(
        code(idp::plan::data_apart),
        help(
            "an app follows its data to one placement, primary and secondary: name only databases placed together (the same tier and drProfile place them alike), or split the app. Nothing was written"
        )
    )]
    DataApart { app: String, placements: Vec<String> },

    #[error("{app} follows {follows} without naming it, and its changed request names no database")]
    #[diagnostic(code(idp::plan::implicit_data), help("{help}"))]
    ImplicitData { app: String, follows: String, help: String },

    #[error("{request} and {other} would both render {object}")]
    #[diagnostic(
        code(idp::plan::name_collision),
        help(
            "idp derives Kubernetes names from each request's namespace and name, and these two meet; Argo CD would apply whichever manifest it read last. Choose another name for the new request. Nothing was written"
        )
    )]
    NameCollision { request: String, other: String, object: String },

    #[error("{request}: publicHost {host} belongs to app {owner} ({path})")]
    #[diagnostic(
        code(idp::plan::host_taken),
        help(
            "a public host serves one app: choose another publicHost, or remove it from {owner} first. Nothing was written"
        )
    )]
    HostTaken { request: String, host: String, owner: String, path: String },

    #[error("{request}: the cluster would refuse {file}: {}", violations.join("; "))]
    #[diagnostic(code(idp::claim::refused))]
    ClaimRefused {
        request: String,
        file: String,
        violations: Vec<String>,
        #[help]
        help: String,
    },

    #[error("{request}: {object} cannot change in place: {}", forces.join("; "))]
    #[diagnostic(
        code(idp::plan::provider_refuses),
        help(
            "the provider can only replace what these fields configure, and upjet refuses such a change rather than replace: the resource would stay Synced=False, blocking every later update of it (a failover's fence included). Keep the value as it is (revert the change that asks for it: the request, or its placement record); `idp migrate` moves a database's data to a new claim in another place instead. Nothing was written"
        )
    )]
    ProviderRefuses { request: String, object: String, forces: Vec<String> },

    #[error("idp cannot read the XRDs it checks claims against: {message}")]
    #[diagnostic(code(idp::claim::xrd), help("this is a bug in idp (its XRDs are compiled in). Nothing was written"))]
    XrdLoad { message: String },

    #[error("{path} in the state repo is not a record idp can read: {message}")]
    #[diagnostic(
        code(idp::state::record),
        help(
            "restore it from the commit before it broke (`git log -- {path}`), or `idp rollback` that commit; idp never acts on a record it cannot read. Nothing was written"
        )
    )]
    CorruptRecord { path: String, message: String },
}
