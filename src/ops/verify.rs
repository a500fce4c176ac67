//! `idp verify`: the CI gate for a whole state repo. It reads everything at
//! HEAD (the one command that may walk the whole tree), re-renders every
//! request from its recorded placement and compares byte for byte, checks
//! that HEAD's history changed no request's files behind another's name
//! (`scope`), and never moves anything.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use serde::Serialize;

use super::plan::request_yaml;
use super::records::{parse_record, parse_stored_request, parse_stored_request_as};
use super::{Context, Error};
use crate::cell::Side;
use crate::layout;
use crate::record::{DataLink, PlacementRecord};
use crate::render::RenderInput;
use crate::request::{Admission, Request};
use crate::schedule::{self, PolicyRef};
use crate::state;
use crate::yaml::Node;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub file: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct VerifyOutcome {
    pub ok: bool,
    pub strict: bool,
    pub requests: usize,
    pub files: usize,
    pub findings: Vec<Finding>,
}

pub fn verify(ctx: &Context, strict: bool) -> Result<VerifyOutcome, Error> {
    let repo = ctx.state()?;
    let policy = &ctx.policy.policy;
    let mut findings = Vec::new();
    let mut error =
        |file: &str, message: String| findings.push(Finding { severity: Severity::Error, file: file.into(), message });
    let Some(base) = ctx.base else {
        return Ok(VerifyOutcome { ok: true, strict, requests: 0, files: 0, findings: Vec::new() });
    };
    let files = Files::at(repo, base)?;
    let read = |path: &str| files.read(repo, path);

    // Rules must compile.
    let rules = match super::rules::load(ctx) {
        Ok(rules) => rules,
        Err(e) => {
            error(layout::RULES_DIR, e.to_string());
            crate::rules::Rules::default()
        }
    };

    let renderer = ctx.renderer()?;
    let policy_ref = PolicyRef { version: policy.version.clone(), digest: ctx.policy.digest.clone() };
    let mut warnings = Vec::new();
    let mut requests = 0;
    // The namespaces that hold claims: each needs its Namespace manifest.
    let mut claim_namespaces: BTreeSet<String> = BTreeSet::new();
    // The cells (and environments) that hold requests: each needs its Application.
    let mut cells: BTreeSet<(String, String)> = BTreeSet::new();
    // Each app's public host, with the app: two apps never share one.
    let mut hosts: BTreeMap<String, String> = BTreeMap::new();
    // Whether the root Application syncs the cells' Applications (argocd/) rather than
    // platform/ whole, as roots written before cell Applications do: then what no cell
    // Application selects is not synced at all.
    let cell_root = root_syncs_cells(&read(&layout::bootstrap_path("root-application.yaml"))?.unwrap_or_default());
    // Argo CD runs the health checks merged into argocd-cm from this patch; one an
    // older idp wrote may judge claims differently (it once failed every new
    // database's first sync: a claim's Ready=False Waiting read as Degraded).
    if read(layout::ARGOCD_CM_PATCH_PATH)?
        .is_some_and(|bytes| bytes != crate::render::health::argocd_cm_patch().content.as_bytes())
    {
        warnings.push(Finding {
            severity: Severity::Warning,
            file: layout::ARGOCD_CM_PATCH_PATH.to_owned(),
            message: "is not the health-check patch this idp ships (an older idp wrote it): `idp init` into a new folder writes the current one at the same path; commit it here and merge it into argocd-cm (docs/bootstrap.md, \"The health checks\")".to_owned(),
        });
    }
    for path in files.paths().filter(|p| layout::is_request_path(p)) {
        let bytes = read(path)?.unwrap_or_default();
        files.expect(path);
        // Counted whether or not it still validates: it is a request of the repo.
        requests += 1;
        // Read as the policy in force would admit it today (one parse, the
        // usual case); one it would refuse is read again as what it is, a
        // request admitted under an older policy: it stays placed and fails
        // over, but a change to it would be refused. Worth knowing, not a
        // broken repo.
        let parsed = match parse_stored_request_as(path, bytes.clone(), ctx, Admission::Submitted) {
            Err(Error::Request(refused)) => parse_stored_request(path, bytes.clone(), ctx).inspect(|_| {
                for message in refused.messages() {
                    warnings.push(Finding {
                        severity: Severity::Warning,
                        file: path.to_owned(),
                        message: format!(
                            "{message} (placed before this rule: it stays placed; a change to it is refused)"
                        ),
                    });
                }
            }),
            parsed => parsed,
        };
        let request: Request = match parsed {
            Ok(request) => request,
            Err(e) => {
                match e {
                    Error::Request(e) => e.messages().into_iter().for_each(|message| error(path, message)),
                    other => error(path, other.to_string()),
                }
                // Its files are still its own: never advise deleting a live
                // database because its request stopped validating.
                files.expect_owned_by(path);
                continue;
            }
        };
        if request.kind.is_data() {
            claim_namespaces.insert(request.namespace.clone());
        }
        cells.insert((request.cell.clone(), request.environment.clone()));
        if layout::request_path(request.kind, &request.namespace, &request.name) != *path {
            error(path, format!("holds {} {}, which belongs in another file", request.kind, request.id()));
            continue;
        }
        if let crate::request::Spec::App { public_host: Some(host), .. } = &request.spec {
            let claim_path = layout::host_path(host);
            if let Some(other) = hosts.insert(host.clone(), request.id()) {
                error(path, format!("names publicHost {host}, which app {other} names too: a host serves one app"));
            } else if read(&claim_path)?
                .is_none_or(|b| b != layout::host_claim(host, &request.namespace, &request.name).as_bytes())
            {
                error(
                    &claim_path,
                    format!(
                        "is missing or names another app: publicHost {host} belongs to app {} (re-apply it)",
                        request.id()
                    ),
                );
            }
            files.expect(&claim_path);
        }
        if request_yaml(&request).as_bytes() != bytes {
            error(path, "is not in idp's normalized form (edited by hand?)".into());
        }
        let record_path = layout::placement_path(request.kind, &request.namespace, &request.name);
        files.expect(&record_path);
        let Some(record_bytes) = read(&record_path)? else {
            error(path, format!("has no placement record ({record_path})"));
            continue;
        };
        let record: PlacementRecord = match parse_record(&record_path, &record_bytes, &ctx.products) {
            Ok(record) => record,
            Err(Error::CorruptRecord { message, .. }) => {
                error(&record_path, format!("is not a record idp can read: {message}"));
                continue;
            }
            Err(other) => return Err(other),
        };
        let decision = record.decision();
        match rules.admit(&super::rules::admission_input(policy, &request, Some(&record))) {
            Ok(admission) => {
                for verdict in admission.deny {
                    error(path, format!("refused by {}: {}", verdict.file, verdict.message));
                }
            }
            Err(e) => error(path, e.to_string()),
        }

        // Re-render from the recorded placement: any difference is a hand edit
        // (or a policy/template change not yet applied).
        let cell = ctx.cell_state(&request.cell, &request.environment)?;
        let data = ctx.data_claims(&request, &decision.reason, Some(&record))?;
        let input = RenderInput {
            request: &request,
            data: &data,
            decision: &decision,
            policy,
            active: cell.active_side,
            draining: cell.cold_standbys_draining,
            moving: cell.moving(),
            names: record.names(),
            unprotect: false,
        };
        let mut member = record.member();
        member.monthly_usd = crate::cost::estimate(policy, &request, &decision).map(|c| c.monthly_usd);
        let member_path =
            layout::member_path(&request.cell, &request.environment, request.kind, &request.namespace, &request.name);
        let mut wanted = vec![(member_path, member.to_yaml())];
        match crate::catalog::entity(&request, &decision, &data) {
            Ok(entity) => wanted.push(entity),
            Err(e) => error(path, e.to_string()),
        }
        match renderer.request_files(&input) {
            Ok(rendered) => wanted.extend(rendered.into_iter().map(|f| (f.path, f.content))),
            Err(e) => error(path, e.to_string()),
        }
        // What an `idp delete --unprotect` commit renders, read only when a
        // database's file differs from the policy's render.
        let mut lifted: Option<Vec<(String, String)>> = None;
        for (file, content) in wanted {
            files.expect(&file);
            let legacy = layout::legacy_platform_path(&file, request.at());
            match read(&file)? {
                // Named as an older idp named it: the same objects, but no cell's
                // Application selects the file.
                None if legacy
                    .as_ref()
                    .is_some_and(|l| read(l).ok().flatten().as_deref() == Some(content.as_bytes())) =>
                {
                    let legacy = legacy.unwrap_or_default();
                    let message = format!(
                        "has the name an older idp gave it: the cell's Argo CD Application selects {file} (`idp apply -f {path}` moves it; docs/bootstrap.md, \"Cell Applications\")"
                    );
                    let severity = if cell_root { Severity::Error } else { Severity::Warning };
                    warnings.push(Finding { severity, file: legacy.clone(), message });
                    files.expect(&legacy);
                    files.as_rendered(&legacy);
                }
                None => error(&file, format!("is missing: {} {} renders it", request.kind, request.id())),
                Some(committed) if committed != content.as_bytes() => {
                    let unprotected = request.kind.is_data() && {
                        let unprotected = lifted.get_or_insert_with(|| {
                            let input = RenderInput { unprotect: true, ..input };
                            let files = renderer.request_files(&input).unwrap_or_default();
                            files.into_iter().map(|f| (f.path, f.content)).collect()
                        });
                        unprotected.iter().any(|(path, content)| *path == file && content.as_bytes() == committed)
                    };
                    if unprotected {
                        warnings.push(Finding {
                            severity: Severity::Warning,
                            message: format!(
                                "deletion protection is off (an `idp delete --unprotect` commit): `idp delete {} {} --allow-destroy` removes the database, `idp apply` protects it again",
                                request.kind,
                                request.id()
                            ),
                            file: file.clone(),
                        });
                        files.as_rendered(&file);
                    } else {
                        error(
                            &file,
                            format!(
                                "differs from what idp renders for {} {} (a hand edit, or a policy or template change not yet applied: re-apply the request)",
                                request.kind,
                                request.id()
                            ),
                        )
                    }
                }
                Some(_) => files.as_rendered(&file),
            }
        }

        // Placements that the policy of today would not make: reported, never moved.
        for target in std::iter::once(&record.primary).chain(record.secondary.as_ref()) {
            if policy.candidate(&target.provider, &target.region).is_some_and(|c| c.cordoned) {
                warnings.push(Finding {
                    severity: Severity::Warning,
                    file: record_path.clone(),
                    message: format!("placed on cordoned candidate {}", target.id()),
                });
            }
            if request.kind.is_app()
                && let Some(why) = schedule::stale_cluster(policy, &request.environment, target)
            {
                warnings.push(Finding {
                    severity: Severity::Warning,
                    file: record_path.clone(),
                    message: format!("{why} (apply with --reschedule to move it)"),
                });
            }
        }
        if request.kind.is_app() {
            let (errors, warned) = data_links(ctx, &request, &record, &record_path)?;
            errors.into_iter().for_each(|message| error(&record_path, message));
            warnings.extend(warned);
        }
        let refused = super::rules::refusals(&rules, policy, &request).unwrap_or_default();
        if record.reason.follows.is_none()
            && let Ok(now) =
                schedule::schedule_with(policy, &policy_ref, &request.demand(), &|c| refused.get(&c.id()).cloned())
            && (now.primary.id() != record.primary.id()
                || now.secondary.as_ref().map(|s| s.id()) != record.secondary.as_ref().map(|s| s.id()))
        {
            warnings.push(Finding {
                severity: Severity::Warning,
                file: record_path.clone(),
                message: format!(
                    "policy drift: the current policy would place it on {} (it stays on {})",
                    now.primary.id(),
                    record.primary.id()
                ),
            });
        }
    }

    // A namespace outlives its last database (Argo CD never deletes it):
    // its manifest is nobody's orphan.
    for path in files.paths().filter(|p| layout::is_namespace_path(p)) {
        files.expect(path);
    }
    for namespace in &claim_namespaces {
        let path = layout::namespace_path(namespace);
        if read(&path)?.is_none_or(|b| b != crate::render::namespace_manifest(namespace).as_bytes()) {
            error(
                &path,
                format!(
                    "is missing or edited: the claims of namespace {namespace} cannot sync without it (re-apply any of its databases)"
                ),
            );
        }
        files.expect(&path);
    }
    // The Applications the root syncs: one per cell and environment, and the
    // namespaces' one. Under a root that still syncs platform/ whole they are not
    // applied yet, and their absence is a warning.
    let mut applications: Vec<(String, String, String)> = cells
        .iter()
        .map(|(cell, environment)| {
            let at = layout::CellOf { cell, environment };
            let what = format!("the Argo CD Application of cell {cell}/{environment}");
            (layout::cell_application_path(at), crate::render::cell_application(at, &policy.gitops), what)
        })
        .collect();
    if !claim_namespaces.is_empty() {
        let content = crate::render::namespaces_application(&policy.gitops);
        let what = "the Argo CD Application of the team namespaces".to_owned();
        applications.push((layout::NAMESPACES_APPLICATION_PATH.to_owned(), content, what));
    }
    for (path, content, what) in applications {
        if read(&path)?.is_none_or(|b| b != content.as_bytes()) {
            let message = format!("is missing or out of date: it is {what} (re-apply any request of the cell)");
            let severity = if cell_root { Severity::Error } else { Severity::Warning };
            warnings.push(Finding { severity, file: path.clone(), message });
        } else {
            files.as_rendered(&path);
        }
    }
    let location = layout::CATALOG_LOCATION_PATH;
    files.expect(location);
    if requests > 0 && read(location)?.is_none_or(|b| b != crate::catalog::location().as_bytes()) {
        error(location, "is missing or edited: Backstage finds the catalog through it (re-apply any request)".into());
    }
    let (mut objects, mut landing) = (Objects::default(), Landing::default());
    let hosts_dir = format!("{}/", layout::HOSTS_DIR);
    for (index, (path, held)) in files.iter().enumerate() {
        let owned = layout::REQUEST_PREFIXES.iter().any(|p| path.starts_with(p))
            || layout::is_member_path(path)
            || path.starts_with(&hosts_dir);
        if owned && !held.expected.get() {
            error(path, "is an orphan: no request renders it (remove it, or restore its request)".into());
        }
        // Every file, whatever its kind: a password in a README or a Rego
        // rule is as public as one in a manifest.
        let bytes = repo.blob(held.id)?;
        let text = String::from_utf8_lossy(&bytes);
        check_secrets(path, &text, &mut error);
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            // One parse of the file for every check below.
            let documents = match held.as_rendered.get() {
                true => crate::yaml::non_empty_documents(&text).ok(),
                false => check_manifest(path, &text, &mut error),
            };
            let Some(documents) = documents else { continue };
            if layout::is_manifest_path(path) {
                check_claims(&ctx.products, path, &documents, &mut error);
            }
            objects.add(index, &landing.keys(ctx, path, &documents)?);
        }
    }
    let conflicts = objects.conflicts(|index| {
        let held = &files.held[index];
        let path = files.path(held);
        let bytes = repo.blob(held.id)?;
        let documents = crate::yaml::non_empty_documents(&String::from_utf8_lossy(&bytes)).unwrap_or_default();
        Ok((path.to_owned(), landing.keys(ctx, path, &documents)?))
    })?;
    report_conflicts(&conflicts, &mut error);

    // History: every idp commit changed only the files of the requests it
    // names (a revert made with rename detection does not), and every
    // commit that destroyed data said so.
    let audit = super::scope::audit(repo, base, &ctx.products)?;
    for stray in &audit.strays {
        error(&stray.files[0], stray_message(stray));
    }
    for unrecorded in &audit.unrecorded {
        for object in &unrecorded.destroys {
            error(&object.file, unrecorded_message(unrecorded, object));
        }
    }

    findings.extend(warnings);
    let mut outcome = VerifyOutcome { ok: true, strict, requests, files: files.held.len(), findings: Vec::new() };
    outcome.add(findings);
    Ok(outcome)
}

