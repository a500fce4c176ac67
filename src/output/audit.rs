//! Human output of `idp history` and `idp rollback`.

use std::fmt::Write;

use super::{Outcome, Style, Table};
use crate::ops::history::HistoryOutcome;
use crate::ops::rollback::RollbackOutcome;

impl Outcome for HistoryOutcome {
    fn human(&self, style: &Style) -> String {
        let mut table =
            Table::new(&["time", "author", "action", "request", "placement", "policy", "commit"], style.no_headers);
        for e in &self.entries {
            let request = match (&e.kind, &e.namespace, &e.name) {
                (Some(kind), Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
                _ => e.title.clone(),
            };
            table.row([
                e.time.clone(),
                e.author.clone(),
                e.action.clone(),
                request,
                e.placement.clone().unwrap_or_else(|| "-".into()),
                e.policy_version.clone().unwrap_or_else(|| "-".into()),
                e.commit.get(..12).unwrap_or(&e.commit).to_owned(),
            ]);
        }
        table.render()
    }
}

impl Outcome for RollbackOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = format!(
            "{} {} ({})\n",
            style.yellow("reverted"),
            self.reverted_title,
            &self.reverted[..12.min(self.reverted.len())]
        );
        for path in &self.changed {
            let _ = writeln!(out, "  {path}");
        }
        let _ = writeln!(out, "{} {}", style.green("committed"), self.commit);
        out
    }
}
