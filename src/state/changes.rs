//! The file changes of one commit, held as the folder tree the commit will
//! have: each path component once, each file a node of 12 bytes naming its
//! folder, its name and its blob. A bulk apply of 100,000 requests writes
//! ~700,000 files; held as paths with their blobs they took ~1.3 KB a
//! request (issue 23), as nodes ~0.2 KB. The tree is also what the commit's
//! trees are built from (`tree_update`), and what the destroy check and the
//! work tree read back, one [`FileChange`] at a time.
//!
//! A path changed twice keeps its last change, as git's index would.

use std::sync::Arc;

use git2::Oid;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use super::StateError;
use super::chunked::Chunked;
use super::pack::{Blob, PackStream};

/// One file to write or remove, by repo-relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Upsert { path: String, blob: Blob },
    Remove { path: String },
}

impl FileChange {
    pub fn upsert(path: impl Into<String>, content: impl Into<Vec<u8>>) -> Self {
        FileChange::Upsert { path: path.into(), blob: Blob::new(content.into()) }
    }

    pub fn path(&self) -> &str {
        match self {
            FileChange::Upsert { path, .. } | FileChange::Remove { path } => path,
        }
    }

    /// The new content, or None for a removal.
    pub fn content(&self) -> Result<Option<std::borrow::Cow<'_, [u8]>>, StateError> {
        match self {
            FileChange::Upsert { blob, .. } => Ok(Some(blob.content()?)),
            FileChange::Remove { .. } => Ok(None),
        }
    }
}

/// The folder above the top-level entries.
pub(super) const ROOT: u32 = u32::MAX;
/// A node that is only a folder: no file change at its path.
const NO_FILE: u32 = u32::MAX;
/// A node whose file is removed.
const REMOVED: u32 = u32::MAX - 1;

/// One path component under its folder.
#[derive(Clone, Copy)]
pub(super) struct Node {
    pub parent: u32,
    name: u32,
    /// The blob (an index into [`Blobs`]), [`REMOVED`], or [`NO_FILE`].
    file: u32,
}

impl Node {
    fn key(&self) -> (u32, u32) {
        (self.parent, self.name)
    }
}

/// The new contents: in memory for a small commit, else objects of the
/// pack the commit is written into.
enum Blobs {
    Memory(Vec<Blob>),
    Packed(Arc<PackStream>),
}

pub struct Changes {
    names: Names,
    nodes: Chunked<Node>,
    /// Node numbers, found by (parent, name).
    by_path: HashTable<u32>,
    hasher: DefaultHashBuilder,
    blobs: Blobs,
    files: usize,
}

impl Default for Changes {
    fn default() -> Self {
        Self::new()
    }
}

impl Changes {
    pub fn new() -> Self {
        Self {
            names: Names::default(),
            nodes: Chunked::default(),
            by_path: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            blobs: Blobs::Memory(Vec::new()),
            files: 0,
        }
    }

    /// How many files change.
    pub fn len(&self) -> usize {
        self.files
    }

    pub fn is_empty(&self) -> bool {
        self.files == 0
    }

    /// Adds a change; a path changed already keeps this one.
    pub fn push(&mut self, change: FileChange) -> Result<(), StateError> {
        let (path, file) = match change {
            FileChange::Upsert { path, blob } => {
                let file = match &mut self.blobs {
                    Blobs::Memory(blobs) => {
                        blobs.push(blob);
                        (blobs.len() - 1) as u32
                    }
                    // Borrowed when held in memory: nothing is copied.
                    Blobs::Packed(pack) => pack.append(git2::ObjectType::Blob, &blob.content()?)?,
                };
                (path, file)
            }
            FileChange::Remove { path } => (path, REMOVED),
        };
        let node = self.node_of(&path);
        if self.nodes[node as usize].file == NO_FILE {
            self.files += 1;
        }
        self.nodes[node as usize].file = file;
        Ok(())
    }

    /// Moves the contents held in memory into `pack`, and every later one
    /// as it is pushed: memory keeps the tree, not the manifests.
    pub fn pack_into(&mut self, pack: &Arc<PackStream>) -> Result<(), StateError> {
        let Blobs::Memory(blobs) = &self.blobs else { return Ok(()) };
        let mut numbers = Vec::with_capacity(blobs.len());
        for blob in blobs {
            numbers.push(pack.append(git2::ObjectType::Blob, &blob.content()?)?);
        }
        for node in self.nodes.iter_mut() {
            if node.file != NO_FILE && node.file != REMOVED {
                node.file = numbers[node.file as usize];
            }
        }
        self.blobs = Blobs::Packed(Arc::clone(pack));
        Ok(())
    }

