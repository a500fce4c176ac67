//! Where everything lives in a state repo (PRODUCT.md section 5), and what
//! every Kubernetes object idp derives from a request is called.
//!
//! Every path of the state repo and every derived object name is made here
//! and nowhere else, so that a rule about them (uniqueness, length limits) is
//! written once. A request's files are found by path from its kind,
//! namespace and name alone; nothing walks the tree to find them.

use crate::cell::Side;
use crate::names::{REPLICATION_SUFFIX, SECONDARY_SUFFIX};
use crate::request::Kind;

/// Present in every state repo; records which idp wrote its layout.
pub const MARKER_PATH: &str = ".idp/state.yaml";
pub const POLICY_PATH: &str = "policy/policy.yaml";
/// The policy's Rego rules, beside the policy.
pub const RULES_DIR: &str = "policy/rules";
/// Template overrides, by embedded template name.
pub const TEMPLATES_DIR: &str = "templates";
pub const REQUESTS_DIR: &str = "requests";
pub const PLACEMENTS_DIR: &str = "placements";
/// The Backstage `Location` that lists every entity under `catalog/`.
pub const CATALOG_LOCATION_PATH: &str = "catalog/location.yaml";
/// The state repo's README, written by `idp init`.
pub const README_PATH: &str = "README.md";

/// Folders that hold one request's files each: a file there that no request
/// renders is an orphan. Cell member files are the other such place
/// ([`is_member_path`]).
pub const REQUEST_PREFIXES: &[&str] = &["requests/", "placements/", "platform/", "workloads/", "catalog/"];

/// Every folder idp writes; uncommitted edits there block a write.
pub const MANAGED_PREFIXES: &[&str] = &[
    "requests/",
    "placements/",
    "platform/",
    "workloads/",
    "cells/",
    "policy/",
    "bootstrap/",
    "catalog/",
    "templates/",
];

/// `requests/<namespace>/<kind>-<name>.yaml`: the normalized request.
pub fn request_path(kind: Kind, namespace: &str, name: &str) -> String {
    format!("{REQUESTS_DIR}/{namespace}/{kind}-{name}.yaml")
}

/// `placements/<namespace>/`: the decision records of one namespace.
pub fn placements_dir(namespace: &str) -> String {
    format!("{PLACEMENTS_DIR}/{namespace}")
}

/// `placements/<namespace>/<kind>-<name>.yaml`: the decision record.
pub fn placement_path(kind: Kind, namespace: &str, name: &str) -> String {
    format!("{}/{kind}-{name}.yaml", placements_dir(namespace))
}

/// `catalog/<namespace>/<kind>-<name>.yaml`: the request's Backstage entity.
pub fn catalog_path(kind: Kind, namespace: &str, name: &str) -> String {
    format!("catalog/{namespace}/{kind}-{name}.yaml")
}

/// `platform/<namespace>/<kind>-<name>/`: what the management cluster applies.
pub fn platform_dir(kind: Kind, namespace: &str, name: &str) -> String {
    format!("platform/{namespace}/{kind}-{name}")
}

/// A database's claim on one side: `platform/<ns>/mysql-<name>/<side>.yaml`.
pub fn claim_path(namespace: &str, name: &str, side: Side) -> String {
    format!("{}/{}.yaml", platform_dir(Kind::MySql, namespace, name), side.as_str())
}

/// A database's replication claim: `platform/<ns>/mysql-<name>/replication.yaml`.
pub fn replication_path(namespace: &str, name: &str) -> String {
    format!("{}/replication.yaml", platform_dir(Kind::MySql, namespace, name))
}

/// An app's Argo CD Application for one side.
pub fn application_path(namespace: &str, name: &str, side: Side) -> String {
    format!("{}/application-{}.yaml", platform_dir(Kind::App, namespace, name), side.as_str())
}

/// An app's traffic records (its public host's failover DNS).
pub fn dns_path(namespace: &str, name: &str) -> String {
    format!("{}/dns.yaml", platform_dir(Kind::App, namespace, name))
}

