//! Manifests from templates: one compiled minijinja environment, embedded
//! templates overridable file by file from a state repo's `templates/`, and a
//! parse-back guard on everything rendered.
//!
//! Templates emit every request value through `tojson` (a quoted YAML
//! scalar), and every document is parsed back and checked before it can be
//! committed: a template, default or overridden, cannot smuggle in a kind,
//! namespace or unlabeled object.

mod guard;
pub(crate) mod health;

use std::collections::BTreeMap;

use miette::Diagnostic;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};

pub use guard::{ALLOWED_KINDS, STANDARD_LABELS};

use crate::cell::{Moving, Side, Stage};
use crate::layout::{self, CellOf, NameScheme};
use crate::policy::{ComputeMode, Policy, Replication};
use crate::product::{Product, Products, Role};
use crate::record::{DataClaims, DataLink, MigrationStage};
use crate::request::{Request, Spec};
use crate::schedule::{Decision, Target};

/// The work one render of one template may do, in minijinja's fuel (about
/// one unit per instruction and per 64 bytes made; minijinja 3.1
/// `Environment::set_fuel`): a template override that loops for ever (or
/// nests `range` in `range`) stops with [`RenderError::OutOfFuel`] instead of
/// hanging `plan`. idp's own templates use under 2,000 (the test
/// `embedded_templates_stay_far_below_the_fuel_limit`), and a stopped render
/// has made at most about 6 MB.
pub const RENDER_FUEL: u64 = 100_000;

/// Templates shipped in the binary. A state repo may override any of them
/// with a file of the same name under `templates/`. A data product's claim
/// and replication are rendered as `<product>/claim.yaml.j2` and
/// `<product>/replication.yaml.j2` ([`DATA_TEMPLATES`]), which are the
/// `data/` ones unless a state repo has its own under that name.
pub const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    ("data/claim.yaml.j2", include_str!("../../templates/data/claim.yaml.j2")),
    ("data/replication.yaml.j2", include_str!("../../templates/data/replication.yaml.j2")),
    ("app/deployment.yaml.j2", include_str!("../../templates/app/deployment.yaml.j2")),
    ("app/application.yaml.j2", include_str!("../../templates/app/application.yaml.j2")),
    ("app/pushsecret.yaml.j2", include_str!("../../templates/app/pushsecret.yaml.j2")),
    ("app/httproute.yaml.j2", include_str!("../../templates/app/httproute.yaml.j2")),
    ("traffic/oci-dns/record.yaml.j2", include_str!("../../templates/traffic/oci-dns/record.yaml.j2")),
    ("traffic/route53/record.yaml.j2", include_str!("../../templates/traffic/route53/record.yaml.j2")),
    ("traffic/cloudflare/record.yaml.j2", include_str!("../../templates/traffic/cloudflare/record.yaml.j2")),
    ("bootstrap/appproject.yaml.j2", include_str!("../../templates/bootstrap/appproject.yaml.j2")),
    ("bootstrap/root-application.yaml.j2", include_str!("../../templates/bootstrap/root-application.yaml.j2")),
];

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RenderError {
    #[error("template {template} does not compile: {message}")]
    #[diagnostic(code(idp::render::template), help("fix the template; `idp render` shows the output without writing"))]
    Template { template: String, message: String },

    #[error("template {template} did more work than a template may (over {fuel} steps) and was stopped")]
    #[diagnostic(
        code(idp::render::fuel),
        help(
            "a loop that never ends or nests too deeply (`range` inside `range`)? idp's own templates take a few thousand steps; nothing was written"
        )
    )]
    OutOfFuel { template: String, fuel: u64 },

    #[error("template {template} produced an unsafe manifest: {message}")]
    #[diagnostic(
        code(idp::render::unsafe_manifest),
        help(
            "every rendered document needs apiVersion, kind (on idp's allowlist), metadata.name, the request's namespace and idp's labels; nothing was written"
        )
    )]
    Unsafe { template: String, message: String },
}

/// A rendered file and the template it came from.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub path: String,
    pub content: String,
    pub template: String,
    /// `content` as the guard parsed it (empty for the bootstrap), so that
    /// the checks after it need not parse it again.
    pub documents: Vec<crate::yaml::Node>,
}

impl RenderedFile {
    /// A file idp writes in a fixed shape, from no template (a record, a
    /// kustomization): nothing for the guard to have parsed.
    pub fn untemplated(path: String, content: String) -> Self {
        Self { path, content, template: String::new(), documents: Vec::new() }
    }
}

/// What each data product renders from: `<product>/<file>`, which is
/// `data/<file>` unless overridden.
pub const DATA_TEMPLATES: [&str; 2] = ["claim.yaml.j2", "replication.yaml.j2"];

/// The templates; build once, render many requests. Each template is
/// compiled on first use (a MySQL request needs one or two of the nine) and
/// kept compiled for every later request.
pub struct Renderer {
    env: Environment<'static>,
    /// Templates a state repo overrides, for notes and `doctor`.
    pub overridden: Vec<String>,
    /// The products in force: a data request's claim kind and fields.
    products: Products,
}

impl Renderer {
    /// The embedded templates, with a state repo's own versions (by
    /// template name) in place of theirs.
    pub fn new(custom: BTreeMap<String, String>, products: Products) -> Self {
        Self::with_fuel(custom, products, RENDER_FUEL)
    }

