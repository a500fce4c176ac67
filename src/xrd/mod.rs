//! The Crossplane XRDs idp ships (`manifests/crossplane/xrd-*.yaml`, compiled
//! in) and the check that a claim idp renders is one the API server would
//! admit: the claim CRD's structural schema and its `x-kubernetes-validations`
//! CEL rules, transition rules included. Pure: it sees the documents it is
//! handed (the claim, and the claim as the state repo holds it), never a file,
//! a repo or a cluster.
//!
//! What it does not reproduce, and so cannot promise: the real API server's
//! admission chain (webhooks, admission policies), validation ratcheting
//! (an unchanged invalid field passes there, is refused here), CEL cost
//! limits, `format`, Kubernetes' CEL extension libraries (a rule that calls
//! one fails closed), and YAML 1.1 scalars (`yes` is a string here, a
//! boolean to sigs.k8s.io/yaml; idp's templates quote every value).

mod rule;
mod schema;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Deserialize;
use serde_json::Value as Json;

pub use schema::Violation;
use schema::{Fields, Path, RawSchema, Schema};

use crate::yaml::{self, Node, Value};

/// The XRDs whose claims idp renders, as shipped in `manifests/crossplane/`.
pub const EMBEDDED_XRDS: &[(&str, &str)] = &[
    ("manifests/crossplane/xrd-mysql.yaml", include_str!("../../manifests/crossplane/xrd-mysql.yaml")),
    ("manifests/crossplane/xrd-postgres.yaml", include_str!("../../manifests/crossplane/xrd-postgres.yaml")),
    ("manifests/crossplane/xrd-redis.yaml", include_str!("../../manifests/crossplane/xrd-redis.yaml")),
    ("manifests/crossplane/xrd-replication.yaml", include_str!("../../manifests/crossplane/xrd-replication.yaml")),
];

/// The spec fields Crossplane adds to every claim CRD, over any XRD field of
/// the same name (crossplane-runtime `pkg/xcrd/schemas.go`,
/// `CompositeResourceClaimSpecProps`, commit 4e7ed23). Crossplane 1.x also
/// added `publishConnectionDetailsTo`, which 2.x removed: idp targets both,
/// so it is left out.
const CROSSPLANE_CLAIM_SPEC: &str = "\
compositionRef: {type: object, required: [name], properties: {name: {type: string}}}
compositionSelector:
  type: object
  required: [matchLabels]
  properties: {matchLabels: {type: object, additionalProperties: {type: string}}}
compositionRevisionRef: {type: object, required: [name], properties: {name: {type: string}}}
compositionRevisionSelector:
  type: object
  required: [matchLabels]
  properties: {matchLabels: {type: object, additionalProperties: {type: string}}}
compositionUpdatePolicy: {type: string, enum: [Automatic, Manual]}
compositeDeletePolicy: {type: string, enum: [Background, Foreground]}
resourceRef:
  type: object
  required: [apiVersion, kind, name]
  properties: {apiVersion: {type: string}, kind: {type: string}, name: {type: string}}
writeConnectionSecretToRef: {type: object, required: [name], properties: {name: {type: string}}}
";

/// [`EMBEDDED_XRDS`] and [`CROSSPLANE_CLAIM_SPEC`] as JSON, generated from
/// them and kept fresh by a test (`IDP_REGENERATE=1 cargo test --lib xrd`
/// writes it): parsing the XRDs' YAML cost a plan ~2.7 M instructions, more
/// than the rest of the check (docs/performance.md).
const EMBEDDED_JSON: &str = include_str!("embedded.json");

/// What `embedded.json` holds, as the test that writes it builds it.
#[cfg(test)]
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbeddedJson {
    crossplane_claim_spec: Json,
    /// `(file, documents)` in the order of [`EMBEDDED_XRDS`].
    files: Vec<XrdFile>,
}

/// An XRD file's name and its documents as JSON.
type XrdFile = (String, Vec<Json>);

/// [`EmbeddedJson`] read straight into the types the check compiles, with
/// no `serde_json::Value` in between (half the cost of reading it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbeddedTyped {
    crossplane_claim_spec: Fields<RawSchema>,
    files: Vec<(String, Vec<RawXrd>)>,
}

