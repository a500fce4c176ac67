//! Checks what idp ships for the management cluster: the Crossplane definitions in
//! manifests/crossplane/, the Argo CD bootstrap templates in templates/bootstrap/, and the
//! per-request templates for apps (templates/app/) and their DNS failover (templates/traffic/).
//!
//! Objects are validated against the upstream CRDs pinned in tests/fixtures/crds (its README
//! names each file's upstream repository, path and tag), the schemas a real API server
//! enforces, with the stricter walk in support/crd_schema.rs that also reports fields the
//! server would silently prune.

#[path = "support/crd_schema.rs"]
mod crd_schema;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior, context};
use serde_json::{Value, json};

use crd_schema::Violation;

const REPO_URL: &str = "https://git.example.org/platform/state.git";
const XRD_VERSION: &str = "v1alpha1";

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse_yaml(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_yaml_str(&text, &path.display().to_string())
}

fn parse_yaml_str(text: &str, origin: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("{origin} is not valid YAML: {e}"))
        .into_iter()
        // A document that holds only comments parses as null.
        .filter(|doc| !doc.is_null())
        .collect()
}

/// Upstream CRDs by (group, kind). Loaded once per test binary.
struct Upstream {
    crds: BTreeMap<(String, String), Value>,
}

impl Upstream {
    fn crd(&self, group: &str, kind: &str) -> Option<&Value> {
        self.crds.get(&(group.to_owned(), kind.to_owned()))
    }

    fn crd_for(&self, doc: &Value) -> Option<&Value> {
        let group = doc["apiVersion"].as_str()?.split_once('/')?.0;
        self.crd(group, doc["kind"].as_str()?)
    }
}

/// The pinned CRDs in tests/fixtures/crds.
fn crds_dir() -> PathBuf {
    crate_dir().join("tests/fixtures/crds")
}

/// The upstream Crossplane and Argo CD CRDs (tests/fixtures/crds), loaded once.
fn upstream() -> &'static Upstream {
    static UPSTREAM: OnceLock<Upstream> = OnceLock::new();
    UPSTREAM.get_or_init(|| {
        let dir = crds_dir();
        let mut files: Vec<PathBuf> = fs::read_dir(dir.join("crossplane"))
            .unwrap_or_else(|e| panic!("read {}/crossplane: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.ends_with("compositeresourcedefinitions.yaml") || name.ends_with("compositions.yaml")
            })
            .collect();
        files.push(dir.join("argo-cd/application-crd.yaml"));
        files.push(dir.join("argo-cd/appproject-crd.yaml"));
        let mut crds = BTreeMap::new();
        for file in files {
            for crd in parse_yaml(&file) {
                assert_eq!(crd["kind"], "CustomResourceDefinition", "{} holds a {}", file.display(), crd["kind"]);
                let group = crd["spec"]["group"].as_str().expect("CRD group").to_owned();
                let kind = crd["spec"]["names"]["kind"].as_str().expect("CRD kind").to_owned();
                crds.insert((group, kind), crd);
            }
        }
        assert_eq!(crds.len(), 4, "expected the XRD, Composition, Application and AppProject CRDs: {:?}", crds.keys());
        Upstream { crds }
    })
}

/// Every pinned CRD file is accounted for in tests/fixtures/crds/README.md: its own row, or
/// its folder's (`<folder>/*.yaml`), so nobody has to guess where a schema came from.
#[test]
fn every_pinned_crd_has_a_row_in_the_fixtures_readme() {
    let dir = crds_dir();
    let readme = fs::read_to_string(dir.join("README.md")).expect("read tests/fixtures/crds/README.md");
    let rows: Vec<&str> = readme.lines().filter(|line| line.starts_with("| ")).collect();
    let mut problems = Vec::new();
    let mut files = 0;
    for folder in fs::read_dir(&dir).expect("read tests/fixtures/crds") {
        let folder = folder.expect("directory entry").path();
        if !folder.is_dir() {
            continue;
        }
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        for file in fs::read_dir(&folder).expect("read a CRD folder") {
            let file = file.expect("directory entry").file_name().to_string_lossy().into_owned();
            files += 1;
            let own = format!("| {name}/{file} |");
            let whole = format!("| {name}/*.yaml |");
            if !rows.iter().any(|row| row.starts_with(&own) || row.starts_with(&whole)) {
                problems.push(format!("{name}/{file} has no row in tests/fixtures/crds/README.md"));
            }
        }
    }
    report(&problems);
    assert!(files >= 20, "only {files} pinned CRD files found");
}

/// The file in manifests/crossplane/ that is idp's data, not a Kubernetes manifest.
const FORCE_NEW_TABLE: &str = "force-new.yaml";

/// Every Kubernetes document in manifests/crossplane/*.yaml, with "file#index" for messages.
fn crossplane_manifests() -> Vec<(String, Value)> {
    let dir = crate_dir().join("manifests/crossplane");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .filter(|path| path.file_name().is_none_or(|name| name != FORCE_NEW_TABLE))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in {}", dir.display());
    files
        .iter()
        .flat_map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            parse_yaml(file).into_iter().enumerate().map(move |(i, doc)| (format!("{name}#{i}"), doc))
        })
        .collect()
}

fn of_kind<'a>(docs: &'a [(String, Value)], kind: &str) -> Vec<&'a (String, Value)> {
    docs.iter().filter(|(_, doc)| doc["kind"] == kind).collect()
}

fn xrd_named<'a>(docs: &'a [(String, Value)], composite_kind: &str) -> &'a Value {
    &of_kind(docs, "CompositeResourceDefinition")
        .into_iter()
        .find(|(_, doc)| doc["spec"]["names"]["kind"] == composite_kind)
        .unwrap_or_else(|| panic!("no XRD for {composite_kind}"))
        .1
}

/// Renders `templates/<name>` the way idp does. Strict undefined behaviour makes a
/// template that reads a variable idp does not pass fail here rather than render "".
fn render_template(name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    let path = crate_dir().join("templates").join(name);
    let source = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template_owned(name.to_owned(), source).expect("template compiles");
    env.get_template(name).unwrap().render(ctx)
}

fn render_bootstrap(name: &str, ctx: minijinja::Value) -> String {
    render_template(&format!("bootstrap/{name}"), ctx).unwrap_or_else(|e| panic!("render {name}: {e:#}"))
}

fn bootstrap_docs(ctx: minijinja::Value) -> Vec<(String, Value)> {
    ["appproject.yaml.j2", "root-application.yaml.j2"]
        .into_iter()
        .map(|name| {
            let rendered = render_bootstrap(name, ctx.clone());
            let mut docs = parse_yaml_str(&rendered, name);
            assert_eq!(docs.len(), 1, "{name} must render exactly one document:\n{rendered}");
            (name.to_owned(), docs.remove(0))
        })
        .collect()
}

fn default_context() -> minijinja::Value {
    context! { repo_url => REPO_URL, revision => "main", project => "idp-platform" }
}

fn report(problems: &[String]) {
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

fn prefixed(origin: &str, violations: Vec<Violation>) -> impl Iterator<Item = String> + '_ {
    violations.into_iter().map(move |v| format!("{origin}: {v}"))
}

// ---------------------------------------------------------------------------------------
// Upstream CRD validation
// ---------------------------------------------------------------------------------------

/// Kinds without a CRD in tests/fixtures/crds; checked by `packages_are_pinned` instead.
const PACKAGE_KINDS: &[(&str, &str)] = &[("pkg.crossplane.io", "Provider"), ("pkg.crossplane.io", "Function")];

#[test]
fn crossplane_manifests_match_upstream_crds() {
    let upstream = upstream();
    let mut problems = Vec::new();
    let mut validated = 0;
    for (origin, doc) in crossplane_manifests() {
        if let Some(crd) = upstream.crd_for(&doc) {
            problems.extend(prefixed(&origin, crd_schema::validate_against_crd(crd, &doc)));
            validated += 1;
            continue;
        }
        let group = doc["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(g, _)| g);
        let kind = doc["kind"].as_str().unwrap_or_default();
        if !PACKAGE_KINDS.contains(&(group, kind)) {
            problems.push(format!("{origin}: {} {kind} has no upstream CRD to check it against", doc["apiVersion"]));
        }
    }
    report(&problems);
    // Two XRDs and five Compositions; a silent zero would mean the loader broke.
    assert!(validated >= 7, "only {validated} documents were validated against upstream CRDs");
}

#[test]
fn bootstrap_templates_match_upstream_crds() {
    let upstream = upstream();
    let mut problems = Vec::new();
    for (origin, doc) in bootstrap_docs(default_context()) {
        match upstream.crd_for(&doc) {
            Some(crd) => problems.extend(prefixed(&origin, crd_schema::validate_against_crd(crd, &doc))),
            None => problems.push(format!("{origin}: no upstream CRD for {} {}", doc["apiVersion"], doc["kind"])),
        }
    }
    report(&problems);
}

// ---------------------------------------------------------------------------------------
// The validator itself
// ---------------------------------------------------------------------------------------

/// A small CRD in the shape the API server expects, so these tests run everywhere.
fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.org",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {
                            "type": "object",
                            "required": ["replicas"],
                            "properties": {
                                "replicas": {"type": "integer", "minimum": 0},
                                "port": {"x-kubernetes-int-or-string": true},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                "template": {
                                    "type": "object",
                                    "x-kubernetes-embedded-resource": true,
                                    "x-kubernetes-preserve-unknown-fields": true
                                },
                                "items": {
                                    "type": "array",
                                    "items": {"type": "object", "properties": {"name": {"type": "string"}}}
                                }
                            }
                        }
                    }
                }}
            }]
        }
    })
}

fn widget(spec: Value) -> Value {
    json!({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})
}

#[test]
fn validator_accepts_what_the_api_server_accepts() {
    let crd = widget_crd();
    let doc = widget(json!({
        "replicas": 2,
        "port": "http",
        "labels": {"tier": "web"},
        "extra": {"anything": {"goes": [1, 2]}},
        "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
        "items": [{"name": "a"}]
    }));
    assert_eq!(crd_schema::validate_against_crd(&crd, &doc), vec![]);
    // int-or-string takes both.
    assert_eq!(crd_schema::validate_against_crd(&crd, &widget(json!({"replicas": 1, "port": 8080}))), vec![]);
}

