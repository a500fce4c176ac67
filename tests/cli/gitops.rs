//! The GitOps commands end to end (`init`, `apply`, `plan --repo`, `render`, `status`,
//! `delete`) on real Git repositories in temp dirs. Every result is read back with the
//! `git` CLI (log, show, status --porcelain, ls-files, ls-tree, fsck), never with idp's
//! own reader, so a commit that only idp can make sense of fails here.

use serde_json::{Value, json};

use crate::common::{
    GIT_IDENTITY, GIT_NAME, POLICY_VERSION, REQUEST, Run, TestEnv, crate_dir, default_policy_text, digest, edit, lines,
    snapshot_settings, sorted, yaml_documents,
};
use crate::crd_schema;

/// The commit trailers this suite checks.
const CONTRACT_TRAILERS: [&str; 4] = ["Idp-Action", "Idp-Request", "Idp-Placement", "Idp-Policy-Version"];

/// The state repo every test creates under the work dir.
const STATE: &str = "state";

/// The files of REQUEST (mysql team-alpha/orders-db, medium, ha) in the state repo.
const ORDERS_REQUEST: &str = "requests/team-alpha/mysql-orders-db.yaml";
const ORDERS_PLACEMENT: &str = "placements/team-alpha/mysql-orders-db.yaml";
const ORDERS_PRIMARY: &str = "platform/team-alpha/mysql-orders-db/cell-us-east.production.primary.yaml";
/// Its membership of cell-us-east/production, written and removed with the request's files.
const ORDERS_MEMBER: &str = "cells/cell-us-east/production/members/team-alpha/mysql-orders-db.yaml";
/// Every file of the request, in the order plan and apply list their `changes`.
/// orders-db's Backstage entity.
const ORDERS_CATALOG: &str = "catalog/team-alpha/mysql-orders-db.yaml";
const ORDERS_FILES: [&str; 5] = [ORDERS_REQUEST, ORDERS_PLACEMENT, ORDERS_MEMBER, ORDERS_CATALOG, ORDERS_PRIMARY];
/// team-alpha's Namespace: written with its first database, never removed.
const ORDERS_NAMESPACE: &str = "platform/team-alpha/namespace.yaml";
/// The Argo CD Application of cell-us-east/production, written with its first request.
const ORDERS_CELL_APPLICATION: &str = "argocd/cells/cell-us-east/production.yaml";
/// The Argo CD Application of the team namespaces, written with the first database.
const NAMESPACES_APPLICATION: &str = "argocd/namespaces.yaml";
/// What orders-db's apply writes as the first database of team-alpha in the first
/// request of its cell.
const ORDERS_FIRST_FILES: [&str; 8] = [
    ORDERS_REQUEST,
    ORDERS_PLACEMENT,
    ORDERS_MEMBER,
    ORDERS_CATALOG,
    ORDERS_PRIMARY,
    ORDERS_NAMESPACE,
    ORDERS_CELL_APPLICATION,
    NAMESPACES_APPLICATION,
];

/// The files `idp init` commits.
const INIT_FILES: [&str; 7] = [
    ".idp/state.yaml",
    "README.md",
    "bootstrap/argocd-cm/health-checks.patch.yaml",
    "bootstrap/argocd/appproject.yaml",
    "bootstrap/argocd/root-application.yaml",
    "catalog/location.yaml",
    "policy/policy.yaml",
];

/// The analytics example: critical, ha false, cell-eu → oci/us-ashburn-1 (cost wins).
const ANALYTICS: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: analytics-db
  namespace: team-beta
spec:
  cell: cell-eu
  tier: critical
  environment: dev
  size: small
  storageGB: 20
  ha: false
";

/// A [`TestEnv`] with this suite's readers of a repo.
struct Sandbox {
    env: TestEnv,
}

impl std::ops::Deref for Sandbox {
    type Target = TestEnv;

    fn deref(&self) -> &TestEnv {
        &self.env
    }
}

impl Sandbox {
    fn new() -> Self {
        Self { env: TestEnv::new() }
    }

    /// A sandbox with an initialized state repo at `state/` with the test identity.
    fn with_state_repo() -> Self {
        let sandbox = Self::new();
        sandbox.init_state(STATE);
        sandbox
    }

    fn commit_count(&self, repo: &str) -> usize {
        self.count(repo, "HEAD")
    }

    fn ls_files(&self, repo: &str) -> Vec<String> {
        lines(&self.git_in(repo, &["ls-files"]))
    }

    /// The paths a commit touched, sorted (`git show --name-only`).
    fn changed_paths(&self, repo: &str, commit: &str) -> Vec<String> {
        let mut paths = lines(&self.git_in(repo, &["show", "--name-only", "--format=", commit]));
        paths.sort();
        paths
    }

    /// `git show --stat` of a commit, with no commit header.
    fn stat(&self, repo: &str, commit: &str) -> String {
        self.git_in(repo, &["show", "--stat=200", "--format=", commit])
    }

    fn message(&self, repo: &str, commit: &str) -> String {
        self.git_in(repo, &["log", "-1", "--format=%B", commit])
    }

    /// The trailers of the contract (`Idp-Action`, `Idp-Request`, `Idp-Placement`,
    /// `Idp-Policy-Version`) as git itself parses them out of a commit message, in
    /// order; other trailers idp may add are left out.
    fn trailers(&self, repo: &str, commit: &str) -> Vec<String> {
        lines(&self.git_in(repo, &["log", "-1", "--format=%(trailers:only,unfold)", commit]))
            .into_iter()
            .filter(|t| CONTRACT_TRAILERS.iter().any(|key| t.starts_with(&format!("{key}: "))))
            .collect()
    }

    fn show(&self, repo: &str, spec: &str) -> String {
        self.git_in(repo, &["show", spec])
    }

    /// `idp delete mysql TARGET --unprotect --yes`, asserting it commits: the first of the
    /// two commits that remove a production (deletion-protected) database.
    fn unprotect(&self, target: &str) {
        let before = self.head(STATE);
        self.idp(&["delete", "mysql", target, "--unprotect", "--repo", STATE, "--yes"]).code(0);
        assert_ne!(self.head(STATE), before, "unprotect {target} made no commit");
    }

    /// Applies `files` (already written) with `--yes -o json`, asserting success; the JSON.
    fn apply(&self, files: &[&str], extra: &[&str]) -> Value {
        let mut args = vec!["apply"];
        for f in files {
            args.extend(["-f", f]);
        }
        args.extend(["--repo", STATE, "--yes", "-o", "json"]);
        args.extend_from_slice(extra);
        let run = self.idp(&args);
        run.code(0);
        run.json()
    }
}

fn is_full_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// `provider/region` of a placement object.
fn at(placement: &Value) -> String {
    format!("{}/{}", placement["provider"].as_str().unwrap(), placement["region"].as_str().unwrap())
}

fn yaml_document(text: &str) -> Value {
    let docs = yaml_documents(text);
    assert_eq!(docs.len(), 1, "expected one YAML document:\n{text}");
    docs.into_iter().next().unwrap()
}

/// `render`'s stream split into (`# Source:` path, document text) pairs.
fn render_sources(stream: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in stream.lines() {
        if line == "---" {
            out.push((String::new(), String::new()));
            continue;
        }
        let current = out.last_mut().unwrap_or_else(|| panic!("render output does not start with ---:\n{stream}"));
        if current.0.is_empty() && current.1.is_empty() {
            current.0 =
                line.strip_prefix("# Source: ").unwrap_or_else(|| panic!("no # Source line: {line}")).to_owned();
        } else {
            current.1.push_str(line);
            current.1.push('\n');
        }
    }
    out
}

/// The keys of a YAML mapping's top level, in file order.
fn top_level_keys(yaml: &str) -> Vec<String> {
    yaml.lines()
        .filter(|l| !l.starts_with([' ', '-', '#']) && !l.is_empty())
        .filter_map(|l| l.split_once(':').map(|(key, _)| key.to_owned()))
        .collect()
}

/// The one line of `text` that starts with `prefix`.
fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    let found: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "expected one line starting with {prefix:?}:\n{text}");
    found[0]
}

