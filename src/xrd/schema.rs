//! A structural schema as the API server applies it to an object: nulls
//! pruned and defaults applied, then types, required fields, enums, bounds,
//! lengths, patterns and the CEL rules of every node, plus the fields it does
//! not declare (which the API server would drop without a word).
//!
//! Only the keywords listed in [`RawSchema`] are understood; an XRD that uses
//! another (`oneOf`, `format`, `x-kubernetes-int-or-string`, list types
//! `set`/`map`, ...) fails to load instead of being checked halfway.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::rule::{RawRule, Rule, Verdict};

/// A schema node as an XRD spells it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSchema {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub description: Option<String>,
    #[allow(dead_code)]
    pub title: Option<String>,
    #[allow(dead_code)]
    pub example: Option<Json>,
    pub properties: Option<Fields<RawSchema>>,
    pub required: Option<Vec<String>>,
    pub additional_properties: Option<RawAdditional>,
    pub items: Option<Box<RawSchema>>,
    #[serde(rename = "enum")]
    pub enum_: Option<Vec<Json>>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: Option<bool>,
    pub exclusive_maximum: Option<bool>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub nullable: Option<bool>,
    pub default: Option<Json>,
    #[serde(rename = "x-kubernetes-validations")]
    pub validations: Option<Vec<RawRule>>,
    #[serde(rename = "x-kubernetes-preserve-unknown-fields")]
    pub preserve_unknown_fields: Option<bool>,
    #[serde(rename = "x-kubernetes-map-type")]
    pub map_type: Option<String>,
    #[serde(rename = "x-kubernetes-list-type")]
    pub list_type: Option<String>,
}

/// An object's declared fields, sorted by name, in exactly the room they
/// take. Not a BTreeMap: each of its nodes has room for eleven schemas
/// (370 bytes compiled, 550 raw), though most objects declare a few fields;
/// their room was more than a quarter of a plan's heap peak (docs/performance.md).
#[derive(Debug, Clone)]
pub(super) struct Fields<T>(Box<[(String, T)]>);

impl<T> Default for Fields<T> {
    fn default() -> Self {
        Fields(Box::new([]))
    }
}

impl<T> Fields<T> {
    /// The last of a repeated name wins, as a map's insert does.
    fn new(mut pairs: Vec<(String, T)>) -> Self {
        pairs.reverse();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        Fields(pairs.into_boxed_slice())
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.index(name).map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.index(name).map(|i| &mut self.0[i].1)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.0.binary_search_by(|(declared, _)| declared.as_str().cmp(name)).ok()
    }
}

impl<T> FromIterator<(String, T)> for Fields<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(pairs: I) -> Self {
        Fields::new(pairs.into_iter().collect())
    }
}

impl<T> IntoIterator for Fields<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Fields<T> {
    type Item = &'a (String, T);
    type IntoIter = std::slice::Iter<'a, (String, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Fields<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Pairs<T> {
            type Value = Fields<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of field names to schemas")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Fields<T>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Fields::new(pairs))
            }
        }
        deserializer.deserialize_map(Pairs(PhantomData))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawAdditional {
    Allows(bool),
    Schema(Box<RawSchema>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl Type {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "object" => Type::Object,
            "array" => Type::Array,
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            _ => return None,
        })
    }

    fn admits(self, value: &Json) -> bool {
        match self {
            Type::Object => value.is_object(),
            Type::Array => value.is_array(),
            Type::String => value.is_string(),
            Type::Integer => value.is_i64() || value.is_u64(),
            Type::Number => value.is_number(),
            Type::Boolean => value.is_boolean(),
        }
    }

    fn article(self) -> &'static str {
        match self {
            Type::Object => "an object",
            Type::Array => "a list",
            Type::String => "a string",
            Type::Integer => "an integer",
            Type::Number => "a number",
            Type::Boolean => "a boolean",
        }
    }
}

