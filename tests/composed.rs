//! What the shipped Compositions compose for every claim idp renders: each claim of the
//! default policy (every tier, cell, drProfile and ha, with the primary active, failed over
//! and failed back) becomes a composite the way Crossplane makes one, the Composition its
//! selector picks runs through the function-patch-and-transform evaluator in support/pt.rs,
//! and every composed resource is checked against its pinned provider CRD in
//! tests/fixtures/crds (its README says which upstream file and tag each one is), and
//! against manifests/crossplane/force-new.yaml across each failover.

#[path = "support/crd_schema.rs"]
mod crd_schema;
#[path = "support/pt.rs"]
mod pt;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::{Value, json};

use idp::cell::Side;
use idp::layout::NameScheme;
use idp::policy::LoadedPolicy;
use idp::render::{RenderInput, Renderer};
use idp::request::Request;
use idp::schedule::{Demand, PolicyRef, schedule};

#[path = "support/crossplane.rs"]
mod crossplane;
#[path = "support/mysql.rs"]
mod mysql_support;
use crossplane::{as_applied, compositions, crate_dir, parse_yaml_str, provider_crds, selected};
use mysql_support::{MULTI_AZ, mysql};

/// The force-new.yaml rows that replace, by (apiVersion, kind): (path, `when`).
type ReplaceRows = BTreeMap<(String, String), Vec<(String, Option<String>)>>;

fn replace_rows() -> ReplaceRows {
    let path = crate_dir().join("manifests/crossplane/force-new.yaml");
    let table: Value = serde_saphyr::from_str(&fs::read_to_string(&path).expect("read force-new.yaml"))
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    let mut rows = ReplaceRows::new();
    for resource in table["resources"].as_array().expect("resources") {
        let key = (resource["apiVersion"].as_str().unwrap().to_owned(), resource["kind"].as_str().unwrap().to_owned());
        let entry = rows.entry(key).or_default();
        for field in resource["fields"].as_array().expect("fields") {
            if field["change"] == "replace" {
                let when = field["when"].as_str().map(str::to_owned);
                entry.push((field["path"].as_str().unwrap().to_owned(), when));
            }
        }
    }
    assert!(rows.values().map(Vec::len).sum::<usize>() >= 5, "force-new.yaml has too few replace rows: {rows:?}");
    rows
}

// ---------------------------------------------------------------------------------------
// Claims to composites, as Crossplane does
// ---------------------------------------------------------------------------------------

/// The annotations an operator sets on a ReplicationClaim for the GoldenGate Composition,
/// per role (manifests/README.md, "oci-goldengate"): the database's endpoint and the OCID of
/// the OCI Vault secret holding its password.
const OPERATOR_ANNOTATIONS: &[&str] = &["host", "password-secret-id"];

/// The composite Crossplane creates for a MySQL or replication claim, with the claim's
/// annotations and, on a ReplicationClaim, those of OPERATOR_ANNOTATIONS that `annotated`
/// names an operator has set.
fn composite_of(claim: &Value, annotated: &[&str]) -> Value {
    let kind = match claim["kind"].as_str() {
        Some("MySQLInstanceClaim") => "XMySQLInstance",
        Some("ReplicationClaim") => "XReplication",
        other => panic!("{other:?} is no claim kind the XRDs offer"),
    };
    let namespace = claim["metadata"]["namespace"].as_str().expect("claim namespace");
    let mut annotations = claim["metadata"]["annotations"].clone();
    if !annotations.is_object() {
        annotations = json!({});
    }
    if kind == "XReplication" {
        for role in ["primary", "secondary"] {
            let claim = claim["spec"]["parameters"][role]["claimName"].as_str().unwrap_or_default();
            if annotated.contains(&"host") {
                annotations[format!("platform.example.org/{role}-host")] =
                    json!(format!("{claim}.{namespace}.db.example.internal"));
            }
            if annotated.contains(&"password-secret-id") {
                annotations[format!("platform.example.org/{role}-password-secret-id")] =
                    json!(format!("ocid1.vaultsecret.oc1.iad.{namespace}-{claim}"));
            }
        }
    }
    crossplane::composite_of(claim, kind, annotations)
}

// ---------------------------------------------------------------------------------------
// Every claim of the default policy
// ---------------------------------------------------------------------------------------

/// One rendering of a request's files with a side active: claim path → claim.
type Claims = BTreeMap<String, Value>;

