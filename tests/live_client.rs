//! `idp::live::client` against an in-process stand-in for a Kubernetes API server: a plain
//! HTTP/1.1 server on 127.0.0.1 (std only) that serves the fixtures of `tests/fixtures/live/` at
//! the API paths a real server uses, records every request, and answers errors with the
//! fixtures' `Status` objects.
//!
//! What none of these tests can prove: that a real API server (or Argo CD, Crossplane) answers
//! like the fixtures (they were written from upstream source, see their README); TLS, client
//! certificates and certificate verification (the stand-in speaks plain http://); HTTP/2 (a real
//! server negotiates it over TLS); a real proxy (the stand-in plays one for a CONNECT).
//!
//! Hermetic by construction: each test starts its own server on a port of its own and passes its
//! kubeconfig path to `LiveClient::connect_with_kubeconfig`, so no test reads or changes
//! $KUBECONFIG or ~/.kube/config and tests run in parallel. The client ignores
//! HTTPS_PROXY/https_proxy (it uses only a kubeconfig's `proxy-url`, see src/live/client.rs), so
//! a proxy in the developer's environment cannot catch the requests to 127.0.0.1 either.

#[path = "support/fake_api.rs"]
mod fake_api;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fake_api::{FakeApi, Seen, status};

use idp::live::client::{KubeTarget, LiveClient, LiveError, NETWORK_TIMEOUT, Resource};
use serde_json::{Value, json};

const APPLICATION: Resource<'static> =
    Resource { group: "argoproj.io", version: "v1alpha1", kind: "Application", plural: "applications" };
const CLAIM: Resource<'static> = Resource {
    group: "platform.example.org",
    version: "v1alpha1",
    kind: "MySQLInstanceClaim",
    plural: "mysqlinstanceclaims",
};
const SECRET: Resource<'static> = Resource { group: "", version: "v1", kind: "Secret", plural: "secrets" };

const METADATA_ACCEPT: &str = "as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// The routes of a cluster where idp's objects exist and the user may read them (Secrets
/// metadata-only). Unknown paths are 404 with the fixture's NotFound Status.
fn cluster(seen: &Seen) -> (u16, String) {
    let apps = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications";
    match seen.path() {
        p if p == format!("{apps}/team-web--storefront-primary") => (200, fixture("application-synced-healthy.json")),
        p if p == format!("{apps}/cell--cell-us-east--production") => (200, fixture("application-syncing.json")),
        p if p == apps => {
            let items = [fixture_json("application-synced-healthy.json"), fixture_json("application-syncing.json")];
            let list = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationList",
                              "metadata": {"resourceVersion": "48242001"}, "items": items});
            (200, list.to_string())
        }
        "/apis/platform.example.org/v1alpha1/namespaces/team-alpha/mysqlinstanceclaims/orders-db" => {
            (200, fixture("claim-ready.json"))
        }
        "/api/v1/namespaces/team-alpha/secrets/orders-db-conn" => {
            // Only a metadata-only request is answered: a request that could return the
            // Secret's data gets nothing the test could mistake for success.
            match seen.header("accept") {
                Some(accept) if accept.contains(METADATA_ACCEPT) => (200, fixture("secret-metadata.json")),
                _ => (406, status(406, "NotAcceptable", "this test server serves Secrets metadata-only")),
            }
        }
        _ => (404, fixture("status-notfound.json")),
    }
}

/// A kubeconfig in `dir` with context `kind-idp` (current) and `other` on `server`, user
/// `user` as given (YAML mapping body, indented 4).
fn write_kubeconfig(dir: &Path, server: &str, user: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1
kind: Config
current-context: kind-idp
clusters:
- name: idp
  cluster:
    server: {server}
contexts:
- name: kind-idp
  context:
    cluster: idp
    user: dev
- name: other
  context:
    cluster: idp
    user: dev
users:
- name: dev
  user:
{user}
"
    );
    std::fs::write(&path, text).unwrap();
    path
}

