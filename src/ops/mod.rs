//! The operations behind the commands: each composes request, policy,
//! schedule, render and state, and returns an outcome. Nothing here prints.

mod context;
pub mod plan;
pub mod policy;

use miette::Diagnostic;

pub use context::{Context, ContextOptions};

use crate::policy::PolicyError;
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

    #[error("{path} in the state repo is not a valid placement record: {message}")]
    #[diagnostic(
        code(idp::state::record),
        help("restore it with `git checkout -- {path}` or `idp rollback`; idp never edits a record it cannot read")
    )]
    CorruptRecord { path: String, message: String },
}
