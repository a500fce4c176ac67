//! What a change does to each Kubernetes object it touches, as Terraform's
//! plan shows it: create, update in place, replace, or delete.
//!
//! An object is its (API group, kind, namespace, name): the same object
//! moved to another file is updated, not deleted and created. An update is
//! a replacement when the cluster or the cloud cannot make it in place, and
//! what says so is data, never a list of fields here:
//! - the claim's XRD: a transition rule (`oldSelf`) the new claim breaks
//!   means the API server refuses the update, so the only way to the new
//!   state is a new object (`xrd`);
//! - the shipped Compositions and the providers' `ForceNew` fields: a
//!   claim parameter patched onto a field the provider cannot update
//!   replaces that composed resource (`compose`, whose table cites each
//!   provider's source).
//!
//! What it cannot see: Compositions other than the shipped ones, and what
//! the cloud does on its own (autoscaled disks, maintenance).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Error;
use crate::compose::{Effects, FieldChange};
use crate::layout;
use crate::product::Products;
use crate::yaml::{Node, Value};

/// What happens to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectAction {
    Create,
    Update,
    Replace,
    Delete,
}

impl ObjectAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectAction::Create => "create",
            ObjectAction::Update => "update",
            ObjectAction::Replace => "replace",
            ObjectAction::Delete => "delete",
        }
    }
}

/// One object a change touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    pub action: ObjectAction,
    pub api_version: String,
    pub kind: String,
    /// Empty for a cluster-scoped object.
    pub namespace: String,
    pub name: String,
    /// The file that holds it after the change (before it, for a delete).
    pub file: String,
    /// `mysql team/orders`, when the file's path names its request.
    pub request: Option<String>,
    /// Deleting or replacing it loses data: it needs the explicit word.
    pub destroys_data: bool,
    /// It had deletion protection on before the change
    /// (`spec.parameters.deletionProtection: true`): no commit destroys it.
    pub protected: bool,
    /// The fields an update or a replacement changes.
    pub fields: Vec<FieldDiff>,
    /// What forces a replacement.
    pub forces: Vec<Force>,
}

impl ObjectChange {
    /// `MySQLInstanceClaim team/orders` (`ClusterRole admin` when cluster-scoped).
    pub fn object(&self) -> String {
        match self.namespace.is_empty() {
            true => format!("{} {}", self.kind, self.name),
            false => format!("{} {}/{}", self.kind, self.namespace, self.name),
        }
    }
}

/// A changed leaf field, with its values (absent: `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Why an object must be replaced rather than updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Force {
    /// The object's field whose change forces it.
    pub field: String,
    /// The composed resource and field it reaches (`mysql.oci.upbound.io/v1alpha1
    /// MysqlDbSystem spec.forProvider.subnetId`), when a provider forces it.
    /// Such a replacement never happens: upjet refuses a change that needs
    /// one, and the composed resource stays `Synced=False`, blocking every
    /// later update of it (`plan` refuses to commit it).
    pub composed: Option<String>,
    pub why: String,
    /// Where that behaviour is written down.
    pub source: String,
    /// What is replaced holds data: the whole claim of a database (an
    /// update its XRD refuses is reached only by deleting it).
    pub destroys_data: bool,
}

/// The objects of the files a change touches, before and after it, and the
/// products in force, whose claim kinds hold data.
pub struct Changeset<'a> {
    products: &'a Products,
    before: BTreeMap<Key, Held>,
    after: BTreeMap<Key, Held>,
}

/// An object's identity: API group (not version: the API server serves one
/// object under each), kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: String,
    kind: String,
    namespace: String,
    name: String,
}

struct Held {
    file: String,
    api_version: String,
    node: Node,
}

impl<'a> Changeset<'a> {
    pub fn new(products: &'a Products) -> Self {
        Changeset { products, before: BTreeMap::new(), after: BTreeMap::new() }
    }

    /// The documents a file holds before the change and after it (`None`:
    /// the file is absent). Documents that are not objects (no kind or
    /// name, e.g. a file that no longer parses) are left to `verify`.
    pub fn file(&mut self, path: &str, before: Vec<Node>, after: Vec<Node>) {
        for (side, docs) in [(&mut self.before, before), (&mut self.after, after)] {
            for node in docs {
                let Some((key, api_version)) = key(&node) else { continue };
                side.insert(key, Held { file: path.to_owned(), api_version, node });
            }
        }
    }

