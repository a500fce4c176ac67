//! Evaluates the subset of function-patch-and-transform the shipped Compositions use, so a
//! test can see the composed resources a composite gets: their bases with every patch applied.
//!
//! Written from the upstream sources, read at these commits:
//! - crossplane-contrib/function-patch-and-transform v0.9.0 (9f0690db03881d99065c7d931eba7cd1059e917b,
//!   the tag functions.yaml pins): `fn.go` (RunFunction: a patch whose source is missing is
//!   skipped when Optional; when Required, a composed resource not yet observed is left out of
//!   the desired state, an observed one only gets a warning; any other error is fatal),
//!   `patches.go` (ApplyComposedPatch, ApplyFromFieldPathPatch, ApplyCombineFromVariablesPatch,
//!   CombineString = fmt.Sprintf, ComposedTemplates expands PatchSets), `transforms.go`
//!   (Resolve, ResolveMap, ResolveMath, ResolveString, ResolveConvert and its conversions),
//!   `validate.go` and `input/v1beta1/resources_patches.go` (an empty type is
//!   FromCompositeFieldPath, an empty toFieldPath is the fromFieldPath, the default
//!   fromFieldPath policy is Optional).
//! - crossplane/crossplane-runtime v1.18.0 (78ea51c98e4dadc3dc5922eed8654f678d9f0948, the version
//!   that tag requires): `pkg/fieldpath/fieldpath.go` (the path syntax: `a.b[key][0]`),
//!   `paved.go` (getValue: a missing field, an index past the end or a nil parent is "not
//!   found"; setValue creates missing objects and arrays on the way), `merge.go`.
//! - crossplane/function-sdk-go v0.4.0 (571c4de02cb4b9cd054e29bd88c73c9a6d9602b2):
//!   `resource.AsObject` fills the composite from a protobuf Struct, so every number the
//!   patches read is a float64 (it matters for `%v`), and setValue's JSON round trip turns a
//!   whole float back into an integer.
//!
//! Anything else (another patch or transform type, a toFieldPath policy, wildcards, a verb
//! Go's fmt would print differently) is an error, never skipped: a Composition that starts
//! using it must extend this file first. Include it with `#[path = "support/pt.rs"] mod pt;`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Number, Value};

/// The function this evaluator stands for, by the input it takes.
const INPUT_API_VERSION: &str = "pt.fn.crossplane.io/v1beta1";

/// What a Composition's pipeline asks for, for one composite.
#[derive(Debug, Default)]
pub struct Desired {
    /// The composed resources by resource template name.
    pub resources: BTreeMap<String, Value>,
    /// Resource templates left out because a Required patch found no source (fn.go).
    pub left_out: Vec<String>,
    /// What the function would report as warnings.
    pub warnings: Vec<String>,
}

/// Runs every step of `composition` for `composite`. `observed` names the composed
/// resources that already exist (a Required patch does not drop those).
pub fn run(composition: &Value, composite: &Value, observed: &BTreeSet<String>) -> Result<Desired, String> {
    if composition["spec"]["mode"] != "Pipeline" {
        return Err(format!("mode {} is not Pipeline", composition["spec"]["mode"]));
    }
    // structpb: the function sees every number of the composite as a float64.
    let xr = as_struct_map(composite);
    let mut desired = Desired::default();
    for (s, step) in composition["spec"]["pipeline"].as_array().into_iter().flatten().enumerate() {
        let input = &step["input"];
        if input["apiVersion"] != INPUT_API_VERSION || input["kind"] != "Resources" {
            return Err(format!(
                "pipeline[{s}]: input {} {} is not evaluated here",
                input["apiVersion"], input["kind"]
            ));
        }
        resources(input, &xr, observed, &mut desired).map_err(|e| format!("pipeline[{s}] ({}): {e}", step["step"]))?;
    }
    Ok(desired)
}

/// A patch that could not be applied: a missing source (which the policy decides about),
/// or anything else, which stops the function.
#[derive(Debug)]
enum Failure {
    NotFound(String),
    Fatal(String),
}

fn fatal<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Fatal(message.into()))
}

