//! The ssh, http(s) and local-push transports under libgit2, without OpenSSL:
//! ssh runs the system's OpenSSH client the way git does, http(s) speaks git's
//! smart HTTP protocol over ureq (rustls), a push to a local path runs git's
//! receive-pack. libgit2 keeps its own git:// (and local fetches).
//!
//! This module owns reaching a network remote and authenticating to it. It
//! never touches refs or objects: libgit2 speaks the git protocol over the
//! streams it gets from here.
//!
//! `ssh` and `http` hold one transport each; this file registers them and
//! holds what both read from a URL.

mod child;
mod http;
mod local;
mod ssh;

use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;

use git2::transport::{Service, Transport};

use http::Http;
use local::Local;
pub use local::local_url;
use ssh::Ssh;
pub use ssh::ssh_askpass;

/// The default of `--timeout`: how long a remote may stay silent (while
/// connecting, or between two reads or writes) before idp gives up.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// The timeout of the transfer under way, in seconds, for idp's transports.
static TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_NETWORK_TIMEOUT.as_secs());

/// Held by the transfer under way: transfers take turns.
static TURN: Mutex<()> = Mutex::new(());

/// One fetch or push, and the timeout it runs with. While it lives, every
/// connect, read and write on a network remote (git://, ssh://, https://) is
/// bounded by that timeout, so a server that accepts and never answers cannot
/// hold a pipeline forever.
///
/// libgit2 creates transports through a process-wide registry and keeps its
/// own socket timeouts (for git://) process-wide, so a call's timeout cannot
/// travel with the call: it is installed for the call and what was there is
/// put back after. Transfers take turns, so none sees another's timeout.
pub(super) struct Transfer {
    pub(super) timeout: Duration,
    /// libgit2's connect and read/write timeouts before this transfer.
    previous: (i32, i32),
    _turn: MutexGuard<'static, ()>,
}

impl Transfer {
    pub(super) fn start(timeout: Duration) -> Self {
        register();
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: libgit2 reads these two ints when it opens a socket, which it
        // does only for a transfer; transfers take turns (`TURN`, held until
        // `drop` has put them back), so they are never read while written.
        let previous = unsafe {
            let previous = (
                git2::opts::get_server_connect_timeout_in_milliseconds().unwrap_or(0),
                git2::opts::get_server_timeout_in_milliseconds().unwrap_or(0),
            );
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(millis);
            let _ = git2::opts::set_server_timeout_in_milliseconds(millis);
            previous
        };
        TIMEOUT_SECS.store(timeout.as_secs().max(1), Ordering::Relaxed);
        Self { timeout, previous, _turn: turn }
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        let (connect, read_write) = self.previous;
        // SAFETY: as in `start`; this transfer still holds its turn.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(connect);
            let _ = git2::opts::set_server_timeout_in_milliseconds(read_write);
        }
        TIMEOUT_SECS.store(DEFAULT_NETWORK_TIMEOUT.as_secs(), Ordering::Relaxed);
    }
}

/// The timeout of the transfer under way.
fn timeout_in_force() -> Duration {
    Duration::from_secs(TIMEOUT_SECS.load(Ordering::Relaxed))
}

/// Makes libgit2 use these transports for ssh (also scp-like `host:path`,
/// which libgit2 hands to whatever serves `ssh://`), http(s), and the pushes
/// to local paths that `local_url` names.
fn register() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: registering appends to a process-wide list that libgit2 reads,
        // unlocked, whenever it creates a transport. Every idp code path that
        // creates a remote starts a `Transfer` first (`StateRepo::remote` takes
        // one), which registers, and Once holds any concurrent caller until the
        // registration is complete, so the list is never read while it is
        // written, and never written again.
        unsafe {
            for scheme in ["ssh", "ssh+git", "git+ssh"] {
                let _ = git2::transport::register(scheme, |remote| Transport::smart(remote, false, Ssh));
            }
            for scheme in ["http", "https"] {
                let _ = git2::transport::register(scheme, |remote| Transport::smart(remote, true, Http::default()));
            }
            let _ = git2::transport::register(local::SCHEME, |remote| Transport::smart(remote, false, Local));
        }
    });
}

/// A remote's URL as idp may show it: the one redaction of every URL idp prints.
pub use crate::secrets::redact_url;

/// The program a service runs on the server.
fn program(action: Service) -> &'static str {
    match action {
        Service::UploadPackLs | Service::UploadPack => "git-upload-pack",
        Service::ReceivePackLs | Service::ReceivePack => "git-receive-pack",
    }
}

/// An environment variable, unless it is unset or empty.
fn env(key: &str) -> Option<OsString> {
    std::env::var_os(key).filter(|v| !v.is_empty())
}

/// `[user@]host`: the user is what comes before the last '@'.
fn split_user(authority: &str) -> (Option<&str>, &str) {
    match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    }
}

/// `%XX` escapes decoded, as git decodes a URL's parts; anything else kept.
fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libgit2's two socket timeouts, read while no transfer runs.
    fn libgit2_timeouts() -> (i32, i32) {
        let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: holding the turn, as a transfer does.
        unsafe {
            (
                git2::opts::get_server_connect_timeout_in_milliseconds().unwrap(),
                git2::opts::get_server_timeout_in_milliseconds().unwrap(),
            )
        }
    }

    #[test]
    fn a_transfer_installs_its_timeout_and_puts_back_the_previous_one() {
        let before = libgit2_timeouts();
        {
            let transfer = Transfer::start(Duration::from_secs(7));
            assert_eq!((transfer.timeout, timeout_in_force()), (Duration::from_secs(7), Duration::from_secs(7)));
            // SAFETY: this thread holds the turn (`transfer`).
            let installed = unsafe {
                (
                    git2::opts::get_server_connect_timeout_in_milliseconds().unwrap(),
                    git2::opts::get_server_timeout_in_milliseconds().unwrap(),
                )
            };
            assert_eq!(installed, (7000, 7000));
        }
        assert_eq!(libgit2_timeouts(), before);
        assert_eq!(timeout_in_force(), DEFAULT_NETWORK_TIMEOUT);
    }

    #[test]
    fn only_whole_escapes_are_decoded() {
        assert_eq!(percent_decoded("a%20b%2Fc%40"), "a b/c@");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
        assert_eq!(percent_decoded("%+a"), "%+a");
        assert_eq!(percent_decoded("%ff"), "\u{fffd}");
    }
}
