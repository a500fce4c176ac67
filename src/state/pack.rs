//! A large commit's new objects go into one pack file, the way `git fetch`
//! stores more than `transfer.unpackLimit` (100) objects: one file instead of
//! one file per object, which is what bounds a bulk apply of thousands of
//! requests (file creation, not hashing, dominates a loose write).
//!
//! The pack is written as the commit is built ([`PackStream`]): a bulk plan
//! appends each file's blob as it renders it and keeps only its id and where
//! it lies, so memory does not grow with the manifests; the trees and the
//! commit follow, then the `.idx` (sorted ids, CRCs, offsets: the version 2
//! format of git's `Documentation/gitformat-pack.txt`) is written and both
//! files are renamed into `objects/pack/`, the `.idx` last, as `git
//! index-pack` does: a reader sees the whole pack or none of it, and a killed
//! process leaves at most a `tmp_idp_pack_*` file behind. Objects are whole
//! and zlib-compressed, no deltas (like `git fast-import`); `git gc`
//! repacks them with deltas.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, FlushCompress, Status};
use git2::{ObjectType, Oid};
use hashbrown::HashTable;
use sha1::{Digest, Sha1};

use super::StateError;
use super::chunked::Chunked;

/// Objects in one write above which they are packed rather than loose.
pub const PACK_THRESHOLD: usize = 100;

/// A file's content as it waits to be committed, with its blob id: in
/// memory, or already an object of the pack of the commit being built. A
/// small plan never pays for compression or a file, nor for a hash: `idp
/// plan` compares contents and never writes, so the id is worked out when
/// first asked for.
#[derive(Clone)]
pub struct Blob {
    data: Data,
}

#[derive(Clone)]
enum Data {
    Raw {
        bytes: Vec<u8>,
        id: std::sync::OnceLock<Oid>,
    },
    /// The `object`-th object of a pack stream.
    Packed {
        pack: Arc<PackStream>,
        object: u32,
    },
}

impl Blob {
    pub fn new(content: Vec<u8>) -> Self {
        Self { data: Data::Raw { bytes: content, id: std::sync::OnceLock::new() } }
    }

    /// A blob appended to `pack` already.
    pub(super) fn packed(pack: &Arc<PackStream>, object: u32) -> Self {
        Self { data: Data::Packed { pack: Arc::clone(pack), object } }
    }

    pub(super) fn id(&self) -> Oid {
        match &self.data {
            Data::Raw { bytes, id } => *id.get_or_init(|| {
                Oid::hash_object(ObjectType::Blob, bytes).expect("hashing bytes in memory cannot fail")
            }),
            Data::Packed { pack, object } => pack.id(*object),
        }
    }

    /// The content, read back from the pack if it was packed: an error
    /// there (the temporary file gone, the disk failing) is the caller's to
    /// report, like any other failed read of the state repo.
    pub fn content(&self) -> Result<std::borrow::Cow<'_, [u8]>, StateError> {
        match &self.data {
            Data::Raw { bytes, .. } => Ok(std::borrow::Cow::Borrowed(bytes)),
            Data::Packed { pack, object } => pack.content(*object).map(std::borrow::Cow::Owned),
        }
    }
}

/// Same content, same blob, however each is held: the bytes of two held in
/// memory, else the ids (a packed blob's is in its pack's table).
impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        match (&self.data, &other.data) {
            (Data::Raw { bytes: a, .. }, Data::Raw { bytes: b, .. }) => a == b,
            _ => self.id() == other.id(),
        }
    }
}

impl Eq for Blob {}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({})", self.id())
    }
}

