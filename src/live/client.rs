//! A read-only, synchronous client for a Kubernetes API server: kubeconfig (contexts, exec
//! credential plugins) through `kube`, one small Tokio runtime blocked on per call, results as
//! plain JSON. It owns the connection and its errors; it must never write to a cluster, and
//! never ask for a Secret's data (Secrets are read with [`LiveClient::metadata`]).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, Request};
use kube::{Client, Config};
use miette::Diagnostic;
use serde_json::Value;

/// How long connecting, sending a request, or waiting for the next bytes of an answer may take.
/// Every read here is a single small object or list, so 10 s of silence means the server (or
/// the network to it) is not going to answer; kube's own defaults are 30 s to connect and no
/// read timeout at all, meant for long watches.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest one call may take in all, whatever it waits for: kube retries 429/503/504
/// answers with backoff, and an exec credential plugin runs before the first request.
/// Longer than [`NETWORK_TIMEOUT`] so that one slow phase reports its own cause.
pub const CALL_DEADLINE: Duration = Duration::from_secs(30);

/// Which cluster to talk to: a kubeconfig context (None: the kubeconfig's current context).
/// The kubeconfig is $KUBECONFIG (colon-separated list honoured as kubectl does) or ~/.kube/config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeTarget {
    pub context: Option<String>,
}

/// A resource kind without generated types (CRDs): group ("" for core), version, kind and
/// plural (the URL segment). Whether it is namespaced follows from the namespace given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub plural: &'a str,
}

impl Resource<'_> {
    /// The collection's URL path, `/api/v1/namespaces/NS/secrets` or
    /// `/apis/GROUP/VERSION[/namespaces/NS]/PLURAL`.
    fn url_path(&self, namespace: Option<&str>) -> String {
        let gvk = GroupVersionKind::gvk(self.group, self.version, self.kind);
        let api_resource = ApiResource::from_gvk_with_plural(&gvk, self.plural);
        <DynamicObject as kube::Resource>::url_path(&api_resource, namespace)
    }
}

/// A failure to read from a cluster. `cluster` is [`LiveClient::describe`]: the context and
/// its server URL.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LiveError {
    #[error("cannot use the kubeconfig: {message}")]
    #[diagnostic(
        code(idp::live::kubeconfig),
        help(
            "idp reads $KUBECONFIG (a colon-separated list) or ~/.kube/config, as kubectl does; `kubectl config get-contexts` lists the contexts"
        )
    )]
    Kubeconfig { message: String },

    #[error("cannot reach the cluster {cluster}: {message}")]
    #[diagnostic(
        code(idp::live::unreachable),
        help(
            "check the network path to the API server (VPN, proxy-url, firewall); `kubectl --context CONTEXT version` tries the same server"
        )
    )]
    Unreachable { cluster: String, message: String },

    #[error("the cluster {cluster} refused the request: {message}")]
    #[diagnostic(
        code(idp::live::forbidden),
        help(
            "idp only reads (get and list; Secrets metadata-only, which still needs `get` on secrets): ask for read access, or check the credentials with `kubectl auth can-i --list`"
        )
    )]
    Forbidden { cluster: String, message: String },

    #[error("the cluster {cluster} answered {code}: {message}")]
    #[diagnostic(
        code(idp::live::api),
        help("the message is the API server's; `kubectl get --raw PATH -v=6` shows the same request")
    )]
    Api { cluster: String, code: u16, message: String },
}

/// A connection to one cluster. Cheap calls, blocking: each runs the async client to completion
/// on a runtime of its own (idp is synchronous; the runtime has one thread and lives as long as
/// the client).
pub struct LiveClient {
    // An Option only so that Drop can take it: see Drop below.
    runtime: Option<tokio::runtime::Runtime>,
    client: Client,
    context: String,
    server: String,
}

impl std::fmt::Debug for LiveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveClient").field("context", &self.context).field("server", &self.server).finish()
    }
}

impl LiveClient {
    /// Connects to `target` in $KUBECONFIG (its files merged, the first to set a value wins,
    /// as kubectl does) or ~/.kube/config. Nothing is sent to the server yet; an exec credential
    /// plugin runs now (and again when its token expires).
    pub fn connect(target: &KubeTarget) -> Result<LiveClient, LiveError> {
        let home = std::env::home_dir();
        let paths = kubeconfig_paths(std::env::var_os("KUBECONFIG"), home)?;
        Self::connect_with_kubeconfig(&paths, target)
    }

