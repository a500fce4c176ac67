//! Human output of `idp products`: one row per product; with a product
//! named, its fields too.

use super::{Outcome, Style, Table};
use crate::ops::products::{FieldView, ProductsOutcome};

impl Outcome for ProductsOutcome {
    fn human(&self, style: &Style) -> String {
        let mut table =
            Table::new(&["product", "kind", "aliases", "role", "claim", "fields", "definition"], style.no_headers);
        for p in &self.products {
            let fields: Vec<&str> = p.fields.iter().map(|f| f.field.name()).collect();
            table.row([
                p.product.name.clone(),
                p.product.manifest_kind.clone(),
                dash(p.product.aliases.join(", ")),
                p.product.role.as_str().to_owned(),
                p.product.claim.as_ref().map_or_else(|| "-".to_owned(), |c| c.kind.clone()),
                dash(fields.join(", ")),
                p.product.origin.clone(),
            ]);
        }
        let mut out = table.render();
        // One product: what each of its fields takes.
        if let [only] = self.products.as_slice()
            && !only.fields.is_empty()
        {
            let mut fields = Table::new(&["field", "type", "may be", "default", "gates"], style.no_headers);
            for f in &only.fields {
                fields.row([
                    f.field.name().to_owned(),
                    f.field.parameter.type_.clone(),
                    may_be(f),
                    f.field.request_default.as_ref().map_or_else(|| "(required)".to_owned(), ToString::to_string),
                    dash(f.field.gates.join(", ")),
                ]);
            }
            out.push('\n');
            out.push_str(&fields.render());
        }
        out
    }
}

/// What a request may write in a field, as the policy in force admits it.
fn may_be(f: &FieldView) -> String {
    let admitted = &f.admitted;
    match (admitted.min, admitted.max) {
        (Some(min), Some(max)) => format!("{min}..={max}"),
        _ if !admitted.values.is_empty() => admitted.values.join(", "),
        _ => "true, false".to_owned(),
    }
}

fn dash(text: String) -> String {
    if text.is_empty() { "-".to_owned() } else { text }
}