/// zlib at level 1, as git writes loose objects (`core.looseCompression`;
/// `git gc` recompresses when it repacks), with one compressor per thread:
/// setting one up costs more than compressing a typical manifest.
fn deflate(data: &[u8]) -> Vec<u8> {
    thread_local! {
        static ZLIB: std::cell::RefCell<Compress> = std::cell::RefCell::new(Compress::new(Compression::fast(), true));
    }
    ZLIB.with_borrow_mut(|zlib| {
        zlib.reset();
        let mut out = Vec::with_capacity(data.len() / 3 + 64);
        loop {
            let consumed = zlib.total_in() as usize;
            let status = zlib.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish);
            match status.expect("deflating bytes in memory cannot fail") {
                Status::StreamEnd => break,
                _ => out.reserve(out.capacity().max(64)),
            }
        }
        out
    })
}

/// A pack being written, object by object, in a temporary file of
/// `objects/pack/` (or any folder, for a plan that will not commit).
///
/// An object is hashed and numbered on the caller's thread (its id and
/// number are needed at once) and compressed and written by the pack's own
/// thread, in number order: zlib was a sixth of a bulk plan's time, and the
/// plan goes on rendering while it runs on the other core.
pub struct PackStream {
    shared: Arc<Shared>,
    /// To the writer thread, in number order.
    outbox: Mutex<Outbox>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// What the caller and the writer thread share.
struct Shared {
    spool: Mutex<Spool>,
    /// Signalled each time the writer has written an object, and when it stops.
    progress: Condvar,
}

struct Spool {
    out: BufWriter<File>,
    /// Removed when dropped, unless installed first.
    temp: Option<tempfile::TempPath>,
    written: u64,
    /// In the order written, so each object ends where the next begins.
    /// Its CRC and offset are set once the writer has written it.
    objects: Chunked<Object>,
    /// Indices into `objects`, found by id: 32 + ~6 bytes an object, where
    /// a map of ids to entries took ~60 (100,000 requests write ~800,000).
    by_id: HashTable<u32>,
    /// How many of `objects` are in the file (the rest are being compressed).
    settled: usize,
    /// The writer thread has stopped (it stops only when the pack is dropped,
    /// or if it panicked).
    stopped: bool,
    /// The first write that failed: every later call reports it.
    failed: Option<(std::io::ErrorKind, String)>,
}

/// An object on its way to the writer thread.
struct Entry {
    number: u32,
    header: Vec<u8>,
    raw: Vec<u8>,
}

/// Objects go to the writer in batches of about this many bytes: one
/// wake-up of the writer thread per object cost more than it saved.
const BATCH_BYTES: usize = 1 << 16;

/// Batches waiting for the writer at most: the planning thread waits
/// beyond that, so memory holds a few hundred KB of manifests, not the plan's.
const QUEUED: usize = 4;

/// The batch being filled for the writer thread.
struct Outbox {
    batch: Vec<Entry>,
    bytes: usize,
    /// None once the pack is dropped.
    to_writer: Option<SyncSender<Vec<Entry>>>,
}

impl Outbox {
    fn push(&mut self, entry: Entry) -> bool {
        self.bytes += entry.raw.len();
        self.batch.push(entry);
        self.bytes < BATCH_BYTES || self.send()
    }

    /// Sends the batch as it is; false when the writer has hung up.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        self.bytes = 0;
        let batch = std::mem::take(&mut self.batch);
        self.to_writer.as_ref().is_some_and(|to_writer| to_writer.send(batch).is_ok())
    }
}

/// An object of the pack: what its index needs.
#[derive(Clone, Copy)]
struct Object {
    id: [u8; 20],
    crc: u32,
    offset: u64,
}

/// An id's place in [`Spool::by_id`]: its first 8 bytes, which a SHA-1
/// spreads evenly already.
fn id_hash(id: &[u8; 20]) -> u64 {
    u64::from_le_bytes(id[..8].try_into().expect("8 of 20 bytes"))
}

const HEADER_LEN: u64 = 12;

fn io_error(what: &str, e: std::io::Error) -> StateError {
    super::git(format!("{what} the pack being written"))(git2::Error::from_str(&e.to_string()))
}

