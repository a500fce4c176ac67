//! Validation of one request document, reporting every problem with its place.

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

use super::derived::NAME_LIMIT;
use super::{API_VERSION, Kind, Request, Spec};
use crate::product::{Product, Products, Role};
mod container;
mod schema;

pub use schema::request_schema;

use crate::names;
use crate::policy::{self, Policy};
use crate::yaml::{Key, Node, Source, SourceError, Value};

/// Placement fields: the platform decides them, so a request may not say them
/// anywhere, at any depth.
pub const FORBIDDEN_FIELDS: [&str; 4] = ["provider", "region", "runtimeCluster", "network"];

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RequestError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),

    #[error("cannot read {path}: {error}")]
    #[diagnostic(code(idp::request::io), help("check the path given with -f"))]
    Io { path: String, error: std::io::Error },

    #[error("`-f -` is given twice; standard input can be read once")]
    #[diagnostic(code(idp::request::stdin_twice), help("give `-f -` once, or put the requests in files"))]
    StdinTwice,

    #[error("{path} holds no *.yaml, *.yml or *.json file")]
    #[diagnostic(code(idp::request::empty_directory), help("point -f at a request file or a directory of them"))]
    EmptyDirectory { path: String },

    #[error("{path} leads outside {dir}: a request directory is read for its own files only")]
    #[diagnostic(
        code(idp::request::outside_directory),
        help("replace the symbolic link with the request file itself, or name the target with -f")
    )]
    OutsideDirectory { path: String, dir: String },

    #[error("{path} is nested more than {limit} folders deep in {dir}")]
    #[diagnostic(
        code(idp::request::too_deep),
        help(
            "keep requests at most {limit} folders below the directory given with -f (a link to a folder above it loops), or name the folder itself with -f"
        )
    )]
    TooDeep { path: String, dir: String, limit: usize },

    #[error("{path} is not a regular file ({what})")]
    #[diagnostic(code(idp::request::not_a_file), help("a request directory holds request files only; remove it"))]
    NotAFile { path: String, what: &'static str },

    #[error("{path} changed while idp was planning it")]
    #[diagnostic(
        code(idp::request::changed),
        help("idp reads each request file again to plan it; run the command again once nothing writes the files")
    )]
    Changed { path: String },

    #[error("{} invalid: {} problem{} found", if issues.len() == 1 { "request" } else { "requests" }, issues.len(), if issues.len() == 1 { "" } else { "s" })]
    #[diagnostic(code(idp::request::invalid))]
    Invalid {
        #[related]
        issues: Vec<Issue>,
    },
}

impl RequestError {
    /// The located messages, one per problem, for JSON output and tests.
    pub fn messages(&self) -> Vec<String> {
        match self {
            RequestError::Invalid { issues } => issues
                .iter()
                .map(|i| match &i.help {
                    Some(help) => format!("{i} (hint: {help})"),
                    None => i.to_string(),
                })
                .collect(),
            other => vec![other.to_string()],
        }
    }
}

/// One problem in a request, located at a key or value of its file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
#[diagnostic(code(idp::request::field))]
pub struct Issue {
    pub message: String,
    pub location: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    src: NamedSource<Arc<String>>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
}

impl Issue {
    /// Where in its file the problem is, for reporting in file order.
    pub fn offset(&self) -> usize {
        self.span.offset()
    }
}

/// The fields each kind's spec accepts. Order is the order of error reports
/// and of `did you mean` candidates.
#[derive(Clone, Copy)]
struct Field<'f> {
    name: &'f str,
    ty: Type,
    required: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Type {
    Str,
    Int,
    Bool,
    Map,
    /// A name, or a list of names.
    Names,
    /// A list of anything; its items are checked by the field's own rules.
    List,
    /// A Kubernetes quantity: a string, or a number YAML reads as one.
    Quantity,
}

/// The longest name of any MySQL request: `<name>-replication` must fit 63
/// characters ([`super::derived_names`]), whatever the namespace.
const MAX_NAME: usize = 63 - names::REPLICATION_SUFFIX.len();

/// Where every request is placed: the fields a data product's own come
/// between.
const PLACEMENT_SPEC: [Field<'static>; 4] = [
    Field { name: "cell", ty: Type::Str, required: true },
    Field { name: "tier", ty: Type::Str, required: true },
    Field { name: "environment", ty: Type::Str, required: true },
    Field { name: "drProfile", ty: Type::Str, required: false },
];

const APP_SPEC: &[Field] = &[
    Field { name: "cell", ty: Type::Str, required: true },
    Field { name: "tier", ty: Type::Str, required: true },
    Field { name: "environment", ty: Type::Str, required: true },
    Field { name: "drProfile", ty: Type::Str, required: false },
    Field { name: "image", ty: Type::Str, required: true },
    Field { name: "port", ty: Type::Int, required: false },
    Field { name: "replicas", ty: Type::Int, required: false },
    Field { name: "healthPath", ty: Type::Str, required: false },
    Field { name: "traffic", ty: Type::Map, required: false },
    Field { name: "database", ty: Type::Names, required: false },
    Field { name: "dependsOn", ty: Type::List, required: false },
    Field { name: "probes", ty: Type::Str, required: false },
    Field { name: "livenessPath", ty: Type::Str, required: false },
    Field { name: "command", ty: Type::List, required: false },
    Field { name: "args", ty: Type::List, required: false },
    Field { name: "env", ty: Type::List, required: false },
    Field { name: "resources", ty: Type::Map, required: false },
];

const ENV_FIELDS: &[Field] = &[
    Field { name: "name", ty: Type::Str, required: true },
    Field { name: "value", ty: Type::Str, required: false },
    Field { name: "valueFrom", ty: Type::Map, required: false },
];

