//! A request's lifecycle state in the clusters, derived from what Argo CD and
//! Crossplane report about the objects idp rendered for it: PENDING
//! (committed, not yet synced) → PROVISIONING → READY, or DEGRADED, FAILED,
//! DELETING. Pure: it reads API objects as JSON (fetched elsewhere, read-only)
//! and never talks to a cluster.
//!
//! Each rule cites the upstream behaviour it relies on; the shapes are those
//! of tests/fixtures/live (its README pins the sources and commits).

use serde::Serialize;
use serde_json::Value;

/// Ordered from the least to the most urgent: a request is in the most urgent
/// state any of its parts is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lifecycle {
    /// Deleted: nothing the request rendered is left (after `idp delete`).
    Gone,
    Ready,
    Provisioning,
    Pending,
    Degraded,
    Failed,
    Deleting,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Gone => "GONE",
            Lifecycle::Ready => "READY",
            Lifecycle::Provisioning => "PROVISIONING",
            Lifecycle::Pending => "PENDING",
            Lifecycle::Degraded => "DEGRADED",
            Lifecycle::Failed => "FAILED",
            Lifecycle::Deleting => "DELETING",
        }
    }
}

/// One part's state and why (the upstream condition or message, as reported).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub state: Lifecycle,
    pub why: String,
}

impl Assessment {
    fn new(state: Lifecycle, why: impl Into<String>) -> Self {
        Self { state, why: why.into() }
    }
}

/// The request's state: the most urgent of its parts', with every part that is
/// not READY saying why.
pub fn overall(parts: &[Assessment]) -> Assessment {
    let state = parts.iter().map(|p| p.state).max().unwrap_or(Lifecycle::Pending);
    let why: Vec<&str> = parts.iter().filter(|p| p.state == state).map(|p| p.why.as_str()).collect();
    Assessment::new(state, why.join("; "))
}

/// The string at a JSON pointer of an API object, if it is one.
pub fn str_at<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// An Argo CD Application that carries the request, against `reflects`: whether
/// a revision Argo CD reports contains the commit that last changed the request
/// (that commit or a descendant of it, a question for the state repo).
///
/// argo-cd `controller/state.go` (CompareAppState) sets `status.sync.revision` to
/// the commit the last comparison resolved `targetRevision` to, following the
/// branch; `Synced` there with `comparedTo` equal to the current spec means the
/// live objects match that commit. `operationState` is the last sync operation
/// (`controller/sync.go`, `appcontroller.go`); health codes are gitops-engine's
/// `pkg/health/health.go`.
pub fn application(name: &str, app: Option<&Value>, reflects: &dyn Fn(&str) -> bool) -> Assessment {
    use Lifecycle::*;
    let Some(app) = app else {
        return Assessment::new(Pending, format!("Argo CD has no Application {name} yet"));
    };
    if app.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Assessment::new(Deleting, format!("Application {name} is being deleted"));
    }
    let phase = str_at(app, "/status/operationState/phase");
    let operation_message = str_at(app, "/status/operationState/message").unwrap_or_default();
    let operated_on = str_at(app, "/status/operationState/syncResult/revision")
        .or_else(|| str_at(app, "/status/operationState/operation/sync/revision"));
    let ours = operated_on.is_some_and(reflects);
    // A final failure of a sync of this commit; `Running` with `finishedAt` is a
    // failed attempt waiting for its retry (appcontroller.go), reported below.
    if ours && matches!(phase, Some("Failed" | "Error")) {
        return Assessment::new(Failed, format!("Argo CD failed to sync {name}: {operation_message}"));
    }
    let sync = str_at(app, "/status/sync/status");
    if sync == Some("Unknown") {
        let error = app
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| str_at(c, "/type") == Some("ComparisonError")))
            .and_then(|c| str_at(c, "/message"))
            .unwrap_or("comparison status Unknown");
        return Assessment::new(Failed, format!("Argo CD cannot compare {name}: {error}"));
    }
    if !synced_to(app, reflects) {
        if ours && phase == Some("Running") {
            let retrying = app.pointer("/status/operationState/finishedAt").is_some_and(|t| !t.is_null());
            let doing = if retrying { "retrying a failed sync of" } else { "syncing" };
            return Assessment::new(Provisioning, format!("Argo CD is {doing} {name}: {operation_message}"));
        }
        return Assessment::new(
            Pending,
            format!(
                "Argo CD has not synced the commit to {name} yet (sync {}, compared {})",
                sync.unwrap_or("not reported"),
                str_at(app, "/status/sync/revision").map(short).unwrap_or("nothing")
            ),
        );
    }
    let health = str_at(app, "/status/health/status").unwrap_or("Unknown");
    let message = str_at(app, "/status/health/message").map(|m| format!(": {m}")).unwrap_or_default();
    match health {
        "Healthy" => Assessment::new(Ready, format!("{name} is synced and Healthy")),
        "Progressing" | "Suspended" => Assessment::new(Provisioning, format!("{name} is {health}{message}")),
        "Missing" => Assessment::new(Pending, format!("{name} is synced but its objects are Missing")),
        _ => Assessment::new(Degraded, format!("{name} is {health}{message}")),
    }
}

