//! Human output of the commands that write or read the state repo.

use std::fmt::Write;

use similar::TextDiff;

use super::{Outcome, Style, Table, number};
use crate::ops::apply::ApplyOutcome;
use crate::ops::init::InitOutcome;
use crate::ops::plan::{PlanOutcome, Prepared};
use crate::ops::render::RenderOutcome;
use crate::ops::resource::{DeleteOutcome, StatusOutcome};

impl Outcome for ApplyOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = PlanOutcome::human_of(&self.results, style);
        match &self.commit {
            Some(commit) => {
                let _ = writeln!(out, "\n{} {}", style.green("committed"), commit);
            }
            None => {
                let _ = writeln!(out, "\nnothing to commit: the state repo already holds this");
            }
        }
        out
    }
}

/// The manifests as one multi-document YAML stream, ready for kubectl.
impl Outcome for RenderOutcome {
    fn human(&self, _: &Style) -> String {
        self.manifests.iter().map(|m| format!("---\n# Source: {}\n{}", m.path, m.content)).collect()
    }
}

impl Outcome for InitOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        match &self.commit {
            Some(commit) => {
                let _ = writeln!(out, "{} state repo {} ({})", style.green("initialized"), self.path, commit);
                for file in &self.files {
                    let _ = writeln!(out, "  {file}");
                }
                let _ = writeln!(out, "\nnext: idp apply -f examples/orders-db.yaml --repo {}", self.path);
            }
            None => {
                let _ = writeln!(out, "{} already holds every state repo file; nothing written", self.path);
            }
        }
        out
    }
}

impl Outcome for StatusOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} {}/{}", self.kind, self.namespace, self.name);
        let mut table = Table::new(&["field", "value"], true);
        let p = &self.placement;
        table.row(["primary".into(), style.bold(&format!("{}/{} ({})", p.provider, p.region, p.runtime_cluster))]);
        if let Some(s) = &self.secondary {
            table.row(["secondary".into(), format!("{}/{} ({})", s.provider, s.region, s.runtime_cluster)]);
        }
        table.row(["tier".into(), self.tier.clone()]);
        if let Some(dr) = &self.dr_profile {
            table.row(["drProfile".into(), dr.clone()]);
        }
        table.row(["score".into(), number(self.total_score)]);
        table.row(["policy".into(), self.policy_version.clone()]);
        if let Some(secret) = &self.connection_secret {
            table.row(["secret".into(), secret.clone()]);
        }
        if let Some(s) = &self.secondary_connection_secret {
            table.row(["secret (dr)".into(), s.clone()]);
        }
        if let Some(c) = &self.last_change {
            table.row([
                "last change".into(),
                format!("{} {} ({})", &c.commit[..12.min(c.commit.len())], c.title, c.author),
            ]);
        }
        out.push_str(&table.render());
        let _ = writeln!(out, "\nfiles:");
        for f in &self.files {
            let _ = writeln!(out, "  {f}");
        }
        out
    }
}

impl Outcome for DeleteOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out =
            format!("{} {} {}/{} in {}\n", style.red("deleted"), self.kind, self.namespace, self.name, self.commit);
        for f in &self.removed {
            let _ = writeln!(out, "  {f}");
        }
        out
    }
}

/// Unified diffs of a prepared plan's file changes, for `plan --diff`.
pub fn diff(prepared: &Prepared, style: &Style) -> String {
    let mut out = String::new();
    for change in &prepared.files {
        let path = change.path();
        let old = prepared.before.get(path).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let new = change.content().map(|c| String::from_utf8_lossy(&c).into_owned()).unwrap_or_default();
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
    out
}

impl Outcome for crate::ops::failover::FailoverOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        if self.noop {
            let _ = writeln!(
                out,
                "{} cell {}/{}: already on {}, nothing to do",
                self.action,
                self.cell,
                self.environment,
                self.to.as_str()
            );
            return out;
        }
        let title = format!(
            "{} cell {}/{}: {} → {}",
            self.action,
            self.cell,
            self.environment,
            self.from.as_str(),
            self.to.as_str()
        );
        let _ = writeln!(out, "{}", style.bold(&title));
        let lag = self.observed_lag_seconds.map_or("unknown".to_owned(), |l| format!("{l}s"));
        let _ = writeln!(out, "lag {lag} (RPO {}s){}", self.rpo_seconds, if self.forced { ", FORCED" } else { "" });
        for (i, step) in self.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {step}", i + 1);
        }
        for c in &self.changes {
            let action = match c.action {
                crate::ops::plan::ChangeAction::Create => "create",
                crate::ops::plan::ChangeAction::Update => "update",
                crate::ops::plan::ChangeAction::Delete => "delete",
            };
            let _ = writeln!(out, "  {action} {}", c.path);
        }
        match (&self.commit, self.dry_run) {
            (Some(commit), _) => {
                let _ = writeln!(out, "{} {commit}", style.green("committed"));
            }
            (None, true) => {
                let _ = writeln!(out, "dry run: nothing written");
            }
            _ => {}
        }
        out
    }
}

impl Outcome for crate::ops::resource::CellStatusOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = format!(
            "cell {}/{}: active side {}, traffic via {}\n\n",
            self.cell,
            self.environment,
            style.bold(self.active_side.as_str()),
            self.traffic_provider
        );
        let mut table = Table::new(
            &["kind", "request", "primary", "secondary", "drprofile", "rto", "rpo", "traffic"],
            style.no_headers,
        );
        for status in &self.members {
            let m = &status.member;
            let place = |t: &crate::schedule::Target| format!("{}/{}", t.provider, t.region);
            table.row([
                m.kind.to_string(),
                format!("{}/{}", m.namespace, m.name),
                place(&m.primary),
                m.secondary.as_ref().map_or("-".into(), place),
                m.dr_profile.clone().unwrap_or_else(|| "-".into()),
                status.rto_minutes.map_or("-".into(), |v| format!("{v} min")),
                status.rpo_seconds.map_or("-".into(), |v| format!("{v} s")),
                status.traffic_target.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&table.render());
        if !self.events.is_empty() {
            out.push('\n');
            let mut events = Table::new(&["time", "action", "by", "lag", "rpo", "forced", "reason"], style.no_headers);
            for e in self.events.iter().take(5) {
                events.row([
                    e.at.clone(),
                    format!("{} ({} → {})", e.action, e.from.as_str(), e.to.as_str()),
                    e.by.clone(),
                    e.observed_lag_seconds.map_or("unknown".into(), |l| format!("{l}s")),
                    format!("{}s", e.rpo_seconds),
                    e.forced.to_string(),
                    e.reason.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&events.render());
        }
        out
    }
}

impl Outcome for crate::ops::verify::VerifyOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        if !self.findings.is_empty() {
            let mut table = Table::new(&["severity", "file", "finding"], style.no_headers);
            for f in &self.findings {
                let severity = match f.severity {
                    crate::ops::verify::Severity::Error => style.red("error"),
                    crate::ops::verify::Severity::Warning => style.yellow("warning"),
                };
                table.row([severity, f.file.clone(), f.message.clone()]);
            }
            out.push_str(&table.render());
            out.push('\n');
        }
        let verdict = if self.ok { style.green("ok") } else { style.red("failed") };
        let _ = writeln!(
            out,
            "verify {verdict}: {} requests, {} files, {} findings{}",
            self.requests,
            self.files,
            self.findings.len(),
            if self.strict { " (strict)" } else { "" }
        );
        out
    }
}
