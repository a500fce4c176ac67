//! What the shipped Compositions do with a claim's parameters, and what the
//! providers then do to the cloud resource: for each claim kind and
//! Composition, which composed field each `spec.parameters` path patches,
//! and whether a change of that field is updated in place or forces the
//! resource's replacement (Terraform `ForceNew`, which upjet refuses to
//! apply). Built from `manifests/crossplane/composition-*.yaml` and the
//! table `manifests/crossplane/force-new.yaml`, whose every row cites the
//! upstream provider source it was read from; compiled in as JSON
//! (`src/compose/embedded.json`, kept fresh by a test: regenerate it with
//! `IDP_REGENERATE=1 cargo test --lib compose`).
//!
//! What it cannot promise: a Composition installed in a cluster that differs
//! from the shipped one, and provider versions other than the pinned ones.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// What the provider does when a composed field changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldChange {
    /// Updated in place.
    Update,
    /// The resource must be destroyed and created again.
    Replace,
}

/// When a change of a field forces a replacement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    #[default]
    Always,
    /// Only a smaller number than before.
    Decrease,
}

impl When {
    fn is_always(&self) -> bool {
        *self == When::Always
    }

    /// Whether a change from `old` to `new` (as the claim spells them) meets it.
    pub fn met(self, old: Option<&str>, new: Option<&str>) -> bool {
        match self {
            When::Always => true,
            When::Decrease => {
                match (old.and_then(|o| o.parse::<f64>().ok()), new.and_then(|n| n.parse::<f64>().ok())) {
                    (Some(old), Some(new)) => new < old,
                    // Not two numbers: what the provider compares is not known.
                    _ => true,
                }
            }
        }
    }
}

/// One claim parameter patched onto one composed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patched {
    /// The claim kind whose Composition this is (`MySQLInstanceClaim`).
    pub claim: String,
    pub composition: String,
    /// The Composition's labels, which a claim's `compositionSelector` matches.
    pub labels: BTreeMap<String, String>,
    /// The claim field the patch reads (`spec.parameters.size`).
    pub parameter: String,
    /// The composed resource (`rds.aws.upbound.io/v1beta1 Instance`).
    pub resource: String,
    /// The composed field the patch writes (`spec.forProvider.instanceClass`).
    pub field: String,
    pub change: FieldChange,
    /// When a `replace` applies: always, or only to a smaller number (a
    /// disk the provider grows in place and cannot shrink).
    #[serde(default, skip_serializing_if = "When::is_always")]
    pub when: When,
    /// Why, as read in the provider's source, and where.
    pub why: String,
    pub source: String,
}

/// Every claim-parameter patch of the shipped Compositions.
#[derive(Debug, Serialize, Deserialize)]
pub struct Effects {
    pub patched: Vec<Patched>,
}

const EMBEDDED_JSON: &str = include_str!("compose/embedded.json");

impl Effects {
    /// The shipped Compositions' effects, read once per process on first use.
    pub fn embedded() -> &'static Effects {
        static EMBEDDED: OnceLock<Effects> = OnceLock::new();
        // The JSON is generated and held fresh by a test: a parse failure is a build defect.
        EMBEDDED.get_or_init(|| serde_json::from_str(EMBEDDED_JSON).expect("src/compose/embedded.json parses"))
    }

    /// The patches a change of `changed` (a claim field path, e.g.
    /// `spec.parameters.network.subnet_id`) reaches, in the Composition that
    /// a `claim` with `selector` (its `compositionSelector.matchLabels`)
    /// selects: patches reading that path, a path inside it, or a path it
    /// lies inside.
    pub fn reached<'a>(
        &'a self,
        claim: &'a str,
        selector: &'a BTreeMap<String, String>,
        changed: &'a str,
    ) -> impl Iterator<Item = &'a Patched> + 'a {
        self.patched.iter().filter(move |p| {
            p.claim == claim
                && selector.iter().all(|(key, value)| p.labels.get(key) == Some(value))
                && (within(changed, &p.parameter) || within(&p.parameter, changed))
        })
    }
}