/// `(action, path)` of a JSON result's `changes`.
fn changes(result: &Value) -> Vec<(String, String)> {
    result["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("changes is not an array: {result:#}"))
        .iter()
        .map(|c| (c["action"].as_str().unwrap().to_owned(), c["path"].as_str().unwrap().to_owned()))
        .collect()
}

fn creates(paths: &[&str]) -> Vec<(String, String)> {
    paths.iter().map(|p| ("create".to_owned(), (*p).to_owned())).collect()
}

/// The `error` object of a JSON failure as (message, help).
fn json_error(run: &Run) -> (String, String) {
    let doc = run.json();
    let error = &doc["error"];
    (
        error["message"].as_str().unwrap_or_else(|| panic!("no error.message in {doc:#}")).to_owned(),
        error["help"].as_str().unwrap_or_default().to_owned(),
    )
}

// ---------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------

#[test]
fn init_creates_a_state_repo_with_one_commit_on_main() {
    let s = Sandbox::new();
    let run = s.idp(&["init", STATE]);
    run.code(0);

    assert_eq!(s.commit_count(STATE), 1);
    let head = s.head(STATE);
    assert!(run.stdout.contains(&head), "init should name its commit:\n{}", run.stdout);
    assert_eq!(s.git_in(STATE, &["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
    assert_eq!(s.git_in(STATE, &["rev-parse", "main"]).trim(), head);
    assert_eq!(s.ls_files(STATE), sorted(&INIT_FILES));
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&INIT_FILES));
    s.assert_clean(STATE);
    s.assert_fsck(STATE);

    assert_eq!(s.title(STATE, "HEAD"), "idp: initialize state repo");
    assert_eq!(s.trailers(STATE, "HEAD"), ["Idp-Action: init"]);

    // The policy is the shipped one, byte for byte, in the commit and in the work tree.
    assert_eq!(s.show(STATE, "HEAD:policy/policy.yaml"), default_policy_text());
    assert_eq!(s.read("state/policy/policy.yaml"), default_policy_text());
    let readme = std::fs::read_to_string(crate_dir().join("templates/state-repo/README.md")).unwrap();
    assert_eq!(s.show(STATE, "HEAD:README.md"), readme);

    let marker = yaml_document(&s.show(STATE, "HEAD:.idp/state.yaml"));
    assert_eq!(marker["apiVersion"], "idp.platform.example.org/v1alpha1");
    assert_eq!(marker["kind"], "StateRepo");
    assert_eq!(marker["layout"], 1);
    assert_eq!(marker["createdBy"], format!("idp {}", env!("CARGO_PKG_VERSION")));

    // The bootstrap points Argo CD at the repo URL and revision of the policy's gitops section.
    let project = yaml_document(&s.show(STATE, "HEAD:bootstrap/argocd/appproject.yaml"));
    assert_eq!(
        (project["apiVersion"].as_str(), project["kind"].as_str()),
        (Some("argoproj.io/v1alpha1"), Some("AppProject"))
    );
    assert_eq!(project["spec"]["sourceRepos"], json!(["https://git.example.org/platform/idp-state.git"]));
    let root = yaml_document(&s.show(STATE, "HEAD:bootstrap/argocd/root-application.yaml"));
    assert_eq!(
        (root["apiVersion"].as_str(), root["kind"].as_str()),
        (Some("argoproj.io/v1alpha1"), Some("Application"))
    );
    assert_eq!(root["spec"]["project"], project["metadata"]["name"]);
    assert_eq!(root["spec"]["source"]["repoURL"], "https://git.example.org/platform/idp-state.git");
    assert_eq!(root["spec"]["source"]["targetRevision"], "main");
    // The root applies the Applications under argocd/: one per cell and environment, and the
    // namespaces' one (docs/bootstrap.md).
    assert_eq!(root["spec"]["source"]["path"], "argocd");

    // The health checks: a merge patch for argocd-cm (only `data`, no object to apply over
    // the operator's), whose value is the project's Lua byte for byte.
    let patch = yaml_document(&s.show(STATE, "HEAD:bootstrap/argocd-cm/health-checks.patch.yaml"));
    let lua = |kind: &str| {
        std::fs::read_to_string(crate_dir().join(format!("manifests/argocd/health/{kind}/health.lua"))).unwrap()
    };
    assert_eq!(
        patch,
        json!({"data": {
            "resource.customizations.health.platform.example.org_MySQLInstanceClaim":
                lua("platform.example.org_MySQLInstanceClaim"),
            "resource.customizations.health.platform.example.org_PostgreSQLInstanceClaim": lua("platform.example.org_MySQLInstanceClaim"),
            "resource.customizations.health.platform.example.org_RedisInstanceClaim":
                lua("platform.example.org_MySQLInstanceClaim"),
            "resource.customizations.health.argoproj.io_Application": lua("argoproj.io_Application"),
        }})
    );
}

/// A state repo written by an older idp keeps its health-check patch (Argo CD runs what
/// was merged from it): `verify` says it is not this idp's, and a current copy clears it.
#[test]
fn verify_warns_about_a_health_check_patch_an_older_idp_wrote() {
    let s = Sandbox::new();
    s.idp(&["init", STATE]).code(0);
    assert_eq!(s.idp(&["verify", "--repo", STATE, "-o", "json"]).code(0).json()["findings"], json!([]));
    let patch = "bootstrap/argocd-cm/health-checks.patch.yaml";
    let current = s.show(STATE, &format!("HEAD:{patch}"));
    // A check as an older idp shipped it: an Application check that ignored automated sync.
    let older = edit(
        &current,
        "local automated = spec.syncPolicy ~= nil and spec.syncPolicy.automated ~= nil",
        "local automated = false",
    );
    s.write(&format!("{STATE}/{patch}"), older);
    s.git_in(STATE, &["commit", "-qam", "an older idp's health checks"]);
    let run = s.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(0);
    let findings = run.json()["findings"].clone();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{findings:#}");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["file"], patch);
    let message = findings[0]["message"].as_str().unwrap();
    assert!(message.starts_with("is not the health-check patch this idp ships"), "{message}");

    s.write(&format!("{STATE}/{patch}"), current);
    s.git_in(STATE, &["commit", "-qam", "idp's current health checks"]);
    let run = s.idp(&["verify", "--repo", STATE, "-o", "json"]);
    assert_eq!(run.code(0).json()["findings"], json!([]));
}

#[test]
fn init_refuses_an_existing_state_repo_and_force_adds_nothing() {
    let s = Sandbox::new();
    s.idp(&["init", STATE]).code(0);
    let head = s.head(STATE);

    let again = s.idp(&["init", STATE, "-o", "json"]);
    again.code(1);
    assert_eq!(
        json_error(&again),
        (
            "refusing to initialize state: it is already an idp state repo".to_owned(),
            "pass --force to adopt it (existing files are kept), or choose an empty directory".to_owned()
        )
    );
    assert_eq!(s.head(STATE), head);

    s.idp(&["init", STATE, "--force"]).code(0);
    assert_eq!(s.head(STATE), head, "--force on a complete state repo must not commit");
    assert_eq!(s.commit_count(STATE), 1);
    s.assert_clean(STATE);
}

#[test]
fn init_refuses_a_non_empty_directory_that_is_not_a_repo() {
    let s = Sandbox::new();
    s.write("junk/notes.txt", "mine\n");
    let run = s.idp(&["init", "junk", "-o", "json"]);
    run.code(1);
    assert_eq!(json_error(&run).0, "refusing to initialize junk: it holds files");
    assert!(!s.path("junk/.git").exists(), "a refused init must not create a repository");
    assert_eq!(s.read("junk/notes.txt"), "mine\n");
}

#[test]
fn init_adopts_an_empty_repository_without_force() {
    let s = Sandbox::new();
    s.git(&["init", "--quiet", "--initial-branch=main", STATE]);
    s.set_identity(STATE);
    s.idp(&["init", STATE]).code(0);
    assert_eq!(s.commit_count(STATE), 1);
    assert_eq!(s.ls_files(STATE), sorted(&INIT_FILES));
    // The commit carries the repo's own identity.
    assert_eq!(s.git_in(STATE, &["log", "-1", "--format=%an <%ae>"]).trim(), GIT_IDENTITY);
    s.assert_clean(STATE);
}

#[test]
fn init_force_adopts_a_repository_with_history_and_keeps_its_files() {
    let s = Sandbox::new();
    s.git(&["init", "--quiet", "--initial-branch=main", STATE]);
    s.set_identity(STATE);
    s.write("state/README.md", "our own readme\n");
    s.git_in(STATE, &["add", "README.md"]);
    s.git_in(STATE, &["commit", "--quiet", "-m", "first"]);
    let first = s.head(STATE);

    let refused = s.idp(&["init", STATE, "-o", "json"]);
    refused.code(1);
    assert_eq!(json_error(&refused).0, "refusing to initialize state: it already has commits");
    assert_eq!(s.head(STATE), first);

    s.idp(&["init", STATE, "--force"]).code(0);
    assert_eq!(s.commit_count(STATE), 2);
    assert_eq!(s.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), first);
    assert_eq!(s.show(STATE, "HEAD:README.md"), "our own readme\n");
    let added: Vec<&str> = INIT_FILES.iter().copied().filter(|f| *f != "README.md").collect();
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&added));
    s.assert_clean(STATE);
}

// ---------------------------------------------------------------------------------------
// apply
// ---------------------------------------------------------------------------------------

#[test]
fn apply_writes_one_commit_in_the_layout_with_trailers() {
    let s = Sandbox::with_state_repo();
    let before = s.head(STATE);
    let file = s.write("orders-db.yaml", REQUEST);

    let doc = s.apply(&[&file], &[]);
    let head = s.head(STATE);
    assert_ne!(head, before);
    assert_eq!(s.commit_count(STATE), 2);
    assert_eq!(s.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), before);
    assert_eq!(doc["commit"], head.as_str());
    assert!(is_full_hash(doc["commit"].as_str().unwrap()));
    let result = &doc["results"][0];
    assert_eq!(doc["results"].as_array().unwrap().len(), 1);
    assert_eq!(result["status"], "created");
    assert_eq!(result["sticky"], false);
    assert_eq!(at(&result["placement"]), "aws/us-east-1");

    // One commit, exactly the request's four files, committed as the repo's user.
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&ORDERS_FIRST_FILES));
    assert_eq!(s.git_in(STATE, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]).trim(), {
        format!("{GIT_IDENTITY}|{GIT_IDENTITY}")
    });
    assert_eq!(s.title(STATE, "HEAD"), "idp: create mysql team-alpha/orders-db on aws/us-east-1");
    assert_eq!(
        s.trailers(STATE, "HEAD"),
        [
            "Idp-Action: create",
            "Idp-Request: mysql team-alpha/orders-db",
            "Idp-Placement: aws/us-east-1",
            format!("Idp-Policy-Version: {POLICY_VERSION}").as_str(),
        ]
    );

    // The work tree follows the commit, and the index knows the files.
    s.assert_clean(STATE);
    let mut expected_files: Vec<&str> = INIT_FILES.to_vec();
    expected_files.extend(ORDERS_FIRST_FILES);
    assert_eq!(s.ls_files(STATE), sorted(&expected_files));
    s.assert_fsck(STATE);

    // The normalized request is the canonical form of what was asked.
    assert_eq!(s.show(STATE, &format!("HEAD:{ORDERS_REQUEST}")), REQUEST);
    assert_eq!(s.read(&format!("state/{ORDERS_REQUEST}")), REQUEST);

    // The placement record: the decision and why, with the policy's version and digest.
    let placement_text = s.show(STATE, &format!("HEAD:{ORDERS_PLACEMENT}"));
    assert_eq!(
        top_level_keys(&placement_text),
        ["apiVersion", "kind", "metadata", "requestKind", "cell", "environment", "primary", "secondary", "reason"]
    );
    let placement = yaml_document(&placement_text);
    assert_eq!(placement["kind"], "Placement");
    assert_eq!(placement["metadata"], json!({"name": "orders-db", "namespace": "team-alpha"}));
    assert_eq!(placement["requestKind"], "mysql");
    assert_eq!(placement["cell"], "cell-us-east");
    assert_eq!(placement["environment"], "production");
    assert_eq!(
        placement["primary"],
        json!({
            "provider": "aws",
            "region": "us-east-1",
            "runtimeCluster": "aws-use1-prod-01",
            "network": {"vpc_id": "vpc-aws-use1", "subnet_group": "db-private-use1"}
        })
    );
    assert_eq!(placement["secondary"], Value::Null);
    assert_eq!(placement["reason"]["selected"]["total_score"], 0.825);
    assert_eq!(
        placement["reason"]["policy"],
        json!({"version": POLICY_VERSION, "digest": digest(default_policy_text().as_bytes())})
    );

    // The claim: the standard labels, the placement, a referenced (never written) secret.
    let claim = yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_PRIMARY}")));
    assert_eq!(claim["kind"], "MySQLInstanceClaim");
    assert_eq!(claim["metadata"]["namespace"], "team-alpha");
    assert_eq!(
        claim["metadata"]["labels"],
        json!({
            "app.kubernetes.io/managed-by": "idp",
            "platform.example.org/cell": "cell-us-east",
            "platform.example.org/environment": "production",
            "platform.example.org/request": "team-alpha.mysql.orders-db",
            "platform.example.org/tier": "medium",
            "platform.example.org/role": "primary"
        })
    );
    let reason: Value = serde_json::from_str(
        claim["metadata"]["annotations"]["platform.example.org/placement-reason"].as_str().unwrap(),
    )
    .expect("the placement-reason annotation is JSON");
    assert_eq!(reason, placement["reason"], "the annotation and the record must tell the same reason");
    assert_eq!(reason["follows"], Value::Null, "a database follows nothing");
    assert_eq!(claim["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "0");
    assert_eq!(claim["spec"]["compositionSelector"]["matchLabels"], json!({"provider": "aws", "class": "mysql"}));
    assert_eq!(claim["spec"]["parameters"]["size"], "large");
    assert_eq!(claim["spec"]["parameters"]["writeFence"], false, "a cell that never failed over fences nothing");
    assert_eq!(claim["spec"]["writeConnectionSecretToRef"], json!({"name": "orders-db-conn"}));

    // The cell member file: the request's membership of its cell, with both placements.
    let member_text = s.show(STATE, &format!("HEAD:{ORDERS_MEMBER}"));
    assert_eq!(
        top_level_keys(&member_text),
        ["kind", "namespace", "name", "primary", "secondary", "drProfile", "monthlyUSD"]
    );
    assert_eq!(
        yaml_document(&member_text),
        json!({
            "kind": "mysql",
            "namespace": "team-alpha",
            "name": "orders-db",
            "primary": placement["primary"],
            "secondary": null,
            "drProfile": null,
            // The policy's estimate: aws large 600 + 100 GB x 0.115, doubled for ha.
            "monthlyUSD": 1223.0
        })
    );
    // Apply never writes the cell's state file: only failover and failback do.
    assert!(!s.ls_files(STATE).iter().any(|f| f == "cells/cell-us-east/production.yaml"));
}

#[test]
fn apply_of_the_flat_form_writes_secondary_and_replication() {
    let s = Sandbox::with_state_repo();
    let file = s.fixture("payments-c0.json");
    let run = s.idp(&["apply", "mysql", "-f", &file, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["commit"], s.head(STATE).as_str());
    assert_eq!(doc["results"][0]["status"], "created");
    assert_eq!(at(&doc["results"][0]["placement"]), "aws/us-east-1");
    assert_eq!(at(&doc["results"][0]["secondary"]), "gcp/us-central1");

    assert_eq!(
        s.changed_paths(STATE, "HEAD"),
        sorted(&[
            "requests/team-payments/mysql-payments-db.yaml",
            "placements/team-payments/mysql-payments-db.yaml",
            "cells/payments/production/members/team-payments/mysql-payments-db.yaml",
            "catalog/team-payments/mysql-payments-db.yaml",
            "platform/team-payments/mysql-payments-db/payments.production.primary.yaml",
            "platform/team-payments/mysql-payments-db/payments.production.secondary.yaml",
            "platform/team-payments/mysql-payments-db/payments.production.replication.yaml",
            "platform/team-payments/namespace.yaml",
            "argocd/cells/payments/production.yaml",
            "argocd/namespaces.yaml",
        ])
    );
    assert_eq!(s.title(STATE, "HEAD"), "idp: create mysql team-payments/payments-db on aws/us-east-1");
    assert_eq!(
        s.trailers(STATE, "HEAD"),
        [
            "Idp-Action: create",
            "Idp-Request: mysql team-payments/payments-db",
            "Idp-Placement: aws/us-east-1 secondary=gcp/us-central1",
            format!("Idp-Policy-Version: {POLICY_VERSION}").as_str(),
        ]
    );
    // The flat body becomes the canonical form, the `prod` alias resolved.
    let request = yaml_document(&s.show(STATE, "HEAD:requests/team-payments/mysql-payments-db.yaml"));
    assert_eq!(request["kind"], "MySQL");
    assert_eq!(request["metadata"], json!({"name": "payments-db", "namespace": "team-payments"}));
    assert_eq!(request["spec"]["environment"], "production");
    assert_eq!(request["spec"]["drProfile"], "gold");
    let primary =
        yaml_document(&s.show(STATE, "HEAD:platform/team-payments/mysql-payments-db/payments.production.primary.yaml"));
    assert_eq!(primary["spec"]["parameters"]["writeFence"], false);
    let secondary = yaml_document(
        &s.show(STATE, "HEAD:platform/team-payments/mysql-payments-db/payments.production.secondary.yaml"),
    );
    assert_eq!(secondary["metadata"]["name"], "payments-db-secondary");
    // The standby is fenced read-only, a wave ahead of the writable side.
    assert_eq!(secondary["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "-1");
    assert_eq!(secondary["spec"]["parameters"]["provider"], "gcp");
    assert_eq!(secondary["spec"]["parameters"]["writeFence"], true);
    assert_eq!(secondary["spec"]["writeConnectionSecretToRef"]["name"], "payments-db-secondary-conn");
    let replication = yaml_document(
        &s.show(STATE, "HEAD:platform/team-payments/mysql-payments-db/payments.production.replication.yaml"),
    );
    assert_eq!(replication["kind"], "ReplicationClaim");
    assert_eq!(replication["metadata"]["annotations"], json!({"argocd.argoproj.io/sync-wave": "0"}));
    assert_eq!(replication["spec"]["parameters"]["tool"], "oci-goldengate");
    assert_eq!(replication["spec"]["compositionSelector"], json!({"matchLabels": {"tool": "oci-goldengate"}}));
    assert_eq!(replication["spec"]["parameters"]["source"]["claimName"], "payments-db");
    assert_eq!(replication["spec"]["parameters"]["target"]["claimName"], "payments-db-secondary");
    assert_eq!(replication["spec"]["parameters"]["expectedRpoSeconds"], 30);
    // The member file names both placements and the drProfile.
    let member =
        yaml_document(&s.show(STATE, "HEAD:cells/payments/production/members/team-payments/mysql-payments-db.yaml"));
    assert_eq!(member["kind"], "mysql");
    assert_eq!((at(&member["primary"]), at(&member["secondary"])), ("aws/us-east-1".into(), "gcp/us-central1".into()));
    assert_eq!(member["secondary"]["runtimeCluster"], "gcp-usc1-prod-01");
    assert_eq!(member["drProfile"], "gold");
    assert!(!s.ls_files(STATE).iter().any(|f| f == "cells/payments/production.yaml"));
    s.assert_clean(STATE);
}

#[test]
fn apply_of_several_requests_is_one_commit() {
    let s = Sandbox::with_state_repo();
    let file = s.fixture("two-requests.yaml");
    let doc = s.apply(&[&file], &[]);
    assert_eq!(doc["commit"], s.head(STATE).as_str());
    assert_eq!(s.commit_count(STATE), 2);
    assert_eq!(s.title(STATE, "HEAD"), "idp: apply 2 requests (2 created, 0 updated)");
    let requests: Vec<String> =
        s.trailers(STATE, "HEAD").into_iter().filter(|t| t.starts_with("Idp-Request:")).collect();
    assert_eq!(requests, ["Idp-Request: mysql team-gamma/inventory-db", "Idp-Request: mysql team-gamma/ledger-db"]);
    let changed = s.changed_paths(STATE, "HEAD");
    // Per request: request, placement, member, catalog entity, primary, secondary, replication;
    // their namespace's manifest and the namespaces' Application, once; each cell's Application.
    assert_eq!(changed.len(), 18, "{changed:#?}");
    assert!(changed.iter().all(|p| p.contains("team-gamma/mysql-inventory-db")
        || p.contains("team-gamma/mysql-ledger-db")
        || p == "platform/team-gamma/namespace.yaml"
        || p == "argocd/namespaces.yaml"
        || p == "argocd/cells/cell-us-east/production.yaml"
        || p == "argocd/cells/cell-us-east/staging.yaml"));
    s.assert_clean(STATE);
}

#[test]
fn apply_message_goes_into_the_body_and_keeps_the_trailers() {
    let s = Sandbox::with_state_repo();
    let file = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&file], &["-m", "JIRA-123: orders database"]);
    let message = s.message(STATE, "HEAD");
    let mut paragraphs = message.split("\n\n");
    assert_eq!(paragraphs.next(), Some("idp: create mysql team-alpha/orders-db on aws/us-east-1"));
    assert_eq!(paragraphs.next(), Some("JIRA-123: orders database"));
    assert_eq!(s.trailers(STATE, "HEAD")[1], "Idp-Request: mysql team-alpha/orders-db");
}

#[test]
fn apply_uses_the_policy_committed_in_the_state_repo() {
    let s = Sandbox::with_state_repo();
    let policy = edit(&default_policy_text(), "version: \"2026.11.0\"", "version: \"2026.12.1\"");
    s.write("state/policy/policy.yaml", &policy);
    s.git_in(STATE, &["commit", "--quiet", "-am", "policy 2026.12.1"]);
    let file = s.write("orders-db.yaml", REQUEST);
    let doc = s.apply(&[&file], &[]);
    assert_eq!(
        doc["results"][0]["reason"]["policy"],
        json!({"version": "2026.12.1", "digest": digest(policy.as_bytes())})
    );
    assert_eq!(s.trailers(STATE, "HEAD")[3], "Idp-Policy-Version: 2026.12.1");
}

#[test]
fn apply_twice_is_idempotent() {
    let s = Sandbox::with_state_repo();
    let file = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&file], &[]);
    let head = s.head(STATE);
    let count = s.commit_count(STATE);

    let doc = s.apply(&[&file], &[]);
    assert_eq!(doc["commit"], Value::Null);
    assert_eq!(doc["results"][0]["status"], "exists");
    assert_eq!(doc["results"][0]["sticky"], true);
    assert_eq!(doc["results"][0]["changes"], json!([]));
    assert_eq!(s.head(STATE), head);
    assert_eq!(s.commit_count(STATE), count);

    // The same in human form.
    let run = s.idp(&["apply", "-f", &file, "--repo", STATE, "--yes"]);
    run.code(0);
    run.stderr_says("no changes: every request is already in the state repo as planned");
    assert_eq!(s.head(STATE), head);
    s.assert_clean(STATE);
}