    fn with_fuel(custom: BTreeMap<String, String>, products: Products, fuel: u64) -> Self {
        let overridden = custom.keys().cloned().collect();
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(fuel));
        let data: Vec<String> = products.iter().filter(|p| p.role == Role::Data).map(|p| p.name.clone()).collect();
        env.set_loader(move |name| {
            let embedded = |name: &str| EMBEDDED_TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, text)| *text);
            // `<product>/claim.yaml.j2` of a data product is `data/claim.yaml.j2`
            // unless the state repo has its own.
            let generic = name
                .split_once('/')
                .filter(|(product, file)| data.iter().any(|d| d == product) && DATA_TEMPLATES.contains(file))
                .map(|(_, file)| format!("data/{file}"));
            let text =
                custom.get(name).cloned().or_else(|| embedded(name).map(str::to_owned)).or_else(|| {
                    generic.and_then(|g| custom.get(&g).cloned().or_else(|| embedded(&g).map(str::to_owned)))
                });
            Ok(text)
        });
        Self { env, overridden, products }
    }

    /// Every template name a state repo may override: the embedded ones,
    /// and each data product's own.
    pub fn template_names(products: &Products) -> Vec<String> {
        let mut names: Vec<String> = EMBEDDED_TEMPLATES.iter().map(|(name, _)| (*name).to_owned()).collect();
        for product in products.iter().filter(|p| p.role == Role::Data) {
            names.extend(DATA_TEMPLATES.iter().map(|file| format!("{}/{file}", product.name)));
        }
        names
    }

    /// Compiles every template now, for checks that must see a broken
    /// override before a request happens to use it.
    pub fn compile_all(&self) -> Result<(), RenderError> {
        for name in Self::template_names(&self.products) {
            self.env
                .get_template(&name)
                .map_err(|e| RenderError::Template { template: name.clone(), message: e.to_string() })?;
        }
        Ok(())
    }

    /// The embedded templates only, for idp's own products.
    pub fn embedded() -> Self {
        Self::new(BTreeMap::new(), Products::embedded().clone())
    }

    /// The embedded templates with overrides read by `read_override`
    /// (template name to its text, None when not overridden), for `products`.
    pub fn with_overrides<E>(
        products: &Products,
        mut read_override: impl FnMut(&str) -> Result<Option<String>, E>,
    ) -> Result<Self, E> {
        let mut custom = BTreeMap::new();
        for name in Self::template_names(products) {
            if let Some(text) = read_override(&name)? {
                custom.insert(name, text);
            }
        }
        Ok(Self::new(custom, products.clone()))
    }

    /// A data request's product definition.
    fn product(&self, request: &Request) -> Result<&Product, RenderError> {
        self.products.named(request.kind.cli_name()).ok_or_else(|| RenderError::Template {
            template: format!("{}/claim.yaml.j2", request.kind),
            message: self.products.unknown(request.kind.cli_name()),
        })
    }

    fn render_template(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| RenderError::Template { template: name.into(), message: e.to_string() })?;
        let mut text = template.render(minijinja::value::Serde(ctx)).map_err(|e| match e.kind() {
            minijinja::ErrorKind::OutOfFuel => {
                RenderError::OutOfFuel { template: name.into(), fuel: self.env.fuel().unwrap_or_default() }
            }
            _ => RenderError::Template { template: name.into(), message: e.to_string() },
        })?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }

    /// Every file of one request (under `platform/` and, for apps,
    /// `workloads/`), checked by the guard.
    pub fn request_files(&self, input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
        match &input.request.spec {
            Spec::Data { fields, .. } => self.data_files(input, fields),
            Spec::App { replicas, public_host, .. } => self.app_files(input, *replicas, public_host.as_deref()),
        }
    }

    fn data_files(
        &self,
        input: &RenderInput<'_>,
        fields: &serde_json::Map<String, Value>,
    ) -> Result<Vec<RenderedFile>, RenderError> {
        let RenderInput { request, decision, policy, unprotect, data, .. } = *input;
        let product = self.product(request)?;
        let claim_ref = product.claim.as_ref().ok_or_else(|| RenderError::Template {
            template: format!("{}/claim.yaml.j2", product.name),
            message: format!("product {} has no XRD", product.name),
        })?;
        let claim_template = format!("{}/claim.yaml.j2", product.name);
        let replication_template = format!("{}/replication.yaml.j2", product.name);
        let labels = labels(request);
        let reason_json = serde_json::to_string(&decision.reason).unwrap_or_default();
        // Both sides alike: the standby holds the same data, and becomes the
        // writer on failover.
        let deletion_protection = !unprotect && policy.deletion_protection(&request.environment, &request.tier);
        let request_ctx = request_json(request, decision);
        let fields: Vec<(&String, Value)> =
            fields.iter().map(|(name, value)| (name, in_effect(product, name, value, decision))).collect();
        let generation = data.generation(&request.namespace, &request.name);
        let migration = data.migration.as_ref();
        let claim = |side: Side, generation: u32, target: &Target, fenced: bool, protected: bool| {
            let ctx = json!({
                "product": product.name,
                "claim": { "apiVersion": claim_ref.api_version, "kind": claim_ref.kind, "fences": claim_ref.fences },
                "fields": fields,
                "request": request_ctx,
                "side": side.as_str(),
                "target": target_json(target),
                "claim_name": layout::claim_name(&request.name, side, generation),
                "secret_name": layout::secret_name(&request.name, side, generation),
                "labels": labels,
                "reason_json": reason_json,
                "write_fence": fenced,
                "deletion_protection": protected,
                "sync_wave": if fenced { SyncWave::Fence.as_str() } else { SyncWave::Data.as_str() },
            });
            let path =
                layout::claim_path(request.kind, request.at(), &request.namespace, &request.name, side, generation);
            self.checked(&claim_template, path, &ctx, request, policy)
        };

        let mut files = Vec::new();
        let sides = std::iter::once((Side::Primary, &decision.primary))
            .chain(decision.secondary.as_ref().map(|s| (Side::Secondary, s)));
        for (side, target) in sides {
            // Only the active side takes writes: the standby is fenced read-only.
            // Fencing comes a wave before unfencing, so a move never has two
            // writers: the side losing the role is fenced first. A migration's
            // fence stops the writer's writes until its cutover.
            let wave = if side == input.destination() { SyncWave::Data } else { SyncWave::Fence };
            let migrating = side == Side::Primary && migration.is_some_and(|m| m.stage == MigrationStage::Fence);
            let fenced = side != input.active_for(wave) || migrating;
            files.push(claim(side, generation, target, fenced, deletion_protection)?);
        }
        // A migration's other claim (the new one before its cutover, the old
        // one after it) is never a writer: it is replicated to. The new one is
        // protected from its cutover on: before, it holds a copy, and an
        // abandoned migration (`idp rollback`) must be able to delete it. `idp
        // migrate --finish --unprotect` turns the old one's protection off alone.
        if let Some(migration) = migration {
            let (other, target) = migration.other();
            let protected = migration.stage == MigrationStage::Cutover && !migration.unprotected;
            files.push(claim(Side::Primary, other, target, true, deletion_protection && protected)?);
        }
        let profile = decision.reason.dr_profile.as_deref().and_then(|name| policy.dr_profiles.get(name));
        let rpo = decision.reason.rpo_seconds(policy);
        let replication =
            |name: String, replication: Option<Replication>, ends: [(Side, u32, &Target); 2], forward: bool| {
                let (tool, mode) = match replication {
                    Some(Replication::BackupRestore) => ("backup-restore", "backup-restore"),
                    _ => ("oci-goldengate", "cdc"),
                };
                let end = |(side, generation, t): (Side, u32, &Target)| {
                    json!({
                        "provider": t.provider,
                        "region": t.region,
                        "claimName": layout::claim_name(&request.name, side, generation),
                        "secretName": layout::secret_name(&request.name, side, generation),
                    })
                };
                let [primary, secondary] = ends;
                let (from, to, direction) = match forward {
                    true => (primary, secondary, "primary-to-secondary"),
                    false => (secondary, primary, "secondary-to-primary"),
                };
                json!({
                    "request": request_ctx,
                    "labels": labels,
                    "sync_wave": SyncWave::Data.as_str(),
                    "replication": {
                        "name": name,
                        "tool": tool,
                        "mode": mode,
                        "expectedRpoSeconds": rpo,
                        "primary": end(primary),
                        "secondary": end(secondary),
                        "direction": direction,
                        "source": end(from),
                        "target": end(to),
                    },
                })
            };
        if let Some(secondary) = &decision.secondary {
            // The databases keep their roles; replication runs from the active
            // side to the standby, and only that direction moves on failover.
            let ends = [(Side::Primary, generation, &decision.primary), (Side::Secondary, 0, secondary)];
            let forward = input.active_for(SyncWave::Data) == Side::Primary;
            let ctx =
                replication(layout::replication_name(&request.name), profile.map(|p| p.replication), ends, forward);
            let path = layout::replication_path(request.kind, request.at(), &request.namespace, &request.name);
            files.push(self.checked(&replication_template, path, &ctx, request, policy)?);
        }
        // A migration's replication: from the old claim (its `primary`) to the
        // new one (its `secondary`) until the cutover, then back, so that the
        // old claim stays a current copy until `idp migrate --finish`.
        if let Some(m) = migration {
            let ends = [(Side::Primary, m.from_generation, &m.from), (Side::Primary, m.to_generation, &m.to)];
            let forward = m.stage < MigrationStage::Cutover;
            let ctx = replication(layout::migration_name(&request.name), Some(m.replication), ends, forward);
            let path = layout::migration_path(request.kind, request.at(), &request.namespace, &request.name);
            files.push(self.checked(&replication_template, path, &ctx, request, policy)?);
        }
        Ok(files)
    }

    fn app_files(
        &self,
        input: &RenderInput<'_>,
        replicas: u32,
        public_host: Option<&str>,
    ) -> Result<Vec<RenderedFile>, RenderError> {
        let RenderInput { request, decision, policy, names, draining, data, .. } = *input;
        let (active, traffic_active) = (input.active_for(SyncWave::Compute), input.active_for(SyncWave::Traffic));
        let labels = labels(request);
        let request_ctx = request_json(request, decision);
        let compute =
            decision.reason.dr_profile.as_deref().and_then(|p| policy.dr_profiles.get(p)).map(|p| p.compute_mode);
        let link = DataLink::of(request, &decision.reason);
        let databases = link.databases();
        let health_path = request.health_path().unwrap_or(crate::request::DEFAULT_HEALTH_PATH);
        let container = container_json(request, health_path);

        let mut files = Vec::new();
        let sides = std::iter::once((Side::Primary, &decision.primary))
            .chain(decision.secondary.as_ref().map(|s| (Side::Secondary, s)));
        for (side, target) in sides {
            // The active side runs the app; the standby runs what its compute
            // mode keeps warm, and a cold standby is not even synced (but while
            // a failback drains it, it syncs its scale to 0).
            let side_replicas = crate::cost::side_replicas(side, active, compute, replicas);
            let automated = side == active || side == Side::Primary || compute != Some(ComputeMode::Cold) || draining;
            let workload_path = layout::workload_side_dir(&request.namespace, &request.name, side);
            // Each database's connection secret on this side: the first as
            // it is, every further one under its own prefix, so that naming
            // another database never renames the first one's variables.
            let secrets: Vec<Value> = databases
                .iter()
                .enumerate()
                .map(|(i, (namespace, name))| {
                    json!({
                        "name": name,
                        "secret": layout::secret_name(name, side, data.generation(namespace, name)),
                        "envPrefix": (i > 0).then(|| layout::env_prefix(name)),
                        "delivered": *namespace == request.namespace,
                    })
                })
                .collect();
            let ctx = json!({
                "request": request_ctx,
                "side": side.as_str(),
                "replicas": replicas,
                "labels": labels,
                "database_secret": secrets.first().map(|s| s["secret"].clone()),
                "databases": secrets,
                "health_path": health_path,
                "container": container,
                "sync_wave": SyncWave::Compute.as_str(),
            });
            let mut workload_files = vec![self.checked(
                "app/deployment.yaml.j2",
                format!("{workload_path}/deployment.yaml"),
                &ctx,
                request,
                policy,
            )?];
            if let Some(host) = public_host {
                let ctx = json!({
                    "request": request_ctx,
                    "side": side.as_str(),
                    "labels": labels,
                    "public_host": host,
                    "gateway": { "name": policy.traffic.gateway.name, "namespace": policy.traffic.gateway.namespace },
                    "service": { "name": request.name, "port": SERVICE_PORT },
                    "sync_wave": SyncWave::Compute.as_str(),
                });
                let path = format!("{workload_path}/httproute.yaml");
                workload_files.push(self.checked("app/httproute.yaml.j2", path, &ctx, request, policy)?);
            }
            files.push(kustomization(&workload_path, &workload_files));
            files.extend(workload_files);
            // The connection secrets reach the side's runtime cluster only while
            // something runs there: a cold standby's Application does not sync, so
            // its namespace may not exist there until a failover makes it active.
            // Only a database of the app's own namespace: a PushSecret reads the
            // secrets of its own namespace, and one team's secret is never copied
            // into another's (an app placed before apps named their data may
            // follow a database of another namespace).
            let pushes: Vec<Value> = databases
                .iter()
                .enumerate()
                .filter(|(_, (namespace, _))| *namespace == request.namespace)
                .map(|(i, (namespace, name))| {
                    json!({
                        "name": layout::push_secret_name(&request.namespace, &request.name, side, i + 1),
                        "secret": layout::secret_name(name, side, data.generation(namespace, name)),
                    })
                })
                .collect();
            if !pushes.is_empty() && automated {
                let ctx = json!({
                    "request": request_ctx,
                    "side": side.as_str(),
                    "labels": labels,
                    "store": target.runtime_cluster,
                    "pushes": pushes,
                    "sync_wave": SyncWave::Compute.as_str(),
                });
                let path =
                    layout::push_secrets_path(request.kind, request.at(), &request.namespace, &request.name, side);
                files.push(self.checked("app/pushsecret.yaml.j2", path, &ctx, request, policy)?);
            }
            let ctx = json!({
                "request": request_ctx,
                "labels": labels,
                "resource_name": layout::application_name(names, &request.namespace, &request.name, side),
                "repo_url": policy.gitops.repo_url,
                "revision": policy.gitops.revision,
                "workload_path": workload_path,
                "runtime_cluster": target.runtime_cluster,
                "deployment": request.name,
                "replicas": side_replicas,
                "automated": automated,
                "sync_wave": SyncWave::Compute.as_str(),
            });
            let path = layout::application_path(request.kind, request.at(), &request.namespace, &request.name, side);
            files.push(self.checked("app/application.yaml.j2", path, &ctx, request, policy)?);
        }
        if let (Some(host), Some(secondary)) = (public_host, &decision.secondary) {
            let provider = policy.traffic_provider(&request.cell);
            let endpoint = |t: &Target| {
                json!({
                    "provider": t.provider,
                    "region": t.region,
                    "runtimeCluster": t.runtime_cluster,
                    "target": format!("{}.{}", t.runtime_cluster, policy.traffic.ingress_domain),
                })
            };
            let zone = policy.zone_of(&request.cell, host);
            let ctx = json!({
                "request": request_ctx,
                "labels": labels,
                "resource_name": layout::traffic_name(names, &request.namespace, &request.name),
                "sync_wave": SyncWave::Traffic.as_str(),
                "traffic": {
                    "publicHost": host,
                    "zone": zone,
                    "ttl": 60,
                    "activeSide": traffic_active.as_str(),
                    "primary": endpoint(&decision.primary),
                    "secondary": endpoint(secondary),
                    "healthCheck": { "path": health_path, "port": 443 },
                },
            });
            let template = format!("traffic/{provider}/record.yaml.j2");
            let path = layout::dns_path(request.kind, request.at(), &request.namespace, &request.name);
            files.push(self.checked(&template, path, &ctx, request, policy)?);
        }
        Ok(files)
    }

    /// The Argo CD bootstrap written by `idp init`: the AppProject and root Application,
    /// and the argocd-cm patch with idp's health checks.
    pub fn bootstrap_files(&self, repo_url: &str, revision: &str) -> Result<Vec<RenderedFile>, RenderError> {
        let ctx = json!({ "repo_url": repo_url, "revision": revision, "project": "idp-platform" });
        [
            ("bootstrap/appproject.yaml.j2", "appproject.yaml"),
            ("bootstrap/root-application.yaml.j2", "root-application.yaml"),
        ]
        .into_iter()
        .map(|(template, file)| {
            let content = self.render_template(template, &ctx)?;
            guard::check_bootstrap(&content)
                .map_err(|message| RenderError::Unsafe { template: template.into(), message })?;
            Ok(RenderedFile {
                path: layout::bootstrap_path(file),
                content,
                template: template.into(),
                documents: Vec::new(),
            })
        })
        .chain(std::iter::once(Ok(health::argocd_cm_patch())))
        .collect()
    }

    fn checked(
        &self,
        template: &str,
        path: String,
        ctx: &Value,
        request: &Request,
        policy: &Policy,
    ) -> Result<RenderedFile, RenderError> {
        let content = self.render_template(template, ctx)?;
        let claim = self.products.named(request.kind.cli_name()).and_then(|p| p.claim.as_ref());
        let documents = guard::check_request_manifest(&content, request, policy, claim)
            .map_err(|message| RenderError::Unsafe { template: template.into(), message })?;
        Ok(RenderedFile { path, content, template: template.into(), documents })
    }
}

