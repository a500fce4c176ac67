//! Where things live in a state repo (PRODUCT.md section 5). Every request's
//! files are found by path from its kind, namespace and name alone.

use crate::request::Kind;

/// Present in every state repo; records which idp wrote its layout.
pub const MARKER_PATH: &str = ".idp/state.yaml";
pub const POLICY_PATH: &str = "policy/policy.yaml";

/// `requests/<namespace>/<kind>-<name>.yaml`: the normalized request.
pub fn request_path(kind: Kind, namespace: &str, name: &str) -> String {
    format!("requests/{namespace}/{kind}-{name}.yaml")
}

/// `placements/<namespace>/<kind>-<name>.yaml`: the decision record.
pub fn placement_path(kind: Kind, namespace: &str, name: &str) -> String {
    format!("placements/{namespace}/{kind}-{name}.yaml")
}

/// `platform/<namespace>/<kind>-<name>/`: what the management cluster applies.
pub fn platform_dir(kind: Kind, namespace: &str, name: &str) -> String {
    format!("platform/{namespace}/{kind}-{name}")
}

/// `workloads/<namespace>/<name>/`: an app's workload manifests, one folder
/// per side.
pub fn workload_dir(namespace: &str, name: &str) -> String {
    format!("workloads/{namespace}/{name}")
}

/// `catalog/<namespace>/<kind>-<name>.yaml`: the request's Backstage entity.
pub fn catalog_path(kind: Kind, namespace: &str, name: &str) -> String {
    format!("catalog/{namespace}/{kind}-{name}.yaml")
}

/// The Backstage `Location` that lists every entity under `catalog/`.
pub const CATALOG_LOCATION_PATH: &str = "catalog/location.yaml";
