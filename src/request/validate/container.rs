//! An app's container settings: env, resources, command and args, probes.
//!
//! Each value reaches the Deployment as written, so each is held here to
//! what the kubelet takes, and no secret value passes: an env var named like
//! a secret, or a value that holds one, is refused in favour of a reference
//! to a Secret (`valueFrom.secretKeyRef`), by the scanner the render guard uses.

use super::{
    Checker, ENV_FIELDS, QUANTITY_FIELDS, RESOURCES_FIELDS, SECRET_KEY_REF_FIELDS, VALUE_FROM_FIELDS, get, shown,
    url_path,
};
use crate::request::{Container, EnvValue, EnvVar, Probes, Quantities, Resources};
use crate::secrets;
use crate::yaml::{Node, Value};

/// The most env vars an app may set: a configuration, not a database.
pub(in crate::request) const MAX_ENV: usize = 100;
/// The longest env var name and value.
pub(in crate::request) const MAX_ENV_NAME: usize = 128;
pub(in crate::request) const MAX_ENV_VALUE: usize = 4096;
/// The most entries of `command` or `args`, and the longest one.
pub(in crate::request) const MAX_ARGS: usize = 64;
pub(in crate::request) const MAX_ARG: usize = 4096;
/// The longest quantity as written (`1.5Gi` is five characters).
const MAX_QUANTITY: usize = 32;

pub(super) fn container(c: &mut Checker<'_>, spec: &[(&str, &Node)], namespace: Option<&str>) -> Option<Container> {
    let probes = match get(spec, "probes") {
        None => Some(Probes::Http),
        Some(node) => node.as_str().and_then(|written| {
            let valid: Vec<String> = Probes::ALL.iter().map(|p| p.as_str().to_owned()).collect();
            c.one_of(node, "probes", written, &valid)
                .then(|| Probes::ALL.into_iter().find(|p| p.as_str() == written))
                .flatten()
        }),
    };
    let liveness_path = url_path(
        c,
        get(spec, "livenessPath"),
        "livenessPath",
        "write the path the app answers liveness checks on, e.g. /livez; leave it out to use the health path",
    );
    // A liveness path means an HTTP probe; with none, it would be ignored.
    let liveness_path = match (get(spec, "livenessPath"), probes) {
        (Some(node), Some(probes)) if probes != Probes::Http => {
            c.issue(
                node.span,
                "needs HTTP probes",
                format!("livenessPath is for HTTP probes, but probes is `{}`", probes.as_str()),
                Some("remove livenessPath, or leave probes out (http)".into()),
            );
            None
        }
        _ => liveness_path,
    };
    let command = get(spec, "command").map_or(Some(Vec::new()), |node| strings(c, node, "command"));
    let args = get(spec, "args").map_or(Some(Vec::new()), |node| strings(c, node, "args"));
    let env = get(spec, "env").map_or(Some(Vec::new()), |node| env(c, node, namespace));
    let resources = get(spec, "resources").map_or(Some(Resources::default()), |node| resources(c, node));
    Some(Container {
        env: env?,
        resources: resources?,
        command: command?,
        args: args?,
        probes: probes?,
        liveness_path: liveness_path?,
    })
}

/// The items of a list field that must not be empty nor too long: None
/// (reported) otherwise.
fn items<'n>(
    c: &mut Checker<'_>,
    node: &'n Node,
    field: &str,
    max: usize,
    (what, whats): (&str, &str),
) -> Option<&'n [Node]> {
    let Value::Seq(items) = &node.value else { return None };
    if items.is_empty() {
        c.issue(
            node.span,
            "empty",
            format!("`{field}` lists no {what}"),
            Some(format!("leave `{field}` out, or list at least one {what}")),
        );
        return None;
    }
    if items.len() > max {
        c.issue(
            node.span,
            "too many",
            format!("`{field}` lists {} {whats}; at most {max} are allowed", items.len()),
            Some("keep the container's configuration short; put the rest in a file the image reads".into()),
        );
        return None;
    }
    Some(items)
}

/// Why a string written into the container is not acceptable, if it is
/// not: too long, or a control character (a newline would forge lines in
/// `kubectl describe` and logs). Secret material is the caller's to check.
fn text_problem(value: &str, max: usize) -> Option<String> {
    if value.chars().count() > max {
        return Some(format!("is {} characters; at most {max} are allowed", value.chars().count()));
    }
    value.chars().find(|c| c.is_control()).map(|c| format!("holds a control character ({})", c.escape_debug()))
}

