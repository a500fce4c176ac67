//! `idp status KIND NS/NAME --live`: the request's lifecycle state, read from
//! the management cluster (read-only): the Argo CD Applications that carry
//! it, each claim's conditions and its connection secret's presence (never
//! its value), against the commit that last changed the request.

use serde::Serialize;
use serde_json::Value;

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
    /// A claim's write fence, wanted and observed (claims only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fence: Option<lifecycle::Fence>,
    /// A claim's composed resources, as its composite sums them up (claims only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composed: Option<String>,
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
pub struct Manifests(Vec<Manifest>);

/// One object the cluster should hold, and where Git says so (none for the
/// cell's Application, which other requests share).
struct Manifest {
    wanted: Wanted,
    source: Option<Source>,
}

/// The Git file that renders an object, and the `spec` it renders.
struct Source {
    path: String,
    spec: Value,
}

impl Manifests {
    pub fn of(ctx: &Context, target: &ResourceRef) -> Result<Self, Error> {
        let record = target.record(ctx)?.ok_or_else(|| Error::NotFound { resource: target.display() })?;
        let at = layout::CellOf { cell: &record.cell, environment: &record.environment };
        let cell = Wanted::Application { name: layout::cell_application_name(at), cell: true };
        let mut objects = vec![Manifest { wanted: cell, source: None }];
        for path in target.rendered_files(ctx, Some(&record))?.iter().filter(|p| p.starts_with("platform/")) {
            let Some(bytes) = ctx.read(path)? else { continue };
            // What idp rendered and its guard checked: plain YAML, read as JSON values.
            let Ok(documents) = serde_saphyr::from_multiple::<Value>(&String::from_utf8_lossy(&bytes)) else {
                continue;
            };
            for document in documents.iter().filter(|d| !d.is_null()) {
                if let Some(wanted) = wanted_object(document) {
                    let spec = document.get("spec").cloned().unwrap_or(Value::Null);
                    objects.push(Manifest { wanted, source: Some(Source { path: path.clone(), spec }) });
                }
            }
        }
        Ok(Self(objects))
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
    wanted: &[Manifest],
    reflects: &dyn Fn(&str) -> bool,
    deleted: bool,
) -> Result<Vec<LivePart>, LiveError> {
    let mut parts = Vec::new();
    for object in wanted {
        match &object.wanted {
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
                parts.push(LivePart { object, state, why, fence: None, composed: None });
            }
            Wanted::Claim { kind, version, namespace, name, secret } => {
                let plural = format!("{}s", kind.to_ascii_lowercase());
                let resource = Resource { group: CLAIM_GROUP, version, kind, plural: &plural };
                let claim = client.get(&resource, Some(namespace), name)?;
                let object = format!("{kind} {namespace}/{name}");
                if deleted {
                    // Its connection secret is the claim's (owner reference): it goes with it.
                    let Assessment { state, why } = lifecycle::removed(&object, claim.as_ref());
                    parts.push(LivePart { object, state, why, fence: None, composed: None });
                    continue;
                }
                let Assessment { state, mut why } = lifecycle::claim(name, claim.as_ref());
                let fence = claim.as_ref().map(lifecycle::Fence::of);
                let composed = claim.as_ref().and_then(|claim| composite_summary(client, claim));
                if let Some(composed) = composed.as_ref().filter(|_| state != Lifecycle::Ready) {
                    why = format!("{why}; composite: {composed}");
                }
                parts.push(LivePart { object, state, why, fence, composed });
                if let Some(secret) = secret {
                    let present = client.metadata(&SECRET, Some(namespace), secret)?.is_some();
                    let Assessment { state, why } = lifecycle::connection_secret(secret, present);
                    parts.push(LivePart {
                        object: format!("Secret {namespace}/{secret}"),
                        state,
                        why,
                        fence: None,
                        composed: None,
                    });
                }
            }
        }
    }
    Ok(parts)
}

/// The claim's composite (`spec.resourceRef`, cluster-scoped), summed up; or
/// why it could not be read. Supplementary: never fails the whole read.
fn composite_summary(client: &LiveClient, claim: &Value) -> Option<String> {
    let text = |pointer: &str| claim.pointer(pointer).and_then(Value::as_str);
    let (group, version) = text("/spec/resourceRef/apiVersion")?.split_once('/')?;
    let (kind, name) = (text("/spec/resourceRef/kind")?, text("/spec/resourceRef/name")?);
    // The XRDs' `names.plural` (a test ties them): the kind in lower case, plus s.
    let plural = format!("{}s", kind.to_ascii_lowercase());
    match client.get(&Resource { group, version, kind, plural: &plural }, None, name) {
        Ok(Some(composite)) => Some(lifecycle::composed(&composite)),
        Ok(None) => Some(format!("{kind} {name} does not exist")),
        Err(error) => Some(format!("{kind} {name} cannot be read: {error}")),
    }
}

