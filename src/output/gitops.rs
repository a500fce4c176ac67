//! Human output of the commands that write or read the state repo.

use std::fmt::Write;

use similar::TextDiff;

use super::{Outcome, Style, Table, number};
use crate::ops::apply::ApplyOutcome;
use crate::ops::init::InitOutcome;
use crate::ops::plan::{PlanOutcome, Prepared};
use crate::ops::render::RenderOutcome;
use crate::ops::resource::{DeleteOutcome, StatusOutcome};
use crate::state::FileChange;

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
        table.row(["secret".into(), self.connection_secret.clone()]);
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
        let new = match change {
            FileChange::Upsert { content, .. } => String::from_utf8_lossy(content).into_owned(),
            FileChange::Remove { .. } => String::new(),
        };
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
