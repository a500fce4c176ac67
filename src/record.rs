//! The placement record stored under `placements/`: the sticky source and the
//! audit of a decision.

use serde::{Deserialize, Serialize};

use crate::layout::NameScheme;
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

    pub fn parse(text: &str) -> Result<Self, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a placement record always serializes")
    }
}

/// The databases an app uses, and how it came to use them: what its
/// deployment is wired to, what its catalog entity depends on, and what
/// `verify` and `failover` hold its placement to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataLink {
    /// A database, or an app that names none (and follows none).
    None,
    /// Named in the app's `spec.database`: databases of its own namespace,
    /// in the order named.
    Named { namespace: String, names: Vec<String> },
    /// Followed without being named, as apps were placed before they named
    /// their data: the one database the placement's reason names, possibly
    /// of another namespace. A stored request keeps it until it changes.
    Implicit { namespace: String, name: String },
}

impl DataLink {
    /// An app's link, from its request and its placement's reason.
    pub fn of(request: &Request, reason: &Reason) -> Self {
        if request.kind != Kind::App {
            return DataLink::None;
        }
        if !request.databases().is_empty() {
            return DataLink::Named { namespace: request.namespace.clone(), names: request.databases().to_vec() };
        }
        match reason.follows.as_deref().and_then(parse_follows) {
            Some((namespace, name)) => DataLink::Implicit { namespace, name },
            None => DataLink::None,
        }
    }

    /// The databases, as (namespace, name).
    pub fn databases(&self) -> Vec<(&str, &str)> {
        match self {
            DataLink::None => Vec::new(),
            DataLink::Named { namespace, names } => names.iter().map(|n| (namespace.as_str(), n.as_str())).collect(),
            DataLink::Implicit { namespace, name } => vec![(namespace.as_str(), name.as_str())],
        }
    }

    /// What a placement's `reason.follows` says for this link:
    /// `mysql <namespace>/<name>`, several joined by `, `.
    pub fn follows(&self) -> Option<String> {
        let databases = self.databases();
        (!databases.is_empty()).then(|| {
            databases.iter().map(|(ns, name)| format!("{} {ns}/{name}", Kind::MySql)).collect::<Vec<_>>().join(", ")
        })
    }
}

/// `mysql <namespace>/<name>`, as apps placed before they named their data
/// record the one database they followed.
fn parse_follows(follows: &str) -> Option<(String, String)> {
    let (kind, id) = follows.split_once(' ')?;
    let (namespace, name) = id.split_once('/')?;
    (Kind::from_cli_name(kind) == Some(Kind::MySql) && !name.contains(' '))
        .then(|| (namespace.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_links_to_the_databases_it_names_or_to_the_one_it_followed() {
        let (_, mut app, decision) = crate::test_support::payments_c0();
        app.kind = Kind::App;
        app.spec = crate::test_support::app_spec(None, Vec::new());
        let mut reason = decision.reason.clone();
        assert_eq!(DataLink::of(&app, &reason), DataLink::None);
        reason.follows = Some("mysql team-ledger/ledger-db".into());
        let implicit = DataLink::of(&app, &reason);
        assert_eq!(implicit, DataLink::Implicit { namespace: "team-ledger".into(), name: "ledger-db".into() });
        assert_eq!(implicit.follows(), reason.follows);
        if let crate::request::Spec::App { databases, .. } = &mut app.spec {
            *databases = vec!["a".into(), "b".into()];
        }
        let named = DataLink::of(&app, &reason);
        assert_eq!(named.databases(), [(app.namespace.as_str(), "a"), (app.namespace.as_str(), "b")]);
        assert_eq!(named.follows(), Some(format!("mysql {0}/a, mysql {0}/b", app.namespace)));
        // A reason joining several is never read as one database.
        app.spec = crate::test_support::app_spec(None, Vec::new());
        reason.follows = named.follows();
        assert_eq!(DataLink::of(&app, &reason), DataLink::None);
    }

    #[test]
    fn records_round_trip_through_yaml() {
        let (_, request, decision) = crate::test_support::payments_c0();
        for names in [NameScheme::Joined, NameScheme::Separated] {
            let record = PlacementRecord::new(&request, &decision, names);
            let text = record.to_yaml();
            assert_eq!(PlacementRecord::parse(&text).unwrap(), record, "{text}");
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
        assert_eq!(PlacementRecord::parse(&joined).unwrap().names(), NameScheme::Joined);
        let one = format!("{joined}names: 1\n");
        assert_eq!(PlacementRecord::parse(&one).unwrap().names(), NameScheme::Joined);
        let error = PlacementRecord::parse(&format!("{joined}names: 3\n")).unwrap_err().to_string();
        assert!(error.contains("unknown naming scheme 3"), "{error}");
    }
}
