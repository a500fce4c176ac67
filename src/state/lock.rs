//! A per-repo writer lock, so two idp processes never write one local repo
//! at once.
//!
//! The lock is an advisory OS file lock (`flock`) on `<git dir>/idp.lock`.
//! The kernel releases it when the holding process exits, however it exits
//! (SIGKILL, crash, power loss), so a stale lock cannot exist: a lock file
//! left behind is just a file, and its content only names the last holder
//! for the message a waiting process prints.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::time::{Duration, Instant};

use super::{StateError, StateRepo};

/// How long a second writer waits before giving up.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Held while writing; released on drop (or by the kernel on exit).
pub struct RepoLock {
    _file: File,
}

impl StateRepo {
    /// Takes the writer lock, waiting up to `wait` for another idp process.
    pub fn lock(&self, wait: Duration) -> Result<RepoLock, StateError> {
        let path = self.repo.path().join("idp.lock");
        // Not being able to open or lock the file says nothing about another
        // writer: a read-only mount or a repo owned by someone else.
        let io =
            |e: std::io::Error| StateError::NotWritable { path: path.display().to_string(), reason: e.to_string() };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(50 + fastrand::u64(0..50)));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(StateError::Lock {
                        holder: if holder.is_empty() { "another idp process".into() } else { holder.to_owned() },
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        // Name the holder for whoever waits next; best effort.
        let _ = file.set_len(0).and_then(|()| file.rewind());
        let _ = write!(file, "pid {} on {} since {}", std::process::id(), hostname(), unix_now());
        let _ = file.flush();
        Ok(RepoLock { _file: file })
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "this host".into())
}

fn unix_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("unix time {secs}")
}
