//! `idp init`: a new state repo with the policy, the Argo CD bootstrap, a
//! README and the layout marker, in one first commit.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Error;
use crate::layout::{self, MARKER_PATH, POLICY_PATH};
use crate::policy::DEFAULT_POLICY_YAML;
use crate::render::Renderer;
use crate::state::{FileChange, StateRepo};
use crate::yaml::Source;

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
    /// `--gitops-url`: where Argo CD reads the state repo (the policy's
    /// `gitops.repoURL` and the bootstrap); default the embedded policy's.
    pub gitops_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InitOutcome {
    pub path: String,
    pub commit: Option<String>,
    pub files: Vec<String>,
}

pub fn init(options: &InitOptions) -> Result<InitOutcome, Error> {
    let dir = &options.dir;
    if let Some(url) = &options.gitops_url {
        check_gitops_url(url)?;
    }
    let policy_text = policy_text(options.traffic_provider.as_deref(), options.gitops_url.as_deref())?;
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
    // Adopting a repo that keeps its own policy: the bootstrap names its URL.
    let kept_url = match (&options.gitops_url, state.read(POLICY_PATH)?) {
        (None, Some(bytes)) => Source::from_bytes(POLICY_PATH.to_owned(), bytes)
            .ok()
            .and_then(|source| crate::policy::load(source, crate::policy::PolicyOrigin::Embedded).ok())
            .map(|kept| kept.policy.gitops.repo_url),
        _ => None,
    };
    let repo_url = options.gitops_url.as_deref().or(kept_url.as_deref()).unwrap_or(&policy.gitops.repo_url);
    let mut files = vec![
        (MARKER_PATH.to_owned(), marker()),
        (POLICY_PATH.to_owned(), policy_text),
        (layout::README_PATH.to_owned(), STATE_README.to_owned()),
        (layout::CATALOG_LOCATION_PATH.to_owned(), crate::catalog::location()),
    ];
    // Argo CD follows the branch idp commits to, whatever the repo calls it.
    let branch = state.branch_ref()?;
    let revision = branch.strip_prefix("refs/heads/").unwrap_or(&policy.gitops.revision);
    for file in Renderer::embedded().bootstrap_files(repo_url, revision)? {
        files.push((file.path, file.content));
    }
    // Adopting keeps what the repo already has (its own policy above all),
    // so a URL asked for must be the one the kept files name already.
    let mut changes = Vec::new();
    for (path, content) in files {
        match state.read(&path)? {
            None => changes.push(FileChange::upsert(path, content.as_bytes())),
            Some(kept) => {
                if let Some(url) = &options.gitops_url
                    && content.contains(url.as_str())
                    && !String::from_utf8_lossy(&kept).contains(url.as_str())
                {
                    return Err(Error::GitopsUrl {
                        url: url.clone(),
                        why: format!("is not the one {path} names, which --force keeps as it is"),
                        help: format!(
                            "set the URL in {path} by hand and commit it, or remove the file (`git rm`) so that init writes it"
                        ),
                    });
                }
            }
        }
    }
    let written: Vec<String> = changes.iter().map(|c| c.path().to_owned()).collect();
    let commit = if changes.is_empty() {
        None
    } else {
        let message =
            "idp: initialize state repo\n\nPolicy, Argo CD bootstrap and layout marker.\n\nIdp-Action: init\n";
        Some(state.commit_changes(head, &changes.into(), message)?.to_string())
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

/// The default policy, with another default traffic provider and another
/// state repo URL if asked.
fn policy_text(provider: Option<&str>, gitops_url: Option<&str>) -> Result<String, Error> {
    let embedded = crate::policy::LoadedPolicy::embedded().policy;
    let mut text = DEFAULT_POLICY_YAML.to_owned();
    if let Some(provider) = provider {
        let valid = traffic_providers();
        if !valid.iter().any(|p| p == provider) {
            return Err(Error::UnknownName { what: "traffic provider", name: provider.into(), valid });
        }
        let line = format!("\n  defaultProvider: {}\n", embedded.traffic.default_provider);
        debug_assert_eq!(text.matches(&line).count(), 1, "the default policy names its provider once");
        // A name from the policy's own list: a plain YAML word, safe to splice.
        text = text.replacen(&line, &format!("\n  defaultProvider: {provider}\n"), 1);
    }
    if let Some(url) = gitops_url {
        let line = format!("\n  repoURL: {}\n", embedded.gitops.repo_url);
        debug_assert_eq!(text.matches(&line).count(), 1, "the default policy names its repo URL once");
        // Checked by check_gitops_url (no spaces or control characters), and
        // quoted as a JSON string (which YAML reads the same) unless plain.
        let plain = url.starts_with(|c: char| c.is_ascii_alphanumeric());
        let value = if plain { url.to_owned() } else { serde_json::to_string(url).expect("a string serializes") };
        text = text.replacen(&line, &format!("\n  repoURL: {value}\n"), 1);
        // What Argo CD will read is exactly the URL given, or nothing is written.
        let source = Source::from_bytes(POLICY_PATH.to_owned(), text.clone().into_bytes())
            .map_err(crate::policy::PolicyError::from)?;
        let loaded = crate::policy::load(source, crate::policy::PolicyOrigin::Embedded)?;
        assert_eq!(loaded.policy.gitops.repo_url, url, "the spliced policy names the URL given");
    }
    Ok(text)
}

/// A URL Argo CD can read a state repo from, written into Git: https, ssh or
/// git's scp-like `user@host:path`, with a host and a path, and no
/// credentials (Argo CD takes those from its repository Secret).
pub fn check_gitops_url(url: &str) -> Result<(), Error> {
    // Whatever is before the last `@` may be a token or a password (of any
    // form, scp-like too): never shown.
    let shown = match url.rsplit_once('@') {
        Some((before, host)) => {
            let scheme = before.split_once("://").map_or(String::new(), |(scheme, _)| format!("{scheme}://"));
            format!("{scheme}***@{host}")
        }
        None => url.to_owned(),
    };
    let refuse =
        |why: &str, help: &str| Error::GitopsUrl { url: shown.clone(), why: why.to_owned(), help: help.to_owned() };
    let forms = "give the URL Argo CD clones the state repo from: https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git";
    let secret = "give Argo CD the credentials in its repository Secret (`argocd repo add`), never in the URL: the URL is written into Git, for anyone who can read it";
    if url.is_empty()
        || url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
        || url.contains("{{")
        || url.contains("{%")
    {
        return Err(refuse("is not a plain URL: no spaces, control characters or template syntax", forms));
    }
    if crate::secrets::redact_url(url) != url {
        return Err(refuse("holds a password", secret));
    }
    let (user, host, path) = match url.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(scheme, "https" | "ssh") {
                return Err(refuse(&format!("uses {scheme}://, not https or ssh"), forms));
            }
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let (user, host) = authority.rsplit_once('@').map_or((None, authority), |(u, h)| (Some(u), h));
            if scheme == "https" && user.is_some() {
                return Err(refuse("holds a user name, which over https is a token", secret));
            }
            (user, host, path)
        }
        // git's scp-like form: a `:` before any `/`.
        None => match url.split_once(':').filter(|(before, _)| !before.contains('/')) {
            // `user:password@host:path` reads as host `user`: a password all the same.
            Some((_, path)) if path.split('/').next().is_some_and(|first| first.contains('@')) => {
                return Err(refuse("holds a password", secret));
            }
            Some((authority, path)) => {
                let (user, host) = authority.rsplit_once('@').map_or((None, authority), |(u, h)| (Some(u), h));
                (user, host, path)
            }
            None => {
                return Err(refuse("is a local path, which Argo CD (in the cluster) cannot read", forms));
            }
        },
    };
    if user.is_some_and(|u| u.is_empty() || u.contains(':')) {
        return Err(refuse("holds a password", secret));
    }
    let host_name = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    if host_name.is_empty() || path.trim_matches('/').is_empty() {
        return Err(refuse("needs a host and a repository path", forms));
    }
    Ok(())
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
