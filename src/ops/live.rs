//! What the management cluster reports about what Git holds, read-only:
//! `idp status --live` (a request's lifecycle state from the Argo CD
//! Applications that carry it, each claim's conditions, fence and composite,
//! its connection secret's presence, never its value, against the commit
//! that last changed the request), the waits of `apply --wait` and
//! `delete --wait`, and `verify --live` (drift between Git and the cluster).

use serde::Serialize;
use serde_json::Value;

use super::resource::ResourceRef;
use super::{Context, Error};
use crate::layout;
use crate::live::client::{KubeTarget, LiveClient, LiveError, Resource};
use crate::live::lifecycle::{self, Assessment, Lifecycle, str_at};
use crate::record::PlacementRecord;
use crate::request::Kind;

/// Argo CD's namespace, where idp puts every Application it renders
/// (templates/app/application.yaml.j2, render::cell_application).
const ARGOCD_NAMESPACE: &str = "argocd";
const APPLICATION: Resource<'static> =
    Resource { group: "argoproj.io", version: "v1alpha1", kind: "Application", plural: "applications" };
const SECRET: Resource<'static> = Resource { group: "", version: "v1", kind: "Secret", plural: "secrets" };
const DEPLOYMENT: Resource<'static> =
    Resource { group: "apps", version: "v1", kind: "Deployment", plural: "deployments" };
/// The group of idp's XRDs (manifests/crossplane/xrd-*.yaml).
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
    /// Each runtime cluster the request's Applications deploy to, and whether
    /// idp could read its workloads there (`kubeContexts.runtime`).
    pub runtime: Vec<RuntimeRead>,
}

/// A runtime cluster as one read saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeRead {
    /// As the candidates name it (the Applications' `destination.name`).
    pub cluster: String,
    /// Its kubeconfig context; null without a `kubeContexts.runtime` entry,
    /// when only Argo CD's Application health speaks for it.
    pub context: Option<String>,
    pub read: bool,
    pub why: String,
}

#[derive(Debug, Serialize)]
pub struct LivePart {
    /// `Application argocd/cell--payments--production`, `MySQLInstanceClaim team/name`, ...
    pub object: String,
    pub state: Lifecycle,
    pub why: String,
    /// A claim's write fence, wanted and observed (claims only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fence: Option<lifecycle::Fence>,
    /// A claim's composed resources, as its composite sums them up (claims only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composed: Option<String>,
}

impl LivePart {
    fn new(object: String, Assessment { state, why }: Assessment) -> Self {
        Self { object, state, why, fence: None, composed: None }
    }
}

impl LiveOutcome {
    /// What a wait says of the request as it goes.
    pub fn progress_line(&self) -> String {
        let state = self.state.map_or("UNKNOWN", Lifecycle::as_str);
        format!("waiting: {} {}/{} {state}: {}", self.kind, self.namespace, self.name, self.why)
    }
}

/// `idp status cell CELL ENV --live`: each member's live status.
#[derive(Debug, Serialize)]
pub struct CellLiveOutcome {
    pub cell: String,
    pub environment: String,
    pub cluster: String,
    /// A staged failover or failback part way, as the cell's file records it.
    pub runbook: Option<crate::cell::Runbook>,
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
        runbook: placed.runbook,
        members,
    })
}

/// An object the request's committed manifests say the cluster should hold.
enum Wanted {
    /// An app's Application, in Argo CD's namespace, and the workload it
    /// deploys to its runtime cluster.
    Application {
        name: String,
        workload: Option<lifecycle::Workload>,
    },
    Claim {
        kind: String,
        version: String,
        namespace: String,
        name: String,
        secret: Option<String>,
    },
}

impl Wanted {
    /// `Kind namespace/name`, as the outcome names it.
    fn describe(&self) -> String {
        match self {
            Wanted::Application { name, .. } => format!("Application {ARGOCD_NAMESPACE}/{name}"),
            Wanted::Claim { kind, namespace, name, .. } => format!("{kind} {namespace}/{name}"),
        }
    }

