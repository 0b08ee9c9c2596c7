//! Skipping the conversion when a rebuild can be proven unchanged, the way git's index skips
//! rehashing files: the inputs' size, modification time and inode, and every option, equal
//! those of the last build, and HEAD still holds that build's data. Then the data would be
//! byte-identical (conversion is deterministic), so only the card is re-rendered.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use std::io::Read;

use anyhow::Context;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::head::HeadState;
use super::plan::BuildPlan;
use crate::card::{self, CardRequest};
use crate::convert::Codec;
use crate::convert::shards::hex;
use crate::convert::source::is_stdin;
use crate::repo::LocalClone;
use crate::repo::state::BUILD_CACHE;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct InputStamp {
    path: PathBuf,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Key {
    version: String,
    config: String,
    splits: Vec<(String, Vec<InputStamp>)>,
    max_shard_bytes: u64,
    zstd: bool,
    conflicts_as_json: bool,
    #[serde(default)]
    rewrite: bool,
}

impl Key {
    /// The same inputs (paths and sizes) and options; modification times and inodes may differ.
    fn same_but_stamps(&self, other: &Key) -> bool {
        let files = |key: &Key| -> Vec<(String, PathBuf, u64)> {
            key.splits
                .iter()
                .flat_map(|(split, stamps)| {
                    stamps
                        .iter()
                        .map(move |s| (split.clone(), s.path.clone(), s.size))
                })
                .collect()
        };
        self.version == other.version
            && self.config == other.config
            && self.max_shard_bytes == other.max_shard_bytes
            && self.zstd == other.zstd
            && self.conflicts_as_json == other.conflicts_as_json
            && self.rewrite == other.rewrite
            && files(self) == files(other)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: Key,
    /// The SHA-256 of every input file of that build, in order: when only the stamps differ
    /// (a `touch`, a copy), equal contents still prove the data unchanged.
    #[serde(default)]
    digests: Vec<String>,
    /// The tree of the data folder in the commit the build produced.
    data_tree: String,
    /// When the entry was written (ns since the epoch): inputs modified in the same instant
    /// are not trusted (git's "racy" rule).
    written_ns: i128,
}

fn nanos(seconds: i64, nanos: i64) -> i128 {
    seconds as i128 * 1_000_000_000 + nanos as i128
}

fn key(plan: &BuildPlan) -> anyhow::Result<Key> {
    // Standard input has no stamps and cannot be read again to compare: never cached.
    let files = plan.splits.iter().flat_map(|s| &s.files);
    anyhow::ensure!(
        !files.into_iter().any(|f| is_stdin(f)),
        "a build from standard input is not cached"
    );
    let mut splits = Vec::new();
    for split in &plan.splits {
        let mut stamps = Vec::new();
        for file in &split.files {
            let metadata = std::fs::metadata(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            stamps.push(InputStamp {
                path: std::fs::canonicalize(file).unwrap_or_else(|_| file.clone()),
                size: metadata.len(),
                mtime_ns: nanos(metadata.mtime(), metadata.mtime_nsec()),
                ctime_ns: nanos(metadata.ctime(), metadata.ctime_nsec()),
                inode: metadata.ino(),
            });
        }
        splits.push((split.name.clone(), stamps));
    }
    Ok(Key {
        version: env!("CARGO_PKG_VERSION").to_string(),
        config: plan.config_name.clone(),
        splits,
        max_shard_bytes: plan.options.max_shard_bytes,
        zstd: plan.options.codec == Codec::Zstd,
        conflicts_as_json: plan.options.conflicts_as_json,
        rewrite: plan.options.rewrite,
    })
}

/// How a build was proven to change nothing.
pub enum Unchanged {
    /// The inputs' size, modification time and inode equal the last build's.
    Stamps,
    /// The stamps differ, but the inputs' SHA-256 equal the last build's.
    Contents(Vec<String>),
}

/// `Some` when this build would change nothing: the same inputs (by their stamps, else by
/// their contents) and options as the last build, HEAD holds its data, and the card the build
/// would write equals the committed one.
pub fn unchanged(
    clone: &LocalClone,
    head: &HeadState,
    repo_id: &str,
    plan: &BuildPlan,
) -> Option<Unchanged> {
    let entry: Entry = serde_json::from_slice(&BUILD_CACHE.read(clone.git_dir()).ok()??).ok()?;
    let key = key(plan).ok()?;
    let fresh = key
        .splits
        .iter()
        .flat_map(|(_, s)| s)
        .all(|s| s.mtime_ns < entry.written_ns - 1_000_000_000);
    if !key.same_but_stamps(&entry.key) || head.data_tree.as_ref()? != &entry.data_tree {
        return None;
    }
    if !card_unchanged(head, repo_id, plan) {
        return None;
    }
    if entry.key == key && fresh {
        return Some(Unchanged::Stamps);
    }
    let files: Vec<&PathBuf> = plan.splits.iter().flat_map(|s| &s.files).collect();
    if entry.digests.len() != files.len() {
        return None;
    }
    let digests: Vec<String> = files
        .par_iter()
        .map(|file| sha256_of(file).ok())
        .collect::<Option<_>>()?;
    (digests == entry.digests).then_some(Unchanged::Contents(digests))
}

fn sha256_of(file: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut reader = std::fs::File::open(file)?;
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The card a build would write equals the committed one.
fn card_unchanged(head: &HeadState, repo_id: &str, plan: &BuildPlan) -> bool {
    let check = || -> Option<bool> {
        let readme = head.readme.as_deref()?;
        let committed = head.committed_readme.as_deref()?;
        if committed != readme.as_bytes() {
            return Some(false);
        }
        let configs = card::read_configs(readme).ok()?;
        let config = configs.iter().find(|c| c.config_name == plan.config_name)?;
        let rendered = card::render(&CardRequest {
            repo_id,
            existing: Some(readme),
            template: plan.template.as_deref(),
            config,
            flags: &plan.flags,
        })
        .ok()?;
        Some(rendered == *readme)
    };
    check().unwrap_or(false)
}

/// Remembers this build (after it committed, or found nothing to commit), with the SHA-256 of
/// its inputs in order.
pub fn record(clone: &LocalClone, plan: &BuildPlan, digests: Vec<String>) -> anyhow::Result<()> {
    // The data folder of the HEAD this build left (after its commit, a new one).
    let Some(data_tree) = clone.head_tree_id_of(&plan.data_dir) else {
        return Ok(());
    };
    let written_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let entry = Entry {
        key: key(plan)?,
        digests,
        data_tree,
        written_ns,
    };
    BUILD_CACHE.write(clone.git_dir(), &serde_json::to_vec(&entry)?)
}
