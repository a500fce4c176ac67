//! Where everything lives in a state repo (PRODUCT.md section 5), and what
//! every Kubernetes object idp derives from a request is called.
//!
//! Every path of the state repo and every derived object name is made here
//! and nowhere else, so that a rule about them (uniqueness, length limits) is
//! written once. A request's files are found by path from its kind,
//! namespace and name alone; nothing walks the tree to find them.

use serde::{Deserialize, Serialize};

use crate::cell::Side;
use crate::names::{APP_SEPARATOR, MIGRATION_SUFFIX, REPLICATION_SUFFIX, SECONDARY_SUFFIX};
use crate::product::{APP_PRODUCT, Role};
use crate::request::Kind;

/// Present in every state repo; records which idp wrote its layout.
pub const MARKER_PATH: &str = ".idp/state.yaml";
/// The policy and its rules.
pub const POLICY_DIR: &str = "policy";
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
    "argocd/",
];

/// The Applications the root Application (`bootstrap/argocd/`) applies: one per
/// cell and environment, and one for the namespaces.
pub const ARGOCD_DIR: &str = "argocd";
/// The Application that syncs every `platform/<namespace>/namespace.yaml`.
pub const NAMESPACES_APPLICATION_PATH: &str = "argocd/namespaces.yaml";

/// `requests/<namespace>/<kind>-<name>.yaml`: the normalized request.
pub fn request_path(kind: Kind, namespace: &str, name: &str) -> String {
    request_path_of(kind.cli_name(), namespace, name)
}

/// [`request_path`] of a product named in words (a commit's trailer), which
/// may no longer be in force.
pub fn request_path_of(kind: &str, namespace: &str, name: &str) -> String {
    format!("{REQUESTS_DIR}/{namespace}/{kind}-{name}.yaml")
}

/// `placements/<namespace>/`: the decision records of one namespace.
pub fn placements_dir(namespace: &str) -> String {
    format!("{PLACEMENTS_DIR}/{namespace}")
}

/// `placements/<namespace>/<kind>-<name>.yaml`: the decision record.
pub fn placement_path(kind: Kind, namespace: &str, name: &str) -> String {
    placement_path_of(kind.cli_name(), namespace, name)
}

/// [`placement_path`] of a product named in words (a path, a trailer).
pub fn placement_path_of(kind: &str, namespace: &str, name: &str) -> String {
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

/// `platform/<namespace>/namespace.yaml`: the Namespace that a team's
/// claims live in on the management cluster, shared by its databases (so
/// owned by none of them).
pub fn namespace_path(namespace: &str) -> String {
    format!("platform/{namespace}/namespace.yaml")
}

/// Whether a path is a namespace's manifest ([`namespace_path`]).
pub fn is_namespace_path(path: &str) -> bool {
    path.strip_prefix("platform/")
        .and_then(|rest| rest.strip_suffix("/namespace.yaml"))
        .is_some_and(|namespace| !namespace.is_empty() && !namespace.contains('/'))
}

pub use crate::request::CellOf;

/// `platform/<ns>/<kind>-<name>/<cell>.<environment>.<what>.yaml`. The cell and
/// environment lead the file name so that the cell's Argo CD Application selects
/// exactly its files with one glob ([`cell_include`]) while every file stays the
/// request's own (a file listing a cell's members would be shared by every commit
/// of the cell, and make reverts conflict). Cells and environments are DNS labels,
/// which hold no `.`: no other cell's files match.
fn platform_file(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str, what: &str) -> String {
    format!("{}/{}.{}.{what}.yaml", platform_dir(kind, namespace, name), at.cell, at.environment)
}

/// A database's claim on one side; the primary claim of a later generation
/// (`idp migrate`) has a file of its own (`primary-m1`), so that each commit
/// of a migration changes each claim's file alone.
pub fn claim_path(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str, side: Side, generation: u32) -> String {
    match (side, generation) {
        (Side::Primary, 1..) => platform_file(kind, at, namespace, name, &format!("primary-m{generation}")),
        _ => platform_file(kind, at, namespace, name, side.as_str()),
    }
}

/// A database's migration replication claim (`idp migrate`).
pub fn migration_path(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str) -> String {
    platform_file(kind, at, namespace, name, "migration")
}

/// A database's replication claim.
pub fn replication_path(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str) -> String {
    platform_file(kind, at, namespace, name, "replication")
}

/// An app's Argo CD Application for one side.
pub fn application_path(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str, side: Side) -> String {
    platform_file(kind, at, namespace, name, &format!("application-{}", side.as_str()))
}

/// An app's PushSecrets for one side: each database's connection secret,
/// copied from the management cluster to the side's runtime cluster.
pub fn push_secrets_path(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str, side: Side) -> String {
    platform_file(kind, at, namespace, name, &format!("secrets-{}", side.as_str()))
}

/// An app's traffic records (its public host's failover DNS).
pub fn dns_path(kind: Kind, at: CellOf<'_>, namespace: &str, name: &str) -> String {
    platform_file(kind, at, namespace, name, "dns")
}

/// The name the same file had before files were named by cell
/// (`platform/<ns>/<kind>-<name>/<what>.yaml`), which state repos written by
/// an older idp still hold until the request is applied again.
pub fn legacy_platform_path(path: &str, at: CellOf<'_>) -> Option<String> {
    let (dir, file) = path.rsplit_once('/')?;
    let what = file.strip_prefix(&format!("{}.{}.", at.cell, at.environment))?;
    path.starts_with("platform/").then(|| format!("{dir}/{what}"))
}

/// The glob (relative to `platform/`) by which a cell's Application selects
/// its requests' files: Argo CD matches `directory.include` against each
/// file's path relative to the source path, with `*` crossing `/`
/// (argo-cd reposerver/repository/repository.go, getPotentiallyValidManifestFile;
/// util/glob/glob.go compiles it without separators).
pub fn cell_include(at: CellOf<'_>) -> String {
    format!("*/*/{}.{}.*.yaml", at.cell, at.environment)
}

/// `argocd/cells/<cell>/<environment>.yaml`: the cell's Argo CD Application.
pub fn cell_application_path(at: CellOf<'_>) -> String {
    format!("{ARGOCD_DIR}/cells/{}/{}.yaml", at.cell, at.environment)
}

/// The name of a cell's Argo CD Application: `cell--<cell>--<environment>`,
/// cut and told apart by a hash when longer than a label (Argo CD tracks its
/// resources by the Application's name in a label). No app's Application
/// has this shape: an app's namespace and name hold no `--`, and its name
/// ends in its side.
pub fn cell_application_name(at: CellOf<'_>) -> String {
    let whole = format!("cell{APP_SEPARATOR}{}{APP_SEPARATOR}{}", at.cell, at.environment);
    if whole.len() <= 63 {
        return whole;
    }
    let head = whole[..63 - HASH_HEX - APP_SEPARATOR.len()].trim_end_matches('-');
    format!("{head}{APP_SEPARATOR}{}", short_hash(&whole))
}

/// `workloads/<namespace>/<name>/`: an app's workload manifests.
pub fn workload_dir(namespace: &str, name: &str) -> String {
    format!("workloads/{namespace}/{name}")
}

/// `workloads/<namespace>/<name>/<side>/`: what one side's Application syncs.
pub fn workload_side_dir(namespace: &str, name: &str, side: Side) -> String {
    format!("{}/{}", workload_dir(namespace, name), side.as_str())
}

/// `<workload side dir>/kustomization.yaml`: the side's file list for kustomize,
/// not a Kubernetes object.
pub fn kustomization_path(workload_side_dir: &str) -> String {
    format!("{workload_side_dir}/kustomization.yaml")
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
        return Some(format!("{APP_PRODUCT} {namespace}/{name}"));
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

/// The argocd-cm merge patch with idp's health checks, written by `idp init`. Outside
/// `bootstrap/argocd/`, which the operator applies whole with `kubectl apply`: a patch is
/// merged into Argo CD's own ConfigMap with `kubectl patch`, never applied over it.
pub const ARGOCD_CM_PATCH_PATH: &str = "bootstrap/argocd-cm/health-checks.patch.yaml";

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
    (path.starts_with("platform/") || path.starts_with("workloads/") || path.starts_with("argocd/"))
        && !path.ends_with("/kustomization.yaml")
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
            || (kind == APP_PRODUCT && path.starts_with(&format!("{}/", workload_dir(namespace, name))))
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
            Self { kind: APP_PRODUCT.into(), namespace: namespace.into(), name: name.into() }
        } else if is_member_path(path) {
            let (namespace, file) = path.split_once("/members/")?.1.split_once('/')?;
            named(namespace, file.strip_suffix(".yaml")?)?
        } else {
            Self::parse(path)?
        };
        (is_request_path(path) || owner.owns(path)).then_some(owner)
    }
}