/// Whether the Application's live objects match a revision that contains the
/// commit: `Synced`, compared with the current spec (not an older one), at a
/// revision `reflects` accepts.
pub fn synced_to(app: &Value, reflects: &dyn Fn(&str) -> bool) -> bool {
    let compared_to_spec = ["source", "destination"].iter().all(|field| {
        app.pointer(&format!("/status/sync/comparedTo/{field}")) == app.pointer(&format!("/spec/{field}"))
    });
    str_at(app, "/status/sync/status") == Some("Synced")
        && compared_to_spec
        && str_at(app, "/status/sync/revision").is_some_and(reflects)
}

/// A Crossplane claim idp rendered (`None`: the API server says 404).
///
/// crossplane `internal/controller/apiextensions/claim/reconciler.go`: `Ready` is
/// `Waiting` (False) until the composite is Ready, then `Available` (True);
/// `Synced` is False (`ReconcileError`) when a reconcile fails, with the error as
/// its message. A claim that has published its connection details once
/// (`status.connectionDetails.lastPublishedTime`) was Ready before, so `Waiting`
/// again is a database that stopped being available or is being changed (the
/// composite, not read here, tells which).
pub fn claim(name: &str, claim: Option<&Value>) -> Assessment {
    use Lifecycle::*;
    let Some(claim) = claim else {
        return Assessment::new(Pending, format!("claim {name} does not exist yet"));
    };
    if claim.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Assessment::new(Deleting, format!("claim {name} is being deleted"));
    }
    let condition = |kind: &str| {
        claim
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|all| all.iter().find(|c| str_at(c, "/type") == Some(kind)))
    };
    let explained = |c: &Value| {
        let reason = str_at(c, "/reason").map(|r| format!(" ({r})")).unwrap_or_default();
        let message = str_at(c, "/message").map(|m| format!(": {m}")).unwrap_or_default();
        format!(
            "claim {name} {}={}{reason}{message}",
            str_at(c, "/type").unwrap_or("?"),
            str_at(c, "/status").unwrap_or("?")
        )
    };
    let was_ready = claim.pointer("/status/connectionDetails/lastPublishedTime").is_some_and(|t| !t.is_null());
    if let Some(synced) = condition("Synced")
        && str_at(synced, "/status") == Some("False")
    {
        // A person paused it (`crossplane.io/paused`): not a failure, and
        // nothing changes until the annotation goes (crossplane
        // apis/core/v2/condition.go ReconcilePaused, claim/reconciler.go).
        if str_at(synced, "/reason") == Some("ReconcilePaused") {
            return Assessment::new(
                Degraded,
                format!("{}; remove the crossplane.io/paused annotation", explained(synced)),
            );
        }
        return Assessment::new(if was_ready { Degraded } else { Failed }, explained(synced));
    }
    let Some(ready) = condition("Ready") else {
        return Assessment::new(Provisioning, format!("claim {name}: Crossplane has not reported on it yet"));
    };
    if str_at(ready, "/status") != Some("True") {
        return Assessment::new(if was_ready { Degraded } else { Provisioning }, explained(ready));
    }
    if let Some(waiting) = Fence::of(claim).and_then(|fence| fence.pending()) {
        return Assessment::new(Provisioning, format!("claim {name} is Ready, {waiting}"));
    }
    Assessment::new(Ready, format!("claim {name} is Ready"))
}

/// A claim's write fence: what `spec.parameters.writeFence` asks and what the
/// cloud reports (`status.fence.observed`, which the Compositions copy from
/// the provider), read as idp's Argo CD health check reads it
/// (manifests/argocd/health/platform.example.org_MySQLInstanceClaim/health.lua).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fence {
    /// `read-only` (fenced) or `read-write`.
    pub wanted: &'static str,
    /// The cloud's own value (`1`, `off`, `READ_ONLY`, ...), when reported.
    pub observed: Option<String>,
    /// Whether the observed value is the one wanted.
    pub applied: bool,
}