/// Every placement of the default policy with the claims idp renders for it with the
/// primary active and with the secondary active: (case, primary active, secondary active).
fn matrix() -> Vec<(String, Claims, Claims)> {
    let policy = &LoadedPolicy::embedded().policy;
    let pref = PolicyRef { version: "v".into(), digest: "sha256:00".into() };
    let profiles: Vec<Option<&str>> =
        std::iter::once(None).chain(policy.dr_profiles.keys().map(|p| Some(p.as_str()))).collect();
    let mut out = Vec::new();
    for tier in policy.tiers.keys() {
        for cell in policy.cells.keys() {
            for dr_profile in &profiles {
                for ha in [false, true] {
                    let demand = Demand {
                        cell,
                        environment: "production",
                        tier,
                        ha,
                        gates: if ha { &*MULTI_AZ } else { &[] },
                        pairs: None,
                        dr_profile: *dr_profile,
                    };
                    let Ok(decision) = schedule(policy, &pref, &demand) else { continue };
                    // 10 GB, the smallest idp accepts, reaches the Compositions' clamps.
                    let request = Request {
                        kind: mysql("small", 10, false).0,
                        name: "orders".into(),
                        namespace: "team-a".into(),
                        cell: cell.clone(),
                        tier: tier.clone(),
                        environment: "production".into(),
                        dr_profile: dr_profile.map(str::to_owned),
                        spec: mysql("small", 10, ha).1,
                        origin: "composed.rs".into(),
                    };
                    let render = |active| -> Claims {
                        let input = RenderInput {
                            data: &idp::record::DataClaims::NONE,
                            request: &request,
                            decision: &decision,
                            policy,
                            active,
                            names: NameScheme::for_new(request.kind),
                            unprotect: false,
                            draining: false,
                            moving: None,
                        };
                        let files = Renderer::embedded().request_files(&input).expect("render");
                        files
                            .into_iter()
                            .flat_map(|f| {
                                let docs = parse_yaml_str(&f.content, &f.path);
                                docs.into_iter()
                                    .filter(|d| d["kind"].as_str().is_some_and(|k| k.ends_with("Claim")))
                                    .enumerate()
                                    .map(move |(i, d)| (format!("{}#{i}", f.path), d))
                            })
                            .collect()
                    };
                    let case = format!(
                        "tier {tier}, cell {cell}, drProfile {dr_profile:?}, ha {ha}: {}/{} primary {} {}",
                        request.namespace, request.name, decision.primary.provider, decision.primary.region
                    );
                    out.push((case, render(Side::Primary), render(Side::Secondary)));
                }
            }
        }
    }
    out
}

/// What one claim composes in one state.
struct Composed {
    composition: String,
    composite: Value,
    desired: pt::Desired,
}

fn compose(compositions: &[(String, Value)], claim: &Value, observed: &BTreeSet<String>) -> Result<Composed, String> {
    let composite = composite_of(claim, OPERATOR_ANNOTATIONS);
    let (file, composition) = selected(compositions, &composite)?;
    let desired = pt::run(composition, &composite, observed)?;
    Ok(Composed { composition: file.clone(), composite, desired })
}

/// Whether going from `before` to `after` at a replace row changes what the provider holds.
fn replaces(before: Option<&Value>, after: Option<&Value>, when: Option<&str>) -> bool {
    match when {
        Some("decrease") => match (before.and_then(Value::as_f64), after.and_then(Value::as_f64)) {
            (Some(b), Some(a)) => a < b,
            _ => before != after,
        },
        _ => before != after,
    }
}

