//! Human output of `idp doctor`: one line per check, with the fix below a
//! problem.

use std::fmt::Write;

use super::{Outcome, Style, Table};
use crate::ops::doctor::{CheckStatus, DoctorOutcome};

impl Outcome for DoctorOutcome {
    fn human(&self, style: &Style) -> String {
        let mut table = Table::new(&["status", "check", "found"], style.no_headers);
        let mut fixes = String::new();
        for check in &self.checks {
            // Plain words: colour codes would skew the column widths.
            let status = match check.status {
                CheckStatus::Ok => "ok",
                CheckStatus::Warn => "warn",
                CheckStatus::Fail => "FAIL",
            };
            table.row([status.to_owned(), check.name.to_owned(), check.message.clone()]);
            if let Some(fix) = &check.fix {
                let _ = writeln!(fixes, "{}: {fix}", check.name);
            }
        }
        let mut out = table.render();
        if !fixes.is_empty() {
            let _ = write!(out, "\n{}\n{fixes}", style.bold("How to fix:"));
        }
        out
    }
}
