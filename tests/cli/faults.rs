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

/// A state repo on a read-only file system (a read-only mount, a CI cache restored
/// read-only) cannot take idp's lock: the error says the repo cannot be written and why,
/// never that another idp process is writing it, and nothing is written.
#[test]
fn a_read_only_state_repo_is_reported_as_read_only() {
    let env = TestEnv::new();
    let Some(disk) = SmallDisk::mount(&env.work_dir().join("disk"), "8m") else { return };
    env.init_state("disk/state");
    let head = env.git(&["-C", "disk/state", "rev-parse", "HEAD"]);
    let remounted = Command::new("mount").args(["-o", "remount,ro"]).arg(&disk.path).status().unwrap();
    assert!(remounted.success(), "remount the tmpfs read-only");
    let request = env.write("r.yaml", batch(1));

    let run = env.idp(&["apply", "-f", &request, "--repo", "disk/state", "--yes", "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::state::not_writable", "{error:#}");
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("cannot write to ") && message.contains("Read-only file system"), "{message}");
    assert!(!run.stderr.contains("another idp process"), "{}", run.stderr);
    assert_eq!(env.git(&["-C", "disk/state", "rev-parse", "HEAD"]), head);
    let _ = Command::new("mount").args(["-o", "remount,rw"]).arg(&disk.path).status();
}

/// A remote whose disk is full receives the pack and cannot keep it: the error says
/// the remote could not store the push, with the remote's own words, not that it
/// cannot be reached; nothing moves on either side, and once there is room the same
/// command lands. (`remote.rs` checks the same class through a size limit, which needs
/// no mount.)
#[test]
fn a_remote_whose_disk_is_full_says_it_could_not_store_the_push() {
    let env = TestEnv::new();
    let Some(disk) = SmallDisk::mount(&env.work_dir().join("srv"), "4m") else { return };
    env.idp(&["init", "seed"]).code(0);
    env.git(&["clone", "--quiet", "--bare", "seed", "srv/remote.git"]);
    env.git(&["clone", "--quiet", "srv/remote.git", "w1"]);
    env.set_identity("w1");
    let remote_main = env.git(&["-C", "srv/remote.git", "rev-parse", "main"]);
    let head = env.git(&["-C", "w1", "rev-parse", "HEAD"]);
    let requests = env.write("batch.yaml", batch(20));
    disk.fill(0);

    let run = env.idp(&["apply", "-f", &requests, "--repo", "w1", "--yes", "--push", "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::push::not_stored", "{error:#}");
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("origin could not store the push to main: "), "{message}");
    assert!(message.contains("No space left on device") || message.contains("remote:"), "{message}");
    assert!(!message.contains("class="), "{message}");
    assert_eq!(env.git(&["-C", "srv/remote.git", "rev-parse", "main"]), remote_main);
    assert_eq!(env.git(&["-C", "w1", "rev-parse", "HEAD"]), head);

    disk.empty();
    env.idp(&["apply", "-f", &requests, "--repo", "w1", "--yes", "--push"]).code(0);
    assert_ne!(env.git(&["-C", "srv/remote.git", "rev-parse", "main"]), remote_main);
}

/// A state repo owned by another user: git (and libgit2) open it only where it is
/// declared safe (`safe.directory`). The error says so, and how to declare it, not that
/// the directory is no Git repository. Runs idp as `nobody` through setpriv (needs root).
#[test]
fn a_repo_of_another_user_is_reported_as_such() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.init_state("state");
    let request = env.write("r.yaml", batch(1));
    // nobody must be able to reach the repo and the request (a temp dir is 0700).
    for dir in [env.root().to_path_buf(), env.work_dir(), env.root().join("home")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut command = env.hermetic("setpriv");
    command.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_idp")]);
    let args = ["apply", "-f", request.as_str(), "--repo", "state", "--yes", "-o", "json"];
    let output = match command.args(args).output() {
        Ok(output) if !String::from_utf8_lossy(&output.stderr).contains("setpriv:") => output,
        other => {
            eprintln!("SKIPPED: cannot run idp as another user (setpriv, needs root): {other:?}");
            return;
        }
    };
    let run = crate::common::Run::of(&args, &output);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::state::not_owned", "{error:#}");
    assert!(error["help"].as_str().unwrap().contains("safe.directory"), "{error:#}");
}
