use super::*;
use crate::policy::LoadedPolicy;

fn policy() -> Policy {
    LoadedPolicy::embedded().policy
}

/// The problems of a state repo holding `text` as the definition of `folder`.
fn problems(folder: &str, text: &str) -> Vec<String> {
    let path = definition_path(folder);
    match Products::load(&[(path.clone(), Source::new(path, text))], &policy()) {
        Ok(_) => Vec::new(),
        Err(ProductError::Invalid { issues }) => {
            issues.iter().map(|i| format!("{}: {}", i.location, i.message)).collect()
        }
        Err(other) => vec![other.to_string()],
    }
}

const POSTGRES_LIKE: &str = "\
apiVersion: idp.platform.example.org/v1alpha1
kind: Product
name: mydb
manifestKind: MyDB
aliases: [my]
description: MySQL under another name
role: data
xrd: manifests/crossplane/xrd-mysql.yaml
fields:
  size: {}
  storageGB: {}
  ha: { default: false, gates: [multi_az] }
cost: { size: size, perGB: storageGB, ha: ha, factor: 0.5 }
";

#[test]
fn the_built_in_definitions_describe_mysql_postgres_redis_and_app() {
    let products = Products::embedded();
    assert_eq!(products.names(), ["mysql", "postgres", "redis", "app"]);
    let mysql = products.named("MySQL").unwrap();
    assert_eq!(mysql.role, Role::Data);
    assert_eq!(products.of_manifest_kind("MySQL").unwrap().name, "mysql");
    let claim = mysql.claim.as_ref().unwrap();
    assert_eq!(
        (claim.api_version.as_str(), claim.kind.as_str()),
        ("platform.example.org/v1alpha1", "MySQLInstanceClaim")
    );
    // Type, values and range come from the XRD; the default from the definition.
    let size = mysql.field("size").unwrap();
    assert_eq!(size.parameter.values, ["small", "medium", "large", "xlarge"].map(Json::from));
    let storage = mysql.field("storageGB").unwrap();
    assert_eq!((storage.parameter.minimum, storage.parameter.maximum), (Some(10.0), Some(65536.0)));
    let ha = mysql.field("ha").unwrap();
    assert_eq!((ha.request_default.clone(), ha.gates.clone()), (Some(Json::Bool(false)), vec!["multi_az".to_owned()]));
    assert!(claim.fences && mysql.replication.len() == 2);
    let app = products.named("app").unwrap();
    assert_eq!((app.role, app.claim.is_none(), app.fields.is_empty()), (Role::App, true, true));

    // PostgreSQL and Redis: their XRDs' fields, no fence, so no secondary.
    let postgres = products.named("pg").unwrap();
    let names: Vec<&str> = postgres.fields.iter().map(Field::name).collect();
    assert_eq!(names, ["size", "storageGB", "ha", "version"]);
    assert_eq!(postgres.field("version").unwrap().request_default, Some(Json::from("15")));
    let redis = products.named("cache").unwrap();
    let names: Vec<&str> = redis.fields.iter().map(Field::name).collect();
    assert_eq!(names, ["size", "ha", "version"]);
    for product in [postgres, redis] {
        assert!(!product.claim.as_ref().unwrap().fences && product.replication.is_empty(), "{}", product.name);
    }
}

/// src/product/embedded.json is exactly the built-in definitions read as
/// YAML (`IDP_REGENERATE=1` rewrites it), and each built-in read from it is
/// the product its YAML gives, every check passed (the app-only keys check
/// too, which the JSON reading skips).
#[test]
fn the_embedded_json_is_the_built_in_definitions() {
    let documents: Vec<serde_json::Value> = EMBEDDED_PRODUCTS
        .iter()
        .map(|(_, text)| crate::xrd::to_json(&yaml::non_empty_documents(text).unwrap()[0]))
        .collect();
    let fresh = serde_json::to_string_pretty(&documents).unwrap() + "\n";
    crate::test_support::assert_generated("src/product/embedded.json", &fresh, "product");
    let policy = policy();
    for ((path, text), def) in EMBEDDED_PRODUCTS.iter().zip(embedded_definitions()) {
        let source = Source::new(format!("{path} (built-in)"), *text);
        let documents = yaml::parse_documents(&source).unwrap();
        let from_yaml = check::definition(&source, &documents, None, &policy, &[]).expect("a built-in passes");
        let from_json = check::built_in(&source, def, &policy).expect("a built-in read from JSON passes");
        assert_eq!(format!("{from_json:?}"), format!("{from_yaml:?}"), "{path}");
    }
}

