//! The JSON Schema of a product's requests (the Kubernetes form), made from
//! the tables validation reads and the product's definition under the policy
//! in force: what an editor or a CI step can check before `idp plan` does.
//! A schema says less than validation (names idp derives, team permissions,
//! a secret in `env`, what the state repo holds): a request it admits may
//! still be refused, never the other way round.

use serde_json::{Map, Value, json};

use super::{
    APP_SPEC, ENV_FIELDS, Field, NAME_FIELDS, PLACEMENT_SPEC, QUANTITY_FIELDS, RESOURCES_FIELDS, SECRET_KEY_REF_FIELDS,
    TRAFFIC_FIELDS, Type, VALUE_FROM_FIELDS,
};
use crate::policy::Policy;
use crate::product::{Product, Role};
use crate::request::API_VERSION;

/// The schema of a request of `product` under `policy`.
pub fn request_schema(product: &Product, policy: &Policy) -> Value {
    let names = |values: Vec<String>| json!({ "type": "string", "enum": values });
    let mut spec = Map::new();
    let mut required = Vec::new();
    let placement: [(&str, Value); 4] = [
        ("cell", names(policy.cells.keys().cloned().collect())),
        ("tier", names(policy.tiers.keys().cloned().collect())),
        ("environment", names(policy.environment_names())),
        ("drProfile", names(policy.dr_profiles.keys().cloned().collect())),
    ];
    for (field, schema) in placement {
        spec.insert(field.into(), schema);
    }
    required.extend(PLACEMENT_SPEC.iter().filter(|f| f.required).map(|f| f.name.to_owned()));
    match product.role {
        Role::Data => {
            for field in &product.fields {
                let admitted = field.admitted(policy);
                let mut schema = json!({ "type": field.parameter.type_ });
                if !admitted.values.is_empty() {
                    schema["enum"] = admitted.values.into();
                }
                if let (Some(min), Some(max)) = (admitted.min, admitted.max) {
                    (schema["minimum"], schema["maximum"]) = (min.into(), max.into());
                }
                if let Some(default) = &field.request_default {
                    schema["default"] = default.clone();
                }
                if let Some(description) = &field.parameter.description {
                    schema["description"] = description.clone().into();
                }
                spec.insert(field.name().to_owned(), schema);
                if field.request_default.is_none() {
                    required.push(field.name().to_owned());
                }
            }
        }
        Role::App => {
            // Its own fields: the placement's are above.
            let own = APP_SPEC.iter().filter(|f| !PLACEMENT_SPEC.iter().any(|p| p.name == f.name));
            for field in own {
                spec.insert(field.name.into(), app_field(field));
                if field.required {
                    required.push(field.name.to_owned());
                }
            }
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("an idp {} request ({})", product.manifest_kind, product.name),
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": { "const": API_VERSION },
            "kind": { "const": product.manifest_kind },
            "metadata": object(NAME_FIELDS, |_| json!({ "type": "string", "pattern": DNS_LABEL })),
            "spec": { "type": "object", "required": required, "properties": spec, "additionalProperties": false },
        },
        "additionalProperties": false,
    })
}

/// A DNS-1123 label, as names and namespaces are.
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

/// An object of `fields`, each typed by `schema`, nothing else allowed.
fn object(fields: &[Field<'_>], schema: impl Fn(&Field<'_>) -> Value) -> Value {
    let properties: Map<String, Value> = fields.iter().map(|f| (f.name.to_owned(), schema(f))).collect();
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    json!({ "type": "object", "required": required, "properties": properties, "additionalProperties": false })
}

/// An app's field, nested tables followed.
fn app_field(field: &Field<'_>) -> Value {
    match (field.name, field.ty) {
        ("traffic", _) => object(TRAFFIC_FIELDS, typed),
        ("resources", _) => object(RESOURCES_FIELDS, |_| object(QUANTITY_FIELDS, typed)),
        ("env", _) => json!({
            "type": "array",
            "items": object(ENV_FIELDS, |f| match f.name {
                "valueFrom" => object(VALUE_FROM_FIELDS, |_| object(SECRET_KEY_REF_FIELDS, typed)),
                _ => typed(f),
            }),
        }),
        ("dependsOn", _) => {
            json!({ "type": "array", "items": { "type": "string", "pattern": "^[A-Za-z0-9-]+/[a-z0-9-]+$" } })
        }
        ("command" | "args", _) => json!({ "type": "array", "items": { "type": "string" } }),
        _ => typed(field),
    }
}

/// A field's JSON type, as validation checks it first.
fn typed(field: &Field<'_>) -> Value {
    match field.ty {
        Type::Str => json!({ "type": "string" }),
        Type::Int => json!({ "type": "integer" }),
        Type::Bool => json!({ "type": "boolean" }),
        Type::Map => json!({ "type": "object" }),
        Type::Names => json!({ "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] }),
        Type::List => json!({ "type": "array" }),
        Type::Quantity => json!({ "type": ["string", "number"] }),
    }
}
