//! The command line end to end: the built `idp` binary run in a temp directory with a
//! cleared environment (see `common::TestEnv`). One module per command; the request
//! contract, which `plan` enforces, has its own.

mod common;
mod gitops;
mod global;
mod plan;
mod plan_contract;
mod policy;
