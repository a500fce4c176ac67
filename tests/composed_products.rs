//! What the PostgreSQL and Redis Compositions compose: for each product, claims shaped
//! exactly as its XRD admits (written here by hand: every provider, every size, ha on and
//! off, primary and secondary, protected or not), and the claims idp renders for every tier,
//! cell, environment and ha of the default policy, are checked against the XRD's claim schema, turned into the
//! composite Crossplane would make, run through the function-patch-and-transform evaluator in
//! support/pt.rs, and every composed resource is validated against its pinned provider CRD in
//! tests/fixtures/crds (aws/, gcp/, and the oci-index/ excerpts; the README there says which
//! upstream file and commit each is).
//!
//! What none of these tests can prove: that a cluster admits the objects (no API server, so
//! no CEL, defaulting or webhooks; the OCI CRDs are excerpts), that the providers accept the
//! values (no provider runs: a shape, node type or version a region lacks passes here), or
//! that connection secret keys exist at run time (they are read from provider source only).

#[path = "support/crd_schema.rs"]
mod crd_schema;
#[path = "support/crossplane.rs"]
mod crossplane;
#[path = "support/pt.rs"]
mod pt;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::{Value, json};

use crossplane::{as_applied, crate_dir, parse_yaml, provider_crds, selected};

/// One product of this file: its XRD, its claim kind, composite kind and selector class.
struct Product {
    xrd_file: &'static str,
    claim_kind: &'static str,
    composite_kind: &'static str,
    class: &'static str,
    /// The connection keys every Composition of the product publishes, and those that one
    /// provider leaves out on purpose (its Composition's header says why).
    missing_keys: &'static [(&'static str, &'static str)],
    /// Whether the XRD has storageGB (PostgreSQL: yes; Redis: no). Neither has writeFence:
    /// neither engine has a read-only switch that binds every session.
    database: bool,
}

const POSTGRES: Product = Product {
    xrd_file: "xrd-postgres.yaml",
    claim_kind: "PostgreSQLInstanceClaim",
    composite_kind: "XPostgreSQLInstance",
    class: "postgres",
    missing_keys: &[],
    database: true,
};

const REDIS: Product = Product {
    xrd_file: "xrd-redis.yaml",
    claim_kind: "RedisInstanceClaim",
    composite_kind: "XRedisInstance",
    class: "redis",
    // OCI Cache clusters have no AUTH secret of their own (composition-redis-oci.yaml).
    missing_keys: &[("oci", "password")],
    database: false,
};

fn xrd(product: &Product) -> Value {
    parse_yaml(&crate_dir().join("manifests/crossplane").join(product.xrd_file)).remove(0)
}

/// The Compositions in manifests/crossplane for `composite_kind`, by file name.
fn compositions(composite_kind: &str) -> Vec<(String, Value)> {
    crossplane::compositions()
        .into_iter()
        .filter(|(_, c)| c["spec"]["compositeTypeRef"]["kind"] == composite_kind)
        .collect()
}

/// The network ids idp's policy gives each provider (manifests/README.md).
fn network(provider: &str) -> Value {
    match provider {
        "aws" => {
            json!({"vpc_id": "vpc-aws-use1", "subnet_group": "cache-private-use1", "security_group_id": "sg-0123"})
        }
        "gcp" => json!({"vpc_name": "vpc-gcp-usc1", "subnet": "psa-usc1"}),
        "oci" => json!({"vcn_id": "ocid1.vcn.oc1.iad.example", "subnet_id": "ocid1.subnet.oc1.iad.example"}),
        other => panic!("no network for {other}"),
    }
}

fn region(provider: &str) -> &'static str {
    match provider {
        "aws" => "us-east-1",
        "gcp" => "us-central1",
        _ => "us-ashburn-1",
    }
}

/// One claim's choices.
#[derive(Clone, Debug)]
struct Choice {
    provider: &'static str,
    size: &'static str,
    ha: bool,
    role: &'static str,
    protected: bool,
}