#[test]
fn a_changed_request_keeps_its_placement_and_updates_request_and_claim_only() {
    let s = Sandbox::with_state_repo();
    let file = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&file], &[]);
    let created = s.head(STATE);
    let placement_before = s.show(STATE, &format!("HEAD:{ORDERS_PLACEMENT}"));

    let bigger = edit(REQUEST, "size: large", "size: xlarge");
    let file = s.write("orders-db-xlarge.yaml", &bigger);
    let doc = s.apply(&[&file], &[]);
    let head = s.head(STATE);
    assert_ne!(head, created);
    assert_eq!(doc["commit"], head.as_str());
    let result = &doc["results"][0];
    assert_eq!(result["status"], "updated");
    assert_eq!(result["sticky"], true);
    assert_eq!(result["rescheduled"], false);
    assert_eq!(at(&result["placement"]), "aws/us-east-1");

    assert_eq!(s.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), created);
    // The request, the claim, and the member file's cost estimate (a bigger instance).
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&[ORDERS_REQUEST, ORDERS_MEMBER, ORDERS_PRIMARY]));
    let stat = s.stat(STATE, "HEAD");
    assert!(stat.ends_with(" 3 files changed, 3 insertions(+), 3 deletions(-)\n"), "{stat}");
    // aws xlarge 1200 + 100 GB x 0.115, doubled for ha.
    assert_eq!(yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_MEMBER}")))["monthlyUSD"], 2423.0);
    assert_eq!(s.title(STATE, "HEAD"), "idp: update mysql team-alpha/orders-db on aws/us-east-1");
    assert_eq!(s.trailers(STATE, "HEAD")[0], "Idp-Action: update");
    assert_eq!(s.trailers(STATE, "HEAD")[2], "Idp-Placement: aws/us-east-1");

    assert_eq!(s.show(STATE, &format!("HEAD:{ORDERS_PLACEMENT}")), placement_before);
    assert_eq!(s.show(STATE, &format!("HEAD:{ORDERS_REQUEST}")), bigger);
    let claim = yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_PRIMARY}")));
    assert_eq!(claim["spec"]["parameters"]["size"], "xlarge");
    assert_eq!(claim["spec"]["parameters"]["provider"], "aws");
    // The work tree has the new claim too.
    assert_eq!(s.read(&format!("state/{ORDERS_PRIMARY}")), s.show(STATE, &format!("HEAD:{ORDERS_PRIMARY}")));
    s.assert_clean(STATE);
}