impl VerifyOutcome {
    /// Adds findings (`verify --live`'s), sorted, with `ok` kept true only
    /// while there are warnings alone (which `--strict` makes errors).
    pub fn add(&mut self, findings: Vec<Finding>) {
        let strict = self.strict;
        self.findings.extend(findings.into_iter().map(|mut f| {
            if strict {
                f.severity = Severity::Error;
            }
            f
        }));
        self.findings.sort();
        self.findings.dedup();
        self.ok = self.findings.iter().all(|f| f.severity == Severity::Warning);
    }
}

/// Whether a root Application (bootstrap/argocd/root-application.yaml) syncs the
/// Applications under `argocd/`, as `idp init` writes it since cells have their own
/// Applications; a root that syncs `platform/` whole (or none) does not.
fn root_syncs_cells(root: &[u8]) -> bool {
    let Ok(documents) = crate::yaml::non_empty_documents(&String::from_utf8_lossy(root)) else { return false };
    documents.iter().any(|doc| doc.str_at(&["spec", "source", "path"]) == Some(layout::ARGOCD_DIR))
}

/// An app and the data it names (or followed before apps named their
/// data): each database must be placed, in the app's cell, and the app must
/// still sit on its sides: a database re-placed or given a secondary after
/// the app leaves it behind until the app is re-applied with --reschedule.
/// Errors on the app's placement record, and warnings.
fn data_links(
    ctx: &Context,
    request: &Request,
    record: &PlacementRecord,
    record_path: &str,
) -> Result<(Vec<String>, Vec<Finding>), Error> {
    let app = format!("{} {}", request.kind, request.id());
    let link = DataLink::of(request, &record.reason);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut warn =
        |message: String| warnings.push(Finding { severity: Severity::Warning, file: record_path.to_owned(), message });
    let follows = link.follows(|namespace, name| ctx.data_kind(namespace, name));
    match &link {
        DataLink::Implicit { .. } => {
            warn(format!("{app} {}", super::plan::implicit_warning(request, &follows.unwrap_or_default())));
        }
        DataLink::Named { .. } if record.reason.follows != follows => warn(format!(
            "{app} names {} in spec.database, and its placement record says it follows {}: re-apply the app to record the link",
            follows.unwrap_or_default(),
            record.reason.follows.as_deref().unwrap_or("nothing")
        )),
        _ => {}
    }
    for (namespace, name) in link.databases() {
        // A record idp cannot read is reported as its own file.
        let Ok(placed) = ctx.data_placement(namespace, name) else { continue };
        let Some(data) = placed else {
            errors.push(format!(
                "{app} names {namespace}/{name}, which is not placed: apply the database, or take it out of the app's spec.database and re-apply the app"
            ));
            continue;
        };
        let database = format!("{} {namespace}/{name}", data.request_kind);
        if matches!(link, DataLink::Named { .. })
            && (data.cell.as_str(), data.environment.as_str()) != (request.cell.as_str(), request.environment.as_str())
        {
            errors.push(format!(
                "{app} in cell {}/{} names {database}, which is in cell {}/{}: an app runs in the cell of its data",
                request.cell, request.environment, data.cell, data.environment
            ));
        }
        let with = (&data.primary, data.secondary.as_ref());
        let sits_with = link.followed().contains(&(namespace, name));
        if let Some(why) = schedule::apart(&database, with, (&record.primary, record.secondary.as_ref()))
            && sits_with
        {
            errors.push(format!(
                "{app} no longer sits with {database}: {why}; re-apply the app with --reschedule so it follows its database again (or, if the database moved by mistake, roll that back)"
            ));
        }
    }
    Ok((errors, warnings))
}