    /// The object as the cluster serves it (None: 404).
    fn get(&self, client: &LiveClient) -> Result<Option<Value>, LiveError> {
        match self {
            Wanted::Application { name, .. } => client.get(&APPLICATION, Some(ARGOCD_NAMESPACE), name),
            Wanted::Claim { kind, version, namespace, name, .. } => {
                let plural = xrd_plural(kind);
                client.get(&Resource { group: CLAIM_GROUP, version, kind, plural: &plural }, Some(namespace), name)
            }
        }
    }
}

/// The management cluster, connected or not, and the runtime clusters the
/// policy names a context for, connected when first read: a cluster that
/// cannot be used is reported in each outcome, never raised.
pub struct Management {
    client: Result<LiveClient, LiveError>,
    described: String,
    /// `kubeContexts.runtime`: runtime cluster → context.
    runtime_contexts: std::collections::BTreeMap<String, String>,
    runtime: std::cell::RefCell<std::collections::BTreeMap<String, std::rc::Rc<Result<LiveClient, LiveError>>>>,
}

impl Management {
    /// Its kubeconfig context: `context` (`--context`), else the policy's
    /// `kubeContexts.management`, else the kubeconfig's current context.
    pub fn connect(ctx: &Context, context: Option<String>) -> Self {
        let context = context.or_else(|| ctx.policy.policy.kube_contexts.management.clone());
        let client = LiveClient::connect(&KubeTarget { context: context.clone() });
        let described = match (&client, context) {
            (Ok(client), _) => client.describe(),
            (Err(_), Some(context)) => context,
            (Err(_), None) => "the kubeconfig's current context".to_owned(),
        };
        let runtime_contexts = ctx.policy.policy.kube_contexts.runtime.clone();
        Self { client, described, runtime_contexts, runtime: Default::default() }
    }

    /// A runtime cluster's client, when the policy names its context.
    fn runtime(&self, cluster: &str) -> Option<(String, std::rc::Rc<Result<LiveClient, LiveError>>)> {
        let context = self.runtime_contexts.get(cluster)?.clone();
        let mut connected = self.runtime.borrow_mut();
        let client = connected
            .entry(cluster.to_owned())
            .or_insert_with(|| std::rc::Rc::new(LiveClient::connect(&KubeTarget { context: Some(context.clone()) })))
            .clone();
        Some((context, client))
    }

    /// The cluster, as `context (server)`.
    pub fn described(&self) -> &str {
        &self.described
    }

    /// Whether the cluster answers: one read of `application` in Argo CD's
    /// namespace (a 404 answers too). The error says why not.
    pub fn probe(&self, application: &str) -> Result<(), String> {
        let client = self.client.as_ref().map_err(ToString::to_string)?;
        client.get(&APPLICATION, Some(ARGOCD_NAMESPACE), application).map(drop).map_err(|e| e.to_string())
    }
}

pub fn live_status(ctx: &Context, target: &ResourceRef, cluster: &Management) -> Result<LiveOutcome, Error> {
    Tracked::placed(ctx, target)?.read(ctx, cluster)
}

/// A request and what the cluster should show of it, resolved from Git once
/// (a wait reads the cluster many times, Git once): the commit it must
/// reflect and the objects its manifests name.
pub struct Tracked {
    target: ResourceRef,
    commit: String,
    manifests: Manifests,
    /// Deleted in `commit`: what it rendered should be going or gone.
    deleted: bool,
    /// The remote branch Argo CD reads, when the commit was pushed there.
    origin: Option<Origin>,
    /// Revisions fetched for already: each at most once.
    fetched: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// The remote branch a commit was pushed to, and so the one Argo CD syncs.
/// Another pipeline may push after it: the revision Argo CD reports is then
/// one this clone has not fetched, and is fetched once to see whether it
/// contains the commit.
#[derive(Debug, Clone)]
pub struct Origin {
    pub remote: String,
    pub branch: String,
    pub timeout: std::time::Duration,
}

impl Origin {
    /// Where a landed commit went, when it was pushed (None: committed locally).
    pub fn of(push: Option<&super::land::PushOptions>, landed: Option<&super::land::Landed>) -> Option<Self> {
        let (push, landed) = (push?, landed?);
        Some(Self { remote: push.remote.clone(), branch: landed.branch.clone(), timeout: push.timeout })
    }
}

impl Tracked {
    /// A placed request, against the commit that last changed its files.
    pub fn placed(ctx: &Context, target: &ResourceRef) -> Result<Self, Error> {
        let not_found = || Error::NotFound { resource: target.display() };
        let record = target.record(ctx)?.ok_or_else(not_found)?;
        Self::recorded(ctx, target, &record)?.ok_or_else(not_found)
    }

