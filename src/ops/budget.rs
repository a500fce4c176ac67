//! Budgets: what a cell or namespace already costs, what a plan adds, and
//! the limit the policy sets. Read from member files by path: one folder per
//! cell, one per namespace, never the whole repo.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Context, Error};
use crate::cell::Member;
use crate::cost::cents;
use crate::request::Kind;

/// Spend of one cell or namespace, in estimated USD per month.
#[derive(Debug, Clone, Serialize)]
pub struct Spend {
    /// `cell payments` or `namespace team-beta`.
    pub scope: String,
    /// What the state repo already holds, without the requests of this plan;
    /// totalled only where a budget applies (it reads the scope's members).
    #[serde(rename = "currentUSD")]
    pub current_usd: Option<f64>,
    /// What this plan's requests cost there.
    #[serde(rename = "plannedUSD")]
    pub planned_usd: f64,
    #[serde(rename = "limitUSD")]
    pub limit_usd: Option<f64>,
    /// What this plan's requests cost before it (re-planned, not new).
    #[serde(skip)]
    pub replaced_usd: f64,
}

/// A planned request, as budgets count it.
pub trait Planned {
    /// Kind, namespace and name.
    fn key(&self) -> (Kind, &str, &str);
    fn cell(&self) -> &str;
    fn namespace(&self) -> &str {
        self.key().1
    }
    /// Its estimate, if the policy prices it.
    fn monthly_usd(&self) -> Option<f64>;
}

/// The spend of every cell the plan touches (and of every namespace with a
/// budget); an error when a budget would be exceeded. `planned` is sorted
/// by key.
pub fn check<P: Planned>(ctx: &Context, planned: &[P]) -> Result<Vec<Spend>, Error> {
    let policy = &ctx.policy.policy;
    if policy.pricing.is_none() {
        return Ok(Vec::new());
    }
    let planned_usd = |matches: &dyn Fn(&P) -> bool| -> f64 {
        planned.iter().filter(|r| matches(r)).filter_map(|r| r.monthly_usd()).sum()
    };
    let in_plan =
        |kind, namespace: &str, name: &str| planned.binary_search_by(|r| r.key().cmp(&(kind, namespace, name))).is_ok();

    let mut spends = Vec::new();
    let cells: BTreeMap<&str, ()> = planned.iter().map(|r| (r.cell(), ())).collect();
    for cell in cells.keys() {
        let limit = policy.budgets.cells.get(*cell).map(|b| b.monthly_usd);
        let (replaced, current) = match limit {
            Some(_) => split(&ctx.members_of_cell(cell)?, &in_plan),
            None => (0.0, 0.0),
        };
        spends.push(Spend {
            scope: format!("cell {cell}"),
            current_usd: limit.map(|_| cents(current)),
            planned_usd: cents(planned_usd(&|r| r.cell() == *cell)),
            limit_usd: limit,
            replaced_usd: replaced,
        });
    }
    let namespaces: BTreeMap<&str, ()> = planned
        .iter()
        .filter(|r| policy.budgets.namespaces.contains_key(r.namespace()))
        .map(|r| (r.namespace(), ()))
        .collect();
    for namespace in namespaces.keys() {
        let (replaced, current) = split(&ctx.members_of_namespace(namespace)?, &in_plan);
        let limit = policy.budgets.namespaces.get(*namespace).map(|b| b.monthly_usd);
        spends.push(Spend {
            scope: format!("namespace {namespace}"),
            current_usd: Some(cents(current)),
            planned_usd: cents(planned_usd(&|r| r.namespace() == *namespace)),
            limit_usd: limit,
            replaced_usd: replaced,
        });
    }
    for spend in &spends {
        // A plan that adds nothing (sticky requests re-planned in CI) never
        // fails on a budget the repo already exceeds.
        if let (Some(limit), Some(current)) = (spend.limit_usd, spend.current_usd)
            && current + spend.planned_usd > limit
            && spend.planned_usd > spend.replaced_usd
        {
            return Err(Error::OverBudget { scope: spend.scope.clone(), current, planned: spend.planned_usd, limit });
        }
    }
    Ok(spends)
}

/// What a whole cell spends now, in every environment.
#[derive(Debug, Clone, Serialize)]
pub struct CellSpend {
    pub cell: String,
    /// The requests placed in the cell.
    pub requests: usize,
    /// The sum of their recorded estimates; None when none has one (the
    /// policy had no price table when they were applied).
    pub monthly_usd: Option<f64>,
    /// The cell's budget in the policy in force, if it sets one.
    pub limit_usd: Option<f64>,
}

/// A cell's spend, from its member files: the figures [`check`] holds a
/// plan to, so `idp list` and a refused plan never disagree.
pub fn cell_spend(ctx: &Context, cell: &str) -> Result<CellSpend, Error> {
    let members = ctx.members_of_cell(cell)?;
    let costs: Vec<f64> = members.iter().filter_map(|m| m.monthly_usd).collect();
    Ok(CellSpend {
        cell: cell.to_owned(),
        requests: members.len(),
        monthly_usd: (!costs.is_empty()).then(|| cents(costs.iter().sum())),
        limit_usd: ctx.policy.policy.budgets.cells.get(cell).map(|b| b.monthly_usd),
    })
}

/// Spend of members this plan re-plans, and of all the others.
fn split(members: &[Member], in_plan: &dyn Fn(Kind, &str, &str) -> bool) -> (f64, f64) {
    members.iter().fold((0.0, 0.0), |(replaced, others), m| {
        let cost = m.monthly_usd.unwrap_or(0.0);
        if in_plan(m.kind, &m.namespace, &m.name) { (replaced + cost, others) } else { (replaced, others + cost) }
    })
}
