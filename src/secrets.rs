//! What a secret looks like, in one place: the render guard asks it of every
//! rendered document, `verify` of every file of the state repo, and every URL
//! idp prints or records goes through [`redact_url`] first.
//!
//! It never says what it found, only where and what kind of thing: a message
//! that repeated the secret would leak it into the log it warns about.

use std::borrow::Cow;

use crate::yaml::{self, Node, Value};

/// Words that make a key (or an env var's name) hold a secret.
const SENSITIVE: [&str; 8] =
    ["password", "passwd", "secret", "token", "apikey", "api_key", "private_key", "privatekey"];

/// The first letters of the [`SENSITIVE`] words: most bytes start none.
const STARTS_A_WORD: [bool; 256] = {
    let mut starts = [false; 256];
    let mut i = 0;
    while i < SENSITIVE.len() {
        starts[SENSITIVE[i].as_bytes()[0] as usize] = true;
        i += 1;
    }
    starts
};

/// Whether a key or name holds one of the [`SENSITIVE`] words, in any case:
/// one pass over its bytes, as a plan checks hundreds of keys.
pub fn names_a_secret(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|at| {
        STARTS_A_WORD[usize::from(bytes[at].to_ascii_lowercase())]
            && SENSITIVE
                .iter()
                .any(|word| bytes[at..].get(..word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes())))
    })
}

/// A key that names or points at a secret rather than holding one
/// (`writeConnectionSecretToRef`, `secretName`, `secretKeyRef`, ...), given
/// in lower case.
pub fn is_reference(key: &str) -> bool {
    ["name", "ref", "key", "keys"].iter().any(|s| key.ends_with(s)) || key.contains("secretref")
}

/// What secret material a string value holds, if any: a private key, an AWS
/// access key id, or a URL with a password in it.
pub fn secret_in_text(s: &str) -> Option<&'static str> {
    if s.contains("-----BEGIN") && s.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    let aws = s.match_indices("AKIA").any(|(at, _)| {
        s.as_bytes().get(at..at + 20).is_some_and(|w| w.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    });
    if aws {
        return Some("an AWS access key id");
    }
    urls_in(s).any(|url| password_span(url).is_some()).then_some("a URL with a password in it")
}

/// Where in a document (rendered, or a file of the state repo) a secret
/// value sits, if anywhere: what [`secret_in_text`] finds in any string,
/// literal values of password/token-like keys and of env vars named like one.
/// Names of and references to secrets are fine.
pub fn secret_value(doc: &Node) -> Option<String> {
    let mut found = Vec::new();
    walk(doc, &mut Vec::new(), &mut |_, message| found.push(message), true);
    found.into_iter().next()
}

/// The way down to a value; spelled out only when something is found.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn spelled(path: &[Step<'_>]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Key(key) => format!(".{key}"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// A value written by a template (`{{ ... }}`, replaced by [`TEMPLATED`]
/// before parsing) is not a literal: the guard judges what it renders to.
fn is_literal(value: &str) -> bool {
    !value.is_empty() && !value.contains(TEMPLATED)
}

/// Calls `report(node, message)` for each secret under `node`; `values`:
/// also look inside string values ([`secret_in_text`]), which `scan` does
/// on the raw text instead.
fn walk<'a>(node: &'a Node, path: &mut Vec<Step<'a>>, report: &mut impl FnMut(&'a Node, String), values: bool) {
    match &node.value {
        Value::Str(s) if values => {
            if let Some(what) = secret_in_text(s) {
                report(node, format!("{} holds {what}", spelled(path)));
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(v, path, report, values);
                path.pop();
            }
        }
        Value::Map(entries) => {
            // `env: [{name: DB_PASSWORD, value: ...}]` holds a secret under a harmless key.
            if let (Some(name), Some((_, v))) = (node.str_at(&["name"]), node.get("value"))
                && v.as_str().is_some_and(is_literal)
                && names_a_secret(name)
            {
                report(v, format!("{}.value sets {name} to a literal value", spelled(path)));
            }
            for (key, v) in entries {
                let key = key.name.as_str();
                path.push(Step::Key(key));
                let sensitive = names_a_secret(key) && !is_reference(&key.to_ascii_lowercase());
                match &v.value {
                    Value::Str(literal) if sensitive && is_literal(literal) => {
                        report(v, format!("{} holds a literal value", spelled(path)));
                    }
                    _ => walk(v, path, report, values),
                }
                path.pop();
            }
        }
        _ => {}
    }
}

