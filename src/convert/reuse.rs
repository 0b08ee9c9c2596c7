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
//!
//! The unchanged start of a split is not even decoded: each shard is also recorded with a
//! digest of its line hashes alone and with how it ended ([`Cut`]). A rebuild in the same
//! format hashes the split's lines from its start and takes, in order, every recorded shard
//! whose lines are the same and whose end was a boundary of its own rows (a content-defined
//! cut, or a cut at the maximum before a row that is itself unchanged): the same lines decode
//! to the same sizes, hence the same boundaries and the same bytes. Decoding starts with the
//! first shard that differs (see `convert::write_splits`).
//!
//! The SHA-256 of each input file (the commit's provenance trailer) is likewise resumed: a
//! build records, every [`CHECKPOINT_BYTES`] of each file, the XXH3-128 of that block and the
//! SHA-256 state after it ([`Checkpoint`]); the next build checks the blocks with XXH3 and
//! hashes with SHA-256 only from the first block that differs (for an appended file, its
//! tail). The same XXH3-128 collision bound is what this rests on.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Raw bytes of an input between two [`Checkpoint`]s.
pub const CHECKPOINT_BYTES: u64 = 8 << 20;

/// How a shard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cut {
    /// After a row whose hash picked the boundary: decided by the shard's own rows.
    Content,
    /// Before a row that would have taken it past the maximum: decided by that next row too.
    Max,
    /// At the end of the split's input (or unknown, for records of older builds): appending
    /// rows moves it.
    #[default]
    End,
}

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
    /// SHA-256 of the rows' line hashes alone, lowercase hex (empty in older records).
    #[serde(default)]
    pub lines_digest: String,
    #[serde(default)]
    pub cut: Cut,
}

/// The state of an input's SHA-256 at the end of one block of its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Raw bytes hashed so far: a multiple of [`CHECKPOINT_BYTES`].
    pub offset: u64,
    /// XXH3-128 of the block that ends here (of the XXH3-128 of its 256 KiB pieces), hex.
    pub block: String,
    /// The serialized SHA-256 state after the block, lowercase hex.
    pub state: String,
}

/// The checkpoints of one input file, by the name it was given as.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: PathBuf,
    pub checkpoints: Vec<Checkpoint>,
}

/// The shards of the last build, per split, with the format they were written in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Records {
    pub key: String,
    pub splits: Vec<(String, Vec<ShardRecord>)>,
    /// The SHA-256 checkpoints of the last build's input files.
    #[serde(default)]
    pub inputs: Vec<InputRecord>,
}

/// Previous shards a build may reuse, with where their bytes are.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub key: String,
    /// Per split: candidates by first-row hash (a list: identical first rows happen).
    pub splits: HashMap<String, HashMap<u128, Vec<(ShardRecord, PathBuf)>>>,
    /// Per split: its shards in order, up to the first one whose bytes are gone.
    pub chains: HashMap<String, Vec<(ShardRecord, PathBuf)>>,
    /// The SHA-256 checkpoints of the last build's inputs, in order.
    pub inputs: Vec<InputRecord>,
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
        let mut chains: HashMap<String, Vec<(ShardRecord, PathBuf)>> = HashMap::new();
        for (split, shards) in records.splits {
            let mut chain = Vec::new();
            let mut chained = true;
            for record in shards {
                let Ok(first) = u128::from_str_radix(&record.first_row, 16) else {
                    chained = false;
                    continue;
                };
                let Some(path) = file(&split, &record) else {
                    chained = false;
                    continue;
                };
                if chained {
                    chain.push((record.clone(), path.clone()));
                }
                splits
                    .entry(split.clone())
                    .or_default()
                    .entry(first)
                    .or_default()
                    .push((record, path));
            }
            chains.insert(split, chain);
        }
        Previous {
            key: records.key,
            splits,
            chains,
            inputs: records.inputs,
        }
    }

    /// The candidates of one split, when written in the format `key`.
    pub fn for_split(&self, split: &str, key: &str) -> HashMap<u128, Vec<(ShardRecord, PathBuf)>> {
        if self.key != key {
            return HashMap::new();
        }
        self.splits.get(split).cloned().unwrap_or_default()
    }

    /// The checkpoints to resume each of `names` from (the inputs of this build, in order):
    /// those of the previous input of that name, else of the one at the same place (a file
    /// renamed as it grew). Only a guess: every block is checked before its state is used.
    pub fn checkpoints_for(&self, names: &[&std::path::Path]) -> HashMap<PathBuf, Vec<Checkpoint>> {
        let same_count = names.len() == self.inputs.len();
        names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let by_name = self.inputs.iter().find(|input| input.path == *name);
                let by_place = same_count.then(|| &self.inputs[i]);
                let input = by_name.or(by_place)?;
                Some((name.to_path_buf(), input.checkpoints.clone()))
            })
            .collect()
    }

    /// The shards of one split in order, when written in the format `key`.
    pub fn chain(&self, split: &str, key: &str) -> &[(ShardRecord, PathBuf)] {
        if self.key != key {
            return &[];
        }
        self.chains.get(split).map_or(&[], Vec::as_slice)
    }
}
