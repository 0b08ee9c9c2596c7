//! Every row's hash of the last build, per split (`.git/hf-relay/row-hashes/CONFIG/SPLIT.bin`),
//! so the next build can say how many rows it added, removed and changed (the `Rows:` line of
//! its commit message, which `log` shows) without decoding anything it did not decode anyway.
//!
//! The file is a few header lines, then 16 bytes per row (the hash, little-endian):
//!
//! ```text
//! hf-relay row hashes 1
//! xxh3-128 of each JSONL line          <- what was hashed (see Converted::row_hash_kind)
//! 3f1c…                                <- the split's committed shards (see `fingerprint`)
//! 185000                               <- rows
//! ```
//!
//! For JSONL the hashes are of each line's text, which the build computes anyway: rows whose
//! lines are the same are the same rows. Where the alignment pairs removed and added rows
//! (rows that may only be written differently: other spacing, `1.0` for `1`), those rows alone
//! are read back from the old and new shards and compared by value, as `diff` compares them,
//! so the counts are `diff`'s; an edit of one row reads the row groups of two rows.
//!
//! It counts only while HEAD holds the very shards it was recorded for, and only against row
//! hashes of the same kind; a file that is missing, stale, truncated or of another kind means
//! the delta is not known, and the build's message says nothing of it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::head::HeadState;
use super::next_state::{SplitSummary, shard_files_of};
use super::plan::BuildPlan;
use crate::convert::{Converted, row_hash};
use crate::inspect::align::RowDelta;
use crate::repo::LocalClone;
use crate::repo::lfs;
use crate::repo::state::ROW_HASHES;

const MAGIC: &str = "hf-relay row hashes 1";

/// The file of a split, inside [`ROW_HASHES`].
fn relative(config: &str, split: &str) -> PathBuf {
    Path::new(config).join(format!("{split}.bin"))
}

fn path(clone: &LocalClone, config: &str, split: &str) -> PathBuf {
    ROW_HASHES
        .path(clone.repo.path())
        .join(relative(config, split))
}

/// Names the shards a split's rows are in: SHA-256 over their paths and LFS oids, by path.
fn fingerprint<'a>(shards: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut shards: Vec<(&str, &str)> = shards.into_iter().collect();
    shards.sort_unstable();
    let mut digest = Sha256::new();
    for (path, oid) in shards {
        digest.update(format!("{path} {oid}\n").as_bytes());
    }
    crate::convert::shards::hex(&digest.finalize())
}

/// The fingerprint of the split's shards in HEAD, `None` when one of them is not an LFS
/// pointer.
fn head_fingerprint(head: &HeadState, data_dir: &str, split: &str) -> Option<String> {
    let shards: Option<Vec<(&str, &str)>> = shard_files_of(&head.data_files, data_dir, split)
        .map(|path| Some((path.as_str(), head.pointer(path)?.oid.as_str())))
        .collect();
    Some(fingerprint(shards?))
}

/// Sets each split's row delta against HEAD, where both sides' row hashes are known.
pub fn add_deltas(
    clone: &LocalClone,
    head: &HeadState,
    plan: &BuildPlan,
    converted: &Converted,
    summaries: &mut [SplitSummary],
) {
    for (summary, split) in summaries.iter_mut().zip(&converted.splits) {
        summary.rows_delta = split.row_hashes.as_ref().and_then(|new| {
            let old = previous(
                clone,
                head,
                &plan.config_name,
                &plan.data_dir,
                &split.name,
                &converted.row_hash_kind,
            )?;
            if converted.row_hash_kind != crate::convert::LINE_HASHES {
                // Hashes of values already.
                return Some(RowDelta::between(&old, new));
            }
            RowDelta::between_by_value(&old, new, |old_rows, new_rows| {
                let old_shards = head_shard_files(clone, head, &plan.data_dir, &split.name)?;
                if old_shards.iter().map(|(_, rows)| rows).sum::<usize>() != old.len() {
                    return None;
                }
                let new_shards: Vec<(PathBuf, usize)> = split
                    .shards
                    .iter()
                    .map(|shard| Some((shard.path.clone(), usize::try_from(shard.num_rows).ok()?)))
                    .collect::<Option<_>>()?;
                Some((
                    value_hashes(&old_shards, old_rows)?,
                    value_hashes(&new_shards, new_rows)?,
                ))
            })
        });
    }
}

