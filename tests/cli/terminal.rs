//! idp in a real terminal: a pseudo-terminal from util-linux `script`, with the
//! answers typed a moment after the command starts (as a person does). What these
//! cannot prove: what a terminal emulator finally shows (the raw byte stream is
//! checked, not a rendered screen), and terminals other than the pty's defaults.

use std::process::Stdio;

use crate::common::TestEnv;

const STATE_DIR: &str = "state";

/// `'…'` for sh, a `'` inside written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs idp on a pty; `input` is typed after `delay_ms`. (exit code, everything the
/// terminal received). None where `script` is missing (said so).
fn in_terminal(env: &TestEnv, args: &[&str], input: &str, delay_ms: u64) -> Option<(i32, String)> {
    let idp = std::iter::once(env!("CARGO_BIN_EXE_idp")).chain(args.iter().copied());
    let command: Vec<String> = idp.map(shell_quote).collect();
    let typing = format!("sleep {}; printf %s {}", delay_ms as f64 / 1000.0, shell_quote(input));
    let script = format!("({typing}) | script -q -e -c {} /dev/null", shell_quote(&command.join(" ")));
    let output = env.hermetic("sh").args(["-c", &script]).stdin(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if text.contains("script: not found") || String::from_utf8_lossy(&output.stderr).contains("not found") {
        eprintln!("SKIPPED: no util-linux `script` for a pseudo-terminal");
        return None;
    }
    Some((output.status.code().unwrap_or(-1), text))
}

/// indicatif's default spinner frames.
const SPINNER: &[char] = &['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];

/// The confirmation is on screen, with no progress line ticking over it while the
/// person reads and types; yes commits, anything else cancels with exit 1.
#[test]
fn the_confirmation_is_never_drawn_over_and_declining_exits_1() {
    let env = TestEnv::new();
    env.init_state(STATE_DIR);
    let request = env.fixture("orders-db.yaml");
    let head = env.git(&["-C", STATE_DIR, "rev-parse", "HEAD"]);
    let args = ["apply", "-f", &request, "--repo", STATE_DIR];

    let Some((code, screen)) = in_terminal(&env, &args, "n\n", 1500) else { return };
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("Commit 8 file changes to the state repo?"), "{screen}");
    assert!(screen.contains("cancelled: nothing written"), "{screen}");
    assert!(!screen.contains(SPINNER), "a progress line ticked while the question was on screen:\n{screen:?}");
    assert_eq!(env.git(&["-C", STATE_DIR, "rev-parse", "HEAD"]), head);

    let Some((code, screen)) = in_terminal(&env, &args, "y\n", 1500) else { return };
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains(SPINNER), "{screen:?}");
    assert_ne!(env.git(&["-C", STATE_DIR, "rev-parse", "HEAD"]), head);
}

/// The failover question asks for the cell's name "to fail it over", and the name
/// typed stays on screen.
#[test]
fn the_failover_question_is_worded_and_kept_on_screen() {
    let env = TestEnv::new();
    env.init_state(STATE_DIR);
    let database = env.example("payments-c0.json");
    env.idp(&["apply", "mysql", "-f", &database, "--repo", STATE_DIR, "--yes"]).code(0);
    let app = env.example("payments-app.yaml");
    env.idp(&["apply", "-f", &app, "--repo", STATE_DIR, "--yes"]).code(0);
    let args =
        ["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "2", "--repo", STATE_DIR];
    let Some((code, screen)) = in_terminal(&env, &args, "payments\n", 1500) else { return };
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Type the cell name (payments) to fail it over"), "{screen}");
    assert!(screen.contains("payments\r\n") || screen.contains("payments\n"), "the typed name is shown:\n{screen:?}");
    assert!(!screen.contains(SPINNER), "{screen:?}");
}

/// Errors are wrapped to the terminal's width on a terminal only: in a pipe (a CI log)
/// each message stays on one line for `grep` (the report snapshots hold that side).
#[test]
fn errors_are_wrapped_on_a_terminal_only() {
    let env = TestEnv::new();
    let bad = env.write("bad.yaml", crate::common::request_with("tier: medium", "tier: meduim"));
    let Some((code, screen)) = in_terminal(&env, &["plan", "-f", &bad, "--color", "never"], "", 0) else { return };
    assert_eq!(code, 1, "{screen}");
    let help = screen.lines().find(|l| l.trim_start().starts_with("help: did you mean")).expect("the help line");
    assert!(help.trim_end().len() <= 80, "wrapped on a terminal:\n{screen}");

    let run = env.idp(&["plan", "-f", &bad, "--color", "never"]);
    run.code(1);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("did you mean `medium`? valid values in the policy in force: low, medium")),
        "one line in a pipe:\n{}",
        run.stderr
    );
}

/// Before asking, `idp rollback` says exactly which commits it will revert (each one,
/// by id and title) and what that changes.
#[test]
fn rollback_names_every_commit_it_reverts_before_asking() {
    let env = TestEnv::new();
    env.init_state(STATE_DIR);
    let mut titles = Vec::new();
    for name in ["first-db", "second-db"] {
        let text = crate::common::request_with("environment: production", "environment: staging");
        let file = env.write(&format!("{name}.yaml"), text.replace("name: orders-db", &format!("name: {name}")));
        env.idp(&["apply", "-f", &file, "--repo", STATE_DIR, "--yes"]).code(0);
        titles.push(env.git(&["-C", STATE_DIR, "log", "-1", "--format=%h %s"]).trim().to_owned());
    }
    let head = env.git(&["-C", STATE_DIR, "rev-parse", "HEAD"]);
    let args = ["rollback", "--steps", "2", "--allow-destroy", "--repo", STATE_DIR];
    let Some((code, screen)) = in_terminal(&env, &args, "n\n", 1000) else { return };
    assert_eq!(code, 1, "{screen}");
    let question = screen.find("Commit this revert?").unwrap_or_else(|| panic!("{screen}"));
    for title in titles.iter().rev() {
        let (short, subject) = title.split_once(' ').unwrap();
        let at = screen.find(subject).unwrap_or_else(|| panic!("{title} is not named:\n{screen}"));
        assert!(at < question && screen[..question].contains(short), "{title} named before the question:\n{screen}");
    }
    assert_eq!(env.git(&["-C", STATE_DIR, "rev-parse", "HEAD"]), head);
}