fn resources(input: &Value, xr: &Value, observed: &BTreeSet<String>, desired: &mut Desired) -> Result<(), String> {
    let templates = composed_templates(input)?;
    if templates.is_empty() {
        return Err("resources are required".to_owned());
    }
    if input.get("environment").is_some() {
        return Err("environment patches are not evaluated here".to_owned());
    }
    for (name, template, patches) in templates {
        let mut composed = match template.get("base") {
            Some(base) => base.clone(),
            None => desired
                .resources
                .get(&name)
                .cloned()
                .ok_or_else(|| format!("composed resource {name:?} has no base template"))?,
        };
        let exists = observed.contains(&name);
        let mut leave_out = false;
        for (i, patch) in patches.iter().enumerate() {
            let kind = patch_type(patch);
            match apply(patch, xr, &mut composed) {
                Ok(()) => {}
                Err(Failure::NotFound(why)) => {
                    if from_field_path_policy(patch)? == "Required" {
                        if to_composed(&kind) && !exists {
                            desired.warnings.push(format!(
                                "not adding new composed resource {name:?} to desired state because {kind:?} patch at \
                                 index {i} has 'policy.fromFieldPath: Required': {why}"
                            ));
                            leave_out = true;
                            break;
                        }
                        desired.warnings.push(format!(
                            "cannot render composed resource {name:?} {kind:?} patch at index {i}: ignoring \
                             'policy.fromFieldPath: Required' because 'to' resource already exists: {why}"
                        ));
                    }
                }
                Err(Failure::Fatal(why)) => {
                    return Err(format!("cannot render composed resource {name:?} {kind:?} patch at index {i}: {why}"));
                }
            }
        }
        for (i, detail) in template["connectionDetails"].as_array().into_iter().flatten().enumerate() {
            // They fill the composite's connection secret from observed resources; nothing here.
            let kind = detail["type"].as_str().unwrap_or_default();
            if !["FromConnectionSecretKey", "FromFieldPath", "FromValue"].contains(&kind) {
                return Err(format!("{name}: connectionDetails[{i}] has unknown type {kind:?}"));
            }
        }
        if leave_out {
            // fn.go: `continue`, so whatever an earlier step desired under this name stays.
            desired.left_out.push(name);
        } else {
            desired.resources.insert(name, composed);
        }
    }
    Ok(())
}

/// A resource template: its name, itself, and its patches with PatchSets inlined.
type Template<'a> = (String, &'a Value, Vec<&'a Value>);

/// Each resource template with its PatchSet patches inlined (ComposedTemplates).
fn composed_templates(input: &Value) -> Result<Vec<Template<'_>>, String> {
    let mut sets: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for set in input["patchSets"].as_array().into_iter().flatten() {
        let name = set["name"].as_str().filter(|n| !n.is_empty()).ok_or("a PatchSet has no name")?;
        let patches: Vec<&Value> = set["patches"].as_array().into_iter().flatten().collect();
        if patches.iter().any(|p| patch_type(p) == "PatchSet") {
            return Err("a patch in a PatchSet cannot be of type PatchSet".to_owned());
        }
        sets.insert(name, patches);
    }
    let mut out = Vec::new();
    for template in input["resources"].as_array().into_iter().flatten() {
        let name = template["name"].as_str().filter(|n| !n.is_empty()).ok_or("a resource template has no name")?;
        let mut patches = Vec::new();
        for patch in template["patches"].as_array().into_iter().flatten() {
            if patch_type(patch) != "PatchSet" {
                patches.push(patch);
                continue;
            }
            let set = patch["patchSetName"].as_str().ok_or("PatchSetName is required by type PatchSet")?;
            patches.extend(sets.get(set).ok_or_else(|| format!("cannot find PatchSet by name {set}"))?);
        }
        out.push((name.to_owned(), template, patches));
    }
    Ok(out)
}

fn patch_type(patch: &Value) -> String {
    match patch["type"].as_str() {
        None | Some("") => "FromCompositeFieldPath".to_owned(),
        Some(kind) => kind.to_owned(),
    }
}

/// Whether a patch writes the composed resource (ToComposedResource in patches.go).
fn to_composed(kind: &str) -> bool {
    matches!(
        kind,
        "FromCompositeFieldPath" | "CombineFromComposite" | "FromEnvironmentFieldPath" | "CombineFromEnvironment"
    )
}

fn from_field_path_policy(patch: &Value) -> Result<&str, String> {
    match patch["policy"]["fromFieldPath"].as_str() {
        None => Ok("Optional"),
        Some(policy @ ("Optional" | "Required")) => Ok(policy),
        Some(other) => Err(format!("invalid patch policy {other}")),
    }
}

