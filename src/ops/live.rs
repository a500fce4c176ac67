//! `idp status KIND NS/NAME --live`: the request's lifecycle state, read from
//! the management cluster (read-only): the Argo CD Applications that carry
//! it, each claim's conditions and its connection secret's presence (never
//! its value), against the commit that last changed the request.

use serde::Serialize;

use super::resource::ResourceRef;
use super::{Context, Error};
use crate::layout;
use crate::live::client::{KubeTarget, LiveClient, LiveError, Resource};
use crate::live::lifecycle::{self, Assessment, Lifecycle};
use crate::request::Kind;

/// Argo CD's namespace, where idp puts every Application it renders
/// (templates/app/application.yaml.j2, render::cell_application).
const ARGOCD_NAMESPACE: &str = "argocd";
const APPLICATION: Resource<'static> =
    Resource { group: "argoproj.io", version: "v1alpha1", kind: "Application", plural: "applications" };
const SECRET: Resource<'static> = Resource { group: "", version: "v1", kind: "Secret", plural: "secrets" };
/// The group of idp's XRDs; their claim kinds are plural in lower case
/// (manifests/xrd: `claimNames.plural`).
const CLAIM_GROUP: &str = "platform.example.org";

#[derive(Debug, Serialize)]
pub struct LiveOutcome {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The commit that last changed the request's files: what the cluster should reflect.
    pub commit: String,
    /// The management cluster, as `context (server)`.
    pub cluster: String,
    /// Null when the cluster could not be read; `why` says what happened.
    pub state: Option<Lifecycle>,
    pub why: String,
    /// Every object read, in the order read.
    pub parts: Vec<LivePart>,
}

#[derive(Debug, Serialize)]
pub struct LivePart {
    /// `Application argocd/cell--payments--production`, `MySQLInstanceClaim team/name`, ...
    pub object: String,
    pub state: Lifecycle,
    pub why: String,
}

/// `idp status cell CELL ENV --live`: each member's live status.
#[derive(Debug, Serialize)]
pub struct CellLiveOutcome {
    pub cell: String,
    pub environment: String,
    pub cluster: String,
    pub members: Vec<LiveOutcome>,
}

impl CellLiveOutcome {
    /// Whether every member could be read.
    pub fn read(&self) -> bool {
        self.members.iter().all(|m| m.state.is_some())
    }
}

pub fn cell_live_status(
    ctx: &Context,
    cell: &str,
    environment: &str,
    cluster: &Management,
) -> Result<CellLiveOutcome, Error> {
    let placed = super::status::cell_status(ctx, cell, environment)?;
    let members = placed
        .members
        .iter()
        .map(|m| {
            let target =
                ResourceRef { kind: m.member.kind, namespace: m.member.namespace.clone(), name: m.member.name.clone() };
            live_status(ctx, &target, cluster)
        })
        .collect::<Result<_, _>>()?;
    Ok(CellLiveOutcome {
        cell: placed.cell,
        environment: placed.environment,
        cluster: cluster.described.clone(),
        members,
    })
}

/// An object the request's committed manifests say the cluster should hold.
enum Wanted {
    /// `cell`: the cell's Application, which syncs the request's manifests
    /// (and stays when the request is deleted); else one the request renders.
    Application {
        name: String,
        cell: bool,
    },
    Claim {
        kind: String,
        version: String,
        namespace: String,
        name: String,
        secret: Option<String>,
    },
}

/// The management cluster, connected or not: a cluster that cannot be used
/// is reported in each outcome, never raised.
pub struct Management {
    client: Result<LiveClient, LiveError>,
    described: String,
}

impl Management {
    pub fn connect(target: &KubeTarget) -> Self {
        let client = LiveClient::connect(target);
        let described = match (&client, &target.context) {
            (Ok(client), _) => client.describe(),
            (Err(_), Some(context)) => context.clone(),
            (Err(_), None) => "the kubeconfig's current context".to_owned(),
        };
        Self { client, described }
    }
}

pub fn live_status(ctx: &Context, target: &ResourceRef, cluster: &Management) -> Result<LiveOutcome, Error> {
    let state = ctx.state()?;
    let record = target.record(ctx)?.ok_or_else(|| Error::NotFound { resource: target.display() })?;
    let files = target.files(ctx, Some(&record))?;
    let commit = state.last_change(&files)?.ok_or_else(|| Error::NotFound { resource: target.display() })?;
    let id = state.revparse(&commit.id)?;
    let wanted = Manifests::of(ctx, target)?;
    Ok(assess(target, &commit.id, &wanted, cluster, &|revision| state.contains(revision, id), false))
}

