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
mod validate;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};

pub use derived::{DerivedName, NAME_LIMIT, catalog_entity_name, derived_names, derived_names_fit, request_label};
pub use kind::Kind;
pub use validate::{Admission, Issue, RequestError};

use crate::policy::Policy;
use crate::schedule::Demand;
use crate::yaml::{self, Source};

pub const API_VERSION: &str = "idp.platform.example.org/v1alpha1";

/// The path an app answers health checks on when its request names none
/// (`spec.healthPath`).
pub const DEFAULT_HEALTH_PATH: &str = "/healthz";

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

/// What is particular to each kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    MySql {
        size: String,
        storage_gb: u32,
        ha: bool,
    },
    App {
        image: String,
        port: u32,
        replicas: u32,
        /// `spec.healthPath`: where the kubelet's probes and the traffic
        /// provider's health check ask; None for [`DEFAULT_HEALTH_PATH`].
        health_path: Option<String>,
        public_host: Option<String>,
        /// The databases it uses (`spec.database`): MySQL requests of its own
        /// namespace, in the order named. Empty: it uses none.
        databases: Vec<String>,
    },
}

impl Spec {
    /// The sizing fields under the names requests use (`size`, `storageGB`,
    /// `ha`; `image`, `port`, `replicas`). An app's public host and databases
    /// are not among them: the stored request nests the host under `traffic`
    /// and writes `database` only when the app names one.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut fields = serde_json::Map::new();
        match self {
            Spec::MySql { size, storage_gb, ha } => {
                fields.insert("size".into(), size.clone().into());
                fields.insert("storageGB".into(), (*storage_gb).into());
                fields.insert("ha".into(), (*ha).into());
            }
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

    /// High availability within a region: a gate for databases; apps get
    /// theirs from replicas.
    pub fn ha(&self) -> bool {
        match self.spec {
            Spec::MySql { ha, .. } => ha,
            Spec::App { .. } => false,
        }
    }

    /// The path an app answers health checks on: its `healthPath`, or
    /// [`DEFAULT_HEALTH_PATH`]; None for a database.
    pub fn health_path(&self) -> Option<&str> {
        match &self.spec {
            Spec::App { health_path, .. } => Some(health_path.as_deref().unwrap_or(DEFAULT_HEALTH_PATH)),
            Spec::MySql { .. } => None,
        }
    }

    /// The databases an app names (`spec.database`), all of its own
    /// namespace; none for a database.
    pub fn databases(&self) -> &[String] {
        match &self.spec {
            Spec::App { databases, .. } => databases,
            Spec::MySql { .. } => &[],
        }
    }

    pub fn demand(&self) -> Demand<'_> {
        Demand { cell: &self.cell, tier: &self.tier, ha: self.ha(), dr_profile: self.dr_profile.as_deref() }
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
        if let Spec::App { public_host: Some(host), .. } = &self.spec {
            fields.insert("traffic".into(), serde_json::json!({ "publicHost": host, "mode": "active-passive" }));
        }
        // One name as a string, several as a list; none is no field at all,
        // so that requests stored before apps named their data keep their bytes.
        match self.databases() {
            [] => {}
            [one] => {
                fields.insert("database".into(), one.clone().into());
            }
            several => {
                fields.insert("database".into(), several.to_vec().into());
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

/// Requests read and validated, each with the problems that refuse it only
/// if it is new to the state repo: a name that a request placed before may
/// keep, but that no new request may take (a database ending in
/// `-secondary`, an app holding `--`).
#[derive(Debug)]
pub struct Loaded {
    requests: Vec<Request>,
    /// Per request, in the same order: its problems if it is new.
    new_only: Vec<Vec<Issue>>,
}

impl Loaded {
    /// The requests, or the new-only problems of those that `placed` says
    /// the state repo does not hold (asked only of requests that have any),
    /// reported like every other problem of a request file.
    pub fn admit<E: From<RequestError>>(
        self,
        mut placed: impl FnMut(&Request) -> Result<bool, E>,
    ) -> Result<Vec<Request>, E> {
        let Loaded { requests, new_only } = self;
        let mut issues = Vec::new();
        for (request, found) in requests.iter().zip(new_only) {
            if !found.is_empty() && !placed(request)? {
                issues.extend(found);
            }
        }
        if issues.is_empty() { Ok(requests) } else { Err(RequestError::Invalid { issues }.into()) }
    }
}

/// Reads and validates every request in the given files. `cli_kind` is the
/// kind named on the command line: it is required by the flat form and must
/// agree with the Kubernetes form.
pub fn load(paths: &[PathBuf], cli_kind: Option<Kind>, policy: &Policy) -> Result<Loaded, RequestError> {
    let mut sources = Vec::new();
    for path in expand_paths(paths)? {
        sources.push(read_source(&path)?);
    }
    parse_all(&sources, cli_kind, policy, Admission::Submitted)
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
/// looked at here (`load` and `Loaded::admit` do that).
pub fn parse_sources(
    sources: &[Source],
    cli_kind: Option<Kind>,
    policy: &Policy,
    admission: Admission,
) -> Result<Vec<Request>, RequestError> {
    Ok(parse_all(sources, cli_kind, policy, admission)?.requests)
}

fn parse_all(
    sources: &[Source],
    cli_kind: Option<Kind>,
    policy: &Policy,
    admission: Admission,
) -> Result<Loaded, RequestError> {
    let mut loaded = Loaded { requests: Vec::new(), new_only: Vec::new() };
    // (kind, namespace, name) -> index in `requests`, to find duplicates.
    let mut seen: HashMap<(Kind, String, String), usize> = HashMap::new();
    let mut issues = Vec::new();
    for source in sources {
        let documents = yaml::parse_documents(source)?;
        let many = documents.len() > 1;
        for (index, document) in documents.iter().enumerate() {
            let origin = if many { format!("{}#{}", source.name, index + 1) } else { source.name.clone() };
            match validate::document(source, document, cli_kind, policy, origin, admission) {
                Ok((request, new_only)) => {
                    match seen.entry((request.kind, request.namespace.clone(), request.name.clone())) {
                        Entry::Occupied(first) => {
                            let first = &loaded.requests[*first.get()].origin;
                            issues.push(validate::duplicate(source, document, &request, first));
                        }
                        Entry::Vacant(slot) => {
                            slot.insert(loaded.requests.len());
                            loaded.requests.push(request);
                            loaded.new_only.push(new_only);
                        }
                    }
                }
                Err(mut found) => {
                    found.sort_by_key(Issue::offset);
                    issues.extend(found);
                }
            }
        }
    }
    if issues.is_empty() { Ok(loaded) } else { Err(RequestError::Invalid { issues }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::LoadedPolicy;

    fn parse(text: &str, kind: Option<Kind>) -> Result<Vec<Request>, Vec<String>> {
        let policy = LoadedPolicy::embedded().policy;
        parse_sources(&[Source::new("r.yaml", text)], kind, &policy, Admission::Submitted).map_err(|e| e.messages())
    }

    const SEED: &str = "apiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: orders-db\n  namespace: team-alpha\nspec:\n  cell: cell-us-east\n  tier: medium\n  environment: prod\n  size: large\n  storageGB: 100\n  ha: true\n";

    #[test]
    fn both_forms_normalize_to_the_same_request() {
        let k8s = parse(SEED, None).unwrap();
        let flat = parse(
            r#"{"name": "orders-db", "namespace": "team-alpha", "cell": "cell-us-east", "tier": "medium", "environment": "production", "size": "large", "storageGB": 100, "ha": true}"#,
            Some(Kind::MySql),
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
            Some(Kind::App),
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
        let loaded = parse_all(&[Source::new("r.yaml", text)], None, &policy, Admission::Submitted).unwrap();
        let mut asked = 0;
        let admitted = loaded.admit(|_| {
            asked += 1;
            Ok::<_, RequestError>(placed)
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
        let defaulted = parse(flat, Some(Kind::MySql)).unwrap();
        assert_eq!((defaulted[0].namespace.as_str(), defaulted[0].ha()), ("default", false));
    }
}
