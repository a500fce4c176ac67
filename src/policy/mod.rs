//! The placement policy: model, loading, validation and digest.
//!
//! A policy is data a platform team owns. Loading never trusts it: every
//! reference (gate, drProfile, cell candidate, traffic provider) is checked and
//! every problem is reported at its place in the file. This module reads no
//! files itself; callers hand it a [`Source`] (embedded, a file, or the state
//! repo's HEAD).

pub mod edit;
mod model;

use std::collections::BTreeSet;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

pub use model::*;

use crate::names;
use crate::yaml::{self, Node, PathSegment, Source, SourceError};

pub const API_VERSION: &str = "idp.platform.example.org/v1alpha1";

/// The default policy, embedded at build time.
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../policy/policy.yaml");

/// Where the policy in force came from, shown in notes and `policy show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOrigin {
    Embedded,
    File(String),
    StateRepo(String),
}

impl std::fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyOrigin::Embedded => f.write_str("the built-in default policy"),
            PolicyOrigin::File(path) => write!(f, "{path}"),
            PolicyOrigin::StateRepo(repo) => write!(f, "policy/policy.yaml in {repo}"),
        }
    }
}

/// A validated policy with its identity.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub origin: PolicyOrigin,
    /// `sha256:<hex>` of the file's bytes, recorded in every decision.
    pub digest: String,
}

impl LoadedPolicy {
    /// The built-in default policy, parsed once per process.
    pub fn embedded() -> Self {
        static EMBEDDED: std::sync::OnceLock<LoadedPolicy> = std::sync::OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                load(Source::new("policy/policy.yaml (built-in)", DEFAULT_POLICY_YAML), PolicyOrigin::Embedded)
                    .expect("the embedded default policy is validated by tests")
            })
            .clone()
    }
}

/// `sha256:<hex>` of a policy file's bytes. sha2 and ring both use the
/// CPU's SHA extensions where it has them (5.8 µs for the 10 KB default
/// policy either way, docs/performance.md); idp reads ring only for TLS.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum PolicyError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),

    #[error("{name}: the policy has {} problem{}", issues.len(), if issues.len() == 1 { "" } else { "s" })]
    #[diagnostic(code(idp::policy::invalid), help("fix each problem listed below"))]
    Invalid {
        name: String,
        #[related]
        issues: Vec<PolicyIssue>,
    },
}

/// One problem in a policy file, located.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
#[diagnostic(code(idp::policy::rule))]
pub struct PolicyIssue {
    pub message: String,
    location: String,
    #[help]
    help: Option<String>,
    #[source_code]
    src: NamedSource<Arc<String>>,
    #[label("{message}")]
    span: SourceSpan,
}

/// Parses and validates a policy.
pub fn load(source: Source, origin: PolicyOrigin) -> Result<LoadedPolicy, PolicyError> {
    let documents = yaml::parse_documents(&source)?;
    let mut checker = Checker { source: &source, root: &documents[0], issues: Vec::new() };
    if documents.len() > 1 {
        checker.issue(&[], "a policy file holds exactly one YAML document", Some("remove the extra `---` documents"));
    }
    let typed = (documents.len() == 1).then(|| yaml::from_node::<Policy>(&documents[0]));
    let policy = match typed {
        Some(Ok(policy)) => Some(policy),
        None => None,
        Some(Err(error)) => {
            let span = error.span.unwrap_or(documents[0].span);
            let help = "see policy/policy.yaml in the idp project for the reference shape".to_owned();
            checker.issues.push(checker.at(span, error.message(), Some(help)));
            None
        }
    };
    if let Some(policy) = &policy {
        checker.check(policy);
    }
    match policy {
        Some(policy) if checker.issues.is_empty() => {
            Ok(LoadedPolicy { policy, origin, digest: digest(source.text.as_bytes()) })
        }
        _ => Err(PolicyError::Invalid { name: source.name.clone(), issues: checker.issues }),
    }
}

