//! `idp init`'s questions have flags, and without a terminal it asks nothing.

use crate::common::TestEnv;

#[test]
fn traffic_provider_sets_the_policy_default() {
    let env = TestEnv::new();
    env.idp(&["init", "state", "--traffic-provider", "route53"]).code(0);
    let policy = env.git(&["-C", "state", "show", "HEAD:policy/policy.yaml"]);
    assert!(policy.contains("\n  defaultProvider: route53\n"), "{policy}");
    let shown = env.idp(&["policy", "show", "--repo", "state", "-o", "json"]).code(0).json();
    assert_eq!(shown["policy"]["traffic"]["defaultProvider"], "route53");
}

#[test]
fn an_unknown_traffic_provider_lists_the_valid_ones_and_writes_nothing() {
    let env = TestEnv::new();
    let run = env.idp(&["init", "state", "--traffic-provider", "bind9"]);
    run.code(1);
    run.stderr_says("unknown traffic provider `bind9`");
    run.stderr_says("oci-dns, route53, cloudflare");
    assert!(!env.work_dir().join("state").exists());
}

#[test]
fn without_a_terminal_init_needs_the_directory() {
    let env = TestEnv::new();
    let run = env.idp_stdin(&["init", "-o", "json"], "./state\n");
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "idp::init::no_dir");
    assert!(!env.work_dir().join("state").exists());
}

/// Without a git identity idp refuses to commit, as git does (a commit by nobody in
/// particular is no audit record), and says how to set one; `--author` and
/// `IDP_AUTHOR` name one for CI. Before, idp committed as `idp <idp@localhost>`.
#[test]
fn without_a_git_identity_nothing_is_committed_unless_an_author_is_given() {
    let env = TestEnv::new();
    let anonymous = |args: &[&str], author: Option<&str>| {
        let mut command = env.anonymous_command();
        if let Some(author) = author {
            command.env("IDP_AUTHOR", author);
        }
        crate::common::Run::of(args, &command.args(args).output().expect("run idp"))
    };
    let run = anonymous(&["init", "state", "-o", "json"], None);
    run.code(1);
    assert_eq!(run.json()["error"]["code"], "idp::state::no_identity");
    run.stderr_says("git config --global user.name");
    assert!(!env.work_dir().join("state").exists(), "a refused init leaves nothing behind");

    anonymous(&["init", "state", "--author", "Platform CI <ci@example.org>"], None).code(0);
    let author = |rev: &str| env.git(&["-C", "state", "log", "-1", "--format=%an <%ae>|%cn <%ce>", rev]);
    assert_eq!(author("HEAD").trim(), "Platform CI <ci@example.org>|Platform CI <ci@example.org>");

    let request = env.fixture("orders-db.yaml");
    let head = env.git(&["-C", "state", "rev-parse", "HEAD"]);
    anonymous(&["apply", "-f", &request, "--repo", "state", "--yes"], None).code(1).stderr_says("no identity");
    assert_eq!(env.git(&["-C", "state", "rev-parse", "HEAD"]), head);
    anonymous(&["apply", "-f", &request, "--repo", "state", "--yes"], Some("Release Bot <bot@example.org>")).code(0);
    assert_eq!(author("HEAD").trim(), "Release Bot <bot@example.org>|Release Bot <bot@example.org>");

    for bad in ["nobody", "Name <>", "<a@b>", "Name <a@b", "Name <no-at-sign>"] {
        let run = anonymous(&["plan", "-f", &request, "--author", bad], None);
        run.code(1);
        run.stderr_says("is not `Name <email>`");
    }
}
