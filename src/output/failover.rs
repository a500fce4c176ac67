//! Human output of `idp failover` and `idp failback`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::failover::{StageOutcome, StageStatus};

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
        if self.stages.is_empty() {
            for (i, step) in self.steps.iter().enumerate() {
                let _ = writeln!(out, "  {}. {step}", i + 1);
            }
        }
        stages(&mut out, style, &self.stages, 8);
        if self.stages.is_empty() {
            changes(&mut out, "  ", &self.changes);
        }
        if let Some(elapsed) = self.elapsed_seconds {
            let took = format!("took {}m {:02}s", elapsed / 60, elapsed % 60);
            let line = match self.rto_minutes {
                Some(rto) if elapsed > u64::from(rto) * 60 => {
                    style.yellow(&format!("{took}: longer than the cell's RTO of {rto} min"))
                }
                Some(rto) => format!("{took} (RTO {rto} min)"),
                None => took,
            };
            let _ = writeln!(out, "{line}");
        }
        if self.resumed {
            let _ = writeln!(out, "resumed the {} the cell's file recorded as part way", self.action);
        }
        if !self.objects.is_empty() {
            let _ = writeln!(out);
            out.push_str(&super::plan::objects(&self.objects, style));
        }
        ending(&mut out, style, self.commit.as_deref(), self.dry_run, self.staged);
        out
    }
}

/// The last line of a runbook's result: its commit, or what a dry run did
/// not do (`staged`: each stage would have waited on the cluster).
pub(super) fn ending(out: &mut String, style: &Style, commit: Option<&str>, dry_run: bool, staged: bool) {
    match (commit, dry_run) {
        (Some(commit), _) => {
            let _ = writeln!(out, "{} {commit}", style.green("committed"));
        }
        (None, true) if staged => {
            let _ = writeln!(
                out,
                "dry run: nothing written; each stage would wait until the management cluster reports it done"
            );
        }
        (None, true) => {
            let _ = writeln!(out, "dry run: nothing written");
        }
        _ => {}
    }
}

/// A staged runbook's stages, one numbered line each (the name padded to
/// `width`) with the files it changes below.
pub(super) fn stages(out: &mut String, style: &Style, stages: &[StageOutcome], width: usize) {
    for (i, stage) in stages.iter().enumerate() {
        let status = match stage.status {
            StageStatus::Planned => style.dim("planned"),
            StageStatus::Unchanged => style.dim("nothing to move"),
            StageStatus::Done => style.green("done"),
            StageStatus::NotDone => style.red("NOT DONE"),
        };
        let commit = stage.commit.as_deref().map(|c| format!(" {}", c.get(..12).unwrap_or(c))).unwrap_or_default();
        let _ = writeln!(out, "  {}. {:<width$} {status}{commit}: {}", i + 1, stage.stage, stage.what);
        changes(out, "       ", &stage.changes);
    }
}

pub(super) fn changes(out: &mut String, indent: &str, changes: &[crate::ops::plan::Change]) {
    for c in changes {
        let action = match c.action {
            crate::ops::plan::ChangeAction::Create => "create",
            crate::ops::plan::ChangeAction::Update => "update",
            crate::ops::plan::ChangeAction::Delete => "delete",
        };
        let _ = writeln!(out, "{indent}{action} {}", c.path);
    }
}
