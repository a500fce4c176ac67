//! Local remotes (a path or a `file://` URL), pushed to through git's own
//! `git receive-pack PATH`, as `git push` does: the remote repository's hooks,
//! its `receive.*` settings and its refusal to move a checked-out branch all
//! apply, and receive-pack moves the branch only if it still points where it
//! pointed when the push began. (libgit2's built-in local transport writes
//! the ref itself, skipping all of that.) Fetches keep libgit2's local
//! transport: nothing on the receiving side takes part in a fetch.

use std::path::Path;
use std::process::Command;

use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream};

use super::child::ChildStream;

/// The scheme under which `local_url` hands a path to this transport.
pub(super) const SCHEME: &str = "idp-local";

/// What libgit2 is given to push to the repository at `path`.
pub fn local_url(path: &Path) -> String {
    format!("{SCHEME}://{}", path.display())
}

/// Variables naming the *calling* repository that git clears before running
/// a service in another one (`git rev-parse --local-env-vars`).
const LOCAL_REPO_ENV: &[&str] = &[
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
];

/// libgit2's stateful subtransport for local remotes: one git process per connection.
pub(super) struct Local;

impl SmartSubtransport for Local {
    fn action(&self, url: &str, action: Service) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let path = url.strip_prefix(SCHEME).and_then(|rest| rest.strip_prefix("://")).unwrap_or(url);
        let service = match action {
            Service::UploadPackLs | Service::UploadPack => "upload-pack",
            Service::ReceivePackLs | Service::ReceivePack => "receive-pack",
        };
        let mut command = Command::new("git");
        command.arg(service).arg(path);
        for key in LOCAL_REPO_ENV {
            command.env_remove(key);
        }
        let stream = ChildStream::spawn(command, format!("git {service} {path}"), |stderr| {
            (stderr.contains("does not appear to be a git repository") || stderr.contains("not a git repository"))
                .then(|| "check the path of the remote".to_owned())
        })
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound { ": install git" } else { "" };
            git2::Error::from_str(&format!("cannot run git {service}: {e}{hint}"))
        })?;
        Ok(Box::new(stream))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}
