//! YAML documents with byte spans, shared by request and policy parsing.
//!
//! Files are parsed into a small tree of spanned nodes (not straight into typed
//! structs) so that validation can point at any key or value, including keys the
//! typed model would never accept (`provider:` in a request). This module owns
//! the input limits that keep hostile files cheap to refuse.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

mod typed;
pub use typed::{TypedError, from_node};

/// Files larger than this are refused before parsing: a request or policy is a
/// few kilobytes, and a parser fed 50 MB is a denial of service, not a request.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// One input file: its display name and its text, shared by every diagnostic.
#[derive(Clone)]
pub struct Source {
    pub name: String,
    pub text: Arc<String>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("name", &self.name).finish()
    }
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { name: name.into(), text: Arc::new(text.into()) }
    }

    /// Reads a file, refusing oversized and non-UTF-8 input with a located error.
    pub fn read(path: &Path) -> Result<Self, SourceError> {
        let name = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|error| SourceError::Io { name: name.clone(), error })?;
        if metadata.is_dir() {
            return Err(SourceError::IsDirectory { name });
        }
        if metadata.len() > MAX_FILE_BYTES as u64 {
            return Err(SourceError::TooLarge { name, bytes: metadata.len() });
        }
        let bytes = std::fs::read(path).map_err(|error| SourceError::Io { name: name.clone(), error })?;
        Self::from_bytes(name, bytes)
    }

    pub fn from_bytes(name: String, bytes: Vec<u8>) -> Result<Self, SourceError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(SourceError::TooLarge { name, bytes: bytes.len() as u64 });
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self::new(name, text)),
            Err(error) => {
                let valid = error.utf8_error().valid_up_to();
                // Show the readable prefix so the label lands on the first bad byte.
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                let at = text.char_indices().nth(valid_chars(error.as_bytes(), valid)).map_or(text.len(), |(i, _)| i);
                let source = Self::new(name, text);
                Err(SourceError::NotUtf8 { src: source.named(), span: (at, 1).into(), location: source.location(at) })
            }
        }
    }

    pub fn named(&self) -> NamedSource<Arc<String>> {
        NamedSource::new(&self.name, Arc::clone(&self.text)).with_language("yaml")
    }

    /// `file:line:column` of a byte offset, as every located message starts.
    pub fn location(&self, offset: usize) -> String {
        let (line, column) = self.line_col(offset);
        format!("{}:{line}:{column}", self.name)
    }

    /// 1-based line and column of a byte offset, for messages that are read
    /// without the graphical report (JSON output, logs).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    pub fn span_of(&self, location: &Location) -> SourceSpan {
        let span = location.span();
        let (offset, len) = match (span.byte_offset(), span.byte_len()) {
            (Some(offset), Some(len)) => (offset as usize, len as usize),
            // saphyr counts characters when it has no byte position.
            _ => {
                let chars = span.offset() as usize;
                let offset = self.text.char_indices().nth(chars).map_or(self.text.len(), |(i, _)| i);
                (offset, span.len() as usize)
            }
        };
        let offset = offset.min(self.text.len());
        (offset, len.min(self.text.len() - offset)).into()
    }
}

fn valid_chars(bytes: &[u8], valid_up_to: usize) -> usize {
    std::str::from_utf8(&bytes[..valid_up_to]).map_or(0, |s| s.chars().count())
}

/// A YAML value with the span of the text it came from.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub span: SourceSpan,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key, with its own span so errors can underline the key itself.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub span: SourceSpan,
}

impl Value {
    /// What the value is, in the words of an error message.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a decimal number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entry of a mapping by key, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&(Key, Node)> {
        self.as_map()?.iter().find(|(k, _)| k.name == key)
    }

    /// The span of the node at a path of mapping keys and sequence indices,
    /// or of the deepest ancestor that exists: semantic errors found after typed
    /// parsing use it to point back into the file.
    pub fn locate(&self, path: &[PathSegment<'_>]) -> SourceSpan {
        let mut node = self;
        let mut span = self.span;
        for segment in path {
            let next = match (segment, &node.value) {
                (PathSegment::Key(key), Value::Map(entries)) => {
                    entries.iter().find(|(k, _)| k.name == *key).map(|(k, v)| {
                        span = k.span;
                        v
                    })
                }
                (PathSegment::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(child) => {
                    node = child;
                    if !matches!(child.value, Value::Map(_) | Value::Seq(_)) {
                        span = child.span;
                    }
                }
                None => break,
            }
        }
        span
    }
}

#[derive(Debug, Clone, Copy)]
pub enum PathSegment<'a> {
    Key(&'a str),
    Index(usize),
}

/// A file that is not well-formed YAML (or not readable at all).
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SourceError {
    #[error("cannot read {name}: {error}")]
    #[diagnostic(code(idp::input::io), help("check the path and its permissions"))]
    Io { name: String, error: std::io::Error },

    #[error("{name} is a directory")]
    #[diagnostic(
        code(idp::input::directory),
        help("name a file, or a directory with -f to read its *.yaml, *.yml and *.json files")
    )]
    IsDirectory { name: String },

    #[error("{name} is {bytes} bytes, over the limit of {} bytes", MAX_FILE_BYTES)]
    #[diagnostic(
        code(idp::input::too_large),
        help("a request or policy file is a few kilobytes; split it or check that the right file was named")
    )]
    TooLarge { name: String, bytes: u64 },

    #[error("{location}: not UTF-8 text")]
    #[diagnostic(code(idp::input::encoding), help("save the file as UTF-8; binary files are not requests"))]
    NotUtf8 {
        location: String,
        #[source_code]
        src: NamedSource<Arc<String>>,
        #[label("first invalid byte here")]
        span: SourceSpan,
    },

    #[error("{location}: {message}")]
    #[diagnostic(code(idp::input::yaml), help("{help}"))]
    Syntax {
        location: String,
        message: String,
        help: String,
        #[source_code]
        src: NamedSource<Arc<String>>,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("{name} holds no YAML document")]
    #[diagnostic(code(idp::input::empty), help("write at least one document; see examples/orders-db.yaml"))]
    Empty { name: String },
}