/// A database's claim on one side: the primary keeps the request's name
/// until a migration gives it a new claim of the next generation
/// (`orders-m1`); the secondary, which a migration never moves, keeps its own.
pub fn claim_name(name: &str, side: Side, generation: u32) -> String {
    match (side, generation) {
        (Side::Primary, 0) => name.to_owned(),
        (Side::Primary, n) => format!("{name}-m{n}"),
        (Side::Secondary, _) => format!("{name}{SECONDARY_SUFFIX}"),
    }
}

/// The connection secret Crossplane writes for a side's claim; only its name
/// is ever known to idp.
pub fn secret_name(name: &str, side: Side, generation: u32) -> String {
    format!("{}-conn", claim_name(name, side, generation))
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

/// The replication claim of a database's migration (`idp migrate`).
pub fn migration_name(name: &str) -> String {
    format!("{name}{MIGRATION_SUFFIX}")
}

/// How an app's Argo CD Applications and traffic objects are named from its
/// namespace and name. A request keeps the scheme it was first placed with,
/// which its placement record says (`names`, absent for the first): renaming
/// a live Application deletes it, and its finalizer deletes what it
/// deployed. Databases have one scheme, [`NameScheme::Joined`]; what keeps
/// their names apart is the suffixes new ones may not end with
/// ([`crate::names::RESERVED_SUFFIXES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum NameScheme {
    /// 1: `<namespace>-<name>`. Ambiguous, as names hold `-` too
    /// (`team-a/web-x` and `team-a-web/x` join alike), so plan refuses a
    /// request whose names would meet another's ([`name_twins`]).
    Joined,
    /// 2: `<namespace>--<name>`, which no two requests share: no new app's
    /// namespace or name holds `--`, so the first `--` splits the name back
    /// ([`app_of_base`]). When that would take [`APP_BASE_MAX`] characters
    /// or more, it is cut and ends in `--` and a hash of the two, exactly
    /// [`APP_BASE_MAX`] long.
    Separated,
}

impl NameScheme {
    /// The scheme of a request placed now.
    pub fn for_new(kind: Kind) -> Self {
        if kind.is_app() { NameScheme::Separated } else { NameScheme::Joined }
    }
}

impl From<NameScheme> for u8 {
    fn from(scheme: NameScheme) -> u8 {
        match scheme {
            NameScheme::Joined => 1,
            NameScheme::Separated => 2,
        }
    }
}

impl TryFrom<u8> for NameScheme {
    type Error = String;

    fn try_from(number: u8) -> Result<Self, String> {
        match number {
            1 => Ok(NameScheme::Joined),
            2 => Ok(NameScheme::Separated),
            other => Err(format!("unknown naming scheme {other} (this idp knows 1 and 2; a newer idp wrote it?)")),
        }
    }
}

