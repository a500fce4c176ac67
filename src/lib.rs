//! idp: a control plane for a cell-based Internal Developer Platform.
//!
//! The library holds everything; `main.rs` only calls [`run`]. Modules below
//! `cli` and `output` never print and never see clap.

// Diagnostics carry their source text and spans, so error values are large;
// they are built once, on the way out, so boxing them would buy nothing.
#![allow(clippy::result_large_err)]

pub mod cell;
pub mod cli;
pub mod cost;
pub mod names;
pub mod ops;
pub mod output;
pub mod policy;
pub mod record;
pub mod render;
pub mod request;
pub mod rules;
pub mod schedule;
pub mod state;
pub mod yaml;

pub use cli::run;
