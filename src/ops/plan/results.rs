//! The results of a plan, in the order of its request files. Held whole, or,
//! for a bulk plan whose results are only written out (`-o json`, `-o
//! yaml`), spooled to a temporary file as JSON as each is made: a result
//! with its candidates' explanation is ~9 KB in memory, so 10,000 of them
//! held whole were most of a bulk apply's peak. Either way a [`Brief`] of
//! each stays in memory for what idp itself reads back (the commit message,
//! the warnings, the requests `--wait` follows).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{PlanResult, ResultStatus};
use crate::layout::NameScheme;
use crate::ops::Error;
use crate::request::Kind;

/// Results above which a plan that keeps no explanation spools them.
pub const SPOOL_ABOVE: usize = 200;

/// What idp reads back from a result once the plan is made.
#[derive(Debug, Clone)]
pub struct Brief {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub status: ResultStatus,
    pub rescheduled: bool,
    /// The plan changes files of the request.
    pub changed: bool,
    pub placement: Place,
    pub secondary: Option<Place>,
    pub tier: String,
    pub total_score: f64,
    pub policy_version: String,
    pub monthly_usd: Option<f64>,
    pub names: NameScheme,
    pub warnings: Vec<String>,
}

/// Where one side of a request runs.
#[derive(Debug, Clone)]
pub struct Place {
    pub provider: String,
    pub region: String,
    pub runtime_cluster: String,
}

impl Brief {
    fn of(r: &PlanResult) -> Self {
        let place = |t: &crate::schedule::Target| Place {
            provider: t.provider.clone(),
            region: t.region.clone(),
            runtime_cluster: t.runtime_cluster.clone(),
        };
        Self {
            kind: r.kind,
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            status: r.status,
            rescheduled: r.rescheduled,
            changed: !r.changes.is_empty(),
            placement: place(&r.placement),
            secondary: r.secondary.as_ref().map(place),
            tier: r.reason.tier.clone(),
            total_score: r.reason.selected.total_score,
            policy_version: r.reason.policy.version.clone(),
            monthly_usd: r.cost.as_ref().map(|c| c.monthly_usd),
            names: r.names,
            warnings: r.warnings.clone(),
        }
    }
}

pub struct Results {
    /// By request (file order); None until planned. Empty when spooled.
    held: Vec<Option<PlanResult>>,
    spool: Option<Spool>,
    briefs: Vec<Option<Brief>>,
    /// The results were committed: `create` reads `created` (see [`Results::landed`]).
    landed: bool,
}

/// Results as JSON, one after another in the order they were planned, and
/// where each request's lies.
struct Spool {
    out: BufWriter<File>,
    written: u64,
    at: Vec<Option<(u64, usize)>>,
}

impl Results {
    /// Room for `count` results, spooled when `spool`.
    pub fn new(count: usize, spool: bool) -> Result<Self, Error> {
        let spool = match spool {
            true => {
                let file = tempfile::tempfile().map_err(|e| spool_error("create", e))?;
                Some(Spool { out: BufWriter::new(file), written: 0, at: vec![None; count] })
            }
            false => None,
        };
        Ok(Self {
            held: (0..if spool.is_some() { 0 } else { count }).map(|_| None).collect(),
            spool,
            briefs: vec![None; count],
            landed: false,
        })
    }

    /// The result of the request at `index` (in file order).
    pub fn put(&mut self, index: usize, result: PlanResult) -> Result<(), Error> {
        self.briefs[index] = Some(Brief::of(&result));
        match &mut self.spool {
            None => self.held[index] = Some(result),
            Some(spool) => {
                let start = spool.written;
                let mut counted = Counted { inner: &mut spool.out, count: 0 };
                serde_json::to_writer(&mut counted, &result).map_err(|e| spool_error("write", e.into()))?;
                let len = counted.count;
                spool.written += len as u64;
                spool.at[index] = Some((start, len));
            }
        }
        Ok(())
    }

    /// A brief of every result, in file order.
    pub fn briefs(&self) -> impl Iterator<Item = &Brief> {
        self.briefs.iter().flatten()
    }

    /// Every result whole, when they are held (a plan that explains itself
    /// to a person always holds them); None when they were spooled.
    pub fn whole(&self) -> Option<Vec<&PlanResult>> {
        self.spool.is_none().then(|| self.held.iter().flatten().collect())
    }