/// Parses every document of a source into spanned nodes. Duplicate keys, tabs
/// in indentation, alias bombs and runaway nesting are refused by the parser's
/// budget before they cost anything.
pub fn parse_documents(source: &Source) -> Result<Vec<Node>, SourceError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        // A request or policy uses an alias for a shared block now and then; an
        // alias bomb replays millions of events. The default allows a million,
        // which costs seconds; a tenth of a second's worth is plenty.
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
        },
        // Requests nest four levels, a policy six. Each level is a recursive
        // call; 32 keeps a hostile file far from any thread's stack limit (64,
        // the default, overflowed a 2 MiB test thread in a debug build).
        budget: serde_saphyr::budget! {
            max_depth: 32,
        },
    };
    let raw: Vec<Spanned<RawValue>> = serde_saphyr::from_multiple_with_options(&source.text, options)
        .map_err(|error| syntax_error(source, &error))?;
    let documents: Vec<Node> = raw
        .into_iter()
        .map(|node| convert(source, node))
        // An empty document (`---` with nothing after it) is not a request.
        .filter(|node| !matches!(node.value, Value::Null))
        .collect();
    if documents.is_empty() {
        return Err(SourceError::Empty { name: source.name.clone() });
    }
    Ok(documents)
}

fn syntax_error(source: &Source, error: &serde_saphyr::Error) -> SourceError {
    let mut span = error.location().map_or((0, 0).into(), |l| source.span_of(&l));
    let message = parser_message(error);
    // The scanner reports a stray tab at the end of the token before it; point
    // at the tab itself.
    if message.contains("tab")
        && let Some(at) = source.text[span.offset()..].find('\t')
    {
        span = (span.offset() + at, 1).into();
    }
    let help = if message.contains("nested")
        || message.contains("aliases")
        || message.contains("alias expansions")
        || message.contains("alias replay")
        || message.contains("parser limit")
        || message.contains("recursion")
    {
        "the file nests or repeats too deeply to be a request or policy; aliases and deep nesting are limited"
    } else if message.contains("duplicate") {
        "each key may appear once in a mapping; remove the repeated key"
    } else if message.contains("finite number") {
        "write a plain number"
    } else if message.contains("tab") {
        "indent YAML with spaces, not tabs"
    } else {
        "fix the YAML syntax at this position"
    };
    SourceError::Syntax {
        location: source.location(span.offset()),
        message,
        help: help.into(),
        src: source.named(),
        span,
    }
}

/// The parser's message without its own position prefix and without hints
/// about parser options the user cannot set.
pub fn parser_message(error: &serde_saphyr::Error) -> String {
    let full = error.to_string();
    let first = full.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let message = first.split_once(": ").filter(|(head, _)| head.starts_with("line ")).map_or(first, |(_, rest)| rest);
    let message = message.split(", set DuplicateKeyPolicy").next().unwrap_or(message);
    // Budget and float refusals name parser internals; say what they mean.
    let number = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    if let Some(detail) = message.strip_prefix("budget breached: ") {
        return match detail.split_once(' ').map_or(detail, |(variant, _)| variant) {
            "Depth" => format!("nested too deeply ({} levels)", number(detail)),
            "Nodes" => format!("too many values once aliases are expanded ({} nodes)", number(detail)),
            "Aliases" | "AliasExpansions" => format!("too many alias expansions ({})", number(detail)),
            _ => format!("over a parser limit ({detail})"),
        };
    }
    if message.starts_with("alias replay limit exceeded") {
        let limit = message.rsplit('>').next().map(number).unwrap_or_default();
        return format!("too many values once aliases are expanded (over {limit} replayed)");
    }
    if let Some(rest) = message.strip_prefix("non-finite float ") {
        let value = rest.split(' ').next().unwrap_or(rest);
        return format!("{value} is not a finite number");
    }
    message.to_owned()
}