/// The objects a request's committed manifests name on the management
/// cluster, read before a deletion removes the manifests.
pub struct Manifests(Vec<Wanted>);

impl Manifests {
    pub fn of(ctx: &Context, target: &ResourceRef) -> Result<Self, Error> {
        let record = target.record(ctx)?.ok_or_else(|| Error::NotFound { resource: target.display() })?;
        let at = layout::CellOf { cell: &record.cell, environment: &record.environment };
        let mut wanted = vec![Wanted::Application { name: layout::cell_application_name(at), cell: true }];
        for path in target.rendered_files(ctx, Some(&record))?.iter().filter(|p| p.starts_with("platform/")) {
            let Some(bytes) = ctx.read(path)? else { continue };
            let Ok(documents) = crate::yaml::non_empty_documents(&String::from_utf8_lossy(&bytes)) else { continue };
            wanted.extend(documents.iter().filter_map(wanted_object));
        }
        Ok(Self(wanted))
    }
}

/// After `idp delete` committed `commit`: DELETING while anything the request
/// rendered is still in the cluster, GONE once nothing is.
pub fn deletion_status(
    ctx: &Context,
    target: &ResourceRef,
    removed: &Manifests,
    commit: &str,
    cluster: &Management,
) -> Result<LiveOutcome, Error> {
    let state = ctx.state()?;
    let id = state.revparse(commit)?;
    Ok(assess(target, commit, removed, cluster, &|revision| state.contains(revision, id), true))
}

fn assess(
    target: &ResourceRef,
    commit: &str,
    wanted: &Manifests,
    cluster: &Management,
    reflects: &dyn Fn(&str) -> bool,
    deleted: bool,
) -> LiveOutcome {
    let mut outcome = LiveOutcome {
        kind: target.kind,
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        commit: commit.to_owned(),
        cluster: cluster.described.clone(),
        state: None,
        why: String::new(),
        parts: Vec::new(),
    };
    let client = match &cluster.client {
        Ok(client) => client,
        Err(error) => {
            outcome.why = error.to_string();
            return outcome;
        }
    };
    match read_all(client, &wanted.0, reflects, deleted) {
        Ok(parts) => {
            let assessments: Vec<Assessment> =
                parts.iter().map(|p| Assessment { state: p.state, why: p.why.clone() }).collect();
            let overall = lifecycle::overall(&assessments);
            outcome.state = Some(overall.state);
            outcome.why = overall.why;
            outcome.parts = parts;
        }
        Err(error) => outcome.why = error.to_string(),
    }
    outcome
}

/// Each wanted object as the cluster reports it; `deleted`: the request was
/// deleted, so what it rendered should be going or gone.
fn read_all(
    client: &LiveClient,
    wanted: &[Wanted],
    reflects: &dyn Fn(&str) -> bool,
    deleted: bool,
) -> Result<Vec<LivePart>, LiveError> {
    let mut parts = Vec::new();
    for object in wanted {
        match object {
            Wanted::Application { name, cell } => {
                let app = client.get(&APPLICATION, Some(ARGOCD_NAMESPACE), name)?;
                let object = format!("Application {ARGOCD_NAMESPACE}/{name}");
                let Assessment { state, why } = match (deleted, cell) {
                    (false, _) => lifecycle::application(name, app.as_ref(), reflects),
                    // The cell's Application syncs the deletion (or went with the cell's last member).
                    (true, true) if app.is_some() => match lifecycle::application(name, app.as_ref(), reflects) {
                        Assessment { state: Lifecycle::Ready, .. } => {
                            Assessment { state: Lifecycle::Gone, why: format!("{name} synced the deletion") }
                        }
                        other => other,
                    },
                    (true, _) => lifecycle::removed(&object, app.as_ref()),
                };
                parts.push(LivePart { object, state, why });
            }
            Wanted::Claim { kind, version, namespace, name, secret } => {
                let plural = format!("{}s", kind.to_ascii_lowercase());
                let resource = Resource { group: CLAIM_GROUP, version, kind, plural: &plural };
                let claim = client.get(&resource, Some(namespace), name)?;
                let object = format!("{kind} {namespace}/{name}");
                if deleted {
                    // Its connection secret is the claim's (owner reference): it goes with it.
                    let Assessment { state, why } = lifecycle::removed(&object, claim.as_ref());
                    parts.push(LivePart { object, state, why });
                    continue;
                }
                let Assessment { state, why } = lifecycle::claim(name, claim.as_ref());
                parts.push(LivePart { object, state, why });
                if let Some(secret) = secret {
                    let present = client.metadata(&SECRET, Some(namespace), secret)?.is_some();
                    let Assessment { state, why } = lifecycle::connection_secret(secret, present);
                    parts.push(LivePart { object: format!("Secret {namespace}/{secret}"), state, why });
                }
            }
        }
    }
    Ok(parts)
}

