//! Human output of `idp verify`.

use std::fmt::Write;

use crate::names::counted;

use super::{Outcome, Style, Table};

impl Outcome for crate::ops::verify::VerifyOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        if !self.findings.is_empty() {
            let mut table = Table::new(&["severity", "file", "finding"], style.no_headers);
            for f in &self.findings {
                let severity = match f.severity {
                    crate::ops::verify::Severity::Error => style.red("error"),
                    crate::ops::verify::Severity::Warning => style.yellow("warning"),
                };
                table.row([severity, f.file.clone(), f.message.clone()]);
            }
            out.push_str(&table.render());
            out.push('\n');
        }
        let verdict = if self.ok { style.green("ok") } else { style.red("failed") };
        let _ = writeln!(
            out,
            "verify {verdict}: {}, {}, {}{}",
            counted(self.requests, "request"),
            counted(self.files, "file"),
            counted(self.findings.len(), "finding"),
            if self.strict { " (strict)" } else { "" }
        );
        out
    }
}