/// A claim as the product's XRD admits it, the way idp renders MySQL claims (labels,
/// selector, connection secret reference).
fn claim(product: &Product, choice: &Choice) -> Value {
    let name = if choice.role == "primary" { "orders-cache" } else { "orders-cache-secondary" };
    let mut parameters = json!({
        "cell": "payments",
        "environment": "production",
        "tier": "C1",
        "provider": choice.provider,
        "region": region(choice.provider),
        "size": choice.size,
        "ha": choice.ha,
        "role": choice.role,
        "network": network(choice.provider),
        "deletionProtection": choice.protected,
    });
    if product.database {
        parameters["storageGB"] = json!(10);
        parameters["version"] = json!("15");
    } else {
        parameters["version"] = json!("7.x");
    }
    json!({
        "apiVersion": "platform.example.org/v1alpha1",
        "kind": product.claim_kind,
        "metadata": {
            "name": name,
            "namespace": "team-a",
            "labels": {"app.kubernetes.io/managed-by": "idp", "platform.example.org/cell": "payments"}
        },
        "spec": {
            "parameters": parameters,
            "compositionSelector": {"matchLabels": {"provider": choice.provider, "class": product.class}},
            "writeConnectionSecretToRef": {"name": format!("{name}-conn")}
        }
    })
}

/// Every combination this file checks (the same for every product).
fn choices() -> Vec<Choice> {
    let mut out = Vec::new();
    for provider in ["aws", "gcp", "oci"] {
        for size in ["small", "medium", "large", "xlarge"] {
            for ha in [false, true] {
                for role in ["primary", "secondary"] {
                    for protected in [false, true] {
                        out.push(Choice { provider, size, ha, role, protected });
                    }
                }
            }
        }
    }
    out
}

/// The composite Crossplane creates for a claim of `product`.
fn composite_of(product: &Product, claim: &Value) -> Value {
    assert_eq!(claim["kind"], product.claim_kind);
    crossplane::composite_of(claim, product.composite_kind, json!({}))
}

/// Composes every claim of `product` and returns (claim choice, composed resources by
/// template name) after checking the claim against the XRD and each resource against its
/// pinned CRD; problems go to `problems`.
fn compose_all(product: &Product, problems: &mut BTreeSet<String>) -> Vec<(Choice, BTreeMap<String, Value>)> {
    let pipeline = Pipeline::of(product);
    let mut out = Vec::new();
    for choice in choices() {
        let claim = claim(product, &choice);
        let at = format!("{} {choice:?}", product.claim_kind);
        if let Some(applied) = pipeline.compose(product, &at, &claim, problems) {
            out.push((choice, applied));
        }
    }
    out
}

/// What a claim of a product goes through: its XRD's claim schema, its Compositions, the
/// pinned provider CRDs.
struct Pipeline {
    claim_schema: Value,
    compositions: Vec<(String, Value)>,
    crds: BTreeMap<(String, String), Value>,
}

impl Pipeline {
    fn of(product: &Product) -> Self {
        let xrd = xrd(product);
        Pipeline {
            claim_schema: crd_schema::claim_schema(&xrd, "v1alpha1").expect("claim schema"),
            compositions: compositions(product.composite_kind),
            crds: provider_crds(),
        }
    }

