//! Live state, read-only: what the clusters report about what idp committed.
//! `client` is the only code that talks to a Kubernetes API server;
//! `lifecycle` reads what it returns into a request's lifecycle state.

pub mod client;
pub mod lifecycle;