fn apply(patch: &Value, xr: &Value, composed: &mut Value) -> Result<(), Failure> {
    if let Some(policy) = patch["policy"]["toFieldPath"].as_str()
        && policy != "Replace"
    {
        return fatal(format!("toFieldPath policy {policy} is not evaluated here"));
    }
    // validate.go, before anything runs.
    from_field_path_policy(patch).map_err(Failure::Fatal)?;
    match patch_type(patch).as_str() {
        "FromCompositeFieldPath" => {
            let from = patch["fromFieldPath"].as_str().filter(|f| !f.is_empty());
            let from = from.ok_or(Failure::Fatal("fromFieldPath must be set".to_owned()))?;
            let to = patch["toFieldPath"].as_str().unwrap_or(from);
            let value = get(xr, from)?;
            let value = transform_all(patch, value)?;
            set(composed, to, value)
        }
        "CombineFromComposite" => {
            let combine = &patch["combine"];
            let to = patch["toFieldPath"].as_str().filter(|t| !t.is_empty());
            let to = to.ok_or(Failure::Fatal("toFieldPath must be set for CombineFromComposite".to_owned()))?;
            if combine["strategy"] != "string" {
                return fatal(format!("combine strategy {} is not supported", combine["strategy"]));
            }
            let format = combine["string"]["fmt"].as_str();
            let format = format.ok_or(Failure::Fatal("combine strategy string requires string.fmt".to_owned()))?;
            let variables = combine["variables"].as_array().filter(|v| !v.is_empty());
            let variables = variables.ok_or(Failure::Fatal("at least one variable must be provided".to_owned()))?;
            let mut values = Vec::new();
            for variable in variables {
                let from = variable["fromFieldPath"].as_str().filter(|f| !f.is_empty());
                let from = from.ok_or(Failure::Fatal("fromFieldPath must be set for each variable".to_owned()))?;
                values.push(get(xr, from)?);
            }
            let combined = Value::String(sprintf(format, &values).map_err(Failure::Fatal)?);
            let value = transform_all(patch, combined)?;
            set(composed, to, value)
        }
        // From the observed composed resource to the composite: nothing composed changes.
        "ToCompositeFieldPath" => {
            if patch["fromFieldPath"].as_str().is_none_or(str::is_empty) {
                return fatal("fromFieldPath must be set for ToCompositeFieldPath");
            }
            for transform in patch["transforms"].as_array().into_iter().flatten() {
                validate_transform(transform)?;
            }
            Ok(())
        }
        "PatchSet" => fatal("a PatchSet was not expanded"),
        kind @ ("CombineToComposite"
        | "FromEnvironmentFieldPath"
        | "ToEnvironmentFieldPath"
        | "CombineFromEnvironment"
        | "CombineToEnvironment") => fatal(format!("patch type {kind} is not evaluated here")),
        kind => fatal(format!("unknown patch type {kind:?}")),
    }
}

fn transform_all(patch: &Value, mut value: Value) -> Result<Value, Failure> {
    for transform in patch["transforms"].as_array().into_iter().flatten() {
        validate_transform(transform)?;
    }
    for (i, transform) in patch["transforms"].as_array().into_iter().flatten().enumerate() {
        value = resolve(transform, value).map_err(|e| Failure::Fatal(format!("transform at index {i}: {e}")))?;
    }
    Ok(value)
}

/// validate.go's ValidateTransform, for the types evaluated here; any other type fails.
fn validate_transform(transform: &Value) -> Result<(), Failure> {
    let kind = transform["type"].as_str().unwrap_or_default();
    match kind {
        "map" | "math" | "string" | "convert" => {}
        "match" => return fatal("transform type match is not evaluated here"),
        _ => return fatal(format!("unknown transform type {kind:?}")),
    }
    if !transform[kind].is_object() {
        return fatal(format!("given transform type {kind} requires configuration"));
    }
    Ok(())
}