    /// One claim checked against the XRD, composed, and each resource checked against its
    /// pinned CRD: the resources by template name, None when no Composition ran.
    fn compose(
        &self,
        product: &Product,
        at: &str,
        claim: &Value,
        problems: &mut BTreeSet<String>,
    ) -> Option<BTreeMap<String, Value>> {
        for v in crd_schema::validate(&self.claim_schema, claim) {
            problems.insert(format!("{at}: the claim is not one the XRD admits: {v}"));
        }
        let composite = composite_of(product, claim);
        let (file, composition) = match selected(&self.compositions, &composite) {
            Ok(found) => found,
            Err(e) => {
                problems.insert(format!("{at}: {e}"));
                return None;
            }
        };
        let desired = match pt::run(composition, &composite, &BTreeSet::new()) {
            Ok(desired) => desired,
            Err(e) => {
                problems.insert(format!("{at}: {file}: {e}"));
                return None;
            }
        };
        for name in &desired.left_out {
            problems.insert(format!("{at}: {file} leaves out {name}: {:?}", desired.warnings));
        }
        let mut applied = BTreeMap::new();
        for (name, resource) in &desired.resources {
            let resource = as_applied(resource, &composite, name);
            let group = resource["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(g, _)| g);
            let kind = resource["kind"].as_str().unwrap_or_default();
            match self.crds.get(&(group.to_owned(), kind.to_owned())) {
                Some(crd) => {
                    for v in crd_schema::validate_against_crd(crd, &resource) {
                        problems.insert(format!("{file} {name} ({group} {kind}): {v} [{at}]"));
                    }
                }
                None => {
                    problems.insert(format!("{file} {name}: no pinned CRD for {group} {kind}"));
                }
            }
            applied.insert(name.clone(), resource);
        }
        Some(applied)
    }
}

/// Every PostgreSQL and Redis claim idp itself renders for the default policy: each tier
/// that places them (those without a required secondary), cell, environment and ha, as
/// idp's generic claim template writes it (no `writeFence`: their XRDs take none), goes
/// through its XRD's claim schema, its Composition and the pinned provider CRDs. Neither
/// product has a secondary, so there is no failover to render.
///
/// Cannot prove: what `every_postgres_claim_...` and `every_redis_claim_...` cannot (no
/// provider or API server runs).
#[test]
fn every_claim_idp_renders_for_postgres_and_redis_composes() {
    use idp::product::Products;
    use idp::render::{RenderInput, Renderer};
    use idp::request::{Kind, Request, Spec};
    use idp::schedule::{Demand, PolicyRef, schedule};

    let policy = &idp::policy::LoadedPolicy::embedded().policy;
    let pref = PolicyRef { version: "v".into(), digest: "sha256:00".into() };
    let multi_az = ["multi_az".to_owned()];
    let mut problems = BTreeSet::new();
    let mut rendered = 0;
    for (product, name) in [(&POSTGRES, "postgres"), (&REDIS, "redis")] {
        let pipeline = Pipeline::of(product);
        let definition = Products::embedded().named(name).expect("a built-in product");
        for (tier, _) in policy.tiers.iter().filter(|(_, t)| !t.secondary.required) {
            for cell in policy.cells.keys() {
                for environment in policy.environments.keys() {
                    for ha in [false, true] {
                        let gates: &[String] = if ha { &multi_az } else { &[] };
                        let demand = Demand { cell, environment, tier, ha, gates, dr_profile: None, pairs: None };
                        let Ok(decision) = schedule(policy, &pref, &demand) else { continue };
                        let mut fields =
                            json!({"size": "small", "ha": ha, "version": if product.database { "15" } else { "7.x" }});
                        if product.database {
                            fields["storageGB"] = json!(10);
                        }
                        let request = Request {
                            kind: Kind::of(definition),
                            name: "orders-cache".into(),
                            namespace: "team-a".into(),
                            cell: cell.clone(),
                            tier: tier.clone(),
                            environment: environment.clone(),
                            dr_profile: None,
                            spec: Spec::data(definition, fields.as_object().unwrap().clone()),
                            origin: "composed_products.rs".into(),
                        };
                        let input = RenderInput {
                            data: &idp::record::DataClaims::NONE,
                            request: &request,
                            decision: &decision,
                            policy,
                            active: idp::cell::Side::Primary,
                            names: idp::layout::NameScheme::for_new(request.kind),
                            unprotect: false,
                            draining: false,
                            moving: None,
                        };
                        for file in Renderer::embedded().request_files(&input).expect("render") {
                            let docs: Vec<Value> = serde_saphyr::from_multiple(&file.content).expect("YAML");
                            for claim in docs.iter().filter(|d| d["kind"] == product.claim_kind) {
                                let at = format!("{tier} {cell} {environment} ha={ha}: {}", file.path);
                                assert!(claim["spec"]["parameters"].get("writeFence").is_none(), "{at}");
                                pipeline.compose(product, &at, claim, &mut problems);
                                rendered += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(rendered >= 2 * 2 * 3 * 3 * 2, "only {rendered} claims rendered");
    report(problems);
}

fn report(problems: BTreeSet<String>) {
    let problems: Vec<String> = problems.into_iter().collect();
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

/// Every PostgreSQL claim the XRD admits (3 providers x 4 sizes x ha x role x fence x
/// protection) composes resources that match the pinned provider CRDs, with the claim's size,
/// version and protection where the Composition says they go.
///
/// Cannot prove: that RDS, Cloud SQL or OCI accept the values (class names, tiers, the flex
/// shape's OCPU/memory pairs, the versions) or that the OCI excerpt is the whole CRD; nor
/// anything about the write fence, which no PostgreSQL Composition applies.
#[test]
fn every_postgres_claim_composes_resources_its_pinned_crds_accept() {
    let mut problems = BTreeSet::new();
    let composed = compose_all(&POSTGRES, &mut problems);
    assert_eq!(composed.len(), 3 * 4 * 2 * 2 * 2);
    for (choice, resources) in &composed {
        let at = format!("{choice:?}");
        let expected: &[&str] = match choice.provider {
            "aws" => &["instance", "parameter-group"],
            "gcp" => &["admin-user", "instance"],
            _ => &["db-system"],
        };
        if resources.keys().map(String::as_str).collect::<Vec<_>>() != expected {
            problems.insert(format!("{at}: composes {:?}, expected {expected:?}", resources.keys()));
            continue;
        }
        let (main, version_path, version) = match choice.provider {
            "aws" => ("instance", "spec.forProvider.engineVersion", json!("15")),
            "gcp" => ("instance", "spec.forProvider.databaseVersion", json!("POSTGRES_15")),
            _ => ("db-system", "spec.forProvider.dbVersion", json!("15")),
        };
        if pt::value_at(&resources[main], version_path) != Some(&version) {
            problems.insert(format!("{at}: {version_path} is {:?}", pt::value_at(&resources[main], version_path)));
        }
        if choice.provider == "aws"
            && pt::value_at(&resources["parameter-group"], "spec.forProvider.family") != Some(&json!("postgres15"))
        {
            problems.insert(format!("{at}: the parameter group's family is not postgres15"));
        }
        // No fence anywhere: the XRD has no writeFence, and no composed resource sets read_only.
        let text = serde_json::to_string(resources).unwrap();
        if text.contains("read_only") {
            problems.insert(format!("{at}: a composed resource mentions read_only, but PostgreSQL has no fence"));
        }
        let protection: &[&str] = match choice.provider {
            "aws" => &["spec.forProvider.deletionProtection"],
            "gcp" => &["spec.forProvider.deletionProtection", "spec.forProvider.settings.deletionProtectionEnabled"],
            _ => &[],
        };
        for path in protection {
            if pt::value_at(&resources[main], path) != Some(&json!(choice.protected)) {
                problems.insert(format!("{at}: {path} does not follow deletionProtection"));
            }
        }
    }
    report(problems);
}

/// Every Redis claim the XRD admits (3 providers x 4 sizes x ha x role x protection) composes
/// one resource per claim that matches its pinned provider CRD, sized by memory, with ha
/// where each cloud keeps it.
///
/// Cannot prove: that the node types, memory sizes or Redis versions exist in a region, that
/// a Memorystore `tier` change is refused only as force-new.yaml says (no provider runs), or
/// that the OCI excerpt is the whole CRD.
#[test]
fn every_redis_claim_composes_resources_its_pinned_crds_accept() {
    let mut problems = BTreeSet::new();
    let composed = compose_all(&REDIS, &mut problems);
    assert_eq!(composed.len(), 3 * 4 * 2 * 2 * 2);
    for (choice, resources) in &composed {
        let at = format!("{choice:?}");
        let (name, ha_path, ha_value) = match choice.provider {
            "aws" => ("replication-group", "spec.forProvider.numCacheClusters", json!(if choice.ha { 2 } else { 1 })),
            "gcp" => ("instance", "spec.forProvider.tier", json!(if choice.ha { "STANDARD_HA" } else { "BASIC" })),
            _ => ("cluster", "spec.forProvider.nodeCount", json!(if choice.ha { 2 } else { 1 })),
        };
        if resources.keys().map(String::as_str).collect::<Vec<_>>() != [name] {
            problems.insert(format!("{at}: composes {:?}, expected [{name}]", resources.keys()));
            continue;
        }
        let found = pt::value_at(&resources[name], ha_path);
        if found.and_then(Value::as_f64) != ha_value.as_f64() && found != Some(&ha_value) {
            problems.insert(format!("{at}: {ha_path} is {found:?}, expected {ha_value}"));
        }
        let memory = match choice.provider {
            "aws" => None,
            "gcp" => pt::value_at(&resources[name], "spec.forProvider.memorySizeGb"),
            _ => pt::value_at(&resources[name], "spec.forProvider.nodeMemoryInGbs"),
        };
        if choice.provider != "aws" && memory.and_then(Value::as_f64).is_none_or(|gb| gb < 1.0) {
            problems.insert(format!("{at}: no memory size ({memory:?})"));
        }
        if choice.provider == "gcp"
            && pt::value_at(&resources[name], "spec.forProvider.deletionProtection") != Some(&json!(choice.protected))
        {
            problems.insert(format!("{at}: Memorystore deletionProtection does not follow the claim"));
        }
    }
    report(problems);
}

/// Each Composition of the two products publishes exactly its XRD's connectionSecretKeys,
/// less the keys a provider leaves out on purpose (Product::missing_keys), and is selected
/// by `{provider, class}` alone, one per provider.
///
/// Cannot prove: that the provider writes the connection secret keys read (they are taken
/// from provider source, config/ of provider-upjet-aws and -gcp and upjet's sensitive.go).
#[test]
fn each_provider_has_one_composition_publishing_the_xrd_keys() {
    let mut problems = BTreeSet::new();
    for product in [&POSTGRES, &REDIS] {
        let keys: BTreeSet<String> = xrd(product)["spec"]["connectionSecretKeys"]
            .as_array()
            .expect("connectionSecretKeys")
            .iter()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect();
        let compositions = compositions(product.composite_kind);
        for provider in ["aws", "gcp", "oci"] {
            let mine: Vec<&(String, Value)> =
                compositions.iter().filter(|(_, c)| c["metadata"]["labels"]["provider"] == provider).collect();
            let [(file, composition)] = mine.as_slice() else {
                problems.insert(format!("{}: {} Compositions for {provider}", product.composite_kind, mine.len()));
                continue;
            };
            if composition["metadata"]["labels"]["class"] != product.class {
                problems.insert(format!("{file}: label class is not {}", product.class));
            }
            let published: BTreeSet<String> = composition["spec"]["pipeline"][0]["input"]["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["connectionDetails"].as_array().into_iter().flatten())
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect();
            let expected: BTreeSet<String> =
                keys.iter().filter(|k| !product.missing_keys.contains(&(provider, k.as_str()))).cloned().collect();
            if published != expected {
                problems.insert(format!("{file}: publishes {published:?}, expected {expected:?}"));
            }
        }
    }
    report(problems);
}

/// force-new.yaml has a row for every toFieldPath the PostgreSQL and Redis Compositions patch
/// on a composed resource, and the claim changes that reach a `replace` row are exactly the
/// known ones: those the XRDs refuse (provider, region, version) and those listed here, each
/// documented in its Composition.
///
/// Cannot prove: that the rows are right (they cite provider source; no provider runs), nor
/// that a refused replacement behaves as upjet's source says.
#[test]
fn force_new_rows_cover_every_patch_and_replacements_are_the_known_ones() {
    let table: Value = serde_saphyr::from_str(
        &fs::read_to_string(crate_dir().join("manifests/crossplane/force-new.yaml")).expect("read force-new.yaml"),
    )
    .expect("force-new.yaml parses");
    let mut rows: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for resource in table["resources"].as_array().expect("resources") {
        let key = (resource["apiVersion"].as_str().unwrap().to_owned(), resource["kind"].as_str().unwrap().to_owned());
        for field in resource["fields"].as_array().expect("fields") {
            rows.entry(key.clone())
                .or_default()
                .insert(field["path"].as_str().unwrap().to_owned(), field["change"].as_str().unwrap().to_owned());
        }
    }
    const REFUSED_BY_XRD: &[&str] = &["spec.parameters.provider", "spec.parameters.region", "spec.parameters.version"];
    // (Composition, claim parameter): a change the XRD allows that the provider cannot apply.
    let known: BTreeSet<(&str, &str)> = [
        // The network the database or cache lives in (as for MySQL's OCI subnetId).
        ("xpostgresqlinstances-oci", "spec.parameters.network.subnet_id"),
        ("xredisinstances-aws", "spec.parameters.network.subnet_group"),
        ("xredisinstances-gcp", "spec.parameters.network.vpc_name"),
        ("xredisinstances-gcp", "spec.parameters.network.subnet"),
        ("xredisinstances-oci", "spec.parameters.network.subnet_id"),
        // Cloud SQL's disk: a replacement for a smaller size only (`when: decrease`), which
        // the XRD refuses (storageGB cannot shrink).
        ("xpostgresqlinstances-gcp", "spec.parameters.storageGB"),
        // Memorystore's tier (composition-redis-gcp.yaml).
        ("xredisinstances-gcp", "spec.parameters.ha"),
        // Identity and admin Secret names, which come from the composite's own name.
        ("xpostgresqlinstances-aws", "metadata.name"),
        ("xpostgresqlinstances-gcp", "metadata.name"),
        ("xpostgresqlinstances-oci", "metadata.name"),
        ("xpostgresqlinstances-oci", "metadata.labels[crossplane.io/claim-namespace]"),
        ("xpostgresqlinstances-oci", "metadata.labels[crossplane.io/claim-name]"),
        ("xredisinstances-aws", "metadata.name"),
        ("xredisinstances-gcp", "metadata.name"),
    ]
    .into_iter()
    .collect();
    let mut problems = BTreeSet::new();
    let mut found = BTreeSet::new();
    let mut patched = 0;
    for product in [&POSTGRES, &REDIS] {
        for (file, composition) in compositions(product.composite_kind) {
            let name = composition["metadata"]["name"].as_str().unwrap().to_owned();
            for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
                let input = &step["input"];
                for resource in input["resources"].as_array().into_iter().flatten() {
                    let key = (
                        resource["base"]["apiVersion"].as_str().unwrap_or_default().to_owned(),
                        resource["base"]["kind"].as_str().unwrap_or_default().to_owned(),
                    );
                    for patch in resource["patches"].as_array().into_iter().flatten() {
                        let patches: Vec<&Value> = if patch["type"] == "PatchSet" {
                            input["patchSets"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter(|s| s["name"] == patch["patchSetName"])
                                .flat_map(|s| s["patches"].as_array().into_iter().flatten())
                                .collect()
                        } else {
                            vec![patch]
                        };
                        for patch in patches {
                            if patch["type"] == "ToCompositeFieldPath" {
                                continue;
                            }
                            let Some(to) = patch["toFieldPath"].as_str() else { continue };
                            patched += 1;
                            let Some(change) = rows.get(&key).and_then(|r| r.get(to)) else {
                                problems.insert(format!("{file}: {} {} {to} has no force-new.yaml row", key.0, key.1));
                                continue;
                            };
                            if change != "replace" {
                                continue;
                            }
                            let from: Vec<&str> = if patch["type"] == "CombineFromComposite" {
                                patch["combine"]["variables"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|v| v["fromFieldPath"].as_str())
                                    .collect()
                            } else {
                                patch["fromFieldPath"].as_str().into_iter().collect()
                            };
                            for source in from {
                                if !REFUSED_BY_XRD.contains(&source) {
                                    found.insert((name.clone(), source.to_owned()));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let known: BTreeSet<(String, String)> = known.into_iter().map(|(c, p)| (c.to_owned(), p.to_owned())).collect();
    for unexpected in found.difference(&known) {
        problems.insert(format!("{unexpected:?} reaches a replace row and is not a known replacement"));
    }
    for stale in known.difference(&found) {
        problems.insert(format!("{stale:?} is listed as a known replacement but reaches no replace row"));
    }
    assert!(patched > 60, "only {patched} patches found");
    report(problems);
}
