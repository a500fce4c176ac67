//! `idp plan`: validate, schedule (sticky first), and say what would change.

pub mod results;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde::Serialize;

use super::budget::{self, Spend};
use super::claims;
use super::destroy::Destroy;
use super::objects::{Changeset, ObjectChange, manifest_documents};
use super::records::parse_record;
use super::resource::ResourceRef;
use super::rules;
use super::{Context, Error};
use crate::cell::{CellState, Side};
use crate::cost::Cost;
use crate::layout::{self, NameScheme, TwinWhen};
use crate::record::PlacementRecord;
use crate::render::{RenderInput, RenderedFile, Renderer};
use crate::request::{self, Kind, Request};
use crate::rules::Rules;
use crate::schedule::{self, Decision, PolicyRef, Ranked, Reason, Target};
use crate::state::{self, Changes, FileChange};
use results::{BriefRef, Results};

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub kind: Option<Kind>,
    pub requests: Requests,
    /// Move sticky placements that a changed request no longer fits.
    pub reschedule: bool,
    /// Keep every rendered manifest in `Prepared::rendered` (for `render`);
    /// a bulk apply would otherwise hold each one twice.
    pub keep_rendered: bool,
    /// Keep each fresh decision's full ranking for the human explanation
    /// (JSON and YAML carry the top three only).
    pub explain: bool,
    /// Keep what each changed path held at the base (`Prepared::before`),
    /// for `--diff`.
    pub diff: bool,
    /// The plan is for a commit (`apply`): a bulk plan's blobs go straight
    /// into a pack in the state repo's object store, which the commit
    /// completes; a plan alone spools them in the temporary folder.
    pub committing: bool,
}

/// The requests a plan places.
#[derive(Debug, Clone)]
pub enum Requests {
    /// Request files and directories given with -f.
    Files(Vec<PathBuf>),
    /// Every request stored under `requests/` at the base commit, as stored
    /// (`apply --all`): a policy or template change re-rendered everywhere.
    Stored,
}

/// A plan and the exact file changes that applying it would commit.
pub struct Prepared {
    pub outcome: PlanOutcome,
    pub files: Changes,
    /// What each path held at `base`, for `--diff`.
    pub before: BTreeMap<String, Vec<u8>>,
    /// Every manifest the requests render to (changed or not), when
    /// `keep_rendered` asked for them.
    pub rendered: Vec<RenderedFile>,
    /// The namespaces whose Namespace manifest this plan has looked for
    /// (and written, when the state repo lacked it).
    namespaces: BTreeSet<String>,
    /// The Argo CD Applications under `argocd/` this plan has looked at.
    applications: BTreeSet<String>,
    /// The public hosts this plan's apps claim, with the app (`namespace/name`).
    hosts: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct PlanOutcome {
    pub results: Results,
    /// Estimated spend of each cell (and budgeted namespace) the plan touches.
    pub spend: Vec<Spend>,
    /// Stateful objects applying the plan would delete or replace; applying
    /// it then needs `--allow-destroy`.
    pub destroys: Vec<Destroy>,
}

impl PlanOutcome {
    pub fn has_changes(&self) -> bool {
        self.results.briefs().any(|r| r.changed)
    }
}

#[derive(Debug, Serialize)]
pub struct PlanResult {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub status: ResultStatus,
    pub sticky: bool,
    /// A sticky placement was moved on `--reschedule`.
    pub rescheduled: bool,
    pub placement: Target,
    pub secondary: Option<Target>,
    pub reason: Reason,
    /// Estimated monthly cost; null when the policy has no prices.
    pub cost: Option<Cost>,
    /// Warnings of the policy rules (`warn`), each naming its rule file, and
    /// of an app's link to its data (one it follows without naming it).
    pub warnings: Vec<String>,
    pub changes: Vec<Change>,
    /// What the changed files do to each Kubernetes object in them, as
    /// Terraform shows it (`ops::objects`).
    pub objects: Vec<ObjectChange>,
    /// The full ranking when this run scheduled; empty for sticky results.
    #[serde(skip)]
    pub ranking: Vec<Ranked>,
    /// How its objects are named (its record's scheme), for the twin check.
    #[serde(skip)]
    pub names: NameScheme,
}

/// What happens (plan) or happened (apply) to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Create,
    Update,
    Exists,
    Created,
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: ChangeAction,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    Create,
    Update,
    Delete,
}

