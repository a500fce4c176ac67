//! The last check before a manifest is written: would the cluster admit the
//! claims in it? Each claim is checked against its XRD (`xrd`) with the claim
//! as the base commit holds it as the stored object, so that transition rules
//! (`oldSelf`) run as they would on the update Argo CD is about to make.

use super::Error;
use crate::product::Products;
use crate::xrd::Violation;
use crate::yaml::Node;

/// Refuses `documents` (the parsed text to be written at `path` for
/// `request`, `kind ns/name`) when the API server would refuse a claim among
/// them; `old` is what `path` holds at the base commit.
pub(super) fn admit(
    products: &Products,
    request: &str,
    path: &str,
    documents: &[Node],
    old: Option<&[u8]>,
) -> Result<(), Error> {
    // Most manifests are no claim: they need not wait for the XRDs to load.
    if !documents.iter().any(|doc| doc.str_at(&["kind"]).is_some_and(|kind| products.may_define(kind))) {
        return Ok(());
    }
    let old = old.and_then(|bytes| std::str::from_utf8(bytes).ok());
    let checked = products.check_documents(documents, old)?;
    let violations: Vec<&Violation> = checked.iter().flat_map(|c| &c.violations).collect();
    if violations.is_empty() {
        return Ok(());
    }
    Err(Error::ClaimRefused {
        request: request.to_owned(),
        file: path.to_owned(),
        violations: violations.iter().map(ToString::to_string).collect(),
        help: help(&violations),
    })
}

const GENERIC_HELP: &str = "the claim does not match its XRD (manifests/crossplane/): change the request, or the template override under templates/ that rendered the field named above. Nothing was written";

/// What to do, for the refusals people meet: a smaller disk and a move to
/// another cloud or region (the MySQL XRD's transition rules).
fn help(violations: &[&Violation]) -> String {
    let refused = |field: &str| violations.iter().any(|v| v.transition && v.path == format!("spec.parameters.{field}"));
    let mut help = Vec::new();
    if refused("storageGB") {
        help.push("no cloud can shrink a database's disk in place: keep storageGB as it is or grow it".to_owned());
    }
    if refused("provider") || refused("region") {
        help.push(
            "the claim keeps its name, so a new provider or region would replace the database with a new, empty one \
             (the old one and its data would be deleted). Keep the placement (revert the request change that asked \
             for it): `idp migrate mysql NAMESPACE/NAME --to PROVIDER/REGION` moves a database with its data, to a \
             new claim"
                .to_owned(),
        );
    }
    if help.is_empty() {
        return GENERIC_HELP.to_owned();
    }
    help.push("Nothing was written".to_owned());
    help.join(". ")
}
