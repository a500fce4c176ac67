//! Changes that destroy stateful data. A commit that removes the claim of a
//! database or of a replication makes Crossplane delete the cloud resource
//! behind it, data and all; one that moves a claim to another provider or
//! region asks for a new, empty one (the XRD refuses that transition, and
//! if it did not, the old database would go). Such a change is never an
//! ordinary update: `land` refuses it without an explicit word
//! (`--allow-destroy`, or the request's NAMESPACE/NAME typed on a
//! terminal), and its commit records each object in an `Idp-Destroy`
//! trailer.
//!
//! A database whose claim is deletion-protected at the base commit
//! (`spec.parameters.deletionProtection: true`, from the policy) cannot be
//! destroyed at all, explicit word or not: the cloud would refuse to delete
//! it, and the claim would hang half-deleted. Its protection comes off first,
//! in a commit of its own (`idp delete --unprotect`) that Argo CD must sync,
//! and only then may a commit delete or replace it.
//!
//! What counts as destroyed is `ops::objects`' classification of the
//! change against the base commit: a stateful claim deleted, or replaced
//! because its XRD refuses the update in place. (A provider's `ForceNew`
//! field destroys nothing: upjet refuses the change, and plan with it.)

use serde::Serialize;

use super::objects::{self, ObjectAction, ObjectChange};
use super::{Context, Error};
use crate::product::Products;
use crate::state::Changes;
use crate::yaml::{Key, Node, Value};

/// The trailer that records a destroyed object in a commit.
pub const DESTROY_TRAILER: &str = "Idp-Destroy";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DestroyAction {
    /// The object goes, and the cloud resource with it.
    Delete,
    /// A new, empty resource takes the old one's place.
    Replace,
}

/// One stateful object a change destroys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destroy {
    pub action: DestroyAction,
    /// `MySQLInstanceClaim team/orders`.
    pub object: String,
    /// The file that holds it at the base commit.
    pub file: String,
    /// `mysql team/orders`, when the file's path names its request.
    pub request: Option<String>,
    /// For a replacement, what forces it (`provider aws -> gcp`).
    pub why: Option<String>,
    /// Deletion protection is on for it at the base commit: no commit may
    /// destroy it until `idp delete --unprotect` has turned that off.
    pub protected: bool,
}

impl Destroy {
    /// `delete MySQLInstanceClaim team/orders (mysql team/orders)`.
    pub fn describe(&self) -> String {
        let action = match self.action {
            DestroyAction::Delete => "delete",
            DestroyAction::Replace => "replace",
        };
        format!("{action} {}", self.object_in_context())
    }

    /// `MySQLInstanceClaim team/orders (mysql team/orders, provider aws -> gcp)`.
    pub fn object_in_context(&self) -> String {
        let context: Vec<&str> = self.request.iter().chain(&self.why).map(String::as_str).collect();
        match context.is_empty() {
            true => self.object.clone(),
            false => format!("{} ({})", self.object, context.join(", ")),
        }
    }

    /// The request's NAMESPACE/NAME, typed on a terminal to confirm.
    pub fn request_id(&self) -> Option<&str> {
        self.request.as_deref().and_then(|r| r.split_once(' ')).map(|(_, id)| id)
    }
}

/// What `files` would destroy, read against the context's base commit.
pub fn classify(ctx: &Context, files: &Changes) -> Result<Vec<Destroy>, Error> {
    let destroyed = objects::destroying(
        &ctx.products,
        files.paths(),
        |path| ctx.read(path),
        |path| match files.get(path) {
            Some(file) => Ok(file.content()?.map(std::borrow::Cow::into_owned)),
            None => Ok(None),
        },
    )?;
    Ok(destroyed.into_iter().map(Destroy::of).collect())
}

impl Destroy {
    /// The destroy an object's classification describes.
    pub(super) fn of(object: ObjectChange) -> Self {
        // `spec.parameters.provider aws -> gcp`, for each field that forces it.
        let mut why: Vec<String> = object
            .forces
            .iter()
            .map(|force| match object.fields.iter().find(|f| f.path == force.field) {
                Some(f) => format!(
                    "{} {} -> {}",
                    f.path.trim_start_matches("spec.parameters."),
                    f.old.as_deref().unwrap_or("-"),
                    f.new.as_deref().unwrap_or("-")
                ),
                None => force.field.clone(),
            })
            .collect();
        why.dedup();
        Destroy {
            action: match object.action {
                ObjectAction::Replace => DestroyAction::Replace,
                _ => DestroyAction::Delete,
            },
            object: object.object(),
            file: object.file,
            request: object.request,
            why: (!why.is_empty()).then(|| why.join(", ")),
            protected: object.protected,
        }
    }
}