/// What stands for a `{{ ... }}` expression when a template is read as YAML.
const TEMPLATED: &str = "~~~~~";

/// A template's text with its Jinja tags blanked out, byte for byte (so
/// lines stay where they are): expressions become runs of `~` (a plain
/// scalar that [`is_literal`] knows), statements and comments spaces.
fn without_jinja(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tag = &rest[at..];
        let close = match tag.get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            Some("{#") => "#}",
            _ => {
                out.push('{');
                rest = &rest[at + 1..];
                continue;
            }
        };
        let end = tag.find(close).map_or(tag.len(), |e| e + 2);
        let fill = if close == "}}" { '~' } else { ' ' };
        for c in tag[..end].chars() {
            // Byte for byte: a multi-byte character becomes as many fill bytes.
            out.extend(std::iter::repeat_n(if c == '\n' { '\n' } else { fill }, c.len_utf8()));
        }
        rest = &tag[end..];
    }
    out.push_str(rest);
    out
}

/// Every secret-looking thing in a file of the state repo, as (line,
/// message), in line order; the file may be anything (YAML, a template,
/// Rego, Markdown). Strings are checked line by line over the raw text, so
/// comments and prose are read too; keys are checked on the YAML structure
/// (flow mappings, env lists), or line by line where the file is not YAML.
pub fn scan(path: &str, text: &str) -> Vec<(usize, String)> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(what) = secret_in_text(line) {
            found.push((i + 1, format!("holds {what}")));
        }
    }
    let template = path.ends_with(".j2");
    let readable = if template { Cow::Owned(without_jinja(text)) } else { Cow::Borrowed(text) };
    let structured = (path.ends_with(".yaml") || path.ends_with(".yml") || template)
        .then(|| yaml::non_empty_documents(&readable).ok())
        .flatten();
    match structured {
        Some(documents) => {
            for doc in &documents {
                walk(
                    doc,
                    &mut Vec::new(),
                    &mut |node, message| found.push((yaml::line_col(&readable, node.span.offset()).0, message)),
                    false,
                );
            }
        }
        None => {
            for (i, line) in readable.lines().enumerate() {
                for key in literal_assignments(line) {
                    found.push((i + 1, format!("`{key}` holds a literal value")));
                }
            }
        }
    }
    found.sort_by_key(|(line, _)| *line);
    found
}

/// Keys named like a secret given a literal value on one line of a file
/// that is not YAML: `key: value`, `key = "value"`, `key := "value"`,
/// anywhere on the line (`{DB_PASSWORD: x}` included).
fn literal_assignments(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let bytes = line.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
        if !is_word(bytes[at]) || (at > 0 && is_word(bytes[at - 1])) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_word(bytes[at]) {
            at += 1;
        }
        let key = &line[start..at];
        let mut after = line[at..].trim_start_matches(['"', '\'', '`']).trim_start();
        let Some(rest) = [":=", ":", "="].iter().find_map(|op| after.strip_prefix(op)) else { continue };
        if rest.starts_with(['=', '/']) {
            continue; // `==` comparisons and `://` URLs
        }
        after = rest.trim_start();
        let value: String = after
            .trim_start_matches(['"', '\'', '`'])
            .chars()
            .take_while(|c| !matches!(c, '"' | '\'' | '`' | ',' | '}' | ']' | ')' | '#') && !c.is_whitespace())
            .collect();
        let lower = key.to_ascii_lowercase();
        let literal = !value.is_empty()
            && !value.starts_with(['{', '[', '$', '<', '('])
            && !value.contains(TEMPLATED)
            && !matches!(value.as_str(), "true" | "false" | "null" | "~" | "input" | "data")
            && !value.starts_with("input.")
            && !value.starts_with("data.")
            && value.parse::<f64>().is_err();
        if names_a_secret(key) && !is_reference(&lower) && !lower.contains("secretname") && literal {
            keys.push(key.to_owned());
        }
    }
    keys
}