/// Only a reference to a Secret: a ConfigMap or a field of the pod is no
/// request's business. Required, but said by [`container`] itself, so that
/// `configMapKeyRef` is one problem, not two.
const VALUE_FROM_FIELDS: &[Field] = &[Field { name: "secretKeyRef", ty: Type::Map, required: false }];

const SECRET_KEY_REF_FIELDS: &[Field] =
    &[Field { name: "name", ty: Type::Str, required: true }, Field { name: "key", ty: Type::Str, required: true }];

const RESOURCES_FIELDS: &[Field] = &[
    Field { name: "requests", ty: Type::Map, required: false },
    Field { name: "limits", ty: Type::Map, required: false },
];

const QUANTITY_FIELDS: &[Field] = &[
    Field { name: "cpu", ty: Type::Quantity, required: false },
    Field { name: "memory", ty: Type::Quantity, required: false },
];

const TRAFFIC_FIELDS: &[Field] = &[
    Field { name: "publicHost", ty: Type::Str, required: true },
    Field { name: "mode", ty: Type::Str, required: false },
];

const NAME_FIELDS: &[Field] = &[
    Field { name: "name", ty: Type::Str, required: true },
    Field { name: "namespace", ty: Type::Str, required: false },
];

const TOP_FIELDS: &[Field] = &[
    Field { name: "apiVersion", ty: Type::Str, required: true },
    Field { name: "kind", ty: Type::Str, required: true },
    Field { name: "metadata", ty: Type::Map, required: true },
    Field { name: "spec", ty: Type::Map, required: true },
];

/// The spec fields a product's requests accept: for a data product, the
/// placement's with its definition's fields among them (after environment,
/// as requests write them), each typed as its XRD parameter.
fn spec_fields(product: &Product) -> Vec<Field<'_>> {
    if product.role == Role::App {
        return APP_SPEC.to_vec();
    }
    let [cell, tier, environment, dr_profile] = PLACEMENT_SPEC;
    let own = product.fields.iter().map(|f| Field {
        name: &f.parameter.name,
        ty: match f.parameter.type_.as_str() {
            "integer" => Type::Int,
            "boolean" => Type::Bool,
            _ => Type::Str,
        },
        required: f.request_default.is_none(),
    });
    [cell, tier, environment].into_iter().chain(own).chain([dr_profile]).collect()
}

struct Checker<'a> {
    source: &'a Source,
    issues: Vec<Issue>,
}

