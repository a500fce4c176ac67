//! What `idp doctor` reads of git's configuration: the identity idp's
//! commits would carry, the credential helper, a remote's URL. Nothing here
//! writes configuration.

use super::StateRepo;

impl StateRepo {
    /// A git config value as this repo sees it (its own config over the
    /// global and system ones); None when unset or unreadable.
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo.config().ok()?.get_string(key).ok()
    }

    /// The URL of the remote configured under `name`; None when there is
    /// no such remote.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let remote = self.repo.find_remote(name).ok()?;
        Some(remote.url().unwrap_or_default().to_owned())
    }
}

/// A git config value outside any repo (the global and system config);
/// None when unset or unreadable.
pub fn global_config_string(key: &str) -> Option<String> {
    git2::Config::open_default().ok()?.get_string(key).ok()
}
