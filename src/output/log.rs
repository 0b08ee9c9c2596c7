//! How `log` shows the history: git's full form (commit, date, the dataset at that commit, the
//! message) or one line per commit.

use std::fmt::Write as _;

use chrono::{FixedOffset, TimeZone as _};

use crate::inspect::LogEntry;
use crate::units::thousands;

/// The entries, newest first; `remote` is the remote-tracking ref's short name
/// (`origin/main`), shown beside the commit it points at.
pub fn render(entries: &[LogEntry], remote: &str, one_line: bool) -> String {
    let mut out = String::new();
    for (i, entry) in entries.iter().enumerate() {
        if one_line {
            let _ = writeln!(out, "{}", oneline(entry, remote));
        } else {
            if i > 0 {
                out.push('\n');
            }
            full(&mut out, entry, remote);
        }
    }
    out
}

/// `log --json`: every entry, with its splits' row deltas (`null` when not recorded).
pub fn render_json(entries: &[LogEntry]) -> anyhow::Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(entries)?))
}

/// `train 12,345 (+3 -0 ~1) · test 500` (`en/train …` for named configs; the row delta when the
/// commit message carries it), or `no data`.
fn summary(entry: &LogEntry) -> String {
    if let Some(error) = &entry.card_error {
        return format!(
            "card unreadable: {}",
            error.lines().next().unwrap_or_default()
        );
    }
    if entry.splits.is_empty() {
        return "no data".to_string();
    }
    entry
        .splits
        .iter()
        .map(|s| {
            let name = if s.config == "default" {
                s.split.clone()
            } else {
                format!("{}/{}", s.config, s.split)
            };
            match &s.rows_delta {
                Some(delta) => format!(
                    "{name} {} (+{} -{} ~{})",
                    thousands(s.num_examples),
                    thousands(delta.added),
                    thousands(delta.removed),
                    thousands(delta.changed)
                ),
                None => format!("{name} {}", thousands(s.num_examples)),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `tag: v1, origin/main`.
fn decorations(entry: &LogEntry, remote: &str) -> Option<String> {
    let mut parts: Vec<String> = entry.tags.iter().map(|t| format!("tag: {t}")).collect();
    if entry.remote_head {
        parts.push(remote.to_string());
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn date(entry: &LogEntry, format: &str) -> String {
    let offset = FixedOffset::east_opt(entry.offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    match offset.timestamp_opt(entry.time, 0).single() {
        Some(time) => time.format(format).to_string(),
        None => entry.time.to_string(),
    }
}

/// `e11f718 2026-11-25 Add train: 80 rows in 1 shard — train 80 (tag: v1)`.
fn oneline(entry: &LogEntry, remote: &str) -> String {
    let mut line = format!(
        "{} {} {} — {}",
        entry.short,
        date(entry, "%Y-%m-%d"),
        entry.subject,
        summary(entry)
    );
    if let Some(decorations) = decorations(entry, remote) {
        let _ = write!(line, " ({decorations})");
    }
    line
}

fn full(out: &mut String, entry: &LogEntry, remote: &str) {
    let _ = write!(out, "commit {}", entry.commit);
    if let Some(decorations) = decorations(entry, remote) {
        let _ = write!(out, " ({decorations})");
    }
    out.push('\n');
    let _ = writeln!(out, "Date:    {}", date(entry, "%Y-%m-%d %H:%M:%S %z"));
    let _ = writeln!(out, "Dataset: {}", summary(entry));
    out.push('\n');
    for line in entry.message.trim_end().lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "    {line}");
        }
    }
}
