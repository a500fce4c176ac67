//! Where everything lives in a state repo (PRODUCT.md section 5), and what
//! every Kubernetes object idp derives from a request is called.
//!
//! Every path of the state repo and every derived object name is made here
//! and nowhere else, so that a rule about them (uniqueness, length limits) is
//! written once. A request's files are found by path from its kind,
//! namespace and name alone; nothing walks the tree to find them.

use crate::cell::Side;
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
        Side::Secondary => format!("{name}-secondary"),
    }
}

/// The connection secret Crossplane writes for a side's claim; only its name
/// is ever known to idp.
pub fn secret_name(name: &str, side: Side) -> String {
    format!("{}-conn", claim_name(name, side))
}

/// A database's replication claim.
pub fn replication_name(name: &str) -> String {
    format!("{name}-replication")
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
}
