//! Dynamic completion: values the shell offers for tiers, cells,
//! environments, drProfiles and `namespace/name`, read at completion time
//! from the policy in force and the state repo (`IDP_REPO`, else the current
//! directory). Any failure completes nothing: a completion must never print
//! an error into the user's prompt.

use std::collections::BTreeSet;
use std::ffi::OsString;

use clap_complete::engine::CompletionCandidate;

use crate::layout;
use crate::ops::{Context, ContextOptions};

/// The environment variable through which the shell asks idp to complete;
/// not clap's default `COMPLETE`, which is too common a name to own.
pub const VAR: &str = "IDP_COMPLETE";

/// Answers a completion request from the shell and exits, when `IDP_COMPLETE`
/// is set; otherwise returns at once.
pub fn answer_shell() {
    clap_complete::CompleteEnv::with_factory(<super::Cli as clap::CommandFactory>::command)
        .var(VAR)
        .bin("idp")
        // The checked-in scripts call `idp` on PATH, wherever it is installed.
        .completer("idp")
        .complete();
}

fn context() -> Option<Context> {
    let options = ContextOptions {
        repo: std::env::var_os("IDP_REPO").filter(|v| !v.is_empty()).map(Into::into),
        policy: None,
        cwd: std::env::current_dir().ok()?,
        author: None,
    };
    Context::resolve(&options).ok()
}

fn candidates(values: impl IntoIterator<Item = (String, Option<String>)>) -> Vec<CompletionCandidate> {
    values
        .into_iter()
        .map(|(value, help)| CompletionCandidate::new(OsString::from(value)).help(help.map(Into::into)))
        .collect()
}

pub fn tiers() -> Vec<CompletionCandidate> {
    let Some(ctx) = context() else { return Vec::new() };
    candidates(ctx.policy.policy.tiers.keys().map(|t| (t.clone(), None)))
}

pub fn cells() -> Vec<CompletionCandidate> {
    let Some(ctx) = context() else { return Vec::new() };
    candidates(ctx.policy.policy.cells.keys().map(|c| (c.clone(), None)))
}

pub fn environments() -> Vec<CompletionCandidate> {
    let Some(ctx) = context() else { return Vec::new() };
    let policy = &ctx.policy.policy;
    let mut values: Vec<(String, Option<String>)> = policy.environments.keys().map(|e| (e.clone(), None)).collect();
    for (name, e) in &policy.environments {
        values.extend(e.aliases.iter().map(|a| (a.clone(), Some(format!("alias of {name}")))));
    }
    candidates(values)
}

/// The policy's candidates, `provider/region`, each with its runtime cluster.
pub fn pool() -> Vec<CompletionCandidate> {
    let Some(ctx) = context() else { return Vec::new() };
    candidates(ctx.policy.policy.candidates.iter().map(|c| (c.id(), Some(c.runtime_cluster.clone()))))
}

pub fn dr_profiles() -> Vec<CompletionCandidate> {
    let Some(ctx) = context() else { return Vec::new() };
    candidates(ctx.policy.policy.dr_profiles.keys().map(|p| (p.clone(), None)))
}

/// `namespace/name` of every placed request of the kind typed before it
/// (`idp delete mysql <TAB>`, `idp migrate mysql <TAB>` offer databases only):
/// one listing of `placements/`.
pub fn placed() -> Vec<CompletionCandidate> {
    let typed = typed_kind();
    candidates(
        placements()
            .into_iter()
            .filter(|(kind, _, _)| typed.as_ref().is_none_or(|t| t == kind))
            .map(|(kind, namespace, name)| (format!("{namespace}/{name}"), Some(kind))),
    )
}

/// The target of `idp status`: a placed `namespace/name` of the kind typed,
/// or, after `cell`, a cell.
pub fn status_targets() -> Vec<CompletionCandidate> {
    if typed_word_after(&["status"]).as_deref() == Some("cell") {
        return cells();
    }
    placed()
}

/// The kind typed after `status`, `delete` or `migrate` on the command line
/// being completed (the shell passes it after `--`), as placements name it.
fn typed_kind() -> Option<String> {
    let word = typed_word_after(&["status", "delete", "migrate"])?;
    crate::request::Kind::named(&products(), &word).map(|kind| kind.to_string())
}

/// The products in force here, else idp's own.
fn products() -> crate::product::Products {
    context().map_or_else(|| crate::product::Products::embedded().clone(), |ctx| ctx.products)
}

/// The products' names, each with its description.
pub fn kinds() -> Vec<CompletionCandidate> {
    candidates(products().iter().map(|p| (p.name.clone(), Some(p.description.clone()))))
}

/// The word after the first of `commands` in the command line being completed.
fn typed_word_after(commands: &[&str]) -> Option<String> {
    let line: Vec<String> = std::env::args().skip_while(|a| a != "--").skip(1).collect();
    let at = line.iter().position(|w| commands.contains(&w.as_str()))?;
    line.get(at + 1).cloned()
}

pub fn namespaces() -> Vec<CompletionCandidate> {
    let set: BTreeSet<String> = placements().into_iter().map(|(_, namespace, _)| namespace).collect();
    candidates(set.into_iter().map(|n| (n, None)))
}

pub fn names() -> Vec<CompletionCandidate> {
    let set: BTreeSet<String> = placements().into_iter().map(|(_, _, name)| name).collect();
    candidates(set.into_iter().map(|n| (n, None)))
}

/// `(kind, namespace, name)` from `placements/<namespace>/<kind>-<name>.yaml`.
fn placements() -> Vec<(String, String, String)> {
    let Some(ctx) = context() else { return Vec::new() };
    let (Some(state), Some(base)) = (ctx.state.as_ref(), ctx.base) else { return Vec::new() };
    let mut found = Vec::new();
    for namespace in state.subdirs(base, layout::PLACEMENTS_DIR).unwrap_or_default() {
        for path in state.list_dir(base, &layout::placements_dir(&namespace)).unwrap_or_default() {
            if let Some(file) = layout::RequestFileName::parse(&path) {
                found.push((file.kind, file.namespace, file.name));
            }
        }
    }
    found
}