#[test]
fn validator_catches_a_misspelled_field_and_a_wrong_type() {
    let crd = widget_crd();
    let doc = widget(json!({"replicas": "two", "items": [{"name": "a", "nmae": "b"}]}));
    let found: Vec<String> = crd_schema::validate_against_crd(&crd, &doc).iter().map(ToString::to_string).collect();
    assert!(
        found.iter().any(|v| v.starts_with("spec.replicas:") && v.contains("integer")),
        "wrong type not reported: {found:#?}"
    );
    assert!(
        found.iter().any(|v| v.starts_with("spec.items[0].nmae: unknown field")),
        "misspelled field not reported with its path: {found:#?}"
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn validator_catches_the_rest_of_what_the_api_server_would_drop_or_reject() {
    let crd = widget_crd();
    let cases = [
        (widget(json!({"replicas": 1, "port": true})), "spec.port:"),
        (widget(json!({"replicas": -1})), "spec.replicas:"),
        (widget(json!({})), "spec:"),
        (widget(json!({"replicas": 1, "labels": {"tier": 3}})), "spec.labels.tier:"),
        (
            widget(json!({"replicas": 1, "template": {"data": {}}})),
            "spec.template: embedded resource has no apiVersion",
        ),
        (
            json!({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w", "lables": {}}, "spec": {"replicas": 1}}),
            "metadata.lables: unknown field",
        ),
        (
            json!({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"labels": {"app.kubernetes.io/name": 1}}, "spec": {"replicas": 1}}),
            "metadata.labels[\"app.kubernetes.io/name\"]:",
        ),
        (
            json!({"apiVersion": "example.org/v2", "kind": "Widget", "spec": {"replicas": 1}}),
            "apiVersion: example.org/v2 is not a served version",
        ),
        (json!({"apiVersion": "example.org/v1", "kind": "Gadget"}), "apiVersion: example.org/v1 Gadget is not"),
    ];
    for (doc, expected) in cases {
        let found: Vec<String> = crd_schema::validate_against_crd(&crd, &doc).iter().map(ToString::to_string).collect();
        assert!(found.iter().any(|v| v.starts_with(expected)), "expected {expected:?} for {doc}, got {found:#?}");
    }
}

#[test]
fn validator_catches_mistakes_against_the_real_application_crd() {
    let upstream = upstream();
    let crd = upstream.crd("argoproj.io", "Application").expect("Application CRD");
    let (_, mut app) = bootstrap_docs(default_context()).remove(1);
    app["spec"]["syncPolicy"]["automated"]["prunne"] = json!(true);
    app["spec"]["syncPolicy"]["retry"]["limit"] = json!("five");
    let found: Vec<String> = crd_schema::validate_against_crd(crd, &app).iter().map(ToString::to_string).collect();
    assert!(found.iter().any(|v| v.starts_with("spec.syncPolicy.automated.prunne: unknown field")), "{found:#?}");
    assert!(found.iter().any(|v| v.starts_with("spec.syncPolicy.retry.limit:")), "{found:#?}");
}

// ---------------------------------------------------------------------------------------
// XRDs
// ---------------------------------------------------------------------------------------

#[test]
fn xrds_offer_v1_style_claims() {
    let docs = crossplane_manifests();
    let expected = [
        ("XMySQLInstance", "xmysqlinstances", "MySQLInstanceClaim", "mysqlinstanceclaims"),
        ("XReplication", "xreplications", "ReplicationClaim", "replicationclaims"),
    ];
    for (kind, plural, claim_kind, claim_plural) in expected {
        let xrd = xrd_named(&docs, kind);
        let spec = &xrd["spec"];
        assert_eq!(xrd["apiVersion"], "apiextensions.crossplane.io/v1", "{kind}");
        assert_eq!(
            xrd["metadata"]["name"],
            format!("{plural}.platform.example.org"),
            "{kind}: XRD name must be <plural>.<group>"
        );
        // Only LegacyCluster XRDs may offer claims on Crossplane 2.
        assert_eq!(spec["scope"], "LegacyCluster", "{kind}");
        assert_eq!(spec["group"], "platform.example.org", "{kind}");
        assert_eq!(spec["names"]["plural"], plural, "{kind}");
        assert_eq!(spec["claimNames"]["kind"], claim_kind, "{kind}");
        assert_eq!(spec["claimNames"]["plural"], claim_plural, "{kind}");
        assert_ne!(spec["claimNames"]["kind"], spec["names"]["kind"], "{kind}: claim and composite kinds must differ");
        assert_ne!(
            spec["claimNames"]["plural"], spec["names"]["plural"],
            "{kind}: claim and composite plurals must differ"
        );
        let versions = spec["versions"].as_array().expect("versions");
        assert_eq!(versions.len(), 1, "{kind}");
        assert_eq!(versions[0]["name"], XRD_VERSION, "{kind}");
        assert_eq!(versions[0]["served"], true, "{kind}");
        assert_eq!(versions[0]["referenceable"], true, "{kind}");
        // The embedded schema must compile; an empty object is valid against it.
        let schema = &versions[0]["schema"]["openAPIV3Schema"];
        assert_eq!(crd_schema::schema_violations(schema, &json!({})), vec![], "{kind}");
    }
    let mysql = xrd_named(&docs, "XMySQLInstance");
    assert_eq!(mysql["spec"]["connectionSecretKeys"], json!(["username", "password", "endpoint", "port"]));
}

/// A MySQLInstanceClaim the way idp renders it (PRODUCT.md section 5, network from section 3).
fn mysql_claim(provider: &str, region: &str, network: Value) -> Value {
    json!({
        "apiVersion": "platform.example.org/v1alpha1",
        "kind": "MySQLInstanceClaim",
        "metadata": {
            "name": "orders-db",
            "namespace": "team-alpha",
            "labels": {
                "app.kubernetes.io/managed-by": "idp",
                "platform.example.org/cell": "cell-us-east",
                "platform.example.org/environment": "production",
                "platform.example.org/tier": "medium",
                "platform.example.org/request": "team-alpha.mysql.orders-db"
            },
            "annotations": {"platform.example.org/placement-reason": "{\"tier\":\"medium\"}"}
        },
        "spec": {
            "parameters": {
                "cell": "cell-us-east",
                "environment": "production",
                "tier": "medium",
                "provider": provider,
                "region": region,
                "size": "large",
                "storageGB": 100,
                "ha": true,
                "network": network,
                "role": "primary",
                "writeFence": false,
                "deletionProtection": true
            },
            "compositionSelector": {"matchLabels": {"provider": provider, "class": "mysql"}},
            "writeConnectionSecretToRef": {"name": "orders-db-conn"}
        }
    })
}

fn sample_mysql_claims() -> Vec<Value> {
    vec![
        mysql_claim("aws", "us-east-1", json!({"vpc_id": "vpc-aws-use1", "subnet_group": "db-private-use1"})),
        mysql_claim("gcp", "us-central1", json!({"vpc_name": "vpc-gcp-usc1", "subnet": "db-private-usc1"})),
        mysql_claim("oci", "us-ashburn-1", json!({"vcn_id": "vcn-oci-iad", "subnet_id": "db-private-iad"})),
    ]
}

fn replication_claim() -> Value {
    let primary = json!({
        "provider": "aws",
        "region": "us-east-1",
        "claimName": "orders-db",
        "connectionSecretRef": {"name": "orders-db-conn"}
    });
    let secondary = json!({
        "provider": "gcp",
        "region": "us-central1",
        "claimName": "orders-db-secondary",
        "connectionSecretRef": {"name": "orders-db-secondary-conn"}
    });
    json!({
        "apiVersion": "platform.example.org/v1alpha1",
        "kind": "ReplicationClaim",
        "metadata": {"name": "orders-db-replication", "namespace": "team-alpha"},
        "spec": {
            "parameters": {
                "cell": "payments",
                "environment": "production",
                "tool": "oci-goldengate",
                "mode": "cdc",
                "expectedRpoSeconds": 30,
                "primary": primary,
                "secondary": secondary,
                "direction": "primary-to-secondary",
                "source": primary,
                "target": secondary
            },
            "compositionSelector": {"matchLabels": {"tool": "oci-goldengate"}}
        }
    })
}

fn claim_violations(docs: &[(String, Value)], composite_kind: &str, claim: &Value) -> Vec<String> {
    let schema = crd_schema::claim_schema(xrd_named(docs, composite_kind), XRD_VERSION).expect("claim schema");
    crd_schema::validate(&schema, claim).iter().map(ToString::to_string).collect()
}

#[test]
fn xrd_schemas_accept_the_claims_idp_renders() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    for claim in sample_mysql_claims() {
        let provider = claim["spec"]["parameters"]["provider"].clone();
        problems
            .extend(claim_violations(&docs, "XMySQLInstance", &claim).into_iter().map(|v| format!("{provider}: {v}")));
    }
    problems.extend(claim_violations(&docs, "XReplication", &replication_claim()));
    report(&problems);
}

#[test]
fn xrd_schemas_reject_malformed_claims() {
    let docs = crossplane_manifests();
    let base = sample_mysql_claims().remove(0);
    let mysql_cases: [(&str, Value, &str); 8] = [
        ("misspelled field", json!({"storageGb": 100}), "spec.parameters.storageGb: unknown field"),
        ("wrong type", json!({"storageGB": "100"}), "spec.parameters.storageGB:"),
        ("below minimum", json!({"storageGB": 5}), "spec.parameters.storageGB:"),
        ("unknown provider", json!({"provider": "azure"}), "spec.parameters.provider:"),
        ("unknown size", json!({"size": "huge"}), "spec.parameters.size:"),
        ("network values are strings", json!({"network": {"vpc_id": 7}}), "spec.parameters.network.vpc_id:"),
        ("unknown role", json!({"role": "tertiary"}), "spec.parameters.role:"),
        ("protection is a boolean", json!({"deletionProtection": "true"}), "spec.parameters.deletionProtection:"),
    ];
    for (what, patch, expected) in mysql_cases {
        let mut claim = base.clone();
        for (key, value) in patch.as_object().unwrap() {
            claim["spec"]["parameters"][key] = value.clone();
        }
        let found = claim_violations(&docs, "XMySQLInstance", &claim);
        assert!(found.iter().any(|v| v.starts_with(expected)), "{what}: expected {expected:?}, got {found:#?}");
    }

    let mut missing = base.clone();
    missing["spec"]["parameters"].as_object_mut().unwrap().remove("role");
    let found = claim_violations(&docs, "XMySQLInstance", &missing);
    assert!(found.iter().any(|v| v.contains("\"role\" is a required property")), "{found:#?}");

    let mut misspelled_selector = base;
    misspelled_selector["spec"]["compositionSelector"] = json!({"matchLabel": {"provider": "aws"}});
    let found = claim_violations(&docs, "XMySQLInstance", &misspelled_selector);
    assert!(found.iter().any(|v| v.starts_with("spec.compositionSelector.matchLabel: unknown field")), "{found:#?}");

    let mut bad_tool = replication_claim();
    bad_tool["spec"]["parameters"]["tool"] = json!("goldengate");
    bad_tool["spec"]["parameters"]["target"]["connectionSecretRef"] = json!({});
    let found = claim_violations(&docs, "XReplication", &bad_tool);
    assert!(found.iter().any(|v| v.starts_with("spec.parameters.tool:")), "{found:#?}");
    assert!(found.iter().any(|v| v.starts_with("spec.parameters.target.connectionSecretRef:")), "{found:#?}");
}

// ---------------------------------------------------------------------------------------
// Compositions
// ---------------------------------------------------------------------------------------

/// The input schema of function-patch-and-transform (pt.fn.crossplane.io/v1beta1 Resources),
/// written from its Go types (input/v1beta1/resources*.go), so patches are checked as
/// strictly as everything else. The Composition CRD treats a step's input as opaque.
fn patch_and_transform_input_schema() -> Value {
    let string = json!({"type": "string"});
    let patch = json!({
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": [
                "FromCompositeFieldPath", "PatchSet", "ToCompositeFieldPath",
                "CombineFromComposite", "CombineToComposite"
            ]},
            "fromFieldPath": string,
            "toFieldPath": string,
            "patchSetName": string,
            "combine": {
                "type": "object",
                "required": ["variables", "strategy"],
                "properties": {
                    "variables": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "object", "required": ["fromFieldPath"], "properties": {"fromFieldPath": string}}
                    },
                    "strategy": {"type": "string", "enum": ["string"]},
                    "string": {"type": "object", "required": ["fmt"], "properties": {"fmt": string}}
                }
            },
            "transforms": {"type": "array", "items": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "enum": ["map", "match", "math", "string", "convert"]},
                    "map": {"type": "object", "additionalProperties": true},
                    "match": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "math": {"type": "object", "properties": {
                        "type": {"type": "string", "enum": ["Multiply", "ClampMin", "ClampMax"]},
                        "multiply": {"type": "integer"},
                        "clampMin": {"type": "integer"},
                        "clampMax": {"type": "integer"}
                    }},
                    "string": {"type": "object", "properties": {
                        "type": {"type": "string", "enum": ["Format", "Convert", "TrimPrefix", "TrimSuffix", "Regexp"]},
                        "fmt": string,
                        "convert": {"type": "string", "enum": [
                            "ToUpper", "ToLower", "ToBase64", "FromBase64", "ToJson",
                            "ToSha1", "ToSha256", "ToSha512", "ToAdler32"
                        ]},
                        "trim": string,
                        "regexp": {"type": "object", "required": ["match"], "properties": {
                            "match": string, "group": {"type": "integer"}
                        }}
                    }},
                    "convert": {"type": "object", "required": ["toType"], "properties": {
                        "toType": {"type": "string", "enum": ["string", "int", "int64", "bool", "float64", "object", "array"]},
                        "format": {"type": "string", "enum": ["none", "quantity", "json"]}
                    }}
                }
            }},
            "policy": {"type": "object", "properties": {
                "fromFieldPath": {"type": "string", "enum": ["Optional", "Required"]},
                "toFieldPath": {"type": "string"}
            }}
        }
    });
    json!({
        "type": "object",
        "required": ["resources"],
        "properties": {
            "apiVersion": string,
            "kind": string,
            "metadata": {"type": "object"},
            "patchSets": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "patches"],
                "properties": {"name": string, "patches": {"type": "array", "items": patch}}
            }},
            "resources": {"type": "array", "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": string,
                    "base": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": true,
                        "x-kubernetes-preserve-unknown-fields": true
                    },
                    "patches": {"type": "array", "items": patch},
                    "connectionDetails": {"type": "array", "items": {
                        "type": "object",
                        "required": ["name", "type"],
                        "properties": {
                            "name": string,
                            "type": {"type": "string", "enum": ["FromConnectionSecretKey", "FromFieldPath", "FromValue"]},
                            "fromConnectionSecretKey": string,
                            "fromFieldPath": string,
                            "value": string
                        }
                    }},
                    "readinessChecks": {"type": "array", "items": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            "type": {"type": "string", "enum": [
                                "MatchString", "MatchInteger", "NonEmpty", "MatchCondition", "MatchTrue", "MatchFalse", "None"
                            ]},
                            "fieldPath": string,
                            "matchString": string,
                            "matchInteger": {"type": "integer"},
                            "matchCondition": {"type": "object", "properties": {"type": string, "status": string}}
                        }
                    }}
                }
            }}
        }
    })
}

/// Splits a Crossplane field path (`spec.a[key].b[0]`) into segments.
fn field_path(path: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => segments.extend((!current.is_empty()).then(|| std::mem::take(&mut current))),
            '[' => {
                segments.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
                segments.push(chars.by_ref().take_while(|&c| c != ']').collect());
            }
            _ => current.push(c),
        }
    }
    segments.extend((!current.is_empty()).then_some(current));
    segments
}

/// Whether a patch's fromFieldPath names something a composite of this XRD can carry:
/// a field its schema declares, or ObjectMeta.
fn resolves_on_composite(xrd_schema: &Value, path: &str) -> bool {
    let segments = field_path(path);
    match segments.first().map(String::as_str) {
        Some("metadata") => match segments.get(1).map(String::as_str) {
            Some("name" | "uid" | "namespace") => segments.len() == 2,
            Some("labels" | "annotations") => segments.len() == 3,
            _ => false,
        },
        Some(_) => {
            let mut node = xrd_schema;
            for segment in &segments {
                node = if let Some(field) = node["properties"].get(segment) {
                    field
                } else if node["additionalProperties"].is_object() {
                    &node["additionalProperties"]
                } else if segment.parse::<usize>().is_ok() && node["items"].is_object() {
                    &node["items"]
                } else {
                    return false;
                };
            }
            true
        }
        None => false,
    }
}

/// The managed-resource API group suffix each provider's Composition may use.
const PROVIDER_GROUPS: &[(&str, &str)] =
    &[("aws", ".aws.upbound.io"), ("gcp", ".gcp.upbound.io"), ("oci", ".oci.upbound.io")];

/// A resource's patches with its `type: PatchSet` references expanded.
fn expanded_patches<'a>(resource: &'a Value, patch_sets: &'a Value) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for patch in resource["patches"].as_array().into_iter().flatten() {
        if patch["type"] != "PatchSet" {
            out.push(patch);
            continue;
        }
        let set = patch_sets.as_array().into_iter().flatten().find(|set| set["name"] == patch["patchSetName"]);
        out.extend(set.and_then(|set| set["patches"].as_array()).into_iter().flatten());
    }
    out
}

/// What a Composition's managed resources are checked against.
struct CompositeApi<'a> {
    /// The XRD's composite kind, e.g. XMySQLInstance.
    kind: &'a str,
    /// The XRD's `openAPIV3Schema`: every fromFieldPath must resolve in it.
    schema: &'a Value,
    /// The managed-resource API group suffixes this Composition may compose from.
    group_suffixes: &'a [&'a str],
}

/// Checks one composed resource of a P&T step; returns the connection keys it publishes.
fn check_composed_resource(
    resource: &Value,
    patch_sets: &Value,
    api: &CompositeApi<'_>,
    problem: &mut dyn FnMut(String),
) -> Vec<String> {
    let base = &resource["base"];
    let api_version = base["apiVersion"].as_str().unwrap_or_default();
    let group = api_version.split('/').next().unwrap_or_default();
    if !api.group_suffixes.iter().any(|suffix| group.ends_with(suffix)) {
        problem(format!("{api_version} is not in a {} API group", api.group_suffixes.join(" or *")));
    }
    if resource["patches"].as_array().into_iter().flatten().any(|p| {
        p["type"] == "PatchSet" && !patch_sets.as_array().into_iter().flatten().any(|s| s["name"] == p["patchSetName"])
    }) {
        problem("refers to a patch set that does not exist".to_owned());
    }

    let patches = expanded_patches(resource, patch_sets);
    for patch in &patches {
        let from: Vec<&str> = match patch["type"].as_str().unwrap_or("FromCompositeFieldPath") {
            "FromCompositeFieldPath" => patch["fromFieldPath"].as_str().into_iter().collect(),
            "CombineFromComposite" => patch["combine"]["variables"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["fromFieldPath"].as_str())
                .collect(),
            _ => Vec::new(),
        };
        for path in from {
            if !resolves_on_composite(api.schema, path) {
                problem(format!("fromFieldPath {path:?} is not a field of {}", api.kind));
            }
        }
        let patch_type = patch["type"].as_str().unwrap_or("FromCompositeFieldPath");
        if PATCHES_TO_ELSEWHERE.contains(&patch_type) {
            // It writes the composite, whose spec is the claim's: only a status field the
            // XRD declares (an undeclared one would be pruned by the API server).
            match patch["toFieldPath"].as_str() {
                Some(to) if to.starts_with("status.") && resolves_on_composite(api.schema, to) => {}
                to => problem(format!("{patch_type} toFieldPath {to:?} is not a status field of {}", api.kind)),
            }
        } else if let Some(to) = patch["toFieldPath"].as_str()
            && !(to.starts_with("spec.") || to.starts_with("metadata."))
        {
            problem(format!("toFieldPath {to:?} should target spec or metadata"));
        }
    }

    let details: Vec<&Value> = resource["connectionDetails"].as_array().into_iter().flatten().collect();
    if details.iter().any(|d| d["type"] == "FromConnectionSecretKey") {
        // Without a connection secret of its own there is nothing to read the keys from.
        let secret_ref = &base["spec"]["writeConnectionSecretToRef"];
        let named = secret_ref["name"].is_string()
            || patches.iter().any(|p| p["toFieldPath"] == "spec.writeConnectionSecretToRef.name");
        if !secret_ref["namespace"].is_string() || !named {
            problem("reads connection secret keys but never sets writeConnectionSecretToRef".to_owned());
        }
    }
    details.iter().filter_map(|d| d["name"].as_str()).map(str::to_owned).collect()
}

/// The Compositions whose compositeTypeRef is the `composite_kind` XRD of this folder.
fn compositions_for<'a>(docs: &'a [(String, Value)], composite_kind: &str) -> Vec<&'a (String, Value)> {
    let type_ref = composite_type_ref(composite_kind);
    of_kind(docs, "Composition").into_iter().filter(|(_, c)| c["spec"]["compositeTypeRef"] == type_ref).collect()
}

fn composite_type_ref(composite_kind: &str) -> Value {
    json!({"apiVersion": format!("platform.example.org/{XRD_VERSION}"), "kind": composite_kind})
}

