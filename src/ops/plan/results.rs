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
use std::sync::Arc;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{PlanResult, ResultStatus};
use crate::layout::NameScheme;
use crate::ops::Error;
use crate::ops::budget::Planned;
use crate::request::{Kind, Request};

/// Results above which a plan that keeps no explanation spools them.
pub const SPOOL_ABOVE: usize = 200;

/// What idp reads back from a result once the plan is made: the commit
/// message, the budgets, the name check, the warnings, the requests
/// `--wait` follows. Made from a [`Held`] brief when asked for.
#[derive(Debug, Clone)]
pub struct Brief {
    pub kind: Kind,
    pub namespace: Arc<str>,
    pub name: String,
    pub cell: Arc<str>,
    pub environment: Arc<str>,
    pub status: ResultStatus,
    pub rescheduled: bool,
    /// The plan changes files of the request.
    pub changed: bool,
    pub placement: Arc<Place>,
    pub secondary: Option<Arc<Place>>,
    pub tier: Arc<str>,
    pub total_score: f64,
    pub policy_version: Arc<str>,
    pub monthly_usd: Option<f64>,
    pub names: NameScheme,
    pub warnings: Vec<String>,
}

/// Where one side of a request runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub provider: Arc<str>,
    pub region: Arc<str>,
    pub runtime_cluster: Arc<str>,
}

/// A brief as every request of a bulk plan keeps it, in 64 bytes: what
/// many results share (kinds, namespaces, cells, placements, tiers, policy
/// versions: a few dozen values among 100,000 results) is a number into
/// the tables of [`Briefs`], the name a span of its text. As a [`Brief`]
/// it took ~300 bytes, 30 MB at 100,000 requests.
#[derive(Clone, Copy)]
struct Held {
    kind: u32,
    namespace: u32,
    cell: u32,
    environment: u32,
    tier: u32,
    policy_version: u32,
    placement: u32,
    /// [`NONE`] when it has none.
    secondary: u32,
    /// Into [`Briefs::warnings`]; [`NONE`] when it has none.
    warnings: u32,
    /// Where its name lies in [`Briefs::names`].
    name: (u32, u32),
    status: ResultStatus,
    rescheduled: bool,
    changed: bool,
    names: NameScheme,
    total_score: f64,
    /// NaN when the policy has no price.
    monthly_usd: f64,
}

const NONE: u32 = u32::MAX;

/// The briefs of a plan, by request (file order).
#[derive(Default)]
struct Briefs {
    held: Vec<Option<Held>>,
    kinds: Vec<Kind>,
    texts: Table<Arc<str>>,
    places: Table<Arc<Place>>,
    names: String,
    warnings: Vec<Vec<String>>,
}

/// Values held once, by number.
struct Table<T> {
    values: Vec<T>,
    numbers: std::collections::HashMap<T, u32>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self { values: Vec::new(), numbers: std::collections::HashMap::new() }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Table<T> {
    fn number<Q: ?Sized + Eq + std::hash::Hash + ToOwned>(&mut self, value: &Q) -> u32
    where
        T: std::borrow::Borrow<Q> + From<Q::Owned>,
    {
        if let Some(&number) = self.numbers.get(value) {
            return number;
        }
        let number = self.values.len() as u32;
        let value: T = T::from(value.to_owned());
        self.values.push(value.clone());
        self.numbers.insert(value, number);
        number
    }
}

impl Briefs {
    fn put(&mut self, index: usize, r: &PlanResult, request: &Request) {
        let kind = match self.kinds.iter().position(|k| *k == r.kind) {
            Some(found) => found,
            None => {
                self.kinds.push(r.kind);
                self.kinds.len() - 1
            }
        } as u32;
        let mut place = |t: &crate::schedule::Target| {
            let mut text = |value: &str| {
                let number = self.texts.number(value);
                Arc::clone(&self.texts.values[number as usize])
            };
            let place = Place {
                provider: text(&t.provider),
                region: text(&t.region),
                runtime_cluster: text(&t.runtime_cluster),
            };
            self.places.number(&Arc::new(place))
        };
        let placement = place(&r.placement);
        let secondary = r.secondary.as_ref().map_or(NONE, place);
        let start = self.names.len() as u32;
        self.names.push_str(&r.name);
        let warnings = match r.warnings.is_empty() {
            true => NONE,
            false => {
                self.warnings.push(r.warnings.clone());
                self.warnings.len() as u32 - 1
            }
        };
        let mut text = |value: &str| self.texts.number(value);
        self.held[index] = Some(Held {
            kind,
            namespace: text(&r.namespace),
            cell: text(&request.cell),
            environment: text(&request.environment),
            tier: text(&r.reason.tier),
            policy_version: text(&r.reason.policy.version),
            placement,
            secondary,
            warnings,
            name: (start, self.names.len() as u32),
            status: r.status,
            rescheduled: r.rescheduled,
            changed: !r.changes.is_empty(),
            names: r.names,
            total_score: r.reason.selected.total_score,
            monthly_usd: r.cost.as_ref().map_or(f64::NAN, |c| c.monthly_usd),
        });
    }