impl PackStream {
    /// Starts a pack in `dir`; its object count is written when it is installed.
    pub fn create(dir: &Path) -> Result<Arc<Self>, StateError> {
        let temp = tempfile::Builder::new().prefix("tmp_idp_pack_").tempfile_in(dir).map_err(|e| {
            super::git(format!("start a pack in {}", dir.display()))(git2::Error::from_str(&e.to_string()))
        })?;
        let (file, temp) = temp.into_parts();
        Self::start(file, temp)
    }

    /// A pack written to `file`, removed with `temp` unless installed.
    fn start(file: File, temp: tempfile::TempPath) -> Result<Arc<Self>, StateError> {
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(b"PACK\0\0\0\x02\0\0\0\0").map_err(|e| io_error("write", e))?;
        let spool = Spool {
            out,
            temp: Some(temp),
            written: HEADER_LEN,
            objects: Chunked::default(),
            by_id: HashTable::new(),
            settled: 0,
            stopped: false,
            failed: None,
        };
        let shared = Arc::new(Shared { spool: Mutex::new(spool), progress: Condvar::new() });
        let (to_writer, entries) = std::sync::mpsc::sync_channel(QUEUED);
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("idp-pack".into())
                .spawn(move || write_entries(&shared, entries))
                .map_err(|e| io_error("start the writer of", e))?
        };
        Ok(Arc::new(Self {
            shared,
            outbox: Mutex::new(Outbox { batch: Vec::new(), bytes: 0, to_writer: Some(to_writer) }),
            writer: Mutex::new(Some(writer)),
        }))
    }

    fn spool(&self) -> MutexGuard<'_, Spool> {
        self.shared.spool()
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The spool once every object appended is in the file, or the first
    /// write that failed. Locks: this takes the outbox, then the spool,
    /// never both at once; `append` takes the spool while it holds the
    /// outbox; the writer takes only the spool. No cycle.
    fn settled(&self) -> Result<MutexGuard<'_, Spool>, StateError> {
        self.outbox().send();
        let mut spool = self.spool();
        while spool.settled < spool.objects.len() && !spool.stopped {
            spool = self.shared.progress.wait(spool).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        spool.check()?;
        if spool.settled < spool.objects.len() {
            return Err(io_error("write", std::io::Error::other("its writer stopped")));
        }
        Ok(spool)
    }

    /// Appends one object (once: the same content twice is one object) and
    /// returns its number in this pack; the writer thread compresses it.
    pub(super) fn append(&self, kind: ObjectType, raw: &[u8]) -> Result<u32, StateError> {
        let id = Oid::hash_object(kind, raw).map_err(super::git("hash an object"))?;
        let id: [u8; 20] = id.as_bytes().try_into().expect("a SHA-1 id is 20 bytes");
        // Held until the object is queued: one that has a number is in the
        // outbox, so `settled` (which sends the outbox first) never waits
        // on one nobody will send.
        let mut outbox = self.outbox();
        let mut spool = self.spool();
        spool.check()?;
        let Spool { objects, by_id, .. } = &mut *spool;
        let hash = id_hash(&id);
        if let Some(&found) = by_id.find(hash, |&i| objects[i as usize].id == id) {
            return Ok(found);
        }
        let number = u32::try_from(objects.len())
            .map_err(|_| io_error("count", std::io::Error::other("too many objects for one pack")))?;
        objects.push(Object { id, crc: 0, offset: 0 });
        by_id.insert_unique(hash, number, |&i| id_hash(&objects[i as usize].id));
        drop(spool);
        let entry = Entry { number, header: entry_header(kind, raw.len()), raw: raw.to_vec() };
        if !outbox.push(entry) {
            // Only a writer that panicked hangs up: `settled` reports it.
            return Err(io_error("write", std::io::Error::other("its writer stopped")));
        }
        Ok(number)
    }

    /// The id of object `number` (one `append` returned).
    pub(super) fn id(&self, number: u32) -> Oid {
        Oid::from_bytes(&self.spool().objects[number as usize].id).expect("20 bytes are an id")
    }

    /// The content of object `number`, read back and inflated: it lies
    /// between its offset and the next object's (or the end).
    fn content(&self, number: u32) -> Result<Vec<u8>, StateError> {
        let mut spool = self.settled()?;
        let at = spool.objects[number as usize].offset;
        let end = spool.objects.get(number as usize + 1).map_or(spool.written, |next| next.offset);
        spool.out.flush().map_err(|e| io_error("write", e))?;
        let mut entry = vec![0; (end - at) as usize];
        spool.out.get_ref().read_exact_at(&mut entry, at).map_err(|e| io_error("read", e))?;
        drop(spool);
        let bad = || io_error("read back", std::io::Error::other(format!("the object at {at} does not inflate")));
        let (size, header_len) = entry_size(&entry).ok_or_else(bad)?;
        let mut out = Vec::with_capacity(size);
        let inflated = flate2::Decompress::new(true).decompress_vec(
            &entry[header_len..],
            &mut out,
            flate2::FlushDecompress::Finish,
        );
        match inflated {
            Ok(flate2::Status::StreamEnd) if out.len() == size => Ok(out),
            _ => Err(bad()),
        }
    }

    /// Completes the pack (its count, its checksum), writes its index, and
    /// moves both into `pack_dir`; from then on the object database finds
    /// its objects (after a refresh).
    pub(super) fn install(&self, pack_dir: &Path) -> Result<(), StateError> {
        let mut spool = self.settled()?;
        let Some(temp) = spool.temp.take() else {
            return Err(io_error("install", std::io::Error::other("it was installed already")));
        };
        let count = spool.objects.len() as u32; // `append` numbers them in a u32
        spool.out.flush().map_err(|e| io_error("write", e))?;
        let written = spool.written;
        let file = spool.out.get_mut();
        file.write_all_at(&count.to_be_bytes(), 8).map_err(|e| io_error("write", e))?;
        // The trailer is the SHA-1 of everything before it.
        let mut hash = Sha1::new();
        file.seek(SeekFrom::Start(0)).map_err(|e| io_error("read", e))?;
        let mut chunk = vec![0; 1 << 16];
        let mut reader = (&*file).take(written);
        loop {
            let n = reader.read(&mut chunk).map_err(|e| io_error("read", e))?;
            if n == 0 {
                break;
            }
            hash.update(&chunk[..n]);
        }
        let checksum: [u8; 20] = hash.finalize().into();
        file.write_all_at(&checksum, written).map_err(|e| io_error("write", e))?;
        // Read-only, as git and libgit2 leave their packs (a temporary file
        // is readable by its owner only).
        file.set_permissions(std::fs::Permissions::from_mode(0o444)).map_err(|e| io_error("install", e))?;
        file.sync_all().map_err(|e| io_error("sync", e))?;
        let name = pack_dir.join(format!("pack-{}", hex(&checksum)));
        let pack_path = name.with_extension("pack");
        temp.persist(&pack_path).map_err(|e| io_error("install", e.error))?;
        let indexed = write_index(&spool.objects, &checksum, pack_dir, &name.with_extension("idx"));
        if indexed.is_err() {
            // A pack without its index is invisible to git, and garbage.
            let _ = std::fs::remove_file(&pack_path);
        }
        indexed?;
        Ok(())
    }
}

