//! `idp policy test`: Rego tests run with `opa test` semantics.

use regorus::Value;
use serde::Serialize;

use super::locate::{compile_error, locate};
use super::{RuleFile, Rules, RulesError, new_engine};

/// Runs every `test_*` rule of the test files against the rule files (OPA `opa test` semantics).
///
/// The rule files are first compiled as [`Rules::compile`] would, so a rule set
/// that passes its tests also loads for `plan`. Tests then run in one engine
/// holding every file, as `opa test` loads them; a test passes when it
/// evaluates to `true`.
pub fn run_tests(rules: Vec<RuleFile>, mut tests: Vec<RuleFile>) -> Result<TestReport, RulesError> {
    Rules::compile(rules.clone())?;
    tests.sort_by(|a, b| a.path.cmp(&b.path));
    let mut engine = new_engine();
    let mut packages = Vec::new();
    for file in rules.iter().chain(&tests) {
        let package = engine
            .add_policy(file.path.clone(), file.text.clone())
            .map_err(|e| compile_error(&e, &file.path, &file.text))?;
        packages.push(package);
    }
    let mut results = Vec::new();
    for (file, package) in tests.iter().zip(&packages[rules.len()..]) {
        for name in test_names(&file.text) {
            let declared = engine
                .has_declared_rule_rooted_at(&file.path, &name)
                .map_err(|e| compile_error(&e, &file.path, &file.text))?;
            if !declared {
                continue;
            }
            let outcome = engine.eval_rule(format!("{package}.{name}"));
            let prints = engine.take_prints().unwrap_or_default();
            let failure = match outcome {
                Ok(Value::Bool(true)) => None,
                Ok(Value::Undefined) => Some("undefined: a condition of the test did not hold".to_owned()),
                Ok(value) => Some(format!("evaluated to {value}, not true")),
                Err(error) => {
                    let (location, message, _) = locate(&error, &file.path, &file.text);
                    Some(format!("error at {location}: {message}"))
                }
            };
            let message = failure.map(|failure| prints.iter().fold(failure, |m, p| format!("{m}\nprint: {p}")));
            results.push(TestResult { file: file.path.clone(), name, passed: message.is_none(), message });
        }
    }
    Ok(TestReport { results })
}

#[derive(Debug, Serialize)]
pub struct TestReport {
    pub results: Vec<TestResult>,
}

impl TestReport {
    /// True when no test failed (also when there were none).
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.passed)
    }
}

#[derive(Debug, Serialize)]
pub struct TestResult {
    pub file: String,
    pub name: String,
    pub passed: bool,
    pub message: Option<String>,
}

/// Identifiers starting with `test_` that are not calls, in order of first
/// appearance; the engine then confirms which are rules of the file.
fn test_names(text: &str) -> Vec<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names: Vec<String> = Vec::new();
    let mut functions = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| is_ident(c) || c == '.') {
        let after_dot = rest[start..].starts_with('.');
        let word_start = if after_dot { start + 1 } else { start };
        let len = rest[word_start..].find(|c: char| !is_ident(c)).unwrap_or(rest.len() - word_start);
        let word = &rest[word_start..word_start + len];
        let next = rest[word_start + len..].trim_start().chars().next();
        if !after_dot && word.starts_with("test_") {
            if next == Some('(') {
                functions.push(word.to_owned());
            } else if !names.iter().any(|n| n == word) {
                names.push(word.to_owned());
            }
        }
        rest = &rest[(word_start + len).max(start + 1)..];
    }
    names.retain(|n| !functions.contains(n));
    names
}