    /// Connects with the kubeconfig files given (merged in order, like a $KUBECONFIG list)
    /// instead of the environment's: `kubectl --kubeconfig`, and what the tests use so that they
    /// need not change the process environment.
    pub fn connect_with_kubeconfig(paths: &[PathBuf], target: &KubeTarget) -> Result<LiveClient, LiveError> {
        if paths.is_empty() {
            return Err(LiveError::Kubeconfig { message: "no kubeconfig file given".into() });
        }
        let kubeconfig = paths
            .iter()
            .try_fold(Kubeconfig::default(), |merged, path| {
                Kubeconfig::read_from(path).and_then(|next| merged.merge(next))
            })
            .map_err(kubeconfig_error)?;
        Self::from_kubeconfig(kubeconfig, target)
    }

    fn from_kubeconfig(kubeconfig: Kubeconfig, target: &KubeTarget) -> Result<LiveClient, LiveError> {
        let context = select_context(&kubeconfig, target)?;
        let proxy_url = kubeconfig_proxy_url(&kubeconfig, &context)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| {
            LiveError::Unreachable {
                cluster: context.clone(),
                message: format!("cannot start the network runtime: {error}"),
            }
        })?;
        let options = KubeConfigOptions { context: Some(context.clone()), ..KubeConfigOptions::default() };
        let mut config =
            runtime.block_on(Config::from_custom_kubeconfig(kubeconfig, &options)).map_err(kubeconfig_error)?;
        // kube takes HTTPS_PROXY/https_proxy from the environment when the cluster has no
        // `proxy-url`, for every server and without NO_PROXY (kube-client 4.2,
        // config/file_loader.rs), where kubectl honours NO_PROXY: a proxy set for the internet
        // would then carry, or break, the way to a private API server (and to a test server on
        // 127.0.0.1). idp uses the kubeconfig's `proxy-url` only, as its own setting for that
        // cluster; the environment's proxy variables are ignored here. (kube still parses
        // HTTPS_PROXY while loading, so a value that is not a URI at all fails the connect as a
        // kubeconfig error.)
        config.proxy_url = proxy_url;
        config.connect_timeout = Some(NETWORK_TIMEOUT);
        config.read_timeout = Some(NETWORK_TIMEOUT);
        config.write_timeout = Some(NETWORK_TIMEOUT);
        let server = config.cluster_url.to_string();
        let server = server.trim_end_matches('/').to_owned();
        let cluster = format!("{context} ({server})");
        // Building the client runs an exec credential plugin (kube fetches the first token
        // then), synchronously: on a blocking thread, so that the deadline holds even for a
        // plugin that never returns. It is built inside the runtime because the client's request
        // buffer spawns a task.
        let built = runtime.block_on(async {
            tokio::time::timeout(CALL_DEADLINE, tokio::task::spawn_blocking(move || Client::try_from(config))).await
        });
        let client = match built {
            Ok(Ok(Ok(client))) => client,
            Ok(Ok(Err(
                error @ (kube::Error::ProxyProtocolDisabled { .. } | kube::Error::ProxyProtocolUnsupported { .. }),
            ))) => {
                return Err(LiveError::Kubeconfig {
                    message: format!("context `{context}`: {error} (idp supports http:// and https:// proxies)"),
                });
            }
            // Certificates or keys in the kubeconfig that rustls cannot use.
            Ok(Ok(Err(error @ kube::Error::RustlsTls(_)))) => {
                return Err(LiveError::Kubeconfig { message: format!("context `{context}`: {}", error_chain(&error)) });
            }
            Ok(Ok(Err(error))) => return Err(classify(error, cluster)),
            Ok(Err(panicked)) => {
                return Err(LiveError::Kubeconfig {
                    message: format!("cannot get credentials for {cluster}: {panicked}"),
                });
            }
            Err(_) => {
                return Err(LiveError::Kubeconfig {
                    message: format!(
                        "cannot get credentials for {cluster}: the exec credential plugin did not finish within {} s",
                        CALL_DEADLINE.as_secs()
                    ),
                });
            }
        };
        Ok(LiveClient { runtime: Some(runtime), client, context, server })
    }

    /// GET one object as JSON, as the server sent it; Ok(None) on 404.
    pub fn get(
        &self,
        resource: &Resource<'_>,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, LiveError> {
        let request = Request::new(resource.url_path(namespace)).get(name, &Default::default());
        self.send_optional(request)
    }

    /// LIST objects (optionally by label selector) as JSON items. One request, no pagination
    /// (`limit` unset: the server answers with every item).
    pub fn list(
        &self,
        resource: &Resource<'_>,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, LiveError> {
        let mut params = kube::api::ListParams::default();
        if let Some(selector) = label_selector {
            params = params.labels(selector);
        }
        let request = Request::new(resource.url_path(namespace)).list(&params);
        let list = self.send(request)?;
        match list {
            Value::Object(mut list) => match list.remove("items") {
                Some(Value::Array(items)) => Ok(items),
                // `items` is omitted (or null) when a list is empty.
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(_) => Err(self.malformed("the list's `items` is not an array")),
            },
            _ => Err(self.malformed("the answer to a list is not a JSON object")),
        }
    }

    /// Metadata only (PartialObjectMetadata), for Secrets: never their data. Ok(None) on 404.
    ///
    /// The request's Accept header asks for `PartialObjectMetadata` and for nothing else (no
    /// fallback to the full object, unlike kubectl's), and an answer of any other kind is
    /// refused rather than returned, so a Secret's values cannot reach idp through here even
    /// from a server or proxy that ignores the header.
    pub fn metadata(
        &self,
        resource: &Resource<'_>,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, LiveError> {
        let request = Request::new(resource.url_path(namespace)).get_metadata(name, &Default::default());
        let Some(object) = self.send_optional(request)? else { return Ok(None) };
        match object.get("kind").and_then(Value::as_str) {
            Some("PartialObjectMetadata") => Ok(Some(object)),
            kind => Err(self.malformed(&format!(
                "asked for metadata only, got {} instead of PartialObjectMetadata; not read",
                kind.map_or_else(|| "an object without a kind".to_owned(), |k| format!("a {k}"))
            ))),
        }
    }

    /// "context (server URL)" for messages.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.context, self.server)
    }

    /// The kubeconfig context in use.
    pub fn context(&self) -> &str {
        &self.context
    }

    fn send_optional(
        &self,
        request: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    ) -> Result<Option<Value>, LiveError> {
        match self.send(request) {
            Ok(value) => Ok(Some(value)),
            Err(LiveError::Api { code: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn send(&self, request: Result<http::Request<Vec<u8>>, kube::core::request::Error>) -> Result<Value, LiveError> {
        let request = request.map_err(|error| LiveError::Api {
            cluster: self.describe(),
            code: 0,
            message: format!("cannot build the request: {error}"),
        })?;
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let answer =
            runtime.block_on(async { tokio::time::timeout(CALL_DEADLINE, self.client.request(request)).await });
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(classify(error, self.describe())),
            Err(_) => Err(LiveError::Unreachable {
                cluster: self.describe(),
                message: format!("no answer within {} s", CALL_DEADLINE.as_secs()),
            }),
        }
    }

    fn malformed(&self, message: &str) -> LiveError {
        LiveError::Api { cluster: self.describe(), code: 200, message: message.to_owned() }
    }
}

impl Drop for LiveClient {
    /// Does not wait for work left on the runtime: an exec credential plugin that hung past
    /// [`CALL_DEADLINE`] still runs on a blocking thread, and a plain drop would wait for it.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A kube error as a LiveError, for the cluster described.
fn classify(error: kube::Error, cluster: String) -> LiveError {
    match error {
        kube::Error::Api(status) => match status.code {
            401 | 403 => LiveError::Forbidden { cluster, message: status_message(&status) },
            code => LiveError::Api { cluster, code, message: status_message(&status) },
        },
        kube::Error::SerdeError(error) => {
            LiveError::Api { cluster, code: 200, message: format!("the answer is not the JSON expected: {error}") }
        }
        // A failing exec plugin or an unreadable token file is the kubeconfig's user, not
        // the network: say so, with the plugin's own words.
        other if auth_error(&other).is_some() => {
            let auth = auth_error(&other).map(auth_message).unwrap_or_default();
            LiveError::Kubeconfig { message: format!("cannot get credentials for {cluster}: {auth}") }
        }
        // Connection refused, DNS, TLS, timeouts: hyper and tower errors, told apart only by
        // their messages.
        other => LiveError::Unreachable { cluster, message: error_chain(&other) },
    }
}

/// The kubeconfig files kubectl would read: the entries of $KUBECONFIG that exist (client-go
/// skips missing ones and empty entries; kube's own `Kubeconfig::read` would fail on a missing
/// one), or ~/.kube/config when $KUBECONFIG is unset or empty.
fn kubeconfig_paths(kubeconfig_env: Option<OsString>, home: Option<PathBuf>) -> Result<Vec<PathBuf>, LiveError> {
    let listed: Vec<PathBuf> = kubeconfig_env
        .map(|value| std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()).collect())
        .unwrap_or_default();
    if listed.is_empty() {
        return match home {
            Some(home) => Ok(vec![home.join(".kube").join("config")]),
            None => Err(LiveError::Kubeconfig {
                message: "$KUBECONFIG is not set and there is no home directory to find ~/.kube/config in".into(),
            }),
        };
    }
    let existing: Vec<PathBuf> = listed.iter().filter(|p| p.exists()).cloned().collect();
    if existing.is_empty() {
        let names: Vec<String> = listed.iter().map(|p| p.display().to_string()).collect();
        return Err(LiveError::Kubeconfig { message: format!("no file of $KUBECONFIG exists: {}", names.join(", ")) });
    }
    Ok(existing)
}

/// The context to use: the one named, or the kubeconfig's current context; an unknown name lists
/// the contexts there are.
fn select_context(kubeconfig: &Kubeconfig, target: &KubeTarget) -> Result<String, LiveError> {
    let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
    let listed = || if known.is_empty() { "it has none".to_owned() } else { format!("it has: {}", known.join(", ")) };
    let name = match &target.context {
        Some(name) => name.clone(),
        None => match kubeconfig.current_context.as_deref() {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => {
                return Err(LiveError::Kubeconfig {
                    message: format!("no context named and no current-context set; {}", listed()),
                });
            }
        },
    };
    if !known.contains(&name.as_str()) {
        return Err(LiveError::Kubeconfig { message: format!("no context `{name}` in the kubeconfig; {}", listed()) });
    }
    Ok(name)
}

/// The `proxy-url` of the context's cluster, if it sets one.
fn kubeconfig_proxy_url(kubeconfig: &Kubeconfig, context: &str) -> Result<Option<http::Uri>, LiveError> {
    let cluster_name = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.as_str());
    let proxy = kubeconfig
        .clusters
        .iter()
        .find(|c| Some(c.name.as_str()) == cluster_name)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.proxy_url.as_deref())
        .filter(|url| !url.is_empty());
    proxy
        .map(|url| {
            url.parse::<http::Uri>().map_err(|error| LiveError::Kubeconfig {
                message: format!("context `{context}`: proxy-url `{url}`: {error}"),
            })
        })
        .transpose()
}