fn found(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a decimal number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// Keys of an object the schema does not list.
#[derive(Debug)]
enum Additional {
    /// Not allowed: the API server prunes them (unless unknown fields are preserved).
    Pruned,
    Any,
    Schema(Box<Schema>),
}

/// A compiled schema node.
#[derive(Debug)]
pub(super) struct Schema {
    ty: Option<Type>,
    properties: Fields<Schema>,
    required: Vec<String>,
    additional: Additional,
    preserve_unknown: bool,
    items: Option<Box<Schema>>,
    enum_: Vec<Json>,
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<regex::Regex>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    nullable: bool,
    default: Option<Json>,
    rules: Vec<Rule>,
    /// `x-kubernetes-map-type: atomic`: its fields are not matched with the
    /// stored object's, so transition rules below it never run.
    atomic: bool,
    /// The object's `metadata`: ObjectMeta, which the API server validates
    /// on its own; only the fields it defines are allowed. Holds the longest
    /// name allowed.
    object_meta: Option<u64>,
}

/// One reason the API server would refuse an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, spelled as the API server does: `spec.parameters.storageGB`,
    /// `metadata.labels[app]`, `spec.items[0]`.
    pub path: String,
    pub message: String,
    /// The CEL rule that refused it, when one did.
    pub rule: Option<String>,
    /// That rule compares with the stored object (`oldSelf`).
    pub transition: bool,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "<object>" } else { &self.path };
        write!(f, "{path}: {}", self.message)?;
        if let Some(rule) = &self.rule {
            write!(f, " (rule `{rule}`)")?;
        }
        Ok(())
    }
}

