//! Which state repo, which commit of it, and which policy a command works
//! against.

use std::path::{Path, PathBuf};

use super::Error;
use crate::layout::{self, POLICY_PATH};
use crate::policy::{self, LoadedPolicy, PolicyOrigin};
use crate::product::{self, ProductError, Products};
use crate::render::Renderer;
use crate::state::{Author, ObjectId, StateRepo};
use crate::yaml::{Source, SourceError};

#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// `--repo` / `IDP_REPO`: must be a state repo. Without it, the current
    /// directory is used when it is inside one.
    pub repo: Option<PathBuf>,
    /// `--policy`: overrides the state repo's policy.
    pub policy: Option<PathBuf>,
    /// Where to look for a state repo when `repo` is not given.
    pub cwd: PathBuf,
    /// `--author`: who idp's commits name instead of git's identity.
    pub author: Option<Author>,
}

pub struct Context {
    pub policy: LoadedPolicy,
    /// The products in force: idp's, with the state repo's definitions
    /// (or those beside `--policy FILE`) over them.
    pub products: Products,
    pub state: Option<StateRepo>,
    /// The commit everything is read from: HEAD, or a fetched remote head.
    pub base: Option<ObjectId>,
    policy_file: Option<PathBuf>,
    /// What the person should be told besides the result (repairs made), on stderr.
    notes: Vec<String>,
}

impl Context {
    /// Resolution order for the policy: `--policy FILE`, else the state repo's
    /// `policy/policy.yaml` at the base commit, else the embedded default.
    pub fn resolve(options: &ContextOptions) -> Result<Self, Error> {
        let mut state = match &options.repo {
            Some(path) => Some(StateRepo::open_state(path)?),
            None => StateRepo::discover(&options.cwd),
        };
        if let Some(state) = &mut state {
            state.set_author(options.author.clone());
        }
        let base = match &state {
            Some(state) => state.head()?,
            None => None,
        };
        let policy = load_policy(options.policy.as_deref(), state.as_ref(), base)?;
        let products = load_products(options.policy.as_deref(), state.as_ref(), base, &policy)?;
        let mut notes = Vec::new();
        // The policy is read at HEAD: edits not committed yet are not in force,
        // and a person previewing one must not think it is.
        if let Some(state) = state.as_ref().filter(|_| options.policy.is_none()) {
            let edited = state.edited_in_work_tree(base, layout::POLICY_DIR)?;
            if !edited.is_empty() {
                notes.push(format!(
                    "uncommitted edits to {} are not used: this uses the policy, rules and product definitions at HEAD; \
                     to preview them, pass --policy {}",
                    edited.join(", "),
                    state.path().join(POLICY_PATH).display()
                ));
            }
        }
        Ok(Self { policy, products, state, base, policy_file: options.policy.clone(), notes })
    }

    /// The same repo read at another commit (a freshly fetched remote head);
    /// the policy is re-read there unless `--policy` named a file.
    pub fn rebase(&mut self, base: Option<ObjectId>) -> Result<(), Error> {
        self.policy = load_policy(self.policy_file.as_deref(), self.state.as_ref(), base)?;
        self.products = load_products(self.policy_file.as_deref(), self.state.as_ref(), base, &self.policy)?;
        self.base = base;
        Ok(())
    }

    /// Something to tell the person besides the result.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The notes so far, once.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// The file named by `--policy`, if any (its `rules/` sit beside it).
    pub fn policy_file(&self) -> Option<&Path> {
        self.policy_file.as_deref()
    }

    pub fn state(&self) -> Result<&StateRepo, Error> {
        self.state.as_ref().ok_or(Error::NoStateRepo)
    }

    /// The files below a folder of the state repo at the base commit.
    pub fn list(&self, dir: &str) -> Result<Vec<String>, Error> {
        match (&self.state, self.base) {
            (Some(state), Some(base)) => Ok(state.list_dir(base, dir)?),
            _ => Ok(Vec::new()),
        }
    }

    /// The templates in force: the embedded ones, with the state repo's
    /// overrides from `templates/` at the base commit (one listing of the
    /// folder, most repos have none, then a read of each override).
    pub fn renderer(&self) -> Result<Renderer, Error> {
        let present = self.list(layout::TEMPLATES_DIR)?;
        Renderer::with_overrides(&self.products, |name| {
            let path = layout::template_path(name);
            if !present.contains(&path) {
                return Ok(None);
            }
            Ok(self.read(&path)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
        })
    }

    /// A file of the state repo at the base commit.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        match (&self.state, self.base) {
            (Some(state), Some(base)) => Ok(state.read_at(base, path)?),
            _ => Ok(None),
        }
    }
}

fn load_policy(file: Option<&Path>, state: Option<&StateRepo>, base: Option<ObjectId>) -> Result<LoadedPolicy, Error> {
    if let Some(file) = file {
        let source = Source::read(file).map_err(policy::PolicyError::from)?;
        return Ok(policy::load(source, PolicyOrigin::File(file.display().to_string()))?);
    }
    let (Some(state), Some(base)) = (state, base) else { return Ok(LoadedPolicy::embedded()) };
    match state.read_at(base, POLICY_PATH)? {
        Some(bytes) => {
            let repo = state.path().display().to_string();
            let source =
                Source::from_bytes(format!("{repo}:{POLICY_PATH}"), bytes).map_err(policy::PolicyError::from)?;
            Ok(policy::load(source, PolicyOrigin::StateRepo(repo))?)
        }
        None => Ok(LoadedPolicy::embedded()),
    }
}

/// The products in force: the definitions beside a `--policy` file
/// (`<its folder>/products/<name>/product.yaml`), else the state repo's
/// under `policy/products/` at the base commit, over idp's own; with the
/// YAML files beside each definition (an XRD and Compositions of its own).
fn load_products(
    file: Option<&Path>,
    state: Option<&StateRepo>,
    base: Option<ObjectId>,
    policy: &LoadedPolicy,
) -> Result<Products, Error> {
    let mut own = Vec::new();
    match (file, state, base) {
        (Some(file), _, _) => {
            let dir = file.parent().unwrap_or(Path::new(".")).join("products");
            let mut folders: Vec<PathBuf> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(_) => Vec::new(),
            };
            folders.sort();
            for folder in folders.into_iter().filter(|f| f.join("product.yaml").is_file()) {
                let name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
                let unreadable =
                    |error| ProductError::from(SourceError::Io { name: folder.display().to_string(), error });
                let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                    .map_err(unreadable)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                    .collect();
                files.sort();
                for file in files {
                    let file_name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
                    let source = Source::read(&file).map_err(ProductError::from)?;
                    own.push((format!("{}/{name}/{file_name}", product::PRODUCTS_DIR), source));
                }
            }
        }
        (None, Some(state), Some(base)) => {
            let repo = state.path().display().to_string();
            for path in state.list_dir(base, product::PRODUCTS_DIR)?.into_iter().filter(|p| p.ends_with(".yaml")) {
                let bytes = state.read_at(base, &path)?.unwrap_or_default();
                let source = Source::from_bytes(format!("{repo}:{path}"), bytes).map_err(ProductError::from)?;
                own.push((path, source));
            }
        }
        _ => {}
    }
    Ok(Products::load(&own, &policy.policy)?)
}