impl Drop for PackStream {
    /// Hangs up on the writer and waits for it: its last writes land (or
    /// are dropped with the temporary file) before the pack is gone.
    fn drop(&mut self) {
        self.outbox.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).to_writer.take();
        if let Some(writer) = self.writer.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            let _ = writer.join();
        }
    }
}

impl Shared {
    fn spool(&self) -> MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Spool {
    /// The first failed write, as the error of whatever asks next.
    fn check(&self) -> Result<(), StateError> {
        match &self.failed {
            Some((kind, message)) => Err(io_error("write", std::io::Error::new(*kind, message.clone()))),
            None => Ok(()),
        }
    }
}

/// The writer thread: compresses each entry, writes it after the last one
/// and records where it lies, until the pack hangs up. After a failed write
/// it only counts what arrives, so that nobody waits on it.
fn write_entries(shared: &Shared, batches: std::sync::mpsc::Receiver<Vec<Entry>>) {
    /// Says the writer stopped, also when it stops by panicking.
    struct Stopped<'a>(&'a Shared);
    impl Drop for Stopped<'_> {
        fn drop(&mut self) {
            self.0.spool().stopped = true;
            self.0.progress.notify_all();
        }
    }
    let _stopped = Stopped(shared);
    for batch in batches {
        let compressed: Vec<(u32, Vec<u8>, Vec<u8>, u32)> = batch
            .into_iter()
            .map(|Entry { number, header, raw }| {
                let zlib = deflate(&raw);
                let mut crc = flate2::Crc::new();
                crc.update(&header);
                crc.update(&zlib);
                (number, header, zlib, crc.sum())
            })
            .collect();
        let mut spool = shared.spool();
        for (number, header, zlib, crc) in &compressed {
            if spool.failed.is_none() {
                let offset = spool.written;
                match spool.out.write_all(header).and_then(|()| spool.out.write_all(zlib)) {
                    Ok(()) => {
                        spool.written += (header.len() + zlib.len()) as u64;
                        let object = &mut spool.objects[*number as usize];
                        (object.crc, object.offset) = (*crc, offset);
                    }
                    Err(e) => spool.failed = Some((e.kind(), e.to_string())),
                }
            }
        }
        spool.settled += compressed.len();
        drop(spool);
        shared.progress.notify_all();
    }
}