/// Refuses `destroys` when any of them is deletion-protected: the one
/// refusal `--allow-destroy` cannot answer, so it comes before the
/// confirmation. Says which objects, and the two steps that remove them.
pub fn refuse_protected(destroys: &[Destroy]) -> Result<(), Error> {
    let protected: Vec<&Destroy> = destroys.iter().filter(|d| d.protected).collect();
    if protected.is_empty() {
        return Ok(());
    }
    let mut requests: Vec<&str> = protected.iter().filter_map(|d| d.request.as_deref()).collect();
    requests.sort();
    requests.dedup();
    let commands = |flag: &str| match requests.is_empty() {
        true => format!("`idp delete mysql NAMESPACE/NAME {flag}` (the request that renders them)"),
        false => requests.iter().map(|r| format!("`idp delete {r} {flag}`")).collect::<Vec<_>>().join(", "),
    };
    let help = format!(
        "deletion protection is on for these databases (the policy sets it for their environment or tier), so the cloud would refuse to delete them and --allow-destroy cannot override it. It takes two commits: first {} (it turns protection off and changes nothing else); wait until Argo CD has synced that commit and the provider has turned protection off in the cloud; then delete with {} (or, for a change that keeps the request, run it again with --allow-destroy). Nothing was written",
        commands("--unprotect"),
        commands("--allow-destroy")
    );
    Err(Error::DestroyProtected { objects: protected.iter().map(|d| d.describe()).collect(), help })
}

/// The deletion-protected claims of a manifest file (`MySQLInstanceClaim
/// team/orders`).
pub fn protected_claims(products: &Products, text: &str) -> Vec<String> {
    let Ok(documents) = crate::yaml::non_empty_documents(text) else { return Vec::new() };
    documents.iter().filter(|doc| objects::is_protected(products, doc)).filter_map(objects::object_of).collect()
}

/// Whether two manifest files hold the same documents but for the
/// `deletionProtection` of their claims: what an `--unprotect` commit may
/// change, and nothing else.
pub fn same_but_protection(old: &[Node], new: &[Node]) -> bool {
    const PROTECTION: &[&str] = &["spec", "parameters", "deletionProtection"];
    old.len() == new.len() && old.iter().zip(new).all(|(a, b)| same(a, b, PROTECTION))
}

/// `a` and `b` hold the same value (spans aside), the key at path `skip`
/// left out of both.
fn same(a: &Node, b: &Node, skip: &[&str]) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(x), Value::Map(y)) => {
            fn kept<'a>(entries: &'a [(Key, Node)], skip: &[&str]) -> Vec<&'a (Key, Node)> {
                entries.iter().filter(|(k, _)| !(skip.len() == 1 && k.name == skip[0])).collect()
            }
            let (x, y) = (kept(x, skip), kept(y, skip));
            x.len() == y.len()
                && x.iter().zip(&y).all(|((kx, vx), (ky, vy))| {
                    let rest = if skip.len() > 1 && kx.name == skip[0] { &skip[1..] } else { &[] };
                    kx.name == ky.name && same(vx, vy, rest)
                })
        }
        (Value::Seq(x), Value::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q, &[])),
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => false,
    }
}

/// The `Idp-Destroy` trailers recording `destroys` in a commit message.
pub fn trailers(destroys: &[Destroy]) -> String {
    destroys.iter().map(|d| format!("{DESTROY_TRAILER}: {}\n", d.object)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAIM: &str = "apiVersion: platform.example.org/v1alpha1\nkind: MySQLInstanceClaim\nmetadata:\n  name: db\n  namespace: team\nspec:\n  parameters:\n    storageGB: 100\n    deletionProtection: true\n";

    fn docs(text: &str) -> Vec<Node> {
        crate::yaml::non_empty_documents(text).unwrap()
    }

    #[test]
    fn only_a_true_deletion_protection_protects() {
        assert_eq!(protected_claims(Products::embedded(), CLAIM), ["MySQLInstanceClaim team/db"]);
        assert!(
            protected_claims(
                Products::embedded(),
                &CLAIM.replace("deletionProtection: true", "deletionProtection: false")
            )
            .is_empty()
        );
        assert!(
            protected_claims(
                Products::embedded(),
                &CLAIM.replace("deletionProtection: true", "deletionProtection: \"true\"")
            )
            .is_empty()
        );
        assert!(
            protected_claims(Products::embedded(), &CLAIM.replace("    deletionProtection: true\n", "")).is_empty()
        );
        assert!(protected_claims(Products::embedded(), &CLAIM.replace("MySQLInstanceClaim", "Deployment")).is_empty());
    }

    #[test]
    fn an_unprotect_may_change_protection_and_nothing_else() {
        let off = CLAIM.replace("deletionProtection: true", "deletionProtection: false");
        assert!(same_but_protection(&docs(CLAIM), &docs(&off)));
        assert!(same_but_protection(&docs(CLAIM), &docs(&CLAIM.replace("    deletionProtection: true\n", ""))));
        assert!(!same_but_protection(&docs(CLAIM), &docs(&off.replace("storageGB: 100", "storageGB: 120"))));
        // The same key anywhere else is compared like any other.
        let elsewhere = CLAIM.replace("metadata:\n", "metadata:\n  deletionProtection: true\n");
        assert!(!same_but_protection(&docs(CLAIM), &docs(&elsewhere)));
        assert!(!same_but_protection(&docs(CLAIM), &docs(&format!("{CLAIM}---\n{CLAIM}"))));
    }
}
