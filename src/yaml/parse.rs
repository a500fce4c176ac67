//! YAML text to spanned [`Node`]s, built straight from the events of
//! granit-parser (the parser under serde-saphyr), with the limits that keep a
//! hostile file cheap to refuse.
//!
//! Every request, policy and rendered manifest passes through here, once per
//! `idp plan`; building the tree from events costs about half of going
//! through serde's data model, which matters at a few milliseconds a run.
//! Scalars resolve by YAML 1.2's core schema, as serde-saphyr resolves them:
//! `yes` is a string, a quoted `"100"` is a string, `.nan` is refused.

use std::collections::HashSet;

use granit_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};
use miette::SourceSpan;

use super::{Key, Node, Value};

/// Collections nested deeper than this are refused. Requests nest four
/// levels, a policy six; every level is a recursive call later on (typed
/// reading, drop), and 32 keeps a hostile file far from any stack limit.
pub const MAX_DEPTH: usize = 32;
/// Nodes that aliases may copy in, over a whole file. A request or policy
/// uses an alias for a shared block now and then; an alias bomb asks for
/// billions.
pub const MAX_ALIAS_NODES: usize = 20_000;
/// Nodes in one file, aliases expanded: far more than a 1 MiB file of real
/// requests holds.
const MAX_NODES: usize = 250_000;
/// `---` storms.
const MAX_DOCUMENTS: usize = 1_024;

/// Why a text is not acceptable YAML, with the bytes it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub span: SourceSpan,
    pub kind: ErrorKind,
}

/// What kind of problem a [`ParseError`] is, to say what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not YAML at all, as the scanner or parser saw it.
    Syntax,
    /// A tab where YAML wants indentation.
    Tab,
    /// Over one of the limits above.
    Limit,
    DuplicateKey,
    NotFinite,
    /// A tag idp does not read (`!!binary`, `!custom`), or a value its tag refuses.
    Tag,
    /// A merge key (`<<`) whose value is not a mapping or a list of them.
    Merge,
    /// An anchor, alias or merge key where only plain YAML is read
    /// ([`parse_plain`]).
    Reference,
}

/// Every document of `text`, an empty one (`---` alone) as [`Value::Null`].
pub fn parse(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_with(text, false)
}

/// Like [`parse`], but refusing anchors (`&a`), aliases (`*a`) and merge keys
/// (`<<` as a key, in any quoting; the `!!merge` tag is refused as every
/// tag outside the core schema is): what idp renders and what
/// Argo CD applies from the state repo. Decoders disagree on merge keys
/// (sigs.k8s.io/yaml, which Kubernetes and Argo CD use, lets a later `<<`
/// override explicit keys; the YAML merge-key spec and idp's reader do not),
/// so a text without any is read the same by every decoder.
pub fn parse_plain(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_with(text, true)
}

fn parse_with(text: &str, plain: bool) -> Result<Vec<Node>, ParseError> {
    let mut builder = Builder::new(text);
    builder.plain = plain;
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| builder.scan_error(&error))?;
        builder.event(event, span)?;
    }
    Ok(builder.documents)
}

/// A collection whose end has not been seen yet.
struct Frame {
    /// Where the collection starts (`[`, `{`, or its first entry for block
    /// style): its span, as errors about the whole collection underline it.
    span: SourceSpan,
    anchor: usize,
    open: Open,
}

enum Open {
    Seq(Vec<Node>),
    Map(MapFrame),
}

#[derive(Default)]
struct MapFrame {
    entries: Vec<(Key, Node)>,
    /// The key whose value comes next; `merge` for `<<`.
    key: Option<(Key, bool)>,
    /// Mappings named by `<<`, in order of precedence.
    merged: Vec<Vec<(Key, Node)>>,
    saw_merge: bool,
    /// Key names once the mapping is large enough for a scan to cost more.
    index: Option<HashSet<String>>,
}

impl MapFrame {
    const INDEX_FROM: usize = 32;

    fn contains(&self, name: &str) -> bool {
        match &self.index {
            Some(index) => index.contains(name),
            None => self.entries.iter().any(|(key, _)| key.name == name),
        }
    }

    fn insert(&mut self, key: Key, value: Node) {
        if let Some(index) = &mut self.index {
            index.insert(key.name.clone());
        } else if self.entries.len() + 1 >= Self::INDEX_FROM {
            let mut index: HashSet<String> = self.entries.iter().map(|(key, _)| key.name.clone()).collect();
            index.insert(key.name.clone());
            self.index = Some(index);
        }
        self.entries.push((key, value));
    }