    /// The same from its record, read already; None when no commit changed
    /// its files.
    fn recorded(ctx: &Context, target: &ResourceRef, record: &PlacementRecord) -> Result<Option<Self>, Error> {
        let files = target.files(ctx, Some(record))?;
        let Some(commit) = ctx.state()?.last_change(&files)? else { return Ok(None) };
        Ok(Some(Self::new(target, commit.id, Manifests::of(ctx, record, &files)?)))
    }

    /// Some of a placed request's files (`files`, those a commit changed),
    /// against `commit`: what a runbook stage waits for.
    pub fn changed_in(ctx: &Context, target: &ResourceRef, commit: &str, files: &[String]) -> Result<Self, Error> {
        let record = target.record(ctx)?.ok_or_else(|| Error::NotFound { resource: target.display() })?;
        let manifests = Manifests::of(ctx, &record, files)?;
        Ok(Self::new(target, commit.to_owned(), manifests))
    }

    fn new(target: &ResourceRef, commit: String, manifests: Manifests) -> Self {
        let (deleted, origin, fetched) = (false, None, Default::default());
        Self { target: target.clone(), commit, manifests, deleted, origin, fetched }
    }

    /// Against what Argo CD reads from `origin` (the commit was pushed there).
    pub fn pushed_to(self, origin: Option<Origin>) -> Self {
        Self { origin, ..self }
    }

    /// Whether `revision` (what Argo CD synced) contains the commit; a
    /// revision this clone lacks is fetched from the origin first, once.
    fn reflected_in(&self, state: &crate::state::StateRepo, id: crate::state::ObjectId, revision: &str) -> bool {
        if state.contains(revision, id) {
            return true;
        }
        let Some(origin) = &self.origin else { return false };
        if state.has_commit(revision) || !self.fetched.borrow_mut().insert(revision.to_owned()) {
            return false;
        }
        state.fetch_branch(&origin.remote, &origin.branch, origin.timeout, &|_| {}).is_ok()
            && state.contains(revision, id)
    }

    /// The same request once `commit` (`idp delete`'s) removed its files:
    /// DELETING while anything it rendered is still in the cluster, GONE
    /// once nothing is.
    pub fn deleted_in(self, commit: &str) -> Self {
        Self { commit: commit.to_owned(), deleted: true, ..self }
    }

