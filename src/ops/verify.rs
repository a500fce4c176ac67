//! `idp verify`: the CI gate for a whole state repo. It reads everything at
//! HEAD (the one command that may walk the whole tree), re-renders every
//! request from its recorded placement and compares byte for byte, and never
//! moves anything.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::plan::request_yaml;
use super::records::{parse_record, parse_stored_request};
use super::{Context, Error};
use crate::layout;
use crate::record::PlacementRecord;
use crate::render::RenderInput;
use crate::request::Request;
use crate::schedule::{self, PolicyRef};
use crate::state;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub file: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct VerifyOutcome {
    pub ok: bool,
    pub strict: bool,
    pub requests: usize,
    pub files: usize,
    pub findings: Vec<Finding>,
}

pub fn verify(ctx: &Context, strict: bool) -> Result<VerifyOutcome, Error> {
    let repo = ctx.state()?;
    let policy = &ctx.policy.policy;
    let mut findings = Vec::new();
    let mut error =
        |file: &str, message: String| findings.push(Finding { severity: Severity::Error, file: file.into(), message });
    let Some(base) = ctx.base else {
        return Ok(VerifyOutcome { ok: true, strict, requests: 0, files: 0, findings: Vec::new() });
    };
    let files = repo.all_files(base)?;
    let read = |path: &str| files.get(path).map(|id| repo.blob(*id)).transpose();

    // Rules must compile.
    let rules = match super::rules::load(ctx) {
        Ok(rules) => rules,
        Err(e) => {
            error(layout::RULES_DIR, e.to_string());
            crate::rules::Rules::default()
        }
    };

    let renderer = ctx.renderer()?;
    let policy_ref = PolicyRef { version: policy.version.clone(), digest: ctx.policy.digest.clone() };
    let mut expected: BTreeSet<String> = BTreeSet::new();
    // Files byte-identical to what idp renders today: the render guard has
    // already checked their structure, so only the secret scan reads them.
    let mut as_rendered: BTreeSet<String> = BTreeSet::new();
    let mut warnings = Vec::new();
    let mut requests = 0;
    for path in files.keys().filter(|p| layout::is_request_path(p)) {
        let bytes = read(path)?.unwrap_or_default();
        expected.insert(path.clone());
        let request: Request = match parse_stored_request(path, bytes.clone(), ctx) {
            Ok(request) => request,
            Err(e) => {
                match e {
                    Error::Request(e) => e.messages().into_iter().for_each(|message| error(path, message)),
                    other => error(path, other.to_string()),
                }
                // Its files are still its own: never advise deleting a live
                // database because its request stopped validating.
                expected.extend(owned_by(&files, path));
                continue;
            }
        };
        requests += 1;
        if layout::request_path(request.kind, &request.namespace, &request.name) != *path {
            error(path, format!("holds {} {}, which belongs in another file", request.kind, request.id()));
            continue;
        }
        if request_yaml(&request).as_bytes() != bytes {
            error(path, "is not in idp's normalized form (edited by hand?)".into());
        }
        let record_path = layout::placement_path(request.kind, &request.namespace, &request.name);
        expected.insert(record_path.clone());
        let Some(record_bytes) = read(&record_path)? else {
            error(path, format!("has no placement record ({record_path})"));
            continue;
        };
        let record: PlacementRecord = match parse_record(&record_path, &record_bytes) {
            Ok(record) => record,
            Err(Error::CorruptRecord { message, .. }) => {
                error(&record_path, format!("is not a record idp can read: {message}"));
                continue;
            }
            Err(other) => return Err(other),
        };
        let decision = record.decision();
        match rules.admit(&super::rules::admission_input(policy, &request, Some(&record))) {
            Ok(admission) => {
                for verdict in admission.deny {
                    error(path, format!("refused by {}: {}", verdict.file, verdict.message));
                }
            }
            Err(e) => error(path, e.to_string()),
        }

        // Re-render from the recorded placement: any difference is a hand edit
        // (or a policy/template change not yet applied).
        let active = ctx.cell_state(&request.cell, &request.environment)?.active_side;
        let database = decision.reason.follows.as_deref().and_then(|f| f.split_once('/')).map(|(_, n)| n);
        let input = RenderInput { request: &request, decision: &decision, policy, active, database };
        let mut member = record.member();
        member.monthly_usd = crate::cost::estimate(policy, &request, &decision).map(|c| c.monthly_usd);
        let member_path =
            layout::member_path(&request.cell, &request.environment, request.kind, &request.namespace, &request.name);
        let mut wanted = vec![(member_path, member.to_yaml())];
        match crate::catalog::entity(&request, &decision) {
            Ok(entity) => wanted.push(entity),
            Err(e) => error(path, e.to_string()),
        }
        match renderer.request_files(&input) {
            Ok(rendered) => wanted.extend(rendered.into_iter().map(|f| (f.path, f.content))),
            Err(e) => error(path, e.to_string()),
        }
        for (file, content) in wanted {
            expected.insert(file.clone());
            match read(&file)? {
                None => error(&file, format!("is missing: {} {} renders it", request.kind, request.id())),
                Some(committed) if committed != content.as_bytes() => error(
                    &file,
                    format!(
                        "differs from what idp renders for {} {} (a hand edit, or a policy or template change not yet applied: re-apply the request)",
                        request.kind,
                        request.id()
                    ),
                ),
                Some(_) => {
                    as_rendered.insert(file);
                }
            }
        }

        // Placements that the policy of today would not make: reported, never moved.
        let on = |target: &schedule::Target| {
            policy.candidates.iter().find(|c| c.provider == target.provider && c.region == target.region)
        };
        for target in std::iter::once(&record.primary).chain(record.secondary.as_ref()) {
            if on(target).is_some_and(|c| c.cordoned) {
                warnings.push(Finding {
                    severity: Severity::Warning,
                    file: record_path.clone(),
                    message: format!("placed on cordoned candidate {}", target.id()),
                });
            }
        }
        let refused = super::rules::refusals(&rules, policy, &request).unwrap_or_default();
        if record.reason.follows.is_none()
            && let Ok(now) =
                schedule::schedule_with(policy, &policy_ref, &request.demand(), &|c| refused.get(&c.id()).cloned())
            && (now.primary.id() != record.primary.id()
                || now.secondary.as_ref().map(|s| s.id()) != record.secondary.as_ref().map(|s| s.id()))
        {
            warnings.push(Finding {
                severity: Severity::Warning,
                file: record_path.clone(),
                message: format!(
                    "policy drift: the current policy would place it on {} (it stays on {})",
                    now.primary.id(),
                    record.primary.id()
                ),
            });
        }
    }

    let location = layout::CATALOG_LOCATION_PATH;
    expected.insert(location.to_owned());
    if requests > 0 && read(location)?.is_none_or(|b| b != crate::catalog::location().as_bytes()) {
        error(location, "is missing or edited: Backstage finds the catalog through it (re-apply any request)".into());
    }
    for path in files.keys() {
        let owned = layout::REQUEST_PREFIXES.iter().any(|p| path.starts_with(p)) || layout::is_member_path(path);
        if owned && !expected.contains(path) {
            error(path, "is an orphan: no request renders it (remove it, or restore its request)".into());
        }
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            let bytes = read(path)?.unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            check_secrets(path, &text, &mut error);
            if !as_rendered.contains(path) {
                check_manifest(path, &text, &mut error);
            }
            if layout::is_manifest_path(path) {
                check_claims(path, &text, &mut error);
            }
        }
    }

    findings.extend(warnings.into_iter().map(|mut w| {
        if strict {
            w.severity = Severity::Error;
        }
        w
    }));
    findings.sort();
    findings.dedup();
    let ok = findings.iter().all(|f| f.severity == Severity::Warning);
    Ok(VerifyOutcome { ok, strict, requests, files: files.len(), findings })
}