/// The split's shards in HEAD, in row order: the LFS object of each and its rows.
fn head_shard_files(
    clone: &LocalClone,
    head: &HeadState,
    data_dir: &str,
    split: &str,
) -> Option<Vec<(PathBuf, usize)>> {
    let mut paths: Vec<&String> = shard_files_of(&head.data_files, data_dir, split).collect();
    paths.sort_unstable();
    paths
        .into_iter()
        .map(|path| {
            let stored = lfs::store_path(clone.repo.path(), &head.pointer(path)?.oid);
            let rows = row_hash::parquet_rows(&stored).ok()?;
            Some((stored, rows))
        })
        .collect()
}

/// The value hashes of the rows `ranges` (sorted row indexes over the whole split) of a split
/// whose shards are `shards` (file and rows, in order).
fn value_hashes(shards: &[(PathBuf, usize)], ranges: &[Range<usize>]) -> Option<Vec<u128>> {
    let wanted: usize = ranges.iter().map(ExactSizeIterator::len).sum();
    let mut hashes = Vec::with_capacity(wanted);
    let mut first = 0;
    for (path, rows) in shards {
        let shard = first..first + rows;
        let inside: Vec<Range<usize>> = ranges
            .iter()
            .filter_map(|range| {
                let (start, end) = (range.start.max(shard.start), range.end.min(shard.end));
                (start < end).then(|| start - first..end - first)
            })
            .collect();
        if !inside.is_empty() {
            hashes.extend(row_hash::hash_parquet_rows(path, &inside).ok()?);
        }
        first = shard.end;
    }
    (hashes.len() == wanted).then_some(hashes)
}

/// Records the row hashes of the splits a build committed (as `summaries` name their shards).
/// Only a cache: a split whose hashes cannot be recorded has no row delta at the next build.
pub fn record_build(
    clone: &LocalClone,
    plan: &BuildPlan,
    converted: &Converted,
    summaries: &[SplitSummary],
) {
    for (split, summary) in converted.splits.iter().zip(summaries) {
        let Some(hashes) = &split.row_hashes else {
            forget(clone, &plan.config_name, &split.name);
            continue;
        };
        let shards = summary
            .shards
            .iter()
            .zip(&split.shards)
            .map(|(committed, shard)| (committed.path.as_str(), shard.sha256.as_str()));
        let recorded = record(
            clone,
            &plan.config_name,
            &split.name,
            &converted.row_hash_kind,
            shards,
            hashes,
        );
        if recorded.is_err() {
            forget(clone, &plan.config_name, &split.name);
        }
    }
}

/// The row hashes of the split as HEAD holds it, when recorded with hashes of `kind`.
fn previous(
    clone: &LocalClone,
    head: &HeadState,
    config: &str,
    data_dir: &str,
    split: &str,
    kind: &str,
) -> Option<Vec<u128>> {
    let bytes = std::fs::read(path(clone, config, split)).ok()?;
    let mut header = bytes.splitn(5, |&b| b == b'\n');
    let mut line = || std::str::from_utf8(header.next()?).ok();
    if line()? != MAGIC || line()? != kind {
        return None;
    }
    if line()? != head_fingerprint(head, data_dir, split)? {
        return None;
    }
    let rows: usize = line()?.parse().ok()?;
    let body = header.next()?;
    if body.len() != rows.checked_mul(16)? {
        return None;
    }
    Some(
        body.chunks_exact(16)
            .map(|hash| u128::from_le_bytes(hash.try_into().expect("16 bytes")))
            .collect(),
    )
}

/// Records the row hashes of a split whose committed shards are `shards` (path, LFS oid).
fn record<'a>(
    clone: &LocalClone,
    config: &str,
    split: &str,
    kind: &str,
    shards: impl IntoIterator<Item = (&'a str, &'a str)>,
    hashes: &[u128],
) -> anyhow::Result<()> {
    ROW_HASHES.write_in(clone.repo.path(), &relative(config, split), |out| {
        write!(
            out,
            "{MAGIC}\n{kind}\n{}\n{}\n",
            fingerprint(shards),
            hashes.len()
        )?;
        for hash in hashes {
            out.write_all(&hash.to_le_bytes())?;
        }
        Ok(())
    })
}

/// Forgets a split's row hashes (its rows were not all hashed).
fn forget(clone: &LocalClone, config: &str, split: &str) {
    let _ = std::fs::remove_file(path(clone, config, split));
}
