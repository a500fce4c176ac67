//! The namespaces a team's claims live in on the management cluster: Argo
//! CD creates none for the objects of the root Application, so idp writes
//! one Namespace manifest per namespace with its first database, syncing in
//! the first wave, never pruned or deleted by Argo CD, and never removed by
//! idp. Read back with the git CLI.
//!
//! What this cannot prove offline: Argo CD's ordering (namespaces first in
//! a wave, gitops-engine `pkg/sync/doc.go`) and that `Prune=false,Delete=false`
//! keep it (gitops-engine `pkg/sync/common/types.go`, argo-cd
//! `controller/appcontroller.go` `shouldBeDeleted`); no cluster runs here.

use crate::common::{TestEnv, edit};

const STATE: &str = "state";
const NAMESPACE_FILE: &str = "platform/team-alpha/namespace.yaml";

/// The example orders-db in staging (deletable in one commit), and a copy named `name`.
fn database(env: &TestEnv, name: &str) -> String {
    let production = env.read(&env.example("orders-db.yaml"));
    let staging = edit(&production, "environment: production", "environment: staging");
    env.write(&format!("{name}.yaml"), edit(&staging, "name: orders-db", &format!("name: {name}")))
}

fn changed_in_head(env: &TestEnv) -> Vec<String> {
    env.git_in(STATE, &["show", "--name-only", "--format=", "HEAD"]).lines().map(str::to_owned).collect()
}

#[test]
fn the_first_database_of_a_namespace_writes_its_namespace_once_and_it_outlives_them() {
    let env = TestEnv::new();
    env.init_state(STATE);
    // Two databases of one namespace in one plan: one Namespace file.
    let (a, b) = (database(&env, "a-db"), database(&env, "b-db"));
    env.idp(&["apply", "-f", &a, "-f", &b, "--yes", "--repo", STATE]).code(0);
    assert_eq!(changed_in_head(&env).iter().filter(|p| *p == NAMESPACE_FILE).count(), 1);
    let manifest = env.git_in(STATE, &["show", &format!("HEAD:{NAMESPACE_FILE}")]);
    for line in [
        "kind: Namespace",
        "  name: \"team-alpha\"",
        "    argocd.argoproj.io/sync-wave: \"-2\"",
        "    argocd.argoproj.io/sync-options: \"Prune=false,Delete=false\"",
    ] {
        assert!(manifest.lines().any(|l| l == line), "{line} in\n{manifest}");
    }

    // A third database leaves it alone; deleting them all keeps it.
    let c = database(&env, "c-db");
    env.idp(&["apply", "-f", &c, "--yes", "--repo", STATE]).code(0);
    assert!(!changed_in_head(&env).contains(&NAMESPACE_FILE.to_owned()));
    for name in ["a-db", "b-db", "c-db"] {
        let id = format!("team-alpha/{name}");
        env.idp(&["delete", "mysql", &id, "--yes", "--allow-destroy", "--repo", STATE]).code(0);
    }
    assert_eq!(env.git_in(STATE, &["show", &format!("HEAD:{NAMESPACE_FILE}")]), manifest);
    env.idp(&["verify", "--repo", STATE]).code(0);
}

#[test]
fn a_repo_without_the_namespace_is_reported_and_the_next_apply_writes_it() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let a = database(&env, "a-db");
    env.idp(&["apply", "-f", &a, "--yes", "--repo", STATE]).code(0);
    // As a repo written before idp wrote namespaces.
    env.set_identity(STATE);
    env.git_in(STATE, &["rm", "-q", NAMESPACE_FILE]);
    env.git_in(STATE, &["commit", "-q", "-m", "as written by an older idp"]);

    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let findings = run.json()["findings"].clone();
    assert_eq!(findings[0]["file"], NAMESPACE_FILE, "{findings:#}");
    assert!(findings[0]["message"].as_str().unwrap().contains("cannot sync without it"), "{findings:#}");

    env.idp(&["apply", "-f", &a, "--yes", "--repo", STATE]).code(0);
    assert_eq!(changed_in_head(&env), [NAMESPACE_FILE]);
    env.idp(&["verify", "--repo", STATE]).code(0);
}
