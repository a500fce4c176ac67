//! Object identity: two requests never render the same Kubernetes object.
//!
//! By construction for new requests: an app's Applications and traffic objects are
//! named `<namespace>--<name>...` (no new app's namespace or name holds `--`, so the
//! first one splits the name back), and no new database's name ends in `-secondary`
//! or `-replication` (the suffixes of its derived claims); such a name is refused where
//! it is written. Requests placed before keep the names they were rendered with (their
//! placement record says which scheme), and for them plan and apply still refuse a
//! request whose objects would meet another's, naming both and the object, and write
//! nothing. (`verify`'s whole-repo check has its own test.) Results are read back with
//! the git CLI.

use serde_json::Value;

use crate::common::{Run, TestEnv, edit, yaml_documents};

const STATE: &str = "state";

fn state() -> TestEnv {
    let env = TestEnv::new();
    env.init_state(STATE);
    env
}

/// payments-c0.json (C0: a secondary on another cloud) renamed.
fn database(env: &TestEnv, namespace: &str, name: &str) -> String {
    let text = edit(&env.read(&env.example("payments-c0.json")), "\"payments-db\"", &format!("\"{name}\""));
    let text = edit(&text, "\"team-payments\"", &format!("\"{namespace}\""));
    env.write(&format!("{namespace}/{name}.json"), text)
}

/// payments-app.yaml (with a public host and a secondary) renamed, naming no database
/// (identity is about names; these apps are placed on their own), with a public host of
/// its own (a host serves one app).
fn app(env: &TestEnv, namespace: &str, name: &str) -> String {
    let text = edit(&env.read(&env.example("payments-app.yaml")), "name: checkout", &format!("name: {name}"));
    let text = edit(&text, "  database: payments-db\n", "");
    let text = edit(
        &text,
        "publicHost: checkout.payments.example.org",
        &format!("publicHost: {name}.{namespace}.payments.example.org"),
    );
    let text = edit(&text, "namespace: team-payments", &format!("namespace: {namespace}"));
    env.write(&format!("{namespace}/{name}.yaml"), text)
}

fn apply(env: &TestEnv, kind: Option<&str>, file: &str) -> Run {
    let mut args = vec!["apply"];
    args.extend(kind);
    args.extend(["-f", file, "--yes", "--repo", STATE, "-o", "json"]);
    env.idp(&args)
}

fn plan(env: &TestEnv, kind: Option<&str>, file: &str) -> Run {
    let mut args = vec!["plan"];
    args.extend(kind);
    args.extend(["-f", file, "--repo", STATE, "-o", "json"]);
    env.idp(&args)
}

fn refused(env: &TestEnv, run: &Run, message: &str) {
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "idp::plan::name_collision", "{doc:#}");
    assert_eq!(doc["error"]["message"], message, "{doc:#}");
    env.assert_clean(STATE);
}

/// `metadata.name` of every document of a file at HEAD, read with git.
fn names_at_head(env: &TestEnv, path: &str) -> Vec<String> {
    let text = env.git_in(STATE, &["show", &format!("HEAD:{path}")]);
    yaml_documents(&text).iter().map(|doc| doc["metadata"]["name"].as_str().unwrap().to_owned()).collect()
}

/// Every file of an app that holds its Argo CD Applications or traffic objects.
fn named_files(namespace: &str, name: &str) -> [String; 3] {
    let dir = format!("platform/{namespace}/app-{name}");
    ["application-primary", "application-secondary", "dns"].map(|what| format!("{dir}/payments.production.{what}.yaml"))
}

