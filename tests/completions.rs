//! Generated files checked into the project must be what the code generates
//! today. Regenerate them with `IDP_REGENERATE=1 cargo test --test completions`.

fn regenerate() -> bool {
    std::env::var_os("IDP_REGENERATE").is_some_and(|v| v == "1")
}

/// Compares (or, with IDP_REGENERATE=1, writes) one generated file.
fn check(path: &std::path::Path, generated: &[u8], stale: &mut Vec<String>) {
    if regenerate() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, generated).unwrap();
    } else if std::fs::read(path).unwrap_or_default() != generated {
        stale.push(path.display().to_string());
    }
}

#[test]
fn checked_in_completion_scripts_are_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut stale = Vec::new();
    for shell in idp::cli::completions::SHELLS {
        let script = idp::cli::completions::script(shell);
        assert!(script.contains("COMPLETE"), "{shell}: the script calls back into idp");
        check(&dir.join(format!("idp.{shell}")), script.as_bytes(), &mut stale);
    }
    assert!(stale.is_empty(), "stale: {stale:?}; regenerate (see the top of tests/completions.rs)");
}

/// The checked-in bash script, sourced by a real bash, completes cells from
/// the policy and `namespace/name` from the state repo by calling idp back.
#[test]
fn bash_completes_values_from_the_policy_and_the_state_repo() {
    if std::process::Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash on PATH");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_idp")).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let idp = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
            .args(args)
            .current_dir(root.path())
            .env("HOME", root.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "idp {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let request = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orders-db.yaml");
    idp(&["init", "state"]);
    idp(&["apply", "-f", request.to_str().unwrap(), "--repo", "state", "--yes"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/idp.bash");
    let complete = |words: &str| -> Vec<String> {
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _clap_complete_idp idp \"${{COMP_WORDS[COMP_CWORD]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .current_dir(root.path())
            .env("PATH", &path)
            .env("HOME", root.path())
            .env("IDP_REPO", root.path().join("state"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    };
    assert_eq!(complete("idp failover --cell ''"), ["cell-us-east", "cell-eu", "payments"]);
    assert_eq!(complete("idp delete mysql team"), ["team-alpha/orders-db"]);
    assert!(complete("idp policy explain ''").contains(&"business_critical".to_owned()));
    assert!(complete("idp pl").contains(&"plan".to_owned()));
}
