//! `idp delete KIND NS/NAME`: one commit removing every file of a request.

use serde::Serialize;

use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::resource::ResourceRef;
use super::{Context, Error};
use crate::request::Kind;
use crate::state::FileChange;

#[derive(Debug, Serialize)]
pub struct DeleteOutcome {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub commit: String,
    pub landed: Landed,
    pub removed: Vec<String>,
}

/// One commit removing every file of the request (and a push with
/// `--push`). None when the confirmation was declined.
pub fn delete(
    ctx: &mut Context,
    target: &ResourceRef,
    land_options: &LandOptions,
    confirm: Confirm<'_, Vec<String>>,
    progress: &dyn Fn(&str),
) -> Result<Option<DeleteOutcome>, Error> {
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let record = target.record(ctx)?;
        let files = target.files(ctx, record.as_ref())?;
        if files.is_empty() {
            return Err(Error::NotFound { resource: target.display() });
        }
        let was = record
            .as_ref()
            .map(|r| format!(" (was on {}/{})", r.primary.provider, r.primary.region))
            .unwrap_or_default();
        let t = target;
        let mut message = format!(
            "idp: delete {} {}/{}{was}\n\nRemoves every file of the request; Argo CD prunes the claims.\n\n",
            t.kind, t.namespace, t.name
        );
        for file in &files {
            message.push_str(&format!("- {file}\n"));
        }
        message.push_str(&format!("\nIdp-Action: delete\nIdp-Request: {} {}/{}\n", t.kind, t.namespace, t.name));
        let changes = files.iter().map(|path| FileChange::Remove { path: path.clone() }).collect();
        Ok(Proposal::commit(files, changes, message))
    })?;
    Ok(match landing {
        Landing::Landed(removed, landed) => Some(DeleteOutcome {
            kind: target.kind,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            commit: landed.commit.clone(),
            landed,
            removed,
        }),
        Landing::Unchanged(_) | Landing::Declined => None,
    })
}
