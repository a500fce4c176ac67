//! The operations behind the commands: each composes request, policy,
//! schedule, render and state, and returns an outcome. Nothing here prints.

pub mod apply;
mod context;
pub mod init;
pub mod plan;
pub mod policy;
pub mod render;
pub mod resource;

use miette::Diagnostic;

pub use context::{Context, ContextOptions};

use crate::policy::PolicyError;
use crate::render::RenderError;
use crate::request::RequestError;
use crate::schedule::ScheduleError;
use crate::state::StateError;

/// Any failure of an operation. All of them exit 1 and leave the state repo
/// as it was.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] PolicyError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] RequestError),

    #[error("{request}: {source}")]
    #[diagnostic(forward(source))]
    Schedule {
        request: String,
        #[source]
        source: ScheduleError,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Render(#[from] RenderError),

    #[error("{resource} is not in the state repo")]
    #[diagnostic(code(idp::state::not_found), help("`idp plan` shows where it would land; `idp apply` places it"))]
    NotFound { resource: String },

    #[error("refusing to initialize {path}: {why}")]
    #[diagnostic(
        code(idp::init::not_empty),
        help("pass --force to adopt it (existing files are kept), or choose an empty directory")
    )]
    NotEmpty { path: String, why: String },

    #[error("this command writes to a state repo, and there is none here")]
    #[diagnostic(
        code(idp::state::none),
        help("create one with `idp init DIR`, then pass --repo DIR (or set IDP_REPO)")
    )]
    NoStateRepo,

    #[error("{request} is placed on {placement}, which no longer fits the request: {why}")]
    #[diagnostic(
        code(idp::plan::sticky_conflict),
        help(
            "placements never move silently; pass --reschedule to move it (a new placement, loudly recorded), or revert the request change"
        )
    )]
    StickyConflict { request: String, placement: String, why: String },

    #[error("{path} in the state repo is not a valid placement record: {message}")]
    #[diagnostic(
        code(idp::state::record),
        help("restore it with `git checkout -- {path}` or `idp rollback`; idp never edits a record it cannot read")
    )]
    CorruptRecord { path: String, message: String },
}
