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

        let mut headers = vec!["provider/region", "capabilities"];
        headers.extend(p.dimensions.iter().map(String::as_str));
        headers.push("state");
        let mut candidates = Table::new(&headers, style.no_headers);
        for c in &p.candidates {
            let mut row = vec![c.id(), c.capabilities.join(",")];
            // Cordoned: no new placements, the ones there stay.
            let state = if c.cordoned { style.yellow("cordoned") } else { "open".to_owned() };
            row.extend(p.dimensions.iter().map(|d| number(c.scores.get(d).copied().unwrap_or(0.0))));
            row.push(state);
            candidates.row(row);
        }
        out.push_str(&candidates.render());
        out.push('\n');

        // Where each environment's apps run, per candidate.
        let mut headers = vec!["provider/region"];
        headers.extend(p.environments.keys().map(String::as_str));
        let mut clusters = Table::new(&headers, style.no_headers);
        for c in &p.candidates {
            let mut row = vec![c.id()];
            row.extend(p.environments.keys().map(|e| c.runtime_cluster_in(e).to_owned()));
            clusters.row(row);
        }
        out.push_str(&clusters.render());
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
        let protected = |names: Vec<&String>| match names.is_empty() {
            true => "none".to_owned(),
            false => names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", "),
        };
        let environments =
            protected(p.environments.iter().filter(|(_, e)| e.deletion_protection).map(|(n, _)| n).collect());
        let tiers =
            protected(p.tiers.iter().filter(|(_, t)| t.deletion_protection == Some(true)).map(|(n, _)| n).collect());
        let _ = writeln!(out, "environments  {}", envs.join(", "));
        let _ = writeln!(out, "protected     databases in environments {environments}; tiers {tiers}");
        let _ = writeln!(out, "cells         {}", cells.join(", "));
        let _ = writeln!(out, "sizes         {}", p.sizes.join(", "));
        let _ = writeln!(out, "storageGB     {}..={}", p.storage_gb.min, p.storage_gb.max);
        let _ = writeln!(
            out,
            "traffic       {} (default {})",
            p.traffic.providers.keys().cloned().collect::<Vec<_>>().join(", "),
            p.traffic.default_provider
        );
        out
    }
}

impl Outcome for ValidateOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out =
            format!("{} {} is valid: version {}, {}\n", style.green("✓"), self.origin, self.version, self.digest);
        for product in &self.products {
            out.push_str(&format!("{} product {product}\n", style.green("✓")));
        }
        out
    }
}

impl Outcome for crate::ops::policy::PricingOutcome {
    fn human(&self, style: &Style) -> String {
        let Some(pricing) = &self.pricing else {
            return format!("policy {} has no price table: costs are not estimated\n", self.version);
        };
        let sizes: Vec<&String> =
            pricing.providers.values().flat_map(|p| p.sizes.keys()).fold(Vec::new(), |mut v, s| {
                if !v.contains(&s) {
                    v.push(s);
                }
                v
            });
        let mut headers = vec!["provider"];
        headers.extend(sizes.iter().map(|s| s.as_str()));
        headers.extend(["per gb", "per replica"]);
        let mut table = Table::new(&headers, style.no_headers);
        for (provider, prices) in &pricing.providers {
            let mut row = vec![provider.clone()];
            row.extend(sizes.iter().map(|s| prices.sizes.get(*s).map_or("-".into(), |v| format!("{v:.2}"))));
            row.extend([format!("{:.4}", prices.per_gb), format!("{:.2}", prices.per_replica)]);
            table.row(row);
        }
        table.right(&(1..headers.len()).collect::<Vec<_>>());
        let mut out =
            format!("estimated monthly list prices, USD (policy {}); estimates, not invoices\n\n", self.version);
        out.push_str(&table.render());
        out.push_str(&format!(
            "\nha multiplies instance + storage by {}; a secondary costs {} x the same database where it runs\n",
            number(pricing.ha_multiplier),
            number(pricing.secondary_multiplier)
        ));
        let budgets: Vec<String> = self
            .budgets
            .cells
            .iter()
            .map(|(c, b)| format!("cell {c} {:.2}", b.monthly_usd))
            .chain(self.budgets.namespaces.iter().map(|(n, b)| format!("namespace {n} {:.2}", b.monthly_usd)))
            .collect();
        out.push_str(&format!(
            "budgets: {}\n",
            if budgets.is_empty() { "none".to_owned() } else { budgets.join(", ") }
        ));
        out
    }
}

