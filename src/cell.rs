//! Cells: which side of a cell is active and its failover events
//! (`cells/<cell>/<environment>.yaml`, written only by failover/failback),
//! and what runs in it: one member file per request
//! (`cells/<cell>/<environment>/members/<namespace>/<kind>-<name>.yaml`),
//! written with the request's own files.
//!
//! A file per member keeps every apply independently revertable (no file is
//! shared between two requests' commits) while "what is in this cell" stays
//! one small directory, never a scan of the state repo.

use serde::{Deserialize, Serialize};

use crate::request::Kind;
use crate::schedule::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[default]
    Primary,
    Secondary,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Primary => "primary",
            Side::Secondary => "secondary",
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Primary => Side::Secondary,
            Side::Secondary => Side::Primary,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CellState {
    pub api_version: String,
    pub kind: String,
    pub cell: String,
    pub environment: String,
    pub active_side: Side,
    /// Between the two commits of a failback of a cell with cold standbys: the
    /// standbys keep automated sync until their scale to 0 has been applied
    /// (docs/disaster-recovery.md, "Bronze failback").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cold_standbys_draining: bool,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub primary: Target,
    pub secondary: Option<Target>,
    pub dr_profile: Option<String>,
    /// The estimated monthly cost, summed for budgets.
    #[serde(rename = "monthlyUSD", default, skip_serializing_if = "Option::is_none")]
    pub monthly_usd: Option<f64>,
}

/// A failover or failback, as recorded for the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Event {
    pub action: String,
    pub from: Side,
    pub to: Side,
    pub at: String,
    pub by: String,
    pub observed_lag_seconds: Option<f64>,
    pub lag_source: Option<String>,
    pub rpo_seconds: u32,
    pub forced: bool,
    pub reason: Option<String>,
}

impl CellState {
    pub fn new(cell: &str, environment: &str) -> Self {
        Self {
            api_version: crate::request::API_VERSION.into(),
            kind: "CellState".into(),
            cell: cell.into(),
            environment: environment.into(),
            active_side: Side::Primary,
            cold_standbys_draining: false,
            events: Vec::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a cell state always serializes")
    }
}

impl Member {
    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a member always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(provider: &str) -> Target {
        Target {
            provider: provider.into(),
            region: "r".into(),
            runtime_cluster: "c".into(),
            network: Default::default(),
        }
    }

    fn member(kind: Kind, namespace: &str, name: &str) -> Member {
        Member {
            kind,
            namespace: namespace.into(),
            name: name.into(),
            primary: target("aws"),
            secondary: None,
            dr_profile: None,
            monthly_usd: None,
        }
    }

    #[test]
    fn members_round_trip() {
        let member = member(Kind::MySql, "a", "db");
        assert_eq!(Member::parse(&member.to_yaml()).unwrap(), member);
    }

    #[test]
    fn cell_state_round_trips() {
        let mut cell = CellState::new("payments", "production");
        cell.active_side = Side::Secondary;
        assert_eq!(CellState::parse(&cell.to_yaml()).unwrap(), cell);
    }
}
