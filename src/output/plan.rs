//! Human output of plans: per request, the ranked candidates, the rejected
//! ones with what they lacked, then gates, weights and the policy.

use std::fmt::Write;

use similar::TextDiff;

use super::{Outcome, Style, Table, number};
use crate::ops::destroy::{Destroy, DestroyAction};
use crate::ops::objects::{FieldDiff, ObjectAction, ObjectChange};
use crate::ops::plan::results::Results;
use crate::ops::plan::{ChangeAction, PlanOutcome, PlanResult, Prepared, ResultStatus};
use crate::schedule::{Ranked, Reason, Target};

impl Outcome for PlanOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = Self::human_of(&self.results, style) + &spend_table(&self.spend, style);
        if !self.destroys.is_empty() {
            out.push('\n');
            out.push_str(&destroys(&self.destroys, style));
        }
        out
    }
}

impl PlanOutcome {
    pub(super) fn human_of(results: &Results, style: &Style) -> String {
        match results.whole() {
            Some(whole) => whole.iter().map(|r| result(r, style)).collect::<Vec<_>>().join("\n"),
            // A plan that spools its results is written as JSON or YAML.
            None => format!("{} results\n", results.len()),
        }
    }
}

/// Estimated spend per cell and budgeted namespace.
pub(super) fn spend_table(spend: &[crate::ops::budget::Spend], style: &Style) -> String {
    if spend.is_empty() {
        return String::new();
    }
    let mut table =
        Table::new(&["spend (estimated USD/month)", "current", "this plan", "total", "budget"], style.no_headers);
    for s in spend {
        table.row([
            s.scope.clone(),
            s.current_usd.map_or("-".into(), |c| format!("{c:.2}")),
            format!("{:.2}", s.planned_usd),
            s.current_usd.map_or("-".into(), |c| format!("{:.2}", c + s.planned_usd)),
            s.limit_usd.map_or("-".into(), |l| format!("{l:.2}")),
        ]);
    }
    table.right(&[1, 2, 3, 4]);
    format!("\n{}", table.render())
}

fn result(r: &PlanResult, style: &Style) -> String {
    let mut out = String::new();
    let status = match r.status {
        ResultStatus::Create => style.green("create"),
        ResultStatus::Created => style.green("created"),
        ResultStatus::Update => style.yellow("update"),
        ResultStatus::Updated => style.yellow("updated"),
        ResultStatus::Exists => style.dim("exists"),
    };
    let reason = &r.reason;
    let _ = writeln!(
        out,
        "{} {}/{}: {status} {} {} ({}), total {}{}",
        r.kind,
        r.namespace,
        r.name,
        if r.sticky { "kept on" } else { "on" },
        style.bold(&format!("{}/{}", r.placement.provider, r.placement.region)),
        r.placement.runtime_cluster,
        number(reason.selected.total_score),
        if r.sticky { " (sticky: placed earlier, never moved silently)" } else { "" },
    );
    for warning in &r.warnings {
        let _ = writeln!(out, "  {} {warning}", style.yellow("warning:"));
    }
    if r.rescheduled {
        let _ = writeln!(out, "  {}", style.red("RESCHEDULED: this moves an existing placement (--reschedule)"));
    }
    if let Some(s) = &r.secondary {
        let _ = writeln!(
            out,
            "  secondary {} ({}) for disaster recovery",
            style.bold(&format!("{}/{}", s.provider, s.region)),
            s.runtime_cluster
        );
    }
    let _ = writeln!(out);
    // Sticky results carry only the recorded top three.
    let ranking: &[Ranked] = if r.ranking.is_empty() { &reason.top_3_candidates } else { &r.ranking };
    explanation(&mut out, reason, ranking, &r.placement, r.secondary.as_ref(), style);
    if r.kind.is_app() && reason.follows.is_none() {
        let _ =
            writeln!(out, "follows    nothing: the app names no database (spec.database), so it is placed on its own");
    }
    if let Some(cost) = &r.cost {
        let parts: Vec<String> = cost.breakdown.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
        let _ = writeln!(out, "cost       ~{:.2} USD/month, estimated ({})", cost.monthly_usd, parts.join(", "));
    }
    if !r.changes.is_empty() {
        let _ = writeln!(out);
        let mut changes = Table::new(&["change", "path"], style.no_headers);
        for c in &r.changes {
            let action = match c.action {
                ChangeAction::Create => style.green("create"),
                ChangeAction::Update => style.yellow("update"),
                ChangeAction::Delete => style.red("delete"),
            };
            changes.row([action, c.path.clone()]);
        }
        out.push_str(&changes.render());
    }
    if !r.objects.is_empty() {
        let _ = writeln!(out);
        out.push_str(&objects(&r.objects, style));
    }
    out
}