/// Every object Argo CD would apply, by where it lands: two files holding
/// the same (cluster, apiVersion, kind, namespace, name) fight over one
/// object, and Argo CD applies whichever it reads last. Hand-written files
/// count as much as rendered ones.
///
/// Objects are held as a hash of that identity and the file's place among
/// HEAD's files (~20 bytes each, not five strings and a path: a
/// 100,000-request repo holds ~800,000 objects). Files whose hashes meet are
/// read again and told apart by the identity itself, so a collision of
/// hashes is never reported as a conflict.
struct Objects {
    /// An identity's hash -> the first file holding such an object.
    first: HashMap<u64, usize>,
    /// Hashes held more than once (by two files, or twice by one): every holder.
    shared: HashMap<u64, Vec<usize>>,
    hash: fn(&ObjectKey) -> u64,
}

/// Where an object lands and what it is: (cluster, apiVersion, kind, namespace, name).
type ObjectKey = (String, String, String, String, String);

impl Default for Objects {
    fn default() -> Self {
        Self { first: HashMap::new(), shared: HashMap::new(), hash: hash_of }
    }
}

impl Objects {
    /// The objects of the file at `index`.
    fn add(&mut self, index: usize, keys: &[ObjectKey]) {
        for key in keys {
            let hash = (self.hash)(key);
            match self.first.entry(hash) {
                std::collections::hash_map::Entry::Vacant(vacant) => {
                    vacant.insert(index);
                }
                std::collections::hash_map::Entry::Occupied(first) => {
                    self.shared.entry(hash).or_insert_with(|| vec![*first.get()]).push(index);
                }
            }
        }
    }