/// `workloads/<namespace>/<name>/`: an app's workload manifests.
pub fn workload_dir(namespace: &str, name: &str) -> String {
    format!("workloads/{namespace}/{name}")
}

/// `workloads/<namespace>/<name>/<side>/`: what one side's Application syncs.
pub fn workload_side_dir(namespace: &str, name: &str, side: Side) -> String {
    format!("{}/{}", workload_dir(namespace, name), side.as_str())
}

/// The app and side a path under `workloads/<namespace>/<name>/<side>/` is of.
pub fn workload_side_of(path: &str) -> Option<(String, String, Side)> {
    let mut parts = path.strip_prefix("workloads/")?.split('/');
    let (namespace, name, side) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    let side = [Side::Primary, Side::Secondary].into_iter().find(|s| s.as_str() == side)?;
    Some((namespace.into(), name.into(), side))
}

/// The request a manifest's path says it belongs to (`kind namespace/name`):
/// `platform/<ns>/<kind>-<name>/…` or an app's `workloads/<ns>/<name>/…`.
pub fn request_of_manifest(path: &str) -> Option<String> {
    if let Some((namespace, name, _)) = workload_side_of(path) {
        return Some(format!("{} {namespace}/{name}", Kind::App));
    }
    let mut parts = path.strip_prefix("platform/")?.split('/');
    let (namespace, stem) = (parts.next()?, parts.next()?);
    parts.next()?;
    let (kind, name) = stem.split_once('-')?;
    Some(format!("{kind} {namespace}/{name}"))
}

/// An embedded template's override in the state repo.
pub fn template_path(template: &str) -> String {
    format!("{TEMPLATES_DIR}/{template}")
}

/// The Argo CD bootstrap written by `idp init`.
pub fn bootstrap_path(file: &str) -> String {
    format!("bootstrap/argocd/{file}")
}

/// `cells/<cell>/`: every environment of a cell.
pub fn cell_dir(cell: &str) -> String {
    format!("cells/{cell}")
}

/// `cells/<cell>/<environment>.yaml`: the active side and failover events.
pub fn cell_state_path(cell: &str, environment: &str) -> String {
    format!("{}/{environment}.yaml", cell_dir(cell))
}

/// `cells/<cell>/<environment>/members/`: one file per request in the cell.
pub fn members_dir(cell: &str, environment: &str) -> String {
    format!("{}/{environment}/members", cell_dir(cell))
}

/// `cells/<cell>/<environment>/members/<namespace>/`: one namespace's members.
pub fn namespace_members_dir(cell: &str, environment: &str, namespace: &str) -> String {
    format!("{}/{namespace}", members_dir(cell, environment))
}

/// `cells/<cell>/<environment>/members/<namespace>/<kind>-<name>.yaml`.
pub fn member_path(cell: &str, environment: &str, kind: Kind, namespace: &str, name: &str) -> String {
    format!("{}/{kind}-{name}.yaml", namespace_members_dir(cell, environment, namespace))
}

/// Whether a path is a stored request.
pub fn is_request_path(path: &str) -> bool {
    path.strip_prefix(REQUESTS_DIR).is_some_and(|rest| rest.starts_with('/'))
}

/// Whether a path is a cell member file.
pub fn is_member_path(path: &str) -> bool {
    path.starts_with("cells/") && path.contains("/members/")
}

/// Whether a path holds Kubernetes manifests that Argo CD applies.
pub fn is_manifest_path(path: &str) -> bool {
    path.starts_with("platform/") || path.starts_with("workloads/")
}