#[test]
fn a_request_that_changes_cell_moves_its_member_file() {
    let s = Sandbox::with_state_repo();
    let file = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&file], &[]);
    let placed = s.head(STATE);

    // payments admits aws/us-east-1, so the placement still fits: no --reschedule needed.
    let moved = s.write("orders-db-eu.yaml", edit(REQUEST, "cell: cell-us-east", "cell: payments"));
    let doc = s.apply(&[&moved], &[]);
    let result = &doc["results"][0];
    assert_eq!(result["status"], "updated");
    assert_eq!(result["rescheduled"], false);
    assert_eq!(at(&result["placement"]), "aws/us-east-1");
    let new_member = "cells/payments/production/members/team-alpha/mysql-orders-db.yaml";
    // The claim's file is named by its cell, so it moves to the new cell's Application,
    // which is written with its first request; the old cell's stays.
    let new_primary = "platform/team-alpha/mysql-orders-db/payments.production.primary.yaml";
    let mut expected = vec![
        ("update".to_owned(), ORDERS_REQUEST.to_owned()),
        ("update".to_owned(), ORDERS_PLACEMENT.to_owned()),
        ("create".to_owned(), new_member.to_owned()),
        ("update".to_owned(), ORDERS_CATALOG.to_owned()),
        ("create".to_owned(), new_primary.to_owned()),
        ("delete".to_owned(), ORDERS_PRIMARY.to_owned()),
        ("delete".to_owned(), ORDERS_MEMBER.to_owned()),
        ("create".to_owned(), "argocd/cells/payments/production.yaml".to_owned()),
    ];
    let mut got = changes(result);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);

    assert_eq!(s.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), placed);
    let deleted =
        lines(&s.git_in(STATE, &["show", "--no-renames", "--diff-filter=D", "--name-only", "--format=", "HEAD"]));
    assert_eq!(deleted, sorted(&[ORDERS_MEMBER, ORDERS_PRIMARY]));
    let added =
        lines(&s.git_in(STATE, &["show", "--no-renames", "--diff-filter=A", "--name-only", "--format=", "HEAD"]));
    assert_eq!(added, sorted(&["argocd/cells/payments/production.yaml", new_member, new_primary]));
    // The member moves unchanged; the record says where the request now lives.
    assert_eq!(s.show(STATE, &format!("HEAD:{new_member}")), s.show(STATE, &format!("HEAD~1:{ORDERS_MEMBER}")));
    let placement = yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_PLACEMENT}")));
    assert_eq!((placement["cell"].as_str(), placement["environment"].as_str()), (Some("payments"), Some("production")));
    let claim = yaml_document(&s.show(STATE, &format!("HEAD:{new_primary}")));
    assert_eq!(claim["metadata"]["labels"]["platform.example.org/cell"], "payments");
    assert!(!s.path(&format!("state/{ORDERS_MEMBER}")).exists());
    s.assert_clean(STATE);

    // status and delete find the member file in its new cell.
    let status = s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "-o", "json"]).code(0).json();
    assert!(status["files"].as_array().unwrap().iter().any(|f| f == new_member), "{status:#}");
    s.unprotect("team-alpha/orders-db");
    s.idp(&["delete", "mysql", "team-alpha/orders-db", "--repo", STATE, "--yes", "--allow-destroy"]).code(0);
    assert!(!s.ls_files(STATE).iter().any(|f| f.starts_with("cells/")), "{:?}", s.ls_files(STATE));
}

#[test]
fn a_request_that_no_longer_fits_moves_only_with_reschedule() {
    let s = Sandbox::with_state_repo();
    let file = s.write("analytics-db.yaml", ANALYTICS);
    let doc = s.apply(&[&file], &[]);
    assert_eq!(at(&doc["results"][0]["placement"]), "oci/eu-frankfurt-1");
    assert_eq!(s.title(STATE, "HEAD"), "idp: create mysql team-beta/analytics-db on oci/eu-frankfurt-1");
    let placed = s.head(STATE);
    let placement_before = s.show(STATE, "HEAD:placements/team-beta/mysql-analytics-db.yaml");

    let ha = s.write("analytics-db-ha.yaml", edit(ANALYTICS, "ha: false", "ha: true"));
    let refused = s.idp(&["apply", "-f", &ha, "--repo", STATE, "--yes", "-o", "json"]);
    refused.code(1);
    assert_eq!(
        json_error(&refused),
        (
            "mysql team-beta/analytics-db is placed on oci/eu-frankfurt-1, which no longer fits the request: \
             oci/eu-frankfurt-1 lacks multi_az required by tier critical with ha"
                .to_owned(),
            "placements never move silently; pass --reschedule to move it (a new placement, loudly recorded), \
             or revert the request change"
                .to_owned()
        )
    );
    refused.stderr_says("pass --reschedule to move it");
    assert_eq!(s.head(STATE), placed);
    assert_eq!(s.show(STATE, "HEAD:placements/team-beta/mysql-analytics-db.yaml"), placement_before);
    s.assert_clean(STATE);

    // With --reschedule the best candidate with multi_az for critical weights would be
    // gcp/europe-west1 (0.15×0.72 + 0.15×0.82 + 0.20×0.85 + 0.50×0.60 = 0.701). That keeps
    // the claim's name and changes its provider and region, which the XRD refuses
    // (`self == oldSelf`): were it admitted, Crossplane would replace the database with an
    // empty one. Refused before anything is written (tests/cli/admission.rs has the rest).
    let moved = s.idp(&["apply", "-f", &ha, "--repo", STATE, "--yes", "--reschedule", "-o", "json"]);
    moved.code(1);
    assert_eq!(moved.json()["error"]["code"], "idp::claim::refused");
    assert_eq!(s.head(STATE), placed);
    s.assert_clean(STATE);

    // A reschedule the claim admits: a drProfile asks for a cross-cloud secondary, which the
    // placement lacks; rescheduled, the primary stays on oci/eu-frankfurt-1 and gains one.
    let dr = s.write("analytics-db-dr.yaml", edit(ANALYTICS, "ha: false", "ha: false\n  drProfile: bronze"));
    let refused = s.idp(&["apply", "-f", &dr, "--repo", STATE, "--yes", "-o", "json"]);
    refused.code(1);
    assert_eq!(
        json_error(&refused).0,
        "mysql team-beta/analytics-db is placed on oci/eu-frankfurt-1, which no longer fits the request: \
         tier critical now needs a cross-cloud secondary, which the placement lacks"
    );
    assert_eq!(s.head(STATE), placed);
    let doc = s.apply(&[&dr], &["--reschedule"]);
    let head = s.head(STATE);
    assert_eq!(doc["commit"], head.as_str());
    assert_eq!(s.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), placed);
    let result = &doc["results"][0];
    assert_eq!(result["rescheduled"], true);
    assert_eq!(result["status"], "updated");
    assert_eq!(at(&result["placement"]), "oci/eu-frankfurt-1");
    assert_eq!(at(&result["secondary"]), "gcp/europe-west1");
    assert_eq!(result["reason"]["selected"]["total_score"], 0.7695);

    assert_eq!(s.title(STATE, "HEAD"), "idp: reschedule mysql team-beta/analytics-db on oci/eu-frankfurt-1");
    let message = s.message(STATE, "HEAD");
    assert!(message.contains("RESCHEDULED"), "{message}");
    assert_eq!(
        s.trailers(STATE, "HEAD"),
        [
            "Idp-Action: reschedule",
            "Idp-Request: mysql team-beta/analytics-db",
            "Idp-Placement: oci/eu-frankfurt-1 secondary=gcp/europe-west1",
            format!("Idp-Policy-Version: {POLICY_VERSION}").as_str(),
        ]
    );
    // The primary stays where it is: nothing is destroyed, nothing recorded as such.
    assert_eq!(s.git_in(STATE, &["log", "-1", "--format=%(trailers:key=Idp-Destroy,valueonly)"]).trim(), "");
    assert_eq!(
        s.changed_paths(STATE, "HEAD"),
        sorted(&[
            "requests/team-beta/mysql-analytics-db.yaml",
            "placements/team-beta/mysql-analytics-db.yaml",
            "cells/cell-eu/dev/members/team-beta/mysql-analytics-db.yaml",
            "catalog/team-beta/mysql-analytics-db.yaml",
            "platform/team-beta/mysql-analytics-db/cell-eu.dev.primary.yaml",
            "platform/team-beta/mysql-analytics-db/cell-eu.dev.secondary.yaml",
            "platform/team-beta/mysql-analytics-db/cell-eu.dev.replication.yaml",
        ])
    );
    let member = yaml_document(&s.show(STATE, "HEAD:cells/cell-eu/dev/members/team-beta/mysql-analytics-db.yaml"));
    assert_eq!(at(&member["secondary"]), "gcp/europe-west1", "the member file follows the new placement");
    let placement = yaml_document(&s.show(STATE, "HEAD:placements/team-beta/mysql-analytics-db.yaml"));
    assert_eq!(at(&placement["primary"]), "oci/eu-frankfurt-1");
    assert_eq!(at(&placement["secondary"]), "gcp/europe-west1");
    let claim = yaml_document(&s.show(STATE, "HEAD:platform/team-beta/mysql-analytics-db/cell-eu.dev.secondary.yaml"));
    assert_eq!(claim["spec"]["parameters"]["provider"], "gcp");
    assert_eq!(
        claim["spec"]["parameters"]["network"],
        json!({"vpc_name": "vpc-gcp-euw1", "subnet": "db-private-euw1"})
    );
    assert_eq!(claim["spec"]["compositionSelector"]["matchLabels"]["provider"], "gcp");
    s.assert_clean(STATE);
}

