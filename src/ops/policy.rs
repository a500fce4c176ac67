//! `idp policy show|validate`: the policy in force, as data.

use serde::Serialize;

use crate::policy::{LoadedPolicy, Policy};

#[derive(Debug, Serialize)]
pub struct PolicyOutcome {
    pub origin: String,
    pub version: String,
    pub digest: String,
    pub policy: Policy,
}

impl PolicyOutcome {
    pub fn new(loaded: &LoadedPolicy) -> Self {
        Self {
            origin: loaded.origin.to_string(),
            version: loaded.policy.version.clone(),
            digest: loaded.digest.clone(),
            policy: loaded.policy.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ValidateOutcome {
    pub valid: bool,
    pub origin: String,
    pub version: String,
    pub digest: String,
}
