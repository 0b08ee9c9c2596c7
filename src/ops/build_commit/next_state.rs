//! What the next commit holds after a conversion: the changes to the tree, the card, and a
//! summary for the commit message and the user. Shared by `build` and `card --preview`.

use std::collections::BTreeSet;

use anyhow::Context;

use super::head::HeadState;
use super::plan::BuildPlan;
use crate::card::{self, CardRequest, ConfigInfo, SplitInfo};
use crate::convert::{Converted, naming};
use crate::features::Feature;
use crate::inspect::align::RowDelta;
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
    /// Rows added, removed and changed since the previous build, when known (see
    /// [`super::row_hashes`]).
    pub rows_delta: Option<RowDelta>,
}

/// The next state of the clone.
pub struct NextState {
    pub readme: String,
    pub changes: Vec<Change>,
    pub splits: Vec<SplitSummary>,
    pub schema_changes: Vec<String>,
    /// The config's splits this build leaves as they are, whose columns (the card's) the
    /// rebuilt splits no longer have.
    pub misfit: Option<Misfit>,
}

/// Rebuilt splits whose columns differ from those of the config's untouched splits: `datasets`
/// reads all the splits of a config with one feature set, and `verify` (so `push`) compares
/// every shard with the card's features.
#[derive(Debug, Clone)]
pub struct Misfit {
    pub config_name: String,
    /// The splits this build leaves as they are.
    pub kept: Vec<String>,
    /// The splits this build rebuilds.
    pub rebuilt: Vec<String>,
    pub old_columns: Vec<String>,
    pub new_columns: Vec<String>,
    /// The differences in words; empty when only the order of the columns differs.
    pub changes: Vec<String>,
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
            rows_delta: None,
        });
        split_infos.push(SplitInfo {
            name: split.name.clone(),
            num_bytes: split.num_bytes,
            num_examples: split.num_examples,
        });
    }

    // Splits of this config that this build does not rebuild stay as they are.
    let mut kept_names = Vec::new();
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
            kept_names.push(kept.name.clone());
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
    let misfit = match old_config {
        Some(old)
            if !kept_names.is_empty() && !same_columns(&old.features, &converted.features) =>
        {
            let names = |features: &[(String, Feature)]| -> Vec<String> {
                features.iter().map(|(name, _)| name.clone()).collect()
            };
            Some(Misfit {
                config_name: plan.config_name.clone(),
                kept: kept_names,
                rebuilt: converted.splits.iter().map(|s| s.name.clone()).collect(),
                old_columns: names(&old.features),
                new_columns: names(&converted.features),
                changes: schema_changes.clone(),
            })
        }
        _ => None,
    };
    Ok(NextState {
        readme,
        changes,
        splits: summaries,
        schema_changes,
        misfit,
    })
}

/// Equal features as `verify` compares them: names, order and types, whatever the offset width
/// of strings and lists.
fn same_columns(old: &[(String, Feature)], new: &[(String, Feature)]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|((a, fa), (b, fb))| {
            a == b && fa.ignoring_offset_width() == fb.ignoring_offset_width()
        })
}

impl Misfit {
    /// The refusal of a build that would leave the config's splits with different columns.
    pub fn error(&self) -> crate::ops::UserError {
        let kept = crate::units::and_list(&self.kept);
        let (split_word, keep) = if self.kept.len() == 1 {
            ("split", "keeps")
        } else {
            ("splits", "keep")
        };
        let how = if self.changes.is_empty() {
            "the columns in another order".to_string()
        } else {
            self.changes.join("; ")
        };
        crate::ops::UserError::new(format!(
            "{split_word} {kept} of config {} would no longer fit: this build gives {} the \
             columns {} ({how}), while {kept} {keep} the columns {}; the splits of a config \
             share one set of columns; nothing was written",
            self.config_name,
            crate::units::and_list(&self.rebuilt),
            self.new_columns.join(", "),
            self.old_columns.join(", "),
        ))
        .hint(crate::ops::Hint::RebuildSplits {
            kept: self.kept.clone(),
        })
        .hint(crate::ops::Hint::AnotherConfig)
    }
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
pub(super) fn shard_files_of<'a>(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(list: &[(&str, &'static str)]) -> Vec<(String, Feature)> {
        list.iter()
            .map(|(name, dtype)| (name.to_string(), Feature::Value(dtype)))
            .collect()
    }

    #[test]
    fn columns_compare_as_verify_does() {
        let old = columns(&[("text", "string"), ("label", "int64")]);
        assert!(same_columns(
            &old,
            &columns(&[("text", "large_string"), ("label", "int64")])
        ));
        for new in [
            columns(&[("label", "int64"), ("text", "string")]),
            columns(&[("text", "string"), ("label", "float64")]),
            columns(&[("text", "string")]),
            columns(&[("text", "string"), ("label", "int64"), ("lang", "string")]),
        ] {
            assert!(!same_columns(&old, &new), "{new:?}");
        }
    }

    #[test]
    fn a_misfit_names_every_split_and_both_ways_out() {
        let misfit = Misfit {
            config_name: "en".into(),
            kept: vec!["test".into(), "validation".into()],
            rebuilt: vec!["train".into()],
            old_columns: vec!["label".into(), "text".into()],
            new_columns: vec!["text".into(), "label".into()],
            changes: Vec::new(),
        };
        let error = misfit.error();
        assert_eq!(
            error.to_string(),
            "splits test and validation of config en would no longer fit: this build gives train \
             the columns text, label (the columns in another order), while test and validation \
             keep the columns label, text; the splits of a config share one set of columns; \
             nothing was written"
        );
        // Worded by the CLI: `commands::diagnose`.
        assert_eq!(
            error.hints(),
            [
                crate::ops::Hint::RebuildSplits {
                    kept: vec!["test".into(), "validation".into()]
                },
                crate::ops::Hint::AnotherConfig
            ]
        );
        assert_eq!(
            crate::units::and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }
}
