//! The products idp places, as data: each one a definition
//! (`policy/products/<name>/product.yaml`) saying what a developer may ask
//! for and what of it the scheduler weighs.
//!
//! idp ships the definitions of `policy/products/` compiled in; a state
//! repo's `policy/products/<name>/product.yaml` replaces the built-in one of
//! that name there, or adds a product. Every definition is checked against
//! the policy in force and, for a data product, against its XRD: a request
//! field is a claim parameter of the same name and takes its type, values,
//! range and default from the XRD, so the request contract and what the API
//! server admits cannot drift apart.

mod check;
mod model;

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Serialize;

pub use model::{Cost, Definition, FieldDef, Pairs, ReplicationDef, Role};

use crate::policy::Policy;
use crate::xrd::{Checked, ClaimKind, Parameter, Violation, Xrds};
use crate::yaml::{self, Source, SourceError};

/// The built-in definitions, in the order `idp products` lists them.
pub const EMBEDDED_PRODUCTS: &[(&str, &str)] = &[
    ("policy/products/mysql/product.yaml", include_str!("../../policy/products/mysql/product.yaml")),
    ("policy/products/postgres/product.yaml", include_str!("../../policy/products/postgres/product.yaml")),
    ("policy/products/redis/product.yaml", include_str!("../../policy/products/redis/product.yaml")),
    ("policy/products/app/product.yaml", include_str!("../../policy/products/app/product.yaml")),
];

/// [`EMBEDDED_PRODUCTS`] as JSON, in their order, generated from their YAML
/// and kept fresh by a test (`IDP_REGENERATE=1 cargo test --lib product`
/// writes it): serde_json reads them in a twelfth of the YAML parser's time,
/// which cost every plan ~0.6 M instructions (docs/performance.md).
const EMBEDDED_JSON: &str = include_str!("embedded.json");

fn embedded_definitions() -> Vec<Definition> {
    serde_json::from_str(EMBEDDED_JSON).expect("src/product/embedded.json holds the built-in definitions")
}

/// The longest product name or manifest kind: a request's kind holds both
/// inline (`request::Kind`).
pub const KIND_NAME_LIMIT: usize = 32;

/// The one app product: apps' fields are idp's own contract, so a second
/// app product would add nothing but a name (an alias does that), and its
/// workloads would share `workloads/<namespace>/<name>/` with the first.
pub const APP_PRODUCT: &str = "app";

/// Where a state repo keeps its definitions: `<dir>/<name>/product.yaml`.
pub const PRODUCTS_DIR: &str = "policy/products";

/// The file of a definition in a state repo.
pub fn definition_path(name: &str) -> String {
    format!("{PRODUCTS_DIR}/{name}/product.yaml")
}

/// The claim parameters idp itself writes from the placement and the
/// policy: never a request field.
pub const PLACEMENT_PARAMETERS: &[&str] =
    &["cell", "environment", "tier", "provider", "region", "role", "writeFence", "deletionProtection", "network"];

/// A validated product definition.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub name: String,
    pub manifest_kind: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub role: Role,
    /// Data products: the XRD file and its claim's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimRef>,
    /// Data products: the request fields, in definition order, each with
    /// what its XRD parameter says of it (`idp products` writes them with
    /// what the policy admits: `ops::products`).
    #[serde(skip)]
    pub fields: Vec<Field>,
    /// Data products: how a secondary may be kept; empty, it has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replication: Vec<ReplicationDef>,
    /// Data products: how the policy's price table prices its requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Where the definition in force comes from.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRef {
    pub xrd: String,
    pub api_version: String,
    pub kind: String,
    /// The composite kind its Compositions compose.
    pub composite: String,
    /// Whether the claim takes `writeFence`: a standby's writes can be
    /// fenced off, which a failover needs before it makes the other side
    /// the writer.
    pub fences: bool,
}

/// A request field of a data product: its XRD parameter, and what the
/// definition adds to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    #[serde(flatten)]
    pub parameter: Parameter,
    /// What a request that omits the field gets: the XRD's default, or
    /// the definition's. None: the request must write it.
    #[serde(rename = "requestDefault", skip_serializing_if = "Option::is_none")]
    pub request_default: Option<serde_json::Value>,
    /// The capabilities a primary must offer when the field is true.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<String>,
}

/// What a request may write in a field: its XRD parameter's values or
/// range, narrowed by the policy (`sizes` for `size`, `storageGB` for
/// `storageGB`, which the policy applies to every data product).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admitted {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

impl Field {
    pub fn name(&self) -> &str {
        &self.parameter.name
    }

    /// What a request may write in it under `policy`.
    pub fn admitted(&self, policy: &Policy) -> Admitted {
        let parameter = &self.parameter;
        let bound = |limit: Option<f64>| limit.map(|l| l.clamp(0.0, f64::from(u32::MAX)) as u32);
        match parameter.type_.as_str() {
            "string" if parameter.name == "size" => Admitted { values: policy.sizes.clone(), min: None, max: None },
            "string" => Admitted {
                values: parameter.values.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                min: None,
                max: None,
            },
            "integer" => {
                let (mut min, mut max) =
                    (bound(parameter.minimum).unwrap_or(0), bound(parameter.maximum).unwrap_or(u32::MAX));
                if parameter.name == "storageGB" {
                    (min, max) = (min.max(policy.storage_gb.min), max.min(policy.storage_gb.max));
                }
                Admitted { values: Vec::new(), min: Some(min), max: Some(max) }
            }
            _ => Admitted { values: Vec::new(), min: None, max: None },
        }
    }
}