#[test]
fn every_claim_composes_valid_resources_and_no_failover_replaces_one() {
    let compositions = compositions();
    let crds = provider_crds();
    let rows = replace_rows();
    let mut problems = BTreeSet::new();
    let (mut cases, mut states, mut validated, mut compared) = (0, 0, 0, 0);
    for (case, primary_active, secondary_active) in matrix() {
        cases += 1;
        assert_eq!(
            primary_active.keys().collect::<Vec<_>>(),
            secondary_active.keys().collect::<Vec<_>>(),
            "{case}: a failover renders other claim files"
        );
        for (path, created) in &primary_active {
            let sequence = [("created", created), ("failed over", &secondary_active[path]), ("failed back", created)];
            let mut observed = BTreeSet::new();
            let mut previous: Option<(&str, Composed)> = None;
            for (step, claim) in sequence {
                states += 1;
                let at = format!("{case}, {step}: {path}");
                let composed = match compose(&compositions, claim, &observed) {
                    Ok(composed) => composed,
                    Err(e) => {
                        problems.insert(format!("{at}: {e}"));
                        break;
                    }
                };
                for name in &composed.desired.left_out {
                    problems.insert(format!(
                        "{at}: {} leaves out {name}: {:?}",
                        composed.composition, composed.desired.warnings
                    ));
                }
                for (name, resource) in &composed.desired.resources {
                    let applied = as_applied(resource, &composed.composite, name);
                    let group = applied["apiVersion"].as_str().and_then(|v| v.split_once('/')).map_or("", |(g, _)| g);
                    let kind = applied["kind"].as_str().unwrap_or_default();
                    match crds.get(&(group.to_owned(), kind.to_owned())) {
                        Some(crd) => {
                            validated += 1;
                            for v in crd_schema::validate_against_crd(crd, &applied) {
                                problems
                                    .insert(format!("{} {name} ({group} {kind}): {v} [{at}]", composed.composition));
                            }
                        }
                        None => {
                            problems
                                .insert(format!("{} {name}: no pinned CRD for {group} {kind}", composed.composition));
                        }
                    }
                }
                if let Some((before_step, before)) = &previous {
                    for (name, old) in &before.desired.resources {
                        let Some(new) = composed.desired.resources.get(name) else {
                            problems.insert(format!(
                                "{at}: {} no longer composes {name} (desired {before_step}): Crossplane deletes it",
                                composed.composition
                            ));
                            continue;
                        };
                        let key = (
                            new["apiVersion"].as_str().unwrap_or_default().to_owned(),
                            new["kind"].as_str().unwrap_or_default().to_owned(),
                        );
                        for (field, when) in rows.get(&key).into_iter().flatten() {
                            compared += 1;
                            let (was, is) = (pt::value_at(old, field), pt::value_at(new, field));
                            if replaces(was, is, when.as_deref()) {
                                problems.insert(format!(
                                    "{at}: {} {name} ({} {}) {field} is replace-only and changes from {} to {}",
                                    composed.composition,
                                    key.0,
                                    key.1,
                                    was.map_or("<unset>".to_owned(), ToString::to_string),
                                    is.map_or("<unset>".to_owned(), ToString::to_string)
                                ));
                            }
                        }
                    }
                }
                observed.extend(composed.desired.resources.keys().cloned());
                previous = Some((step, composed));
            }
        }
    }
    eprintln!(
        "{cases} placements, {states} claim states, {validated} composed resources validated, \
         {compared} replace-only fields compared across failovers"
    );
    let problems: Vec<String> = problems.into_iter().collect();
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    assert!(cases >= 20, "only {cases} placements");
    assert!(states >= cases * 3, "only {states} claim states");
    assert!(compared > cases, "only {compared} replace-only fields compared");
    assert!(validated > cases * 3, "only {validated} composed resources validated");
}

// ---------------------------------------------------------------------------------------
// The evaluator itself
// ---------------------------------------------------------------------------------------

fn composition_with(resources: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "spec": {
            "mode": "Pipeline",
            "pipeline": [{
                "step": "pt",
                "functionRef": {"name": "function-patch-and-transform"},
                "input": {"apiVersion": "pt.fn.crossplane.io/v1beta1", "kind": "Resources", "resources": resources}
            }]
        }
    })
}

fn example_composite() -> Value {
    json!({
        "apiVersion": "example.org/v1",
        "kind": "XThing",
        "metadata": {"name": "thing-abcde", "labels": {"crossplane.io/claim-name": "thing"}},
        "spec": {"parameters": {"size": "small", "count": 1000000, "ha": true, "gb": 10}}
    })
}

fn run_one(patches: Value, observed: &[&str]) -> Result<pt::Desired, String> {
    let composition = composition_with(json!([{
        "name": "r",
        "base": {"apiVersion": "example.org/v1", "kind": "Thing", "spec": {"list": [{"a": "b"}]}},
        "patches": patches
    }]));
    let observed = observed.iter().map(|s| (*s).to_owned()).collect();
    pt::run(&composition, &example_composite(), &observed)
}