impl Fence {
    /// None for a claim without the parameter (a `ReplicationClaim`: only
    /// databases are fenced).
    pub fn of(claim: &Value) -> Option<Self> {
        let fenced = claim.pointer("/spec/parameters/writeFence")?.as_bool()?;
        let wanted = if fenced { "read-only" } else { "read-write" };
        let observed = match claim.pointer("/status/fence/observed") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let applied = observed.as_deref().and_then(reading) == Some(wanted);
        Some(Self { wanted, observed, applied })
    }

    /// What the claim still waits for, if anything.
    fn pending(&self) -> Option<String> {
        let want = self.wanted;
        let Some(observed) = &self.observed else {
            return Some(format!("waiting for the cloud to report the write fence (want {want})"));
        };
        match reading(observed) {
            None => Some(format!("but the cloud reports an unknown write fence {observed} (want {want})")),
            Some(now) if now != want => {
                Some(format!("waiting for the write fence: want {want}, the cloud reports {now} ({observed})"))
            }
            Some(_) => None,
        }
    }
}

/// The cloud's read-only setting as each provider reports it: RDS parameter
/// read_only (1/0), Cloud SQL flag read_only (on/off), OCI databaseMode.
fn reading(observed: &str) -> Option<&'static str> {
    match observed.to_ascii_uppercase().as_str() {
        "1" | "ON" | "TRUE" | "READ_ONLY" => Some("read-only"),
        "0" | "OFF" | "FALSE" | "READ_WRITE" => Some("read-write"),
        _ => None,
    }
}

/// What an app side's Application asks its runtime cluster to run: the
/// Deployment (`spec.source.kustomize.replicas[0].name`), in the
/// Application's destination namespace, at its count.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub cluster: String,
    pub namespace: String,
    pub deployment: String,
    pub replicas: Option<u64>,
    /// Automated sync: a cold standby without it is never applied until a failover.
    pub automated: bool,
}

impl Workload {
    /// From an Application idp rendered (templates/app/application.yaml.j2).
    pub fn of(application: &Value) -> Option<Self> {
        let replicas = application.pointer("/spec/source/kustomize/replicas/0");
        Some(Self {
            cluster: str_at(application, "/spec/destination/name")?.to_owned(),
            namespace: str_at(application, "/spec/destination/namespace")?.to_owned(),
            deployment: replicas.and_then(|r| str_at(r, "/name"))?.to_owned(),
            replicas: replicas.and_then(|r| r.get("count")).and_then(Value::as_u64),
            automated: application.pointer("/spec/syncPolicy/automated").is_some_and(|a| !a.is_null()),
        })
    }

    /// `Deployment namespace/name on cluster`, as an outcome names it.
    pub fn describe(&self) -> String {
        format!("Deployment {}/{} on {}", self.namespace, self.deployment, self.cluster)
    }
}

