//! Human output of `idp failover` and `idp failback`.

use std::fmt::Write;

use super::{Outcome, Style};

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
        if !self.objects.is_empty() {
            let _ = writeln!(out);
            out.push_str(&super::plan::objects(&self.objects, style));
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