    /// Whether the new contents go into a pack.
    pub fn is_packed(&self) -> bool {
        self.pack().is_some()
    }

    /// The pack holding the new contents, once they are packed.
    pub(super) fn pack(&self) -> Option<&Arc<PackStream>> {
        match &self.blobs {
            Blobs::Packed(pack) => Some(pack),
            Blobs::Memory(_) => None,
        }
    }

    /// Every change, in the order their paths were first changed.
    pub fn iter(&self) -> impl Iterator<Item = FileChange> + '_ {
        (0..self.nodes.len() as u32).filter_map(|n| self.change_at(n))
    }

    /// The changed paths, in the same order.
    pub fn paths(&self) -> impl Iterator<Item = String> + Clone + '_ {
        (0..self.nodes.len() as u32).filter(|&n| self.nodes[n as usize].file != NO_FILE).map(|n| self.path_of(n))
    }

    /// The change of `path`, if it changes.
    pub fn get(&self, path: &str) -> Option<FileChange> {
        self.change_at(self.find(path)?)
    }

    /// The node of `path`, made (with its folders) if new.
    fn node_of(&mut self, path: &str) -> u32 {
        let mut parent = ROOT;
        for component in path.split('/') {
            let name = self.names.intern(component);
            let (hash, found) = self.child(parent, name);
            parent = match found {
                Some(n) => n,
                None => {
                    let n = self.nodes.len() as u32;
                    self.nodes.push(Node { parent, name, file: NO_FILE });
                    let (nodes, hasher) = (&self.nodes, &self.hasher);
                    self.by_path.insert_unique(hash, n, |&n| hasher.hash_one(nodes[n as usize].key()));
                    n
                }
            };
        }
        parent
    }

    /// The node of `path`, if it has one.
    fn find(&self, path: &str) -> Option<u32> {
        let mut parent = ROOT;
        for component in path.split('/') {
            parent = self.child(parent, self.names.find(component)?).1?;
        }
        Some(parent)
    }

    /// The node named `name` right under `parent`, if any, with the hash
    /// it is (or would be) found by.
    fn child(&self, parent: u32, name: u32) -> (u64, Option<u32>) {
        let hash = self.hasher.hash_one((parent, name));
        (hash, self.by_path.find(hash, |&n| self.nodes[n as usize].key() == (parent, name)).copied())
    }

    fn path_of(&self, node: u32) -> String {
        let mut components = Vec::new();
        let mut at = node;
        while at != ROOT {
            let n = self.nodes[at as usize];
            components.push(self.names.get(n.name));
            at = n.parent;
        }
        components.reverse();
        components.join("/")
    }

    fn change_at(&self, node: u32) -> Option<FileChange> {
        let path = || self.path_of(node);
        match self.nodes[node as usize].file {
            NO_FILE => None,
            REMOVED => Some(FileChange::Remove { path: path() }),
            blob => Some(FileChange::Upsert { path: path(), blob: self.blob(blob) }),
        }
    }

    fn blob(&self, number: u32) -> Blob {
        match &self.blobs {
            Blobs::Memory(blobs) => blobs[number as usize].clone(),
            Blobs::Packed(pack) => Blob::packed(pack, number),
        }
    }

    /// The nodes, for building the commit's trees.
    pub(super) fn nodes(&self) -> &Chunked<Node> {
        &self.nodes
    }

    pub(super) fn name(&self, node: &Node) -> &str {
        self.names.get(node.name)
    }

    /// A node's file change: None (only a folder), Some(None) (removed)
    /// or the new blob's id.
    pub(super) fn file_id(&self, node: &Node) -> Option<Option<Oid>> {
        match node.file {
            NO_FILE => None,
            REMOVED => Some(None),
            blob => Some(Some(match &self.blobs {
                Blobs::Memory(blobs) => blobs[blob as usize].id(),
                Blobs::Packed(pack) => pack.id(blob),
            })),
        }
    }

    /// The contents held in memory, to write them as loose objects.
    pub(super) fn memory_blobs(&self) -> &[Blob] {
        match &self.blobs {
            Blobs::Memory(blobs) => blobs,
            Blobs::Packed(_) => &[],
        }
    }
}

impl FromIterator<FileChange> for Changes {
    /// Changes held in memory (for a commit's few files).
    fn from_iter<I: IntoIterator<Item = FileChange>>(changes: I) -> Self {
        let mut all = Changes::new();
        for change in changes {
            all.push(change).expect("a change held in memory is pushed without a pack");
        }
        all
    }
}

