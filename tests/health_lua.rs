//! The Argo CD health check idp ships for its claims
//! (manifests/argocd/health/platform.example.org_MySQLInstanceClaim/health.lua), run in an
//! embedded Lua 5.1 (mlua, vendored PUC-Rio Lua) against claims shaped like the ones
//! Crossplane reports: each fixture asserts the status and message Argo CD would show.
//!
//! What this cannot prove: Argo CD runs health scripts in gopher-lua (Lua 5.1 semantics,
//! Go implementation) with its own sandbox and object-to-table conversion; this test uses
//! PUC-Rio Lua 5.1 and converts the JSON itself (null is nil, arrays count from 1, as Argo
//! CD's conversion does). The script uses only ipairs, tostring and string.upper for that
//! reason. No cluster is involved: whether Crossplane and the providers fill
//! status.fence.observed as the Compositions say is checked by tests/manifests.rs
//! (compositions_report_the_observed_write_fence) against the pinned CRDs, not by a run.

use mlua::{Lua, Table, Value as LuaValue};
use serde_json::{Value, json};

const HEALTH_LUA: &str = include_str!("../manifests/argocd/health/platform.example.org_MySQLInstanceClaim/health.lua");

fn to_lua(lua: &Lua, value: &Value) -> LuaValue {
    match value {
        Value::Null => LuaValue::Nil,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(n) => LuaValue::Number(n.as_f64().expect("a finite number")),
        Value::String(s) => LuaValue::String(lua.create_string(s).expect("a Lua string")),
        Value::Array(items) => {
            let table = lua.create_table().expect("a Lua table");
            for (i, item) in items.iter().enumerate() {
                table.raw_set(i + 1, to_lua(lua, item)).expect("set an array element");
            }
            LuaValue::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table().expect("a Lua table");
            for (key, item) in map {
                table.raw_set(key.as_str(), to_lua(lua, item)).expect("set a field");
            }
            LuaValue::Table(table)
        }
    }
}

/// (status, message) as Argo CD would read them from the script's result.
fn health(claim: &Value) -> (String, String) {
    let lua = Lua::new();
    lua.globals().set("obj", to_lua(&lua, claim)).expect("set obj");
    let result: Table = lua.load(HEALTH_LUA).set_name("health.lua").eval().expect("the script returns a table");
    (result.get("status").expect("status"), result.get("message").expect("message"))
}

/// A claim as Argo CD reads it from the cluster: what idp renders plus what Crossplane adds.
fn claim(provider: &str, write_fence: bool, status: Value) -> Value {
    let mut claim = json!({
        "apiVersion": "platform.example.org/v1alpha1",
        "kind": "MySQLInstanceClaim",
        "metadata": {"name": "orders-db", "namespace": "team-alpha"},
        "spec": {
            "parameters": {
                "cell": "payments", "environment": "production", "tier": "C0",
                "provider": provider, "region": "us-east-1", "size": "large", "storageGB": 100,
                "ha": true, "role": "primary", "writeFence": write_fence, "deletionProtection": true
            },
            "compositionSelector": {"matchLabels": {"provider": provider, "class": "mysql"}},
            "resourceRef": {"apiVersion": "platform.example.org/v1alpha1", "kind": "XMySQLInstance", "name": "orders-db-x7k2p"},
            "writeConnectionSecretToRef": {"name": "orders-db-conn"}
        }
    });
    if !status.is_null() {
        claim["status"] = status;
    }
    claim
}

fn conditions(synced: (&str, &str, &str), ready: (&str, &str, &str)) -> Value {
    let condition = |kind: &str, (status, reason, message): (&str, &str, &str)| {
        let mut c =
            json!({"type": kind, "status": status, "reason": reason, "lastTransitionTime": "2026-12-06T14:00:00Z"});
        if !message.is_empty() {
            c["message"] = json!(message);
        }
        c
    };
    json!([condition("Synced", synced), condition("Ready", ready)])
}

const SYNCED: (&str, &str, &str) = ("True", "ReconcileSuccess", "");
const READY: (&str, &str, &str) = ("True", "Available", "");

fn ready_with_fence(observed: Option<&str>) -> Value {
    let mut status = json!({"conditions": conditions(SYNCED, READY), "connectionDetails": {"lastPublishedTime": "2026-12-06T14:05:00Z"}});
    if let Some(observed) = observed {
        status["fence"] = json!({"observed": observed});
    }
    status
}