/// YAML XRD files and Crossplane's claim fields as JSON documents.
fn yaml_documents(files: &[(&str, &str)]) -> Result<(Json, Vec<XrdFile>), XrdError> {
    let spec = yaml::non_empty_documents(CROSSPLANE_CLAIM_SPEC).expect("Crossplane's claim fields are YAML");
    let mut out = Vec::new();
    for (file, text) in files {
        let documents = yaml::non_empty_documents(text)
            .map_err(|e| XrdError { file: (*file).to_owned(), message: e.in_text(text) })?;
        out.push(((*file).to_owned(), documents.iter().map(to_json).collect()));
    }
    Ok((to_json(&spec[0]), out))
}

/// Whether an embedded XRD could define `kind` as a claim kind: only if its
/// text names it (a test holds every claim kind to that). Spares manifests
/// that are no claim (Deployments, Applications) the loading of the XRDs.
pub fn embedded_may_define(kind: &str) -> bool {
    EMBEDDED_XRDS.iter().any(|(_, text)| text.contains(kind))
}

/// An XRD idp cannot read, or one that uses what its check does not understand.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {message}")]
pub struct XrdError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawXrd {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    spec: RawXrdSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawXrdSpec {
    group: String,
    names: RawNames,
    claim_names: Option<RawNames>,
    versions: Vec<RawVersion>,
}

#[derive(Deserialize)]
struct RawNames {
    kind: String,
}

#[derive(Deserialize)]
struct RawVersion {
    name: String,
    #[serde(default)]
    served: bool,
    schema: Option<RawValidation>,
}

#[derive(Deserialize)]
struct RawValidation {
    #[serde(rename = "openAPIV3Schema")]
    open_api_v3_schema: RawSchema,
}

const XRD_KIND: &str = "CompositeResourceDefinition";
const XRD_API_VERSION: &str = "apiextensions.crossplane.io/v1";

/// One version of a claim kind.
struct Claim {
    group: String,
    version: String,
    kind: String,
    /// The composite kind its Compositions compose (`XMySQLInstance`).
    composite: String,
    served: bool,
    /// The XRD file it comes from.
    file: String,
    schema: LazySchema,
    parameters: Vec<Parameter>,
}

/// A claim kind's schema, compiled when a claim of it is first checked: a
/// plan checks one or two of the kinds idp ships, and compiling all of them
/// cost it ~0.9 M instructions (docs/performance.md). A repo's own XRDs are
/// compiled when read, so that a schema idp cannot check is refused there.
struct LazySchema {
    /// The XRD's schema, until compiled (taken, not copied: a copy cost a
    /// fifth of the compiling).
    raw: Mutex<Option<RawSchema>>,
    /// Crossplane's claim fields, shared by every claim kind.
    crossplane_spec: Arc<Fields<RawSchema>>,
    /// `<claim kind> <version>`, for the error.
    at: String,
    compiled: OnceLock<Result<Schema, String>>,
}

impl LazySchema {
    fn compiled(&self) -> Result<&Schema, &String> {
        self.compiled
            .get_or_init(|| {
                let raw = self.raw.lock().unwrap_or_else(PoisonError::into_inner).take();
                let raw = raw.expect("compiled once: the OnceLock runs this at most once");
                Schema::claim(raw, &self.crossplane_spec).map_err(|e| format!("{}: {e}", self.at))
            })
            .as_ref()
    }
}

/// One field of a claim's `spec.parameters` as its XRD declares it: what a
/// product's request field takes its type, values, range and default from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Parameter {
    pub name: String,
    /// The OpenAPI type: `string`, `integer`, `boolean`, ...
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    /// Listed in `parameters.required` (the claim must have it).
    #[serde(skip)]
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A claim kind and the XRD file that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKind<'a> {
    /// `group/version`.
    pub api_version: String,
    pub version: &'a str,
    pub kind: &'a str,
    pub file: &'a str,
}

/// The claim kinds of the XRDs idp ships: every one a database, a cache or
/// their replication, whose deletion loses data.
pub fn embedded_claim_kinds() -> &'static [ClaimKind<'static>] {
    static KINDS: OnceLock<Vec<ClaimKind<'static>>> = OnceLock::new();
    KINDS.get_or_init(|| Xrds::embedded().expect("the embedded XRDs are validated by tests").claim_kinds().collect())
}

/// A claim kind of a set of XRDs: its served version and its parameters.
#[derive(Debug, Clone, Copy)]
pub struct ClaimApi<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    /// The composite kind, which its Compositions' `compositeTypeRef` names.
    pub composite: &'a str,
    pub parameters: &'a [Parameter],
}

