//! One Argo CD Application per cell and environment (issue 18, item 9): the root
//! Application applies `argocd/`, where idp writes each cell's Application (with the cell's
//! first request, never removed) and the team namespaces' one; each cell's Application syncs
//! the files of that cell's requests, which are named `<cell>.<env>.<what>.yaml` so that one
//! `directory.include` glob selects them. Read back with the git CLI.
//!
//! What this cannot prove offline: how Argo CD's repo server walks `platform/` and matches
//! `directory.include` is emulated here from its source (argo-cd
//! reposerver/repository/repository.go `getPotentiallyValidManifestFile`: the pattern is
//! matched against the path relative to `source.path`, by util/glob/glob.go compiled without
//! separators, so `*` crosses `/`), not run; nor are the sync waves inside each cell's
//! Application (gitops-engine), or Argo CD's refusal to prune a cell down to nothing.

use serde_json::Value;

use crate::common::{TestEnv, crate_dir, edit, lines, yaml_documents};
use crate::crd_schema;

const STATE: &str = "state";
const ORDERS_PRIMARY: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.staging.primary.yaml";
const ORDERS_LEGACY: &str = "platform/team-alpha/mysql-orders-db/primary.yaml";
const ORDERS_CELL: &str = "argocd/cells/cell-us-east/staging.yaml";
const ROOT: &str = "bootstrap/argocd/root-application.yaml";

/// Argo CD's `directory.include` match: gobwas/glob without separators, for the `*` and
/// `{a,b}` the Applications idp writes use.
fn glob(pattern: &str, text: &str) -> bool {
    if let Some(open) = pattern.find('{') {
        let close = open + pattern[open..].find('}').expect("a closed alternative");
        return pattern[open + 1..close]
            .split(',')
            .any(|choice| glob(&format!("{}{choice}{}", &pattern[..open], &pattern[close + 1..]), text));
    }
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            text.starts_with(head)
                && (head.len()..=text.len()).any(|i| text.is_char_boundary(i) && glob(rest, &text[i..]))
        }
    }
}

fn show(env: &TestEnv, path: &str) -> String {
    env.git_in(STATE, &["show", &format!("HEAD:{path}")])
}

fn files(env: &TestEnv, dir: &str) -> Vec<String> {
    lines(&env.git_in(STATE, &["ls-tree", "-r", "--name-only", "HEAD", dir]))
}

/// orders-db in staging (deletable in one commit).
fn orders(env: &TestEnv) -> String {
    let production = env.read(&env.example("orders-db.yaml"));
    env.write("orders-db.yaml", edit(&production, "environment: production", "environment: staging"))
}

fn verify(env: &TestEnv) -> (i32, Vec<(String, String, String)>) {
    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    let findings = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let field = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (field("severity"), field("file"), field("message"))
        })
        .collect();
    (run.code, findings)
}

fn commit_all(env: &TestEnv, message: &str) {
    env.set_identity(STATE);
    env.git_in(STATE, &["add", "-A"]);
    env.git_in(STATE, &["commit", "-q", "-m", message]);
}

