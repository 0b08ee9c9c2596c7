//! The LFS objects known to be intact, by their `stat` data, the way git's index trusts a file
//! whose stamps are unchanged: `.git/hf-relay/verified-lfs.json`. `push` checks every object
//! before its first request, and without this it would re-hash every object of HEAD each time.
//!
//! An entry says: when `recorded_ns` was read, the object with these stamps (size, mtime,
//! ctime, inode) had the content its oid names, because hf-relay had just written and hashed
//! it (a commit) or had just hashed it (`verify`). It is trusted without hashing when the
//! object's stamps still equal the entry's and its mtime is more than [`RACY_NS`] before
//! `recorded_ns`. That is git's racy rule: a write in the same timestamp tick as the stat
//! would not move the mtime, so a recent mtime proves nothing. Any later write sets the mtime
//! to its own time, which then differs; a tool that sets the mtime back afresh changes the
//! ctime, which cannot be set back.
//!
//! The rule looks at the mtime only, as git's does. A commit sets the mtime a second into the
//! past (`settle`), but linking, setting that mtime and renaming the file into the working
//! tree all set the ctime to the time of the commit itself: a window on the ctime would make
//! every object a commit just stored untrusted, and the push after a build would hash them all
//! again. What the ctime being in the window could hide is a write *and* a reset of the mtime
//! to the recorded nanosecond, both in the timestamp tick of the recording.
//!
//! A commit that replaces a working-tree file still hard-linked to its object (an unchanged
//! shard, rebuilt) moves that object's ctime too; when the cache vouched for the object just
//! before and only the ctime changed, the commit records the new ctime (a write in between
//! would have moved the mtime), else the first push after every rebuild would hash all of it.
//!
//! Writers hold the clone's lock and replace the file atomically ([`crate::repo::state`]).
//! A missing, unreadable or corrupt file is an empty cache: it costs only hashing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::state::VERIFIED_LFS;

/// An mtime within this of the recording time is "racy": the entry is not trusted.
pub const RACY_NS: i64 = 1_000_000_000;

/// The format of the file; another version is read as an empty cache.
const VERSION: u32 = 1;

/// What `stat` says of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamps {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
}

impl Stamps {
    pub fn of(meta: &fs::Metadata) -> Stamps {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let ns = |seconds: i64, nanos: i64| {
                seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
            };
            Stamps {
                size: meta.len(),
                mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
                ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
                inode: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            // No ctime or inode: only size and mtime can say the object is unchanged.
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_nanos() as i64);
            Stamps {
                size: meta.len(),
                mtime_ns,
                ctime_ns: 0,
                inode: 0,
            }
        }
    }
}

/// Nanoseconds since the epoch, for `recorded_ns`: read *before* the stat it goes with, so
/// that the racy rule errs on the safe side.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as i64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    stamps: Stamps,
    recorded_ns: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    /// oid → entry.
    objects: BTreeMap<String, Entry>,
}

/// The cache, as read, with the changes to write.
#[derive(Debug)]
pub struct VerifiedLfs {
    /// The `.git` folder.
    git_dir: PathBuf,
    objects: BTreeMap<String, Entry>,
    /// oid → new entry, or `None` to remove it.
    changes: BTreeMap<String, Option<Entry>>,
}

fn read(git_dir: &Path) -> BTreeMap<String, Entry> {
    VERIFIED_LFS
        .read(git_dir)
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<File>(&bytes).ok())
        .filter(|file| file.version == VERSION)
        .map(|file| file.objects)
        .unwrap_or_default()
}

impl VerifiedLfs {
    /// The cache of the clone whose `.git` folder is `git_dir`; empty when there is none.
    pub fn load(git_dir: &Path) -> VerifiedLfs {
        VerifiedLfs {
            objects: read(git_dir),
            git_dir: git_dir.to_path_buf(),
            changes: BTreeMap::new(),
        }
    }

    /// Whether the object `oid`, whose stamps are now `stamps`, can be taken as intact
    /// without hashing it.
    pub fn trusts(&self, oid: &str, stamps: &Stamps) -> bool {
        self.objects.get(oid).is_some_and(|entry| {
            entry.stamps == *stamps && entry.stamps.mtime_ns < entry.recorded_ns - RACY_NS
        })
    }