#[test]
fn dropping_the_dr_profile_needs_reschedule_and_then_removes_the_secondary_files() {
    let s = Sandbox::with_state_repo();
    let with_dr = s.write("orders-db-dr.yaml", format!("{REQUEST}  drProfile: silver\n"));
    let doc = s.apply(&[&with_dr], &[]);
    assert_eq!(at(&doc["results"][0]["secondary"]), "gcp/us-central1");
    let secondary = "platform/team-alpha/mysql-orders-db/cell-us-east.production.secondary.yaml";
    let replication = "platform/team-alpha/mysql-orders-db/cell-us-east.production.replication.yaml";
    // Adding the secondary and dropping it again touch the same files (the
    // first apply also wrote the namespace's manifest, which stays).
    let every_file = sorted(&[
        ORDERS_REQUEST,
        ORDERS_PLACEMENT,
        ORDERS_MEMBER,
        ORDERS_CATALOG,
        ORDERS_PRIMARY,
        secondary,
        replication,
    ]);
    let mut first = every_file.clone();
    first.extend([ORDERS_NAMESPACE, ORDERS_CELL_APPLICATION, NAMESPACES_APPLICATION].map(str::to_owned));
    first.sort();
    assert_eq!(s.changed_paths(STATE, "HEAD"), first);
    let with_secondary = s.head(STATE);

    let without = s.write("orders-db.yaml", REQUEST);
    let refused = s.idp(&["apply", "-f", &without, "--repo", STATE, "--yes", "-o", "json"]);
    refused.code(1);
    assert_eq!(
        json_error(&refused).0,
        "mysql team-alpha/orders-db is placed on aws/us-east-1, which no longer fits the request: \
         the request no longer asks for a secondary, which the placement has"
    );
    assert_eq!(s.head(STATE), with_secondary);

    // The secondary is a production database: its protection comes off first.
    s.unprotect("team-alpha/orders-db");
    let doc = s.apply(&[&without], &["--reschedule", "--allow-destroy"]);
    let result = &doc["results"][0];
    assert_eq!(result["secondary"], Value::Null);
    assert_eq!(at(&result["placement"]), "aws/us-east-1");
    let deleted = lines(&s.git_in(STATE, &["show", "--diff-filter=D", "--name-only", "--format=", "HEAD"]));
    assert_eq!(deleted, sorted(&[replication, secondary]));
    assert_eq!(s.changed_paths(STATE, "HEAD"), every_file);
    assert!(!s.path(&format!("state/{secondary}")).exists());
    assert!(!s.path(&format!("state/{replication}")).exists());
    assert_eq!(yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_PLACEMENT}")))["secondary"], Value::Null);
    let member = yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_MEMBER}")));
    assert_eq!((&member["secondary"], &member["drProfile"]), (&Value::Null, &Value::Null));
    assert_eq!(s.show(STATE, &format!("HEAD:{ORDERS_REQUEST}")), REQUEST);
    s.assert_clean(STATE);
}

#[test]
fn a_failing_request_writes_nothing_for_the_others() {
    let s = Sandbox::with_state_repo();
    let analytics = s.write("analytics-db.yaml", ANALYTICS);
    s.apply(&[&analytics], &[]);
    let head = s.head(STATE);
    let orders = s.write("orders-db.yaml", REQUEST);
    let ha = s.write("analytics-db-ha.yaml", edit(ANALYTICS, "ha: false", "ha: true"));
    s.idp(&["apply", "-f", &orders, "-f", &ha, "--repo", STATE, "--yes"]).code(1);
    assert_eq!(s.head(STATE), head);
    assert!(!s.path(&format!("state/{ORDERS_REQUEST}")).exists());
    s.assert_clean(STATE);
}

#[test]
fn apply_into_a_bare_repository() {
    let s = Sandbox::new();
    s.git(&["init", "--quiet", "--bare", "--initial-branch=main", "state.git"]);
    s.set_identity("state.git");
    s.idp(&["init", "state.git"]).code(0);
    let ls_tree = |s: &Sandbox| lines(&s.git(&["--git-dir", "state.git", "ls-tree", "-r", "--name-only", "HEAD"]));
    assert_eq!(ls_tree(&s), sorted(&INIT_FILES));

    let file = s.write("orders-db.yaml", REQUEST);
    let run = s.idp(&["apply", "-f", &file, "--repo", "state.git", "--yes", "-o", "json"]);
    run.code(0);
    let head = s.git(&["--git-dir", "state.git", "rev-parse", "HEAD"]).trim().to_owned();
    assert_eq!(run.json()["commit"], head.as_str());
    assert_eq!(s.git(&["--git-dir", "state.git", "rev-parse", "refs/heads/main"]).trim(), head);
    assert_eq!(s.git(&["--git-dir", "state.git", "rev-list", "--count", "HEAD"]).trim(), "2");
    let mut expected: Vec<&str> = INIT_FILES.to_vec();
    expected.extend(ORDERS_FIRST_FILES);
    assert_eq!(ls_tree(&s), sorted(&expected));
    assert_eq!(s.git(&["--git-dir", "state.git", "show", &format!("HEAD:{ORDERS_REQUEST}")]), REQUEST);
    assert_eq!(
        s.git(&["--git-dir", "state.git", "log", "-1", "--format=%s"]).trim(),
        "idp: create mysql team-alpha/orders-db on aws/us-east-1"
    );
    let fsck = s.git_output(&["--git-dir", "state.git", "fsck", "--strict", "--no-dangling", "--no-progress"]);
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stderr));

    // A bare repo is a state repo for every reader too.
    let status = s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", "state.git", "-o", "json"]);
    status.code(0);
    assert_eq!(status.json()["last_change"]["commit"], head.as_str());
}

#[test]
fn uncommitted_edits_in_managed_paths_block_apply() {
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&orders], &[]);
    // So that the delete below meets the hand edit, not the deletion protection.
    s.unprotect("team-alpha/orders-db");
    let head = s.head(STATE);

    let primary = format!("state/{ORDERS_PRIMARY}");
    let edited = format!("{}# a hand edit\n", s.read(&primary));
    s.write(&primary, &edited);
    let other = s.write("other-db.yaml", edit(REQUEST, "name: orders-db", "name: other-db"));
    let run = s.idp(&["apply", "-f", &other, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(1);
    assert_eq!(
        json_error(&run),
        (
            format!("uncommitted changes in idp-managed paths: {ORDERS_PRIMARY}"),
            "commit, stash or discard them first (`git status`); idp will not mix its commit with hand edits"
                .to_owned()
        )
    );
    assert_eq!(s.head(STATE), head);
    // The hand edit is left alone, and nothing of the new request was written.
    assert_eq!(s.read(&primary), edited);
    assert_eq!(s.git_in(STATE, &["status", "--porcelain", "--untracked-files=all"]), format!(" M {ORDERS_PRIMARY}\n"));

    // Staged edits and untracked files under managed paths block it too.
    s.git_in(STATE, &["checkout", "--", "."]);
    s.write("state/policy/policy.yaml", format!("{}# staged\n", default_policy_text()));
    s.git_in(STATE, &["add", "policy/policy.yaml"]);
    let run = s.idp(&["apply", "-f", &other, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(1);
    assert_eq!(json_error(&run).0, "uncommitted changes in idp-managed paths: policy/policy.yaml");
    s.git_in(STATE, &["reset", "--quiet", "--hard"]);
    s.write("state/platform/team-zeta/mysql-stray/primary.yaml", "kind: Secret\n");
    let run = s.idp(&["apply", "-f", &other, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(1);
    assert_eq!(
        json_error(&run).0,
        "uncommitted changes in idp-managed paths: platform/team-zeta/mysql-stray/primary.yaml"
    );
    assert_eq!(s.head(STATE), head);

    // delete refuses the same way, and leaves the hand edit alone.
    s.git_in(STATE, &["clean", "--quiet", "-fd"]);
    s.write(&primary, &edited);
    let run =
        s.idp(&["delete", "mysql", "team-alpha/orders-db", "--repo", STATE, "--yes", "--allow-destroy", "-o", "json"]);
    run.code(1);
    assert_eq!(json_error(&run).0, format!("uncommitted changes in idp-managed paths: {ORDERS_PRIMARY}"));
    assert_eq!(s.head(STATE), head);
    assert_eq!(s.read(&primary), edited);
}

#[test]
fn edits_outside_managed_paths_do_not_block_apply_and_are_kept() {
    let s = Sandbox::with_state_repo();
    let readme = format!("{}\nOur notes.\n", s.read("state/README.md"));
    s.write("state/README.md", &readme);
    let orders = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&orders], &[]);
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&ORDERS_FIRST_FILES));
    assert_eq!(s.read("state/README.md"), readme);
    assert_eq!(s.git_in(STATE, &["status", "--porcelain", "--untracked-files=all"]), " M README.md\n");
}

#[test]
fn apply_and_delete_refuse_a_detached_head() {
    // idp commits onto the branch HEAD names; with no branch it must not move `main`
    // behind a detached HEAD (which would leave the index out of step with HEAD).
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&orders], &[]);
    let main = s.head(STATE);
    for (at, expected_head) in [("HEAD", main.clone()), ("HEAD~1", s.git_in(STATE, &["rev-parse", "HEAD~1"]))] {
        s.git_in(STATE, &["checkout", "--quiet", "--detach", at]);
        let expected_head = expected_head.trim().to_owned();
        let other = s.write("other-db.yaml", edit(REQUEST, "name: orders-db", "name: other-db"));
        let run = s.idp(&["apply", "-f", &other, "--repo", STATE, "--yes", "-o", "json"]);
        run.code(1);
        assert_eq!(
            json_error(&run),
            (
                "HEAD of state is detached: idp commits onto a branch".to_owned(),
                "check out the state repo's branch first (`git -C state switch main`)".to_owned()
            ),
            "detached at {at}"
        );
        let run = s.idp(&[
            "delete",
            "mysql",
            "team-alpha/orders-db",
            "--repo",
            STATE,
            "--yes",
            "--allow-destroy",
            "-o",
            "json",
        ]);
        run.code(1);
        assert_eq!(json_error(&run).0, "HEAD of state is detached: idp commits onto a branch", "detached at {at}");
        assert_eq!(s.head(STATE), expected_head, "detached at {at}");
        assert_eq!(s.git_in(STATE, &["rev-parse", "main"]).trim(), main, "detached at {at}: main moved");
        s.assert_clean(STATE);
        s.git_in(STATE, &["checkout", "--quiet", "main"]);
    }
}