    /// Explicit keys win over merged ones, and earlier merged mappings over later ones.
    fn into_entries(mut self) -> Vec<(Key, Node)> {
        for source in std::mem::take(&mut self.merged) {
            for (key, value) in source {
                if !self.contains(&key.name) {
                    self.insert(key, value);
                }
            }
        }
        self.entries
    }
}

struct Builder<'t> {
    text: &'t str,
    stack: Vec<Frame>,
    /// Completed anchored nodes by granit's anchor id; None while still open.
    anchors: Vec<Option<Node>>,
    documents: Vec<Node>,
    nodes: usize,
    alias_nodes: usize,
    /// Refuse anchors, aliases and merge keys ([`parse_plain`]).
    plain: bool,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            stack: Vec::new(),
            anchors: Vec::new(),
            documents: Vec::new(),
            nodes: 0,
            alias_nodes: 0,
            plain: false,
        }
    }

    /// In plain mode, an anchor on a node (at `span`) is refused.
    fn no_anchor(&self, anchor: usize, span: &Span) -> Result<(), ParseError> {
        if !self.plain || anchor == 0 {
            return Ok(());
        }
        // granit marks the node, not its anchor: the anchor is the last `&` before it.
        let node = self.span(span).offset();
        let start = self.text[..node].rfind('&').unwrap_or(node);
        let len = self.text[start..].find(|c: char| c.is_whitespace()).unwrap_or(self.text.len() - start).max(1);
        Err(reference_error("a YAML anchor (`&name`)", (start, len).into()))
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ParseError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let at = self.span(&span);
                self.no_anchor(anchor, &span)?;
                // Any spelling of `<<` as a key: decoders differ on which of them merge.
                if self.plain && self.expects_key() && text == "<<" {
                    return Err(reference_error("a YAML merge key (`<<`)", at));
                }
                let merge_key = style == ScalarStyle::Plain && tag.is_none() && text == "<<" && self.expects_key();
                let value = resolve(&text, style, tag.as_deref()).map_err(|(kind, message)| {
                    let at = if kind == ErrorKind::Tag { self.tag_span(&span, tag.as_deref(), at) } else { at };
                    error(kind, message, at)
                })?;
                self.count(1, at)?;
                self.complete(Node { value, span: at }, anchor, merge_key)
            }
            Event::SequenceStart(_, anchor, tag) => {
                self.no_anchor(anchor, &span)?;
                self.open(&span, anchor, tag.as_deref(), "seq", Open::Seq(Vec::new()))
            }
            Event::MappingStart(_, anchor, tag) => {
                self.no_anchor(anchor, &span)?;
                self.open(&span, anchor, tag.as_deref(), "map", Open::Map(MapFrame::default()))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().expect("the parser closes only what it opened");
                let value = match frame.open {
                    Open::Seq(items) => Value::Seq(items),
                    Open::Map(map) => Value::Map(map.into_entries()),
                };
                self.complete(Node { value, span: frame.span }, frame.anchor, false)
            }
            Event::Alias(id) => {
                let at = self.span(&span);
                if self.plain {
                    return Err(reference_error("a YAML alias (`*name`)", at));
                }
                let Some(mut node) = self.anchors.get(id).cloned().flatten() else {
                    return Err(error(
                        ErrorKind::Syntax,
                        "an alias may not refer to a value that contains it".into(),
                        at,
                    ));
                };
                let size = node.size();
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    let message =
                        format!("too many values once aliases are expanded (over {MAX_ALIAS_NODES} replayed)");
                    return Err(error(ErrorKind::Limit, message, at));
                }
                self.count(size, at)?;
                // A copy is where the alias put it: an error about a value a
                // merge key brought in points at the merge.
                node.move_to(at);
                self.complete(node, 0, false)
            }
            // Aliases refer to anchors of their own document only.
            Event::DocumentEnd => {
                self.anchors.clear();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn open(
        &mut self,
        span: &Span,
        anchor: usize,
        tag: Option<&Tag>,
        core: &str,
        open: Open,
    ) -> Result<(), ParseError> {
        let at = self.span(span);
        if let Some(tag) = tag
            && tag.core_suffix() != Some(core)
        {
            return Err(unsupported_tag(tag, self.tag_span(span, Some(tag), at)));
        }
        if self.stack.len() == MAX_DEPTH {
            return Err(error(ErrorKind::Limit, format!("nested too deeply ({} levels)", MAX_DEPTH + 1), at));
        }
        self.count(1, at)?;
        self.stack.push(Frame { span: at, anchor, open });
        Ok(())
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame { open: Open::Map(map), .. }) if map.key.is_none())
    }

    /// Places a finished node: a document, an item, a key or a value.
    fn complete(&mut self, node: Node, anchor: usize, merge_key: bool) -> Result<(), ParseError> {
        if anchor != 0 {
            // The copy kept for aliases counts as values: anchors nested in
            // anchors would otherwise copy a file's values once per level.
            self.count(node.size(), node.span)?;
            *self.anchor_slot(anchor) = Some(node.clone());
        }
        let Some(frame) = self.stack.last_mut() else {
            if self.documents.len() == MAX_DOCUMENTS {
                return Err(error(ErrorKind::Limit, format!("more than {MAX_DOCUMENTS} documents"), node.span));
            }
            self.documents.push(node);
            return Ok(());
        };
        let map = match &mut frame.open {
            Open::Seq(items) => {
                items.push(node);
                return Ok(());
            }
            Open::Map(map) => map,
        };
        match map.key.take() {
            None => {
                let key = Key { span: node.span, name: key_name(node.value) };
                let repeated =
                    if merge_key { std::mem::replace(&mut map.saw_merge, true) } else { map.contains(&key.name) };
                if repeated {
                    return Err(error(
                        ErrorKind::DuplicateKey,
                        format!("duplicate mapping key: {}", key.name),
                        key.span,
                    ));
                }
                map.key = Some((key, merge_key));
            }
            Some((_, true)) => {
                let span = node.span;
                let sources = match node.value {
                    Value::Map(entries) => vec![entries],
                    Value::Seq(items) => items
                        .into_iter()
                        .map(|item| match item.value {
                            Value::Map(entries) => Ok(entries),
                            _ => Err(item.span),
                        })
                        .collect::<Result<_, _>>()
                        .map_err(merge_error)?,
                    _ => return Err(merge_error(span)),
                };
                map.merged.extend(sources);
            }
            Some((key, false)) => map.insert(key, node),
        }
        Ok(())
    }

    fn anchor_slot(&mut self, anchor: usize) -> &mut Option<Node> {
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        &mut self.anchors[anchor]
    }

    fn count(&mut self, nodes: usize, at: SourceSpan) -> Result<(), ParseError> {
        self.nodes += nodes;
        if self.nodes > MAX_NODES {
            return Err(error(ErrorKind::Limit, format!("more than {MAX_NODES} values"), at));
        }
        Ok(())
    }

    /// The tag itself, where a node's tag is what is wrong with it.
    fn tag_span(&self, span: &Span, tag: Option<&Tag>, node: SourceSpan) -> SourceSpan {
        match (span.tag_start.as_ref(), tag) {
            (Some(start), Some(tag)) => (self.offset(start), tag.original().len()).into(),
            _ => node,
        }
    }

    fn span(&self, span: &Span) -> SourceSpan {
        let start = self.offset(&span.start);
        let end = self.offset(&span.end).max(start);
        (start, end - start).into()
    }

    /// granit reports byte offsets for string input; the character index is
    /// the fallback its documentation asks for.
    fn offset(&self, marker: &Marker) -> usize {
        let offset = marker.byte_offset().unwrap_or_else(|| {
            self.text.char_indices().nth(marker.index()).map_or(self.text.len(), |(offset, _)| offset)
        });
        offset.min(self.text.len())
    }

    fn scan_error(&self, scan: &ScanError) -> ParseError {
        let offset = self.offset(scan.marker());
        let message = scan.info();
        if message.contains("tab") {
            // The scanner reports a stray tab at the end of the token before
            // it; point at the tab itself.
            let at = self.text[offset..].find('\t').map_or(offset, |i| offset + i);
            return error(ErrorKind::Tab, message, (at, 1).into());
        }
        let kind = if message.contains("recursion limit") { ErrorKind::Limit } else { ErrorKind::Syntax };
        let len = self.text[offset..].chars().next().map_or(0, char::len_utf8);
        error(kind, message, (offset, len).into())
    }
}

