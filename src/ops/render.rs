//! `idp render`: the manifests of planned requests, nothing written.

use super::plan::Prepared;
use super::{Context, Error};
use crate::render::{RenderedFile, Renderer};
use crate::schedule::Decision;

#[derive(Debug, serde::Serialize)]
pub struct RenderOutcome {
    pub manifests: Vec<Manifest>,
}

#[derive(Debug, serde::Serialize)]
pub struct Manifest {
    pub path: String,
    pub template: String,
    pub content: String,
}

impl From<Vec<RenderedFile>> for RenderOutcome {
    fn from(files: Vec<RenderedFile>) -> Self {
        let manifests =
            files.into_iter().map(|f| Manifest { path: f.path, template: f.template, content: f.content }).collect();
        Self { manifests }
    }
}

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