    /// Each object more than one file (or document) holds, with every
    /// holder: the files whose hashes met, read again (`keys_of`: a file's
    /// path and objects by its index) and grouped by identity.
    fn conflicts(
        &self,
        mut keys_of: impl FnMut(usize) -> Result<(String, Vec<ObjectKey>), Error>,
    ) -> Result<BTreeMap<ObjectKey, Vec<String>>, Error> {
        let mut holders: Vec<usize> = self.shared.values().flatten().copied().collect();
        holders.sort_unstable();
        holders.dedup();
        let mut held: BTreeMap<ObjectKey, Vec<String>> = BTreeMap::new();
        for index in holders {
            let (path, keys) = keys_of(index)?;
            for key in keys.into_iter().filter(|key| self.shared.contains_key(&(self.hash)(key))) {
                held.entry(key).or_default().push(path.clone());
            }
        }
        held.retain(|_, files| files.len() > 1);
        Ok(held)
    }
}

/// A stable hash of an object's identity (SipHash with fixed keys).
fn hash_of(key: &ObjectKey) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// Where a file's objects land, and what they are.
#[derive(Default)]
struct Landing {
    /// The runtime cluster of an app's side, from its placement record.
    clusters: BTreeMap<(String, String, Side), Option<String>>,
}

impl Landing {
    /// The identities of a file's objects, one per document that has a kind and a name.
    fn keys(&mut self, ctx: &Context, path: &str, documents: &[Node]) -> Result<Vec<ObjectKey>, Error> {
        let Some(cluster) = self.cluster_of(ctx, path)? else { return Ok(Vec::new()) };
        let mut keys = Vec::new();
        for doc in documents {
            let field = |at: &[&str]| doc.str_at(at).unwrap_or_default().to_owned();
            let (kind, name) = (field(&["kind"]), field(&["metadata", "name"]));
            if kind.is_empty() || name.is_empty() {
                continue;
            }
            keys.push((cluster.clone(), field(&["apiVersion"]), kind, field(&["metadata", "namespace"]), name));
        }
        Ok(keys)
    }