fn error(kind: ErrorKind, message: String, span: SourceSpan) -> ParseError {
    ParseError { message, span, kind }
}

fn reference_error(what: &str, span: SourceSpan) -> ParseError {
    let message = format!(
        "{what}: rendered manifests and the state repo hold plain YAML only, as Kubernetes and Argo CD decode merge keys differently"
    );
    error(ErrorKind::Reference, message, span)
}

fn merge_error(span: SourceSpan) -> ParseError {
    error(ErrorKind::Merge, "a merge key (<<) takes a mapping or a list of mappings".into(), span)
}

fn unsupported_tag(tag: &Tag, span: SourceSpan) -> ParseError {
    error(ErrorKind::Tag, format!("the tag `{}` is not supported here", tag.original()), span)
}

impl Node {
    fn move_to(&mut self, span: SourceSpan) {
        self.span = span;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|item| item.move_to(span)),
            Value::Map(entries) => entries.iter_mut().for_each(|(key, value)| {
                key.span = span;
                value.move_to(span);
            }),
            _ => {}
        }
    }

    /// This node and everything under it, as a count of values.
    fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|(_, value)| 1 + value.size()).sum(),
            _ => 0,
        }
    }
}

/// A mapping key's name: its text for scalars, a placeholder for a
/// collection used as a key (`{{ x }}` unquoted is one), so validation names
/// the field it sits in, at its place.
fn key_name(value: Value) -> String {
    match value {
        Value::Str(s) => s,
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::BigInt(text) => big_int_key(&text),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Seq(_) => "[…]".to_owned(),
        Value::Map(_) => "{…}".to_owned(),
    }
}

