//! `hf-relay verify`: LFS objects, Parquet files and the card agree; the Hub would take it.
//! The explicit integrity check: it hashes every LFS object, whatever their stamps say.

use crate::cli::VerifyArgs;
use crate::inspect::{self, Hashing};
use crate::repo::verified_lfs::VerifiedLfs;

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let mut verified = VerifiedLfs::load(clone.git_dir());
    let report = match args.rev.as_deref() {
        Some(rev) => inspect::verify(&clone, rev, Hashing::All, &mut verified)?,
        // What a push would publish: HEAD, and the objects of unpublished commits and tags.
        None => inspect::verify_unpublished(&clone, Hashing::All, &mut verified)?,
    };
    // What it found intact spares `push` the hashing; recorded only when no other hf-relay
    // process works on the clone (a read-only command then changes nothing), and best effort.
    if let Ok(Some(_lock)) = clone.try_lock() {
        let _ = verified.save();
    }
    super::print_stdout(&crate::output::verify::render(&report))?;
    if !report.is_ok() {
        let n = report.problems.len();
        anyhow::bail!(
            "verify found {n} problem{} at {} ({})",
            if n == 1 { "" } else { "s" },
            report.rev,
            report.short
        );
    }
    Ok(())
}
