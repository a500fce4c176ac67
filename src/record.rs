//! The placement record stored under `placements/`: the sticky source and the
//! audit of a decision.

use serde::{Deserialize, Serialize};

use crate::layout::NameScheme;
use crate::policy::Replication;
use crate::product::Products;
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
    /// How the request's objects are named (`2`, [`NameScheme::Separated`]);
    /// absent for [`NameScheme::Joined`], so records written before there
    /// was a choice read, and are written, as they were. Kept on every
    /// re-plan: a renamed Application would be deleted with its workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<NameScheme>,
    /// A database's primary claim generation: 0 (absent) names it after the
    /// request, `n` after the `n`th migration moved it (`<name>-m<n>`,
    /// `layout::claim_name`). Kept on every re-plan, like the placement.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: u32,
    /// A database's `idp migrate` in progress: the stages committed, and the
    /// claim it moves from or to (`idp migrate --finish` ends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<Migration>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A database moving to a new claim in another place, with its data
/// (`idp migrate`). Before the cutover the record's primary is still the
/// old claim and `to` the new one; the cutover makes the new one the
/// primary (and its generation the record's), and the old one stays,
/// fenced and replicated to, until `--finish` removes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Migration {
    /// The last stage committed.
    pub stage: MigrationStage,
    /// Where the data comes from: the primary when the migration started.
    pub from: Target,
    pub from_generation: u32,
    /// Where it goes: the new claim.
    pub to: Target,
    pub to_generation: u32,
    /// How the data is copied: `goldengate-cdc` or `backup-restore`.
    pub replication: Replication,
    pub started_at: String,
    pub by: String,
    pub reason: Option<String>,
    /// What the cluster reported of each stage before the next one landed.
    #[serde(default)]
    pub observed: Vec<MigrationObservation>,
    /// The lag read once the fence stopped writes (the gate before the cutover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_lag_seconds: Option<f64>,
    /// `--force` went past a missing or high lag reading.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forced: bool,
    /// `--finish --unprotect` turned the old claim's deletion protection off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unprotected: bool,
}

/// The commits of a migration, in the order they land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationStage {
    /// The new claim exists, fenced read-only, and replication copies into it.
    Provision,
    /// The old claim is fenced too: no writes anywhere while the lag drains.
    Fence,
    /// The new claim is the writer; apps and the DR replication use it, and
    /// replication runs back to the old claim until `--finish`.
    Cutover,
}

impl MigrationStage {
    pub const ALL: [MigrationStage; 3] = [MigrationStage::Provision, MigrationStage::Fence, MigrationStage::Cutover];

    pub fn as_str(self) -> &'static str {
        match self {
            MigrationStage::Provision => "provision",
            MigrationStage::Fence => "fence",
            MigrationStage::Cutover => "cutover",
        }
    }
}

/// A migration stage whose effect the management cluster reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MigrationObservation {
    pub stage: MigrationStage,
    pub at: String,
    pub cluster: String,
}

impl Migration {
    /// What goes on from the committed stage, for `request` (`mysql ns/name`).
    pub fn next(&self, request: &str) -> String {
        match self.stage {
            MigrationStage::Cutover => format!(
                "it is cut over to {}: `idp migrate {request} --finish --allow-destroy` deletes the old claim once it is no longer needed",
                self.to.id()
            ),
            _ => format!("`idp migrate {request} --resume` goes on from there; `idp rollback` undoes the last stage"),
        }
    }