/// The port of an app's Service (app/deployment.yaml.j2), where its
/// HTTPRoute sends the public host's requests.
const SERVICE_PORT: u16 = 80;

/// What a request's files are rendered from.
#[derive(Clone, Copy)]
pub struct RenderInput<'a> {
    pub request: &'a Request,
    pub decision: &'a Decision,
    pub policy: &'a Policy,
    /// The side of the cell that serves traffic (from the cell state).
    pub active: Side,
    /// A staged runbook part way: its committed waves render the new side
    /// (`CellState::moving`).
    pub moving: Option<Moving>,
    /// How the request's objects are named: its placement record's scheme.
    pub names: NameScheme,
    /// Render every claim with deletion protection off, whatever the policy
    /// says: the claims of an `idp delete --unprotect` commit.
    pub unprotect: bool,
    /// The cell's cold standbys keep automated sync: the first commit of a
    /// failback, whose scale to 0 Argo CD must still apply (cell state
    /// `coldStandbysDraining`).
    pub draining: bool,
    /// The claim generations of the databases the files name, and a
    /// database's migration in progress: from the placement records.
    pub data: &'a DataClaims,
}

impl RenderInput<'_> {
    /// The side a document renders as active, by the sync wave it has once
    /// the move is done: the new side for the waves a runbook has committed.
    fn active_for(&self, wave: SyncWave) -> Side {
        match self.moving {
            Some(Moving { to, through }) if wave.stage().is_some_and(|stage| stage <= through) => to,
            _ => self.active,
        }
    }

    /// The side the cell ends on: the active one when nothing moves.
    fn destination(&self) -> Side {
        self.moving.map_or(self.active, |m| m.to)
    }
}

