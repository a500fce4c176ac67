//! The placement record stored under `placements/`: the sticky source and the
//! audit of a decision.

use serde::{Deserialize, Serialize};

use crate::request::{Kind, Request};
use crate::schedule::{Decision, Reason, Target};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlacementRecord {
    pub api_version: String,
    pub kind: String,
    pub metadata: RecordMetadata,
    pub request_kind: Kind,
    /// Where the request lives, so a request that changes cell can leave
    /// the old cell's member list.
    pub cell: String,
    pub environment: String,
    pub primary: Target,
    pub secondary: Option<Target>,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMetadata {
    pub name: String,
    pub namespace: String,
}

impl PlacementRecord {
    pub fn new(request: &Request, decision: &Decision) -> Self {
        Self {
            api_version: crate::request::API_VERSION.into(),
            kind: "Placement".into(),
            metadata: RecordMetadata { name: request.name.clone(), namespace: request.namespace.clone() },
            request_kind: request.kind,
            cell: request.cell.clone(),
            environment: request.environment.clone(),
            primary: decision.primary.clone(),
            secondary: decision.secondary.clone(),
            reason: decision.reason.clone(),
        }
    }

    /// The cell member this placement makes.
    pub fn member(&self) -> crate::cell::Member {
        crate::cell::Member {
            kind: self.request_kind,
            namespace: self.metadata.namespace.clone(),
            name: self.metadata.name.clone(),
            primary: self.primary.clone(),
            secondary: self.secondary.clone(),
            dr_profile: self.reason.dr_profile.clone(),
            monthly_usd: None,
        }
    }

    pub fn decision(&self) -> Decision {
        Decision {
            primary: self.primary.clone(),
            secondary: self.secondary.clone(),
            reason: self.reason.clone(),
            ranking: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a placement record always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_yaml() {
        let (_, request, decision) = crate::test_support::payments_c0();
        let record = PlacementRecord::new(&request, &decision);
        let text = record.to_yaml();
        assert_eq!(PlacementRecord::parse(&text).unwrap(), record, "{text}");
    }
}