impl Checker<'_> {
    fn issue(&mut self, span: SourceSpan, label: &str, message: String, help: Option<String>) {
        let (line, column) = self.source.line_col(span.offset());
        self.issues.push(Issue {
            message,
            location: format!("{}:{line}:{column}", self.source.name),
            help,
            src: self.source.named(),
            span,
            label: label.to_owned(),
        });
    }

    /// A problem whose token is a secret: the snippet shows the line with
    /// that token starred out, byte for byte, so that a CI log gets no copy.
    fn secret_issue(&mut self, span: SourceSpan, label: &str, message: String, help: Option<String>) {
        self.issue(span, label, message, help);
        let mut bytes = self.source.text.as_bytes().to_vec();
        let end = (span.offset() + span.len()).min(bytes.len());
        bytes[span.offset().min(end)..end].fill(b'*');
        // Whole characters were replaced by ASCII, so the text is still UTF-8.
        let masked = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(issue) = self.issues.last_mut() {
            issue.src = NamedSource::new(&self.source.name, Arc::new(masked)).with_language("yaml");
        }
    }

    /// Reports every placement field at any depth.
    fn forbidden(&mut self, node: &Node) {
        match &node.value {
            Value::Map(entries) => {
                for (key, value) in entries {
                    if FORBIDDEN_FIELDS.contains(&key.name.as_str()) {
                        self.issue(
                            key.span,
                            "decided by the platform",
                            format!("`{}` may not be set in a request", key.name),
                            Some("the platform decides placement; remove this field (describe needs with cell, tier, environment and ha)".into()),
                        );
                    } else {
                        self.forbidden(value);
                    }
                }
            }
            Value::Seq(items) => items.iter().for_each(|item| self.forbidden(item)),
            _ => {}
        }
    }

    /// Picks the known, well-typed fields out of a mapping; unknown ones are
    /// reported with a suggestion, mistyped ones with the type expected, missing
    /// required ones at `at`.
    fn fields<'n, 'f>(
        &mut self,
        map: &'n [(Key, Node)],
        allowed: &[&[Field<'f>]],
        at: SourceSpan,
        context: &str,
    ) -> Vec<(&'f str, &'n Node)> {
        let all: Vec<&Field<'f>> = allowed.iter().flat_map(|f| f.iter()).collect();
        let mut found = Vec::new();
        let mut present = Vec::new();
        for (key, value) in map {
            if let Some(field) = all.iter().find(|f| f.name == key.name) {
                present.push(field.name);
                if self.typed(value, field.name, field.ty) {
                    found.push((field.name, value));
                }
            } else if !FORBIDDEN_FIELDS.contains(&key.name.as_str()) {
                let suggestion = names::did_you_mean(&key.name, all.iter().map(|f| f.name));
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{context} accepts: {}", all.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")),
                };
                self.issue(
                    key.span,
                    "unknown field",
                    format!("unknown field `{}` in {context}", shown(&key.name)),
                    Some(help),
                );
            }
        }
        for field in all.iter().filter(|f| f.required) {
            if !present.contains(&field.name) {
                let help = format!("add `{}:` to {context}; examples/orders-db.yaml shows every field", field.name);
                self.issue(
                    at,
                    "missing a field",
                    format!("{context} is missing the required field `{}`", field.name),
                    Some(help),
                );
            }
        }
        found
    }

    /// Reports a value of the wrong YAML type.
    fn typed(&mut self, node: &Node, field: &str, ty: Type) -> bool {
        let ok = matches!(
            (ty, &node.value),
            (Type::Str, Value::Str(_))
                | (Type::Int, Value::Int(_) | Value::BigInt(_))
                | (Type::Bool, Value::Bool(_))
                | (Type::Map, Value::Map(_))
                | (Type::Names, Value::Str(_) | Value::Seq(_))
                | (Type::List, Value::Seq(_))
                | (Type::Quantity, Value::Str(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_))
        );
        if !ok {
            let (expected, help) = match (ty, &node.value) {
                (Type::Int, Value::Str(_)) => ("an integer", "write the number without quotes, e.g. 100"),
                (Type::Int, Value::Float(_)) => ("an integer", "use a whole number, e.g. 100"),
                (Type::Int, _) => ("an integer", "write a whole number, e.g. 100"),
                (Type::Bool, _) => ("true or false", "write true or false without quotes"),
                (Type::Str, _) => ("a string", "write a plain name, quoted if it looks like a number"),
                (Type::Map, _) => ("a mapping", "nest its fields below it, indented"),
                (Type::Names, _) => {
                    ("a name or a list of names", "write `database: orders-db`, or `database: [orders-db, reports-db]`")
                }
                (Type::List, _) => ("a list", "write one entry per line, each starting with `- `, or `[a, b]`"),
                (Type::Quantity, _) => ("a quantity", "write CPU as e.g. 250m or 1, memory as e.g. 512Mi or 1Gi"),
            };
            self.issue(
                node.span,
                "wrong type",
                format!("`{field}` must be {expected}, not {}", node.value.type_name()),
                Some(help.into()),
            );
        }
        ok
    }

    /// A value the policy must define; the error lists what it does define.
    fn one_of(&mut self, node: &Node, field: &str, value: &str, valid: &[String]) -> bool {
        self.one_of_in(node, field, value, valid, "in the policy in force")
    }

    /// [`one_of`](Self::one_of), saying where the valid values come from.
    fn one_of_in(&mut self, node: &Node, field: &str, value: &str, valid: &[String], whence: &str) -> bool {
        if valid.iter().any(|v| v == value) {
            return true;
        }
        let hint = match names::did_you_mean(value, valid.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? valid values {whence}: {}", valid.join(", ")),
            None => format!("valid values {whence}: {}", valid.join(", ")),
        };
        self.issue(node.span, &format!("unknown {field}"), format!("unknown {field} `{}`", shown(value)), Some(hint));
        false
    }

    /// An integer field within bounds. One past i64 is out of range like
    /// any other, not a different kind of value.
    fn int_in(&mut self, node: &Node, field: &str, min: u32, max: u32, unit: &str) -> Option<u32> {
        let (within, written) = match &node.value {
            Value::Int(value) => ((i64::from(min)..=i64::from(max)).contains(value), value.to_string()),
            Value::BigInt(text) => (false, shown(text)),
            _ => return None,
        };
        if !within {
            let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
            self.issue(
                node.span,
                "out of range",
                format!("{field} {written} is outside {min}..={max}"),
                Some(format!("ask for between {min} and {max}{unit}")),
            );
            return None;
        }
        match node.value {
            Value::Int(value) => u32::try_from(value).ok(),
            _ => None,
        }
    }

    fn dns_label(&mut self, node: &Node, field: &str, value: &str) -> bool {
        let ok = names::is_dns_label(value);
        if !ok {
            self.issue(
                node.span,
                "not a DNS-1123 label",
                format!("{field} `{}` is not a DNS-1123 label", shown(value)),
                Some("use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters".into()),
            );
        }
        ok
    }
}

/// Which rules a document is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// What is submitted (new or changed): every rule, the policy's admission
    /// rules included (team permissions, reserved namespaces, the budget of
    /// the names idp derives).
    Submitted,
    /// What the state repo holds already: the request's contract, not the
    /// admission rules, which may have changed since it was admitted. A
    /// failover moves what is placed; it does not re-admit it.
    Stored,
}

