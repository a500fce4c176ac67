//! The names idp derives from a request's namespace and name that grow with
//! them, so that validation can refuse, on the request's own line, one whose
//! derived names would not fit, instead of the render guard refusing the
//! manifest a template made of it.
//!
//! Here, below `layout` (which names every object), because validation may
//! not use the layers above it. The names not listed (an app's Applications,
//! traffic objects and PushSecrets) are cut and hashed by `layout` to fit;
//! its test `every_name_derived_for_an_admitted_request_is_a_label` holds
//! every name it derives for a request admitted here to 63 characters.

use super::Kind;
use crate::names::{REPLICATION_SUFFIX, SECONDARY_SUFFIX};

/// The longest object name and the longest label value Kubernetes takes
/// (a DNS-1123 label); Backstage's entity names have the same limit.
pub const NAME_LIMIT: usize = 63;

/// A name idp derives from a request's namespace and name, and what carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedName {
    /// Which object or label carries it, for messages.
    pub what: &'static str,
    pub name: String,
}

impl DerivedName {
    /// How many characters it is over [`NAME_LIMIT`], if it is.
    pub fn over(&self) -> Option<usize> {
        self.name.len().checked_sub(NAME_LIMIT).filter(|over| *over > 0)
    }
}

/// `<namespace>.<kind>.<name>`: the `platform.example.org/request` label on
/// every manifest of a request, a label value.
pub fn request_label(kind: Kind, namespace: &str, name: &str) -> String {
    format!("{namespace}.{kind}.{name}")
}

/// A request's Backstage catalog entity: `<kind>-<name>`, like the request's
/// files, because a database and an app may share a name in one namespace.
pub fn catalog_entity_name(kind: &str, name: &str) -> String {
    format!("{kind}-{name}")
}

/// Every name a new request derives from its namespace and name that grows
/// with them, each held to [`NAME_LIMIT`] (by the render guard, or by
/// Backstage for the entity). A database's claims are `layout::claim_name`
/// and `layout::replication_name`.
pub fn derived_names(kind: Kind, namespace: &str, name: &str) -> Vec<DerivedName> {
    let derived = |what, name: String| DerivedName { what, name };
    let mut all = vec![
        derived("the request label on every manifest", request_label(kind, namespace, name)),
        derived("its Backstage catalog entity", catalog_entity_name(kind.cli_name(), name)),
    ];
    if kind.is_data() {
        all.push(derived("its primary claim", name.to_owned()));
        all.push(derived("its secondary claim", format!("{name}{SECONDARY_SUFFIX}")));
        all.push(derived("its ReplicationClaim", format!("{name}{REPLICATION_SUFFIX}")));
    } else {
        all.push(derived("its Deployment, Service and HTTPRoute", name.to_owned()));
    }
    all
}

/// Whether every name [`derived_names`] lists fits [`NAME_LIMIT`].
pub fn derived_names_fit(kind: Kind, namespace: &str, name: &str) -> bool {
    derived_names(kind, namespace, name).iter().all(|d| d.over().is_none())
}
