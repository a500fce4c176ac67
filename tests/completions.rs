//! Generated files checked into the project must be what the code generates
//! today: a stale completion script completes flags that no longer exist, a
//! stale man page documents them. Regenerate both with
//! `IDP_REGENERATE=1 cargo test --test completions`.

use clap::CommandFactory;

/// The command-line tests' sandbox (temp dir, cleared environment, the built idp).
#[path = "cli/common/sandbox.rs"]
mod sandbox;

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
        assert!(script.contains("IDP_COMPLETE"), "{shell}: the script calls back into idp");
        check(&dir.join(format!("idp.{shell}")), script.as_bytes(), &mut stale);
    }
    assert!(stale.is_empty(), "stale: {stale:?}; regenerate (see the top of tests/completions.rs)");
}

/// One page per command and subcommand: `idp.1`, `idp-plan.1`, `idp-policy-show.1`.
fn man_pages() -> Vec<(String, Vec<u8>)> {
    fn walk(cmd: &clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) {
        // clap names are `&'static str` without its `string` feature; a test may leak.
        let page = cmd.clone().name(name.to_owned().leak() as &str).bin_name(name.replace('-', " "));
        let mut out = Vec::new();
        clap_mangen::Man::new(page).render(&mut out).expect("render a man page into memory");
        pages.push((format!("{name}.1"), out));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            walk(sub, &format!("{name}-{}", sub.get_name()), pages);
        }
    }
    let mut cmd = idp::cli::Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    walk(&cmd, "idp", &mut pages);
    pages
}

#[test]
fn checked_in_man_pages_are_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let pages = man_pages();
    let mut stale = Vec::new();
    for (file, page) in &pages {
        check(&dir.join(file), page, &mut stale);
    }
    // A page of a command that no longer exists is stale too.
    let expected: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
    for entry in std::fs::read_dir(&dir).expect("docs/man exists").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".1") && !expected.contains(&name.as_str()) {
            if regenerate() {
                std::fs::remove_file(entry.path()).unwrap();
            } else {
                stale.push(format!("{name} (no such command)"));
            }
        }
    }
    assert!(stale.is_empty(), "stale: {stale:?}; regenerate (see the top of tests/completions.rs)");
    assert!(pages.iter().any(|(f, _)| f == "idp-policy-explain.1"), "subcommands get pages");
}

/// The checked-in bash script, sourced by a real bash, completes cells from
/// the policy and `namespace/name` from the state repo by calling idp back.
#[test]
fn bash_completes_values_from_the_policy_and_the_state_repo() {
    if std::process::Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash on PATH");
        return;
    }
    let env = sandbox::TestEnv::new();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_idp")).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let request = env.example("orders-db.yaml");
    env.idp(&["init", "state"]).code(0);
    env.idp(&["apply", "-f", &request, "--repo", "state", "--yes"]).code(0);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/idp.bash");
    let complete = |words: &str| -> Vec<String> {
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _clap_complete_idp idp \"${{COMP_WORDS[COMP_CWORD]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = env
            .hermetic("bash")
            .args(["--norc", "-c", &program])
            .env("PATH", &path)
            .env("IDP_REPO", env.path("state"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    };
    assert_eq!(complete("idp failover --cell ''"), ["cell-us-east", "cell-eu", "payments"]);
    assert_eq!(complete("idp delete mysql team"), ["team-alpha/orders-db"]);
    assert!(complete("idp policy explain ''").contains(&"business_critical".to_owned()));
    assert!(complete("idp pl").contains(&"plan".to_owned()));
}
