//! `verify`: the explicit integrity check of a clone. LFS objects, Parquet files and the card
//! agree, and the Hub would take the commits; every LFS object is hashed, whatever the cache
//! of verified objects says, and what is found intact is recorded there for `push`.

use std::path::PathBuf;

use super::Reporter;
use crate::inspect::{self, Hashing, VerifyReport};
use crate::repo::verified_lfs::VerifiedLfs;

/// What `verify [REV]` is asked to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub dir: PathBuf,
    /// The commit to verify; default: what a push would publish (HEAD, and the objects of
    /// unpublished commits and tags).
    pub rev: Option<String>,
}

/// The report, problems included: finding some is a result, not an error.
pub fn verify(options: &VerifyOptions, reporter: &dyn Reporter) -> anyhow::Result<VerifyReport> {
    let clone = super::open_clone(&options.dir, reporter)?;
    let mut verified = VerifiedLfs::load(clone.git_dir());
    let report = match options.rev.as_deref() {
        Some(rev) => inspect::verify(&clone, rev, Hashing::All, &mut verified)?,
        None => inspect::verify_unpublished(&clone, Hashing::All, &mut verified)?,
    };
    // What it found intact spares `push` the hashing; recorded only when no other hf-relay
    // process works on the clone (a read-only command then changes nothing), and best effort.
    if let Ok(Some(_lock)) = clone.try_lock() {
        let _ = verified.save();
    }
    Ok(report)
}
