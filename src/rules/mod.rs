//! Policy as code: Rego rules (`package idp`) that refuse requests and candidates.
//!
//! Owns compiling rule files with regorus, evaluating `deny`, `warn` and
//! `deny_candidate`, and running Rego tests. It does no IO and never prints:
//! callers hand it file texts and report the verdicts themselves.
//!
//! Each rule file is compiled into its own engine so every message names the
//! file that produced it. Rule files are therefore independent modules: a rule
//! cannot use a helper defined in another rule file (keep helpers beside the
//! rules that use them). Tests, like `opa test`, see all files at once.

mod locate;
mod test_runner;

pub use test_runner::{TestReport, TestResult, run_tests};

use std::cell::LazyCell;
use std::sync::{Arc, Mutex, PoisonError};

use miette::{Diagnostic, NamedSource, SourceSpan};
use regorus::{Engine, Value};
use serde::Serialize;

use locate::{compile_error, locate, located, named, package_span};

/// A Rego file handed over by the caller; `path` is only used in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    pub path: String,
    pub text: String,
}

const PACKAGE: &str = "data.idp";

/// The decisions a rule file may declare, each a set of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Deny,
    Warn,
    DenyCandidate,
}

impl Decision {
    const ALL: [Decision; 3] = [Decision::Deny, Decision::Warn, Decision::DenyCandidate];

    fn name(self) -> &'static str {
        match self {
            Decision::Deny => "deny",
            Decision::Warn => "warn",
            Decision::DenyCandidate => "deny_candidate",
        }
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RulesError {
    #[error("{location}: {message}")]
    #[diagnostic(
        code(idp::rules::compile),
        help("rule files are Rego v1 (`deny contains msg if {{ ... }}`); see docs/rules.md")
    )]
    Compile {
        location: String,
        message: String,
        #[source_code]
        src: NamedSource<Arc<String>>,
        #[label("{message}")]
        span: Option<SourceSpan>,
    },

    #[error("{location}: the package is `{found}`, but rule files must be `package idp`")]
    #[diagnostic(
        code(idp::rules::package),
        help("start the file with `package idp`; tests may use any package, but they go in `*_test.rego` files")
    )]
    Package {
        location: String,
        found: String,
        #[source_code]
        src: NamedSource<Arc<String>>,
        #[label("expected `package idp`")]
        span: Option<SourceSpan>,
    },

    #[error("{file}: declares none of `deny`, `warn` or `deny_candidate`, so it can never take effect")]
    #[diagnostic(
        code(idp::rules::no_decision),
        help(
            "declare at least one of them, e.g. `deny contains msg if {{ ... }}`; helpers cannot be shared between rule files"
        )
    )]
    NoDecision { file: String },

    #[error("{location}: evaluating `{rule}` failed: {message}")]
    #[diagnostic(
        code(idp::rules::eval),
        help("reproduce it with a test in a `*_test.rego` file and run `idp policy test`")
    )]
    Eval {
        rule: String,
        location: String,
        message: String,
        #[source_code]
        src: NamedSource<Arc<String>>,
        #[label("{message}")]
        span: Option<SourceSpan>,
    },

    #[error("{file}: `{rule}` must be a set of strings, but it evaluated to {found}")]
    #[diagnostic(
        code(idp::rules::not_messages),
        help("declare it as `{rule} contains msg if {{ ... }}` with `msg` a string")
    )]
    NotMessages { file: String, rule: String, found: String },
}

/// One compiled rule file: its engine and the decisions it declares.
#[derive(Debug)]
struct CompiledFile {
    path: String,
    text: Arc<String>,
    decisions: Vec<Decision>,
    // `Engine::eval_rule` needs `&mut`; the lock keeps `Rules` shareable while
    // letting one prepared engine be reused for every evaluation.
    engine: Mutex<Engine>,
}

/// Compiled rule files, cheap to evaluate many times.
#[derive(Debug, Default)]
pub struct Rules {
    files: Vec<CompiledFile>,
}