fn assert_health(claim: &Value, status: &str, message: &str) {
    assert_eq!(health(claim), (status.to_owned(), message.to_owned()), "for {claim:#}");
}

#[test]
fn a_claim_without_status_is_progressing() {
    assert_health(
        &claim("aws", true, Value::Null),
        "Progressing",
        "Waiting for Crossplane to report the claim's status",
    );
    assert_health(&claim("aws", true, json!({})), "Progressing", "Waiting for Crossplane to report the claim's status");
}

/// A claim as tests/fixtures/live/NAME.json has it: shaped after Crossplane's claim
/// controller (see that folder's README for the upstream files and commits).
fn live(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/live/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("a fixture")).expect("JSON")
}

const WAITING: &str = "Ready=False (Waiting): Claim is waiting for composite resource to become Ready";

/// A claim's Ready is False with reason Waiting until its composite is Ready (crossplane
/// internal/controller/apiextensions/claim/reconciler.go, Waiting()). Were that Degraded,
/// the first sync of every new database in a multi-wave Application would fail.
#[test]
fn a_claim_waiting_for_its_composite_is_progressing() {
    assert_health(&live("claim-creating"), "Progressing", WAITING);
    // Once Ready, back to Waiting while the cloud applies a change: still the way to Ready.
    assert_health(&live("claim-unavailable"), "Progressing", WAITING);
}

/// Composites (and managed resources) say Creating or Unavailable; a claim copies neither,
/// and neither is a failure either.
#[test]
fn ready_false_is_progressing_whatever_its_reason() {
    for (reason, message) in [("Creating", "Unready resources: instance, parameter-group"), ("Unavailable", "")] {
        let status =
            json!({"conditions": conditions(SYNCED, ("False", reason, message)), "fence": {"observed": "READ_ONLY"}});
        let (health, _) = health(&claim("oci", true, status));
        assert_eq!(health, "Progressing", "Ready=False ({reason})");
    }
}

#[test]
fn the_upstream_shaped_claims_read_as_argo_cd_would_show_them() {
    assert_health(&live("claim-ready"), "Healthy", "Ready, and the cloud reports it read-write (0)");
    let error = live("claim-reconcile-error");
    let (status, message) = health(&error);
    assert_eq!(status, "Degraded");
    assert!(message.starts_with("Synced=False (ReconcileError): cannot propagate connection details"), "{message}");
    assert_health(&live("claim-deleting"), "Progressing", "Being deleted");
    assert_health(&live("claim-deleting-background"), "Progressing", "Being deleted");
}

#[test]
fn synced_false_is_degraded_with_its_message() {
    let message = "cannot compose resources: cannot run Composition pipeline step \"patch-and-transform\"";
    let status =
        json!({"conditions": conditions(("False", "ReconcileError", message), READY), "fence": {"observed": "0"}});
    assert_health(&claim("aws", true, status), "Degraded", &format!("Synced=False (ReconcileError): {message}"));
}

/// The failover's fence wave: the claim says writeFence true, the composite is Ready, and
/// the cloud still reports read-write. Without this check Argo CD would move to wave 0.
#[test]
fn a_pending_fence_is_progressing_though_the_claim_is_ready() {
    assert_health(
        &claim("aws", true, ready_with_fence(Some("0"))),
        "Progressing",
        "Waiting for the write fence: want read-only, the cloud reports read-write (0)",
    );
    assert_health(
        &claim("gcp", true, ready_with_fence(Some("off"))),
        "Progressing",
        "Waiting for the write fence: want read-only, the cloud reports read-write (off)",
    );
    // The data wave: unfencing the new primary waits for the cloud too.
    assert_health(
        &claim("oci", false, ready_with_fence(Some("READ_ONLY"))),
        "Progressing",
        "Waiting for the write fence: want read-write, the cloud reports read-only (READ_ONLY)",
    );
}

#[test]
fn a_fence_not_yet_observed_or_unknown_is_progressing() {
    assert_health(
        &claim("gcp", true, ready_with_fence(None)),
        "Progressing",
        "Ready, waiting for the cloud to report the write fence (want read-only)",
    );
    assert_health(
        &claim("aws", true, ready_with_fence(Some("{TrueIfReplica}"))),
        "Progressing",
        "Ready, but the cloud reports an unknown write fence {TrueIfReplica} (want read-only)",
    );
}