/// The `kustomization.yaml` of an app side's workload folder: it lists the side's
/// files, and makes the folder a kustomize source, so that the side's replica count
/// lives in its Application (`spec.source.kustomize.replicas`, which Argo CD applies
/// with `kustomize edit set replicas`: argo-cd util/kustomize/kustomize.go). The cell's
/// Application applies that Application in the compute wave, so a failover's scaling
/// happens in its wave, not whenever the child next polls the repo. Not a template and
/// not a Kubernetes object: a fixed shape of file names idp chose.
fn kustomization(workload_path: &str, files: &[RenderedFile]) -> RenderedFile {
    let mut content = String::from(
        "# Generated by idp: the files of this side. Its replica count is set by its\n\
         # Argo CD Application (spec.source.kustomize.replicas), not here.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\n\
         kind: Kustomization\n\
         resources:\n",
    );
    for file in files {
        let name = file.path.rsplit('/').next().unwrap_or_default();
        content.push_str(&format!("  - {name}\n"));
    }
    RenderedFile::untemplated(layout::kustomization_path(workload_path), content)
}

/// The Namespace a team's claims live in on the management cluster: Argo
/// CD creates no namespace for the objects of a multi-namespace
/// Application (`CreateNamespace=true` covers only its destination), so
/// without it the first sync fails with `namespaces "<ns>" not found`. It
/// syncs in the first wave, and Argo CD never prunes or deletes it
/// (gitops-engine `pkg/sync/common/types.go`: `Prune=false`, `Delete=false`;
/// argo-cd `controller/appcontroller.go` `shouldBeDeleted`): deleting a
/// namespace deletes every claim in it, databases and all. Not a template:
/// one fixed shape, whatever a state repo overrides.
pub fn namespace_manifest(namespace: &str) -> String {
    let quoted = serde_json::to_string(namespace).unwrap_or_default();
    format!(
        "# The namespace of {namespace}'s claims on the management cluster. idp writes it\n\
         # with the namespace's first database and never removes it.\n\
         apiVersion: v1\n\
         kind: Namespace\n\
         metadata:\n  \
           name: {quoted}\n  \
           labels:\n    \
             app.kubernetes.io/managed-by: \"idp\"\n  \
           annotations:\n    \
             argocd.argoproj.io/sync-wave: \"{}\"\n    \
             argocd.argoproj.io/sync-options: \"Prune=false,Delete=false\"\n",
        SyncWave::Namespace.as_str()
    )
}

/// The Argo CD Application of one cell and environment: it syncs the cell's
/// requests' files under `platform/` (selected by their names,
/// `layout::cell_include`) to the management cluster, so that one cell's
/// refused object stalls that cell only, each Application stays the size of a
/// cell, and a failover's waves (fence, data, compute, traffic) run inside the
/// cell's own sync. The root Application applies it (`argocd/`). Written with
/// the cell's first request, never removed.
pub fn cell_application(at: CellOf<'_>, gitops: &crate::policy::Gitops) -> String {
    platform_application(&PlatformApplication {
        comment: &format!(
            "The Argo CD Application of cell {}, environment {}: it keeps the management cluster\n\
             # equal to the files of the cell's requests under platform/. Written by idp with the cell's\n\
             # first request; never removed.",
            at.cell, at.environment
        ),
        name: &layout::cell_application_name(at),
        cell: Some(at),
        wave: "0",
        include: &layout::cell_include(at),
        // allowEmpty stays false: Argo CD does not prune a cell down to nothing on its own
        // (controller/appcontroller.go, autoSync); the last request's delete is synced by hand.
        prune: true,
        gitops,
    })
}