impl From<Vec<FileChange>> for Changes {
    fn from(changes: Vec<FileChange>) -> Self {
        changes.into_iter().collect()
    }
}

impl<const N: usize> From<[FileChange; N]> for Changes {
    fn from(changes: [FileChange; N]) -> Self {
        changes.into_iter().collect()
    }
}

impl From<&[FileChange]> for Changes {
    fn from(changes: &[FileChange]) -> Self {
        changes.iter().cloned().collect()
    }
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Path components, each held once in one string.
#[derive(Default)]
struct Names {
    text: String,
    /// Where each name lies in `text`.
    spans: Vec<(u32, u32)>,
    by_text: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Names {
    fn get(&self, name: u32) -> &str {
        let (start, end) = self.spans[name as usize];
        &self.text[start as usize..end as usize]
    }

    fn find(&self, text: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(text);
        self.by_text.find(hash, |&n| self.get(n) == text).copied()
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(found) = self.find(text) {
            return found;
        }
        let start = self.text.len() as u32;
        self.text.push_str(text);
        let n = self.spans.len() as u32;
        self.spans.push((start, self.text.len() as u32));
        let hash = self.hasher.hash_one(text);
        let (text, spans, hasher) = (&self.text, &self.spans, &self.hasher);
        self.by_text.insert_unique(hash, n, |&n| {
            let (start, end) = spans[n as usize];
            hasher.hash_one(&text[start as usize..end as usize])
        });
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(change: &FileChange) -> Option<String> {
        change.content().unwrap().map(|c| String::from_utf8(c.into_owned()).unwrap())
    }

    /// Paths come back whole, in the order first changed; a path changed
    /// again keeps its last change; folders are not files.
    #[test]
    fn changes_are_read_back_by_path_and_in_order() {
        let mut changes = Changes::new();
        for change in [
            FileChange::upsert("platform/team/mysql-a/cell.prod.primary.yaml", "a"),
            FileChange::upsert("requests/team/mysql-a.yaml", "request a"),
            FileChange::upsert("platform/team/mysql-b/cell.prod.primary.yaml", "b"),
            FileChange::Remove { path: "catalog/team/mysql-a.yaml".into() },
            FileChange::upsert("requests/team/mysql-a.yaml", "request a, again"),
            FileChange::upsert("top.yaml", "top"),
        ] {
            changes.push(change).unwrap();
        }
        assert_eq!(changes.len(), 5);
        let paths: Vec<String> = changes.paths().collect();
        assert_eq!(
            paths,
            [
                "platform/team/mysql-a/cell.prod.primary.yaml",
                "requests/team/mysql-a.yaml",
                "platform/team/mysql-b/cell.prod.primary.yaml",
                "catalog/team/mysql-a.yaml",
                "top.yaml"
            ]
        );
        let read: Vec<(String, Option<String>)> = changes.iter().map(|c| (c.path().to_owned(), text(&c))).collect();
        assert_eq!(read[1], ("requests/team/mysql-a.yaml".to_owned(), Some("request a, again".to_owned())));
        assert_eq!(read[3], ("catalog/team/mysql-a.yaml".to_owned(), None));
        assert_eq!(changes.get("top.yaml"), Some(FileChange::upsert("top.yaml", "top")));
        assert_eq!(changes.get("platform/team"), None, "a folder is not a change");
        assert_eq!(changes.get("platform/team/mysql-c/cell.prod.primary.yaml"), None);
        assert_eq!(changes.get("requests/team/mysql-a.yaml/x"), None);
    }

    /// Once packed, the contents held so far and every later one are read
    /// back from the pack, with the ids they had in memory.
    #[test]
    fn packed_changes_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let before: Vec<FileChange> =
            (0..5).map(|i| FileChange::upsert(format!("f/{i}.yaml"), format!("file {i}\n").repeat(i + 1))).collect();
        let mut changes: Changes = before[..3].iter().cloned().collect();
        assert!(!changes.is_packed());
        let pack = PackStream::create(dir.path()).unwrap();
        changes.pack_into(&pack).unwrap();
        for change in &before[3..] {
            changes.push(change.clone()).unwrap();
        }
        changes.push(FileChange::Remove { path: "f/gone.yaml".into() }).unwrap();
        assert!(changes.is_packed() && changes.memory_blobs().is_empty());
        let read: Vec<FileChange> = changes.iter().collect();
        assert_eq!(read[..5], before[..], "same paths, same blobs (by id)");
        for (packed, held) in read.iter().zip(&before) {
            assert_eq!(text(packed), text(held));
        }
        assert_eq!(read[5], FileChange::Remove { path: "f/gone.yaml".into() });
    }
}
