//! The command line end to end: the built `idp` binary run in a temp directory with a
//! cleared environment (see `common::TestEnv`). One module per command; the request
//! contract, which `plan` enforces, has its own.

mod admission;
mod app_spec;
mod apps_data;
mod bad_inputs;
mod bulk;
mod catalog;
mod cells;
mod changes;
mod common;
mod crash;
/// The CRD schema walk shared with tests/manifests.rs, loaded once for every module here.
#[path = "../support/crd_schema.rs"]
mod crd_schema;
mod destroy;
mod docs;
mod doctor;
mod dr;
mod environments;
#[path = "../support/fake_api.rs"]
mod fake_api;
mod faults;
mod gitops;
mod global;
mod governance;
mod guard;
mod help;
mod identity;
mod init;
mod list;
mod live;
mod migrate;
mod namespaces;
mod output;
mod plan;
mod plan_contract;
mod policy;
mod policy_change;
mod products;
mod protection;
mod reapply;
mod records;
mod remote;
mod rollback;
mod runbook;
mod secrets;
mod terminal;
mod trailers;
mod transport;