const TOKEN_USER: &str = "    token: static-token";

fn connect(api: &FakeApi, dir: &Path) -> LiveClient {
    let kubeconfig = write_kubeconfig(dir, &api.url(), TOKEN_USER);
    LiveClient::connect_with_kubeconfig(&[kubeconfig], &KubeTarget::default()).unwrap()
}

/// A GET of an Application returns the fixture as served, at the API path for a namespaced
/// custom resource, with the kubeconfig's token.
///
/// Cannot prove: that Argo CD's API server answers this path (the CRD is `applications` in
/// `argoproj.io/v1alpha1`, from the pinned CRD, not from a cluster).
#[test]
fn get_returns_the_object_as_served() {
    let api = FakeApi::start(cluster);
    let dir = tempfile::tempdir().unwrap();
    let client = connect(&api, dir.path());

    let app = client.get(&APPLICATION, Some("argocd"), "team-web--storefront-primary").unwrap().unwrap();
    assert_eq!(app, fixture_json("application-synced-healthy.json"));
    let claim = client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap().unwrap();
    assert_eq!(claim, fixture_json("claim-ready.json"));

    let seen = api.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0].path(),
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/team-web--storefront-primary"
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer static-token"));
    assert!(client.describe().starts_with(&format!("kind-idp ({})", api.url())), "{}", client.describe());
}

/// A 404 (the NotFound Status of a claim that does not exist yet) is `None`, not an error.
///
/// Cannot prove: that every 404 means the object is absent; a missing namespace or an API
/// group that is not installed (CRD absent) is a 404 too, and comes back as `None` as well.
#[test]
fn get_of_a_missing_object_is_none() {
    let api = FakeApi::start(|_: &Seen| (404, fixture("status-notfound.json")));
    let dir = tempfile::tempdir().unwrap();
    let client = connect(&api, dir.path());

    assert_eq!(client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap(), None);
    assert_eq!(client.metadata(&SECRET, Some("team-alpha"), "orders-db-conn").unwrap(), None);
}

/// A 403 is `Forbidden`, carrying the API server's RBAC message word for word.
///
/// Cannot prove: the exact text a real authorizer writes (the fixture is assembled from the
/// apiserver's format string).
#[test]
fn forbidden_carries_the_status_message() {
    let api = FakeApi::start(|_: &Seen| (403, fixture("status-forbidden.json")));
    let dir = tempfile::tempdir().unwrap();
    let client = connect(&api, dir.path());

    let error = client.metadata(&SECRET, Some("team-alpha"), "orders-db-conn").unwrap_err();
    let LiveError::Forbidden { cluster, message } = &error else { panic!("{error:?}") };
    assert_eq!(cluster, &client.describe());
    assert_eq!(
        message,
        r#"secrets "orders-db-conn" is forbidden: User "jane@example.org" cannot get resource "secrets" in API group "" in the namespace "team-alpha""#
    );
    assert!(error.to_string().contains("kind-idp"), "{error}");
}

/// Any other error status is `Api` with its code and message; a 401 is `Forbidden` too.
///
/// Cannot prove: what a real server sends for these (the bodies are made up here).
#[test]
fn other_statuses_are_api_errors() {
    let api = FakeApi::start(|seen: &Seen| match seen.path() {
        p if p.ends_with("/unauthorized") => (401, status(401, "Unauthorized", "Unauthorized")),
        _ => (422, status(422, "Invalid", "something is invalid")),
    });
    let dir = tempfile::tempdir().unwrap();
    let client = connect(&api, dir.path());

    let error = client.get(&CLAIM, Some("team-alpha"), "x").unwrap_err();
    assert!(
        matches!(&error, LiveError::Api { code: 422, message, .. } if message == "something is invalid"),
        "{error:?}"
    );
    let error = client.get(&CLAIM, Some("team-alpha"), "unauthorized").unwrap_err();
    assert!(matches!(&error, LiveError::Forbidden { message, .. } if message == "Unauthorized"), "{error:?}");
}