impl ClaimApi<'_> {
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// The fields of `spec.parameters` in a claim's raw schema, in name order.
fn parameters_of(raw: &RawSchema) -> Vec<Parameter> {
    let Some(parameters) = raw
        .properties
        .as_ref()
        .and_then(|p| p.get("spec"))
        .and_then(|s| s.properties.as_ref())
        .and_then(|p| p.get("parameters"))
    else {
        return Vec::new();
    };
    let required = parameters.required.clone().unwrap_or_default();
    parameters
        .properties
        .iter()
        .flatten()
        .map(|(name, field)| Parameter {
            name: name.clone(),
            type_: field.type_.clone().unwrap_or_default(),
            values: field.enum_.clone().unwrap_or_default(),
            minimum: field.minimum,
            maximum: field.maximum,
            default: field.default.clone(),
            required: required.contains(name),
            description: field.description.clone(),
        })
        .collect()
}

/// The claim kinds of a set of XRDs, with their schemas and compiled rules.
pub struct Xrds {
    claims: Vec<Claim>,
}

/// A claim found in a file, and what the API server would say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kind: String,
    pub name: String,
    pub violations: Vec<Violation>,
}

impl Xrds {
    /// The XRDs idp ships, read and compiled once per process, on first use,
    /// from their JSON form (no YAML is parsed on the plan path).
    pub fn embedded() -> Result<&'static Xrds, XrdError> {
        static EMBEDDED: OnceLock<Result<Xrds, XrdError>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                let parsed: EmbeddedTyped = serde_json::from_str(EMBEDDED_JSON).map_err(|e| XrdError {
                    file: "src/xrd/embedded.json".into(),
                    message: format!("{e} (regenerate it: IDP_REGENERATE=1 cargo test --lib xrd)"),
                })?;
                Xrds::from_xrds(parsed.crossplane_claim_spec, parsed.files)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// XRDs from `(file name, text)` pairs. Documents that are not v1 XRDs
    /// with claim names are skipped: they define no claim.
    pub fn parse(files: &[(&str, &str)]) -> Result<Self, XrdError> {
        let (crossplane_spec, files) = yaml_documents(files)?;
        Self::from_documents(crossplane_spec, files)
    }

    fn from_documents(crossplane_spec: Json, files: Vec<XrdFile>) -> Result<Self, XrdError> {
        let crossplane_spec: Fields<RawSchema> =
            serde_json::from_value(crossplane_spec).expect("Crossplane's claim fields are a schema");
        let mut xrds = Vec::new();
        for (file, documents) in files {
            let mut typed = Vec::new();
            for doc in documents {
                let is_v1_xrd = doc.get("kind").and_then(Json::as_str) == Some(XRD_KIND)
                    && doc.get("apiVersion").and_then(Json::as_str) == Some(XRD_API_VERSION);
                if is_v1_xrd {
                    typed.push(
                        serde_json::from_value(doc)
                            .map_err(|e| XrdError { file: file.clone(), message: e.to_string() })?,
                    );
                }
            }
            xrds.push((file, typed));
        }
        let xrds = Self::from_xrds(crossplane_spec, xrds)?;
        xrds.compile_all()?;
        Ok(xrds)
    }

    /// Compiles every claim schema now: a schema idp cannot check is an
    /// error in the XRD, not in the first claim checked against it.
    fn compile_all(&self) -> Result<(), XrdError> {
        for claim in &self.claims {
            claim
                .schema
                .compiled()
                .map_err(|message| XrdError { file: claim.file.clone(), message: message.clone() })?;
        }
        Ok(())
    }

    /// The claims of XRDs read into their types; documents that are not v1
    /// XRDs with claim names define none.
    fn from_xrds(crossplane_spec: Fields<RawSchema>, files: Vec<(String, Vec<RawXrd>)>) -> Result<Self, XrdError> {
        let crossplane_spec = Arc::new(crossplane_spec);
        let mut claims = Vec::new();
        for (file, xrds) in files {
            let error = |message: String| XrdError { file: file.clone(), message };
            for xrd in xrds {
                if xrd.kind != XRD_KIND || xrd.api_version != XRD_API_VERSION {
                    continue;
                }
                let Some(names) = xrd.spec.claim_names else { continue };
                for version in xrd.spec.versions {
                    let raw = version
                        .schema
                        .ok_or_else(|| error(format!("version {} has no schema", version.name)))?
                        .open_api_v3_schema;
                    let parameters = parameters_of(&raw);
                    let schema = LazySchema {
                        raw: Mutex::new(Some(raw)),
                        crossplane_spec: Arc::clone(&crossplane_spec),
                        at: format!("{} {}", names.kind, version.name),
                        compiled: OnceLock::new(),
                    };
                    claims.push(Claim {
                        group: xrd.spec.group.clone(),
                        version: version.name,
                        kind: names.kind.clone(),
                        composite: xrd.spec.names.kind.clone(),
                        served: version.served,
                        file: file.clone(),
                        schema,
                        parameters,
                    });
                }
            }
        }
        Ok(Self { claims })
    }

