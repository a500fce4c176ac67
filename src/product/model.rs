//! A product definition as a platform team writes it.

use indexmap::IndexMap;

use crate::policy::Replication;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Definition {
    pub api_version: String,
    pub kind: String,
    /// How command lines and the state repo's paths name it: `mysql`.
    pub name: String,
    /// How request files name it: `kind: MySQL`.
    pub manifest_kind: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub description: String,
    pub role: Role,
    /// Data products: the XRD file whose claim idp writes.
    #[serde(default)]
    pub xrd: Option<String>,
    /// Data products: the request fields, each a parameter of the claim.
    #[serde(default)]
    pub fields: IndexMap<String, FieldDef>,
    /// Data products: how a secondary in another cloud may be kept (the
    /// drProfiles' `replication`), between any two providers or the pairs
    /// listed. None: it has no secondary.
    #[serde(default)]
    pub replication: Vec<ReplicationDef>,
    /// Data products: how the policy's price table prices a request.
    /// None: its requests get no estimate.
    #[serde(default)]
    pub cost: Option<Cost>,
}

/// A replication a product's secondary may be kept by: between any two
/// providers (`goldengate-cdc`), or only between the pairs listed
/// (`{tool: goldengate-cdc, between: [[aws, oci]]}`, either way round).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReplicationDef {
    Any(Replication),
    Between(Pairs),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pairs {
    pub tool: Replication,
    pub between: Vec<[String; 2]>,
}

impl ReplicationDef {
    pub fn tool(&self) -> Replication {
        match self {
            ReplicationDef::Any(tool) => *tool,
            ReplicationDef::Between(pairs) => pairs.tool,
        }
    }

    /// The provider pairs it is limited to; None: any two.
    pub fn between(&self) -> Option<&[[String; 2]]> {
        match self {
            ReplicationDef::Any(_) => None,
            ReplicationDef::Between(pairs) => Some(&pairs.between),
        }
    }
}

/// A data product's cost model over the policy's `pricing` table: which
/// request field picks the instance price (a size of the table), which is
/// priced per GB, which multiplies by `haMultiplier`, and the product's
/// prices relative to the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cost {
    pub size: String,
    #[serde(default, rename = "perGB", skip_serializing_if = "Option::is_none")]
    pub per_gb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<String>,
    #[serde(default = "one")]
    pub factor: f64,
}

fn one() -> f64 {
    1.0
}

/// What idp does with a product's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Stateful: placed by the scheduler, written as Crossplane claims of
    /// its XRD, kept in a secondary per its drProfile, failed over with its
    /// cell, moved with `idp migrate`.
    Data,
    /// A workload: runs on its placement's runtime cluster, follows the
    /// data it names.
    App,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Data => "data",
            Role::App => "app",
        }
    }
}

/// What a definition says of one request field beyond its XRD parameter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldDef {
    /// What a request that omits it gets, where the XRD has no default.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Boolean fields: the capabilities a primary must offer when true.
    #[serde(default)]
    pub gates: Vec<String>,
}
