//! One `x-kubernetes-validations` rule: its CEL program, and its verdict on a
//! value with the API server's semantics.
//!
//! Read from the API server itself (kubernetes `staging/src/k8s.io/
//! apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go`,
//! `validateExpressions`), not from memory:
//! - a rule runs with `self` bound to the value of its schema node, and only
//!   when that value is not null;
//! - a rule that references `oldSelf` is a transition rule: it runs only when
//!   the stored object has a value at that node (`optionalOldSelf`, which
//!   would run it without one, is refused when the XRD is read);
//! - a false result is reported with the rule's `messageExpression` when that
//!   evaluates to a non-empty one-line string, else its `message` (trimmed),
//!   else `failed rule: <rule>`; an evaluation error is reported as
//!   `<error> evaluating rule: <message or rule>`, never as a pass.
//!
//! Not reproduced: the compile-time type check (cel-rust checks types when a
//! rule runs, so a mistyped rule fails here as an evaluation error rather
//! than when the XRD is applied), CEL cost limits, and Kubernetes' own CEL
//! libraries (quantity, url, ip, cidr, format, the `lists`/`sets` and string
//! extensions): a rule that calls one fails closed, as an evaluation error.

use std::sync::{Arc, OnceLock};

use cel::parser::{Expression, PrattParser};
use cel::{Context, Env, Value};
use serde::Deserialize;

/// A rule as the XRD spells it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawRule {
    rule: String,
    message: Option<String>,
    message_expression: Option<String>,
    /// FieldValueInvalid (the default), Forbidden, Required or Duplicate:
    /// the kind of the API server's field error. idp says the same thing
    /// for each, so it is read and not used.
    #[allow(dead_code)]
    reason: Option<String>,
    field_path: Option<String>,
    optional_old_self: Option<bool>,
}

/// A compiled rule.
#[derive(Debug)]
pub(super) struct Rule {
    pub source: String,
    message: Option<String>,
    message_expression: Option<Expression>,
    /// Where a failure is reported, relative to the rule's node (`.name`).
    pub field_path: Option<String>,
    expression: Expression,
    /// The rule references `oldSelf`.
    pub transition: bool,
}

/// What a rule says about a value.
pub(super) enum Verdict {
    Pass,
    /// A transition rule and no stored value to compare with.
    Skipped,
    Fail(String),
}

/// Parses CEL with cel-rust's hand-written (Pratt) parser: the crate's
/// default ANTLR parser costs ~0.7 ms to start in every process, a quarter of
/// a whole `idp plan`. A unit test holds the two to the same syntax tree for
/// every rule of the shipped XRDs; where the Pratt parser refuses a rule, the
/// ANTLR parser has the last word.
fn parse(source: &str) -> Result<Expression, String> {
    match PrattParser::new().enable_optional_syntax(true).parse(source) {
        Ok(expression) => Ok(expression),
        Err(_) => env().compile(source).map(|program| program.expression().clone()).map_err(|e| e.to_string()),
    }
}

/// The standard CEL environment, built once per process (~0.1 ms) and only
/// when a rule first runs.
fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(Env::stdlib()))
}

impl Rule {
    pub fn compile(raw: RawRule) -> Result<Self, String> {
        if raw.optional_old_self == Some(true) {
            return Err(format!("rule `{}`: optionalOldSelf is not supported by idp's claim check", raw.rule));
        }
        let expression = parse(&raw.rule).map_err(|e| format!("rule `{}` does not compile: {e}", raw.rule))?;
        let transition = expression.references().has_variable("oldSelf");
        let message_expression = raw
            .message_expression
            .as_deref()
            .map(parse)
            .transpose()
            .map_err(|e| format!("messageExpression of rule `{}` does not compile: {e}", raw.rule))?;
        Ok(Self {
            source: raw.rule,
            message: raw.message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()),
            message_expression,
            field_path: raw.field_path,
            expression,
            transition,
        })
    }

    /// The rule's verdict on `this` (the node's value), with `old` the value
    /// the stored object has there, if any.
    pub fn evaluate(&self, this: &Value, old: Option<&Value>) -> Verdict {
        if self.transition && old.is_none() {
            return Verdict::Skipped;
        }
        let mut context = Context::with_env(Arc::clone(env()));
        context.add_variable_from_value("self", this.clone());
        if let Some(old) = old {
            context.add_variable_from_value("oldSelf", old.clone());
        }
        match Value::resolve(&self.expression, &context) {
            Ok(Value::Bool(true)) => Verdict::Pass,
            Ok(Value::Bool(false)) => Verdict::Fail(self.message(&context)),
            Ok(other) => Verdict::Fail(format!(
                "the rule gave {:?}, not a boolean, evaluating rule: {}",
                other.type_of(),
                self.error_string()
            )),
            Err(error) => Verdict::Fail(format!("{error} evaluating rule: {}", self.error_string())),
        }
    }

    fn message(&self, context: &Context<'_, '_>) -> String {
        if let Some(expression) = &self.message_expression
            && let Ok(Value::String(text)) = Value::resolve(expression, context)
        {
            let text = text.trim();
            if !text.is_empty() && !text.contains('\n') {
                return text.to_owned();
            }
        }
        match &self.message {
            Some(message) => message.clone(),
            None => format!("failed rule: {}", self.error_string()),
        }
    }

    /// `ruleErrorString`: the message, or the rule itself.
    fn error_string(&self) -> &str {
        self.message.as_deref().unwrap_or(self.source.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Rule {
        Rule::compile(RawRule {
            rule: text.into(),
            message: Some("no".into()),
            message_expression: None,
            reason: None,
            field_path: None,
            optional_old_self: None,
        })
        .unwrap()
    }

    #[test]
    fn transition_rules_are_those_that_reference_old_self() {
        assert!(rule("self >= oldSelf").transition);
        assert!(rule("has(oldSelf.a) || true").transition);
        assert!(!rule("self == 'oldSelf'").transition, "a string is not a reference");
        assert!(matches!(rule("self >= oldSelf").evaluate(&Value::Int(1), None), Verdict::Skipped));
    }

    #[test]
    fn errors_fail_closed_with_the_rule_named() {
        let verdict = rule("self.missing == 1").evaluate(&Value::Int(1), None);
        let Verdict::Fail(message) = verdict else { panic!("an error passed") };
        assert!(message.ends_with("evaluating rule: no"), "{message}");
        let verdict = rule("size(self)").evaluate(&Value::String(Arc::new("a".into())), None);
        assert!(matches!(verdict, Verdict::Fail(m) if m.contains("not a boolean")));
    }

    #[test]
    fn message_expressions_win_over_messages_when_they_give_one_line() {
        let mut raw = RawRule {
            rule: "self > 1".into(),
            message: Some("  plain  ".into()),
            message_expression: Some("'got ' + string(self)".into()),
            reason: None,
            field_path: None,
            optional_old_self: None,
        };
        let Verdict::Fail(m) = Rule::compile(raw).unwrap().evaluate(&Value::Int(0), None) else { panic!() };
        assert_eq!(m, "got 0");
        raw = RawRule {
            rule: "self > 1".into(),
            message: Some("  plain  ".into()),
            message_expression: Some("'two\\nlines'".into()),
            reason: None,
            field_path: None,
            optional_old_self: None,
        };
        let Verdict::Fail(m) = Rule::compile(raw).unwrap().evaluate(&Value::Int(0), None) else { panic!() };
        assert_eq!(m, "plain");
    }
}
