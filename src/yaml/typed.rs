//! Typed values read from an already parsed [`Node`] tree.
//!
//! A file is parsed once, into spanned nodes; typed models (the policy) are
//! deserialized from that tree rather than by parsing the text a second time.
//! Scalars keep the type YAML gave them: a quoted `"0.25"` is a string and is
//! refused where the model wants a number, and every error carries the span of
//! the node it is about.

use std::fmt;

use miette::SourceSpan;
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::{Key, Node, Value};

/// Deserializes `T` from a node, strictly: no string ever becomes a number or
/// a boolean.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, TypedError> {
    T::deserialize(node)
}

/// Why a node does not fit the model, and where.
#[derive(Debug)]
pub struct TypedError {
    kind: Kind,
    /// The mapping key whose value this is, when there is one.
    field: Option<String>,
    /// The innermost node the error is about (set once, on the way out).
    pub span: Option<SourceSpan>,
}

#[derive(Debug)]
enum Kind {
    /// A value of the wrong YAML type: what was found, what was expected.
    Type {
        found: &'static str,
        expected: String,
    },
    /// An integer the field's type cannot hold: as written, and the type's range.
    OutOfRange {
        value: String,
        range: &'static str,
    },
    Message(String),
}

impl TypedError {
    fn at(mut self, span: SourceSpan) -> Self {
        self.span.get_or_insert(span);
        self
    }

    fn in_field(mut self, key: &Key) -> Self {
        self.field.get_or_insert_with(|| key.name.clone());
        self
    }

    /// The message, in the words of someone editing the file.
    pub fn message(&self) -> String {
        let (found, expected) = match &self.kind {
            Kind::Message(message) => return message.clone(),
            Kind::Type { found, expected } => (*found, expected.as_str()),
            Kind::OutOfRange { value, range } => {
                let field = self.field.as_deref().map_or_else(String::new, |f| format!("`{f}` "));
                return format!("{field}{value} is outside {range}");
            }
        };
        let field = self.field.as_deref().map_or_else(String::new, |f| format!("`{f}` "));
        let numeric = |prefix: char| {
            expected.len() <= 4 && expected.starts_with(prefix) && expected[1..].chars().all(|c| c.is_ascii_digit())
        };
        match found {
            "a string" if numeric('u') || numeric('i') || numeric('f') => {
                format!("{field}must be a number, not a string")
            }
            "a string" if expected == "a boolean" => format!("{field}must be true or false, not a string"),
            _ if numeric('u') => "must be a whole number, not negative and not a decimal".to_owned(),
            _ if numeric('i') => "must be a whole number".to_owned(),
            _ if numeric('f') => format!("{field}must be a number, not {found}"),
            _ => format!("{field}must be {}, not {found}", expected_words(expected)),
        }
    }
}

/// The range of an integer type as serde names it (`u32`), None for any other
/// expectation.
fn integer_range(expected: &str) -> Option<&'static str> {
    Some(match expected {
        "u8" => "0..=255",
        "u16" => "0..=65535",
        "u32" => "0..=4294967295",
        "u64" | "usize" => "0..=18446744073709551615",
        "i8" => "-128..=127",
        "i16" => "-32768..=32767",
        "i32" => "-2147483648..=2147483647",
        "i64" | "isize" => "-9223372036854775808..=9223372036854775807",
        _ => return None,
    })
}

impl TypedError {
    fn out_of_range(value: String, range: &'static str) -> Self {
        Self { kind: Kind::OutOfRange { value, range }, field: None, span: None }
    }
}

/// serde's names for what a visitor expects, as a policy author says them.
fn expected_words(expected: &str) -> &str {
    match expected {
        "a sequence" => "a list",
        "a map" => "a mapping",
        e if e.starts_with("struct ") => "a mapping",
        e if e.starts_with("variant identifier") || e.starts_with("enum ") => "one of the listed names",
        e => e,
    }
}

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for TypedError {}

impl de::Error for TypedError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self { kind: Kind::Message(message.to_string()), field: None, span: None }
    }

    fn invalid_type(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self {
            kind: Kind::Type { found: unexpected_words(&found), expected: expected.to_string() },
            field: None,
            span: None,
        }
    }

    fn invalid_value(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        let range = integer_range(&expected.to_string());
        match found {
            // Too large for the field's type: its range says so (a negative
            // number for an unsigned field keeps the words below).
            Unexpected::Unsigned(v) if let Some(range) = range => Self::out_of_range(v.to_string(), range),
            Unexpected::Signed(v) if let Some(range) = range.filter(|r| v >= 0 || !r.starts_with('0')) => {
                Self::out_of_range(v.to_string(), range)
            }
            Unexpected::Signed(_) | Unexpected::Unsigned(_) | Unexpected::Float(_) => {
                Self::invalid_type(found, expected)
            }
            Unexpected::Str(value) => Self::custom(format!("`{value}` is not {expected}")),
            _ => Self::custom(format!("invalid value: {found}, expected {expected}")),
        }
    }
}

