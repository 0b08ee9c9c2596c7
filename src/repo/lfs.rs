//! Git LFS pointers (spec v1) and the `.git/lfs/objects` store, laid out as git-lfs does;
//! `objects`: the LFS files in git history and their checkout into the working tree.

mod objects;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

pub use self::objects::{
    FetchObject, LfsCheckout, checkout_lfs, lfs_pointers_at, lfs_pointers_between,
};

/// First line of every pointer.
pub const VERSION_LINE: &str = "version https://git-lfs.github.com/spec/v1";

/// Size of the read buffer used for hashing; one buffer is reused for every file of a commit.
pub const HASH_BUFFER_SIZE: usize = 1 << 20;

/// A Git LFS pointer: what the git tree holds instead of the file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub oid: String,
    /// Length of the content in bytes.
    pub size: u64,
}

impl Pointer {
    /// The canonical pointer text (spec v1): `version`, then `oid`, then `size`, each line
    /// ending in `\n`. Every content has exactly one encoding, so blob ids are reproducible.
    pub fn encode(&self) -> String {
        format!(
            "{VERSION_LINE}\noid sha256:{}\nsize {}\n",
            self.oid, self.size
        )
    }

    /// Parses a pointer, accepting only the canonical encoding that [`Pointer::encode`]
    /// produces (no extensions, no extra keys, no leading zeros, no CRLF).
    pub fn parse(bytes: &[u8]) -> Option<Pointer> {
        // Anything ≥ 1024 bytes is not a pointer (spec); also keeps the work bounded.
        if bytes.len() >= 1024 {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let rest = text.strip_prefix(VERSION_LINE)?.strip_prefix('\n')?;
        let rest = rest.strip_prefix("oid sha256:")?;
        let (oid, rest) = rest.split_once('\n')?;
        if !is_oid(oid) {
            return None;
        }
        let size = rest.strip_prefix("size ")?.strip_suffix('\n')?;
        let canonical_number = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        if !canonical_number {
            return None;
        }
        let size = size.parse().ok()?;
        Some(Pointer {
            oid: oid.to_string(),
            size,
        })
    }

    /// The bytes to commit for this content: the pointer text, except for an empty file,
    /// which is its own pointer (an empty blob, never sent through LFS).
    pub fn git_blob(&self) -> Vec<u8> {
        if self.size == 0 {
            Vec::new()
        } else {
            self.encode().into_bytes()
        }
    }
}

/// Whether `oid` is 64 lowercase hex digits.
pub fn is_oid(oid: &str) -> bool {
    oid.len() == 64 && oid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where git-lfs keeps the object `oid`: `.git/lfs/objects/OID[0:2]/OID[2:4]/OID`.
pub fn store_path(git_dir: &Path, oid: &str) -> PathBuf {
    git_dir
        .join("lfs")
        .join("objects")
        .join(&oid[0..2])
        .join(&oid[2..4])
        .join(oid)
}

/// Hashes files with one reused [`HASH_BUFFER_SIZE`] buffer.
pub struct Hasher {
    buffer: Vec<u8>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher {
            buffer: vec![0; HASH_BUFFER_SIZE],
        }
    }

    /// The pointer for the file at `path` (streamed; the file is never held in memory).
    pub fn pointer_for(&mut self, path: &Path) -> io::Result<Pointer> {
        let mut file = fs::File::open(path)?;
        let mut digest = Sha256::new();
        let mut size = 0u64;
        loop {
            let read = match file.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            digest.update(&self.buffer[..read]);
            size += read as u64;
        }
        Ok(Pointer {
            oid: crate::ids::hex(&digest.finalize()),
            size,
        })
    }
}

/// What [`store`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The object was already in the store with the right size.
    AlreadyPresent,
    /// Hard-linked to the source file (same inode, no copy).
    Linked,
    /// Copied through `.git/lfs/tmp` and renamed into place.
    Copied,
    /// Empty content is never stored.
    Empty,
}

/// Puts `source` (whose pointer is `pointer`, already computed) into the object store of
/// `git_dir`: hard link when possible, else a copy to `.git/lfs/tmp` renamed into place. A
/// present object of the right size is left as it is.
pub fn store(git_dir: &Path, pointer: &Pointer, source: &Path) -> anyhow::Result<Stored> {
    if pointer.size == 0 {
        return Ok(Stored::Empty);
    }
    anyhow::ensure!(is_oid(&pointer.oid), "invalid LFS oid {:?}", pointer.oid);
    let target = store_path(git_dir, &pointer.oid);
    let present = |target: &Path| {
        fs::metadata(target).is_ok_and(|meta| meta.is_file() && meta.len() == pointer.size)
    };
    if present(&target) {
        return Ok(Stored::AlreadyPresent);
    }
    let parent = target.parent().expect("store paths have a parent");
    fs::create_dir_all(parent)
        .with_context(|| format!("cannot create LFS store folder {}", parent.display()))?;

    if !target.exists() {
        match fs::hard_link(source, &target) {
            Ok(()) => return Ok(Stored::Linked),
            // Another process stored it meanwhile.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && present(&target) => {
                return Ok(Stored::AlreadyPresent);
            }
            // Other filesystem, no hard-link support, …: fall back to a copy.
            Err(_) => {}
        }
    }

    let tmp_dir = git_dir.join("lfs").join("tmp");
    fs::create_dir_all(&tmp_dir).with_context(|| format!("cannot create {}", tmp_dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{}-", pointer.oid))
        .tempfile_in(&tmp_dir)
        .with_context(|| format!("cannot create a temporary file in {}", tmp_dir.display()))?;
    let mut input =
        fs::File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
    let copied = io::copy(&mut input, tmp.as_file_mut())
        .with_context(|| format!("cannot copy {} into the LFS store", source.display()))?;
    anyhow::ensure!(
        copied == pointer.size,
        "{} changed while it was being stored ({} bytes, expected {})",
        source.display(),
        copied,
        pointer.size
    );
    tmp.persist(&target)
        .with_context(|| format!("cannot move the LFS object to {}", target.display()))?;
    Ok(Stored::Copied)
}

/// Hashes `source` and stores it in the object store of `git_dir`; returns its pointer.
pub fn hash_and_store(
    git_dir: &Path,
    source: &Path,
    hasher: &mut Hasher,
) -> anyhow::Result<Pointer> {
    let pointer = hasher
        .pointer_for(source)
        .with_context(|| format!("cannot read {}", source.display()))?;
    store(git_dir, &pointer, source)?;
    Ok(pointer)
}