    /// Remembers that the object `oid` had the content `oid` names when it had `stamps`;
    /// `recorded_ns` is [`now_ns`], read before the stat.
    pub fn record(&mut self, oid: &str, stamps: Stamps, recorded_ns: i64) {
        let entry = Entry {
            stamps,
            recorded_ns,
        };
        self.objects.insert(oid.to_string(), entry);
        self.changes.insert(oid.to_string(), Some(entry));
    }

    /// Drops what is known of `oid` (it was found missing or corrupt).
    pub fn forget(&mut self, oid: &str) {
        if self.objects.remove(oid).is_some() {
            self.changes.insert(oid.to_string(), None);
        }
    }

    /// Writes the changes since [`VerifiedLfs::load`] over the file as it is now (another
    /// command may have recorded objects meanwhile). The caller holds the clone's lock.
    pub fn save(&mut self) -> anyhow::Result<()> {
        if self.changes.is_empty() {
            return Ok(());
        }
        let mut objects = read(&self.git_dir);
        for (oid, change) in std::mem::take(&mut self.changes) {
            match change {
                Some(entry) => objects.insert(oid, entry),
                None => objects.remove(&oid),
            };
        }
        let bytes = serde_json::to_vec(&File {
            version: VERSION,
            objects,
        })?;
        VERIFIED_LFS.write(&self.git_dir, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    /// As a commit leaves an object: the mtime set a second back, the ctime just now.
    fn stamps() -> Stamps {
        Stamps {
            size: 3,
            mtime_ns: 1_000 * RACY_NS,
            ctime_ns: 1_001 * RACY_NS + 5,
            inode: 42,
        }
    }

    #[test]
    fn equal_stamps_outside_the_racy_window_are_trusted_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = VerifiedLfs::load(dir.path());
        let old = stamps();
        assert!(!cache.trusts(OID, &old), "an empty cache trusts nothing");

        // Recorded just after the ctime: trusted, the ctime is only compared.
        cache.record(OID, old, old.ctime_ns + 1);
        assert!(cache.trusts(OID, &old));
        for changed in [
            Stamps { size: 4, ..old },
            Stamps {
                mtime_ns: old.mtime_ns + 1,
                ..old
            },
            Stamps {
                ctime_ns: old.ctime_ns + 1,
                ..old
            },
            Stamps { inode: 43, ..old },
        ] {
            assert!(!cache.trusts(OID, &changed), "{changed:?}");
        }
        assert!(!cache.trusts(&OID.replace('b', "c"), &old));

        // Racy: the mtime is within a second of the recording.
        cache.record(OID, old, old.mtime_ns + RACY_NS);
        assert!(!cache.trusts(OID, &old));
        cache.record(OID, old, old.mtime_ns - 1);
        assert!(!cache.trusts(OID, &old));
        cache.record(OID, old, old.mtime_ns + RACY_NS + 1);
        assert!(cache.trusts(OID, &old));

        cache.forget(OID);
        assert!(!cache.trusts(OID, &old));
    }

    #[test]
    fn save_merges_into_the_file_as_it_is_and_junk_is_an_empty_cache() {
        let dir = tempfile::tempdir().unwrap();
        let other = OID.replace('b', "c");
        let recorded = stamps().mtime_ns + 2 * RACY_NS;

        let mut first = VerifiedLfs::load(dir.path());
        let mut second = VerifiedLfs::load(dir.path());
        first.record(OID, stamps(), recorded);
        first.save().unwrap();
        second.record(&other, stamps(), recorded);
        second.save().unwrap();
        let cache = VerifiedLfs::load(dir.path());
        assert!(cache.trusts(OID, &stamps()) && cache.trusts(&other, &stamps()));

        let mut forgetting = VerifiedLfs::load(dir.path());
        forgetting.forget(OID);
        forgetting.save().unwrap();
        let cache = VerifiedLfs::load(dir.path());
        assert!(!cache.trusts(OID, &stamps()) && cache.trusts(&other, &stamps()));
        assert!(
            !VERIFIED_LFS
                .path(dir.path())
                .with_extension("json.tmp")
                .exists()
        );

        for junk in ["", "{", "[]", "{\"version\": 2, \"objects\": {}}"] {
            fs::write(VERIFIED_LFS.path(dir.path()), junk).unwrap();
            assert!(
                !VerifiedLfs::load(dir.path()).trusts(&other, &stamps()),
                "{junk}"
            );
        }
    }
}