/// No secret material anywhere.
fn check_secrets(path: &str, text: &str, error: &mut impl FnMut(&str, String)) {
    for (line, message) in secret_looking(text) {
        error(path, format!("line {line}: {message}; secrets are referenced by name, never stored in the state repo"));
    }
}

/// Labels on manifests and no `kind: Secret`, for files idp did not render
/// as they stand.
fn check_manifest(path: &str, text: &str, error: &mut impl FnMut(&str, String)) {
    let Ok(documents) = crate::yaml::non_empty_documents(text) else {
        if layout::is_manifest_path(path) {
            error(path, "is not valid YAML".into());
        }
        return;
    };
    for doc in &documents {
        let field = |path: &[&str]| doc.str_at(path);
        if field(&["kind"]) == Some("Secret") {
            error(path, "holds a kind: Secret".into());
        }
        let manifest = layout::is_manifest_path(path);
        let managed = field(&["metadata", "labels", "app.kubernetes.io/managed-by"]) == Some("idp");
        if manifest && !managed {
            let name = field(&["metadata", "name"]).unwrap_or("?");
            error(path, format!("{name} lacks the label app.kubernetes.io/managed-by: idp"));
        }
    }
}

/// Claims the cluster would refuse, as they stand. Transition rules
/// (`oldSelf`) do not run here: they judge a change, and verify sees one
/// commit with no history; `plan`/`apply` run them against the base commit
/// before anything is written.
fn check_claims(path: &str, text: &str, error: &mut impl FnMut(&str, String)) {
    let xrds = match crate::xrd::Xrds::embedded() {
        Ok(xrds) => xrds,
        Err(e) => return error(path, format!("cannot be checked against its XRD: {e}")),
    };
    // Not YAML: check_manifest has said so already.
    let Ok(claims) = xrds.check_file(text, None) else { return };
    for claim in claims {
        for violation in claim.violations {
            error(path, format!("{} {}: the cluster would refuse it: {violation}", claim.kind, claim.name));
        }
    }
}