pub fn plan(ctx: &Context, options: &PlanOptions) -> Result<Prepared, Error> {
    let in_force = (&ctx.policy.policy, &ctx.products);
    let mut listing = match &options.requests {
        // A name only a request placed before may keep is refused for a new one.
        Requests::Files(files) => request::load(files, options.kind, in_force, |request| {
            Ok::<_, Error>(
                ctx.read(&layout::placement_path(request.kind, &request.namespace, &request.name))?.is_some(),
            )
        })?,
        Requests::Stored => ctx.stored_requests()?,
    };
    let renderer = ctx.renderer()?;
    let rules = rules::load(ctx)?;
    // A bulk plan written out as JSON or YAML spools its results as they
    // are made; one that explains itself to a person holds them.
    let spool = !options.explain && listing.len() > results::SPOOL_ABOVE;
    let mut prepared = Prepared {
        outcome: PlanOutcome { results: Results::new(listing.len(), spool)?, spend: Vec::new(), destroys: Vec::new() },
        files: Changes::new(),
        before: BTreeMap::new(),
        rendered: Vec::new(),
        namespaces: BTreeSet::new(),
        applications: BTreeSet::new(),
        hosts: BTreeMap::new(),
    };
    let mut cells = Cells::new(ctx, listing.any_app());
    // Backstage finds the entities through one Location (state repos older
    // than the catalog lack it): the first request's change adds it.
    let location_missing = ctx.state.is_some() && ctx.read(layout::CATALOG_LOCATION_PATH)?.is_none();
    let mut destroys: Vec<ObjectChange> = Vec::new();
    // Databases first, so that apps in the same invocation follow them;
    // results keep the order of the files. Each source is read again for
    // the requests it holds of each kind.
    for apps in [false, true] {
        let sources: Vec<usize> = listing.sources_with(apps).collect();
        for source in sources {
            let requests = match &options.requests {
                Requests::Files(_) => listing.read(source, apps, in_force, request::read_again)?,
                Requests::Stored => listing.read(source, apps, in_force, |path| ctx.stored_source(path))?,
            };
            for (i, request) in &requests {
                let planner = Planner { ctx, renderer: &renderer, rules: &rules, options };
                let mut result = planner.plan_one(&mut cells, request, &mut prepared)?;
                if *i == 0 && location_missing {
                    let path = layout::CATALOG_LOCATION_PATH.to_owned();
                    if result.status == ResultStatus::Exists {
                        result.status = ResultStatus::Update;
                    }
                    result.changes.push(Change { action: ChangeAction::Create, path: path.clone() });
                    prepared.files.push(FileChange::upsert(path, crate::catalog::location().as_bytes()))?;
                }
                // What the plan destroys is what plan_one classified: no file is read again.
                destroys.extend(result.objects.iter().filter(|o| o.destroys_data).cloned());
                prepared.outcome.results.put(*i, result, request)?;
                // A bulk plan's files go into the pack of its commit as they are
                // rendered: memory keeps the tree of their paths, not their contents.
                if !prepared.files.is_packed() && prepared.files.len() >= state::PACK_THRESHOLD {
                    let pack = match (options.committing, &ctx.state) {
                        (true, Some(state)) => state.start_pack()?,
                        _ => state::PackStream::create(&std::env::temp_dir())?,
                    };
                    prepared.files.pack_into(&pack)?;
                }
            }
        }
    }
    prepared.outcome.results.flush()?;
    let planned = prepared.outcome.results.by_key();
    refuse_name_twins(ctx, &prepared.outcome.results, &planned)?;
    prepared.outcome.spend = budget::check(ctx, &planned)?;
    destroys.sort_by_key(|o| (o.action, o.object()));
    prepared.outcome.destroys = destroys.into_iter().map(Destroy::of).collect();
    Ok(prepared)
}

/// What a plan knows about cells: the members at the base commit plus the
/// data this plan places, and each cell's active side. Read once per cell.
struct Cells<'a> {
    ctx: &'a Context,
    /// The data this plan places, by namespace and name, for the apps
    /// planned after it; None when the plan places no app (a bulk of
    /// databases keeps nothing here).
    placed: Option<HashMap<(String, String), PlacedData>>,
}

/// Where this plan places a data request.
struct PlacedData {
    kind: Kind,
    cell: String,
    environment: String,
    primary: Target,
    secondary: Option<Target>,
}

impl<'a> Cells<'a> {
    fn new(ctx: &'a Context, with_apps: bool) -> Self {
        Self { ctx, placed: with_apps.then(HashMap::new) }
    }