#[test]
fn every_platform_file_is_synced_by_exactly_one_application_the_root_applies() {
    let env = TestEnv::new();
    env.init_state(STATE);
    // A second environment of cell-us-east: its Application must not take staging's files.
    let production =
        env.write("ledger-db.yaml", edit(&env.read(&env.example("orders-db.yaml")), "orders-db", "ledger-db"));
    let (orders, analytics) = (orders(&env), env.example("analytics-db.yaml"));
    env.idp(&["apply", "-f", &orders, "-f", &analytics, "-f", &production, "--yes", "--repo", STATE]).code(0);
    env.idp(&["apply", "mysql", "-f", &env.example("payments-c0.json"), "--yes", "--repo", STATE]).code(0);
    env.idp(&["apply", "-f", &env.example("payments-app.yaml"), "--yes", "--repo", STATE]).code(0);

    let root = &yaml_documents(&show(&env, ROOT))[0];
    assert_eq!(root["spec"]["source"]["path"], "argocd");
    let crd_path = crate_dir().join("tests/fixtures/crds/argo-cd/application-crd.yaml");
    let crd = yaml_documents(&std::fs::read_to_string(crd_path).unwrap()).remove(0);
    let applications: Vec<Value> = files(&env, "argocd").iter().flat_map(|f| yaml_documents(&show(&env, f))).collect();
    let names: Vec<&str> = applications.iter().map(|a| a["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "cell--cell-eu--dev",
            "cell--cell-us-east--production",
            "cell--cell-us-east--staging",
            "cell--payments--production",
            "idp-namespaces"
        ]
    );
    for application in &applications {
        let problems = crd_schema::validate_against_crd(&crd, application);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(application["spec"]["project"], root["spec"]["project"]);
        assert_eq!(application["spec"]["source"]["repoURL"], root["spec"]["source"]["repoURL"]);
        assert_eq!(application["spec"]["source"]["path"], "platform");
        assert_eq!(application["spec"]["destination"]["server"], "https://kubernetes.default.svc");
        assert!(application["metadata"].get("finalizers").is_none(), "deleting it must not delete databases");
    }

    // Every file under platform/ is selected by exactly one of them, and a cell's
    // Application selects only objects labelled with its cell and environment.
    let platform = files(&env, "platform");
    assert!(platform.len() > 10, "{platform:?}");
    for path in &platform {
        let relative = path.strip_prefix("platform/").unwrap();
        let selecting: Vec<&Value> = applications
            .iter()
            .filter(|a| glob(a["spec"]["source"]["directory"]["include"].as_str().unwrap(), relative))
            .collect();
        assert_eq!(selecting.len(), 1, "{path} is selected by {} Applications", selecting.len());
        let labels = &selecting[0]["metadata"]["labels"];
        if let Some(cell) = labels["platform.example.org/cell"].as_str() {
            for doc in yaml_documents(&show(&env, path)) {
                assert_eq!(doc["metadata"]["labels"]["platform.example.org/cell"], cell, "{path}");
                assert_eq!(
                    doc["metadata"]["labels"]["platform.example.org/environment"],
                    labels["platform.example.org/environment"],
                    "{path}"
                );
            }
        }
    }
    let (code, findings) = verify(&env);
    assert_eq!((code, findings), (0, vec![]));
}

