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
                // A policy change reads as what it did, after its title (the why).
                _ => match e.policy_change.as_ref().filter(|c| !c.summary.is_empty()) {
                    Some(change) => format!("{} ({})", e.title, change.summary.join("; ")),
                    None => e.title.clone(),
                },
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
