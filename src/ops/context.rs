//! Which state repo and which policy a command works against.

use std::path::{Path, PathBuf};

use super::Error;
use crate::policy::{self, LoadedPolicy, PolicyOrigin};
use crate::state::{POLICY_PATH, StateRepo};
use crate::yaml::Source;

#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// `--repo` / `IDP_REPO`: must be a state repo. Without it, the current
    /// directory is used when it is inside one.
    pub repo: Option<PathBuf>,
    /// `--policy`: overrides the state repo's policy.
    pub policy: Option<PathBuf>,
    /// Where to look for a state repo when `repo` is not given.
    pub cwd: PathBuf,
}

pub struct Context {
    pub policy: LoadedPolicy,
    pub state: Option<StateRepo>,
}

impl Context {
    /// Resolution order: `--policy FILE`, else the state repo's
    /// `policy/policy.yaml` at HEAD, else the embedded default.
    pub fn resolve(options: &ContextOptions) -> Result<Self, Error> {
        let state = match &options.repo {
            Some(path) => Some(StateRepo::open_state(path)?),
            None => StateRepo::discover(&options.cwd),
        };
        let policy = match (&options.policy, &state) {
            (Some(file), _) => policy::load(
                Source::read(file).map_err(policy::PolicyError::from)?,
                PolicyOrigin::File(file.display().to_string()),
            )?,
            (None, Some(state)) => match state.read(POLICY_PATH)? {
                Some(bytes) => {
                    let name = format!("{}:{POLICY_PATH}", display(state.path()));
                    let source = Source::from_bytes(name, bytes).map_err(policy::PolicyError::from)?;
                    policy::load(source, PolicyOrigin::StateRepo(display(state.path())))?
                }
                None => LoadedPolicy::embedded(),
            },
            (None, None) => LoadedPolicy::embedded(),
        };
        Ok(Self { policy, state })
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