    /// Records data placed by this plan, for apps planned after it.
    fn place(&mut self, request: &Request, decision: &Decision) {
        if let Some(placed) = self.placed.as_mut().filter(|_| request.kind.is_data()) {
            let data = PlacedData {
                kind: request.kind,
                cell: request.cell.clone(),
                environment: request.environment.clone(),
                primary: decision.primary.clone(),
                secondary: decision.secondary.clone(),
            };
            placed.insert((request.namespace.clone(), request.name.clone()), data);
        }
    }

    /// Where the databases an app names are placed: by this plan, else in
    /// the state repo (one record each, found by path). Each must exist, in
    /// the app's cell and environment, and all must share one placement: an
    /// app never lands anywhere but with its data.
    fn data_for(&self, request: &Request) -> Result<Data, Error> {
        let app = format!("{} {}", request.kind, request.id());
        let namespace = &request.namespace;
        let mut found: Vec<(String, Target, Option<Target>)> = Vec::new();
        let mut databases = Vec::new();
        // `spec.dependsOn` says each one's product: a request of another is not it.
        let declared = request.depends_on();
        for (i, name) in request.databases().iter().enumerate() {
            // A name is one data request's in its namespace, whatever its product.
            let planned = self.placed.as_ref().and_then(|placed| {
                let d = placed.get(&(namespace.clone(), name.clone()))?;
                Some((d.kind, d.cell.clone(), d.environment.clone(), d.primary.clone(), d.secondary.clone()))
            });
            let (kind, cell, environment, primary, secondary) = match planned {
                Some(placed) => placed,
                None => match self.ctx.data_placement(namespace, name)? {
                    Some(r) => (r.request_kind, r.cell, r.environment, r.primary, r.secondary),
                    None => return Err(Error::DataMissing { app, database: format!("{namespace}/{name}") }),
                },
            };
            if let Some(want) = declared.as_ref().map(|d| d[i].0).filter(|want| *want != kind) {
                return Err(Error::DataMissing { app, database: format!("{want} {namespace}/{name}") });
            }
            let database = format!("{kind} {namespace}/{name}");
            databases.push((kind, namespace.clone(), name.clone()));
            if (cell.as_str(), environment.as_str()) != (request.cell.as_str(), request.environment.as_str()) {
                return Err(Error::DataElsewhere {
                    app,
                    database,
                    cell: format!("{}/{}", request.cell, request.environment),
                    at: format!("{cell}/{environment}"),
                });
            }
            found.push((database, primary, secondary));
        }
        let (_, primary, secondary) = found.first().expect("an app that names its data").clone();
        let sides_of = |p: &Target, s: Option<&Target>| (p.id(), s.map(Target::id));
        // An app follows all it names in `spec.database`, the first of `spec.dependsOn`.
        let followed = if declared.is_some() { &found[..1] } else { &found[..] };
        if followed.iter().any(|(_, p, s)| sides_of(p, s.as_ref()) != sides_of(&primary, secondary.as_ref())) {
            let placements = found
                .iter()
                .map(|(database, p, s)| format!("{database} on {}", schedule::sides(p, s.as_ref())))
                .collect();
            return Err(Error::DataApart { app, placements });
        }
        let follows = found.into_iter().map(|(database, _, _)| database).collect::<Vec<_>>().join(", ");
        Ok(Data { follows, databases, primary, secondary })
    }

    fn state(&self, cell: &str, environment: &str) -> Result<CellState, Error> {
        self.ctx.cell_state(cell, environment)
    }
}

/// The data an app names, where it is placed: what the app follows.
struct Data {
    /// `mysql <namespace>/<name>`, several joined by `, ` (the reason's `follows`).
    follows: String,
    /// Each database's product, namespace and name.
    databases: Vec<(Kind, String, String)>,
    primary: Target,
    secondary: Option<Target>,
}

/// What planning one request needs besides the request itself.
struct Planner<'a> {
    ctx: &'a Context,
    renderer: &'a Renderer,
    rules: &'a Rules,
    options: &'a PlanOptions,
}