    /// The management cluster for platform/ and bootstrap/; for an app's
    /// workloads, the runtime cluster its placement record names for that
    /// side (the folder itself when the record says nothing).
    fn cluster_of(&mut self, ctx: &Context, path: &str) -> Result<Option<String>, Error> {
        if path.starts_with("platform/") || path.starts_with("bootstrap/") || path.starts_with("argocd/") {
            return Ok(Some("the management cluster".into()));
        }
        let Some((namespace, name, side)) = layout::workload_side_of(path) else { return Ok(None) };
        let key = (namespace.clone(), name.clone(), side);
        if !self.clusters.contains_key(&key) {
            let record = ctx.placement(ctx.app_kind(), &namespace, &name).ok().flatten();
            let target = record.and_then(|r| match side {
                Side::Primary => Some(r.primary),
                Side::Secondary => r.secondary,
            });
            self.clusters.insert(key.clone(), target.map(|t| format!("runtime cluster {}", t.runtime_cluster)));
        }
        let folder = layout::workload_side_dir(&namespace, &name, side);
        Ok(Some(self.clusters[&key].clone().unwrap_or(folder)))
    }
}

/// One error per holder of an object that several files hold.
fn report_conflicts(conflicts: &BTreeMap<ObjectKey, Vec<String>>, error: &mut impl FnMut(&str, String)) {
    for ((cluster, _, kind, namespace, name), files) in conflicts {
        let object = if namespace.is_empty() { format!("{kind} {name}") } else { format!("{kind} {namespace}/{name}") };
        for (i, file) in files.iter().enumerate() {
            let others: Vec<String> = files
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, other)| match layout::request_of_manifest(other) {
                    Some(request) => format!("{other} ({request})"),
                    None => other.clone(),
                })
                .collect();
            error(
                file,
                format!(
                    "holds {object} on {cluster}, as does {}: Argo CD applies whichever it reads last (rename one request)",
                    others.join(", ")
                ),
            );
        }
    }
}

