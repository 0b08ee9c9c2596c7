//! What changed between two dataset states: the card (front matter by key, body as a unified
//! diff), the data per split, the schema per config, and any other file.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::meta::{self, MetaChange};
use super::rowdiff::{NoSuchKey, RowDiff, RowOptions, row_diff};
use super::schema::{self, SchemaChange};
use super::state::{Card, DatasetState, shards_in};
use super::tree::Content;
use crate::repo;

#[derive(Debug, Clone, Serialize)]
pub struct DatasetDiff {
    pub readme: ReadmeDiff,
    pub splits: Vec<SplitDiff>,
    pub schema: Vec<ConfigSchemaChange>,
    /// Files that are neither README.md nor a shard of a split.
    pub other_files: Vec<FileDiff>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadmeDiff {
    pub changed: bool,
    /// Front-matter changes by key path; empty when a side's YAML cannot be read.
    pub metadata: Vec<MetaChange>,
    /// Why the front matter could not be compared (invalid YAML on a side).
    pub metadata_error: Option<String>,
    /// The body (or, when the YAML is unreadable, the whole file) as a unified diff; line
    /// numbers are those of README.md. Empty when the body is unchanged.
    pub body_diff: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Changed,
    Removed,
}

impl FileStatus {
    pub fn label(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Changed => "changed",
            FileStatus::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileDiff {
    pub path: String,
    pub status: FileStatus,
    pub size_before: Option<u64>,
    pub size_after: Option<u64>,
}

/// One split of one config on either side.
#[derive(Debug, Clone, Serialize)]
pub struct SplitDiff {
    pub config: String,
    pub split: String,
    /// `num_examples` in the card; `None` when the split is not in that side's card.
    pub rows_before: Option<u64>,
    pub rows_after: Option<u64>,
    pub shards_before: usize,
    pub shards_after: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Shards added, changed or removed (unchanged ones are only counted).
    pub shards: Vec<FileDiff>,
    /// Rows or shards differ.
    pub changed: bool,
    /// Which rows differ ([`add_row_diffs`]); `None` until read, or when the split is
    /// unchanged.
    pub row_diff: Option<RowDiff>,
    /// Why the rows could not be compared (an LFS object not fetched, an unreadable file).
    pub row_error: Option<String>,
    /// Each side's shards, for reading their rows.
    #[serde(skip)]
    pub shards_before_list: Vec<(String, Content)>,
    #[serde(skip)]
    pub shards_after_list: Vec<(String, Content)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigSchemaChange {
    pub config: String,
    #[serde(flatten)]
    pub change: SchemaChange,
}

impl DatasetDiff {
    /// Whether anything differs at all (what `--exit-code` reports).
    pub fn has_changes(&self) -> bool {
        self.readme.changed
            || self.splits.iter().any(|s| s.changed)
            || !self.schema.is_empty()
            || !self.other_files.is_empty()
    }

    /// Whether a config other than `default` appears (then names are shown as `config/split`).
    pub fn multi_config(&self) -> bool {
        self.splits.iter().any(|s| s.config != "default")
            || self.schema.iter().any(|s| s.config != "default")
    }
}

pub fn diff(old: &DatasetState, new: &DatasetState) -> DatasetDiff {
    let readme = readme_diff(old.card.as_ref(), new.card.as_ref());
    let mut shard_paths = BTreeSet::new();
    let splits = split_diffs(old, new, &mut shard_paths);
    let schema = schema_diffs(old, new);
    let other_files = file_diffs(old, new, |path| {
        path != "README.md" && !shard_paths.contains(path)
    });
    DatasetDiff {
        readme,
        splits,
        schema,
        other_files,
    }
}

/// Reads the rows of every changed split (only the shards that differ) into `row_diff`.
pub fn add_row_diffs(
    clone: &repo::LocalClone,
    old: &DatasetState,
    new: &DatasetState,
    diff: &mut DatasetDiff,
    options: &RowOptions,
) -> anyhow::Result<()> {
    for split in diff.splits.iter_mut().filter(|s| s.changed) {
        let rows = row_diff(
            clone,
            old,
            &split.shards_before_list,
            new,
            &split.shards_after_list,
            options,
        );
        match rows {
            Ok(rows) => split.row_diff = Some(rows),
            Err(error) if error.is::<NoSuchKey>() => return Err(error),
            // An object not fetched, an unreadable file: the files are still compared.
            Err(error) => split.row_error = Some(format!("{error:#}")),
        }
    }
    Ok(())
}

fn readme_diff(old: Option<&Card>, new: Option<&Card>) -> ReadmeDiff {
    let old_text = old.map_or("", |c| c.text.as_str());
    let new_text = new.map_or("", |c| c.text.as_str());
    if old_text == new_text {
        return ReadmeDiff::default();
    }
    let empty = serde_json::Map::new();
    fn meta_of<'a>(
        card: Option<&'a Card>,
        empty: &'a serde_json::Map<String, serde_json::Value>,
    ) -> Result<&'a serde_json::Map<String, serde_json::Value>, String> {
        match card {
            None => Ok(empty),
            Some(card) => card.meta.as_ref().map_err(Clone::clone),
        }
    }
    let (metadata, metadata_error, whole_file) = match (meta_of(old, &empty), meta_of(new, &empty))
    {
        (Ok(a), Ok(b)) => (meta::diff(a, b), None, false),
        (Err(error), _) | (_, Err(error)) => (Vec::new(), Some(error), true),
    };
    fn part(card: Option<&Card>, whole_file: bool) -> (&str, usize) {
        match card {
            None => ("", 0),
            Some(card) if whole_file => (card.text.as_str(), 0),
            Some(card) => (card.body.as_str(), card.body_line),
        }
    }
    let (old_body, old_offset) = part(old, whole_file);
    let (new_body, new_offset) = part(new, whole_file);
    let body_diff = if old_body == new_body {
        String::new()
    } else {
        unified("README.md", old_body, old_offset, new_body, new_offset)
    };
    ReadmeDiff {
        changed: true,
        metadata,
        metadata_error,
        body_diff,
    }
}

/// A git-style unified diff (3 lines of context) of a part of a file that starts after
/// `*_offset` lines on each side.
pub fn unified(path: &str, old: &str, old_offset: usize, new: &str, new_offset: usize) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            hunk_range(old_range.start + old_offset, old_range.len()),
            hunk_range(new_range.start + new_offset, new_range.len())
        );
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let line = change.value();
                out.push(sign);
                out.push_str(line);
                if change.missing_newline() {
                    out.push_str("\n\\ No newline at end of file\n");
                } else if !line.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// `start,len` with a 1-based start, as git writes it (`,1` left out; an empty range names
/// the line before it).
fn hunk_range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn split_diffs(
    old: &DatasetState,
    new: &DatasetState,
    shard_paths: &mut BTreeSet<String>,
) -> Vec<SplitDiff> {
    // (config, data_dir, split) in the order the new card lists them, then old-only ones.
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for state in [new, old] {
        for config in state.configs() {
            for split in &config.splits {
                let key = (
                    config.config_name.clone(),
                    config.data_dir.clone(),
                    split.name.clone(),
                );
                if !keys.iter().any(|k| k.0 == key.0 && k.2 == key.2) {
                    keys.push(key);
                }
            }
        }
    }
    keys.into_iter()
        .map(|(config, data_dir, split)| {
            let rows = |state: &DatasetState| {
                let config = state.configs().iter().find(|c| c.config_name == config)?;
                let split = config.splits.iter().find(|s| s.name == split)?;
                Some(split.num_examples)
            };
            // Each side's shards are found in its own data folder for the config.
            let dir_of = |state: &DatasetState| {
                state
                    .configs()
                    .iter()
                    .find(|c| c.config_name == config)
                    .map_or(data_dir.clone(), |c| c.data_dir.clone())
            };
            let before = shards_in(&old.files, &dir_of(old), &split);
            let after = shards_in(&new.files, &dir_of(new), &split);
            shard_paths.extend(before.iter().chain(&after).map(|(p, _)| p.to_string()));
            let sum = |shards: &[(&str, &Content)]| shards.iter().map(|(_, c)| c.size()).sum();
            let mut shards = Vec::new();
            for (path, content) in &after {
                match before.iter().find(|(p, _)| p == path) {
                    None => shards.push(file_diff(path, FileStatus::Added, None, Some(content))),
                    Some((_, was)) if was != content => shards.push(file_diff(
                        path,
                        FileStatus::Changed,
                        Some(was),
                        Some(content),
                    )),
                    Some(_) => {}
                }
            }
            for (path, was) in &before {
                if !after.iter().any(|(p, _)| p == path) {
                    shards.push(file_diff(path, FileStatus::Removed, Some(was), None));
                }
            }
            let (rows_before, rows_after) = (rows(old), rows(new));
            let owned = |list: &[(&str, &Content)]| {
                list.iter()
                    .map(|(p, c)| (p.to_string(), (*c).clone()))
                    .collect()
            };
            SplitDiff {
                row_diff: None,
                row_error: None,
                shards_before_list: owned(&before),
                shards_after_list: owned(&after),
                changed: rows_before != rows_after || !shards.is_empty(),
                rows_before,
                rows_after,
                shards_before: before.len(),
                shards_after: after.len(),
                bytes_before: sum(&before),
                bytes_after: sum(&after),
                shards,
                config,
                split,
            }
        })
        .collect()
}

fn file_diff(
    path: &str,
    status: FileStatus,
    before: Option<&Content>,
    after: Option<&Content>,
) -> FileDiff {
    FileDiff {
        path: path.to_string(),
        status,
        size_before: before.map(Content::size),
        size_after: after.map(Content::size),
    }
}

fn file_diffs(
    old: &DatasetState,
    new: &DatasetState,
    keep: impl Fn(&str) -> bool,
) -> Vec<FileDiff> {
    let mut out = Vec::new();
    for (path, content) in &new.files {
        if !keep(path) {
            continue;
        }
        match old.files.get(path) {
            None => out.push(file_diff(path, FileStatus::Added, None, Some(content))),
            Some(was) if was != content => out.push(file_diff(
                path,
                FileStatus::Changed,
                Some(was),
                Some(content),
            )),
            Some(_) => {}
        }
    }
    for (path, was) in &old.files {
        if keep(path) && !new.files.contains_key(path) {
            out.push(file_diff(path, FileStatus::Removed, Some(was), None));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Schema changes of the configs present on both sides (a new config has no "before").
fn schema_diffs(old: &DatasetState, new: &DatasetState) -> Vec<ConfigSchemaChange> {
    let mut out = Vec::new();
    for after in new.configs() {
        let Some(before) = old
            .configs()
            .iter()
            .find(|c| c.config_name == after.config_name)
        else {
            continue;
        };
        out.extend(
            schema::changes(&before.features, &after.features)
                .into_iter()
                .map(|change| ConfigSchemaChange {
                    config: after.config_name.clone(),
                    change,
                }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_numbers_lines_of_the_whole_file() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\nI\n";
        assert_eq!(
            unified("README.md", old, 10, new, 12),
            "--- a/README.md\n+++ b/README.md\n\
             @@ -12,7 +14,8 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n+I\n"
        );
        assert_eq!(
            unified("README.md", "x", 0, "y", 0),
            "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n\
             +y\n\\ No newline at end of file\n"
        );
    }
}
