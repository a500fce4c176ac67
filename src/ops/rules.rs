//! Where a state repo's Rego rules come from, and how they take part in a
//! plan: admission (`deny`/`warn`) per request, `deny_candidate` per
//! candidate.

use std::path::Path;

use serde_json::{Value, json};

use super::{Context, Error};
use crate::policy::Policy;
use crate::record::PlacementRecord;
use crate::request::{Request, Spec};
use crate::rules::{RuleFile, Rules};

/// Rule and test files: `rules/*.rego` beside a `--policy` file, else
/// `policy/rules/*.rego` in the state repo at the base commit.
pub fn files(ctx: &Context) -> Result<(Vec<RuleFile>, Vec<RuleFile>), Error> {
    let mut all = Vec::new();
    match ctx.policy_file() {
        Some(file) => {
            let dir = file.parent().unwrap_or(Path::new(".")).join("rules");
            if let Ok(entries) = std::fs::read_dir(&dir) {
                let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                paths.sort();
                for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "rego")) {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Error::RulesIo { path: path.display().to_string(), message: e.to_string() })?;
                    all.push(RuleFile { path: path.display().to_string(), text });
                }
            }
        }
        None => {
            if let (Some(state), Some(base)) = (&ctx.state, ctx.base) {
                for path in state.list_dir(base, crate::layout::RULES_DIR)?.into_iter().filter(|p| p.ends_with(".rego"))
                {
                    let bytes = state.read_at(base, &path)?.unwrap_or_default();
                    all.push(RuleFile { path, text: String::from_utf8_lossy(&bytes).into_owned() });
                }
            }
        }
    }
    // A rule's error shows its line: a raw terminal code there would act on the
    // reader's terminal, so such a file is refused before it is compiled.
    if let Some((file, at)) = all.iter().find_map(|f| f.text.find(crate::yaml::is_control).map(|at| (f, at))) {
        let (line, column) = crate::yaml::line_col(&file.text, at);
        let found: String = file.text[at..].chars().take(1).flat_map(char::escape_unicode).collect();
        return Err(Error::RulesIo {
            path: crate::yaml::shown_path(Path::new(&file.path)),
            message: format!("control character {found} at line {line} column {column}: rule files are printable text"),
        });
    }
    Ok(all.into_iter().partition(|f| !f.path.ends_with("_test.rego")))
}

/// The compiled rules in force (possibly none).
pub fn load(ctx: &Context) -> Result<Rules, Error> {
    let (rules, _) = files(ctx)?;
    Ok(Rules::compile(rules)?)
}

/// `input.request`: the normalized request as flat keys, an app's public
/// host (or null), health path (its default when unnamed) and the databases
/// it names (a list) among them.
pub fn request_input(request: &Request) -> Value {
    let mut input = request.flat();
    if let Spec::App { public_host, databases, .. } = &request.spec {
        input.insert("publicHost".into(), public_host.clone().into());
        input.insert("healthPath".into(), request.health_path().into());
        input.insert("database".into(), databases.clone().into());
    }
    Value::Object(input)
}

/// The admission input: the request, its tier and drProfile entries, and
/// the current placement.
pub fn admission_input(policy: &Policy, request: &Request, existing: Option<&PlacementRecord>) -> Value {
    let tier = policy.tiers.get(&request.tier);
    let dr = tier
        .and_then(|t| policy.effective_dr_profile(t, request.dr_profile.as_deref()))
        .and_then(|d| policy.dr_profiles.get(d));
    json!({
        "request": request_input(request),
        "tier": tier,
        "drProfile": dr,
        "existing": existing.map(|r| json!({ "primary": r.primary, "secondary": r.secondary })),
    })
}

/// Every candidate the rules refuse for a request, with the rule's words,
/// keyed by `provider/region`. Asked once per candidate.
pub fn refusals(
    rules: &Rules,
    policy: &Policy,
    request: &Request,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let mut refused = std::collections::BTreeMap::new();
    if rules.is_empty() {
        return Ok(refused);
    }
    let request_input = request_input(request);
    for candidate in &policy.candidates {
        let input = json!({
            "request": request_input,
            "candidate": {
                "provider": candidate.provider,
                "region": candidate.region,
                "runtimeCluster": candidate.runtime_cluster_in(&request.environment),
                "capabilities": candidate.capabilities,
                "scores": candidate.scores,
            },
        });
        let verdicts = rules.deny_candidate(&input)?;
        if !verdicts.is_empty() {
            let why =
                verdicts.iter().map(|v| format!("denied by {}: {}", v.file, v.message)).collect::<Vec<_>>().join("; ");
            refused.insert(candidate.id(), why);
        }
    }
    Ok(refused)
}
