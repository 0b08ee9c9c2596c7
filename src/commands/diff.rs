//! `hf-relay diff`: the card, the data per split and the schema between two states; by
//! default the last published state (origin/main, else the first commit) and the working tree.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use anyhow::Context as _;

use super::SilentExit;
use crate::cli::DiffArgs;
use crate::inspect::{self, DatasetDiff, DatasetState, FileDiff, FileStatus, SplitDiff};
use crate::repo::Clone;
use crate::units::{human_bytes, thousands};

pub fn run(args: DiffArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let old = match &args.from {
        Some(rev) => at_rev(&clone, rev)?,
        None => default_from(&clone)?,
    };
    let new = match &args.to {
        Some(rev) => at_rev(&clone, rev)?,
        None => DatasetState::worktree(&clone)?.0,
    };
    let diff = inspect::diff(&old, &new);
    let from = old.source.label(&clone.repo);
    let to = new.source.label(&clone.repo);

    if args.json {
        let side = |state: &DatasetState, label: &str| {
            serde_json::json!({
                "label": label,
                "commit": state.source.commit().map(|id| id.to_string()),
            })
        };
        let mut value = serde_json::to_value(&diff)?;
        value["from"] = side(&old, &from);
        value["to"] = side(&new, &to);
        value["differences"] = diff.has_changes().into();
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
    } else if !diff.has_changes() {
        eprintln!("No differences between {from} and {to}.");
    } else {
        let colour = std::io::stdout().is_terminal();
        let text = if args.stat {
            render_stat(&diff)
        } else {
            render(&diff, &from, &to, colour)
        };
        print_stdout(&text)?;
    }
    if args.exit_code && diff.has_changes() {
        return Err(SilentExit(super::EXIT_FAILURE).into());
    }
    Ok(())
}

/// Writes a command's result; a closed pipe (`| head`) ends the output quietly.
pub(super) fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

fn at_rev(clone: &Clone, rev: &str) -> anyhow::Result<DatasetState> {
    let commit = inspect::resolve(&clone.repo, rev)?;
    DatasetState::at_commit(clone, rev, &commit)
}

/// The last published state: the remote-tracking branch, else the first commit (`init`'s).
fn default_from(clone: &Clone) -> anyhow::Result<DatasetState> {
    if let Some(id) = inspect::remote_head(clone)? {
        let name = inspect::remote_ref(clone)
            .trim_start_matches("refs/remotes/")
            .to_string();
        return DatasetState::at_commit(clone, &name, &clone.repo.find_commit(id)?);
    }
    let mut commit = clone.repo.head()?.peel_to_commit()?;
    while let Ok(parent) = commit.parent(0) {
        commit = parent;
    }
    let name = inspect::short_id(&clone.repo, commit.id());
    DatasetState::at_commit(clone, &name, &commit).context("cannot read the first commit")
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn paint(line: &str, colour: bool) -> String {
    if !colour {
        return line.to_string();
    }
    let code = if line.starts_with("---") || line.starts_with("+++") {
        BOLD
    } else if line.starts_with("@@") {
        CYAN
    } else if line.starts_with('+') {
        GREEN
    } else if line.starts_with('-') {
        RED
    } else {
        return line.to_string();
    };
    format!("{code}{line}{RESET}")
}

fn render(diff: &DatasetDiff, from: &str, to: &str, colour: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "diff {from} → {to}");
    let readme = &diff.readme;
    if readme.changed {
        if let Some(error) = &readme.metadata_error {
            let _ = writeln!(out, "\nREADME.md metadata: cannot be compared: {error}");
        } else if !readme.metadata.is_empty() {
            let _ = writeln!(out, "\nREADME.md metadata:");
            for change in &readme.metadata {
                let _ = writeln!(out, "  {}", paint(&change.to_string(), colour));
            }
        }
        if !readme.body_diff.is_empty() {
            let _ = writeln!(out, "\nREADME.md body:");
            for line in readme.body_diff.lines() {
                let _ = writeln!(out, "{}", paint(line, colour));
            }
        }
    }
    let multi = diff.multi_config();
    let changed: Vec<&SplitDiff> = diff.splits.iter().filter(|s| s.changed).collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "\nData:");
        for split in changed {
            let _ = writeln!(out, "  {}", split_line(split, multi));
            for shard in &split.shards {
                let _ = writeln!(out, "    {}", file_line(shard));
            }
        }
    }
    if !diff.schema.is_empty() {
        let _ = writeln!(out, "\nSchema:");
        for change in &diff.schema {
            let _ = writeln!(out, "  {}", schema_line(change, multi));
        }
    }
    if !diff.other_files.is_empty() {
        let _ = writeln!(out, "\nOther files:");
        for file in &diff.other_files {
            let _ = writeln!(out, "  {}", file_line(file));
        }
    }
    out
}

