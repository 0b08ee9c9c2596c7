//! Not encoding again what is proven unchanged.
//!
//! Every shard is recorded with a digest of its rows: SHA-256 over each row's XXH3-128 line
//! hash and size estimate, in order, plus the hash of its first row. When a new shard starts
//! on a row whose hash is that of a previous shard's first row, the writer holds its rows back
//! instead of encoding them; if the shard then ends on the same row count with the same digest
//! (same lines, so the same cut), the previous shard's file is taken as it is. Otherwise the
//! held rows are encoded as usual. Only shards written with the same schema, writer options
//! and hf-relay version (the [`Previous::key`]) are reused, since only then are the bytes the
//! same. A line hash collision (2^-128 per changed line) is what this proof rests on.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a build records of one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub file_name: String,
    pub sha256: String,
    pub file_size: u64,
    pub num_rows: u64,
    pub num_bytes: u64,
    /// XXH3-128 of the first line, lowercase hex.
    pub first_row: String,
    /// SHA-256 of the rows' hashes and sizes, lowercase hex.
    pub rows_digest: String,
}

/// The shards of the last build, per split, with the format they were written in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Records {
    pub key: String,
    pub splits: Vec<(String, Vec<ShardRecord>)>,
}

/// Previous shards a build may reuse, with where their bytes are.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub key: String,
    /// Per split: candidates by first-row hash (a list: identical first rows happen).
    pub splits: HashMap<String, HashMap<u128, Vec<(ShardRecord, PathBuf)>>>,
}

impl Previous {
    /// Nothing to reuse.
    pub fn none() -> Previous {
        Previous::default()
    }

    /// The records whose shard `file` finds (the bytes the record names, still on disk).
    pub fn from_records(
        records: Records,
        file: impl Fn(&str, &ShardRecord) -> Option<PathBuf>,
    ) -> Previous {
        let mut splits: HashMap<String, HashMap<u128, Vec<(ShardRecord, PathBuf)>>> =
            HashMap::new();
        for (split, shards) in records.splits {
            for record in shards {
                let Ok(first) = u128::from_str_radix(&record.first_row, 16) else {
                    continue;
                };
                if let Some(path) = file(&split, &record) {
                    splits
                        .entry(split.clone())
                        .or_default()
                        .entry(first)
                        .or_default()
                        .push((record, path));
                }
            }
        }
        Previous {
            key: records.key,
            splits,
        }
    }

    /// The candidates of one split, when written in the format `key`.
    pub fn for_split(&self, split: &str, key: &str) -> HashMap<u128, Vec<(ShardRecord, PathBuf)>> {
        if self.key != key {
            return HashMap::new();
        }
        self.splits.get(split).cloned().unwrap_or_default()
    }
}