/// Kubernetes API groups a traffic provider may never write: core objects
/// (Secrets, ServiceAccounts, ...), workloads, RBAC, admission webhooks and
/// CRDs. Traffic records are provider CRDs (`<group>.<domain>/<version>`).
fn forbidden_traffic_kind(api_version: &str, kind: &str) -> Option<&'static str> {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    if kind == "Secret" {
        Some("idp never writes Secrets; connection secrets are referenced by name")
    } else if !group.contains('.') {
        Some("core and built-in API groups are not traffic records")
    } else if group == "k8s.io" || group.ends_with(".k8s.io") {
        Some("Kubernetes' own API groups (RBAC, admission, CRDs, ...) are not traffic records")
    } else {
        None
    }
}

struct Checker<'a> {
    source: &'a Source,
    root: &'a Node,
    issues: Vec<PolicyIssue>,
}

use PathSegment::{Index, Key};

impl Checker<'_> {
    fn at(&self, span: SourceSpan, message: String, help: Option<String>) -> PolicyIssue {
        let (line, column) = self.source.line_col(span.offset());
        PolicyIssue {
            // Messages quote the file's names and values, which may hold anything.
            message: names::printable(&message),
            location: format!("{}:{line}:{column}", self.source.name),
            help,
            src: self.source.named(),
            span,
        }
    }

    fn issue(&mut self, path: &[PathSegment<'_>], message: impl Into<String>, help: Option<&str>) {
        let span = self.root.locate(path);
        let issue = self.at(span, message.into(), help.map(str::to_owned));
        self.issues.push(issue);
    }

    fn check(&mut self, p: &Policy) {
        if p.api_version != API_VERSION {
            self.issue(&[Key("apiVersion")], format!("apiVersion must be {API_VERSION}"), None);
        }
        if p.kind != "Policy" {
            self.issue(&[Key("kind")], "kind must be Policy", None);
        }
        if p.version.trim().is_empty() {
            self.issue(
                &[Key("version")],
                "version must not be empty",
                Some("every decision records it; use a date or a semantic version"),
            );
        }
        self.unique(&p.dimensions, &[Key("dimensions")], "dimension");
        self.unique(&p.capabilities, &[Key("capabilities")], "capability");
        self.unique(&p.sizes, &[Key("sizes")], "size");
        if p.dimensions.is_empty() {
            self.issue(&[Key("dimensions")], "at least one scoring dimension is needed", None);
        }
        if p.sizes.is_empty() {
            self.issue(&[Key("sizes")], "at least one size is needed", None);
        }
        if p.storage_gb.min == 0 || p.storage_gb.min > p.storage_gb.max {
            self.issue(&[Key("storageGB")], "storageGB needs 1 <= min <= max", None);
        }
        self.check_candidates(p);
        self.check_kube_contexts(p);
        self.check_tiers(p);
        self.check_environments(p);
        self.check_cells(p);
        self.check_governance(p);
        if !p.traffic.providers.contains_key(&p.traffic.default_provider) {
            self.issue(
                &[Key("traffic"), Key("defaultProvider")],
                format!("default traffic provider `{}` is not in traffic.providers", p.traffic.default_provider),
                None,
            );
        }
        for (name, provider) in &p.traffic.providers {
            self.label_name(name, &[Key("traffic"), Key("providers"), Key(name)], "traffic provider");
            if provider.kinds.is_empty() {
                self.issue(
                    &[Key("traffic"), Key("providers"), Key(name)],
                    format!("traffic provider {name} lists no kinds"),
                    Some("list the apiVersion/kind pairs its template renders"),
                );
            }
            if let Some(zone) = &provider.zone
                && !crate::names::is_dns_name(zone)
            {
                self.issue(
                    &[Key("traffic"), Key("providers"), Key(name), Key("zone")],
                    format!("traffic provider {name}: zone `{zone}` is not a DNS name"),
                    Some("name the DNS zone its records go in, e.g. example.org"),
                );
            }
        }
        for (name, provider) in &p.traffic.providers {
            for (i, k) in provider.kinds.iter().enumerate() {
                if let Some(why) = forbidden_traffic_kind(&k.api_version, &k.kind) {
                    self.issue(
                        &[Key("traffic"), Key("providers"), Key(name), Key("kinds"), Index(i)],
                        format!("traffic provider {name} may not write {} {}: {why}", k.api_version, k.kind),
                        Some("list only the provider's DNS and health-check kinds"),
                    );
                }
            }
        }
        for (field, value) in [("repoURL", &p.gitops.repo_url), ("revision", &p.gitops.revision)] {
            let plain = !value.is_empty()
                && value.len() <= 2048
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                && !value.contains("{{")
                && !value.contains("{%");
            let shown = crate::secrets::redact_url(value);
            if !plain {
                self.issue(
                    &[Key("gitops"), Key(field)],
                    format!("gitops.{field} `{shown}` must be a plain URL or ref: no spaces, control characters or template syntax"),
                    None,
                );
            } else if shown != value.as_str() {
                // Written into every Argo CD Application: in Git, for anyone who can read it.
                let span = self.root.locate(&[Key("gitops"), Key(field)]);
                let help = "give Argo CD the credentials in its repository Secret, never in the URL";
                let mut issue = self.at(span, format!("gitops.{field} `{shown}` holds a password"), Some(help.into()));
                // The snippet shows the line, not the password.
                let masked = crate::secrets::mask_url_passwords(&self.source.text).into_owned();
                issue.src = NamedSource::new(&self.source.name, Arc::new(masked)).with_language("yaml");
                self.issues.push(issue);
            }
        }
        if !crate::names::is_dns_name(&p.traffic.ingress_domain) {
            self.issue(
                &[Key("traffic"), Key("ingressDomain")],
                format!("ingressDomain `{}` is not a DNS name", p.traffic.ingress_domain),
                None,
            );
        }
        let gateway = &p.traffic.gateway;
        self.label_name(&gateway.name, &[Key("traffic"), Key("gateway"), Key("name")], "gateway name");
        self.label_name(&gateway.namespace, &[Key("traffic"), Key("gateway"), Key("namespace")], "gateway namespace");
    }

    fn check_kube_contexts(&mut self, p: &Policy) {
        let clusters: BTreeSet<&str> = p.candidates.iter().flat_map(|c| c.runtime_clusters()).collect();
        for (cluster, context) in &p.kube_contexts.runtime {
            let path = [Key("kubeContexts"), Key("runtime"), Key(cluster)];
            if !clusters.contains(cluster.as_str()) {
                let known: Vec<String> = clusters.iter().map(|c| (*c).to_owned()).collect();
                self.issue(&path, unknown("runtime cluster", cluster, &known), None);
            }
            if context.is_empty() {
                self.issue(&path, format!("the context of runtime cluster {cluster} is empty"), None);
            }
        }
        if p.kube_contexts.management.as_deref() == Some("") {
            self.issue(&[Key("kubeContexts"), Key("management")], "the management context is empty", None);
        }
    }

    fn check_candidates(&mut self, p: &Policy) {
        if p.candidates.is_empty() {
            self.issue(&[Key("candidates")], "the candidate pool is empty", None);
        }
        let mut seen = BTreeSet::new();
        for (i, c) in p.candidates.iter().enumerate() {
            let at = |field| [Key("candidates"), Index(i), Key(field)];
            if !seen.insert(c.id()) {
                self.issue(
                    &at("region"),
                    format!("candidate {} appears twice; candidates are unique by provider/region", c.id()),
                    None,
                );
            }
            self.label_name(&c.provider, &at("provider"), "provider");
            self.label_name(&c.region, &at("region"), "region");
            self.label_name(&c.runtime_cluster, &at("runtimeCluster"), "runtime cluster");
            for (environment, cluster) in &c.runtime_clusters {
                let path = [Key("candidates"), Index(i), Key("runtimeClusters"), Key(environment)];
                if !p.environments.contains_key(environment) {
                    let help = p
                        .resolve_environment(environment)
                        .map(|canonical| format!("`{environment}` is an alias; key the cluster by `{canonical}`"));
                    self.issue(&path, unknown("environment", environment, &keys(&p.environments)), help.as_deref());
                }
                self.label_name(cluster, &path, "runtime cluster");
            }
            for (key, value) in &c.network {
                if !names::is_label_value(key) || !names::is_label_value(value) {
                    self.issue(
                        &[Key("candidates"), Index(i), Key("network"), Key(key)],
                        format!(
                            "network entry `{key}: {value}` must be a plain identifier (letters, digits, '-', '_', '.')"
                        ),
                        None,
                    );
                }
            }
            for (j, cap) in c.capabilities.iter().enumerate() {
                if !p.capabilities.contains(cap) {
                    self.issue(
                        &[Key("candidates"), Index(i), Key("capabilities"), Index(j)],
                        unknown("capability", cap, &p.capabilities),
                        None,
                    );
                }
            }
            self.dimension_map(p, &c.scores, &[Key("candidates"), Index(i), Key("scores")], "score");
        }
    }

    fn check_tiers(&mut self, p: &Policy) {
        if p.tiers.is_empty() {
            self.issue(&[Key("tiers")], "at least one tier is needed", None);
        }
        for (name, tier) in &p.tiers {
            let at = |field| [Key("tiers"), Key(name), Key(field)];
            if !names::is_label_value(name) {
                self.issue(
                    &[Key("tiers"), Key(name)],
                    format!("tier name `{name}` must be a Kubernetes label value"),
                    None,
                );
            }
            for (field, gates) in [("gates", &tier.gates), ("secondary", &tier.secondary.gates)] {
                for gate in gates {
                    if !p.capabilities.contains(gate) {
                        self.issue(&at(field), unknown("gate capability", gate, &p.capabilities), None);
                    }
                }
            }
            let span = self.root.locate(&at("weights"));
            let before = self.issues.len();
            self.dimension_map(p, &tier.weights, &at("weights"), "weight");
            let sum: f64 = tier.weights.values().sum();
            if self.issues.len() == before && (sum - 1.0).abs() > 1e-9 {
                let issue = self.at(
                    span,
                    format!("weights of tier {name} sum to {sum}, not 1"),
                    Some("weights are shares of the total score; make them add up to 1".into()),
                );
                self.issues.push(issue);
            }
            if tier.rto_minutes.is_some() != tier.rpo_seconds.is_some() {
                self.issue(
                    &[Key("tiers"), Key(name)],
                    format!("tier {name} sets only one of rtoMinutes and rpoSeconds"),
                    Some("set both, or neither and take them from defaultDrProfile"),
                );
            }
            if tier.deletion_protection == Some(false) {
                self.issue(
                    &at("deletionProtection"),
                    format!("tier {name} sets deletionProtection: false, which turns nothing off"),
                    Some(
                        "a tier can only force deletion protection on (a database is protected when its environment or its tier says so); remove the key, or set the environment's deletionProtection",
                    ),
                );
            }
            match &tier.default_dr_profile {
                Some(profile) => match p.dr_profiles.get(profile) {
                    None => {
                        self.issue(&at("defaultDrProfile"), unknown("drProfile", profile, &keys(&p.dr_profiles)), None)
                    }
                    Some(dr) => {
                        if let Some(why) = weaker_than(dr, tier) {
                            self.issue(
                                &at("defaultDrProfile"),
                                format!("drProfile {profile} is weaker than tier {name}: {why}"),
                                Some("pick a stronger default drProfile or relax the tier's targets"),
                            );
                        }
                    }
                },
                None if tier.secondary.required => {
                    self.issue(
                        &[Key("tiers"), Key(name), Key("secondary")],
                        format!(
                            "tier {name} requires a secondary but names no defaultDrProfile to drive its replication"
                        ),
                        Some("add defaultDrProfile to the tier"),
                    );
                }
                None if tier.rto_minutes.is_none() => {
                    self.issue(
                        &[Key("tiers"), Key(name)],
                        format!("tier {name} has no rtoMinutes/rpoSeconds and no defaultDrProfile to take them from"),
                        None,
                    );
                }
                None => {}
            }
        }
    }

    fn check_environments(&mut self, p: &Policy) {
        if p.environments.is_empty() {
            self.issue(&[Key("environments")], "at least one environment is needed", None);
        }
        let mut seen = BTreeSet::new();
        for (name, env) in &p.environments {
            for n in std::iter::once(name).chain(&env.aliases) {
                if !seen.insert(n.clone()) {
                    self.issue(
                        &[Key("environments"), Key(name)],
                        format!("environment name or alias `{n}` is used twice"),
                        None,
                    );
                }
                self.label_name(n, &[Key("environments"), Key(name)], "environment");
            }
        }
    }

    fn check_cells(&mut self, p: &Policy) {
        if p.cells.is_empty() {
            self.issue(&[Key("cells")], "at least one cell is needed", None);
        }
        let ids: Vec<String> = p.candidates.iter().map(Candidate::id).collect();
        for (name, cell) in &p.cells {
            self.label_name(name, &[Key("cells"), Key(name)], "cell");
            for (i, id) in cell.candidates.iter().flatten().enumerate() {
                if !ids.contains(id) {
                    self.issue(
                        &[Key("cells"), Key(name), Key("candidates"), Index(i)],
                        unknown("candidate", id, &ids),
                        None,
                    );
                }
            }
            if let Some(provider) = &cell.traffic_provider
                && !p.traffic.providers.contains_key(provider)
            {
                let known: Vec<String> = p.traffic.providers.keys().cloned().collect();
                self.issue(
                    &[Key("cells"), Key(name), Key("trafficProvider")],
                    unknown("traffic provider", provider, &known),
                    None,
                );
            }
        }
    }

    /// Teams, prices and budgets may only name what the policy defines.
    fn check_governance(&mut self, p: &Policy) {
        let cells: Vec<String> = p.cells.keys().cloned().collect();
        let tiers: Vec<String> = p.tiers.keys().cloned().collect();
        let environments: Vec<String> = p.environments.keys().cloned().collect();
        for (team, rule) in &p.teams {
            for (field, values, known) in [
                ("cells", &rule.cells, &cells),
                ("tiers", &rule.tiers, &tiers),
                ("environments", &rule.environments, &environments),
            ] {
                for (i, value) in values.iter().flatten().enumerate() {
                    if !known.contains(value) {
                        let what = field.trim_end_matches('s');
                        self.issue(&[Key("teams"), Key(team), Key(field), Index(i)], unknown(what, value, known), None);
                    }
                }
            }
        }
        for (i, namespace) in p.allow_reserved_namespaces.iter().enumerate() {
            self.label_name(namespace, &[Key("allowReservedNamespaces"), Index(i)], "namespace");
        }
        if let Some(pricing) = &p.pricing {
            for provider in p.candidates.iter().map(|c| &c.provider) {
                if !pricing.providers.contains_key(provider) {
                    self.issue(&[Key("pricing"), Key("providers")], format!("no prices for provider {provider}"), None);
                }
            }
            for (provider, prices) in &pricing.providers {
                for size in &p.sizes {
                    if !prices.sizes.contains_key(size) {
                        self.issue(
                            &[Key("pricing"), Key("providers"), Key(provider), Key("sizes")],
                            format!("no price for size {size} on {provider}"),
                            None,
                        );
                    }
                }
                let all = prices.sizes.values().chain([&prices.per_gb, &prices.per_replica]);
                if all.into_iter().any(|v| !v.is_finite() || *v < 0.0) {
                    self.issue(
                        &[Key("pricing"), Key("providers"), Key(provider)],
                        format!("prices of {provider} must be non-negative numbers"),
                        None,
                    );
                }
            }
            for (field, value) in
                [("haMultiplier", pricing.ha_multiplier), ("secondaryMultiplier", pricing.secondary_multiplier)]
            {
                if !value.is_finite() || value < 0.0 {
                    self.issue(&[Key("pricing"), Key(field)], format!("{field} must be a non-negative number"), None);
                }
            }
        }
        for (cell, budget) in &p.budgets.cells {
            if !cells.contains(cell) {
                self.issue(&[Key("budgets"), Key("cells"), Key(cell)], unknown("cell", cell, &cells), None);
            }
            if !budget.monthly_usd.is_finite() || budget.monthly_usd < 0.0 {
                self.issue(&[Key("budgets"), Key("cells"), Key(cell)], "a budget must be a non-negative number", None);
            }
        }
        for (namespace, budget) in &p.budgets.namespaces {
            if !names::is_dns_label(namespace) || !budget.monthly_usd.is_finite() || budget.monthly_usd < 0.0 {
                self.issue(
                    &[Key("budgets"), Key("namespaces"), Key(namespace)],
                    format!("budget for `{namespace}` needs a DNS-1123 namespace and a non-negative monthlyUSD"),
                    None,
                );
            }
        }
    }

    /// Scores and weights: exactly the declared dimensions, each in 0..=1.
    fn dimension_map(
        &mut self,
        p: &Policy,
        map: &std::collections::BTreeMap<String, f64>,
        path: &[PathSegment<'_>],
        what: &str,
    ) {
        for dimension in &p.dimensions {
            if !map.contains_key(dimension) {
                self.issue(path, format!("missing {what} for dimension `{dimension}`"), None);
            }
        }
        for (key, value) in map {
            let mut at = path.to_vec();
            at.push(Key(key));
            if !p.dimensions.contains(key) {
                self.issue(&at, unknown("dimension", key, &p.dimensions), None);
            } else if !(0.0..=1.0).contains(value) {
                self.issue(&at, format!("{what} {value} is outside 0..=1"), None);
            }
        }
    }

    fn unique(&mut self, values: &[String], path: &[PathSegment<'_>], what: &str) {
        let mut seen = BTreeSet::new();
        for (i, v) in values.iter().enumerate() {
            if !seen.insert(v) {
                let mut at = path.to_vec();
                at.push(Index(i));
                self.issue(&at, format!("{what} `{v}` is listed twice"), None);
            }
        }
    }

    /// Names that end up in paths, labels and manifests must be plain.
    fn label_name(&mut self, value: &str, path: &[PathSegment<'_>], what: &str) {
        if !names::is_dns_label(value) {
            self.issue(
                path,
                format!("{what} `{value}` is not a DNS-1123 label"),
                Some("use lowercase letters, digits and '-', at most 63 characters"),
            );
        }
    }
}

/// Why a drProfile cannot meet a tier's targets, if it cannot.
pub fn weaker_than(dr: &DrProfile, tier: &Tier) -> Option<String> {
    let mut reasons = Vec::new();
    if let Some(rto) = tier.rto_minutes
        && dr.rto_minutes > rto
    {
        reasons.push(format!("RTO {} min > {rto} min", dr.rto_minutes));
    }
    if let Some(rpo) = tier.rpo_seconds
        && dr.rpo_seconds > rpo
    {
        reasons.push(format!("RPO {} s > {rpo} s", dr.rpo_seconds));
    }
    (!reasons.is_empty()).then(|| reasons.join(", "))
}

fn keys<V>(map: &indexmap::IndexMap<String, V>) -> Vec<String> {
    map.keys().cloned().collect()
}

fn unknown(what: &str, value: &str, valid: &[String]) -> String {
    format!("unknown {what} `{value}` (valid: {})", valid.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<LoadedPolicy, PolicyError> {
        load(Source::new("p.yaml", text), PolicyOrigin::File("p.yaml".into()))
    }

    fn messages(text: &str) -> Vec<String> {
        match load_text(text) {
            Err(PolicyError::Invalid { issues, .. }) => {
                issues.into_iter().map(|i| format!("{}: {}", i.location, i.message)).collect()
            }
            other => panic!("expected an invalid policy, got {other:?}"),
        }
    }

    #[test]
    fn embedded_default_holds_the_product_figures() {
        let loaded = LoadedPolicy::embedded();
        let p = &loaded.policy;
        assert_eq!(p.candidates.len(), 7);
        assert_eq!(
            p.tiers.keys().collect::<Vec<_>>(),
            ["low", "medium", "critical", "business_critical", "C0", "C1", "C2"]
        );
        assert_eq!(p.resolve_environment("prod"), Some("production"));
        assert_eq!(p.resolve_environment("production"), Some("production"));
        assert_eq!(p.resolve_environment("qa"), None);
        let oci = &p.candidates[5];
        assert_eq!((oci.id().as_str(), oci.scores["cost"]), ("oci/us-ashburn-1", 0.85));
        assert!(loaded.digest.starts_with("sha256:") && loaded.digest.len() == 71);
        assert_eq!(p.dr_profiles["gold"].rpo_seconds, 30);
        assert_eq!(p.traffic.default_provider, "oci-dns");
    }

    #[test]
    fn a_traffic_zone_must_be_a_dns_name() {
        let text = DEFAULT_POLICY_YAML.replacen("      zone: example.org\n", "      zone: org\n", 1);
        let found = messages(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("traffic provider oci-dns: zone `org` is not a DNS name"), "{found:?}");
        // Located at the zone itself.
        let line = text.lines().position(|l| l == "      zone: org").unwrap() + 1;
        assert!(found[0].starts_with(&format!("p.yaml:{line}:")), "{found:?}");
    }

    /// The Gateway apps' HTTPRoutes attach to: named by DNS labels, located when not,
    /// and the default for a policy written before the field.
    #[test]
    fn the_traffic_gateway_is_two_labels_and_has_a_default() {
        let line = "  gateway: { name: public, namespace: gateway-system }\n";
        assert!(DEFAULT_POLICY_YAML.contains(line));
        let text = DEFAULT_POLICY_YAML.replacen(line, "  gateway: { name: Public_GW, namespace: gateway-system }\n", 1);
        let found = messages(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("gateway name `Public_GW` is not a DNS-1123 label"), "{found:?}");
        let at = text.lines().position(|l| l.contains("Public_GW")).unwrap() + 1;
        assert!(found[0].starts_with(&format!("p.yaml:{at}:")), "{found:?}");
        let older = load_text(&DEFAULT_POLICY_YAML.replacen(line, "", 1)).unwrap();
        assert_eq!(older.policy.traffic.gateway, Gateway { name: "public".into(), namespace: "gateway-system".into() });
    }

    #[test]
    fn weights_must_sum_to_one() {
        let text = DEFAULT_POLICY_YAML.replace(
            "weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.25 }",
            "weights: { latency: 0.25, dr: 0.25, maturity: 0.25, cost: 0.30 }",
        );
        let found = messages(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("weights of tier medium sum to 1.05"), "{found:?}");
        // Located at the `weights` key of tier medium.
        let line = text.lines().position(|l| l.contains("cost: 0.30 }")).unwrap() + 1;
        assert!(found[0].starts_with(&format!("p.yaml:{line}:5:")), "{found:?}");
    }

    #[test]
    fn unknown_references_are_located() {
        let text = DEFAULT_POLICY_YAML
            .replace(
                "gates: [pitr, private_networking]\n    weights: { latency: 0.25",
                "gates: [pitr, private_net]\n    weights: { latency: 0.25",
            )
            .replace("defaultDrProfile: silver", "defaultDrProfile: platinum")
            .replace("candidates: [aws/us-east-1, gcp/us-central1", "candidates: [aws/us-east-9, gcp/us-central1");
        let found = messages(&text).join("\n");
        assert!(found.contains("unknown gate capability `private_net`"), "{found}");
        assert!(found.contains("unknown drProfile `platinum`"), "{found}");
        assert!(found.contains("unknown candidate `aws/us-east-9`"), "{found}");
    }

    #[test]
    fn duplicate_candidates_and_out_of_range_scores() {
        let text = DEFAULT_POLICY_YAML
            .replace("region: eu-west-1", "region: us-east-1")
            .replace("latency: 0.68", "latency: 1.68");
        let found = messages(&text).join("\n");
        assert!(found.contains("candidate aws/us-east-1 appears twice"), "{found}");
        assert!(found.contains("score 1.68 is outside 0..=1"), "{found}");
    }

    #[test]
    fn default_dr_profile_must_meet_tier_targets() {
        let text = DEFAULT_POLICY_YAML.replacen("defaultDrProfile: gold", "defaultDrProfile: bronze", 1);
        let found = messages(&text).join("\n");
        assert!(
            found.contains("drProfile bronze is weaker than tier low: RTO 240 min > 30 min, RPO 900 s > 300 s"),
            "{found}"
        );
    }

    #[test]
    fn a_required_secondary_needs_a_dr_profile() {
        let text = DEFAULT_POLICY_YAML.replacen("    defaultDrProfile: gold\n  medium:", "  medium:", 1);
        let found = messages(&text).join("\n");
        assert!(found.contains("tier low requires a secondary but names no defaultDrProfile"), "{found}");
    }

    #[test]
    fn typed_errors_and_hazards_are_reported_not_panicked() {
        let found =
            messages(&DEFAULT_POLICY_YAML.replace("version: \"2026.11.0\"", "version: \"2026.11.0\"\nextra: 1"));
        assert!(found[0].contains("extra"), "{found:?}");
        assert!(matches!(load_text("a: 1\na: 2\n"), Err(PolicyError::Source(_))));
        assert!(matches!(load_text(""), Err(PolicyError::Source(_))));
    }

    #[test]
    fn deletion_protection_is_the_environments_or_the_tiers() {
        let loaded = LoadedPolicy::embedded();
        let p = &loaded.policy;
        assert!(p.deletion_protection("production", "medium"));
        assert!(p.deletion_protection("prod", "C2"), "an alias names its environment");
        assert!(!p.deletion_protection("dev", "medium"));
        assert!(!p.deletion_protection("staging", "C0"));

        let text = DEFAULT_POLICY_YAML.replacen(
            "    defaultDrProfile: silver\n",
            "    defaultDrProfile: silver\n    deletionProtection: true\n",
            1,
        );
        let forced = load_text(&text).unwrap().policy;
        assert!(forced.deletion_protection("dev", "C1"), "the tier forces it on in dev");
        assert!(!forced.deletion_protection("dev", "C0"));
    }

    #[test]
    fn a_tier_cannot_turn_deletion_protection_off_and_unknown_keys_are_errors() {
        let text = DEFAULT_POLICY_YAML.replacen(
            "    defaultDrProfile: silver\n",
            "    defaultDrProfile: silver\n    deletionProtection: false\n",
            1,
        );
        let found = messages(&text).join("\n");
        assert!(found.contains("tier C1 sets deletionProtection: false, which turns nothing off"), "{found}");

        let typo = DEFAULT_POLICY_YAML.replace("deletionProtection: true }", "deletionProtecton: true }");
        let found = messages(&typo).join("\n");
        assert!(found.contains("deletionProtecton"), "{found}");
    }

    #[test]
    fn runtime_clusters_are_keyed_by_known_environments() {
        let text = DEFAULT_POLICY_YAML
            .replace("{ staging: aws-use1-stg-01, dev: aws-use1-dev-01 }", "{ prod: aws-use1-p2, qa: aws-use1-qa }")
            .replace("{ staging: oci-fra-stg-01, dev: oci-fra-dev-01 }", "{ dev: Oci_Fra }");
        let found = messages(&text);
        let located = |needle: &str| found.iter().find(|m| m.contains(needle)).unwrap_or_else(|| panic!("{found:#?}"));
        // An alias names an environment, but the map is keyed by canonical names.
        assert!(located("unknown environment `prod`").starts_with("p.yaml:30:"), "{found:#?}");
        assert!(located("unknown environment `qa`").starts_with("p.yaml:30:"), "{found:#?}");
        assert!(located("runtime cluster `Oci_Fra` is not a DNS-1123 label").starts_with("p.yaml:72:"));
        assert_eq!(found.len(), 3, "{found:#?}");

        let p = LoadedPolicy::embedded().policy;
        let aws = &p.candidates[0];
        assert_eq!(
            ["dev", "staging", "production"].map(|e| aws.runtime_cluster_in(e)),
            ["aws-use1-dev-01", "aws-use1-stg-01", "aws-use1-prod-01"]
        );
    }

    #[test]
    fn kube_contexts_name_known_runtime_clusters() {
        let text = format!(
            "{DEFAULT_POLICY_YAML}kubeContexts:\n  management: \"\"\n  runtime: {{ aws-use1-prod-01: eks-prod, aws-use1-prd-01: eks-prd }}\n"
        );
        let found = messages(&text).join("\n");
        assert!(found.contains("the management context is empty"), "{found}");
        assert!(found.contains("unknown runtime cluster `aws-use1-prd-01`"), "{found}");
        assert!(!found.contains("`aws-use1-prod-01`"), "{found}");
        let fine = format!(
            "{DEFAULT_POLICY_YAML}kubeContexts:\n  management: mgmt\n  runtime: {{ oci-fra-dev-01: oke-dev }}\n"
        );
        let loaded = load_text(&fine).unwrap();
        assert_eq!(loaded.policy.kube_contexts.management.as_deref(), Some("mgmt"));
    }

    #[test]
    fn hostile_names_in_a_policy_are_refused() {
        let text = DEFAULT_POLICY_YAML
            .replace("runtimeCluster: oci-fra-prod-01", "runtimeCluster: \"oci-fra\\n  evil: true\"");
        let found = messages(&text).join("\n");
        assert!(found.contains("runtime cluster") && found.contains("not a DNS-1123 label"), "{found}");
    }
}
