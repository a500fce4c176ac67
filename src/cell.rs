//! Cells: which side of a cell is active, the staged failover or failback in
//! progress, and the failover events (`cells/<cell>/<environment>.yaml`,
//! written only by failover/failback),
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
    /// A staged failover or failback between two of its commits: the stages
    /// up to `stage` are committed, the rest still render the old side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<Runbook>,
    pub events: Vec<Event>,
}

/// The committed stages of a staged runbook, in the order they land. Each is
/// one commit that moves one sync wave's objects to the new side (fence -1,
/// data 0, compute 1, traffic 2), and each waits for the cluster to report
/// its effect before the next one lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The side losing the writer role turns read-only.
    Fence,
    /// The new side's databases turn writable; replication turns round.
    Data,
    /// The new side's apps scale up, the old side's down.
    Compute,
    /// The DNS records put the new side first.
    Traffic,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Fence, Stage::Data, Stage::Compute, Stage::Traffic];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Fence => "fence",
            Stage::Data => "data",
            Stage::Compute => "compute",
            Stage::Traffic => "traffic",
        }
    }
}

/// A staged failover or failback in progress (`idp failover --resume` goes on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Runbook {
    /// `failover` or `failback`.
    pub action: String,
    pub to: Side,
    /// The last stage committed.
    pub stage: Stage,
    pub started_at: String,
    pub by: String,
    pub forced: bool,
    pub reason: Option<String>,
    /// What the cluster reported of each stage before the next one landed.
    #[serde(default)]
    pub observed: Vec<Observation>,
    /// The lag read after the fence took effect (the gate before `data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_lag_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_source: Option<String>,
}

/// A stage whose effect the management cluster reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Observation {
    pub stage: Stage,
    /// When idp saw it (to the second).
    pub at: String,
    /// The cluster that reported it (`context (server)`).
    pub cluster: String,
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
    /// A staged runbook's stages as the cluster reported them; empty for a
    /// one-commit (`--no-wait`) runbook, which observed nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed: Vec<Observation>,
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
            runbook: None,
            events: Vec::new(),
        }
    }

    /// The side each sync wave renders: while a runbook is between its
    /// commits, waves up to its stage render the new side (`Moving`).
    pub fn moving(&self) -> Option<Moving> {
        self.runbook.as_ref().map(|r| Moving { to: r.to, through: r.stage })
    }

    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a cell state always serializes")
    }
}

/// A cell part way through a staged runbook: documents whose sync wave is
/// `through` or before render `to` as the active side, the others the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moving {
    pub to: Side,
    pub through: Stage,
}

impl Member {
    /// A member file's text, its kind resolved against `products`.
    pub fn parse(text: &str, products: &crate::product::Products) -> Result<Self, serde_saphyr::Error> {
        crate::request::resolving(products, || serde_saphyr::from_str(text))
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
        let member = member(crate::test_support::mysql(), "a", "db");
        assert_eq!(Member::parse(&member.to_yaml(), crate::product::Products::embedded()).unwrap(), member);
    }

    #[test]
    fn cell_state_round_trips() {
        let mut cell = CellState::new("payments", "production");
        cell.active_side = Side::Secondary;
        assert_eq!(CellState::parse(&cell.to_yaml()).unwrap(), cell);
        assert_eq!(cell.moving(), None);
        let observed = Observation { stage: Stage::Fence, at: "2026-12-06T23:00:00Z".into(), cluster: "mgmt".into() };
        cell.runbook = Some(Runbook {
            action: "failback".into(),
            to: Side::Primary,
            stage: Stage::Data,
            started_at: "2026-12-06T22:59:00Z".into(),
            by: "Ops <ops@example.org>".into(),
            forced: false,
            reason: None,
            observed: vec![observed],
            observed_lag_seconds: Some(2.0),
            lag_source: Some("operator reading".into()),
        });
        assert_eq!(CellState::parse(&cell.to_yaml()).unwrap(), cell);
        assert_eq!(cell.moving(), Some(Moving { to: Side::Primary, through: Stage::Data }));
        // A file written before runbooks existed reads as none in progress.
        let older = "apiVersion: idp.platform.example.org/v1alpha1\nkind: CellState\ncell: c\nenvironment: dev\nactiveSide: primary\nevents: []\n";
        assert_eq!(CellState::parse(older).unwrap().runbook, None);
    }
}