/// Checks what every Composition here shares: Pipeline mode, installed functions, each
/// P&T step against the function's input schema and each composed resource against the
/// XRD. Returns the connection secret keys the Composition publishes.
fn check_pipeline(
    composition: &Value,
    functions: &BTreeSet<&str>,
    api: &CompositeApi<'_>,
    problem: &mut dyn FnMut(String),
) -> BTreeSet<String> {
    let spec = &composition["spec"];
    if spec["mode"] != "Pipeline" {
        problem("mode must be Pipeline (Crossplane 2 has no Resources mode)".to_owned());
    }
    let pt_schema = patch_and_transform_input_schema();
    let mut published = BTreeSet::new();
    for (s, step) in spec["pipeline"].as_array().into_iter().flatten().enumerate() {
        let function = step["functionRef"]["name"].as_str().unwrap_or_default();
        if !functions.contains(function) {
            problem(format!("pipeline[{s}] uses function {function:?}, which functions.yaml does not install"));
        }
        let input = &step["input"];
        if input["apiVersion"] != "pt.fn.crossplane.io/v1beta1" || input["kind"] != "Resources" {
            continue;
        }
        for v in crd_schema::validate(&pt_schema, input) {
            problem(format!("pipeline[{s}].input.{v}"));
        }
        for (r, resource) in input["resources"].as_array().into_iter().flatten().enumerate() {
            let at = format!("pipeline[{s}].input.resources[{r}] ({})", resource["name"]);
            let mut resource_problem = |message: String| problem(format!("{at}: {message}"));
            published.extend(check_composed_resource(resource, &input["patchSets"], api, &mut resource_problem));
        }
    }
    published
}

fn installed_functions(docs: &[(String, Value)]) -> BTreeSet<&str> {
    of_kind(docs, "Function").iter().filter_map(|(_, f)| f["metadata"]["name"].as_str()).collect()
}

fn connection_secret_keys(xrd: &Value) -> BTreeSet<String> {
    xrd["spec"]["connectionSecretKeys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The values an XRD's schema allows for `spec.parameters.<parameter>`.
fn parameter_enum<'a>(xrd_schema: &'a Value, parameter: &str) -> Vec<&'a str> {
    xrd_schema
        .pointer(&format!("/properties/spec/properties/parameters/properties/{parameter}/enum"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn every_composition_implements_an_xrd_shipped_here() {
    let docs = crossplane_manifests();
    let composites: Vec<&str> = of_kind(&docs, "CompositeResourceDefinition")
        .iter()
        .filter_map(|(_, xrd)| xrd["spec"]["names"]["kind"].as_str())
        .collect();
    let mut problems = Vec::new();
    for (origin, composition) in of_kind(&docs, "Composition") {
        let type_ref = &composition["spec"]["compositeTypeRef"];
        let known = composites.iter().any(|kind| *type_ref == composite_type_ref(kind));
        if !known {
            problems.push(format!("{origin}: compositeTypeRef {type_ref} is none of the XRDs {composites:?}"));
        }
    }
    report(&problems);
}

#[test]
fn compositions_implement_the_mysql_xrd_on_every_provider() {
    let docs = crossplane_manifests();
    let xrd = xrd_named(&docs, "XMySQLInstance");
    let xrd_schema = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let connection_keys = connection_secret_keys(xrd);
    let functions = installed_functions(&docs);

    let mut problems = Vec::new();
    let mut by_provider: BTreeMap<String, usize> = BTreeMap::new();
    for (origin, composition) in compositions_for(&docs, "XMySQLInstance") {
        let labels = &composition["metadata"]["labels"];
        let provider = labels["provider"].as_str().unwrap_or_default();
        *by_provider.entry(provider.to_owned()).or_default() += 1;
        let mut problem = |message: String| problems.push(format!("{origin}: {message}"));

        if labels["class"] != "mysql" {
            problem("label class must be \"mysql\" for the claim's compositionSelector".to_owned());
        }
        if !composition["spec"]["writeConnectionSecretsToNamespace"].is_string() {
            problem("writeConnectionSecretsToNamespace is needed for claims to receive a secret".to_owned());
        }
        let Some(&(_, group_suffix)) = PROVIDER_GROUPS.iter().find(|(p, _)| *p == provider) else {
            problem(format!("label provider={provider:?} is not one of aws, gcp, oci"));
            continue;
        };
        let api = CompositeApi { kind: "XMySQLInstance", schema: xrd_schema, group_suffixes: &[group_suffix] };
        let published = check_pipeline(composition, &functions, &api, &mut problem);
        if published != connection_keys {
            problem(format!("publishes connection keys {published:?}, the XRD declares {connection_keys:?}"));
        }
    }

    for provider in parameter_enum(xrd_schema, "provider") {
        match by_provider.get(provider) {
            Some(1) => {}
            Some(n) => problems.push(format!(
                "{n} Compositions are labelled provider={provider}; a claim's selector would be ambiguous"
            )),
            None => problems.push(format!("the XRD offers provider {provider} but no Composition implements it")),
        }
    }
    report(&problems);
}

/// Where each MySQL Composition puts the claim's `deletionProtection`: (provider, the
/// composed kind, its exact toFieldPaths, the pinned CRD under tests/fixtures/crds that
/// declares them).
const DELETION_PROTECTION_FIELDS: &[(&str, &str, &[&str], &str)] = &[
    ("aws", "Instance", &["spec.forProvider.deletionProtection"], "aws/rds.aws.upbound.io_instances.yaml"),
    (
        "gcp",
        "DatabaseInstance",
        &["spec.forProvider.deletionProtection", "spec.forProvider.settings.deletionProtectionEnabled"],
        "gcp/sql.gcp.upbound.io_databaseinstances.yaml",
    ),
    (
        "oci",
        "MysqlDbSystem",
        &["spec.forProvider.deletionPolicy[0].isDeleteProtected"],
        "oci-bf00b89/mysql.oci.upbound.io_mysqldbsystems.yaml",
    ),
];

/// The value at a Crossplane field path of an object, if there is one.
fn value_at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    field_path(path).iter().try_fold(object, |node, segment| match segment.parse::<usize>() {
        Ok(i) => node.get(i),
        Err(_) => node.get(segment.as_str()),
    })
}

/// The schema a CRD's `version` gives the field at a Crossplane field path.
fn crd_field<'a>(crd: &'a Value, version: &str, path: &str) -> Option<&'a Value> {
    let versions = crd["spec"]["versions"].as_array()?;
    let schema = &versions.iter().find(|v| v["name"] == version)?["schema"]["openAPIV3Schema"];
    field_path(path).iter().try_fold(schema, |node, segment| match segment.parse::<usize>() {
        Ok(_) => node.get("items"),
        Err(_) => node["properties"].get(segment.as_str()),
    })
}

/// The pinned provider CRD at tests/fixtures/crds/<file>.
fn provider_crd(file: &str) -> Value {
    parse_yaml(&crds_dir().join(file)).remove(0)
}

/// What is wrong with `field` of the composed resource `base` against its pinned provider
/// CRD `file` (its type must be `expected`): None when it is right.
fn provider_field_problem(file: &str, base: &Value, field: &str, expected: &str) -> Option<String> {
    let crd = provider_crd(file);
    let version = base["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(_, v)| v);
    match crd_field(&crd, version, field) {
        Some(schema) if schema["type"] == expected => None,
        Some(schema) => Some(format!("{file} {version}: {field} is {}, not a {expected}", schema["type"])),
        None => Some(format!("{file} {version} has no field {field}")),
    }
}

#[test]
fn compositions_patch_deletion_protection_onto_the_providers_own_guards() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    let mut guarded = BTreeSet::new();
    for (origin, composition) in compositions_for(&docs, "XMySQLInstance") {
        let provider = composition["metadata"]["labels"]["provider"].as_str().unwrap_or_default();
        let mut problem = |message: String| problems.push(format!("{origin}: {message}"));
        let Some(&(_, kind, fields, crd_file)) = DELETION_PROTECTION_FIELDS.iter().find(|(p, ..)| *p == provider)
        else {
            problem(format!("provider {provider} has no deletion-protection fields listed in this test"));
            continue;
        };
        for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
            let input = &step["input"];
            for resource in input["resources"].as_array().into_iter().flatten() {
                let targets: Vec<&str> = expanded_patches(resource, &input["patchSets"])
                    .into_iter()
                    .filter(|p| p["fromFieldPath"] == "spec.parameters.deletionProtection")
                    .filter_map(|p| p["toFieldPath"].as_str())
                    .collect();
                let base = &resource["base"];
                if base["kind"] != kind {
                    if !targets.is_empty() {
                        problem(format!("{} patches deletionProtection; only its {kind} should", resource["name"]));
                    }
                    continue;
                }
                guarded.insert(provider);
                if targets != fields {
                    problem(format!("{kind} takes deletionProtection at {targets:?}, expected {fields:?}"));
                }
                for field in fields {
                    // A base value would be protection hard-coded (off, as it once was).
                    if let Some(value) = value_at(base, field) {
                        problem(format!("the {kind} base sets {field} to {value}; it must come from the claim"));
                    }
                    if let Some(found) = provider_field_problem(crd_file, base, field, "boolean") {
                        problem(found);
                    }
                }
            }
        }
    }
    report(&problems);
    assert_eq!(guarded, BTreeSet::from(["aws", "gcp", "oci"]), "a provider's guarded resource was not found");
}

/// Per provider: the kind that carries the write fence, the field the claim's writeFence is
/// patched to, the observed field copied back into the composite's `status.fence.observed`,
/// and the pinned CRD that declares it (tests/fixtures/crds/README.md).
const FENCE_FIELDS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "aws",
        "ParameterGroup",
        "spec.forProvider.parameter[0].value",
        "status.atProvider.parameter[0].value",
        "aws/rds.aws.upbound.io_parametergroups.yaml",
    ),
    (
        "gcp",
        "DatabaseInstance",
        "spec.forProvider.settings.databaseFlags[0].value",
        "status.atProvider.settings.databaseFlags[0].value",
        "gcp/sql.gcp.upbound.io_databaseinstances.yaml",
    ),
    (
        "oci",
        "MysqlDbSystem",
        "spec.forProvider.databaseMode",
        "status.atProvider.databaseMode",
        "oci-bf00b89/mysql.oci.upbound.io_mysqldbsystems.yaml",
    ),
];

/// Argo CD's health check for a claim (manifests/argocd/health) holds a sync wave until
/// `status.fence.observed` agrees with `spec.parameters.writeFence`; that only means
/// something if every Composition copies the fence from the resource that carries it, out
/// of the provider's observed state (atProvider), never from spec.
#[test]
fn compositions_report_the_observed_write_fence() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    let mut reported = BTreeSet::new();
    for (origin, composition) in compositions_for(&docs, "XMySQLInstance") {
        let provider = composition["metadata"]["labels"]["provider"].as_str().unwrap_or_default();
        let mut problem = |message: String| problems.push(format!("{origin}: {message}"));
        let Some(&(_, kind, fenced, observed, crd_file)) = FENCE_FIELDS.iter().find(|(p, ..)| *p == provider) else {
            problem(format!("provider {provider} has no fence fields listed in this test"));
            continue;
        };
        for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
            let input = &step["input"];
            for resource in input["resources"].as_array().into_iter().flatten() {
                let patches = expanded_patches(resource, &input["patchSets"]);
                let copies: Vec<&str> = patches
                    .iter()
                    .filter(|p| p["type"] == "ToCompositeFieldPath" && p["toFieldPath"] == "status.fence.observed")
                    .filter_map(|p| p["fromFieldPath"].as_str())
                    .collect();
                let base = &resource["base"];
                if base["kind"] != kind {
                    if !copies.is_empty() {
                        problem(format!("{} reports the fence; only its {kind} carries it", resource["name"]));
                    }
                    continue;
                }
                if copies != [observed] {
                    problem(format!("{kind} copies {copies:?} to status.fence.observed, expected [{observed:?}]"));
                    continue;
                }
                reported.insert(provider);
                if !patches
                    .iter()
                    .any(|p| p["fromFieldPath"] == "spec.parameters.writeFence" && p["toFieldPath"] == fenced)
                {
                    problem(format!("{kind} does not take writeFence at {fenced}, so {observed} is not the fence"));
                }
                // `[0]` is the fence only while the base lists nothing else.
                if let Some((list, _)) = fenced.split_once("[0]") {
                    let names: Vec<&Value> = value_at(base, list)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|e| &e["name"])
                        .collect();
                    if names != [&json!("read_only")] {
                        problem(format!("the {kind} base lists {names:?} at {list}; [0] must be read_only alone"));
                    }
                }
                if let Some(found) = provider_field_problem(crd_file, base, observed, "string") {
                    problem(found);
                }
            }
        }
    }
    report(&problems);
    assert_eq!(reported, BTreeSet::from(["aws", "gcp", "oci"]), "a provider's fence is not reported");
}

/// Where each replication tool's managed resources may come from.
const REPLICATION_TOOL_GROUPS: &[(&str, &[&str])] =
    &[("oci-goldengate", &[".oci.upbound.io"]), ("backup-restore", &[".aws.upbound.io", ".oci.upbound.io"])];

#[test]
fn compositions_implement_the_replication_xrd_for_every_tool() {
    let docs = crossplane_manifests();
    let xrd = xrd_named(&docs, "XReplication");
    let xrd_schema = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let connection_keys = connection_secret_keys(xrd);
    let functions = installed_functions(&docs);

    let mut problems = Vec::new();
    let mut by_tool: BTreeMap<String, usize> = BTreeMap::new();
    for (origin, composition) in compositions_for(&docs, "XReplication") {
        let tool = composition["metadata"]["labels"]["tool"].as_str().unwrap_or_default();
        *by_tool.entry(tool.to_owned()).or_default() += 1;
        let mut problem = |message: String| problems.push(format!("{origin}: {message}"));
        let Some(&(_, group_suffixes)) = REPLICATION_TOOL_GROUPS.iter().find(|(t, _)| *t == tool) else {
            problem(format!("label tool={tool:?} is not a tool this test knows"));
            continue;
        };
        let api = CompositeApi { kind: "XReplication", schema: xrd_schema, group_suffixes };
        let published = check_pipeline(composition, &functions, &api, &mut problem);
        if published != connection_keys {
            problem(format!("publishes connection keys {published:?}, the XRD declares {connection_keys:?}"));
        }
    }

    for tool in parameter_enum(xrd_schema, "tool") {
        match by_tool.get(tool) {
            Some(1) => {}
            Some(n) => {
                problems
                    .push(format!("{n} Compositions are labelled tool={tool}; a claim's selector would be ambiguous"));
            }
            None => problems.push(format!("the XRD offers tool {tool} but no Composition implements it")),
        }
    }
    report(&problems);
}

/// Composite annotations a Composition reads are an interface for operators: each must be
/// documented where operators look.
#[test]
fn annotations_read_by_compositions_are_documented() {
    let readme = fs::read_to_string(crate_dir().join("manifests/README.md")).expect("read manifests/README.md");
    let mut problems = BTreeSet::new();
    for (origin, composition) in of_kind(&crossplane_manifests(), "Composition") {
        let text = serde_json::to_string(composition).unwrap();
        for (i, _) in text.match_indices("\"fromFieldPath\":\"metadata.annotations[") {
            let key: String = text[i..].split_once('[').unwrap().1.chars().take_while(|&c| c != ']').collect();
            if !readme.contains(&format!("`{key}`")) {
                problems
                    .insert(format!("{origin}: annotation {key} is read but not documented in manifests/README.md"));
            }
        }
    }
    report(&problems.into_iter().collect::<Vec<_>>());
}

#[test]
fn packages_are_pinned() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    let packages: Vec<_> = of_kind(&docs, "Provider").into_iter().chain(of_kind(&docs, "Function")).collect();
    assert!(!packages.is_empty(), "no Provider or Function packages in manifests/crossplane");
    for (origin, doc) in packages {
        if !doc["apiVersion"].as_str().unwrap_or_default().starts_with("pkg.crossplane.io/") {
            problems.push(format!("{origin}: apiVersion {} is not pkg.crossplane.io", doc["apiVersion"]));
        }
        let package = doc["spec"]["package"].as_str().unwrap_or_default();
        let (image, tag) = package.rsplit_once(':').unwrap_or((package, ""));
        let registry = image.split('/').next().unwrap_or_default();
        if !["xpkg.upbound.io", "xpkg.crossplane.io", "ghcr.io"].contains(&registry) {
            problems.push(format!("{origin}: {package:?} is not from a known package registry"));
        }
        let semver = tag.strip_prefix('v').is_some_and(|v| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        });
        if !semver {
            problems.push(format!("{origin}: {package:?} must be pinned to a vX.Y.Z tag"));
        }
    }
    report(&problems);
}

