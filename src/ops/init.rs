//! `idp init`: a new state repo with the policy, the Argo CD bootstrap, a
//! README and the layout marker, in one first commit.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Error;
use crate::layout::{self, MARKER_PATH, POLICY_PATH};
use crate::policy::DEFAULT_POLICY_YAML;
use crate::render::Renderer;
use crate::state::{FileChange, StateRepo};

const STATE_README: &str = include_str!("../../templates/state-repo/README.md");

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub dir: PathBuf,
    /// Adopt a repo that already has commits or files.
    pub force: bool,
    /// The policy's `traffic.defaultProvider` (default: the embedded policy's).
    pub traffic_provider: Option<String>,
    /// `--author`: who the first commit names instead of git's identity.
    pub author: Option<crate::state::Author>,
}

#[derive(Debug, Serialize)]
pub struct InitOutcome {
    pub path: String,
    pub commit: Option<String>,
    pub files: Vec<String>,
}

pub fn init(options: &InitOptions) -> Result<InitOutcome, Error> {
    let dir = &options.dir;
    let policy_text = policy_text(options.traffic_provider.as_deref())?;
    let mut state = match StateRepo::open(dir) {
        Ok(state) => state,
        Err(_) => {
            if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false) && !options.force
            {
                return Err(Error::NotEmpty { path: dir.display().to_string(), why: "it holds files".into() });
            }
            StateRepo::require_identity_for_new_repo(options.author.as_ref())?;
            StateRepo::init(dir)?
        }
    };
    state.set_author(options.author.clone());
    state.identity()?;
    let head = state.head()?;
    if head.is_some() && !options.force {
        let why = if state.is_state_repo()? { "it is already an idp state repo" } else { "it already has commits" };
        return Err(Error::NotEmpty { path: dir.display().to_string(), why: why.into() });
    }

    let policy = crate::policy::LoadedPolicy::embedded().policy;
    let mut files = vec![
        (MARKER_PATH.to_owned(), marker()),
        (POLICY_PATH.to_owned(), policy_text),
        (layout::README_PATH.to_owned(), STATE_README.to_owned()),
        (layout::CATALOG_LOCATION_PATH.to_owned(), crate::catalog::location()),
    ];
    // Argo CD follows the branch idp commits to, whatever the repo calls it.
    let branch = state.branch_ref()?;
    let revision = branch.strip_prefix("refs/heads/").unwrap_or(&policy.gitops.revision);
    for file in Renderer::embedded().bootstrap_files(&policy.gitops.repo_url, revision)? {
        files.push((file.path, file.content));
    }
    // Adopting keeps what the repo already has (its own policy above all).
    let mut changes = Vec::new();
    for (path, content) in files {
        if state.read(&path)?.is_none() {
            changes.push(FileChange::upsert(path, content.as_bytes()));
        }
    }
    let written: Vec<String> = changes.iter().map(|c| c.path().to_owned()).collect();
    let commit = if changes.is_empty() {
        None
    } else {
        let message =
            "idp: initialize state repo\n\nPolicy, Argo CD bootstrap and layout marker.\n\nIdp-Action: init\n";
        Some(state.commit_changes(head, &changes, message)?.to_string())
    };
    Ok(InitOutcome { path: display(dir), commit, files: written })
}

/// The traffic providers a new state repo may choose from, default first.
pub fn traffic_providers() -> Vec<String> {
    let traffic = crate::policy::LoadedPolicy::embedded().policy.traffic;
    let mut names: Vec<String> = traffic.providers.keys().cloned().collect();
    names.sort_by_key(|n| *n != traffic.default_provider);
    names
}

/// The default policy, with another default traffic provider if asked.
fn policy_text(provider: Option<&str>) -> Result<String, Error> {
    let Some(provider) = provider else { return Ok(DEFAULT_POLICY_YAML.to_owned()) };
    let valid = traffic_providers();
    if !valid.iter().any(|p| p == provider) {
        return Err(Error::UnknownName { what: "traffic provider", name: provider.into(), valid });
    }
    let default = &crate::policy::LoadedPolicy::embedded().policy.traffic.default_provider;
    let line = format!("\n  defaultProvider: {default}\n");
    debug_assert_eq!(DEFAULT_POLICY_YAML.matches(&line).count(), 1, "the default policy names its provider once");
    // A name from the policy's own list: a plain YAML word, safe to splice.
    Ok(DEFAULT_POLICY_YAML.replacen(&line, &format!("\n  defaultProvider: {provider}\n"), 1))
}

fn marker() -> String {
    format!(
        "# Marks this repository as an idp state repo. Do not edit.\napiVersion: idp.platform.example.org/v1alpha1\nkind: StateRepo\nlayout: 1\ncreatedBy: idp {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