/// The Argo CD Application that syncs the team namespaces
/// (`platform/<namespace>/namespace.yaml`), a wave before the cells' Applications:
/// a namespace is shared by the cells its team uses, so no cell's Application may
/// own it. Written with the first namespace, never removed, never pruned.
pub fn namespaces_application(gitops: &crate::policy::Gitops) -> String {
    platform_application(&PlatformApplication {
        comment: "The Argo CD Application of the team namespaces under platform/. Written by idp; never removed.",
        name: "idp-namespaces",
        cell: None,
        wave: "-1",
        include: "*/namespace.yaml",
        prune: false,
        gitops,
    })
}

/// An Application under `argocd/` that syncs part of `platform/` to the management
/// cluster.
struct PlatformApplication<'a> {
    comment: &'a str,
    name: &'a str,
    /// The cell and environment it syncs, for its labels.
    cell: Option<CellOf<'a>>,
    /// Its sync wave in the root Application.
    wave: &'a str,
    /// `directory.include`, relative to `platform/`.
    include: &'a str,
    prune: bool,
    gitops: &'a crate::policy::Gitops,
}

/// Not a template: the shape that keeps the waves (server-side apply, prune last, no
/// shared objects) and never deletes data by itself (no resources-finalizer, so deleting
/// the Application orphans what it synced).
fn platform_application(app: &PlatformApplication<'_>) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut labels = String::from("    app.kubernetes.io/managed-by: \"idp\"\n");
    if let Some(at) = app.cell {
        labels.push_str(&format!("    platform.example.org/cell: {}\n", q(at.cell)));
        labels.push_str(&format!("    platform.example.org/environment: {}\n", q(at.environment)));
    }
    let prune = if app.prune { "      prune: true\n" } else { "" };
    format!(
        "# {comment}\n\
         apiVersion: argoproj.io/v1alpha1\n\
         kind: Application\n\
         metadata:\n  \
           name: {name}\n  \
           namespace: argocd\n  \
           labels:\n\
         {labels}  \
           annotations:\n    \
             argocd.argoproj.io/sync-wave: {wave}\n\
         spec:\n  \
           project: idp-platform\n  \
           source:\n    \
             repoURL: {repo}\n    \
             targetRevision: {revision}\n    \
             path: platform\n    \
             directory:\n      \
               recurse: true\n      \
               include: {include}\n  \
           destination:\n    \
             server: https://kubernetes.default.svc\n  \
           syncPolicy:\n    \
             automated:\n\
         {prune}      \
               selfHeal: true\n    \
             syncOptions:\n      \
               - ServerSideApply=true\n      \
               - PruneLast=true\n      \
               - FailOnSharedResource=true\n    \
             retry:\n      \
               limit: 5\n      \
               backoff:\n        \
                 duration: 10s\n        \
                 factor: 2\n        \
                 maxDuration: 3m\n",
        comment = app.comment,
        name = q(app.name),
        wave = q(app.wave),
        repo = q(&app.gitops.repo_url),
        revision = q(&app.gitops.revision),
        include = q(app.include),
    )
}

/// Argo CD sync waves: the fence first, then the data (the writable
/// database, replication), then compute, then traffic, so that a failover
/// never has two writers.
#[derive(Clone, Copy)]
pub enum SyncWave {
    /// The namespaces the claims live in.
    Namespace,
    Fence,
    Data,
    Compute,
    Traffic,
}

impl SyncWave {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncWave::Namespace => "-2",
            SyncWave::Fence => "-1",
            SyncWave::Data => "0",
            SyncWave::Compute => "1",
            SyncWave::Traffic => "2",
        }
    }

    /// The runbook stage that moves the documents of this wave.
    pub fn stage(self) -> Option<Stage> {
        match self {
            SyncWave::Namespace => None,
            SyncWave::Fence => Some(Stage::Fence),
            SyncWave::Data => Some(Stage::Data),
            SyncWave::Compute => Some(Stage::Compute),
            SyncWave::Traffic => Some(Stage::Traffic),
        }
    }
}

/// `request` in every template's context: the request's flat fields, with
/// the drProfile the placement was made for, and `ha` as the placement
/// required it: a tier that gates on `multi_az` placed the database where it
/// can be highly available, and renders it so whatever `ha` says. For a
/// database placed before, that turns `ha` to true on its claim: the fields
/// it drives (RDS `multiAz`, Cloud SQL `settings.availabilityType`, OCI
/// `isHighlyAvailable`) update in place, per the rows of
/// manifests/crossplane/force-new.yaml that `ops::destroy` reads, so no plan
/// shows it as a replacement.
fn request_json(request: &Request, decision: &Decision) -> Value {
    let mut fields = request.flat();
    fields.insert("drProfile".into(), decision.reason.dr_profile.clone().into());
    Value::Object(fields)
}

/// A data request's field as its claim gets it: a boolean field whose gates
/// the placement required anyway is on (a tier that gates multi_az makes
/// MySQL's `ha` true: the candidate has it, and the tier asked for it).
fn in_effect(product: &Product, name: &str, value: &Value, decision: &Decision) -> Value {
    let gated = product
        .field(name)
        .filter(|f| !f.gates.is_empty())
        .is_some_and(|f| f.gates.iter().all(|g| decision.reason.gates.contains(g)));
    if gated && value.is_boolean() { Value::Bool(true) } else { value.clone() }
}

/// What the Deployment template needs of an app's container settings: the
/// probes (`http`, `tcp` or `none`) and the liveness path, and, each null
/// when the request names none (so that the template writes what it always
/// did), env, command, args and the resources in effect.
fn container_json(request: &Request, health_path: &str) -> Value {
    let default = crate::request::Container::default();
    let container = request.container().unwrap_or(&default);
    let resources = (!container.resources.is_empty()).then(|| {
        let mut out = serde_json::Map::new();
        for (section, resource, value) in container.resources.effective() {
            let entry = out.entry(section).or_insert_with(|| json!({}));
            entry[resource] = value.into();
        }
        out
    });
    let list = |items: &[String]| (!items.is_empty()).then(|| items.to_vec());
    json!({
        "probes": container.probes.as_str(),
        "liveness_path": container.liveness_path.as_deref().unwrap_or(health_path),
        "env": container.env.iter().map(crate::request::EnvVar::to_json).collect::<Vec<_>>(),
        "command": list(&container.command),
        "args": list(&container.args),
        "resources": resources,
    })
}