#[test]
fn evaluator_applies_field_paths_transforms_and_combines_as_upstream() {
    let patches = json!([
        {"fromFieldPath": "spec.parameters.size", "toFieldPath": "spec.tags[idp.example/size]",
         "transforms": [{"type": "map", "map": {"small": "S"}}]},
        {"type": "FromCompositeFieldPath", "fromFieldPath": "metadata.labels[crossplane.io/claim-name]",
         "toFieldPath": "spec.list[0].a",
         "transforms": [{"type": "string", "string": {"type": "Format", "fmt": "idp-%s"}},
                        {"type": "string", "string": {"type": "Convert", "convert": "ToUpper"}}]},
        {"fromFieldPath": "spec.parameters.ha", "toFieldPath": "spec.list[2].ha",
         "transforms": [{"type": "convert", "convert": {"toType": "string"}}]},
        {"fromFieldPath": "spec.parameters.gb", "toFieldPath": "spec.gb",
         "transforms": [{"type": "math", "math": {"type": "ClampMin", "clampMin": 20}}]},
        {"fromFieldPath": "spec.parameters.count", "toFieldPath": "spec.count",
         "transforms": [{"type": "convert", "convert": {"toType": "string"}}]},
        {"type": "CombineFromComposite", "toFieldPath": "spec.description",
         "combine": {"strategy": "string", "string": {"fmt": "%s has %v rows"},
                     "variables": [{"fromFieldPath": "metadata.name"}, {"fromFieldPath": "spec.parameters.count"}]}},
        {"type": "ToCompositeFieldPath", "fromFieldPath": "status.atProvider.id", "toFieldPath": "status.id"},
        {"fromFieldPath": "spec.parameters.gb"}
    ]);
    let desired = run_one(patches, &[]).expect("evaluates");
    let r = &desired.resources["r"];
    assert_eq!(r["spec"]["tags"]["idp.example/size"], "S");
    assert_eq!(r["spec"]["list"], json!([{"a": "IDP-THING"}, null, {"ha": "true"}]));
    assert_eq!(r["spec"]["gb"], json!(20));
    // The composite's numbers reach the function as float64: FormatFloat 'f' for convert,
    // %v (shortest 'g') for a combine.
    assert_eq!(r["spec"]["count"], "1000000");
    assert_eq!(r["spec"]["description"], "thing-abcde has 1e+06 rows");
    // No toFieldPath: the same path; a whole float64 is written back as an integer.
    assert_eq!(r["spec"]["parameters"]["gb"], json!(10));
    assert!(r["spec"]["parameters"]["gb"].is_i64());
    assert!(desired.left_out.is_empty() && desired.warnings.is_empty(), "{desired:?}");
}

#[test]
fn evaluator_leaves_out_a_new_resource_whose_required_source_is_missing() {
    let required = json!([
        {"fromFieldPath": "spec.parameters.size", "toFieldPath": "spec.size"},
        {"fromFieldPath": "spec.parameters.zone", "toFieldPath": "spec.zone", "policy": {"fromFieldPath": "Required"}}
    ]);
    let new = run_one(required.clone(), &[]).expect("evaluates");
    assert_eq!(new.left_out, ["r"]);
    assert!(new.resources.is_empty());
    // An observed resource stays desired: the patch is skipped with a warning.
    let existing = run_one(required, &["r"]).expect("evaluates");
    assert!(existing.left_out.is_empty());
    assert_eq!(existing.resources["r"]["spec"]["size"], "small");
    assert_eq!(existing.warnings.len(), 1, "{:?}", existing.warnings);
    // Optional (the default) skips the patch alone, and so does a combine missing a variable.
    let optional = json!([
        {"fromFieldPath": "spec.parameters.zone", "toFieldPath": "spec.zone"},
        {"type": "CombineFromComposite", "toFieldPath": "spec.both",
         "combine": {"strategy": "string", "string": {"fmt": "%s-%s"},
                     "variables": [{"fromFieldPath": "metadata.name"}, {"fromFieldPath": "spec.parameters.zone"}]}}
    ]);
    let desired = run_one(optional, &[]).expect("evaluates");
    assert_eq!(desired.resources["r"]["spec"], json!({"list": [{"a": "b"}]}));
}

#[test]
fn evaluator_fails_on_what_it_does_not_evaluate_and_on_what_upstream_rejects() {
    let cases = [
        (json!([{"type": "FromCompositeFieldPathh", "fromFieldPath": "metadata.name"}]), "unknown patch type"),
        (
            json!([{"fromFieldPath": "metadata.name", "transforms": [{"type": "maps", "maps": {"a": "b"}}]}]),
            "unknown transform type",
        ),
        (
            json!([{"fromFieldPath": "metadata.name", "transforms": [{"type": "string", "string": {"type": "Fromat", "fmt": "%s"}}]}]),
            "unknown string transform type",
        ),
        (
            json!([{"fromFieldPath": "spec.parameters.size", "transforms": [{"type": "map", "map": {"large": "L"}}]}]),
            "key small is not found in map",
        ),
        (
            json!([{"fromFieldPath": "spec.parameters.gb", "transforms": [{"type": "map", "map": {"10": "L"}}]}]),
            "type float64 is not supported for map transform",
        ),
        (json!([{"type": "CombineToComposite", "toFieldPath": "status.x"}]), "not evaluated here"),
        (json!([{"fromFieldPath": "metadata.name", "policy": {"fromFieldPath": "Sometimes"}}]), "invalid patch policy"),
        (json!([{"fromFieldPath": "metadata.name", "toFieldPath": "spec.list.a"}]), "is not an object"),
    ];
    for (patches, expected) in cases {
        match run_one(patches.clone(), &[]) {
            Err(e) => assert!(e.contains(expected), "{patches}: expected {expected:?}, got {e}"),
            Ok(desired) => panic!("{patches}: expected {expected:?}, evaluated to {desired:?}"),
        }
    }
}