/// The URLs in a text: each `scheme://` to the next space or quote.
fn urls_in(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("://").filter_map(|(at, _)| {
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
            .map_or(0, |i| i + 1);
        let end = text[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(text.len(), |e| at + e);
        (start < at).then(|| &text[start..end])
    })
}

/// The byte range of the password in a `scheme://user:password@host…` URL.
///
/// Sloppy URLs are read the way that hides the most: the password runs from
/// the first `:` before the first `@` to the last `@`, so a password holding
/// `/`, `#`, `?` or `@` is still hidden whole. A URL that also has an `@` in
/// its path is redacted too much (its host hidden with the password), never
/// too little.
fn password_span(url: &str) -> Option<std::ops::Range<usize>> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let (first_at, last_at) = (rest.find('@')?, rest.rfind('@')?);
    let colon = rest[..first_at].find(':')?;
    Some(scheme_end + colon + 1..scheme_end + last_at)
}

/// A URL as idp may show or record it: a password in it replaced by `***`.
/// Every URL idp prints or writes (remotes, `--lag-url`) goes through here.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    match password_span(url) {
        Some(span) => format!("{}***{}", &url[..span.start], &url[span.end..]).into(),
        None => url.into(),
    }
}

/// `text` with the password of every URL in it replaced by `***`: for
/// messages that quote a library's error, which may hold the URL.
pub fn redact_urls_in(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for url in urls_in(text).collect::<Vec<_>>() {
        if let Cow::Owned(redacted) = redact_url(url) {
            out = Cow::Owned(out.replace(url, &redacted));
        }
    }
    out
}