/// What the change does to each object, as Terraform's plan shows it: the
/// fields an update changes, what forces a replacement; a delete or a
/// replacement that loses data in bold red.
pub(super) fn objects(objects: &[ObjectChange], style: &Style) -> String {
    let mut table = Table::new(&["object", "action", "what"], style.no_headers);
    for o in objects {
        let action = match (o.action, o.destroys_data) {
            (ObjectAction::Create, _) => style.green("create"),
            (ObjectAction::Update, _) => style.yellow("update in place"),
            (ObjectAction::Replace | ObjectAction::Delete, true) => {
                style.red(&style.bold(&format!("{} (data)", o.action.as_str())))
            }
            (ObjectAction::Replace | ObjectAction::Delete, false) => style.red(o.action.as_str()),
        };
        let what = match o.action {
            ObjectAction::Create | ObjectAction::Delete => String::new(),
            ObjectAction::Update => fields_summary(&o.fields),
            ObjectAction::Replace => o
                .forces
                .iter()
                .map(|f| match &f.composed {
                    Some(composed) => format!("{} forces replacement of {composed}, which upjet refuses", f.field),
                    None => format!("{} forces replacement: {}", f.field, f.why),
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        table.row([o.object(), action, what]);
    }
    table.render()
}

/// `spec.parameters.size small -> large` for the first few changed fields,
/// the spec's first; a long value (a JSON annotation) as `(changed)`.
fn fields_summary(fields: &[FieldDiff]) -> String {
    const SHOWN: usize = 3;
    const LONG: usize = 24;
    let mut ordered: Vec<&FieldDiff> = fields.iter().collect();
    ordered.sort_by_key(|f| !f.path.starts_with("spec."));
    let is_long = |v: &Option<String>| v.as_deref().is_some_and(|v| v.chars().count() > LONG);
    let mut parts: Vec<String> = ordered
        .iter()
        .take(SHOWN)
        .map(|f| match (is_long(&f.old) || is_long(&f.new), &f.old, &f.new) {
            (true, _, _) => format!("{} (changed)", f.path),
            (false, old, new) => {
                format!("{} {} -> {}", f.path, old.as_deref().unwrap_or("(none)"), new.as_deref().unwrap_or("(none)"))
            }
        })
        .collect();
    if fields.len() > SHOWN {
        parts.push(format!("and {} more", fields.len() - SHOWN));
    }
    parts.join(", ")
}

/// The ranked candidates, the rejected ones with what they lacked, then
/// gates, weights and the policy: why a decision is what it is.
pub(super) fn explanation(
    out: &mut String,
    reason: &Reason,
    ranking: &[Ranked],
    placement: &Target,
    secondary: Option<&Target>,
    style: &Style,
) {
    let dims: Vec<&String> = reason.weights.keys().collect();
    let mut headers = vec!["rank", "provider/region", "cluster", "total"];
    headers.extend(dims.iter().map(|d| d.as_str()));
    headers.push("");
    let mut table = Table::new(&headers, style.no_headers);
    for c in ranking {
        let id = format!("{}/{}", c.provider, c.region);
        let mark = if id == placement.id() {
            style.green("← primary")
        } else if secondary.is_some_and(|s| s.provider == c.provider && s.region == c.region) {
            style.yellow("← secondary")
        } else {
            String::new()
        };
        let mut row = vec![c.rank.to_string(), id, c.runtime_cluster.clone(), format!("{:.4}", c.total_score)];
        row.extend(dims.iter().map(|d| format!("{:.4}", c.subscores.get(*d).copied().unwrap_or(0.0))));
        row.push(mark);
        table.row(row);
    }
    table.right(&(3..4 + dims.len()).collect::<Vec<_>>());
    out.push_str(&table.render());

    if let (Some(s), Some(sec)) = (secondary, &reason.secondary)
        && !ranking.iter().any(|c| c.provider == s.provider && c.region == s.region)
    {
        let _ = writeln!(
            out,
            "secondary {}/{} scored {} against its own gates",
            s.provider,
            s.region,
            number(sec.selected.total_score)
        );
    }

    if !reason.rejected.is_empty() {
        let _ = writeln!(out);
        let mut rejected = Table::new(&["rejected", "cluster", "why"], style.no_headers);
        for x in &reason.rejected {
            rejected.row([format!("{}/{}", x.provider, x.region), x.runtime_cluster.clone(), x.why()]);
        }
        out.push_str(&rejected.render());
    }

    let _ = writeln!(out);
    let weights: Vec<String> = reason.weights.iter().map(|(d, w)| format!("{d} {}", number(*w))).collect();
    let _ = writeln!(
        out,
        "tier       {} (RTO {} min, RPO {}{})",
        reason.tier,
        reason.rto_minutes,
        crate::names::seconds((reason.rpo_minutes * 60.0).round() as u64),
        reason.dr_profile.as_ref().map(|d| format!(", drProfile {d}")).unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "gates      {}{}",
        reason.gates.join(", "),
        if reason.ha_enforced { " (multi_az from ha)" } else { "" }
    );
    if let Some(sec) = &reason.secondary {
        let _ = writeln!(
            out,
            "secondary  {} gates: {}",
            if sec.required { "required," } else { "requested," },
            sec.gates.join(", ")
        );
    }
    let _ = writeln!(out, "weights    {}", weights.join(", "));
    let _ = writeln!(
        out,
        "evaluated  {} candidates, {} passed the gates",
        reason.candidates_evaluated, reason.candidates_passed_gates
    );
    let _ = writeln!(out, "policy     {} ({})", reason.policy.version, short_digest(&reason.policy.digest));
    if let Some(follows) = &reason.follows {
        let _ = writeln!(out, "follows    {follows} (placed with its data, primary and secondary)");
    }
}

pub(super) fn short_digest(digest: &str) -> String {
    digest.get(..19).unwrap_or(digest).to_owned()
}

/// Unified diffs of a prepared plan's file changes, for `plan --diff`
/// (a bulk plan's new contents are read back from its spooled pack).
pub fn diff(prepared: &Prepared, style: &Style) -> Result<String, crate::state::StateError> {
    let mut out = String::new();
    for change in prepared.files.iter() {
        let path = change.path();
        let old = prepared.before.get(path).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let new = change.content()?.map(|c| String::from_utf8_lossy(&c).into_owned()).unwrap_or_default();
        let diff = TextDiff::from_lines(&old, &new);
        let text = diff.unified_diff().header(&format!("a/{path}"), &format!("b/{path}")).to_string();
        for line in text.lines() {
            let line = match line.chars().next() {
                Some('+') if !line.starts_with("+++") => style.green(line),
                Some('-') if !line.starts_with("---") => style.red(line),
                _ => line.to_owned(),
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// What a landed commit destroyed, said with `--allow-destroy` (nothing when none).
pub fn destroyed(destroys: &[Destroy], style: &Style) -> String {
    destroys
        .iter()
        .map(|d| {
            let verb = match d.action {
                DestroyAction::Delete => "destroyed",
                DestroyAction::Replace => "replaced",
            };
            format!("{} {}\n", style.red(verb), d.object_in_context())
        })
        .collect()
}

/// What a change destroys, as Terraform shows it: impossible to miss.
pub fn destroys(destroys: &[Destroy], style: &Style) -> String {
    let mut out =
        style.red(&style.bold("This change destroys data: Crossplane deletes the cloud resources below.")) + "\n";
    for d in destroys {
        let (mark, verb) = match d.action {
            DestroyAction::Delete => ("  -", "will be destroyed".to_owned()),
            DestroyAction::Replace => {
                ("-/+", format!("must be replaced by a new, empty one ({})", d.why.as_deref().unwrap_or("forced")))
            }
        };
        let owner = d.request.as_deref().map(|r| format!("{r}, ")).unwrap_or_default();
        let _ = writeln!(out, "{} {} {verb}", style.red(mark), style.bold(&d.object));
        let _ = writeln!(out, "      {}", style.dim(&format!("{owner}{}", d.file)));
        if d.protected {
            let unprotect =
                d.request.as_deref().map_or("--unprotect".to_owned(), |r| format!("idp delete {r} --unprotect"));
            let _ = writeln!(
                out,
                "      {}",
                style.red(&format!("deletion-protected: refused until `{unprotect}` has landed and synced"))
            );
        }
    }
    out
}