    fn brief(&self, held: &Held) -> Brief {
        let text = |number: u32| Arc::clone(self.text(number));
        let place = |number: u32| Arc::clone(&self.places.values[number as usize]);
        Brief {
            kind: self.kinds[held.kind as usize],
            namespace: text(held.namespace),
            name: self.name(held).to_owned(),
            cell: text(held.cell),
            environment: text(held.environment),
            status: held.status,
            rescheduled: held.rescheduled,
            changed: held.changed,
            placement: place(held.placement),
            secondary: (held.secondary != NONE).then(|| place(held.secondary)),
            tier: text(held.tier),
            total_score: held.total_score,
            policy_version: text(held.policy_version),
            monthly_usd: held.monthly_usd(),
            names: held.names,
            warnings: self.warnings.get(held.warnings as usize).cloned().unwrap_or_default(),
        }
    }

    fn name(&self, held: &Held) -> &str {
        &self.names[held.name.0 as usize..held.name.1 as usize]
    }

    fn text(&self, number: u32) -> &Arc<str> {
        &self.texts.values[number as usize]
    }
}

impl Held {
    fn monthly_usd(&self) -> Option<f64> {
        (!self.monthly_usd.is_nan()).then_some(self.monthly_usd)
    }
}

/// A brief read where it is held, for the checks that look at every
/// result of a bulk plan (names, budgets) without making each a [`Brief`].
#[derive(Clone, Copy)]
pub struct BriefRef<'a> {
    briefs: &'a Briefs,
    held: &'a Held,
}

impl<'a> BriefRef<'a> {
    pub fn key(&self) -> (Kind, &'a str, &'a str) {
        (self.briefs.kinds[self.held.kind as usize], self.briefs.text(self.held.namespace), self.briefs.name(self.held))
    }

    pub fn has_secondary(&self) -> bool {
        self.held.secondary != NONE
    }

    pub fn names(&self) -> NameScheme {
        self.held.names
    }

    pub fn brief(&self) -> Brief {
        self.briefs.brief(self.held)
    }
}

impl Planned for BriefRef<'_> {
    fn key(&self) -> (Kind, &str, &str) {
        BriefRef::key(self)
    }

    fn cell(&self) -> &str {
        self.briefs.text(self.held.cell)
    }

    fn monthly_usd(&self) -> Option<f64> {
        self.held.monthly_usd()
    }
}

pub struct Results {
    /// By request (file order); None until planned. Empty when spooled.
    held: Vec<Option<PlanResult>>,
    spool: Option<Spool>,
    briefs: Briefs,
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
            briefs: Briefs { held: vec![None; count], ..Briefs::default() },
            landed: false,
        })
    }

    /// The result of `request`, at `index` (in file order).
    pub fn put(&mut self, index: usize, result: PlanResult, request: &Request) -> Result<(), Error> {
        self.briefs.put(index, &result, request);
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

    /// Every result's brief where it is held, sorted by kind, namespace
    /// and name.
    pub fn by_key(&self) -> Vec<BriefRef<'_>> {
        let mut sorted: Vec<BriefRef<'_>> = self.brief_refs().collect();
        sorted.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
        sorted
    }

    /// Every result's brief where it is held, in file order.
    pub fn brief_refs(&self) -> impl Iterator<Item = BriefRef<'_>> {
        self.briefs.held.iter().flatten().map(|held| BriefRef { briefs: &self.briefs, held })
    }

    /// A brief of every result, in file order.
    pub fn briefs(&self) -> impl Iterator<Item = Brief> + '_ {
        self.brief_refs().map(|r| r.brief())
    }

    /// Every result whole, when they are held (a plan that explains itself
    /// to a person always holds them); None when they were spooled.
    pub fn whole(&self) -> Option<Vec<&PlanResult>> {
        self.spool.is_none().then(|| self.held.iter().flatten().collect())
    }

    pub fn len(&self) -> usize {
        self.brief_refs().count()
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
        for held in self.briefs.held.iter_mut().flatten() {
            held.status = held.status.landed();
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
                    let mut json = vec![0; len];
                    file.read_exact_at(&mut json, start).map_err(S::Error::custom)?;
                    seq.serialize_element(&Spooled { json: &json, landed: self.landed })?;
                }
            }
        }
        seq.end()
    }
}