/// A LIST with a label selector sends it as `labelSelector` (URL-encoded) and returns the items.
///
/// Cannot prove: selector semantics (the stand-in does not filter) or pagination (the client
/// sends no `limit`, so a real server answers with every item in one list).
#[test]
fn list_sends_the_label_selector() {
    let api = FakeApi::start(cluster);
    let dir = tempfile::tempdir().unwrap();
    let client = connect(&api, dir.path());

    let items = client
        .list(&APPLICATION, Some("argocd"), Some("app.kubernetes.io/managed-by=idp,platform.example.org/cell=cell-eu"))
        .unwrap();
    assert_eq!(items, vec![fixture_json("application-synced-healthy.json"), fixture_json("application-syncing.json")]);

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path(), "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications");
    // kube writes `?&labelSelector=…`; the empty parameter is ignored by the API server's
    // query parser (Go's url.ParseQuery), so only the non-empty ones are compared.
    let query: Vec<&str> = seen[0].query().unwrap_or_default().split('&').filter(|p| !p.is_empty()).collect();
    assert_eq!(
        query,
        ["labelSelector=app.kubernetes.io%2Fmanaged-by%3Didp%2Cplatform.example.org%2Fcell%3Dcell-eu"],
        "{seen:?}"
    );

    // An empty list (`items` omitted) is no items; no selector, no query.
    let api = FakeApi::start(|_: &Seen| (200, json!({"kind": "List", "apiVersion": "v1", "metadata": {}}).to_string()));
    let client = connect(&api, dir.path());
    assert_eq!(client.list(&CLAIM, None, None).unwrap(), Vec::<Value>::new());
    let seen = api.seen();
    assert_eq!(seen[0].path(), "/apis/platform.example.org/v1alpha1/mysqlinstanceclaims");
    assert_eq!(seen[0].query().unwrap_or_default(), "", "{seen:?}");
}

/// A Secret is read metadata-only: the Accept header asks for PartialObjectMetadata and for
/// nothing else, the result has no `data`, and a full Secret sent back anyway is refused.
///
/// Cannot prove: that a real API server honours the header for Secrets (the apiserver source
/// says it does, `response.go`); managedFields still name the Secret's keys, see the fixture's
/// README.
#[test]
fn metadata_never_asks_for_a_secrets_data() {
    let api = FakeApi::start(cluster);
    let dir = tempfile::tempdir().unwrap();
    let client = connect(&api, dir.path());

    let secret = client.metadata(&SECRET, Some("team-alpha"), "orders-db-conn").unwrap().unwrap();
    assert_eq!(secret, fixture_json("secret-metadata.json"));
    assert_eq!(secret["kind"], "PartialObjectMetadata");
    assert!(secret.get("data").is_none() && secret.get("stringData").is_none(), "{secret}");

    let seen = api.seen();
    assert_eq!(seen[0].path(), "/api/v1/namespaces/team-alpha/secrets/orders-db-conn");
    // Exactly the metadata media type: no `, application/json` fallback that would let the
    // server answer with the whole Secret.
    assert_eq!(seen[0].header("accept"), Some("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"));

    // A server (or proxy) that ignores the header and sends the Secret: refused, not returned.
    let api = FakeApi::start(|_: &Seen| {
        let secret = json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "orders-db-conn"},
                            "data": {"password": "aHVudGVyMg=="}});
        (200, secret.to_string())
    });
    let client = connect(&api, dir.path());
    let error = client.metadata(&SECRET, Some("team-alpha"), "orders-db-conn").unwrap_err();
    assert!(matches!(&error, LiveError::Api { .. }), "{error:?}");
    assert!(!format!("{error:?}").contains("aHVudGVyMg=="), "{error:?}");
}