// ---------------------------------------------------------------------------------------
// What a changed field does to the cloud resource (manifests/crossplane/force-new.yaml)
// ---------------------------------------------------------------------------------------

/// manifests/crossplane/force-new.yaml, in the shape idp reads it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceNewTable {
    upjet: ForceNewBehaviour,
    #[serde(rename = "externalName")]
    external_name: ForceNewBehaviour,
    resources: Vec<ForceNewResource>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceNewBehaviour {
    replacement: String,
    source: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceNewResource {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    terraform: String,
    source: String,
    fields: Vec<ForceNewField>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceNewField {
    path: String,
    argument: String,
    change: String,
    /// `decrease`: a replacement only for a smaller number (idp's `compose`).
    #[serde(default)]
    when: Option<String>,
    why: String,
}

/// Patch types whose toFieldPath names a field of the composite or the environment, not of
/// the composed resource.
const PATCHES_TO_ELSEWHERE: &[&str] =
    &["ToCompositeFieldPath", "CombineToComposite", "ToEnvironmentFieldPath", "CombineToEnvironment"];

type ResourceKey = (String, String);

fn force_new_table() -> ForceNewTable {
    let path = crate_dir().join("manifests/crossplane").join(FORCE_NEW_TABLE);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

/// Every toFieldPath a patch writes on a composed resource, by the resource's (apiVersion,
/// kind), with the Compositions that patch it.
fn patched_field_paths(docs: &[(String, Value)]) -> BTreeMap<ResourceKey, BTreeMap<String, BTreeSet<String>>> {
    let mut out: BTreeMap<ResourceKey, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (origin, composition) in of_kind(docs, "Composition") {
        for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
            let input = &step["input"];
            for resource in input["resources"].as_array().into_iter().flatten() {
                let base = &resource["base"];
                let key = (
                    base["apiVersion"].as_str().unwrap_or_default().to_owned(),
                    base["kind"].as_str().unwrap_or_default().to_owned(),
                );
                for patch in expanded_patches(resource, &input["patchSets"]) {
                    let patch_type = patch["type"].as_str().unwrap_or("FromCompositeFieldPath");
                    if PATCHES_TO_ELSEWHERE.contains(&patch_type) {
                        continue;
                    }
                    if let Some(to) = patch["toFieldPath"].as_str() {
                        let name = composition["metadata"]["name"].as_str().unwrap_or(origin);
                        out.entry(key.clone()).or_default().entry(to.to_owned()).or_default().insert(name.to_owned());
                    }
                }
            }
        }
    }
    out
}

/// The rows of the table that break its shape: unknown `change`, empty text, duplicates.
fn force_new_shape_problems(table: &ForceNewTable) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, behaviour) in [("upjet", &table.upjet), ("externalName", &table.external_name)] {
        if behaviour.replacement.trim().is_empty() || behaviour.source.trim().is_empty() {
            problems.push(format!("{name}: replacement and source must both be non-empty"));
        }
    }
    let mut resources = BTreeSet::new();
    for resource in &table.resources {
        let at = format!("{} {}", resource.api_version, resource.kind);
        if !resources.insert((resource.api_version.as_str(), resource.kind.as_str())) {
            problems.push(format!("{at}: listed twice; one entry per apiVersion and kind"));
        }
        if resource.terraform.trim().is_empty() || resource.source.trim().is_empty() {
            problems.push(format!("{at}: terraform and source must both be non-empty"));
        }
        let mut paths = BTreeSet::new();
        for field in &resource.fields {
            let at = format!("{at} {}", field.path);
            if !paths.insert(field.path.as_str()) {
                problems.push(format!("{at}: listed twice"));
            }
            if !["update", "replace"].contains(&field.change.as_str()) {
                problems.push(format!("{at}: change is {:?}, not update or replace", field.change));
            }
            if field.when.as_deref().is_some_and(|when| when != "decrease" || field.change != "replace") {
                problems.push(format!("{at}: `when: {:?}` is only `decrease`, on a replace row", field.when));
            }
            if field.path.trim().is_empty() || field.argument.trim().is_empty() || field.why.trim().is_empty() {
                problems.push(format!("{at}: path, argument and why must all be non-empty"));
            }
        }
    }
    problems
}

/// Patched paths without a row, and rows no Composition patches.
fn force_new_coverage_problems(
    table: &ForceNewTable,
    patched: &BTreeMap<ResourceKey, BTreeMap<String, BTreeSet<String>>>,
) -> Vec<String> {
    let listed: BTreeMap<ResourceKey, BTreeSet<&str>> = table
        .resources
        .iter()
        .map(|r| ((r.api_version.clone(), r.kind.clone()), r.fields.iter().map(|f| f.path.as_str()).collect()))
        .collect();
    let mut problems = Vec::new();
    for ((api_version, kind), paths) in patched {
        let rows = listed.get(&(api_version.clone(), kind.clone()));
        for (path, compositions) in paths {
            if !rows.is_some_and(|rows| rows.contains(path.as_str())) {
                let by: Vec<&str> = compositions.iter().map(String::as_str).collect();
                problems.push(format!(
                    "missing: {api_version} {kind} {path} (patched by {}) has no row in {FORCE_NEW_TABLE}",
                    by.join(", ")
                ));
            }
        }
    }
    for ((api_version, kind), rows) in &listed {
        let paths = patched.get(&(api_version.clone(), kind.clone()));
        for path in rows {
            if !paths.is_some_and(|paths| paths.contains_key(*path)) {
                problems.push(format!(
                    "stale: {api_version} {kind} {path} is in {FORCE_NEW_TABLE} but no Composition patches it"
                ));
            }
        }
    }
    problems
}

/// idp tells a user whether a parameter change updates the cloud resource in place or
/// would replace it, from manifests/crossplane/force-new.yaml; that only holds while the
/// table has a row for every field the Compositions patch, and no rows for fields they no
/// longer patch.
#[test]
fn force_new_table_covers_every_patched_field() {
    let table = force_new_table();
    let patched = patched_field_paths(&crossplane_manifests());
    // Every Composition patches something; an empty map would mean the walk broke.
    assert!(patched.len() >= 10, "only {} composed resources with patches found", patched.len());
    let mut problems = force_new_shape_problems(&table);
    problems.extend(force_new_coverage_problems(&table, &patched));
    report(&problems);
}

/// The coverage check fails both ways: a patched field without a row, and a row for a field
/// nothing patches (unless it is a pending deletion-protection row).
#[test]
fn force_new_coverage_check_reports_missing_and_stale_rows() {
    let mut table = force_new_table();
    let patched = patched_field_paths(&crossplane_manifests());
    let instance = table
        .resources
        .iter_mut()
        .find(|r| r.api_version == "rds.aws.upbound.io/v1beta1" && r.kind == "Instance")
        .expect("the table has the RDS Instance");
    instance.fields.retain(|f| f.path != "spec.forProvider.instanceClass");
    instance.fields.push(ForceNewField {
        path: "spec.forProvider.storageType".to_owned(),
        argument: "storage_type".to_owned(),
        change: "update".to_owned(),
        when: None,
        why: "not patched by any Composition".to_owned(),
    });
    let problems = force_new_coverage_problems(&table, &patched);
    assert!(
        problems.iter().any(|p| p.starts_with("missing:") && p.contains("spec.forProvider.instanceClass")),
        "a removed row was not reported: {problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("stale:") && p.contains("spec.forProvider.storageType")),
        "an unpatched row was not reported: {problems:?}"
    );
    assert_eq!(problems.len(), 2, "{problems:?}");

    instance_field(&mut table, "spec.forProvider.multiAz").change = "in-place".to_owned();
    let shape = force_new_shape_problems(&table);
    assert!(shape.iter().any(|p| p.contains("multiAz") && p.contains("not update or replace")), "{shape:?}");
}

fn instance_field<'a>(table: &'a mut ForceNewTable, path: &str) -> &'a mut ForceNewField {
    table
        .resources
        .iter_mut()
        .filter(|r| r.api_version == "rds.aws.upbound.io/v1beta1" && r.kind == "Instance")
        .flat_map(|r| r.fields.iter_mut())
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("the RDS Instance has a row for {path}"))
}

// ---------------------------------------------------------------------------------------
// Bootstrap templates
// ---------------------------------------------------------------------------------------

#[test]
fn bootstrap_templates_render_the_project_and_root_application() {
    let docs = bootstrap_docs(default_context());
    let (_, project) = &docs[0];
    let (_, app) = &docs[1];

    assert_eq!(project["kind"], "AppProject");
    assert_eq!(project["metadata"]["name"], "idp-platform");
    assert_eq!(project["metadata"]["namespace"], "argocd");
    assert_eq!(project["metadata"]["labels"]["app.kubernetes.io/managed-by"], "idp");
    assert_eq!(project["spec"]["sourceRepos"], json!([REPO_URL]));
    let destinations = project["spec"]["destinations"].as_array().unwrap();
    assert!(destinations.contains(&json!({"server": "https://kubernetes.default.svc", "namespace": "*"})));
    assert!(destinations.contains(&json!({"name": "*", "namespace": "*"})));
    let whitelist = project["spec"]["clusterResourceWhitelist"].as_array().unwrap();
    assert!(whitelist.contains(&json!({"group": "platform.example.org", "kind": "*"})));

    assert_eq!(app["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(app["kind"], "Application");
    assert_eq!(app["metadata"]["namespace"], "argocd");
    assert_eq!(app["metadata"]["labels"]["app.kubernetes.io/managed-by"], "idp");
    assert!(app["metadata"].get("finalizers").is_none(), "a cascade finalizer would delete every claim");
    let spec = &app["spec"];
    assert_eq!(spec["project"], "idp-platform");
    assert_eq!(
        spec["source"],
        json!({"repoURL": REPO_URL, "targetRevision": "main", "path": "argocd", "directory": {"recurse": true}})
    );
    assert_eq!(spec["destination"]["server"], "https://kubernetes.default.svc");
    assert_eq!(spec["syncPolicy"]["automated"], json!({"prune": true, "selfHeal": true}));
    let options = spec["syncPolicy"]["syncOptions"].as_array().unwrap();
    assert!(options.contains(&json!("ServerSideApply=true")), "{options:?}");
}

#[test]
fn bootstrap_templates_default_the_project_and_revision() {
    let docs = bootstrap_docs(context! { repo_url => REPO_URL });
    assert_eq!(docs[0].1["metadata"]["name"], "idp-platform");
    assert_eq!(docs[1].1["spec"]["project"], "idp-platform");
    assert_eq!(docs[1].1["spec"]["source"]["targetRevision"], "main");
}

#[test]
fn bootstrap_templates_quote_every_value() {
    // Each of these would break or change the YAML if it were pasted in unquoted.
    let repo_url = "https://git.example.org/a b/state.git#frag: 'x' \"y\" \n- z";
    let project = "team: {platform} # ops";
    let revision = "release/1.0 &anchor *alias";
    let docs = bootstrap_docs(context! { repo_url, revision, project });
    assert_eq!(docs[0].1["spec"]["sourceRepos"], json!([repo_url]));
    assert_eq!(docs[0].1["metadata"]["name"], project);
    assert_eq!(docs[1].1["spec"]["source"]["repoURL"], repo_url);
    assert_eq!(docs[1].1["spec"]["source"]["targetRevision"], revision);
    assert_eq!(docs[1].1["spec"]["project"], project);
    assert_eq!(docs[1].1["metadata"]["name"], format!("{project}-root"));
}

// ---------------------------------------------------------------------------------------
// Traffic templates (templates/traffic/<provider>/record.yaml.j2)
// ---------------------------------------------------------------------------------------

/// Every traffic provider idp ships a template for, with the (apiVersion, kind) pairs its
/// template writes. All are cluster-scoped managed resources. Keep in step with the
/// policy's `traffic.providers.<name>.kinds` and templates/traffic/README.md.
const TRAFFIC_PROVIDERS: &[(&str, &[(&str, &str)])] = &[
    (
        "cloudflare",
        &[
            ("loadbalancer.cloudflare.upbound.io/v1alpha1", "Monitor"),
            ("loadbalancer.cloudflare.upbound.io/v1alpha1", "Pool"),
            ("loadbalancer.cloudflare.upbound.io/v1alpha1", "LoadBalancer"),
        ],
    ),
    (
        "oci-dns",
        &[
            ("healthchecks.oci.upbound.io/v1alpha1", "HTTPMonitor"),
            ("dns.oci.upbound.io/v1alpha1", "SteeringPolicy"),
            ("dns.oci.upbound.io/v1alpha1", "SteeringPolicyAttachment"),
        ],
    ),
    ("route53", &[("route53.aws.upbound.io/v1beta1", "HealthCheck"), ("route53.aws.upbound.io/v1beta1", "Record")]),
];

const RESOURCE_NAME: &str = "team-alpha-orders-app";
const PRIMARY_TARGET: &str = "aws-use1-prod-01.apps.example.org";
const SECONDARY_TARGET: &str = "gcp-usc1-prod-01.apps.example.org";

/// The labels idp puts on every manifest of the sample App request (PRODUCT.md section 5).
fn app_labels() -> Value {
    json!({
        "app.kubernetes.io/managed-by": "idp",
        "platform.example.org/cell": "cell-us-east",
        "platform.example.org/environment": "production",
        "platform.example.org/tier": "C0",
        "platform.example.org/request": "team-alpha.app.orders"
    })
}

fn app_request() -> Value {
    json!({
        "namespace": "team-alpha",
        "name": "orders",
        "cell": "cell-us-east",
        "environment": "production",
        "tier": "C0",
        "image": "registry.example.org/team-alpha/orders:1.4.2",
        "port": 8080
    })
}

/// The context idp passes to a traffic template (templates/traffic/README.md).
fn traffic_context(active_side: &str) -> Value {
    json!({
        "request": app_request(),
        "labels": app_labels(),
        "traffic": {
            "publicHost": "orders.example.org",
            "zone": "example.org",
            "ttl": 60,
            "activeSide": active_side,
            "primary": {
                "provider": "aws",
                "region": "us-east-1",
                "runtimeCluster": "aws-use1-prod-01",
                "target": PRIMARY_TARGET
            },
            "secondary": {
                "provider": "gcp",
                "region": "us-central1",
                "runtimeCluster": "gcp-usc1-prod-01",
                "target": SECONDARY_TARGET
            },
            "healthCheck": {"path": "/healthz", "port": 443}
        },
        "sync_wave": "2",
        "resource_name": RESOURCE_NAME
    })
}

fn render_traffic(provider: &str, ctx: &Value) -> Result<Vec<Value>, minijinja::Error> {
    let name = format!("traffic/{provider}/record.yaml.j2");
    let rendered = render_template(&name, minijinja::Value::from(minijinja::value::Serde(ctx)))?;
    Ok(parse_yaml_str(&rendered, &name))
}

fn traffic_docs(provider: &str, active_side: &str) -> Vec<Value> {
    render_traffic(provider, &traffic_context(active_side))
        .unwrap_or_else(|e| panic!("render traffic/{provider} with activeSide {active_side}: {e:#}"))
}

fn named<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    docs.iter()
        .find(|doc| doc["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no document named {name} in {docs:#?}"))
}

fn of_doc_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|doc| doc["kind"] == kind).collect()
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Every crossplane-runtime reference (the object under a `...Ref` key, or each one of a
/// `...Refs` list) at any depth, with its path: `spec.forProvider.defaultPoolIdsRefs[1]`.
fn references<'a>(value: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let at = format!("{path}.{key}");
                if key.ends_with("Ref") {
                    out.push((at, field));
                } else if key.ends_with("Refs") {
                    out.extend(
                        field.as_array().into_iter().flatten().enumerate().map(|(i, r)| (format!("{at}[{i}]"), r)),
                    );
                } else {
                    references(field, &at, out);
                }
            }
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, item)| references(item, &format!("{path}[{i}]"), out))
        }
        _ => {}
    }
}

/// Every `name` under a `...Ref` or `...Refs` key, with the path where it was found.
fn reference_names(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let mut refs = Vec::new();
    references(value, path, &mut refs);
    out.extend(refs.into_iter().filter_map(|(at, r)| Some((at, r["name"].as_str()?.to_owned()))));
}

