//! The commit message of a build: a subject that says what changed, a body with rows per
//! split, shards added/changed/removed and schema changes, and provenance trailers, among them
//! the row delta per split when it is known (`Rows: train +3 -0 ~1`, which `log` reads).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::next_state::{NextState, ShardStatus, SplitSummary};
use super::plan::BuildPlan;
use crate::convert::Converted;
use crate::inspect::align::{RowDelta, rows_line};
use crate::inspect::{Card, MetaChange, flow};
use crate::units::{human_bytes, plural, rows, thousands};

fn rows_with_delta(split: &SplitSummary) -> String {
    let rows = rows(split.num_examples);
    match split.previous_examples {
        None => format!("{rows} (new)"),
        Some(previous) if previous == split.num_examples => format!("{rows} (±0)"),
        Some(previous) if previous < split.num_examples => {
            format!("{rows} (+{})", thousands(split.num_examples - previous))
        }
        Some(previous) => format!("{rows} (-{})", thousands(previous - split.num_examples)),
    }
}

/// Card keys a build generates from the data: their changes go with the data's.
const GENERATED_KEYS: [&str; 3] = ["dataset_info", "configs", "size_categories"];

/// What a build changes in the card besides what the data dictates.
struct CardChanges {
    /// The front matter's changes outside [`GENERATED_KEYS`].
    keys: Vec<MetaChange>,
    /// The Markdown body changed (counted only when the data did not change, since a data
    /// change refreshes the body's tables).
    prose: bool,
}

impl CardChanges {
    fn of(old: Option<&str>, new: &str, data_changed: bool) -> CardChanges {
        let new = Card::parse(new.to_string());
        let old = old.map(|text| Card::parse(text.to_string()));
        let keys = match (old.as_ref().map(|card| &card.meta), &new.meta) {
            (Some(Ok(old)), Ok(new)) => crate::inspect::meta_diff(old, new),
            (None, Ok(new)) => crate::inspect::meta_diff(&Default::default(), new),
            _ => Vec::new(),
        }
        .into_iter()
        .filter(|change| !GENERATED_KEYS.contains(&top_key(&change.path)))
        .collect();
        let prose = !data_changed && old.is_some_and(|old| old.body != new.body);
        CardChanges { keys, prose }
    }

    fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.prose
    }

    /// `language en, license mit, prose`: each key with its new value when short.
    fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut keys: Vec<&str> = Vec::new();
        for change in &self.keys {
            let key = top_key(&change.path);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in keys {
            let changes: Vec<&MetaChange> = self
                .keys
                .iter()
                .filter(|change| top_key(&change.path) == key)
                .collect();
            let whole = match changes.as_slice() {
                [change] if change.path == key => Some(*change),
                _ => None,
            };
            let value = whole.map(|change| match &change.new {
                None => "removed".to_string(),
                Some(serde_json::Value::Array(items)) if items.len() == 1 => flow(&items[0]),
                Some(value) => flow(value),
            });
            parts.push(match value {
                Some(value) if value.chars().count() <= 40 => format!("{key} {value}"),
                _ => key.to_string(),
            });
        }
        if self.prose {
            parts.push("prose".to_string());
        }
        parts.join(", ")
    }
}

/// `language` of `language`, `dataset_info` of `dataset_info.splits[train].num_bytes`.
fn top_key(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or(path)
}

/// Whether the build changes the data: rows, shards or schema.
fn data_changed(state: &NextState) -> bool {
    !state.schema_changes.is_empty()
        || state.splits.iter().any(|split| {
            split.previous_examples != Some(split.num_examples)
                || !split.removed_shards.is_empty()
                || split
                    .shards
                    .iter()
                    .any(|shard| shard.status != ShardStatus::Unchanged)
        })
}

