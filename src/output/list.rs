//! Human output of `idp list`: the placements, then each cell's spend.

use super::{Outcome, Style, Table};
use crate::ops::list::ListOutcome;

impl Outcome for ListOutcome {
    fn human(&self, style: &Style) -> String {
        if self.items.is_empty() && self.spend.is_empty() {
            return String::new();
        }
        let usd = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| format!("~{x:.2}"));
        let mut items = Table::new(
            &["kind", "namespace", "name", "cell", "env", "tier", "primary", "cluster", "secondary", "usd/month"],
            style.no_headers,
        );
        for i in &self.items {
            items.row([
                i.kind.to_string(),
                i.namespace.clone(),
                i.name.clone(),
                i.cell.clone(),
                i.environment.clone(),
                i.tier.clone(),
                format!("{}/{}", i.placement.provider, i.placement.region),
                i.placement.runtime_cluster.clone(),
                i.secondary.as_ref().map_or_else(|| "-".to_owned(), |s| format!("{}/{}", s.provider, s.region)),
                usd(i.monthly_usd),
            ]);
        }
        items.right(&[9]);
        // Spend is the whole cell's (every kind, namespace and environment),
        // as budgets count it, whatever the filters listed above.
        let mut spend = Table::new(&["cell", "requests", "usd/month", "budget"], style.no_headers);
        for s in &self.spend {
            let budget = match (s.limit_usd, s.monthly_usd) {
                (Some(limit), Some(spent)) if limit > 0.0 => {
                    format!("{limit:.2} ({:.0}%)", spent / limit * 100.0)
                }
                (Some(limit), _) => format!("{limit:.2}"),
                (None, _) => "none".to_owned(),
            };
            spend.row([s.cell.clone(), s.requests.to_string(), usd(s.monthly_usd), budget]);
        }
        spend.right(&[1, 2]);
        let mut out = String::new();
        if !items.is_empty() {
            out.push_str(&items.render());
            out.push('\n');
        }
        out.push_str(&spend.render());
        out
    }
}