    pub fn len(&self) -> usize {
        self.briefs().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The plan was committed: what would be created or updated was.
    pub fn landed(&mut self) {
        self.landed = true;
        for result in self.held.iter_mut().flatten() {
            result.status = result.status.landed();
        }
        for brief in self.briefs.iter_mut().flatten() {
            brief.status = brief.status.landed();
        }
    }
}

impl ResultStatus {
    /// What a planned status reads once committed.
    pub fn landed(self) -> Self {
        match self {
            ResultStatus::Create => ResultStatus::Created,
            ResultStatus::Update => ResultStatus::Updated,
            other => other,
        }
    }
}

impl std::fmt::Debug for Results {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Results({} {})", self.len(), if self.spool.is_some() { "spooled" } else { "held" })
    }
}

/// A list of results, read back one at a time when spooled.
impl Serialize for Results {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        match &self.spool {
            None => {
                for result in self.held.iter().flatten() {
                    seq.serialize_element(result)?;
                }
            }
            Some(spool) => {
                let file = spool.out.get_ref();
                for &(start, len) in spool.at.iter().flatten() {
                    let mut bytes = vec![0; len];
                    file.read_exact_at(&mut bytes, start).map_err(S::Error::custom)?;
                    let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(S::Error::custom)?;
                    if self.landed
                        && let Some(status) = value.get_mut("status")
                    {
                        let planned = match status.as_str() {
                            Some("create") => Some(ResultStatus::Create),
                            Some("update") => Some(ResultStatus::Update),
                            _ => None,
                        };
                        if let Some(planned) = planned {
                            *status = serde_json::to_value(planned.landed()).map_err(S::Error::custom)?;
                        }
                    }
                    seq.serialize_element(&value)?;
                }
            }
        }
        seq.end()
    }
}

impl Results {
    /// Makes every spooled result readable (before serializing).
    pub fn flush(&mut self) -> Result<(), Error> {
        match &mut self.spool {
            Some(spool) => spool.out.flush().map_err(|e| spool_error("write", e)),
            None => Ok(()),
        }
    }
}

/// Counts what passes through, so that each result's place is known.
struct Counted<'a, W> {
    inner: &'a mut W,
    count: usize,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn spool_error(what: &str, e: std::io::Error) -> Error {
    Error::Spool { what: what.to_owned(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::plan::{PlanOptions, Requests, plan};
    use crate::ops::{Context, ContextOptions};

    /// Spooled results read back as the held ones serialize, in file order
    /// whatever order they were planned in, and with the statuses of a
    /// commit once landed.
    #[test]
    fn spooled_results_read_back_as_held_ones() {
        let dir = tempfile::tempdir().unwrap();
        let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/orders-db.yaml")).unwrap();
        for name in ["a-db", "b-db", "c-db"] {
            std::fs::write(dir.path().join(format!("{name}.yaml")), example.replace("orders-db", name)).unwrap();
        }
        let options = ContextOptions { repo: None, policy: None, cwd: dir.path().into(), author: None };
        let ctx = Context::resolve(&options).unwrap();
        let plan_options = PlanOptions {
            kind: None,
            requests: Requests::Files(vec![dir.path().to_path_buf()]),
            reschedule: false,
            keep_rendered: false,
            explain: false,
            diff: false,
            committing: false,
        };
        let mut held = plan(&ctx, &plan_options).unwrap().outcome.results;
        assert!(held.spool.is_none(), "three results are held");
        let mut spooled = Results::new(3, true).unwrap();
        // Planned last to first: the spool keeps the order of the files.
        let whole: Vec<PlanResult> = std::mem::take(&mut held.held).into_iter().flatten().collect();
        let expected = serde_json::to_value(&whole).unwrap();
        for (i, result) in whole.into_iter().enumerate().rev() {
            spooled.put(i, result).unwrap();
        }
        spooled.flush().unwrap();
        assert_eq!(serde_json::to_value(&spooled).unwrap(), expected);
        let names: Vec<&str> = spooled.briefs().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a-db", "b-db", "c-db"]);

        spooled.landed();
        let landed = serde_json::to_value(&spooled).unwrap();
        let statuses: Vec<&str> = landed.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["created"; 3]);
        assert!(spooled.briefs().all(|b| b.status == ResultStatus::Created));
        let mut unlanded = landed.clone();
        for r in unlanded.as_array_mut().unwrap() {
            r["status"] = "create".into();
        }
        assert_eq!(unlanded, expected, "only the status changes");
    }
}
