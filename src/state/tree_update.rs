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

use super::changes::{Changes, Node, ROOT};
use super::chunked::Chunked;
use super::{StateError, git};

const BLOB_MODE: u32 = 0o100644;
const TREE_MODE: u32 = 0o040000;

/// Applies `changes` to `base` and returns the new root tree's id; `write`
/// stores each new tree and returns its id.
pub fn apply(
    repo: &Repository,
    base: Option<Oid>,
    changes: &Changes,
    write: &mut dyn FnMut(&[u8]) -> Result<Oid, StateError>,
) -> Result<Oid, StateError> {
    let nodes = changes.nodes();
    // The nodes grouped by folder (the root's last), each folder's in the
    // order they were made: 4 bytes a path, for the whole build.
    let mut by_folder: Vec<u32> = (0..nodes.len() as u32).collect();
    by_folder.sort_by_key(|&n| nodes[n as usize].parent);
    let folders = Folders { changes, nodes, by_folder };
    match build(repo, base, ROOT, &folders, write)? {
        Some(id) => Ok(id),
        None => write(&[]),
    }
}

struct Folders<'a> {
    changes: &'a Changes,
    nodes: &'a Chunked<Node>,
    by_folder: Vec<u32>,
}

impl Folders<'_> {
    /// The nodes right under `folder`.
    fn under(&self, folder: u32) -> &[u32] {
        let parent = |n: &u32| self.nodes[*n as usize].parent;
        let start = self.by_folder.partition_point(|n| parent(n) < folder);
        let end = self.by_folder.partition_point(|n| parent(n) <= folder);
        &self.by_folder[start..end]
    }
}

/// The folder `base` with the changes under `folder` applied: None when
/// it ends up empty (git stores no empty folder). A name that is both a
/// changed file and a changed folder ends as the folder, as it would in
/// git's index, where `name` sorts before `name/...`.
fn build(
    repo: &Repository,
    base: Option<Oid>,
    folder: u32,
    folders: &Folders<'_>,
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
    let under = folders.under(folder);
    for &n in under {
        let node = &folders.nodes[n as usize];
        let name = folders.changes.name(node).as_bytes();
        match folders.changes.file_id(node) {
            Some(Some(id)) => entries.insert(name.to_vec(), (BLOB_MODE, id)),
            Some(None) => entries.remove(name),
            None => None,
        };
    }
    for &n in under {
        if folders.under(n).is_empty() {
            continue;
        }
        let name = folders.changes.name(&folders.nodes[n as usize]).as_bytes();
        let subtree = entries.get(name).filter(|(mode, _)| *mode == TREE_MODE).map(|(_, id)| *id);
        match build(repo, subtree, n, folders, write)? {
            Some(id) => entries.insert(name.to_vec(), (TREE_MODE, id)),
            None => entries.remove(name),
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
    use crate::state::FileChange;

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
        let changes_of = |updates: &[(&str, Option<&str>)]| -> Changes {
            updates
                .iter()
                .map(|(p, text)| match text {
                    Some(text) => FileChange::upsert(*p, text.as_bytes()),
                    None => FileChange::Remove { path: (*p).to_owned() },
                })
                .collect()
        };
        let base_updates: Vec<(&str, Option<&str>)> = base_files.iter().map(|p| (*p, Some(*p))).collect();
        let odb = repo.odb().unwrap();
        let mut write = |bytes: &[u8]| odb.write(git2::ObjectType::Tree, bytes).map_err(super::git("write a tree"));
        let base = apply(&repo, None, &changes_of(&base_updates), &mut write).unwrap();
        let index_of =
            |files: &[(&str, Oid)]| files.iter().map(|(p, id)| format!("100644 {id}\t{p}\n")).collect::<String>();
        let base_list: Vec<(&str, Oid)> = base_files.iter().map(|p| (*p, blob(p))).collect();
        run_git(path, &["update-index", "--add", "--index-info"], Some(&index_of(&base_list)));
        assert_eq!(base.to_string(), run_git(path, &["write-tree"], None), "a tree from nothing");

        let changes: Vec<(&str, Option<&str>)> = vec![
            ("a/x.yaml", Some("changed")),
            ("a/new.yaml", Some("new")),
            ("a.yaml", Some("a.yaml")),
            ("a0", Some("a0")),
            ("gone/only.yaml", None),
            ("file", None),
            ("file/now-a-folder.yaml", Some("inside")),
            ("missing/never.yaml", None),
        ];
        let tree = apply(&repo, Some(base), &changes_of(&changes), &mut write).unwrap();
        for (p, text) in &changes {
            match text {
                Some(text) => run_git(
                    path,
                    &["update-index", "--add", "--cacheinfo", &format!("100644,{},{p}", blob(text))],
                    None,
                ),
                None => run_git(path, &["update-index", "--force-remove", p], None),
            };
        }
        assert_eq!(tree.to_string(), run_git(path, &["write-tree"], None));
        let keep = |tree: Oid| repo.find_tree(tree).unwrap().get_name("keep").unwrap().id();
        assert_eq!(keep(tree), keep(base), "an untouched folder keeps its id");

        // Two changes of one path: the later one wins.
        let twice = changes_of(&[("top.yaml", Some("first")), ("a-b", None), ("top.yaml", None)]);
        assert_eq!(twice.len(), 2, "one change a path");
        let removed = apply(&repo, Some(base), &twice, &mut write).unwrap();
        let names: Vec<String> =
            repo.find_tree(removed).unwrap().iter().map(|e| e.name().unwrap().to_owned()).collect();
        assert_eq!(names, ["a", "file", "gone", "keep"]);

        let everything: Vec<(&str, Option<&str>)> = base_files.iter().map(|p| (*p, None)).collect();
        let empty = apply(&repo, Some(base), &changes_of(&everything), &mut write).unwrap();
        assert_eq!(empty.to_string(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "git's empty tree");
    }
}
