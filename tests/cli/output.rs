//! Every command behaves the same way: one JSON document per outcome, with the
//! shape documented in docs/json-output.md and docs/schemas/; `-o yaml` says
//! what `-o json` says; tables drop their headers with `--no-headers`; nothing
//! prompts without a terminal; and the human output of the everyday commands
//! is snapshotted against a fixed state repo.

use serde_json::Value;

use crate::common::{TestEnv, assert_human_snapshot, crate_dir, edit};

const STATE: &str = "state";

/// A state repo holding orders-db (medium), the payments C0 database and the
/// checkout app that follows it.
fn populated() -> TestEnv {
    let env = TestEnv::new();
    for example in ["orders-db.yaml", "payments-c0.json", "payments-app.yaml"] {
        env.example(example);
    }
    env.idp(&["init", STATE]).code(0);
    env.idp(&["apply", "-f", "orders-db.yaml", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes"]).code(0);
    env
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = crate_dir().join(format!("docs/schemas/{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
}

pub(crate) fn assert_shape(name: &str, args: &str, doc: &Value) {
    let errors: Vec<String> = schema(name).iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "idp {args}: not the shape of docs/schemas/{name}.schema.json:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

/// `(schema, arguments, exit code)`, in an order that leaves every command
/// something to act on.
const OUTCOMES: &[(&str, &str, i32)] = &[
    ("plan", "plan -f orders-db.yaml --repo state", 0),
    ("apply", "apply -f orders-db.yaml --repo state --yes", 0),
    ("render", "render -f orders-db.yaml --repo state", 0),
    ("status", "status mysql team-alpha/orders-db --repo state", 0),
    ("status", "status app team-payments/checkout --repo state", 0),
    ("status-cell", "status cell payments prod --repo state", 0),
    ("list", "list --repo state", 0),
    ("list", "list mysql --cell payments --namespace team-payments --repo state", 0),
    ("products", "products --repo state", 0),
    ("products", "products pg --repo state", 0),
    ("history", "history --repo state", 0),
    ("verify", "verify --repo state", 0),
    // No cluster here (no kubeconfig in the sandbox's home): the document says so, exit 1.
    ("status-live", "status mysql team-alpha/orders-db --live --repo state", 1),
    ("status-cell-live", "status cell payments prod --live --repo state", 1),
    ("policy-show", "policy show --repo state", 0),
    ("policy-costs", "policy show --costs --repo state", 0),
    ("policy-explain", "policy explain C0 --cell payments --repo state", 0),
    ("policy-validate", "policy validate --repo state", 0),
    ("policy-test", "policy test --repo state", 0),
    ("policy-diff", "policy diff HEAD HEAD --repo state", 0),
    ("policy-cordon", "policy cordon oci/us-ashburn-1 --yes --repo state", 0),
    ("policy-cordon", "policy uncordon oci/us-ashburn-1 --yes --repo state", 0),
    ("doctor", "doctor --repo state", 0),
    ("failover", "failover --no-wait --cell payments --env prod --replication-lag 3 --yes --repo state", 0),
    ("failover", "failback --cell payments --env prod --replication-lag 3 --dry-run --repo state", 0),
    (
        "migrate",
        "migrate mysql team-alpha/orders-db --to gcp/us-central1 --replication-lag 3 --dry-run --repo state",
        0,
    ),
    ("rollback", "rollback --yes --allow-destroy --repo state", 0),
    ("error", "delete mysql team-alpha/orders-db --yes --allow-destroy --repo state", 1),
    ("delete-unprotect", "delete mysql team-alpha/orders-db --unprotect --yes --repo state", 0),
    ("delete-unprotect", "delete mysql team-alpha/orders-db --unprotect --yes --repo state", 0),
    ("delete", "delete mysql team-alpha/orders-db --yes --allow-destroy --repo state", 0),
    ("init", "init fresh", 0),
    ("error", "plan -f missing.yaml", 1),
    ("error", "status mysql team-alpha/nothing --repo state", 1),
    // Usage errors (clap's) are the same one document.
    ("error", "delete mysqlx team-alpha/orders-db --repo state", 1),
    ("error", "apply --repo state", 1),
    ("error", "plan --no-such-flag", 1),
];

/// A command line idp cannot parse is, under `-o json`/`-o yaml`, the one error
/// document on stdout with a code saying which kind of mistake (as README and
/// docs/json-output.md promise), and clap's own words on stderr.
#[test]
fn usage_errors_are_error_documents_under_json_and_yaml() {
    let env = TestEnv::new();
    for (args, code) in [
        (&["apply"][..], "idp::usage::missing_argument"),
        (&["plan", "--no-such-flag"][..], "idp::usage::unknown_argument"),
        (&["plan", "--timeout", "x"][..], "idp::usage::unknown_argument"),
        (&["nonsense"][..], "idp::usage::unknown_command"),
        (&["failover", "--cell", "c", "--env", "prod", "--push", "--branch", "HEAD"][..], "idp::usage::invalid_value"),
    ] {
        for format in ["json", "yaml"] {
            let mut argv = args.to_vec();
            argv.extend(["-o", format]);
            let run = env.idp(&argv);
            run.code(1);
            let doc: Value = if format == "json" {
                run.json()
            } else {
                serde_saphyr::from_str(&run.stdout).unwrap_or_else(|e| panic!("{argv:?}: {e}\n{}", run.stdout))
            };
            assert_eq!(doc["error"]["code"], code, "{argv:?}: {doc:#}");
            assert_shape("error", &argv.join(" "), &doc);
            assert!(run.stderr.starts_with("error: "), "clap's words on stderr too: {}", run.stderr);
        }
    }
    // Without -o, stdout stays empty.
    assert_eq!(env.idp(&["apply"]).code(1).stdout, "");
}

#[test]
fn every_outcome_prints_one_json_document_of_its_documented_shape() {
    let env = populated();
    for (name, args, code) in OUTCOMES {
        let mut argv: Vec<&str> = args.split(' ').collect();
        argv.extend(["-o", "json"]);
        let doc = env.idp(&argv).code(*code).json();
        assert_shape(name, args, &doc);
    }
}

#[test]
fn every_schema_is_used_and_documented() {
    let docs = std::fs::read_to_string(crate_dir().join("docs/json-output.md")).unwrap();
    let used: Vec<&str> = OUTCOMES.iter().map(|(name, _, _)| *name).collect();
    for entry in std::fs::read_dir(crate_dir().join("docs/schemas")).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let name = file.strip_suffix(".schema.json").unwrap_or_else(|| panic!("docs/schemas/{file}: not a schema"));
        assert!(used.contains(&name) || name == "plan", "docs/schemas/{file} is checked by no test");
        assert!(docs.contains(&format!("schemas/{file}")), "docs/json-output.md does not document {file}");
    }
}

#[test]
fn yaml_says_what_json_says() {
    let env = populated();
    for args in [
        "status mysql team-alpha/orders-db",
        "status cell payments prod",
        "history",
        "list",
        "policy explain medium",
        "verify",
        "doctor",
    ] {
        let mut argv: Vec<&str> = args.split(' ').collect();
        argv.extend(["--repo", STATE, "-o"]);
        let json = env.idp(&[argv.as_slice(), &["json"]].concat()).code(0).json();
        let run = env.idp(&[argv.as_slice(), &["yaml"]].concat());
        let yaml = run.code(0);
        let yaml: Value = serde_saphyr::from_str(&yaml.stdout).unwrap_or_else(|e| panic!("idp {args} -o yaml: {e}"));
        assert_eq!(yaml, json, "idp {args}: -o yaml and -o json disagree");
    }
}

#[test]
fn tables_have_uppercase_headers_that_no_headers_removes() {
    let env = populated();
    for args in ["history", "list", "doctor", "status cell payments prod"] {
        let mut argv: Vec<&str> = args.split(' ').collect();
        argv.extend(["--repo", STATE]);
        let with = env.idp(&argv).code(0).stdout.clone();
        let header = with.lines().find(|l| !l.trim().is_empty() && l.chars().any(char::is_alphabetic)).unwrap();
        let header = if args.starts_with("status") {
            with.lines().find(|l| l.starts_with("KIND")).expect("status cell has a member table").to_owned()
        } else {
            header.to_owned()
        };
        assert_eq!(header, header.to_uppercase(), "idp {args}: headers are UPPERCASE");
        argv.push("--no-headers");
        let without = env.idp(&argv).code(0).stdout.clone();
        assert!(!without.contains(&header), "idp {args} --no-headers still prints {header:?}");
        assert!(!with.contains('│') && !with.contains("+--"), "idp {args}: tables have no borders");
    }
}

/// Commands that would ask refuse without a terminal (stdin is a pipe here
/// that even holds an answer), immediately and without writing.
#[test]
fn nothing_prompts_without_a_terminal() {
    let env = populated();
    let head = || env.git(&["-C", STATE, "rev-parse", "HEAD"]);
    let refuses = |args: &str| {
        let before = head();
        let argv: Vec<&str> = args.split(' ').collect();
        let started = std::time::Instant::now();
        let run = env.idp_stdin(&argv, "y\npayments\n");
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "idp {args} waited for input");
        run.code(1);
        assert!(
            run.stderr.contains("not on a terminal") || run.stderr.contains("not run on a terminal"),
            "idp {args}: says why it refused\n{}",
            run.stderr
        );
        assert_eq!(head(), before, "idp {args} wrote without confirmation");
    };
    let changed = env.write(
        "orders-db.yaml",
        std::fs::read_to_string(crate_dir().join("examples/orders-db.yaml"))
            .unwrap()
            .replace("storageGB: 100", "storageGB: 200"),
    );
    refuses(&format!("apply -f {changed} --repo state"));
    refuses("delete mysql team-alpha/orders-db --unprotect --repo state");
    refuses("delete app team-payments/checkout --repo state");
    refuses("rollback --repo state");
    refuses("failover --no-wait --cell payments --env prod --replication-lag 3 --repo state");
    refuses("init");
    env.idp(&[
        "failover",
        "--no-wait",
        "--cell",
        "payments",
        "--env",
        "prod",
        "--replication-lag",
        "3",
        "--repo",
        STATE,
        "--yes",
    ])
    .code(0);
    refuses("failback --no-wait --cell payments --env prod --replication-lag 3 --repo state");
}

/// The everyday human output, against a fixed repo. Commit ids, times and
/// digests vary; everything else is reviewed.
#[test]
fn human_output_of_plan_apply_status_history() {
    let env = TestEnv::new();
    for example in ["orders-db.yaml", "payments-c0.json"] {
        env.example(example);
    }
    env.idp(&["init", STATE]).code(0);
    let runs = [
        ("plan", vec!["plan", "mysql", "-f", "payments-c0.json", "--repo", STATE]),
        ("apply", vec!["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]),
        ("apply_again", vec!["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]),
        ("status", vec!["status", "mysql", "team-payments/payments-db", "--repo", STATE]),
        ("history", vec!["history", "--repo", STATE]),
    ];
    for (name, args) in runs {
        let run = env.idp(&args);
        run.code(0);
        assert_human_snapshot!(format!("human_{name}"), run);
    }
}

// ---------------------------------------------------------------------------------------
// Human output of the commands that write, and of the checks, with --color never
// ---------------------------------------------------------------------------------------

/// The payments C0 database and the checkout app that follows it (a cell that can
/// fail over), applied to a fresh state repo with the test identity.
pub(crate) fn payments_cell() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env.example("payments-c0.json");
    env.example("payments-app.yaml");
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    env.idp(&["apply", "-f", "payments-app.yaml", "--repo", STATE, "--yes"]).code(0);
    env
}

/// orders-db applied to a fresh state repo with the test identity.
/// The example orders-db, in staging: the delete and rollback below remove it in one
/// commit, which a production database's deletion protection would refuse (its two
/// commits are in tests/cli/protection.rs).
fn orders_db() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    let text = env.read(&env.example("orders-db.yaml"));
    env.write("orders-db.yaml", edit(&text, "environment: production", "environment: staging"));
    env.idp(&["apply", "-f", "orders-db.yaml", "--repo", STATE, "--yes"]).code(0);
    env
}

#[test]
fn human_output_of_init() {
    let env = TestEnv::new();
    let run = env.idp(&["init", STATE, "--color", "never"]);
    run.code(0);
    assert_human_snapshot!("human_init", run);
}

#[test]
fn human_output_of_failover_and_its_dry_run() {
    let env = payments_cell();
    let failover =
        ["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "3", "--repo", STATE];
    let dry_run = env.idp(&[&failover[..], &["--dry-run", "--color", "never"]].concat());
    dry_run.code(0);
    assert_human_snapshot!("human_failover_dry_run", dry_run);
    // Staged (the default): the stages, each with what it moves.
    let staged = env.idp(&[
        "failover",
        "--cell",
        "payments",
        "--env",
        "prod",
        "--replication-lag",
        "3",
        "--repo",
        STATE,
        "--dry-run",
        "--color",
        "never",
    ]);
    staged.code(0);
    assert_human_snapshot!("human_failover_staged_dry_run", staged);
    let run = env.idp(&[&failover[..], &["--yes", "--color", "never"]].concat());
    run.code(0);
    assert_human_snapshot!("human_failover", run);
}

#[test]
fn human_output_of_verify_on_a_clean_repo_and_on_one_with_findings() {
    let env = orders_db();
    let run = env.idp(&["verify", "--repo", STATE, "--color", "never"]);
    run.code(0);
    assert_human_snapshot!("human_verify_clean", run);

    // A hand edit of a rendered manifest and a removed catalog location, committed with git.
    let primary = "state/platform/team-alpha/mysql-orders-db/cell-us-east.staging.primary.yaml";
    env.write(primary, edit(&env.read(primary), "storageGB: 100", "storageGB: 500"));
    std::fs::remove_file(env.path("state/catalog/location.yaml")).unwrap();
    env.git_in(STATE, &["commit", "--quiet", "--all", "-m", "a change made without idp"]);
    let run = env.idp(&["verify", "--repo", STATE, "--color", "never"]);
    run.code(1);
    assert_human_snapshot!("human_verify_findings", run);
}

#[test]
fn human_output_of_doctor_on_a_healthy_repo_and_on_one_with_warnings() {
    let env = TestEnv::new();
    env.init_state(STATE);
    let run = env.idp(&["doctor", "--repo", STATE, "--color", "never"]);
    run.code(0);
    assert_human_snapshot!("human_doctor", run);

    // No identity anywhere (a failure: idp would refuse to commit), and an https remote
    // without credentials (a warning).
    env.idp(&["init", "unconfigured"]).code(0);
    env.git_in("unconfigured", &["remote", "add", "origin", "https://git.example.org/platform/state.git"]);
    let run = env.idp_anonymous(&["doctor", "--repo", "unconfigured", "--color", "never"]);
    run.code(1);
    assert_human_snapshot!("human_doctor_warnings", run);
}

#[test]
fn human_output_of_rollback() {
    let env = orders_db();
    let run = env.idp(&["rollback", "--yes", "--allow-destroy", "--repo", STATE, "--color", "never"]);
    run.code(0);
    assert_human_snapshot!("human_rollback", run);
}

#[test]
fn human_output_of_delete() {
    let env = orders_db();
    let run = env.idp(&[
        "delete",
        "mysql",
        "team-alpha/orders-db",
        "--yes",
        "--allow-destroy",
        "--repo",
        STATE,
        "--color",
        "never",
    ]);
    run.code(0);
    assert_human_snapshot!("human_delete", run);
}