fn convert(source: &Source, node: Spanned<RawValue>) -> Node {
    let span = source.span_of(&node.referenced);
    let value = match node.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|n| convert(source, n)).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key { name: k.value.into_string(), span: source.span_of(&k.referenced) };
                    (key, convert(source, v))
                })
                .collect(),
        ),
    };
    Node { value, span }
}

/// What saphyr hands over before spans are turned into byte ranges.
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawKey>, Spanned<RawValue>)>),
}

/// Keys are usually strings; numbers and booleans are kept as their text so the
/// unknown-field check can name them.
struct RawKey(String);

impl RawKey {
    fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(RawKey(match RawValue::deserialize(deserializer)? {
            RawValue::Str(s) => s,
            RawValue::Int(i) => i.to_string(),
            RawValue::Float(f) => f.to_string(),
            RawValue::Bool(b) => b.to_string(),
            RawValue::Null => "null".to_owned(),
            // Only plain keys are meaningful; a complex one (`{{ x }}` is a
            // mapping used as a key) is kept as a placeholder so validation
            // reports the field it sits in, at its place.
            RawValue::Seq(_) => "[…]".to_owned(),
            RawValue::Map(_) => "{…}".to_owned(),
        }))
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        // Larger than any field accepts; keep it as a number the range check refuses.
        Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawValue, E> {
        Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawValue, E> {
        Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<RawValue, E> {
        Err(E::custom("binary values are not accepted"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Node>, SourceError> {
        parse_documents(&Source::new("t.yaml", text))
    }

    #[test]
    fn spans_cover_keys_and_values_in_later_documents() {
        let text = "a: 1\n---\nkind: MySQL\nspec:\n  size: \"big\"\n";
        let docs = parse(text).unwrap();
        assert_eq!(docs.len(), 2);
        let (key, value) = docs[1].get("spec").unwrap().1.get("size").unwrap();
        assert_eq!(&text[key.span.offset()..key.span.offset() + key.span.len()], "size");
        assert!(text[value.span.offset()..].starts_with("\"big\""));
        assert!(matches!(&value.value, Value::Str(s) if s == "big"));
    }

    #[test]
    fn quoted_numbers_stay_strings_and_yes_is_not_a_boolean() {
        let docs = parse("a: \"100\"\nb: yes\nc: 1e3\nd: true\n").unwrap();
        let map = docs[0].as_map().unwrap();
        assert!(matches!(map[0].1.value, Value::Str(_)));
        assert!(matches!(map[1].1.value, Value::Str(_)));
        assert!(matches!(map[2].1.value, Value::Float(_)));
        assert!(matches!(map[3].1.value, Value::Bool(true)));
    }

    #[test]
    fn hazards_are_refused_with_a_position() {
        for (text, expected) in [
            ("a: 1\na: 2\n", "duplicate"),
            ("a:\n\tb: 1\n", "tab"),
            (&format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)), "recursion"),
            (&(0..100).map(|i| format!("{}a:\n", " ".repeat(i))).collect::<String>(), "nested too deeply"),
            ("a: .nan\n", ".nan` is not a finite number"),
        ] {
            match parse(text) {
                Err(SourceError::Syntax { message, location, .. }) => {
                    assert!(message.contains(expected), "{message}");
                    assert!(!message.contains("DuplicateKeyPolicy"), "{message}");
                    assert!(location.starts_with("t.yaml:"), "{location}");
                }
                other => panic!("expected a syntax error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_stray_tab_is_located_on_its_own_line() {
        let text = "a: b\n\tc: d\n";
        match parse(text) {
            Err(SourceError::Syntax { location, span, .. }) => {
                assert_eq!(span.offset(), 5, "{location}");
                assert_eq!(location, "t.yaml:2:1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='j' {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{c}: &{c} [{refs}]\n"));
            prev = c;
        }
        match parse(&text) {
            Err(SourceError::Syntax { message, .. }) => assert!(message.starts_with("too many values"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_input_and_binary_are_refused() {
        assert!(matches!(parse(""), Err(SourceError::Empty { .. })));
        assert!(matches!(parse("---\n---\n"), Err(SourceError::Empty { .. })));
        let err = Source::from_bytes("b.bin".into(), vec![b'a', b':', 0xff, 0xfe]).unwrap_err();
        assert!(matches!(err, SourceError::NotUtf8 { span, .. } if span.offset() == 2));
    }

    #[test]
    fn locate_walks_to_the_deepest_existing_node() {
        let text = "tiers:\n  low:\n    weights: {a: 1}\n";
        let doc = &parse(text).unwrap()[0];
        let span = doc.locate(&[PathSegment::Key("tiers"), PathSegment::Key("low"), PathSegment::Key("weights")]);
        assert_eq!(&text[span.offset()..span.offset() + 7], "weights");
        let missing = doc.locate(&[PathSegment::Key("tiers"), PathSegment::Key("nope")]);
        assert_eq!(&text[missing.offset()..missing.offset() + 5], "tiers");
    }
}
