//! The developer contract: request files in both forms, validated against the
//! policy in force.
//!
//! Nothing a developer writes leaves this module unchecked: names are
//! DNS-1123 labels, every other value is one the policy defines, and placement
//! fields are refused wherever they appear. Every problem is reported with its
//! file, line and column, all of them at once.

mod kind;
mod validate;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use kind::Kind;
pub use validate::{Issue, RequestError};

use crate::policy::Policy;
use crate::schedule::Demand;
use crate::yaml::{self, Source};

pub const API_VERSION: &str = "idp.platform.example.org/v1alpha1";

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
    MySql { size: String, storage_gb: u32, ha: bool },
}

impl Request {
    /// `<namespace>/<name>`, how commands and messages name a request.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn ha(&self) -> bool {
        match self.spec {
            Spec::MySql { ha, .. } => ha,
        }
    }

    pub fn demand(&self) -> Demand<'_> {
        Demand { cell: &self.cell, tier: &self.tier, ha: self.ha(), dr_profile: self.dr_profile.as_deref() }
    }

    /// The canonical Kubernetes-style form, as stored under `requests/`.
    pub fn to_manifest(&self) -> RequestManifest {
        let Spec::MySql { size, storage_gb, ha } = &self.spec;
        RequestManifest {
            api_version: API_VERSION,
            kind: self.kind.manifest_kind(),
            metadata: Metadata { name: self.name.clone(), namespace: self.namespace.clone() },
            spec: ManifestSpec {
                cell: self.cell.clone(),
                tier: self.tier.clone(),
                environment: self.environment.clone(),
                size: size.clone(),
                storage_gb: *storage_gb,
                ha: *ha,
                dr_profile: self.dr_profile.clone(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestManifest {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: ManifestSpec,
}

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestSpec {
    pub cell: String,
    pub tier: String,
    pub environment: String,
    pub size: String,
    #[serde(rename = "storageGB")]
    pub storage_gb: u32,
    pub ha: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dr_profile: Option<String>,
}

/// Expands `-f` arguments: files as given, directories to their `*.yaml`,
/// `*.yml` and `*.json` files in name order, `-` to standard input.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RequestError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|error| RequestError::Io { path: path.display().to_string(), error })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
                })
                .collect();
            if found.is_empty() {
                return Err(RequestError::EmptyDirectory { path: path.display().to_string() });
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Reads and validates every request in the given files. `cli_kind` is the
/// kind named on the command line: it is required by the flat form and must
/// agree with the Kubernetes form.
pub fn load(paths: &[PathBuf], cli_kind: Option<Kind>, policy: &Policy) -> Result<Vec<Request>, RequestError> {
    let mut sources = Vec::new();
    for path in expand_paths(paths)? {
        sources.push(read_source(&path)?);
    }
    parse_sources(&sources, cli_kind, policy)
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
/// together, after the first file that is not YAML at all.
pub fn parse_sources(
    sources: &[Source],
    cli_kind: Option<Kind>,
    policy: &Policy,
) -> Result<Vec<Request>, RequestError> {
    let mut requests: Vec<Request> = Vec::new();
    let mut issues = Vec::new();
    for source in sources {
        let documents = yaml::parse_documents(source)?;
        let many = documents.len() > 1;
        for (index, document) in documents.iter().enumerate() {
            let origin = if many { format!("{}#{}", source.name, index + 1) } else { source.name.clone() };
            match validate::document(source, document, cli_kind, policy, origin) {
                Ok(request) => {
                    if let Some(first) = requests.iter().find(|r| r.kind == request.kind && r.id() == request.id()) {
                        issues.push(validate::duplicate(source, document, &request, &first.origin));
                    } else {
                        requests.push(request);
                    }
                }
                Err(mut found) => {
                    found.sort_by_key(Issue::offset);
                    issues.extend(found);
                }
            }
        }
    }
    if issues.is_empty() { Ok(requests) } else { Err(RequestError::Invalid { issues }) }
}
