//! What the next commit holds after a conversion: the changes to the tree, the card, and a
//! summary for the commit message and the user. Shared by `build` and `card --preview`.

use std::collections::BTreeSet;

use anyhow::Context;

use super::head::HeadState;
use super::plan::BuildPlan;
use crate::card::{self, CardRequest, ConfigInfo, SplitInfo};
use crate::convert::{Converted, naming};
use crate::features::Feature;
use crate::repo::Change;
use crate::repo::lfs::Pointer;

const GITATTRIBUTES_PARQUET: &str = "*.parquet filter=lfs diff=lfs merge=lfs -text";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardStatus {
    Added,
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ShardSummary {
    pub path: String,
    pub status: ShardStatus,
    pub num_rows: u64,
    pub size: u64,
    /// Taken from the previous build without encoding (its rows are unchanged).
    pub reused: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SplitSummary {
    pub name: String,
    pub num_examples: u64,
    /// Rows in the previous commit's card, when the split existed.
    pub previous_examples: Option<u64>,
    pub num_bytes: u64,
    pub shards: Vec<ShardSummary>,
    pub removed_shards: Vec<String>,
    /// The first shards, taken from the previous build without even decoding their rows (the
    /// start of the input is unchanged).
    pub skipped_shards: usize,
}

/// The next state of the clone.
pub struct NextState {
    pub readme: String,
    pub changes: Vec<Change>,
    pub splits: Vec<SplitSummary>,
    pub schema_changes: Vec<String>,
}

pub fn next_state(
    head: &HeadState,
    repo_id: &str,
    plan: &BuildPlan,
    converted: &Converted,
) -> anyhow::Result<NextState> {
    let existing = &head.readme;
    let old_configs = match &existing {
        Some(text) => card::read_configs(text).context("cannot read the current README.md")?,
        None => Vec::new(),
    };
    let old_config = old_configs
        .iter()
        .find(|c| c.config_name == plan.config_name);

    let mut changes = Vec::new();
    let mut summaries = Vec::new();
    let mut split_infos = Vec::new();
    let mut download_size = 0;
    let head_files = &head.data_files;

    for split in &converted.splits {
        let mut shards = Vec::new();
        let mut new_paths = BTreeSet::new();
        let names = shard_names(head, &plan.data_dir, split);
        for (shard, name) in split.shards.iter().zip(names) {
            let path = format!("{}/{name}", plan.data_dir);
            let status = match head.pointer(&path) {
                Some(old) if old.oid == shard.sha256 => ShardStatus::Unchanged,
                Some(_) => ShardStatus::Changed,
                None if head_files.contains(&path) => ShardStatus::Changed,
                None => ShardStatus::Added,
            };
            download_size += shard.file_size;
            shards.push(ShardSummary {
                path: path.clone(),
                status,
                num_rows: shard.num_rows,
                size: shard.file_size,
                reused: shard.reused,
            });
            changes.push(Change::LfsHashed {
                path: path.clone(),
                staged: shard.path.clone(),
                pointer: Pointer {
                    oid: shard.sha256.clone(),
                    size: shard.file_size,
                },
            });
            new_paths.insert(path);
        }
        let removed: Vec<String> = shard_files_of(head_files, &plan.data_dir, &split.name)
            .filter(|path| !new_paths.contains(*path))
            .cloned()
            .collect();
        for path in &removed {
            changes.push(Change::Delete { path: path.clone() });
        }
        let previous_examples = old_config
            .and_then(|c| c.splits.iter().find(|s| s.name == split.name))
            .map(|s| s.num_examples);
        summaries.push(SplitSummary {
            name: split.name.clone(),
            num_examples: split.num_examples,
            previous_examples,
            num_bytes: split.num_bytes,
            shards,
            removed_shards: removed,
            skipped_shards: split.skipped_shards,
        });
        split_infos.push(SplitInfo {
            name: split.name.clone(),
            num_bytes: split.num_bytes,
            num_examples: split.num_examples,
        });
    }

    // Splits of this config that this build does not rebuild stay as they are.
    if let Some(old) = old_config {
        for kept in old
            .splits
            .iter()
            .filter(|s| !converted.splits.iter().any(|n| n.name == s.name))
        {
            for path in shard_files_of(head_files, &plan.data_dir, &kept.name) {
                if let Some(pointer) = head.pointer(path) {
                    download_size += pointer.size;
                }
            }
            split_infos.push(kept.clone());
        }
    }

    let config = ConfigInfo {
        config_name: plan.config_name.clone(),
        data_dir: plan.data_dir.clone(),
        features: converted.features.clone(),
        splits: split_infos,
        download_size,
    };
    let readme = card::render(&CardRequest {
        repo_id,
        existing: existing.as_deref(),
        template: plan.template.as_deref(),
        config: &config,
        flags: &plan.flags,
    })?;
    changes.push(Change::File {
        path: "README.md".into(),
        bytes: readme.clone().into_bytes(),
    });
    if let Some(gitattributes) = gitattributes_with_parquet(head.gitattributes.as_deref()) {
        changes.push(Change::File {
            path: ".gitattributes".into(),
            bytes: gitattributes.into_bytes(),
        });
    }
    let schema_changes = match old_config {
        Some(old) => schema_changes(&old.features, &converted.features),
        None => Vec::new(),
    };
    Ok(NextState {
        readme,
        changes,
        splits: summaries,
        schema_changes,
    })
}

/// The names of a split's new shards against HEAD's (see [`crate::convert::naming`]).
fn shard_names(
    head: &HeadState,
    data_dir: &str,
    split: &crate::convert::SplitOutput,
) -> Vec<String> {
    let mut previous = Vec::new();
    for path in shard_files_of(&head.data_files, data_dir, &split.name) {
        let name = &path[data_dir.len() + 1..];
        if let Some(pointer) = head.pointer(path) {
            previous.push((name.to_string(), pointer.oid.clone()));
        }
    }
    let new: Vec<&str> = split.shards.iter().map(|s| s.sha256.as_str()).collect();
    naming::file_names(&split.name, &previous, &new)
}

/// Shard files of one split in a HEAD folder listing: `{dir}/{split}-*.parquet`.
fn shard_files_of<'a>(
    head_files: &'a [String],
    data_dir: &str,
    split: &str,
) -> impl Iterator<Item = &'a String> {
    let prefix = format!("{data_dir}/{split}-");
    head_files
        .iter()
        .filter(move |p| p.starts_with(&prefix) && p.ends_with(".parquet"))
}

/// `.gitattributes` with the Parquet LFS rule added, when HEAD's lacks it (e.g. a clone of a
/// repo made elsewhere).
fn gitattributes_with_parquet(current: Option<&str>) -> Option<String> {
    let has_rule = current.is_some_and(|text| {
        text.lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some("*.parquet") && words.any(|w| w == "filter=lfs")
        })
    });
    if has_rule {
        return None;
    }
    let mut text = current.unwrap_or_default().to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(GITATTRIBUTES_PARQUET);
    text.push('\n');
    Some(text)
}

/// Column-level differences between two feature lists.
pub fn schema_changes(old: &[(String, Feature)], new: &[(String, Feature)]) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, feature) in new {
        match old.iter().find(|(n, _)| n == name) {
            None => lines.push(format!("added column {name} ({})", feature.display_type())),
            Some((_, before)) if before != feature => lines.push(format!(
                "column {name}: {} → {}",
                before.display_type(),
                feature.display_type()
            )),
            Some(_) => {}
        }
    }
    for (name, feature) in old {
        if !new.iter().any(|(n, _)| n == name) {
            lines.push(format!(
                "removed column {name} ({})",
                feature.display_type()
            ));
        }
    }
    lines
}