/// The labels every manifest of a request carries (PRODUCT.md section 5).
pub fn labels(request: &Request) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("app.kubernetes.io/managed-by", "idp".to_owned()),
        ("platform.example.org/cell", request.cell.clone()),
        ("platform.example.org/environment", request.environment.clone()),
        ("platform.example.org/tier", request.tier.clone()),
        (
            "platform.example.org/request",
            crate::request::request_label(request.kind, &request.namespace, &request.name),
        ),
    ])
}

fn target_json(t: &Target) -> Value {
    json!({ "provider": t.provider, "region": t.region, "runtimeCluster": t.runtime_cluster, "network": t.network })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Templates compile on first use; every embedded one must compile, even
    /// those no test request happens to render.
    #[test]
    fn every_embedded_template_compiles() {
        Renderer::embedded().compile_all().unwrap();
    }

    /// A render of idp's own templates costs a small part of [`RENDER_FUEL`]:
    /// a database with its secondary and replication, and an app with a
    /// database and a public host under every traffic provider, rendered with
    /// a fiftieth of it.
    #[test]
    fn embedded_templates_stay_far_below_the_fuel_limit() {
        let frugal = Renderer::with_fuel(BTreeMap::new(), Products::embedded().clone(), RENDER_FUEL / 50);
        let (mut policy, mut request, decision) = crate::test_support::payments_c0();
        let render = |request: &Request, policy: &Policy| {
            let input = RenderInput {
                data: &crate::record::DataClaims::NONE,
                request,
                decision: &decision,
                policy,
                active: Side::Primary,
                names: NameScheme::for_new(request.kind),
                unprotect: false,
                draining: false,
                moving: None,
            };
            frugal.request_files(&input)
        };
        let files = render(&request, &policy).unwrap();
        assert!(files.iter().any(|f| f.template == "mysql/replication.yaml.j2"));
        request.kind = crate::test_support::app();
        request.spec = crate::test_support::app_spec(Some("shop.example.org"), vec![request.name.clone()]);
        let providers: Vec<String> = policy.traffic.providers.keys().cloned().collect();
        for provider in providers {
            policy.traffic.default_provider = provider.clone();
            policy.cells.values_mut().for_each(|cell| cell.traffic_provider = None);
            let files = render(&request, &policy).unwrap_or_else(|e| panic!("{provider}: {e}"));
            assert!(files.iter().any(|f| f.template.starts_with("traffic/")), "{provider}");
            assert!(files.iter().any(|f| f.template == "app/pushsecret.yaml.j2"), "{provider}");
        }
        // The same fuel stops a template that loops for ever, with its name.
        let custom = BTreeMap::from([(
            "mysql/claim.yaml.j2".to_owned(),
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}".to_owned(),
        )]);
        let (policy, request, _) = crate::test_support::payments_c0();
        let input = RenderInput {
            data: &crate::record::DataClaims::NONE,
            request: &request,
            decision: &decision,
            policy: &policy,
            active: Side::Primary,
            names: NameScheme::for_new(request.kind),
            unprotect: false,
            draining: false,
            moving: None,
        };
        match Renderer::new(custom, Products::embedded().clone()).request_files(&input) {
            Err(RenderError::OutOfFuel { template, fuel }) => {
                assert_eq!((template.as_str(), fuel), ("mysql/claim.yaml.j2", RENDER_FUEL));
            }
            other => panic!("{other:?}"),
        }
    }

    /// A staged runbook part way renders each document by its sync wave: the
    /// waves it has committed on the new side, the rest on the old. At the
    /// fence both databases are read-only (no writer until the data stage);
    /// replication, apps and traffic move in their own stages.
    /// Each stage of a migration, as the database and an app that reads it render it:
    /// which claim exists and writes, where replication runs, which secret the app
    /// reads; and every claim passes its XRD as a new object.
    #[test]
    fn a_migration_renders_each_stage_with_one_writer_and_the_data_in_two_claims() {
        use crate::record::{DataClaims, MigrationStage as M};
        let (policy, request, _) = crate::test_support::payments_c0();
        let mut app = request.clone();
        app.kind = crate::test_support::app();
        app.spec = crate::test_support::app_spec(None, vec![request.name.clone()]);
        let xrds = crate::xrd::Xrds::embedded().unwrap();
        // (writer claim, its fence, the other claim, DR replication reads, migration direction, app's secret)
        let expect = [
            (M::Provision, ("db", false, "db-m1", "db", "primary-to-secondary", "db-conn")),
            (M::Fence, ("db", true, "db-m1", "db", "primary-to-secondary", "db-conn")),
            (M::Cutover, ("db-m1", false, "db", "db-m1", "secondary-to-primary", "db-m1-conn")),
        ];
        for (stage, (writer, writer_fenced, other, dr_source, direction, secret)) in expect {
            let record = crate::record::tests::migrating(stage);
            let decision = record.decision();
            let render = |request: &Request, data: &DataClaims| {
                let input = RenderInput {
                    data,
                    request,
                    decision: &decision,
                    policy: &policy,
                    active: Side::Primary,
                    names: NameScheme::for_new(request.kind),
                    unprotect: false,
                    draining: false,
                    moving: None,
                };
                Renderer::embedded().request_files(&input).unwrap()
            };
            let files = render(&request, &DataClaims::of_database(&record));
            let doc = |suffix: &str| {
                let file =
                    files.iter().find(|f| f.path.ends_with(suffix)).unwrap_or_else(|| panic!("{stage:?}: {suffix}"));
                let doc: serde_json::Value = serde_saphyr::from_str(&file.content).unwrap();
                doc
            };
            let generation = |name: &str| if name == "db" { "primary.yaml" } else { "primary-m1.yaml" };
            let (w, o) = (doc(generation(writer)), doc(generation(other)));
            assert_eq!(w["metadata"]["name"], writer, "{stage:?}");
            assert_eq!(w["spec"]["parameters"]["writeFence"], writer_fenced, "{stage:?}");
            assert_eq!((&o["metadata"]["name"], &o["spec"]["parameters"]["writeFence"]), (&json!(other), &json!(true)));
            assert_eq!(doc("replication.yaml")["spec"]["parameters"]["source"]["claimName"], dr_source, "{stage:?}");
            assert_eq!(doc("secondary.yaml")["metadata"]["name"], "db-secondary", "the standby never moves");
            let migration = doc("migration.yaml");
            assert_eq!(
                (&migration["metadata"]["name"], &migration["spec"]["parameters"]["direction"]),
                (&json!("db-migration"), &json!(direction))
            );
            for file in files.iter().filter(|f| f.template.starts_with("mysql/")) {
                let checked = xrds.check_documents(&file.documents, None);
                assert!(checked.iter().all(|c| c.violations.is_empty()), "{stage:?} {}: {checked:?}", file.path);
            }
            // The app reads the writer's connection secret: the database's generation.
            let mut claims = DataClaims::NONE;
            claims.insert(&record);
            let app_files = render(&app, &claims);
            let deployment = app_files.iter().find(|f| f.path.ends_with("primary/deployment.yaml")).unwrap();
            assert!(deployment.content.contains(&format!("\"{secret}\"")), "{stage:?}: {}", deployment.content);
        }
    }

    #[test]
    fn a_runbook_part_way_renders_each_wave_as_its_stage_left_it() {
        let (policy, request, decision) = crate::test_support::payments_c0();
        let mut app = request.clone();
        app.kind = crate::test_support::app();
        app.spec = crate::test_support::app_spec(Some("shop.example.org"), vec![request.name.clone()]);
        let render_as = |request: &Request, active: Side, moving: Option<Moving>| {
            let input = RenderInput {
                data: &crate::record::DataClaims::NONE,
                request,
                decision: &decision,
                policy: &policy,
                active,
                names: NameScheme::for_new(request.kind),
                unprotect: false,
                draining: false,
                moving,
            };
            Renderer::embedded().request_files(&input).unwrap()
        };
        let render = |request: &Request, moving: Option<Moving>| render_as(request, Side::Primary, moving);
        let text = |files: &[RenderedFile], template: &str, nth: usize| {
            files.iter().filter(|f| f.template == template).nth(nth).unwrap().content.clone()
        };
        let fenced =
            |files: &[RenderedFile], nth: usize| text(files, "mysql/claim.yaml.j2", nth).contains("writeFence: true");
        let at = |through| Some(Moving { to: Side::Secondary, through });
        // (primary fenced, secondary fenced, replication reversed, apps moved, traffic moved)
        let expect = [
            (None, (false, true, false, false, false)),
            (at(Stage::Fence), (true, true, false, false, false)),
            (at(Stage::Data), (true, false, true, false, false)),
            (at(Stage::Compute), (true, false, true, true, false)),
            (at(Stage::Traffic), (true, false, true, true, true)),
        ];
        let (db_after, app_after) = (render(&request, at(Stage::Traffic)), render(&app, at(Stage::Traffic)));
        for (moving, (primary, secondary, replication, apps, traffic)) in expect {
            let (db, web) = (render(&request, moving), render(&app, moving));
            let label = format!("{moving:?}");
            assert_eq!((fenced(&db, 0), fenced(&db, 1)), (primary, secondary), "{label}");
            let same = |now: &[RenderedFile], after: &[RenderedFile], template: &str| {
                text(now, template, 0) == text(after, template, 0)
            };
            assert_eq!(same(&db, &db_after, "mysql/replication.yaml.j2"), replication, "{label}");
            assert_eq!(same(&web, &app_after, "app/application.yaml.j2"), apps, "{label}");
            let dns = web.iter().find(|f| f.template.starts_with("traffic/")).unwrap().template.clone();
            assert_eq!(same(&web, &app_after, &dns), traffic, "{label}");
        }
        // Once done, the runbook's last stage renders what the new side as active renders.
        let done = |request: &Request| render_as(request, Side::Secondary, None);
        let contents = |files: Vec<RenderedFile>| files.into_iter().map(|f| (f.path, f.content)).collect::<Vec<_>>();
        assert_eq!(contents(done(&request)), contents(db_after));
        assert_eq!(contents(done(&app)), contents(app_after));
    }

    /// The longest names validation lets an app have (`<namespace>.app.<name>`
    /// within 63 characters) still make labels of every object name, under
    /// every shipped traffic provider: the render guard refuses anything else.
    #[test]
    fn the_longest_new_app_renders_under_every_traffic_provider() {
        let (mut policy, mut request, decision) = crate::test_support::payments_c0();
        request.kind = crate::test_support::app();
        request.namespace = "team-nn".into();
        request.name = format!("web-{}", "w".repeat(47));
        assert_eq!(request.namespace.len() + request.name.len(), 58, "as long as validation allows");
        request.spec = crate::test_support::app_spec(Some("web.example.org"), Vec::new());
        let providers: Vec<String> = policy.traffic.providers.keys().cloned().collect();
        assert_eq!(providers.len(), 3, "{providers:?}");
        for provider in providers {
            policy.traffic.default_provider = provider.clone();
            policy.cells.values_mut().for_each(|cell| cell.traffic_provider = None);
            let render = |names| {
                let input = RenderInput {
                    data: &crate::record::DataClaims::NONE,
                    request: &request,
                    decision: &decision,
                    policy: &policy,
                    active: Side::Primary,
                    names,
                    unprotect: false,
                    draining: false,
                    moving: None,
                };
                Renderer::embedded().request_files(&input)
            };
            let files = render(NameScheme::Separated).unwrap_or_else(|e| panic!("{provider}: {e}"));
            let names: Vec<&str> =
                files.iter().flat_map(|f| &f.documents).filter_map(|d| d.str_at(&["metadata", "name"])).collect();
            assert!(names.iter().any(|n| n.ends_with("-secondary")), "{provider}: {names:?}");
            assert!(names.iter().all(|n| crate::names::is_dns_label(n)), "{provider}: {names:?}");
            // The first scheme joins the whole of both: too long, as it always was.
            assert!(render(NameScheme::Joined).is_err(), "{provider}");
        }
    }

    /// Whatever name the up-front check admits (`request::derived_names`
    /// within 63), beside a namespace of any length, renders through the
    /// guard: a database with its secondary and replication claims, an app
    /// with two databases and a public host under every traffic provider. So
    /// the guard's refusal of a name too long is out of a valid request's
    /// reach (issue 19).
    #[test]
    fn every_name_the_derived_name_budget_admits_renders() {
        let (mut policy, base, decision) = crate::test_support::payments_c0();
        policy.cells.values_mut().for_each(|cell| cell.traffic_provider = None);
        let providers: Vec<String> = policy.traffic.providers.keys().cloned().collect();
        let databases = vec!["db-one".to_owned(), "db-two".to_owned()];
        for kind in crate::test_support::kinds() {
            for namespace_len in 1..=63 {
                let namespace = format!("n{}", "s".repeat(namespace_len - 1));
                let fits = |len: usize| crate::request::derived_names_fit(kind, &namespace, &"a".repeat(len));
                let Some(longest) = (1..=63).rev().find(|&len| fits(len)) else { continue };
                let mut request = base.clone();
                request.kind = kind;
                request.namespace = namespace.clone();
                request.name = "a".repeat(longest);
                if kind == crate::test_support::app() {
                    request.spec = crate::test_support::app_spec(Some("web.example.org"), databases.clone());
                }
                for provider in &providers {
                    policy.traffic.default_provider = provider.clone();
                    let input = RenderInput {
                        data: &crate::record::DataClaims::NONE,
                        request: &request,
                        decision: &decision,
                        policy: &policy,
                        active: Side::Primary,
                        names: NameScheme::for_new(kind),
                        unprotect: false,
                        draining: false,
                        moving: None,
                    };
                    if let Err(e) = Renderer::embedded().request_files(&input) {
                        panic!("{kind} {namespace}/{} ({provider}): {e}", request.name);
                    }
                }
            }
        }
    }

    /// Every traffic provider writes the host's records into the zone the
    /// policy names for it, the apex here, not the host's parent; a provider
    /// naming none keeps the old derivation.
    #[test]
    fn traffic_records_go_in_the_zone_the_policy_names() {
        let (mut policy, mut request, decision) = crate::test_support::payments_c0();
        request.kind = crate::test_support::app();
        request.spec = crate::test_support::app_spec(Some("shop.eu.example.org"), Vec::new());
        policy.cells.values_mut().for_each(|cell| cell.traffic_provider = None);
        let providers: Vec<String> = policy.traffic.providers.keys().cloned().collect();
        assert_eq!(providers.len(), 3, "{providers:?}");
        for provider in providers {
            policy.traffic.default_provider = provider.clone();
            for (zone, expected) in [(Some("example.org"), "example.org"), (None, "eu.example.org")] {
                policy.traffic.providers.get_mut(&provider).unwrap().zone = zone.map(str::to_owned);
                let input = RenderInput {
                    data: &crate::record::DataClaims::NONE,
                    request: &request,
                    decision: &decision,
                    policy: &policy,
                    active: Side::Primary,
                    names: NameScheme::for_new(request.kind),
                    unprotect: false,
                    draining: false,
                    moving: None,
                };
                let files = Renderer::embedded().request_files(&input).unwrap_or_else(|e| panic!("{provider}: {e}"));
                let zones: Vec<&str> = files
                    .iter()
                    .flat_map(|f| &f.documents)
                    .filter_map(|d| d.str_at(&["spec", "forProvider", "zoneIdRef", "name"]))
                    .collect();
                let hosts: Vec<&str> = files
                    .iter()
                    .flat_map(|f| &f.documents)
                    .filter_map(|d| {
                        d.str_at(&["spec", "forProvider", "name"])
                            .or_else(|| d.str_at(&["spec", "forProvider", "domainName"]))
                    })
                    .filter(|name| name.contains('.'))
                    .collect();
                assert!(!zones.is_empty(), "{provider}: no zoneIdRef");
                assert!(zones.iter().all(|z| *z == expected), "{provider} with zone {zone:?}: {zones:?}");
                assert!(
                    !hosts.is_empty() && hosts.iter().all(|h| *h == "shop.eu.example.org"),
                    "{provider}: {hosts:?}"
                );
            }
        }
    }

    /// An app's databases reach its runtime clusters through PushSecrets, but only those
    /// of its own namespace: an app placed before apps named their data may follow a
    /// database of another namespace, whose secret idp never copies into this one, and
    /// whose `envFrom` stays optional as it was.
    #[test]
    fn only_a_database_of_the_apps_own_namespace_is_pushed() {
        let (policy, mut request, mut decision) = crate::test_support::payments_c0();
        request.kind = crate::test_support::app();
        request.spec = crate::test_support::app_spec(None, Vec::new());
        let mut rendered = |follows: &str| {
            decision.reason.follows = Some(follows.to_owned());
            let input = RenderInput {
                data: &crate::record::DataClaims::NONE,
                request: &request,
                decision: &decision,
                policy: &policy,
                active: Side::Primary,
                names: NameScheme::for_new(request.kind),
                unprotect: false,
                draining: false,
                moving: None,
            };
            let files = Renderer::embedded().request_files(&input).unwrap();
            let pushed: Vec<String> = files
                .iter()
                .flat_map(|f| &f.documents)
                .filter(|d| d.str_at(&["kind"]) == Some("PushSecret"))
                .filter_map(|d| d.str_at(&["spec", "selector", "secret", "name"]).map(str::to_owned))
                .collect();
            let optional: Vec<bool> = files
                .iter()
                .flat_map(|f| &f.documents)
                .filter_map(|d| {
                    let containers = d.at(&["spec", "template", "spec", "containers"])?;
                    let crate::yaml::Value::Seq(containers) = &containers.value else { return None };
                    let crate::yaml::Value::Seq(env_from) = &containers.first()?.at(&["envFrom"])?.value else {
                        return None;
                    };
                    match env_from.first()?.at(&["secretRef", "optional"])?.value {
                        crate::yaml::Value::Bool(optional) => Some(optional),
                        _ => None,
                    }
                })
                .collect();
            (pushed, optional)
        };
        let (pushed, optional) = rendered("mysql team/orders");
        assert_eq!(pushed, ["orders-conn", "orders-secondary-conn"]);
        assert_eq!(optional, [false, false]);
        let (pushed, optional) = rendered("mysql team-other/orders");
        assert!(pushed.is_empty(), "{pushed:?}");
        assert_eq!(optional, [true, true]);
    }

    /// `spec.parameters.deletionProtection` of each claim rendered for `request`.
    fn protection(policy: &Policy, request: &Request, decision: &Decision, unprotect: bool) -> Vec<bool> {
        let names = NameScheme::for_new(request.kind);
        let input = RenderInput {
            data: &crate::record::DataClaims::NONE,
            request,
            decision,
            policy,
            active: Side::Primary,
            moving: None,
            names,
            unprotect,
            draining: false,
        };
        let files = Renderer::embedded().request_files(&input).unwrap();
        files
            .iter()
            .flat_map(|f| &f.documents)
            .filter(|doc| doc.str_at(&["kind"]) == Some("MySQLInstanceClaim"))
            .map(|doc| match doc.at(&["spec", "parameters", "deletionProtection"]).map(|n| &n.value) {
                Some(crate::yaml::Value::Bool(b)) => *b,
                other => panic!("deletionProtection is {other:?}"),
            })
            .collect()
    }

    #[test]
    fn both_claims_carry_the_policys_deletion_protection_unless_unprotected() {
        let (mut policy, mut request, decision) = crate::test_support::payments_c0();
        assert_eq!(protection(&policy, &request, &decision, false), [true, true], "production");
        assert_eq!(protection(&policy, &request, &decision, true), [false, false], "--unprotect");
        request.environment = "dev".into();
        assert_eq!(protection(&policy, &request, &decision, false), [false, false], "dev");
        policy.tiers.get_mut("C0").unwrap().deletion_protection = Some(true);
        assert_eq!(protection(&policy, &request, &decision, false), [true, true], "a tier that forces it");
        assert_eq!(protection(&policy, &request, &decision, true), [false, false], "--unprotect over the tier");
    }

    #[test]
    fn a_broken_override_is_named_by_compile_all() {
        let renderer = Renderer::new(
            BTreeMap::from([("mysql/claim.yaml.j2".to_owned(), "{% if %}".to_owned())]),
            Products::embedded().clone(),
        );
        assert_eq!(renderer.overridden, ["mysql/claim.yaml.j2"]);
        let error = renderer.compile_all().unwrap_err();
        assert!(
            matches!(&error, RenderError::Template { template, .. } if template == "mysql/claim.yaml.j2"),
            "{error}"
        );
    }
}