#[test]
fn a_product_without_a_write_fence_cannot_list_a_replication() {
    let redis = include_str!("../../policy/products/redis/product.yaml")
        .replace("replication: []", "replication: [backup-restore]");
    let found = problems("redis", &redis);
    assert!(
        found.iter().any(|p| p.contains("RedisInstanceClaim has no writeFence: a secondary needs one")),
        "{found:?}"
    );
}

use serde_json::Value as Json;

#[test]
fn a_state_repo_adds_a_product_and_may_replace_a_built_in_one() {
    let path = definition_path("mydb");
    let products = Products::load(&[(path.clone(), Source::new(path, POSTGRES_LIKE))], &policy()).unwrap();
    assert_eq!(products.names(), ["mysql", "postgres", "redis", "app", "mydb"]);
    assert_eq!(products.named("MY").unwrap().name, "mydb");

    let replaced = Source::new(
        "repo:policy/products/app/product.yaml",
        include_str!("../../policy/products/app/product.yaml").replace("aliases: []", "aliases: [service]"),
    );
    let products = Products::load(&[(definition_path("app"), replaced)], &policy()).unwrap();
    assert_eq!(products.names(), ["mysql", "postgres", "redis", "app"]);
    assert_eq!(products.named("service").unwrap().origin, "repo:policy/products/app/product.yaml");
}

#[test]
fn every_problem_of_a_definition_is_located() {
    let cases: &[(&str, &str, &str)] = &[
        ("name: mydb", "name: MyDb", "name `MyDb` is not a product name"),
        ("name: mydb", "name: other", "differs from its folder `mydb`"),
        ("manifestKind: MyDB", "manifestKind: my-db", "is not a Kubernetes kind"),
        ("aliases: [my]", "aliases: [mysql]", "`mysql` already names product mysql"),
        ("manifestKind: MyDB", "manifestKind: App", "manifestKind App is product app's too"),
        ("role: data", "role: cache", "unknown variant"),
        (
            "xrd: manifests/crossplane/xrd-mysql.yaml",
            "xrd: manifests/x.yaml",
            "is not an XRD with a claim that idp ships",
        ),
        ("  size: {}", "  sizes: {}", "`sizes` is not a parameter of MySQLInstanceClaim"),
        ("  size: {}", "  size: {}\n  region: {}", "`region` is a parameter idp writes from the placement"),
        ("  storageGB: {}\n", "", "requires parameter `storageGB`, which is no field"),
        ("gates: [multi_az]", "gates: [multi-az]", "unknown capability `multi-az`"),
        ("  size: {}", "  size: { gates: [pitr] }", "only a boolean field adds gates"),
        ("default: false", "default: maybe", "default \"maybe\" of `ha` is not a boolean"),
        ("  size: {}", "  size: { default: huge }", "is not one of"),
        ("  storageGB: {}", "  storageGB: { default: 5 }", "is below the minimum 10"),
        ("role: data", "role: data\nreplicas: 2", "unknown field `replicas`"),
        (
            "role: data\nxrd: manifests/crossplane/xrd-mysql.yaml",
            "role: app\nxrd: manifests/crossplane/xrd-mysql.yaml",
            "an app product has no `xrd`",
        ),
        ("description: MySQL under another name", "description: ''", "description must be one line"),
        ("size: size, perGB", "size: ha, perGB", "cost.size prices a string field; `ha` is a boolean"),
        ("perGB: storageGB", "perGB: disk", "cost.perGB: `disk` is no field of the product"),
        ("factor: 0.5", "factor: 0", "cost.factor 0 is not in (0, 100]"),
        ("factor: 0.5", "factor: 0.5, perHour: 3", "unknown field `perHour`"),
    ];
    assert!(problems("mydb", POSTGRES_LIKE).is_empty(), "{:?}", problems("mydb", POSTGRES_LIKE));
    for (from, to, expected) in cases {
        assert!(POSTGRES_LIKE.contains(from), "{from}");
        let found = problems("mydb", &POSTGRES_LIKE.replacen(from, to, 1));
        assert!(
            found.iter().any(|p| p.contains(expected) && p.starts_with("policy/products/mydb/product.yaml:")),
            "{to}: expected {expected:?}, found {found:?}"
        );
        // Located on a line of the file, not at its start, unless the file is at fault.
        assert!(found.iter().all(|p| !p.contains(":0:")), "{found:?}");
    }
}

