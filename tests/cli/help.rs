//! Every command's `--help`, snapshotted so that changes to it are reviewed:
//! each has a one-line summary, a longer description and real examples.

use clap::CommandFactory;

use crate::common::TestEnv;

/// `["plan"]`, `["policy", "show"]`, ...: every command and subcommand.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    // Built, so that deferred subcommands (`idp policy show`) are listed too.
    let mut cmd = idp::cli::Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &[], &mut out);
    out
}

#[test]
fn every_help_teaches_summary_description_and_examples() {
    let env = TestEnv::new();
    let top = env.idp(&["--help"]);
    top.code(0);
    insta::assert_snapshot!("help_idp", top.stdout);
    for path in command_paths() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = env.idp(&args);
        run.code(0);
        let name = path.join(" ");
        let help = &run.stdout;
        assert!(help.lines().next().is_some_and(|l| !l.is_empty() && l.len() < 100), "idp {name}: a one-line summary");
        let before_usage = help.split("\nUsage:").next().unwrap_or_default();
        assert!(before_usage.trim().contains("\n\n"), "idp {name} --help: a longer description after the summary");
        // Every page teaches by example, groups (`idp policy`) too.
        assert!(help.contains("Examples:\n  idp "), "idp {name} --help has examples");
        let examples = help.split("Examples:\n").nth(1).unwrap_or_default();
        let count = examples.lines().filter(|l| l.starts_with("  idp ")).count();
        assert!((2..=4).contains(&count), "idp {name}: two or three examples, found {count}");
        // The flags every command takes have their own section after the command's
        // (as kubectl and gh show them), and an unset variable shows no `=`.
        let (own, global) = help.split_once("\nGlobal options:\n").unwrap_or_else(|| panic!("idp {name}: {help}"));
        assert!(global.contains("--repo <PATH>") && !own.contains("--repo <PATH>"), "idp {name}:\n{help}");
        assert!(!help.contains("IDP_REPO="), "idp {name}:\n{help}");
        insta::assert_snapshot!(format!("help_{}", path.join("_")), help);
    }
}