impl Planner<'_> {
    fn plan_one(&self, cells: &mut Cells<'_>, request: &Request, prepared: &mut Prepared) -> Result<PlanResult, Error> {
        let Planner { ctx, renderer, rules, options } = *self;
        let reschedule = options.reschedule;
        let policy = &ctx.policy.policy;
        let placement_path = layout::placement_path(request.kind, &request.namespace, &request.name);
        // The record's bytes are kept as they are while it stays put.
        let existing = match ctx.read(&placement_path)? {
            Some(bytes) => Some((parse_record::<PlacementRecord>(&placement_path, &bytes, &ctx.products)?, bytes)),
            None => None,
        };
        let existing_record = existing.as_ref().map(|(record, _)| record.clone());
        // Names are sticky like the placement: a request placed before keeps
        // its scheme through every re-plan, --reschedule included (a renamed
        // Application would be deleted, and what it deployed with it).
        let names = existing_record.as_ref().map_or(NameScheme::for_new(request.kind), PlacementRecord::names);
        let admission = rules.admit(&rules::admission_input(policy, request, existing_record.as_ref()))?;
        if !admission.deny.is_empty() {
            let denials = admission.deny.iter().map(|v| format!("{} ({})", v.message, v.file)).collect();
            return Err(Error::Denied { request: format!("{} {}", request.kind, request.id()), denials });
        }
        let mut warnings: Vec<String> = admission.warn.iter().map(|v| format!("{} ({})", v.message, v.file)).collect();
        // The databases the app names, where they are: it goes where they are, or nowhere.
        let data = if request.databases().is_empty() { None } else { Some(cells.data_for(request)?) };
        let request_path = layout::request_path(request.kind, &request.namespace, &request.name);
        let stored_yaml = request_yaml(request);
        let mut rescheduled = false;
        let (decision, record_bytes) = match existing {
            Some((record, bytes)) => {
                // An app placed before apps named their data follows a database
                // it does not name: kept while its request stays as stored, and
                // named (or dropped with --reschedule) when the request changes.
                let changed = ctx.read(&request_path)?.as_deref() != Some(stored_yaml.as_bytes());
                let implicit = data.is_none()
                    && record.reason.follows.is_some()
                    && (!changed
                        || ctx
                            .stored_request(request.kind, &request.namespace, &request.name)?
                            .is_none_or(|stored| stored.databases().is_empty()));
                let conflict = if implicit && changed {
                    let follows = record.reason.follows.clone().unwrap_or_default();
                    if !reschedule {
                        return Err(implicit_data(request, follows));
                    }
                    Some(format!("it followed {follows} without naming it"))
                } else {
                    sticky_conflict(policy, request, &record, data.as_ref())
                };
                // An app on a cluster its environment no longer runs on stays,
                // with a warning, unless it is rescheduled.
                let stale: Vec<String> = if request.kind.is_app() {
                    let sides = std::iter::once(&record.primary).chain(record.secondary.as_ref());
                    sides.filter_map(|side| schedule::stale_cluster(policy, &request.environment, side)).collect()
                } else {
                    Vec::new()
                };
                let conflict = match conflict {
                    None if reschedule && !stale.is_empty() => Some(stale.join("; ")),
                    None => {
                        warnings.extend(stale.into_iter().map(|why| format!("{why}: pass --reschedule to move it")));
                        None
                    }
                    conflict => conflict,
                };
                match conflict {
                    None => {
                        let follows = match &data {
                            Some(data) => Some(data.follows.clone()),
                            None if implicit => record.reason.follows.clone(),
                            None => None,
                        };
                        if implicit {
                            warnings.push(implicit_warning(request, follows.as_deref().unwrap_or_default()));
                        }
                        let same_cell = record.cell == request.cell && record.environment == request.environment;
                        if same_cell && follows == record.reason.follows {
                            (record.decision(), bytes)
                        } else {
                            // Same placement, new cell or a new link: the record says so.
                            let mut decision = record.decision();
                            decision.reason.follows = follows;
                            let bytes = PlacementRecord::new(request, &decision, names)
                                .keeping(existing_record.as_ref())
                                .to_yaml()
                                .into_bytes();
                            (decision, bytes)
                        }
                    }
                    Some(why) if !reschedule => {
                        return Err(Error::StickyConflict {
                            request: format!("{} {}", request.kind, request.id()),
                            placement: record.primary.id(),
                            why,
                        });
                    }
                    Some(_) if let Some(migration) = &record.migration => {
                        let id = format!("{} {}", request.kind, request.id());
                        let (stage, next) = (migration.stage.as_str().into(), migration.next(&id));
                        return Err(Error::MigrationInProgress { request: id, stage, next });
                    }
                    Some(_) => {
                        rescheduled = true;
                        let decision = decide(ctx, rules, request, data.as_ref(), &warnings)?;
                        if implicit && let Some(follows) = &record.reason.follows {
                            warnings.push(format!("no longer follows {follows}: it names no database (spec.database)"));
                        }
                        if request.kind.is_app() {
                            warnings.extend(left_behind(&record, &decision));
                        }
                        let bytes = PlacementRecord::new(request, &decision, names)
                            .keeping(existing_record.as_ref())
                            .to_yaml()
                            .into_bytes();
                        (decision, bytes)
                    }
                }
            }
            None => {
                let decision = decide(ctx, rules, request, data.as_ref(), &warnings)?;
                let bytes = PlacementRecord::new(request, &decision, names)
                    .keeping(existing_record.as_ref())
                    .to_yaml()
                    .into_bytes();
                (decision, bytes)
            }
        };
        let cost = crate::cost::estimate(policy, request, &decision);
        let mut member = PlacementRecord::new(request, &decision, names).member();
        member.monthly_usd = cost.as_ref().map(|c| c.monthly_usd);
        cells.place(request, &decision);
        let cell = cells.state(&request.cell, &request.environment)?;
        let sticky = !rescheduled && existing_record.is_some();

        // Every file this request should have, then the difference from HEAD.
        let member_path =
            layout::member_path(&request.cell, &request.environment, request.kind, &request.namespace, &request.name);
        // Each with its parsed documents when it is a rendered manifest.
        let mut desired: Vec<(String, Vec<u8>, Vec<crate::yaml::Node>)> = vec![
            (request_path, stored_yaml.into_bytes(), Vec::new()),
            (placement_path, record_bytes, Vec::new()),
            (member_path, member.to_yaml().into_bytes(), Vec::new()),
        ];
        let own = existing_record.as_ref().map(|r| PlacementRecord::new(request, &decision, names).keeping(Some(r)));
        let mut data_claims = ctx.data_claims(request, &decision.reason, own.as_ref())?;
        // Databases placed by this plan are not in the repo yet.
        for (kind, namespace, name) in data.iter().flat_map(|d| &d.databases) {
            data_claims.know(*kind, namespace, name);
        }
        let data = data_claims;
        let (entity_path, entity) = crate::catalog::entity(request, &decision, &data)?;
        desired.push((entity_path, entity.into_bytes(), Vec::new()));
        let input = RenderInput {
            data: &data,
            request,
            decision: &decision,
            policy,
            active: cell.active_side,
            names,
            unprotect: false,
            draining: cell.cold_standbys_draining,
            moving: cell.moving(),
        };
        for mut file in renderer.request_files(&input)? {
            let documents = std::mem::take(&mut file.documents);
            if options.keep_rendered {
                desired.push((file.path.clone(), file.content.clone().into_bytes(), documents));
                prepared.rendered.push(file);
            } else {
                desired.push((file.path, file.content.into_bytes(), documents));
            }
        }
        // A public host serves one app: its claim is looked up by path, so a
        // host another app holds is found whatever the size of the repo.
        if let request::Spec::App { public_host: Some(host), .. } = &request.spec {
            let path = layout::host_path(host);
            let claim = layout::host_claim(host, &request.namespace, &request.name);
            let owner = match prepared.hosts.get(host) {
                Some(owner) => Some(owner.clone()),
                None => ctx.read(&path)?.filter(|held| *held != claim.as_bytes()).map(|held| {
                    let held = String::from_utf8_lossy(&held);
                    layout::host_owner(&held).map_or_else(|| "(unreadable claim)".to_owned(), |o| o.trim().to_owned())
                }),
            };
            if let Some(owner) = owner.filter(|owner| *owner != request.id()) {
                let owner = crate::names::printable(&owner);
                return Err(Error::HostTaken { request: id_of(request), host: host.clone(), owner, path });
            }
            prepared.hosts.insert(host.clone(), request.id());
            desired.push((path, claim.into_bytes(), Vec::new()));
        }
        let mut changes = Vec::new();
        let mut objects = Changeset::new(&ctx.products);
        let desired_paths: Vec<String> = desired.iter().map(|(path, ..)| path.clone()).collect();
        let id = format!("{} {}", request.kind, request.id());
        for (path, content, documents) in desired {
            let current = ctx.read(&path)?;
            let action = match &current {
                None => ChangeAction::Create,
                Some(old) if *old == content => continue,
                Some(_) => ChangeAction::Update,
            };
            // Nothing the cluster would refuse is written; the claim at the
            // base commit is the stored object its transition rules compare with.
            claims::admit(&ctx.products, &id, &path, &documents, current.as_deref())?;
            objects.file(&path, manifest_documents(&path, current.as_deref()), documents);
            if let Some(old) = current
                && options.diff
            {
                prepared.before.insert(path.clone(), old);
            }
            changes.push(Change { action, path: path.clone() });
            prepared.files.push(FileChange::upsert(path, content))?;
        }
        // A database's claims need their namespace on the management cluster:
        // written with the first database of a namespace (or the first plan
        // of one in a repo that predates it), never removed.
        if request.kind.is_data() && prepared.namespaces.insert(request.namespace.clone()) {
            let path = layout::namespace_path(&request.namespace);
            if ctx.read(&path)?.is_none() {
                let content = crate::render::namespace_manifest(&request.namespace);
                objects.file(&path, Vec::new(), manifest_documents(&path, Some(content.as_bytes())));
                changes.push(Change { action: ChangeAction::Create, path: path.clone() });
                prepared.files.push(FileChange::upsert(path, content.into_bytes()))?;
            }
        }
        // The Argo CD Application of the request's cell (and the namespaces'
        // one, with a database): written when missing or out of date, never
        // removed. An older state repo gains them with its next apply.
        let mut applications = vec![(
            layout::cell_application_path(request.at()),
            crate::render::cell_application(request.at(), &policy.gitops),
        )];
        if request.kind.is_data() {
            let path = layout::NAMESPACES_APPLICATION_PATH.to_owned();
            applications.push((path, crate::render::namespaces_application(&policy.gitops)));
        }
        for (path, content) in applications {
            if !prepared.applications.insert(path.clone()) {
                continue;
            }
            let current = ctx.read(&path)?;
            if current.as_deref() == Some(content.as_bytes()) {
                continue;
            }
            let before = manifest_documents(&path, current.as_deref());
            objects.file(&path, before, manifest_documents(&path, Some(content.as_bytes())));
            let action = if current.is_some() { ChangeAction::Update } else { ChangeAction::Create };
            if let Some(old) = current
                && options.diff
            {
                prepared.before.insert(path.clone(), old);
            }
            changes.push(Change { action, path: path.clone() });
            prepared.files.push(FileChange::upsert(path, content.into_bytes()))?;
        }
        // Files of this request that it no longer renders (a dropped
        // secondary), and the membership of a cell it left.
        for path in ResourceRef::of(request).rendered_files(ctx, existing_record.as_ref())? {
            if !desired_paths.contains(&path) {
                if let Some(old) = ctx.read(&path)? {
                    objects.file(&path, manifest_documents(&path, Some(&old)), Vec::new());
                    if options.diff {
                        prepared.before.insert(path.clone(), old);
                    }
                }
                changes.push(Change { action: ChangeAction::Delete, path: path.clone() });
                prepared.files.push(FileChange::Remove { path })?;
            }
        }

        let objects = objects.classify()?;
        refuse_provider_replacements(&id, &objects)?;
        let status = match (sticky || rescheduled, changes.is_empty()) {
            (false, _) => ResultStatus::Create,
            (true, true) => ResultStatus::Exists,
            (true, false) => ResultStatus::Update,
        };
        let Decision { primary, secondary, reason, ranking } = decision;
        warnings.extend(blocks_failover(ctx, request)?);
        Ok(PlanResult {
            kind: request.kind,
            namespace: request.namespace.clone(),
            name: request.name.clone(),
            status,
            sticky,
            rescheduled,
            placement: primary,
            secondary,
            reason,
            cost,
            warnings,
            changes,
            objects,
            ranking: if options.explain { ranking } else { Vec::new() },
            names,
        })
    }
}