fn resolve(transform: &Value, input: Value) -> Result<Value, String> {
    let kind = transform["type"].as_str().unwrap_or_default();
    let config = &transform[kind];
    match kind {
        "map" => {
            let Value::String(key) = &input else {
                return Err(format!("type {} is not supported for map transform", go_type(&input)));
            };
            let pairs = config.as_object().filter(|m| !m.is_empty()).ok_or("at least one pair must be specified")?;
            // encoding/json: a mapped number is a float64.
            pairs.get(key).map(as_struct_map).ok_or_else(|| format!("key {key} is not found in map"))
        }
        "math" => math(config, input),
        "string" => string(config, input),
        "convert" => convert(config, input),
        other => Err(format!("transform type {other} is not supported")),
    }
}

fn math(config: &Value, input: Value) -> Result<Value, String> {
    let kind = config["type"].as_str().unwrap_or_default();
    let parameter = match kind {
        "Multiply" => "multiply",
        "ClampMin" => "clampMin",
        "ClampMax" => "clampMax",
        "" => return Err("math transform type is required".to_owned()),
        other => return Err(format!("unknown math transform type {other}")),
    };
    let operand = config[parameter].as_i64().ok_or_else(|| format!("{parameter} must be an integer"))?;
    let Value::Number(number) = &input else {
        return Err(format!("input is required to be a number for math transformer, got {}", go_type(&input)));
    };
    let as_i64 = || number.as_i64().unwrap_or_else(|| number.as_f64().unwrap_or_default() as i64);
    Ok(match kind {
        "Multiply" => match number.as_i64().filter(|_| !number.is_f64()) {
            Some(i) => Value::from(i * operand),
            None => float(number.as_f64().unwrap_or_default() * operand as f64),
        },
        "ClampMin" if as_i64() < operand => Value::from(operand),
        "ClampMax" if as_i64() > operand => Value::from(operand),
        _ => input,
    })
}

fn string(config: &Value, input: Value) -> Result<Value, String> {
    let kind = config["type"].as_str().unwrap_or_default();
    match kind {
        "Format" => {
            let format = config["fmt"].as_str().ok_or("format transform requires a format")?;
            Ok(Value::String(sprintf(format, &[input])?))
        }
        "Convert" => {
            let text = sprintf("%v", &[input])?;
            match config["convert"].as_str() {
                Some("ToUpper") => Ok(Value::String(text.to_uppercase())),
                Some("ToLower") => Ok(Value::String(text.to_lowercase())),
                Some(other) => Err(format!("string convert {other} is not evaluated here")),
                None => Err("convert transform requires a conversion type".to_owned()),
            }
        }
        "TrimPrefix" | "TrimSuffix" | "Regexp" | "Join" | "Replace" => {
            Err(format!("string transform {kind} is not evaluated here"))
        }
        "" => Err("string transform type is required".to_owned()),
        other => Err(format!("unknown string transform type {other:?}")),
    }
}

/// ResolveConvert with the conversions of transforms.go whose format is `none`.
fn convert(config: &Value, input: Value) -> Result<Value, String> {
    let to = match config["toType"].as_str() {
        Some("int") => "int64",
        Some(to @ ("string" | "int64" | "bool" | "float64")) => to,
        Some(to @ ("object" | "array")) => return Err(format!("conversion to {to} is not evaluated here")),
        other => return Err(format!("invalid toType {other:?}")),
    };
    match config["format"].as_str() {
        None | Some("" | "none") => {}
        Some(format) => return Err(format!("convert format {format} is not evaluated here")),
    }
    let from = go_type(&input);
    if !["string", "int64", "bool", "float64"].contains(&from) {
        return Err(format!("invalid input type {from}"));
    }
    if from == to {
        return Ok(input);
    }
    let unsupported = || format!("conversion from {from} to {to} is not supported with format none");
    match (&input, to) {
        (Value::String(s), "int64") => s.parse::<i64>().map(Value::from).map_err(|e| e.to_string()),
        (Value::String(s), "float64") => s.parse::<f64>().map(float).map_err(|e| e.to_string()),
        (Value::String(s), "bool") => match s.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Value::Bool(true)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Value::Bool(false)),
            _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
        },
        (Value::Bool(b), "string") => Ok(Value::String(b.to_string())),
        (Value::Bool(b), "int64") => Ok(Value::from(i64::from(*b))),
        (Value::Bool(b), "float64") => Ok(float(f64::from(u8::from(*b)))),
        (Value::Number(n), _) if from == "int64" => {
            let i = n.as_i64().ok_or_else(unsupported)?;
            match to {
                "string" => Ok(Value::String(i.to_string())),
                "bool" => Ok(Value::Bool(i == 1)),
                "float64" => Ok(float(i as f64)),
                _ => Err(unsupported()),
            }
        }
        (Value::Number(n), _) => {
            let f = n.as_f64().ok_or_else(unsupported)?;
            match to {
                // strconv.FormatFloat(f, 'f', -1, 64): Rust's Display is also shortest, never exponential.
                "string" => Ok(Value::String(f.to_string())),
                "int64" => Ok(Value::from(f as i64)),
                "bool" => Ok(Value::Bool(f == 1.0)),
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

/// Go's `%T` of a value decoded from a protobuf Struct or JSON.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// The value as `structpb.Struct.AsMap` hands it over: every number a float64.
fn as_struct_map(value: &Value) -> Value {
    match value {
        Value::Number(n) => float(n.as_f64().unwrap_or_default()),
        Value::Array(items) => Value::Array(items.iter().map(as_struct_map).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), as_struct_map(v))).collect()),
        other => other.clone(),
    }
}

