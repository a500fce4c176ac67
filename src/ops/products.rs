//! `idp products [KIND]`: the products in force, as their definitions and
//! XRDs say, with what a request may write in each field under the policy
//! in force.

use serde::Serialize;

use super::Context;
use crate::product::{Admitted, ClaimRef, Field, Role};
use crate::request::Kind;

#[derive(Debug, Serialize)]
pub struct ProductsOutcome {
    /// In listing order: idp's own, then the state repo's.
    pub products: Vec<ProductView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub name: String,
    pub manifest_kind: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimRef>,
    /// A data product's request fields, in the definition's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldView>,
    /// How a data product's secondary may be kept; absent: it has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replication: Vec<crate::policy::Replication>,
    /// The definition in force: built-in, or the state repo's file.
    pub origin: String,
}

#[derive(Debug, Serialize)]
pub struct FieldView {
    #[serde(flatten)]
    pub field: Field,
    /// Whether a request must write it (it has no default).
    pub required: bool,
    /// What a request may write in it under the policy in force.
    pub admitted: Admitted,
}

pub fn products(ctx: &Context, only: Option<Kind>) -> ProductsOutcome {
    let policy = &ctx.policy.policy;
    let products = ctx
        .products
        .iter()
        .filter(|p| only.is_none_or(|kind| kind.cli_name() == p.name))
        .map(|p| ProductView {
            name: p.name.clone(),
            manifest_kind: p.manifest_kind.clone(),
            aliases: p.aliases.clone(),
            description: p.description.clone(),
            role: p.role,
            claim: p.claim.clone(),
            fields: p
                .fields
                .iter()
                .map(|f| FieldView {
                    admitted: f.admitted(policy),
                    required: f.request_default.is_none(),
                    field: f.clone(),
                })
                .collect(),
            replication: p.replication.clone(),
            origin: p.origin.clone(),
        })
        .collect();
    ProductsOutcome { products }
}
