//! A large commit's new objects go into one pack file, the way `git fetch`
//! stores more than `transfer.unpackLimit` (100) objects: one file instead of
//! one file per object, which is what bounds a bulk apply of thousands of
//! requests (file creation, not hashing, dominates a loose write).
//!
//! The pack holds whole objects, zlib-compressed, no deltas (like `git
//! fast-import` without a delta base); libgit2's indexer verifies it, writes
//! the `.idx` and moves both into place atomically when it is complete, so a
//! killed process leaves at most a temporary file behind.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::io::Write;

use flate2::{Compress, Compression, FlushCompress, Status};
use git2::{ObjectType, Odb, Oid};
use sha1::{Digest, Sha1};

use super::{StateError, git};

/// Objects in one write above which they are packed rather than loose.
pub const PACK_THRESHOLD: usize = 100;

/// A file's content as it waits to be committed, with its blob id. A bulk
/// plan deflates what it holds ([`Blob::deflate`]) into the zlib stream a
/// pack entry carries, about a quarter of the text, so 10,000 requests keep
/// tens of megabytes in memory rather than hundreds; a small plan never pays
/// for compression it will not use, nor for a hash: `idp plan` compares
/// contents and never writes, so the id is worked out when first asked for.
#[derive(Clone)]
pub struct Blob {
    id: OnceCell<Oid>,
    size: usize,
    data: Data,
}

#[derive(Clone, PartialEq, Eq)]
enum Data {
    Raw(Vec<u8>),
    Zlib(Vec<u8>),
}

impl Blob {
    pub fn new(content: Vec<u8>) -> Self {
        Self { id: OnceCell::new(), size: content.len(), data: Data::Raw(content) }
    }

    pub(super) fn id(&self) -> Oid {
        *self.id.get_or_init(|| {
            Oid::hash_object(ObjectType::Blob, &self.content()).expect("hashing bytes in memory cannot fail")
        })
    }

    /// Keeps the content deflated from now on, its id worked out while the
    /// text is at hand (a commit will ask for it).
    pub fn deflate(&mut self) {
        if let Data::Raw(raw) = &self.data {
            self.id();
            self.data = Data::Zlib(deflate(raw));
        }
    }

    pub fn content(&self) -> Cow<'_, [u8]> {
        match &self.data {
            Data::Raw(raw) => Cow::Borrowed(raw),
            Data::Zlib(zlib) => {
                let mut out = Vec::with_capacity(self.size);
                let mut inflate = flate2::Decompress::new(true);
                inflate
                    .decompress_vec(zlib, &mut out, flate2::FlushDecompress::Finish)
                    .expect("a blob inflates what it deflated");
                Cow::Owned(out)
            }
        }
    }

    fn zlib(&self) -> Cow<'_, [u8]> {
        match &self.data {
            Data::Raw(raw) => Cow::Owned(deflate(raw)),
            Data::Zlib(zlib) => Cow::Borrowed(zlib),
        }
    }
}

/// Same content, same blob, however each is held.
impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.size == other.size && self.content() == other.content()
    }
}

impl Eq for Blob {}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({}, {} bytes)", self.id(), self.size)
    }
}

/// zlib at level 1, as git writes loose objects (`core.looseCompression`;
/// `git gc` recompresses when it repacks), with one compressor per thread:
/// setting one up costs more than compressing a typical manifest.
fn deflate(data: &[u8]) -> Vec<u8> {
    thread_local! {
        static ZLIB: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), true));
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
        out.shrink_to_fit();
        out
    })
}

/// One object of a pack: whole, already deflated.
pub struct PackEntry<'a> {
    kind: ObjectType,
    size: usize,
    zlib: Cow<'a, [u8]>,
}

impl<'a> PackEntry<'a> {
    pub fn blob(blob: &'a Blob) -> Self {
        Self { kind: ObjectType::Blob, size: blob.size, zlib: blob.zlib() }
    }

    pub fn object(kind: ObjectType, data: &[u8]) -> Self {
        Self { kind, size: data.len(), zlib: Cow::Owned(deflate(data)) }
    }
}

/// Writes `objects` into the object database as one pack.
pub fn write_pack(odb: &Odb<'_>, objects: &[PackEntry<'_>]) -> Result<(), StateError> {
    // The packwriter's io::Error only says "Write error"; libgit2 keeps the
    // cause (a full disk, say) as its last error.
    let io = |e: std::io::Error| {
        let cause = match e.to_string().as_str() {
            "Write error" => git2::Error::last_error(-1),
            other => git2::Error::from_str(other),
        };
        git("write a pack")(cause)
    };
    let count = u32::try_from(objects.len()).map_err(|_| io(std::io::Error::other("too many objects for one pack")))?;
    let mut writer = odb.packwriter().map_err(git("start a pack"))?;
    let mut pack = HashingWriter { inner: &mut writer, hash: Sha1::new() };
    pack.write_all(b"PACK").map_err(io)?;
    pack.write_all(&2u32.to_be_bytes()).map_err(io)?;
    pack.write_all(&count.to_be_bytes()).map_err(io)?;
    for entry in objects {
        pack.write_all(&entry_header(entry.kind, entry.size)).map_err(io)?;
        pack.write_all(&entry.zlib).map_err(io)?;
    }
    let trailer = pack.hash.finalize();
    writer.write_all(&trailer).map_err(io)?;
    writer.commit().map_err(git("store the pack"))?;
    Ok(())
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

/// The pack's trailer is the SHA-1 of everything before it.
struct HashingWriter<W> {
    inner: W,
    hash: Sha1,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hash.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
    fn a_blob_keeps_git_s_id_and_its_content_deflated_or_not() {
        let text = "kind: MySQLInstanceClaim\n".repeat(100);
        let mut blob = Blob::new(text.clone().into_bytes());
        // `git hash-object` of the same bytes.
        assert_eq!(blob.id(), Oid::hash_object(ObjectType::Blob, text.as_bytes()).unwrap());
        assert_eq!(*blob.content(), *text.as_bytes());
        let zlib = blob.zlib().into_owned();
        blob.deflate();
        assert!(matches!(&blob.data, Data::Zlib(z) if *z == zlib && z.len() < text.len() / 4));
        assert_eq!(
            (blob.id(), &*blob.content()),
            (Oid::hash_object(ObjectType::Blob, text.as_bytes()).unwrap(), text.as_bytes())
        );
        assert_eq!(*Blob::new(Vec::new()).content(), *b"");
    }
}