/// toValidJSON: json.Marshal, then the Kubernetes decoder, which reads a whole number as int64.
fn to_valid_json(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 && f.abs() <= i64::MAX as f64 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(to_valid_json).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, to_valid_json(v))).collect()),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------
// Field paths (crossplane-runtime pkg/fieldpath)
// ---------------------------------------------------------------------------------------

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
}

/// Parses a field path the way fieldpath.Parse does: `.` separates fields, `[x]` is an index
/// when x is an unsigned 32-bit integer and a field (quotes trimmed) otherwise.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let field = |s: &str| Segment::Field(s.trim_matches(|c| c == '\'' || c == '"').to_owned());
    let mut segments = Vec::new();
    let mut rest = path;
    let mut after_period = false;
    while !rest.is_empty() {
        let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
        if end > 0 {
            segments.push(field(&rest[..end]));
        } else if after_period {
            return Err(format!("{path:?}: a period must be followed by a field name"));
        }
        after_period = false;
        rest = &rest[end..];
        match rest.chars().next() {
            None => {}
            Some(']') => return Err(format!("{path:?}: unexpected ']'")),
            Some('.') => {
                if segments.is_empty() || rest.len() == 1 {
                    return Err(format!("{path:?}: unexpected '.'"));
                }
                rest = &rest[1..];
                after_period = true;
            }
            Some(_) => {
                let close = rest.find(']').ok_or_else(|| format!("{path:?}: unterminated '['"))?;
                let inner = &rest[1..close];
                if inner.is_empty() || inner.contains('[') {
                    return Err(format!("{path:?}: bad brackets"));
                }
                segments.push(match inner.parse::<u32>() {
                    Ok(i) => Segment::Index(i as usize),
                    Err(_) => field(inner),
                });
                rest = &rest[close + 1..];
            }
        }
    }
    Ok(segments)
}

/// The value at `path` (Paved.GetValue). A present null is a value, not "not found".
fn get(object: &Value, path: &str) -> Result<Value, Failure> {
    let segments = parse_path(path).map_err(Failure::Fatal)?;
    let mut node = object;
    for (i, segment) in segments.iter().enumerate() {
        let at = || render(&segments[..=i]);
        node = match (segment, node) {
            (Segment::Index(idx), Value::Array(items)) => {
                items.get(*idx).ok_or_else(|| Failure::NotFound(format!("{}: no such element", at())))?
            }
            (Segment::Index(_), _) => return fatal(format!("{}: not an array", render(&segments[..i]))),
            (Segment::Field(name), Value::Object(map)) => {
                map.get(name).ok_or_else(|| Failure::NotFound(format!("{}: no such field", at())))?
            }
            (Segment::Field(_), Value::Null) => {
                return Err(Failure::NotFound(format!("{}: expected map, got nil", render(&segments[..i]))));
            }
            (Segment::Field(_), _) => return fatal(format!("{}: not an object", render(&segments[..i]))),
        };
    }
    Ok(node.clone())
}

/// The value at `path`, if any: for tests reading composed resources.
pub fn value_at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let segments = parse_path(path).ok()?;
    segments.iter().try_fold(object, |node, segment| match segment {
        Segment::Index(i) => node.as_array()?.get(*i),
        Segment::Field(name) => node.as_object()?.get(name),
    })
}

