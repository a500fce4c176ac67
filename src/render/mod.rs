//! Manifests from templates: one compiled minijinja environment, embedded
//! templates overridable file by file from a state repo's `templates/`, and a
//! parse-back guard on everything rendered.
//!
//! Templates emit every request value through `tojson` (a quoted YAML
//! scalar), and every document is parsed back and checked before it can be
//! committed: a template, default or overridden, cannot smuggle in a kind,
//! namespace or unlabeled object.

mod guard;

use std::collections::BTreeMap;

use miette::Diagnostic;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};

pub use guard::{ALLOWED_KINDS, STANDARD_LABELS};

use crate::policy::{Policy, Replication};
use crate::request::{Request, Spec};
use crate::schedule::{Decision, Target};
use crate::state;

/// Templates shipped in the binary. A state repo may override any of them
/// with a file of the same name under `templates/`.
pub const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    ("mysql/claim.yaml.j2", include_str!("../../templates/mysql/claim.yaml.j2")),
    ("mysql/replication.yaml.j2", include_str!("../../templates/mysql/replication.yaml.j2")),
    ("bootstrap/appproject.yaml.j2", include_str!("../../templates/bootstrap/appproject.yaml.j2")),
    ("bootstrap/root-application.yaml.j2", include_str!("../../templates/bootstrap/root-application.yaml.j2")),
];

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RenderError {
    #[error("template {template} does not compile: {message}")]
    #[diagnostic(code(idp::render::template), help("fix the template; `idp render` shows the output without writing"))]
    Template { template: String, message: String },

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: String,
    pub content: String,
    pub template: String,
}

/// The compiled templates; build once, render many requests.
pub struct Renderer {
    env: Environment<'static>,
    /// Templates a state repo overrides, for notes and `doctor`.
    pub overridden: Vec<String>,
}

impl Renderer {
    /// Compiles the embedded templates, replacing each one for which
    /// `override_of` returns the text of a state repo's own version.
    pub fn new(override_of: impl Fn(&str) -> Option<String>) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut overridden = Vec::new();
        for (name, text) in EMBEDDED_TEMPLATES {
            let text = match override_of(name) {
                Some(custom) => {
                    overridden.push((*name).to_owned());
                    custom
                }
                None => (*text).to_owned(),
            };
            env.add_template_owned(*name, text)
                .map_err(|e| RenderError::Template { template: (*name).into(), message: e.to_string() })?;
        }
        Ok(Self { env, overridden })
    }

    /// The embedded templates only.
    pub fn embedded() -> Self {
        Self::new(|_| None).expect("embedded templates compile (tested)")
    }

    /// The embedded templates with the state repo's overrides from
    /// `templates/` at the context's base commit (one path lookup each).
    pub fn for_state(ctx: &crate::ops::Context) -> Result<Self, crate::ops::Error> {
        let mut custom = BTreeMap::new();
        for (name, _) in EMBEDDED_TEMPLATES {
            if let Some(bytes) = ctx.read(&format!("templates/{name}"))? {
                custom.insert(*name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(Self::new(|name| custom.get(name).cloned())?)
    }

    fn render_template(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| RenderError::Template { template: name.into(), message: e.to_string() })?;
        let mut text = template
            .render(minijinja::value::Serde(ctx))
            .map_err(|e| RenderError::Template { template: name.into(), message: e.to_string() })?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }

    /// Every file under `platform/` for one request, checked.
    pub fn request_files(
        &self,
        request: &Request,
        decision: &Decision,
        policy: &Policy,
    ) -> Result<Vec<RenderedFile>, RenderError> {
        let dir = state::platform_dir(request.kind, &request.namespace, &request.name);
        let labels = labels(request);
        let reason_json = serde_json::to_string(&decision.reason).unwrap_or_default();
        let Spec::MySql { size, storage_gb, ha } = &request.spec;
        let request_ctx = json!({
            "kind": request.kind.cli_name(),
            "name": request.name,
            "namespace": request.namespace,
            "cell": request.cell,
            "tier": request.tier,
            "environment": request.environment,
            "drProfile": decision.reason.dr_profile,
            "size": size,
            "storageGB": storage_gb,
            "ha": ha,
        });

        let mut files = Vec::new();
        let sides = std::iter::once(("primary", &decision.primary))
            .chain(decision.secondary.as_ref().map(|s| ("secondary", s)));
        for (side, target) in sides {
            let ctx = json!({
                "request": request_ctx,
                "side": side,
                "target": target_json(target),
                "claim_name": claim_name(&request.name, side),
                "secret_name": secret_name(&request.name, side),
                "labels": labels,
                "reason_json": reason_json,
            });
            files.push(self.checked("mysql/claim.yaml.j2", format!("{dir}/{side}.yaml"), &ctx, request)?);
        }
        if let Some(secondary) = &decision.secondary {
            let profile = decision.reason.dr_profile.as_deref().and_then(|name| policy.dr_profiles.get(name));
            let (tool, mode) = match profile.map(|p| p.replication) {
                Some(Replication::BackupRestore) => ("backup-restore", "backup-restore"),
                _ => ("oci-goldengate", "cdc"),
            };
            let rpo = profile.map_or((decision.reason.rpo_minutes * 60.0).round() as u32, |p| p.rpo_seconds);
            let end = |side: &str, t: &Target| {
                json!({
                    "provider": t.provider,
                    "region": t.region,
                    "claimName": claim_name(&request.name, side),
                    "secretName": secret_name(&request.name, side),
                })
            };
            let ctx = json!({
                "request": request_ctx,
                "labels": labels,
                "replication": {
                    "name": format!("{}-replication", request.name),
                    "tool": tool,
                    "mode": mode,
                    "expectedRpoSeconds": rpo,
                    "source": end("primary", &decision.primary),
                    "target": end("secondary", secondary),
                },
            });
            files.push(self.checked("mysql/replication.yaml.j2", format!("{dir}/replication.yaml"), &ctx, request)?);
        }
        Ok(files)
    }

    /// The Argo CD bootstrap written by `idp init`.
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
            Ok(RenderedFile { path: format!("bootstrap/argocd/{file}"), content, template: template.into() })
        })
        .collect()
    }

    fn checked(
        &self,
        template: &str,
        path: String,
        ctx: &Value,
        request: &Request,
    ) -> Result<RenderedFile, RenderError> {
        let content = self.render_template(template, ctx)?;
        guard::check_request_manifest(&content, request)
            .map_err(|message| RenderError::Unsafe { template: template.into(), message })?;
        Ok(RenderedFile { path, content, template: template.into() })
    }
}

/// The labels every manifest of a request carries (PRODUCT.md section 5).
pub fn labels(request: &Request) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("app.kubernetes.io/managed-by", "idp".to_owned()),
        ("platform.example.org/cell", request.cell.clone()),
        ("platform.example.org/environment", request.environment.clone()),
        ("platform.example.org/tier", request.tier.clone()),
        ("platform.example.org/request", format!("{}.{}.{}", request.namespace, request.kind, request.name)),
    ])
}

/// The claim of one side: the primary keeps the request's name.
pub fn claim_name(name: &str, side: &str) -> String {
    if side == "primary" { name.to_owned() } else { format!("{name}-{side}") }
}

/// The connection secret Crossplane writes for a side; only its name is ever
/// known to idp.
pub fn secret_name(name: &str, side: &str) -> String {
    format!("{}-conn", claim_name(name, side))
}

fn target_json(t: &Target) -> Value {
    json!({ "provider": t.provider, "region": t.region, "runtimeCluster": t.runtime_cluster, "network": t.network })
}
