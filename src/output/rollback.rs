//! Human output of `idp rollback`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::rollback::RollbackOutcome;

impl Outcome for RollbackOutcome {
    fn human(&self, style: &Style) -> String {
        let short = |id: &str| id[..12.min(id.len())].to_owned();
        let mut out = match &self.reverted_commits[..] {
            [_] | [] => format!("{} {} ({})\n", style.yellow("reverted"), self.reverted_title, short(&self.reverted)),
            many => {
                let mut out = format!("{} {} commits:\n", style.yellow("reverted"), many.len());
                for c in many {
                    let _ = writeln!(out, "  {} {}", short(&c.commit), c.title);
                }
                out.push_str("changes:\n");
                out
            }
        };
        for path in &self.changed {
            let _ = writeln!(out, "  {path}");
        }
        let _ = writeln!(out, "{} {}", style.green("committed"), self.commit);
        out.push_str(&super::destroyed(&self.landed.destroyed, style));
        out
    }
}
