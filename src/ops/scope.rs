//! Which requests' files a commit may change: those its trailers name. An
//! idp commit names its requests (a failover or failback names its cell, so
//! every member of it); a revert may change what the commit it undoes names,
//! and exactly the paths that commit changed. `idp verify` walks HEAD's
//! first-parent history with it, because a revert that git's rename
//! detection sent to another request's look-alike files leaves files that
//! render cleanly: only history shows that nobody asked for them.
//! Reads history; never writes.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::Error;
use super::destroy::DESTROY_TRAILER;
use super::history::{is_idp_commit, named_by_tree, named_with, reverted_commit, trailers};
use super::objects::{ObjectChange, destroying};
use crate::layout::{self, RequestFileName};
use crate::product::Products;
use crate::state::{Commit, ObjectId, PathChange, StateRepo};

/// A commit that changed files of requests it does not name, while those
/// files still stand at HEAD as it left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub commit: ObjectId,
    pub title: String,
    /// The requests it names, itself or through the commit it reverts.
    pub named: Vec<String>,
    /// The requests whose files it changed without naming them.
    pub foreign: Vec<String>,
    /// Those files, sorted.
    pub files: Vec<String>,
}

/// A commit that deleted or replaced stateful data without an
/// `Idp-Destroy` trailer for it (a plain `git revert` of a create, a hand
/// edit), while what it did still stands at HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecorded {
    pub commit: ObjectId,
    pub title: String,
    pub destroys: Vec<ObjectChange>,
}

/// What HEAD's first-parent history says, commit by commit.
#[derive(Debug, Default)]
pub struct Audit {
    pub strays: Vec<Stray>,
    pub unrecorded: Vec<Unrecorded>,
}

/// Reverts of reverts followed back to the commit they are about.
const REVERT_DEPTH: usize = 16;

/// What one commit may change.
#[derive(Default)]
struct Scope {
    requests: HashSet<RequestFileName>,
    /// What the commits it reverts changed: a revert puts exactly those back.
    paths: HashSet<String>,
}

/// The commits on HEAD's first-parent line that changed files of requests
/// they do not name, newest first. Commits that name nothing (hand edits,
/// and reverts of them) are not judged here: `verify`'s re-render judges
/// what they left. A commit whose stray files were changed again since
/// (reverted, re-applied, deleted) is no longer reported.
pub fn strays(state: &StateRepo, head: ObjectId, products: &Products) -> Result<Vec<Stray>, Error> {
    Ok(audit(state, head, products)?.strays)
}

/// The strays and the unrecorded destroys of HEAD's first-parent history,
/// newest first, each commit's changes read once; `products`: those in
/// force, whose claim kinds hold data.
pub fn audit(state: &StateRepo, head: ObjectId, products: &Products) -> Result<Audit, Error> {
    let mut audit = Audit::default();
    // Destroys recorded after the fact by a later commit: (commit, object).
    let mut recorded_later: Vec<(String, String)> = Vec::new();
    for commit in state.first_parent_log(head)? {
        let commit = commit?;
        if let Some((_, id)) = trailers(&commit.message).into_iter().find(|(key, _)| *key == RECORDS_TRAILER) {
            recorded_later.extend(recorded(&commit.message).map(|object| (id.trim().to_owned(), object.to_owned())));
        }
        // A root (idp init, or where a shallow clone's history starts) has
        // nothing to be compared with.
        if commit.parents.is_empty() {
            continue;
        }
        let changes = state.changed_files(commit.id)?;
        audit.strays.extend(stray_of(state, head, &commit, &changes)?);
        if let Some(mut unrecorded) = unrecorded_of(state, head, &commit, &changes, products)? {
            let full = commit.id.to_string();
            unrecorded.destroys.retain(|object| {
                let object = object.object();
                !recorded_later.iter().any(|(id, o)| *o == object && id.len() >= 7 && full.starts_with(id.as_str()))
            });
            if !unrecorded.destroys.is_empty() {
                audit.unrecorded.push(unrecorded);
            }
        }
    }
    Ok(audit)
}

