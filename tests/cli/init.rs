//! `idp init`'s questions have flags, and without a terminal it asks nothing.

use crate::common::{TestEnv, yaml_documents};

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

/// The example URL the shipped policy and bootstrap name, which `--gitops-url` replaces.
const EXAMPLE_URL: &str = "https://git.example.org/platform/idp-state.git";

/// The one document of a file at HEAD of the state repo, read by serde-saphyr.
fn at_head(env: &TestEnv, path: &str) -> serde_json::Value {
    yaml_documents(&env.git(&["-C", "state", "show", &format!("HEAD:{path}")])).remove(0)
}

/// `--gitops-url` puts the URL everywhere Argo CD reads the state repo from, in the first
/// commit: the policy's gitops.repoURL, the bootstrap AppProject and root Application
/// (three files docs/bootstrap.md used to `sed`), and from the policy every cell's
/// Application an apply writes. The example URL is left nowhere. Each form Argo CD reads.
#[test]
fn gitops_url_is_written_everywhere_argo_cd_reads_it_in_the_first_commit() {
    for url in [
        "https://github.com/acme/idp-state.git",
        "ssh://git@git.acme.example:2222/platform/idp-state.git",
        "git@github.com:acme/idp-state.git",
    ] {
        let env = TestEnv::new();
        env.idp(&["init", "state", "--gitops-url", url]).code(0);
        env.set_identity("state");
        assert_eq!(env.git(&["-C", "state", "rev-list", "--count", "HEAD"]).trim(), "1", "{url}: one commit");
        assert_eq!(at_head(&env, "policy/policy.yaml")["gitops"]["repoURL"], url);
        assert_eq!(at_head(&env, "bootstrap/argocd/appproject.yaml")["spec"]["sourceRepos"], serde_json::json!([url]));
        assert_eq!(at_head(&env, "bootstrap/argocd/root-application.yaml")["spec"]["source"]["repoURL"], url);
        let shown = env.idp(&["policy", "show", "--repo", "state", "-o", "json"]).code(0).json();
        assert_eq!(shown["policy"]["gitops"]["repoURL"], url);
        env.idp(&["policy", "validate", "state/policy/policy.yaml"]).code(0);

        let request = env.fixture("orders-db.yaml");
        env.idp(&["apply", "-f", &request, "--repo", "state", "--yes"]).code(0);
        let cell = at_head(&env, "argocd/cells/cell-us-east/production.yaml");
        assert_eq!(cell["spec"]["source"]["repoURL"], url);
        let example = env.git_output(&["-C", "state", "grep", "-l", EXAMPLE_URL, "HEAD"]);
        assert!(
            example.stdout.is_empty(),
            "{url}: the example URL is left in {}",
            String::from_utf8_lossy(&example.stdout)
        );
    }
}

/// A URL Argo CD cannot read the state repo from, or one that would put a credential into
/// Git, is refused before anything is created, saying why and what to give instead; a
/// password or token never reaches the output.
#[test]
fn a_gitops_url_argo_cd_cannot_use_or_holding_credentials_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let cases = [
        ("https://alice:hunter2@github.com/acme/state.git", "holds a password", "hunter2"),
        (
            "https://ghp_T0KEN123@github.com/acme/state.git",
            "holds a user name, which over https is a token",
            "ghp_T0KEN123",
        ),
        ("alice:hunter2@github.com:acme/state.git", "holds a password", "hunter2"),
        ("ssh://git:hunter2@github.com/acme/state.git", "holds a password", "hunter2"),
        ("http://git.acme.example/state.git", "uses http://, not https or ssh", ""),
        ("file:///srv/git/state.git", "uses file://, not https or ssh", ""),
        ("git://git.acme.example/state.git", "uses git://, not https or ssh", ""),
        ("./state.git", "is a local path, which Argo CD (in the cluster) cannot read", ""),
        ("/srv/git/state.git", "is a local path", ""),
        ("https://github.com", "needs a host and a repository path", ""),
        ("git@github.com:", "needs a host and a repository path", ""),
        ("https://github.com/acme/{{ x }}.git", "is not a plain URL", ""),
        ("https://github.com/acme/state.git\nx: 1", "is not a plain URL", ""),
    ];
    for (url, says, secret) in cases {
        for output in ["table", "json"] {
            let run = env.idp(&["init", "state", "--gitops-url", url, "-o", output]);
            run.code(1);
            if output == "json" {
                assert_eq!(run.json()["error"]["code"], "idp::init::gitops_url", "{url}");
            }
            run.stderr_says(says);
            if output == "table" {
                // What to give instead: the forms, or where the credentials go.
                run.stderr_says(if secret.is_empty() { "https://host/org/repo.git" } else { "repository Secret" });
            }
            if !secret.is_empty() {
                assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret), "{url}: the secret is shown");
            }
            assert!(!env.path("state").exists(), "{url}: nothing is created");
        }
    }
}

/// Adopting a repo (`--force`) keeps its files: `--gitops-url` is refused when a kept
/// file names another URL (nothing written), and without the flag a bootstrap file init
/// writes again names the kept policy's URL, not the example.
#[test]
fn init_force_keeps_the_policys_url_and_refuses_another() {
    let env = TestEnv::new();
    let ours = "https://github.com/acme/idp-state.git";
    env.idp(&["init", "state", "--gitops-url", ours]).code(0);
    env.set_identity("state");
    env.git(&["-C", "state", "rm", "-q", "bootstrap/argocd/root-application.yaml"]);
    env.git(&["-C", "state", "commit", "-qm", "drop the old root"]);
    let head = env.git(&["-C", "state", "rev-parse", "HEAD"]);

    let run = env.idp(&["init", "state", "--force", "--gitops-url", "git@github.com:acme/other.git"]);
    run.code(1).stderr_says("is not the one policy/policy.yaml names, which --force keeps as it is");
    assert_eq!(env.git(&["-C", "state", "rev-parse", "HEAD"]), head);
    assert!(!env.path("state/bootstrap/argocd/root-application.yaml").exists());

    env.idp(&["init", "state", "--force"]).code(0);
    assert_eq!(at_head(&env, "bootstrap/argocd/root-application.yaml")["spec"]["source"]["repoURL"], ours);
}

/// The `next:` hint of `idp init` works where idp is installed, not only in its source
/// tree: the work dir holds no examples/, and the request it shows, saved as it says,
/// applies with the command it gives.
#[test]
fn the_next_hint_works_outside_the_source_checkout() {
    let env = TestEnv::new();
    let run = env.idp(&["init", "state"]);
    run.code(0);
    env.set_identity("state");
    assert!(!run.stdout.contains("examples/"), "{}", run.stdout);
    let hint: Vec<&str> = run.stdout.lines().skip_while(|line| !line.starts_with("next:")).skip(1).collect();
    let request: String =
        hint.iter().take_while(|line| !line.is_empty()).map(|line| format!("{}\n", &line[2..])).collect();
    assert!(run.stdout.contains("save a request as orders-db.yaml"), "{}", run.stdout);
    env.write("orders-db.yaml", request);
    let command = hint.iter().find(|line| line.starts_with("  idp ")).expect("a command in the hint");
    let args: Vec<&str> = command.split_whitespace().skip(1).chain(["--yes"]).collect();
    env.idp(&args).code(0);
    let placed = env.git(&["-C", "state", "show", "HEAD:requests/team-alpha/mysql-orders-db.yaml"]);
    assert!(placed.contains("name: orders-db"), "{placed}");
}