/// Values that look like secrets: private keys, cloud access keys, and
/// password/token fields with literal values (names and refs are fine).
pub fn secret_looking(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.contains("-----BEGIN") && trimmed.contains("PRIVATE KEY") {
            found.push((i + 1, "a private key".to_owned()));
        }
        if let Some(at) = trimmed.find("AKIA")
            && trimmed[at..].chars().take(20).filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit()).count() == 20
        {
            found.push((i + 1, "an AWS access key id".to_owned()));
        }
        let Some((key, value)) = trimmed.trim_start_matches("- ").split_once(':') else { continue };
        let key = key.trim().trim_matches('"').to_ascii_lowercase();
        let value = value.trim().trim_matches('"').trim_matches('\'');
        let sensitive = crate::render::names_a_secret(&key);
        // The guard's rule, plus `secretname` anywhere in the key.
        let reference = crate::render::is_reference(&key) || key.contains("secretname");
        let literal = !value.is_empty()
            && !value.starts_with('{')
            && !value.starts_with('[')
            && !matches!(value, "true" | "false" | "null" | "~")
            && value.parse::<f64>().is_err();
        if sensitive && !reference && literal {
            found.push((i + 1, format!("`{}` holds a literal value", key)));
        }
    }
    found
}

/// The files a request file's path says belong to it, whatever its content.
fn owned_by(files: &BTreeMap<String, state::ObjectId>, request_path: &str) -> Vec<String> {
    let Some(owner) = layout::RequestFileName::parse(request_path) else { return Vec::new() };
    files.keys().filter(|f| owner.owns(f)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_values_are_found_and_references_are_not() {
        let text = "password: hunter2\nautomountServiceAccountToken: false\nwriteConnectionSecretToRef:\n  name: db-conn\npasswordSecretRef:\n  key: password\nsecretName: db-conn\ntoken: \"\"\nkey: |\n  -----BEGIN RSA PRIVATE KEY-----\naws: AKIAABCDEFGHIJKLMNOP\n";
        let found: Vec<usize> = secret_looking(text).into_iter().map(|(line, _)| line).collect();
        assert_eq!(found, [1, 10, 11]);
    }
}