/// A commit that changed another request's files: which, and how to undo it.
fn stray_message(stray: &super::scope::Stray) -> String {
    const SHOWN: usize = 5;
    let id = stray.commit;
    let mut files = stray.files.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if stray.files.len() > SHOWN {
        files.push_str(&format!(" and {} more", stray.files.len() - SHOWN));
    }
    let named = match stray.named.as_slice() {
        [] => "no request".to_owned(),
        named => named.join(", "),
    };
    format!(
        "commit {id} ({}) changed files of {}, which it does not name (it is about {named}): {files}. A revert made with rename detection lands on look-alike files of another request; undo it with `idp rollback --force {id}`, then redo what it meant to do",
        stray.title,
        stray.foreign.join(", "),
    )
}

/// A commit that destroyed data without the explicit word: what, and the
/// two ways out.
fn unrecorded_message(unrecorded: &super::scope::Unrecorded, object: &super::objects::ObjectChange) -> String {
    let id = unrecorded.commit;
    let what = match object.action {
        super::objects::ObjectAction::Replace => "replaced (a new, empty one)",
        _ => "deleted",
    };
    let request = object.request.as_deref().map(|r| format!(" of {r}")).unwrap_or_default();
    format!(
        "commit {id} ({}) {what} {}{request} without an `{}: {}` trailer: once Argo CD syncs it, the data behind it is gone. \
         If that is wrong, undo it before Argo CD syncs (`idp rollback {id}`). \
         If it is meant, record it with a commit whose message carries `{}: {id}` and `{}: {}`",
        unrecorded.title,
        object.object(),
        super::destroy::DESTROY_TRAILER,
        object.object(),
        super::scope::RECORDS_TRAILER,
        super::destroy::DESTROY_TRAILER,
        object.object(),
    )
}