/// The request a per-request file names: `<dir>/<namespace>/<kind>-<name>.yaml`
/// under `requests/`, `placements/` or `catalog/`. The kind is as written
/// (not checked), so that a file idp cannot read is still attributed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestFileName {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl RequestFileName {
    pub fn parse(path: &str) -> Option<Self> {
        let (_, rest) = path.strip_suffix(".yaml")?.split_once('/')?;
        let (namespace, stem) = rest.split_once('/')?;
        let (kind, name) = stem.split_once('-')?;
        Some(Self { kind: kind.into(), namespace: namespace.into(), name: name.into() })
    }

    /// What a request file's path alone says belongs to it, whatever the
    /// file holds (so a request that stopped validating still owns its live
    /// files): its placement record, its platform folder, an app's
    /// workloads, its Backstage entity and its cell membership.
    pub fn owns(&self, path: &str) -> bool {
        let Self { kind, namespace, name } = self;
        let stem = format!("{kind}-{name}");
        path == format!("{PLACEMENTS_DIR}/{namespace}/{stem}.yaml")
            || path == format!("catalog/{namespace}/{stem}.yaml")
            || path.starts_with(&format!("platform/{namespace}/{stem}/"))
            || (kind == "app" && path.starts_with(&format!("{}/", workload_dir(namespace, name))))
            || (is_member_path(path) && path.ends_with(&format!("/members/{namespace}/{stem}.yaml")))
    }

    /// The request a file belongs to, read from its path alone: the request
    /// file itself, or a file that request [owns](Self::owns). None for a
    /// file no request owns (the policy, a cell's state, the catalog's
    /// Location, ...). One lookup per path, so a commit's changed files are
    /// attributed without trying every request.
    pub fn owner_of(path: &str) -> Option<Self> {
        let named = |namespace: &str, stem: &str| {
            let (kind, name) = stem.split_once('-')?;
            Some(Self { kind: kind.into(), namespace: namespace.into(), name: name.into() })
        };
        let owner = if let Some(rest) = path.strip_prefix("platform/") {
            let (namespace, rest) = rest.split_once('/')?;
            named(namespace, rest.split_once('/')?.0)?
        } else if let Some(rest) = path.strip_prefix("workloads/") {
            let (namespace, rest) = rest.split_once('/')?;
            let name = rest.split_once('/')?.0;
            Self { kind: Kind::App.cli_name().into(), namespace: namespace.into(), name: name.into() }
        } else if is_member_path(path) {
            let (namespace, file) = path.split_once("/members/")?.1.split_once('/')?;
            named(namespace, file.strip_suffix(".yaml")?)?
        } else {
            Self::parse(path)?
        };
        (is_request_path(path) || owner.owns(path)).then_some(owner)
    }
}

/// A database's claim on one side: the primary keeps the request's name.
pub fn claim_name(name: &str, side: Side) -> String {
    match side {
        Side::Primary => name.to_owned(),
        Side::Secondary => format!("{name}{SECONDARY_SUFFIX}"),
    }
}

/// The connection secret Crossplane writes for a side's claim; only its name
/// is ever known to idp.
pub fn secret_name(name: &str, side: Side) -> String {
    format!("{}-conn", claim_name(name, side))
}

/// The prefix of the environment variables an app gets from a database's
/// connection secret when it names several: `REPORTS_DB_` for `reports-db`
/// (`_1DB_` for `1db`, as a variable may not start with a digit). Database
/// names are lowercase DNS labels, so two of them never share a prefix.
pub fn env_prefix(database: &str) -> String {
    let upper = database.to_ascii_uppercase().replace('-', "_");
    if upper.starts_with(|c: char| c.is_ascii_digit()) { format!("_{upper}_") } else { format!("{upper}_") }
}

/// A database's replication claim.
pub fn replication_name(name: &str) -> String {
    format!("{name}{REPLICATION_SUFFIX}")
}

/// An app's Argo CD Application for one side (in Argo CD's namespace, so it
/// carries the request's namespace in its name).
pub fn application_name(namespace: &str, name: &str, side: Side) -> String {
    format!("{namespace}-{name}-{}", side.as_str())
}

/// The base name of an app's traffic objects (cluster-scoped or in the
/// provider's namespace); the traffic templates suffix it per object.
pub fn traffic_name(namespace: &str, name: &str) -> String {
    format!("{namespace}-{name}")
}

