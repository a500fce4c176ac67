//! Human output of `idp init`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::init::InitOutcome;

/// A request the policy `idp init` writes accepts, indented for the hint.
const EXAMPLE_REQUEST: &str = concat!(
    "  apiVersion: idp.platform.example.org/v1alpha1\n",
    "  kind: MySQL\n",
    "  metadata: { name: orders-db, namespace: team-alpha }\n",
    "  spec: { cell: cell-us-east, tier: medium, environment: production, size: small, storageGB: 20, ha: true }\n",
);

impl Outcome for InitOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        match &self.commit {
            Some(commit) => {
                let _ = writeln!(out, "{} state repo {} ({})", style.green("initialized"), self.path, commit);
                for file in &self.files {
                    let _ = writeln!(out, "  {file}");
                }
                // Works wherever idp is installed: no file of idp's source tree.
                let _ = write!(out, "\nnext: save a request as orders-db.yaml, then apply it\n{}", EXAMPLE_REQUEST);
                let _ = writeln!(out, "\n  idp apply -f orders-db.yaml --repo {}", self.path);
                let _ = writeln!(out, "(every field of a request: docs/requests.md in the idp project)");
            }
            None => {
                let _ = writeln!(out, "{} already holds every state repo file; nothing written", self.path);
            }
        }
        out
    }
}
