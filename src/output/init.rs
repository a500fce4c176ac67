//! Human output of `idp init`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::init::InitOutcome;

impl Outcome for InitOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        match &self.commit {
            Some(commit) => {
                let _ = writeln!(out, "{} state repo {} ({})", style.green("initialized"), self.path, commit);
                for file in &self.files {
                    let _ = writeln!(out, "  {file}");
                }
                let _ = writeln!(out, "\nnext: idp apply -f examples/orders-db.yaml --repo {}", self.path);
            }
            None => {
                let _ = writeln!(out, "{} already holds every state repo file; nothing written", self.path);
            }
        }
        out
    }
}