/// The placement record a request placed before the naming rules has: the record of a
/// look-alike placed in a scratch repo, renamed, and without `names` (what idp wrote
/// before there was a choice of scheme), committed by hand. Applying the request
/// then finds it placed, and renders it as that record says.
fn placed_before(env: &TestEnv, kind: &str, namespace: &str, name: &str, request: &str) {
    let scratch = format!("scratch/{namespace}/{name}");
    env.init_state(&scratch);
    let (named, renamed) = match kind {
        "mysql" => (format!("\"{name}\""), "\"look-alike\"".to_owned()),
        _ => (format!("  name: {name}\n"), "  name: look-alike\n".to_owned()),
    };
    let look_alike = env.write(&format!("{scratch}.request"), edit(&env.read(request), &named, &renamed));
    let mut args = vec!["apply"];
    if kind == "mysql" {
        args.push("mysql");
    }
    args.extend(["-f", &look_alike, "--yes", "--repo", &scratch, "-o", "json"]);
    env.idp(&args).code(0);
    let record = env.read(&format!("{scratch}/placements/{namespace}/{kind}-look-alike.yaml"));
    let record = edit(&record, "  name: look-alike\n", &format!("  name: {name}\n"));
    let record = record.replace("names: 2\n", "");
    let path = format!("placements/{namespace}/{kind}-{name}.yaml");
    env.write(&format!("{STATE}/{path}"), record);
    env.git_in(STATE, &["add", "--", &path]);
    env.git_in(STATE, &["commit", "--quiet", "-m", &format!("{kind} {namespace}/{name}, placed by an older idp")]);
}

// ---------------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------------

#[test]
fn a_new_database_named_like_another_ones_secondary_claim_is_refused_where_its_name_is_written() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    let head = env.head(STATE);
    let twin = database(&env, "team-z", "orders-secondary");
    for run in [plan(&env, Some("mysql"), &twin), apply(&env, Some("mysql"), &twin)] {
        run.code(1);
        assert_eq!(run.json()["error"]["code"], "idp::request::invalid");
        let message = format!(
            "{twin}:2:11: name `orders-secondary` ends in `-secondary`: idp names a database's secondary claim \
             `<name>-secondary`, its replication claim `<name>-replication`, and the claims an `idp migrate` makes \
             `<name>-m<n>` and `<name>-migration`, so a new database may not end so"
        );
        let help = "choose a name that does not end in -secondary or -replication or -migration or -m<n>; requests placed before this rule keep their names";
        assert_eq!(run.issues(), [(message.clone(), Some(help.to_owned()))]);
        run.stderr_says(&message);
    }
    assert_eq!(env.head(STATE), head, "nothing was committed");
    env.assert_clean(STATE);
    // Alone in its namespace, too: the rule is about the name, not the neighbours.
    let run = apply(&env, Some("mysql"), &database(&env, "team-y", "orders-replication"));
    run.code(1);
    assert!(run.issues()[0].0.contains("name `orders-replication` ends in `-replication`"), "{:?}", run.issues());
    assert_eq!(env.head(STATE), head);
    // And the names a migration gives a database's claims (`orders-m1`, `orders-migration`).
    for (name, suffix) in [("orders-m1", "-m<n>"), ("orders-m12", "-m<n>"), ("orders-migration", "-migration")] {
        let run = apply(&env, Some("mysql"), &database(&env, "team-y", name));
        run.code(1);
        assert!(run.issues()[0].0.contains(&format!("name `{name}` ends in `{suffix}`")), "{:?}", run.issues());
    }
    assert_eq!(env.head(STATE), head);
    // A name that only looks like one is free.
    for name in ["orders-m0", "orders-mx", "orders-m"] {
        apply(&env, Some("mysql"), &database(&env, "team-y", name)).code(0);
    }
}

