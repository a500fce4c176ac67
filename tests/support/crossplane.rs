//! What the composition tests read and what Crossplane does with a claim, shared by
//! tests/composed.rs (MySQL and replication claims) and tests/composed_products.rs
//! (PostgreSQL and Redis): the shipped Compositions, the pinned provider CRDs, the composite
//! Crossplane creates for a claim, the Composition its selector picks, and a composed
//! resource as Crossplane applies it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn parse_yaml_str(text: &str, origin: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("{origin} is not valid YAML: {e}"))
        .into_iter()
        .filter(|doc| !doc.is_null())
        .collect()
}

pub fn parse_yaml(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_yaml_str(&text, &path.display().to_string())
}

/// The Compositions in manifests/crossplane, by file name.
pub fn compositions() -> Vec<(String, Value)> {
    let dir = crate_dir().join("manifests/crossplane");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("composition-")))
        .collect();
    files.sort();
    let out: Vec<(String, Value)> = files
        .iter()
        .flat_map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            parse_yaml(file).into_iter().map(move |doc| (name.clone(), doc))
        })
        .filter(|(_, doc)| doc["kind"] == "Composition")
        .collect();
    assert!(out.len() >= 5, "only {} Compositions found in {}", out.len(), dir.display());
    out
}

/// The provider CRDs the manifests pin, by (group, kind), from tests/fixtures/crds (its
/// README says where each file comes from): provider-upjet-aws v2.6.0 in `aws/`,
/// provider-upjet-gcp v3.0.0 in `gcp/`, oracle's OCI provider in `oci/` (tag v0.0.2) and
/// `oci-bf00b89/` (the commit whose mysql and goldengate kinds the Compositions use), and
/// the excerpts of the OCI psql and redis kinds in `oci-index/`.
pub fn provider_crds() -> BTreeMap<(String, String), Value> {
    let dir = crate_dir().join("tests/fixtures/crds");
    let mut crds = BTreeMap::new();
    for pinned in ["aws", "gcp", "oci", "oci-bf00b89", "oci-index"] {
        let mut files: Vec<PathBuf> = fs::read_dir(dir.join(pinned))
            .unwrap_or_else(|e| panic!("read {}/{pinned}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        files.sort();
        for file in files {
            for crd in parse_yaml(&file) {
                let group = crd["spec"]["group"].as_str().expect("CRD group").to_owned();
                let kind = crd["spec"]["names"]["kind"].as_str().expect("CRD kind").to_owned();
                crds.insert((group, kind), crd);
            }
        }
    }
    crds
}

/// A fixed uid per composite name, so the two sides of a failover agree (a real composite
/// keeps its uid).
pub fn uid_for(name: &str) -> String {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        hash >> 32,
        hash & 0xffff,
        hash >> 52,
        hash >> 40 & 0xfff,
        hash >> 4
    )
}

/// The composite of `kind` Crossplane creates for a claim: the claim's spec with its
/// claimRef, a fixed name (the claim name and a suffix), its uid, the claim labels, and
/// `annotations`. The claim's secret reference is the claim's; the composite's is
/// Crossplane's own.
pub fn composite_of(claim: &Value, kind: &str, annotations: Value) -> Value {
    let claim_name = claim["metadata"]["name"].as_str().expect("claim name");
    let namespace = claim["metadata"]["namespace"].as_str().expect("claim namespace");
    let name = format!("{claim_name}-h7x2q");
    let mut labels = claim["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels["crossplane.io/claim-name"] = json!(claim_name);
    labels["crossplane.io/claim-namespace"] = json!(namespace);
    labels["crossplane.io/composite"] = json!(name);
    let mut spec = claim["spec"].clone();
    spec["claimRef"] = json!({
        "apiVersion": claim["apiVersion"], "kind": claim["kind"], "name": claim_name, "namespace": namespace
    });
    if spec.get("writeConnectionSecretToRef").is_some() {
        spec["writeConnectionSecretToRef"] = json!({"name": uid_for(&name), "namespace": "crossplane-system"});
    }
    json!({
        "apiVersion": claim["apiVersion"],
        "kind": kind,
        "metadata": {"name": name, "uid": uid_for(&name), "labels": labels, "annotations": annotations},
        "spec": spec
    })
}

/// The one Composition whose type and labels the composite's selector matches.
pub fn selected<'a>(compositions: &'a [(String, Value)], composite: &Value) -> Result<&'a (String, Value), String> {
    let wanted = composite["spec"]["compositionSelector"]["matchLabels"].as_object().cloned().unwrap_or_default();
    let matching: Vec<&(String, Value)> = compositions
        .iter()
        .filter(|(_, c)| {
            let type_ref = &c["spec"]["compositeTypeRef"];
            type_ref["apiVersion"] == composite["apiVersion"] && type_ref["kind"] == composite["kind"]
        })
        .filter(|(_, c)| wanted.iter().all(|(k, v)| &c["metadata"]["labels"][k] == v))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        _ => Err(format!("selector {wanted:?} matches {} Compositions", matching.len())),
    }
}

/// A composed resource as Crossplane applies it: the function's output plus the name and
/// the labels and annotation Crossplane adds.
pub fn as_applied(resource: &Value, composite: &Value, template: &str) -> Value {
    let mut applied = resource.clone();
    let name = composite["metadata"]["name"].as_str().unwrap_or_default();
    let meta = &mut applied["metadata"];
    if !meta.is_object() {
        *meta = json!({});
    }
    meta["name"] = json!(format!("{name}-{}", uid_for(template).split('-').next().unwrap_or_default()));
    if !meta["labels"].is_object() {
        meta["labels"] = json!({});
    }
    for key in ["crossplane.io/composite", "crossplane.io/claim-name", "crossplane.io/claim-namespace"] {
        meta["labels"][key] = composite["metadata"]["labels"][key].clone();
    }
    if !meta["annotations"].is_object() {
        meta["annotations"] = json!({});
    }
    meta["annotations"]["crossplane.io/composition-resource-name"] = json!(template);
    applied
}
