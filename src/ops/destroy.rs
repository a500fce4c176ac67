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
//! This reads what the commit changes against the base commit, file by
//! file: it knows what Crossplane is asked to do, not what the provider
//! will do with an in-place field change (that table is a later step).

use serde::Serialize;

use super::{Context, Error};
use crate::layout;
use crate::state::FileChange;
use crate::yaml::Node;

/// The kinds whose deletion loses data: a database and its replication.
pub const STATEFUL_KINDS: &[(&str, &str)] =
    &[("platform.example.org/v1alpha1", "MySQLInstanceClaim"), ("platform.example.org/v1alpha1", "ReplicationClaim")];

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
pub fn classify(ctx: &Context, files: &[FileChange]) -> Result<Vec<Destroy>, Error> {
    let mut destroys = Vec::new();
    for change in files {
        let path = change.path();
        // Only platform/ holds claims; a new file destroys nothing.
        if !path.starts_with("platform/") {
            continue;
        }
        let Some(old) = ctx.read(path)? else { continue };
        let new = change.content();
        let new_claims = new.as_deref().map(|bytes| stateful(&String::from_utf8_lossy(bytes))).unwrap_or_default();
        for claim in stateful(&String::from_utf8_lossy(&old)) {
            let destroy = |action, why| Destroy {
                action,
                object: claim.object.clone(),
                file: path.to_owned(),
                request: layout::request_of_manifest(path),
                why,
            };
            match new_claims.iter().find(|c| c.object == claim.object) {
                None => destroys.push(destroy(DestroyAction::Delete, None)),
                Some(now) => {
                    let moved: Vec<String> =
                        [("provider", &claim.provider, &now.provider), ("region", &claim.region, &now.region)]
                            .into_iter()
                            .filter(|(_, was, is)| was != is)
                            .map(|(field, was, is)| {
                                format!("{field} {} -> {}", was.as_deref().unwrap_or("-"), is.as_deref().unwrap_or("-"))
                            })
                            .collect();
                    if !moved.is_empty() {
                        destroys.push(destroy(DestroyAction::Replace, Some(moved.join(", "))));
                    }
                }
            }
        }
    }
    Ok(destroys)
}

/// A stateful object in a manifest, with where it runs.
struct Claim {
    object: String,
    provider: Option<String>,
    region: Option<String>,
}

/// The stateful objects of a manifest file (none if it does not parse: the
/// render guard and `verify` judge such files).
fn stateful(text: &str) -> Vec<Claim> {
    let Ok(documents) = crate::yaml::non_empty_documents(text) else { return Vec::new() };
    documents.iter().filter_map(claim).collect()
}

fn claim(doc: &Node) -> Option<Claim> {
    let (api_version, kind) = (doc.str_at(&["apiVersion"])?, doc.str_at(&["kind"])?);
    if !STATEFUL_KINDS.contains(&(api_version, kind)) {
        return None;
    }
    let name = doc.str_at(&["metadata", "name"])?;
    let namespace = doc.str_at(&["metadata", "namespace"]).unwrap_or_default();
    let parameter = |field: &str| doc.str_at(&["spec", "parameters", field]).map(str::to_owned);
    Some(Claim {
        object: format!("{kind} {namespace}/{name}"),
        provider: parameter("provider"),
        region: parameter("region"),
    })
}

/// The `Idp-Destroy` trailers recording `destroys` in a commit message.
pub fn trailers(destroys: &[Destroy]) -> String {
    destroys.iter().map(|d| format!("{DESTROY_TRAILER}: {}\n", d.object)).collect()
}
