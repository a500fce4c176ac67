//! Human output of `idp policy show` and `idp policy validate`.

use std::fmt::Write;

use super::{Outcome, Style, Table, number, plan::short_digest};
use crate::ops::policy::{PolicyOutcome, ValidateOutcome};

impl Outcome for PolicyOutcome {
    fn human(&self, style: &Style) -> String {
        let p = &self.policy;
        let mut out = String::new();
        let _ = writeln!(out, "policy {} ({}) from {}\n", self.version, short_digest(&self.digest), self.origin);

        let mut headers = vec!["tier", "rto", "rpo", "gates"];
        headers.extend(p.dimensions.iter().map(String::as_str));
        headers.extend(["secondary", "drprofile"]);
        let mut tiers = Table::new(&headers, style.no_headers);
        for (name, t) in &p.tiers {
            let mut row = vec![
                name.clone(),
                t.rto_minutes.map_or("per drProfile".into(), |m| format!("{m} min")),
                t.rpo_seconds.map_or("per drProfile".into(), |s| format!("{s} s")),
                t.gates.join(","),
            ];
            row.extend(p.dimensions.iter().map(|d| number(t.weights.get(d).copied().unwrap_or(0.0))));
            row.push(format!(
                "{} ({})",
                if t.secondary.required { "required" } else { "optional" },
                t.secondary.gates.join(",")
            ));
            row.push(t.default_dr_profile.clone().unwrap_or_else(|| "-".into()));
            tiers.row(row);
        }
        out.push_str(&tiers.render());
        out.push('\n');

        let mut headers = vec!["provider/region", "cluster", "capabilities"];
        headers.extend(p.dimensions.iter().map(String::as_str));
        let mut candidates = Table::new(&headers, style.no_headers);
        for c in &p.candidates {
            let mut row = vec![c.id(), c.runtime_cluster.clone(), c.capabilities.join(",")];
            row.extend(p.dimensions.iter().map(|d| number(c.scores.get(d).copied().unwrap_or(0.0))));
            candidates.row(row);
        }
        out.push_str(&candidates.render());
        out.push('\n');

        let mut profiles =
            Table::new(&["drprofile", "compute", "replication", "traffic", "rto", "rpo"], style.no_headers);
        for (name, d) in &p.dr_profiles {
            profiles.row([
                name.clone(),
                d.compute_mode.as_str().into(),
                d.replication.as_str().into(),
                d.traffic.clone(),
                format!("{} min", d.rto_minutes),
                format!("{} s", d.rpo_seconds),
            ]);
        }
        out.push_str(&profiles.render());
        out.push('\n');

        let envs: Vec<String> = p
            .environments
            .iter()
            .map(
                |(n, e)| if e.aliases.is_empty() { n.clone() } else { format!("{n} (alias {})", e.aliases.join(", ")) },
            )
            .collect();
        let cells: Vec<String> = p
            .cells
            .iter()
            .map(|(n, c)| match &c.candidates {
                Some(ids) => format!("{n} ({})", ids.join(", ")),
                None => n.clone(),
            })
            .collect();
        let _ = writeln!(out, "environments  {}", envs.join(", "));
        let _ = writeln!(out, "cells         {}", cells.join(", "));
        let _ = writeln!(out, "sizes         {}", p.sizes.join(", "));
        let _ = writeln!(out, "storageGB     {}..={}", p.storage_gb.min, p.storage_gb.max);
        let _ =
            writeln!(out, "traffic       {} (default {})", p.traffic.providers.join(", "), p.traffic.default_provider);
        out
    }
}

impl Outcome for ValidateOutcome {
    fn human(&self, style: &Style) -> String {
        format!("{} {} is valid: version {}, {}\n", style.green("✓"), self.origin, self.version, self.digest)
    }
}
