//! The developer contract: request files in both forms, validated against the
//! policy in force.
//!
//! Nothing a developer writes leaves this module unchecked: names are
//! DNS-1123 labels, every other value is one the policy defines, and placement
//! fields are refused wherever they appear. Every problem is reported with its
//! file, line and column, all of them at once.

mod derived;
mod image;
mod kind;
mod listing;
mod validate;

use std::path::{Path, PathBuf};

pub use derived::{DerivedName, NAME_LIMIT, catalog_entity_name, derived_names, derived_names_fit, request_label};
pub use kind::{Kind, resolving};
pub use listing::{KEPT_UP_TO, Listing, Read};
pub use validate::{Admission, Issue, RequestError, request_schema};

use crate::policy::Policy;
use crate::product::{Product, Products};
use crate::schedule::Demand;
use crate::yaml::{self, Source};

pub const API_VERSION: &str = "idp.platform.example.org/v1alpha1";

/// The path an app answers health checks on when its request names none
/// (`spec.healthPath`).
pub const DEFAULT_HEALTH_PATH: &str = "/healthz";

/// The traffic provider's health check of an app without HTTP probes that
/// names no `healthPath`.
pub const ROOT_PATH: &str = "/";

/// A validated, normalized request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub kind: Kind,
    pub name: String,
    pub namespace: String,
    pub cell: String,
    pub tier: String,
    /// Canonical name; aliases are resolved.
    pub environment: String,
    pub dr_profile: Option<String>,
    pub spec: Spec,
    /// `file` or `file#N` for the N-th document, for messages.
    pub origin: String,
}

/// What is particular to each role.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// A data product's request fields (`size`, `storageGB`, `ha` for
    /// MySQL), in its definition's order, as validated against its XRD,
    /// defaults applied: each becomes the claim parameter of its name.
    Data {
        fields: serde_json::Map<String, serde_json::Value>,
        /// The capabilities its true boolean fields require of a primary,
        /// as its definition says (MySQL's `ha: true`: multi_az).
        gates: Vec<String>,
        /// How the policy's price table prices it (its definition's `cost`).
        cost: Option<crate::product::Cost>,
        /// The provider pairs its secondary's replication works between,
        /// when its definition limits them: the tool and the pairs.
        pairs: Option<(crate::policy::Replication, Vec<[String; 2]>)>,
    },
    App {
        image: String,
        port: u32,
        replicas: u32,
        /// `spec.healthPath`: where the kubelet's probes and the traffic
        /// provider's health check ask; None for [`DEFAULT_HEALTH_PATH`].
        health_path: Option<String>,
        public_host: Option<String>,
        /// The data it uses (`spec.database` or `spec.dependsOn`): data
        /// requests of its own namespace, in the order named. Empty: it
        /// uses none.
        databases: Vec<String>,
        /// With `spec.dependsOn`, each one's product (as `databases`):
        /// the app follows the first one's placement only.
        dependency_kinds: Option<Vec<Kind>>,
        /// What its container gets beyond image and port: env, resources,
        /// command and args, probes. The default is what every app got
        /// before requests could say any of it. Boxed: most apps set none
        /// of it, and a database has none.
        container: Box<Container>,
    },
}

/// An app container's settings (`spec.env`, `spec.resources`,
/// `spec.command`, `spec.args`, `spec.probes`, `spec.livenessPath`), as
/// validated: each is exactly what the request wrote, and absent when it
/// wrote nothing, so that stored requests keep their bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Container {
    /// Plain values and references to Secrets, in the order written.
    pub env: Vec<EnvVar>,
    pub resources: Resources,
    /// Empty: the image's entrypoint (validation refuses an empty list).
    pub command: Vec<String>,
    /// Empty: the image's arguments.
    pub args: Vec<String>,
    pub probes: Probes,
    /// Where the liveness probe asks, when not the health path.
    pub liveness_path: Option<String>,
}

/// One environment variable of an app's container.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub name: String,
    pub value: EnvValue,
}

/// A plain value, or a key of a Secret in the app's namespace: a secret's
/// value never enters a request, nor the state repo.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Plain(String),
    SecretKeyRef { name: String, key: String },
}

/// `spec.resources` as written: Kubernetes quantities, each None where the
/// request names none ([`Resources::DEFAULT`] fills those in).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    pub requests: Quantities,
    pub limits: Quantities,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quantities {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

impl Resources {
    /// What a container gets where its request names nothing: requests 100m
    /// CPU and 128Mi, limit 512Mi, no CPU limit (throttling a latency-bound
    /// service hurts more than it protects).
    pub const DEFAULT: [(&str, &str, Option<&str>); 4] = [
        ("requests", "cpu", Some("100m")),
        ("requests", "memory", Some("128Mi")),
        ("limits", "cpu", None),
        ("limits", "memory", Some("512Mi")),
    ];

    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }

    /// The written value of `section.resource`, if any.
    pub fn written(&self, section: &str, resource: &str) -> Option<&str> {
        let quantities = if section == "requests" { &self.requests } else { &self.limits };
        if resource == "cpu" { quantities.cpu.as_deref() } else { quantities.memory.as_deref() }
    }

    /// Each (section, resource, value) the container gets: written, or the default.
    pub fn effective(&self) -> impl Iterator<Item = (&'static str, &'static str, &str)> {
        Self::DEFAULT.iter().filter_map(|(section, resource, default)| {
            Some((*section, *resource, self.written(section, resource).or(*default)?))
        })
    }

    /// The written quantities as the stored request nests them.
    fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for (section, quantities) in [("requests", &self.requests), ("limits", &self.limits)] {
            let mut inner = serde_json::Map::new();
            for (resource, value) in [("cpu", &quantities.cpu), ("memory", &quantities.memory)] {
                if let Some(value) = value {
                    inner.insert(resource.into(), value.clone().into());
                }
            }
            if !inner.is_empty() {
                out.insert(section.into(), inner.into());
            }
        }
        out.into()
    }
}