    /// Every claim kind, with its served version and the file defining it.
    pub fn claim_kinds(&self) -> impl Iterator<Item = ClaimKind<'_>> {
        self.claims.iter().filter(|c| c.served).map(|c| ClaimKind {
            api_version: format!("{}/{}", c.group, c.version),
            version: &c.version,
            kind: &c.kind,
            file: &c.file,
        })
    }

    /// The claim kind an XRD file defines, at its first served version.
    pub fn claim_of_file(&self, file: &str) -> Option<ClaimApi<'_>> {
        let claim = self.claims.iter().find(|c| c.file == file && c.served)?;
        Some(ClaimApi {
            group: &claim.group,
            version: &claim.version,
            kind: &claim.kind,
            composite: &claim.composite,
            parameters: &claim.parameters,
        })
    }

    /// Every reason the API server would refuse `new` if it is a claim of
    /// these XRDs (None when it is not one). `old` is the object as stored:
    /// transition rules run only where it has a value, as on an update.
    pub fn check(&self, new: &Node, old: Option<&Node>) -> Option<Vec<Violation>> {
        let kind = new.str_at(&["kind"])?;
        let api_version = new.str_at(&["apiVersion"])?;
        let (group, version) = api_version.split_once('/')?;
        let mut versions = self.claims.iter().filter(|c| c.group == group && c.kind == kind).peekable();
        let file = versions.peek()?.file.clone();
        let Some(claim) = versions.find(|c| c.version == version && c.served) else {
            let message = format!("{api_version} is not a served version of {kind} ({file})");
            return Some(vec![Violation { path: "apiVersion".into(), message, rule: None, transition: false }]);
        };
        let schema = match claim.schema.compiled() {
            Ok(schema) => schema,
            // Fails closed: a claim the check cannot judge is not admitted.
            Err(message) => {
                let message = format!("{message} ({file})");
                return Some(vec![Violation { path: "spec".into(), message, rule: None, transition: false }]);
            }
        };
        let admitted = |node: &Node| {
            let mut value = to_json(node);
            schema.prune_nulls_and_default(&mut value);
            value
        };
        let value = admitted(new);
        let stored = old.map(admitted);
        let mut violations = Vec::new();
        schema.validate(&value, stored.as_ref(), &mut Path::default(), &mut violations);
        Some(violations)
    }

    /// The claims among the documents of a rendered file, each with its
    /// violations; `old` is the same file as the state repo holds it (its
    /// claims are matched by kind, namespace and name). An old file that no
    /// longer parses counts as absent: what the cluster holds is not known.
    pub fn check_file(&self, new: &str, old: Option<&str>) -> Result<Vec<Checked>, String> {
        let documents = yaml::non_empty_documents(new).map_err(|e| e.in_text(new))?;
        Ok(self.check_documents(&documents, old))
    }

    /// [`check_file`](Self::check_file) of a file already parsed.
    pub fn check_documents(&self, documents: &[Node], old: Option<&str>) -> Vec<Checked> {
        let stored = old.and_then(|text| yaml::non_empty_documents(text).ok()).unwrap_or_default();
        let identity = |doc: &Node| {
            let group = doc.str_at(&["apiVersion"]).and_then(|v| v.split_once('/')).map(|(g, _)| g.to_owned());
            let field = |path: &[&str]| doc.str_at(path).map(str::to_owned);
            (group, field(&["kind"]), field(&["metadata", "namespace"]), field(&["metadata", "name"]))
        };
        let mut checked = Vec::new();
        for doc in documents {
            let old = stored.iter().find(|o| identity(o) == identity(doc));
            if let Some(violations) = self.check(doc, old) {
                checked.push(Checked {
                    kind: doc.str_at(&["kind"]).unwrap_or_default().to_owned(),
                    name: doc.str_at(&["metadata", "name"]).unwrap_or_default().to_owned(),
                    violations,
                });
            }
        }
        checked
    }
}

