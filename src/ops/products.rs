//! `idp products [KIND]`: the products in force, as their definitions and
//! XRDs say, with what a request may write in each field under the policy
//! in force.

use serde::Serialize;

use super::Context;
use crate::product::{Admitted, Field, Product};
use crate::request::Kind;

#[derive(Debug, Serialize)]
pub struct ProductsOutcome {
    /// In listing order: idp's own, then the state repo's.
    pub products: Vec<ProductView>,
}

/// A product as its definition says, its fields with what the policy in
/// force admits in each.
#[derive(Debug, Serialize)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    /// A data product's request fields, in the definition's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldView>,
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
            fields: p
                .fields
                .iter()
                .map(|f| FieldView {
                    admitted: f.admitted(policy),
                    required: f.request_default.is_none(),
                    field: f.clone(),
                })
                .collect(),
            product: p.clone(),
        })
        .collect();
    ProductsOutcome { products }
}