/// Validates one document into a request, with the problems that refuse
/// it only if it is new to the state repo ([`new_only`]), or returns all of
/// its problems.
pub(super) fn document(
    source: &Source,
    doc: &Node,
    cli_kind: Option<Kind>,
    (policy, products): (&Policy, &Products),
    origin: String,
    admission: Admission,
) -> Result<(Request, Vec<Issue>), Vec<Issue>> {
    let admitting = admission == Admission::Submitted;
    let mut c = Checker { source, issues: Vec::new() };
    let Some(map) = doc.as_map() else {
        c.issue(
            doc.span,
            "not a mapping",
            format!("a request is a mapping of fields, not {}", doc.value.type_name()),
            Some("see examples/orders-db.yaml".into()),
        );
        return Err(c.issues);
    };
    c.forbidden(doc);

    let kubernetes_form = TOP_FIELDS.iter().any(|f| doc.get(f.name).is_some());
    let (kind, names_map, names_at, spec_map, spec_at) = if kubernetes_form {
        let top = c.fields(map, &[TOP_FIELDS], doc.span, "a request");
        let get = |name: &str| top.iter().find(|(n, _)| *n == name).map(|(_, node)| *node);
        if let Some(node) = get("apiVersion")
            && let Some(v) = node.as_str()
            && v != API_VERSION
        {
            c.issue(
                node.span,
                "unknown apiVersion",
                format!("unknown apiVersion `{}`", shown(v)),
                Some(format!("requests use apiVersion: {API_VERSION}")),
            );
        }
        let kind = get("kind").and_then(|node| {
            let name = node.as_str()?;
            let kind = products.of_manifest_kind(name).map(Kind::of);
            match (kind, cli_kind) {
                (None, _) => {
                    let valid: Vec<&str> = products.iter().map(|p| p.manifest_kind.as_str()).collect();
                    let help = match names::did_you_mean(name, valid.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`? idp places: {}", valid.join(", ")),
                        None => format!("idp places: {}", valid.join(", ")),
                    };
                    c.issue(node.span, "unknown kind", format!("unknown kind `{}`", shown(name)), Some(help));
                }
                (Some(k), Some(cli)) if k != cli => {
                    c.issue(
                        node.span,
                        "kind mismatch",
                        format!("this is a {} request, but the command line asked for {}", k.manifest_kind(), cli),
                        Some(format!("run `idp plan {k} -f ...`, or leave the kind off the command line")),
                    );
                }
                _ => {}
            }
            kind
        });
        let section = |name: &str| get(name).and_then(|node| Some((node.as_map()?, node.span)));
        let (metadata, spec) = (section("metadata"), section("spec"));
        match (kind, metadata, spec) {
            (Some(kind), Some((m, m_at)), Some((s, s_at))) => (kind, m, m_at, s, s_at),
            _ => return Err(c.issues),
        }
    } else {
        let Some(kind) = cli_kind else {
            c.issue(doc.span, "kind unknown", "a flat request does not say its kind".into(), Some("name it on the command line, e.g. `idp plan mysql -f body.json`, or use the Kubernetes form with apiVersion and kind".into()));
            return Err(c.issues);
        };
        (kind, map, doc.span, map, doc.span)
    };

    let Some(product) = products.named(kind.cli_name()) else {
        // A kind comes from the products in force; only a caller's own can miss.
        c.issue(doc.span, "unknown kind", products.unknown(kind.cli_name()), None);
        return Err(c.issues);
    };
    let spec_fields = spec_fields(product);
    let (name_nodes, spec_nodes) = if kubernetes_form {
        (
            c.fields(names_map, &[NAME_FIELDS], names_at, "metadata"),
            c.fields(spec_map, &[&spec_fields], spec_at, "spec"),
        )
    } else {
        let all = c.fields(spec_map, &[NAME_FIELDS, &spec_fields], spec_at, "a flat request");
        let (names, spec) = all.into_iter().partition(|(n, _)| NAME_FIELDS.iter().any(|f| f.name == *n));
        (names, spec)
    };

    let label = |c: &mut Checker<'_>, field: &str| -> Option<String> {
        let node = get(&name_nodes, field)?;
        let value = node.as_str()?;
        c.dns_label(node, field, value).then(|| value.to_owned())
    };
    let name = label(&mut c, "name");
    let namespace =
        if get(&name_nodes, "namespace").is_some() { label(&mut c, "namespace") } else { Some("default".to_owned()) };

    // Every name idp derives from these must fit its limit here, where the
    // request's own line can be shown, not in the render guard, which can
    // only refuse the manifest a template made of it.
    if let (Some(n), Some(ns)) = (&name, &namespace)
        && admitting
    {
        derived_names_fit(&mut c, kind, ns, n, &name_nodes, doc);
    }

    let p = policy;
    let known = |c: &mut Checker<'_>, field: &str, valid: Vec<String>| -> Option<String> {
        let node = get(&spec_nodes, field)?;
        let value = node.as_str()?;
        c.one_of(node, field, value, &valid).then(|| value.to_owned())
    };
    let cell = known(&mut c, "cell", p.cells.keys().cloned().collect());
    let tier = known(&mut c, "tier", p.tiers.keys().cloned().collect());
    let environment =
        known(&mut c, "environment", p.environment_names()).and_then(|e| p.resolve_environment(&e).map(str::to_owned));
    let dr_profile = known(&mut c, "drProfile", p.dr_profiles.keys().cloned().collect());
    // The clusters' and the platform's own namespaces are no team's.
    if let Some(ns) = &namespace
        && admitting
        && p.reserved_namespace(ns)
    {
        let node = get(&name_nodes, "namespace").unwrap_or(doc);
        c.issue(
            node.span,
            "reserved namespace",
            format!("namespace `{ns}` is reserved for the clusters and the platform"),
            Some("use your team's own namespace; the platform team can allow this one with `allowReservedNamespaces` in the policy".into()),
        );
    }
    // Team permissions: what this namespace may use.
    if let Some(ns) = namespace.as_ref().filter(|_| admitting) {
        for (field, value) in [("cell", &cell), ("tier", &tier), ("environment", &environment)] {
            let Some(value) = value else { continue };
            if let Some((message, allowed)) = p.team_refusal(ns, field, value) {
                let node = get(&spec_nodes, field).unwrap_or(doc);
                let help = format!(
                    "{ns} may use {field}s: {}; ask the platform team to change `teams` in the policy",
                    allowed.join(", ")
                );
                c.issue(node.span, "not allowed for this team", message, Some(help));
            }
        }
    }

    let spec = match product.role {
        Role::Data => data_spec(&mut c, &spec_nodes, p, product),
        Role::App => app_spec(&mut c, &spec_nodes, namespace.as_deref(), (p, products), cell.as_deref()),
    };

    // A named drProfile must meet the tier's own targets.
    if let (Some(tier_name), Some(profile)) = (&tier, &dr_profile) {
        let tier_policy = &p.tiers[tier_name];
        if let Some(why) = policy::weaker_than(&p.dr_profiles[profile], tier_policy) {
            let stronger: Vec<&str> = p
                .dr_profiles
                .iter()
                .filter(|(_, dr)| policy::weaker_than(dr, tier_policy).is_none())
                .map(|(n, _)| n.as_str())
                .collect();
            let node = get(&spec_nodes, "drProfile").unwrap_or(doc);
            let help = if stronger.is_empty() {
                "no drProfile meets this tier's targets; omit drProfile".to_owned()
            } else {
                format!("drProfiles that meet tier {tier_name}: {}", stronger.join(", "))
            };
            c.issue(
                node.span,
                "weaker than the tier",
                format!("drProfile {profile} is weaker than tier {tier_name}: {why}"),
                Some(help),
            );
        }
    }

    let mut spec = spec;
    if product.role == Role::Data
        && let Some(tier_name) = &tier
    {
        let limited = secondary_supported(&mut c, product, p, tier_name, dr_profile.as_deref(), &spec_nodes, doc);
        if let Some(Spec::Data { pairs, .. }) = &mut spec {
            *pairs = limited;
        }
    }

    match (name, namespace, cell, tier, environment, spec) {
        (Some(name), Some(namespace), Some(cell), Some(tier), Some(environment), Some(spec)) if c.issues.is_empty() => {
            let later = new_only(source, kind, &name_nodes, &name, &namespace);
            Ok((Request { kind, name, namespace, cell, tier, environment, dr_profile, spec, origin }, later))
        }
        _ => Err(c.issues),
    }
}

/// Whether a data product can have the secondary that the tier requires, or
/// that a named drProfile asks for: its definition lists the replications
/// its data can be kept by in another cloud (none: it has no secondary).
/// The provider pairs that replication is limited to, if it is.
fn secondary_supported(
    c: &mut Checker<'_>,
    product: &Product,
    p: &Policy,
    tier_name: &str,
    dr_profile: Option<&str>,
    spec_nodes: &[(&str, &Node)],
    doc: &Node,
) -> Option<(crate::policy::Replication, Vec<[String; 2]>)> {
    let tier = &p.tiers[tier_name];
    if !tier.secondary.required && dr_profile.is_none() {
        return None;
    }
    let (field, why) = match dr_profile {
        Some(name) => ("drProfile", format!("drProfile {name} keeps a secondary in another cloud")),
        None => ("tier", format!("tier {tier_name} requires a secondary in another cloud")),
    };
    let node = get(spec_nodes, field).unwrap_or(doc);
    let kind = &product.manifest_kind;
    if product.replication.is_empty() {
        let optional: Vec<&str> =
            p.tiers.iter().filter(|(_, t)| !t.secondary.required).map(|(name, _)| name.as_str()).collect();
        let help = match optional.as_slice() {
            [] => "no tier of the policy in force places it".to_owned(),
            tiers => format!("tiers without a required secondary: {} (and no drProfile)", tiers.join(", ")),
        };
        c.issue(
            node.span,
            "no secondary",
            format!("{why}, and {kind} has none: its product definition lists no replication"),
            Some(help),
        );
        return None;
    }
    let profile = dr_profile.or(tier.default_dr_profile.as_deref());
    let (name, dr) = profile.and_then(|name| Some((name, p.dr_profiles.get(name)?)))?;
    match product.replicated_by(dr.replication) {
        Some(replication) => replication.between().map(|pairs| (dr.replication, pairs.to_vec())),
        None => {
            let supported: Vec<&str> = product.replication.iter().map(|r| r.tool().as_str()).collect();
            c.issue(
                node.span,
                "replication unsupported",
                format!("drProfile {name} replicates by {}, which {kind} does not support", dr.replication.as_str()),
                Some(format!("{kind} is replicated by {}: name a drProfile that uses one", supported.join(", "))),
            );
            None
        }
    }
}

/// Names that a request placed before may keep, but that no new request
/// may take, because the names idp derives from them could be another
/// request's: a database's name ending in a reserved suffix (`orders-secondary`
/// would be a claim of `orders`), an app's namespace or name holding `--`
/// (the separator of the names derived from both). Whether the request is
/// new is the state repo's to say (plan).
fn new_only(source: &Source, kind: Kind, name_nodes: &[(&str, &Node)], name: &str, namespace: &str) -> Vec<Issue> {
    let mut c = Checker { source, issues: Vec::new() };
    let placed_before = "requests placed before this rule keep their names";
    match kind.role() {
        Role::Data => {
            if let (Some(suffix), Some(node)) = (names::reserved_suffix(name), get(name_nodes, "name")) {
                c.issue(
                    node.span,
                    "reserved suffix",
                    format!(
                        "name `{name}` ends in `{suffix}`: idp names a database's secondary claim `<name>{}`, its replication claim `<name>{}`, and the claims an `idp migrate` makes `<name>{}` and `<name>{}`, so a new database may not end so",
                        names::SECONDARY_SUFFIX,
                        names::REPLICATION_SUFFIX,
                        names::GENERATION_SUFFIX,
                        names::MIGRATION_SUFFIX
                    ),
                    Some(format!(
                        "choose a name that does not end in {}; {placed_before}",
                        names::RESERVED_SUFFIXES.join(" or ")
                    )),
                );
            }
        }
        Role::App => {
            for (field, value) in [("namespace", namespace), ("name", name)] {
                let Some(node) = get(name_nodes, field).filter(|_| value.contains(names::APP_SEPARATOR)) else {
                    continue;
                };
                c.issue(
                    node.span,
                    "holds `--`",
                    format!(
                        "{field} `{value}` holds `{0}`: idp names an app's Argo CD Applications and traffic objects `<namespace>{0}<name>`, so a new app's namespace and name may not hold `{0}`",
                        names::APP_SEPARATOR
                    ),
                    Some(format!("use single hyphens, e.g. `{}`; {placed_before}", collapse_hyphens(value))),
                );
            }
        }
    }
    c.issues.sort_by_key(Issue::offset);
    c.issues
}

/// Reports the derived name most over [`NAME_LIMIT`], if any: on the
/// name, saying how long it may be, or on the namespace when no name fits it.
fn derived_names_fit(
    c: &mut Checker<'_>,
    kind: Kind,
    namespace: &str,
    name: &str,
    name_nodes: &[(&str, &Node)],
    doc: &Node,
) {
    let derived = super::derived_names(kind, namespace, name);
    let Some((longest, over)) = derived.iter().filter_map(|d| Some((d, d.over()?))).max_by_key(|(_, over)| *over)
    else {
        return;
    };
    let limit = NAME_LIMIT;
    let a_kind = match kind.role() {
        Role::App => "an app".to_owned(),
        Role::Data => format!("a {}", kind.manifest_kind()),
    };
    let what = format!(
        "the longest name idp derives from it, `{}` ({}), would be {} characters, {over} over the limit of {limit}",
        longest.name,
        longest.what,
        longest.name.len()
    );
    // Every derived name grows with the name, one character for one, or is cut to fit.
    match name.len().checked_sub(over).filter(|most| *most > 0) {
        Some(most) => {
            let node = get(name_nodes, "name").unwrap_or(doc);
            c.issue(
                node.span,
                "too long",
                format!("name `{name}` is too long: {what}"),
                Some(format!("in namespace {namespace}, {a_kind} request's name may have at most {most} characters")),
            );
        }
        None => {
            let node = get(name_nodes, "namespace").unwrap_or(doc);
            c.issue(
                node.span,
                "too long",
                format!("namespace `{namespace}` is too long for {a_kind} request: {what}"),
                Some(format!(
                    "no name fits in this namespace; a namespace of at most {} characters leaves room for one",
                    namespace.len() - (over + 1 - name.len())
                )),
            );
        }
    }
}

/// `value` with every run of hyphens made one.
fn collapse_hyphens(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

/// A data product's fields, each held to what its XRD parameter and the
/// policy admit ([`crate::product::Field::admitted`]): a string to its
/// values, an integer to its range, a boolean. An absent field takes its
/// default.
fn data_spec(c: &mut Checker<'_>, spec: &[(&str, &Node)], p: &Policy, product: &Product) -> Option<Spec> {
    let mut fields = serde_json::Map::new();
    let mut complete = true;
    for field in &product.fields {
        let parameter = &field.parameter;
        let name = parameter.name.as_str();
        let Some(node) = get(spec, name) else {
            // A required field that is absent is reported by `fields`.
            match &field.request_default {
                Some(default) => {
                    fields.insert(name.to_owned(), default.clone());
                }
                None => complete = false,
            }
            continue;
        };
        let admitted = field.admitted(p);
        let value: Option<serde_json::Value> = match parameter.type_.as_str() {
            "string" => node.as_str().and_then(|value| {
                // The policy narrows `size`; any other field's values are its XRD's.
                let whence = if name == "size" {
                    "in the policy in force".to_owned()
                } else {
                    format!("for {}", product.manifest_kind)
                };
                c.one_of_in(node, name, value, &admitted.values, &whence).then(|| value.into())
            }),
            "integer" => {
                let (min, max) = (admitted.min.unwrap_or(0), admitted.max.unwrap_or(u32::MAX));
                let unit = if name == "storageGB" { "GB" } else { "" };
                c.int_in(node, name, min, max, unit).map(Into::into)
            }
            _ => match node.value {
                Value::Bool(on) => Some(on.into()),
                _ => None,
            },
        };
        match value {
            Some(value) => {
                fields.insert(name.to_owned(), value);
            }
            None => complete = false,
        }
    }
    complete.then(|| Spec::data(product, fields))
}

fn app_spec(
    c: &mut Checker<'_>,
    spec: &[(&str, &Node)],
    namespace: Option<&str>,
    (p, products): (&Policy, &Products),
    cell: Option<&str>,
) -> Option<Spec> {
    let image = get(spec, "image").and_then(|node| {
        let image = node.as_str()?;
        match super::image::problem(image) {
            None => Some(image.to_owned()),
            Some(problem) => {
                c.issue(
                    node.span,
                    "refused by a registry, or not pinned",
                    format!("image `{}` {problem}", shown(image)),
                    Some(
                        "name a pinned image, e.g. registry.example.org/orders/api:1.4.2 or ...@sha256:<digest>".into(),
                    ),
                );
                None
            }
        }
    });
    let port = get(spec, "port").map_or(Some(8080), |node| c.int_in(node, "port", 1, 65535, ""));
    let replicas = get(spec, "replicas").map_or(Some(2), |node| c.int_in(node, "replicas", 0, 100, ""));
    let traffic = match get(spec, "traffic") {
        None => Some(None),
        Some(node) => {
            let map = node.as_map()?;
            let fields = c.fields(map, &[TRAFFIC_FIELDS], node.span, "traffic");
            let host = get(&fields, "publicHost").and_then(|n| {
                let host = n.as_str()?;
                let ok = names::is_dns_name(host);
                if !ok {
                    c.issue(
                        n.span,
                        "not a DNS name",
                        format!("publicHost `{}` is not a DNS name", shown(host)),
                        Some("use a lowercase host name such as orders.example.org".into()),
                    );
                }
                // Names inside the clusters, and the runtime clusters' own ingress
                // names (every app's DNS record points at one), are nobody's public host.
                let ok = match internal_host(host, &p.traffic.ingress_domain) {
                    Some(why) if ok => {
                        c.issue(
                            n.span,
                            "not a public host",
                            format!("publicHost `{}` {why}", shown(host)),
                            Some("use a public host name of your app within the policy's DNS zone, e.g. orders.example.org".into()),
                        );
                        false
                    }
                    _ => ok,
                };
                // The traffic provider writes the host's records into its zone;
                // a host outside it (or the apex itself, where no CNAME may
                // stand) could not be served.
                let provider = cell.map(|cell| (p.traffic_provider(cell), p.traffic_zone(cell)));
                let ok = match provider {
                    Some((provider, Some(zone))) if ok && !host.ends_with(&format!(".{zone}")) => {
                        c.issue(
                            n.span,
                            "outside the DNS zone",
                            format!("publicHost `{}` is not within zone {zone} of traffic provider {provider}", shown(host)),
                            Some(format!(
                                "use a host under {zone}, e.g. {}.{zone}, or ask the platform team to change traffic.providers.{provider}.zone in the policy",
                                first_label(host)
                            )),
                        );
                        false
                    }
                    _ => ok,
                };
                ok.then(|| host.to_owned())
            });
            let mode = get(&fields, "mode").map_or(Some(()), |n| {
                let mode = n.as_str()?;
                c.one_of(n, "traffic mode", mode, &["active-passive".to_owned()]).then_some(())
            });
            mode.and(host).map(Some)
        }
    };
    let health_path = url_path(
        c,
        get(spec, "healthPath"),
        "healthPath",
        &format!(
            "write the path the app answers health checks on, e.g. /healthz or /ready; leave it out for {}",
            crate::request::DEFAULT_HEALTH_PATH
        ),
    );
    // (names, each one's product when written as dependsOn)
    let data: Option<(Vec<String>, Option<Vec<Kind>>)> = match (get(spec, "database"), get(spec, "dependsOn")) {
        (Some(_), Some(node)) => {
            c.issue(
                node.span,
                "and database",
                "an app names its data in `dependsOn` or in `database`, not in both".into(),
                Some("move each database into dependsOn as `<product>/<name>`, e.g. `mysql/orders-db`".into()),
            );
            None
        }
        (Some(node), None) => databases(c, node, namespace).map(|names| (names, None)),
        (None, Some(node)) => depends_on(c, node, products).map(|dependencies| {
            let (kinds, names): (Vec<Kind>, Vec<String>) = dependencies.into_iter().unzip();
            (names, Some(kinds))
        }),
        (None, None) => Some((Vec::new(), None)),
    };
    let container = container::container(c, spec, namespace);
    let (databases, dependency_kinds) = data?;
    Some(Spec::App {
        image: image?,
        port: port?,
        replicas: replicas?,
        health_path: health_path?,
        public_host: traffic?,
        databases,
        dependency_kinds,
        container: Box::new(container?),
    })
}

/// An optional URL path field (`healthPath`, `livenessPath`): Some(None)
/// when absent, None when refused.
fn url_path(c: &mut Checker<'_>, node: Option<&Node>, field: &str, help: &str) -> Option<Option<String>> {
    let Some(node) = node else { return Some(None) };
    let path = node.as_str()?;
    match health_path_problem(path) {
        None => Some(Some(path.to_owned())),
        Some(problem) => {
            c.issue(node.span, "not a URL path", format!("{field} `{}` {problem}", shown(path)), Some(help.to_owned()));
            None
        }
    }
}

/// `spec.dependsOn` of an app: a list of `<product>/<name>`, each a data
/// request of the app's own namespace (a product's name or alias, which the
/// stored request writes as its name). The app follows the first.
fn depends_on(c: &mut Checker<'_>, node: &Node, products: &Products) -> Option<Vec<(Kind, String)>> {
    let Value::Seq(items) = &node.value else { return None };
    if items.is_empty() {
        c.issue(
            node.span,
            "no dependency",
            "`dependsOn` lists nothing".into(),
            Some(
                "leave `dependsOn` out for an app without data, or name `<product>/<name>`, e.g. `mysql/orders-db`"
                    .into(),
            ),
        );
        return None;
    }
    let data: Vec<&str> = products.iter().filter(|p| p.role == Role::Data).map(|p| p.name.as_str()).collect();
    let mut dependencies: Vec<(Kind, String)> = Vec::new();
    let mut ok = true;
    for item in items {
        let written = item.as_str().unwrap_or_default();
        let Some((product, name)) = written.split_once('/') else {
            c.issue(
                item.span,
                "not product/name",
                format!("dependency `{}` is not `<product>/<name>`", shown(written)),
                Some(format!("e.g. `mysql/orders-db`; the data products: {}", data.join(", "))),
            );
            ok = false;
            continue;
        };
        let kind = match products.named(product) {
            Some(p) if p.role == Role::Data => Kind::of(p),
            _ => {
                let hint = match names::did_you_mean(product, data.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`? the data products: {}", data.join(", ")),
                    None => format!("the data products: {}", data.join(", ")),
                };
                c.issue(item.span, "unknown product", format!("`{}` is no data product", shown(product)), Some(hint));
                ok = false;
                continue;
            }
        };
        if !c.dns_label(item, "dependsOn", name) {
            ok = false;
        } else if name.len() > MAX_NAME {
            c.issue(
                item.span,
                "too long",
                format!("dependency `{name}` is {} characters; no data request can be named so", name.len()),
                Some(format!("data requests are named with at most {MAX_NAME} characters")),
            );
            ok = false;
        } else if dependencies.iter().any(|(_, n)| n == name) {
            // A name is one data request's in a namespace, whatever its product.
            c.issue(
                item.span,
                "named twice",
                format!("`{name}` is named twice"),
                Some("name each dependency once".into()),
            );
            ok = false;
        } else {
            dependencies.push((kind, name.to_owned()));
        }
    }
    ok.then_some(dependencies)
}

/// `spec.database` of an app: one name or a list of them, each a MySQL
/// request of the app's own namespace. A `namespace/name` is refused: an app
/// never reaches into another team's data, and its own namespace goes
/// without saying.
fn databases(c: &mut Checker<'_>, node: &Node, namespace: Option<&str>) -> Option<Vec<String>> {
    let items: Vec<&Node> = match &node.value {
        Value::Str(_) => vec![node],
        Value::Seq(items) if items.is_empty() => {
            c.issue(
                node.span,
                "no database",
                "`database` lists no database".into(),
                Some("leave `database` out for an app without one, or name at least one".into()),
            );
            return None;
        }
        Value::Seq(items) => items.iter().collect(),
        _ => return None,
    };
    let mut names: Vec<String> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(name) = item.as_str() else {
            c.issue(
                item.span,
                "wrong type",
                format!("a database is named by a string, not {}", item.value.type_name()),
                Some("write the database's name, e.g. `database: orders-db`".into()),
            );
            ok = false;
            continue;
        };
        if let Some((other, bare)) = name.split_once('/') {
            let (message, help) = match namespace {
                Some(own) if other == own => (
                    format!("database `{}` is named with a namespace", shown(name)),
                    format!("an app's databases are of its own namespace ({own}): write `database: {}`", shown(bare)),
                ),
                own => (
                    format!(
                        "database `{}` is in another namespace: an app may use only databases of its own namespace{}",
                        shown(name),
                        own.map(|own| format!(" ({own})")).unwrap_or_default()
                    ),
                    format!(
                        "request a database of your own in {} and name it (`database: <name>`), or ask the team of {} for an API in front of its data",
                        own.unwrap_or("the app's namespace"),
                        shown(other)
                    ),
                ),
            };
            c.issue(item.span, "another namespace", message, Some(help));
            ok = false;
        } else if !c.dns_label(item, "database", name) {
            ok = false;
        } else if name.len() > MAX_NAME {
            c.issue(
                item.span,
                "too long",
                format!("database `{name}` is {} characters; no MySQL request can be named so", name.len()),
                Some(format!("MySQL requests are named with at most {MAX_NAME} characters; name one of them")),
            );
            ok = false;
        } else if names.iter().any(|n| n == name) {
            c.issue(
                item.span,
                "named twice",
                format!("database `{name}` is named twice"),
                Some("name each database once".into()),
            );
            ok = false;
        } else {
            names.push(name.to_owned());
        }
    }
    ok.then_some(names)
}

/// The longest `healthPath`: a probe path, not a document.
pub(super) const MAX_HEALTH_PATH: usize = 200;

/// Why a `healthPath` is not acceptable, if it is not. It reaches the
/// kubelet's probes (`httpGet.path`) and every traffic provider's health
/// check, so it is held to what all of them take: an absolute path of RFC
/// 3986 path characters (`pchar` and `/`, percent-escapes well formed), no
/// query or fragment, no `.` or `..` segment, bounded.
pub(super) fn health_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("does not start with `/`".into());
    }
    if path.len() > MAX_HEALTH_PATH {
        return Some(format!("is {} characters; at most {MAX_HEALTH_PATH} are allowed", path.len()));
    }
    let bytes = path.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if b == b'%' {
            let hex = bytes.get(at + 1..at + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Some(format!("holds a `%` at byte {at} that is not a percent-escape (%XX)"));
            }
            at += 3;
            continue;
        }
        let pchar = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':' | b'@')
            || matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=');
        if !pchar {
            let what = match b {
                b'?' | b'#' => "a query or fragment".to_owned(),
                b if b.is_ascii_whitespace() => "whitespace".to_owned(),
                b if b.is_ascii_control() => "a control character".to_owned(),
                _ => format!(
                    "`{}`, not a URL path character",
                    path[at..].chars().next().unwrap_or_default().escape_debug()
                ),
            };
            return Some(format!("holds {what}"));
        }
        at += 1;
    }
    if path.split('/').any(|segment| segment == "." || segment == "..") {
        return Some("holds a `.` or `..` segment".into());
    }
    None
}

