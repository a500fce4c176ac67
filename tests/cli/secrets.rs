//! No secret value reaches the state repo: a template (a state repo's override) that
//! writes a password, a private key or a cloud access key is refused before anything is
//! written, and the refusal does not repeat the secret.

use crate::common::{REQUEST, TestEnv, crate_dir};

/// A state repo whose claim template is `template`; the repo's HEAD after committing it.
fn state_with_claim_template(env: &TestEnv, template: &str) -> String {
    env.init_state("state");
    env.write("state/templates/mysql/claim.yaml.j2", template);
    env.git(&["-C", "state", "add", "templates"]);
    env.git(&["-C", "state", "commit", "--quiet", "-m", "override the claim template"]);
    env.git(&["-C", "state", "rev-parse", "HEAD"])
}

#[test]
fn a_template_that_writes_a_secret_value_is_refused_without_repeating_it() {
    let claim = std::fs::read_to_string(crate_dir().join("templates/data/claim.yaml.j2")).unwrap();
    let anchor = "  writeConnectionSecretToRef:\n";
    assert_eq!(claim.matches(anchor).count(), 1, "the claim template changed; update this test");
    let cases = [
        ("  masterPassword: \"hunter2-s3cret\"\n", "MySQLInstanceClaim: .spec.masterPassword holds a literal value"),
        (
            "  caBundle: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\"\n",
            "MySQLInstanceClaim: .spec.caBundle holds a private key",
        ),
        ("  note: \"AKIAABCDEFGHIJKLMNOP\"\n", "MySQLInstanceClaim: .spec.note holds an AWS access key id"),
    ];
    for (line, expected) in cases {
        let env = TestEnv::new();
        let head = state_with_claim_template(&env, &claim.replacen(anchor, &format!("{line}{anchor}"), 1));
        let request = env.write("orders-db.yaml", REQUEST);
        for command in ["apply", "plan", "render"] {
            let mut args = vec![command, "-f", &request, "--repo", "state", "-o", "json"];
            if command == "apply" {
                args.push("--yes");
            }
            let run = env.idp(&args);
            run.code(1);
            let message = run.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.contains(expected), "idp {command}: {message}");
            for secret in ["hunter2", "MIIEow", "AKIAABCDEFGHIJKLMNOP"] {
                assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "idp {command} repeats {secret}");
            }
        }
        assert_eq!(env.git(&["-C", "state", "rev-parse", "HEAD"]), head, "a commit was made");
        assert_eq!(env.git(&["-C", "state", "status", "--porcelain", "--untracked-files=all"]), "");
    }
}

/// A state repo with one request applied and `files` committed by hand on top.
fn state_with_hand_edits(env: &TestEnv, files: &[(&str, &str)]) {
    env.init_state("state");
    let request = env.write("orders-db.yaml", REQUEST);
    env.idp(&["apply", "-f", &request, "--repo", "state", "--yes"]).code(0);
    let run = env.idp(&["verify", "--repo", "state", "-o", "json"]);
    assert_eq!(run.json()["findings"], serde_json::json!([]), "verify passes before the edits");
    for (path, text) in files {
        env.write(&format!("state/{path}"), text);
    }
    env.git(&["-C", "state", "add", "--all"]);
    env.git(&["-C", "state", "commit", "--quiet", "-m", "hand edits"]);
}

