//! Human output of `idp migrate`.

use std::fmt::Write;

use super::failover::{changes, ending, stages};
use super::{Outcome, Style};

impl Outcome for crate::ops::migrate::MigrateOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        let id = format!("{} {}/{}", self.kind, self.namespace, self.name);
        let title = match self.action {
            "migrate" => {
                format!("migrate {id}: {} ({}) → {} ({})", self.from.id(), self.from_claim, self.to.id(), self.to_claim)
            }
            "unprotect" => format!("migrate {id}: turn deletion protection off for the old claim {}", self.from_claim),
            _ => format!("migrate {id}: finish, delete the old claim {} on {}", self.from_claim, self.from.id()),
        };
        let _ = writeln!(out, "{}", style.bold(&title));
        if self.action == "migrate" {
            let lag = self.observed_lag_seconds.map_or("unknown".to_owned(), |l| format!("{l}s"));
            let forced = if self.forced { ", FORCED" } else { "" };
            let _ = writeln!(out, "replication {}, lag {lag} (RPO {}s){forced}", self.replication, self.rpo_seconds);
            if !self.apps.is_empty() {
                let _ = writeln!(
                    out,
                    "apps reading it (their connection secrets move at the cutover): {}",
                    self.apps.join(", ")
                );
            }
        }
        stages(&mut out, style, &self.stages, 9);
        if self.stages.is_empty() {
            changes(&mut out, "  ", &self.changes);
        }
        if let Some(elapsed) = self.elapsed_seconds {
            let _ = writeln!(out, "took {}m {:02}s", elapsed / 60, elapsed % 60);
        }
        if self.resumed {
            let _ = writeln!(out, "resumed the migration the placement record holds as part way");
        }
        if !self.objects.is_empty() {
            let _ = writeln!(out);
            out.push_str(&super::plan::objects(&self.objects, style));
        }
        ending(&mut out, style, self.commit.as_deref(), self.dry_run, self.action == "migrate");
        if let Some(next) = self.next.as_ref().filter(|_| self.stopped.is_none()) {
            let _ = writeln!(out, "next: {next}");
        }
        out
    }
}