/// No secret material anywhere: the render guard's scanner, over every file.
fn check_secrets(path: &str, text: &str, error: &mut impl FnMut(&str, String)) {
    for (line, message) in crate::secrets::scan(path, text) {
        error(path, format!("line {line}: {message}; secrets are referenced by name, never stored in the state repo"));
    }
}

/// Labels on manifests and no `kind: Secret`, for files idp did not render
/// as they stand. Returns the file's documents (None: not YAML).
fn check_manifest(path: &str, text: &str, error: &mut impl FnMut(&str, String)) -> Option<Vec<Node>> {
    // Plain YAML only: Argo CD decodes merge keys otherwise than idp does, so
    // what is checked here would not be what it applies. A plain text reads
    // the same either way; only one with references is read again.
    let documents = match crate::yaml::plain_documents(text) {
        Err(e) if e.kind == crate::yaml::ErrorKind::Reference => {
            let (line, column) = crate::yaml::line_col(text, e.span.offset());
            error(path, format!("line {line} column {column}: {}; write the values out in full", e.message));
            crate::yaml::non_empty_documents(text)
        }
        read => read,
    };
    let Ok(documents) = documents else {
        if layout::is_manifest_path(path) {
            error(path, "is not valid YAML".into());
        }
        return None;
    };
    for doc in &documents {
        let field = |path: &[&str]| doc.str_at(path);
        if field(&["kind"]) == Some("Secret") {
            error(path, "holds a kind: Secret".into());
        }
        let manifest = layout::is_manifest_path(path);
        let managed = field(&["metadata", "labels", "app.kubernetes.io/managed-by"]) == Some("idp");
        if manifest && !managed {
            let name = field(&["metadata", "name"]).unwrap_or("?");
            error(path, format!("{name} lacks the label app.kubernetes.io/managed-by: idp"));
        }
    }
    Some(documents)
}

/// Claims the cluster would refuse, as they stand. Transition rules
/// (`oldSelf`) do not run here: they judge a change, and verify sees one
/// commit with no history; `plan`/`apply` run them against the base commit
/// before anything is written.
fn check_claims(
    products: &crate::product::Products,
    path: &str,
    documents: &[Node],
    error: &mut impl FnMut(&str, String),
) {
    let claims = match products.check_documents(documents, None) {
        Ok(claims) => claims,
        Err(e) => return error(path, format!("cannot be checked against its XRD: {e}")),
    };
    for claim in claims {
        for violation in claim.violations {
            error(path, format!("{} {}: the cluster would refuse it: {violation}", claim.kind, claim.name));
        }
    }
}

/// Every file at HEAD, with what verify has learned of it, in path order.
/// Held once, and compactly: a 100,000-request repo has ~700,000 files.
/// Three sets of their paths (the files, those a request renders, those as
/// idp renders them) were most of verify's memory there, and 700,000 small
/// allocations that live to the end spread glibc's heap so that every later
/// allocation paid in cache misses (verify grew 12x from 10,000 requests).
/// The paths now sit end to end in one string.
struct Files {
    paths: String,
    held: Vec<Held>,
}

struct Held {
    /// Where its path lies in `paths`.
    start: usize,
    end: usize,
    id: state::ObjectId,
    /// A request renders it (or owns it by name): not an orphan.
    expected: Cell<bool>,
    /// Byte-identical to what idp renders today: the render guard has
    /// already checked its structure, so only the secret scan reads it.
    as_rendered: Cell<bool>,
}

impl Files {
    fn at(repo: &state::StateRepo, commit: state::ObjectId) -> Result<Self, Error> {
        let mut files = Files { paths: String::new(), held: Vec::new() };
        repo.each_file(commit, |path, id| {
            let start = files.paths.len();
            files.paths.push_str(path);
            let (expected, as_rendered) = (Cell::new(false), Cell::new(false));
            files.held.push(Held { start, end: files.paths.len(), id, expected, as_rendered });
        })?;
        // Lookups need path order. git walks a tree in it (its trees sort
        // names that way); a tree another tool wrote out of order is sorted
        // here rather than misread.
        if !files.held.windows(2).all(|w| files.path(&w[0]) < files.path(&w[1])) {
            let paths = &files.paths;
            files.held.sort_by(|a, b| paths[a.start..a.end].cmp(&paths[b.start..b.end]));
        }
        Ok(files)
    }

