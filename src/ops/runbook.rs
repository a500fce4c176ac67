//! What every staged runbook shares (`idp failover`/`failback`, `idp
//! migrate`): the stages' outcomes, the files a stage renders against what
//! is there before it, the wait on the management cluster after each
//! commit, and the replication-lag gate. One commit per stage, each landing
//! only once the cluster reports the one before it done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::lag::LagSource;
use super::live::{LiveOutcome, Management, Origin, Tracked, WaitEnd, WaitReport, wait_for};
use super::objects::{Changeset, ObjectChange, manifest_documents};
use super::plan::{Change, ChangeAction};
use super::resource::ResourceRef;
use super::{Context, Error};
use crate::layout;
use crate::live::lifecycle::Lifecycle;
use crate::product::Products;
use crate::render::RenderedFile;
use crate::state::FileChange;

/// One stage of a staged runbook, or its lag gate.
#[derive(Debug, Serialize)]
pub struct StageOutcome {
    /// `fence`, `lag` (the gate before `data`), `data`, `compute`, `traffic`, `record`.
    pub stage: &'static str,
    pub status: StageStatus,
    pub what: String,
    pub commit: Option<String>,
    pub changes: Vec<Change>,
    pub objects: Vec<ObjectChange>,
    /// What the cluster reported when the stage's wait ended.
    pub wait: Option<WaitReport>,
}

impl StageOutcome {
    /// A stage not committed yet (or planned): `what` it does.
    pub(super) fn new(stage: &'static str, what: String, status: StageStatus) -> Self {
        StageOutcome { stage, status, what, commit: None, changes: Vec::new(), objects: Vec::new(), wait: None }
    }

    /// The lag gate before the stage that moves the writer: no commit.
    pub(super) fn gate(rpo_seconds: u32, status: StageStatus) -> Self {
        let what = format!("check replication lag ≤ RPO ({rpo_seconds}s) once the fence stops writes");
        Self::new("lag", what, status)
    }

    /// Records the wait that followed the stage's commit; Some(why the run
    /// stops here) when the cluster did not report the stage done.
    pub(super) fn settle(&mut self, report: Option<WaitReport>) -> Option<Stopped> {
        let stopped = report.as_ref().filter(|r| !r.ready).map(|report| Stopped {
            stage: self.stage,
            ended: report.ended,
            reasons: report.not_there(Lifecycle::Ready),
        });
        if stopped.is_some() {
            self.status = StageStatus::NotDone;
        }
        self.wait = report;
        stopped
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageStatus {
    /// A dry run, or a stage not reached yet.
    Planned,
    /// Nothing of the cell renders differently at this stage: no commit.
    Unchanged,
    /// Committed, and the cluster reported it done (the gate: lag within RPO).
    Done,
    /// Committed, and the cluster did not report it done in time (the gate:
    /// the lag did not come within RPO).
    NotDone,
}

/// Where and why a staged runbook stopped.
#[derive(Debug, Serialize)]
pub struct Stopped {
    pub stage: &'static str,
    /// Why the wait ended, when a wait ended it.
    pub ended: Option<WaitEnd>,
    /// One line per part not done, with the cluster's reason.
    pub reasons: Vec<String>,
}

/// A cell's files as some stage renders them (None: removed).
#[derive(Default)]
pub(super) struct Desired {
    pub(super) files: BTreeMap<String, (Option<RenderedFile>, Option<ResourceRef>)>,
}

/// What one commit of a runbook changes, against what is there before it.
pub(super) struct StageFiles {
    pub(super) files: Vec<FileChange>,
    /// The changed files of each member, for the wait.
    pub(super) owners: Owners,
}

impl StageFiles {
    /// Whether anything besides the cell's own file changes.
    pub(super) fn moves_anything(&self) -> bool {
        self.files.iter().any(|f| !f.path().starts_with("cells/"))
    }
}

impl Desired {
    /// A request's files as `rendered`, and a removal for each manifest it
    /// has at the base commit that the render no longer has: files under the
    /// names an older idp gave them move to the names the cell's Application
    /// selects (same objects; see layout::platform_file), and a claim a stage
    /// no longer renders (a migration's old one, once finished) goes.
    pub(super) fn add_request(
        &mut self,
        ctx: &Context,
        owner: &ResourceRef,
        record: &crate::record::PlacementRecord,
        rendered: Vec<RenderedFile>,
    ) -> Result<(), Error> {
        for path in owner.rendered_files(ctx, Some(record))? {
            if layout::is_manifest_path(&path) && !rendered.iter().any(|f| f.path == path) {
                self.files.insert(path, (None, Some(owner.clone())));
            }
        }
        for file in rendered {
            self.add(file, Some(owner));
        }
        Ok(())
    }

    /// One file, of `owner` when a request's.
    pub(super) fn add(&mut self, file: RenderedFile, owner: Option<&ResourceRef>) {
        self.files.insert(file.path.clone(), (Some(file), owner.cloned()));
    }

    /// The changes from what `read` holds; re-rendered claims must pass their
    /// XRDs (a template override renders them as much as a plan does).
    pub(super) fn against(&self, products: &Products, read: Read<'_>) -> Result<StageFiles, Error> {
        let mut stage = StageFiles { files: Vec::new(), owners: BTreeMap::new() };
        for (path, (file, owner)) in &self.files {
            let stored = read(path)?;
            let change = match file {
                None if stored.is_some() => FileChange::Remove { path: path.clone() },
                Some(file) if stored.as_deref() != Some(file.content.as_bytes()) => {
                    if let Some(owner) = owner {
                        let id = format!("{} {}/{}", owner.kind, owner.namespace, owner.name);
                        super::claims::admit(products, &id, path, &file.documents, stored.as_deref())?;
                    }
                    FileChange::upsert(path.clone(), file.content.as_bytes())
                }
                _ => continue,
            };
            if let Some(owner) = owner {
                stage.owners.entry(owner.clone()).or_default().push(path.clone());
            }
            stage.files.push(change);
        }
        Ok(stage)
    }
}

/// The files as they stand after some changes, over the base commit: how a
/// dry run sees each stage after the ones before it.
pub(super) struct Overlay<'a> {
    pub(super) ctx: &'a Context,
    pub(super) written: BTreeMap<String, Option<Vec<u8>>>,
}

impl Overlay<'_> {
    pub(super) fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.written.get(path) {
            Some(content) => Ok(content.clone()),
            None => self.ctx.read(path),
        }
    }

    /// Every file written, as one change over the base commit.
    pub(super) fn changes(&self) -> Vec<FileChange> {
        let change = |(path, content): (&String, &Option<Vec<u8>>)| match content {
            Some(content) => FileChange::upsert(path.clone(), content.clone()),
            None => FileChange::Remove { path: path.clone() },
        };
        self.written.iter().map(change).collect()
    }

    pub(super) fn write(&mut self, files: &[FileChange]) -> Result<(), Error> {
        for file in files {
            self.written.insert(file.path().to_owned(), file.content()?.map(|c| c.into_owned()));
        }
        Ok(())
    }
}

