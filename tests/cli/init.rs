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