/// How the kubelet checks an app's container (`spec.probes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Probes {
    /// HTTP GETs of the health path (readiness) and the liveness path.
    #[default]
    Http,
    /// A TCP connection to the container port: for an image that serves no
    /// health path (nginx, a plain proxy).
    Tcp,
    /// No probes: ready as soon as it runs.
    None,
}

impl Probes {
    pub const ALL: [Probes; 3] = [Probes::Http, Probes::Tcp, Probes::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Probes::Http => "http",
            Probes::Tcp => "tcp",
            Probes::None => "none",
        }
    }
}

impl Container {
    /// The fields as the stored request writes them: only those written.
    fn insert_into(&self, fields: &mut serde_json::Map<String, serde_json::Value>) {
        if self.probes != Probes::Http {
            fields.insert("probes".into(), self.probes.as_str().into());
        }
        if let Some(path) = &self.liveness_path {
            fields.insert("livenessPath".into(), path.clone().into());
        }
        if !self.command.is_empty() {
            fields.insert("command".into(), self.command.clone().into());
        }
        if !self.args.is_empty() {
            fields.insert("args".into(), self.args.clone().into());
        }
        if !self.env.is_empty() {
            let env: Vec<serde_json::Value> = self.env.iter().map(EnvVar::to_json).collect();
            fields.insert("env".into(), env.into());
        }
        if !self.resources.is_empty() {
            fields.insert("resources".into(), self.resources.to_json());
        }
    }
}

impl EnvVar {
    /// As requests and the Deployment write it.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            EnvValue::Plain(value) => serde_json::json!({ "name": self.name, "value": value }),
            EnvValue::SecretKeyRef { name, key } => serde_json::json!({
                "name": self.name,
                "valueFrom": { "secretKeyRef": { "name": name, "key": key } },
            }),
        }
    }
}

impl Spec {
    /// A data product's spec of `fields` (validated against its XRD): the
    /// gates are those its definition gives its true boolean fields.
    pub fn data(product: &Product, fields: serde_json::Map<String, serde_json::Value>) -> Spec {
        let mut gates: Vec<String> = Vec::new();
        let on = product.fields.iter().filter(|f| fields.get(&f.parameter.name) == Some(&true.into()));
        for gate in on.flat_map(|f| &f.gates) {
            if !gates.contains(gate) {
                gates.push(gate.clone());
            }
        }
        Spec::Data { fields, gates, cost: product.cost.clone(), pairs: None }
    }

    /// The sizing fields under the names requests use (a data product's
    /// fields; `image`, `port`, `replicas`). An app's public host and databases
    /// are not among them: the stored request nests the host under `traffic`
    /// and writes `database` only when the app names one.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut fields = serde_json::Map::new();
        match self {
            Spec::Data { fields: data, .. } => fields.extend(data.clone()),
            Spec::App { image, port, replicas, .. } => {
                fields.insert("image".into(), image.clone().into());
                fields.insert("port".into(), (*port).into());
                fields.insert("replicas".into(), (*replicas).into());
            }
        }
        fields
    }
}

/// A cell and environment: where a request is placed. They lead the name of every
/// file a request has under `platform/` (`layout`).
#[derive(Debug, Clone, Copy)]
pub struct CellOf<'a> {
    pub cell: &'a str,
    pub environment: &'a str,
}

impl Request {
    /// `<namespace>/<name>`, how commands and messages name a request.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Its cell and environment, which name its files under `platform/`.
    pub fn at(&self) -> CellOf<'_> {
        CellOf { cell: &self.cell, environment: &self.environment }
    }

    /// High availability within a region (a data product's `ha` field):
    /// apps get theirs from replicas.
    pub fn ha(&self) -> bool {
        self.data_field("ha").and_then(serde_json::Value::as_bool).unwrap_or(false)
    }

    /// A data product's field as validated; None for an app.
    pub fn data_field(&self, name: &str) -> Option<&serde_json::Value> {
        match &self.spec {
            Spec::Data { fields, .. } => fields.get(name),
            Spec::App { .. } => None,
        }
    }

    /// The path an app answers health checks on: its `healthPath`, or
    /// [`DEFAULT_HEALTH_PATH`]; None for a database. The readiness probe
    /// asks it and so does the traffic provider's health check, so that
    /// both call the same thing ready. Without HTTP probes (`probes: tcp` or
    /// `none`) only the traffic provider asks, and by default `/`: an image
    /// that serves no health path serves its root.
    pub fn health_path(&self) -> Option<&str> {
        match &self.spec {
            Spec::App { health_path: Some(path), .. } => Some(path),
            Spec::App { container, .. } if container.probes != Probes::Http => Some(ROOT_PATH),
            Spec::App { .. } => Some(DEFAULT_HEALTH_PATH),
            Spec::Data { .. } => None,
        }
    }

    /// The container settings of an app; None for a database.
    pub fn container(&self) -> Option<&Container> {
        match &self.spec {
            Spec::App { container, .. } => Some(container),
            Spec::Data { .. } => None,
        }
    }

    /// The data requests an app names (`spec.database` or
    /// `spec.dependsOn`), all of its own namespace; none for a data request.
    pub fn databases(&self) -> &[String] {
        match &self.spec {
            Spec::App { databases, .. } => databases,
            Spec::Data { .. } => &[],
        }
    }

    /// `spec.dependsOn` of an app, each dependency's product and name; None
    /// when it names its data in `spec.database`, or none.
    pub fn depends_on(&self) -> Option<Vec<(Kind, &str)>> {
        match &self.spec {
            Spec::App { databases, dependency_kinds: Some(kinds), .. } => {
                Some(kinds.iter().copied().zip(databases.iter().map(String::as_str)).collect())
            }
            _ => None,
        }
    }

    pub fn demand(&self) -> Demand<'_> {
        let (gates, pairs) = match &self.spec {
            Spec::Data { gates, pairs, .. } => (gates.as_slice(), pairs.as_ref()),
            Spec::App { .. } => (&[][..], None),
        };
        let pairs = pairs.map(|(tool, between)| crate::schedule::SecondaryPairs { tool: tool.as_str(), between });
        Demand {
            cell: &self.cell,
            environment: &self.environment,
            tier: &self.tier,
            ha: self.ha(),
            gates,
            dr_profile: self.dr_profile.as_deref(),
            pairs,
        }
    }

    /// The request as flat keys (identity, placement inputs, then the spec's
    /// fields), as policy rules and templates see it.
    pub fn flat(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut fields = serde_json::Map::new();
        fields.insert("kind".into(), self.kind.cli_name().into());
        fields.insert("name".into(), self.name.clone().into());
        fields.insert("namespace".into(), self.namespace.clone().into());
        fields.insert("cell".into(), self.cell.clone().into());
        fields.insert("tier".into(), self.tier.clone().into());
        fields.insert("environment".into(), self.environment.clone().into());
        fields.insert("drProfile".into(), self.dr_profile.clone().into());
        fields.extend(self.spec.fields());
        fields
    }

    /// The canonical Kubernetes-style form, as stored under `requests/`.
    pub fn to_manifest(&self) -> serde_json::Value {
        let mut spec = serde_json::json!({
            "cell": self.cell,
            "tier": self.tier,
            "environment": self.environment,
        });
        let fields = spec.as_object_mut().expect("an object");
        if let Some(dr) = &self.dr_profile {
            fields.insert("drProfile".into(), dr.clone().into());
        }
        fields.extend(self.spec.fields());
        // Written only when the request names one, so that requests stored
        // before the field existed keep their bytes.
        if let Spec::App { health_path: Some(path), .. } = &self.spec {
            fields.insert("healthPath".into(), path.clone().into());
        }
        if let Spec::App { container, .. } = &self.spec {
            container.insert_into(fields);
        }
        if let Spec::App { public_host: Some(host), .. } = &self.spec {
            fields.insert("traffic".into(), serde_json::json!({ "publicHost": host, "mode": "active-passive" }));
        }
        // `dependsOn` as `<product>/<name>` (canonical names), else `database`:
        // one name as a string, several as a list; none is no field at all,
        // so that requests stored before apps named their data keep their bytes.
        if let Some(dependencies) = self.depends_on() {
            let written: Vec<String> = dependencies.iter().map(|(kind, name)| format!("{kind}/{name}")).collect();
            fields.insert("dependsOn".into(), written.into());
        } else {
            match self.databases() {
                [] => {}
                [one] => {
                    fields.insert("database".into(), one.clone().into());
                }
                several => {
                    fields.insert("database".into(), several.to_vec().into());
                }
            }
        }
        serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": self.kind.manifest_kind(),
            "metadata": { "name": self.name, "namespace": self.namespace },
            "spec": spec,
        })
    }
}

