//! Faults of the machine itself: the state repo's disk fills up. Simulated with a small
//! tmpfs mounted over a directory of the test (needs root or CAP_SYS_ADMIN; skipped,
//! saying so, elsewhere). The remote faults (unreachable, refusing, hanging) are in
//! `remote.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestEnv;

/// A tmpfs of `size` mounted at `path`, unmounted on drop.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(path)
            .output();
        match output {
            Ok(o) if o.status.success() => Some(Self { path: path.to_owned() }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs ({}); run as root to test a full disk",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: no mount command ({e}); run as root to test a full disk");
                None
            }
        }
    }

    /// Fills the disk until only about `leave` bytes are free.
    fn fill(&self, leave: u64) {
        let free = self.free();
        let filler = self.path.join("filler");
        let bytes = free.saturating_sub(leave);
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let mut written = 0;
        while written < bytes {
            let n = chunk.len().min((bytes - written) as usize);
            if std::io::Write::write_all(&mut file, &chunk[..n]).is_err() {
                break;
            }
            written += n as u64;
        }
    }

    fn empty(&self) {
        std::fs::remove_file(self.path.join("filler")).unwrap();
    }

    fn free(&self) -> u64 {
        let out = Command::new("df").args(["--output=avail", "-B1"]).arg(&self.path).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().nth(1).unwrap().trim().parse().unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn batch(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: full-db-{i}\n  namespace: team-alpha\nspec:\n  cell: cell-us-east\n  tier: medium\n  environment: production\n  size: small\n  storageGB: 10\n"
            )
        })
        .collect()
}

/// A full disk at any point of an apply: exit 1 with the OS's reason, or exit 0 when it
/// fit; never a half-written branch; once space is freed the next run completes and the
/// checkout matches HEAD.
#[test]
fn a_full_disk_fails_the_apply_cleanly_and_the_next_run_completes() {
    let env = TestEnv::new();
    let requests = env.write("batch.yaml", batch(60));
    // From nothing free to enough for the objects but not the checkout, to enough.
    for leave in [0u64, 64 << 10, 512 << 10, 1 << 20, 1536 << 10, 2 << 20, 5 << 19, 3 << 20, 4 << 20] {
        let Some(disk) = SmallDisk::mount(&env.work_dir().join("disk"), "8m") else { return };
        env.init_state("disk/state");
        let old = env.git(&["-C", "disk/state", "rev-parse", "HEAD"]);
        disk.fill(leave);

        let run = env.idp(&["apply", "-f", &requests, "--repo", "disk/state", "--yes", "-o", "json"]);
        let head = env.git(&["-C", "disk/state", "rev-parse", "HEAD"]);
        eprintln!("full disk, {leave} bytes free: exit {}", run.code);
        match run.code {
            1 => {
                let message = run.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
                assert!(message.contains("No space left on device"), "{leave} bytes free: {message}");
                // Either nothing landed, or the commit did and the message says so.
                let landed = message.starts_with(&format!("committed {}", head.trim()));
                assert!(head == old || landed, "{leave} bytes free: the branch moved, yet: {message}");
            }
            0 => assert_ne!(head, old, "{leave} bytes free: success without a commit"),
            other => panic!("{leave} bytes free: exit {other}\n{}", run.stderr),
        }
        let fsck = env.git_output(&["-C", "disk/state", "fsck", "--strict", "--no-dangling", "--no-progress"]);
        assert!(fsck.status.success() && fsck.stdout.is_empty(), "{leave}: {}", String::from_utf8_lossy(&fsck.stderr));

        disk.empty();
        env.idp(&["verify", "--repo", "disk/state"]).code(0);
        env.idp(&["apply", "-f", &requests, "--repo", "disk/state", "--yes"]).code(0);
        let files = env.git(&["-C", "disk/state", "ls-tree", "-r", "--name-only", "HEAD", "requests/"]);
        assert_eq!(files.lines().count(), 60, "{leave}: the re-run did not complete the batch");
        assert_eq!(env.git(&["-C", "disk/state", "status", "--porcelain", "--untracked-files=all"]), "", "{leave}");
        drop(disk);
    }
}
