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

mod parse;
mod typed;
pub use parse::{ErrorKind, MAX_ALIAS_NODES, MAX_DEPTH, ParseError, parse, parse_plain};
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
    ///
    /// Only what can hold a request is read: a regular file, or a pipe (`-f
    /// <(…)`) read like standard input, up to the limit and no further. A
    /// device (`/dev/zero` never ends) and procfs or sysfs files
    /// (`/proc/self/environ` holds the environment's secrets) are refused
    /// before a byte is read. The file is opened without blocking, so a FIFO
    /// nobody writes to reads as empty instead of hanging.
    pub fn read(path: &Path) -> Result<Self, SourceError> {
        use std::io::Read;
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let name = shown_path(path);
        let io = |error| SourceError::Io { name: name.clone(), error };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
            .map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        let kind = metadata.file_type();
        if kind.is_dir() {
            return Err(SourceError::IsDirectory { name });
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(SourceError::NotAFile { name, what: "a device" });
        }
        if let Some(what) = pseudo_file_system(&file) {
            return Err(SourceError::NotAFile { name, what });
        }
        if kind.is_file() && metadata.len() > MAX_FILE_BYTES as u64 {
            return Err(SourceError::TooLarge { name, bytes: metadata.len() });
        }
        // Reads block again: a pipe with a writer is read as it comes.
        set_blocking(&file).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
        Self::from_bytes(name, bytes)
    }

    pub fn from_bytes(name: String, bytes: Vec<u8>) -> Result<Self, SourceError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(SourceError::TooLarge { name, bytes: bytes.len() as u64 });
        }
        match String::from_utf8(bytes) {
            Ok(text) => match find_control(&text) {
                None => Ok(Self::new(name, text)),
                Some(at) => {
                    let location = format!("{}:{}:{}", name, line_col(&text, at).0, line_col(&text, at).1);
                    let found = text[at..].chars().next().map(|c| c.escape_unicode().to_string()).unwrap_or_default();
                    let (shown, span) = escaped_controls(&text, at);
                    Err(SourceError::Control {
                        location,
                        found,
                        src: NamedSource::new(&name, Arc::new(shown)).with_language("yaml"),
                        span,
                    })
                }
            },
            Err(error) => {
                let valid = error.utf8_error().valid_up_to();
                // Show the readable prefix so the label lands on the first bad byte.
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                let at = text.char_indices().nth(valid_chars(error.as_bytes(), valid)).map_or(text.len(), |(i, _)| i);
                let location = format!("{}:{}:{}", name, line_col(&text, at).0, line_col(&text, at).1);
                let (shown, span) = escaped_controls(&text, at);
                let src = NamedSource::new(&name, Arc::new(shown)).with_language("yaml");
                Err(SourceError::NotUtf8 { src, span, location })
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
        line_col(&self.text, offset)
    }
}

/// 1-based line and column of a byte offset of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A character no request, policy or manifest holds, and a terminal may act
/// on: C0 controls but tab, newline and carriage return; DEL; C1 controls.
/// YAML refuses them all (its `c-printable`), so refusing them first costs
/// nothing and keeps them out of every snippet.
pub fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Where the first [`is_control`] character of `text` starts: a byte scan,
/// as every control character (U+0000-U+001F, U+007F-U+009F) is one byte
/// below 0x20, 0x7F, or the pair 0xC2 0x80-0x9F in UTF-8. Decoding each
/// character instead cost a plan's files ~1% of its run.
pub fn find_control(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().position(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' => false,
        0..0x20 | 0x7f => true,
        0xc2 => bytes.get(i + 1).is_some_and(|next| (0x80..0xa0).contains(next)),
        _ => false,
    })
}

/// A text as a report may show it: each control character written as its
/// `\u{..}` escape, and the span of the character at byte `at` in it.
fn escaped_controls(text: &str, at: usize) -> (String, SourceSpan) {
    let mut shown = String::with_capacity(text.len());
    let mut span = (text.len(), 0);
    for (i, c) in text.char_indices() {
        let start = shown.len();
        if is_control(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
        if i == at {
            span = (start, shown.len() - start);
        }
    }
    if at >= text.len() {
        span = (shown.len(), 0);
    }
    (shown, span.into())
}

/// A path as messages show it: control characters in a file name escaped.
pub fn shown_path(path: &Path) -> String {
    let name = path.display().to_string();
    if name.contains(is_control) {
        name.chars().map(|c| if is_control(c) { c.escape_unicode().to_string() } else { c.into() }).collect()
    } else {
        name
    }
}

/// What a file on procfs or sysfs is, for the refusal: their files hold the
/// process's environment, memory and kernel state, never a request.
fn pseudo_file_system(file: &std::fs::File) -> Option<&'static str> {
    /// linux/magic.h; rustix names procfs's but not sysfs's.
    const SYSFS_MAGIC: rustix::fs::FsWord = 0x6265_6572;
    match rustix::fs::fstatfs(file).ok()?.f_type {
        rustix::fs::PROC_SUPER_MAGIC => Some("a procfs file"),
        SYSFS_MAGIC => Some("a sysfs file"),
        _ => None,
    }
}