/// Waits for a stage's objects, with progress said.
pub(super) struct Waiter<'a> {
    pub(super) at: layout::CellOf<'a>,
    /// Where each stage's commit is pushed, when it is.
    pub(super) origin: Option<Origin>,
    pub(super) cluster: &'a Management,
    pub(super) timeout: Duration,
    pub(super) say: &'a dyn Fn(&str),
}

impl Waiter<'_> {
    /// Until every member's changed objects are READY against `commit` (the
    /// cell's Application synced it, claims Ready with their fence as wanted,
    /// Applications synced and Healthy). None: the stage moved no object the
    /// cluster reports on.
    pub(super) fn wait(&self, ctx: &Context, owners: &Owners, commit: &str) -> Result<Option<WaitReport>, Error> {
        // Not the ReplicationClaim: its status says nothing of its direction, and
        // it cannot be Ready while the old side's cloud is down, the very outage a
        // failover is for (docs/disaster-recovery.md: the same reason idp's Argo CD
        // health checks leave it out). The new writer's claim is what the data
        // stage waits for.
        let tracked = owners
            .iter()
            .map(|(member, files)| {
                let replication = layout::replication_path(member.kind, self.at, &member.namespace, &member.name);
                let files: Vec<String> =
                    files.iter().filter(|f| f.starts_with("platform/") && **f != replication).cloned().collect();
                (member, files)
            })
            .filter(|(_, files)| !files.is_empty())
            .map(|(member, files)| {
                Tracked::changed_in(ctx, member, commit, &files).map(|t| t.pushed_to(self.origin.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if tracked.is_empty() {
            return Ok(None);
        }
        let read = || tracked.iter().map(|t| t.read(ctx, self.cluster)).collect::<Result<Vec<_>, _>>();
        let mut progress = |requests: &[LiveOutcome]| {
            for request in requests {
                (self.say)(&request.progress_line());
            }
        };
        wait_for(Lifecycle::Ready, &read, self.cluster, self.timeout, &mut progress).map(Some)
    }
}

/// Before anything is written: a lag source, or --force, and a lag within
/// RPO. With `gated_later` (a staged runbook), a query's value is not held
/// against it here: it is read again after the fence, when the lag drains;
/// a reading given by hand cannot change, so it must already be within RPO.
/// A dry run gives the same verdict: an operator rehearsing the runbook must
/// learn that the lag will stop it.
pub(super) fn lag_verdict(
    lag: &LagSource,
    rpo: u32,
    forced: bool,
    gated_later: bool,
) -> Result<Option<(f64, String)>, Error> {
    let drains = gated_later && matches!(lag, LagSource::Prometheus { .. });
    match lag.observe()? {
        None if !forced => Err(Error::LagUnknown),
        Some((seconds, _)) if seconds > f64::from(rpo) && !forced && !drains => {
            Err(Error::LagAboveRpo { lag: seconds, rpo })
        }
        observed => Ok(observed),
    }
}

/// The gate between the fence and the data stage: with writes stopped, the
/// lag only drains, so a query is read again until it is within RPO (or
/// `timeout`). Err: why the runbook stops here.
pub(super) fn gate(
    lag: &LagSource,
    rpo: u32,
    forced: bool,
    timeout: Duration,
    say: &dyn Fn(&str),
) -> Result<Option<(f64, String)>, String> {
    let started = Instant::now();
    let mut poll = Duration::from_secs(1);
    loop {
        let observed = lag.observe().map_err(|e| format!("the replication lag cannot be read: {e}"))?;
        match &observed {
            None if forced => return Ok(None),
            None => return Err("the replication lag is unknown (pass --replication-lag or --lag-url)".into()),
            Some((seconds, _)) if *seconds <= f64::from(rpo) || forced => return Ok(observed),
            Some((seconds, _)) if started.elapsed() >= timeout || !matches!(lag, LagSource::Prometheus { .. }) => {
                return Err(format!(
                    "replication lag {seconds}s is still above the RPO of {rpo}s after {}s; the fence holds (no writes on either side)",
                    started.elapsed().as_secs()
                ));
            }
            Some((seconds, _)) => say(&format!("waiting: replication lag {seconds}s > RPO {rpo}s")),
        }
        std::thread::sleep(poll);
        poll = (poll * 2).min(Duration::from_secs(10));
    }
}

/// The files a stage's commit changed, by the request that owns each.
pub(super) type Owners = BTreeMap<ResourceRef, Vec<String>>;

/// The files a commit changed, by the one of `requests` that owns each (from
/// the path alone, `layout::RequestFileName::owner_of`): what a resumed
/// runbook waits for first, as its stage committed them.
pub(super) fn owners<'a>(
    requests: impl Iterator<Item = &'a ResourceRef> + Clone,
    changed: &[crate::state::PathChange],
) -> Owners {
    let mut owners = Owners::new();
    for change in changed {
        let Some(owner) = layout::RequestFileName::owner_of(&change.path) else { continue };
        let request = requests.clone().find(|r| {
            (r.kind.cli_name(), r.namespace.as_str(), r.name.as_str())
                == (owner.kind.as_str(), owner.namespace.as_str(), owner.name.as_str())
        });
        if let Some(request) = request {
            owners.entry(request.clone()).or_default().push(change.path.clone());
        }
    }
    owners
}

pub(super) type Read<'a> = &'a dyn Fn(&str) -> Result<Option<Vec<u8>>, Error>;

pub(super) fn objects_of(
    products: &Products,
    read: Read<'_>,
    files: &[FileChange],
) -> Result<Vec<ObjectChange>, Error> {
    let mut changeset = Changeset::new(products);
    for file in files {
        let path = file.path();
        let before = manifest_documents(path, read(path)?.as_deref());
        changeset.file(path, before, manifest_documents(path, file.content()?.as_deref()));
    }
    changeset.classify()
}

pub(super) fn changes_of(read: Read<'_>, files: &[FileChange]) -> Result<Vec<Change>, Error> {
    files
        .iter()
        .map(|f| {
            let action = match (f, read(f.path())?.is_some()) {
                (FileChange::Remove { .. }, _) => ChangeAction::Delete,
                (_, true) => ChangeAction::Update,
                (_, false) => ChangeAction::Create,
            };
            Ok(Change { action, path: f.path().to_owned() })
        })
        .collect()
}

/// Now, to the second, as every other time idp records.
pub(super) fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(super) fn identity(ctx: &Context) -> String {
    ctx.state().ok().and_then(|s| s.identity().ok()).unwrap_or_default()
}

pub(super) fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