fn unexpected_words(found: &Unexpected<'_>) -> &'static str {
    match found {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a decimal number",
        Unexpected::Str(_) | Unexpected::Char(_) => "a string",
        Unexpected::Unit | Unexpected::Option => "null",
        Unexpected::Seq => "a list",
        Unexpected::Map => "a mapping",
        _ => "another kind of value",
    }
}

impl<'de> de::Deserializer<'de> for &Node {
    type Error = TypedError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        let result = match &self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            // Past i64: out of range for every integer field; a number field
            // takes it as the decimal number it is closest to.
            Value::BigInt(text) => {
                let expected = format!("{}", &visitor as &dyn de::Expected);
                match (integer_range(&expected), text.replace('_', "").parse::<f64>()) {
                    (Some(range), _) => Err(TypedError::out_of_range(text.clone(), range)),
                    (None, Ok(f)) => visitor.visit_f64(f),
                    (None, Err(_)) => Err(de::Error::custom(format!("{text} is too large a number"))),
                }
            }
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(Items(items.iter())),
            Value::Map(entries) => visitor.visit_map(Entries { entries: entries.iter(), value: None }),
        };
        result.map_err(|e| e.at(self.span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        match &self.value {
            // Unit variants only: the policy's enums are plain names.
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => self.deserialize_any(visitor),
        }
        .map_err(|e: TypedError| e.at(self.span))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = TypedError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, TypedError> {
        self.0.next().map(|node| seed.deserialize(node)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    /// The entry whose key was just read, for its value.
    value: Option<&'a (Key, Node)>,
}

impl<'de> de::MapAccess<'de> for Entries<'_> {
    type Error = TypedError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, TypedError> {
        let Some(entry) = self.entries.next() else { return Ok(None) };
        self.value = Some(entry);
        let key: StrDeserializer<'_, TypedError> = entry.0.name.as_str().into_deserializer();
        // An unknown field is underlined at its key.
        seed.deserialize(key).map(Some).map_err(|e| e.at(entry.0.span))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TypedError> {
        let (key, node) = self.value.take().expect("serde asks for a value after its key");
        seed.deserialize(node).map_err(|e| e.in_field(key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::yaml::{Source, parse_documents};

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Model {
        weight: f64,
        count: u32,
        on: bool,
        #[serde(default)]
        note: Option<String>,
        mode: Mode,
        items: Vec<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    enum Mode {
        Warm,
        ColdStandby,
    }

    fn read(text: &str) -> Result<Model, (String, String)> {
        let source = Source::new("t.yaml", text);
        let node = parse_documents(&source).unwrap().remove(0);
        from_node(&node).map_err(|e| (source.location(e.span.unwrap().offset()), e.message()))
    }

    #[test]
    fn reads_every_kind_of_field() {
        let model = read("weight: 1\ncount: 3\non: true\nnote: null\nmode: cold-standby\nitems: [a, b]\n").unwrap();
        assert_eq!(
            model,
            Model {
                weight: 1.0,
                count: 3,
                on: true,
                note: None,
                mode: Mode::ColdStandby,
                items: vec!["a".into(), "b".into()]
            }
        );
    }

    #[test]
    fn strings_are_never_numbers_or_booleans() {
        let base = "weight: 0.5\ncount: 3\non: true\nmode: warm\nitems: []\n";
        let cases = [
            ("weight: 0.5", "weight: \"0.5\"", "t.yaml:1:9", "`weight` must be a number, not a string"),
            ("on: true", "on: \"true\"", "t.yaml:3:5", "`on` must be true or false, not a string"),
            ("count: 3", "count: 1.5", "t.yaml:2:8", "must be a whole number, not negative and not a decimal"),
            ("count: 3", "count: -1", "t.yaml:2:8", "must be a whole number, not negative and not a decimal"),
            // Too large for a u32, past i64 or not: its range, not "a decimal".
            ("count: 3", "count: 4294967296", "t.yaml:2:8", "`count` 4294967296 is outside 0..=4294967295"),
            (
                "count: 3",
                "count: 99999999999999999999",
                "t.yaml:2:8",
                "`count` 99999999999999999999 is outside 0..=4294967295",
            ),
            (
                "count: 3",
                "count: -99999999999999999999",
                "t.yaml:2:8",
                "`count` -99999999999999999999 is outside 0..=4294967295",
            ),
            ("items: []", "items: a", "t.yaml:5:8", "`items` must be a list, not a string"),
            ("mode: warm", "mode: hot", "t.yaml:4:7", "unknown variant `hot`, expected `warm` or `cold-standby`"),
            ("mode: warm", "mode: warm\nextra: 1", "t.yaml:5:1", "unknown field `extra`"),
            ("count: 3\n", "", "t.yaml:1:1", "missing field `count`"),
        ];
        for (from, to, at, says) in cases {
            let (found_at, message) = read(&base.replacen(from, to, 1)).unwrap_err();
            assert_eq!(found_at, at, "{to}: {message}");
            assert!(message.starts_with(says), "{to}: {message}");
        }
    }
}
