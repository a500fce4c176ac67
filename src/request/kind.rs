//! The kind of a request: a product in force.

use std::cell::RefCell;
use std::fmt;

use crate::product::{KIND_NAME_LIMIT, Product, Products, Role};

/// A request's product, as every layer needs it: its CLI name (`mysql`),
/// which is also how it appears in paths (`requests/<ns>/mysql-<name>.yaml`)
/// and in JSON output; its manifest kind (`MySQL`), which request files say;
/// and its role, which says what idp does with it. Made from a definition
/// in force ([`Kind::of`]); held inline, so it is `Copy`. Ordered data
/// before apps (an app follows its data), then by name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind {
    role: Role,
    name: Label,
    manifest: Label,
}

impl Kind {
    pub fn of(product: &Product) -> Kind {
        let label = |s: &str| Label::new(s).expect("product definitions are checked to fit a Kind");
        Kind { name: label(&product.name), manifest: label(&product.manifest_kind), role: product.role }
    }

    /// Every product in force, in its listing order.
    pub fn all(products: &Products) -> Vec<Kind> {
        products.iter().map(Kind::of).collect()
    }

    /// The product a command line names, by name or alias.
    pub fn named(products: &Products, word: &str) -> Option<Kind> {
        products.named(word).map(Kind::of)
    }

    pub fn cli_name(&self) -> &str {
        self.name.as_str()
    }

    pub fn manifest_kind(&self) -> &str {
        self.manifest.as_str()
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Placed by the scheduler and written as claims: a database, a cache.
    pub fn is_data(&self) -> bool {
        self.role == Role::Data
    }

    /// A workload that follows its data.
    pub fn is_app(&self) -> bool {
        self.role == Role::App
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_name())
    }
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.manifest_kind(), self.role.as_str())
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.cli_name())
    }
}

thread_local! {
    /// The kinds a stored name may resolve to while [`resolving`] runs.
    static IN_FORCE: RefCell<Vec<Kind>> = const { RefCell::new(Vec::new()) };
}

/// Runs `read` with stored kind names (`requestKind: mysql` in a placement
/// record, `kind: app` in a cell's member) resolving to the products in
/// force: a file holds a product's name, and only the definitions say what
/// it is. Outside it, a stored kind does not deserialize.
pub fn resolving<T>(products: &Products, read: impl FnOnce() -> T) -> T {
    let before = IN_FORCE.with(|kinds| kinds.replace(Kind::all(products)));
    let out = read();
    IN_FORCE.with(|kinds| kinds.replace(before));
    out
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        IN_FORCE.with(|kinds| {
            let kinds = kinds.borrow();
            kinds.iter().find(|k| k.cli_name() == name).copied().ok_or_else(|| {
                let known: Vec<&str> = kinds.iter().map(Kind::cli_name).collect();
                serde::de::Error::custom(format!(
                    "`{}` is no product in force (products: {})",
                    crate::names::printable(&name),
                    known.join(", ")
                ))
            })
        })
    }
}

/// A short ASCII name held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Label {
    len: u8,
    bytes: [u8; KIND_NAME_LIMIT],
}

impl Label {
    fn new(s: &str) -> Option<Label> {
        if s.len() > KIND_NAME_LIMIT || !s.is_ascii() {
            return None;
        }
        let mut bytes = [0; KIND_NAME_LIMIT];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Label { len: s.len() as u8, bytes })
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("a label is ASCII")
    }
}