/// `command` or `args`: a list of strings.
fn strings(c: &mut Checker<'_>, node: &Node, field: &str) -> Option<Vec<String>> {
    let items = items(c, node, field, MAX_ARGS, ("entry", "entries"))?;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let Some(value) = item.as_str() else {
            c.issue(
                item.span,
                "wrong type",
                format!("{field}[{i}] must be a string, not {}", item.value.type_name()),
                Some("quote it, e.g. \"8080\" or \"true\"".into()),
            );
            ok = false;
            continue;
        };
        // Never the value itself in a message about a secret: it may be the secret.
        if let Some(what) = secrets::secret_in_text(value) {
            c.secret_issue(
                item.span,
                "a secret",
                format!("{field}[{i}] holds {what}"),
                Some("pass secrets in env vars from a Secret (`valueFrom: {secretKeyRef: {name, key}}`) and refer to them as $(NAME)".into()),
            );
            ok = false;
        } else if let Some(problem) = text_problem(value, MAX_ARG) {
            c.issue(
                item.span,
                "not a plain argument",
                format!("{field}[{i}] `{}` {problem}", shown(value)),
                Some(format!(
                    "write each argument as its own entry of `{field}`, on one line, without control characters"
                )),
            );
            ok = false;
        } else {
            out.push(value.to_owned());
        }
    }
    ok.then_some(out)
}

/// An env var name as idp takes it: a C identifier, which every shell and
/// runtime can read back.
fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A Secret's name: a DNS-1123 subdomain.
fn is_secret_name(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(crate::names::is_dns_label)
}