    /// Every object that changes, sorted by action then object.
    pub fn classify(self) -> Result<Vec<ObjectChange>, Error> {
        let Changeset { products, mut before, after } = self;
        let mut changes = Vec::new();
        for (key, now) in after {
            let change = match before.remove(&key) {
                None => ObjectChange::new(ObjectAction::Create, &key, &now),
                Some(was) => {
                    let fields = diff(&was.node, &now.node);
                    if fields.is_empty() {
                        continue;
                    }
                    let forces = forces(products, &key, &was, &now, &fields)?;
                    let action = if forces.is_empty() { ObjectAction::Update } else { ObjectAction::Replace };
                    let destroys_data = forces.iter().any(|f| f.destroys_data);
                    let protected = is_protected(products, &was.node);
                    ObjectChange { destroys_data, protected, fields, forces, ..ObjectChange::new(action, &key, &now) }
                }
            };
            changes.push(change);
        }
        for (key, was) in before {
            let (destroys_data, protected) = (is_stateful(products, &was), is_protected(products, &was.node));
            changes.push(ObjectChange {
                destroys_data,
                protected,
                ..ObjectChange::new(ObjectAction::Delete, &key, &was)
            });
        }
        changes.sort_by_key(|c| (c.action, c.object()));
        Ok(changes)
    }
}

impl ObjectChange {
    fn new(action: ObjectAction, key: &Key, held: &Held) -> Self {
        ObjectChange {
            action,
            api_version: held.api_version.clone(),
            kind: key.kind.clone(),
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            file: held.file.clone(),
            request: layout::request_of_manifest(&held.file),
            destroys_data: false,
            protected: false,
            fields: Vec::new(),
            forces: Vec::new(),
        }
    }
}

/// The objects whose data a change destroys (deleted, or replaced by new,
/// empty ones). `paths` are the files it touches, `before` and `after` read
/// one as it was and as it will be. Only files that held a stateful kind
/// are parsed, so a change that creates thousands of files costs a lookup
/// each; the files it creates join in only then (a second pass over
/// `paths`, which keeps their places, not their paths), so that a claim
/// moved to another file is not taken for a deleted one.
pub fn destroying<P: AsRef<str>>(
    products: &Products,
    paths: impl IntoIterator<Item = P> + Clone,
    mut before: impl FnMut(&str) -> Result<Option<Vec<u8>>, Error>,
    mut after: impl FnMut(&str) -> Result<Option<Vec<u8>>, Error>,
) -> Result<Vec<ObjectChange>, Error> {
    let manifests = || paths.clone().into_iter().filter(|path| layout::is_manifest_path(path.as_ref()));
    let mut changeset = Changeset::new(products);
    let claim_kinds = products.claim_kinds();
    // The places in `manifests()` of the files the change creates (4 bytes
    // each, read again only when some file held data).
    let mut created: Vec<u32> = Vec::new();
    let mut held_data = false;
    for (place, path) in manifests().enumerate() {
        let path = path.as_ref();
        let Some(old) = before(path)? else {
            created.push(place as u32);
            continue;
        };
        let text = String::from_utf8_lossy(&old);
        if !claim_kinds.iter().any(|c| text.contains(c.kind)) {
            continue;
        }
        held_data = true;
        changeset.file(path, manifest_documents(path, Some(&old)), manifest_documents(path, after(path)?.as_deref()));
    }
    if !held_data {
        return Ok(Vec::new());
    }
    let mut created = created.into_iter().peekable();
    for (place, path) in manifests().enumerate() {
        if created.next_if_eq(&(place as u32)).is_some() {
            let path = path.as_ref();
            changeset.file(path, Vec::new(), manifest_documents(path, after(path)?.as_deref()));
        }
    }
    Ok(changeset.classify()?.into_iter().filter(|object| object.destroys_data).collect())
}

