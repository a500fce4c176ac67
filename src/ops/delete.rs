//! `idp delete KIND NS/NAME`: one commit removing every file of a request;
//! and `--unprotect`, the commit before it for a deletion-protected
//! database, which turns that protection off and changes nothing else.

use serde::Serialize;

use super::land::{Confirm, LandOptions, Landed, Landing, Proposal, land};
use super::resource::ResourceRef;
use super::{Context, Error, claims, destroy};
use crate::layout;
use crate::render::RenderInput;
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
    /// The Argo CD Application of the request's cell when the request was its
    /// last: Argo CD refuses an automated sync that would remove everything an
    /// Application holds (allowEmpty false; argo-cd controller/appcontroller.go,
    /// autoSync), so pruning the last request's objects takes a manual sync.
    pub emptied_cell_application: Option<String>,
    /// With `--wait`: what the cluster reported when the wait ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<super::live::WaitReport>,
}

/// What a delete removes: the request's files, and whether it empties its cell's
/// Application (the name of that Application).
pub struct Removal {
    pub files: Vec<String>,
    pub emptied: Option<String>,
}

/// One commit removing every file of the request (and a push with
/// `--push`). None when the confirmation was declined.
pub fn delete(
    ctx: &mut Context,
    target: &ResourceRef,
    land_options: &LandOptions,
    confirm: Confirm<'_, Removal>,
    progress: &dyn Fn(&str),
) -> Result<Option<DeleteOutcome>, Error> {
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let record = target.record(ctx)?;
        let files = target.files(ctx, record.as_ref())?;
        if files.is_empty() {
            return Err(Error::NotFound { resource: target.display() });
        }
        // An app that still uses the data would lose its connection secret.
        if target.kind.is_data() {
            let apps: Vec<String> = ctx
                .apps_using(&target.namespace, &target.name)?
                .iter()
                .map(|(app, _)| format!("{} {}", app.kind, app.id()))
                .collect();
            if !apps.is_empty() {
                return Err(Error::DataInUse { data: target.display(), apps });
            }
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
        let changes: Vec<FileChange> = files.iter().map(|path| FileChange::Remove { path: path.clone() }).collect();
        let emptied = match &record {
            Some(record) => {
                let members = ctx.cell_members(&record.cell, &record.environment)?;
                let last = members.iter().all(|m| (m.kind, &m.namespace, &m.name) == (t.kind, &t.namespace, &t.name));
                let at = layout::CellOf { cell: &record.cell, environment: &record.environment };
                (last && ctx.read(&layout::cell_application_path(at))?.is_some())
                    .then(|| layout::cell_application_name(at))
            }
            None => None,
        };
        Ok(Proposal::commit(Removal { files, emptied }, changes, message))
    })?;
    Ok(match landing {
        Landing::Landed(Removal { files: removed, emptied: emptied_cell_application }, landed) => Some(DeleteOutcome {
            kind: target.kind,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            commit: landed.commit.clone(),
            landed,
            removed,
            emptied_cell_application,
            live: None,
        }),
        Landing::Unchanged(_) | Landing::Declined => None,
    })
}

/// `idp delete mysql NS/NAME --unprotect`: what the commit turned off.
#[derive(Debug, Serialize)]
pub struct UnprotectOutcome {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The claims whose deletion protection the commit turns off
    /// (`MySQLInstanceClaim team/orders`); empty when none had it on.
    pub unprotected: Vec<String>,
    /// The files the commit rewrites.
    pub files: Vec<String>,
    /// None when nothing was protected, so nothing was written.
    pub commit: Option<String>,
    pub landed: Option<Landed>,
}

/// One commit turning the cloud's deletion protection off for a database
/// request: its claims re-rendered with `deletionProtection: false`, and
/// nothing else, so that once Argo CD has synced it, `idp delete
/// --allow-destroy` may remove them. None when the confirmation was
/// declined; an outcome without a commit when nothing was protected.
pub fn unprotect(
    ctx: &mut Context,
    target: &ResourceRef,
    land_options: &LandOptions,
    confirm: Confirm<'_, UnprotectOutcome>,
    progress: &dyn Fn(&str),
) -> Result<Option<UnprotectOutcome>, Error> {
    let landing = land(ctx, land_options, confirm, progress, |ctx| {
        let not_found = || Error::NotFound { resource: target.display() };
        let record = target.record(ctx)?.ok_or_else(not_found)?;
        let request = ctx.stored_request(target.kind, &target.namespace, &target.name)?.ok_or_else(not_found)?;
        let decision = record.decision();
        let cell = ctx.cell_state(&request.cell, &request.environment)?;
        let policy = &ctx.policy.policy;
        let data = ctx.data_claims(&request, &decision.reason, Some(&record))?;
        let input = RenderInput {
            request: &request,
            data: &data,
            decision: &decision,
            policy,
            active: cell.active_side,
            draining: cell.cold_standbys_draining,
            moving: cell.moving(),
            names: record.names(),
            unprotect: true,
        };
        let mut outcome = UnprotectOutcome {
            kind: target.kind,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            unprotected: Vec::new(),
            files: Vec::new(),
            commit: None,
            landed: None,
        };
        let id = target.display();
        let mut changes = Vec::new();
        for file in ctx.renderer()?.request_files(&input)? {
            let Some(stored) = ctx.read(&file.path)? else { continue };
            let text = String::from_utf8_lossy(&stored);
            let protected = destroy::protected_claims(&ctx.products, &text);
            if protected.is_empty() {
                continue;
            }
            let same = crate::yaml::non_empty_documents(&text)
                .is_ok_and(|old| destroy::same_but_protection(&old, &file.documents));
            if !same {
                return Err(Error::UnprotectDrift { request: id.clone(), file: file.path });
            }
            claims::admit(&ctx.products, &id, &file.path, &file.documents, Some(&stored))?;
            outcome.unprotected.extend(protected);
            outcome.files.push(file.path.clone());
            changes.push(FileChange::upsert(file.path, file.content.as_bytes()));
        }
        if changes.is_empty() {
            return Ok(Proposal::unchanged(outcome));
        }
        let t = target;
        let mut message = format!(
            "idp: unprotect {} {}/{}\n\nTurns the cloud's deletion protection off for the request's databases, and nothing else.\nOnce Argo CD has synced it, `idp delete {} {}/{} --allow-destroy` can remove them;\na re-render before that (apply, failover) protects them again.\n\n",
            t.kind, t.namespace, t.name, t.kind, t.namespace, t.name
        );
        for file in &outcome.files {
            message.push_str(&format!("- {file}\n"));
        }
        message.push_str(&format!("\nIdp-Action: unprotect\nIdp-Request: {} {}/{}\n", t.kind, t.namespace, t.name));
        for object in &outcome.unprotected {
            message.push_str(&format!("{UNPROTECT_TRAILER}: {object}\n"));
        }
        Ok(Proposal::commit(outcome, changes, message))
    })?;
    Ok(landing.into_value(|outcome, landed| {
        outcome.commit = Some(landed.commit.clone());
        outcome.landed = Some(landed);
    }))
}

/// The trailer that records each claim an unprotect commit turns
/// protection off for.
pub const UNPROTECT_TRAILER: &str = "Idp-Unprotect";
