//! Products as data: `idp products`, PostgreSQL and Redis requests end to end,
//! a state repo's own definition replacing idp's, and what a definition refuses.
//! Everything written is read back with the git CLI.
//!
//! What these cannot prove: that the Compositions provision what the claims ask
//! for (tests/composed_products.rs checks them against the pinned provider CRDs;
//! no provider runs here), nor that Argo CD syncs the files.

use serde_json::{Value, json};

use crate::common::{TestEnv, edit};

const STATE: &str = "state";

fn env_with_state() -> TestEnv {
    let env = TestEnv::new();
    for example in ["catalog-db.yaml", "sessions-cache.yaml", "sessions-cache.json", "orders-db.yaml"] {
        env.example(example);
    }
    env.init_state(STATE);
    env
}

fn commit(env: &TestEnv, rel: &str, text: &str) {
    env.write(&format!("{STATE}/{rel}"), text);
    env.git_in(STATE, &["add", "--all"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", &format!("add {rel}")]);
}

fn names(doc: &Value) -> Vec<&str> {
    doc["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect()
}

/// The one claim document of a file at HEAD, read with git.
fn claim_at_head(env: &TestEnv, path: &str) -> Value {
    serde_saphyr::from_str(&env.git_in(STATE, &["show", &format!("HEAD:{path}")])).unwrap()
}

#[test]
fn idp_products_lists_the_built_in_products_and_what_each_field_takes() {
    let env = env_with_state();
    let doc = env.idp(&["products", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(names(&doc), ["mysql", "postgres", "redis", "app"]);
    let postgres = &doc["products"][1];
    assert_eq!(postgres["manifestKind"], "PostgreSQL");
    assert_eq!(postgres["aliases"], json!(["postgresql", "pg"]));
    assert_eq!(postgres["claim"]["kind"], "PostgreSQLInstanceClaim");
    assert_eq!(postgres["claim"]["fences"], false);
    assert!(postgres.get("replication").is_none(), "{postgres:#}");
    let version = &postgres["fields"][3];
    assert_eq!(
        (&version["name"], &version["requestDefault"], &version["required"]),
        (&json!("version"), &json!("15"), &json!(false))
    );
    assert_eq!(doc["products"][0]["replication"], json!(["goldengate-cdc", "backup-restore"]));

    // The policy narrows what the XRD admits: a state repo without xlarge.
    let policy = env.read(&format!("{STATE}/policy/policy.yaml"));
    commit(
        &env,
        "policy/policy.yaml",
        &edit(&policy, "sizes: [small, medium, large, xlarge]", "sizes: [small, medium, large]"),
    );
    let table = env.idp(&["products", "redis", "--repo", STATE]).code(0).stdout.clone();
    assert!(table.contains("size     string   small, medium, large  (required)"), "{table}");
    assert!(table.contains("ha       boolean  true, false           false       multi_az"), "{table}");
    let doc = env.idp(&["products", "cache", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(names(&doc), ["redis"]);
    assert_eq!(doc["products"][0]["fields"][0]["admitted"]["values"], json!(["small", "medium", "large"]));
}

#[test]
fn postgres_and_redis_plan_like_mysql_in_both_forms_and_apply_verify_and_delete() {
    let env = env_with_state();
    // The Kubernetes form, by manifest kind; the flat form, by name or alias.
    let k8s = env.idp(&["plan", "-f", "sessions-cache.yaml", "--repo", STATE, "-o", "json"]).code(0).json();
    for kind in ["redis", "cache"] {
        let flat = env.idp(&["plan", kind, "-f", "sessions-cache.json", "--repo", STATE, "-o", "json"]).code(0).json();
        assert_eq!(flat["results"][0]["placement"], k8s["results"][0]["placement"], "{kind}");
        assert_eq!(flat["results"][0]["kind"], "redis");
    }
    // ha: true adds the gate the definition names.
    assert!(k8s["results"][0]["reason"]["gates"].as_array().unwrap().contains(&json!("multi_az")), "{k8s:#}");

    env.idp(&["apply", "-f", "catalog-db.yaml", "-f", "sessions-cache.yaml", "--repo", STATE, "--yes"]).code(0);
    let postgres = claim_at_head(&env, "platform/team-alpha/postgres-catalog-db/cell-us-east.production.primary.yaml");
    assert_eq!(postgres["kind"], "PostgreSQLInstanceClaim");
    assert_eq!(postgres["spec"]["parameters"]["version"], "15");
    assert_eq!(postgres["spec"]["parameters"]["storageGB"], 200);
    assert_eq!(postgres["spec"]["compositionSelector"]["matchLabels"]["class"], "postgres");
    // No fence: the XRD has none to take.
    assert!(postgres["spec"]["parameters"].get("writeFence").is_none(), "{postgres:#}");
    let redis = claim_at_head(&env, "platform/team-alpha/redis-sessions/cell-us-east.production.primary.yaml");
    assert_eq!(redis["kind"], "RedisInstanceClaim");
    assert_eq!(redis["spec"]["parameters"]["version"], "7.x");
    assert!(redis["spec"]["parameters"].get("storageGB").is_none(), "{redis:#}");
    let stored = env.git_in(STATE, &["show", "HEAD:requests/team-alpha/redis-sessions.yaml"]);
    assert!(stored.contains("kind: Redis") && stored.contains("version: 7.x"), "{stored}");
    let entity = env.git_in(STATE, &["show", "HEAD:catalog/team-alpha/postgres-catalog-db.yaml"]);
    assert!(entity.contains("PostgreSQL database"), "{entity}");
    env.idp(&["verify", "--repo", STATE]).code(0);
    let list = env.idp(&["list", "redis", "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // A PostgreSQL claim holds data: deleting it is a destroy, and production's
    // is deletion-protected until unprotected in a commit of its own.
    env.idp(&["delete", "pg", "team-alpha/catalog-db", "--yes", "--repo", STATE]).code(1);
    env.idp(&["delete", "pg", "team-alpha/catalog-db", "--unprotect", "--yes", "--repo", STATE]).code(0);
    env.idp(&["delete", "postgres", "team-alpha/catalog-db", "--yes", "--repo", STATE]).code(1);
    env.idp(&["delete", "postgres", "team-alpha/catalog-db", "--yes", "--allow-destroy", "--repo", STATE]).code(0);
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(message.contains("Idp-Destroy: PostgreSQLInstanceClaim team-alpha/catalog-db"), "{message}");
    env.idp(&["verify", "--repo", STATE]).code(0);
}

#[test]
fn what_a_product_cannot_do_is_refused_where_the_request_says_it() {
    let env = env_with_state();
    let c0 = env.write("c0.yaml", edit(&env.read("sessions-cache.yaml"), "tier: critical", "tier: C0"));
    let run = env.idp(&["plan", "-f", &c0, "--repo", STATE, "-o", "json"]);
    run.code(1);
    let issues = run.issues();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(issues[0].0.ends_with("c0.yaml:10:9: tier C0 requires a secondary in another cloud, and Redis has none: its product definition lists no replication"), "{issues:?}");
    assert!(
        issues[0].1.as_deref().unwrap().starts_with("tiers without a required secondary: medium, critical"),
        "{issues:?}"
    );

    // Fields come from the XRD: a version it lacks, a field it does not have.
    let v16 = env.write("v16.yaml", edit(&env.read("catalog-db.yaml"), "version: \"15\"", "version: \"16\""));
    env.idp(&["plan", "-f", &v16, "--repo", STATE])
        .code(1)
        .stderr_says("unknown version `16`")
        .stderr_says("valid values for PostgreSQL: 14, 15");
    let storage =
        env.write("storage.yaml", edit(&env.read("sessions-cache.yaml"), "ha: true", "ha: true\n  storageGB: 10"));
    env.idp(&["plan", "-f", &storage, "--repo", STATE]).code(1).stderr_says("unknown field `storageGB` in spec");

    // A name is one data request's in its namespace, whatever its product.
    env.idp(&["apply", "-f", "sessions-cache.yaml", "--repo", STATE, "--yes"]).code(0);
    let twin = env.write(
        "twin.yaml",
        edit(
            &edit(&env.read("orders-db.yaml"), "name: orders-db", "name: sessions"),
            "namespace: team-alpha",
            "namespace: team-alpha",
        ),
    );
    let run = env.idp(&["plan", "-f", &twin, "--repo", STATE, "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.json()["error"]["message"],
        "mysql team-alpha/sessions and redis team-alpha/sessions would both render connection Secret team-alpha/sessions-conn"
    );
    // No replication, nothing to migrate with.
    env.idp(&["migrate", "redis", "team-alpha/sessions", "--to", "aws/us-east-1", "--repo", STATE])
        .code(1)
        .stderr_says("`idp migrate` cannot move redis: it has no replication between clouds");
    env.assert_clean(STATE);
}

#[test]
fn a_state_repos_definition_replaces_idps_and_a_broken_one_stops_every_command() {
    let env = env_with_state();
    let redis = std::fs::read_to_string(crate::common::crate_dir().join("policy/products/redis/product.yaml")).unwrap();
    let own = edit(
        &edit(&redis, "aliases: [cache]", "aliases: [cache, sessions]"),
        "ha: { default: false, gates: [multi_az] }",
        "ha: { default: true, gates: [multi_az] }",
    );
    commit(&env, "policy/products/redis/product.yaml", &own);
    let doc = env.idp(&["products", "sessions", "--repo", STATE, "-o", "json"]).code(0).json();
    assert!(
        doc["products"][0]["origin"].as_str().unwrap().ends_with("state:policy/products/redis/product.yaml"),
        "{doc:#}"
    );
    // Its default applies: no ha written, ha true, and the gate with it.
    let no_ha = env.write("no-ha.json", env.read("sessions-cache.json").replace(",\n  \"ha\": true", ""));
    let plan = env.idp(&["plan", "sessions", "-f", &no_ha, "--repo", STATE, "-o", "json"]).code(0).json();
    assert!(plan["results"][0]["reason"]["gates"].as_array().unwrap().contains(&json!("multi_az")), "{plan:#}");
    env.idp(&["apply", "sessions", "-f", &no_ha, "--repo", STATE, "--yes"]).code(0);
    let claim = claim_at_head(&env, "platform/team-alpha/redis-sessions/cell-us-east.production.primary.yaml");
    assert_eq!(claim["spec"]["parameters"]["ha"], true);

    // A definition the XRD contradicts stops plan and policy validate alike, located.
    commit(&env, "policy/products/redis/product.yaml", &edit(&own, "  version: {}", "  version: { default: \"6.x\" }"));
    let head = env.head(STATE);
    for args in
        [&["plan", "-f", "sessions-cache.yaml", "--repo", STATE][..], &["policy", "validate", "--repo", STATE][..]]
    {
        env.idp(args).code(1).stderr_says(
            "state:policy/products/redis/product.yaml:16:23: the XRD already defaults `version` to \"7.x\"",
        );
    }
    assert_eq!(env.head(STATE), head);
    env.assert_clean(STATE);
}

/// `policy/products/objectstore/` as tests/fixtures/products/objectstore has it, committed.
fn add_objectstore(env: &TestEnv, skip: &[&str]) {
    let dir = crate::common::crate_dir().join("tests/fixtures/products/objectstore");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "yaml")) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !skip.contains(&name.as_str()) {
            env.write(&format!("{STATE}/policy/products/objectstore/{name}"), std::fs::read(file).unwrap());
        }
    }
    env.git_in(STATE, &["add", "--all"]);
    env.git_in(STATE, &["commit", "--quiet", "-m", "add the objectstore product"]);
}

const INVOICES: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: ObjectStore
metadata:
  name: invoices
  namespace: team-alpha
spec:
  cell: cell-us-east
  tier: medium
  environment: staging
  retentionDays: 90
";

/// A product added from files alone: no idp change, only a definition, an
/// XRD and Compositions in the state repo, and the generic claim template.
/// Cannot prove: that the Compositions provision a bucket (no provider runs).
#[test]
fn a_product_added_from_files_alone_is_planned_applied_rendered_verified_and_deleted() {
    let env = env_with_state();
    add_objectstore(&env, &[]);
    let doc = env.idp(&["products", "bucket", "--repo", STATE, "-o", "json"]).code(0).json();
    let product = &doc["products"][0];
    assert_eq!((&product["name"], &product["role"]), (&json!("objectstore"), &json!("data")));
    assert_eq!(product["claim"]["kind"], "ObjectStoreClaim");
    assert_eq!(product["claim"]["xrd"], "policy/products/objectstore/xrd.yaml");
    assert!(product["origin"].as_str().unwrap().ends_with("state:policy/products/objectstore/product.yaml"));

    let request = env.write("invoices.yaml", INVOICES);
    let plan = env.idp(&["plan", "-f", &request, "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(plan["results"][0]["kind"], "objectstore");
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    let path = "platform/team-alpha/objectstore-invoices/cell-us-east.staging.primary.yaml";
    let claim = claim_at_head(&env, path);
    assert_eq!(
        (&claim["apiVersion"], &claim["kind"]),
        (&json!("storage.example.org/v1alpha1"), &json!("ObjectStoreClaim"))
    );
    let parameters = &claim["spec"]["parameters"];
    assert_eq!((&parameters["versioning"], &parameters["retentionDays"]), (&json!(true), &json!(90)));
    assert!(parameters.get("writeFence").is_none(), "{claim:#}");
    assert_eq!(claim["spec"]["compositionSelector"]["matchLabels"]["class"], "objectstore");
    let rendered = env.idp(&["render", "-f", &request, "--repo", STATE]).code(0).stdout.clone();
    assert!(rendered.contains("kind: ObjectStoreClaim"), "{rendered}");
    env.idp(&["verify", "--repo", STATE]).code(0);

    // Its XRD's rules hold: retention cannot shorten.
    let shorter = env.write("shorter.yaml", edit(INVOICES, "retentionDays: 90", "retentionDays: 30"));
    env.idp(&["apply", "-f", &shorter, "--repo", STATE, "--yes"]).code(1).stderr_says("retentionDays cannot shorten");

    // Its claim holds data: deleting it is a destroy, said in a trailer.
    env.idp(&["delete", "bucket", "team-alpha/invoices", "--yes", "--repo", STATE]).code(1);
    env.idp(&["delete", "bucket", "team-alpha/invoices", "--yes", "--allow-destroy", "--repo", STATE]).code(0);
    let message = env.git_in(STATE, &["log", "-1", "--format=%B"]);
    assert!(message.contains("Idp-Destroy: ObjectStoreClaim team-alpha/invoices"), "{message}");
    env.idp(&["verify", "--repo", STATE]).code(0);
}

/// A product whose claims on some provider would select no Composition, or
/// whose XRD lacks a parameter idp writes, never reaches a plan.
#[test]
fn a_product_from_files_is_refused_when_its_claims_could_not_be_composed() {
    let env = env_with_state();
    add_objectstore(&env, &["composition-gcp.yaml"]);
    let request = env.write("invoices.yaml", INVOICES);
    env.idp(&["plan", "-f", &request, "--repo", STATE])
        .code(1)
        .stderr_says("claims of objectstore placed on gcp would select no Composition");

    let xrd = env.read(&format!("{STATE}/policy/products/objectstore/xrd.yaml"));
    commit(
        &env,
        "policy/products/objectstore/composition-gcp.yaml",
        &env.read(&format!("{STATE}/policy/products/objectstore/composition-aws.yaml"))
            .replace("provider: aws", "provider: gcp")
            .replace("xobjectstores-aws", "xobjectstores-gcp"),
    );
    commit(
        &env,
        "policy/products/objectstore/xrd.yaml",
        &edit(
            &xrd,
            "                    network:\n                      type: object\n                      additionalProperties: { type: string }\n",
            "",
        ),
    );
    env.idp(&["policy", "validate", "--repo", STATE])
        .code(1)
        .stderr_says("ObjectStoreClaim (xrd.yaml) does not declare network, which idp writes in every claim");
    env.assert_clean(STATE);
}

/// An app that depends on several products: it follows the first, gets each
/// one's connection secret, and keeps them from being deleted under it.
/// Cannot prove: that the app reaches them (no cluster runs it).
#[test]
fn an_app_depends_on_several_products_and_keeps_them() {
    let env = env_with_state();
    env.example("orders-app.yaml");
    let app =
        env.write("orders-app-alias.yaml", edit(&env.read("orders-app.yaml"), "redis/sessions", "cache/sessions"));
    env.idp(&["apply", "-f", "orders-db.yaml", "-f", "sessions-cache.yaml", "-f", &app, "--repo", STATE, "--yes"])
        .code(0);

    let record = |kind: &str, name: &str| -> Value {
        serde_saphyr::from_str(&env.git_in(STATE, &["show", &format!("HEAD:placements/team-alpha/{kind}-{name}.yaml")]))
            .unwrap()
    };
    let (db, cache, orders) = (record("mysql", "orders-db"), record("redis", "sessions"), record("app", "orders"));
    // It follows its first dependency, wherever the second is.
    assert_eq!(orders["primary"]["provider"], db["primary"]["provider"]);
    assert_eq!(orders["primary"]["region"], db["primary"]["region"]);
    assert_ne!(cache["primary"]["provider"], db["primary"]["provider"], "the test wants them apart: {cache:#}");
    assert_eq!(orders["reason"]["follows"], "mysql team-alpha/orders-db, redis team-alpha/sessions");
    // The stored request names the products by name, not alias.
    let stored = env.git_in(STATE, &["show", "HEAD:requests/team-alpha/app-orders.yaml"]);
    assert!(stored.contains("dependsOn:\n  - mysql/orders-db\n  - redis/sessions\n"), "{stored}");
    // Each one's secret reaches the app's runtime cluster and its container.
    let secrets = env
        .git_in(STATE, &["show", "HEAD:platform/team-alpha/app-orders/cell-us-east.production.secrets-primary.yaml"]);
    assert!(secrets.contains("\"orders-db-conn\"") && secrets.contains("\"sessions-conn\""), "{secrets}");
    let deployment = env.git_in(STATE, &["show", "HEAD:workloads/team-alpha/orders/primary/deployment.yaml"]);
    assert!(deployment.contains("\"orders-db-conn\"") && deployment.contains("\"SESSIONS_\""), "{deployment}");
    let entity = env.git_in(STATE, &["show", "HEAD:catalog/team-alpha/app-orders.yaml"]);
    assert!(
        entity.contains("resource:team-alpha/mysql-orders-db") && entity.contains("resource:team-alpha/redis-sessions"),
        "{entity}"
    );
    env.idp(&["verify", "--repo", STATE]).code(0);

    // Neither can be deleted while the app uses it.
    let head = env.head(STATE);
    let run =
        env.idp(&["delete", "redis", "team-alpha/sessions", "--yes", "--allow-destroy", "--repo", STATE, "-o", "json"]);
    run.code(1);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "idp::delete::in_use");
    assert_eq!(error["message"], "redis team-alpha/sessions is used by app team-alpha/orders");
    assert_eq!(env.head(STATE), head);

    // What dependsOn refuses, on its line.
    let both = env
        .write("both.yaml", edit(&env.read("orders-app.yaml"), "  dependsOn:", "  database: orders-db\n  dependsOn:"));
    env.idp(&["plan", "-f", &both, "--repo", STATE])
        .code(1)
        .stderr_says("an app names its data in `dependsOn` or in `database`, not in both");
    let unknown = env.write("unknown.yaml", edit(&env.read("orders-app.yaml"), "redis/sessions", "rediss/sessions"));
    env.idp(&["plan", "-f", &unknown, "--repo", STATE])
        .code(1)
        .stderr_says("`rediss` is no data product")
        .stderr_says("did you mean `redis`?");
    let app_dep = env.write("app-dep.yaml", edit(&env.read("orders-app.yaml"), "redis/sessions", "app/sessions"));
    env.idp(&["plan", "-f", &app_dep, "--repo", STATE]).code(1).stderr_says("`app` is no data product");
    // A request of another product is not the one named.
    let wrong = env.write("wrong.yaml", edit(&env.read("orders-app.yaml"), "redis/sessions", "postgres/sessions"));
    let run = env.idp(&["plan", "-f", &wrong, "--repo", STATE, "-o", "json"]);
    run.code(1);
    assert_eq!(
        run.json()["error"]["message"],
        "app team-alpha/orders names postgres team-alpha/sessions, which is not placed"
    );
    env.assert_clean(STATE);
}

/// `idp products KIND --schema`: the JSON Schema of a product's requests,
/// made from its definition and the policy in force, admits every shipped
/// example of it and refuses what plan refuses on the same grounds. Cannot
/// prove the converse: plan refuses more than a schema can say (names idp
/// derives, team permissions, secrets in env, what the state repo holds).
#[test]
fn each_products_request_schema_admits_its_examples_and_refuses_bad_values() {
    let env = TestEnv::new();
    // (product, example, edits the schema and plan both refuse)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        (
            "mysql",
            "orders-db.yaml",
            &[("size: large", "size: huge"), ("storageGB: 100", "storageGB: 5"), ("ha: true", "ha: yes-please")],
        ),
        ("postgres", "catalog-db.yaml", &[("version: \"15\"", "version: \"16\""), ("tier: medium", "tier: gold")]),
        (
            "redis",
            "sessions-cache.yaml",
            &[("ha: true", "ha: true\n  storageGB: 10"), ("cell: cell-us-east", "cell: cell-mars")],
        ),
        (
            "app",
            "orders-app.yaml",
            &[("replicas: 2", "replicas: two"), ("port: 8080", "port: 8080\n  region: us-east-1")],
        ),
        ("app", "web-app.yaml", &[("  probes: tcp", "  probes: [tcp]")]),
    ];
    for (kind, example, bad) in cases {
        let schema: Value = serde_json::from_str(&env.idp(&["products", kind, "--schema"]).code(0).stdout).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{kind}: {e}"));
        env.example(example);
        let text = env.read(example);
        let request: Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&request).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{example} against the {kind} schema: {errors:?}");
        for (from, to) in *bad {
            let edited = edit(&text, from, to);
            let request: Value = serde_saphyr::from_str(&edited).unwrap();
            assert!(!validator.is_valid(&request), "the {kind} schema admits {to:?}");
            let file = env.write("bad.yaml", &edited);
            env.idp(&["plan", "-f", &file]).code(1);
        }
    }
}

/// A data product without a secondary in a cell whose other members have
/// one: the plan says the cell's failover will be refused, and it is, naming
/// the member it cannot move. Cannot prove what an operator should do then
/// (move the cache to another cell, or delete it): idp only says so.
#[test]
fn a_product_without_a_secondary_says_it_holds_back_its_cells_failover() {
    let env = env_with_state();
    env.example("payments-c0.json");
    env.idp(&["apply", "mysql", "-f", "payments-c0.json", "--repo", STATE, "--yes"]).code(0);
    let cache = env.write("cache.yaml", edit(&env.read("sessions-cache.yaml"), "cell: cell-us-east", "cell: payments"));
    let plan = env.idp(&["plan", "-f", &cache, "--repo", STATE, "-o", "json"]).code(0).json();
    assert_eq!(
        plan["results"][0]["warnings"],
        json!([
            "a Redis keeps no secondary in another cloud: while it is a member of payments/production, `idp failover` of that cell and environment is refused, though its other members have secondaries"
        ])
    );
    env.idp(&["apply", "-f", &cache, "--repo", STATE, "--yes"]).code(0);
    let head = env.head(STATE);
    env.idp(&["failover", "--cell", "payments", "--env", "prod", "--replication-lag", "3", "--yes", "--no-wait", "--repo", STATE])
        .code(1)
        .stderr_says("redis team-alpha/sessions: a Redis keeps no secondary in another cloud (its product lists no replication), so no failover can move it");
    assert_eq!(env.head(STATE), head);
}

/// A definition may limit a replication to some provider pairs: the
/// secondary is then placed only where the pair is one of them, and every
/// other candidate says why it is not. Cannot prove that the tool cannot
/// replicate between the others: that is the platform team's word.
#[test]
fn a_replication_limited_to_some_provider_pairs_places_the_secondary_there() {
    let env = env_with_state();
    let request = env.write(
        "c1.yaml",
        edit(&edit(&env.read("orders-db.yaml"), "tier: medium", "tier: C1"), "cell: cell-us-east", "cell: payments"),
    );
    let plan = |env: &TestEnv| env.idp(&["plan", "-f", &request, "--repo", STATE, "-o", "json"]).code(0).json();
    let secondary = |doc: &Value| {
        format!(
            "{}/{}",
            doc["results"][0]["secondary"]["provider"].as_str().unwrap(),
            doc["results"][0]["secondary"]["region"].as_str().unwrap()
        )
    };
    let before = plan(&env);
    assert_eq!(before["results"][0]["placement"]["provider"], "aws");
    assert_eq!(secondary(&before), "gcp/us-central1");

    let mysql = std::fs::read_to_string(crate::common::crate_dir().join("policy/products/mysql/product.yaml")).unwrap();
    let limited = edit(
        &mysql,
        "replication: [goldengate-cdc, backup-restore]",
        "replication:\n  - { tool: goldengate-cdc, between: [[oci, aws]] }\n  - backup-restore",
    );
    commit(&env, "policy/products/mysql/product.yaml", &limited);
    let after = plan(&env);
    assert_eq!(secondary(&after), "oci/us-ashburn-1");
    let rejected = after["results"][0]["reason"]["secondary"]["rejected"].as_array().unwrap();
    assert!(
        rejected.iter().any(|r| r["provider"] == "gcp"
            && r["excluded"] == "goldengate-cdc does not replicate aws to gcp for this product"),
        "{rejected:#?}"
    );
    // A migration replicates by the same tool: only between the pairs listed.
    env.idp(&["apply", "-f", &request, "--repo", STATE, "--yes"]).code(0);
    env.idp(&["migrate", "mysql", "team-alpha/orders-db", "--to", "gcp/us-central1", "--dry-run", "--repo", STATE])
        .code(1)
        .stderr_says("goldengate-cdc does not replicate aws to gcp for this product");
    // A pair of a provider the policy has no candidate of is refused.
    commit(&env, "policy/products/mysql/product.yaml", &edit(&limited, "[[oci, aws]]", "[[oci, azure]]"));
    env.idp(&["plan", "-f", &request, "--repo", STATE])
        .code(1)
        .stderr_says("the pair oci/azure is not two providers of the policy's candidates");
}