/// How deep `-f DIR` looks below the directory given: enough for the state
/// repo's own `requests/<namespace>/`, and a bound on a link that loops.
pub const MAX_DIRECTORY_DEPTH: usize = 8;

/// Expands `-f` arguments: files as given, directories to the `*.yaml`,
/// `*.yml` and `*.json` files in them and in their subdirectories (so
/// `-f requests/` reads the state repo's `requests/<namespace>/`), sorted by
/// path, `-` to standard input.
///
/// A directory comes from a pull request, not from whoever runs idp, so it
/// never leads outside itself: a symbolic link in it (to a file or to a
/// folder) must resolve inside it, and an entry that is a FIFO, socket or
/// device is refused (reading `x.yaml -> /proc/self/environ` would print the
/// CI runner's secrets in an error snippet).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RequestError> {
    let mut files = Vec::new();
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(RequestError::StdinTwice);
    }
    for path in paths {
        if path.is_dir() {
            let io = |error| RequestError::Io { path: yaml::shown_path(path), error };
            let root = path.canonicalize().map_err(io)?;
            let mut found = Vec::new();
            read_directory(&root, path, path, 0, &mut found)?;
            if found.is_empty() {
                return Err(RequestError::EmptyDirectory { path: yaml::shown_path(path) });
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// The request files of `dir` and of its subdirectories, `depth` levels
/// below `top` (canonical: `root`), the directory given with -f.
fn read_directory(
    root: &Path,
    top: &Path,
    dir: &Path,
    depth: usize,
    found: &mut Vec<PathBuf>,
) -> Result<(), RequestError> {
    let io = |error| RequestError::Io { path: yaml::shown_path(dir), error };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        let kind = entry.file_type().map_err(io)?;
        let request_file = matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"));
        // Any other file is not a request (a README); a folder, or a link
        // to one, is looked into, and so checked.
        let folder = kind.is_dir() || (kind.is_symlink() && p.is_dir());
        if is_hidden(&p) || !(request_file || folder) {
            continue;
        }
        match directory_entry(root, top, &p, kind)? {
            Found::Directory if depth == MAX_DIRECTORY_DEPTH => {
                return Err(RequestError::TooDeep {
                    path: yaml::shown_path(&p),
                    dir: yaml::shown_path(top),
                    limit: MAX_DIRECTORY_DEPTH,
                });
            }
            Found::Directory => read_directory(root, top, &p, depth + 1, found)?,
            Found::File => found.push(p),
        }
    }
    Ok(())
}

/// What an entry of a request directory is, once it is known to stay inside it.
enum Found {
    File,
    Directory,
}

/// An entry of a request directory `top` (canonical: `root`); a link out of
/// the directory or a file that is not a regular one is an error, whatever
/// its name (a FIFO named `x` is refused as `x.yaml` is).
fn directory_entry(root: &Path, top: &Path, path: &Path, kind: std::fs::FileType) -> Result<Found, RequestError> {
    use std::os::unix::fs::FileTypeExt;
    let shown = || yaml::shown_path(path);
    let kind = if kind.is_symlink() {
        let outside = || RequestError::OutsideDirectory { path: shown(), dir: yaml::shown_path(top) };
        let target = path.canonicalize().map_err(|_| outside())?;
        if !target.starts_with(root) {
            return Err(outside());
        }
        std::fs::metadata(&target).map_err(|error| RequestError::Io { path: shown(), error })?.file_type()
    } else {
        kind
    };
    let what = if kind.is_file() {
        return Ok(Found::File);
    } else if kind.is_dir() {
        return Ok(Found::Directory);
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    Err(RequestError::NotAFile { path: shown(), what })
}

/// Editor backups and dotfiles (`.x.yaml`) in a request directory are not requests.
fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

/// Lists the requests in the given files (see [`Listing`]). `cli_kind` is
/// the kind named on the command line: it is required by the flat form and
/// must agree with the Kubernetes form. A request with problems that refuse
/// it only if it is new to the state repo (a name that a request placed
/// before may keep, but that no new request may take: a database ending in
/// `-secondary`, an app holding `--`) is refused when `placed` says the
/// state repo does not hold it (asked only of requests that have any).
pub fn load<E: From<RequestError>>(
    paths: &[PathBuf],
    cli_kind: Option<Kind>,
    (policy, products): (&Policy, &Products),
    mut placed: impl FnMut(&Request) -> Result<bool, E>,
) -> Result<Listing, E> {
    let sources = expand_paths(paths)?.into_iter().map(|path| {
        let source = read_source(&path)?;
        // Standard input is read once, and kept.
        let again = path != Path::new("-");
        Ok(Read { path, source, again })
    });
    Listing::of(sources, cli_kind, (policy, products), Admission::Submitted, KEPT_UP_TO, |request, new_only| {
        Ok(if !new_only.is_empty() && !placed(request)? { new_only } else { Vec::new() })
    })
}

/// A listed request file, read again to plan it.
pub fn read_again(path: &Path) -> Result<Source, RequestError> {
    Ok(Source::read(path)?)
}

fn read_source(path: &Path) -> Result<Source, RequestError> {
    if path == Path::new("-") {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(yaml::MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| RequestError::Io { path: "<stdin>".into(), error })?;
        return Ok(Source::from_bytes("<stdin>".into(), bytes)?);
    }
    Ok(Source::read(path)?)
}

/// Validates already-read sources; all problems of all files are reported
/// together, after the first file that is not YAML at all. `admission` says
/// whether the policy's admission rules apply (what is submitted) or not
/// (what the state repo holds); the problems only a new request has are not
/// looked at here (`load` does that).
pub fn parse_sources(
    sources: &[Source],
    cli_kind: Option<Kind>,
    policy: &Policy,
    products: &Products,
    admission: Admission,
) -> Result<Vec<Request>, RequestError> {
    // Listed with every request kept: none is read again.
    let reads = sources
        .iter()
        .map(|source| Ok::<_, RequestError>(Read { path: PathBuf::new(), source: source.clone(), again: false }));
    let listing = Listing::of(reads, cli_kind, (policy, products), admission, usize::MAX, |_, _| Ok(Vec::new()))?;
    Ok(listing.into_kept().expect("a listing that keeps every request holds them all"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::LoadedPolicy;

    fn parse(text: &str, kind: Option<Kind>) -> Result<Vec<Request>, Vec<String>> {
        let policy = LoadedPolicy::embedded().policy;
        let products = Products::embedded();
        parse_sources(&[Source::new("r.yaml", text)], kind, &policy, products, Admission::Submitted)
            .map_err(|e| e.messages())
    }

    const SEED: &str = "apiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: orders-db\n  namespace: team-alpha\nspec:\n  cell: cell-us-east\n  tier: medium\n  environment: prod\n  size: large\n  storageGB: 100\n  ha: true\n";

    #[test]
    fn both_forms_normalize_to_the_same_request() {
        let k8s = parse(SEED, None).unwrap();
        let flat = parse(
            r#"{"name": "orders-db", "namespace": "team-alpha", "cell": "cell-us-east", "tier": "medium", "environment": "production", "size": "large", "storageGB": 100, "ha": true}"#,
            Some(crate::test_support::mysql()),
        )
        .unwrap();
        assert_eq!(k8s[0].environment, "production");
        assert_eq!((k8s[0].id(), &k8s[0].spec), (flat[0].id(), &flat[0].spec));
        assert_eq!(k8s[0].demand().tier, "medium");
    }

    /// `healthPath` is optional and kept as written; without it the app is
    /// probed on /healthz and its stored request has no such field.
    #[test]
    fn an_apps_health_path_defaults_and_round_trips() {
        let plain = parse(APP, None).unwrap().remove(0);
        assert_eq!(plain.health_path(), Some(DEFAULT_HEALTH_PATH));
        assert!(plain.to_manifest()["spec"].get("healthPath").is_none(), "{}", plain.to_manifest());
        for path in ["/ready", "/health/live", "/-/ready", "/status;v=1", "/a%20b", "/~user/ok:1@x"] {
            let app = parse(&format!("{APP}  healthPath: \"{path}\"\n"), None).unwrap().remove(0);
            assert_eq!(app.health_path(), Some(path));
            assert_eq!(app.to_manifest()["spec"]["healthPath"], path);
        }
    }

    #[test]
    fn a_bad_health_path_is_a_located_error() {
        for (path, expected) in [
            ("healthz", "does not start with `/`"),
            ("", "does not start with `/`"),
            ("/a/../b", "holds a `.` or `..` segment"),
            ("/a/./b", "holds a `.` or `..` segment"),
            ("/..", "holds a `.` or `..` segment"),
            ("/a b", "holds whitespace"),
            ("/a\\tb", "holds whitespace"),
            ("/a\\u0007", "holds a control character"),
            ("/ready?full=1", "holds a query or fragment"),
            ("/ready#x", "holds a query or fragment"),
            ("/a%zz", "is not a percent-escape"),
            ("/a%2", "is not a percent-escape"),
            ("/<script>", "`<`, not a URL path character"),
            ("/h\u{e9}alth", "not a URL path character"),
            ("/{{ x }}", "not a URL path character"),
        ] {
            let text = format!("{APP}  healthPath: \"{path}\"\n");
            let errors = parse(&text, None).unwrap_err();
            assert_eq!(errors.len(), 1, "{path:?}: {errors:?}");
            assert!(errors[0].starts_with("r.yaml:11:15: healthPath `"), "{path:?}: {}", errors[0]);
            assert!(errors[0].contains(expected), "{path:?}: {}", errors[0]);
        }
        let long = format!("/{}", "a".repeat(validate::MAX_HEALTH_PATH));
        let errors = parse(&format!("{APP}  healthPath: {long}\n"), None).unwrap_err();
        assert!(errors[0].contains("at most 200 are allowed"), "{errors:?}");
        let errors = parse(&format!("{APP}  healthPath: 8080\n"), None).unwrap_err();
        assert!(errors[0].contains("`healthPath` must be a string, not an integer"), "{errors:?}");
        let errors = parse(&format!("{APP}  healthpath: /ready\n"), None).unwrap_err();
        assert!(errors[0].contains("did you mean `healthPath`?"), "{errors:?}");
    }

    /// Every container field, written in full: it reaches the request as
    /// written, and the stored form reads back as the same request.
    #[test]
    fn an_apps_container_settings_are_kept_as_written_and_round_trip() {
        let text = format!(
            "{APP}  healthPath: /ready\n  livenessPath: /live\n  command: [/app/server]\n  args: [\"--listen\", \":8080\", \"\"]\n  env:\n    - name: LOG_LEVEL\n      value: info\n    - name: EMPTY\n      value: \"\"\n    - name: DB_PASSWORD\n      valueFrom:\n        secretKeyRef: {{name: web-db.conn, key: password}}\n  resources:\n    requests: {{cpu: 250m, memory: 256Mi}}\n    limits: {{cpu: 1.5, memory: 1Gi}}\n"
        );
        let app = parse(&text, None).unwrap().remove(0);
        let container = app.container().unwrap();
        assert_eq!(container.command, ["/app/server"]);
        assert_eq!(container.args, ["--listen", ":8080", ""]);
        assert_eq!(container.probes, Probes::Http);
        assert_eq!(container.liveness_path.as_deref(), Some("/live"));
        assert_eq!(app.health_path(), Some("/ready"));
        assert_eq!(
            container.env,
            [
                EnvVar { name: "LOG_LEVEL".into(), value: EnvValue::Plain("info".into()) },
                EnvVar { name: "EMPTY".into(), value: EnvValue::Plain(String::new()) },
                EnvVar {
                    name: "DB_PASSWORD".into(),
                    value: EnvValue::SecretKeyRef { name: "web-db.conn".into(), key: "password".into() }
                },
            ]
        );
        // A number YAML reads as a float is the quantity it spells.
        let effective: Vec<_> = container.resources.effective().collect();
        assert_eq!(
            effective,
            [
                ("requests", "cpu", "250m"),
                ("requests", "memory", "256Mi"),
                ("limits", "cpu", "1.5"),
                ("limits", "memory", "1Gi")
            ]
        );
        let stored = serde_saphyr::to_string(&app.to_manifest()).unwrap();
        assert_eq!(parse(&stored, None).unwrap()[0].spec, app.spec, "{stored}");
        // Half written: the rest are the defaults, and only what is written is stored.
        let half = parse(&format!("{APP}  resources:\n    limits: {{memory: 256Mi}}\n"), None).unwrap().remove(0);
        let resources = &half.container().unwrap().resources;
        assert_eq!(
            resources.effective().collect::<Vec<_>>(),
            [("requests", "cpu", "100m"), ("requests", "memory", "128Mi"), ("limits", "memory", "256Mi")]
        );
        assert_eq!(half.to_manifest()["spec"]["resources"], serde_json::json!({"limits": {"memory": "256Mi"}}));
    }

    /// Without HTTP probes the kubelet asks no path; the traffic provider's
    /// health check asks `/`, or the healthPath the request names.
    #[test]
    fn probes_may_be_tcp_or_none_and_the_health_path_follows() {
        let plain = parse(APP, None).unwrap().remove(0);
        assert_eq!((plain.container().unwrap().probes, plain.health_path()), (Probes::Http, Some("/healthz")));
        assert!(plain.to_manifest()["spec"].get("probes").is_none(), "old requests keep their bytes");
        for (written, probes) in [("tcp", Probes::Tcp), ("none", Probes::None), ("http", Probes::Http)] {
            let app = parse(&format!("{APP}  probes: {written}\n"), None).unwrap().remove(0);
            assert_eq!(app.container().unwrap().probes, probes);
            let expected = if probes == Probes::Http { "/healthz" } else { "/" };
            assert_eq!(app.health_path(), Some(expected), "{written}");
            let named = parse(&format!("{APP}  probes: {written}\n  healthPath: /up\n"), None).unwrap().remove(0);
            assert_eq!(named.health_path(), Some("/up"));
        }
        let errors = parse(&format!("{APP}  probes: tpc\n"), None).unwrap_err();
        assert!(errors[0].starts_with("r.yaml:11:11: unknown probes `tpc`"), "{errors:?}");
        assert!(errors[0].contains("did you mean `tcp`?"), "{errors:?}");
        let errors = parse(&format!("{APP}  probes: tcp\n  livenessPath: /live\n"), None).unwrap_err();
        assert!(
            errors[0].starts_with("r.yaml:12:17: livenessPath is for HTTP probes, but probes is `tcp`"),
            "{errors:?}"
        );
        // ... and the container's other problems are reported with it.
        let errors = parse(&format!("{APP}  probes: none\n  livenessPath: /live\n  env: []\n"), None).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[1].starts_with("r.yaml:13:8: `env` lists no variable"), "{errors:?}");
        let errors = parse(&format!("{APP}  livenessPath: live\n"), None).unwrap_err();
        assert!(errors[0].starts_with("r.yaml:11:17: livenessPath `live` does not start with `/`"), "{errors:?}");
    }

    /// Each container field refuses what the kubelet would not take, or a
    /// secret, on its own line and column, never repeating a secret value.
    #[test]
    fn bad_container_settings_are_located_errors() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "  env:\n    - name: DB_PASSWORD\n      value: hunter2\n",
                "r.yaml:13:14: env `DB_PASSWORD` is named like a secret and is given a literal value",
                "valueFrom: {secretKeyRef",
            ),
            (
                "  env:\n    - name: DSN\n      value: mysql://app:hunter2@db:3306/x\n",
                "r.yaml:13:14: env `DSN` value holds a URL with a password in it",
                "put the value in a Secret in team-a",
            ),
            (
                "  env:\n    - name: KEY_ID\n      value: AKIAABCDEFGHIJKLMNOP\n",
                "r.yaml:13:14: env `KEY_ID` value holds an AWS access key id",
                "secretKeyRef",
            ),
            (
                "  env:\n    - name: LOG-LEVEL\n      value: info\n",
                "r.yaml:12:13: env name `LOG-LEVEL` is not an environment variable name",
                "letters, digits and '_'",
            ),
            (
                "  env:\n    - name: 1X\n      value: a\n",
                "r.yaml:12:13: env name `1X` is not an environment variable name",
                "not starting with a digit",
            ),
            (
                "  env:\n    - name: A\n      value: a\n    - name: A\n      value: b\n",
                "r.yaml:14:13: env `A` is set twice",
                "set each variable once",
            ),
            (
                "  env:\n    - name: A\n      value: \"a\\nb\"\n",
                "r.yaml:13:14: env `A` value `a\\nb` holds a control character (\\n)",
                "one-line value",
            ),
            (
                "  env:\n    - name: PORT\n      value: 8080\n",
                "r.yaml:13:14: `value` must be a string, not an integer",
                "quoted",
            ),
            (
                "  env:\n    - name: A\n",
                "r.yaml:12:7: env `A` has neither `value` nor `valueFrom`",
                "add `value: <text>`",
            ),
            (
                "  env:\n    - name: A\n      value: a\n      valueFrom: {secretKeyRef: {name: s, key: k}}\n",
                "r.yaml:14:18: an env entry has both `value` and `valueFrom`",
                "keep one",
            ),
            (
                "  env:\n    - name: A\n      valeu: a\n",
                "r.yaml:13:7: unknown field `valeu` in an env entry",
                "did you mean `value`?",
            ),
            (
                "  env:\n    - name: A\n      valueFrom: {configMapKeyRef: {name: c, key: k}}\n",
                "unknown field `configMapKeyRef` in valueFrom",
                "valueFrom accepts: secretKeyRef",
            ),
            (
                "  env:\n    - name: A\n      valueFrom: {secretKeyRef: {name: Web_DB, key: k}}\n",
                "r.yaml:13:40: secretKeyRef name `Web_DB` is not a DNS-1123 name",
                "lowercase",
            ),
            (
                "  env:\n    - name: A\n      valueFrom: {secretKeyRef: {name: s, key: \"a/b\"}}\n",
                "secretKeyRef key `a/b` is not a key of a Secret",
                "letters, digits",
            ),
            (
                "  env:\n    - name: A\n      valueFrom: {secretKeyRef: {name: s}}\n",
                "secretKeyRef is missing the required field `key`",
                "add `key:`",
            ),
            ("  env: []\n", "r.yaml:11:8: `env` lists no variable", "leave `env` out"),
            ("  env: {A: b}\n", "r.yaml:11:8: `env` must be a list, not a mapping", "`- `"),
            ("  env: [LOG_LEVEL=info]\n", "r.yaml:11:9: an env entry is a mapping, not a string", "- name: LOG_LEVEL"),
            (
                "  resources:\n    limits: {memory: 512MB}\n",
                "r.yaml:12:22: resources.limits.memory `512MB` is not a Kubernetes quantity",
                "512Mi",
            ),
            (
                "  resources:\n    limits: {memory: 512m}\n",
                "resources.limits.memory `512m` is not a whole number of bytes",
                "`m` is a thousandth (of a byte): write memory in Mi or Gi, e.g. 512Mi",
            ),
            (
                "  resources:\n    requests: {cpu: 0.0001}\n",
                "resources.requests.cpu `0.0001` is finer than a thousandth of a CPU (1m)",
                "100m",
            ),
            (
                "  resources:\n    requests: {cpu: -1}\n",
                "resources.requests.cpu `-1` is not a Kubernetes quantity",
                "250m",
            ),
            ("  resources:\n    requests: {cpu: 0}\n", "resources.requests.cpu `0` is zero", "100m"),
            ("  resources:\n    requests: {cpu: 1e3}\n", "", ""),
            (
                "  resources:\n    requests: {cpu: \"1e3\"}\n",
                "resources.requests.cpu `1e3` is not a Kubernetes quantity",
                "250m",
            ),
            (
                "  resources:\n    requests: {cpu: 2}\n    limits: {cpu: 500m}\n",
                "r.yaml:12:21: resources.requests.cpu 2 is more than resources.limits.cpu 500m",
                "raise resources.limits.cpu",
            ),
            (
                "  resources:\n    requests: {memory: 1Gi}\n",
                "r.yaml:12:24: resources.requests.memory 1Gi is more than the default memory limit 512Mi",
                "set resources.limits.memory too, to at least 1Gi",
            ),
            (
                "  resources:\n    limits: {memory: 64Mi}\n",
                "r.yaml:12:22: resources.limits.memory 64Mi is less than the default memory request 128Mi",
                "set resources.requests.memory too",
            ),
            (
                "  resources:\n    limits: {gpu: 1}\n",
                "r.yaml:12:14: unknown field `gpu` in resources.limits",
                "did you mean `cpu`?",
            ),
            (
                "  resources:\n    request: {cpu: 1}\n",
                "unknown field `request` in resources",
                "did you mean `requests`?",
            ),
            ("  resources:\n    limits: {memory: [1Gi]}\n", "`memory` must be a quantity, not a list", "512Mi"),
            (
                "  args: [\"--a\", \"b\\u001b[31m\"]\n",
                "r.yaml:11:17: args[1] `b\\u{1b}[31m` holds a control character (\\u{1b})",
                "on one line",
            ),
            (
                "  command: [sh, -c, \"echo https://u:hunter2@h\"]\n",
                "r.yaml:11:21: command[2] holds a URL with a password in it",
                "secretKeyRef",
            ),
            ("  args: [--port, 8080]\n", "r.yaml:11:18: args[1] must be a string, not an integer", "quote it"),
            ("  args: []\n", "`args` lists no entry", "leave `args` out"),
            ("  command: /app/server\n", "`command` must be a list, not a string", "`- `"),
        ];
        let mut wrong = Vec::new();
        for (added, expected, help) in cases {
            let text = format!("{APP}{added}");
            match parse(&text, None) {
                Ok(_) if expected.is_empty() => {}
                Ok(_) => wrong.push(format!("{added}: taken")),
                Err(errors) => {
                    let ok = errors.len() == 1
                        && errors[0].contains(expected)
                        && errors[0].contains(help)
                        && !expected.is_empty()
                        && !errors[0].contains("hunter2")
                        && !errors[0].contains("AKIA");
                    if !ok {
                        wrong.push(format!("{added}: expected {expected:?} with {help:?}, got {errors:#?}"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        // Bounded: counts and lengths.
        let many: String = (0..65).map(|i| format!("a{i}, ")).collect();
        let errors = parse(&format!("{APP}  args: [{many}]\n"), None).unwrap_err();
        assert!(errors[0].contains("r.yaml:11:9: `args` lists 65 entries; at most 64 are allowed"), "{errors:?}");
        let long = "x".repeat(4097);
        let errors = parse(&format!("{APP}  args: [{long}]\n"), None).unwrap_err();
        assert!(errors[0].contains("is 4097 characters; at most 4096 are allowed"), "{errors:?}");
    }

    #[test]
    fn each_rule_reports_a_located_message() {
        let cases = [
            ("  ha: true\n", "  ha: true\n  provider: aws\n", "r.yaml:13:3: `provider` may not be set"),
            (
                "  ha: true\n",
                "  ha: true\n  x:\n    runtimeCluster: a\n",
                "r.yaml:14:5: `runtimeCluster` may not be set",
            ),
            ("storageGB: 100", "storageGb: 100", "did you mean"),
            ("storageGB: 100", "storageGB: 9", "storageGB 9 is outside 10..=65536"),
            ("storageGB: 100", "storageGB: 65537", "outside"),
            ("storageGB: 100", "storageGB: 1e3", "must be an integer, not a decimal number"),
            ("storageGB: 100", "storageGB: \"100\"", "must be an integer, not a string"),
            ("ha: true", "ha: \"yes\"", "`ha` must be true or false"),
            ("name: orders-db", "name: Orders_DB", "not a DNS-1123 label"),
            ("namespace: team-alpha", "namespace: ../etc", "namespace `../etc` is not a DNS-1123 label"),
            ("tier: medium", "tier: meduim", "unknown tier `meduim`"),
            ("size: large", "size: huge", "unknown size `huge`"),
            ("cell: cell-us-east", "cell: cell-mars", "unknown cell"),
            (
                "  ha: true\n",
                "  ha: true\n  drProfile: bronze\n",
                "drProfile bronze is weaker than tier medium: RTO 240 min > 120 min",
            ),
            ("kind: MySQL", "kind: Postgres", "unknown kind `Postgres`"),
            ("v1alpha1", "v9", "unknown apiVersion"),
            ("  size: large\n", "", "missing the required field `size`"),
            (
                "name: orders-db",
                &format!("name: {}", "a".repeat(52)),
                "is too long: the longest name idp derives from it",
            ),
        ];
        for (from, to, expected) in cases {
            let text = SEED.replace(from, to);
            let errors = parse(&text, None).expect_err(&text).join("\n");
            assert!(errors.contains(expected), "{to:?}: expected {expected:?} in\n{errors}");
            assert!(errors.contains("r.yaml:"), "{errors}");
        }
    }

    #[test]
    fn every_problem_is_reported_in_file_order() {
        let text = SEED
            .replace("tier: medium", "tier: gold")
            .replace("size: large", "size: huge")
            .replace("name: orders-db", "name: X");
        let errors = parse(&text, None).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].contains(":4:9:") && errors[1].contains(":8:9:") && errors[2].contains(":10:9:"),
            "{errors:?}"
        );
    }

    /// An app request; `spec.database` is appended as line 11 (value at column 13).
    const APP: &str = "apiVersion: idp.platform.example.org/v1alpha1\nkind: App\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  cell: cell-eu\n  tier: C2\n  environment: dev\n  image: registry.example.org/web:1.0.0\n";

    #[test]
    fn an_app_names_its_databases_and_the_stored_form_keeps_them() {
        let none = parse(APP, None).unwrap();
        assert!(none[0].databases().is_empty());
        assert_eq!(
            none[0].to_manifest()["spec"].get("database"),
            None,
            "no name, no field: old requests keep their bytes"
        );
        let one = parse(&format!("{APP}  database: orders-db\n"), None).unwrap();
        assert_eq!(one[0].databases(), ["orders-db"]);
        assert_eq!(one[0].to_manifest()["spec"]["database"], "orders-db");
        let two = parse(&format!("{APP}  database:\n    - orders-db\n    - reports-db\n"), None).unwrap();
        assert_eq!(two[0].databases(), ["orders-db", "reports-db"]);
        assert_eq!(two[0].to_manifest()["spec"]["database"], serde_json::json!(["orders-db", "reports-db"]));
        // A one-name list is the same request as the name.
        let listed = parse(&format!("{APP}  database: [orders-db]\n"), None).unwrap();
        assert_eq!(listed[0].spec, one[0].spec);
        // The flat form takes it too.
        let flat = parse(
            r#"{"name": "web", "namespace": "team-a", "cell": "cell-eu", "tier": "C2", "environment": "dev", "image": "registry.example.org/web:1.0.0", "database": ["orders-db", "reports-db"]}"#,
            Some(crate::test_support::app()),
        )
        .unwrap();
        assert_eq!(flat[0].spec, two[0].spec);
        // The stored form reads back as the same request.
        for request in [&none[0], &one[0], &two[0]] {
            let stored = serde_saphyr::to_string(&request.to_manifest()).unwrap();
            assert_eq!(parse(&stored, None).unwrap()[0].spec, request.spec, "{stored}");
        }
    }

    /// The messages of the problems a new request has, or None when it is admitted.
    fn new_only(text: &str, placed: bool) -> Option<Vec<String>> {
        let policy = LoadedPolicy::embedded().policy;
        let read = Read { path: "r.yaml".into(), source: Source::new("r.yaml", text), again: false };
        let mut asked = 0;
        let in_force = (&policy, Products::embedded());
        let admitted = Listing::of([Ok(read)], None, in_force, Admission::Submitted, 1, |_, new_only| {
            asked += 1;
            Ok::<_, RequestError>(if placed { Vec::new() } else { new_only })
        });
        assert!(asked <= 1, "asked once, for the one request");
        admitted.err().map(|e| e.messages())
    }

    #[test]
    fn names_only_requests_placed_before_may_keep_are_refused_where_written() {
        for suffix in ["secondary", "replication"] {
            let text = SEED.replace("name: orders-db", &format!("name: orders-{suffix}"));
            let errors = new_only(&text, false).expect("a new database may not end so");
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].starts_with(&format!(
                    "r.yaml:4:9: name `orders-{suffix}` ends in `-{suffix}`: idp names a database's secondary claim `<name>-secondary`"
                )),
                "{errors:?}"
            );
            assert!(errors[0].contains("choose a name that does not end in -secondary or -replication"), "{errors:?}");
            assert_eq!(new_only(&text, true), None, "placed before: it keeps its name");
            // Context-free parsing (stored requests) takes it.
            assert!(parse(&text, None).is_ok());
        }
        for fine in ["orders-second", "secondary-orders", "orders-secondary-db"] {
            assert_eq!(new_only(&SEED.replace("name: orders-db", &format!("name: {fine}")), false), None, "{fine}");
        }
        let app = APP.replace("name: web", "name: web--x").replace("namespace: team-a", "namespace: team--a");
        let errors = new_only(&app, false).expect("a new app may not hold --");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("r.yaml:4:9: name `web--x` holds `--`"), "{errors:?}");
        assert!(errors[0].contains("use single hyphens, e.g. `web-x`"), "{errors:?}");
        assert!(errors[1].starts_with("r.yaml:5:14: namespace `team--a` holds `--`"), "{errors:?}");
        assert_eq!(new_only(&app, true), None);
        // An app may end in -secondary: its names are not a database's.
        assert_eq!(new_only(&APP.replace("name: web", "name: web-secondary"), false), None);
        assert_eq!(new_only(APP, false), None);
    }

    #[test]
    fn database_names_are_checked_where_they_are_written() {
        let long = "a".repeat(52);
        let cases = [
            (
                "team-b/orders-db".to_owned(),
                "r.yaml:11:13: database `team-b/orders-db` is in another namespace: an app may use only databases of its own namespace (team-a)",
                "ask the team of team-b for an API in front of its data",
            ),
            (
                "team-a/orders-db".to_owned(),
                "r.yaml:11:13: database `team-a/orders-db` is named with a namespace",
                "write `database: orders-db`",
            ),
            (
                "[orders-db, team-b/x]".to_owned(),
                "r.yaml:11:25: database `team-b/x` is in another namespace",
                "request a database of your own in team-a",
            ),
            ("Orders_DB".to_owned(), "r.yaml:11:13: database `Orders_DB` is not a DNS-1123 label", "lowercase"),
            ("[a, a]".to_owned(), "r.yaml:11:17: database `a` is named twice", "name each database once"),
            ("[]".to_owned(), "r.yaml:11:13: `database` lists no database", "leave `database` out"),
            (
                "3".to_owned(),
                "r.yaml:11:13: `database` must be a name or a list of names, not an integer",
                "database: [",
            ),
            ("[3]".to_owned(), "r.yaml:11:14: a database is named by a string, not an integer", "database: orders-db"),
            ("{name: a}".to_owned(), "`database` must be a name or a list of names, not a mapping", "database: ["),
            (long.clone(), "no MySQL request can be named so", "at most 51 characters"),
        ];
        for (value, expected, help) in cases {
            let text = format!("{APP}  database: {value}\n");
            let errors = parse(&text, None).expect_err(&text);
            assert_eq!(errors.len(), 1, "{value}: {errors:?}");
            assert!(errors[0].contains(expected), "{value}: expected {expected:?} in\n{}", errors[0]);
            assert!(errors[0].contains(help), "{value}: expected the hint {help:?} in\n{}", errors[0]);
        }
        let typo = parse(&format!("{APP}  databse: orders-db\n"), None).unwrap_err();
        assert!(typo[0].contains("did you mean `database`?"), "{typo:?}");
        // A database names no database.
        let mysql = parse(&format!("{SEED}  database: other-db\n"), None).unwrap_err();
        assert!(mysql[0].contains("unknown field `database` in spec"), "{mysql:?}");
    }

    #[test]
    fn flat_form_needs_a_kind_and_duplicates_are_refused() {
        let flat = r#"{"name": "a", "cell": "cell-eu", "tier": "critical", "environment": "dev", "size": "small", "storageGB": 10}"#;
        assert!(parse(flat, None).unwrap_err()[0].contains("does not say its kind"));
        let twice = format!("{SEED}---\n{SEED}");
        assert!(parse(&twice, None).unwrap_err()[0].contains("requested twice"));
        let defaulted = parse(flat, Some(crate::test_support::mysql())).unwrap();
        assert_eq!((defaulted[0].namespace.as_str(), defaulted[0].ha()), ("default", false));
    }
}