/// Takes O_NONBLOCK off a descriptor opened with it.
fn set_blocking(file: &std::fs::File) -> std::io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(file)?;
    Ok(rustix::fs::fcntl_setfl(file, flags - rustix::fs::OFlags::NONBLOCK)?)
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
    /// An integer literal past i64, as written (`99999999999999999999`): no
    /// field of idp's takes one, and its error says it is out of range.
    BigInt(String),
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
            Value::Int(_) | Value::BigInt(_) => "an integer",
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

    /// The node at a path of mapping keys, if there is one.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key).map(|(_, value)| value))
    }

    /// The string at a path of mapping keys, if that is what is there.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(Node::as_str)
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

/// Every document of a text but the empty ones (`---` with nothing after
/// it), as a request file or rendered output is read.
pub fn non_empty_documents(text: &str) -> Result<Vec<Node>, ParseError> {
    let mut documents = parse(text)?;
    documents.retain(|doc| !matches!(doc.value, Value::Null));
    Ok(documents)
}

/// [`non_empty_documents`] of a text that must be plain YAML: no anchors,
/// aliases or merge keys ([`parse_plain`]). Rendered manifests and the files
/// `verify` checks are read this way.
pub fn plain_documents(text: &str) -> Result<Vec<Node>, ParseError> {
    let mut documents = parse_plain(text)?;
    documents.retain(|doc| !matches!(doc.value, Value::Null));
    Ok(documents)
}

impl ParseError {
    /// `message at line L column C`, for text that has no file name.
    pub fn in_text(&self, text: &str) -> String {
        let (line, column) = line_col(text, self.span.offset());
        format!("{} at line {line} column {column}", self.message)
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

    #[error("{name} is {what}, not a request or policy file")]
    #[diagnostic(
        code(idp::input::not_a_file),
        help("name a regular file, a directory of them, or - for standard input")
    )]
    NotAFile { name: String, what: &'static str },

    #[error("{location}: control character {found}")]
    #[diagnostic(
        code(idp::input::control),
        help("requests and policies are printable text; remove the character (shown escaped)")
    )]
    Control {
        location: String,
        found: String,
        #[source_code]
        src: NamedSource<Arc<String>>,
        #[label("here")]
        span: SourceSpan,
    },

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
/// in indentation, alias bombs and runaway nesting are refused before they
/// cost anything (see [`parse`]).
pub fn parse_documents(source: &Source) -> Result<Vec<Node>, SourceError> {
    // An empty document (`---` with nothing after it) is not a request.
    let documents = non_empty_documents(&source.text).map_err(|error| source.syntax_error(error))?;
    if documents.is_empty() {
        return Err(SourceError::Empty { name: source.name.clone() });
    }
    Ok(documents)
}

impl Source {
    fn syntax_error(&self, error: ParseError) -> SourceError {
        let help = match error.kind {
            ErrorKind::Limit => {
                "the file nests or repeats too deeply to be a request or policy; aliases and deep nesting are limited"
            }
            ErrorKind::DuplicateKey => "each key may appear once in a mapping; remove the repeated key",
            ErrorKind::NotFinite => "write a plain number",
            ErrorKind::Tab => "indent YAML with spaces, not tabs",
            ErrorKind::Tag => "remove the tag: idp reads plain YAML values",
            ErrorKind::Merge => "point `<<` at an anchored mapping (`<<: *defaults`), or remove it",
            ErrorKind::Reference => "write the values out in full: no anchors, aliases or merge keys",
            ErrorKind::Syntax => "fix the YAML syntax at this position",
        };
        SourceError::Syntax {
            location: self.location(error.span.offset()),
            message: error.message,
            help: help.into(),
            src: self.named(),
            span: error.span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Node>, SourceError> {
        parse_documents(&Source::new("t.yaml", text))
    }

    /// The byte scan finds what the per-character test finds, for every
    /// character up to U+0800 (all the one- and two-byte encodings, which
    /// hold every control character) and some beyond, anywhere in a text.
    #[test]
    fn the_control_scan_agrees_with_is_control() {
        let samples = (0..0x800u32).chain([0x2028, 0xfeff, 0x1f600]).filter_map(char::from_u32);
        for c in samples {
            for text in [format!("{c}"), format!("key: va{c}lue\n"), format!("é{c}\u{85}")] {
                assert_eq!(find_control(&text), text.find(is_control), "{:?}", c);
            }
        }
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
    fn control_characters_are_refused_and_shown_escaped() {
        let err = Source::from_bytes("r.yaml".into(), b"a: \x1b[31m\nb: x\0y\n".to_vec()).unwrap_err();
        let SourceError::Control { location, found, src, span } = err else { panic!("{err:?}") };
        assert_eq!((location.as_str(), found.as_str()), ("r.yaml:1:4", "\\u{1b}"));
        let shown = src.inner().as_str();
        assert_eq!(shown, "a: \\u{1b}[31m\nb: x\\u{0}y\n");
        assert_eq!(&shown[span.offset()..span.offset() + span.len()], "\\u{1b}");
        // Before an invalid byte too: the snippet of a binary file escapes what it shows.
        let err = Source::from_bytes("b.bin".into(), vec![0, b'\n', 0xff]).unwrap_err();
        let SourceError::NotUtf8 { src, span, location } = err else { panic!("{err:?}") };
        assert_eq!((src.inner().as_str(), span.offset(), location.as_str()), ("\\u{0}\n\u{fffd}", 6, "b.bin:2:1"));
        // Tabs, newlines and carriage returns are text.
        assert!(Source::from_bytes("t".into(), b"a:\tb\r\n".to_vec()).is_ok());
        assert_eq!(shown_path(Path::new("x\u{1b}[2J.yaml")), "x\\u{1b}[2J.yaml");
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