/// What a rescheduled app leaves on the runtime clusters it moves off: Argo CD
/// does not delete what an Application deployed when its destination changes
/// (argoproj/argo-cd#9172, #1640: it only reads the cluster it points at), so
/// the old Deployment runs on until someone deletes it there.
fn left_behind(record: &PlacementRecord, decision: &Decision) -> Vec<String> {
    let sides = [(Side::Primary, Some(&record.primary), Some(&decision.primary))].into_iter().chain([(
        Side::Secondary,
        record.secondary.as_ref(),
        decision.secondary.as_ref(),
    )]);
    sides
        .filter_map(|(side, old, new)| {
            let (old, new) = (old?, new?);
            (old.runtime_cluster != new.runtime_cluster).then(|| {
                format!(
                    "its {} side moves from runtime cluster {} to {}: Argo CD does not delete what the side's Application deployed on {} when its destination changes (argo-cd #9172); once the app serves from {}, delete its Deployment and Service (and HTTPRoute) there",
                    side.as_str(),
                    old.runtime_cluster,
                    new.runtime_cluster,
                    old.runtime_cluster,
                    new.runtime_cluster
                )
            })
        })
        .collect()
}

/// Refuses a change that reaches a field its provider can only replace
/// (`compose`): upjet would refuse it and leave the resource stuck.
fn refuse_provider_replacements(request: &str, objects: &[ObjectChange]) -> Result<(), Error> {
    match provider_replacements(objects) {
        Some((object, forces)) => Err(Error::ProviderRefuses { request: request.to_owned(), object, forces }),
        None => Ok(()),
    }
}