/// The documents of a manifest file's bytes (none when the path holds no
/// manifests, or the text no longer parses: `verify` reports that).
pub fn manifest_documents(path: &str, bytes: Option<&[u8]>) -> Vec<Node> {
    match bytes {
        Some(bytes) if layout::is_manifest_path(path) => {
            crate::yaml::non_empty_documents(&String::from_utf8_lossy(bytes)).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn key(node: &Node) -> Option<(Key, String)> {
    let api_version = node.str_at(&["apiVersion"])?;
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let key = Key {
        group: group.to_owned(),
        kind: node.str_at(&["kind"])?.to_owned(),
        namespace: node.str_at(&["metadata", "namespace"]).unwrap_or_default().to_owned(),
        name: node.str_at(&["metadata", "name"])?.to_owned(),
    };
    Some((key, api_version.to_owned()))
}

/// Whether a document is a stateful claim with deletion protection on.
pub fn is_protected(products: &Products, doc: &Node) -> bool {
    let stateful = key(doc).is_some_and(|(key, api_version)| products.is_stateful_kind(&api_version, &key.kind));
    stateful
        && matches!(doc.at(&["spec", "parameters", "deletionProtection"]).map(|n| &n.value), Some(Value::Bool(true)))
}

/// `Kind namespace/name` of an object's document.
pub fn object_of(doc: &Node) -> Option<String> {
    let (key, _) = key(doc)?;
    Some(match key.namespace.is_empty() {
        true => format!("{} {}", key.kind, key.name),
        false => format!("{} {}/{}", key.kind, key.namespace, key.name),
    })
}

/// A claim whose cloud resources hold data (a claim kind in force).
fn is_stateful(products: &Products, held: &Held) -> bool {
    products.is_stateful_kind(&held.api_version, held.node.str_at(&["kind"]).unwrap_or_default())
}

/// What forces `was` to be replaced by `now`: the XRD's transition rules,
/// then the provider fields its parameters reach (the force-new table of
/// idp's Compositions; a state repo's own product has none, so only its
/// XRD's rules are known: docs/products.md).
fn forces(products: &Products, key: &Key, was: &Held, now: &Held, fields: &[FieldDiff]) -> Result<Vec<Force>, Error> {
    if !products.may_define(&key.kind) {
        return Ok(Vec::new());
    }
    let stateful = is_stateful(products, now);
    let file =
        products.claim_kinds().iter().find(|c| c.kind == key.kind).map_or("the XRD".to_owned(), |c| c.file.to_owned());
    let mut forces: Vec<Force> = products
        .check_claim(&now.node, Some(&was.node))?
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.transition)
        .map(|v| Force {
            field: v.path.clone(),
            composed: None,
            why: format!("the XRD refuses the update ({})", v.message),
            source: format!("{file} x-kubernetes-validations"),
            destroys_data: stateful,
        })
        .collect();
    let selector: BTreeMap<String, String> = now
        .node
        .at(&["spec", "compositionSelector", "matchLabels"])
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.name.clone(), v.as_str()?.to_owned())))
        .collect();
    let effects = Effects::embedded();
    for field in fields.iter().filter(|f| f.path.starts_with("spec.parameters.")) {
        for patched in effects.reached(&key.kind, &selector, &field.path) {
            // A parameter new to the claim changes nothing idp can see: what
            // the composed field held before came from elsewhere (an earlier
            // Composition, the provider's default), or a Required patch held
            // the resource back (function-patch-and-transform fn.go: a failed
            // Required patch leaves the resource out), so its first value
            // creates it. It forces nothing here.
            if patched.change == FieldChange::Replace
                && field.old.is_some()
                && patched.when.met(field.old.as_deref(), field.new.as_deref())
            {
                // upjet refuses a ForceNew diff rather than replace: nothing
                // is destroyed, the resource stays Synced=False (`compose`).
                forces.push(Force {
                    field: field.path.clone(),
                    composed: Some(format!("{} {}", patched.resource, patched.field)),
                    why: patched.why.clone(),
                    source: patched.source.clone(),
                    destroys_data: false,
                });
            }
        }
    }
    forces.dedup();
    Ok(forces)
}

/// Every leaf that differs between two objects, by field path.
fn diff(was: &Node, now: &Node) -> Vec<FieldDiff> {
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    leaves(was, String::new(), &mut old);
    leaves(now, String::new(), &mut new);
    let mut fields = Vec::new();
    for (path, value) in &new {
        if old.get(path) != Some(value) {
            fields.push(FieldDiff { path: path.clone(), old: old.get(path).cloned(), new: Some(value.clone()) });
        }
    }
    for (path, value) in old {
        if !new.contains_key(&path) {
            fields.push(FieldDiff { path, old: Some(value), new: None });
        }
    }
    fields.sort_by(|a, b| a.path.cmp(&b.path));
    fields
}

