//! One placed request, named on the command line: the files idp keeps for
//! it and its placement record, found by path.

use super::{Context, Error};
use crate::layout;
use crate::record::PlacementRecord;
use crate::request::{Kind, Request};

/// `namespace/name` (namespace `default` when omitted) of a kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ResourceRef {
    pub fn display(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    pub fn of(request: &Request) -> Self {
        Self { kind: request.kind, namespace: request.namespace.clone(), name: request.name.clone() }
    }

    /// Its placement record at the base commit.
    pub fn record(&self, ctx: &Context) -> Result<Option<PlacementRecord>, Error> {
        ctx.placement(self.kind, &self.namespace, &self.name)
    }

    /// Every file idp keeps for the request at the base commit; `record` is
    /// its placement record, which names the cell it is a member of.
    pub fn files(&self, ctx: &Context, record: Option<&PlacementRecord>) -> Result<Vec<String>, Error> {
        let mut files = Vec::new();
        for path in [
            layout::request_path(self.kind, &self.namespace, &self.name),
            layout::placement_path(self.kind, &self.namespace, &self.name),
            layout::catalog_path(self.kind, &self.namespace, &self.name),
        ] {
            if ctx.read(&path)?.is_some() {
                files.push(path);
            }
        }
        files.extend(self.rendered_files(ctx, record)?);
        Ok(files)
    }

    /// The files that come and go with what the request renders: its
    /// manifests under platform/ (and workloads/ for an app) and its cell
    /// membership, as the base commit holds them.
    pub fn rendered_files(&self, ctx: &Context, record: Option<&PlacementRecord>) -> Result<Vec<String>, Error> {
        let mut files = ctx.list(&layout::platform_dir(self.kind, &self.namespace, &self.name))?;
        if self.kind.is_app() {
            files.extend(ctx.list(&layout::workload_dir(&self.namespace, &self.name))?);
        }
        if self.kind.is_app()
            && let Some(path) = self.host_claim_path(ctx)?
        {
            files.push(path);
        }
        if let Some(record) = record {
            let member = layout::member_path(&record.cell, &record.environment, self.kind, &self.namespace, &self.name);
            if ctx.read(&member)?.is_some() {
                files.push(member);
            }
        }
        Ok(files)
    }

    /// The claim of the public host the stored request names, when the claim
    /// is this app's (`layout::host_path`). Read from the stored request's
    /// text, not its validated form, so that a request the policy of today
    /// refuses still gives its host back when it moves or goes.
    fn host_claim_path(&self, ctx: &Context) -> Result<Option<String>, Error> {
        let Some(stored) = ctx.read(&layout::request_path(self.kind, &self.namespace, &self.name))? else {
            return Ok(None);
        };
        let documents = crate::yaml::non_empty_documents(&String::from_utf8_lossy(&stored)).unwrap_or_default();
        let Some(host) = documents.first().and_then(|doc| doc.str_at(&["spec", "traffic", "publicHost"])) else {
            return Ok(None);
        };
        if !crate::names::is_dns_name(host) {
            return Ok(None);
        }
        let path = layout::host_path(host);
        let claim = layout::host_claim(host, &self.namespace, &self.name);
        Ok((ctx.read(&path)?.as_deref() == Some(claim.as_bytes())).then_some(path))
    }
}