#[test]
fn an_applied_fence_is_healthy_on_every_cloud() {
    for (provider, observed) in [("aws", "1"), ("gcp", "on"), ("oci", "READ_ONLY")] {
        assert_health(
            &claim(provider, true, ready_with_fence(Some(observed))),
            "Healthy",
            &format!("Ready, and the cloud reports it read-only ({observed})"),
        );
    }
    for (provider, observed) in [("aws", "0"), ("gcp", "off"), ("oci", "READ_WRITE")] {
        assert_health(
            &claim(provider, false, ready_with_fence(Some(observed))),
            "Healthy",
            &format!("Ready, and the cloud reports it read-write ({observed})"),
        );
    }
}

/// A claim stored before the XRD defaulted writeFence has none: it is not fenced.
#[test]
fn a_claim_without_write_fence_wants_read_write() {
    let mut unfenced = claim("aws", false, ready_with_fence(Some("0")));
    unfenced["spec"]["parameters"].as_object_mut().expect("parameters").remove("writeFence");
    assert_health(&unfenced, "Healthy", "Ready, and the cloud reports it read-write (0)");
}

#[test]
fn a_claim_being_deleted_is_progressing() {
    let mut deleting = claim("aws", true, ready_with_fence(Some("1")));
    deleting["metadata"]["deletionTimestamp"] = json!("2026-12-06T15:00:00Z");
    assert_health(&deleting, "Progressing", "Being deleted");
}

/// Argo CD's gopher-lua implements Lua 5.1; a newer interpreter would accept syntax it refuses.
#[test]
fn the_interpreter_is_lua_5_1() {
    let version: String = Lua::new().globals().get("_VERSION").expect("_VERSION");
    assert_eq!(version, "Lua 5.1");
}

/// The Application health check (manifests/argocd/health/argoproj.io_Application), run
/// the same way: the root Application waits on a child Application that syncs by itself
/// until it has compared, synced and assessed the spec the root just applied, and never
/// on one that does not (its wave would stay open for good).
///
/// What this cannot prove: that Argo CD fills `status.sync.comparedTo` with exactly the
/// source and destination it compared (read in argo-cd controller/state.go,
/// `CompareAppState`, at 37ee009), and that a wave stays open on anything but Healthy and
/// Degraded (gitops-engine pkg/sync/sync_context.go at 5baed56); both are cited, not run.
const APPLICATION_LUA: &str = include_str!("../manifests/argocd/health/argoproj.io_Application/health.lua");

/// The spec of a child Application as idp renders it (templates/app/application.yaml.j2).
fn child_spec(replicas: u32, automated: bool) -> Value {
    let mut spec = json!({
        "project": "idp-platform",
        "source": {
            "repoURL": "https://git.example.org/platform/state.git",
            "targetRevision": "main",
            "path": "workloads/team-payments/checkout/secondary",
            "kustomize": {"replicas": [{"name": "checkout", "count": replicas}]},
        },
        "destination": {"name": "gke-eu-west1-prod", "namespace": "team-payments"},
        "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
    });
    if automated {
        spec["syncPolicy"]["automated"] = json!({"prune": true, "selfHeal": true});
    }
    spec
}

fn application_health(spec: Value, status: Value) -> (String, String) {
    let app = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "team-payments--checkout-secondary", "namespace": "argocd"},
        "spec": spec,
        "status": status,
    });
    let lua = Lua::new();
    lua.globals().set("obj", to_lua(&lua, &app)).expect("set obj");
    let result: Table = lua.load(APPLICATION_LUA).set_name("health.lua").eval().expect("the script returns a table");
    (result.get("status").expect("status"), result.get("message").expect("message"))
}

/// A child's status once its controller has compared `spec` (as controller/state.go
/// records it: comparedTo holds the source and destination it compared).
fn compared(spec: &Value, sync: &str, health: Value) -> Value {
    json!({
        "sync": {
            "status": sync,
            "revision": "4f1c2ab",
            "comparedTo": {"source": spec["source"], "destination": spec["destination"]},
        },
        "health": health,
    })
}

#[test]
fn an_automated_child_is_awaited_until_it_reports_its_own_health() {
    let spec = child_spec(3, true);
    let (status, _) = application_health(spec.clone(), Value::Null);
    assert_eq!(status, "Progressing", "not yet compared by its controller");
    let synced = |health: Value| application_health(spec.clone(), compared(&spec, "Synced", health));
    assert_eq!(synced(json!({"status": "Healthy"})), ("Healthy".to_owned(), String::new()));
    assert_eq!(
        synced(json!({"status": "Degraded", "message": "Deployment checkout: 0/3 ready"})),
        ("Degraded".to_owned(), "Deployment checkout: 0/3 ready".to_owned())
    );
    assert_eq!(synced(json!({"status": "Progressing"})).0, "Progressing");
    let (status, _) = synced(Value::Null);
    assert_eq!(status, "Progressing", "synced, health not reported yet");
}

