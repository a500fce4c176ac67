//! Checks what idp ships for the management cluster: the Crossplane definitions in
//! manifests/crossplane/ and the Argo CD bootstrap templates in templates/bootstrap/.
//!
//! Objects are validated against the upstream CRDs in ../shared/schemas, the schemas a real
//! API server enforces, with the stricter walk in support/crd_schema.rs that also reports
//! fields the server would silently prune. Without ../shared/schemas those tests say they
//! skipped; the checks that need only this repository always run.

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

/// The upstream CRDs, or None (after saying so on stderr) when ../shared/schemas is absent.
fn upstream() -> Option<&'static Upstream> {
    static UPSTREAM: OnceLock<Option<Upstream>> = OnceLock::new();
    let loaded = UPSTREAM.get_or_init(|| {
        let dir = crate_dir().join("../shared/schemas");
        if !dir.is_dir() {
            return None;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(dir.join("crossplane"))
            .expect("read ../shared/schemas/crossplane")
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
        Some(Upstream { crds })
    });
    if loaded.is_none() {
        eprintln!("skipped: ../shared/schemas not found next to the crate; upstream CRD validation did not run");
    }
    loaded.as_ref()
}

/// Every document in manifests/crossplane/*.yaml, with "file#index" for messages.
fn crossplane_manifests() -> Vec<(String, Value)> {
    let dir = crate_dir().join("manifests/crossplane");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
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

/// Renders a bootstrap template the way `idp init` does. Strict undefined behaviour makes
/// a template that reads a variable idp does not pass fail here rather than render "".
fn render_bootstrap(name: &str, ctx: minijinja::Value) -> String {
    let path = crate_dir().join("templates/bootstrap").join(name);
    let source = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template_owned(name.to_owned(), source).expect("template compiles");
    env.get_template(name).unwrap().render(ctx).unwrap_or_else(|e| panic!("render {name}: {e:#}"))
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

/// Kinds without a CRD in ../shared/schemas; checked by `packages_are_pinned` instead.
const PACKAGE_KINDS: &[(&str, &str)] = &[("pkg.crossplane.io", "Provider"), ("pkg.crossplane.io", "Function")];

#[test]
fn crossplane_manifests_match_upstream_crds() {
    let Some(upstream) = upstream() else { return };
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
    // Two XRDs and three Compositions; a silent zero would mean the loader broke.
    assert!(validated >= 5, "only {validated} documents were validated against upstream CRDs");
}

#[test]
fn bootstrap_templates_match_upstream_crds() {
    let Some(upstream) = upstream() else { return };
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
    let Some(upstream) = upstream() else { return };
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
                "writeFence": false
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
                "source": {
                    "provider": "aws",
                    "region": "us-east-1",
                    "claimName": "orders-db",
                    "connectionSecretRef": {"name": "orders-db-conn"}
                },
                "target": {
                    "provider": "gcp",
                    "region": "us-central1",
                    "claimName": "orders-db-secondary",
                    "connectionSecretRef": {"name": "orders-db-secondary-conn"}
                }
            }
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
    let mysql_cases: [(&str, Value, &str); 7] = [
        ("misspelled field", json!({"storageGb": 100}), "spec.parameters.storageGb: unknown field"),
        ("wrong type", json!({"storageGB": "100"}), "spec.parameters.storageGB:"),
        ("below minimum", json!({"storageGB": 5}), "spec.parameters.storageGB:"),
        ("unknown provider", json!({"provider": "azure"}), "spec.parameters.provider:"),
        ("unknown size", json!({"size": "huge"}), "spec.parameters.size:"),
        ("network values are strings", json!({"network": {"vpc_id": 7}}), "spec.parameters.network.vpc_id:"),
        ("unknown role", json!({"role": "tertiary"}), "spec.parameters.role:"),
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

/// Checks one composed resource of a P&T step; returns the connection keys it publishes.
fn check_composed_resource(
    resource: &Value,
    patch_sets: &Value,
    xrd_schema: &Value,
    group_suffix: &str,
    problem: &mut dyn FnMut(String),
) -> Vec<String> {
    let base = &resource["base"];
    let api_version = base["apiVersion"].as_str().unwrap_or_default();
    if !api_version.split('/').next().unwrap_or_default().ends_with(group_suffix) {
        problem(format!("{api_version} is not in a *{group_suffix} API group"));
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
            if !resolves_on_composite(xrd_schema, path) {
                problem(format!("fromFieldPath {path:?} is not a field of XMySQLInstance"));
            }
        }
        if let Some(to) = patch["toFieldPath"].as_str()
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

#[test]
fn compositions_implement_the_mysql_xrd_on_every_provider() {
    let docs = crossplane_manifests();
    let xrd = xrd_named(&docs, "XMySQLInstance");
    let xrd_schema = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let connection_keys: BTreeSet<&str> =
        xrd["spec"]["connectionSecretKeys"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let functions: BTreeSet<&str> =
        of_kind(&docs, "Function").iter().filter_map(|(_, f)| f["metadata"]["name"].as_str()).collect();
    let pt_schema = patch_and_transform_input_schema();

    let mut problems = Vec::new();
    let mut by_provider: BTreeMap<String, usize> = BTreeMap::new();
    for (origin, composition) in of_kind(&docs, "Composition") {
        let spec = &composition["spec"];
        let labels = &composition["metadata"]["labels"];
        let provider = labels["provider"].as_str().unwrap_or_default();
        *by_provider.entry(provider.to_owned()).or_default() += 1;
        let mut problem = |message: String| problems.push(format!("{origin}: {message}"));

        if labels["class"] != "mysql" {
            problem("label class must be \"mysql\" for the claim's compositionSelector".to_owned());
        }
        if spec["compositeTypeRef"] != json!({"apiVersion": "platform.example.org/v1alpha1", "kind": "XMySQLInstance"})
        {
            problem(format!("compositeTypeRef {} is not the XMySQLInstance XRD", spec["compositeTypeRef"]));
        }
        if spec["mode"] != "Pipeline" {
            problem("mode must be Pipeline (Crossplane 2 has no Resources mode)".to_owned());
        }
        if !spec["writeConnectionSecretsToNamespace"].is_string() {
            problem("writeConnectionSecretsToNamespace is needed for claims to receive a secret".to_owned());
        }
        let Some(&(_, group_suffix)) = PROVIDER_GROUPS.iter().find(|(p, _)| *p == provider) else {
            problem(format!("label provider={provider:?} is not one of aws, gcp, oci"));
            continue;
        };

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
                published.extend(check_composed_resource(
                    resource,
                    &input["patchSets"],
                    xrd_schema,
                    group_suffix,
                    &mut resource_problem,
                ));
            }
        }
        let published: BTreeSet<&str> = published.iter().map(String::as_str).collect();
        if published != connection_keys {
            problem(format!("publishes connection keys {published:?}, the XRD declares {connection_keys:?}"));
        }
    }

    let offered = xrd_schema
        .pointer("/properties/spec/properties/parameters/properties/provider/enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for provider in offered {
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
        json!({"repoURL": REPO_URL, "targetRevision": "main", "path": "platform", "directory": {"recurse": true}})
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