#[test]
fn a_database_placed_before_the_rule_keeps_its_name_and_still_meets_its_twin_refused() {
    let env = state();
    let legacy = database(&env, "team-z", "orders-secondary");
    placed_before(&env, "mysql", "team-z", "orders-secondary", &legacy);
    let created = apply(&env, Some("mysql"), &legacy);
    created.code(0);
    assert_eq!(created.json()["results"][0]["sticky"], true);
    let again = plan(&env, Some("mysql"), &legacy);
    again.code(0);
    assert_eq!(again.json()["results"][0]["changes"], Value::Array(Vec::new()), "it re-plans as it is");

    // orders with its secondary would take the claim orders-secondary.
    let head = env.head(STATE);
    refused(
        &env,
        &apply(&env, Some("mysql"), &database(&env, "team-z", "orders")),
        "mysql team-z/orders and mysql team-z/orders-secondary would both render claim team-z/orders-secondary",
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");
}

// ---------------------------------------------------------------------------------------
// Apps
// ---------------------------------------------------------------------------------------

#[test]
fn apps_whose_namespace_and_name_join_alike_both_land_with_names_of_their_own() {
    let env = state();
    apply(&env, None, &app(&env, "team-a", "web-x")).code(0);
    apply(&env, None, &app(&env, "team-a-web", "x")).code(0);
    for (namespace, name, base) in [("team-a", "web-x", "team-a--web-x"), ("team-a-web", "x", "team-a-web--x")] {
        let [primary, secondary, dns] = named_files(namespace, name);
        assert_eq!(names_at_head(&env, &primary), [format!("{base}-primary")]);
        assert_eq!(names_at_head(&env, &secondary), [format!("{base}-secondary")]);
        assert_eq!(
            names_at_head(&env, &dns),
            [format!("{base}-health"), format!("{base}-steering"), format!("{base}-attachment")]
        );
        let record = env.git_in(STATE, &["show", &format!("HEAD:placements/{namespace}/app-{name}.yaml")]);
        assert!(record.ends_with("names: 2\n"), "{record}");
    }
    let verified = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    verified.code(0);

    // In one plan, too.
    let env = state();
    let (one, two) = (app(&env, "team-a", "web-x"), app(&env, "team-a-web", "x"));
    env.idp(&["apply", "-f", &one, "-f", &two, "--yes", "--repo", STATE, "-o", "json"]).code(0);
    assert_eq!(names_at_head(&env, &named_files("team-a-web", "x")[0]), ["team-a-web--x-primary"]);
}

#[test]
fn a_new_app_whose_namespace_or_name_holds_two_hyphens_is_refused_where_it_is_written() {
    let env = state();
    let file = app(&env, "team--a", "web--x");
    let run = apply(&env, None, &file);
    run.code(1);
    let issues: Vec<String> = run.issues().into_iter().map(|(message, _)| message).collect();
    let says = "idp names an app's Argo CD Applications and traffic objects `<namespace>--<name>`, so a new app's namespace and name may not hold `--`";
    assert_eq!(
        issues,
        [
            format!("{file}:8:9: name `web--x` holds `--`: {says}"),
            format!("{file}:9:14: namespace `team--a` holds `--`: {says}")
        ]
    );
    assert_eq!(
        run.issues()[0].1.as_deref(),
        Some("use single hyphens, e.g. `web-x`; requests placed before this rule keep their names")
    );
    assert_eq!(env.git_in(STATE, &["rev-list", "--count", "HEAD"]).trim(), "1", "only idp init's commit");
    env.assert_clean(STATE);
}

#[test]
fn an_app_placed_before_keeps_its_names_through_every_re_plan() {
    let env = state();
    let file = app(&env, "team-a", "web-x");
    apply(&env, None, &file).code(0);
    // Made what an older idp wrote: the record without `names`, the objects named
    // `<namespace>-<name>...` (rewritten here by text, not by idp).
    let record = format!("{STATE}/placements/team-a/app-web-x.yaml");
    env.write(&record, env.read(&record).replace("names: 2\n", ""));
    for path in named_files("team-a", "web-x") {
        let at = format!("{STATE}/{path}");
        env.write(&at, env.read(&at).replace("team-a--web-x", "team-a-web-x"));
    }
    env.git_in(STATE, &["commit", "--quiet", "-am", "app team-a/web-x as an older idp wrote it"]);
    let head = env.head(STATE);
    assert_eq!(names_at_head(&env, &named_files("team-a", "web-x")[0]), ["team-a-web-x-primary"]);

    // Re-planned as it is: nothing changes, and verify renders it byte for byte.
    let again = plan(&env, None, &file);
    again.code(0);
    let result = &again.json()["results"][0];
    assert_eq!((result["status"].as_str(), result["changes"].clone()), (Some("exists"), Value::Array(Vec::new())));
    env.idp(&["verify", "--repo", STATE, "-o", "json"]).code(0);

    // A changed request changes its workloads, never its Applications' or traffic objects' names.
    let bumped = env.write("bumped.yaml", edit(&env.read(&file), "checkout:1.8.3", "checkout:1.9.0"));
    apply(&env, None, &bumped).code(0);
    let changed = env.git_in(STATE, &["diff", "--name-only", &head, "HEAD"]);
    assert_eq!(
        crate::common::lines(&changed),
        [
            "requests/team-a/app-web-x.yaml",
            "workloads/team-a/web-x/primary/deployment.yaml",
            "workloads/team-a/web-x/secondary/deployment.yaml",
        ]
    );
    let record = env.git_in(STATE, &["show", "HEAD:placements/team-a/app-web-x.yaml"]);
    assert!(!record.contains("names:"), "{record}");

    // The new app team-a-web/x meets none of its names.
    apply(&env, None, &app(&env, "team-a-web", "x")).code(0);
    assert_eq!(names_at_head(&env, &named_files("team-a-web", "x")[0]), ["team-a-web--x-primary"]);
}

#[test]
fn an_app_placed_before_whose_name_holds_two_hyphens_refuses_the_new_app_it_would_meet() {
    let env = state();
    let legacy = app(&env, "team", "a--b");
    placed_before(&env, "app", "team", "a--b", &legacy);
    apply(&env, None, &legacy).code(0);
    assert_eq!(names_at_head(&env, &named_files("team", "a--b")[0]), ["team-a--b-primary"]);
    let head = env.head(STATE);
    refused(
        &env,
        &apply(&env, None, &app(&env, "team-a", "b")),
        "app team-a/b and app team/a--b would both render Application argocd/team-a--b-primary",
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");
}

#[test]
fn apps_placed_before_whose_namespace_and_name_join_alike_still_refuse_each_other() {
    let env = state();
    let (one, two) = (app(&env, "team-a", "web-x"), app(&env, "team-a-web", "x"));
    placed_before(&env, "app", "team-a", "web-x", &one);
    apply(&env, None, &one).code(0);
    assert_eq!(names_at_head(&env, &named_files("team-a", "web-x")[0]), ["team-a-web-x-primary"]);
    placed_before(&env, "app", "team-a-web", "x", &two);
    let head = env.head(STATE);
    refused(
        &env,
        &apply(&env, None, &two),
        "app team-a-web/x and app team-a/web-x would both render Application argocd/team-a-web-x-primary",
    );
    assert_eq!(env.head(STATE), head, "nothing was committed");
}

#[test]
fn names_that_only_look_alike_are_fine() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    // Another namespace's orders, and a name that does not end in a reserved suffix.
    apply(&env, Some("mysql"), &database(&env, "team-y", "orders-db")).code(0);
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders-second")).code(0);
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders-secondary-db")).code(0);
    apply(&env, None, &app(&env, "team-a", "web-x")).code(0);
    apply(&env, None, &app(&env, "team-b", "web-x")).code(0);
    // An app's name may end in -secondary: its names are not a database's.
    apply(&env, None, &app(&env, "team-a", "web-secondary")).code(0);
}

#[test]
fn verify_finds_two_files_that_hold_one_object_even_when_written_by_hand() {
    let env = state();
    apply(&env, Some("mysql"), &database(&env, "team-z", "orders")).code(0);
    apply(&env, None, &app(&env, "team-a", "web-x")).code(0);
    let clean = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    clean.code(0);

    // A claim written by hand into another folder, named like orders' secondary.
    let secondary = env.read(&format!("{STATE}/platform/team-z/mysql-orders/payments.production.secondary.yaml"));
    env.write(&format!("{STATE}/platform/team-z/by-hand.yaml"), &secondary);
    env.git_in(STATE, &["add", "--", "platform/team-z/by-hand.yaml"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", "a claim by hand"]);

    let run = env.idp(&["verify", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    let says = |file: &str, text: &str| {
        findings.iter().any(|f| f["file"] == file && f["message"].as_str().is_some_and(|m| m.contains(text)))
    };
    assert!(
        says(
            "platform/team-z/by-hand.yaml",
            "holds MySQLInstanceClaim team-z/orders-secondary on the management cluster, as does platform/team-z/mysql-orders/payments.production.secondary.yaml (mysql team-z/orders)"
        ),
        "{findings:#?}"
    );
    assert!(
        says("platform/team-z/mysql-orders/payments.production.secondary.yaml", "as does platform/team-z/by-hand.yaml"),
        "{findings:#?}"
    );
    // The app's two sides hold the same Deployment, on two runtime clusters: no finding.
    assert!(!findings.iter().any(|f| f["file"].as_str().is_some_and(|p| p.starts_with("workloads/"))), "{findings:#?}");
}