#[test]
fn traffic_templates_exist_for_every_policy_provider() {
    let policy = parse_yaml(&crate_dir().join("policy/policy.yaml")).remove(0);
    let in_policy: BTreeSet<&str> = policy["traffic"]["providers"]
        .as_object()
        .expect("policy traffic.providers")
        .keys()
        .map(String::as_str)
        .collect();
    let tested: BTreeSet<&str> = TRAFFIC_PROVIDERS.iter().map(|(p, _)| *p).collect();
    let dir = crate_dir().join("templates/traffic");
    let shipped: BTreeSet<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let shipped: BTreeSet<&str> = shipped.iter().map(String::as_str).collect();
    assert_eq!(in_policy, shipped, "every policy traffic provider needs templates/traffic/<name>/, and only those");
    assert_eq!(tested, shipped, "TRAFFIC_PROVIDERS must list every template directory");
    for provider in shipped {
        assert!(dir.join(provider).join("record.yaml.j2").is_file(), "templates/traffic/{provider}/record.yaml.j2");
    }

    // The parse-back guard allows a provider's dns.yaml only the kinds the policy lists.
    for &(provider, kinds) in TRAFFIC_PROVIDERS {
        let listed = policy["traffic"]["providers"][provider]["kinds"].as_array().cloned().unwrap_or_default();
        if listed.is_empty() {
            eprintln!(
                "note: policy/policy.yaml lists no kinds for traffic provider {provider}; idp's guard refuses its dns.yaml"
            );
            continue;
        }
        let listed: BTreeSet<(String, String, bool)> = listed
            .iter()
            .map(|k| {
                let text = |key: &str| k[key].as_str().unwrap_or_default().to_owned();
                (text("apiVersion"), text("kind"), k["namespaced"].as_bool().unwrap_or(true))
            })
            .collect();
        let rendered: BTreeSet<(String, String, bool)> =
            kinds.iter().map(|(api_version, kind)| ((*api_version).to_owned(), (*kind).to_owned(), false)).collect();
        assert_eq!(
            listed, rendered,
            "policy traffic.providers.{provider}.kinds must be exactly what its template writes"
        );
    }
}

#[test]
fn traffic_templates_write_only_their_kinds_with_idp_metadata() {
    let labels = app_labels();
    let mut problems = Vec::new();
    for &(provider, kinds) in TRAFFIC_PROVIDERS {
        for active_side in ["primary", "secondary"] {
            let docs = traffic_docs(provider, active_side);
            let origin = format!("{provider} (activeSide {active_side})");
            let mut problem = |message: String| problems.push(format!("{origin}: {message}"));
            let mut names = BTreeSet::new();
            let mut seen = BTreeSet::new();
            for doc in &docs {
                let pair = (doc["apiVersion"].as_str().unwrap_or_default(), doc["kind"].as_str().unwrap_or_default());
                if !kinds.contains(&pair) {
                    problem(format!("{} {} is not one of the provider's kinds", pair.0, pair.1));
                }
                seen.insert(pair);
                let meta = &doc["metadata"];
                let name = meta["name"].as_str().unwrap_or_default();
                if !is_dns_label(name) || !name.starts_with(&format!("{RESOURCE_NAME}-")) {
                    problem(format!("name {name:?} must be a DNS-1123 label that starts with {RESOURCE_NAME}-"));
                }
                if !names.insert(name) {
                    problem(format!("two documents are named {name}"));
                }
                if meta.get("namespace").is_some() {
                    problem(format!("{name}: managed resources are cluster-scoped, but it has a namespace"));
                }
                for (key, value) in labels.as_object().unwrap() {
                    if meta["labels"][key] != *value {
                        problem(format!("{name}: label {key} is {}, not {value}", meta["labels"][key]));
                    }
                }
                if meta["annotations"]["argocd.argoproj.io/sync-wave"] != "2" {
                    problem(format!("{name}: no sync-wave annotation \"2\""));
                }
                if !doc["spec"]["forProvider"].is_object() {
                    problem(format!("{name}: a managed resource needs spec.forProvider"));
                }
            }
            // A reference to one of this request's objects must name one in the same file.
            for doc in &docs {
                let mut refs = Vec::new();
                reference_names(&doc["spec"], "spec", &mut refs);
                for (at, target) in refs {
                    if target.starts_with(RESOURCE_NAME) && !names.contains(target.as_str()) {
                        problem(format!(
                            "{}: {at} names {target}, which the file does not define",
                            doc["metadata"]["name"]
                        ));
                    }
                }
            }
            for pair in kinds {
                if !seen.contains(pair) {
                    problem(format!("renders no {} {}", pair.0, pair.1));
                }
            }
        }
    }
    report(&problems);
}

/// The targets a provider's rendered failover sends traffic to, most preferred first.
fn failover_order(provider: &str, docs: &[Value]) -> Vec<String> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match provider {
        "route53" => {
            let mut records: Vec<(String, String)> = of_doc_kind(docs, "Record")
                .into_iter()
                .map(|record| {
                    let spec = &record["spec"]["forProvider"];
                    assert_eq!(spec["records"].as_array().map(Vec::len), Some(1), "{record:#}");
                    let target = text(&spec["records"][0]);
                    // The record's health check probes the target the record answers with.
                    let check = named(docs, spec["healthCheckIdRef"]["name"].as_str().unwrap_or_default());
                    assert_eq!(check["spec"]["forProvider"]["fqdn"], target.as_str(), "{record:#}");
                    assert_eq!(spec["name"], "orders.example.org");
                    assert_eq!(spec["zoneIdRef"]["name"], "example.org");
                    (text(&spec["failoverRoutingPolicy"][0]["type"]), target)
                })
                .collect();
            records.sort();
            assert_eq!(records.iter().map(|(role, _)| role.as_str()).collect::<Vec<_>>(), ["PRIMARY", "SECONDARY"]);
            records.into_iter().map(|(_, target)| target).collect()
        }
        "oci-dns" => {
            let policy = &of_doc_kind(docs, "SteeringPolicy")[0]["spec"]["forProvider"];
            assert_eq!(policy["template"], "FAILOVER");
            let rules: Vec<&str> =
                policy["rules"].as_array().unwrap().iter().map(|r| r["ruleType"].as_str().unwrap()).collect();
            assert_eq!(rules, ["FILTER", "HEALTH", "PRIORITY", "LIMIT"]);
            let priority = &policy["rules"][2]["defaultAnswerData"];
            let rank = |pool: &str| {
                priority
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|d| d["answerCondition"] == format!("answer.pool == '{pool}'"))
                    .and_then(|d| d["value"].as_i64())
                    .unwrap_or_else(|| panic!("no PRIORITY rank for pool {pool}"))
            };
            let mut answers: Vec<(i64, String)> = policy["answers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (rank(a["pool"].as_str().unwrap()), text(&a["rdata"])))
                .collect();
            answers.sort();
            // Every answer is health-checked by the monitor the policy uses.
            let monitor = named(docs, policy["healthCheckMonitorIdRef"]["name"].as_str().unwrap());
            for (_, target) in &answers {
                assert!(monitor["spec"]["forProvider"]["targets"].as_array().unwrap().contains(&json!(target)));
            }
            let attachment = &of_doc_kind(docs, "SteeringPolicyAttachment")[0]["spec"]["forProvider"];
            assert_eq!(attachment["domainName"], "orders.example.org");
            assert_eq!(attachment["zoneIdRef"]["name"], "example.org");
            answers.into_iter().map(|(_, target)| target).collect()
        }
        "cloudflare" => {
            let lb = &of_doc_kind(docs, "LoadBalancer")[0]["spec"]["forProvider"];
            assert_eq!(lb["steeringPolicy"], "off", "failover order needs steering off");
            assert_eq!(lb["name"], "orders.example.org");
            let origin_of = |pool: &Value| {
                let pool = named(docs, pool["name"].as_str().unwrap());
                let origins = pool["spec"]["forProvider"]["origins"].as_array().unwrap();
                assert_eq!(origins.len(), 1, "{pool:#}");
                text(&origins[0]["address"])
            };
            let order: Vec<String> = lb["defaultPoolIdsRefs"].as_array().unwrap().iter().map(origin_of).collect();
            assert_eq!(origin_of(&lb["fallbackPoolIdRef"]), order[1], "the standby is the fallback");
            order
        }
        other => panic!("no failover reader for traffic provider {other}"),
    }
}

#[test]
fn traffic_templates_keep_both_targets_and_put_the_active_side_first() {
    for &(provider, _) in TRAFFIC_PROVIDERS {
        let order = failover_order(provider, &traffic_docs(provider, "primary"));
        assert_eq!(order, [PRIMARY_TARGET, SECONDARY_TARGET], "{provider} with the primary active");
        let order = failover_order(provider, &traffic_docs(provider, "secondary"));
        assert_eq!(order, [SECONDARY_TARGET, PRIMARY_TARGET], "{provider} after a failover");
    }
}

#[test]
fn traffic_templates_quote_every_value() {
    // Each of these would break or change the YAML if it were pasted in unquoted.
    let host = "orders.example.org: {x} # y\n- z";
    let label = "a: 'b' \"c\" &anchor *alias";
    for &(provider, _) in TRAFFIC_PROVIDERS {
        let mut ctx = traffic_context("primary");
        ctx["traffic"]["publicHost"] = json!(host);
        ctx["traffic"]["zone"] = json!("example.org\n  injected: true");
        ctx["traffic"]["primary"]["target"] = json!("primary.example.org\n---\nkind: Secret");
        ctx["labels"]["platform.example.org/request"] = json!(label);
        ctx["request"]["cell"] = json!("cell: [1, 2]");
        let docs = render_traffic(provider, &ctx).unwrap_or_else(|e| panic!("{provider}: {e:#}"));
        let expected_kinds = TRAFFIC_PROVIDERS.iter().find(|(p, _)| *p == provider).unwrap().1;
        for doc in &docs {
            let pair = (doc["apiVersion"].as_str().unwrap_or_default(), doc["kind"].as_str().unwrap_or_default());
            assert!(expected_kinds.contains(&pair), "{provider}: a value turned into a document: {doc:#}");
            assert_eq!(doc["metadata"]["labels"]["platform.example.org/request"], label, "{provider}");
        }
        let text = serde_json::to_string(&docs).unwrap();
        for value in [host, "primary.example.org\n---\nkind: Secret", "example.org\n  injected: true"] {
            assert!(text.contains(&serde_json::to_string(value).unwrap()), "{provider}: {value:?} did not survive");
        }
    }
}

#[test]
fn traffic_templates_refuse_what_idp_would_never_pass() {
    for &(provider, _) in TRAFFIC_PROVIDERS {
        let result = render_traffic(provider, &traffic_context("both"));
        assert!(result.is_err(), "{provider} rendered activeSide \"both\": {result:#?}");
        let mut ctx = traffic_context("primary");
        ctx["traffic"].as_object_mut().unwrap().remove("healthCheck");
        assert!(render_traffic(provider, &ctx).is_err(), "{provider} rendered without traffic.healthCheck");
    }
}

/// Each traffic provider's CRDs under tests/fixtures/crds/ (its README says which tag):
/// provider-upjet-aws v2.6.0 and cdloh/provider-cloudflare v0.1.0, the versions
/// manifests/crossplane/providers.yaml installs; oracle/crossplane-provider-oci v0.0.2, the
/// only tagged OCI CRDs there (the packages installed are ghcr.io/oracle/provider-oci-*:v1.4.0).
const TRAFFIC_PROVIDER_CRDS: &[(&str, &str)] = &[("cloudflare", "cloudflare"), ("oci-dns", "oci"), ("route53", "aws")];

#[test]
fn traffic_templates_match_the_pinned_provider_crds() {
    let dir = crds_dir();
    let mut problems = Vec::new();
    for &(provider, _) in TRAFFIC_PROVIDERS {
        let (_, folder) = TRAFFIC_PROVIDER_CRDS
            .iter()
            .find(|(p, _)| *p == provider)
            .unwrap_or_else(|| panic!("{provider} has no CRD folder in TRAFFIC_PROVIDER_CRDS"));
        let mut files: Vec<PathBuf> = fs::read_dir(dir.join(folder))
            .unwrap_or_else(|e| panic!("read providers/{folder}: {e}"))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        files.sort();
        let crds: Vec<Value> = files.iter().flat_map(|file| parse_yaml(file)).collect();
        for active in ["primary", "secondary"] {
            for doc in traffic_docs(provider, active) {
                let origin = format!("{provider} (activeSide {active}) {}", doc["metadata"]["name"]);
                let group = doc["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(g, _)| g);
                match crds
                    .iter()
                    .find(|crd| crd["spec"]["group"] == group && crd["spec"]["names"]["kind"] == doc["kind"])
                {
                    Some(crd) => problems.extend(prefixed(&origin, crd_schema::validate_against_crd(crd, &doc))),
                    None => problems.push(format!(
                        "{origin}: no CRD for {} {} in providers/{folder}",
                        doc["apiVersion"], doc["kind"]
                    )),
                }
            }
        }
    }
    report(&problems);
}

/// A reference whose target differs between the two sides' renders must carry
/// `policy: {resolve: Always}`, or a failover changes its `name` and nothing in the cloud.
///
/// It encodes crossplane-runtime `pkg/reference/reference.go`, `ResolutionRequest.IsNoOp` and
/// `MultiResolutionRequest.IsNoOp`, identical in the versions the pinned providers build with
/// (v0.19.0-rc.0.0.20221012013934-bce61005a175 for cdloh/provider-cloudflare v0.1.0, v2.2.0
/// for provider-upjet-aws v2.6.0, v1.20.0 for oracle/crossplane-provider-oci): once the
/// resolved field (`healthCheckId`, `defaultPoolIds`) holds a value, resolution is a no-op
/// unless the reference's policy (in a list: any one reference's) says `resolve: Always`. The
/// managed reconciler (`pkg/reconciler/managed/reconciler.go`) calls `ResolveReferences` on
/// every reconcile, but that no-op keeps what the first target resolved to. Here every
/// reference of a list must say it, not just one, so that one entry read alone tells the truth.
///
/// What it cannot prove without a cluster: that the running providers honour the policy. Their
/// generated resolvers (`zz_generated.resolvers.go` of each pinned tag) hand the whole
/// reference, policy included, to `Resolve`/`ResolveMultiple`, and their CRDs declare
/// `policy.resolve` (`traffic_templates_match_the_pinned_provider_crds`); that was read from
/// source, not run. A reference only one render has is a problem too: nothing clears the
/// field it resolved into when it goes. A document only one render has is created with the
/// move and resolves its references then; it is not judged. Nor are `...Selector` fields: no
/// template uses one.
#[test]
fn traffic_references_that_move_at_failover_resolve_always() {
    let refs_of = |doc: &Value| {
        let mut refs = Vec::new();
        references(&doc["spec"], "spec", &mut refs);
        refs.into_iter().map(|(path, r)| (path, r.clone())).collect::<BTreeMap<String, Value>>()
    };
    let mut problems = Vec::new();
    for &(provider, _) in TRAFFIC_PROVIDERS {
        let (primary, secondary) = (traffic_docs(provider, "primary"), traffic_docs(provider, "secondary"));
        let mut seen = 0;
        for doc in &primary {
            let name = doc["metadata"]["name"].as_str().unwrap_or_default();
            let Some(other) = secondary.iter().find(|d| d["metadata"]["name"] == name) else { continue };
            let (before, after) = (refs_of(doc), refs_of(other));
            seen += before.len();
            for path in before.keys().chain(after.keys()).collect::<BTreeSet<_>>() {
                let (a, b) = (before.get(path), after.get(path));
                if a.map(|r| &r["name"]) == b.map(|r| &r["name"]) {
                    continue;
                }
                let target = |r: Option<&Value>| r.map_or("nothing".to_owned(), |r| r["name"].to_string());
                if a.is_none() || b.is_none() {
                    // Nothing clears the field a reference resolved into when the reference goes.
                    problems.push(format!(
                        "{provider} {name}: {path} names {} with the primary active and {} with the secondary \
                         active; a reference must stay and change its target, or its resolved value outlives it",
                        target(a),
                        target(b)
                    ));
                    continue;
                }
                let lacking: Vec<&str> = [("primary", a), ("secondary", b)]
                    .into_iter()
                    .filter(|(_, r)| r.is_some_and(|r| r["policy"]["resolve"] != "Always"))
                    .map(|(active, _)| active)
                    .collect();
                if !lacking.is_empty() {
                    problems.push(format!(
                        "{provider} {name}: {path} names {} with the primary active and {} with the secondary \
                         active, but has no policy.resolve: Always with the {} active, so the provider keeps \
                         the value it resolved first",
                        target(a),
                        target(b),
                        lacking.join(" or the ")
                    ));
                }
            }
        }
        assert!(seen > 0, "{provider}: no references found; the walker or the template changed");
    }
    report(&problems);
}

// ---------------------------------------------------------------------------------------
// App templates (templates/app/)
// ---------------------------------------------------------------------------------------

fn application_context(automated: bool) -> Value {
    json!({
        "request": app_request(),
        "labels": app_labels(),
        "resource_name": "team-alpha-orders-primary",
        "repo_url": REPO_URL,
        "revision": "main",
        "workload_path": "workloads/team-alpha/orders/primary",
        "runtime_cluster": "aws-use1-prod-01",
        "deployment": "orders",
        "replicas": 2,
        "automated": automated,
        "sync_wave": "1"
    })
}

fn render_docs(name: &str, ctx: &Value) -> Vec<Value> {
    let rendered = render_template(name, minijinja::Value::from(minijinja::value::Serde(ctx)))
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    parse_yaml_str(&rendered, name)
}

#[test]
fn application_template_matches_the_upstream_crd() {
    for automated in [true, false] {
        let docs = render_docs("app/application.yaml.j2", &application_context(automated));
        assert_eq!(docs.len(), 1, "{docs:#?}");
        let app = &docs[0];
        let crd = upstream().crd("argoproj.io", "Application").expect("Application CRD");
        let found: Vec<String> = crd_schema::validate_against_crd(crd, app).iter().map(ToString::to_string).collect();
        assert_eq!(found, Vec::<String>::new(), "automated={automated}");
        assert_eq!(app["apiVersion"], "argoproj.io/v1alpha1");
        assert_eq!(app["kind"], "Application");
        assert_eq!(app["metadata"]["name"], "team-alpha-orders-primary");
        assert_eq!(app["metadata"]["namespace"], "argocd");
        for (key, value) in app_labels().as_object().unwrap() {
            assert_eq!(app["metadata"]["labels"][key], *value, "label {key}");
        }
        assert_eq!(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "1");
        let spec = &app["spec"];
        assert_eq!(spec["project"], "idp-platform");
        // The side's count travels in the Application, set on the Deployment by Argo CD's
        // kustomize build of the folder.
        assert_eq!(
            spec["source"],
            json!({
                "repoURL": REPO_URL,
                "targetRevision": "main",
                "path": "workloads/team-alpha/orders/primary",
                "kustomize": {"replicas": [{"name": "orders", "count": 2}]},
            })
        );
        assert_eq!(spec["destination"], json!({"name": "aws-use1-prod-01", "namespace": "team-alpha"}));
        assert_eq!(spec["syncPolicy"]["syncOptions"], json!(["CreateNamespace=true"]));
        if automated {
            assert_eq!(spec["syncPolicy"]["automated"], json!({"prune": true, "selfHeal": true}));
        } else {
            assert!(spec["syncPolicy"].get("automated").is_none(), "a cold standby must not sync by itself");
        }
    }
}

#[test]
fn application_template_quotes_every_value() {
    let mut ctx = application_context(true);
    ctx["repo_url"] = json!("https://git.example.org/a b.git#x: 'y'\n- z");
    ctx["workload_path"] = json!("workloads/{a}: [b]");
    ctx["runtime_cluster"] = json!("cluster # not a comment");
    let docs = render_docs("app/application.yaml.j2", &ctx);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["spec"]["source"]["repoURL"], ctx["repo_url"]);
    assert_eq!(docs[0]["spec"]["source"]["path"], ctx["workload_path"]);
    assert_eq!(docs[0]["spec"]["destination"]["name"], ctx["runtime_cluster"]);
}

