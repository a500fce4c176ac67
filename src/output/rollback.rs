//! Human output of `idp rollback`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::rollback::RollbackOutcome;

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
        out.push_str(&super::destroyed(&self.landed.destroyed, style));
        out
    }
}
