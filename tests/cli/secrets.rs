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
    let claim = std::fs::read_to_string(crate_dir().join("templates/mysql/claim.yaml.j2")).unwrap();
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
