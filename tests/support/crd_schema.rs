//! Validates a Kubernetes object (a `serde_json::Value`) against the OpenAPI v3 schema of a
//! CustomResourceDefinition or a Crossplane XRD, as strictly as the API server would treat it:
//! JSON Schema for types, enums, ranges and required fields, plus the pruning rule, under
//! which a field the schema does not declare is silently dropped instead of rejected.
//!
//! Out of scope: CEL rules (`x-kubernetes-validations`), `format`, and defaulting (a field
//! that only becomes valid once its default is applied is reported as invalid).
//!
//! Include it with `#[path = "support/crd_schema.rs"] mod crd_schema;`.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::fmt;

use serde_json::{Map, Value, json};

/// One problem with a document, located by a YAML-style path such as
/// `spec.pipeline[0].input.resources[1].base` or `metadata.labels["app.kubernetes.io/name"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A step in a document path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Renders a path the way a person would type it into `yq`.
pub fn render_path(path: &[Segment]) -> String {
    if path.is_empty() {
        return "<document root>".to_owned();
    }
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(key) if is_plain_key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Key(key) => out.push_str(&format!("[{key:?}]")),
        }
    }
    out
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The schema of one version of a CRD or an XRD: both keep it at
/// `spec.versions[name == version].schema.openAPIV3Schema`.
pub fn version_schema<'a>(definition: &'a Value, version: &str) -> Option<&'a Value> {
    definition["spec"]["versions"].as_array()?.iter().find(|v| v["name"] == version)?.pointer("/schema/openAPIV3Schema")
}

/// Checks that `doc`'s apiVersion and kind name a served version of `crd` and returns that
/// version's schema.
pub fn schema_for<'a>(crd: &'a Value, doc: &Value) -> Result<&'a Value, String> {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default();
    let api_version = doc["apiVersion"].as_str().ok_or("apiVersion is missing")?;
    let (doc_group, version) =
        api_version.split_once('/').ok_or_else(|| format!("apiVersion {api_version:?} has no group"))?;
    let doc_kind = doc["kind"].as_str().unwrap_or("<no kind>");
    if doc_group != group || doc_kind != kind {
        return Err(format!("{api_version} {doc_kind} is not the {group} {kind} this CRD defines"));
    }
    let served = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == version)
        .is_some_and(|v| v["served"] == true);
    if !served {
        return Err(format!("{group}/{version} is not a served version of {kind}"));
    }
    version_schema(crd, version).ok_or_else(|| format!("{group}/{version} {kind} has no schema"))
}

/// Checks the document's group/version/kind against `crd`, then validates it.
pub fn validate_against_crd(crd: &Value, doc: &Value) -> Vec<Violation> {
    match schema_for(crd, doc) {
        Ok(schema) => validate(schema, doc),
        Err(message) => vec![Violation { path: "apiVersion".to_owned(), message }],
    }
}

/// Everything the API server would reject or silently prune, for a whole object whose
/// schema is `openapi` (an `openAPIV3Schema`).
pub fn validate(openapi: &Value, doc: &Value) -> Vec<Violation> {
    let mut out = schema_violations(openapi, doc);
    out.extend(unknown_fields(openapi, doc));
    out
}

/// JSON Schema validation only (types, enums, bounds, required fields).
pub fn schema_violations(openapi: &Value, doc: &Value) -> Vec<Violation> {
    let schema = to_json_schema(openapi);
    let validator = match jsonschema::draft4::options()
        // Kubernetes formats (int32, byte, date-time as RFC 3339) are not JSON Schema's.
        .should_validate_formats(false)
        .build(&schema)
    {
        Ok(validator) => validator,
        Err(err) => {
            return vec![Violation {
                path: "<schema>".to_owned(),
                message: format!("the schema does not compile: {err}"),
            }];
        }
    };
    validator
        .iter_errors(doc)
        .map(|err| {
            let path: Vec<Segment> = err
                .instance_path()
                .iter()
                .map(|s| match s {
                    jsonschema::paths::LocationSegment::Property(p) => Segment::Key(p.into_owned()),
                    jsonschema::paths::LocationSegment::Index(i) => Segment::Index(i),
                })
                .collect();
            Violation { path: render_path(&path), message: err.to_string() }
        })
        .collect()
}