fn deployment_context(database_secret: Option<&str>) -> Value {
    let databases: Vec<Value> = database_secret
        .iter()
        .map(|secret| json!({"name": "orders-db", "secret": secret, "envPrefix": null, "delivered": true}))
        .collect();
    json!({
        "request": app_request(),
        "side": "secondary",
        "replicas": 3,
        "labels": app_labels(),
        "database_secret": database_secret,
        "databases": databases,
        "health_path": "/healthz",
        "container": {"probes": "http", "liveness_path": "/healthz", "env": [], "command": null, "args": null, "resources": null},
        "sync_wave": "1"
    })
}

#[test]
fn deployment_template_renders_a_hardened_deployment_and_its_service() {
    let docs = render_docs("app/deployment.yaml.j2", &deployment_context(Some("orders-db-secondary-conn")));
    assert_eq!(docs.len(), 2, "a Deployment and a Service: {docs:#?}");
    let (deployment, service) = (&docs[0], &docs[1]);

    assert_eq!((&deployment["apiVersion"], &deployment["kind"]), (&json!("apps/v1"), &json!("Deployment")));
    assert_eq!((&service["apiVersion"], &service["kind"]), (&json!("v1"), &json!("Service")));
    for doc in &docs {
        let meta = &doc["metadata"];
        assert_eq!(meta["name"], "orders");
        assert_eq!(meta["namespace"], "team-alpha");
        for (key, value) in app_labels().as_object().unwrap() {
            assert_eq!(meta["labels"][key], *value, "{} label {key}", doc["kind"]);
        }
        assert_eq!(meta["annotations"]["argocd.argoproj.io/sync-wave"], "1");
    }

    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 3);
    let selector = &spec["selector"]["matchLabels"];
    assert_eq!(*selector, json!({"app.kubernetes.io/name": "orders", "platform.example.org/role": "secondary"}));
    for (key, value) in selector.as_object().unwrap() {
        assert_eq!(spec["template"]["metadata"]["labels"][key], *value, "the pod template must match the selector");
    }
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    assert_eq!(container["image"], "registry.example.org/team-alpha/orders:1.4.2");
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert_eq!(container["ports"][0]["name"], "http");
    assert_eq!(
        container["resources"],
        json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}})
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(container[probe]["httpGet"], json!({"path": "/healthz", "port": "http"}), "{probe}");
    }
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(container["envFrom"], json!([{"secretRef": {"name": "orders-db-secondary-conn", "optional": false}}]));

    let spec = &service["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["selector"], *selector);
    assert_eq!(spec["ports"], json!([{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]));
    // The Service's named targetPort resolves to the container port.
    assert_eq!(container["ports"][0]["name"], spec["ports"][0]["targetPort"]);
}

#[test]
fn deployment_template_mounts_every_further_database_under_its_prefix() {
    let mut ctx = deployment_context(Some("orders-db-secondary-conn"));
    ctx["databases"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "reports-db", "secret": "reports-db-secondary-conn", "envPrefix": "REPORTS_DB_", "delivered": true}));
    // A database of another namespace (followed before apps named their data): not copied, so optional.
    ctx["databases"].as_array_mut().unwrap().push(
        json!({"name": "shared-db", "secret": "shared-db-secondary-conn", "envPrefix": "SHARED_DB_", "delivered": false}),
    );
    let docs = render_docs("app/deployment.yaml.j2", &ctx);
    let container = &docs[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["envFrom"],
        json!([
            {"secretRef": {"name": "orders-db-secondary-conn", "optional": false}},
            {"prefix": "REPORTS_DB_", "secretRef": {"name": "reports-db-secondary-conn", "optional": false}},
            {"prefix": "SHARED_DB_", "secretRef": {"name": "shared-db-secondary-conn", "optional": true}}
        ])
    );
}

#[test]
fn deployment_template_without_a_database_has_no_secret() {
    let docs = render_docs("app/deployment.yaml.j2", &deployment_context(None));
    assert_eq!(docs.len(), 2);
    let container = &docs[0]["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("envFrom").is_none(), "{container:#}");
}

#[test]
fn deployment_template_quotes_every_value() {
    let mut ctx = deployment_context(Some("db: {x}\n- y"));
    ctx["request"]["image"] = json!("registry.example.org/app:1 # tag\nkind: Secret");
    ctx["health_path"] = json!("/a: {b}\n- c");
    // A label with a selector key must not clash with (or override) the template's own.
    ctx["labels"]["platform.example.org/role"] = json!("primary");
    let docs = render_docs("app/deployment.yaml.j2", &ctx);
    assert_eq!(docs.len(), 2, "{docs:#?}");
    for doc in &docs {
        assert_eq!(doc["metadata"]["labels"]["platform.example.org/role"], "secondary", "{}", doc["kind"]);
    }
    assert_eq!(docs[0]["spec"]["template"]["metadata"]["labels"]["platform.example.org/role"], "secondary");
    let container = &docs[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], ctx["request"]["image"]);
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], "db: {x}\n- y");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], ctx["health_path"]);
}

// ---------------------------------------------------------------------------------------
// What the providers keep: names, disk sizes and regions a later change must not fight
// ---------------------------------------------------------------------------------------

const EXTERNAL_NAME_PATH: &str = "metadata.annotations[crossplane.io/external-name]";

/// Every composed resource of `group`/`kind` in the Compositions of the `composite_kind`
/// XRD: (the Composition's origin, the resource template, its patches with patch sets
/// expanded).
fn composed_resources<'a>(
    docs: &'a [(String, Value)],
    composite_kind: &str,
    group: &str,
    kind: &str,
) -> Vec<(&'a str, &'a Value, Vec<&'a Value>)> {
    let mut out = Vec::new();
    for (origin, composition) in compositions_for(docs, composite_kind) {
        for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
            let input = &step["input"];
            for resource in input["resources"].as_array().into_iter().flatten() {
                let base = &resource["base"];
                let in_group = base["apiVersion"].as_str().is_some_and(|v| v.starts_with(&format!("{group}/")));
                if in_group && base["kind"] == kind {
                    out.push((origin.as_str(), resource, expanded_patches(resource, &input["patchSets"])));
                }
            }
        }
    }
    out
}