type Refusal = (ErrorKind, String);

/// A scalar's value: quoted and block scalars are strings; a plain one is
/// null, a boolean, a number or a string by YAML 1.2's core schema. A core
/// tag names the type whatever the style, as serde-saphyr reads it.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, Refusal> {
    let Some(tag) = tag else {
        return if style == ScalarStyle::Plain { plain(text) } else { Ok(Value::Str(text.to_owned())) };
    };
    let refused =
        |what: &str| (ErrorKind::Tag, format!("`{text}` is not {what}, as its tag `{}` says", tag.original()));
    // serde-saphyr trims a typed scalar before reading it (`!!int ' 7 '` is 7);
    // a plain scalar has nothing to trim.
    let typed = text.trim_matches([' ', '\t', '\r', '\n']);
    match tag.core_suffix() {
        Some("str") => Ok(Value::Str(text.to_owned())),
        Some("null") => Ok(Value::Null),
        Some("bool") => bool_of(typed).map(Value::Bool).ok_or_else(|| refused("true or false")),
        Some("int") => tagged_int(typed).unwrap_or_else(|| Err(refused("an integer"))),
        Some("float") => {
            // A decimal number as Rust reads it, as serde-saphyr's `!!float` does:
            // no radix prefix, no `_`, and `-0` is -0.0.
            let unsigned = typed.strip_prefix(['+', '-']).unwrap_or(typed);
            match typed.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Value::Float(f)),
                // `1e999`, `.1e400` and `.inf` are numbers, only not finite ones;
                // Rust's own `inf` and `NaN` are no YAML numbers at all.
                Ok(_) if unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') => Err(not_finite(text)),
                _ if matches!(unsigned, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") => Err(not_finite(text)),
                _ => Err(refused("a number")),
            }
        }
        // `!` alone: a string, whatever it looks like.
        None if tag.original() == "!" => Ok(Value::Str(text.to_owned())),
        _ => Err((ErrorKind::Tag, format!("the tag `{}` is not supported here", tag.original()))),
    }
}

fn bool_of(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn not_finite(text: &str) -> Refusal {
    (ErrorKind::NotFinite, format!("`{text}` is not a finite number"))
}

/// Whether `text` starts with `-`, and the text without its sign.
fn split_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    }
}

/// Plain-scalar resolution, in serde-saphyr's order and with its edge cases:
/// `0X1F` and `-.nan` stay strings, `1_000` is an integer, one with a leading
/// zero (`0123`) reads as a decimal number, and a non-finite number is
/// refused, but for one that starts with its point and overflows (`.1e400`),
/// which stays a string. An integer past i64 is [`Value::BigInt`], where
/// serde-saphyr reads a decimal number or a string: it is still an integer, and
/// a field's error must say it is out of range, not that it is a decimal.
fn plain(text: &str) -> Result<Value, Refusal> {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = bool_of(text) {
        return Ok(Value::Bool(b));
    }
    let (negative, unsigned) = split_sign(text);
    let signed_nan = unsigned.len() < text.len() && matches!(unsigned, ".nan" | ".NaN" | ".NAN");
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]) || signed_nan {
        return Ok(Value::Str(text.to_owned()));
    }
    if let Some(magnitude) = integer(unsigned) {
        return Ok(int_value(negative, magnitude, text));
    }
    let float = match unsigned {
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" => Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY }),
        // Rust also reads `inf` and `NaN`; YAML does not, so a number must start with a digit
        // or a point.
        _ if unsigned.starts_with(|c: char| c.is_ascii_digit()) => text.parse::<f64>().ok(),
        // serde-saphyr takes an overflow for a non-finite number only after a digit.
        _ if unsigned.starts_with('.') => text.parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    match float {
        Some(f) if f.is_finite() => Ok(Value::Float(f)),
        Some(_) => Err(not_finite(text)),
        None => Ok(Value::Str(text.to_owned())),
    }
}