impl Rules {
    /// Compiles rule files (callers pass only non-`_test.rego` files). An empty list is valid (no rules).
    pub fn compile(mut files: Vec<RuleFile>) -> Result<Self, RulesError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let files = files.into_iter().map(compile_file).collect::<Result<_, _>>()?;
        Ok(Rules { files })
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The rule files' paths, sorted.
    pub fn files(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    /// `data.idp.deny` and `data.idp.warn` (sets of strings; undefined = empty), per rule file, so each
    /// message names the file that produced it.
    pub fn admit(&self, input: &serde_json::Value) -> Result<Admission, RulesError> {
        let input = LazyCell::new(|| Value::from(input.clone()));
        Ok(Admission { deny: self.eval(Decision::Deny, &input)?, warn: self.eval(Decision::Warn, &input)? })
    }

    /// `data.idp.deny_candidate` (set of strings) over {request, candidate}; every message, with its file.
    pub fn deny_candidate(&self, input: &serde_json::Value) -> Result<Vec<Verdict>, RulesError> {
        self.eval(Decision::DenyCandidate, &LazyCell::new(|| Value::from(input.clone())))
    }

    /// Verdicts ordered by file, then message.
    /// The input is converted only when a file declares the decision, so rules
    /// that do not filter candidates cost nothing per candidate.
    fn eval(
        &self,
        decision: Decision,
        input: &LazyCell<Value, impl FnOnce() -> Value>,
    ) -> Result<Vec<Verdict>, RulesError> {
        let mut verdicts = Vec::new();
        for file in self.files.iter().filter(|f| f.decisions.contains(&decision)) {
            let value = {
                let mut engine = file.engine.lock().unwrap_or_else(PoisonError::into_inner);
                engine.set_input(Value::clone(input));
                let value = engine.eval_rule(format!("{PACKAGE}.{}", decision.name()));
                // Drop what `print` gathered so it cannot pile up across evaluations.
                let _ = engine.take_prints();
                value
            };
            let value = value.map_err(|error| {
                let (location, message, span) = locate(&error, &file.path, &file.text);
                RulesError::Eval {
                    rule: decision.name().to_owned(),
                    location,
                    message,
                    src: named(&file.path, &file.text),
                    span,
                }
            })?;
            let mut messages = messages(&value).ok_or_else(|| RulesError::NotMessages {
                file: file.path.clone(),
                rule: decision.name().to_owned(),
                found: describe(&value, decision),
            })?;
            messages.sort();
            verdicts.extend(messages.into_iter().map(|message| Verdict { message, file: file.path.clone() }));
        }
        Ok(verdicts)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Admission {
    pub deny: Vec<Verdict>,
    pub warn: Vec<Verdict>,
}

/// One message of a rule, with the file that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub message: String,
    pub file: String,
}

fn compile_file(file: RuleFile) -> Result<CompiledFile, RulesError> {
    let text = Arc::new(file.text);
    let mut engine = new_engine();
    let package =
        engine.add_policy(file.path.clone(), text.to_string()).map_err(|e| compile_error(&e, &file.path, &text))?;
    if package != PACKAGE {
        let found = package.strip_prefix("data.").unwrap_or(&package).to_owned();
        let span = package_span(&text);
        let location = match span {
            Some(span) => located(&file.path, &text, span.offset()),
            None => file.path.clone(),
        };
        return Err(RulesError::Package { location, found, src: named(&file.path, &text), span });
    }
    let mut decisions = Vec::new();
    for decision in Decision::ALL {
        let declared = engine
            .has_declared_rule_rooted_at(&file.path, decision.name())
            .map_err(|e| compile_error(&e, &file.path, &text))?;
        if declared {
            // Compiling prepares the engine (analysis, scheduling) once, here,
            // so its errors surface now and evaluations only set the input.
            engine
                .compile_with_entrypoint(&format!("{PACKAGE}.{}", decision.name()).into())
                .map_err(|e| compile_error(&e, &file.path, &text))?;
            decisions.push(decision);
        }
    }
    if decisions.is_empty() {
        return Err(RulesError::NoDecision { file: file.path });
    }
    Ok(CompiledFile { path: file.path, text, decisions, engine: Mutex::new(engine) })
}

/// Builtins whose answer is not a function of the rule and its input: with
/// one of them, the same request could be admitted on one run and refused on
/// the next. regorus registers `rand.intn` whenever its `std` feature is on
/// (regorus 0.14.1 `src/builtins/numbers.rs`, `register`), which idp needs;
/// the others come with features idp leaves off (`time`, `uuid`, `http`,
/// `opa-runtime`: `src/builtins/mod.rs`) and are listed so that turning one
/// on cannot bring them back. With their argument counts.
pub const NONDETERMINISTIC_BUILTINS: [(&str, u8); 5] =
    [("rand.intn", 2), ("time.now_ns", 0), ("uuid.rfc4122", 1), ("http.send", 1), ("opa.runtime", 0)];

fn new_engine() -> Engine {
    let mut engine = Engine::new();
    // The library never prints; `print` output is gathered (and, for tests,
    // reported). regorus itself still writes a few analysis warnings to stderr.
    engine.set_gather_prints(true);
    // regorus has no switch to drop one builtin, but a call looks up the
    // engine's extensions before its builtins (regorus 0.14.1
    // `src/interpreter.rs`, `eval_call`): an extension of the same name that
    // always fails takes the builtin out, and the error carries the call's
    // position in the rule file.
    for (name, args) in NONDETERMINISTIC_BUILTINS {
        let message = format!(
            "{name} is not available: idp's decisions are deterministic, so rules may not use random numbers, the clock, UUIDs, HTTP or the runtime"
        );
        let refuse = move |_: Vec<Value>| -> anyhow::Result<Value> { Err(anyhow::anyhow!(message.clone())) };
        // Only a second extension of the same name fails, and each name is added once.
        let _ = engine.add_extension(name.to_owned(), args, Box::new(refuse));
    }
    engine
}

/// The strings of a set of messages; `None` when the value is not one.
fn messages(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Undefined => Some(Vec::new()),
        Value::Set(set) => set.iter().map(|v| v.as_string().ok().map(|s| s.to_string())).collect(),
        _ => None,
    }
}

fn describe(value: &Value, decision: Decision) -> String {
    let name = decision.name();
    match value {
        Value::Set(_) => format!("a set holding a non-string ({value})"),
        Value::Object(_) => format!("an object ({value}); in Rego v1 `{name}[msg] if` declares an object"),
        _ => format!("{value}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TEAM_BETA: &str = include_str!("../../policy/examples/rules/team_beta.rego");
    const TEAM_BETA_TEST: &str = include_str!("../../policy/examples/rules/team_beta_test.rego");
    const EU_NO_OCI: &str = include_str!("../../policy/examples/rules/eu_no_oci.rego");
    const EU_NO_OCI_TEST: &str = include_str!("../../policy/examples/rules/eu_no_oci_test.rego");

    fn file(path: &str, text: &str) -> RuleFile {
        RuleFile { path: path.to_owned(), text: text.to_owned() }
    }

    fn verdict(message: &str, file: &str) -> Verdict {
        Verdict { message: message.to_owned(), file: file.to_owned() }
    }

    fn examples() -> Vec<RuleFile> {
        vec![file("policy/rules/team_beta.rego", TEAM_BETA), file("policy/rules/eu_no_oci.rego", EU_NO_OCI)]
    }

    fn example_tests() -> Vec<RuleFile> {
        vec![
            file("policy/rules/team_beta_test.rego", TEAM_BETA_TEST),
            file("policy/rules/eu_no_oci_test.rego", EU_NO_OCI_TEST),
        ]
    }

    fn request(namespace: &str, tier: &str, cell: &str, environment: &str) -> serde_json::Value {
        json!({
            "kind": "MySQL", "name": "orders-db", "namespace": namespace, "cell": cell, "tier": tier,
            "environment": environment, "size": "large", "storageGB": 100, "ha": true, "drProfile": "gold",
        })
    }

    fn admission_input(request: serde_json::Value) -> serde_json::Value {
        json!({
            "request": request,
            "tier": {"rtoMinutes": 15, "rpoSeconds": 60, "gates": ["pitr"], "weights": {"latency": 1.0},
                     "secondary": {"required": true, "gates": ["pitr"]}, "defaultDrProfile": null},
            "drProfile": null,
            "existing": null,
        })
    }

    fn candidate(provider: &str, region: &str, cluster: &str) -> serde_json::Value {
        json!({
            "provider": provider, "region": region, "runtimeCluster": cluster,
            "capabilities": ["pitr", "private_networking"], "scores": {"latency": 0.7, "dr": 0.7, "maturity": 0.7, "cost": 0.7},
        })
    }

    /// The same request gets the same verdict on every run: a rule that asks
    /// for a random number, the clock, a UUID, HTTP or the runtime fails with
    /// the call's position instead of deciding by chance.
    #[test]
    fn nondeterministic_builtins_are_left_out() {
        for (call, name) in [
            ("rand.intn(\"coin\", 2) == 0", "rand.intn"),
            ("time.now_ns() > 0", "time.now_ns"),
            ("uuid.rfc4122(\"x\") != \"\"", "uuid.rfc4122"),
            ("http.send({\"method\": \"get\", \"url\": \"http://x\"}).status_code == 200", "http.send"),
            ("opa.runtime().env != {}", "opa.runtime"),
        ] {
            let text = format!("package idp\n\ndeny contains \"by chance\" if {{\n\t{call}\n}}\n");
            let rules = Rules::compile(vec![file("rules/chance.rego", &text)]).unwrap();
            let input = json!({"request": {"name": "a"}, "tier": {}, "drProfile": null, "existing": null});
            match rules.admit(&input) {
                Err(RulesError::Eval { location, message, .. }) => {
                    assert!(location.starts_with("rules/chance.rego:4:"), "{name}: {location}");
                    assert!(
                        message.starts_with(&format!("{name} is not available: idp's decisions are deterministic")),
                        "{message}"
                    );
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn deny_and_warn_name_the_file_that_produced_them() {
        let sizes = r#"package idp

deny contains msg if {
	input.request.storageGB > 1000
	msg := sprintf("%s: storageGB %d is above 1000", [input.request.name, input.request.storageGB])
}

warn contains "no drProfile requested" if not input.request.drProfile
"#;
        let names = r#"package idp

deny contains "names must not start with tmp-" if startswith(input.request.name, "tmp-")
deny contains "another message" if startswith(input.request.name, "tmp-")
"#;
        // Files are ordered by path whatever order they come in.
        let rules = Rules::compile(vec![file("rules/sizes.rego", sizes), file("rules/names.rego", names)]).unwrap();
        assert_eq!(rules.files(), ["rules/names.rego", "rules/sizes.rego"]);

        let input =
            json!({"request": {"name": "tmp-db", "storageGB": 2000}, "tier": {}, "drProfile": null, "existing": null});
        let admission = rules.admit(&input).unwrap();
        assert_eq!(
            admission.deny,
            [
                verdict("another message", "rules/names.rego"),
                verdict("names must not start with tmp-", "rules/names.rego"),
                verdict("tmp-db: storageGB 2000 is above 1000", "rules/sizes.rego"),
            ]
        );
        assert_eq!(admission.warn, [verdict("no drProfile requested", "rules/sizes.rego")]);

        // The same engines evaluate the next input from scratch.
        let input = json!({"request": {"name": "db", "storageGB": 10, "drProfile": "gold"}});
        assert_eq!(rules.admit(&input).unwrap(), Admission { deny: vec![], warn: vec![] });
    }

    #[test]
    fn the_team_beta_example_refuses_business_critical_for_team_beta_only() {
        let rules = Rules::compile(examples()).unwrap();
        let denied =
            rules.admit(&admission_input(request("team-beta", "business_critical", "cell-us-east", "production")));
        assert_eq!(
            denied.unwrap().deny,
            [verdict(
                "team-beta/orders-db: team-beta may not use tier business_critical; choose critical or medium, or ask the platform team for an exception",
                "policy/rules/team_beta.rego"
            )]
        );
        for (namespace, tier) in [("team-beta", "critical"), ("team-alpha", "business_critical")] {
            let input = admission_input(request(namespace, tier, "cell-us-east", "production"));
            assert_eq!(rules.admit(&input).unwrap().deny, [], "{namespace} {tier}");
        }
    }

    #[test]
    fn no_rules_admit_everything() {
        let rules = Rules::compile(vec![]).unwrap();
        assert!(rules.is_empty());
        assert!(rules.files().is_empty());
        let input = admission_input(request("team-beta", "business_critical", "cell-eu", "production"));
        assert_eq!(rules.admit(&input).unwrap(), Admission { deny: vec![], warn: vec![] });
        assert_eq!(rules.deny_candidate(&json!({"request": {}, "candidate": {}})).unwrap(), []);
    }

    #[test]
    fn eu_no_oci_rejects_oci_for_production_in_cell_eu() {
        let rules = Rules::compile(examples()).unwrap();
        let eu_production = request("team-alpha", "medium", "cell-eu", "production");
        let oci = candidate("oci", "eu-frankfurt-1", "oci-fra-prod-01");
        let aws = candidate("aws", "eu-west-1", "aws-euw1-prod-01");

        let denied = rules.deny_candidate(&json!({"request": eu_production, "candidate": oci})).unwrap();
        assert_eq!(
            denied,
            [verdict(
                "oci is not allowed for production in cell-eu (eu-frankfurt-1/oci-fra-prod-01)",
                "policy/rules/eu_no_oci.rego"
            )]
        );
        assert_eq!(rules.deny_candidate(&json!({"request": eu_production, "candidate": aws})).unwrap(), []);
        let eu_dev = request("team-alpha", "medium", "cell-eu", "dev");
        assert_eq!(rules.deny_candidate(&json!({"request": eu_dev, "candidate": oci})).unwrap(), []);
        // Admission does not look at deny_candidate.
        assert_eq!(rules.admit(&admission_input(eu_production)).unwrap().deny, []);
    }

    #[test]
    fn a_syntax_error_names_the_file_line_and_column() {
        let text = "package idp\n\ndeny contains msg if {\n  input.request.tier ==\n}\n";
        let error = Rules::compile(vec![file("policy/rules/broken.rego", text)]).unwrap_err();
        assert!(matches!(error, RulesError::Compile { span: Some(_), .. }), "{error:?}");
        assert_eq!(error.to_string(), "policy/rules/broken.rego:5:1: expecting expression");
    }

    #[test]
    fn rego_v0_syntax_is_refused_with_the_v1_form_in_the_help() {
        let text = "package idp\n\ndeny[msg] {\n  msg := \"x\"\n}\n";
        let error = Rules::compile(vec![file("policy/rules/old.rego", text)]).unwrap_err();
        assert!(error.to_string().starts_with("policy/rules/old.rego:3:11: "), "{error}");
        assert!(error.help().unwrap().to_string().contains("deny contains msg if { ... }"));
    }

    #[test]
    fn another_package_is_refused() {
        let text = "# rules\npackage platform.rules\n\ndeny contains \"x\"\n";
        let error = Rules::compile(vec![file("policy/rules/other.rego", text)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "policy/rules/other.rego:2:1: the package is `platform.rules`, but rule files must be `package idp`"
        );
    }

    #[test]
    fn a_file_without_decisions_is_refused() {
        let text = "package idp\n\nis_production if input.request.environment == \"production\"\n";
        let error = Rules::compile(vec![file("policy/rules/helpers.rego", text)]).unwrap_err();
        assert!(matches!(&error, RulesError::NoDecision { file } if file == "policy/rules/helpers.rego"));
    }

    #[test]
    fn evaluation_errors_name_the_file_and_the_rule() {
        let text = "package idp\n\ndeny contains msg if {\n  input.request.tier == \"low\"\n  msg := sprintf(\"%s\", input.request.tier)\n}\n";
        let rules = Rules::compile(vec![file("policy/rules/bad.rego", text)]).unwrap();
        assert_eq!(rules.admit(&json!({"request": {"tier": "medium"}})).unwrap().deny, []);
        let error = rules.admit(&json!({"request": {"tier": "low"}})).unwrap_err();
        let shown = error.to_string();
        assert!(shown.starts_with("policy/rules/bad.rego:5:"), "{shown}");
        assert!(shown.contains("evaluating `deny` failed: `sprintf` expects array argument"), "{shown}");
    }

    #[test]
    fn a_decision_that_is_not_a_set_of_strings_is_an_error() {
        let text = "package idp\n\ndeny[msg] if {\n  msg := \"x\"\n}\n";
        let rules = Rules::compile(vec![file("policy/rules/object.rego", text)]).unwrap();
        let error = rules.admit(&json!({})).unwrap_err();
        assert!(matches!(&error, RulesError::NotMessages { rule, .. } if rule == "deny"), "{error:?}");
        assert!(error.to_string().contains("an object"), "{error}");
    }

    #[test]
    fn the_shipped_examples_pass_their_tests() {
        let report = run_tests(examples(), example_tests()).unwrap();
        assert!(report.passed(), "{report:#?}");
        let names: Vec<_> = report.results.iter().map(|r| (r.file.as_str(), r.name.as_str())).collect();
        assert_eq!(
            names,
            [
                ("policy/rules/eu_no_oci_test.rego", "test_oci_production_in_eu_denied"),
                ("policy/rules/eu_no_oci_test.rego", "test_aws_production_in_eu_allowed"),
                ("policy/rules/eu_no_oci_test.rego", "test_oci_dev_in_eu_allowed"),
                ("policy/rules/eu_no_oci_test.rego", "test_oci_production_in_other_cell_allowed"),
                ("policy/rules/team_beta_test.rego", "test_team_beta_business_critical_denied"),
                ("policy/rules/team_beta_test.rego", "test_team_beta_critical_allowed"),
                ("policy/rules/team_beta_test.rego", "test_other_team_business_critical_allowed"),
            ]
        );
    }

    #[test]
    fn failing_tests_are_reported_by_name() {
        let tests = r#"package idp_test

import data.idp

# test_in_a_comment is not a test
test_helper(x) := x

test_passes if test_helper(true)

test_undefined if {
	"never" in idp.deny with input as {"request": {"namespace": "team-beta", "tier": "low"}}
}

test_false := false

test_error if {
	print("dividing")
	1 / 0
}
"#;
        let report = run_tests(examples(), vec![file("policy/rules/mine_test.rego", tests)]).unwrap();
        assert!(!report.passed());
        let outcomes: Vec<_> = report.results.iter().map(|r| (r.name.as_str(), r.passed)).collect();
        assert_eq!(
            outcomes,
            [("test_passes", true), ("test_undefined", false), ("test_false", false), ("test_error", false)]
        );
        let message = |i: usize| report.results[i].message.clone().unwrap_or_default();
        assert!(message(1).starts_with("undefined"), "{}", message(1));
        assert_eq!(message(2), "evaluated to false, not true");
        assert!(message(3).starts_with("error at policy/rules/mine_test.rego:18:"), "{}", message(3));
        assert!(message(3).contains("divide by zero"), "{}", message(3));
        assert!(message(3).ends_with("\nprint: policy/rules/mine_test.rego:17: dividing"), "{}", message(3));
    }

    #[test]
    fn run_tests_refuses_rules_that_would_not_load() {
        let rules = vec![file("policy/rules/other.rego", "package other\n\ndeny contains \"x\"\n")];
        assert!(matches!(run_tests(rules, vec![]), Err(RulesError::Package { .. })));
        let tests = vec![file("policy/rules/broken_test.rego", "package t\n\ntest_x if {\n")];
        let error = run_tests(examples(), tests).unwrap_err();
        assert!(error.to_string().starts_with("policy/rules/broken_test.rego:"), "{error}");
    }

    #[test]
    fn rules_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Rules>();
    }
}