/// Sets `value` at `path` (Paved.SetValue through MergeValue without merge options),
/// creating the objects and arrays on the way as prepareField and prepareElement do.
fn set(object: &mut Value, path: &str, value: Value) -> Result<(), Failure> {
    let segments = parse_path(path).map_err(Failure::Fatal)?;
    if segments.iter().any(|s| matches!(s, Segment::Field(f) if f == "*")) {
        return fatal(format!("{path}: wildcards are not evaluated here"));
    }
    if segments.iter().any(|s| matches!(s, Segment::Index(i) if *i > 1024)) {
        return fatal(format!("{path}: index is greater than max allowed index 1024"));
    }
    let value = to_valid_json(value);
    let mut node = object;
    for (i, segment) in segments.iter().enumerate() {
        let next = segments.get(i + 1);
        node = match (segment, node) {
            (Segment::Index(idx), Value::Array(items)) => {
                let slot = items.get_mut(*idx).ok_or_else(|| Failure::Fatal(format!("{path}: index out of range")))?;
                if next.is_none() {
                    *slot = value;
                    return Ok(());
                }
                prepare(slot, next, true);
                slot
            }
            (Segment::Field(name), Value::Object(map)) => {
                if next.is_none() {
                    map.insert(name.clone(), value);
                    return Ok(());
                }
                let absent = !map.contains_key(name);
                let slot = map.entry(name.clone()).or_insert(Value::Null);
                prepare(slot, next, absent);
                slot
            }
            (Segment::Index(_), _) => return fatal(format!("{} is not an array", render(&segments[..i]))),
            (Segment::Field(_), _) => return fatal(format!("{} is not an object", render(&segments[..i]))),
        };
    }
    Ok(())
}

/// prepareField / prepareElement: a missing slot (an absent field, or a nil element) becomes
/// what the next segment needs; an existing array is grown to hold the next index.
fn prepare(slot: &mut Value, next: Option<&Segment>, missing: bool) {
    if missing && slot.is_null() {
        *slot = match next {
            Some(Segment::Index(idx)) => Value::Array(vec![Value::Null; idx + 1]),
            _ => Value::Object(Map::new()),
        };
        return;
    }
    if let (Some(Segment::Index(idx)), Value::Array(items)) = (next, slot)
        && items.len() <= *idx
    {
        items.resize(idx + 1, Value::Null);
    }
}

fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Field(f) if f.contains('.') => out.push_str(&format!("[{f}]")),
            Segment::Field(f) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(f);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// fmt.Sprintf, for the verbs the Compositions use
// ---------------------------------------------------------------------------------------

/// Go's fmt.Sprintf for `%s`, `%v`, `%d` and `%%` without flags, width or precision, over
/// strings, bools, numbers and nil; a missing or extra operand prints as Go prints it.
pub fn sprintf(format: &str, operands: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut operands = operands.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or_else(|| format!("{format:?}: a lone % at the end"))?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !matches!(verb, 's' | 'v' | 'd') {
            return Err(format!("{format:?}: verb %{verb} is not evaluated here"));
        }
        match operands.next() {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(operand) => out.push_str(&verb_of(verb, operand)?),
        }
    }
    let extra: Vec<String> =
        operands.map(|o| verb_of('v', o).map(|v| format!("{}={v}", go_type(o)))).collect::<Result<_, _>>()?;
    if !extra.is_empty() {
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    Ok(out)
}

fn verb_of(verb: char, operand: &Value) -> Result<String, String> {
    let text = match operand {
        Value::Null => return Ok(if verb == 'v' { "<nil>".to_owned() } else { format!("%!{verb}(<nil>)") }),
        Value::String(s) if verb != 'd' => return Ok(s.clone()),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => go_float(n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => {
            return Err(format!("%{verb} of a {} is not evaluated here", go_type(operand)));
        }
    };
    let fits = match operand {
        Value::Number(n) => verb == 'v' || (verb == 'd' && !n.is_f64()),
        _ => verb == 'v',
    };
    Ok(if fits { text } else { format!("%!{verb}({}={text})", go_type(operand)) })
}

/// `%v` of a float64: strconv's shortest 'g', exponential below 1e-4 or from 1e6 on ("1e+06").
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or_default();
    if f != 0.0 && !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        f.to_string()
    }
}