/// `!!int`: an integer in [`integer`]'s spellings, upper-case radix prefixes
/// included (the tag says what an untagged `0X1F`, a string, does not), None
/// if it is not one. Past i64 it is a [`Value::BigInt`], as an untagged one
/// is, up to u64::MAX; beyond, serde-saphyr refuses it, and so does idp.
fn tagged_int(text: &str) -> Option<Result<Value, Refusal>> {
    let (negative, unsigned) = split_sign(text);
    let magnitude = integer(unsigned)?;
    let held = match magnitude {
        Magnitude::Of(m) if negative => i64::try_from(-m).is_ok(),
        Magnitude::Of(m) => u64::try_from(m).is_ok(),
        Magnitude::Huge => false,
    };
    Some(if held {
        Ok(int_value(negative, magnitude, text))
    } else {
        Err((
            ErrorKind::Tag,
            format!("`{text}` is outside {}..={}, the integers a `!!int` tag holds", i64::MIN, u64::MAX),
        ))
    })
}

/// A key that is an integer past i64, named as before [`Value::BigInt`] (and as
/// serde-saphyr names it): the decimal number of a u64 or of Rust's reading of
/// the text, else the text. So `18446744073709551615:` and
/// `1.8446744073709552e19:` are still one key twice.
fn big_int_key(text: &str) -> String {
    let (negative, unsigned) = split_sign(text);
    let as_u64 = match integer(unsigned) {
        Some(Magnitude::Of(m)) if !negative => u64::try_from(m).ok(),
        _ => None,
    };
    match (as_u64, text.parse::<f64>()) {
        (Some(u), _) => (u as f64).to_string(),
        (None, Ok(f)) if f.is_finite() => f.to_string(),
        _ => text.to_owned(),
    }
}

/// The magnitude of an integer literal: its value, or past any 128-bit one.
#[derive(Clone, Copy)]
enum Magnitude {
    Of(i128),
    Huge,
}

/// An integer literal's value: an i64, or past it the literal as written.
fn int_value(negative: bool, magnitude: Magnitude, text: &str) -> Value {
    let signed = match magnitude {
        Magnitude::Of(m) => i64::try_from(if negative { -m } else { m }).ok(),
        Magnitude::Huge => None,
    };
    signed.map_or_else(|| Value::BigInt(text.to_owned()), Value::Int)
}

