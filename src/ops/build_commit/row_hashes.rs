//! Every row's hash of the last build, per split (`.git/hf-relay/row-hashes/CONFIG/SPLIT.bin`),
//! so the next build can say how many rows it added, removed and changed (the `Rows:` line of
//! its commit message, which `log` shows) without decoding anything it did not decode anyway.
//!
//! The file is a few header lines, then 16 bytes per row (the hash, little-endian):
//!
//! ```text
//! hf-relay row hashes 1
//! xxh3-128 of each row's arrow-row …   <- what was hashed (see Converted::row_hash_kind)
//! 3f1c…                                <- the split's committed shards (see `fingerprint`)
//! 185000                               <- rows
//! ```
//!
//! Rows are hashed by value (their arrow-row encoding, as `diff` compares them), so a file
//! written again with other spacing or number formatting changes no row. The rows a build
//! takes from the last one without decoding them (the unchanged start, see
//! `convert::prefix`) keep the hashes recorded for them.
//!
//! It counts only while HEAD holds the very shards it was recorded for, and only against row
//! hashes of the same kind; a file that is missing, stale, truncated or of another kind means
//! the delta is not known, and the build's message says nothing of it. The hashes of rows
//! taken unread are then read from their shards once, so the next build knows its delta.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::head::HeadState;
use super::next_state::{SplitSummary, shard_files_of};
use super::plan::BuildPlan;
use arrow_schema::SchemaRef;

use crate::convert::{Converted, SplitOutput};
use crate::inspect::align::RowDelta;
use crate::repo::LocalClone;
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

/// Every split's row hashes, whole (`None` where one row's is not known).
pub struct SplitHashes(Vec<Option<Vec<u128>>>);

/// Sets each split's row delta against HEAD, where both sides' row hashes are known, and
/// returns every split's row hashes for [`record_build`].
pub fn add_deltas(
    clone: &LocalClone,
    head: &HeadState,
    plan: &BuildPlan,
    converted: &mut Converted,
    summaries: &mut [SplitSummary],
) -> SplitHashes {
    let mut whole = Vec::with_capacity(converted.splits.len());
    for (summary, split) in summaries.iter_mut().zip(&mut converted.splits) {
        let old = previous(
            clone,
            head,
            &plan.config_name,
            &plan.data_dir,
            &split.name,
            &converted.row_hash_kind,
        );
        let new = split
            .row_hashes
            .take()
            .and_then(|decoded| with_skipped(split, old.as_deref(), &converted.schema, decoded));
        summary.rows_delta = old
            .as_ref()
            .zip(new.as_ref())
            .map(|(old, new)| RowDelta::between(old, new));
        whole.push(new);
    }
    SplitHashes(whole)
}

/// The split's row hashes, whole: those of the rows taken unread from the last build (as
/// recorded for it, or else read from their shards), then `decoded`.
fn with_skipped(
    split: &SplitOutput,
    old: Option<&[u128]>,
    schema: &SchemaRef,
    decoded: Vec<u128>,
) -> Option<Vec<u128>> {
    let skipped = usize::try_from(split.skipped_rows).ok()?;
    if skipped == 0 {
        return Some(decoded);
    }
    let mut whole = match old {
        Some(old) if old.len() >= skipped => old[..skipped].to_vec(),
        _ => {
            let mut read = Vec::with_capacity(skipped);
            for shard in &split.shards[..split.skipped_shards] {
                read.extend(crate::convert::row_hash::hash_parquet_file(&shard.path, schema).ok()?);
            }
            if read.len() != skipped {
                return None;
            }
            read
        }
    };
    whole.extend(decoded);
    Some(whole)
}

/// Records the row hashes of the splits a build committed (as `summaries` name their shards).
/// Only a cache: a split whose hashes cannot be recorded has no row delta at the next build.
pub fn record_build(
    clone: &LocalClone,
    plan: &BuildPlan,
    converted: &Converted,
    summaries: &[SplitSummary],
    hashes: SplitHashes,
) {
    for ((split, summary), hashes) in converted.splits.iter().zip(summaries).zip(hashes.0) {
        let Some(hashes) = hashes else {
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
            &hashes,
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