impl Schema {
    pub fn compile(raw: RawSchema, at: &str) -> Result<Self, String> {
        let unsupported = |what: String| Err(format!("{at}: {what} is not supported by idp's claim check"));
        let ty = match raw.type_.as_deref() {
            None => None,
            Some(name) => match Type::parse(name) {
                Some(ty) => Some(ty),
                None => return unsupported(format!("type `{name}`")),
            },
        };
        let atomic = match raw.map_type.as_deref() {
            None | Some("granular") => false,
            Some("atomic") => true,
            Some(other) => return unsupported(format!("x-kubernetes-map-type `{other}`")),
        };
        // Lists are atomic unless they say otherwise; `set` and `map` lists
        // have uniqueness rules and per-item transition rules not built here.
        if let Some(list) = raw.list_type.as_deref().filter(|l| *l != "atomic") {
            return unsupported(format!("x-kubernetes-list-type `{list}`"));
        }
        let properties = raw
            .properties
            .unwrap_or_default()
            .into_iter()
            .map(|(name, schema)| Ok((name.clone(), Schema::compile(schema, &join(at, &name))?)))
            .collect::<Result<_, String>>()?;
        let additional = match raw.additional_properties {
            None | Some(RawAdditional::Allows(false)) => Additional::Pruned,
            Some(RawAdditional::Allows(true)) => Additional::Any,
            Some(RawAdditional::Schema(schema)) => {
                Additional::Schema(Box::new(Schema::compile(*schema, &format!("{at}[*]"))?))
            }
        };
        let items = raw.items.map(|items| Schema::compile(*items, &format!("{at}[*]")).map(Box::new)).transpose()?;
        let pattern = raw
            .pattern
            .map(|p| regex::Regex::new(&p).map_err(|e| format!("{at}: pattern `{p}` does not compile: {e}")))
            .transpose()?;
        let rules = raw
            .validations
            .unwrap_or_default()
            .into_iter()
            .map(|rule| Rule::compile(rule).map_err(|e| format!("{at}: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            ty,
            properties,
            required: raw.required.unwrap_or_default(),
            additional,
            preserve_unknown: raw.preserve_unknown_fields == Some(true),
            items,
            enum_: raw.enum_.unwrap_or_default(),
            minimum: raw.minimum.map(|m| (m, raw.exclusive_minimum == Some(true))),
            maximum: raw.maximum.map(|m| (m, raw.exclusive_maximum == Some(true))),
            min_length: raw.min_length,
            max_length: raw.max_length,
            pattern,
            min_items: raw.min_items,
            max_items: raw.max_items,
            min_properties: raw.min_properties,
            max_properties: raw.max_properties,
            nullable: raw.nullable == Some(true),
            default: raw.default,
            rules,
            atomic,
            object_meta: None,
        })
    }

    /// The schema of a claim of an XRD version whose `openAPIV3Schema` is
    /// `xrd`, as Crossplane generates the claim's CRD (crossplane-runtime
    /// `pkg/xcrd/crd.go`, `genCrdVersion` and `ForCompositeResourceClaim`,
    /// commit 4e7ed23, the Crossplane v2.4 line): its own root for apiVersion,
    /// kind, metadata, spec and status; the XRD's root rules; the XRD's spec
    /// fields, required list, rules and preserve-unknown-fields, with
    /// `crossplane_spec` (the fields Crossplane adds to every claim) over
    /// them. Nothing else of the XRD's root reaches the claim. `status` is
    /// not modelled: idp never writes it, and with the status subresource
    /// the API server ignores it on create and update.
    pub fn claim(mut xrd: RawSchema, crossplane_spec: &Fields<RawSchema>) -> Result<Self, String> {
        let object = || Some("object".to_owned());
        let string = || RawSchema { type_: Some("string".into()), ..RawSchema::default() };
        let properties = xrd.properties.take().unwrap_or_default();
        let name_max = properties
            .get("metadata")
            .and_then(|meta| meta.properties.as_ref()?.get("name")?.max_length)
            .map_or(CLAIM_NAME_MAX, |max| max.min(CLAIM_NAME_MAX));
        let x_spec = properties.into_iter().find(|(name, _)| name == "spec").map(|(_, spec)| spec).unwrap_or_default();
        let spec_properties =
            x_spec.properties.unwrap_or_default().into_iter().chain(crossplane_spec.into_iter().cloned());
        let spec = RawSchema {
            type_: object(),
            properties: Some(spec_properties.collect()),
            required: x_spec.required,
            preserve_unknown_fields: x_spec.preserve_unknown_fields,
            validations: x_spec.validations,
            ..RawSchema::default()
        };
        let status = RawSchema { type_: object(), preserve_unknown_fields: Some(true), ..RawSchema::default() };
        let root = RawSchema {
            type_: object(),
            required: Some(vec!["spec".into()]),
            validations: xrd.validations,
            properties: Some(Fields::new(vec![
                ("apiVersion".to_owned(), string()),
                ("kind".to_owned(), string()),
                ("metadata".to_owned(), RawSchema { type_: object(), ..RawSchema::default() }),
                ("spec".to_owned(), spec),
                ("status".to_owned(), status),
            ])),
            ..RawSchema::default()
        };
        let mut schema = Schema::compile(root, "")?;
        if let Some(meta) = schema.properties.get_mut("metadata") {
            meta.object_meta = Some(name_max);
        }
        Ok(schema)
    }

    /// The schema of a field, if it declares one.
    fn field(&self, name: &str) -> Option<&Schema> {
        self.properties.get(name).or(match &self.additional {
            Additional::Schema(schema) => Some(schema),
            _ => None,
        })
    }

    fn allows_unknown(&self) -> bool {
        self.preserve_unknown || matches!(self.additional, Additional::Any)
    }

    /// What the API server does before it validates: a null the schema does
    /// not allow is dropped, then every absent field with a default gets it
    /// (the defaults inside a default included). From the CRD documentation
    /// ("Defaulting and Nullable": nulls of non-nullable fields are pruned
    /// before defaulting), not re-read from the apiserver's code here.
    pub fn prune_nulls_and_default(&self, value: &mut Json) {
        match value {
            Json::Object(fields) => {
                fields.retain(|name, v| !v.is_null() || self.field(name).is_some_and(|s| s.nullable));
                for (name, schema) in &self.properties {
                    if let Some(default) = &schema.default
                        && !fields.contains_key(name)
                    {
                        fields.insert(name.clone(), default.clone());
                    }
                }
                for (name, v) in fields.iter_mut() {
                    if let Some(schema) = self.field(name) {
                        schema.prune_nulls_and_default(v);
                    }
                }
            }
            Json::Array(items) => {
                if let Some(schema) = &self.items {
                    items.iter_mut().for_each(|item| schema.prune_nulls_and_default(item));
                }
            }
            _ => {}
        }
    }

    /// Every violation of `value` (at `path`), with `old` the stored value at
    /// the same place, if any.
    pub fn validate(&self, value: &Json, old: Option<&Json>, path: &mut Path, out: &mut Vec<Violation>) {
        let mut fail = |path: &Path, message: String| {
            out.push(Violation { path: path.to_string(), message, rule: None, transition: false });
        };
        if let Some(ty) = self.ty
            && !ty.admits(value)
        {
            fail(path, format!("must be {}, found {}", ty.article(), found(value)));
            return;
        }
        if !self.enum_.is_empty() && !self.enum_.iter().any(|allowed| json_eq(allowed, value)) {
            let allowed: Vec<String> = self.enum_.iter().map(short).collect();
            fail(path, format!("must be one of {} (found {})", allowed.join(", "), short(value)));
        }
        if let Some(n) = value.as_f64() {
            if let Some((min, exclusive)) = self.minimum
                && (n < min || (exclusive && n == min))
            {
                let bound = if exclusive { "greater than" } else { "at least" };
                fail(path, format!("must be {bound} {} (found {})", number(min), short(value)));
            }
            if let Some((max, exclusive)) = self.maximum
                && (n > max || (exclusive && n == max))
            {
                let bound = if exclusive { "less than" } else { "at most" };
                fail(path, format!("must be {bound} {} (found {})", number(max), short(value)));
            }
        }
        if let Some(text) = value.as_str() {
            // Lengths count characters (Go's runes), not bytes.
            let chars = text.chars().count() as u64;
            if let Some(min) = self.min_length.filter(|m| chars < *m) {
                fail(path, format!("must be at least {min} characters long (found {chars})"));
            }
            if let Some(max) = self.max_length.filter(|m| chars > *m) {
                fail(path, format!("must be at most {max} characters long (found {chars})"));
            }
            if let Some(pattern) = self.pattern.as_ref().filter(|p| !p.is_match(text)) {
                fail(path, format!("must match the pattern `{}` (found {text:?})", pattern.as_str()));
            }
        }
        match value {
            Json::Array(items) => {
                let count = items.len() as u64;
                if let Some(min) = self.min_items.filter(|m| count < *m) {
                    fail(path, format!("must have at least {min} items (found {count})"));
                }
                if let Some(max) = self.max_items.filter(|m| count > *m) {
                    fail(path, format!("must have at most {max} items (found {count})"));
                }
                // Items of atomic lists are not matched with stored ones.
                for (i, item) in items.iter().enumerate() {
                    path.push(Segment::Index(i));
                    if let Some(schema) = &self.items {
                        schema.validate(item, None, path, out);
                    }
                    path.pop();
                }
            }
            Json::Object(fields) => self.validate_object(fields, old.and_then(Json::as_object), path, out),
            _ => {}
        }
        self.run_rules(value, old, path, out);
    }

    fn validate_object(
        &self,
        fields: &Map<String, Json>,
        old: Option<&Map<String, Json>>,
        path: &mut Path,
        out: &mut Vec<Violation>,
    ) {
        let count = fields.len() as u64;
        if let Some(min) = self.min_properties.filter(|m| count < *m) {
            out.push(Violation::at(path, format!("must have at least {min} fields (found {count})")));
        }
        if let Some(max) = self.max_properties.filter(|m| count > *m) {
            out.push(Violation::at(path, format!("must have at most {max} fields (found {count})")));
        }
        for name in &self.required {
            if !fields.contains_key(name) {
                path.push(Segment::Field(name.clone()));
                out.push(Violation::at(path, "Required value: the XRD requires it".into()));
                path.pop();
            }
        }
        let old = old.filter(|_| !self.atomic);
        for (name, value) in fields {
            let declared = self.properties.get(name);
            path.push(match (declared, &self.additional) {
                (None, Additional::Schema(_) | Additional::Any) => Segment::Key(name.clone()),
                _ => Segment::Field(name.clone()),
            });
            if let Some(name_max) = self.object_meta {
                check_object_meta(name, value, name_max, path, out);
                path.pop();
                continue;
            }
            match self.field(name) {
                // A null the schema allows (the rest were pruned).
                Some(_) if value.is_null() => {}
                Some(schema) => {
                    schema.validate(value, old.and_then(|o| o.get(name)).filter(|v| !v.is_null()), path, out)
                }
                None if self.allows_unknown() => {}
                None => out.push(Violation::at(
                    path,
                    "not declared by the XRD: the API server would drop it without a word (a template bug)".into(),
                )),
            }
            path.pop();
        }
    }

    fn run_rules(&self, value: &Json, old: Option<&Json>, path: &Path, out: &mut Vec<Violation>) {
        if self.rules.is_empty() {
            return;
        }
        let this = to_cel(Some(self), value);
        let before = old.map(|old| to_cel(Some(self), old));
        for rule in &self.rules {
            let Verdict::Fail(mut message) = rule.evaluate(&this, before.as_ref()) else { continue };
            if rule.transition
                && let Some(old) = old
                && !value.is_object()
                && !value.is_array()
            {
                message = format!("{message} (stored: {}, now: {})", short(old), short(value));
            }
            let mut at = path.to_string();
            if let Some(field) = &rule.field_path {
                at.push_str(field);
            }
            out.push(Violation { path: at, message, rule: Some(rule.source.clone()), transition: rule.transition });
        }
    }
}

impl Violation {
    fn at(path: &Path, message: String) -> Self {
        Self { path: path.to_string(), message, rule: None, transition: false }
    }
}

/// ObjectMeta's fields (k8s.io/apimachinery `ObjectMeta`); the read-only
/// ones round-trip.
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

/// Crossplane caps a claim's name at 63 characters (it becomes a label
/// value); the API server checks the rest of ObjectMeta itself, and idp's
/// render guard checks names and labels before this runs.
const CLAIM_NAME_MAX: u64 = 63;

fn check_object_meta(name: &str, value: &Json, name_max: u64, path: &Path, out: &mut Vec<Violation>) {
    if !OBJECT_META_FIELDS.contains(&name) {
        out.push(Violation::at(path, "not an ObjectMeta field: the API server would drop it".into()));
        return;
    }
    let bad = match (name, value) {
        ("labels" | "annotations", Json::Object(entries)) => entries
            .iter()
            .find(|(_, v)| !v.is_string())
            .map(|(key, v)| format!("values must be strings, found {} at {key}", found(v))),
        ("labels" | "annotations", other) => Some(format!("must be an object, found {}", found(other))),
        ("name", Json::String(text)) if text.chars().count() as u64 > name_max => {
            Some(format!("must be at most {name_max} characters long (Crossplane's limit for claim names)"))
        }
        ("name" | "generateName" | "namespace", v) if !v.is_string() => {
            Some(format!("must be a string, found {}", found(v)))
        }
        _ => None,
    };
    if let Some(message) = bad {
        out.push(Violation::at(path, message));
    }
}

/// JSON equality with numbers compared by value (`10` equals `10.0`).
fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A value as a message quotes it.
fn short(value: &Json) -> String {
    match value {
        Json::String(s) => format!("{s:?}"),
        Json::Object(_) => "{...}".into(),
        Json::Array(_) => "[...]".into(),
        other => other.to_string(),
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") }
}

/// A value as CEL sees it at a node of this schema: integers are `int`,
/// numbers `double` (even when written without a fraction), objects maps
/// with only the fields the schema keeps (the API server has pruned the
/// rest), and a resource's metadata only its name and generateName.
fn to_cel(schema: Option<&Schema>, value: &Json) -> cel::Value {
    match value {
        Json::Null => cel::Value::Null,
        Json::Bool(b) => cel::Value::Bool(*b),
        Json::String(s) => cel::Value::String(Arc::new(s.clone())),
        Json::Number(n) => match (schema.and_then(|s| s.ty), n.as_i64()) {
            (Some(Type::Number), _) | (_, None) => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            (_, Some(i)) => cel::Value::Int(i),
        },
        Json::Array(items) => {
            let item_schema = schema.and_then(|s| s.items.as_deref());
            cel::Value::List(Arc::new(items.iter().map(|item| to_cel(item_schema, item)).collect()))
        }
        Json::Object(fields) => {
            let mut map = std::collections::HashMap::new();
            for (name, v) in fields {
                let kept = match schema {
                    None => Some(None),
                    Some(s) if s.object_meta.is_some() => {
                        matches!(name.as_str(), "name" | "generateName").then_some(None)
                    }
                    Some(s) => match s.field(name) {
                        Some(field) => Some(Some(field)),
                        None if s.allows_unknown() => Some(None),
                        None => None,
                    },
                };
                if let Some(field) = kept {
                    map.insert(cel::objects::Key::String(Arc::new(name.clone())), to_cel(field, v));
                }
            }
            cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

/// A step of a field path.
#[derive(Debug, Clone)]
pub(super) enum Segment {
    /// A declared field: `.name`.
    Field(String),
    /// A key of a map (`additionalProperties`): `[key]`.
    Key(String),
    Index(usize),
}

/// A field path, printed as `field.Path` does in the API server.
#[derive(Debug, Default)]
pub(super) struct Path(Vec<Segment>);

impl Path {
    fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    fn pop(&mut self) {
        self.0.pop();
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => write!(f, "{name}")?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Key(key) => write!(f, "[{key}]")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields read as a map reads: any order in, looked up by name, the
    /// last of a repeated name kept.
    #[test]
    fn fields_are_a_map_sorted_by_name() {
        let fields: Fields<u8> = serde_json::from_str(r#"{"spec": 1, "apiVersion": 2, "kind": 3}"#).unwrap();
        let names: Vec<&str> = (&fields).into_iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["apiVersion", "kind", "spec"]);
        assert_eq!((fields.get("kind"), fields.get("metadata")), (Some(&3), None));
        let repeated: Fields<u8> =
            [("a".to_owned(), 1), ("b".to_owned(), 2), ("a".to_owned(), 3)].into_iter().collect();
        assert_eq!(repeated.into_iter().collect::<Vec<_>>(), [("a".to_owned(), 3), ("b".to_owned(), 2)]);
        assert!(serde_json::from_str::<Fields<u8>>("[1]").unwrap_err().to_string().contains("a map of field names"));
    }
}
