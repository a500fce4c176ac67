//! Human output of `idp delete`.

use std::fmt::Write;

use super::{Outcome, Style};
use crate::ops::delete::{DeleteOutcome, UnprotectOutcome};

impl Outcome for DeleteOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out =
            format!("{} {} {}/{} in {}\n", style.red("deleted"), self.kind, self.namespace, self.name, self.commit);
        for f in &self.removed {
            let _ = writeln!(out, "  {f}");
        }
        out.push_str(&super::destroyed(&self.landed.destroyed, style));
        if let Some(application) = &self.emptied_cell_application {
            let _ = writeln!(
                out,
                "{} this was the last request of its cell: Argo CD does not prune an Application down to nothing by \
                 itself; once it shows the commit, run `argocd app sync {application} --prune`",
                style.yellow("note:")
            );
        }
        out
    }
}

impl Outcome for UnprotectOutcome {
    fn human(&self, style: &Style) -> String {
        let id = format!("{} {}/{}", self.kind, self.namespace, self.name);
        let Some(commit) = &self.commit else {
            return format!(
                "{id} is not deletion-protected: nothing written\n`idp delete {id} --allow-destroy` removes it\n"
            );
        };
        let mut out = format!("{} {id} in {commit}\n", style.yellow("unprotected"));
        for object in &self.unprotected {
            let _ = writeln!(out, "  {object}: deletion protection off");
        }
        let _ = writeln!(out, "next, once Argo CD has synced it: idp delete {id} --allow-destroy");
        let _ = writeln!(out, "(an apply or failover before that turns protection back on)");
        out
    }
}