    /// The other claim of the migration (not the record's primary): the new
    /// one before the cutover, the old one after it, with its place.
    pub fn other(&self) -> (u32, &Target) {
        if self.stage >= MigrationStage::Cutover {
            (self.from_generation, &self.from)
        } else {
            (self.to_generation, &self.to)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMetadata {
    pub name: String,
    pub namespace: String,
}

impl PlacementRecord {
    /// The record of a decision, for a request whose objects are named with `names`.
    pub fn new(request: &Request, decision: &Decision, names: NameScheme) -> Self {
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
            names: (names != NameScheme::Joined).then_some(names),
            generation: 0,
            migration: None,
        }
    }

    /// The same record, keeping what a re-plan never changes from `stored`:
    /// its database's claim generation and migration in progress.
    pub fn keeping(self, stored: Option<&PlacementRecord>) -> Self {
        match stored {
            Some(stored) => Self { generation: stored.generation, migration: stored.migration.clone(), ..self },
            None => self,
        }
    }

    /// How the request's objects are named.
    pub fn names(&self) -> NameScheme {
        self.names.unwrap_or(NameScheme::Joined)
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

    /// A record's text, its kind resolved against `products`.
    pub fn parse(text: &str, products: &Products) -> Result<Self, serde_saphyr::Error> {
        crate::request::resolving(products, || serde_saphyr::from_str(text))
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a placement record always serializes")
    }
}

/// What a request's files need from the placement records of the databases
/// they name: each database's claim generation (its own, or for an app, those
/// it uses: whose connection secrets it reads), and a database's own
/// migration in progress.
#[derive(Debug, Clone, Default)]
pub struct DataClaims {
    generations: std::collections::BTreeMap<(String, String), u32>,
    /// The product of each database an app uses (its catalog entity depends
    /// on `<product>-<name>`).
    kinds: std::collections::BTreeMap<(String, String), Kind>,
    pub migration: Option<Migration>,
}

impl DataClaims {
    /// No database of a later generation, no migration: a new request's.
    pub const NONE: DataClaims = DataClaims {
        generations: std::collections::BTreeMap::new(),
        kinds: std::collections::BTreeMap::new(),
        migration: None,
    };

    /// A database's, from its own record.
    pub fn of_database(record: &PlacementRecord) -> Self {
        let mut claims = Self { migration: record.migration.clone(), ..Self::default() };
        claims.insert(record);
        claims
    }

    /// A database's record: its product and its claim's generation.
    pub fn insert(&mut self, record: &PlacementRecord) {
        let key = (record.metadata.namespace.clone(), record.metadata.name.clone());
        if record.generation > 0 {
            self.generations.insert(key.clone(), record.generation);
        }
        self.kinds.insert(key, record.request_kind);
    }

    /// A database's product, known before its record is written (placed
    /// by the same plan).
    pub fn know(&mut self, kind: Kind, namespace: &str, name: &str) {
        self.kinds.entry((namespace.to_owned(), name.to_owned())).or_insert(kind);
    }

    /// The product of a database placed, if it is.
    pub fn kind_of(&self, namespace: &str, name: &str) -> Option<Kind> {
        self.kinds.get(&(namespace.to_owned(), name.to_owned())).copied()
    }

    /// The generation of a database's primary claim (0: named after it).
    pub fn generation(&self, namespace: &str, name: &str) -> u32 {
        self.generations.get(&(namespace.to_owned(), name.to_owned())).copied().unwrap_or(0)
    }
}

/// The databases an app uses, and how it came to use them: what its
/// deployment is wired to, what its catalog entity depends on, and what
/// `verify` and `failover` hold its placement to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataLink {
    /// A database, or an app that names none (and follows none).
    None,
    /// Named in the app's `spec.database` (all on one placement, which
    /// the app follows) or `spec.dependsOn` (`first_only`: the app follows
    /// the first; the others are delivered wherever they are): data requests
    /// of its own namespace, in the order named.
    Named { namespace: String, names: Vec<String>, first_only: bool },
    /// Followed without being named, as apps were placed before they named
    /// their data: the one database the placement's reason names, possibly
    /// of another namespace. A stored request keeps it until it changes.
    Implicit { kind: String, namespace: String, name: String },
}

impl DataLink {
    /// An app's link, from its request and its placement's reason.
    pub fn of(request: &Request, reason: &Reason) -> Self {
        if !request.kind.is_app() {
            return DataLink::None;
        }
        if !request.databases().is_empty() {
            return DataLink::Named {
                namespace: request.namespace.clone(),
                names: request.databases().to_vec(),
                first_only: request.depends_on().is_some(),
            };
        }
        match reason.follows.as_deref().and_then(parse_follows) {
            Some((kind, namespace, name)) => DataLink::Implicit { kind, namespace, name },
            None => DataLink::None,
        }
    }

    /// The databases, as (namespace, name).
    pub fn databases(&self) -> Vec<(&str, &str)> {
        match self {
            DataLink::None => Vec::new(),
            DataLink::Named { namespace, names, .. } => {
                names.iter().map(|n| (namespace.as_str(), n.as_str())).collect()
            }
            DataLink::Implicit { namespace, name, .. } => vec![(namespace.as_str(), name.as_str())],
        }
    }

    /// The databases whose placement the app shares: all it names in
    /// `spec.database`, the first of `spec.dependsOn`, the one it followed.
    pub fn followed(&self) -> Vec<(&str, &str)> {
        let mut databases = self.databases();
        if let DataLink::Named { first_only: true, .. } = self {
            databases.truncate(1);
        }
        databases
    }

    /// What a placement's `reason.follows` says for this link:
    /// `<product> <namespace>/<name>`, several joined by `, `; `kind_of`
    /// says which data product holds a named request (None: not placed, and
    /// shown as `<namespace>/<name>`).
    pub fn follows(&self, kind_of: impl Fn(&str, &str) -> Option<Kind>) -> Option<String> {
        if let DataLink::Implicit { kind, namespace, name } = self {
            return Some(format!("{kind} {namespace}/{name}"));
        }
        let databases = self.databases();
        (!databases.is_empty()).then(|| {
            let shown = |(ns, name): &(&str, &str)| match kind_of(ns, name) {
                Some(kind) => format!("{kind} {ns}/{name}"),
                None => format!("{ns}/{name}"),
            };
            databases.iter().map(shown).collect::<Vec<_>>().join(", ")
        })
    }
}

/// `<product> <namespace>/<name>`, as apps placed before they named their
/// data record the one database they followed (`mysql`, the only data
/// product then).
fn parse_follows(follows: &str) -> Option<(String, String, String)> {
    let (kind, id) = follows.split_once(' ')?;
    let (namespace, name) = id.split_once('/')?;
    (!kind.is_empty() && !name.contains(' ')).then(|| (kind.to_owned(), namespace.to_owned(), name.to_owned()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn an_app_links_to_the_databases_it_names_or_to_the_one_it_followed() {
        let (_, mut app, decision) = crate::test_support::payments_c0();
        app.kind = crate::test_support::app();
        app.spec = crate::test_support::app_spec(None, Vec::new());
        let mut reason = decision.reason.clone();
        assert_eq!(DataLink::of(&app, &reason), DataLink::None);
        reason.follows = Some("mysql team-ledger/ledger-db".into());
        let implicit = DataLink::of(&app, &reason);
        assert_eq!(
            implicit,
            DataLink::Implicit { kind: "mysql".into(), namespace: "team-ledger".into(), name: "ledger-db".into() }
        );
        let placed = |_: &str, _: &str| Some(crate::test_support::mysql());
        assert_eq!(implicit.follows(|_, _| None), reason.follows);
        if let crate::request::Spec::App { databases, .. } = &mut app.spec {
            *databases = vec!["a".into(), "b".into()];
        }
        let named = DataLink::of(&app, &reason);
        assert_eq!(named.databases(), [(app.namespace.as_str(), "a"), (app.namespace.as_str(), "b")]);
        assert_eq!(named.follows(placed), Some(format!("mysql {0}/a, mysql {0}/b", app.namespace)));
        assert_eq!(named.follows(|_, _| None), Some(format!("{0}/a, {0}/b", app.namespace)));
        // A reason joining several is never read as one database.
        app.spec = crate::test_support::app_spec(None, Vec::new());
        reason.follows = named.follows(placed);
        assert_eq!(DataLink::of(&app, &reason), DataLink::None);
    }

    /// A record mid-migration, as `idp migrate` writes it at `stage`.
    pub(crate) fn migrating(stage: MigrationStage) -> PlacementRecord {
        let (_, request, decision) = crate::test_support::payments_c0();
        let mut record = PlacementRecord::new(&request, &decision, NameScheme::Joined);
        let mut to = decision.primary.clone();
        to.region = "eu-west-1".into();
        let migration = Migration {
            stage,
            from: decision.primary.clone(),
            from_generation: 0,
            to: to.clone(),
            to_generation: 1,
            replication: Replication::GoldengateCdc,
            started_at: "2026-12-07T01:00:00Z".into(),
            by: "Ops <ops@example.org>".into(),
            reason: Some("leave us-east-1".into()),
            observed: Vec::new(),
            observed_lag_seconds: None,
            forced: false,
            unprotected: false,
        };
        if stage == MigrationStage::Cutover {
            (record.primary, record.generation) = (to, 1);
        }
        record.migration = Some(migration);
        record
    }

    #[test]
    fn a_migration_round_trips_and_names_its_other_claim_by_stage() {
        for stage in MigrationStage::ALL {
            let record = migrating(stage);
            let text = record.to_yaml();
            assert_eq!(PlacementRecord::parse(&text, Products::embedded()).unwrap(), record, "{text}");
            let migration = record.migration.as_ref().unwrap();
            // Before the cutover the other claim is the new one; after it, the old one.
            let (generation, target) = migration.other();
            match stage {
                MigrationStage::Cutover => assert_eq!((generation, target), (0, &migration.from)),
                _ => assert_eq!((generation, target), (1, &migration.to)),
            }
            assert_eq!(text.contains("generation: 1"), stage == MigrationStage::Cutover, "{text}");
            let claims = DataClaims::of_database(&record);
            assert_eq!(claims.generation("team", "db"), record.generation);
        }
        // A record without either field reads as generation 0, no migration, and writes neither.
        let (_, request, decision) = crate::test_support::payments_c0();
        let plain = PlacementRecord::new(&request, &decision, NameScheme::Joined).to_yaml();
        assert!(!plain.contains("generation") && !plain.contains("migration"), "{plain}");
    }

    #[test]
    fn records_round_trip_through_yaml() {
        let (_, request, decision) = crate::test_support::payments_c0();
        for names in [NameScheme::Joined, NameScheme::Separated] {
            let record = PlacementRecord::new(&request, &decision, names);
            let text = record.to_yaml();
            assert_eq!(PlacementRecord::parse(&text, Products::embedded()).unwrap(), record, "{text}");
            assert_eq!(record.names(), names);
        }
    }

    #[test]
    fn a_record_says_its_naming_scheme_only_when_it_is_not_the_first() {
        let (_, request, decision) = crate::test_support::payments_c0();
        let joined = PlacementRecord::new(&request, &decision, NameScheme::Joined).to_yaml();
        assert!(!joined.contains("names:"), "{joined}");
        let separated = PlacementRecord::new(&request, &decision, NameScheme::Separated).to_yaml();
        assert!(separated.ends_with("names: 2\n"), "{separated}");
        // A record without the field is of the first scheme; `names: 1` says so too.
        assert_eq!(PlacementRecord::parse(&joined, Products::embedded()).unwrap().names(), NameScheme::Joined);
        let one = format!("{joined}names: 1\n");
        assert_eq!(PlacementRecord::parse(&one, Products::embedded()).unwrap().names(), NameScheme::Joined);
        let error =
            PlacementRecord::parse(&format!("{joined}names: 3\n"), Products::embedded()).unwrap_err().to_string();
        assert!(error.contains("unknown naming scheme 3"), "{error}");
    }
}