    fn path(&self, held: &Held) -> &str {
        &self.paths[held.start..held.end]
    }

    fn get(&self, path: &str) -> Option<&Held> {
        self.held.binary_search_by(|held| self.path(held).cmp(path)).ok().map(|i| &self.held[i])
    }

    fn read(&self, repo: &state::StateRepo, path: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.get(path).map(|held| repo.blob(held.id)).transpose()?)
    }

    /// Every file, with its path, in path order.
    fn iter(&self) -> impl Iterator<Item = (&str, &Held)> {
        self.held.iter().map(|held| (self.path(held), held))
    }

    fn paths(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(path, _)| path)
    }

    /// A file some request renders (a path HEAD lacks is reported where it is expected).
    fn expect(&self, path: &str) {
        if let Some(held) = self.get(path) {
            held.expected.set(true);
        }
    }

    /// The files a request file's path says belong to it, whatever its content.
    fn expect_owned_by(&self, request_path: &str) {
        let Some(owner) = layout::RequestFileName::parse(request_path) else { return };
        self.iter().filter(|(path, _)| owner.owns(path)).for_each(|(_, held)| held.expected.set(true));
    }

    fn as_rendered(&self, path: &str) {
        if let Some(held) = self.get(path) {
            held.as_rendered.set(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree written out of git's order (by another tool: git sorts) is
    /// still read right: HEAD's files are sorted before they are looked up.
    #[test]
    fn files_of_a_tree_listed_out_of_order_are_found_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let state = state::StateRepo::init(dir.path()).unwrap();
        let repo = git2::Repository::open(dir.path()).unwrap();
        let blob = |text: &str| repo.blob(text.as_bytes()).unwrap();
        let (a, b) = (blob("a\n"), blob("b\n"));
        // `b.yaml` before `a.yaml`: a raw tree object, as no git command writes one.
        let mut raw = Vec::new();
        for (name, id) in [("b.yaml", b), ("a.yaml", a)] {
            raw.extend_from_slice(format!("100644 {name}\0").as_bytes());
            raw.extend_from_slice(id.as_bytes());
        }
        let tree = repo.odb().unwrap().write(git2::ObjectType::Tree, &raw).unwrap();
        let signature = git2::Signature::now("t", "t@example.org").unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let commit = repo.commit(None, &signature, &signature, "unsorted\n", &tree, &[]).unwrap();
        let files = Files::at(&state, state.revparse(&commit.to_string()).unwrap()).unwrap();
        assert_eq!(files.paths().collect::<Vec<_>>(), ["a.yaml", "b.yaml"]);
        assert_eq!(files.read(&state, "a.yaml").unwrap().as_deref(), Some(&b"a\n"[..]));
        assert_eq!(files.read(&state, "b.yaml").unwrap().as_deref(), Some(&b"b\n"[..]));
    }

    fn key(kind: &str, name: &str) -> ObjectKey {
        let cluster = "the management cluster".to_owned();
        (cluster, "example.org/v1".into(), kind.into(), "team-a".into(), name.into())
    }

    /// Files whose objects' hashes meet are told apart by the identities
    /// themselves: with every hash colliding, only the object two files
    /// really share (and one a file holds twice) is a conflict.
    #[test]
    fn only_objects_that_really_meet_are_conflicts_whatever_their_hashes() {
        let files: Vec<(&str, Vec<ObjectKey>)> = vec![
            ("platform/a.yaml", vec![key("Claim", "a"), key("Claim", "shared")]),
            ("platform/b.yaml", vec![key("Claim", "b")]),
            ("platform/c.yaml", vec![key("Claim", "shared")]),
            ("platform/d.yaml", vec![key("Claim", "twice"), key("Claim", "twice")]),
        ];
        for hash in [hash_of as fn(&ObjectKey) -> u64, |_: &ObjectKey| 7] {
            let mut objects = Objects { hash, ..Objects::default() };
            for (index, (_, keys)) in files.iter().enumerate() {
                objects.add(index, keys);
            }
            let conflicts = objects.conflicts(|index| Ok((files[index].0.to_owned(), files[index].1.clone()))).unwrap();
            let found: Vec<(&str, Vec<&str>)> = conflicts
                .iter()
                .map(|(key, holders)| (key.4.as_str(), holders.iter().map(String::as_str).collect()))
                .collect();
            assert_eq!(
                found,
                [
                    ("shared", vec!["platform/a.yaml", "platform/c.yaml"]),
                    ("twice", vec!["platform/d.yaml", "platform/d.yaml"])
                ]
            );
        }
    }
}
