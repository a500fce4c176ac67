//! `idp render`: the manifests of planned requests, nothing written.

use serde::Serialize;

use crate::render::RenderedFile;

#[derive(Debug, Serialize)]
pub struct RenderOutcome {
    pub manifests: Vec<Manifest>,
}

#[derive(Debug, Serialize)]
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