/// The longest suffix a shipped traffic template adds to an app's traffic
/// name ([`traffic_name`]): a Route 53 HealthCheck's.
pub const LONGEST_TRAFFIC_SUFFIX: &str = "-secondary-health";

/// The longest base of an app's derived names: the longest suffix a shipped
/// template adds to it ([`LONGEST_TRAFFIC_SUFFIX`]) still leaves a DNS-1123
/// label of 63 characters, the render guard's limit for every object name.
/// Applications (`-secondary`) stay within 56, so they also fit a label
/// value, as Argo CD's label tracking needs.
pub const APP_BASE_MAX: usize = 63 - LONGEST_TRAFFIC_SUFFIX.len();

/// How much of `<namespace>--<name>` a hashed base keeps before `--` and the hash.
const HASHED_HEAD: usize = APP_BASE_MAX - APP_SEPARATOR.len() - HASH_HEX;

/// Hex digits of the hash in a hashed base: 40 bits of SHA-256.
const HASH_HEX: usize = 10;

/// What an app's derived names start with: its Argo CD Applications add
/// `-<side>`, its traffic objects their own suffixes.
fn app_base(names: NameScheme, namespace: &str, name: &str) -> String {
    match names {
        NameScheme::Joined => format!("{namespace}-{name}"),
        NameScheme::Separated => {
            let separated = format!("{namespace}{APP_SEPARATOR}{name}");
            if separated.len() < APP_BASE_MAX {
                return separated;
            }
            // Too long: cut, and tell apart by a hash of the whole, as
            // Kubernetes names what it derives. Exactly APP_BASE_MAX long,
            // so never equal to an uncut base (shorter), and holding `--`
            // (whatever the cut), so never equal to a Joined base of
            // requests without `--`.
            format!("{}{APP_SEPARATOR}{}", &separated[..HASHED_HEAD], short_hash(&format!("{namespace}/{name}")))
        }
    }
}

/// The first HASH_HEX hex digits of the SHA-256 of `text`: what tells apart
/// names cut to fit a label.
fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().take(HASH_HEX / 2).map(|b| format!("{b:02x}")).collect()
}

/// The namespace and name a [`NameScheme::Separated`] base was made of, if
/// it is not hashed: its first `--` splits it, as neither part may hold one.
pub fn app_of_base(base: &str) -> Option<(&str, &str)> {
    if base.len() >= APP_BASE_MAX {
        return None;
    }
    let (namespace, name) = base.split_once(APP_SEPARATOR)?;
    (is_separable(namespace) && is_separable(name)).then_some((namespace, name))
}

/// A namespace or name a [`NameScheme::Separated`] name may be made of.
pub fn is_separable(label: &str) -> bool {
    crate::names::is_dns_label(label) && !label.contains(APP_SEPARATOR)
}

/// An app's Argo CD Application for one side (in Argo CD's namespace, so it
/// carries the request's namespace in its name).
pub fn application_name(names: NameScheme, namespace: &str, name: &str, side: Side) -> String {
    format!("{}-{}", app_base(names, namespace, name), side.as_str())
}

/// The PushSecret that copies the `position`-th (from 1) database an app
/// names to one side's runtime cluster, in the app's namespace on the
/// management cluster: `<namespace>--<name>-<side>-<position>`, with the
/// base cut and hashed as [`NameScheme::Separated`] cuts it whatever scheme
/// the app's other names follow (a PushSecret is new to every app, so no
/// older name needs keeping), which keeps it within 63 characters even for
/// apps named under [`NameScheme::Joined`]. Within a namespace the base
/// tells apps apart (the namespace is the same, so `--` splits the rest
/// back, or the hash does), and the position and side are read back from
/// the end, so no two of a namespace's PushSecrets meet.
pub fn push_secret_name(namespace: &str, name: &str, side: Side, position: usize) -> String {
    format!("{}-{}-{position}", app_base(NameScheme::Separated, namespace, name), side.as_str())
}