/// One spooled result as it is written out: its JSON streamed into the
/// output's serializer, with no tree of values in between (that tree was
/// a tenth of a bulk plan's time), and its status as landed once it has.
struct Spooled<'a> {
    json: &'a [u8],
    landed: bool,
}

impl Serialize for Spooled<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::Deserializer as _;
        let mut json = serde_json::Deserializer::from_slice(self.json);
        json.deserialize_map(Fields { into: serializer, landed: self.landed }).map_err(S::Error::custom)
    }
}

/// A result's fields, each serialized as it is read.
struct Fields<S> {
    into: S,
    landed: bool,
}

impl<'de, S: Serializer> serde::de::Visitor<'de> for Fields<S> {
    type Value = S::Ok;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a plan result")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut fields: A) -> Result<S::Ok, A::Error> {
        use serde::de::Error as _;
        use serde::ser::SerializeMap;
        let mut map = self.into.serialize_map(fields.size_hint()).map_err(A::Error::custom)?;
        while let Some(key) = fields.next_key::<std::borrow::Cow<'de, str>>()? {
            map.serialize_key(&key).map_err(A::Error::custom)?;
            if key == "status" && self.landed {
                let planned: std::borrow::Cow<'de, str> = fields.next_value()?;
                let landed = match &*planned {
                    "create" => ResultStatus::Created,
                    "update" => ResultStatus::Updated,
                    "exists" => ResultStatus::Exists,
                    other => return Err(A::Error::custom(format!("a spooled result's status is {other}"))),
                };
                map.serialize_value(&landed).map_err(A::Error::custom)?;
            } else {
                fields.next_value_seed(Value(&mut map))?;
            }
        }
        map.end().map_err(A::Error::custom)
    }
}

/// A field's value, serialized into `map` as it is read.
struct Value<'a, M>(&'a mut M);

impl<'de, M: serde::ser::SerializeMap> serde::de::DeserializeSeed<'de> for Value<'_, M> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, value: D) -> Result<(), D::Error> {
        use serde::de::Error as _;
        self.0.serialize_value(&serde_transcode::Transcoder::new(value)).map_err(D::Error::custom)
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
        let requests: Vec<Request> = ["a-db", "b-db", "c-db"]
            .iter()
            .map(|name| {
                let source = crate::yaml::Source::new(*name, example.replace("orders-db", name));
                let in_force = (&ctx.policy.policy, &ctx.products);
                crate::request::parse_sources(
                    &[source],
                    None,
                    in_force.0,
                    in_force.1,
                    crate::request::Admission::Submitted,
                )
                .unwrap()
                .remove(0)
            })
            .collect();
        for (i, result) in whole.into_iter().enumerate().rev() {
            spooled.put(i, result, &requests[i]).unwrap();
        }
        spooled.flush().unwrap();
        assert_eq!(serde_json::to_value(&spooled).unwrap(), expected);
        // Byte for byte as the held ones are written out, in JSON and in YAML.
        assert_eq!(serde_json::to_string_pretty(&spooled).unwrap(), serde_json::to_string_pretty(&expected).unwrap());
        assert_eq!(serde_saphyr::to_string(&spooled).unwrap(), serde_saphyr::to_string(&expected).unwrap());
        let names: Vec<String> = spooled.briefs().map(|b| b.name).collect();
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