#[test]
fn without_a_terminal_apply_and_delete_refuse_unless_yes() {
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    let head = s.head(STATE);

    // Even a "y" on a pipe is not a confirmation.
    let run = s.idp_stdin(&["apply", "-f", &orders, "--repo", STATE], "y\n");
    run.code(1);
    run.stderr_says("refusing to write without confirmation: not on a terminal");
    run.stderr_says("help: pass --yes to confirm from a script or CI job");
    assert_eq!(s.head(STATE), head);
    s.assert_clean(STATE);
    assert!(!s.path(&format!("state/{ORDERS_REQUEST}")).exists());

    s.apply(&[&orders], &[]);
    let applied = s.head(STATE);
    // Both commits of a production database's removal ask.
    let run = s.idp_stdin(&["delete", "mysql", "team-alpha/orders-db", "--unprotect", "--repo", STATE], "y\n");
    run.code(1);
    run.stderr_says("refusing to write without confirmation: not on a terminal");
    assert_eq!(s.head(STATE), applied);
    s.unprotect("team-alpha/orders-db");
    let applied = s.head(STATE);
    let run = s.idp_stdin(&["delete", "mysql", "team-alpha/orders-db", "--repo", STATE], "y\n");
    run.code(1);
    run.stderr_says("refusing to write without confirmation: not on a terminal");
    run.stderr_says("help: pass --yes to confirm from a script or CI job");
    assert_eq!(s.head(STATE), applied);
    assert_eq!(s.ls_files(STATE).iter().filter(|f| f.contains("orders-db")).count(), ORDERS_FILES.len());
    s.assert_clean(STATE);
}

// ---------------------------------------------------------------------------------------
// plan against the state repo
// ---------------------------------------------------------------------------------------

#[test]
fn plan_against_the_repo_shows_creates_then_nothing_then_a_diff() {
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    let head = s.head(STATE);

    // Before apply: four creates, exit 2 with --detailed-exitcode.
    let run = s.idp(&["plan", "-f", &orders, "--repo", STATE, "-o", "json", "--detailed-exitcode"]);
    run.code(2);
    let result = &run.json()["results"][0];
    assert_eq!(result["status"], "create");
    assert_eq!(result["sticky"], false);
    assert_eq!(changes(result), creates(&ORDERS_FIRST_FILES));
    let table = s.idp(&["plan", "-f", &orders, "--repo", STATE]);
    table.code(0);
    assert_eq!(line_starting(&table.stdout, "CHANGE").split_whitespace().collect::<Vec<_>>(), ["CHANGE", "PATH"]);
    for path in ORDERS_FIRST_FILES {
        assert_eq!(line_starting(&table.stdout, &format!("create  {path}")), format!("create  {path}"));
    }
    assert_eq!(s.head(STATE), head, "plan writes nothing");
    s.assert_clean(STATE);

    // After apply: nothing to do, sticky.
    s.apply(&[&orders], &[]);
    let run = s.idp(&["plan", "-f", &orders, "--repo", STATE, "-o", "json", "--detailed-exitcode"]);
    run.code(0);
    let result = &run.json()["results"][0];
    assert_eq!(result["status"], "exists");
    assert_eq!(result["sticky"], true);
    assert_eq!(result["changes"], json!([]));
    assert_eq!(at(&result["placement"]), "aws/us-east-1");

    // After an edit: an update of the request and the claim, shown as unified diffs.
    let bigger = s.write("orders-db-xlarge.yaml", edit(REQUEST, "size: large", "size: xlarge"));
    let applied = s.head(STATE);
    let run = s.idp(&["plan", "-f", &bigger, "--repo", STATE, "-o", "json", "--detailed-exitcode"]);
    run.code(2);
    let result = &run.json()["results"][0];
    assert_eq!(result["status"], "update");
    assert_eq!(result["sticky"], true);
    assert_eq!(
        changes(result),
        [
            ("update".to_owned(), ORDERS_REQUEST.to_owned()),
            ("update".to_owned(), ORDERS_MEMBER.to_owned()),
            ("update".to_owned(), ORDERS_PRIMARY.to_owned())
        ]
    );
    let diff = s.idp(&["plan", "-f", &bigger, "--repo", STATE, "--diff"]);
    diff.code(0);
    let out = &diff.stdout;
    for expected in [
        format!("--- a/{ORDERS_REQUEST}"),
        format!("+++ b/{ORDERS_REQUEST}"),
        "-  size: large".to_owned(),
        "+  size: xlarge".to_owned(),
        format!("--- a/{ORDERS_PRIMARY}"),
        format!("+++ b/{ORDERS_PRIMARY}"),
        "-    size: \"large\"".to_owned(),
        "+    size: \"xlarge\"".to_owned(),
        format!("--- a/{ORDERS_MEMBER}"),
        format!("+++ b/{ORDERS_MEMBER}"),
        "-monthlyUSD: 1223.0".to_owned(),
        "+monthlyUSD: 2423.0".to_owned(),
    ] {
        assert_eq!(out.lines().filter(|l| *l == expected).count(), 1, "expected the line {expected:?} once:\n{out}");
    }
    assert!(!out.contains(&format!("a/{ORDERS_PLACEMENT}")), "the placement does not change:\n{out}");
    // Only the size lines and the cost estimate change.
    let changed: Vec<&str> = out
        .lines()
        .filter(|l| (l.starts_with('-') && !l.starts_with("---")) || (l.starts_with('+') && !l.starts_with("+++")))
        .collect();
    assert_eq!(changed.len(), 6, "{out}");
    assert_eq!(s.head(STATE), applied);
    s.assert_clean(STATE);
}

// ---------------------------------------------------------------------------------------
// render
// ---------------------------------------------------------------------------------------

/// One request per tier on the default policy: (tier, file name, request text).
fn tier_requests() -> Vec<(&'static str, String)> {
    let tiers: [(&str, &str, &str, &str, &str); 7] = [
        // tier, name, cell, size, ha
        ("low", "low-db", "cell-us-east", "small", "true"),
        ("medium", "medium-db", "cell-us-east", "large", "true"),
        ("critical", "critical-db", "cell-us-east", "medium", "false"),
        ("business_critical", "bc-db", "cell-us-east", "xlarge", "true"),
        ("C0", "c0-db", "payments", "large", "true"),
        ("C1", "c1-db", "cell-us-east", "medium", "false"),
        ("C2", "c2-db", "cell-us-east", "small", "true"),
    ];
    tiers
        .into_iter()
        .map(|(tier, name, cell, size, ha)| {
            let text = format!(
                "apiVersion: idp.platform.example.org/v1alpha1
kind: MySQL
metadata:
  name: {name}
  namespace: team-tiers
spec:
  cell: {cell}
  tier: {tier}
  environment: production
  size: {size}
  storageGB: 100
  ha: {ha}
"
            );
            (tier, text)
        })
        .collect()
}

/// Expected (primary, secondary) per tier, computed by hand from policy/policy.yaml.
fn expected_placement(tier: &str) -> (&'static str, Option<&'static str>) {
    match tier {
        "low" => ("aws/us-east-1", Some("gcp/us-central1")),
        "medium" => ("aws/us-east-1", None),
        // Cost weighs 0.50 and without ha oci passes the gates: 0.12+0.105+0.13+0.425 = 0.78.
        "critical" => ("oci/us-ashburn-1", None),
        "business_critical" => ("aws/us-east-1", Some("gcp/us-central1")),
        "C0" => ("aws/us-east-1", Some("gcp/us-central1")),
        "C1" => ("aws/us-east-1", Some("gcp/us-central1")),
        "C2" => ("gcp/us-central1", None),
        other => panic!("no expectation for tier {other}"),
    }
}

fn render_tier(s: &Sandbox, tier: &str, text: &str) -> Run {
    let file = s.write(&format!("{tier}.yaml"), text);
    let run = s.idp(&["render", "-f", &file]);
    run.code(0);
    run
}