/// provider-aws maps aws_db_instance to IdentifierFromProvider (config/externalname.go): the
/// Instance's external-name is the DBI resource ID the provider writes back after creation,
/// so `idp-<name>` patched there never named the instance (it got a generated identifier).
/// The name is `spec.forProvider.identifier`, which terraform-provider-aws renames in place
/// (force-new.yaml has the row and its source).
#[test]
fn rds_instance_is_named_by_its_identifier_not_its_external_name() {
    let docs = crossplane_manifests();
    let instances = composed_resources(&docs, "XMySQLInstance", "rds.aws.upbound.io", "Instance");
    assert_eq!(instances.len(), 1, "one RDS Instance in the MySQL Compositions");
    let (origin, resource, patches) = &instances[0];
    let named: Vec<&&Value> = patches.iter().filter(|p| p["toFieldPath"] == "spec.forProvider.identifier").collect();
    assert_eq!(named.len(), 1, "{origin}: the Instance takes its identifier from exactly one patch");
    assert_eq!(named[0]["type"], "FromCompositeFieldPath", "{origin}");
    assert_eq!(named[0]["fromFieldPath"], "metadata.name", "{origin}: the composite's name never changes");
    assert_eq!(
        named[0]["transforms"],
        json!([{"type": "string", "string": {"type": "Format", "fmt": "idp-%s"}}]),
        "{origin}: idp-<composite name>, the leading letter RDS requires"
    );
    let external: Vec<&&Value> = patches.iter().filter(|p| p["toFieldPath"] == EXTERNAL_NAME_PATH).collect();
    assert!(external.is_empty(), "{origin}: the Instance's external-name is the provider's, not patched: {external:?}");
    let base = &resource["base"];
    assert!(
        base["metadata"]["annotations"].get("crossplane.io/external-name").is_none(),
        "{origin}: the Instance base sets an external-name"
    );
    assert!(value_at(base, "spec.forProvider.identifier").is_none(), "{origin}: the base hard-codes an identifier");

    let crd = provider_crd("aws/rds.aws.upbound.io_instances.yaml");
    let version = base["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(_, v)| v);
    let field = crd_field(&crd, version, "spec.forProvider.identifier");
    assert_eq!(field.map(|f| &f["type"]), Some(&json!("string")), "the pinned Instance CRD {version}: {field:?}");
}

/// Cloud SQL grows a disk with `diskAutoresize` on its own (the provider's default), and the
/// Google provider can only shrink one by replacing the instance (force-new.yaml,
/// `settings.diskSize`, `when: decrease`), which upjet refuses: after the first growth, a
/// size patched from the claim is a shrink, and the instance takes no later update, the
/// failover's write fence included. So a DatabaseInstance whose disk size comes from the
/// claim has autoresize off, and nothing else writes either field. (`spec.initProvider` is
/// no way out at the pinned upjet and provider: manifests/README.md, "Cloud SQL disk size".)
#[test]
fn cloud_sql_disk_is_sized_by_the_claim_alone() {
    let docs = crossplane_manifests();
    let instances = composed_resources(&docs, "XMySQLInstance", "sql.gcp.upbound.io", "DatabaseInstance");
    assert!(!instances.is_empty(), "no Cloud SQL DatabaseInstance in the MySQL Compositions");
    let mut problems = Vec::new();
    for (origin, resource, patches) in &instances {
        let writes = |path: &str| patches.iter().filter(|p| p["toFieldPath"] == path).count();
        let sized: Vec<&&Value> =
            patches.iter().filter(|p| p["toFieldPath"] == "spec.forProvider.settings.diskSize").collect();
        if sized.len() != 1 || sized[0]["fromFieldPath"] != "spec.parameters.storageGB" {
            problems.push(format!("{origin}: settings.diskSize must come from storageGB alone: {sized:?}"));
        }
        let autoresize = value_at(&resource["base"], "spec.forProvider.settings.diskAutoresize");
        if autoresize != Some(&json!(false)) {
            problems.push(format!(
                "{origin}: the base sets settings.diskAutoresize to {autoresize:?}; it must be false \
                 (Terraform's default is true) while the claim sizes the disk"
            ));
        }
        for path in ["spec.forProvider.settings.diskAutoresize", "spec.initProvider.settings.diskSize"] {
            if writes(path) > 0 {
                problems.push(format!("{origin}: a patch writes {path}"));
            }
        }
        if value_at(&resource["base"], "spec.initProvider.settings.diskSize").is_some() {
            problems.push(format!("{origin}: the base sets spec.initProvider.settings.diskSize"));
        }
    }
    report(&problems);

    let crd = provider_crd("gcp/sql.gcp.upbound.io_databaseinstances.yaml");
    for (origin, resource, _) in &instances {
        let version = resource["base"]["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(_, v)| v);
        let field = crd_field(&crd, version, "spec.forProvider.settings.diskAutoresize");
        assert_eq!(field.map(|f| &f["type"]), Some(&json!("boolean")), "{origin}: the pinned CRD {version}");
    }
}

/// The value that a resource's FromCompositeFieldPath patches leave at `to` for a
/// composite, in patch order (a later patch overwrites an earlier one; a missing source
/// skips an Optional patch, as function-patch-and-transform does). Evaluates the `map` and
/// string `Format` transforms; any other transform is not expected on these patches.
fn patched_value(patches: &[&Value], to: &str, composite: &Value) -> Option<Value> {
    let mut value = None;
    for patch in patches.iter().filter(|p| p["toFieldPath"] == to) {
        assert_eq!(patch["type"], "FromCompositeFieldPath", "only FromCompositeFieldPath patches here: {patch}");
        let from = patch["fromFieldPath"].as_str().unwrap_or_default();
        let Some(mut v) = value_at(composite, from).filter(|v| !v.is_null()).cloned() else {
            assert_ne!(patch["policy"]["fromFieldPath"], "Required", "{from} is missing and the patch is Required");
            continue;
        };
        for transform in patch["transforms"].as_array().into_iter().flatten() {
            v = match (transform["type"].as_str(), &v) {
                (Some("map"), Value::String(key)) => {
                    transform["map"].get(key).cloned().unwrap_or_else(|| panic!("{from}: {key} is not mapped"))
                }
                (Some("string"), Value::String(text)) if transform["string"]["type"] == "Format" => {
                    json!(transform["string"]["fmt"].as_str().unwrap_or_default().replacen("%s", text, 1))
                }
                _ => panic!("{from}: transform {transform} on {v} is not evaluated here"),
            };
        }
        value = Some(v);
    }
    value
}

/// A backup-restore composite as idp's replication claim makes it, with the placement of
/// both sides under names that do not depend on which side is active.
fn backup_composite(source: (&str, &str), target: (&str, &str)) -> Value {
    let end = |(provider, region): (&str, &str), claim: &str| {
        let secret = json!({"name": format!("{claim}-conn")});
        json!({"provider": provider, "region": region, "claimName": claim, "connectionSecretRef": secret})
    };
    let mut composite = replication_claim();
    let parameters = &mut composite["spec"]["parameters"];
    parameters["tool"] = json!("backup-restore");
    parameters["mode"] = json!("backup-restore");
    parameters["expectedRpoSeconds"] = json!(900);
    let (primary, secondary) = (("aws", "us-east-1"), ("gcp", "us-central1"));
    let claim_of = |side: (&str, &str)| if side == primary { "orders-db" } else { "orders-db-secondary" };
    parameters["source"] = end(source, claim_of(source));
    parameters["target"] = end(target, claim_of(target));
    parameters["primary"] = json!({"provider": primary.0, "region": primary.1});
    parameters["secondary"] = json!({"provider": secondary.0, "region": secondary.1});
    composite
}

/// A bucket's region cannot change (force-new.yaml: `region` is a replace row of the three
/// S3 kinds), and a failover swaps the replication's `source` and `target`. So the S3
/// resources' region must come from the placement, which does not swap: the same before and
/// after a failover, and the AWS region the Composition maps the secondary's to.
#[test]
fn backup_bucket_region_does_not_follow_the_replication_direction() {
    let docs = crossplane_manifests();
    let primary_active = backup_composite(("aws", "us-east-1"), ("gcp", "us-central1"));
    let failed_over = backup_composite(("gcp", "us-central1"), ("aws", "us-east-1"));
    let kinds = ["Bucket", "BucketPublicAccessBlock", "BucketVersioning"];
    let mut problems = Vec::new();
    let mut regions = BTreeSet::new();
    for kind in kinds {
        let resources = composed_resources(&docs, "XReplication", "s3.aws.upbound.io", kind);
        assert_eq!(resources.len(), 1, "one S3 {kind} in the replication Compositions");
        let (origin, _, patches) = &resources[0];
        for patch in patches.iter().filter(|p| p["toFieldPath"] == "spec.forProvider.region") {
            let from = patch["fromFieldPath"].as_str().unwrap_or_default();
            if ["spec.parameters.source", "spec.parameters.target"].iter().any(|end| from.starts_with(end)) {
                problems.push(format!("{origin}: {kind} takes its region from {from}, which a failover swaps"));
            }
        }
        let before = patched_value(patches, "spec.forProvider.region", &primary_active);
        let after = patched_value(patches, "spec.forProvider.region", &failed_over);
        if before != after {
            problems
                .push(format!("{origin}: {kind} is in {before:?} with the primary active, {after:?} after a failover"));
        }
        regions.insert(format!("{before:?}"));
    }
    report(&problems);
    // us-central1, the secondary's region, is nearest us-east-2 in the Composition's map.
    assert_eq!(regions, BTreeSet::from([format!("{:?}", Some(json!("us-east-2")))]), "all three in one region");
}

// ---------------------------------------------------------------------------------------
// GoldenGate Connections belong to a database, not to a replication direction
// ---------------------------------------------------------------------------------------

/// The claim fields that name a database by its role, which a failover leaves alone (it
/// swaps `source` and `target`, the direction, and `direction` itself).
const ROLES: [&str; 2] = ["primary", "secondary"];

/// The role whose fields a patch reads, if it reads only one role's fields.
fn role_read(from: &[&str]) -> Option<&'static str> {
    ROLES
        .into_iter()
        .find(|role| !from.is_empty() && from.iter().all(|path| path.starts_with(&format!("spec.parameters.{role}."))))
}

/// The fromFieldPaths of a patch (one, or a combine's variables).
fn patch_sources(patch: &Value) -> Vec<&str> {
    match patch["type"].as_str().unwrap_or("FromCompositeFieldPath") {
        "CombineFromComposite" => patch["combine"]["variables"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["fromFieldPath"].as_str())
            .collect(),
        _ => patch["fromFieldPath"].as_str().into_iter().collect(),
    }
}

/// A failover swaps the replication's source and target. A GoldenGate Connection's
/// `technologyType` is ForceNew (force-new.yaml), so a Connection keyed by direction is
/// refused after every failover between two clouds, and keeps the other database's host and
/// password. Each Connection must instead be one database's, by role: its technologyType,
/// host and password secret all read that role's fields, and the two Connections cover both
/// roles.
#[test]
fn goldengate_connections_take_technology_type_host_and_password_from_one_role_only() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (origin, composition) in compositions_for(&docs, "XReplication") {
        for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
            let input = &step["input"];
            let resources: Vec<&Value> = input["resources"].as_array().into_iter().flatten().collect();
            let goldengate = |r: &&Value, kind: &str| {
                r["base"]["apiVersion"] == "goldengate.oci.upbound.io/v1alpha1" && r["base"]["kind"] == kind
            };
            // Nothing a Connection or its assignment holds may follow the direction.
            for resource in
                resources.iter().filter(|r| goldengate(r, "Connection") || goldengate(r, "ConnectionAssignment"))
            {
                for patch in expanded_patches(resource, &input["patchSets"]) {
                    for from in patch_sources(patch) {
                        if from.starts_with("spec.parameters.source.") || from.starts_with("spec.parameters.target.") {
                            problems
                                .push(format!("{origin} {}: reads {from}, which a failover swaps", resource["name"]));
                        }
                    }
                }
            }
            // Each assignment selects one of this Composition's Connections by its labels.
            for assignment in resources.iter().filter(|r| goldengate(r, "ConnectionAssignment")) {
                let wanted = &assignment["base"]["spec"]["forProvider"]["connectionIdSelector"]["matchLabels"];
                let selected = resources
                    .iter()
                    .filter(|r| goldengate(r, "Connection"))
                    .filter(|c| {
                        let labels = &c["base"]["metadata"]["labels"];
                        wanted.as_object().is_some_and(|w| !w.is_empty() && w.iter().all(|(k, v)| &labels[k] == v))
                    })
                    .count();
                if selected != 1 {
                    problems.push(format!("{origin} {}: selects {selected} Connections", assignment["name"]));
                }
            }
            let mut roles = Vec::new();
            for resource in resources.iter().filter(|r| goldengate(r, "Connection")) {
                checked += 1;
                let at = format!("{origin} {}", resource["name"]);
                let patches = expanded_patches(resource, &input["patchSets"]);
                let reading = |to: &str| -> Vec<&str> {
                    patches.iter().filter(|p| p["toFieldPath"] == to).flat_map(|p| patch_sources(p)).collect()
                };
                let technology = reading("spec.forProvider.technologyType");
                let Some(role) = role_read(&technology) else {
                    problems.push(format!("{at}: technologyType is patched from {technology:?}, not from one role"));
                    continue;
                };
                roles.push(role);
                let password = reading("spec.forProvider.passwordSecretId");
                if password != [format!("metadata.annotations[platform.example.org/{role}-password-secret-id]")] {
                    problems.push(format!("{at}: the {role} Connection's password is read from {password:?}"));
                }
                let host = reading("spec.forProvider.host");
                if host != [format!("metadata.annotations[platform.example.org/{role}-host]")] {
                    problems.push(format!("{at}: the {role} Connection's host is read from {host:?}"));
                }
            }
            roles.sort_unstable();
            if !roles.is_empty() && roles != ROLES {
                problems.push(format!("{origin}: Connections for roles {roles:?}, expected one for each of {ROLES:?}"));
            }
        }
    }
    assert!(checked >= 2, "only {checked} GoldenGate Connections found");
    report(&problems);
}

/// Every field of a GoldenGate resource that takes a password, in the pinned CRDs
/// (tests/fixtures/crds/oci-bf00b89), by kind: the deprecated plain-text ones (a
/// Kubernetes Secret holding the password itself) and the OCI Vault secret OCID that
/// replaces each. terraform-provider-oci v8.22.0 marks `password` (golden_gate_connection)
/// and `ogg_data.admin_password` (golden_gate_deployment) FieldDeprecatedForAnother(...,
/// "password_secret_id"); the Connection CRD says passwordSecretRef "will be removed after
/// February 15 2026". The Deployment's replacement is a Secret reference because Terraform
/// marks ogg_data.password_secret_id Sensitive: that Secret holds the OCID.
const GOLDENGATE_PASSWORD_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "Deployment",
        "spec.forProvider.oggData[0].adminPasswordSecretRef",
        "spec.forProvider.oggData[0].passwordSecretIdSecretRef.name",
        "oci-bf00b89/goldengate.oci.upbound.io_deployments.yaml",
    ),
    (
        "Connection",
        "spec.forProvider.passwordSecretRef",
        "spec.forProvider.passwordSecretId",
        "oci-bf00b89/goldengate.oci.upbound.io_connections.yaml",
    ),
];

/// No password goes through a GoldenGate resource: each takes the OCID of an OCI Vault
/// secret an operator created, never the deprecated plain-text field.
#[test]
fn goldengate_passwords_are_oci_vault_secret_ids() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    let mut found = BTreeSet::new();
    for (origin, composition) in compositions_for(&docs, "XReplication") {
        for step in composition["spec"]["pipeline"].as_array().into_iter().flatten() {
            let input = &step["input"];
            for resource in input["resources"].as_array().into_iter().flatten() {
                let base = &resource["base"];
                let Some(&(kind, plain, vault, crd_file)) = GOLDENGATE_PASSWORD_FIELDS.iter().find(|(kind, ..)| {
                    base["apiVersion"] == "goldengate.oci.upbound.io/v1alpha1" && base["kind"] == *kind
                }) else {
                    continue;
                };
                let at = format!("{origin} {}", resource["name"]);
                let patches = expanded_patches(resource, &input["patchSets"]);
                let targets: Vec<&str> = patches.iter().filter_map(|p| p["toFieldPath"].as_str()).collect();
                if value_at(base, plain).is_some() || targets.iter().any(|t| t.starts_with(plain)) {
                    problems.push(format!("{at}: sets the deprecated plain-text {plain}"));
                }
                if !targets.contains(&vault) {
                    problems.push(format!("{at}: does not patch {vault}, the Vault secret OCID"));
                }
                // A secret id is an operator's input, never a constant of the Composition.
                if value_at(base, vault).is_some() {
                    problems.push(format!("{at}: the base sets {vault}; it must come from the claim"));
                }
                let expected = if vault.ends_with("SecretRef.name") { "object" } else { "string" };
                let field = vault.strip_suffix(".name").unwrap_or(vault);
                if let Some(problem) = provider_field_problem(crd_file, base, field, expected) {
                    problems.push(format!("{at}: {problem}"));
                }
                found.insert(kind);
            }
        }
    }
    report(&problems);
    assert_eq!(found, BTreeSet::from(["Connection", "Deployment"]), "a GoldenGate kind with a password was not found");
}

// ---------------------------------------------------------------------------------------
// MySQL 8.0 on every cloud
// ---------------------------------------------------------------------------------------

/// Where each MySQL Composition pins the server version, and what 8.0 is there: a series
/// on AWS and GCP, a specific 8.0.x on OCI (the composition says why).
const MYSQL_VERSION_FIELDS: &[(&str, &str, &str, &str)] = &[
    ("aws", "Instance", "spec.forProvider.engineVersion", "8.0"),
    ("gcp", "DatabaseInstance", "spec.forProvider.databaseVersion", "MYSQL_8_0"),
    ("oci", "MysqlDbSystem", "spec.forProvider.mysqlVersion", "8.0."),
];

/// PRODUCT.md and manifests/README.md promise MySQL 8.0 wherever a database lands: each
/// provider's database resource pins it in its base, where no claim parameter reaches it.
#[test]
fn every_mysql_composition_pins_mysql_8_0_in_its_base() {
    let docs = crossplane_manifests();
    let mut problems = Vec::new();
    for &(provider, kind, path, expected) in MYSQL_VERSION_FIELDS {
        let Some((origin, composition)) = compositions_for(&docs, "XMySQLInstance")
            .into_iter()
            .find(|(_, c)| c["metadata"]["labels"]["provider"] == provider)
        else {
            problems.push(format!("no MySQL Composition for {provider}"));
            continue;
        };
        let resources: Vec<&Value> = composition["spec"]["pipeline"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|step| step["input"]["resources"].as_array().into_iter().flatten())
            .filter(|r| r["base"]["kind"] == kind)
            .collect();
        if resources.len() != 1 {
            problems.push(format!("{origin}: {} {kind} resources, expected one", resources.len()));
            continue;
        }
        let version = value_at(&resources[0]["base"], path).and_then(Value::as_str).unwrap_or_default();
        let pinned = if expected.ends_with('.') { version.starts_with(expected) } else { version == expected };
        if !pinned {
            problems.push(format!("{origin}: {kind} {path} is {version:?}, not MySQL 8.0 ({expected:?})"));
        }
        let patched = resources[0]["patches"].as_array().into_iter().flatten().any(|p| p["toFieldPath"] == path);
        if patched {
            problems.push(format!("{origin}: {kind} {path} is patched; the version is no claim parameter"));
        }
    }
    report(&problems);
}

// ---------------------------------------------------------------------------------------
// Apps on their runtime clusters: the database secret and the public host
// ---------------------------------------------------------------------------------------

/// A CRD pinned in tests/fixtures/crds/ (its README names the upstream file and tag).
fn pinned_crd(file: &str) -> Value {
    let mut docs = parse_yaml(&crate_dir().join("tests/fixtures/crds").join(file));
    assert_eq!(docs.len(), 1, "{file} holds one CRD");
    docs.remove(0)
}

/// Every object `doc` would have to pass against its pinned CRD, as "origin: problem".
fn pinned_violations(origin: &str, doc: &Value) -> Vec<String> {
    let file = match (doc["apiVersion"].as_str().unwrap_or_default(), doc["kind"].as_str().unwrap_or_default()) {
        (v, "PushSecret") if v.starts_with("external-secrets.io/") => {
            "external-secrets/external-secrets.io_pushsecrets.yaml"
        }
        (v, "ClusterSecretStore") if v.starts_with("external-secrets.io/") => {
            "external-secrets/external-secrets.io_clustersecretstores.yaml"
        }
        (v, "HTTPRoute") if v.starts_with("gateway.networking.k8s.io/") => {
            "gateway-api/gateway.networking.k8s.io_httproutes.yaml"
        }
        (v, "Gateway") if v.starts_with("gateway.networking.k8s.io/") => {
            "gateway-api/gateway.networking.k8s.io_gateways.yaml"
        }
        (v, k) => return vec![format!("{origin}: no pinned CRD for {v} {k}")],
    };
    prefixed(origin, crd_schema::validate_against_crd(&pinned_crd(file), doc)).collect()
}

/// A state repo made by the idp binary, in a temporary directory, with a hermetic
/// environment (no user git config, fixed identity).
struct StateRepo {
    dir: tempfile::TempDir,
}

impl StateRepo {
    fn new() -> Self {
        let repo = StateRepo { dir: tempfile::tempdir().expect("temp dir") };
        fs::create_dir_all(repo.dir.path().join("home")).unwrap();
        repo.idp(&["init", "state"], "..");
        repo
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Runs idp in the state repo (or `cwd` relative to it); it must succeed.
    fn idp(&self, args: &[&str], cwd: &str) -> String {
        let cwd = if cwd == ".." { self.dir.path().to_path_buf() } else { self.state().join(cwd) };
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "idp test")
            .env("GIT_AUTHOR_EMAIL", "idp@example.org")
            .env("GIT_COMMITTER_NAME", "idp test")
            .env("GIT_COMMITTER_EMAIL", "idp@example.org")
            .current_dir(cwd)
            .output()
            .expect("run idp");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "idp {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        stdout
    }