/// One line per changed split, one per schema change, one for the card.
fn render_stat(diff: &DatasetDiff) -> String {
    let mut out = String::new();
    let multi = diff.multi_config();
    for split in diff.splits.iter().filter(|s| s.changed) {
        let mut line = split_line(split, multi);
        let counts: Vec<String> = [FileStatus::Added, FileStatus::Changed, FileStatus::Removed]
            .into_iter()
            .filter_map(|status| {
                let n = split.shards.iter().filter(|s| s.status == status).count();
                (n > 0).then(|| format!("{n} {}", status.label()))
            })
            .collect();
        if !counts.is_empty() {
            let _ = write!(line, " (shards: {})", counts.join(", "));
        }
        let _ = writeln!(out, "{line}");
    }
    for change in &diff.schema {
        let _ = writeln!(out, "schema: {}", schema_line(change, multi));
    }
    if diff.readme.changed {
        let (added, removed) = diff
            .readme
            .body_diff
            .lines()
            .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
            .fold((0, 0), |(a, r), l| match l.as_bytes().first() {
                Some(b'+') => (a + 1, r),
                Some(b'-') => (a, r + 1),
                _ => (a, r),
            });
        let keys = diff.readme.metadata.len();
        let _ = writeln!(
            out,
            "README.md: {keys} metadata change{}, body +{added} -{removed} lines",
            if keys == 1 { "" } else { "s" }
        );
    }
    if !diff.other_files.is_empty() {
        let _ = writeln!(out, "other files: {} changed", diff.other_files.len());
    }
    out
}

fn split_name(split: &SplitDiff, multi: bool) -> String {
    if multi {
        format!("{}/{}", split.config, split.split)
    } else {
        split.split.clone()
    }
}

fn shards(n: usize) -> String {
    format!("{n} shard{}", if n == 1 { "" } else { "s" })
}

/// `train: 80 → 120 rows (+40), 1 → 2 shards, 135.5 kB → 201.0 kB`.
fn split_line(split: &SplitDiff, multi: bool) -> String {
    let name = split_name(split, multi);
    match (split.rows_before, split.rows_after) {
        (None, Some(rows)) => format!(
            "{name}: new split, {} rows, {}, {}",
            thousands(rows),
            shards(split.shards_after),
            human_bytes(split.bytes_after)
        ),
        (Some(rows), None) => format!(
            "{name}: removed split (was {} rows, {}, {})",
            thousands(rows),
            shards(split.shards_before),
            human_bytes(split.bytes_before)
        ),
        (before, after) => {
            let (before, after) = (before.unwrap_or(0), after.unwrap_or(0));
            let rows = if before == after {
                format!("{} rows (±0)", thousands(after))
            } else if after > before {
                format!(
                    "{} → {} rows (+{})",
                    thousands(before),
                    thousands(after),
                    thousands(after - before)
                )
            } else {
                format!(
                    "{} → {} rows (-{})",
                    thousands(before),
                    thousands(after),
                    thousands(before - after)
                )
            };
            let shard_count = if split.shards_before == split.shards_after {
                shards(split.shards_after)
            } else {
                format!("{} → {}", split.shards_before, shards(split.shards_after))
            };
            let bytes = if split.bytes_before == split.bytes_after {
                human_bytes(split.bytes_after)
            } else {
                format!(
                    "{} → {}",
                    human_bytes(split.bytes_before),
                    human_bytes(split.bytes_after)
                )
            };
            format!("{name}: {rows}, {shard_count}, {bytes}")
        }
    }
}

/// `added   data/train-00001.parquet (65.0 kB)`, `changed … (a → b)`.
fn file_line(file: &FileDiff) -> String {
    let sizes = match (file.size_before, file.size_after) {
        (Some(before), Some(after)) => format!("{} → {}", human_bytes(before), human_bytes(after)),
        (Some(size), None) | (None, Some(size)) => human_bytes(size),
        (None, None) => String::new(),
    };
    format!("{:<8}{} ({sizes})", file.status.label(), file.path)
}

fn schema_line(change: &inspect::ConfigSchemaChange, multi: bool) -> String {
    if multi {
        format!("{}: {}", change.config, change.change)
    } else {
        change.change.to_string()
    }
}