#[test]
fn render_prints_one_yaml_stream_and_writes_nothing() {
    let s = Sandbox::with_state_repo();
    let file = s.fixture("payments-c0.json");
    let head = s.head(STATE);
    let run = s.idp(&["render", "mysql", "-f", &file, "--repo", STATE]);
    run.code(0);
    assert!(run.stdout.starts_with("---\n"), "{}", run.stdout);
    let docs = yaml_documents(&run.stdout);
    let kinds: Vec<(&str, &str)> =
        docs.iter().map(|d| (d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        [
            ("MySQLInstanceClaim", "payments-db"),
            ("MySQLInstanceClaim", "payments-db-secondary"),
            ("ReplicationClaim", "payments-db-replication")
        ]
    );
    let sources: Vec<String> = render_sources(&run.stdout).into_iter().map(|(path, _)| path).collect();
    assert_eq!(
        sources,
        [
            "platform/team-payments/mysql-payments-db/payments.production.primary.yaml",
            "platform/team-payments/mysql-payments-db/payments.production.secondary.yaml",
            "platform/team-payments/mysql-payments-db/payments.production.replication.yaml"
        ]
    );
    assert_eq!(s.head(STATE), head);
    s.assert_clean(STATE);
    assert!(!s.path("state/platform").exists());

    // What render prints is, file for file, what apply commits.
    s.idp(&["apply", "mysql", "-f", &file, "--repo", STATE, "--yes"]).code(0);
    for (path, content) in render_sources(&run.stdout) {
        assert_eq!(s.show(STATE, &format!("HEAD:{path}")), content, "{path}");
    }
}

#[test]
fn render_with_json_output_prints_json_or_refuses() {
    // PRODUCT.md §6: `-o json` prints exactly one JSON document on stdout. A YAML stream
    // there breaks `idp render -o json | jq`; refusing the flag is fine too.
    let s = Sandbox::new();
    let file = s.write("orders-db.yaml", REQUEST);
    let run = s.idp(&["render", "-f", &file, "-o", "json"]);
    if run.code == 0 {
        let doc = run.json();
        assert!(doc.is_object() || doc.is_array(), "{doc}");
    } else {
        run.code(1);
        assert!(run.json()["error"]["message"].is_string(), "a refusal is a JSON error:\n{}", run.stdout);
    }
}

#[test]
fn render_of_one_request_per_tier() {
    let s = Sandbox::new();
    for (tier, text) in tier_requests() {
        let run = render_tier(&s, tier, &text);
        let request = yaml_document(&text);
        let name = request["metadata"]["name"].as_str().unwrap();
        let cell = request["spec"]["cell"].as_str().unwrap();
        let docs = yaml_documents(&run.stdout);
        let (primary, secondary) = expected_placement(tier);

        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        let expected_kinds: &[&str] = if secondary.is_some() {
            &["MySQLInstanceClaim", "MySQLInstanceClaim", "ReplicationClaim"]
        } else {
            &["MySQLInstanceClaim"]
        };
        assert_eq!(kinds, expected_kinds, "{tier}");
        for doc in &docs {
            assert_eq!(doc["apiVersion"], "platform.example.org/v1alpha1", "{tier}");
            assert_eq!(doc["metadata"]["namespace"], "team-tiers", "{tier}");
            let labels = &doc["metadata"]["labels"];
            assert_eq!(labels["app.kubernetes.io/managed-by"], "idp", "{tier}");
            assert_eq!(labels["platform.example.org/cell"], cell, "{tier}");
            assert_eq!(labels["platform.example.org/environment"], "production", "{tier}");
            assert_eq!(labels["platform.example.org/tier"], tier, "{tier}");
            assert_eq!(labels["platform.example.org/request"], format!("team-tiers.mysql.{name}"), "{tier}");
            // Only the active (primary) side is writable: the standby claim is fenced,
            // on the fence wave before the data wave.
            let standby = doc["spec"]["parameters"]["role"] == "secondary";
            let wave = if standby { "-1" } else { "0" };
            assert_eq!(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], wave, "{tier}");
            if doc["kind"] == "MySQLInstanceClaim" {
                assert_eq!(doc["spec"]["parameters"]["writeFence"], standby, "{tier}");
            }
        }
        let side = |doc: &Value| {
            let p = &doc["spec"]["parameters"];
            format!("{}/{}", p["provider"].as_str().unwrap(), p["region"].as_str().unwrap())
        };
        assert_eq!(side(&docs[0]), primary, "{tier}");
        assert_eq!(docs[0]["metadata"]["name"], name, "{tier}");
        assert_eq!(
            docs[0]["spec"]["compositionSelector"]["matchLabels"]["provider"],
            primary.split('/').next().unwrap()
        );
        assert_eq!(docs[0]["spec"]["writeConnectionSecretToRef"]["name"], format!("{name}-conn"));
        if let Some(secondary) = secondary {
            assert_eq!(side(&docs[1]), secondary, "{tier}");
            assert_eq!(docs[1]["metadata"]["name"], format!("{name}-secondary"), "{tier}");
            assert_eq!(docs[1]["metadata"]["labels"]["platform.example.org/role"], "secondary", "{tier}");
            assert_eq!(
                docs[1]["spec"]["compositionSelector"]["matchLabels"]["provider"],
                secondary.split('/').next().unwrap()
            );
            // Every tier here with a secondary uses gold or silver: GoldenGate CDC.
            assert_eq!(docs[2]["spec"]["compositionSelector"]["matchLabels"]["tool"], "oci-goldengate", "{tier}");
            let replication = &docs[2]["spec"]["parameters"];
            assert_eq!(replication["tool"], "oci-goldengate", "{tier}");
            assert_eq!(replication["source"]["claimName"], name, "{tier}");
            assert_eq!(replication["target"]["claimName"], format!("{name}-secondary"), "{tier}");
        }

        let mut settings = snapshot_settings();
        settings.set_omit_expression(true);
        settings.set_description(format!("idp render -f {tier}.yaml"));
        settings.bind(|| insta::assert_snapshot!(format!("render_tier_{tier}"), run.stdout));
    }
}

/// The XRD of `file` in manifests/crossplane.
fn xrd(file: &str) -> Value {
    let path = crate_dir().join("manifests/crossplane").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    yaml_documents(&text)
        .into_iter()
        .find(|d| d["kind"] == "CompositeResourceDefinition")
        .unwrap_or_else(|| panic!("no XRD in {file}"))
}

#[test]
fn rendered_claims_validate_against_the_xrd_schemas() {
    let mysql = crd_schema::claim_schema(&xrd("xrd-mysql.yaml"), "v1alpha1").expect("MySQL claim schema");
    let replication =
        crd_schema::claim_schema(&xrd("xrd-replication.yaml"), "v1alpha1").expect("Replication claim schema");

    let s = Sandbox::new();
    let mut requests = tier_requests();
    requests.push(("analytics", ANALYTICS.to_owned()));
    requests.push(("orders", REQUEST.to_owned()));
    let mut validated = (0, 0);
    let mut problems = Vec::new();
    for (label, text) in &requests {
        let run = render_tier(&s, label, text);
        for (index, doc) in yaml_documents(&run.stdout).iter().enumerate() {
            let (schema, count) = match doc["kind"].as_str() {
                Some("MySQLInstanceClaim") => (&mysql, &mut validated.0),
                Some("ReplicationClaim") => (&replication, &mut validated.1),
                other => panic!("{label}: unexpected kind {other:?}"),
            };
            *count += 1;
            problems.extend(crd_schema::validate(schema, doc).into_iter().map(|v| format!("{label}#{index}: {v}")));
        }
    }
    assert_eq!(problems, Vec::<String>::new());
    // 9 requests, 4 of them with a secondary: 13 MySQL claims and 4 ReplicationClaims.
    assert_eq!(validated, (13, 4));

    // The validator is strict: a field the XRD does not declare is reported, not pruned.
    let run = render_tier(&s, "orders-again", REQUEST);
    let mut claim = yaml_documents(&run.stdout).remove(0);
    claim["spec"]["parameters"]["sizee"] = json!("large");
    let found: Vec<String> = crd_schema::validate(&mysql, &claim).iter().map(ToString::to_string).collect();
    assert!(found.iter().any(|v| v.starts_with("spec.parameters.sizee")), "{found:#?}");
}

// ---------------------------------------------------------------------------------------
// Templates overridden by the state repo
// ---------------------------------------------------------------------------------------

fn embedded_template(name: &str) -> String {
    std::fs::read_to_string(crate_dir().join("templates").join(name)).unwrap()
}

/// Commits `text` as the state repo's own templates/<name>.
fn commit_template(s: &Sandbox, name: &str, text: &str) {
    s.write(&format!("state/templates/{name}"), text);
    s.git_in(STATE, &["add", "templates"]);
    s.git_in(STATE, &["commit", "--quiet", "-m", &format!("override {name}")]);
}

