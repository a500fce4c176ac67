//! The policy as data: what a platform team writes in `policy/policy.yaml`.
//!
//! Maps keep file order (IndexMap) so listings follow the author's order and
//! every output is deterministic.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    pub api_version: String,
    pub kind: String,
    pub version: String,
    pub dimensions: Vec<String>,
    pub capabilities: Vec<String>,
    pub sizes: Vec<String>,
    #[serde(rename = "storageGB")]
    pub storage_gb: StorageRange,
    pub candidates: Vec<Candidate>,
    pub tiers: IndexMap<String, Tier>,
    pub dr_profiles: IndexMap<String, DrProfile>,
    pub environments: IndexMap<String, Environment>,
    pub cells: IndexMap<String, Cell>,
    pub traffic: Traffic,
    pub gitops: Gitops,
    /// Which cells, tiers and environments each namespace (team) may use.
    #[serde(default)]
    pub teams: IndexMap<String, TeamRule>,
    /// Monthly price estimates; without them costs are not estimated.
    #[serde(default)]
    pub pricing: Option<Pricing>,
    #[serde(default)]
    pub budgets: Budgets,
    /// Reserved namespaces ([`RESERVED_NAMESPACES`], `kube-*`, the Gateway's)
    /// that requests may use all the same. Empty by default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_reserved_namespaces: Vec<String>,
    /// The kubeconfig contexts idp reads live state with (read-only).
    #[serde(default, skip_serializing_if = "KubeContexts::is_empty")]
    pub kube_contexts: KubeContexts,
}

/// Kubeconfig contexts per cluster. Without a `management` entry the
/// management cluster is the kubeconfig's current context, so a platform
/// engineer's kubectl setup just works; `--context` overrides both.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeContexts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<String>,
    /// Per runtime cluster (as the candidates name them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime: BTreeMap<String, String>,
}

impl KubeContexts {
    pub fn is_empty(&self) -> bool {
        self.management.is_none() && self.runtime.is_empty()
    }
}

/// Namespaces of the clusters' own system and of the platform (Argo CD,
/// Crossplane, External Secrets, the Gateway, ...): a request there would put
/// a team's objects beside, or in place of, the platform's. Every `kube-*`
/// namespace and the policy's `traffic.gateway.namespace` are reserved too.
pub const RESERVED_NAMESPACES: [&str; 10] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "crossplane-system",
    "upbound-system",
    "external-secrets",
    "gateway-system",
    "cert-manager",
    "flux-system",
];

/// What a team may use; an absent list allows everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamRule {
    pub cells: Option<Vec<String>>,
    pub tiers: Option<Vec<String>>,
    pub environments: Option<Vec<String>>,
}

