//! `idp list [KIND] [--cell C] [--namespace N]`: what is placed, where, on
//! which tier, with its secondary and its estimated monthly cost, and what
//! each cell of the listing spends. Read from the placement records at the
//! base commit; costs are the estimates the plan recorded in the cell member
//! files (the figures budgets add up), never computed again here.

use std::collections::BTreeSet;

use serde::Serialize;

use super::budget::{CellSpend, cell_spend};
use super::{Context, Error};
use crate::request::Kind;
use crate::schedule::Target;

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub kind: Option<Kind>,
    pub cell: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ListOutcome {
    /// In path order: by namespace, then kind and name.
    pub items: Vec<ListItem>,
    /// Every cell of the listing (and the one `--cell` names), by name, with
    /// what the whole cell spends: budgets count every request of a cell.
    pub spend: Vec<CellSpend>,
}

/// One placed request, as its placement record says.
#[derive(Debug, Serialize)]
pub struct ListItem {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub cell: String,
    pub environment: String,
    pub tier: String,
    pub dr_profile: Option<String>,
    pub placement: Target,
    pub secondary: Option<Target>,
    /// The estimate recorded when it was applied; None when the policy had
    /// no price table then.
    pub monthly_usd: Option<f64>,
}

pub fn list(ctx: &Context, options: &ListOptions) -> Result<ListOutcome, Error> {
    let policy = &ctx.policy.policy;
    let mut items = Vec::new();
    for record in ctx.placements_in(options.namespace.as_deref())? {
        let wanted = options.kind.is_none_or(|k| k == record.request_kind)
            && options.cell.as_ref().is_none_or(|c| *c == record.cell);
        if !wanted {
            continue;
        }
        let monthly_usd = ctx.member_of(&record)?.and_then(|m| m.monthly_usd);
        items.push(ListItem {
            kind: record.request_kind,
            namespace: record.metadata.namespace,
            name: record.metadata.name,
            cell: record.cell,
            environment: record.environment,
            tier: record.reason.tier,
            dr_profile: record.reason.dr_profile,
            placement: record.primary,
            secondary: record.secondary,
            monthly_usd,
        });
    }
    if let Some(cell) = &options.cell {
        // A cell the policy no longer registers still lists what it holds.
        if !policy.cells.contains_key(cell) && items.is_empty() && ctx.members_of_cell(cell)?.is_empty() {
            return Err(Error::UnknownName {
                what: "cell",
                name: cell.clone(),
                valid: policy.cells.keys().cloned().collect(),
            });
        }
    }
    let cells: BTreeSet<&str> = items.iter().map(|i| i.cell.as_str()).chain(options.cell.as_deref()).collect();
    let spend = cells.into_iter().map(|cell| cell_spend(ctx, cell)).collect::<Result<_, _>>()?;
    Ok(ListOutcome { items, spend })
}