/// Commits `template` as the state repo's mysql/claim.yaml.j2 and checks that apply,
/// render and plan refuse it, naming the template and `problem`, and that nothing is written.
fn assert_claim_template_refused(template: &str, problem: &str) {
    let s = Sandbox::with_state_repo();
    commit_template(&s, "mysql/claim.yaml.j2", template);
    let head = s.head(STATE);
    let orders = s.write("orders-db.yaml", REQUEST);
    let run = s.idp(&["apply", "-f", &orders, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(1);
    assert_eq!(json_error(&run).0, format!("template mysql/claim.yaml.j2 produced an unsafe manifest: {problem}"));
    run.stderr_says("template mysql/claim.yaml.j2 produced an unsafe manifest");
    assert_eq!(s.head(STATE), head);
    s.assert_clean(STATE);
    assert!(!s.path(&format!("state/{ORDERS_REQUEST}")).exists());
    // render and plan refuse it the same way.
    s.idp(&["render", "-f", &orders, "--repo", STATE]).code(1).stderr_says("template mysql/claim.yaml.j2");
    s.idp(&["plan", "-f", &orders, "--repo", STATE]).code(1).stderr_says("template mysql/claim.yaml.j2");
}

#[test]
fn a_claim_template_that_renders_a_secret_is_refused() {
    let claim = embedded_template("data/claim.yaml.j2");
    let secret = edit(
        &edit(&claim, "apiVersion: {{ claim.apiVersion | safe }}", "apiVersion: v1"),
        "kind: {{ claim.kind | safe }}",
        "kind: Secret",
    );
    assert_claim_template_refused(&secret, "v1 Secret is not on idp's allowlist");
}

#[test]
fn a_claim_template_that_smuggles_in_a_second_document_is_refused() {
    let claim = embedded_template("data/claim.yaml.j2");
    let smuggled = format!("{claim}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  namespace: team-alpha\n");
    assert_claim_template_refused(&smuggled, "v1 Secret is not on idp's allowlist");
}

#[test]
fn a_claim_template_that_drops_the_labels_is_refused() {
    let claim = embedded_template("data/claim.yaml.j2");
    let start = claim.find("{%- for key, value in labels").expect("labels loop");
    let end = start + claim[start..].find("{%- endfor %}\n").expect("endfor") + "{%- endfor %}\n".len();
    let unlabelled = format!("{}{}", &claim[..start], &claim[end..]);
    assert_claim_template_refused(
        &unlabelled,
        "MySQLInstanceClaim orders-db lacks label app.kubernetes.io/managed-by: idp",
    );
}

#[test]
fn a_claim_template_that_changes_the_namespace_is_refused() {
    let claim = embedded_template("data/claim.yaml.j2");
    let moved = edit(&claim, "namespace: {{ request.namespace | tojson }}", "namespace: \"kube-system\"");
    // The message quotes the namespace as a user would read it (no Rust `Some(..)`).
    assert_claim_template_refused(
        &moved,
        "MySQLInstanceClaim orders-db is in namespace \"kube-system\", not the request's \"team-alpha\"",
    );
}

#[test]
fn a_hostile_replication_template_is_refused() {
    let s = Sandbox::with_state_repo();
    let replication = edit(
        &embedded_template("data/replication.yaml.j2"),
        "namespace: {{ request.namespace | tojson }}",
        "namespace: \"default\"",
    );
    commit_template(&s, "mysql/replication.yaml.j2", &replication);
    let head = s.head(STATE);
    let file = s.fixture("payments-c0.json");
    let run = s.idp(&["apply", "mysql", "-f", &file, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(1);
    assert_eq!(
        json_error(&run).0,
        "template mysql/replication.yaml.j2 produced an unsafe manifest: ReplicationClaim payments-db-replication \
         is in namespace \"default\", not the request's \"team-payments\""
    );
    assert_eq!(s.head(STATE), head);
    s.assert_clean(STATE);
}

#[test]
fn a_template_that_does_not_compile_is_named() {
    let s = Sandbox::with_state_repo();
    commit_template(&s, "mysql/claim.yaml.j2", "{{ nope.nothing }}\n");
    let head = s.head(STATE);
    let orders = s.write("orders-db.yaml", REQUEST);
    let run = s.idp(&["apply", "-f", &orders, "--repo", STATE, "--yes", "-o", "json"]);
    run.code(1);
    let (message, _) = json_error(&run);
    assert!(message.starts_with("template mysql/claim.yaml.j2 does not compile: "), "{message}");
    assert_eq!(s.head(STATE), head);
}

#[test]
fn a_benign_template_override_is_used_by_apply() {
    let s = Sandbox::with_state_repo();
    let template = edit(
        &embedded_template("data/claim.yaml.j2"),
        "  annotations:\n",
        "  annotations:\n    example.org/owner: \"dba-team\"\n",
    );
    commit_template(&s, "mysql/claim.yaml.j2", &template);
    let orders = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&orders], &[]);
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&ORDERS_FIRST_FILES));
    let claim = yaml_document(&s.show(STATE, &format!("HEAD:{ORDERS_PRIMARY}")));
    assert_eq!(claim["metadata"]["annotations"]["example.org/owner"], "dba-team");
    assert!(claim["metadata"]["annotations"]["platform.example.org/placement-reason"].is_string());
    // Only the committed override counts: render without the repo uses the embedded one.
    let run = s.idp(&["render", "-f", &orders]);
    run.code(0);
    assert!(!run.stdout.contains("example.org/owner"), "{}", run.stdout);
    s.assert_clean(STATE);
}

// ---------------------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------------------

#[test]
fn status_shows_placement_files_secret_and_last_change() {
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    s.apply(&[&orders], &[]);
    let applied = s.head(STATE);

    let run = s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "-o", "json"]);
    run.code(0);
    let doc = run.json();
    assert_eq!(doc["kind"], "mysql");
    assert_eq!(doc["namespace"], "team-alpha");
    assert_eq!(doc["name"], "orders-db");
    assert_eq!(
        doc["placement"],
        json!({
            "provider": "aws",
            "region": "us-east-1",
            "runtimeCluster": "aws-use1-prod-01",
            "network": {"vpc_id": "vpc-aws-use1", "subnet_group": "db-private-use1"}
        })
    );
    assert_eq!(doc["secondary"], Value::Null);
    assert_eq!(doc["tier"], "medium");
    assert_eq!(doc["total_score"], 0.825);
    assert_eq!(doc["policy_version"], POLICY_VERSION);
    assert_eq!(doc["connection_secret"], "orders-db-conn");
    assert_eq!(doc["secondary_connection_secret"], Value::Null);
    assert_eq!(doc["files"], json!([ORDERS_REQUEST, ORDERS_PLACEMENT, ORDERS_CATALOG, ORDERS_PRIMARY, ORDERS_MEMBER]));
    let last = &doc["last_change"];
    assert_eq!(last["commit"], applied.as_str());
    assert_eq!(last["title"], "idp: create mysql team-alpha/orders-db on aws/us-east-1");
    assert_eq!(last["author"], GIT_NAME);
    let time: i64 = s.git_in(STATE, &["log", "-1", "--format=%ct"]).trim().parse().unwrap();
    assert_eq!(last["time"], time);

    let table = s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE]);
    table.code(0);
    let out = &table.stdout;
    assert_eq!(line_starting(out, "primary"), "primary      aws/us-east-1 (aws-use1-prod-01)");
    assert_eq!(line_starting(out, "secret"), "secret       orders-db-conn");
    assert_eq!(
        line_starting(out, "last change"),
        format!("last change  {} idp: create mysql team-alpha/orders-db on aws/us-east-1 ({GIT_NAME})", &applied[..12])
    );
    for path in ORDERS_FILES {
        assert_eq!(line_starting(out, &format!("  {path}")), format!("  {path}"));
    }

    // A later commit for another request does not change orders-db's last change.
    let other = s.write("other-db.yaml", edit(REQUEST, "name: orders-db", "name: other-db"));
    s.apply(&[&other], &[]);
    assert_ne!(s.head(STATE), applied);
    let run = s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "-o", "json"]);
    run.code(0);
    assert_eq!(run.json()["last_change"]["commit"], applied.as_str());
}

#[test]
fn status_of_a_missing_request_suggests_plan() {
    let s = Sandbox::with_state_repo();
    let run = s.idp(&["status", "mysql", "team-alpha/nope", "--repo", STATE, "-o", "json"]);
    run.code(1);
    assert_eq!(
        json_error(&run),
        (
            "mysql team-alpha/nope is not in the state repo".to_owned(),
            "`idp plan` shows where it would land; `idp apply` places it".to_owned()
        )
    );
    run.stderr_says("`idp plan` shows where it would land");
}

// ---------------------------------------------------------------------------------------
// delete and revert
// ---------------------------------------------------------------------------------------

#[test]
fn delete_removes_exactly_the_request_files_in_one_commit() {
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    let other = s.write("other-db.yaml", edit(REQUEST, "name: orders-db", "name: other-db"));
    s.apply(&[&orders], &[]);
    s.apply(&[&other], &[]);
    s.unprotect("team-alpha/orders-db");
    let before = s.head(STATE);

    let run = s.idp(&["delete", "mysql", "team-alpha/orders-db", "--repo", STATE, "--yes", "--allow-destroy"]);
    run.code(0);
    let head = s.head(STATE);
    assert!(run.stdout.contains(&head), "delete should name its commit:\n{}", run.stdout);
    assert_eq!(s.git_in(STATE, &["rev-parse", "HEAD~1"]).trim(), before);
    assert_eq!(s.title(STATE, "HEAD"), "idp: delete mysql team-alpha/orders-db (was on aws/us-east-1)");
    assert_eq!(s.trailers(STATE, "HEAD"), ["Idp-Action: delete", "Idp-Request: mysql team-alpha/orders-db"]);
    assert_eq!(s.changed_paths(STATE, "HEAD"), sorted(&ORDERS_FILES));
    let deleted = lines(&s.git_in(STATE, &["show", "--diff-filter=D", "--name-only", "--format=", "HEAD"]));
    assert_eq!(deleted.len(), ORDERS_FILES.len(), "every change is a deletion");
    let removed_lines: usize = ORDERS_FILES.iter().map(|f| s.show(STATE, &format!("HEAD~1:{f}")).lines().count()).sum();
    let stat = s.stat(STATE, "HEAD");
    assert!(stat.ends_with(&format!(" 5 files changed, {removed_lines} deletions(-)\n")), "{stat}");

    // The other request and the init files stay; the work tree follows.
    let mut remaining: Vec<&str> = INIT_FILES.to_vec();
    remaining.extend([
        "requests/team-alpha/mysql-other-db.yaml",
        "placements/team-alpha/mysql-other-db.yaml",
        "platform/team-alpha/mysql-other-db/cell-us-east.production.primary.yaml",
        "argocd/cells/cell-us-east/production.yaml",
        "argocd/namespaces.yaml",
        "cells/cell-us-east/production/members/team-alpha/mysql-other-db.yaml",
        "catalog/team-alpha/mysql-other-db.yaml",
        ORDERS_NAMESPACE,
    ]);
    assert_eq!(s.ls_files(STATE), sorted(&remaining));
    assert!(!s.path("state/platform/team-alpha/mysql-orders-db").exists());
    assert!(!s.path(&format!("state/{ORDERS_MEMBER}")).exists());
    s.assert_clean(STATE);
    s.assert_fsck(STATE);

    s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE]).code(1);
    let again =
        s.idp(&["delete", "mysql", "team-alpha/orders-db", "--repo", STATE, "--yes", "--allow-destroy", "-o", "json"]);
    again.code(1);
    assert_eq!(json_error(&again).0, "mysql team-alpha/orders-db is not in the state repo");
    assert_eq!(s.head(STATE), head);
}

#[test]
fn git_revert_of_an_apply_forgets_the_placement() {
    let s = Sandbox::with_state_repo();
    let orders = s.write("orders-db.yaml", REQUEST);
    let doc = s.apply(&[&orders], &[]);
    let applied = doc["commit"].as_str().unwrap().to_owned();

    s.git_in(STATE, &["revert", "--no-edit", &applied]);
    assert_eq!(s.ls_files(STATE), sorted(&INIT_FILES));
    s.assert_clean(STATE);

    let run = s.idp(&["plan", "-f", &orders, "--repo", STATE, "-o", "json", "--detailed-exitcode"]);
    run.code(2);
    let result = &run.json()["results"][0];
    assert_eq!(result["status"], "create");
    assert_eq!(result["sticky"], false);
    assert_eq!(changes(result), creates(&ORDERS_FIRST_FILES));

    let status = s.idp(&["status", "mysql", "team-alpha/orders-db", "--repo", STATE, "-o", "json"]);
    status.code(1);
    assert_eq!(json_error(&status).0, "mysql team-alpha/orders-db is not in the state repo");

    // Applying again recreates the same files.
    let doc = s.apply(&[&orders], &[]);
    assert_eq!(doc["results"][0]["status"], "created");
    assert_eq!(
        s.git_in(STATE, &["diff", "--stat", &applied, "HEAD"]),
        "",
        "re-applying after the revert must produce the tree the first apply did"
    );
    s.assert_fsck(STATE);
}