/// `verify` reads every file of the state repo with the render guard's scanner, whatever
/// the file is: flow mappings, env vars with literal values, templates, Rego, READMEs and
/// URLs with passwords are each flagged at their file and line, and no finding repeats
/// the secret.
#[test]
fn verify_scans_every_file_with_the_guards_scanner() {
    let env = TestEnv::new();
    let cases: &[(&str, &str, &str)] = &[
        (
            "platform/team-alpha/mysql-orders-db/flow.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: team-alpha}\ndata: {DB_PASSWORD: hunter2-flow}\n",
            "line 4: .data.DB_PASSWORD holds a literal value",
        ),
        (
            "platform/team-alpha/mysql-orders-db/env.yaml",
            "kind: Deployment\nspec:\n  containers:\n    - name: web\n      env:\n        - name: STRIPE_API_TOKEN\n          value: hunter2-env\n",
            "line 7: .spec.containers[0].env[0].value sets STRIPE_API_TOKEN to a literal value",
        ),
        (
            "templates/mysql/notes.yaml.j2",
            "metadata:\n  name: {{ request.name | tojson }}\n{% if true %}\nspec:\n  adminPassword: \"hunter2-template\"\n{% endif %}\n",
            "line 5: .spec.adminPassword holds a literal value",
        ),
        (
            "policy/rules/token.rego",
            "package idp\n\napi_token := \"hunter2-rego\"\n",
            "line 3: `api_token` holds a literal value",
        ),
        (
            "docs/RUNBOOK.md",
            "# Runbook\n\nClone https://ci-bot:hunter2-readme@git.example.org/state.git first.\n",
            "line 3: holds a URL with a password in it",
        ),
        (
            "argocd/extra.yaml",
            "spec:\n  source:\n    repoURL: ssh://git:hunter2-ssh@git.example.org/state.git\n",
            "line 3: holds a URL with a password in it",
        ),
    ];
    let files: Vec<(&str, &str)> = cases.iter().map(|(path, text, _)| (*path, *text)).collect();
    state_with_hand_edits(&env, &files);
    let run = env.idp(&["verify", "--repo", "state", "-o", "json"]);
    run.code(1);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    for (path, _, expected) in cases {
        let found = findings.iter().any(|f| f["file"] == *path && f["message"].as_str().unwrap().starts_with(expected));
        assert!(found, "{path}: expected `{expected}` in\n{findings:#?}");
    }
    let human = env.idp(&["verify", "--repo", "state"]);
    human.code(1);
    for output in [&run.stdout, &run.stderr, &human.stdout, &human.stderr] {
        assert!(!output.contains("hunter2"), "a finding repeats a secret:\n{output}");
    }
}

/// A password in the policy's `gitops.repoURL` (which every Argo CD Application carries)
/// is refused wherever the policy is read, and shown as `***` in the message and the
/// snippet.
#[test]
fn a_password_in_the_gitops_repo_url_is_refused_and_never_shown() {
    let env = TestEnv::new();
    let policy = std::fs::read_to_string(crate_dir().join("policy/policy.yaml")).unwrap();
    let url = "https://git.example.org/platform/idp-state.git";
    assert!(policy.contains(url), "the default policy changed; update this test");
    let leaky = policy.replace(url, "https://ci-bot:hunter2/x?y#z@git.example.org/platform/idp-state.git");
    env.init_state("state");
    env.write("state/policy/policy.yaml", &leaky);
    env.git(&["-C", "state", "commit", "--quiet", "-am", "policy with a password"]);
    let head = env.git(&["-C", "state", "rev-parse", "HEAD"]);
    let file = env.write("leaky-policy.yaml", &leaky);
    let request = env.write("orders-db.yaml", REQUEST);
    let runs = [
        env.idp(&["verify", "--repo", "state"]),
        env.idp(&["policy", "validate", &file]),
        env.idp(&["apply", "-f", &request, "--repo", "state", "--yes"]),
    ];
    for run in runs {
        run.code(1);
        run.stderr_says("gitops.repoURL `https://ci-bot:***@git.example.org/platform/idp-state.git` holds a password");
        assert!(
            !run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"),
            "idp {}:\n{}",
            run.args,
            run.stderr
        );
    }
    assert_eq!(env.git(&["-C", "state", "rev-parse", "HEAD"]), head, "apply committed");
    assert_eq!(env.git(&["-C", "state", "status", "--porcelain", "--untracked-files=all"]), "");
}