/// The trailer of a commit that records, after the fact, the destroys of
/// an earlier one that lacked `Idp-Destroy` trailers (`Idp-Records: <commit>`
/// next to an `Idp-Destroy:` line per object).
pub const RECORDS_TRAILER: &str = "Idp-Records";

/// The objects a message's `Idp-Destroy` trailers name.
fn recorded(message: &str) -> impl Iterator<Item = &str> {
    trailers(message).into_iter().filter(|(key, _)| *key == DESTROY_TRAILER).map(|(_, v)| v.trim())
}

fn stray_of(
    state: &StateRepo,
    head: ObjectId,
    commit: &Commit,
    changes: &[PathChange],
) -> Result<Option<Stray>, Error> {
    // A commit named by its changes names every request it changed: nothing
    // to find, and no second diff of a bulk commit to pay for.
    if named_by_tree(&commit.message) && reverted_commit(&commit.message).is_none() {
        return Ok(None);
    }
    let Some(scope) = scope_of(state, commit, changes, REVERT_DEPTH)? else { return Ok(None) };
    let mut foreign = BTreeSet::new();
    let mut files = Vec::new();
    for change in changes {
        let Some(owner) = RequestFileName::owner_of(&change.path) else { continue };
        if scope.requests.contains(&owner) || scope.paths.contains(&change.path) {
            continue;
        }
        if state.file_id(head, &change.path)? == change.blob {
            foreign.insert(display(&owner));
            files.push(change.path.clone());
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();
    let mut named: Vec<String> = scope.requests.iter().map(display).collect();
    named.sort();
    Ok(Some(Stray {
        commit: commit.id,
        title: commit.title().to_owned(),
        named,
        foreign: foreign.into_iter().collect(),
        files,
    }))
}

/// The stateful objects `commit` deleted or replaced without naming them
/// in an `Idp-Destroy` trailer, while the files it left stand at HEAD.
fn unrecorded_of(
    state: &StateRepo,
    head: ObjectId,
    commit: &Commit,
    changes: &[PathChange],
    products: &Products,
) -> Result<Option<Unrecorded>, Error> {
    let by_path: BTreeMap<&str, &PathChange> = changes.iter().map(|c| (c.path.as_str(), c)).collect();
    let read =
        |id: Option<ObjectId>| -> Result<Option<Vec<u8>>, Error> { Ok(id.map(|id| state.blob(id)).transpose()?) };
    let destroyed =
        destroying(products, by_path.keys().copied(), |path| read(by_path[path].old), |path| read(by_path[path].blob))?;
    let recorded: HashSet<&str> = recorded(&commit.message).collect();
    let mut destroys = Vec::new();
    for object in destroyed {
        if !recorded.contains(object.object().as_str())
            && state.file_id(head, &object.file)? == by_path[object.file.as_str()].blob
        {
            destroys.push(object);
        }
    }
    Ok((!destroys.is_empty()).then(|| Unrecorded { commit: commit.id, title: commit.title().to_owned(), destroys }))
}

/// What a commit may change, or None when it names nothing to judge it by;
/// `changes`: the commit's changes against its first parent.
fn scope_of(state: &StateRepo, commit: &Commit, changes: &[PathChange], depth: usize) -> Result<Option<Scope>, Error> {
    if depth > 0
        && let Some(reverted) = reverted_commit(&commit.message)
        && let Ok(id) = state.revparse(reverted)
    {
        let target = state.commit(id)?;
        // The target's diff, worked out once: a target that leaves naming its
        // requests to its tree needs it for that, and its paths bound the revert.
        let mut target_changes =
            if named_by_tree(&target.message) { Some(state.changed_files(target.id)?) } else { None };
        let named_by = target_changes.as_deref().unwrap_or_default();
        let Some(mut scope) = scope_of(state, &target, named_by, depth - 1)? else { return Ok(None) };
        // What a shallow clone's first commit changed is unknown (its tree
        // is not its change): its trailers have to do.
        if !target.parents.is_empty() {
            let changes = match target_changes.take() {
                Some(changes) => changes,
                None => state.changed_files(target.id)?,
            };
            scope.paths.extend(changes.into_iter().map(|c| c.path));
        }
        return Ok(Some(scope));
    }
    if !is_idp_commit(&commit.message) {
        return Ok(None);
    }
    let named = named_with(commit, changes);
    let mut scope = Scope { requests: named.requests.into_iter().collect(), paths: HashSet::new() };
    for (cell, environment) in &named.cells {
        let members = layout::members_dir(cell, environment);
        for at in std::iter::once(commit.id).chain(commit.parents.first().copied()) {
            scope.requests.extend(state.list_dir(at, &members)?.iter().filter_map(|m| RequestFileName::owner_of(m)));
        }
    }
    Ok(Some(scope))
}

/// `mysql team-x/a-db`, as trailers and messages name a request.
fn display(request: &RequestFileName) -> String {
    format!("{} {}/{}", request.kind, request.namespace, request.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::FileChange;

    const A: &str = "Idp-Action: update\nIdp-Request: mysql team-x/a-db\nIdp-Cell: payments production\n";

    fn files(namespace: &str, name: &str, size: &str) -> Vec<FileChange> {
        vec![
            FileChange::upsert(layout::request_path(crate::test_support::mysql(), namespace, name), size),
            FileChange::upsert(
                format!("{}/primary.yaml", layout::platform_dir(crate::test_support::mysql(), namespace, name)),
                size,
            ),
            FileChange::upsert(
                layout::member_path("payments", "production", crate::test_support::mysql(), namespace, name),
                size,
            ),
        ]
    }

    struct Repo {
        _dir: tempfile::TempDir,
        state: StateRepo,
    }

    impl Repo {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let state = StateRepo::init(dir.path()).unwrap();
            state.commit_changes(None, &[FileChange::upsert(layout::MARKER_PATH, "v1")].into(), "init\n").unwrap();
            Self { _dir: dir, state }
        }

        fn commit(&self, changes: &[FileChange], message: &str) -> ObjectId {
            self.state.commit_changes(self.state.head().unwrap(), &changes.into(), message).unwrap()
        }

        /// (commit, foreign requests, files) of every stray from HEAD.
        fn strays(&self) -> Vec<(ObjectId, Vec<String>, Vec<String>)> {
            let strays =
                strays(&self.state, self.state.head().unwrap().unwrap(), crate::product::Products::embedded()).unwrap();
            strays.into_iter().map(|s| (s.commit, s.foreign, s.files)).collect()
        }
    }

    #[test]
    fn a_commit_that_changed_files_of_a_request_it_does_not_name_is_a_stray_while_they_stand() {
        let repo = Repo::new();
        repo.commit(&files("team-x", "a-db", "small"), &format!("create a\n\n{A}"));
        repo.commit(
            &files("team-y", "b-db", "large"),
            "create b\n\nIdp-Action: create\nIdp-Request: mysql team-y/b-db\n",
        );
        // Names a-db, changes a-db's and b-db's files.
        let mut both = files("team-x", "a-db", "large");
        both.extend(files("team-y", "b-db", "small"));
        let stray = repo.commit(&both, &format!("update a\n\n{A}"));
        let b_files = vec![
            "cells/payments/production/members/team-y/mysql-b-db.yaml".to_owned(),
            "platform/team-y/mysql-b-db/primary.yaml".to_owned(),
            "requests/team-y/mysql-b-db.yaml".to_owned(),
        ];
        assert_eq!(repo.strays(), [(stray, vec!["mysql team-y/b-db".to_owned()], b_files.clone())]);

        // A hand edit is not judged here; re-applying b-db puts its files back.
        repo.commit(&[FileChange::upsert("README.md", "notes")], "notes\n");
        assert_eq!(repo.strays().len(), 1);
        repo.commit(&files("team-y", "b-db", "large"), "fix b\n\nIdp-Action: update\nIdp-Request: mysql team-y/b-db\n");
        assert_eq!(repo.strays(), [], "no longer reported once b-db's files were changed again");
    }

    /// A commit that counts its requests (`Idp-Requests`) names those whose
    /// files it changed; a revert of it may put back exactly those files,
    /// and one that also changed another request's files is a stray.
    #[test]
    fn a_commit_named_by_its_changes_names_them_and_a_revert_of_it_is_held_to_them() {
        let repo = Repo::new();
        repo.commit(
            &files("team-z", "c-db", "small"),
            "create c\n\nIdp-Action: create\nIdp-Request: mysql team-z/c-db\n",
        );
        let mut bulk = files("team-x", "a-db", "small");
        bulk.extend(files("team-y", "b-db", "small"));
        let bulk = repo.commit(&bulk, "idp: apply 2 requests\n\nIdp-Action: apply\nIdp-Requests: 2\n");
        assert_eq!(repo.strays(), []);

        // The revert puts back a-db's and b-db's files, and changes c-db's too.
        let mut revert: Vec<FileChange> = files("team-x", "a-db", "")
            .into_iter()
            .chain(files("team-y", "b-db", ""))
            .map(|f| FileChange::Remove { path: f.path().to_owned() })
            .collect();
        revert.extend(files("team-z", "c-db", "large"));
        let message = format!("idp: revert\n\nIdp-Action: revert\nIdp-Reverts: {bulk}\nIdp-Requests: 2\n");
        let stray = repo.commit(&revert, &message);
        let strays = repo.strays();
        assert_eq!(strays.len(), 1, "{strays:?}");
        assert_eq!((strays[0].0, strays[0].1.as_slice()), (stray, &["mysql team-z/c-db".to_owned()][..]));
    }

    #[test]
    fn a_failover_moves_its_cell_and_a_revert_puts_back_what_it_reverts() {
        let repo = Repo::new();
        repo.commit(&files("team-x", "a-db", "small"), &format!("create a\n\n{A}"));
        repo.commit(
            &files("team-y", "b-db", "small"),
            "create b\n\nIdp-Action: create\nIdp-Request: mysql team-y/b-db\n",
        );
        let mut moved: Vec<FileChange> = files("team-x", "a-db", "fenced").into_iter().skip(1).take(1).collect();
        moved.extend(files("team-y", "b-db", "fenced").into_iter().skip(1).take(1));
        moved.push(FileChange::upsert(layout::cell_state_path("payments", "production"), "secondary"));
        let failover =
            repo.commit(&moved, "failover\n\nIdp-Action: failover\nIdp-Cell: payments production\nIdp-Forced: false\n");
        assert_eq!(repo.strays(), []);

        // A plain git revert of the failover, then one of that revert: both put
        // back exactly what the commit they revert changed.
        let mut back: Vec<FileChange> = files("team-x", "a-db", "small").into_iter().skip(1).take(1).collect();
        back.extend(files("team-y", "b-db", "small").into_iter().skip(1).take(1));
        back.push(FileChange::Remove { path: layout::cell_state_path("payments", "production") });
        let revert = repo.commit(&back, &format!("Revert \"failover\"\n\nThis reverts commit {failover}.\n"));
        repo.commit(&moved, &format!("Revert \"Revert \"failover\"\"\n\nThis reverts commit {revert}.\n"));
        assert_eq!(repo.strays(), []);

        // A revert of an update of a-db that changed b-db: a stray, named by the
        // reverted commit's trailers.
        let update = repo.commit(&files("team-x", "a-db", "large"), &format!("update a\n\n{A}"));
        let wrong = repo.commit(
            &files("team-y", "b-db", "tiny"),
            &format!("Revert \"update a\"\n\nThis reverts commit {update}.\n"),
        );
        let strays = strays(&repo.state, wrong, crate::product::Products::embedded()).unwrap();
        assert_eq!(strays.len(), 1);
        assert_eq!(
            (strays[0].commit, strays[0].named.as_slice()),
            (wrong, ["mysql team-x/a-db".to_owned()].as_slice())
        );
        assert_eq!(strays[0].foreign, ["mysql team-y/b-db"]);
    }
}