/// The scalars of a tree by field path (`spec.parameters.size`,
/// `metadata.annotations[argocd.argoproj.io/sync-wave]`, `items[0]`); an
/// empty map or list is a leaf of its own.
fn leaves(node: &Node, path: String, out: &mut BTreeMap<String, String>) {
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                let plain =
                    key.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !key.name.is_empty();
                let child = match (path.is_empty(), plain) {
                    (true, true) => key.name.clone(),
                    (false, true) => format!("{path}.{}", key.name),
                    (_, false) => format!("{path}[{}]", key.name),
                };
                leaves(value, child, out);
            }
        }
        Value::Seq(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                leaves(item, format!("{path}[{i}]"), out);
            }
        }
        Value::Map(_) => drop(out.insert(path, "{}".into())),
        Value::Seq(_) => drop(out.insert(path, "[]".into())),
        Value::Null => drop(out.insert(path, "null".into())),
        Value::Bool(b) => drop(out.insert(path, b.to_string())),
        Value::Int(i) => drop(out.insert(path, i.to_string())),
        Value::Float(f) => drop(out.insert(path, f.to_string())),
        Value::BigInt(text) => drop(out.insert(path, text.clone())),
        Value::Str(s) => drop(out.insert(path, s.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Node> {
        crate::yaml::non_empty_documents(text).unwrap()
    }

    fn claim(provider: &str, size: &str, storage: u32, subnet: &str) -> String {
        format!(
            "apiVersion: platform.example.org/v1alpha1
kind: MySQLInstanceClaim
metadata: {{name: orders, namespace: team}}
spec:
  parameters:
    cell: c
    environment: production
    tier: medium
    provider: {provider}
    region: r
    size: {size}
    storageGB: {storage}
    ha: true
    role: primary
    writeFence: false
    network: {{subnet_id: {subnet}, subnet_group: g, security_group_id: s, vpc_id: v}}
  compositionSelector: {{matchLabels: {{provider: {provider}, class: mysql}}}}
  writeConnectionSecretToRef: {{name: orders-conn}}
"
        )
    }

    fn classify(files: &[(&str, Option<&str>, Option<&str>)]) -> Vec<ObjectChange> {
        let mut objects = Changeset::new(Products::embedded());
        for (path, before, after) in files {
            objects.file(path, before.map(docs).unwrap_or_default(), after.map(docs).unwrap_or_default());
        }
        objects.classify().unwrap()
    }

    const PATH: &str = "platform/team/mysql-orders/primary.yaml";

    #[test]
    fn a_resize_is_an_update_in_place_naming_its_fields() {
        let changes = classify(&[(PATH, Some(&claim("aws", "small", 20, "n")), Some(&claim("aws", "large", 20, "n")))]);
        assert_eq!(changes.len(), 1);
        let change = &changes[0];
        assert_eq!((change.action, change.destroys_data), (ObjectAction::Update, false));
        assert_eq!(change.object(), "MySQLInstanceClaim team/orders");
        assert_eq!(change.request.as_deref(), Some("mysql team/orders"));
        let size =
            FieldDiff { path: "spec.parameters.size".into(), old: Some("small".into()), new: Some("large".into()) };
        assert_eq!(change.fields, [size]);
    }

    #[test]
    fn the_xrds_transition_rules_force_a_replacement() {
        // From the shipped XRD, not restated here: provider and region are
        // `self == oldSelf`, storageGB `self >= oldSelf`.
        let changes = classify(&[(PATH, Some(&claim("aws", "small", 20, "n")), Some(&claim("gcp", "small", 10, "n")))]);
        let change = &changes[0];
        assert_eq!((change.action, change.destroys_data), (ObjectAction::Replace, true));
        let by_xrd: Vec<&Force> = change.forces.iter().filter(|f| f.composed.is_none()).collect();
        let forced: Vec<&str> = by_xrd.iter().map(|f| f.field.as_str()).collect();
        assert!(forced.contains(&"spec.parameters.provider"), "{forced:?}");
        assert!(forced.contains(&"spec.parameters.storageGB"), "{forced:?}");
        assert!(by_xrd.iter().all(|f| f.source.contains("xrd-mysql.yaml") && f.destroys_data));
    }

    #[test]
    fn a_provider_forcenew_field_forces_a_replacement_only_when_its_condition_holds() {
        // Cloud SQL grows a disk in place and replaces it to shrink it
        // (force-new.yaml: settings.diskSize, when: decrease); OCI moves no
        // DB system to another subnet.
        let grown = classify(&[(PATH, Some(&claim("gcp", "small", 20, "n")), Some(&claim("gcp", "small", 30, "n")))]);
        assert_eq!(grown[0].action, ObjectAction::Update, "{grown:?}");
        let moved = classify(&[(PATH, Some(&claim("oci", "small", 20, "a")), Some(&claim("oci", "small", 20, "b")))]);
        assert_eq!(moved[0].action, ObjectAction::Replace);
        let force = &moved[0].forces[0];
        assert_eq!(force.field, "spec.parameters.network.subnet_id");
        assert_eq!(
            force.composed.as_deref(),
            Some("mysql.oci.upbound.io/v1alpha1 MysqlDbSystem spec.forProvider.subnetId")
        );
        assert!(!force.destroys_data, "upjet refuses the replacement: nothing is destroyed");
        assert!(!moved[0].destroys_data);
    }

    #[test]
    fn an_object_moved_between_files_is_updated_not_deleted() {
        let text = claim("aws", "small", 20, "n");
        let changes =
            classify(&[(PATH, Some(&text), None), ("platform/team/mysql-orders/secondary.yaml", None, Some(&text))]);
        assert!(changes.is_empty(), "{changes:?}");
        let changes = classify(&[(PATH, Some(&text), None)]);
        assert_eq!((changes[0].action, changes[0].destroys_data), (ObjectAction::Delete, true));
    }

    #[test]
    fn deleting_a_stateless_object_destroys_no_data() {
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a, namespace: argocd}\n";
        let changes = classify(&[("apps/team/app-web/primary.yaml", Some(app), None)]);
        assert_eq!((changes[0].action, changes[0].destroys_data), (ObjectAction::Delete, false));
        assert_eq!(changes[0].object(), "Application argocd/a");
    }

    /// The seed's payments database (C0: aws primary, gcp secondary, GoldenGate
    /// replication) as idp renders it with `active` serving: (path, text).
    fn payments(active: crate::cell::Side) -> Vec<(String, String)> {
        let (policy, request, decision) = crate::test_support::payments_c0();
        let input = crate::render::RenderInput {
            data: &crate::record::DataClaims::NONE,
            request: &request,
            decision: &decision,
            policy: &policy,
            active,
            names: layout::NameScheme::for_new(request.kind),
            unprotect: false,
            draining: false,
            moving: None,
        };
        let files = crate::render::Renderer::embedded().request_files(&input).unwrap();
        files.into_iter().map(|f| (f.path, f.content)).collect()
    }

    fn moved(before: &[(String, String)], after: &[(String, String)]) -> Vec<ObjectChange> {
        let files: Vec<(&str, Option<&str>, Option<&str>)> = before
            .iter()
            .zip(after)
            .map(|((path, was), (_, now))| (path.as_str(), Some(was.as_str()), Some(now.as_str())))
            .collect();
        classify(&files)
    }

    /// The replication claim as idp wrote it before it named the databases by
    /// role: `source` and `target` only.
    fn without_roles(text: &str) -> String {
        let mut kept = String::new();
        let mut skipping = false;
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            if indent == 4 && ["primary:", "secondary:", "direction:"].iter().any(|k| line.trim_start().starts_with(k))
            {
                skipping = true;
                continue;
            }
            if skipping && indent > 4 {
                continue;
            }
            skipping = false;
            kept.push_str(line);
            kept.push('\n');
        }
        kept
    }

    #[test]
    fn a_failover_of_goldengate_replication_updates_every_object_in_place() {
        use crate::cell::Side;
        for (from, to) in [(Side::Primary, Side::Secondary), (Side::Secondary, Side::Primary)] {
            let changes = moved(&payments(from), &payments(to));
            assert_eq!(changes.len(), 3, "both claims and the replication: {changes:#?}");
            let replaced: Vec<&ObjectChange> = changes.iter().filter(|c| c.action != ObjectAction::Update).collect();
            assert!(replaced.is_empty(), "{from:?} -> {to:?}: {replaced:#?}");
            // Only the direction moves; the databases keep their roles, and the
            // GoldenGate Connections (keyed by role) with them.
            let replication = changes.iter().find(|c| c.kind == "ReplicationClaim").expect("the replication changes");
            for field in &replication.fields {
                assert!(
                    ["spec.parameters.direction", "spec.parameters.source.", "spec.parameters.target."]
                        .iter()
                        .any(|p| field.path.starts_with(p)),
                    "{field:?}"
                );
            }
        }
    }

    #[test]
    fn a_replication_claim_written_before_roles_takes_them_in_place() {
        // Role fields new to the claim force nothing: the role-keyed
        // Connections are held back until those Required fields exist, so
        // their first value creates them. A failover from such a claim is no
        // different.
        use crate::cell::Side;
        let mut old = payments(Side::Primary);
        for (path, text) in &mut old {
            if path.ends_with("replication.yaml") {
                let stripped = without_roles(text);
                assert!(!stripped.contains("primary:") && stripped.contains("source:"), "{stripped}");
                *text = stripped;
            }
        }
        for active in [Side::Primary, Side::Secondary] {
            let changes = moved(&old, &payments(active));
            let replication = changes.iter().find(|c| c.kind == "ReplicationClaim").expect("the replication changes");
            assert_eq!(replication.action, ObjectAction::Update, "{replication:#?}");
            assert!(replication.fields.iter().any(|f| f.path == "spec.parameters.primary.provider" && f.old.is_none()));
            assert!(changes.iter().all(|c| c.action == ObjectAction::Update), "{changes:#?}");
        }
    }

    #[test]
    fn leaves_name_annotation_keys_as_the_compositions_do() {
        let node = &docs("metadata: {annotations: {argocd.argoproj.io/sync-wave: '1'}, labels: {}}\nlist: [a]\n")[0];
        let mut out = BTreeMap::new();
        leaves(node, String::new(), &mut out);
        let paths: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(paths, ["list[0]", "metadata.annotations[argocd.argoproj.io/sync-wave]", "metadata.labels"]);
    }

    /// A failover and a failback of every database the default policy can
    /// place (each tier, drProfile, cell and HA choice) change no field that
    /// a provider can only replace: upjet would refuse it and leave the
    /// composed resource `Synced=False`, the fence of the next failover
    /// included. From data: the shipped Compositions and force-new.yaml
    /// (`compose`). What it cannot prove: the cloud's own behaviour beyond
    /// what that table cites.
    #[test]
    fn failing_over_and_back_replaces_nothing_a_provider_would_refuse() {
        use crate::cell::Side;
        use crate::test_support::{default_policy_databases, render};
        let (policy, databases) = default_policy_databases();
        let mut refused = std::collections::BTreeSet::new();
        let mut failovers = 0;
        for (case, request, decision) in databases.iter().filter(|(_, _, d)| d.secondary.is_some()) {
            failovers += 1;
            let steady = render(&policy, request, decision, Side::Primary);
            let failed_over = render(&policy, request, decision, Side::Secondary);
            for (from, to) in [(&steady, &failed_over), (&failed_over, &steady)] {
                let mut changeset = Changeset::new(Products::embedded());
                for (before, after) in from.iter().zip(to) {
                    assert_eq!(before.path, after.path);
                    changeset.file(&before.path, before.documents.clone(), after.documents.clone());
                }
                for object in changeset.classify().unwrap() {
                    for force in object.forces.iter().filter(|f| f.composed.is_some()) {
                        let composed = force.composed.as_deref().unwrap_or_default();
                        refused.insert(format!("{} ({case}): {} reaches {composed}", object.object(), force.field));
                    }
                }
            }
        }
        assert!(failovers > 0, "the default policy places databases with a secondary");
        let listed = refused.iter().cloned().collect::<Vec<_>>().join("\n");
        assert!(refused.is_empty(), "{} refused changes:\n{listed}", refused.len());
    }
}
