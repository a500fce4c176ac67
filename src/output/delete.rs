//! Human output of `idp delete`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::delete::DeleteOutcome;

impl Outcome for DeleteOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out =
            format!("{} {} {}/{} in {}\n", style.red("deleted"), self.kind, self.namespace, self.name, self.commit);
        for f in &self.removed {
            let _ = writeln!(out, "  {f}");
        }
        out.push_str(&super::destroyed(&self.landed.destroyed, style));
        out
    }
}
