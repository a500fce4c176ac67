//! Human output of `idp apply`.

use std::fmt::Write;

use super::{Outcome, Style, destroyed};
use crate::ops::apply::ApplyOutcome;
use crate::ops::plan::PlanOutcome;

impl Outcome for ApplyOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = PlanOutcome::human_of(&self.results, style);
        match &self.commit {
            Some(commit) => {
                let _ = writeln!(out, "\n{} {}", style.green("committed"), commit);
                out.push_str(&destroyed(self.landed.as_ref().map_or(&[][..], |l| &l.destroyed), style));
            }
            None => {
                let _ = writeln!(out, "\nnothing to commit: the state repo already holds this");
            }
        }
        out
    }
}