/// A key of a Secret's data: what the API server takes.
fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn env(c: &mut Checker<'_>, node: &Node, namespace: Option<&str>) -> Option<Vec<EnvVar>> {
    let items = items(c, node, "env", MAX_ENV, ("variable", "variables"))?;
    let namespace = namespace.unwrap_or("the app's namespace");
    let use_a_secret = |name: &str| {
        format!(
            "put the value in a Secret in {namespace} and refer to it: `- name: {name}` with `valueFrom: {{secretKeyRef: {{name: <secret>, key: <key>}}}}`; no secret value may enter the state repo"
        )
    };
    let mut out: Vec<EnvVar> = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(map) = item.as_map() else {
            c.issue(
                item.span,
                "wrong type",
                format!("an env entry is a mapping, not {}", item.value.type_name()),
                Some(
                    "write `- name: LOG_LEVEL` with `value: info`, or with `valueFrom: {secretKeyRef: {name, key}}`"
                        .into(),
                ),
            );
            ok = false;
            continue;
        };
        let fields = c.fields(map, &[ENV_FIELDS], item.span, "an env entry");
        let name = get(&fields, "name").and_then(|n| {
            let name = n.as_str()?;
            if !is_env_name(name) || name.len() > MAX_ENV_NAME {
                c.issue(
                    n.span,
                    "not an env var name",
                    format!("env name `{}` is not an environment variable name", shown(name)),
                    Some(format!(
                        "use letters, digits and '_', not starting with a digit, at most {MAX_ENV_NAME} characters, e.g. LOG_LEVEL"
                    )),
                );
                return None;
            }
            if out.iter().any(|v| v.name == name) {
                c.issue(
                    n.span,
                    "set twice",
                    format!("env `{name}` is set twice"),
                    Some("set each variable once".into()),
                );
                return None;
            }
            Some(name.to_owned())
        });
        let value = match (get(&fields, "value"), get(&fields, "valueFrom")) {
            (Some(_), Some(from)) => {
                c.issue(
                    from.span,
                    "value and valueFrom",
                    "an env entry has both `value` and `valueFrom`".into(),
                    Some("keep one: `value` for a plain value, `valueFrom` for a key of a Secret".into()),
                );
                None
            }
            (None, None) => {
                // A mistyped value or an unknown field is reported already; say this
                // only when the entry holds nothing else.
                if map.iter().all(|(k, _)| k.name == "name") {
                    c.issue(
                        item.span,
                        "no value",
                        format!("env `{}` has neither `value` nor `valueFrom`", shown(name.as_deref().unwrap_or("?"))),
                        Some("add `value: <text>`, or `valueFrom: {secretKeyRef: {name, key}}`".into()),
                    );
                }
                None
            }
            (Some(v), None) => v.as_str().and_then(|value| {
                let var = name.as_deref().unwrap_or_default();
                // What the render guard refuses (crate::secrets), refused here on the line,
                // without repeating the value.
                let secret = if !value.is_empty() && secrets::names_a_secret(var) {
                    Some(format!("env `{var}` is named like a secret and is given a literal value"))
                } else {
                    secrets::secret_in_text(value).map(|what| format!("env `{}` value holds {what}", shown(var)))
                };
                if let Some(message) = secret {
                    c.secret_issue(v.span, "a secret value", message, Some(use_a_secret(var)));
                    return None;
                }
                if let Some(problem) = text_problem(value, MAX_ENV_VALUE) {
                    c.issue(
                        v.span,
                        "not a plain value",
                        format!("env `{}` value `{}` {problem}", shown(var), shown(value)),
                        Some("write a plain one-line value; put longer configuration in a file the image reads".into()),
                    );
                    return None;
                }
                Some(EnvValue::Plain(value.to_owned()))
            }),
            (None, Some(from)) => value_from(c, from),
        };
        match (name, value) {
            (Some(name), Some(value)) => out.push(EnvVar { name, value }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// `valueFrom`: a key of a Secret in the app's own namespace, by name.
fn value_from(c: &mut Checker<'_>, node: &Node) -> Option<EnvValue> {
    let map = node.as_map()?;
    let fields = c.fields(map, &[VALUE_FROM_FIELDS], node.span, "valueFrom");
    let Some(reference) = get(&fields, "secretKeyRef") else {
        if map.is_empty() {
            c.issue(
                node.span,
                "no secretKeyRef",
                "valueFrom names no `secretKeyRef`".into(),
                Some("write `valueFrom: {secretKeyRef: {name: <secret>, key: <key>}}`".into()),
            );
        }
        return None;
    };
    let fields = c.fields(reference.as_map()?, &[SECRET_KEY_REF_FIELDS], reference.span, "secretKeyRef");
    let name = get(&fields, "name").and_then(|n| {
        let name = n.as_str()?;
        let ok = is_secret_name(name);
        if !ok {
            c.issue(
                n.span,
                "not a Secret name",
                format!("secretKeyRef name `{}` is not a DNS-1123 name", shown(name)),
                Some("name a Secret of the app's namespace: lowercase letters, digits, '-' and '.'".into()),
            );
        }
        ok.then(|| name.to_owned())
    });
    let key = get(&fields, "key").and_then(|n| {
        let key = n.as_str()?;
        let ok = is_secret_key(key);
        if !ok {
            c.issue(
                n.span,
                "not a Secret key",
                format!("secretKeyRef key `{}` is not a key of a Secret", shown(key)),
                Some("a Secret's keys hold letters, digits, '-', '_' and '.', e.g. password".into()),
            );
        }
        ok.then(|| key.to_owned())
    });
    Some(EnvValue::SecretKeyRef { name: name?, key: key? })
}

/// A quantity in nano-units (a thousandth of `m`), if `text` is one; what
/// is wrong with it otherwise.
pub(in crate::request) fn quantity(text: &str) -> Result<u128, String> {
    let not = || Err("is not a Kubernetes quantity".to_owned());
    if text.len() > MAX_QUANTITY {
        return Err(format!("is {} characters; at most {MAX_QUANTITY} are allowed", text.len()));
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return not();
    }
    const NANO: u128 = 1_000_000_000;
    let multiplier: u128 = match suffix {
        "n" => 1,
        "u" => 1_000,
        "m" => 1_000_000,
        "" => NANO,
        "k" => NANO * 1_000,
        "M" => NANO * 1_000_000,
        "G" => NANO * 1_000_000_000,
        "T" => NANO * 1_000_000_000_000,
        "P" => NANO * 1_000_000_000_000_000,
        "E" => NANO * 1_000_000_000_000_000_000,
        "Ki" => NANO << 10,
        "Mi" => NANO << 20,
        "Gi" => NANO << 30,
        "Ti" => NANO << 40,
        "Pi" => NANO << 50,
        "Ei" => NANO << 60,
        _ => return not(),
    };
    let too_large = || format!("is too large (over {} units)", u64::MAX);
    let digits: u128 = format!("{whole}{fraction}").parse().map_err(|_| too_large())?;
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).map_err(|_| too_large())?).ok_or_else(too_large)?;
    let scaled = digits.checked_mul(multiplier).ok_or_else(too_large)?;
    if scaled % scale != 0 {
        return Err("is finer than a billionth (n)".into());
    }
    Ok(scaled / scale)
}

/// How a quantity is written in a message: as the request wrote it.
fn quantity_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::BigInt(s) => Some(s.clone()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

fn resources(c: &mut Checker<'_>, node: &Node) -> Option<Resources> {
    let fields = c.fields(node.as_map()?, &[RESOURCES_FIELDS], node.span, "resources");
    let mut resources = Resources::default();
    // (section, resource) -> (node, nano-units), for requests <= limits.
    let mut parsed: Vec<(&str, &str, &Node, u128)> = Vec::new();
    let mut ok = true;
    for section in ["requests", "limits"] {
        let Some(section_node) = get(&fields, section) else { continue };
        let Some(map) = section_node.as_map() else { continue };
        let inner = c.fields(map, &[QUANTITY_FIELDS], section_node.span, &format!("resources.{section}"));
        if map.is_empty() {
            c.issue(
                section_node.span,
                "empty",
                format!("resources.{section} names no resource"),
                Some(format!("leave `{section}` out, or name cpu or memory")),
            );
            ok = false;
        }
        let slot = if section == "requests" { &mut resources.requests } else { &mut resources.limits };
        for resource in ["cpu", "memory"] {
            let Some(value) = get(&inner, resource) else { continue };
            let Some(text) = quantity_text(value) else { continue };
            let field = format!("resources.{section}.{resource}");
            let checked = quantity(&text).and_then(|nano| match resource {
                _ if nano == 0 => Err("is zero".to_owned()),
                "cpu" if nano % 1_000_000 != 0 => Err("is finer than a thousandth of a CPU (1m)".to_owned()),
                "memory" if nano % 1_000_000_000 != 0 => Err("is not a whole number of bytes".to_owned()),
                _ => Ok(nano),
            });
            match checked {
                Ok(nano) => {
                    parsed.push((section, resource, value, nano));
                    let quantities: &mut Quantities = slot;
                    let written = Some(text);
                    if resource == "cpu" {
                        quantities.cpu = written;
                    } else {
                        quantities.memory = written;
                    }
                }
                Err(problem) => {
                    let help = match (resource, text.strip_suffix('m')) {
                        ("memory", Some(number)) => {
                            format!("`m` is a thousandth (of a byte): write memory in Mi or Gi, e.g. {number}Mi")
                        }
                        ("memory", _) => "write memory as e.g. 128Mi, 512Mi or 1Gi".to_owned(),
                        _ => "write CPU as e.g. 100m, 250m, 1 or 2 (a whole CPU is 1000m)".to_owned(),
                    };
                    c.issue(value.span, "not a quantity", format!("{field} `{}` {problem}", shown(&text)), Some(help));
                    ok = false;
                }
            }
        }
    }
    // A container is never guaranteed more than it may use: each request,
    // written or the default, against its limit, written or the default.
    for resource in ["cpu", "memory"] {
        let effective = |section: &str| -> Option<(u128, String, Option<&Node>)> {
            match parsed.iter().find(|p| p.0 == section && p.1 == resource) {
                Some(&(_, _, node, nano)) => Some((nano, quantity_text(node).unwrap_or_default(), Some(node))),
                None => {
                    let default = Resources::DEFAULT.iter().find(|d| d.0 == section && d.1 == resource)?.2?;
                    Some((quantity(default).ok()?, default.to_owned(), None))
                }
            }
        };
        let (Some((request, request_text, request_node)), Some((limit, limit_text, limit_node))) =
            (effective("requests"), effective("limits"))
        else {
            continue;
        };
        if request <= limit {
            continue;
        }
        let (node, message, help) = match (request_node, limit_node) {
            (Some(node), Some(_)) => (
                node,
                format!(
                    "resources.requests.{resource} {request_text} is more than resources.limits.{resource} {limit_text}"
                ),
                format!("request at most the limit, or raise resources.limits.{resource}"),
            ),
            (Some(node), None) => (
                node,
                format!(
                    "resources.requests.{resource} {request_text} is more than the default {resource} limit {limit_text}"
                ),
                format!("set resources.limits.{resource} too, to at least {request_text}"),
            ),
            (None, Some(node)) => (
                node,
                format!(
                    "resources.limits.{resource} {limit_text} is less than the default {resource} request {request_text}"
                ),
                format!("set resources.requests.{resource} too, to at most {limit_text}"),
            ),
            (None, None) => continue,
        };
        c.issue(node.span, "more than the limit", message, Some(help));
        ok = false;
    }
    ok.then_some(resources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_read_as_kubernetes_reads_them() {
        const NANO: u128 = 1_000_000_000;
        for (text, nano) in [
            ("1", NANO),
            ("250m", 250_000_000),
            ("1.5", 1_500_000_000),
            (".5", 500_000_000),
            ("2.", 2 * NANO),
            ("100n", 100),
            ("512Mi", 512 * (1 << 20) * NANO),
            ("1Gi", (1 << 30) * NANO),
            ("1.5Gi", 3 * (1 << 29) * NANO),
            ("1k", 1000 * NANO),
            ("2E", 2 * 10u128.pow(18) * NANO),
            ("8Ei", 8 * (1 << 60) * NANO),
        ] {
            assert_eq!(quantity(text), Ok(nano), "{text}");
        }
        for text in ["", ".", "1..2", "1.2.3", "-1", "+1", "1e3", "1 Gi", "1gi", "1GB", "Mi", "0x10", "1Mi ", "∞"] {
            assert!(quantity(text).is_err(), "{text:?} was taken");
        }
        assert_eq!(quantity("1.5n"), Err("is finer than a billionth (n)".into()));
        assert!(quantity("99999999999999999999999999999E").unwrap_err().contains("too large"));
        assert!(quantity(&"9".repeat(40)).unwrap_err().contains("at most 32"));
    }
}