/// A state repo written before cell Applications (files named `primary.yaml`, no
/// `argocd/`, a root syncing `platform/` whole) keeps working: verify warns, an apply moves
/// the request's files (the same objects: nothing is destroyed), and once the root applies
/// `argocd/`, what is left unmoved is an error, since no Application would sync it.
#[test]
fn an_older_repo_keeps_working_and_each_apply_moves_a_request_to_its_cell_application() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let orders = orders(&env);
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    // What an older idp wrote.
    env.git_in(STATE, &["mv", ORDERS_PRIMARY, ORDERS_LEGACY]);
    env.git_in(STATE, &["rm", "-q", "-r", "argocd"]);
    let root = env.read(&format!("{STATE}/{ROOT}"));
    env.write(&format!("{STATE}/{ROOT}"), edit(&root, "path: argocd", "path: platform"));
    commit_all(&env, "as an older idp left it");

    let (code, findings) = verify(&env);
    assert_eq!(code, 0, "{findings:#?}");
    let warned: Vec<&str> = findings
        .iter()
        .map(|(severity, file, _)| {
            assert_eq!(severity, "warning");
            file.as_str()
        })
        .collect();
    assert_eq!(warned, ["argocd/cells/cell-us-east/staging.yaml", "argocd/namespaces.yaml", ORDERS_LEGACY]);
    assert!(findings[2].2.contains(ORDERS_PRIMARY), "{findings:#?}");

    // Under a root that applies argocd/, the same repo syncs nothing of the request.
    env.write(&format!("{STATE}/{ROOT}"), root.clone());
    commit_all(&env, "the new root, too early");
    let (code, findings) = verify(&env);
    assert_eq!(code, 1);
    assert!(findings.iter().all(|(severity, ..)| severity == "error"), "{findings:#?}");
    env.write(&format!("{STATE}/{ROOT}"), edit(&root, "path: argocd", "path: platform"));
    commit_all(&env, "back to the old root");

    // The next apply moves the file: a delete and a create of the same object, which is
    // no change to it, so no --allow-destroy is needed.
    let plan = env.idp(&["plan", "-f", &orders, "--repo", STATE, "-o", "json"]).code(0).json();
    let result = &plan["results"][0];
    let changes: Vec<(String, String)> = result["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["action"].as_str().unwrap().to_owned(), c["path"].as_str().unwrap().to_owned()))
        .collect();
    for expected in [
        ("create", ORDERS_PRIMARY),
        ("delete", ORDERS_LEGACY),
        ("create", ORDERS_CELL),
        ("create", "argocd/namespaces.yaml"),
    ] {
        assert!(changes.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{changes:?}");
    }
    let claims: Vec<&Value> =
        result["objects"].as_array().unwrap().iter().filter(|o| o["kind"] == "MySQLInstanceClaim").collect();
    assert!(claims.is_empty(), "the claim only moves file: {claims:#?}");
    assert_eq!(plan["destroys"], serde_json::json!([]));
    env.idp(&["apply", "-f", &orders, "--yes", "--repo", STATE]).code(0);
    assert_eq!(files(&env, "platform/team-alpha/mysql-orders-db"), [ORDERS_PRIMARY]);
    assert_eq!(verify(&env), (0, vec![]));

    // Now the root can move, as docs/bootstrap.md says: nothing is left that no
    // Application selects.
    env.git_in(STATE, &["rm", "-q", ROOT]);
    commit_all(&env, "drop the old root");
    env.idp(&["init", STATE, "--force"]).code(0);
    assert_eq!(show(&env, ROOT), root);
    assert_eq!(verify(&env), (0, vec![]));
}

/// A failover in an older repo finds the standby under its old names and moves every file
/// it re-renders to the cell's names in the same commit.
#[test]
fn a_failover_in_an_older_repo_moves_the_cells_files() {
    let env = TestEnv::new();
    env.init_state(STATE);
    env.idp(&["apply", "mysql", "-f", &env.example("payments-c0.json"), "--yes", "--repo", STATE]).code(0);
    env.idp(&["apply", "-f", &env.example("payments-app.yaml"), "--yes", "--repo", STATE]).code(0);
    let prefix = "payments.production.";
    let named: Vec<String> = files(&env, "platform").into_iter().filter(|f| f.contains(prefix)).collect();
    assert!(named.len() >= 7, "{named:?}");
    for path in &named {
        env.git_in(STATE, &["mv", path, &path.replace(prefix, "")]);
    }
    env.git_in(STATE, &["rm", "-q", "-r", "argocd"]);
    let root = env.read(&format!("{STATE}/{ROOT}"));
    env.write(&format!("{STATE}/{ROOT}"), edit(&root, "path: argocd", "path: platform"));
    commit_all(&env, "as an older idp left it");

    let args = [
        "failover",
        "--no-wait",
        "--cell",
        "payments",
        "--env",
        "prod",
        "--replication-lag",
        "4",
        "--yes",
        "--repo",
        STATE,
    ];
    env.idp(&args).code(0);
    let platform = files(&env, "platform");
    let legacy: Vec<&String> =
        platform.iter().filter(|f| !f.ends_with("/namespace.yaml") && !f.contains(prefix)).collect();
    assert!(legacy.is_empty(), "{legacy:?}");
    let (code, findings) = verify(&env);
    assert_eq!(code, 0, "{findings:#?}");
    // What is left is the Applications under argocd/, which the next apply writes.
    assert!(findings.iter().all(|(_, file, _)| file.starts_with("argocd/")), "{findings:#?}");
}

#[test]
fn the_include_glob_emulation_follows_gobwas_without_separators() {
    assert!(glob("*/*/a.b.*.yaml", "ns/mysql-x/a.b.primary.yaml"));
    assert!(glob("*/*/a.b.*.yaml", "ns/deeper/mysql-x/a.b.primary.yaml"), "* crosses /");
    assert!(!glob("*/*/a.b.*.yaml", "ns/mysql-x/xa.b.primary.yaml"));
    assert!(glob("{*/namespace.yaml,x}", "ns/namespace.yaml"));
    assert!(!glob("*/namespace.yaml", "namespace.yaml"));
}

/// Deleting a cell's last request says that Argo CD will not prune its Application down to
/// nothing by itself (argo-cd controller/appcontroller.go, autoSync: with prune and without
/// allowEmpty, a sync that would remove every resource is skipped), and names the
/// Application to sync by hand; deleting any other request says nothing of the kind.
#[test]
fn deleting_the_last_request_of_a_cell_names_the_application_to_prune_by_hand() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let orders = orders(&env);
    let other = env.write("other-db.yaml", edit(&env.read(&orders), "name: orders-db", "name: other-db"));
    env.idp(&["apply", "-f", &orders, "-f", &other, "--yes", "--repo", STATE]).code(0);
    let delete = |name: &str| {
        let target = format!("team-alpha/{name}");
        let args = ["delete", "mysql", &target, "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"];
        env.idp(&args).code(0).json()
    };
    assert_eq!(delete("other-db")["emptied_cell_application"], Value::Null);
    assert_eq!(delete("orders-db")["emptied_cell_application"], "cell--cell-us-east--staging");
    // The Application stays: a later request of the cell syncs through it again.
    assert_eq!(files(&env, "argocd/cells"), [ORDERS_CELL]);
}