/// A workload's Deployment on its runtime cluster (None: 404), read as Argo CD
/// reads its health: gitops-engine `pkg/health/health_deployment.go` (after
/// kubectl's rollout status): paused is Suspended; with the generation observed,
/// `ProgressDeadlineExceeded` is Degraded, fewer updated replicas than wanted,
/// old replicas not yet gone or updated ones not yet available is
/// Progressing; else Healthy. And the count: Argo CD has not applied the
/// Application's count while the Deployment asks another.
pub fn deployment(wanted: &Workload, live: Option<&Value>) -> Assessment {
    use Lifecycle::*;
    let object = wanted.describe();
    let Some(live) = live else {
        if wanted.replicas == Some(0) && !wanted.automated {
            return Assessment::new(Ready, format!("{object} is not there: a cold standby is applied on failover"));
        }
        return Assessment::new(Pending, format!("{object} does not exist yet"));
    };
    if live.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Assessment::new(Deleting, format!("{object} is being deleted"));
    }
    let number = |pointer: &str| live.pointer(pointer).and_then(Value::as_i64).unwrap_or(0);
    let spec_replicas = live.pointer("/spec/replicas").and_then(Value::as_i64);
    if let (Some(wanted), Some(runs)) = (wanted.replicas, spec_replicas)
        && i64::try_from(wanted).ok() != Some(runs)
    {
        return Assessment::new(
            Pending,
            format!("{object} asks {runs} replicas, its Application {wanted}: not synced yet"),
        );
    }
    if live.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Assessment::new(Provisioning, format!("{object} is paused"));
    }
    if number("/metadata/generation") > number("/status/observedGeneration") {
        return Assessment::new(Provisioning, format!("{object}: the controller has not observed its latest spec"));
    }
    let progressing = live
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|all| all.iter().find(|c| str_at(c, "/type") == Some("Progressing")));
    if progressing.and_then(|c| str_at(c, "/reason")) == Some("ProgressDeadlineExceeded") {
        let message = progressing.and_then(|c| str_at(c, "/message")).map(|m| format!(": {m}")).unwrap_or_default();
        return Assessment::new(Degraded, format!("{object} exceeded its progress deadline{message}"));
    }
    let (replicas, updated, available) =
        (number("/status/replicas"), number("/status/updatedReplicas"), number("/status/availableReplicas"));
    if let Some(wanted) = spec_replicas
        && updated < wanted
    {
        return Assessment::new(Provisioning, format!("{object}: {updated} of {wanted} replicas updated"));
    }
    if replicas > updated {
        return Assessment::new(
            Provisioning,
            format!("{object}: {} old replicas pending termination", replicas - updated),
        );
    }
    if available < updated {
        return Assessment::new(Provisioning, format!("{object}: {available} of {updated} updated replicas available"));
    }
    Assessment::new(Ready, format!("{object} runs {available} available replicas"))
}

/// The composed resources' readiness, as the claim's composite sums it up:
/// crossplane's composite reconciler sets `Ready=False` reason `Creating` with
/// `Unready resources: <names>` until every composed resource is Ready
/// (`composite-unready.json`), then `Ready=True` (Available).
pub fn composed(composite: &Value) -> String {
    let ready = composite
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|all| all.iter().find(|c| str_at(c, "/type") == Some("Ready")));
    match ready {
        None => "Crossplane has not reported on the composed resources yet".to_owned(),
        Some(c) if str_at(c, "/status") == Some("True") => "every composed resource is Ready".to_owned(),
        Some(c) => str_at(c, "/message").or_else(|| str_at(c, "/reason")).unwrap_or("not Ready").to_owned(),
    }
}

/// An object of a deleted request: GONE once the API server says 404,
/// DELETING while it has a `deletionTimestamp` (finalizers at work: Argo CD's
/// for an Application's resources, Crossplane's for the cloud database),
/// PENDING while Argo CD has not pruned it.
pub fn removed(object: &str, live: Option<&Value>) -> Assessment {
    match live {
        None => Assessment::new(Lifecycle::Gone, format!("{object} is gone")),
        Some(live) if live.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) => {
            Assessment::new(Lifecycle::Deleting, format!("{object} is being deleted"))
        }
        Some(_) => {
            Assessment::new(Lifecycle::Pending, format!("{object} is still there: Argo CD has not pruned it yet"))
        }
    }
}

