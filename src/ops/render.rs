//! `idp render`: the manifests of planned requests, nothing written.

use super::plan::Prepared;
use super::{Context, Error};
use crate::render::{RenderedFile, Renderer};
use crate::schedule::Decision;

/// The platform manifests of every request in a plan, rendered with the state
/// repo's templates, sticky placements included.
pub fn manifests(ctx: &Context, prepared: &Prepared) -> Result<Vec<RenderedFile>, Error> {
    let renderer = Renderer::for_state(ctx)?;
    let mut files = Vec::new();
    for (result, request) in prepared.outcome.results.iter().zip(&prepared.requests) {
        let decision = Decision {
            primary: result.placement.clone(),
            secondary: result.secondary.clone(),
            reason: result.reason.clone(),
            ranking: Vec::new(),
        };
        files.extend(renderer.request_files(request, &decision, &ctx.policy.policy)?);
    }
    Ok(files)
}