/// Writes the version 2 pack index of `objects`, read-only, under its
/// final name only once whole: magic and version, a fan-out table of
/// cumulative counts by first byte, the sorted ids, their CRC-32s, their
/// offsets (31 bits, or an index into a table of 64-bit ones), the pack's
/// checksum, and the SHA-1 of all that. Streamed, the objects sorted as
/// their 4-byte numbers: the index of a 100,000-request commit is ~22 MB,
/// and was built in memory at the apply's peak.
fn write_index(
    objects: &Chunked<Object>,
    pack_checksum: &[u8; 20],
    pack_dir: &Path,
    to: &Path,
) -> Result<(), StateError> {
    let io = |e| io_error("index", e);
    let temp = tempfile::Builder::new().prefix("tmp_idp_idx_").tempfile_in(pack_dir).map_err(io)?;
    write_index_to(temp.as_file(), objects, pack_checksum).map_err(io)?;
    temp.persist(to).map_err(|e| io_error("index", e.error))?;
    Ok(())
}

/// [`write_index`]'s bytes, into `file`, made read-only and synced.
fn write_index_to(file: &File, objects: &Chunked<Object>, pack_checksum: &[u8; 20]) -> std::io::Result<()> {
    let mut sorted: Vec<u32> = (0..objects.len() as u32).collect();
    sorted.sort_unstable_by_key(|&i| objects[i as usize].id);
    let sorted = || sorted.iter().map(|&i| &objects[i as usize]);
    let mut out = Hashed { out: BufWriter::with_capacity(1 << 16, file), hash: Sha1::new() };
    out.write_all(b"\xfftOc\0\0\0\x02")?;
    let mut fanout = [0u32; 256];
    for object in sorted() {
        fanout[object.id[0] as usize] += 1;
    }
    let mut total = 0;
    for count in fanout {
        total += count;
        out.write_all(&total.to_be_bytes())?;
    }
    for object in sorted() {
        out.write_all(&object.id)?;
    }
    for object in sorted() {
        out.write_all(&object.crc.to_be_bytes())?;
    }
    let mut large = Vec::new();
    for object in sorted() {
        let small = match u32::try_from(object.offset) {
            Ok(offset) if offset < 0x8000_0000 => offset,
            _ => {
                large.push(object.offset);
                0x8000_0000 | (large.len() as u32 - 1)
            }
        };
        out.write_all(&small.to_be_bytes())?;
    }
    for offset in large {
        out.write_all(&offset.to_be_bytes())?;
    }
    out.write_all(pack_checksum)?;
    let Hashed { out: mut buffered, hash } = out;
    let own: [u8; 20] = hash.finalize().into();
    buffered.write_all(&own).and_then(|()| buffered.flush())?;
    drop(buffered);
    file.set_permissions(std::fs::Permissions::from_mode(0o444))?;
    file.sync_all()
}