/// The base name of an app's traffic objects (cluster-scoped or in the
/// provider's namespace); the traffic templates suffix it per object.
pub fn traffic_name(names: NameScheme, namespace: &str, name: &str) -> String {
    app_base(names, namespace, name)
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
    /// The naming scheme the twin's placement must record for the names to
    /// meet; None for databases, which have one.
    pub names: Option<NameScheme>,
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
/// namespace/name` (named with `names`), for plan to look up by path.
///
/// Apps: [`NameScheme::Joined`] bases meet whenever two requests' parts
/// join alike (`team-a/web-x` and `team-a-web/x`), so every cut of this
/// base at a `-` into two labels is a Joined twin. Separated bases never
/// meet each other ([`app_of_base`] splits an uncut one back; a cut one is
/// told apart by its hash). A Separated base holds `--`, so it meets a
/// Joined base only of a request (placed before `--` was refused) whose
/// namespace or name holds `--`: found by the same cuts of a Separated
/// base, and, from a Joined base, by splitting it back as a Separated one.
/// A hashed Separated base is not found from the Joined side; plan checks
/// from the Separated side whenever one is placed, and `verify` checks
/// every object of the repo. An Application and a traffic object of one
/// kind meet only when their bases do: each kind's suffixes differ and none
/// ends another (`-primary`, `-secondary`; `-active`, `-standby`; ...).
///
/// Databases: `orders` (with a secondary) and `orders-secondary` meet on a
/// claim. No new database ends in a reserved suffix, so one of the two was
/// placed before that rule.
pub fn name_twins(kind: Kind, names: NameScheme, namespace: &str, name: &str, in_force: &[Kind]) -> Vec<NameTwin> {
    let mut twins = Vec::new();
    match kind.role() {
        Role::App => {
            let base = app_base(names, namespace, name);
            let object = format!("Application argocd/{}", application_name(names, namespace, name, Side::Primary));
            let mut twin = |twin_namespace: &str, twin_name: &str, twin_names: NameScheme| {
                twins.push(NameTwin {
                    kind,
                    namespace: twin_namespace.into(),
                    name: twin_name.into(),
                    object: object.clone(),
                    when: TwinWhen::Always,
                    names: Some(twin_names),
                });
            };
            for (at, _) in base.match_indices('-') {
                let (twin_namespace, twin_name) = (&base[..at], &base[at + 1..]);
                if (twin_namespace, twin_name) != (namespace, name)
                    && crate::names::is_dns_label(twin_namespace)
                    && crate::names::is_dns_label(twin_name)
                {
                    twin(twin_namespace, twin_name, NameScheme::Joined);
                }
            }
            if names == NameScheme::Joined
                && let Some((twin_namespace, twin_name)) = app_of_base(&base)
            {
                twin(twin_namespace, twin_name, NameScheme::Separated);
            }
        }
        Role::Data => {
            // Every data product's claims share the ReplicationClaim kind and
            // the connection secrets' names: a name is one data request's in
            // its namespace, whatever its product.
            for other in in_force.iter().filter(|k| k.is_data()) {
                if *other != kind {
                    twins.push(NameTwin {
                        kind: *other,
                        namespace: namespace.into(),
                        name: name.into(),
                        object: format!("connection Secret {namespace}/{}", secret_name(name, Side::Primary, 0)),
                        when: TwinWhen::Always,
                        names: None,
                    });
                }
                let secondary = claim_name(name, Side::Secondary, 0);
                if crate::names::is_dns_label(&secondary) {
                    twins.push(NameTwin {
                        kind: *other,
                        namespace: namespace.into(),
                        object: format!("claim {namespace}/{secondary}"),
                        name: secondary,
                        when: TwinWhen::ThisHasSecondary,
                        names: None,
                    });
                }
                if let Some(primary) = name.strip_suffix(SECONDARY_SUFFIX) {
                    twins.push(NameTwin {
                        kind: *other,
                        namespace: namespace.into(),
                        name: primary.into(),
                        object: format!("claim {namespace}/{name}"),
                        when: TwinWhen::TwinHasSecondary,
                        names: None,
                    });
                }
            }
        }
    }
    twins
}

/// Where apps claim their public hosts: `hosts/<publicHost>.yaml` names the
/// app that owns the host ([`host_claim`]), so that `plan` finds another
/// owner by one path, whatever the size of the repo. A public host is a DNS
/// name (lowercase labels joined by dots), so it is a file name as it stands.
pub const HOSTS_DIR: &str = "hosts";

/// `hosts/<host>.yaml`: the claim of one public host.
pub fn host_path(host: &str) -> String {
    format!("{HOSTS_DIR}/{host}.yaml")
}

/// What `hosts/<host>.yaml` holds for the app `namespace/name`.
pub fn host_claim(host: &str, namespace: &str, name: &str) -> String {
    format!(
        "# The public host {host} belongs to this app; idp writes and removes this file with it.\napp: {namespace}/{name}\n"
    )
}

/// The app a host claim names (`namespace/name`), if the text is one.
pub fn host_owner(claim: &str) -> Option<&str> {
    claim.lines().find_map(|line| line.strip_prefix("app: "))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const AT: CellOf<'static> = CellOf { cell: "payments", environment: "production" };

    /// Every PushSecret name is a DNS label, even for the longest app a scheme
    /// admits, and the apps of one namespace never share one.
    #[test]
    fn push_secret_names_are_labels_and_tell_apps_apart() {
        let long = "w".repeat(57);
        for (namespace, name) in
            [("t", long.as_str()), ("team-a", "web-x"), ("team-a", "web"), ("team-a", "web-primary")]
        {
            for side in [Side::Primary, Side::Secondary] {
                let pushed = push_secret_name(namespace, name, side, 999);
                assert!(crate::names::is_dns_label(&pushed), "{pushed}");
            }
        }
        assert_eq!(push_secret_name("team-a", "web", Side::Primary, 1), "team-a--web-primary-1");
        let mut seen = std::collections::BTreeSet::new();
        for name in ["web", "web-primary", "web-primary-1", "web-1", "web-secondary", "a".repeat(50).as_str()] {
            for side in [Side::Primary, Side::Secondary] {
                for position in 1..=12 {
                    let pushed = push_secret_name("team-a", name, side, position);
                    assert!(seen.insert(pushed.clone()), "{pushed} twice");
                }
            }
        }
    }

    #[test]
    fn a_request_path_owns_exactly_its_files() {
        let owner = RequestFileName::parse(&request_path(crate::test_support::app(), "team", "web")).unwrap();
        for path in [
            placement_path(crate::test_support::app(), "team", "web"),
            catalog_path(crate::test_support::app(), "team", "web"),
            application_path(crate::test_support::app(), AT, "team", "web", Side::Secondary),
            dns_path(crate::test_support::app(), AT, "team", "web"),
            format!("{}/deployment.yaml", workload_side_dir("team", "web", Side::Primary)),
            member_path("payments", "production", crate::test_support::app(), "team", "web"),
        ] {
            assert!(owner.owns(&path), "{path}");
        }
        for path in [
            placement_path(crate::test_support::app(), "team", "web-2"),
            application_path(crate::test_support::app(), AT, "team", "webx", Side::Primary),
            claim_path(crate::test_support::mysql(), AT, "team", "web", Side::Primary, 0),
            member_path("payments", "production", crate::test_support::app(), "other", "web"),
        ] {
            assert!(!owner.owns(&path), "{path}");
        }
        let database = RequestFileName::parse(&request_path(crate::test_support::mysql(), "team", "web")).unwrap();
        assert!(database.owns(&replication_path(crate::test_support::mysql(), AT, "team", "web")));
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
            request_of_manifest(&claim_path(crate::test_support::mysql(), AT, "team", "orders-db", Side::Primary, 0))
                .as_deref(),
            Some("mysql team/orders-db")
        );
        assert_eq!(request_of_manifest("bootstrap/argocd/appproject.yaml"), None);
        assert_eq!(workload_side_of("workloads/team/web/tertiary/x.yaml"), None);
    }

    /// A cell's Application selects its files by name (`cell_include`), with Argo CD's
    /// glob, where `*` crosses `/`: this emulates that match for the one wildcard the
    /// pattern uses.
    fn glob(pattern: &str, text: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == text,
            Some((head, rest)) => {
                text.starts_with(head)
                    && (0..=text.len() - head.len())
                        .any(|i| text.is_char_boundary(head.len() + i) && glob(rest, &text[head.len() + i..]))
            }
        }
    }

    #[test]
    fn a_cells_application_selects_exactly_the_files_of_its_cells_requests() {
        let other = CellOf { cell: "payments-eu", environment: "production" };
        let staging = CellOf { cell: "payments", environment: "staging" };
        let ours = [
            claim_path(crate::test_support::mysql(), AT, "team", "db", Side::Primary, 0),
            claim_path(crate::test_support::mysql(), AT, "team", "db", Side::Secondary, 0),
            replication_path(crate::test_support::mysql(), AT, "team", "db"),
            application_path(crate::test_support::app(), AT, "team", "web", Side::Primary),
            dns_path(crate::test_support::app(), AT, "team", "web"),
        ];
        let theirs = [
            claim_path(crate::test_support::mysql(), other, "team", "db", Side::Primary, 0),
            claim_path(crate::test_support::mysql(), staging, "team", "db", Side::Primary, 0),
            application_path(
                crate::test_support::app(),
                CellOf { cell: "x-payments", environment: "production" },
                "team",
                "web",
                Side::Primary,
            ),
            namespace_path("payments"),
            "platform/team/mysql-db/primary.yaml".to_owned(),
        ];
        let include = cell_include(AT);
        let relative = |path: &str| path.strip_prefix("platform/").unwrap().to_owned();
        for path in &ours {
            assert!(glob(&include, &relative(path)), "{include} misses {path}");
        }
        for path in &theirs {
            assert!(!glob(&include, &relative(path)), "{include} selects {path}");
        }
        assert!(glob("*/namespace.yaml", &relative(&namespace_path("team"))));
        assert!(ours.iter().all(|p| !glob("*/namespace.yaml", &relative(p))));
        assert_eq!(
            legacy_platform_path(&claim_path(crate::test_support::mysql(), AT, "team", "db", Side::Primary, 0), AT)
                .as_deref(),
            Some("platform/team/mysql-db/primary.yaml")
        );
        assert_eq!(
            legacy_platform_path(&claim_path(crate::test_support::mysql(), AT, "team", "db", Side::Primary, 0), other),
            None
        );
    }

    #[test]
    fn cell_application_names_are_labels_and_never_an_apps() {
        assert_eq!(cell_application_name(AT), "cell--payments--production");
        let long = "a".repeat(40);
        let name = cell_application_name(CellOf { cell: &long, environment: &long });
        assert!(crate::names::is_dns_label(&name), "{name}");
        assert_ne!(name, cell_application_name(CellOf { cell: &long, environment: &"a".repeat(41) }));
    }

    #[test]
    fn env_prefixes_are_variable_names() {
        assert_eq!(env_prefix("reports-db"), "REPORTS_DB_");
        assert_eq!(env_prefix("1db"), "_1DB_");
        assert_ne!(env_prefix("a-b"), env_prefix("ab"));
    }

    #[test]
    fn every_file_of_a_request_leads_back_to_it_and_no_other_file_does() {
        for (kind, namespace, name) in
            [(crate::test_support::app(), "team", "web"), (crate::test_support::mysql(), "team-x", "a-db")]
        {
            let owner = RequestFileName::parse(&request_path(kind, namespace, name)).unwrap();
            let mut files = vec![
                request_path(kind, namespace, name),
                placement_path(kind, namespace, name),
                catalog_path(kind, namespace, name),
                format!("{}/primary.yaml", platform_dir(kind, namespace, name)),
                member_path("payments", "production", kind, namespace, name),
            ];
            if kind == crate::test_support::app() {
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
        assert_eq!(request_path(crate::test_support::mysql(), "team", "db"), "requests/team/mysql-db.yaml");
        // `platform/<namespace>/<kind>-<name>/*.yaml`, named by cell first.
        assert_eq!(
            claim_path(crate::test_support::mysql(), AT, "team", "db", Side::Secondary, 0),
            "platform/team/mysql-db/payments.production.secondary.yaml"
        );
        assert_eq!(cell_application_path(AT), "argocd/cells/payments/production.yaml");
        assert_eq!(
            member_path("payments", "production", crate::test_support::app(), "b", "web"),
            "cells/payments/production/members/b/app-web.yaml"
        );
        assert!(is_member_path(&member_path("c", "e", crate::test_support::mysql(), "n", "x")));
        assert!(!is_member_path(&cell_state_path("c", "e")));
    }

    #[test]
    fn apps_of_one_join_are_named_apart() {
        // The pair: one Application name under the first scheme, two under the second.
        let (one, two) = (("team-a", "web-x"), ("team-a-web", "x"));
        let joined = |(ns, name): (&str, &str)| application_name(NameScheme::Joined, ns, name, Side::Primary);
        assert_eq!(joined(one), joined(two));
        let separated = |(ns, name): (&str, &str)| application_name(NameScheme::Separated, ns, name, Side::Primary);
        assert_eq!(separated(one), "team-a--web-x-primary");
        assert_eq!(separated(two), "team-a-web--x-primary");
        assert_eq!(traffic_name(NameScheme::Separated, "team-a", "web-x"), "team-a--web-x");
        assert_eq!(traffic_name(NameScheme::Joined, "team-a", "web-x"), "team-a-web-x");
        assert_eq!(app_of_base("team-a-web--x"), Some(("team-a-web", "x")));
    }

    #[test]
    fn a_long_base_is_cut_and_ends_in_a_hash_that_never_changes() {
        let (namespace, name) = ("team-payments-platform", "checkout-api-gateway-v2");
        let base = traffic_name(NameScheme::Separated, namespace, name);
        // Pinned (`printf %s team-payments-platform/checkout-api-gateway-v2 | sha256sum`):
        // a different hash from a later idp would rename live Applications.
        assert_eq!(base, "team-payments-platform--checkout-a--ab1d349b78");
        assert_eq!(base.len(), APP_BASE_MAX);
        assert_eq!(app_of_base(&base), None);
        assert_ne!(base, traffic_name(NameScheme::Separated, namespace, "checkout-api-gateway-v3"));
        // Just short enough to keep whole.
        let whole = traffic_name(NameScheme::Separated, namespace, "checkout-api-gateway1");
        assert_eq!(whole.len(), APP_BASE_MAX - 1);
        assert_eq!(app_of_base(&whole), Some((namespace, "checkout-api-gateway1")));
        // A cut that ends in `-` still makes a label.
        let dashed = traffic_name(NameScheme::Separated, "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t", "uvwxyz");
        assert!(crate::names::is_dns_label(&format!("{dashed}-secondary-health")), "{dashed}");
    }

    #[test]
    fn parse_back_takes_only_what_a_separated_base_can_be() {
        assert_eq!(app_of_base("team--web"), Some(("team", "web")));
        assert_eq!(app_of_base("team-web"), None, "no separator");
        assert_eq!(app_of_base("team--web--x"), None, "a name holding `--`");
        assert_eq!(app_of_base("team---web"), None, "a name starting with `-`");
        assert_eq!(app_of_base("--web"), None);
        assert_eq!(app_of_base("team--"), None);
        assert_eq!(app_of_base("Team--web"), None);
        assert!(!is_separable("a--b") && is_separable("a-b"));
    }

    #[test]
    fn a_separated_app_meets_only_a_joined_one_holding_two_hyphens() {
        // team/a--b (placed before `--` was refused) and the new team-a/b share team-a--b.
        let legacy =
            name_twins(crate::test_support::app(), NameScheme::Joined, "team", "a--b", &crate::test_support::kinds());
        assert!(
            legacy
                .iter()
                .any(|t| (t.namespace.as_str(), t.name.as_str(), t.names)
                    == ("team-a", "b", Some(NameScheme::Separated))),
            "{legacy:?}"
        );
        let new =
            name_twins(crate::test_support::app(), NameScheme::Separated, "team-a", "b", &crate::test_support::kinds());
        assert_eq!(
            new.iter().map(|t| (t.namespace.as_str(), t.name.as_str(), t.names)).collect::<Vec<_>>(),
            [("team", "a--b", Some(NameScheme::Joined))]
        );
        assert_eq!(new[0].object, "Application argocd/team-a--b-primary");
        // A Joined base holds `--` only if a part does, and a Separated one always does.
        for twin in name_twins(
            crate::test_support::app(),
            NameScheme::Separated,
            "team-a",
            "web-x",
            &crate::test_support::kinds(),
        ) {
            assert_eq!(twin.names, Some(NameScheme::Joined));
            assert!(twin.namespace.contains("--") || twin.name.contains("--"), "{twin:?}");
        }
        assert!(
            name_twins(
                crate::test_support::app(),
                NameScheme::Joined,
                "team-a",
                "web-x",
                &crate::test_support::kinds()
            )
            .iter()
            .all(|t| t.names == Some(NameScheme::Joined))
        );
    }

    /// Words idp's names are made of, so that names meet often.
    const WORDS: [&str; 5] = ["a", "b", "primary", "secondary", "replication"];

    /// Labels of a few [`WORDS`]: `a`, `a-secondary`, `b-primary-a`.
    fn label() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 1..4).prop_map(|words| words.join("-"))
    }

    fn scheme() -> impl Strategy<Value = NameScheme> {
        proptest::sample::select(vec![NameScheme::Joined, NameScheme::Separated])
    }

    /// A request's naming scheme, namespace and name.
    type Named = (NameScheme, String, String);

    /// `words` cut before word `at` into a namespace and a name. An empty
    /// word is a `--` in the joined string: a Separated cut at one takes it
    /// as its separator.
    fn cut(words: &[&str], at: usize, names: NameScheme) -> Named {
        let rest = if names == NameScheme::Separated && words[at].is_empty() { &words[at + 1..] } else { &words[at..] };
        (names, words[..at].join("-"), rest.join("-"))
    }

    /// Two apps whose names may meet: unrelated, or one string of words cut
    /// in two places. An empty word makes a `--`, as a Joined request may
    /// hold one (placed before `--` was refused).
    fn two_apps() -> impl Strategy<Value = (Named, Named)> {
        let words = WORDS.iter().copied().chain([""]).collect::<Vec<_>>();
        proptest::prop_oneof![
            (scheme(), label(), label(), scheme(), label(), label())
                .prop_map(|(s1, a, b, s2, c, d)| ((s1, a, b), (s2, c, d))),
            proptest::collection::vec(proptest::sample::select(words), 2..7)
                .prop_flat_map(|words| {
                    let n = words.len();
                    (Just(words), 1..n, 1..n, scheme(), scheme())
                })
                .prop_map(|(words, i, j, s1, s2)| (cut(&words, i, s1), cut(&words, j, s2))),
        ]
    }

    /// A request with these names could exist: Joined ones were placed
    /// before `--` was refused, Separated ones after.
    fn admissible((names, namespace, name): &Named) -> bool {
        match names {
            NameScheme::Joined => crate::names::is_dns_label(namespace) && crate::names::is_dns_label(name),
            NameScheme::Separated => is_separable(namespace) && is_separable(name),
        }
    }

    /// Whether two apps name an object alike: an Application, or a traffic
    /// object (its base plus a suffix of its kind, so alike iff the bases are).
    fn apps_meet(a: &Named, b: &Named) -> bool {
        let sides = [Side::Primary, Side::Secondary];
        let application = |(names, ns, name): &Named, side| application_name(*names, ns, name, side);
        sides.iter().any(|&s1| sides.iter().any(|&s2| application(a, s1) == application(b, s2)))
            || traffic_name(a.0, &a.1, &a.2) == traffic_name(b.0, &b.1, &b.2)
    }

    /// A namespace or name a new app may have: a DNS label without `--`.
    fn separable_label() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,4}".prop_filter("a DNS label", |l| l.len() <= 63)
    }

    /// The namespace and name of a valid new app: validation keeps every
    /// name derived from them within 63 characters.
    fn new_app() -> impl Strategy<Value = (String, String)> {
        (separable_label(), separable_label()).prop_filter("validation's lengths", |(ns, name)| {
            crate::request::derived_names_fit(crate::test_support::app(), ns, name)
        })
    }

    /// The names request validation does not list ([`crate::request::derived_names`])
    /// are cut to fit or grow no faster than those it does: for a namespace of any
    /// length beside the longest name validation admits, every object name this
    /// module derives for a new request is a DNS-1123 label (issue 19).
    #[test]
    fn every_name_derived_for_an_admitted_request_is_a_label() {
        for kind in [crate::test_support::mysql(), crate::test_support::app()] {
            for namespace_len in 1..=63 {
                let namespace = format!("n{}", "s".repeat(namespace_len - 1));
                let admitted = |len: usize| crate::request::derived_names_fit(kind, &namespace, &"a".repeat(len));
                let Some(longest) = (1..=63).rev().find(|&len| admitted(len)) else { continue };
                let name = "a".repeat(longest);
                let mut derived = vec![crate::request::catalog_entity_name(kind.cli_name(), &name)];
                match kind.role() {
                    Role::Data => {
                        derived.push(replication_name(&name));
                        derived.push(migration_name(&name));
                        derived.extend([Side::Primary, Side::Secondary].map(|side| claim_name(&name, side, 0)));
                        // A migration's claim and secret, to the 99th generation.
                        derived.push(secret_name(&name, Side::Primary, 99));
                    }
                    Role::App => {
                        let names = NameScheme::for_new(kind);
                        for side in [Side::Primary, Side::Secondary] {
                            derived.push(application_name(names, &namespace, &name, side));
                            derived.push(push_secret_name(&namespace, &name, side, 99));
                        }
                        derived.push(format!("{}{LONGEST_TRAFFIC_SUFFIX}", traffic_name(names, &namespace, &name)));
                    }
                }
                for object in derived {
                    assert!(crate::names::is_dns_label(&object), "{kind} {namespace}/{name}: {object}");
                }
            }
        }
    }

    /// Two new apps: unrelated; of one long namespace (both cut to one head,
    /// told apart by the hash alone); or one string of words cut in two places.
    fn two_new_apps() -> impl Strategy<Value = ((String, String), (String, String))> {
        proptest::prop_oneof![
            (new_app(), new_app()),
            ("[a-z]{34,40}", "[a-z0-9]{1,18}", "[a-z0-9]{1,18}")
                .prop_filter("validation's lengths", |(ns, a, b)| ns.len() + a.len().max(b.len()) + 5 <= 63)
                .prop_map(|(ns, a, b)| ((ns.clone(), a), (ns, b))),
            proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 2..7)
                .prop_flat_map(|words| {
                    let n = words.len();
                    (Just(words), 1..n, 1..n)
                })
                .prop_map(|(words, i, j)| {
                    let (_, ns1, n1) = cut(&words, i, NameScheme::Separated);
                    let (_, ns2, n2) = cut(&words, j, NameScheme::Separated);
                    ((ns1, n1), (ns2, n2))
                }),
        ]
    }

    /// Every suffix a shipped traffic template adds to the base (templates/traffic/README.md).
    const TRAFFIC_SUFFIXES: [&str; 10] = [
        "-primary-health",
        "-secondary-health",
        "-active",
        "-standby",
        "-health",
        "-steering",
        "-attachment",
        "-primary",
        "-secondary",
        "-lb",
    ];

    proptest::proptest! {
        /// The twin list is complete: whenever two apps' derived names
        /// meet, each names the other as a twin, with the scheme it must
        /// have; and two Separated apps never meet.
        #[test]
        fn apps_whose_names_meet_are_twins((one, two) in two_apps()) {
            prop_assume!(admissible(&one) && admissible(&two) && (&one.1, &one.2) != (&two.1, &two.2));
            let meet = apps_meet(&one, &two);
            let twins = name_twins(crate::test_support::app(), one.0, &one.1, &one.2, &crate::test_support::kinds());
            let named = twins
                .iter()
                .any(|t| t.namespace == two.1 && t.name == two.2 && t.names == Some(two.0) && t.when == TwinWhen::Always);
            // A hashed base is not split back: the Separated app's own list finds the Joined one.
            let hashed = two.0 == NameScheme::Separated && traffic_name(two.0, &two.1, &two.2).len() == APP_BASE_MAX;
            if one.0 == NameScheme::Joined && hashed {
                prop_assert!(!named || meet, "{:?} and {:?}: {:?}", one, two, twins);
            } else {
                prop_assert_eq!(meet, named, "{:?} and {:?}: {:?}", one, two, twins);
            }
            if one.0 == NameScheme::Separated && two.0 == NameScheme::Separated {
                prop_assert!(!meet, "{:?} and {:?}", one, two);
            }
        }

        /// (a) The second scheme is injective: two new apps never share an
        /// Application name or a traffic base.
        #[test]
        fn new_apps_never_share_a_name(((ns1, n1), (ns2, n2)) in two_new_apps()) {
            prop_assume!(is_separable(&ns1) && is_separable(&n1) && is_separable(&ns2) && is_separable(&n2));
            prop_assume!((&ns1, &n1) != (&ns2, &n2));
            let separated = NameScheme::Separated;
            prop_assert_ne!(traffic_name(separated, &ns1, &n1), traffic_name(separated, &ns2, &n2));
            for s1 in [Side::Primary, Side::Secondary] {
                for s2 in [Side::Primary, Side::Secondary] {
                    prop_assert_ne!(application_name(separated, &ns1, &n1, s1), application_name(separated, &ns2, &n2, s2));
                }
            }
        }

        /// (b) Every name derived for a new app is a DNS-1123 label within
        /// 63 characters (an Application name, a label value too), every
        /// traffic object's name included; an uncut base splits back.
        #[test]
        fn new_apps_names_are_labels((ns, name) in new_app()) {
            let names = NameScheme::Separated;
            let base = traffic_name(names, &ns, &name);
            prop_assert!(base.len() <= APP_BASE_MAX, "{}", base);
            for side in [Side::Primary, Side::Secondary] {
                let application = application_name(names, &ns, &name, side);
                prop_assert!(crate::names::is_dns_label(&application), "{}", application);
                prop_assert!(crate::names::is_label_value(&application), "{}", application);
            }
            for suffix in TRAFFIC_SUFFIXES {
                let object = format!("{base}{suffix}");
                prop_assert!(crate::names::is_dns_label(&object), "{}", object);
            }
            if base.len() < APP_BASE_MAX {
                prop_assert_eq!(app_of_base(&base), Some((ns.as_str(), name.as_str())));
            } else {
                prop_assert_eq!(app_of_base(&base), None);
                prop_assert!(base.starts_with(&format!("{ns}{APP_SEPARATOR}{name}")[..HASHED_HEAD]), "{}", base);
            }
        }

        /// Databases of one namespace, of any name: their claims and
        /// connection secrets meet only where the twin list says.
        #[test]
        fn databases_whose_names_meet_are_twins(n1 in label(), n2 in label()) {
            prop_assume!(n1 != n2);
            let twins = name_twins(crate::test_support::mysql(), NameScheme::Joined, "team", &n1, &crate::test_support::kinds());
            let pairs = [
                (Side::Primary, Side::Primary, TwinWhen::Always),
                (Side::Secondary, Side::Primary, TwinWhen::ThisHasSecondary),
                (Side::Primary, Side::Secondary, TwinWhen::TwinHasSecondary),
            ];
            for (s1, s2, when) in pairs {
                let meet = claim_name(&n1, s1, 0) == claim_name(&n2, s2, 0);
                prop_assert_eq!(meet, secret_name(&n1, s1, 0) == secret_name(&n2, s2, 0));
                let named = twins.iter().any(|t| t.name == n2 && t.when == when && t.names.is_none());
                prop_assert_eq!(meet, named, "{} {:?} and {} {:?}: {:?}", n1, s1, n2, s2, twins);
            }
            // Two secondaries meet only if their requests do.
            prop_assert_ne!(claim_name(&n1, Side::Secondary, 0), claim_name(&n2, Side::Secondary, 0));
            prop_assert_ne!(replication_name(&n1), replication_name(&n2));
        }

        /// (c) Over the names a new database may have (none ends in a
        /// reserved suffix), no two databases' claims (of either kind) or
        /// connection secrets share a name, and no claim of a database
        /// shares one with another of its own.
        #[test]
        fn admitted_databases_never_share_a_name(n1 in label(), n2 in label()) {
            prop_assume!(crate::names::reserved_suffix(&n1).is_none() && crate::names::reserved_suffix(&n2).is_none());
            let objects = |name: &str| {
                [
                    ("claim", "primary", claim_name(name, Side::Primary, 0)),
                    ("claim", "secondary", claim_name(name, Side::Secondary, 0)),
                    ("claim", "replication", replication_name(name)),
                    ("claim", "migrated", claim_name(name, Side::Primary, 1)),
                    ("claim", "migrated again", claim_name(name, Side::Primary, 12)),
                    ("claim", "migration", migration_name(name)),
                    ("secret", "primary", secret_name(name, Side::Primary, 0)),
                    ("secret", "secondary", secret_name(name, Side::Secondary, 0)),
                    ("secret", "migrated", secret_name(name, Side::Primary, 1)),
                    ("secret", "migrated again", secret_name(name, Side::Primary, 12)),
                ]
            };
            for (kind1, role1, object1) in objects(&n1) {
                prop_assert!(crate::names::is_dns_label(&object1), "{}", object1);
                for (kind2, role2, object2) in objects(&n2) {
                    if kind1 == kind2 && object1 == object2 {
                        prop_assert_eq!((&n1, role1), (&n2, role2), "{} is {} of {} and {} of {}", object1, role1, n1, role2, n2);
                    }
                }
            }
        }
    }
}