/// The object a committed manifest asks the management cluster for, when it
/// is one whose status idp reads: an Application or a claim of idp's XRDs.
fn wanted_object(document: &Value) -> Option<Wanted> {
    let text = |pointer: &str| document.pointer(pointer).and_then(Value::as_str);
    let (group, version) = text("/apiVersion")?.split_once('/')?;
    let kind = text("/kind")?;
    let name = text("/metadata/name")?.to_owned();
    match (group, kind) {
        ("argoproj.io", "Application") => Some(Wanted::Application { name, cell: false }),
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

/// The claim kinds of idp's XRDs (manifests/crossplane/xrd-*.yaml,
/// `claimNames`), listed to find claims no request explains.
const CLAIM_KINDS: [(&str, &str); 2] = [("MySQLInstanceClaim", "v1alpha1"), ("ReplicationClaim", "v1alpha1")];
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
        let Some(commit) = state.last_change(&target.files(ctx, Some(&record))?)? else { continue };
        let id = state.revparse(&commit.id)?;
        let manifests = Manifests::of(ctx, &target)?;
        let cell = match &manifests.0[0].wanted {
            Wanted::Application { name, .. } => client.get(&APPLICATION, Some(ARGOCD_NAMESPACE), name),
            Wanted::Claim { .. } => unreachable!("the cell's Application comes first"),
        };
        let cell = match cell {
            Ok(cell) => cell,
            Err(error) => return Ok(unreadable(error)),
        };
        let synced =
            cell.as_ref().is_some_and(|app| lifecycle::synced_to(app, &|revision| state.contains(revision, id)));
        for manifest in &manifests.0[1..] {
            let Some(source) = &manifest.source else { continue };
            let (resource, namespace, name, plural);
            match &manifest.wanted {
                Wanted::Application { name: n, .. } => {
                    (resource, namespace, name) = (APPLICATION, ARGOCD_NAMESPACE.to_owned(), n.clone());
                }
                Wanted::Claim { kind, version, namespace: ns, name: n, .. } => {
                    plural = format!("{}s", kind.to_ascii_lowercase());
                    resource = Resource { group: CLAIM_GROUP, version, kind, plural: &plural };
                    (namespace, name) = (ns.clone(), n.clone());
                    explained.insert((kind.clone(), ns.clone(), n.clone()));
                }
            }
            let live = match client.get(&resource, Some(&namespace), &name) {
                Ok(live) => live,
                Err(error) => return Ok(unreadable(error)),
            };
            let object = format!("{} {namespace}/{name}", resource.kind);
            let (severity, message) = match (live, synced) {
                (None, true) => {
                    (Severity::Error, format!("{object} is not in the cluster, though Argo CD synced the commit"))
                }
                (None, false) => (
                    Severity::Warning,
                    format!("{object} is not in the cluster yet: Argo CD has not synced the commit"),
                ),
                (Some(live), _) => match differs(&source.spec, live.get("spec").unwrap_or(&Value::Null), "spec") {
                    Some(field) => (Severity::Error, format!("{object} differs from Git at {field}")),
                    None => continue,
                },
            };
            findings.push(Finding { severity, file: source.path.clone(), message });
        }
    }
    for (kind, version) in CLAIM_KINDS {
        let plural = format!("{}s", kind.to_ascii_lowercase());
        let resource = Resource { group: CLAIM_GROUP, version, kind, plural: &plural };
        let claims = match client.list(&resource, None, Some(MANAGED_BY_IDP)) {
            Ok(claims) => claims,
            Err(error) => return Ok(unreadable(error)),
        };
        for claim in claims {
            let text = |pointer: &str| claim.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
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
        let xrds = [
            include_str!("../../manifests/crossplane/xrd-mysql.yaml"),
            include_str!("../../manifests/crossplane/xrd-replication.yaml"),
        ];
        for (text, (kind, version)) in xrds.iter().zip(CLAIM_KINDS) {
            let xrd: Value = serde_saphyr::from_str(text).unwrap();
            assert_eq!(xrd["spec"]["group"], CLAIM_GROUP);
            assert_eq!(xrd["spec"]["claimNames"]["kind"], kind);
            assert_eq!(xrd["spec"]["claimNames"]["plural"], format!("{}s", kind.to_ascii_lowercase()));
            assert_eq!(xrd["spec"]["versions"][0]["name"], version);
            // And the composite the claim's resourceRef names, read by the same rule.
            let composite = xrd["spec"]["names"]["kind"].as_str().unwrap();
            assert_eq!(xrd["spec"]["names"]["plural"], format!("{}s", composite.to_ascii_lowercase()));
        }
    }
}
