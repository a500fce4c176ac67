//! Human output of `idp apply`.

use std::fmt::Write;

use super::{Outcome, Style, destroyed};
use crate::ops::apply::ApplyOutcome;
use crate::ops::plan::PlanOutcome;

impl Outcome for ApplyOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = PlanOutcome::human_of(&self.results, style);
        out.push('\n');
        out.push_str(&self.result_line(style).unwrap_or_default());
        out
    }

    /// What was committed (and destroyed), without the plan above it.
    fn result_line(&self, style: &Style) -> Option<String> {
        let mut out = String::new();
        match &self.commit {
            Some(commit) => {
                let _ = writeln!(out, "{} {}", style.green("committed"), commit);
                out.push_str(&destroyed(self.landed.as_ref().map_or(&[][..], |l| &l.destroyed), style));
            }
            None => {
                let _ = writeln!(out, "nothing to commit: the state repo already holds this");
            }
        }
        Some(out)
    }
}
