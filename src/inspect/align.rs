//! Aligning two sequences of row hashes: the one alignment behind `diff`'s rows
//! ([`super::rowdiff`], over the rows of the shards that differ) and `build`'s row delta
//! ([`RowDelta::between`], over a split's rows as the build hashed them).
//!
//! Rows are aligned with patience diff (rows unique on both sides anchor the alignment, the
//! runs between anchors are aligned with Myers), so an edit, insertion or deletion among
//! otherwise distinct rows costs about the number of rows, not rows × edits. When most rows
//! differ, an alignment would cost more than it tells: the rows are counted as multisets
//! instead.

use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffOp};

/// Below this many differing rows a run is always aligned row by row; above it, a run where
/// most rows differ is counted as multisets.
const WHOLESALE_MIN_ROWS: u64 = 1000;

/// How two runs of rows line up.
pub enum Aligned {
    /// Most rows differ: how many rows are on one side only, as multisets (`EXCEPT ALL` both
    /// ways).
    Wholesale { removed: u64, added: u64 },
    /// The runs that differ (no `Equal`), by index into each side.
    Ops(Vec<DiffOp>),
}

/// Aligns the rows `a` (old) and `b` (new).
pub fn align(a: &[u128], b: &[u128]) -> Aligned {
    let mut counts: HashMap<u128, i64> = HashMap::with_capacity(a.len());
    for h in a {
        *counts.entry(*h).or_default() += 1;
    }
    let mut common = 0u64;
    for h in b {
        if let Some(n) = counts.get_mut(h)
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    drop(counts);
    let (old_count, new_count) = (a.len() as u64, b.len() as u64);
    let differing = (old_count - common) + (new_count - common);
    if differing >= WHOLESALE_MIN_ROWS && common * 2 < old_count.max(new_count) {
        return Aligned::Wholesale {
            removed: old_count - common,
            added: new_count - common,
        };
    }
    // Only runs of duplicate rows are left to Myers: the deadline bounds a pathological case
    // (many edits among rows that repeat), where the alignment found by then is still a valid
    // one, if not the shortest.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let ops = similar::capture_diff_slices_deadline(Algorithm::Patience, a, b, Some(deadline));
    Aligned::Ops(
        ops.into_iter()
            .filter(|op| !matches!(op, DiffOp::Equal { .. }))
            .collect(),
    )
}

/// Where two runs of rows differ, past their unchanged start and end (all of it but the tail,
/// after an append), at one comparison per row: the start, and the end in `old` and in `new`.
fn differing(old: &[u128], new: &[u128]) -> (usize, usize, usize) {
    let start = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let end = old[start..]
        .iter()
        .rev()
        .zip(new[start..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    (start, old.len() - end, new.len() - end)
}

/// Rows added, removed and changed in one split between two builds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowDelta {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

impl RowDelta {
    /// The delta between a split's old and new row hashes. A row removed and a row added at
    /// the same place of the alignment count as one changed row (as `diff` pairs rows without
    /// a key); when most rows differ, rows on one side only are paired as changed up to the
    /// smaller count.
    pub fn between(old: &[u128], new: &[u128]) -> RowDelta {
        let (start, old_end, new_end) = differing(old, new);
        let (old, new) = (&old[start..old_end], &new[start..new_end]);
        let mut delta = RowDelta::default();
        match align(old, new) {
            Aligned::Wholesale { removed, added } => {
                delta.changed = removed.min(added);
                delta.removed = removed - delta.changed;
                delta.added = added - delta.changed;
            }
            Aligned::Ops(ops) => {
                for op in ops {
                    let (removed, added) =
                        (op.old_range().len() as u64, op.new_range().len() as u64);
                    let changed = removed.min(added);
                    delta.changed += changed;
                    delta.removed += removed - changed;
                    delta.added += added - changed;
                }
            }
        }
        delta
    }

    /// The delta between a split's old and new row hashes when they hash more than a row's
    /// values (the text of JSONL lines): rows whose hashes match are the same rows; where
    /// removed and added rows meet in the alignment (rows that may only have been written
    /// differently), `values` gives those rows' value hashes (old and new, by ranges of row
    /// indexes, in order), which are aligned again. `None` when `values` cannot tell.
    pub fn between_by_value(
        old: &[u128],
        new: &[u128],
        values: impl FnOnce(&[Range<usize>], &[Range<usize>]) -> Option<(Vec<u128>, Vec<u128>)>,
    ) -> Option<RowDelta> {
        let (start, old_end, new_end) = differing(old, new);
        let mut delta = RowDelta::default();
        // Runs with rows on both sides, to be compared by value.
        let mut both: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        match align(&old[start..old_end], &new[start..new_end]) {
            Aligned::Wholesale { .. } => both.push((start..old_end, start..new_end)),
            Aligned::Ops(ops) => {
                for op in ops {
                    let (removed, added) = (op.old_range(), op.new_range());
                    if removed.is_empty() || added.is_empty() {
                        delta.removed += removed.len() as u64;
                        delta.added += added.len() as u64;
                    } else {
                        both.push((
                            start + removed.start..start + removed.end,
                            start + added.start..start + added.end,
                        ));
                    }
                }
            }
        }
        if both.is_empty() {
            return Some(delta);
        }
        let (old_ranges, new_ranges): (Vec<_>, Vec<_>) = both.iter().cloned().unzip();
        let (old_values, new_values) = values(&old_ranges, &new_ranges)?;
        let (mut old_at, mut new_at) = (0, 0);
        for (removed, added) in both {
            let old_run = old_values.get(old_at..old_at + removed.len())?;
            let new_run = new_values.get(new_at..new_at + added.len())?;
            old_at += removed.len();
            new_at += added.len();
            let run = RowDelta::between(old_run, new_run);
            delta.added += run.added;
            delta.removed += run.removed;
            delta.changed += run.changed;
        }
        (old_at == old_values.len() && new_at == new_values.len()).then_some(delta)
    }

    /// `+3 -0 ~1`.
    pub fn short(&self) -> String {
        format!("+{} -{} ~{}", self.added, self.removed, self.changed)
    }

    /// Parses [`RowDelta::short`] (a `−` minus sign is taken too).
    pub fn parse(text: &str) -> Option<RowDelta> {
        let mut parts = text.split_whitespace();
        let mut number = |sign: &[&str]| -> Option<u64> {
            let part = parts.next()?;
            let digits = sign.iter().find_map(|s| part.strip_prefix(s))?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        };
        let added = number(&["+"])?;
        let removed = number(&["-", "\u{2212}"])?;
        let changed = number(&["~"])?;
        parts.next().is_none().then_some(RowDelta {
            added,
            removed,
            changed,
        })
    }
}

/// The commit-message line that carries the row delta of a build's splits.
pub const ROWS_LINE: &str = "Rows:";

/// `Rows: train +3 -0 ~1, test +0 -0 ~0` (splits of a named config as `en/train`).
pub fn rows_line(splits: &[(String, RowDelta)]) -> Option<String> {
    if splits.is_empty() {
        return None;
    }
    let parts: Vec<String> = splits
        .iter()
        .map(|(name, delta)| format!("{name} {}", delta.short()))
        .collect();
    Some(format!("{ROWS_LINE} {}", parts.join(", ")))
}

/// The row deltas a commit message carries, by split name as [`rows_line`] writes it; empty
/// when it carries none (or a line that does not parse).
pub fn parse_rows_line(message: &str) -> Vec<(String, RowDelta)> {
    // In the body only: a subject given with `-m` is the user's words.
    let Some(line) = message
        .lines()
        .skip(1)
        .find_map(|line| line.strip_prefix(ROWS_LINE))
    else {
        return Vec::new();
    };
    let parsed: Option<Vec<(String, RowDelta)>> = line
        .split(',')
        .map(|part| {
            let (name, delta) = part.trim().split_once(' ')?;
            Some((name.to_string(), RowDelta::parse(delta)?))
        })
        .collect();
    parsed.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(old: &[u128], new: &[u128]) -> (u64, u64, u64) {
        let d = RowDelta::between(old, new);
        (d.added, d.removed, d.changed)
    }

    #[test]
    fn edits_insertions_and_deletions_are_counted_by_alignment() {
        let old: Vec<u128> = (0..5000).collect();
        let mut edited = old.clone();
        edited[2500] = 99_999;
        assert_eq!(delta(&old, &edited), (0, 0, 1));
        let mut inserted = old.clone();
        inserted.splice(10..10, [70_000, 70_001, 70_002]);
        assert_eq!(delta(&old, &inserted), (3, 0, 0));
        let mut deleted = old.clone();
        deleted.drain(100..300);
        assert_eq!(delta(&old, &deleted), (0, 200, 0));
        // Scattered edits and an append together.
        let mut both = old.clone();
        for i in (0..5000).step_by(50) {
            both[i] += 1_000_000;
        }
        both.extend([80_000, 80_001]);
        assert_eq!(delta(&old, &both), (2, 0, 100));
        // Every row differs (a column added to every line): counted, paired as changed.
        let all: Vec<u128> = old.iter().map(|h| h + 1_000_000).collect();
        assert_eq!(delta(&old, &all), (0, 0, 5000));
        assert_eq!(delta(&old, &old), (0, 0, 0));
        assert_eq!(delta(&[], &old[..3]), (3, 0, 0));
    }

    #[test]
    fn rows_written_in_other_text_are_compared_by_their_values() {
        // Line hashes: row 2 and row 4 were written in other text, row 4 also changed, and
        // a row was added at the end; values: 2 and 20 are the same row.
        let (old, new) = ([1, 2, 3, 4], [1, 20, 3, 40, 5]);
        let value = |line: u128| match line {
            20 => 2,
            40 => 41,
            other => other,
        };
        let mut asked = Vec::new();
        let delta = RowDelta::between_by_value(&old, &new, |old_rows, new_rows| {
            asked.push((old_rows.to_vec(), new_rows.to_vec()));
            let read = |rows: &[Range<usize>], side: &[u128]| -> Vec<u128> {
                rows.iter()
                    .flat_map(|r| side[r.clone()].iter().map(|&h| value(h)))
                    .collect()
            };
            Some((read(old_rows, &old), read(new_rows, &new)))
        });
        assert_eq!(
            delta,
            Some(RowDelta {
                added: 1,
                removed: 0,
                changed: 1
            })
        );
        // Only the runs with rows on both sides were read, once.
        assert_eq!(asked, vec![(vec![1..2, 3..4], vec![1..2, 3..5])]);
        // Rows that cannot be read: not known.
        assert_eq!(RowDelta::between_by_value(&old, &new, |_, _| None), None);
        // Nothing to read: no call.
        let delta = RowDelta::between_by_value(&[1, 2], &[1, 2, 3], |_, _| panic!("read"));
        assert_eq!(delta.map(|d| d.short()), Some("+1 -0 ~0".to_string()));
    }

    #[test]
    fn the_rows_line_reads_back() {
        let splits = vec![
            (
                "train".to_string(),
                RowDelta {
                    added: 3,
                    removed: 0,
                    changed: 1,
                },
            ),
            ("en/test".to_string(), RowDelta::default()),
        ];
        let line = rows_line(&splits).unwrap();
        assert_eq!(line, "Rows: train +3 -0 ~1, en/test +0 -0 ~0");
        let message = format!("Update train\n\nSplits:\n  train: 5 rows\n\n{line}\nInput: x\n");
        assert_eq!(parse_rows_line(&message), splits);
        assert_eq!(
            parse_rows_line("x\n\nRows: train +3 \u{2212}2 ~1"),
            vec![(
                "train".to_string(),
                RowDelta {
                    added: 3,
                    removed: 2,
                    changed: 1
                }
            )]
        );
        assert!(parse_rows_line("Update train\n\nRows: train lots").is_empty());
        assert!(parse_rows_line("Update train").is_empty());
        assert_eq!(rows_line(&[]), None);
    }
}