/// A YAML tree as the JSON the API server decodes. A float JSON cannot
/// hold (`.nan`, `.inf`) becomes its text, which no numeric field admits; an
/// integer past i64 is the decimal number JSON makes of it.
pub(crate) fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(|| Json::String(f.to_string()), Json::Number),
        Value::BigInt(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Json::String(text.clone()), Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(entries.iter().map(|(k, v)| (k.name.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{RenderInput, Renderer};
    use std::collections::BTreeMap;

    /// src/xrd/embedded.json is exactly the shipped XRDs (and Crossplane's
    /// claim fields) read as YAML; `IDP_REGENERATE=1` rewrites it.
    #[test]
    fn the_embedded_json_is_the_shipped_xrds() {
        let (crossplane_claim_spec, files) = yaml_documents(EMBEDDED_XRDS).unwrap();
        let fresh = serde_json::to_string_pretty(&EmbeddedJson { crossplane_claim_spec, files }).unwrap() + "\n";
        crate::test_support::assert_generated("src/xrd/embedded.json", &fresh, "xrd");
        // Both forms go through `from_documents`; they define the same claims.
        let kinds = |xrds: &Xrds| -> Vec<(String, String, String, bool, String)> {
            xrds.claims
                .iter()
                .map(|c| (c.group.clone(), c.kind.clone(), c.version.clone(), c.served, c.file.clone()))
                .collect()
        };
        let from_json = kinds(Xrds::embedded().unwrap());
        assert_eq!(kinds(&Xrds::parse(EMBEDDED_XRDS).unwrap()), from_json);
        // The embedded schemas compile on first check; each one does.
        Xrds::embedded().unwrap().compile_all().unwrap();
        assert!(
            from_json.iter().any(|c| c.1 == "MySQLInstanceClaim")
                && from_json.iter().any(|c| c.1 == "ReplicationClaim")
        );
    }

    /// A schema compiled on first check that idp cannot check refuses the
    /// claim (fails closed) and says why, instead of admitting it unchecked.
    #[test]
    fn a_schema_that_fails_to_compile_on_first_check_refuses_the_claim() {
        let xrd: RawXrd = serde_json::from_value(serde_json::json!({
            "apiVersion": XRD_API_VERSION, "kind": XRD_KIND,
            "spec": {"group": "example.org", "names": {"kind": "XThing"}, "claimNames": {"kind": "Thing"},
                     "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": {
                         "type": "object",
                         "properties": {"spec": {"type": "object", "properties": {"size": {"type": "decimal"}}}}}}}]}
        }))
        .unwrap();
        let xrds = Xrds::from_xrds(Fields::default(), vec![("xrd-thing.yaml".into(), vec![xrd])]).unwrap();
        assert!(xrds.compile_all().unwrap_err().message.contains("type `decimal`"));
        let claim = &yaml::parse("apiVersion: example.org/v1\nkind: Thing\nspec: {}\n").unwrap()[0];
        let violations = xrds.check(claim, None).expect("a Thing is a claim of these XRDs");
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].message.contains("Thing v1") && violations[0].message.contains("xrd-thing.yaml"));
    }

    /// Every claim the default policy can render — each tier, drProfile,
    /// cell and HA choice the scheduler places, as created and after a
    /// failover and a failback (the fence and the replication direction
    /// flip, with the claim before as `oldSelf`) — is one the shipped XRDs
    /// admit. What this cannot cover: policies other than the default one
    /// and template overrides (those are checked when they render).
    #[test]
    fn every_claim_of_the_default_policy_is_admitted_created_and_failed_over() {
        use crate::cell::Side;
        use crate::test_support::{default_policy_databases, render};
        let xrds = Xrds::embedded().unwrap();
        let (policy, databases) = default_policy_databases();
        let mut claims = 0;
        for (case, request, decision) in &databases {
            let texts = |active| -> BTreeMap<String, String> {
                render(&policy, request, decision, active).into_iter().map(|f| (f.path, f.content)).collect()
            };
            let (created, failed_over) = (texts(Side::Primary), texts(Side::Secondary));
            for (path, text) in &created {
                for (new, old, step) in [
                    (text, None, "created"),
                    (&failed_over[path], Some(text.as_str()), "failed over"),
                    (text, Some(failed_over[path].as_str()), "failed back"),
                ] {
                    for checked in xrds.check_file(new, old).unwrap() {
                        claims += 1;
                        assert!(
                            checked.violations.is_empty(),
                            "{case}, {step}: {path} {}: {:?}",
                            checked.kind,
                            checked.violations
                        );
                    }
                }
            }
        }
        assert!(databases.len() >= policy.tiers.len() * policy.cells.len(), "{} placements", databases.len());
        assert!(claims > databases.len() * 3, "{claims} claims checked");
    }

    /// The files idp renders today for the seed's payments database (C0:
    /// aws primary, gcp secondary, GoldenGate replication), by path.
    fn rendered() -> BTreeMap<String, String> {
        let (policy, request, decision) = crate::test_support::payments_c0();
        let names = crate::layout::NameScheme::for_new(request.kind);
        let input = RenderInput {
            data: &crate::record::DataClaims::NONE,
            request: &request,
            decision: &decision,
            policy: &policy,
            active: Default::default(),
            names,
            unprotect: false,
            draining: false,
            moving: None,
        };
        let files = Renderer::embedded().request_files(&input).unwrap();
        files.into_iter().map(|f| (f.path, f.content)).collect()
    }

    fn file(suffix: &str) -> String {
        rendered().into_iter().find(|(path, _)| path.ends_with(suffix)).unwrap_or_else(|| panic!("{suffix}")).1
    }

    /// The violations of `new` with `old` as stored, against the shipped XRDs.
    fn check(new: &str, old: Option<&str>) -> Vec<Violation> {
        let checked = Xrds::embedded().unwrap().check_file(new, old).unwrap();
        assert_eq!(checked.len(), 1, "one claim per file");
        checked.into_iter().next().unwrap().violations
    }

    fn replaced(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from:?} not in\n{text}");
        text.replacen(from, to, 1)
    }

    #[test]
    fn the_shipped_xrds_define_the_claims_idp_renders() {
        let xrds = Xrds::embedded().unwrap();
        let kinds: Vec<(&str, &str, &str)> =
            xrds.claims.iter().map(|c| (c.group.as_str(), c.version.as_str(), c.kind.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("platform.example.org", "v1alpha1", "MySQLInstanceClaim"),
                ("platform.example.org", "v1alpha1", "PostgreSQLInstanceClaim"),
                ("platform.example.org", "v1alpha1", "RedisInstanceClaim"),
                ("platform.example.org", "v1alpha1", "ReplicationClaim")
            ]
        );
        for claim in &xrds.claims {
            assert!(embedded_may_define(&claim.kind), "{} must be spelled out in {}", claim.kind, claim.file);
        }
        assert!(!embedded_may_define("Deployment") && !embedded_may_define("Application"));
        // Every claim idp renders for the seed passes, created or updated in place.
        let files = rendered();
        assert_eq!(files.len(), 3, "primary, secondary, replication: {:?}", files.keys());
        for (path, text) in &files {
            assert_eq!(check(text, None), [], "{path} as a new claim");
            assert_eq!(check(text, Some(text)), [], "{path} unchanged");
        }
    }

    /// cel-rust's Pratt parser (used for speed) and its default ANTLR parser
    /// read every rule of the shipped XRDs into the same program.
    #[test]
    fn both_cel_parsers_agree_on_every_shipped_rule() {
        let mut rules = 0;
        for (file, text) in EMBEDDED_XRDS {
            for line in text.lines() {
                let Some(source) = line.trim().strip_prefix("- rule: ") else { continue };
                let pratt = cel::parser::PrattParser::new().enable_optional_syntax(true).parse(source).unwrap();
                let antlr = cel::Env::stdlib().compile(source).unwrap();
                assert_eq!(&pratt, antlr.expression(), "{file}: {source}");
                rules += 1;
            }
        }
        assert_eq!(rules, 12, "the XRDs' rules moved: read them again");
    }

    #[test]
    fn shrinking_storage_is_refused_by_the_transition_rule_and_growing_is_not() {
        let stored = file("primary.yaml");
        assert!(stored.contains("storageGB: 50"), "{stored}");
        let smaller = replaced(&stored, "storageGB: 50", "storageGB: 40");
        let violations = check(&smaller, Some(&stored));
        assert_eq!(violations.len(), 1, "{violations:?}");
        let v = &violations[0];
        assert_eq!(v.path, "spec.parameters.storageGB");
        assert_eq!(v.rule.as_deref(), Some("self >= oldSelf"));
        assert!(v.transition);
        assert_eq!(v.message, "storageGB cannot shrink (stored: 50, now: 40)");
        // Without a stored claim there is nothing to shrink from.
        assert_eq!(check(&smaller, None), []);
        let larger = replaced(&stored, "storageGB: 50", "storageGB: 60");
        assert_eq!(check(&larger, Some(&stored)), []);
    }

    #[test]
    fn moving_a_claim_to_another_cloud_is_refused_on_provider_and_region() {
        let stored = file("primary.yaml");
        let moved =
            replaced(&replaced(&stored, "provider: \"aws\"", "provider: \"gcp\""), "\"us-east-1\"", "\"us-central1\"");
        let violations = check(&moved, Some(&stored));
        let found: Vec<(&str, &str)> = violations.iter().map(|v| (v.path.as_str(), v.message.as_str())).collect();
        assert_eq!(
            found,
            [
                (
                    "spec.parameters.provider",
                    "provider is immutable; fail over or re-place instead (stored: \"aws\", now: \"gcp\")"
                ),
                (
                    "spec.parameters.region",
                    "region is immutable; fail over or re-place instead (stored: \"us-east-1\", now: \"us-central1\")"
                ),
            ]
        );
        // A region move within one cloud is refused on the region alone.
        let moved = replaced(&stored, "\"us-east-1\"", "\"us-west-2\"");
        let paths: Vec<String> = check(&moved, Some(&stored)).into_iter().map(|v| v.path).collect();
        assert_eq!(paths, ["spec.parameters.region"]);
    }

    #[test]
    fn the_replication_rule_runs_on_new_claims_too() {
        let text = file("replication.yaml");
        assert!(text.contains("mode: \"cdc\""), "{text}");
        let wrong = replaced(&text, "mode: \"cdc\"", "mode: \"backup-restore\"");
        let violations = check(&wrong, None);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].path, "spec.parameters");
        assert_eq!(violations[0].message, "tool oci-goldengate goes with mode cdc, backup-restore with backup-restore");
        assert!(!violations[0].transition);
    }

    /// The replication claim as idp wrote it before it named the databases by
    /// role (source and target only).
    fn replication_without_roles() -> String {
        let text = file("replication.yaml");
        let start = text.find("    primary:").expect("primary");
        let end = text.find("    source:").expect("source");
        format!("{}{}", &text[..start], &text[end..])
    }

    #[test]
    fn a_replication_claim_without_roles_stays_valid_stored_and_new() {
        let old = replication_without_roles();
        assert!(!old.contains("direction") && old.contains("target:"), "{old}");
        let new = file("replication.yaml");
        assert_eq!(check(&old, None), [], "claims written before roles");
        assert_eq!(check(&old, Some(&old)), [], "stored and unchanged");
        assert_eq!(check(&new, Some(&old)), [], "the first render with roles over one without");
    }

    #[test]
    fn the_roles_and_the_direction_agree_with_source_and_target() {
        let text = file("replication.yaml");
        assert!(text.contains("direction: \"primary-to-secondary\""), "{text}");
        // The direction turned without swapping source and target.
        let turned = replaced(&text, "direction: \"primary-to-secondary\"", "direction: \"secondary-to-primary\"");
        let violations = check(&turned, Some(&text));
        let found: Vec<(&str, &str, bool)> =
            violations.iter().map(|v| (v.path.as_str(), v.message.as_str(), v.transition)).collect();
        assert_eq!(
            found,
            [(
                "spec.parameters",
                "source and target are the primary and the secondary in the order direction names",
                false
            )]
        );
        // Roles without a direction.
        let undirected = replaced(&text, "    direction: \"primary-to-secondary\"\n", "");
        let messages: Vec<String> = check(&undirected, None).into_iter().map(|v| v.message).collect();
        assert_eq!(messages, ["primary, secondary and direction come together"]);
    }

    #[test]
    fn the_structural_schema_is_checked_and_crossplanes_own_fields_are_declared() {
        let text = file("primary.yaml");
        let cases = [
            ("storageGB: 50", "storageGB: \"50\"", "spec.parameters.storageGB: must be an integer, found a string"),
            ("storageGB: 50", "storageGB: 5", "spec.parameters.storageGB: must be at least 10 (found 5)"),
            ("storageGB: 50", "storageGB: 70000", "spec.parameters.storageGB: must be at most 65536 (found 70000)"),
            (
                "size: \"small\"",
                "size: \"huge\"",
                "spec.parameters.size: must be one of \"small\", \"medium\", \"large\", \"xlarge\" (found \"huge\")",
            ),
            ("    cell: \"payments\"\n", "", "spec.parameters.cell: Required value: the XRD requires it"),
            (
                "    cell: \"payments\"",
                "    cell: \"\"",
                "spec.parameters.cell: must be at least 1 characters long (found 0)",
            ),
            (
                "    ha: true",
                "    ha: true\n    replicas: 2",
                "spec.parameters.replicas: not declared by the XRD: the API server would drop it without a word (a template bug)",
            ),
            ("    ha: true", "    ha: null", "spec.parameters.ha: Required value: the XRD requires it"),
            (
                "\"vpc_id\": \"vpc-aws-use1\"",
                "\"vpc_id\": 7",
                "spec.parameters.network[vpc_id]: must be a string, found an integer",
            ),
            (
                "  labels:",
                "  color: blue\n  labels:",
                "metadata.color: not an ObjectMeta field: the API server would drop it",
            ),
        ];
        for (from, to, expected) in cases {
            let found: Vec<String> = check(&replaced(&text, from, to), None).iter().map(ToString::to_string).collect();
            assert_eq!(found, [expected], "{from} -> {to}");
        }
        // Crossplane adds these to every claim; writeFence has a default.
        let with_crossplane_fields = replaced(
            &replaced(
                &text,
                "  compositionSelector:",
                "  compositionRef: {name: mysql-aws}\n  compositeDeletePolicy: Foreground\n  compositionSelector:",
            ),
            "    writeFence: false\n",
            "",
        );
        assert_eq!(check(&with_crossplane_fields, Some(&text)), []);
        let long = replaced(&text, "  name: \"db\"", &format!("  name: \"{}\"", "d".repeat(64)));
        let found: Vec<String> = check(&long, None).iter().map(ToString::to_string).collect();
        assert_eq!(found, ["metadata.name: must be at most 63 characters long (Crossplane's limit for claim names)"]);
    }

    /// The verdict comes from the XRD's text: a copy with another rule or
    /// bound gives another verdict.
    #[test]
    fn the_check_reads_the_xrd_it_is_given() {
        let stored = file("primary.yaml");
        let smaller = replaced(&stored, "storageGB: 50", "storageGB: 40");
        let larger = replaced(&stored, "storageGB: 50", "storageGB: 60");
        let mysql = EMBEDDED_XRDS[0].1;
        let verdicts = |xrd: &str| {
            let xrds = Xrds::parse(&[("copy.yaml", xrd)]).unwrap();
            [&smaller, &larger].map(|new| xrds.check_file(new, Some(&stored)).unwrap()[0].violations.len())
        };
        assert_eq!(verdicts(mysql), [1, 0]);
        let inverted = replaced(mysql, "rule: self >= oldSelf", "rule: self <= oldSelf");
        assert_eq!(verdicts(&inverted), [0, 1]);
        let tighter = replaced(mysql, "maximum: 65536", "maximum: 45");
        assert_eq!(verdicts(&tighter), [1, 1]);
        // A keyword the check does not understand is an error, not a pass.
        let unknown = replaced(mysql, "minimum: 10", "minimum: 10\n                      multipleOf: 10");
        let error = Xrds::parse(&[("copy.yaml", &unknown)]).err().expect("refused");
        assert!(error.to_string().contains("multipleOf"), "{error}");
        let broken = replaced(mysql, "rule: self >= oldSelf", "rule: self >= (oldSelf");
        assert!(Xrds::parse(&[("copy.yaml", &broken)]).is_err());
    }

    #[test]
    fn documents_that_are_not_claims_are_not_checked() {
        let xrds = Xrds::embedded().unwrap();
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec: {}\n";
        assert_eq!(xrds.check_file(app, None).unwrap(), []);
        let other_version =
            "apiVersion: platform.example.org/v9\nkind: ReplicationClaim\nmetadata: {name: r}\nspec: {}\n";
        let checked = xrds.check_file(other_version, None).unwrap();
        assert_eq!(checked[0].violations[0].path, "apiVersion");
    }
}