/// The failover case: the root applies the child with a new replica count while the
/// child's status still describes the old spec, Healthy. Reporting that health would let
/// the traffic wave start before the new side runs.
#[test]
fn a_child_whose_status_describes_its_previous_spec_is_progressing() {
    let before = child_spec(0, true);
    let after = child_spec(3, true);
    let stale = compared(&before, "Synced", json!({"status": "Healthy"}));
    let (status, message) = application_health(after.clone(), stale);
    assert_eq!(status, "Progressing");
    assert!(message.contains("compare"), "{message}");
    let mut moved = child_spec(3, true);
    moved["destination"]["name"] = json!("eks-us-east-1-prod");
    let (status, _) = application_health(moved, compared(&after, "Synced", json!({"status": "Healthy"})));
    assert_eq!(status, "Progressing", "a new destination is a new spec too");
}

#[test]
fn a_compared_child_waits_for_its_sync_and_a_failed_sync_is_degraded() {
    let spec = child_spec(3, true);
    let (status, message) =
        application_health(spec.clone(), compared(&spec, "OutOfSync", json!({"status": "Healthy"})));
    assert_eq!(status, "Progressing");
    assert!(message.contains("OutOfSync"), "{message}");
    let mut failed = compared(&spec, "OutOfSync", json!({"status": "Healthy"}));
    failed["operationState"] =
        json!({"phase": "Failed", "message": "one or more objects failed to apply, reason: quota exceeded"});
    assert_eq!(
        application_health(spec, failed),
        ("Degraded".to_owned(), "one or more objects failed to apply, reason: quota exceeded".to_owned())
    );
}

/// A cold standby has no automated sync: it never syncs by itself, its health stays
/// Missing, and a parent waiting on it would never finish its sync (nor start another).
#[test]
fn a_child_without_automated_sync_is_not_awaited() {
    let spec = child_spec(0, false);
    for status in [Value::Null, compared(&spec, "OutOfSync", json!({"status": "Missing"}))] {
        let (health, message) = application_health(spec.clone(), status);
        assert_eq!(health, "Healthy");
        assert!(message.contains("not awaited"), "{message}");
    }
    let mut disabled = child_spec(0, true);
    disabled["syncPolicy"]["automated"]["enabled"] = json!(false);
    assert_eq!(application_health(disabled, Value::Null).0, "Healthy", "automated.enabled: false is manual");
}

/// A PostgreSQL or Redis claim is Healthy once Ready, whatever its
/// parameters say of a fence it does not take; Degraded when Synced is False.
#[test]
fn a_claim_without_a_fence_is_healthy_once_ready() {
    for kind in ["PostgreSQLInstanceClaim", "RedisInstanceClaim"] {
        let claim = |status: Value| {
            json!({
                "apiVersion": "platform.example.org/v1alpha1", "kind": kind,
                "metadata": {"name": "sessions", "namespace": "team-alpha"},
                "spec": {"parameters": {"provider": "gcp", "region": "us-central1", "size": "small", "ha": true, "role": "primary"}},
                "status": status,
            })
        };
        let say = |status: Value| health(&claim(status));
        assert_eq!(say(json!({})).0, "Progressing", "{kind}");
        let waiting = json!({"conditions": conditions(SYNCED, ("False", "Waiting", ""))});
        assert_eq!(say(waiting).0, "Progressing", "{kind}");
        let ready = json!({"conditions": conditions(SYNCED, READY)});
        assert_eq!(say(ready), ("Healthy".to_owned(), "Ready".to_owned()), "{kind}");
        let failed = json!({"conditions": conditions(("False", "ReconcileError", "cannot create"), READY)});
        assert_eq!(say(failed).0, "Degraded", "{kind}");
        let mut deleting = claim(json!({}));
        deleting["metadata"]["deletionTimestamp"] = json!("2026-12-07T00:00:00Z");
        assert_eq!(health(&deleting), ("Progressing".to_owned(), "Being deleted".to_owned()), "{kind}");
    }
}
