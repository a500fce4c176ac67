//! A git service running as a child process, its stdin and stdout the
//! stream libgit2 speaks the git protocol over: `ssh host git-receive-pack …`
//! for ssh remotes, `git receive-pack PATH` for local ones. This file owns the
//! child's lifetime and turning its exit and stderr into one message.

use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a closing child gets to exit on its own before it is killed.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// What to add to a failure, from what the child said on stderr.
type Hint = Box<dyn Fn(&str) -> Option<String> + Send>;

/// The child: libgit2 reads its stdout and writes its stdin.
pub(super) struct ChildStream {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<Vec<u8>>>,
    /// What messages call the child: `ssh git@host`, `git receive-pack /srv/state.git`.
    name: String,
    hint: Hint,
    received: bool,
    /// The error already reported, repeated for any later call.
    failed: Option<String>,
}

impl ChildStream {
    /// Starts `command` with piped stdin, stdout and stderr.
    pub(super) fn spawn(
        mut command: Command,
        name: String,
        hint: impl Fn(&str) -> Option<String> + Send + 'static,
    ) -> io::Result<Self> {
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn()?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!("{name} started without its pipes")));
        };
        // Drained all along, so a chatty child never blocks on a full pipe; kept
        // for the message when the connection fails.
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = (&mut stderr).take(64 << 10).read_to_end(&mut text);
            let _ = io::copy(&mut stderr, &mut io::sink());
            text
        });
        Ok(Self {
            child,
            stdin: Some(stdin),
            stdout,
            stderr: Some(stderr),
            name,
            hint: Box::new(hint),
            received: false,
            failed: None,
        })
    }

    /// Waits up to `limit` for the child to exit.
    fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                _ => return None,
            }
        }
    }

    /// The connection failed: what the child said about it, and what to do.
    fn failure(&mut self, cause: Option<io::Error>) -> io::Error {
        if let Some(message) = &self.failed {
            return io::Error::other(message.clone());
        }
        let status = self.wait(EXIT_WAIT);
        let stderr = match self.stderr.take() {
            Some(thread) => {
                let deadline = Instant::now() + EXIT_WAIT;
                while !thread.is_finished() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if thread.is_finished() { thread.join().unwrap_or_default() } else { Vec::new() }
            }
            None => Vec::new(),
        };
        let stderr = String::from_utf8_lossy(&stderr);
        let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let mut message = self.name.clone();
        match status {
            Some(status) if !status.success() => message.push_str(&format!(" failed ({status})")),
            Some(_) => message.push_str(" closed the connection early"),
            None => message.push_str(" stopped answering"),
        }
        if !said.is_empty() {
            message.push_str(&format!(": {}", said.join(" ")));
        } else if let Some(cause) = cause {
            message.push_str(&format!(": {cause}"));
        }
        if let Some(hint) = (self.hint)(&said.join(" ")) {
            message.push_str(&format!(" ({hint})"));
        }
        self.failed = Some(message.clone());
        io::Error::other(message)
    }
}

impl Read for ChildStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            return Err(self.failure(None));
        }
        match self.stdout.read(buf) {
            Ok(0) if !buf.is_empty() => {
                // The end of the child's output: fine after a session, a failure before one.
                let status = self.wait(EXIT_WAIT);
                if self.received && status.is_some_and(|s| s.success()) { Ok(0) } else { Err(self.failure(None)) }
            }
            Ok(n) => {
                self.received = true;
                Ok(n)
            }
            Err(e) => Err(self.failure(Some(e))),
        }
    }
}

impl Write for ChildStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = match self.stdin.as_mut() {
            Some(stdin) if self.failed.is_none() => stdin.write(buf),
            _ => Err(io::ErrorKind::BrokenPipe.into()),
        };
        written.map_err(|e| self.failure(Some(e)))
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = match self.stdin.as_mut() {
            Some(stdin) => stdin.flush(),
            None => Ok(()),
        };
        flushed.map_err(|e| self.failure(Some(e)))
    }
}

impl Drop for ChildStream {
    fn drop(&mut self) {
        // End of input lets the child and the server finish the session cleanly.
        drop(self.stdin.take());
        if self.wait(EXIT_WAIT).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