/// An unknown context is a Kubeconfig error naming the contexts there are; so is a missing file.
///
/// Cannot prove: kubectl's exact wording (idp's message is its own).
#[test]
fn an_unknown_context_lists_the_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(dir.path(), "http://127.0.0.1:9", TOKEN_USER);

    let target = KubeTarget { context: Some("prod-eu".into()) };
    let error = LiveClient::connect_with_kubeconfig(std::slice::from_ref(&kubeconfig), &target).unwrap_err();
    let LiveError::Kubeconfig { message } = &error else { panic!("{error:?}") };
    assert!(message.contains("`prod-eu`") && message.contains("kind-idp, other"), "{message}");

    let error = LiveClient::connect_with_kubeconfig(&[dir.path().join("absent")], &KubeTarget::default()).unwrap_err();
    assert!(matches!(&error, LiveError::Kubeconfig { message } if message.contains("absent")), "{error:?}");

    // Naming a context that exists works without touching the network.
    let target = KubeTarget { context: Some("other".into()) };
    let client = LiveClient::connect_with_kubeconfig(&[kubeconfig], &target).unwrap();
    assert_eq!(client.context(), "other");
}

/// Several kubeconfig files are merged as kubectl merges a $KUBECONFIG list: the first to set a
/// value wins, and a context may use a cluster and user from another file.
///
/// Cannot prove: the reading of $KUBECONFIG itself (the tests do not change the environment);
/// `connect` turns it into the list of files (unit-tested in src/live/client.rs, missing files
/// skipped as client-go skips them) and merges them through this same path.
#[test]
fn kubeconfig_files_are_merged_in_order() {
    let api = FakeApi::start(cluster);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("contexts");
    std::fs::write(
        &first,
        "apiVersion: v1\nkind: Config\ncurrent-context: split\ncontexts:\n- name: split\n  context:\n    cluster: idp\n    user: dev\n",
    )
    .unwrap();
    let second = write_kubeconfig(dir.path(), &api.url(), TOKEN_USER);

    let client = LiveClient::connect_with_kubeconfig(&[first, second], &KubeTarget::default()).unwrap();
    assert_eq!(client.context(), "split");
    assert!(client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap().is_some());
}

/// A closed port is `Unreachable`, returned at once (connection refused), without a panic.
///
/// Cannot prove: the timeouts themselves (a server that accepts and never answers would take
/// NETWORK_TIMEOUT, too slow for this suite), DNS failures, TLS failures.
#[test]
fn a_closed_port_is_unreachable() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(dir.path(), &format!("http://127.0.0.1:{port}"), TOKEN_USER);
    let client = LiveClient::connect_with_kubeconfig(&[kubeconfig], &KubeTarget::default()).unwrap();

    let started = Instant::now();
    let error = client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap_err();
    assert!(started.elapsed() < NETWORK_TIMEOUT, "took {:?}", started.elapsed());
    let LiveError::Unreachable { cluster, message } = &error else { panic!("{error:?}") };
    assert!(cluster.contains(&format!("127.0.0.1:{port}")), "{cluster}");
    assert!(!message.is_empty());
}

/// A server that accepts the connection and never answers is `Unreachable` after the read
/// timeout, not a hang.
///
/// Cannot prove: anything about a slow TLS handshake; takes NETWORK_TIMEOUT (10 s) to run.
#[test]
fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold the connections, never writing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(dir.path(), &format!("http://127.0.0.1:{port}"), TOKEN_USER);
    let client = LiveClient::connect_with_kubeconfig(&[kubeconfig], &KubeTarget::default()).unwrap();

    let started = Instant::now();
    let error = client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, LiveError::Unreachable { .. }), "{error:?}");
    assert!(took >= NETWORK_TIMEOUT - Duration::from_millis(500) && took < NETWORK_TIMEOUT * 2, "took {took:?}");
}