#[test]
fn evaluator_parses_crossplane_field_paths() {
    use pt::Segment::{Field, Index};
    let parsed = pt::parse_path("metadata.annotations[crossplane.io/external-name]").unwrap();
    assert_eq!(
        parsed,
        [Field("metadata".into()), Field("annotations".into()), Field("crossplane.io/external-name".into())]
    );
    let parsed = pt::parse_path("spec.forProvider.deletionPolicy[0].isDeleteProtected").unwrap();
    assert_eq!(parsed[2..], [Field("deletionPolicy".into()), Index(0), Field("isDeleteProtected".into())]);
    assert_eq!(pt::parse_path("a['b.c']").unwrap(), [Field("a".into()), Field("b.c".into())]);
    for bad in ["a..b", ".a", "a.", "a[", "a]", "a[]"] {
        assert!(pt::parse_path(bad).is_err(), "{bad} parsed");
    }
}

/// The GoldenGate Connections need both hosts and both password secret OCIDs (Required):
/// until an operator has set all four annotations, the Deployment is composed and the
/// Connections and their assignments are not.
#[test]
fn goldengate_connections_wait_for_the_operator_annotations() {
    let compositions = compositions();
    let (_, primary_active, _) = matrix()
        .into_iter()
        .find(|(_, claims, _)| claims.values().any(|c| c["spec"]["parameters"]["tool"] == "oci-goldengate"))
        .expect("a placement replicated with GoldenGate");
    let claim = primary_active.values().find(|c| c["spec"]["parameters"]["tool"] == "oci-goldengate").unwrap();
    for annotated in [&[][..], &["host"], &["password-secret-id"]] {
        let composite = composite_of(claim, annotated);
        let (_, composition) = selected(&compositions, &composite).unwrap();
        let desired = pt::run(composition, &composite, &BTreeSet::new()).expect("evaluates");
        assert_eq!(desired.resources.keys().collect::<Vec<_>>(), ["deployment"], "with {annotated:?}");
        let mut left_out = desired.left_out.clone();
        left_out.sort();
        assert_eq!(
            left_out,
            ["primary-assignment", "primary-connection", "secondary-assignment", "secondary-connection"],
            "with {annotated:?}"
        );
    }
    let composite = composite_of(claim, OPERATOR_ANNOTATIONS);
    let (_, composition) = selected(&compositions, &composite).unwrap();
    let desired = pt::run(composition, &composite, &BTreeSet::new()).expect("evaluates");
    assert!(desired.left_out.is_empty(), "{:?}", desired.warnings);
    for role in ["primary", "secondary"] {
        let connection = &desired.resources[&format!("{role}-connection")];
        assert_eq!(
            pt::value_at(connection, "spec.forProvider.passwordSecretId"),
            composite["metadata"]["annotations"].get(format!("platform.example.org/{role}-password-secret-id")),
            "{role}"
        );
    }
}

/// A Composition whose transform type is misspelled fails the evaluation, not a patch.
#[test]
fn a_misspelled_transform_in_a_shipped_composition_fails() {
    let compositions = compositions();
    let (_, primary_active, _) = matrix().into_iter().next().expect("a placement");
    let claim = primary_active.values().next().unwrap();
    let composite = composite_of(claim, OPERATOR_ANNOTATIONS);
    let (file, composition) = selected(&compositions, &composite).unwrap();
    let text = serde_json::to_string(composition).unwrap();
    assert!(text.contains(r#""type":"string""#), "{file} has no string transform");
    let broken: Value = serde_json::from_str(&text.replacen(r#""type":"string""#, r#""type":"strnig""#, 1)).unwrap();
    let err = pt::run(&broken, &composite, &BTreeSet::new()).expect_err("a misspelled transform must fail");
    assert!(err.contains("unknown transform type \"strnig\""), "{err}");
}
