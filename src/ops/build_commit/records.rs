//! The row digests of the last build's shards (`.git/hf-relay/shards.json`), so the next build
//! can take a shard whose rows are unchanged instead of encoding it again, and the SHA-256
//! checkpoints of its inputs, so it hashes only what changed (see [`crate::convert::reuse`]).
//! Only a cache: a missing or stale file costs the encoding and the hashing, and a shard entry
//! counts only while HEAD holds that shard and the LFS store its bytes.

use super::head::HeadState;
use super::next_state::NextState;
use super::plan::BuildPlan;
use crate::convert::Converted;
use crate::convert::reuse::{InputRecord, Previous, Records, ShardRecord};
use crate::repo::LocalClone;
use crate::repo::lfs;
use crate::repo::state::SHARDS;

/// The previous shards this build may reuse.
pub fn previous(clone: &LocalClone, head: &HeadState, plan: &BuildPlan) -> Previous {
    let Some(records) = SHARDS
        .read(clone.git_dir())
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<Records>(&bytes).ok())
    else {
        return Previous::none();
    };
    Previous::from_records(records, |_, record| {
        let pointer = head.pointer(&format!("{}/{}", plan.data_dir, record.file_name))?;
        if pointer.oid != record.sha256 || pointer.size != record.file_size {
            return None;
        }
        let stored = lfs::store_path(clone.repo.path(), &pointer.oid);
        let size = std::fs::metadata(&stored).ok()?.len();
        (size == pointer.size).then_some(stored)
    })
}

/// The records of this build's shards, under the names they are committed with.
pub fn of_build(converted: &Converted, state: &NextState) -> Records {
    let splits = converted
        .splits
        .iter()
        .zip(&state.splits)
        .map(|(split, summary)| {
            let shards = split
                .shards
                .iter()
                .zip(&summary.shards)
                .map(|(shard, committed)| ShardRecord {
                    file_name: committed
                        .path
                        .rsplit_once('/')
                        .map_or(committed.path.clone(), |(_, name)| name.to_string()),
                    sha256: shard.sha256.clone(),
                    file_size: shard.file_size,
                    num_rows: shard.num_rows,
                    num_bytes: shard.num_bytes,
                    first_row: shard.first_row.clone(),
                    rows_digest: shard.rows_digest.clone(),
                    lines_digest: shard.lines_digest.clone(),
                    cut: shard.cut,
                })
                .collect();
            (split.name.clone(), shards)
        })
        .collect();
    let inputs = converted
        .inputs
        .iter()
        .zip(&converted.checkpoints)
        .map(|((path, _), checkpoints)| InputRecord {
            path: path.clone(),
            checkpoints: checkpoints.clone(),
        })
        .collect();
    Records {
        key: converted.format_key.clone(),
        splits,
        inputs,
    }
}

/// Remembers this build's shards (after HEAD holds them).
pub fn record(clone: &LocalClone, records: &Records) -> anyhow::Result<()> {
    SHARDS.write(clone.git_dir(), &serde_json::to_vec(records)?)
}