/// The first object whose change reaches a field its provider can only
/// replace, with each such field said: what upjet would refuse.
pub(super) fn provider_replacements(objects: &[ObjectChange]) -> Option<(String, Vec<String>)> {
    objects.iter().find_map(|object| {
        let forces: Vec<String> = object
            .forces
            .iter()
            .filter_map(|force| {
                let composed = force.composed.as_ref()?;
                let change = object.fields.iter().find(|f| f.path == force.field);
                let values = change.map_or(String::new(), |f| {
                    format!(" {} -> {}", f.old.as_deref().unwrap_or("(none)"), f.new.as_deref().unwrap_or("(none)"))
                });
                Some(format!("{}{values} sets {composed} ({}; {})", force.field, force.why, force.source))
            })
            .collect();
        (!forces.is_empty()).then(|| (object.object(), forces))
    })
}

/// Refuses a plan in which a request would render an object that another
/// request (of this plan, or placed in the state repo) renders too: the few
/// requests whose derived names can meet this one's are looked up by path
/// (`layout::name_twins`), never the whole repo. A twin meets only if its
/// names are of the scheme the meeting needs.
/// `planned` is `results` sorted by key.
fn refuse_name_twins(ctx: &Context, results: &Results, planned: &[BriefRef<'_>]) -> Result<(), Error> {
    let in_force = Kind::all(&ctx.products);
    for result in results.brief_refs() {
        let (kind, namespace, name) = result.key();
        for twin in layout::name_twins(kind, result.names(), namespace, name, &in_force) {
            let (twin_has_secondary, twin_names) =
                match planned.binary_search_by(|r| r.key().cmp(&(twin.kind, &twin.namespace, &twin.name))) {
                    Ok(found) => (planned[found].has_secondary(), planned[found].names()),
                    Err(_) => match ctx.placement(twin.kind, &twin.namespace, &twin.name)? {
                        Some(record) => (record.secondary.is_some(), record.names()),
                        None => continue,
                    },
                };
            let meet = twin.names.is_none_or(|names| names == twin_names)
                && match twin.when {
                    TwinWhen::Always => true,
                    TwinWhen::ThisHasSecondary => result.has_secondary(),
                    TwinWhen::TwinHasSecondary => twin_has_secondary,
                };
            if meet {
                return Err(Error::NameCollision {
                    request: format!("{kind} {namespace}/{name}"),
                    other: format!("{} {}/{}", twin.kind, twin.namespace, twin.name),
                    object: twin.object,
                });
            }
        }
    }
    Ok(())
}

/// A fresh decision: an app that names its data follows it; everything
/// else (an app that names none too) is scheduled.
fn decide(
    ctx: &Context,
    rules: &Rules,
    request: &Request,
    data: Option<&Data>,
    warnings: &[String],
) -> Result<Decision, Error> {
    let policy_ref = PolicyRef { version: ctx.policy.policy.version.clone(), digest: ctx.policy.digest.clone() };
    let policy = &ctx.policy.policy;
    let demand = request.demand();
    // Candidates the rules refuse, asked once each before scheduling.
    let refused = rules::refusals(rules, policy, request)?;
    let refuse = |c: &crate::policy::Candidate| refused.get(&c.id()).cloned();
    let mut decision = match data {
        Some(data) => schedule::follow(
            policy,
            &policy_ref,
            &demand,
            (&data.primary, data.secondary.as_ref()),
            &data.follows,
            &refuse,
        ),
        None => schedule::schedule_with(policy, &policy_ref, &demand, &refuse),
    }
    .map_err(|error| Error::Schedule { request: format!("{} {}", request.kind, request.id()), error })?;
    decision.reason.warnings = warnings.to_vec();
    Ok(decision)
}

/// Why a recorded placement cannot serve the request as it now reads: it
/// fails the request's gates, or no longer sits with the data the app names
/// (which moved, or gained a secondary, since), or has a secondary the
/// request no longer asks for (or lacks one it does).
fn sticky_conflict(
    policy: &crate::policy::Policy,
    request: &Request,
    record: &PlacementRecord,
    data: Option<&Data>,
) -> Option<String> {
    if let Some(why) = schedule::unsatisfied(policy, &request.demand(), &record.primary) {
        return Some(why);
    }
    if let Some(data) = data {
        let placed = (&record.primary, record.secondary.as_ref());
        if let Some(why) = schedule::apart(&data.follows, (&data.primary, data.secondary.as_ref()), placed) {
            return Some(format!("it no longer sits with the data it names: {why}"));
        }
        if data.secondary.is_some() {
            // The secondary is the data's, whatever the tier alone would ask.
            return None;
        }
    }
    let tier = policy.tiers.get(&request.tier)?;
    let wants_secondary = tier.secondary.required || request.dr_profile.is_some();
    match (wants_secondary, record.secondary.is_some()) {
        (true, false) => {
            Some(format!("tier {} now needs a cross-cloud secondary, which the placement lacks", request.tier))
        }
        (false, true) => Some("the request no longer asks for a secondary, which the placement has".into()),
        _ => None,
    }
}

/// A data request whose product keeps no secondary, in a cell whose other
/// members have one: `idp failover` refuses a member it cannot move, so it
/// would refuse the cell while this is in it.
fn blocks_failover(ctx: &Context, request: &Request) -> Result<Option<String>, Error> {
    let without = ctx
        .products
        .named(request.kind.cli_name())
        .is_some_and(|p| p.role == crate::product::Role::Data && p.replication.is_empty());
    if !without {
        return Ok(None);
    }
    let members = ctx.cell_members(&request.cell, &request.environment)?;
    let others = members.iter().any(|m| {
        m.secondary.is_some() && (m.kind, &m.namespace, &m.name) != (request.kind, &request.namespace, &request.name)
    });
    Ok(others.then(|| {
        format!(
            "a {} keeps no secondary in another cloud: while it is a member of {}/{}, `idp failover` of that cell and environment is refused, though its other members have secondaries",
            request.kind.manifest_kind(),
            request.cell,
            request.environment
        )
    }))
}

/// The refusal of a changed request of an app that followed a database
/// without naming it: name it, or let it go with --reschedule.
fn implicit_data(request: &Request, follows: String) -> Error {
    let help = match followed_of_own_namespace(request, &follows) {
        Some(name) => format!(
            "apps name their data now: add `database: {name}` to its spec to keep following it (the placement stays), or pass --reschedule to place the app on its own, without a database. Nothing was written"
        ),
        None => format!(
            "{follows} is of another namespace, which an app may not use: pass --reschedule to place the app on its own, without a database, or name a database of {} in spec.database. Nothing was written",
            request.namespace
        ),
    };
    Error::ImplicitData { app: format!("{} {}", request.kind, request.id()), follows, help }
}

/// The warning of an app that keeps following a database it does not name
/// (plan and verify).
pub(super) fn implicit_warning(request: &Request, follows: &str) -> String {
    match followed_of_own_namespace(request, follows) {
        Some(name) => format!(
            "follows {follows} without naming it (placed before apps named their data): add `database: {name}` to its spec and re-apply it"
        ),
        None => format!(
            "follows {follows} of another namespace without naming it (placed before apps named their data): an app may use only databases of its own namespace; re-apply it with --reschedule"
        ),
    }
}

/// The name of the database `<product> <namespace>/<name>` an app followed,
/// if it is of the app's own namespace.
fn followed_of_own_namespace<'a>(request: &Request, follows: &'a str) -> Option<&'a str> {
    let (_, id) = follows.split_once(' ')?;
    id.strip_prefix(&request.namespace)?.strip_prefix('/')
}

fn id_of(request: &Request) -> String {
    format!("{} {}", request.kind, request.id())
}

/// The normalized request as stored under `requests/`.
pub fn request_yaml(request: &Request) -> String {
    serde_saphyr::to_string(&request.to_manifest()).expect("a request manifest always serializes")
}