/// Monthly list prices in USD, per provider. Estimates, not invoices.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pricing {
    pub providers: IndexMap<String, ProviderPrices>,
    /// `ha: true` multiplies the instance and storage price.
    pub ha_multiplier: f64,
    /// A secondary costs this share of what the same database costs there.
    pub secondary_multiplier: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderPrices {
    /// Per instance size.
    pub sizes: IndexMap<String, f64>,
    #[serde(rename = "perGB")]
    pub per_gb: f64,
    /// One app replica.
    pub per_replica: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budgets {
    #[serde(default)]
    pub cells: IndexMap<String, Budget>,
    #[serde(default)]
    pub namespaces: IndexMap<String, Budget>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budget {
    #[serde(rename = "monthlyUSD")]
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageRange {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Candidate {
    pub provider: String,
    pub region: String,
    /// The cluster that runs apps placed here, in every environment not
    /// listed in `runtime_clusters`.
    pub runtime_cluster: String,
    /// Per environment (canonical name), the cluster to use instead: dev and
    /// staging workloads do not belong on a production cluster.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_clusters: BTreeMap<String, String>,
    pub network: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    pub scores: BTreeMap<String, f64>,
    /// Skipped for new placements (outage, drain, deprecation); existing
    /// placements stay and `verify` reports them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cordoned: bool,
}

impl Candidate {
    /// `provider/region`, the identity of a candidate in the pool and in cells.
    pub fn id(&self) -> String {
        format!("{}/{}", self.provider, self.region)
    }

    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The runtime cluster for `environment` (a canonical name).
    pub fn runtime_cluster_in(&self, environment: &str) -> &str {
        self.runtime_clusters.get(environment).unwrap_or(&self.runtime_cluster)
    }

    /// Every runtime cluster this candidate names, whatever the environment.
    pub fn runtime_clusters(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.runtime_cluster.as_str()).chain(self.runtime_clusters.values().map(String::as_str))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tier {
    /// Absent for tiers whose targets come from their drProfile (C0..C2).
    pub rto_minutes: Option<u32>,
    pub rpo_seconds: Option<u32>,
    pub gates: Vec<String>,
    pub weights: BTreeMap<String, f64>,
    pub secondary: SecondaryRule,
    pub default_dr_profile: Option<String>,
    /// `true` turns deletion protection on for the tier's databases in every
    /// environment; only `true` is valid (validation refuses `false`, which
    /// could not turn an environment's protection off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecondaryRule {
    pub required: bool,
    pub gates: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrProfile {
    pub compute_mode: ComputeMode,
    pub replication: Replication,
    pub traffic: String,
    pub rto_minutes: u32,
    pub rpo_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComputeMode {
    Warm,
    Pilot,
    Cold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replication {
    GoldengateCdc,
    BackupRestore,
}

impl ComputeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ComputeMode::Warm => "warm",
            ComputeMode::Pilot => "pilot",
            ComputeMode::Cold => "cold",
        }
    }
}

impl Replication {
    pub fn as_str(self) -> &'static str {
        match self {
            Replication::GoldengateCdc => "goldengate-cdc",
            Replication::BackupRestore => "backup-restore",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Databases here get the cloud's deletion protection: removing one
    /// takes an `idp delete --unprotect` commit first.
    #[serde(default)]
    pub deletion_protection: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cell {
    /// `provider/region` ids this cell may place on; absent = the whole pool.
    pub candidates: Option<Vec<String>>,
    /// Overrides `traffic.defaultProvider` for this cell.
    pub traffic_provider: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Traffic {
    pub default_provider: String,
    /// Apps on runtime cluster `C` are reached at `C.<ingressDomain>`.
    pub ingress_domain: String,
    /// The Gateway (Gateway API) that answers there: every runtime cluster
    /// runs one of this name and namespace, and each app with a public
    /// host attaches an HTTPRoute to it. Policies written before the field
    /// get [`Gateway::default`].
    #[serde(default)]
    pub gateway: Gateway,
    /// Each provider renders from `templates/traffic/<name>/record.yaml.j2`
    /// and may write only the kinds listed here.
    pub providers: IndexMap<String, TrafficProvider>,
}

/// A Gateway every runtime cluster runs, by name and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gateway {
    pub name: String,
    pub namespace: String,
}

impl Default for Gateway {
    fn default() -> Self {
        Self { name: "public".into(), namespace: "gateway-system".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficProvider {
    pub kinds: Vec<AllowedKind>,
    /// The DNS zone the provider writes public hosts into (`example.org`);
    /// every app's publicHost must lie within it. Unset: each host's own
    /// parent (the host minus its first label), as before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// A kind a template may produce, and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowedKind {
    pub api_version: String,
    pub kind: String,
    /// Namespaced kinds go in the request's namespace; others have none.
    pub namespaced: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gitops {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub revision: String,
}

impl Policy {
    /// Where `provider/region` stands in the candidate pool.
    pub fn candidate_index(&self, provider: &str, region: &str) -> Option<usize> {
        self.candidates.iter().position(|c| c.provider == provider && c.region == region)
    }

    /// The candidate `provider/region` (a placement's), if the pool still has it.
    pub fn candidate(&self, provider: &str, region: &str) -> Option<&Candidate> {
        self.candidate_index(provider, region).map(|i| &self.candidates[i])
    }

    /// The canonical environment name for a name or alias.
    pub fn resolve_environment(&self, name: &str) -> Option<&str> {
        self.environments
            .iter()
            .find(|(canonical, env)| *canonical == name || env.aliases.iter().any(|a| a == name))
            .map(|(canonical, _)| canonical.as_str())
    }

    /// Every name an environment may be written as, for "valid values" lists.
    pub fn environment_names(&self) -> Vec<String> {
        self.environments
            .iter()
            .flat_map(|(name, env)| std::iter::once(name.clone()).chain(env.aliases.iter().cloned()))
            .collect()
    }

    /// Whether a candidate may serve a cell.
    pub fn cell_allows(&self, cell: &str, candidate: &Candidate) -> bool {
        match self.cells.get(cell).and_then(|c| c.candidates.as_ref()) {
            Some(allowed) => allowed.iter().any(|id| *id == candidate.id()),
            None => true,
        }
    }

    /// Why a namespace may not use a cell, tier or environment, if it may not.
    /// A namespace without its own rule follows `teams.default`, if any.
    pub fn team_refusal(&self, namespace: &str, field: &str, value: &str) -> Option<(String, Vec<String>)> {
        let rule = self.teams.get(namespace).or_else(|| self.teams.get("default"))?;
        let allowed = match field {
            "cell" => rule.cells.as_ref(),
            "tier" => rule.tiers.as_ref(),
            "environment" => rule.environments.as_ref(),
            _ => None,
        }?;
        (!allowed.iter().any(|a| a == value))
            .then(|| (format!("namespace {namespace} may not use {field} {value}"), allowed.clone()))
    }

    /// Whether `namespace` is reserved and the policy does not let requests
    /// use it all the same (`allowReservedNamespaces`).
    pub fn reserved_namespace(&self, namespace: &str) -> bool {
        let reserved = namespace.starts_with("kube-")
            || RESERVED_NAMESPACES.contains(&namespace)
            || namespace == self.traffic.gateway.namespace;
        reserved && !self.allow_reserved_namespaces.iter().any(|allowed| allowed == namespace)
    }

    /// The traffic provider of a cell: its own, else the default.
    pub fn traffic_provider(&self, cell: &str) -> &str {
        self.cells.get(cell).and_then(|c| c.traffic_provider.as_deref()).unwrap_or(&self.traffic.default_provider)
    }

    /// The zone the traffic provider of `cell` names, if it names one.
    pub fn traffic_zone(&self, cell: &str) -> Option<&str> {
        self.traffic.providers.get(self.traffic_provider(cell)).and_then(|p| p.zone.as_deref())
    }

    /// The DNS zone `host`'s records go in for an app in `cell`: the traffic
    /// provider's zone, else the host's parent (the derivation used before
    /// providers named a zone, kept so that a policy without one renders
    /// what it always did).
    pub fn zone_of<'a>(&'a self, cell: &str, host: &'a str) -> &'a str {
        self.traffic_zone(cell).unwrap_or_else(|| host.split_once('.').map_or(host, |(_, parent)| parent))
    }

    /// Whether a database of `tier` in `environment` (a name or alias) gets
    /// the cloud's deletion protection: its environment's setting, or its
    /// tier's when that forces it on.
    pub fn deletion_protection(&self, environment: &str, tier: &str) -> bool {
        let by_environment = self
            .resolve_environment(environment)
            .and_then(|name| self.environments.get(name))
            .is_some_and(|e| e.deletion_protection);
        let by_tier = self.tiers.get(tier).is_some_and(|t| t.deletion_protection == Some(true));
        by_environment || by_tier
    }

    /// The drProfile in force for a tier when the request names none.
    pub fn effective_dr_profile<'a>(&'a self, tier: &'a Tier, requested: Option<&'a str>) -> Option<&'a str> {
        requested.or(tier.default_dr_profile.as_deref())
    }
}