/// The claim's connection secret, read as metadata only. Crossplane writes it
/// once the composite is Ready (claim reconciler, PropagateConnection), so a
/// Ready claim without it is still provisioning.
pub fn connection_secret(name: &str, present: bool) -> Assessment {
    if present {
        Assessment::new(Lifecycle::Ready, format!("connection secret {name} exists"))
    } else {
        Assessment::new(Lifecycle::Provisioning, format!("connection secret {name} is not written yet"))
    }
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Lifecycle::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/live/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The revision an Application fixture reports, as if it were the request's commit.
    fn its_revision(app: &Value) -> String {
        str_at(app, "/status/sync/revision").unwrap().to_owned()
    }

    fn assess_app(name: &str) -> Assessment {
        let app = fixture(name);
        let commit = str_at(&app, "/status/operationState/syncResult/revision")
            .map(str::to_owned)
            .unwrap_or_else(|| its_revision(&app));
        application("app", Some(&app), &|revision| revision == commit)
    }

    #[test]
    fn applications_in_each_state() {
        assert_eq!(assess_app("application-synced-healthy").state, Ready);
        let missing = assess_app("application-outofsync-missing");
        assert_eq!(missing.state, Pending, "{missing:?}");
        let syncing = assess_app("application-syncing");
        assert_eq!(syncing.state, Provisioning, "{syncing:?}");
        let failed = assess_app("application-sync-failed");
        assert_eq!(failed.state, Failed);
        assert!(failed.why.contains("is not permitted in project idp-platform"), "{failed:?}");
        let degraded = application("app", Some(&fixture("application-degraded")), &|_| true);
        assert_eq!(degraded.state, Degraded);
        assert!(degraded.why.contains("Caused by apps/Deployment:team-web/storefront"), "{degraded:?}");
        assert_eq!(application("app", None, &|_| true).state, Pending);
    }

    /// Synced, but to a commit before the request's: Argo CD has not seen it yet.
    #[test]
    fn an_application_synced_to_an_older_commit_is_pending() {
        let app = fixture("application-synced-healthy");
        let pending = application("app", Some(&app), &|_| false);
        assert_eq!(pending.state, Pending);
        assert!(pending.why.contains("compared 9d41e7b2"), "{pending:?}");
    }

    /// A comparison made against an older spec (a new destination, say) says nothing
    /// about the current one.
    #[test]
    fn a_comparison_of_an_older_spec_is_pending() {
        let mut app = fixture("application-synced-healthy");
        app["spec"]["destination"]["name"] = "aws-use1-dev-01".into();
        assert_eq!(application("app", Some(&app), &|_| true).state, Pending);
    }

    #[test]
    fn claims_in_each_state() {
        let state = |name: &str| claim("orders-db", Some(&fixture(name)));
        assert_eq!(state("claim-ready"), Assessment::new(Ready, "claim orders-db is Ready"));
        assert_eq!(
            state("claim-creating"),
            Assessment::new(
                Provisioning,
                "claim orders-db Ready=False (Waiting): Claim is waiting for composite resource to become Ready"
            )
        );
        assert_eq!(state("claim-unavailable").state, Degraded, "was Ready: published before");
        // Its connection details were never published: it never was Ready.
        let error = state("claim-reconcile-error");
        assert_eq!(error.state, Failed);
        assert!(error.why.starts_with("claim orders-db Synced=False (ReconcileError): cannot propagate"), "{error:?}");
        assert_eq!(state("claim-deleting").state, Deleting);
        assert_eq!(state("claim-deleting-background").state, Deleting);
        assert_eq!(claim("orders-db", None).state, Pending);
    }

    /// A database that served once and now fails to reconcile is degraded, not failed.
    #[test]
    fn a_reconcile_error_after_the_first_ready_is_degraded() {
        let mut served = fixture("claim-reconcile-error");
        served["status"]["connectionDetails"] = serde_json::json!({"lastPublishedTime": "2026-12-06T14:05:00Z"});
        assert_eq!(claim("orders-db", Some(&served)).state, Degraded);
    }

    #[test]
    fn a_ready_claim_waits_for_the_fence_it_asks_for() {
        let mut fenced = fixture("claim-ready");
        fenced["spec"]["parameters"]["writeFence"] = true.into();
        let waiting = claim("orders-db", Some(&fenced));
        assert_eq!(waiting.state, Provisioning);
        assert!(waiting.why.ends_with("want read-only, the cloud reports read-write (0)"), "{waiting:?}");
        fenced["status"]["fence"]["observed"] = "1".into();
        assert_eq!(claim("orders-db", Some(&fenced)).state, Ready);
        assert_eq!(
            Fence::of(&fenced).unwrap(),
            Fence { wanted: "read-only", observed: Some("1".into()), applied: true }
        );
        fenced["status"]["fence"]["observed"] = "READ_WRITE".into();
        assert!(!Fence::of(&fenced).unwrap().applied);
        fenced["status"].as_object_mut().unwrap().remove("fence");
        assert_eq!(Fence::of(&fenced).unwrap().observed, None);
    }

    /// A paused claim (crossplane.io/paused) is not FAILED: a wait goes on, since removing
    /// the annotation resumes it.
    #[test]
    fn a_paused_claim_is_degraded_not_failed() {
        let mut paused = fixture("claim-creating");
        paused["status"]["conditions"][0] = serde_json::json!({
            "type": "Synced", "status": "False", "reason": "ReconcilePaused",
            "message": "Reconciliation (including deletion) is paused via the pause annotation",
            "lastTransitionTime": "2026-12-06T15:40:00Z"
        });
        let assessment = claim("orders-db", Some(&paused));
        assert_eq!(assessment.state, Degraded, "{assessment:?}");
        assert!(assessment.why.contains("paused via the pause annotation"), "{assessment:?}");
    }

    /// Only databases are fenced (xrd-mysql.yaml's writeFence; xrd-replication.yaml has
    /// none): a Ready ReplicationClaim waits for no fence.
    #[test]
    fn a_claim_without_a_write_fence_waits_for_none() {
        let mut replication = fixture("claim-ready");
        replication["kind"] = "ReplicationClaim".into();
        replication["spec"]["parameters"] = serde_json::json!({"direction": "primary-to-secondary"});
        replication["status"].as_object_mut().unwrap().remove("fence");
        assert_eq!(Fence::of(&replication), None);
        assert_eq!(claim("orders-db-replication", Some(&replication)).state, Ready);
    }

    /// gitops-engine pkg/health/health_deployment.go, case by case, and the count the
    /// Application asks (spec.source.kustomize.replicas).
    #[test]
    fn a_deployment_is_read_as_argo_cd_reads_its_health() {
        let wanted = Workload {
            cluster: "aws-use1-prod-01".into(),
            namespace: "team-payments".into(),
            deployment: "checkout".into(),
            replicas: Some(3),
            automated: true,
        };
        let state = |live: &Value| deployment(&wanted, Some(live)).state;
        assert_eq!(state(&fixture("deployment-available")), Ready);
        let rolling = deployment(&wanted, Some(&fixture("deployment-rolling")));
        assert_eq!(rolling.state, Provisioning);
        assert!(rolling.why.ends_with("2 of 3 replicas updated"), "{rolling:?}");
        let stuck = deployment(&wanted, Some(&fixture("deployment-deadline")));
        assert_eq!(stuck.state, Degraded);
        assert!(stuck.why.contains("has timed out progressing"), "{stuck:?}");
        let mut unobserved = fixture("deployment-available");
        unobserved["metadata"]["generation"] = 5.into();
        assert_eq!(state(&unobserved), Provisioning);
        let mut paused = fixture("deployment-available");
        paused["spec"]["paused"] = true.into();
        assert_eq!(state(&paused), Provisioning);
        let mut other_count = fixture("deployment-available");
        other_count["spec"]["replicas"] = 1.into();
        assert_eq!(state(&other_count), Pending, "Argo CD has not applied the Application's count");
        assert_eq!(deployment(&wanted, None).state, Pending);
        let cold = Workload { replicas: Some(0), automated: false, ..wanted.clone() };
        assert_eq!(deployment(&cold, None).state, Ready, "a cold standby is not applied before a failover");
    }

    #[test]
    fn a_workload_is_what_its_application_deploys() {
        let application = serde_json::json!({"spec": {
            "destination": {"name": "gcp-usc1-prod-01", "namespace": "team-payments"},
            "source": {"kustomize": {"replicas": [{"name": "checkout", "count": 0}]}},
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]}
        }});
        let workload = Workload::of(&application).unwrap();
        assert_eq!((workload.cluster.as_str(), workload.deployment.as_str()), ("gcp-usc1-prod-01", "checkout"));
        assert_eq!((workload.replicas, workload.automated), (Some(0), false));
    }

    #[test]
    fn the_composite_sums_up_its_composed_resources() {
        assert_eq!(composed(&fixture("composite-unready")), "Unready resources: instance");
        let mut ready = fixture("composite-unready");
        ready["status"]["conditions"] = serde_json::json!([{"type": "Ready", "status": "True", "reason": "Available"}]);
        assert_eq!(composed(&ready), "every composed resource is Ready");
    }

    #[test]
    fn what_a_deletion_leaves_is_pending_deleting_or_gone() {
        let object = "MySQLInstanceClaim team-alpha/orders-db";
        assert_eq!(removed(object, Some(&fixture("claim-ready"))).state, Pending, "not pruned yet");
        assert_eq!(removed(object, Some(&fixture("claim-deleting-background"))).state, Deleting);
        assert_eq!(removed(object, None), Assessment::new(Gone, format!("{object} is gone")));
        // Anything left outweighs what is gone.
        assert_eq!(overall(&[Assessment::new(Gone, "a"), Assessment::new(Deleting, "b")]).state, Deleting);
    }

    #[test]
    fn the_request_is_in_its_most_urgent_parts_state() {
        let parts = [
            Assessment::new(Ready, "a"),
            Assessment::new(Provisioning, "b"),
            Assessment::new(Degraded, "c"),
            Assessment::new(Degraded, "d"),
        ];
        assert_eq!(overall(&parts), Assessment::new(Degraded, "c; d"));
        assert_eq!(overall(&parts[..2]).state, Provisioning);
        assert_eq!(connection_secret("orders-db-conn", false).state, Provisioning);
    }
}