    /// Writes a request file beside the state repo and returns its path.
    fn request(&self, file: &str, text: &str) -> String {
        let path = self.dir.path().join(file);
        fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// Every document of the files under `platform/` and `workloads/`, with "path#index".
    fn documents(&self) -> Vec<(String, Value)> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in fs::read_dir(dir).into_iter().flatten() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.state().join("platform"), &mut files);
        walk(&self.state().join("workloads"), &mut files);
        files.sort();
        let state = self.state();
        files
            .iter()
            .flat_map(|file| {
                let name = file.strip_prefix(&state).unwrap().display().to_string();
                parse_yaml(file).into_iter().enumerate().map(move |(i, doc)| (format!("{name}#{i}"), doc))
            })
            .collect()
    }
}

/// Two databases of the payments cell (placed alike) and the checkout app that names
/// both, with its own health path.
fn payments_app_repo(health_path: Option<&str>) -> StateRepo {
    let repo = StateRepo::new();
    let db = |name: &str| {
        format!(
            "apiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: {name}\n  namespace: team-payments\nspec:\n  cell: payments\n  tier: C0\n  environment: prod\n  drProfile: gold\n  size: small\n  storageGB: 50\n  ha: true\n"
        )
    };
    let dbs = [repo.request("payments-db.yaml", &db("payments-db")), repo.request("ledger-db.yaml", &db("ledger-db"))];
    repo.idp(&["apply", "-f", &dbs[0], "-f", &dbs[1], "--yes"], ".");
    let example = fs::read_to_string(crate_dir().join("examples/payments-app.yaml")).unwrap();
    let mut app = example.replace("  database: payments-db\n", "  database: [payments-db, ledger-db]\n");
    if let Some(path) = health_path {
        app = app.replace("  replicas: 3\n", &format!("  replicas: 3\n  healthPath: {path:?}\n"));
    }
    assert_ne!(app, example, "examples/payments-app.yaml changed; this test edits it");
    let app = repo.request("checkout.yaml", &app);
    repo.idp(&["apply", "-f", &app, "--yes"], ".");
    repo
}

fn docs_of<'a>(docs: &'a [(String, Value)], kind: &str, side: &str) -> Vec<&'a (String, Value)> {
    docs.iter()
        .filter(|(_, d)| d["kind"] == kind && d["metadata"]["labels"]["platform.example.org/role"] == side)
        .collect()
}

fn one_of<'a>(docs: &'a [(String, Value)], kind: &str, side: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> =
        docs_of(docs, kind, side).into_iter().map(|(_, d)| d).filter(|d| d["metadata"]["name"] == name).collect();
    assert_eq!(found.len(), 1, "{kind} {name} of the {side} side: {found:#?}");
    found[0]
}

/// What reaches each side's runtime cluster, checked against the objects it must agree
/// with: the claims' connection secrets, the Deployment's envFrom, the Application's
/// destination, the Service and the request.
fn check_app_sides(docs: &[(String, Value)], health_path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let databases = [("payments-db", None), ("ledger-db", Some("LEDGER_DB_"))];
    for side in ["primary", "secondary"] {
        // Both the side's and each database's messages go here, from two closures.
        let found = std::cell::RefCell::new(Vec::new());
        let problem = |message: String| found.borrow_mut().push(format!("{side}: {message}"));
        let deployment = one_of(docs, "Deployment", side, "checkout");
        let service = one_of(docs, "Service", side, "checkout");
        let application = docs
            .iter()
            .map(|(_, d)| d)
            .find(|d| d["kind"] == "Application" && d["metadata"]["name"] == format!("team-payments--checkout-{side}"))
            .unwrap_or_else(|| panic!("no Application of the {side} side"));
        let runtime_cluster = &application["spec"]["destination"]["name"];
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let env_from = container["envFrom"].as_array().cloned().unwrap_or_default();
        if env_from.len() != databases.len() {
            problem(format!("envFrom has {} entries: {env_from:?}", env_from.len()));
        }

        // The database secrets: one PushSecret per database, on the management cluster.
        let pushes = docs_of(docs, "PushSecret", side);
        if pushes.len() != databases.len() {
            problem(format!("{} PushSecrets, expected one per database", pushes.len()));
        }
        for (i, (database, prefix)) in databases.iter().enumerate() {
            let claim_name = if side == "primary" { database.to_string() } else { format!("{database}-secondary") };
            let claim = one_of(docs, "MySQLInstanceClaim", side, &claim_name);
            let written = &claim["spec"]["writeConnectionSecretToRef"];
            let Some((origin, push)) = pushes.get(i) else { continue };
            let problem =
                |message: String| found.borrow_mut().push(format!("{origin} ({side}, {database}): {message}"));
            // A PushSecret reads Secrets of its own namespace (external-secrets
            // apis/externalsecrets/v1alpha1/pushsecret_types.go, PushSecretSecret.Name), and
            // Crossplane writes a claim's connection secret in the claim's namespace.
            if push["metadata"]["namespace"] != claim["metadata"]["namespace"] {
                problem(format!(
                    "in namespace {}, the claim in {}",
                    push["metadata"]["namespace"], claim["metadata"]["namespace"]
                ));
            }
            if push["spec"]["selector"]["secret"]["name"] != written["name"] {
                problem(format!(
                    "pushes secret {}, the claim writes {}",
                    push["spec"]["selector"]["secret"]["name"], written["name"]
                ));
            }
            if written.get("namespace").is_some() {
                problem(format!("the claim names a namespace for its secret: {written}"));
            }
            let stores = &push["spec"]["secretStoreRefs"];
            if *stores != json!([{"kind": "ClusterSecretStore", "name": runtime_cluster}]) {
                problem(format!("stores {stores}, expected the ClusterSecretStore of {runtime_cluster}"));
            }
            let data = push["spec"]["data"].as_array().cloned().unwrap_or_default();
            if data.len() != 1 {
                problem(format!("{} data entries", data.len()));
                continue;
            }
            let (remote, metadata) = (&data[0]["match"], &data[0]["metadata"]);
            // No secretKey and no property: the whole secret is copied (external-secrets
            // providers/v1/kubernetes/client.go, mergePushSecretData "case 1").
            if remote.get("secretKey").is_some() || remote["remoteRef"].get("property").is_some() {
                problem(format!("pushes one key, not the whole secret: {remote}"));
            }
            // The metadata is decoded with DisallowUnknownFields against these constants and
            // fields (external-secrets runtime/esutils/metadata/metadata.go,
            // providers/v1/kubernetes/metadata.go PushSecretMetadataSpec).
            let known = ["targetMergePolicy", "sourceMergePolicy", "labels", "annotations", "remoteNamespace"];
            if metadata["apiVersion"] != "kubernetes.external-secrets.io/v1alpha1"
                || metadata["kind"] != "PushSecretMetadata"
                || metadata["spec"].as_object().is_none_or(|spec| spec.keys().any(|k| !known.contains(&k.as_str())))
            {
                problem(format!("metadata the kubernetes provider would refuse: {metadata}"));
            }
            // What lands on the runtime cluster is what the Deployment reads.
            let expected = match prefix {
                None => json!({"secretRef": {"name": remote["remoteRef"]["remoteKey"], "optional": false}}),
                Some(prefix) => {
                    json!({"prefix": prefix, "secretRef": {"name": remote["remoteRef"]["remoteKey"], "optional": false}})
                }
            };
            if env_from.get(i) != Some(&expected) {
                problem(format!("envFrom[{i}] is {:?}, the copy lands as {expected}", env_from.get(i)));
            }
            if metadata["spec"]["remoteNamespace"] != deployment["metadata"]["namespace"] {
                problem(format!(
                    "copies into namespace {}, the Deployment runs in {}",
                    metadata["spec"]["remoteNamespace"], deployment["metadata"]["namespace"]
                ));
            }
        }

        // The public host: an HTTPRoute to the Service, beside it.
        let route = one_of(docs, "HTTPRoute", side, "checkout");
        if route["metadata"]["namespace"] != service["metadata"]["namespace"] {
            problem(format!(
                "HTTPRoute in {}, Service in {}",
                route["metadata"]["namespace"], service["metadata"]["namespace"]
            ));
        }
        if route["spec"]["hostnames"] != json!(["checkout.payments.example.org"]) {
            problem(format!("HTTPRoute hostnames {}", route["spec"]["hostnames"]));
        }
        let service_port = &service["spec"]["ports"][0]["port"];
        let backends = &route["spec"]["rules"][0]["backendRefs"];
        let expected =
            json!([{"group": "", "kind": "Service", "name": service["metadata"]["name"], "port": service_port}]);
        if *backends != expected || route["spec"]["rules"].as_array().map(Vec::len) != Some(1) {
            problem(format!("HTTPRoute sends to {backends}, the Service is {expected}"));
        }
        // The policy's default Gateway, the one manifests/gateway-api/gateway.yaml describes.
        let parents = &route["spec"]["parentRefs"];
        let gateway = json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "gateway-system"}]);
        if *parents != gateway {
            problem(format!("HTTPRoute parentRefs {parents}"));
        }

        // The probes ask where the request says.
        for probe in ["readinessProbe", "livenessProbe"] {
            if container[probe]["httpGet"] != json!({"path": health_path, "port": "http"}) {
                problem(format!("{probe} {}", container[probe]["httpGet"]));
            }
        }
        problems.extend(found.into_inner());
    }
    // So does the traffic provider's health check (oci-dns, the default: an HTTPMonitor).
    let monitors: Vec<&Value> = docs.iter().map(|(_, d)| d).filter(|d| d["kind"] == "HTTPMonitor").collect();
    if monitors.len() != 1 || monitors[0]["spec"]["forProvider"]["path"] != health_path {
        problems.push(format!("the traffic health check does not ask {health_path}: {monitors:?}"));
    }
    problems
}

/// The app's database secrets reach both runtime clusters through PushSecrets whose source
/// is exactly the secret each claim writes, land where its Deployment reads them, and its
/// public host is routed to its Service; before and after a failover, and every object
/// passes its pinned CRD.
#[test]
fn app_secrets_and_routes_reach_each_runtime_cluster_as_the_claims_and_service_say() {
    let repo = payments_app_repo(Some("/status/ready"));
    for moment in ["placed", "failed over"] {
        if moment == "failed over" {
            repo.idp(
                &["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "4", "--yes"],
                ".",
            );
        }
        let docs = repo.documents();
        let mut problems: Vec<String> = check_app_sides(&docs, "/status/ready");
        let mut checked = 0;
        for (origin, doc) in &docs {
            if matches!(doc["kind"].as_str(), Some("PushSecret" | "HTTPRoute")) {
                problems.extend(pinned_violations(origin, doc));
                checked += 1;
            }
        }
        assert_eq!(checked, 6, "{moment}: two PushSecrets and an HTTPRoute per side");
        // verify re-renders every file and scans it for secret values: a PushSecret names
        // secrets (selector.secret, remoteKey) and must not look like one that holds a value.
        let verified = repo.idp(&["verify"], ".");
        assert!(verified.contains("0 findings"), "{moment}: {verified}");
        problems.iter_mut().for_each(|p| *p = format!("{moment}: {p}"));
        report(&problems);
    }
}

/// Without `healthPath` the probes and the traffic health check ask /healthz, as before.
#[test]
fn app_probes_default_to_healthz() {
    let repo = payments_app_repo(None);
    report(&check_app_sides(&repo.documents(), "/healthz"));
}

/// A cold standby's Application does not sync (argo-cd controller/appcontroller.go: autoSync
/// returns at once without `automated`), so the app's namespace may not exist on its runtime
/// cluster, and a push there would only fail (external-secrets providers/v1/kubernetes/
/// client.go, createOrUpdate creates the Secret in the remote namespace, which it does not
/// create): no secret is pushed there until a failover makes the standby active.
#[test]
fn a_cold_standby_gets_its_secrets_with_the_failover() {
    let repo = StateRepo::new();
    let db = repo.request(
        "db.yaml",
        "apiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: shop-db\n  namespace: team-shop\nspec:\n  cell: payments\n  tier: C1\n  environment: prod\n  drProfile: bronze\n  size: small\n  storageGB: 50\n  ha: true\n",
    );
    let app = repo.request(
        "app.yaml",
        "apiVersion: idp.platform.example.org/v1alpha1\nkind: App\nmetadata:\n  name: shop\n  namespace: team-shop\nspec:\n  cell: payments\n  tier: C1\n  environment: prod\n  drProfile: bronze\n  image: registry.example.org/shop:1.0.0\n  database: shop-db\n",
    );
    repo.idp(&["apply", "-f", &db, "-f", &app, "--yes"], ".");
    let secrets =
        |side: &str| repo.state().join(format!("platform/team-shop/app-shop/payments.production.secrets-{side}.yaml"));
    assert!(secrets("primary").is_file(), "the active side's secrets");
    assert!(!secrets("secondary").exists(), "a cold standby gets none before a failover");
    repo.idp(&["failover", "--no-wait", "--cell", "payments", "--env", "prod", "--replication-lag", "4", "--yes"], ".");
    let pushed = parse_yaml(&secrets("secondary"));
    assert_eq!(pushed.len(), 1, "{pushed:#?}");
    assert_eq!(pushed[0]["spec"]["selector"]["secret"]["name"], "shop-db-secondary-conn");
    report(&pinned_violations("secrets-secondary.yaml", &pushed[0]).into_iter().collect::<Vec<_>>());
}

/// What the platform installs once per runtime cluster (manifests/README.md) passes its
/// pinned CRD and matches what idp renders: a ClusterSecretStore named after a runtime
/// cluster of the policy, and the policy's default Gateway, admitting routes from the
/// apps' namespaces.
#[test]
fn the_platforms_store_and_gateway_examples_match_their_crds_and_what_idp_renders() {
    let policy: Value = serde_saphyr::from_str(&fs::read_to_string(crate_dir().join("policy/policy.yaml")).unwrap())
        .expect("policy/policy.yaml");
    let mut problems = Vec::new();
    let store = parse_yaml(&crate_dir().join("manifests/external-secrets/cluster-secret-store.yaml"));
    let gateway = parse_yaml(&crate_dir().join("manifests/gateway-api/gateway.yaml"));
    assert_eq!((store.len(), gateway.len()), (1, 1));
    let (store, gateway) = (&store[0], &gateway[0]);
    problems.extend(pinned_violations("cluster-secret-store.yaml", store));
    problems.extend(pinned_violations("gateway.yaml", gateway));
    let clusters: Vec<&Value> = policy["candidates"].as_array().unwrap().iter().map(|c| &c["runtimeCluster"]).collect();
    if !clusters.contains(&&store["metadata"]["name"]) {
        problems.push(format!("the store is named {}, no runtime cluster of the policy", store["metadata"]["name"]));
    }
    if store["spec"]["provider"].as_object().map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
        != Some(vec!["kubernetes"])
    {
        problems.push(format!("the store's provider is not kubernetes: {}", store["spec"]["provider"]));
    }
    let wanted = &policy["traffic"]["gateway"];
    if gateway["metadata"]["name"] != wanted["name"] || gateway["metadata"]["namespace"] != wanted["namespace"] {
        problems.push(format!("the Gateway is {}, the policy's traffic.gateway {wanted}", gateway["metadata"]));
    }
    // A listener admits routes of its own namespace only unless it says otherwise
    // (gateway-api apis/v1/gateway_types.go, AllowedRoutes.Namespaces `from: Same`).
    for listener in gateway["spec"]["listeners"].as_array().into_iter().flatten() {
        let from = &listener["allowedRoutes"]["namespaces"]["from"];
        if !matches!(from.as_str(), Some("All" | "Selector")) {
            problems.push(format!("listener {} admits routes from {from}, not the apps' namespaces", listener["name"]));
        }
    }
    report(&problems);
}
