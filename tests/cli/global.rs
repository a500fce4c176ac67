//! What every command shares: usage errors, --help and --version, and how idp ends when
//! its stdout goes away.

use std::process::Stdio;

use crate::common::TestEnv;

#[test]
fn help_and_version_exit_0_on_stdout() {
    let env = TestEnv::new();
    for args in [
        &["--help"][..],
        &["-h"],
        &["plan", "--help"],
        &["policy", "--help"],
        &["help", "plan"],
        &["failover", "--help"],
        &["failback", "--help"],
        &["status", "--help"],
    ] {
        let run = env.idp(args);
        run.code(0);
        assert!(run.stdout.contains("Usage: idp"), "idp {}:\n{}", run.args, run.stdout);
        assert_eq!(run.stderr, "", "idp {}", run.args);
    }
    for args in [&["--version"][..], &["-V"]] {
        let run = env.idp(args);
        run.code(0);
        assert_eq!(run.stdout, format!("idp {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn plan_help_documents_the_kind_and_the_exit_codes() {
    let env = TestEnv::new();
    let run = env.idp(&["plan", "--help"]);
    run.code(0);
    assert!(run.stdout.contains("Usage: idp plan [OPTIONS] --file <PATH> [KIND]"), "{}", run.stdout);
    assert!(run.stdout.contains("--detailed-exitcode"), "{}", run.stdout);
    let top = env.idp(&["--help"]);
    assert!(top.stdout.contains("Exit codes: 0 success, 1 error"), "{}", top.stdout);
}

#[test]
fn failover_help_documents_the_lag_sources_and_status_the_cell_form() {
    let env = TestEnv::new();
    for command in ["failover", "failback"] {
        let run = env.idp(&[command, "--help"]);
        run.code(0);
        assert!(
            run.stdout.contains(&format!("Usage: idp {command} [OPTIONS] --cell <CELL> --env <ENV>")),
            "{}",
            run.stdout
        );
        for flag in
            ["--replication-lag <SECONDS>", "--lag-url <URL>", "--lag-query <PROMQL>", "--force", "--reason <TEXT>"]
        {
            assert!(run.stdout.contains(flag), "idp {command} --help lacks {flag}:\n{}", run.stdout);
        }
        for flag in ["--dry-run", "--yes", "--push"] {
            assert!(run.stdout.contains(flag), "idp {command} --help lacks {flag}:\n{}", run.stdout);
        }
    }
    let run = env.idp(&["status", "--help"]);
    run.code(0);
    assert!(run.stdout.contains("Usage: idp status [OPTIONS] <WHAT> <TARGET> [ENVIRONMENT]"), "{}", run.stdout);
    assert!(run.stdout.contains("A product (mysql, postgres, redis, app: `idp products`), or cell"), "{}", run.stdout);
}

#[test]
fn usage_errors_exit_1_with_nothing_on_stdout() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    let cases: [(&[&str], &str); 13] = [
        (&["plan", "-f", &file, "--bogus"], "error: unexpected argument '--bogus' found"),
        (&["--bogus"], "error: unexpected argument '--bogus' found"),
        (&["plan"], "error: the following required arguments were not provided:"),
        (&["plan", "mysql"], "--file <PATH>"),
        (&["plan", "-f"], "error: a value is required for '--file <PATH>' but none was supplied"),
        (&["plan", "-f", &file, "-o", "xml"], "error: invalid value 'xml' for '--output <OUTPUT>'"),
        (&["policy", "frob"], "error: unrecognized subcommand 'frob'"),
        (&["failover", "--env", "prod"], "--cell <CELL>"),
        (&["failback", "--cell", "payments"], "--env <ENV>"),
        (
            &[
                "failover",
                "--cell",
                "payments",
                "--env",
                "prod",
                "--replication-lag",
                "3",
                "--lag-url",
                "http://127.0.0.1:9",
            ],
            "error: the argument '--replication-lag <SECONDS>' cannot be used with '--lag-url <URL>'",
        ),
        (&["failover", "--cell", "payments", "--env", "prod", "--lag-query", "up"], "--lag-url <URL>"),
        (
            &["failover", "--cell", "payments", "--env", "prod", "--replication-lag", "soon"],
            "error: invalid value 'soon' for '--replication-lag <SECONDS>'",
        ),
        (
            &["status", "kafka", "team-alpha/orders-db"],
            "unknown kind `kafka` (idp places: mysql, postgres, redis, app)",
        ),
    ];
    for (args, says) in cases {
        let run = env.idp(args);
        run.code(1);
        assert_eq!(run.stdout, "", "idp {}", run.args);
        run.stderr_says(says);
    }
}

#[test]
fn no_arguments_print_a_short_overview_of_the_workflow() {
    let env = TestEnv::new();
    let run = env.idp(&[]);
    run.code(0);
    assert_eq!(run.stderr, "");
    let order: Vec<usize> = ["idp init", "idp plan", "idp apply", "idp status", "idp failover", "idp rollback"]
        .iter()
        .map(|step| run.stdout.find(step).unwrap_or_else(|| panic!("the overview shows {step}:\n{}", run.stdout)))
        .collect();
    assert!(order.is_sorted(), "in workflow order:\n{}", run.stdout);
    assert!(run.stdout.lines().count() < 20, "short:\n{}", run.stdout);
    // Global flags without a command are still a usage error.
    env.idp(&["-q"]).code(1).stderr_says("Usage: idp [OPTIONS] <COMMAND>");
}

/// Runs idp with stdout connected to a pipe whose reading end is already closed, so its
/// first write fails with EPIPE, deterministically.
fn run_into_closed_pipe(env: &TestEnv, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().expect("create a pipe");
    drop(reader);
    let output = env
        .std_command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run idp");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_closed_pipe_ends_quietly_with_0() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    for args in [&["policy", "show"][..], &["policy", "show", "-o", "json"], &["plan", "-q", "-f", &file]] {
        let (code, stderr) = run_into_closed_pipe(&env, args);
        assert_eq!(code, 0, "idp {}: exit code; stderr:\n{stderr}", args.join(" "));
        assert!(!stderr.contains("panicked"), "idp {}: {stderr}", args.join(" "));
        assert!(!stderr.to_lowercase().contains("broken pipe"), "idp {}: {stderr}", args.join(" "));
    }
}

#[test]
fn a_closed_pipe_through_head_ends_quietly_with_0() {
    let env = TestEnv::new();
    // The shell form of the test above, as people hit it. Whether idp's write lands before
    // or after `head` exits is up to the scheduler; both must end in 0. idp's own exit
    // status is passed out on fd 3, since the pipeline's is head's.
    let script = r#"{ "$IDP" policy show 2>stderr.txt; echo $? >&3; } 3>status.txt | head -c 1 >/dev/null"#;
    let status =
        env.hermetic("sh").args(["-c", script]).env("IDP", env!("CARGO_BIN_EXE_idp")).status().expect("run sh");
    assert!(status.success());
    let code = std::fs::read_to_string(env.work_dir().join("status.txt")).unwrap();
    let stderr = std::fs::read_to_string(env.work_dir().join("stderr.txt")).unwrap();
    assert_eq!(code.trim(), "0", "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A closed stderr (`idp … 2>&1 | head -1` after head exits) has nobody to tell, and is
/// no reason to panic: an error still exits 1, a success 0, a usage error 1, whatever
/// else is written (notes, the error report, help).
#[test]
fn a_closed_stderr_never_panics() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    for (args, expected) in [
        (&["plan", "-f", "missing.yaml"][..], 1),
        (&["plan", "-f", &file][..], 0),
        (&["plan", "-f", "missing.yaml", "-o", "json"][..], 1),
        (&["plan", "--no-such-flag"][..], 1),
        (&[][..], 0),
    ] {
        let (stdout_reader, stdout_writer) = std::io::pipe().expect("create a pipe");
        let (stderr_reader, stderr_writer) = std::io::pipe().expect("create a pipe");
        drop((stdout_reader, stderr_reader));
        let status = env
            .std_command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout_writer)
            .stderr(stderr_writer)
            .status()
            .expect("run idp");
        assert_eq!(status.code(), Some(expected), "idp {} with stdout and stderr closed", args.join(" "));
    }
}

/// A full disk is not a closed pipe: the result was lost, so the command failed.
#[cfg(target_os = "linux")]
#[test]
fn a_stdout_write_error_other_than_a_closed_pipe_exits_1() {
    let env = TestEnv::new();
    let file = env.fixture("orders-db.yaml");
    for args in [&["plan", "-f", &file, "-o", "json"][..], &["policy", "show"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("open /dev/full");
        let output = env.std_command().args(args).stdout(full).output().expect("run idp");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(output.status.code(), Some(1), "idp {} > /dev/full: stderr:\n{stderr}", args.join(" "));
    }
}

#[test]
fn colour_is_off_with_no_color_and_never_in_json() {
    let env = TestEnv::new();
    let bad = env.write("req.yaml", crate::common::request_with("tier: medium", "tier: meduim"));
    // NO_COLOR is set by TestEnv: no escapes in the report.
    let run = env.idp(&["plan", "-f", &bad]);
    run.code(1);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    // --color always colours the report, but JSON on stdout stays plain.
    let run = env.idp(&["plan", "-f", &bad, "-o", "json", "--color", "always"]);
    run.code(1);
    assert!(!run.stdout.contains('\x1b'), "{:?}", run.stdout);
    run.json();
    let orders = env.fixture("orders-db.yaml");
    let run = env.idp(&["plan", "-f", &orders, "-o", "json", "--color", "always"]);
    run.code(0);
    assert!(!run.stdout.contains('\x1b'), "{:?}", run.stdout);
}

/// `-q` means the result line only: no plan tables before "committed", no notes.
#[test]
fn quiet_apply_prints_the_result_line_only() {
    let env = TestEnv::new();
    env.init_state("state");
    let file = env.fixture("orders-db.yaml");
    let run = env.idp(&["apply", "-f", &file, "--repo", "state", "--yes", "-q"]);
    run.code(0);
    let head = env.git(&["-C", "state", "rev-parse", "HEAD"]);
    assert_eq!(run.stdout, format!("committed {}\n", head.trim()));
    assert_eq!(run.stderr, "");
    let again = env.idp(&["apply", "-f", &file, "--repo", "state", "--yes", "-q"]);
    assert_eq!(again.code(0).stdout, "nothing to commit: the state repo already holds this\n");
}

/// Shell completion of a target offers what fits the kind typed before it:
/// `status mysql <TAB>` databases, `delete app <TAB>` apps, `status cell <TAB>` cells.
#[test]
fn completion_of_a_target_follows_the_kind_typed() {
    let env = TestEnv::new();
    env.init_state("state");
    let database = env.example("payments-c0.json");
    env.idp(&["apply", "mysql", "-f", &database, "--repo", "state", "--yes"]).code(0);
    let app = env.example("payments-app.yaml");
    env.idp(&["apply", "-f", &app, "--repo", "state", "--yes"]).code(0);
    let complete = |words: &[&str]| -> Vec<String> {
        let mut command = env.std_command();
        command.env("IDP_COMPLETE", "fish").env("IDP_REPO", "state").args(["--", "idp"]).args(words).arg("");
        let output = command.output().expect("run idp");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| !l.starts_with('-'))
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(complete(&["status", "mysql"]), ["team-payments/payments-db"]);
    assert_eq!(complete(&["status", "app"]), ["team-payments/checkout"]);
    assert_eq!(complete(&["delete", "app"]), ["team-payments/checkout"]);
    assert_eq!(complete(&["status", "cell"]), ["cell-us-east", "cell-eu", "payments"]);
    // A migration's target, and whom to migrate: the policy's candidates, the placed databases.
    assert_eq!(complete(&["migrate", "mysql"]), ["team-payments/payments-db"]);
    let to = complete(&["migrate", "mysql", "team-payments/payments-db", "--to"]);
    assert_eq!(to.len(), 7, "{to:?}");
    assert!(to.contains(&"oci/us-ashburn-1".to_owned()), "{to:?}");
}

/// build.rs links the binary position-dependent on Linux: a PIE spent ~100
/// of a plan's ~430 page faults relocating `.data.rel.ro` before `main`.
/// This reads the ELF header's `e_type` (2 = EXEC, 3 = DYN, a PIE); it
/// cannot tell whether the kernel mapped the pages lazily, only that the
/// link was not a PIE, as `readelf -h` would.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_is_linked_at_a_fixed_address_on_linux() {
    use std::io::Read;
    let mut header = [0u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_idp"))
        .and_then(|mut f| f.read_exact(&mut header))
        .expect("read idp's ELF header");
    assert_eq!(&header[..4], b"\x7fELF");
    let e_type = u16::from_le_bytes([header[16], header[17]]);
    let pie_asked = std::env::var_os("IDP_PIE").is_some_and(|pie| pie == "1");
    assert_eq!(e_type, if pie_asked { 3 } else { 2 }, "e_type {e_type}: see build.rs");
}