/// Rewrites Kubernetes' OpenAPI v3 dialect into JSON Schema draft 4, which it is closest to:
/// `x-kubernetes-int-or-string` becomes "integer or string" and `nullable` admits null.
pub fn to_json_schema(openapi: &Value) -> Value {
    let Value::Object(node) = openapi else {
        return openapi.clone();
    };
    let mut out = Map::new();
    for (keyword, value) in node {
        let converted = match keyword.as_str() {
            // Maps from a field name to a schema: the names are data, not keywords.
            "properties" | "patternProperties" | "definitions" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, schema)| (name.clone(), to_json_schema(schema)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => to_json_schema(value),
            "allOf" | "anyOf" | "oneOf" => {
                Value::Array(value.as_array().into_iter().flatten().map(to_json_schema).collect())
            }
            // default, enum, example, description, x-kubernetes-*: data, copied as is.
            _ => value.clone(),
        };
        out.insert(keyword.clone(), converted);
    }
    if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        out.remove("type");
        out.entry("anyOf").or_insert_with(|| json!([{"type": "integer"}, {"type": "string"}]));
    }
    if node.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(Value::String(ty)) = out.get("type").cloned() {
            out.insert("type".to_owned(), json!([ty, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    Value::Object(out)
}

/// Fields the API server would prune: present in the document, declared nowhere in the
/// schema, at a node that neither allows arbitrary keys (`additionalProperties`) nor
/// preserves unknown fields. `metadata` of the object (and of embedded resources) is checked
/// against ObjectMeta, which the API server validates on its own.
pub fn unknown_fields(openapi: &Value, doc: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    walk(openapi, doc, true, &mut Vec::new(), &mut out);
    out
}

fn walk(schema: &Value, value: &Value, is_resource: bool, path: &mut Vec<Segment>, out: &mut Vec<Violation>) {
    match value {
        Value::Object(fields) => walk_object(schema, fields, is_resource, path, out),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    path.push(Segment::Index(i));
                    walk(item_schema, item, is_embedded(item_schema), path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

fn is_embedded(schema: &Value) -> bool {
    schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true))
}

fn walk_object(
    schema: &Value,
    fields: &Map<String, Value>,
    is_resource: bool,
    path: &mut Vec<Segment>,
    out: &mut Vec<Violation>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let preserves = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));

    if is_resource && !path.is_empty() {
        // The API server requires these on an embedded object.
        for required in ["apiVersion", "kind"] {
            if !fields.contains_key(required) {
                out.push(Violation {
                    path: render_path(path),
                    message: format!("embedded resource has no {required}"),
                });
            }
        }
    }

    for (key, value) in fields {
        path.push(Segment::Key(key.clone()));
        if is_resource && key == "metadata" {
            check_object_meta(value, path, out);
        } else if let Some(field_schema) = properties.and_then(|p| p.get(key)) {
            walk(field_schema, value, is_embedded(field_schema), path, out);
        } else if is_resource && (key == "apiVersion" || key == "kind") {
            // Implied by x-kubernetes-embedded-resource.
        } else {
            match additional {
                Some(map_value @ Value::Object(_)) => walk(map_value, value, is_embedded(map_value), path, out),
                Some(Value::Bool(true)) => {}
                _ if preserves => {}
                _ => out.push(Violation {
                    path: render_path(path),
                    message: "unknown field: the schema does not declare it, so it would be silently dropped"
                        .to_owned(),
                }),
            }
        }
        path.pop();
    }
}

/// ObjectMeta fields a manifest may carry (read-only ones included: they round-trip).
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

fn check_object_meta(meta: &Value, path: &mut Vec<Segment>, out: &mut Vec<Violation>) {
    let Value::Object(fields) = meta else {
        out.push(Violation { path: render_path(path), message: "metadata must be a mapping".to_owned() });
        return;
    };
    for (key, value) in fields {
        path.push(Segment::Key(key.clone()));
        if !OBJECT_META_FIELDS.contains(&key.as_str()) {
            out.push(Violation {
                path: render_path(path),
                message: "unknown field: ObjectMeta has no such field, so the API server would drop it".to_owned(),
            });
        } else if key == "labels" || key == "annotations" {
            match value {
                Value::Object(entries) => {
                    for (name, entry) in entries {
                        if !entry.is_string() {
                            path.push(Segment::Key(name.clone()));
                            out.push(Violation {
                                path: render_path(path),
                                message: format!("{key} values must be strings, got {entry}"),
                            });
                            path.pop();
                        }
                    }
                }
                _ => out.push(Violation { path: render_path(path), message: format!("{key} must be a mapping") }),
            }
        } else if matches!(key.as_str(), "name" | "generateName" | "namespace") && !value.is_string() {
            out.push(Violation { path: render_path(path), message: format!("must be a string, got {value}") });
        }
        path.pop();
    }
}

/// The schema the API server applies to a claim of `xrd` at `version`: the XRD's own
/// `openAPIV3Schema` plus the spec fields Crossplane adds to every claim. Only the fields
/// that Crossplane 1.14+ and 2.x both add are included.
pub fn claim_schema(xrd: &Value, version: &str) -> Option<Value> {
    let mut schema = version_schema(xrd, version)?.clone();
    let root = schema.as_object_mut()?;
    root.insert("type".to_owned(), json!("object"));
    root.insert("required".to_owned(), json!(["spec"]));
    let properties = root.entry("properties").or_insert_with(|| json!({}));
    let properties = properties.as_object_mut()?;
    properties.insert("apiVersion".to_owned(), json!({"type": "string"}));
    properties.insert("kind".to_owned(), json!({"type": "string"}));
    properties.insert("metadata".to_owned(), json!({"type": "object"}));
    properties
        .entry("status")
        .or_insert_with(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    let spec = properties.entry("spec").or_insert_with(|| json!({"type": "object"}));
    let spec_properties = spec.as_object_mut()?.entry("properties").or_insert_with(|| json!({})).as_object_mut()?;
    // Crossplane's injected fields override the XRD's, as they do in the generated CRD.
    for (name, field) in claim_spec_properties() {
        spec_properties.insert(name, field);
    }
    Some(schema)
}

/// Crossplane's claim spec fields (internal/xcrd/schemas.go, CompositeResourceClaimSpecProps),
/// without publishConnectionDetailsTo, which Crossplane 2 removed.
fn claim_spec_properties() -> Map<String, Value> {
    let reference = json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}});
    let selector = json!({
        "type": "object",
        "required": ["matchLabels"],
        "properties": {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}
    });
    let Value::Object(props) = json!({
        "compositionRef": reference,
        "compositionSelector": selector,
        "compositionRevisionRef": reference,
        "compositionRevisionSelector": selector,
        "compositionUpdatePolicy": {"type": "string", "enum": ["Automatic", "Manual"]},
        "compositeDeletePolicy": {"type": "string", "enum": ["Background", "Foreground"]},
        "resourceRef": {
            "type": "object",
            "required": ["apiVersion", "kind", "name"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "name": {"type": "string"}
            }
        },
        "writeConnectionSecretToRef": reference
    }) else {
        unreachable!("a JSON object literal")
    };
    props
}