/// The same request twice in one invocation is ambiguous: which one wins?
pub(super) fn duplicate(source: &Source, doc: &Node, request: &Request, first: &str) -> Issue {
    let mut c = Checker { source, issues: Vec::new() };
    c.issue(
        doc.span,
        "duplicate",
        format!("{} {} is requested twice (first in {first})", request.kind, request.id()),
        Some("give each request once per invocation".into()),
    );
    c.issues.remove(0)
}

/// A developer's value as it may be shown in a message: control characters
/// escaped, so a crafted name cannot forge output lines or terminal codes.
/// The first label of a host name, to suggest a host within a zone.
fn first_label(host: &str) -> &str {
    host.split('.').next().unwrap_or(host)
}

/// Suffixes of names that resolve inside a cluster or a private network.
const INTERNAL_SUFFIXES: [&str; 6] = ["cluster.local", "svc", "local", "internal", "localhost", "localdomain"];

/// Why a host is not a public host of an app, if it is not: a name inside a
/// cluster, or a runtime cluster's ingress name (`<cluster>.<ingressDomain>`).
fn internal_host(host: &str, ingress_domain: &str) -> Option<String> {
    let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    if let Some(suffix) = INTERNAL_SUFFIXES.iter().find(|s| under(s)) {
        return Some(format!("is a cluster-internal name (.{suffix})"));
    }
    (!ingress_domain.is_empty() && under(ingress_domain))
        .then(|| format!("is under {ingress_domain}, the runtime clusters' ingress domain (traffic.ingressDomain)"))
}

fn shown(value: &str) -> String {
    let escaped: String = value.escape_debug().collect();
    if escaped.chars().count() > 80 { format!("{}…", escaped.chars().take(80).collect::<String>()) } else { escaped }
}

fn get<'n>(fields: &[(&str, &'n Node)], name: &str) -> Option<&'n Node> {
    fields.iter().find(|(n, _)| *n == name).map(|(_, node)| *node)
}