    /// What the cluster reports now.
    pub fn read(&self, ctx: &Context, cluster: &Management) -> Result<LiveOutcome, Error> {
        let state = ctx.state()?;
        let id = state.revparse(&self.commit)?;
        let target = &self.target;
        let mut outcome = LiveOutcome {
            kind: target.kind,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            commit: self.commit.clone(),
            cluster: cluster.described.clone(),
            state: None,
            why: String::new(),
            parts: Vec::new(),
            runtime: Vec::new(),
        };
        let client = match &cluster.client {
            Ok(client) => client,
            Err(error) => {
                outcome.why = error.to_string();
                return Ok(outcome);
            }
        };
        match read_all(client, &self.manifests, &|revision| self.reflected_in(state, id, revision), self.deleted) {
            Ok(mut parts) => {
                if !self.deleted {
                    let (workloads, runtime) = read_runtime(cluster, &self.manifests);
                    parts.extend(workloads);
                    outcome.runtime = runtime;
                }
                let assessments: Vec<Assessment> =
                    parts.iter().map(|p| Assessment { state: p.state, why: p.why.clone() }).collect();
                let overall = lifecycle::overall(&assessments);
                outcome.state = Some(overall.state);
                outcome.why = overall.why;
                outcome.parts = parts;
            }
            Err(error) => outcome.why = error.to_string(),
        }
        Ok(outcome)
    }
}

/// What a request's committed manifests ask of the management cluster: the
/// cell's Application that syncs them (shared with the cell's other
/// requests), and each object they render.
struct Manifests {
    cell_application: String,
    objects: Vec<Manifest>,
}

/// One object the cluster should hold, the Git file that renders it and the
/// `spec` it renders there.
struct Manifest {
    wanted: Wanted,
    path: String,
    spec: Value,
}

impl Manifests {
    /// From the request's files (`ResourceRef::files`): those under platform/
    /// are what the management cluster applies.
    fn of(ctx: &Context, record: &PlacementRecord, files: &[String]) -> Result<Self, Error> {
        let at = layout::CellOf { cell: &record.cell, environment: &record.environment };
        let mut objects = Vec::new();
        for path in files.iter().filter(|p| p.starts_with("platform/")) {
            let Some(bytes) = ctx.read(path)? else { continue };
            // What idp rendered and its guard checked: plain YAML, read as JSON values.
            let Ok(documents) = serde_saphyr::from_multiple::<Value>(&String::from_utf8_lossy(&bytes)) else {
                continue;
            };
            for document in documents.iter().filter(|d| !d.is_null()) {
                if let Some(wanted) = wanted_object(document) {
                    let spec = document.get("spec").cloned().unwrap_or(Value::Null);
                    objects.push(Manifest { wanted, path: path.clone(), spec });
                }
            }
        }
        Ok(Self { cell_application: layout::cell_application_name(at), objects })
    }
}

/// Each wanted object as the cluster reports it; `deleted`: the request was
/// deleted, so what it rendered should be going or gone.
fn read_all(
    client: &LiveClient,
    manifests: &Manifests,
    reflects: &dyn Fn(&str) -> bool,
    deleted: bool,
) -> Result<Vec<LivePart>, LiveError> {
    let name = &manifests.cell_application;
    let app = client.get(&APPLICATION, Some(ARGOCD_NAMESPACE), name)?;
    let cell = match (deleted, lifecycle::application(name, app.as_ref(), reflects)) {
        // After a deletion, the cell's Application syncs it (or went with the cell's last request).
        (true, Assessment { state: Lifecycle::Ready, .. }) => {
            Assessment { state: Lifecycle::Gone, why: format!("{name} synced the deletion") }
        }
        (true, _) if app.is_none() => Assessment { state: Lifecycle::Gone, why: format!("{name} is gone") },
        (_, assessment) => assessment,
    };
    let mut parts = vec![LivePart::new(format!("Application {ARGOCD_NAMESPACE}/{name}"), cell)];
    for Manifest { wanted, .. } in &manifests.objects {
        let live = wanted.get(client)?;
        let object = wanted.describe();
        if deleted {
            // A claim's connection secret is the claim's (owner reference): it goes with it.
            parts.push(LivePart::new(object, lifecycle::removed(&wanted.describe(), live.as_ref())));
            continue;
        }
        match wanted {
            Wanted::Application { name, .. } => {
                parts.push(LivePart::new(object, lifecycle::application(name, live.as_ref(), reflects)));
            }
            Wanted::Claim { namespace, name, secret, .. } => {
                let mut part = LivePart::new(object, lifecycle::claim(name, live.as_ref()));
                if let Some(claim) = &live {
                    part.fence = lifecycle::Fence::of(claim);
                    part.composed = composite_summary(client, claim);
                }
                if let Some(composed) = part.composed.as_ref().filter(|_| part.state != Lifecycle::Ready) {
                    part.why = format!("{}; composite: {composed}", part.why);
                }
                parts.push(part);
                if let Some(secret) = secret {
                    let present = client.metadata(&SECRET, Some(namespace), secret)?.is_some();
                    let object = format!("Secret {namespace}/{secret}");
                    parts.push(LivePart::new(object, lifecycle::connection_secret(secret, present)));
                }
            }
        }
    }
    Ok(parts)
}

/// Each workload's Deployment on its runtime cluster, where the policy names
/// the cluster's context (read-only, as the management cluster is read), and
/// each runtime cluster as it answered: one that cannot be read is reported,
/// and its workloads are left to Argo CD's Application health.
fn read_runtime(cluster: &Management, manifests: &Manifests) -> (Vec<LivePart>, Vec<RuntimeRead>) {
    let mut parts = Vec::new();
    let mut reads: std::collections::BTreeMap<String, RuntimeRead> = Default::default();
    let workloads = manifests.objects.iter().filter_map(|m| match &m.wanted {
        Wanted::Application { workload, .. } => workload.as_ref(),
        Wanted::Claim { .. } => None,
    });
    for workload in workloads {
        let (context, read) = match cluster.runtime(&workload.cluster) {
            None => (None, Err("no kubeContexts.runtime entry: its Application's health speaks for it".to_owned())),
            Some((context, client)) => {
                let read = client.as_ref().as_ref().map_err(ToString::to_string).and_then(|client| {
                    let live = client.get(&DEPLOYMENT, Some(&workload.namespace), &workload.deployment);
                    live.map(|live| (client.describe(), live)).map_err(|e| e.to_string())
                });
                (Some(context), read)
            }
        };
        let why = match read {
            Ok((described, live)) => {
                parts.push(LivePart::new(workload.describe(), lifecycle::deployment(workload, live.as_ref())));
                Ok(described)
            }
            Err(why) => Err(why),
        };
        let seen = reads.entry(workload.cluster.clone()).or_insert_with(|| RuntimeRead {
            cluster: workload.cluster.clone(),
            context,
            read: why.is_ok(),
            why: why.clone().unwrap_or_else(|e| e),
        });
        // One failed read makes the cluster unread.
        if let (true, Err(why)) = (seen.read, why) {
            (seen.read, seen.why) = (false, why);
        }
    }
    (parts, reads.into_values().collect())
}

/// The plural of a claim or composite kind of idp's XRDs (`claimNames.plural`,
/// `names.plural`; a test ties them): the kind in lower case, plus s.
fn xrd_plural(kind: &str) -> String {
    format!("{}s", kind.to_ascii_lowercase())
}

/// The claim's composite (`spec.resourceRef`, cluster-scoped), summed up; or
/// why it could not be read. Supplementary: never fails the whole read.
fn composite_summary(client: &LiveClient, claim: &Value) -> Option<String> {
    let (group, version) = str_at(claim, "/spec/resourceRef/apiVersion")?.split_once('/')?;
    let (kind, name) = (str_at(claim, "/spec/resourceRef/kind")?, str_at(claim, "/spec/resourceRef/name")?);
    let plural = xrd_plural(kind);
    match client.get(&Resource { group, version, kind, plural: &plural }, None, name) {
        Ok(Some(composite)) => Some(lifecycle::composed(&composite)),
        Ok(None) => Some(format!("{kind} {name} does not exist")),
        Err(error) => Some(format!("{kind} {name} cannot be read: {error}")),
    }
}

/// The object a committed manifest asks the management cluster for, when it
/// is one whose status idp reads: an Application or a claim of idp's XRDs.
fn wanted_object(document: &Value) -> Option<Wanted> {
    let text = |pointer: &str| str_at(document, pointer);
    let (group, version) = text("/apiVersion")?.split_once('/')?;
    let kind = text("/kind")?;
    let name = text("/metadata/name")?.to_owned();
    match (group, kind) {
        ("argoproj.io", "Application") => {
            Some(Wanted::Application { name, workload: lifecycle::Workload::of(document) })
        }
        (CLAIM_GROUP, kind) if kind.ends_with("Claim") => Some(Wanted::Claim {
            kind: kind.to_owned(),
            version: version.to_owned(),
            namespace: text("/metadata/namespace")?.to_owned(),
            name,
            secret: text("/spec/writeConnectionSecretToRef/name").map(str::to_owned),
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
    /// Why the wait ended otherwise; null when it reached its goal.
    pub ended: Option<WaitEnd>,
    pub waited_seconds: u64,
    pub requests: Vec<LiveOutcome>,
}

/// Why a wait ended before its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitEnd {
    /// A request FAILED: waiting longer would not help.
    Failed,
    /// The kubeconfig cannot be used.
    Unreadable,
    Timeout,
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
        let reached = requests.iter().all(|r| r.state == Some(goal));
        let ended = if requests.iter().any(|r| r.state == Some(Lifecycle::Failed)) {
            Some(WaitEnd::Failed)
        } else if cluster.client.is_err() {
            Some(WaitEnd::Unreadable)
        } else if started.elapsed() >= timeout {
            Some(WaitEnd::Timeout)
        } else {
            None
        };
        if reached || ended.is_some() {
            let ended = if reached { None } else { ended };
            return Ok(WaitReport { ready: reached, ended, waited_seconds: started.elapsed().as_secs(), requests });
        }
        std::thread::sleep(poll);
        poll = (poll * 2).min(std::time::Duration::from_secs(5));
    }
}

/// The claim kinds in force (idp's XRDs, manifests/crossplane/xrd-*.yaml
/// `claimNames`, and a state repo's products'), listed to find claims no
/// request explains.
fn claim_kinds(products: &crate::product::Products) -> Vec<(String, String)> {
    products.claim_kinds().iter().map(|c| (c.kind.to_owned(), c.version.to_owned())).collect()
}
/// The label idp puts on everything it renders (render::STANDARD_LABELS).
const MANAGED_BY_IDP: &str = "app.kubernetes.io/managed-by=idp";

/// `idp verify --live`: where the management cluster differs from Git.
/// Errors: an object Git renders that is missing although Argo CD synced the
/// commit, a field the cluster holds otherwise than Git renders it, a claim
/// labelled as idp's that no request explains. Warnings: objects not synced
/// yet. Read-only, like `status --live`.
pub fn drift(ctx: &Context, cluster: &Management) -> Result<Vec<super::verify::Finding>, Error> {
    use super::verify::{Finding, Severity};
    let client = match &cluster.client {
        Ok(client) => client,
        Err(error) => {
            let message = format!("cannot read the management cluster: {error}");
            return Ok(vec![Finding { severity: Severity::Error, file: cluster.described.clone(), message }]);
        }
    };
    let unreadable = |error: LiveError| {
        vec![Finding { severity: Severity::Error, file: cluster.described.clone(), message: error.to_string() }]
    };
    let state = ctx.state()?;
    let mut findings = Vec::new();
    let mut explained = std::collections::BTreeSet::new();
    for record in ctx.placements_in(None)? {
        let target = ResourceRef {
            kind: record.request_kind,
            namespace: record.metadata.namespace.clone(),
            name: record.metadata.name.clone(),
        };
        let Some(Tracked { commit, manifests, .. }) = Tracked::recorded(ctx, &target, &record)? else { continue };
        let id = state.revparse(&commit)?;
        let cell = match client.get(&APPLICATION, Some(ARGOCD_NAMESPACE), &manifests.cell_application) {
            Ok(cell) => cell,
            Err(error) => return Ok(unreadable(error)),
        };
        let synced =
            cell.as_ref().is_some_and(|app| lifecycle::synced_to(app, &|revision| state.contains(revision, id)));
        for Manifest { wanted, path, spec } in &manifests.objects {
            if let Wanted::Claim { kind, namespace, name, .. } = wanted {
                explained.insert((kind.clone(), namespace.clone(), name.clone()));
            }
            let live = match wanted.get(client) {
                Ok(live) => live,
                Err(error) => return Ok(unreadable(error)),
            };
            let object = wanted.describe();
            let (severity, message) = match (live, synced) {
                (None, true) => {
                    (Severity::Error, format!("{object} is not in the cluster, though Argo CD synced the commit"))
                }
                (None, false) => (
                    Severity::Warning,
                    format!("{object} is not in the cluster yet: Argo CD has not synced the commit"),
                ),
                (Some(live), _) => match differs(spec, live.get("spec").unwrap_or(&Value::Null), "spec") {
                    Some(field) => (Severity::Error, format!("{object} differs from Git at {field}")),
                    None => continue,
                },
            };
            findings.push(Finding { severity, file: path.clone(), message });
        }
    }
    for (kind, version) in claim_kinds(&ctx.products) {
        let (kind, version) = (kind.as_str(), version.as_str());
        let plural = xrd_plural(kind);
        let resource = Resource { group: CLAIM_GROUP, version, kind, plural: &plural };
        let claims = match client.list(&resource, None, Some(MANAGED_BY_IDP)) {
            Ok(claims) => claims,
            // No CRD serves the kind here (its XRD is not installed): no claim of
            // it exists. A claim Git renders of it is reported missing above.
            Err(crate::live::client::LiveError::Api { code: 404, .. }) => continue,
            Err(error) => return Ok(unreadable(error)),
        };
        for claim in claims {
            let text = |pointer: &str| str_at(&claim, pointer).unwrap_or_default().to_owned();
            let (namespace, name) = (text("/metadata/namespace"), text("/metadata/name"));
            if !explained.contains(&(kind.to_owned(), namespace.clone(), name.clone())) {
                findings.push(Finding {
                    severity: Severity::Error,
                    file: cluster.described.clone(),
                    message: format!(
                        "{kind} {namespace}/{name} is labelled as idp's but no request explains it (a hand-made claim, or one Argo CD did not prune)"
                    ),
                });
            }
        }
    }
    Ok(findings)
}

/// The first field Git renders that the cluster holds otherwise, as
/// `spec.a.b: Git x, cluster y`. Fields the cluster adds (defaults,
/// Crossplane's references) are not drift; a field Git renders is.
fn differs(git: &Value, live: &Value, at: &str) -> Option<String> {
    match (git, live) {
        (Value::Object(git), Value::Object(live)) => git
            .iter()
            .find_map(|(key, value)| differs(value, live.get(key).unwrap_or(&Value::Null), &format!("{at}.{key}"))),
        (git, live) if git == live => None,
        (git, live) => Some(format!("{at}: Git {git}, cluster {live}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn drift_is_a_field_git_renders_that_the_cluster_holds_otherwise() {
        let git = json!({"parameters": {"size": "large", "ha": true}});
        let live = json!({"parameters": {"size": "large", "ha": true, "defaulted": 1}, "resourceRef": {"name": "x"}});
        assert_eq!(differs(&git, &live, "spec"), None, "what the cluster adds is not drift");
        let edited = json!({"parameters": {"size": "xlarge", "ha": true}});
        assert_eq!(
            differs(&git, &edited, "spec").as_deref(),
            Some("spec.parameters.size: Git \"large\", cluster \"xlarge\"")
        );
        let removed = json!({"parameters": {"size": "large"}});
        assert_eq!(differs(&git, &removed, "spec").as_deref(), Some("spec.parameters.ha: Git true, cluster null"));
    }

    /// The kinds listed for claims no request explains, and the plural every claim is
    /// read by, are the XRDs' own `claimNames` and served version.
    #[test]
    fn the_claim_kinds_are_those_of_the_xrds() {
        let xrds = crate::xrd::EMBEDDED_XRDS.iter().map(|(_, text)| text);
        let kinds = claim_kinds(crate::product::Products::embedded());
        assert_eq!(xrds.len(), kinds.len());
        for (text, (kind, version)) in xrds.zip(kinds) {
            let xrd: Value = serde_saphyr::from_str(text).unwrap();
            assert_eq!(xrd["spec"]["group"], CLAIM_GROUP);
            assert_eq!(xrd["spec"]["claimNames"]["kind"], kind);
            assert_eq!(xrd["spec"]["claimNames"]["plural"], xrd_plural(&kind));
            assert_eq!(xrd["spec"]["versions"][0]["name"], version);
            // And the composite the claim's resourceRef names, read by the same rule.
            let composite = xrd["spec"]["names"]["kind"].as_str().unwrap();
            assert_eq!(xrd["spec"]["names"]["plural"], xrd_plural(composite));
        }
    }
}