/// `text` with every byte of each URL password in it turned into `*`, so a
/// report's snippet can show the line without the secret, and every span
/// into the text still points where it did.
pub fn mask_url_passwords(text: &str) -> Cow<'_, str> {
    let mut spans = Vec::new();
    for url in urls_in(text) {
        if let Some(span) = password_span(url) {
            let start = url.as_ptr() as usize - text.as_ptr() as usize;
            spans.push(start + span.start..start + span.end);
        }
    }
    if spans.is_empty() {
        return text.into();
    }
    let mut bytes = text.as_bytes().to_vec();
    for span in spans {
        bytes[span].fill(b'*');
    }
    // Whole characters were replaced by ASCII, byte for byte.
    String::from_utf8_lossy(&bytes).into_owned().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_never_shown() {
        for (url, shown) in [
            ("https://bob:s3cret@host/x.git", "https://bob:***@host/x.git"),
            ("https://x:a@b@host:8443/x?y", "https://x:***@host:8443/x?y"),
            ("https://bob@host/x.git", "https://bob@host/x.git"),
            ("git@host:org/x.git", "git@host:org/x.git"),
            ("origin", "origin"),
            ("https://host:8443/x.git", "https://host:8443/x.git"),
            // Passwords that hold a URL's delimiters.
            ("https://u:pa/ss@prom.example.org/api", "https://u:***@prom.example.org/api"),
            ("https://u:pa#ss@prom.example.org", "https://u:***@prom.example.org"),
            ("https://u:pa?ss@prom.example.org", "https://u:***@prom.example.org"),
            ("https://u:a/b?c#d@e@prom:9090/x", "https://u:***@prom:9090/x"),
            // Too much rather than too little: an `@` in the path hides the host.
            ("https://u:p@prom:9090/x@y", "https://u:***@y"),
            ("https://prom:9090/pkg@1", "https://prom:***@1"),
            ("https://prom/pkg@1", "https://prom/pkg@1"),
            ("ssh://git:hunter2@host:22/org/x.git", "ssh://git:***@host:22/org/x.git"),
            ("ssh://git@host:22/org/x.git", "ssh://git@host:22/org/x.git"),
            ("HTTP://u:p@h", "HTTP://u:***@h"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        let text = "a: 1\nrepoURL: https://bot:pä/ss@h/x.git # é\n";
        let masked = mask_url_passwords(text);
        assert_eq!(masked, "a: 1\nrepoURL: https://bot:******@h/x.git # é\n");
        assert_eq!(masked.len(), text.len());
        assert_eq!(
            redact_urls_in("GET https://u:pw/x@h/api: refused (https://v:q@i)"),
            "GET https://u:***@h/api: refused (https://v:***@i)"
        );
    }

    #[test]
    fn secret_looking_values_are_found_and_references_are_not() {
        let text = "password: hunter2\nautomountServiceAccountToken: false\nwriteConnectionSecretToRef:\n  name: db-conn\npasswordSecretRef:\n  key: password\nsecretName: db-conn\ntoken: \"\"\nkey: |\n  -----BEGIN RSA PRIVATE KEY-----\naws: AKIAABCDEFGHIJKLMNOP\n";
        let found: Vec<usize> = scan("x.yaml", text).into_iter().map(|(line, _)| line).collect();
        assert_eq!(found, [1, 10, 11]);
    }

    #[test]
    fn jinja_is_blanked_byte_for_byte() {
        let text = "a: {{ x | tojson }}\n{% if y %}\nb: \"é{{ z }}\"\n{# c\nd #}\nflow: {k: v}\n";
        let blanked = without_jinja(text);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.lines().count(), text.lines().count());
        assert!(blanked.starts_with("a: ~~~~~~~~~~~~~~~~\n"));
        assert!(blanked.ends_with("flow: {k: v}\n"));
    }

    #[test]
    fn every_file_is_scanned_by_its_structure_or_its_lines() {
        let lines = |path: &str, text: &str| scan(path, text).into_iter().map(|(line, _)| line).collect::<Vec<_>>();
        // Flow mappings and env lists, in YAML and in templates.
        let manifest = "data: {DB_PASSWORD: x}\nenv:\n  - name: API_TOKEN\n    value: abc\n  - name: DB_PASSWORD\n    valueFrom: {secretKeyRef: {name: db, key: password}}\nsecretName: db-conn\n";
        assert_eq!(lines("platform/a.yaml", manifest), [1, 4]);
        let template = "spec:\n  password: {{ request.name | tojson }}\n  env: [{name: DB_PASSWORD, value: \"hunter2\"}]\n{% for x in y %}\n  token: abc\n{% endfor %}\n";
        assert_eq!(lines("templates/mysql/claim.yaml.j2", template), [3, 5]);
        // Rego, Markdown: line by line.
        let rego =
            "package idp\napi_token := \"s3cr3t\"\ndeny[msg] { input.password == \"x\" }\nt := input.spec.token\n";
        assert_eq!(lines("policy/rules/x.rego", rego), [2]);
        let readme = "Set the password: `hunter2`.\nUse https://ci:tok3n@git.example.org/state.git\nsecretName: refers by name\n";
        assert_eq!(lines("README.md", readme), [1, 2]);
        let policy = "gitops:\n  repoURL: https://bot:p%2Fw@git.example.org/state.git\n";
        assert_eq!(lines("policy/policy.yaml", policy), [2]);
        assert!(scan("README.md", "-----BEGIN OPENSSH PRIVATE KEY-----\n")[0].1.contains("a private key"));
        for (_, message) in scan("x.yaml", "a: {DB_PASSWORD: hunter2}\nu: https://a:hunter2@h\n") {
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}
