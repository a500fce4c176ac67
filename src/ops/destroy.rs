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
//! What counts as destroyed is `ops::objects`' classification of the
//! change against the base commit: a stateful claim deleted, or replaced
//! because its XRD refuses the update or a provider replaces a composed
//! database or bucket (`compose`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::objects::{self, ObjectAction, ObjectChange};
use super::{Context, Error};
use crate::state::FileChange;

pub use super::objects::STATEFUL_KINDS;

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
    let by_path: BTreeMap<&str, &FileChange> = files.iter().map(|f| (f.path(), f)).collect();
    let destroyed = objects::destroying(
        by_path.keys().copied(),
        |path| ctx.read(path),
        |path| Ok(by_path[path].content().map(|c| c.into_owned())),
    )?;
    Ok(destroyed.into_iter().map(Destroy::of).collect())
}

impl Destroy {
    fn of(object: ObjectChange) -> Self {
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
        }
    }
}

/// The `Idp-Destroy` trailers recording `destroys` in a commit message.
pub fn trailers(destroys: &[Destroy]) -> String {
    destroys.iter().map(|d| format!("{DESTROY_TRAILER}: {}\n", d.object)).collect()
}