/// An exec credential plugin (as EKS, GKE and OKE kubeconfigs use) runs as kubectl runs it, and
/// its token is sent as `Authorization: Bearer`; a failing plugin is a Kubeconfig error with the
/// plugin's words.
///
/// Cannot prove: any real plugin (aws, gke-gcloud-auth-plugin, oci); token expiry and refresh
/// (`expirationTimestamp`); client-certificate credentials (need TLS); interactive plugins.
#[cfg(unix)]
#[test]
fn an_exec_plugin_token_is_sent() {
    use std::os::unix::fs::PermissionsExt;

    let api = FakeApi::start(|seen: &Seen| match seen.header("authorization") {
        Some("Bearer token-from-plugin") => cluster(seen),
        _ => (401, status(401, "Unauthorized", "Unauthorized")),
    });
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("token-plugin");
    let info = dir.path().join("exec-info.json");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\nprintf '%s' \"$KUBERNETES_EXEC_INFO\" > '{}'\n\
             echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"token-from-plugin\"}}}}'\n",
            info.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let user = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args: [\"--cluster\", \"idp\"]\n      interactiveMode: Never",
        plugin.display()
    );
    let kubeconfig = write_kubeconfig(dir.path(), &api.url(), &user);
    let client =
        LiveClient::connect_with_kubeconfig(std::slice::from_ref(&kubeconfig), &KubeTarget::default()).unwrap();

    let claim = client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap();
    assert_eq!(claim, Some(fixture_json("claim-ready.json")));
    assert_eq!(api.seen()[0].header("authorization"), Some("Bearer token-from-plugin"));
    let info: Value = serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
    assert_eq!(info["kind"], "ExecCredential", "{info}");

    // A plugin that fails: the kubeconfig's user, not the network.
    std::fs::write(&plugin, "#!/bin/sh\necho 'token expired, run: aws sso login' >&2\nexit 1\n").unwrap();
    // kube runs the plugin when the client is built, so `connect` is where it fails.
    let error = LiveClient::connect_with_kubeconfig(&[kubeconfig], &KubeTarget::default()).unwrap_err();
    let LiveError::Kubeconfig { message } = &error else { panic!("{error:?}") };
    assert!(message.contains("credentials") && message.contains("token expired, run: aws sso login"), "{message}");
    assert!(!message.contains("KUBERNETES_EXEC_INFO"), "{message}");
}

/// A cluster's `proxy-url` carries the requests, as with kubectl: the client tunnels to the API
/// server's name through the proxy (CONNECT, never resolving the name itself) and sends the
/// request inside the tunnel.
///
/// Cannot prove: TLS inside the tunnel (the stand-in is plain http), proxy authentication,
/// socks5 (not built in); nor that HTTPS_PROXY is ignored (that would mean changing the
/// environment of the test process).
#[test]
fn a_kubeconfig_proxy_url_is_used() {
    let proxy = FakeApi::start(|_: &Seen| (200, fixture("claim-ready.json")));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(dir.path(), "http://api.cluster.invalid:6443", TOKEN_USER);
    let text = std::fs::read_to_string(&kubeconfig).unwrap().replace(
        "    server: http://api.cluster.invalid:6443\n",
        &format!("    server: http://api.cluster.invalid:6443\n    proxy-url: {}\n", proxy.url()),
    );
    std::fs::write(&kubeconfig, text).unwrap();
    let client = LiveClient::connect_with_kubeconfig(&[kubeconfig], &KubeTarget::default()).unwrap();

    assert!(client.get(&CLAIM, Some("team-alpha"), "orders-db").unwrap().is_some());
    let seen = proxy.seen();
    assert_eq!((seen[0].method.as_str(), seen[0].target.as_str()), ("CONNECT", "api.cluster.invalid:6443"), "{seen:?}");
    assert_eq!(
        seen[1].path(),
        "/apis/platform.example.org/v1alpha1/namespaces/team-alpha/mysqlinstanceclaims/orders-db"
    );
    assert_eq!(seen[1].header("authorization"), Some("Bearer static-token"));
}