/// The object a committed manifest asks the management cluster for, when it
/// is one whose status idp reads: an Application or a claim of idp's XRDs.
fn wanted_object(document: &crate::yaml::Node) -> Option<Wanted> {
    let (group, version) = document.str_at(&["apiVersion"])?.split_once('/')?;
    let kind = document.str_at(&["kind"])?;
    let name = document.str_at(&["metadata", "name"])?.to_owned();
    match (group, kind) {
        ("argoproj.io", "Application") => Some(Wanted::Application { name, cell: false }),
        (CLAIM_GROUP, kind) if kind.ends_with("Claim") => Some(Wanted::Claim {
            kind: kind.to_owned(),
            version: version.to_owned(),
            namespace: document.str_at(&["metadata", "namespace"])?.to_owned(),
            name,
            secret: document.str_at(&["spec", "writeConnectionSecretToRef", "name"]).map(str::to_owned),
        }),
        _ => None,
    }
}

/// `idp apply --wait`, `idp delete --wait`: what the cluster reported when
/// the wait ended.
#[derive(Debug, Serialize)]
pub struct WaitReport {
    /// Every request READY (GONE after a delete).
    pub ready: bool,
    /// Why the wait ended otherwise: `failed`, `unreadable` or `timeout`.
    pub ended: Option<&'static str>,
    pub waited_seconds: u64,
    pub requests: Vec<LiveOutcome>,
}

impl WaitReport {
    /// One line per request not in `goal`, for the error message.
    pub fn not_there(&self, goal: Lifecycle) -> Vec<String> {
        let state = |r: &LiveOutcome| r.state.map_or("UNKNOWN", Lifecycle::as_str);
        self.requests
            .iter()
            .filter(|r| r.state != Some(goal))
            .map(|r| format!("{} {}/{} is {}: {}", r.kind, r.namespace, r.name, state(r), r.why))
            .collect()
    }
}

/// Polls `read` until every request is in `goal` (READY after an apply, GONE
/// after a delete), one FAILED (Argo CD gave up on the commit, or a claim
/// never Ready cannot reconcile), the kubeconfig cannot be used, or `timeout`
/// passes. An unreachable cluster, a DEGRADED or PENDING request may yet
/// change: those are waited on. `progress` sees each round whose states
/// differ from the last one's.
pub fn wait_for(
    goal: Lifecycle,
    read: &dyn Fn() -> Result<Vec<LiveOutcome>, Error>,
    cluster: &Management,
    timeout: std::time::Duration,
    progress: &mut dyn FnMut(&[LiveOutcome]),
) -> Result<WaitReport, Error> {
    // Soon after a commit Argo CD has not even seen it; a database takes
    // minutes. Poll often at first, then every few seconds.
    let mut poll = std::time::Duration::from_millis(250);
    let started = std::time::Instant::now();
    let mut last: Vec<Option<Lifecycle>> = Vec::new();
    loop {
        let requests = read()?;
        let states: Vec<Option<Lifecycle>> = requests.iter().map(|r| r.state).collect();
        if states != last {
            progress(&requests);
            last = states;
        }
        let ended = if requests.iter().all(|r| r.state == Some(goal)) {
            Some(None)
        } else if requests.iter().any(|r| r.state == Some(Lifecycle::Failed)) {
            Some(Some("failed"))
        } else if cluster.client.is_err() {
            Some(Some("unreadable"))
        } else if started.elapsed() >= timeout {
            Some(Some("timeout"))
        } else {
            None
        };
        if let Some(ended) = ended {
            return Ok(WaitReport {
                ready: ended.is_none(),
                ended,
                waited_seconds: started.elapsed().as_secs(),
                requests,
            });
        }
        std::thread::sleep(poll);
        poll = (poll * 2).min(std::time::Duration::from_secs(5));
    }
}