#[test]
fn a_policy_may_narrow_a_products_sizes_but_not_widen_them() {
    let mut wide = policy();
    wide.sizes.push("huge".into());
    wide.storage_gb.max = 100_000;
    let Err(ProductError::Invalid { issues }) = Products::load(&[], &wide) else { panic!("a wider policy loads") };
    let messages: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.location, i.message)).collect();
    // Located in the built-in's YAML, though a built-in is read from its JSON.
    assert!(
        messages.contains(
            &"policy/products/mysql/product.yaml (built-in):21:6: the policy's sizes huge are not sizes MySQLInstanceClaim admits"
                .to_owned()
        ),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("storageGB 10..=100000 is wider")), "{messages:?}");

    let mut narrow = policy();
    narrow.sizes = vec!["small".into()];
    narrow.storage_gb.max = 100;
    assert!(Products::load(&[], &narrow).is_ok());
}

#[test]
fn unknown_kinds_get_the_closest_name() {
    let products = Products::embedded();
    assert!(products.unknown("mysq").contains("did you mean `mysql`?"), "{}", products.unknown("mysq"));
    assert_eq!(products.unknown("kafka"), "unknown kind `kafka` (idp places: mysql, postgres, redis, app)");
    assert!(products.unknown("postgress").contains("did you mean `postgres`?"));
}

#[test]
fn definition_paths_are_one_level_below_the_products_folder() {
    assert!(is_definition("policy/products/mysql/product.yaml"));
    for path in [
        "policy/products/product.yaml",
        "policy/products/a/b/product.yaml",
        "policy/products/a/xrd.yaml",
        "products/a/product.yaml",
    ] {
        assert!(!is_definition(path), "{path}");
    }
}

/// The objectstore product of tests/fixtures/products/, as a state repo holds it.
fn objectstore(edit: impl Fn(&str, &str) -> String) -> Vec<(String, Source)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/products/objectstore");
    ["product.yaml", "xrd.yaml", "composition-aws.yaml", "composition-gcp.yaml", "composition-oci.yaml"]
        .iter()
        .map(|file| {
            let path = format!("{PRODUCTS_DIR}/objectstore/{file}");
            let text = edit(file, &std::fs::read_to_string(format!("{dir}/{file}")).unwrap());
            (path.clone(), Source::new(path, text))
        })
        .collect()
}

#[test]
fn a_product_brings_its_own_xrd_and_compositions() {
    let products = Products::load(&objectstore(|_, text| text.to_owned()), &policy()).unwrap();
    let store = products.named("bucket").unwrap();
    let claim = store.claim.as_ref().unwrap();
    assert_eq!((claim.kind.as_str(), claim.composite.as_str()), ("ObjectStoreClaim", "XObjectStore"));
    assert!(!claim.fences);
    assert!(products.is_stateful_kind("storage.example.org/v1alpha1", "ObjectStoreClaim"));
    assert!(!Products::embedded().is_stateful_kind("storage.example.org/v1alpha1", "ObjectStoreClaim"));
    assert!(products.claim_kinds().iter().any(|k| k.kind == "ObjectStoreClaim" && k.file == claim.xrd));

    // Its claim kind may be no other XRD's: two of one kind cannot both be installed.
    let clash = objectstore(|file, text| match file {
        "xrd.yaml" => text.replace("kind: ObjectStoreClaim", "kind: MySQLInstanceClaim"),
        _ => text.to_owned(),
    });
    let Err(ProductError::Invalid { issues }) = Products::load(&clash, &policy()) else { panic!("a clash loads") };
    let messages: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
    assert!(
        messages.contains(&"its XRD's claim kind MySQLInstanceClaim is manifests/crossplane/xrd-mysql.yaml's too"),
        "{messages:?}"
    );

    // Each Composition composes its composite.
    let stray = objectstore(|file, text| match file {
        "composition-oci.yaml" => text.replace("kind: XObjectStore", "kind: XMySQLInstance"),
        _ => text.to_owned(),
    });
    let Err(ProductError::Invalid { issues }) = Products::load(&stray, &policy()) else { panic!("a stray loads") };
    let messages: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.starts_with("xobjectstores-oci in policy/products/objectstore/composition-oci.yaml does not compose storage.example.org/v1alpha1 XObjectStore")), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.starts_with("claims of objectstore placed on oci would select no Composition")),
        "{messages:?}"
    );
}