/// An unsigned integer in YAML 1.2's spellings (`42`, `0x2a`, `0o52`, `0b101010`), with
/// `_` allowed between digits; decimal ones may not start with `0`. A prefix may be
/// upper-case (`0X2A`): [`plain`] keeps those strings before it asks. However many
/// digits it has, it is an integer ([`Magnitude::Huge`] past 128 bits).
fn integer(unsigned: &str) -> Option<Magnitude> {
    let (radix, digits) = match unsigned.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, &unsigned[2..]),
        [b'0', b'o' | b'O', ..] => (8, &unsigned[2..]),
        [b'0', b'b' | b'B', ..] => (2, &unsigned[2..]),
        [b'0', _, ..] => return None,
        _ => (10, unsigned),
    };
    let bytes = digits.as_bytes();
    let mut value: Option<u128> = Some(0);
    let mut saw_digit = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let between_digits = i > 0 && bytes[i - 1] != b'_' && bytes.get(i + 1).is_some_and(|&n| n != b'_');
            if !between_digits {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(radix)?;
        value = value.and_then(|v| v.checked_mul(u128::from(radix))?.checked_add(u128::from(digit)));
        saw_digit = true;
    }
    let magnitude = value.and_then(|v| i128::try_from(v).ok()).map_or(Magnitude::Huge, Magnitude::Of);
    saw_digit.then_some(magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut documents = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        assert_eq!(documents.len(), 1, "{text:?}");
        documents.remove(0)
    }

    fn value(text: &str) -> Value {
        one(&format!("v: {text}\n")).get("v").unwrap().1.value.clone()
    }

    fn refusal(text: &str) -> ParseError {
        parse(text).expect_err(text)
    }

    /// The spellings serde-saphyr resolves (checked against it when this
    /// parser replaced it), so no request changes meaning.
    #[test]
    fn plain_scalars_resolve_by_the_core_schema_as_serde_saphyr_does() {
        for (text, expected) in [
            ("", "Null"),
            ("~", "Null"),
            ("NULL", "Null"),
            ("TRUE", "Bool(true)"),
            ("False", "Bool(false)"),
            ("yes", "Str(\"yes\")"),
            ("'true'", "Str(\"true\")"),
            ("\"100\"", "Str(\"100\")"),
            ("100", "Int(100)"),
            ("+5", "Int(5)"),
            ("-7", "Int(-7)"),
            ("1_000", "Int(1000)"),
            ("1__0", "Str(\"1__0\")"),
            ("0x1F", "Int(31)"),
            ("0X1F", "Str(\"0X1F\")"),
            ("0o17", "Int(15)"),
            ("0b101", "Int(5)"),
            ("0x", "Str(\"0x\")"),
            // Past i64 an integer is still one (serde-saphyr: a decimal number, or a string).
            ("-0x8000000000000001", "BigInt(\"-0x8000000000000001\")"),
            ("0x10000000000000000", "BigInt(\"0x10000000000000000\")"),
            ("0123", "Float(123.0)"),
            ("-0123", "Float(-123.0)"),
            ("9223372036854775808", "BigInt(\"9223372036854775808\")"),
            ("-9223372036854775809", "BigInt(\"-9223372036854775809\")"),
            ("99999999999999999999", "BigInt(\"99999999999999999999\")"),
            ("-99999999999999999999", "BigInt(\"-99999999999999999999\")"),
            ("340282366920938463463374607431768211456", "BigInt(\"340282366920938463463374607431768211456\")"),
            ("1_000_000_000_000_000_000_000", "BigInt(\"1_000_000_000_000_000_000_000\")"),
            ("1.5e3", "Float(1500.0)"),
            (".5", "Float(0.5)"),
            ("5.", "Float(5.0)"),
            ("-.nan", "Str(\"-.nan\")"),
            ("inf", "Str(\"inf\")"),
            ("nan", "Str(\"nan\")"),
            ("infinity", "Str(\"infinity\")"),
            ("-x", "Str(\"-x\")"),
            ("!!str 5", "Str(\"5\")"),
            ("!!int '7'", "Int(7)"),
            ("!!float 1", "Float(1.0)"),
            ("! 5", "Str(\"5\")"),
        ] {
            assert_eq!(format!("{:?}", value(text)), expected, "{text}");
        }
    }

    /// A core tag reads the text as its type the way serde-saphyr does:
    /// trimmed, `!!int` with either case of radix prefix, `!!float` as a
    /// decimal number only.
    #[test]
    fn typed_tags_read_their_text_as_serde_saphyr_does() {
        for (text, expected) in [
            ("!!int 0X1F", "Int(31)"),
            ("!!int 0O17", "Int(15)"),
            ("!!int -0B101", "Int(-5)"),
            ("!!int 0x1_F", "Int(31)"),
            ("!!int -0x8000000000000000", "Int(-9223372036854775808)"),
            ("!!int 9223372036854775808", "BigInt(\"9223372036854775808\")"),
            ("!!int 0xFFFFFFFFFFFFFFFF", "BigInt(\"0xFFFFFFFFFFFFFFFF\")"),
            ("!!int ' 7 '", "Int(7)"),
            ("!!int \"\\t-7\\n\"", "Int(-7)"),
            ("!!float ' 1.5'", "Float(1.5)"),
            ("!!float -0", "Float(-0.0)"),
            ("!!float 0123", "Float(123.0)"),
            ("!!float .5", "Float(0.5)"),
            ("!!bool ' true'", "Bool(true)"),
            ("!!str ' 7 '", "Str(\" 7 \")"),
            ("' 7 '", "Str(\" 7 \")"),
            (".1e400", "Str(\".1e400\")"),
            ("-.5e999", "Str(\"-.5e999\")"),
            (".5e-999", "Float(0.0)"),
        ] {
            assert_eq!(format!("{:?}", value(text)), expected, "{text}");
        }
        for (text, message, kind) in [
            ("v: !!float 0x1F\n", "`0x1F` is not a number, as its tag `!!float` says", ErrorKind::Tag),
            ("v: !!float 0o17\n", "`0o17` is not a number, as its tag `!!float` says", ErrorKind::Tag),
            ("v: !!float 1_000\n", "`1_000` is not a number, as its tag `!!float` says", ErrorKind::Tag),
            ("v: !!float inf\n", "`inf` is not a number, as its tag `!!float` says", ErrorKind::Tag),
            ("v: !!float 1e999\n", "`1e999` is not a finite number", ErrorKind::NotFinite),
            ("v: !!float .1e400\n", "`.1e400` is not a finite number", ErrorKind::NotFinite),
            ("v: !!float -.nan\n", "`-.nan` is not a finite number", ErrorKind::NotFinite),
            ("v: !!int 1.5\n", "`1.5` is not an integer, as its tag `!!int` says", ErrorKind::Tag),
            // Past what serde-saphyr reads under the tag (an i64 or a u64): refused by both.
            (
                "v: !!int 18446744073709551616\n",
                "`18446744073709551616` is outside -9223372036854775808..=18446744073709551615, the integers a `!!int` tag holds",
                ErrorKind::Tag,
            ),
            (
                "v: !!int -9223372036854775809\n",
                "`-9223372036854775809` is outside -9223372036854775808..=18446744073709551615, the integers a `!!int` tag holds",
                ErrorKind::Tag,
            ),
            ("v: !!int 0123\n", "`0123` is not an integer, as its tag `!!int` says", ErrorKind::Tag),
            ("v: !!bool yes\n", "`yes` is not true or false, as its tag `!!bool` says", ErrorKind::Tag),
            ("v: 1e999\n", "`1e999` is not a finite number", ErrorKind::NotFinite),
        ] {
            let error = refusal(text);
            assert_eq!((error.message.as_str(), error.kind), (message, kind), "{text}");
            // A refusal by the tag underlines the tag; a number that is not finite, the number.
            let at = if kind == ErrorKind::Tag { 3 } else { text.rfind(' ').unwrap() + 1 };
            assert_eq!(error.span.offset(), at, "{text}");
        }
    }

    #[test]
    fn non_finite_numbers_and_foreign_tags_are_refused_where_they_are() {
        for (text, message, kind) in [
            ("v: .nan\n", "`.nan` is not a finite number", ErrorKind::NotFinite),
            ("v: -.inf\n", "`-.inf` is not a finite number", ErrorKind::NotFinite),
            ("v: 1e999\n", "`1e999` is not a finite number", ErrorKind::NotFinite),
            ("v: !!binary aGk=\n", "the tag `!!binary` is not supported here", ErrorKind::Tag),
            ("v: !custom x\n", "the tag `!custom` is not supported here", ErrorKind::Tag),
            ("v: !!int x\n", "`x` is not an integer, as its tag `!!int` says", ErrorKind::Tag),
            ("v: !!map [1]\n", "the tag `!!map` is not supported here", ErrorKind::Tag),
        ] {
            let error = refusal(text);
            assert_eq!((error.message.as_str(), error.kind), (message, kind), "{text}");
            assert_eq!(error.span.offset(), 3, "{text}");
        }
    }

    #[test]
    fn aliases_copy_their_anchor_to_where_they_are_used() {
        let text = "a: &x {b: 1, c: [1, 2]}\nd: *x\n";
        let doc = one(text);
        let (_, copy) = doc.get("d").unwrap();
        let items = match &copy.get("c").unwrap().1.value {
            Value::Seq(items) => items.iter().map(|item| format!("{:?}", item.value)).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(items, ["Int(1)", "Int(2)"]);
        let alias = text.find("*x").unwrap();
        assert!(
            copy.as_map()
                .unwrap()
                .iter()
                .all(|(key, value)| key.span.offset() == alias && value.span.offset() == alias)
        );
    }

    /// What idp renders and `verify` reads holds no anchors, aliases or
    /// merge keys: the example is the one sigs.k8s.io/yaml reads as a Secret
    /// in kube-system (a later `<<` overrides explicit keys there) while the
    /// reader above sees a labelled claim.
    #[test]
    fn plain_yaml_refuses_anchors_aliases_and_merge_keys_where_they_are() {
        let differential = "kind: MySQLInstanceClaim\nmetadata:\n  namespace: team-a\n  <<: {namespace: kube-system}\n";
        assert_eq!(one(differential).str_at(&["metadata", "namespace"]), Some("team-a"));
        for (text, what, at) in [
            (differential, "a YAML merge key (`<<`)", "<<"),
            ("a: {\"<<\": {b: 1}}\n", "a YAML merge key (`<<`)", "\"<<\""),
            ("a:\n  '<<': {b: 1}\n", "a YAML merge key (`<<`)", "'<<'"),
            ("a: &x {b: 1}\n", "a YAML anchor (`&name`)", "&x"),
            ("a: &x\n  b: 1\n", "a YAML anchor (`&name`)", "&x"),
            ("a: [1, &y 2]\n", "a YAML anchor (`&name`)", "&y"),
            ("- &z [1]\n", "a YAML anchor (`&name`)", "&z"),
        ] {
            let error = super::parse_plain(text).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Reference, "{text}");
            assert!(error.message.starts_with(&format!("{what}: rendered manifests")), "{text}: {}", error.message);
            assert_eq!(error.span.offset(), text.find(at).unwrap(), "{text}");
        }
        // An alias needs an anchor, refused above; one without is no YAML at all.
        assert!(super::parse_plain("a: 1\nb: *x\n").is_err());
        // Plain text reads as it always did.
        let plain = "a: {b: [1, 2]}\nc: '&x * <<'\n";
        assert_eq!(format!("{:?}", super::parse_plain(plain).unwrap()), format!("{:?}", super::parse(plain).unwrap()));
    }

    #[test]
    fn merge_keys_fill_in_what_the_mapping_does_not_say() {
        let doc = one(
            "base: &b {size: small, tier: gold}\nmore: &m {ha: true, tier: silver}\nspec:\n  <<: [*b, *m]\n  size: large\n",
        );
        let spec = doc.get("spec").unwrap().1.as_map().unwrap();
        let names: Vec<(&str, String)> =
            spec.iter().map(|(k, v)| (k.name.as_str(), format!("{:?}", v.value))).collect();
        assert_eq!(
            names,
            [
                ("size", "Str(\"large\")".to_owned()),
                ("tier", "Str(\"gold\")".to_owned()),
                ("ha", "Bool(true)".to_owned())
            ]
        );
        // A merged key is no duplicate; a second `<<` is.
        assert_eq!(refusal("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n").kind, ErrorKind::DuplicateKey);
        assert_eq!(refusal("b:\n  <<: 5\n").kind, ErrorKind::Merge);
        assert_eq!(refusal("b:\n  <<: [{x: 1}, 2]\n").kind, ErrorKind::Merge);
        // A quoted `<<` is an ordinary key.
        assert!(one("b:\n  '<<': 5\n").get("b").unwrap().1.get("<<").is_some());
    }

    #[test]
    fn duplicate_keys_are_found_in_large_mappings_too() {
        let mut text: String = (0..200).map(|i| format!("k{i}: {i}\n")).collect();
        assert_eq!(one(&text).as_map().unwrap().len(), 200);
        text.push_str("k150: again\n");
        let error = refusal(&text);
        assert_eq!((error.message.as_str(), error.kind), ("duplicate mapping key: k150", ErrorKind::DuplicateKey));
        assert_eq!(error.span.offset(), text.rfind("k150").unwrap());
    }

    #[test]
    fn limits_refuse_bombs_storms_and_depth() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d]\n";
        assert_eq!(refusal(bomb).kind, ErrorKind::Limit);
        let storm = "---\na: 1\n".repeat(MAX_DOCUMENTS + 1);
        assert_eq!(refusal(&storm).message, format!("more than {MAX_DOCUMENTS} documents"));
        let deep: String = (0..=MAX_DEPTH).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        let error = refusal(&deep);
        assert_eq!(error.message, "nested too deeply (33 levels)");
        assert_eq!(error.span.offset(), deep.rfind('a').unwrap());
        let many = format!("[{}]", "1,".repeat(MAX_NODES));
        assert_eq!(refusal(&many).message, format!("more than {MAX_NODES} values"));
        assert_eq!(refusal("a: &a [*a]\n").message, "an alias may not refer to a value that contains it");
        // Each anchor keeps a copy: 32 nested anchors around 10,000 values would be 320,000.
        let nested = format!(
            "{}{}{}",
            (0..MAX_DEPTH).map(|i| format!("&a{i} [")).collect::<String>(),
            "1,".repeat(10_000),
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(refusal(&nested).message, format!("more than {MAX_NODES} values"));
    }
}
