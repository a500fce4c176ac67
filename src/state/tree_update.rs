//! The tree of a new commit: a base tree with file changes applied. Only
//! the folders on the changed paths are read and written again; every other
//! subtree keeps its id. Each new tree goes to a sink (the loose object
//! store, or the pack a bulk commit streams into), so memory holds one
//! folder per level of the path being built, never the whole tree.
//!
//! Written here rather than with libgit2's tree updater: that one copies
//! every path it is given and, in a scratch store over the repo's, rescans
//! the pack folder for each tree it writes (`git_odb__freshen` refreshes on
//! a miss), which a bulk commit of 60,000 files paid thousands of times.

use std::collections::BTreeMap;

use git2::{Oid, Repository};

use super::{StateError, git};

/// A file's new state: a blob (mode 100644), or None to remove it.
pub type Update<'a> = (&'a str, Option<Oid>);

const BLOB_MODE: u32 = 0o100644;
const TREE_MODE: u32 = 0o040000;

/// Applies `updates` (any order) to `base` and returns the
/// new root tree's id; `write` stores each new tree and returns its id.
pub fn apply(
    repo: &Repository,
    base: Option<Oid>,
    updates: &mut [Update<'_>],
    write: &mut dyn FnMut(&[u8]) -> Result<Oid, StateError>,
) -> Result<Oid, StateError> {
    // Stable: of two updates of one path, the later wins, as it would in
    // git's index or libgit2's tree updater.
    updates.sort_by(|a, b| a.0.cmp(b.0));
    let root = build(repo, base, updates, write)?;
    match root {
        Some(id) => Ok(id),
        None => write(&[]),
    }
}

/// The folder `base` with `updates` (paths relative to it, sorted) applied:
/// None when it ends up empty (git stores no empty folder).
fn build(
    repo: &Repository,
    base: Option<Oid>,
    updates: &[Update<'_>],
    write: &mut dyn FnMut(&[u8]) -> Result<Oid, StateError>,
) -> Result<Option<Oid>, StateError> {
    // The base folder's entries: name -> (mode, id).
    let mut entries: BTreeMap<Vec<u8>, (u32, Oid)> = match base {
        Some(id) => {
            let tree = repo.find_tree(id).map_err(git(format!("read tree {id}")))?;
            tree.iter().map(|e| (e.name_bytes().to_vec(), (e.filemode() as u32, e.id()))).collect()
        }
        None => BTreeMap::new(),
    };
    let mut i = 0;
    while i < updates.len() {
        let (path, id) = updates[i];
        let (name, new) = match path.split_once('/') {
            Some((name, _)) => {
                // Every update under `name/`: sorted, they are next to each other.
                let prefix = &path[..=name.len()];
                let end = i + updates[i..].iter().take_while(|(p, _)| p.starts_with(prefix)).count();
                let inner: Vec<Update<'_>> = updates[i..end].iter().map(|(p, id)| (&p[prefix.len()..], *id)).collect();
                i = end;
                let subtree = entries.get(name.as_bytes()).filter(|(mode, _)| *mode == TREE_MODE).map(|(_, id)| *id);
                (name, build(repo, subtree, &inner, write)?.map(|id| (TREE_MODE, id)))
            }
            None => {
                i += 1;
                (path, id.map(|id| (BLOB_MODE, id)))
            }
        };
        match new {
            Some(entry) => entries.insert(name.as_bytes().to_vec(), entry),
            None => entries.remove(name.as_bytes()),
        };
    }
    if entries.is_empty() {
        return Ok(None);
    }
    // git's order: by name, a folder's name read as if it ended in '/'.
    let mut sorted: Vec<(Vec<u8>, u32, Oid)> = entries
        .into_iter()
        .map(|(mut name, (mode, id))| {
            if mode == TREE_MODE {
                name.push(b'/');
            }
            (name, mode, id)
        })
        .collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut bytes = Vec::with_capacity(sorted.len() * 64);
    for (name, mode, id) in &sorted {
        let name = if *mode == TREE_MODE { &name[..name.len() - 1] } else { &name[..] };
        bytes.extend_from_slice(format!("{mode:o} ").as_bytes());
        bytes.extend_from_slice(name);
        bytes.push(0);
        bytes.extend_from_slice(id.as_bytes());
    }
    write(&bytes).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_git(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// The tree is the one git's index writes for the same changes (`git
    /// update-index` on the base, `git write-tree`): entries in git's
    /// order (`a-b` < `a.yaml` < `a/` < `a0`), folders emptied by removals
    /// dropped, a file replaced by a folder, untouched subtrees kept.
    #[test]
    fn applied_changes_give_the_tree_git_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        run_git(path, &["init", "-q"], None);
        let repo = Repository::open(path).unwrap();
        let blob = |text: &str| repo.blob(text.as_bytes()).unwrap();
        let base_files = ["a/x.yaml", "a/y/z.yaml", "a-b", "gone/only.yaml", "keep/deep/k.yaml", "file", "top.yaml"];
        let mut base_updates: Vec<Update<'_>> = base_files.iter().map(|p| (*p, Some(blob(p)))).collect();
        let odb = repo.odb().unwrap();
        let mut write = |bytes: &[u8]| odb.write(git2::ObjectType::Tree, bytes).map_err(super::git("write a tree"));
        let base = apply(&repo, None, &mut base_updates, &mut write).unwrap();
        let index_of =
            |files: &[(&str, Oid)]| files.iter().map(|(p, id)| format!("100644 {id}\t{p}\n")).collect::<String>();
        let base_list: Vec<(&str, Oid)> = base_files.iter().map(|p| (*p, blob(p))).collect();
        run_git(path, &["update-index", "--add", "--index-info"], Some(&index_of(&base_list)));
        assert_eq!(base.to_string(), run_git(path, &["write-tree"], None), "a tree from nothing");

        let changes: Vec<(&str, Option<Oid>)> = vec![
            ("a/x.yaml", Some(blob("changed"))),
            ("a/new.yaml", Some(blob("new"))),
            ("a.yaml", Some(blob("a.yaml"))),
            ("a0", Some(blob("a0"))),
            ("gone/only.yaml", None),
            ("file", None),
            ("file/now-a-folder.yaml", Some(blob("inside"))),
            ("missing/never.yaml", None),
        ];
        let mut updates = changes.clone();
        let tree = apply(&repo, Some(base), &mut updates, &mut write).unwrap();
        for (p, id) in &changes {
            match id {
                Some(id) => run_git(path, &["update-index", "--add", "--cacheinfo", &format!("100644,{id},{p}")], None),
                None => run_git(path, &["update-index", "--force-remove", p], None),
            };
        }
        assert_eq!(tree.to_string(), run_git(path, &["write-tree"], None));
        let keep = |tree: Oid| repo.find_tree(tree).unwrap().get_name("keep").unwrap().id();
        assert_eq!(keep(tree), keep(base), "an untouched folder keeps its id");

        // Two updates of one path: the later one wins, whatever the sort.
        let mut twice: Vec<Update<'_>> = vec![("top.yaml", Some(blob("first"))), ("a-b", None), ("top.yaml", None)];
        let removed = apply(&repo, Some(base), &mut twice, &mut write).unwrap();
        let names: Vec<String> =
            repo.find_tree(removed).unwrap().iter().map(|e| e.name().unwrap().to_owned()).collect();
        assert_eq!(names, ["a", "file", "gone", "keep"]);

        let mut everything: Vec<Update<'_>> = base_files.iter().map(|p| (*p, None)).collect();
        let empty = apply(&repo, Some(base), &mut everything, &mut write).unwrap();
        assert_eq!(empty.to_string(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "git's empty tree");
    }
}