impl Outcome for crate::ops::policy::ExplainOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = format!(
            "a {} request{}{}{} would land on {} ({}), total {}\n",
            self.tier,
            self.cell.as_ref().map(|c| format!(" in cell {c}")).unwrap_or_else(|| " (whole pool)".into()),
            self.environment.as_ref().map(|e| format!(" for {e}")).unwrap_or_default(),
            if self.ha { " with ha" } else { "" },
            style.bold(&self.placement.id()),
            self.placement.runtime_cluster,
            number(self.reason.selected.total_score)
        );
        if let Some(s) = &self.secondary {
            out.push_str(&format!("  secondary {} ({})\n", style.bold(&s.id()), s.runtime_cluster));
        }
        out.push('\n');
        super::plan::explanation(
            &mut out,
            &self.reason,
            &self.ranking,
            &self.placement,
            self.secondary.as_ref(),
            style,
        );
        out
    }
}

impl Outcome for crate::ops::policy::CordonOutcome {
    fn human(&self, style: &Style) -> String {
        let state = if self.action == "cordon" { "cordoned" } else { "open" };
        match &self.commit {
            None => format!("{} is {state} already: nothing to change\n", self.candidate),
            Some(commit) => format!(
                "{} {} ({} placed there stay)\n{} {commit}\n",
                style.yellow(if self.action == "cordon" { "cordoned" } else { "uncordoned" }),
                self.candidate,
                crate::names::counted(self.placed, "request"),
                style.green("committed")
            ),
        }
    }
}

impl Outcome for crate::ops::policy::PolicyDiffOutcome {
    fn human(&self, style: &Style) -> String {
        let mut out = format!(
            "policy {} → {}: {} of {} placements would be decided differently (placements are sticky: nothing moves)\n",
            self.old.version,
            self.new.version,
            self.changed.len(),
            self.evaluated
        );
        if !self.changed.is_empty() {
            out.push('\n');
            let mut table = Table::new(&["request", "old decision", "new decision"], style.no_headers);
            for c in &self.changed {
                table.row([format!("{} {}/{}", c.kind, c.namespace, c.name), c.old.clone(), c.new.clone()]);
            }
            out.push_str(&table.render());
        }
        if !self.refused.is_empty() {
            out.push_str(&format!(
                "\n{} placed that the new policy would refuse if submitted again or changed (they stay placed and fail over):\n",
                crate::names::counted(self.refused.len(), "request")
            ));
            let mut table = Table::new(&["request", "why"], style.no_headers);
            for r in &self.refused {
                table.row([format!("{} {}/{}", r.kind, r.namespace, r.name), r.why.join("; ")]);
            }
            out.push_str(&table.render());
        }
        out
    }
}

impl Outcome for crate::rules::TestReport {
    fn human(&self, style: &Style) -> String {
        let mut table = Table::new(&["result", "test", "file"], style.no_headers);
        for r in &self.results {
            let result = if r.passed { style.green("pass") } else { style.red("FAIL") };
            let name = match &r.message {
                Some(m) => format!("{} ({m})", r.name),
                None => r.name.clone(),
            };
            table.row([result, name, r.file.clone()]);
        }
        let passed = self.results.iter().filter(|r| r.passed).count();
        format!("{}{} passed, {} failed\n", table.render(), passed, self.results.len() - passed)
    }
}
