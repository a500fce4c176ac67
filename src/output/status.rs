//! Human output of `idp status` (a request, or a cell).

use std::fmt::Write;

use super::{Outcome, Style, Table, number};
use crate::ops::status::{CellStatusOutcome, StatusOutcome};

impl Outcome for StatusOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} {}/{}", self.kind, self.namespace, self.name);
        let mut table = Table::new(&["field", "value"], true);
        let p = &self.placement;
        table.row(["primary".into(), style.bold(&format!("{}/{} ({})", p.provider, p.region, p.runtime_cluster))]);
        if let Some(s) = &self.secondary {
            table.row(["secondary".into(), format!("{}/{} ({})", s.provider, s.region, s.runtime_cluster)]);
        }
        table.row(["tier".into(), self.tier.clone()]);
        if let Some(dr) = &self.dr_profile {
            table.row(["drProfile".into(), dr.clone()]);
        }
        table.row(["score".into(), number(self.total_score)]);
        table.row(["policy".into(), self.policy_version.clone()]);
        if let Some(secret) = &self.connection_secret {
            table.row(["secret".into(), secret.clone()]);
        }
        if let Some(s) = &self.secondary_connection_secret {
            table.row(["secret (dr)".into(), s.clone()]);
        }
        if let Some(m) = &self.migration {
            let id = format!("{} {}/{}", self.kind, self.namespace, self.name);
            let next = match m.stage {
                crate::record::MigrationStage::Cutover => {
                    format!("`idp migrate {id} --finish --allow-destroy` deletes the old claim")
                }
                _ => format!("`idp migrate {id} --resume` goes on"),
            };
            table.row([
                "migration".into(),
                style.bold(&format!(
                    "{} → {} since {} ({}): stage {} committed; {next}",
                    m.from.id(),
                    m.to.id(),
                    m.started_at,
                    m.by,
                    m.stage.as_str()
                )),
            ]);
        }
        if let Some(c) = &self.last_change {
            table.row([
                "last change".into(),
                format!("{} {} ({})", &c.commit[..12.min(c.commit.len())], c.title, c.author),
            ]);
        }
        out.push_str(&table.render());
        let _ = writeln!(out, "\nfiles:");
        for f in &self.files {
            let _ = writeln!(out, "  {f}");
        }
        out
    }
}

impl Outcome for CellStatusOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = format!(
            "cell {}/{}: active side {}, traffic via {}\n\n",
            self.cell,
            self.environment,
            style.bold(self.active_side.as_str()),
            self.traffic_provider
        );
        if let Some(runbook) = &self.runbook {
            let _ = writeln!(
                out,
                "{} to {} in progress since {} ({}): stage {} committed; `idp {} --cell {} --env {} --resume` goes on\n",
                style.bold(&runbook.action),
                runbook.to.as_str(),
                runbook.started_at,
                runbook.by,
                style.bold(runbook.stage.as_str()),
                runbook.action,
                self.cell,
                self.environment
            );
        }
        let mut table = Table::new(
            &["kind", "request", "primary", "secondary", "drprofile", "rto", "rpo", "traffic"],
            style.no_headers,
        );
        for status in &self.members {
            let m = &status.member;
            let place = |t: &crate::schedule::Target| format!("{}/{}", t.provider, t.region);
            table.row([
                m.kind.to_string(),
                format!("{}/{}", m.namespace, m.name),
                place(&m.primary),
                m.secondary.as_ref().map_or("-".into(), place),
                m.dr_profile.clone().unwrap_or_else(|| "-".into()),
                status.rto_minutes.map_or("-".into(), |v| format!("{v} min")),
                status.rpo_seconds.map_or("-".into(), |v| format!("{v} s")),
                status.traffic_target.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&table.render());
        if !self.events.is_empty() {
            out.push('\n');
            let mut events = Table::new(&["time", "action", "by", "lag", "rpo", "forced", "reason"], style.no_headers);
            for e in self.events.iter().take(5) {
                events.row([
                    e.at.clone(),
                    format!("{} ({} → {})", e.action, e.from.as_str(), e.to.as_str()),
                    e.by.clone(),
                    e.observed_lag_seconds.map_or("unknown".into(), |l| format!("{l}s")),
                    format!("{}s", e.rpo_seconds),
                    e.forced.to_string(),
                    e.reason.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&events.render());
        }
        out
    }
}

impl Outcome for crate::ops::live::LiveOutcome {
    fn human(&self, style: &Style) -> String {
        use crate::live::lifecycle::Lifecycle;
        let state = match self.state {
            Some(Lifecycle::Ready) => style.green("READY"),
            Some(state @ (Lifecycle::Provisioning | Lifecycle::Pending | Lifecycle::Deleting)) => {
                style.yellow(state.as_str())
            }
            Some(state) => style.red(state.as_str()),
            None => style.red("UNKNOWN"),
        };
        let mut out = format!("{} {}/{}: {state}\n", self.kind, self.namespace, self.name);
        let _ = writeln!(out, "  {}", self.why);
        let _ = writeln!(out, "  commit {}, cluster {}\n", &self.commit[..12.min(self.commit.len())], self.cluster);
        let mut table = Table::new(&["object", "state", "fence", "why"], style.no_headers);
        for part in &self.parts {
            let fence = part.fence.as_ref().map_or_else(
                || "-".to_owned(),
                |f| match (&f.observed, f.applied) {
                    (Some(observed), true) => format!("{} ({observed})", f.wanted),
                    (Some(observed), false) => format!("{}? cloud: {observed}", f.wanted),
                    (None, _) => format!("{}? not reported", f.wanted),
                },
            );
            table.row([part.object.clone(), part.state.as_str().to_owned(), fence, part.why.clone()]);
        }
        if !self.parts.is_empty() {
            out.push_str(&table.render());
        }
        for runtime in &self.runtime {
            let line = match (&runtime.context, runtime.read) {
                (_, true) => format!("runtime cluster {}: read ({})", runtime.cluster, runtime.why),
                (None, false) => format!("runtime cluster {}: not read: {}", runtime.cluster, runtime.why),
                (Some(context), false) => style.yellow(&format!(
                    "runtime cluster {} (context {context}) cannot be read: {}",
                    runtime.cluster, runtime.why
                )),
            };
            let _ = writeln!(out, "  {line}");
        }
        out
    }

    fn result_line(&self, _style: &Style) -> Option<String> {
        let state = self.state.map_or("UNKNOWN", |s| s.as_str());
        Some(format!("{} {}/{}: {state}", self.kind, self.namespace, self.name))
    }
}

impl Outcome for crate::ops::live::CellLiveOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = format!("cell {}/{} on {}\n\n", self.cell, self.environment, self.cluster);
        if let Some(runbook) = &self.runbook {
            let _ = writeln!(
                out,
                "{} to {} in progress: stage {} committed\n",
                runbook.action,
                runbook.to.as_str(),
                runbook.stage.as_str()
            );
        }
        let mut table = Table::new(&["kind", "request", "state", "why"], style.no_headers);
        for m in &self.members {
            let state = m.state.map_or("UNKNOWN", |s| s.as_str());
            table.row([m.kind.to_string(), format!("{}/{}", m.namespace, m.name), state.to_owned(), m.why.clone()]);
        }
        out.push_str(&table.render());
        out
    }
}
