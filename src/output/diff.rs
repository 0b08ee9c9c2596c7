//! How `diff` shows a dataset diff: the card's metadata by key, the prose as a unified diff
//! (coloured on a terminal), rows and shards per split, schema changes; and the `--stat` form.

use std::fmt::Write as _;

use crate::inspect::{
    self, DatasetDiff, FileDiff, FileStatus, Pairing, RowDiff, RowKind, SplitDiff,
};
use crate::units::{human_bytes, thousands};

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

pub fn render(diff: &DatasetDiff, from: &str, to: &str, colour: bool) -> String {
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
            match &split.row_diff {
                Some(rows) if !one_side_only(rows) => render_rows(&mut out, rows, colour),
                _ => {
                    if let Some(error) = &split.row_error {
                        let _ = writeln!(out, "    rows not compared: {error}");
                    }
                    for shard in &split.shards {
                        let _ = writeln!(out, "    {}", file_line(shard));
                    }
                }
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
pub fn render_stat(diff: &DatasetDiff) -> String {
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
        // A new or removed split is all added or all removed: its line says so already.
        if let Some(rows) = split.row_diff.as_ref().filter(|rows| !one_side_only(rows)) {
            let _ = write!(line, "; {}", row_counts(rows));
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
            "{name}: new split, {}, {}, {}",
            crate::units::rows(rows),
            shards(split.shards_after),
            human_bytes(split.bytes_after)
        ),
        (Some(rows), None) => format!(
            "{name}: removed split (was {}, {}, {})",
            crate::units::rows(rows),
            shards(split.shards_before),
            human_bytes(split.bytes_before)
        ),
        (before, after) => {
            let (before, after) = (before.unwrap_or(0), after.unwrap_or(0));
            let rows = if before == after {
                format!("{} (±0)", crate::units::rows(after))
            } else if after > before {
                format!(
                    "{} → {} (+{})",
                    thousands(before),
                    crate::units::rows(after),
                    thousands(after - before)
                )
            } else {
                format!(
                    "{} → {} (-{})",
                    thousands(before),
                    crate::units::rows(after),
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

/// `1 row changed, 3 rows added, 0 removed`.
fn row_counts(rows: &RowDiff) -> String {
    let n = |count: u64| {
        format!(
            "{} row{}",
            thousands(count),
            if count == 1 { "" } else { "s" }
        )
    };
    if rows.same_rows {
        return "rows: the same, only the shards' encoding differs".to_string();
    }
    format!(
        "{} changed, {} added, {} removed",
        n(rows.changed),
        n(rows.added),
        thousands(rows.removed)
    )
}

/// A new or removed split: its rows are all added or all removed, which its line says; its
/// shards are listed instead of its rows.
fn one_side_only(rows: &RowDiff) -> bool {
    rows.shards_read == 0 && (rows.added == 0 || rows.removed == 0)
}

/// How wide a value is shown on a row's line.
const VALUE_WIDTH: usize = 60;

/// The row summary of a split, then the rows (or one line saying why they are not listed).
fn render_rows(out: &mut String, rows: &RowDiff, colour: bool) {
    let pairing = match &rows.pairing {
        Pairing::Key { column, .. } => format!("rows paired by key {column}"),
        Pairing::Position => "no key column: rows paired by position".to_string(),
    };
    if let Some(why) = &rows.wholesale {
        let _ = writeln!(
            out,
            "    rows not listed: {why} ({} added, {} removed; {} of {} shard files read)",
            thousands(rows.added),
            thousands(rows.removed),
            rows.shards_read,
            rows.shards_total
        );
        return;
    }
    let _ = writeln!(
        out,
        "    {} — {} of {} shard files read; {pairing}",
        row_counts(rows),
        rows.shards_read,
        rows.shards_total
    );
    for row in &rows.rows {
        let position = match (row.old_position, row.new_position) {
            (Some(o), Some(n)) if o != n => format!("row {} → {}", thousands(o), thousands(n)),
            (Some(p), _) | (None, Some(p)) => format!("row {}", thousands(p)),
            (None, None) => "row".to_string(),
        };
        let key = match (&row.key, &rows.pairing) {
            (Some(value), Pairing::Key { column, .. }) => {
                format!(" ({column} {})", value.line(VALUE_WIDTH))
            }
            _ => String::new(),
        };
        match row.kind {
            RowKind::Changed => {
                let _ = writeln!(
                    out,
                    "    {}",
                    paint_kind(&format!("~ {position}{key}"), "~", colour)
                );
                for field in &row.fields {
                    let side = |shown: &Option<inspect::Shown>| {
                        shown
                            .as_ref()
                            .map_or_else(|| "(none)".to_string(), |v| v.line(VALUE_WIDTH))
                    };
                    let _ = writeln!(
                        out,
                        "        {}: {} → {}",
                        field.path,
                        side(&field.old),
                        side(&field.new)
                    );
                }
            }
            RowKind::Added | RowKind::Removed => {
                let sign = if row.kind == RowKind::Added { "+" } else { "-" };
                let text = row
                    .row
                    .as_ref()
                    .map(|r| {
                        inspect::Shown::new(&serde_json::Value::Object(r.clone()))
                            .line(VALUE_WIDTH * 2)
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    {}",
                    paint_kind(&format!("{sign} {position}{key}: {text}"), sign, colour)
                );
            }
        }
    }
    if rows.rows_not_listed > 0 {
        let _ = writeln!(
            out,
            "    … and {} more (--rows N lists more)",
            thousands(rows.rows_not_listed)
        );
    }
}

fn paint_kind(line: &str, sign: &str, colour: bool) -> String {
    let code = match sign {
        "+" => GREEN,
        "-" => RED,
        _ => CYAN,
    };
    if colour {
        format!("{code}{line}{RESET}")
    } else {
        line.to_string()
    }
}