/// A writer that hashes what it writes.
struct Hashed<W> {
    out: W,
    hash: Sha1,
}

impl<W: Write> Write for Hashed<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(bytes)?;
        self.hash.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A pack entry's header: the type, then the inflated size in 7-bit groups,
/// low bits first (the first byte carries 4 bits after the type).
fn entry_header(kind: ObjectType, size: usize) -> Vec<u8> {
    let code: u8 = match kind {
        ObjectType::Commit => 1,
        ObjectType::Tree => 2,
        ObjectType::Blob => 3,
        _ => 4, // tag: idp writes none
    };
    let mut header = Vec::with_capacity(10);
    let mut byte = (code << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        header.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    header.push(byte);
    header
}

/// The inflated size an entry's header gives, and the header's length:
/// [`entry_header`] read back.
fn entry_size(entry: &[u8]) -> Option<(usize, usize)> {
    let mut size = (*entry.first()? & 0x0f) as usize;
    let mut shift = 4;
    for (i, byte) in entry.iter().enumerate() {
        if i > 0 {
            size |= ((byte & 0x7f) as usize).checked_shl(shift)?;
            shift += 7;
        }
        if byte & 0x80 == 0 {
            return Some((size, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_headers_follow_the_pack_format() {
        assert_eq!(entry_header(ObjectType::Blob, 5), [0x35]);
        assert_eq!(entry_header(ObjectType::Blob, 15), [0x3f]);
        // 16 = 0b1_0000: low nibble 0 with the continuation bit, then 1.
        assert_eq!(entry_header(ObjectType::Tree, 16), [0xa0, 0x01]);
        assert_eq!(entry_header(ObjectType::Commit, 300), [0x9c, 0x12]);
    }

    #[test]
    fn a_blob_keeps_git_s_id_and_its_content_in_memory_or_packed() {
        let dir = tempfile::tempdir().unwrap();
        let text = "kind: MySQLInstanceClaim\n".repeat(100);
        let in_memory = Blob::new(text.clone().into_bytes());
        // `git hash-object` of the same bytes.
        let id = Oid::hash_object(ObjectType::Blob, text.as_bytes()).unwrap();
        assert_eq!(in_memory.id(), id);
        assert_eq!(*in_memory.content().unwrap(), *text.as_bytes());
        let pack = PackStream::create(dir.path()).unwrap();
        let first = pack.append(ObjectType::Blob, b"another object first").unwrap();
        let number = pack.append(ObjectType::Blob, text.as_bytes()).unwrap();
        let twin = pack.append(ObjectType::Blob, text.as_bytes()).unwrap();
        assert_eq!((first, number, twin), (0, 1, 1), "the same content is one object");
        let blob = Blob::packed(&pack, number);
        pack.settled().unwrap().out.flush().unwrap();
        assert!(pack.settled().unwrap().written < HEADER_LEN + text.len() as u64 / 4, "compressed");
        assert_eq!((blob.id(), &*blob.content().unwrap()), (id, text.as_bytes()));
        assert_eq!(&*Blob::packed(&pack, first).content().unwrap(), b"another object first");
        assert_eq!(blob, in_memory);
        assert_eq!(*Blob::new(Vec::new()).content().unwrap(), *b"");
    }

    /// A packed blob whose bytes can no longer be read back (the temporary
    /// pack cut short, or overwritten) is an error for the caller to
    /// report, not a panic; and the same blob held in memory still equals it.
    #[test]
    fn a_packed_blob_that_cannot_be_read_back_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = "kind: MySQLInstanceClaim\n".repeat(100);
        let pack = PackStream::create(dir.path()).unwrap();
        let blob = Blob::packed(&pack, pack.append(ObjectType::Blob, text.as_bytes()).unwrap());
        pack.settled().unwrap().out.flush().unwrap();
        let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let whole = std::fs::read(&file).unwrap();
        // Overwritten with other bytes: they do not inflate to the blob.
        std::fs::write(&file, vec![0x55; whole.len()]).unwrap();
        assert!(blob.content().is_err());
        // Cut short: the bytes are not there.
        std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(12).unwrap();
        let error = blob.content().unwrap_err().to_string();
        assert!(error.contains("the pack being written"), "{error}");
        // Equality of a packed blob is by id, which needs no read-back.
        assert_eq!(blob, Blob::new(text.into_bytes()));
    }

    /// A write that fails on the writer thread is the error of the next
    /// call on the pack, and of every one after it; nothing waits forever
    /// on it. (A pack whose file takes no writes: opened read-only.)
    #[test]
    fn a_write_that_fails_on_the_writer_thread_is_reported_by_the_pack() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tmp_idp_pack_test");
        std::fs::write(&path, b"").unwrap();
        let read_only = File::open(&path).unwrap();
        let pack = PackStream::start(read_only, tempfile::TempPath::try_from_path(&path).unwrap()).unwrap();
        // More than the 64 KB buffer, and incompressible: the write reaches the file.
        let mut noise = Vec::with_capacity(1 << 18);
        let mut x: u32 = 2463534242;
        while noise.len() < 1 << 18 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.extend_from_slice(&x.to_le_bytes());
        }
        let number = pack.append(ObjectType::Blob, &noise).unwrap();
        let error = Blob::packed(&pack, number).content().unwrap_err().to_string();
        assert!(error.contains("write the pack being written"), "{error}");
        let later = pack.append(ObjectType::Blob, b"after the failure").unwrap_err().to_string();
        assert_eq!(later, error, "every later call reports the first failure");
        assert!(pack.install(dir.path()).is_err());
        drop(pack);
        assert!(!path.exists(), "the temporary pack goes with it");
    }

    /// The installed pack and index are what git writes and reads: `git
    /// verify-pack` checks every object against the index, and
    /// `git index-pack` of the same pack writes a byte-identical index.
    #[test]
    fn an_installed_pack_is_one_git_verifies_and_indexes_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let pack = PackStream::create(dir.path()).unwrap();
        let mut ids = Vec::new();
        for i in 0..300 {
            let number = pack.append(ObjectType::Blob, format!("file {i}\n").repeat(i % 7 + 1).as_bytes()).unwrap();
            ids.push(pack.id(number));
        }
        let tree = pack.id(pack.append(ObjectType::Tree, b"").unwrap());
        pack.install(dir.path()).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 2, "the pack and its index, no temporary file: {files:?}");
        for file in &files {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o444, "{} is read-only for all, as git leaves a pack", file.display());
        }
        let idx = files.iter().find(|f| f.extension().is_some_and(|e| e == "idx")).unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git").args(args).current_dir(dir.path()).output().unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let verified = git(&["verify-pack", "-v", idx.to_str().unwrap()]);
        for id in ids.iter().chain([&tree]) {
            assert!(verified.contains(&id.to_string()), "{id} missing: {verified}");
        }
        let ours = std::fs::read(idx).unwrap();
        let pack_file = idx.with_extension("pack");
        let theirs = dir.path().join("theirs.idx");
        git(&["index-pack", "-o", theirs.to_str().unwrap(), pack_file.to_str().unwrap()]);
        assert_eq!(ours, std::fs::read(theirs).unwrap(), "git's index of the same pack");
    }
}
