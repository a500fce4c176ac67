//! Human output of `idp history`.

use super::{Outcome, Style, Table};
use crate::ops::history::HistoryOutcome;

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