/// Subject, body (splits, shards, schema, card) and provenance trailers. `old_readme` is the
/// card of HEAD.
pub(super) fn commit_message(
    clone_root: &Path,
    plan: &BuildPlan,
    state: &NextState,
    converted: &Converted,
    subject: Option<&str>,
    old_readme: Option<&str>,
) -> String {
    let prefix = if plan.config_name == "default" {
        String::new()
    } else {
        format!("{}/", plan.config_name)
    };
    let data_changed = data_changed(state);
    let first_build = state.splits.iter().all(|s| s.previous_examples.is_none());
    let card = CardChanges::of(old_readme, &state.readme, data_changed);
    let subject = match subject {
        Some(subject) => subject.to_string(),
        // Only the card changed: say how, not that the rows stayed the same.
        None if !data_changed && !card.is_empty() => format!("Update card: {}", card.summary()),
        None => {
            let parts: Vec<String> = state
                .splits
                .iter()
                .map(|s| {
                    format!(
                        "{prefix}{}: {} in {} shard{}",
                        s.name,
                        rows_with_delta(s).replace(" (new)", ""),
                        s.shards.len(),
                        plural(s.shards.len())
                    )
                })
                .collect();
            let verb = if first_build { "Add" } else { "Update" };
            // A schema change keeps every row count: the subject must still say it.
            let schema = match state.schema_changes.as_slice() {
                _ if first_build => String::new(),
                [] => String::new(),
                [one] => format!("; schema: {one}"),
                many => format!("; schema: {} changes", many.len()),
            };
            let card = match card.keys.is_empty() || first_build {
                true => String::new(),
                false => format!("; card: {}", card.summary()),
            };
            format!("{verb} {}{schema}{card}", parts.join("; "))
        }
    };
    let mut body = String::new();
    let _ = writeln!(body, "Splits:");
    for split in &state.splits {
        let _ = writeln!(
            body,
            "  {prefix}{}: {}, {} shard{}, {} uncompressed",
            split.name,
            rows_with_delta(split),
            split.shards.len(),
            plural(split.shards.len()),
            human_bytes(split.num_bytes)
        );
    }
    let shard_lines: Vec<String> = state
        .splits
        .iter()
        .flat_map(|split| {
            let touched = split
                .shards
                .iter()
                .filter(|s| s.status != ShardStatus::Unchanged)
                .map(|s| {
                    let verb = if s.status == ShardStatus::Added {
                        "added"
                    } else {
                        "changed"
                    };
                    format!(
                        "  {verb:<8}{} ({}, {})",
                        s.path,
                        rows(s.num_rows),
                        human_bytes(s.size)
                    )
                });
            let removed = split
                .removed_shards
                .iter()
                .map(|p| format!("  {:<8}{p}", "removed"));
            touched.chain(removed).collect::<Vec<_>>()
        })
        .collect();
    if !shard_lines.is_empty() {
        let _ = writeln!(body, "\nShards:");
        for line in shard_lines {
            let _ = writeln!(body, "{line}");
        }
    }
    if !state.schema_changes.is_empty() {
        let _ = writeln!(body, "\nSchema:");
        for line in &state.schema_changes {
            let _ = writeln!(body, "  {line}");
        }
    }
    if !first_build && !card.is_empty() {
        let _ = writeln!(body, "\nCard:");
        for change in &card.keys {
            let _ = writeln!(body, "  {change}");
        }
        if card.prose {
            let _ = writeln!(body, "  the prose (Markdown body) changed");
        }
    }
    let _ = writeln!(body);
    let deltas: Vec<(String, RowDelta)> = state
        .splits
        .iter()
        .filter_map(|split| Some((format!("{prefix}{}", split.name), split.rows_delta?)))
        .collect();
    // Not for a build that changes only the card: its rows are the last build's.
    if data_changed && let Some(line) = rows_line(&deltas) {
        let _ = writeln!(body, "{line}");
    }
    for (file, sha256) in &converted.inputs {
        let _ = writeln!(
            body,
            "Input: {} sha256:{sha256}",
            provenance_name(clone_root, file)
        );
    }
    let _ = writeln!(body, "Hf-Relay-Version: {}", env!("CARGO_PKG_VERSION"));
    format!("{subject}\n\n{body}")
}

/// How the trailer names an input: its path relative to the clone when it lies inside it,
/// else its file name alone — a commit is public, and the folders of the user's machine are
/// not the dataset's business. The SHA-256 beside it identifies the content either way.
pub(super) fn provenance_name(clone_root: &Path, file: &Path) -> String {
    let absolute = |path: &Path| -> PathBuf {
        std::fs::canonicalize(path)
            .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_default())
    };
    let root = absolute(clone_root);
    let file_abs = absolute(file);
    if let Ok(relative) = file_abs.strip_prefix(&root) {
        return relative.to_string_lossy().replace('\\', "/");
    }
    file.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_outside_the_clone_are_named_by_file_name_only() {
        let root = tempfile::tempdir().unwrap();
        let clone = root.path().join("clone");
        std::fs::create_dir_all(clone.join("raw")).unwrap();
        std::fs::write(clone.join("raw/in.jsonl"), "{}").unwrap();
        let secret = root.path().join("secret-project");
        std::fs::create_dir_all(&secret).unwrap();
        std::fs::write(secret.join("x.jsonl"), "{}").unwrap();
        assert_eq!(provenance_name(&clone, &secret.join("x.jsonl")), "x.jsonl");
        assert_eq!(
            provenance_name(&clone, &clone.join("raw/in.jsonl")),
            "raw/in.jsonl"
        );
    }
}