/// Whether field path `path` is `parent` or lies inside it.
fn within(path: &str, parent: &str) -> bool {
    path.strip_prefix(parent).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{self, Node, Value};
    use std::path::{Path, PathBuf};

    /// Patch types whose toFieldPath is not a field of the composed resource.
    const PATCHES_TO_ELSEWHERE: &[&str] =
        &["ToCompositeFieldPath", "CombineToComposite", "ToEnvironmentFieldPath", "CombineToEnvironment"];

    /// One row of `manifests/crossplane/force-new.yaml`.
    #[derive(Deserialize)]
    struct Table {
        resources: Vec<TableResource>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct TableResource {
        api_version: String,
        kind: String,
        source: String,
        fields: Vec<TableField>,
    }

    #[derive(Deserialize)]
    struct TableField {
        path: String,
        change: FieldChange,
        #[serde(default)]
        when: When,
        why: String,
    }

    fn crate_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn documents(path: &Path) -> Vec<Node> {
        let text = std::fs::read_to_string(path).unwrap();
        yaml::non_empty_documents(&text).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.in_text(&text)))
    }

    fn str_at<'a>(node: &'a Node, path: &[&str]) -> &'a str {
        node.str_at(path).unwrap_or_else(|| panic!("no {} in {node:?}", path.join(".")))
    }

    fn seq(node: Option<&Node>) -> &[Node] {
        match node.map(|n| &n.value) {
            Some(Value::Seq(items)) => items,
            _ => &[],
        }
    }

    /// The claim-parameter patches of every shipped Composition, joined
    /// with the force-new table; a patched field missing from the table is
    /// an error (tests/manifests.rs holds the table to every patch).
    fn generate() -> Effects {
        let dir = crate_dir().join("manifests/crossplane");
        let table_docs = documents(&dir.join("force-new.yaml"));
        let table: Table = crate::yaml::from_node(&table_docs[0]).unwrap();
        let mut claim_of_composite = BTreeMap::new();
        let mut compositions = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("xrd-") {
                for xrd in documents(&file) {
                    let composite = str_at(&xrd, &["spec", "names", "kind"]).to_owned();
                    claim_of_composite.insert(composite, str_at(&xrd, &["spec", "claimNames", "kind"]).to_owned());
                }
            } else if name.starts_with("composition-") {
                compositions.extend(documents(&file));
            }
        }
        let mut patched = Vec::new();
        for composition in &compositions {
            let claim = &claim_of_composite[str_at(composition, &["spec", "compositeTypeRef", "kind"])];
            let labels: BTreeMap<String, String> = composition
                .at(&["metadata", "labels"])
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, v)| Some((k.name.clone(), v.as_str()?.to_owned())))
                .collect();
            for step in seq(composition.at(&["spec", "pipeline"])) {
                let input = step.at(&["input"]).expect("a pipeline step with input");
                let patch_sets: BTreeMap<&str, &[Node]> = seq(input.at(&["patchSets"]))
                    .iter()
                    .map(|set| (str_at(set, &["name"]), seq(set.at(&["patches"]))))
                    .collect();
                for resource in seq(input.at(&["resources"])) {
                    let api_version = str_at(resource, &["base", "apiVersion"]);
                    let kind = str_at(resource, &["base", "kind"]);
                    let row = table
                        .resources
                        .iter()
                        .find(|r| r.api_version == api_version && r.kind == kind)
                        .unwrap_or_else(|| panic!("force-new.yaml has no {api_version} {kind}"));
                    let expanded =
                        seq(resource.at(&["patches"])).iter().flat_map(|patch| match patch.str_at(&["type"]) {
                            Some("PatchSet") => patch_sets[str_at(patch, &["patchSetName"])],
                            _ => std::slice::from_ref(patch),
                        });
                    for patch in expanded {
                        // Its toFieldPath is a field of the composite (e.g. the observed
                        // fence in status) or of the environment: this resource reads, and
                        // nothing it holds changes, so no provider replaces anything.
                        if patch.str_at(&["type"]).is_some_and(|t| PATCHES_TO_ELSEWHERE.contains(&t)) {
                            continue;
                        }
                        let Some(to) = patch.str_at(&["toFieldPath"]) else { continue };
                        let from: Vec<&str> = match patch.str_at(&["type"]) {
                            Some("CombineFromComposite") => seq(patch.at(&["combine", "variables"]))
                                .iter()
                                .map(|v| str_at(v, &["fromFieldPath"]))
                                .collect(),
                            _ => patch.str_at(&["fromFieldPath"]).into_iter().collect(),
                        };
                        let field = row
                            .fields
                            .iter()
                            .find(|f| f.path == to)
                            .unwrap_or_else(|| panic!("force-new.yaml has no {api_version} {kind} {to}"));
                        for parameter in from.into_iter().filter(|f| f.starts_with("spec.parameters.")) {
                            patched.push(Patched {
                                claim: claim.clone(),
                                composition: str_at(composition, &["metadata", "name"]).to_owned(),
                                labels: labels.clone(),
                                parameter: parameter.to_owned(),
                                resource: format!("{api_version} {kind}"),
                                field: to.to_owned(),
                                change: field.change,
                                when: field.when,
                                why: field.why.clone(),
                                source: row.source.clone(),
                            });
                        }
                    }
                }
            }
        }
        Effects { patched }
    }

    #[test]
    fn the_embedded_json_is_the_shipped_compositions() {
        let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
        crate::test_support::assert_generated("src/compose/embedded.json", &generated, "compose");
    }

    fn selector(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_parameter_reaches_the_fields_of_the_selected_composition_only() {
        let effects = Effects::embedded();
        let aws = selector(&[("provider", "aws"), ("class", "mysql")]);
        let fields: Vec<&str> =
            effects.reached("MySQLInstanceClaim", &aws, "spec.parameters.size").map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["spec.forProvider.instanceClass"]);
        let gcp = selector(&[("provider", "gcp"), ("class", "mysql")]);
        let fields: Vec<&str> =
            effects.reached("MySQLInstanceClaim", &gcp, "spec.parameters.size").map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["spec.forProvider.settings.tier"]);
        // A whole map that changes reaches every patch reading inside it.
        assert!(effects.reached("MySQLInstanceClaim", &aws, "spec.parameters.network").count() >= 2);
        assert_eq!(effects.reached("ReplicationClaim", &aws, "spec.parameters.size").count(), 0);
    }

    #[test]
    fn paths_lie_within_their_parents_only_at_a_boundary() {
        assert!(within("spec.parameters.network.vpc_id", "spec.parameters.network"));
        assert!(within("spec.parameters.network", "spec.parameters.network"));
        assert!(within("spec.parameters.tags[a]", "spec.parameters.tags"));
        assert!(!within("spec.parameters.networks", "spec.parameters.network"));
    }
}
