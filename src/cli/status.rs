//! `idp status`: where a request is placed and why, or what a cell runs.

use clap::Args;
use clap_complete::{ArgValueCandidates, engine::CompletionCandidate};

use super::{Ending, Failure, GlobalArgs, KindArg, parse_kind};
use crate::ops::live::{Management, cell_live_status, live_status};
use crate::ops::resource::ResourceRef;
use crate::ops::status::{cell_status, status};
use crate::output::Printer;
use crate::request::Kind;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  idp status mysql team-alpha/orders-db\n  idp status app team-payments/checkout -o json\n  idp status mysql team-alpha/orders-db --live\n  idp status cell payments prod"
)]
pub struct StatusArgs {
    /// A product (mysql, postgres, redis, app: `idp products`), or cell
    #[arg(add = ArgValueCandidates::new(|| {
        let mut kinds = super::complete::kinds();
        kinds.push(CompletionCandidate::new("cell"));
        kinds
    }))]
    pub what: String,
    /// NAMESPACE/NAME of a request (namespace `default` when omitted), or the CELL
    #[arg(add = ArgValueCandidates::new(super::complete::status_targets))]
    pub target: String,
    /// The environment (with `cell`)
    #[arg(add = ArgValueCandidates::new(super::complete::environments))]
    pub environment: Option<String>,
    /// Read what the management cluster reports (read-only): the Argo CD
    /// Applications, each claim's conditions, the connection secret's presence,
    /// and the lifecycle state they add up to (PENDING, PROVISIONING, READY,
    /// DEGRADED, FAILED, DELETING). Exits 1 when the cluster cannot be read.
    #[arg(long)]
    pub live: bool,
    /// The kubeconfig context of the management cluster (with --live; default:
    /// the policy's kubeContexts.management, else the current context).
    /// KUBECONFIG is honoured as kubectl does.
    #[arg(long, value_name = "CONTEXT", requires = "live")]
    pub context: Option<String>,
}

pub(super) fn resource(kind: Kind, target: &str) -> Result<ResourceRef, Failure> {
    let (namespace, name) = target.split_once('/').unwrap_or(("default", target));
    if !crate::names::is_dns_label(namespace) || !crate::names::is_dns_label(name) {
        return Err(Failure::Error(miette::miette!(
            code = "idp::usage::target",
            help = "write NAMESPACE/NAME, each a DNS-1123 label, e.g. team-alpha/orders-db",
            "`{}` is not NAMESPACE/NAME",
            target.escape_debug()
        )));
    }
    Ok(ResourceRef { kind, namespace: namespace.into(), name: name.into() })
}

pub fn run(args: StatusArgs, global: &GlobalArgs, printer: &Printer) -> Result<Ending, Failure> {
    if args.what == "cell" {
        let Some(environment) = &args.environment else {
            return Err(Failure::Error(miette::miette!(
                code = "idp::usage::environment",
                help = "e.g. `idp status cell payments prod`",
                "`idp status cell` needs the cell and its environment"
            )));
        };
        let ctx = super::context(global)?;
        if args.live {
            let outcome = cell_live_status(&ctx, &args.target, environment, &Management::connect(&ctx, args.context))?;
            printer.result(&outcome)?;
            return if outcome.read() { Ok(Ending::Success) } else { Err(Failure::Silent) };
        }
        printer.result(&cell_status(&ctx, &args.target, environment)?)?;
        return Ok(Ending::Success);
    }
    let ctx = super::context(global)?;
    let kind = KindArg::resolve(&parse_kind(&args.what).expect("any word parses"), &ctx)?;
    let target = resource(kind, &args.target)?;
    if args.live {
        let outcome = live_status(&ctx, &target, &Management::connect(&ctx, args.context))?;
        printer.result(&outcome)?;
        // Unread is not a state: say so in the exit code, as kubectl does.
        return if outcome.state.is_some() { Ok(Ending::Success) } else { Err(Failure::Silent) };
    }
    printer.result(&status(&ctx, &target)?)?;
    Ok(Ending::Success)
}
