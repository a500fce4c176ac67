//! Backstage catalog entities for placed requests: one `kind: Resource` per
//! request under `catalog/<namespace>/<kind>-<name>.yaml`, and one
//! `catalog/location.yaml` that points Backstage at them.
//!
//! Entities are built as typed values and serialized (never spliced into
//! text), from names the request contract has already validated; the result
//! is parsed back and checked like every rendered manifest. Pure: no IO.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::names;
use crate::product::Role;
use crate::record::{DataClaims, DataLink};
use crate::render::RenderError;
use crate::request::{Kind, Request};
use crate::schedule::Decision;

use crate::layout;

const API_VERSION: &str = "backstage.io/v1alpha1";
/// The prefix of idp's annotations on catalog entities.
pub const ANNOTATION_PREFIX: &str = "idp.platform.example.org";

/// The entity's name ([`crate::request::catalog_entity_name`]).
pub fn entity_name(kind: Kind, name: &str) -> String {
    crate::request::catalog_entity_name(kind.cli_name(), name)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entity<M, S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: M,
    spec: S,
}

#[derive(Serialize)]
struct ResourceMetadata {
    name: String,
    namespace: String,
    title: String,
    description: String,
    labels: BTreeMap<&'static str, String>,
    annotations: BTreeMap<String, String>,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpec {
    #[serde(rename = "type")]
    kind: &'static str,
    owner: String,
    system: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
}

/// The request's entity: where it runs (annotations), who owns it (the
/// namespace's group), which system (the cell) and, for an app, the database
/// it follows.
pub fn entity(request: &Request, decision: &Decision, data: &DataClaims) -> Result<(String, String), RenderError> {
    let reason = &decision.reason;
    let annotation = |key: &str| format!("{ANNOTATION_PREFIX}/{key}");
    let mut annotations = BTreeMap::from([
        (annotation("kind"), request.kind.cli_name().to_owned()),
        (annotation("cell"), request.cell.clone()),
        (annotation("environment"), request.environment.clone()),
        (annotation("tier"), reason.tier.clone()),
        (annotation("provider"), decision.primary.provider.clone()),
        (annotation("region"), decision.primary.region.clone()),
        (annotation("runtime-cluster"), decision.primary.runtime_cluster.clone()),
        (annotation("policy-version"), reason.policy.version.clone()),
        (annotation("request-path"), crate::layout::request_path(request.kind, &request.namespace, &request.name)),
    ]);
    if let Some(secondary) = &decision.secondary {
        annotations.insert(annotation("secondary"), format!("{}/{}", secondary.provider, secondary.region));
        annotations.insert(annotation("secondary-runtime-cluster"), secondary.runtime_cluster.clone());
    }
    if let Some(profile) = &reason.dr_profile {
        annotations.insert(annotation("dr-profile"), profile.clone());
    }
    // The databases an app names (or, placed before apps named their data, followed).
    // Each database's product: as a followed one's record says, else as placed.
    let link = DataLink::of(request, reason);
    let depends_on = link
        .databases()
        .into_iter()
        .filter_map(|(namespace, name)| {
            let kind = match &link {
                DataLink::Implicit { kind, .. } => kind.clone(),
                _ => data.kind_of(namespace, name)?.to_string(),
            };
            Some(format!("resource:{namespace}/{}", crate::request::catalog_entity_name(&kind, name)))
        })
        .collect();
    let noun = format!("{} database", request.kind.manifest_kind());
    let (spec_type, noun) = match request.kind.role() {
        Role::Data => ("database", noun.as_str()),
        Role::App => ("service", "app"),
    };
    let where_ = match &decision.secondary {
        Some(s) => format!("{} (secondary {}/{})", decision.primary.id(), s.provider, s.region),
        None => decision.primary.id(),
    };
    let entity = Entity {
        api_version: API_VERSION,
        kind: "Resource",
        metadata: ResourceMetadata {
            name: entity_name(request.kind, &request.name),
            namespace: request.namespace.clone(),
            title: request.name.clone(),
            description: format!(
                "{noun} of cell {} ({}), placed by idp on {where_}, tier {}",
                request.cell, request.environment, reason.tier
            ),
            labels: crate::render::labels(request),
            annotations,
            tags: vec![request.kind.cli_name().to_owned(), decision.primary.provider.clone()],
        },
        spec: ResourceSpec {
            kind: spec_type,
            // Groups live in Backstage's `default` namespace; a bare ref would
            // resolve inside the entity's own namespace.
            owner: format!("group:default/{}", request.namespace),
            system: format!("system:default/{}", request.cell),
            depends_on,
        },
    };
    let unsafe_ = |message: String| RenderError::Unsafe { template: "catalog entity".into(), message };
    // The names are what `check` reads back; the serializer quotes the rest.
    check_name("name", &entity.metadata.name)
        .and(check_name("namespace", &entity.metadata.namespace))
        .map_err(unsafe_)?;
    let text = serde_saphyr::to_string(&entity).map_err(|e| unsafe_(e.to_string()))?;
    Ok((layout::catalog_path(request.kind, &request.namespace, &request.name), text))
}

/// `catalog/location.yaml`: registering the state repo's file in Backstage
/// lists every entity under `catalog/`.
pub fn location() -> String {
    let entity = Entity {
        api_version: API_VERSION,
        kind: "Location",
        metadata: serde_json::json!({
            "name": "idp-state-repo",
            "description": "Every database and app idp placed, one Resource per request (written by idp; do not edit)",
        }),
        spec: serde_json::json!({ "targets": ["./*/*.yaml"] }),
    };
    serde_saphyr::to_string(&entity).expect("a constant entity serializes")
}

/// Reads an entity back: the kinds idp writes, with names Backstage accepts.
pub fn check(text: &str) -> Result<(), String> {
    let documents =
        crate::yaml::non_empty_documents(text).map_err(|e| format!("not valid YAML: {}", e.in_text(text)))?;
    let [doc] = documents.as_slice() else {
        return Err(format!("{} documents where an entity is one", documents.len()));
    };
    let field = |path: &[&str]| doc.str_at(path);
    if field(&["apiVersion"]) != Some(API_VERSION) || !matches!(field(&["kind"]), Some("Resource" | "Location")) {
        return Err("not a Backstage Resource or Location".into());
    }
    for key in ["name", "namespace"] {
        if let Some(value) = field(&["metadata", key]) {
            check_name(key, value)?;
        }
    }
    Ok(())
}

/// Backstage accepts an entity name or namespace that is a DNS label.
fn check_name(key: &str, value: &str) -> Result<(), String> {
    if names::is_dns_label(value) {
        Ok(())
    } else {
        Err(format!("metadata.{key} {value:?} is not a valid entity name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What plan knows of the databases the tests' apps name.
    fn data() -> DataClaims {
        let mut data = DataClaims::NONE;
        for name in ["db", "reports-db"] {
            data.know(crate::test_support::mysql(), "team", name);
        }
        data
    }

    #[test]
    fn a_database_entity_says_where_it_runs_and_who_owns_it() {
        let (_, request, decision) = crate::test_support::payments_c0();
        let (path, text) = entity(&request, &decision, &data()).unwrap();
        assert_eq!(path, "catalog/team/mysql-db.yaml");
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(doc["apiVersion"], "backstage.io/v1alpha1");
        assert_eq!(doc["kind"], "Resource");
        assert_eq!(doc["metadata"]["name"], "mysql-db");
        assert_eq!(doc["metadata"]["namespace"], "team");
        assert_eq!(doc["spec"]["type"], "database");
        assert_eq!(doc["spec"]["owner"], "group:default/team");
        assert_eq!(doc["spec"]["system"], "system:default/payments");
        assert!(doc["spec"].get("dependsOn").is_none());
        let annotations = &doc["metadata"]["annotations"];
        assert_eq!(annotations["idp.platform.example.org/provider"], "aws");
        assert_eq!(annotations["idp.platform.example.org/region"], "us-east-1");
        assert_eq!(annotations["idp.platform.example.org/secondary"], "gcp/us-central1");
        assert_eq!(annotations["idp.platform.example.org/tier"], "C0");
        assert_eq!(doc["metadata"]["labels"]["app.kubernetes.io/managed-by"], "idp");
    }

    #[test]
    fn an_entity_name_backstage_would_refuse_is_not_written() {
        let (_, mut request, decision) = crate::test_support::payments_c0();
        request.name = "n".repeat(60);
        let error = entity(&request, &decision, &data()).unwrap_err().to_string();
        assert!(error.contains("is not a valid entity name"), "{error}");
        assert!(check(&entity(&crate::test_support::payments_c0().1, &decision, &data()).unwrap().1).is_ok());
    }

    #[test]
    fn an_app_depends_on_the_database_it_follows() {
        let (_, mut request, mut decision) = crate::test_support::payments_c0();
        request.kind = crate::test_support::app();
        request.name = "checkout".into();
        decision.reason.follows = Some("mysql team-data/db".into());
        let (path, text) = entity(&request, &decision, &data()).unwrap();
        assert_eq!(path, "catalog/team/app-checkout.yaml");
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(doc["spec"]["type"], "service");
        assert_eq!(doc["spec"]["dependsOn"], serde_json::json!(["resource:team-data/mysql-db"]));

        // An app that names its data depends on each database it names.
        request.spec = crate::test_support::app_spec(None, vec!["db".into(), "reports-db".into()]);
        decision.reason.follows = Some("mysql team/db, mysql team/reports-db".into());
        let doc: serde_json::Value = serde_saphyr::from_str(&entity(&request, &decision, &data()).unwrap().1).unwrap();
        assert_eq!(
            doc["spec"]["dependsOn"],
            serde_json::json!(["resource:team/mysql-db", "resource:team/mysql-reports-db"])
        );
    }

    #[test]
    fn values_are_escaped_not_spliced() {
        // Policy values are validated elsewhere; even a hostile one stays one scalar.
        let (_, request, mut decision) = crate::test_support::payments_c0();
        decision.primary.runtime_cluster = "x\nkind: Secret\n#".into();
        let (_, text) = entity(&request, &decision, &data()).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(doc["kind"], "Resource");
        assert_eq!(doc["metadata"]["annotations"]["idp.platform.example.org/runtime-cluster"], "x\nkind: Secret\n#");
    }

    #[test]
    fn the_location_finds_every_entity_and_passes_the_check() {
        let text = location();
        check(&text).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(doc["kind"], "Location");
        assert_eq!(doc["spec"]["targets"], serde_json::json!(["./*/*.yaml"]));
        assert!(check("apiVersion: v1\nkind: Secret\n").is_err());
    }
}