/// Another request whose derived object names can equal this one's: it
/// and this request would render the same Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTwin {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The object both would render, as `Kind namespace/name`.
    pub object: String,
    pub when: TwinWhen,
}

/// When a twin's names really meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwinWhen {
    /// Whenever both requests exist.
    Always,
    /// When this request has a secondary (its secondary claim takes the twin's name).
    ThisHasSecondary,
    /// When the twin has a secondary (its secondary claim takes this request's name).
    TwinHasSecondary,
}

/// Every request whose derived names can equal those of `kind
/// namespace/name`: the names above join their parts with `-`, which
/// requests' names may contain too. An app's Applications and traffic
/// objects are named from `<namespace>-<name>`, so `team-a/web-x` and
/// `team-a-web/x` meet; a database's secondary claim is `<name>-secondary`,
/// so `orders` (with a secondary) and `orders-secondary` meet (no new
/// database ends in a reserved suffix, so one of the two was placed before
/// that rule). Plan and apply look these few paths up and refuse a meeting;
/// `verify` checks every object of the repo, hand-written ones included.
pub fn name_twins(kind: Kind, namespace: &str, name: &str) -> Vec<NameTwin> {
    let mut twins = Vec::new();
    match kind {
        Kind::App => {
            let base = traffic_name(namespace, name);
            let object = format!("Application argocd/{}", application_name(namespace, name, Side::Primary));
            for (at, _) in base.match_indices('-') {
                let (twin_namespace, twin_name) = (&base[..at], &base[at + 1..]);
                if twin_namespace != namespace
                    && crate::names::is_dns_label(twin_namespace)
                    && crate::names::is_dns_label(twin_name)
                {
                    twins.push(NameTwin {
                        kind,
                        namespace: twin_namespace.into(),
                        name: twin_name.into(),
                        object: object.clone(),
                        when: TwinWhen::Always,
                    });
                }
            }
        }
        Kind::MySql => {
            let secondary = claim_name(name, Side::Secondary);
            if crate::names::is_dns_label(&secondary) {
                twins.push(NameTwin {
                    kind,
                    namespace: namespace.into(),
                    object: format!("MySQLInstanceClaim {namespace}/{secondary}"),
                    name: secondary,
                    when: TwinWhen::ThisHasSecondary,
                });
            }
            if let Some(primary) = name.strip_suffix(SECONDARY_SUFFIX) {
                twins.push(NameTwin {
                    kind,
                    namespace: namespace.into(),
                    name: primary.into(),
                    object: format!("MySQLInstanceClaim {namespace}/{name}"),
                    when: TwinWhen::TwinHasSecondary,
                });
            }
        }
    }
    twins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_path_owns_exactly_its_files() {
        let owner = RequestFileName::parse(&request_path(Kind::App, "team", "web")).unwrap();
        for path in [
            placement_path(Kind::App, "team", "web"),
            catalog_path(Kind::App, "team", "web"),
            application_path("team", "web", Side::Secondary),
            dns_path("team", "web"),
            format!("{}/deployment.yaml", workload_side_dir("team", "web", Side::Primary)),
            member_path("payments", "production", Kind::App, "team", "web"),
        ] {
            assert!(owner.owns(&path), "{path}");
        }
        for path in [
            placement_path(Kind::App, "team", "web-2"),
            application_path("team", "webx", Side::Primary),
            claim_path("team", "web", Side::Primary),
            member_path("payments", "production", Kind::App, "other", "web"),
        ] {
            assert!(!owner.owns(&path), "{path}");
        }
        let database = RequestFileName::parse(&request_path(Kind::MySql, "team", "web")).unwrap();
        assert!(database.owns(&replication_path("team", "web")));
        assert!(!database.owns(&format!("{}/deployment.yaml", workload_side_dir("team", "web", Side::Primary))));
        assert_eq!(
            RequestFileName::parse("placements/team/app-web-x.yaml"),
            Some(RequestFileName { kind: "app".into(), namespace: "team".into(), name: "web-x".into() })
        );
        assert!(RequestFileName::parse("placements/team.yaml").is_none());
    }

    #[test]
    fn manifests_name_their_request() {
        let deployment = format!("{}/deployment.yaml", workload_side_dir("team", "web-x", Side::Secondary));
        assert_eq!(workload_side_of(&deployment), Some(("team".into(), "web-x".into(), Side::Secondary)));
        assert_eq!(request_of_manifest(&deployment).as_deref(), Some("app team/web-x"));
        assert_eq!(
            request_of_manifest(&claim_path("team", "orders-db", Side::Primary)).as_deref(),
            Some("mysql team/orders-db")
        );
        assert_eq!(request_of_manifest("bootstrap/argocd/appproject.yaml"), None);
        assert_eq!(workload_side_of("workloads/team/web/tertiary/x.yaml"), None);
    }

    #[test]
    fn env_prefixes_are_variable_names() {
        assert_eq!(env_prefix("reports-db"), "REPORTS_DB_");
        assert_eq!(env_prefix("1db"), "_1DB_");
        assert_ne!(env_prefix("a-b"), env_prefix("ab"));
    }

    #[test]
    fn every_file_of_a_request_leads_back_to_it_and_no_other_file_does() {
        for (kind, namespace, name) in [(Kind::App, "team", "web"), (Kind::MySql, "team-x", "a-db")] {
            let owner = RequestFileName::parse(&request_path(kind, namespace, name)).unwrap();
            let mut files = vec![
                request_path(kind, namespace, name),
                placement_path(kind, namespace, name),
                catalog_path(kind, namespace, name),
                format!("{}/primary.yaml", platform_dir(kind, namespace, name)),
                member_path("payments", "production", kind, namespace, name),
            ];
            if kind == Kind::App {
                files.push(format!("{}/deployment.yaml", workload_side_dir(namespace, name, Side::Secondary)));
            }
            for file in files {
                assert_eq!(RequestFileName::owner_of(&file).as_ref(), Some(&owner), "{file}");
                assert!(is_request_path(&file) || owner.owns(&file), "{file}");
            }
        }
        for path in [
            CATALOG_LOCATION_PATH,
            POLICY_PATH,
            MARKER_PATH,
            README_PATH,
            &cell_state_path("payments", "production"),
            &template_path("mysql/claim-primary.yaml"),
            &bootstrap_path("root-app.yaml"),
            "platform/team/README.md",
            "workloads/team/README.md",
        ] {
            assert_eq!(RequestFileName::owner_of(path), None, "{path}");
        }
    }

    #[test]
    fn paths_are_where_product_md_puts_them() {
        assert_eq!(request_path(Kind::MySql, "team", "db"), "requests/team/mysql-db.yaml");
        assert_eq!(claim_path("team", "db", Side::Secondary), "platform/team/mysql-db/secondary.yaml");
        assert_eq!(
            member_path("payments", "production", Kind::App, "b", "web"),
            "cells/payments/production/members/b/app-web.yaml"
        );
        assert!(is_member_path(&member_path("c", "e", Kind::MySql, "n", "x")));
        assert!(!is_member_path(&cell_state_path("c", "e")));
    }

    /// Labels of a few words that idp's names are made of, so that names
    /// meet often: `a`, `a-secondary`, `b-primary-a`.
    fn label() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        proptest::collection::vec(proptest::sample::select(vec!["a", "b", "primary", "secondary", "replication"]), 1..4)
            .prop_map(|words| words.join("-"))
    }

    /// Two (namespace, name) pairs: unrelated, or one string cut in two places.
    fn two_pairs() -> impl proptest::strategy::Strategy<Value = ((String, String), (String, String))> {
        use proptest::strategy::Strategy;
        let cut = |words: &[&str], at: usize| (words[..at].join("-"), words[at..].join("-"));
        proptest::prop_oneof![
            (label(), label(), label(), label()).prop_map(|(a, b, c, d)| ((a, b), (c, d))),
            proptest::collection::vec(
                proptest::sample::select(vec!["a", "b", "primary", "secondary", "replication"]),
                2..6
            )
            .prop_flat_map(move |words| {
                let n = words.len();
                (proptest::strategy::Just(words), 1..n, 1..n)
            })
            .prop_map(move |(words, i, j)| (cut(&words, i), cut(&words, j))),
        ]
    }

    proptest::proptest! {
        /// The twin list is complete: whenever two apps' derived names
        /// meet, each names the other as a twin.
        #[test]
        fn apps_whose_names_meet_are_twins(((ns1, n1), (ns2, n2)) in two_pairs()) {
            proptest::prop_assume!((&ns1, &n1) != (&ns2, &n2));
            let meet = [Side::Primary, Side::Secondary].iter().any(|&s1| {
                [Side::Primary, Side::Secondary].iter().any(|&s2| application_name(&ns1, &n1, s1) == application_name(&ns2, &n2, s2))
            }) || traffic_name(&ns1, &n1) == traffic_name(&ns2, &n2);
            let twins = name_twins(Kind::App, &ns1, &n1);
            let named = twins.iter().any(|t| t.namespace == ns2 && t.name == n2 && t.when == TwinWhen::Always);
            proptest::prop_assert_eq!(meet, named, "{}/{} and {}/{}: {:?}", ns1, n1, ns2, n2, twins);
        }

        /// Likewise for databases in one namespace: their claims and
        /// connection secrets meet only where the twin list says.
        #[test]
        fn databases_whose_names_meet_are_twins(n1 in label(), n2 in label()) {
            proptest::prop_assume!(n1 != n2);
            let twins = name_twins(Kind::MySql, "team", &n1);
            let pairs = [
                (Side::Primary, Side::Primary, TwinWhen::Always),
                (Side::Secondary, Side::Primary, TwinWhen::ThisHasSecondary),
                (Side::Primary, Side::Secondary, TwinWhen::TwinHasSecondary),
            ];
            for (s1, s2, when) in pairs {
                let meet = claim_name(&n1, s1) == claim_name(&n2, s2);
                proptest::prop_assert_eq!(meet, secret_name(&n1, s1) == secret_name(&n2, s2));
                let named = twins.iter().any(|t| t.name == n2 && t.when == when);
                proptest::prop_assert_eq!(meet, named, "{} {:?} and {} {:?}: {:?}", n1, s1, n2, s2, twins);
            }
            // Two secondaries meet only if their requests do.
            proptest::prop_assert_ne!(claim_name(&n1, Side::Secondary), claim_name(&n2, Side::Secondary));
            proptest::prop_assert_ne!(replication_name(&n1), replication_name(&n2));
        }

        /// Over the names a new database may have (none ends in a reserved
        /// suffix), no two databases' claims (of either kind) or connection
        /// secrets share a name, and no claim of a database shares one with
        /// another of its own.
        #[test]
        fn admitted_databases_never_share_a_name(n1 in label(), n2 in label()) {
            proptest::prop_assume!(
                crate::names::reserved_suffix(&n1).is_none() && crate::names::reserved_suffix(&n2).is_none()
            );
            let objects = |name: &str| {
                [
                    ("claim", "primary", claim_name(name, Side::Primary)),
                    ("claim", "secondary", claim_name(name, Side::Secondary)),
                    ("claim", "replication", replication_name(name)),
                    ("secret", "primary", secret_name(name, Side::Primary)),
                    ("secret", "secondary", secret_name(name, Side::Secondary)),
                ]
            };
            for (kind1, role1, object1) in objects(&n1) {
                proptest::prop_assert!(crate::names::is_dns_label(&object1), "{}", object1);
                for (kind2, role2, object2) in objects(&n2) {
                    if kind1 == kind2 && object1 == object2 {
                        proptest::prop_assert_eq!(
                            (&n1, role1), (&n2, role2), "{} is {} of {} and {} of {}", object1, role1, n1, role2, n2
                        );
                    }
                }
            }
        }
    }
}
