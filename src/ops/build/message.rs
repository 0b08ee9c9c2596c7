//! The commit message of a build: a subject that says what changed, a body with rows per
//! split, shards added/changed/removed and schema changes, and provenance trailers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::next_state::{NextState, ShardStatus, SplitSummary};
use super::plan::BuildPlan;
use crate::convert::Converted;
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

/// Subject, body (splits, shards, schema) and provenance trailers.
pub(super) fn commit_message(
    clone_root: &Path,
    plan: &BuildPlan,
    state: &NextState,
    converted: &Converted,
    subject: Option<&str>,
) -> String {
    let prefix = if plan.config_name == "default" {
        String::new()
    } else {
        format!("{}/", plan.config_name)
    };
    let subject = match subject {
        Some(subject) => subject.to_string(),
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
            let verb = if state.splits.iter().all(|s| s.previous_examples.is_none()) {
                "Add"
            } else {
                "Update"
            };
            format!("{verb} {}", parts.join("; "))
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
    let _ = writeln!(body);
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