impl Product {
    /// Whether `word` names it on a command line: its name or an alias,
    /// in any case.
    pub fn answers_to(&self, word: &str) -> bool {
        self.name.eq_ignore_ascii_case(word) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.parameter.name == name)
    }

    /// How it may be replicated by `tool`, if it may.
    pub fn replicated_by(&self, tool: crate::policy::Replication) -> Option<&ReplicationDef> {
        self.replication.iter().find(|r| r.tool() == tool)
    }
}

/// The products in force, and the claim APIs they bring: idp's XRDs, and
/// those of the state repo's own products.
#[derive(Clone)]
pub struct Products {
    products: Vec<Product>,
    /// The XRDs of the state repo's products that bring their own.
    own_xrds: Option<Arc<Xrds>>,
}

impl std::fmt::Debug for Products {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Products").field("products", &self.names()).finish_non_exhaustive()
    }
}

impl Products {
    /// The built-in definitions, checked against the embedded policy once
    /// per process.
    pub fn embedded() -> &'static Products {
        static EMBEDDED: std::sync::OnceLock<Products> = std::sync::OnceLock::new();
        EMBEDDED.get_or_init(|| {
            let policy = crate::policy::LoadedPolicy::embedded().policy;
            Products::load(&[], &policy).expect("the built-in product definitions are validated by tests")
        })
    }

    /// The built-in definitions with a state repo's over them, all checked
    /// against `policy`. `repo`: the repo's files under `policy/products/`
    /// (`(path in the repo, source)`): its definitions, and the XRDs and
    /// Compositions they bring. A repo's definition replaces the built-in
    /// one of its name.
    pub fn load(repo: &[(String, Source)], policy: &Policy) -> Result<Products, ProductError> {
        Xrds::embedded().map_err(|e| ProductError::Xrd { message: e.to_string() })?;
        let mut found: Vec<(Product, Option<(Source, yaml::Node)>)> = Vec::new();
        let mut issues = Vec::new();
        let built_in = EMBEDDED_PRODUCTS
            .iter()
            .zip(embedded_definitions())
            .map(|((path, text), def)| (None, Source::new(format!("{path} (built-in)"), *text), Some(def)));
        let own = repo
            .iter()
            .filter(|(path, _)| is_definition(path))
            .map(|(path, source)| (Some(folder_of(path)), source.clone(), None));
        for (folder, source, json) in built_in.chain(own) {
            // A built-in's YAML is parsed only to locate a problem the policy gives it.
            let checked = match json.and_then(|def| check::built_in(&source, def, policy)) {
                Some(product) => Ok((product, None)),
                None => {
                    let documents = yaml::parse_documents(&source)?;
                    check::definition(&source, &documents, folder, policy, repo).map(|product| {
                        let root = documents.into_iter().next().expect("a parsed file has a document");
                        (product, folder.map(|_| (source, root)))
                    })
                }
            };
            match checked {
                Ok((product, own)) => match found.iter_mut().find(|(p, _)| p.name == product.name) {
                    Some(replaced) => *replaced = (product, own),
                    None => found.push((product, own)),
                },
                Err(mut problems) => issues.append(&mut problems),
            }
        }
        if issues.is_empty() {
            issues = check::together(&found);
        }
        if !issues.is_empty() {
            return Err(ProductError::Invalid { issues });
        }
        let products: Vec<Product> = found.into_iter().map(|(product, _)| product).collect();
        // The repo's own XRDs, read once more as one set for the claim checks.
        let own: Vec<(&str, &str)> = repo
            .iter()
            .filter(|(path, _)| products.iter().any(|p| p.claim.as_ref().is_some_and(|c| c.xrd == *path)))
            .map(|(path, source)| (path.as_str(), source.text.as_str()))
            .collect();
        let own_xrds = match own.is_empty() {
            true => None,
            false => Some(Arc::new(Xrds::parse(&own).map_err(|e| ProductError::Xrd { message: e.to_string() })?)),
        };
        Ok(Products { products, own_xrds })
    }

    /// Every claim kind in force (idp's XRDs', then the state repo's
    /// products'), each with its version and XRD file: every one a
    /// database, a cache, a store or their replication, whose deletion
    /// loses data.
    pub fn claim_kinds(&self) -> Vec<ClaimKind<'_>> {
        let mut kinds: Vec<ClaimKind<'_>> = crate::xrd::embedded_claim_kinds().to_vec();
        kinds.extend(self.own_xrds.iter().flat_map(|x| x.claim_kinds()));
        kinds
    }

    /// Whether objects of a kind hold data their deletion loses: a claim
    /// kind in force.
    pub fn is_stateful_kind(&self, api_version: &str, kind: &str) -> bool {
        crate::xrd::embedded_claim_kinds().iter().any(|c| c.api_version == api_version && c.kind == kind)
            || self
                .own_xrds
                .iter()
                .flat_map(|x| x.claim_kinds())
                .any(|c| c.api_version == api_version && c.kind == kind)
    }

    /// Whether a document of `kind` may be a claim in force (cheap: most
    /// manifests are none, and need not wait for the XRDs).
    pub fn may_define(&self, kind: &str) -> bool {
        crate::xrd::embedded_may_define(kind)
            || self.own_xrds.iter().flat_map(|x| x.claim_kinds()).any(|c| c.kind == kind)
    }

    /// Every reason the API server would refuse `new`, a claim of an XRD in
    /// force (None: it is no claim); `old` is the object as stored.
    pub fn check_claim(
        &self,
        new: &yaml::Node,
        old: Option<&yaml::Node>,
    ) -> Result<Option<Vec<Violation>>, ProductError> {
        let embedded = Xrds::embedded().map_err(|e| ProductError::Xrd { message: e.to_string() })?;
        Ok(embedded.check(new, old).or_else(|| self.own_xrds.as_ref().and_then(|x| x.check(new, old))))
    }

    /// The claims among a file's documents, each with its violations;
    /// `old` is the same file as stored.
    pub fn check_documents(&self, documents: &[yaml::Node], old: Option<&str>) -> Result<Vec<Checked>, ProductError> {
        let embedded = Xrds::embedded().map_err(|e| ProductError::Xrd { message: e.to_string() })?;
        let mut checked = embedded.check_documents(documents, old);
        if let Some(own) = &self.own_xrds {
            checked.extend(own.check_documents(documents, old));
        }
        Ok(checked)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Product> {
        self.products.iter()
    }

    /// The product a command line names, by name or alias.
    pub fn named(&self, word: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.answers_to(word))
    }

    /// The product a request file's `kind:` names (exactly, as Kubernetes
    /// kinds are spelled).
    pub fn of_manifest_kind(&self, kind: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.manifest_kind == kind)
    }

    /// The names a command line may use, for messages and completion.
    pub fn names(&self) -> Vec<&str> {
        self.products.iter().map(|p| p.name.as_str()).collect()
    }

    /// The capabilities a true `field` requires of a primary, over every
    /// data product that has it (`idp policy explain --ha`).
    pub fn field_gates(&self, field: &str) -> Vec<String> {
        let mut gates: Vec<String> = Vec::new();
        for gate in self.products.iter().filter_map(|p| p.field(field)).flat_map(|f| &f.gates) {
            if !gates.contains(gate) {
                gates.push(gate.clone());
            }
        }
        gates
    }

    /// Why `word` names no product, with the closest name or alias.
    pub fn unknown(&self, word: &str) -> String {
        let words = self.products.iter().flat_map(|p| std::iter::once(&p.name).chain(&p.aliases));
        let closest = words
            .map(|w| (strsim::damerau_levenshtein(&word.to_ascii_lowercase(), w), w))
            .filter(|(distance, w)| *distance <= (w.len() / 3).max(1))
            .min_by_key(|(distance, _)| *distance);
        let shown = crate::names::printable(word);
        match closest {
            Some((_, close)) => {
                format!("unknown kind `{shown}` (did you mean `{close}`? idp places: {})", self.names().join(", "))
            }
            None => format!("unknown kind `{shown}` (idp places: {})", self.names().join(", ")),
        }
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ProductError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),

    #[error("the product definitions have {} problem{}", issues.len(), if issues.len() == 1 { "" } else { "s" })]
    #[diagnostic(
        code(idp::product::invalid),
        help("fix each problem listed below; `idp products` lists the definitions in force")
    )]
    Invalid {
        #[related]
        issues: Vec<ProductIssue>,
    },

    #[error("idp's XRDs cannot be read: {message}")]
    #[diagnostic(code(idp::product::xrd))]
    Xrd { message: String },
}

/// One problem in a product definition, located.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
#[diagnostic(code(idp::product::rule))]
pub struct ProductIssue {
    pub message: String,
    location: String,
    #[help]
    help: Option<String>,
    #[source_code]
    src: NamedSource<Arc<String>>,
    #[label("{message}")]
    span: SourceSpan,
}

impl ProductIssue {
    fn new(source: &Source, span: SourceSpan, message: String, help: Option<String>) -> Self {
        let (line, column) = source.line_col(span.offset());
        ProductIssue {
            message: crate::names::printable(&message),
            location: format!("{}:{line}:{column}", source.name),
            help,
            src: source.named(),
            span,
        }
    }
}

/// Whether a file of a state repo is a product definition:
/// `policy/products/<name>/product.yaml`.
pub fn is_definition(path: &str) -> bool {
    path.strip_prefix(PRODUCTS_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_suffix("/product.yaml"))
        .is_some_and(|folder| !folder.is_empty() && !folder.contains('/'))
}

/// The folder name of a definition's path.
fn folder_of(path: &str) -> &str {
    path.trim_end_matches("/product.yaml").rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests;