fn kubeconfig_error(error: KubeconfigError) -> LiveError {
    LiveError::Kubeconfig { message: error_chain(&error) }
}

/// The API server's message, or its reason when the body was not a Status.
fn status_message(status: &kube::core::Status) -> String {
    match (status.message.is_empty(), status.reason.is_empty()) {
        (false, _) => status.message.clone(),
        (true, false) => status.reason.clone(),
        (true, true) => "no message".into(),
    }
}

/// The credentials error in `error`'s chain, if that is what it is: kube reports a failing
/// exec plugin as its own error, or wrapped by the tower service that ran it.
fn auth_error(error: &kube::Error) -> Option<&kube::client::AuthError> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(kube::Error::Auth(auth)) = current.downcast_ref::<kube::Error>() {
            return Some(auth);
        }
        if let Some(auth) = current.downcast_ref::<kube::client::AuthError>() {
            return Some(auth);
        }
        cause = current.source();
    }
    None
}

/// What went wrong getting credentials, in words that never include the plugin's standard
/// output (where a token would be) nor the environment it ran with.
fn auth_message(error: &kube::client::AuthError) -> String {
    use kube::client::AuthError;
    match error {
        AuthError::AuthExecRun { cmd: _, status, out } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = stderr.trim();
            let said = if stderr.is_empty() { String::new() } else { format!(": {stderr}") };
            format!("the exec credential plugin failed ({status}){said}")
        }
        AuthError::AuthExecParse(_) => "the exec credential plugin's output is not an ExecCredential".into(),
        other => error_chain(other),
    }
}

/// An error and its causes, `a: b: c`, skipping a cause whose text its parent already shows.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(env: Option<&str>, home: Option<&str>) -> Result<Vec<PathBuf>, LiveError> {
        kubeconfig_paths(env.map(OsString::from), home.map(PathBuf::from))
    }

    #[test]
    fn kubeconfig_paths_follow_kubectl() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&a, &missing, &PathBuf::new(), &b]).unwrap();

        // Unset or empty: ~/.kube/config.
        assert_eq!(paths(None, Some("/home/u")).unwrap(), [PathBuf::from("/home/u/.kube/config")]);
        assert_eq!(paths(Some(""), Some("/home/u")).unwrap(), [PathBuf::from("/home/u/.kube/config")]);
        assert!(matches!(paths(None, None), Err(LiveError::Kubeconfig { .. })));
        // A list: in order, missing files and empty entries skipped.
        assert_eq!(kubeconfig_paths(Some(list), None).unwrap(), [a, b]);
        // Only missing files: an error naming them, not a fallback to ~/.kube/config.
        let error = paths(Some(missing.to_str().unwrap()), Some("/home/u")).unwrap_err();
        assert!(matches!(&error, LiveError::Kubeconfig { message } if message.contains("missing")), "{error:?}");
    }
}
