//! Which rows of a split were added, removed or changed between two states, reading only the
//! shards that differ.
//!
//! Content-defined shards make an edit touch one or two shards while the others keep their
//! bytes, hence their LFS oid. The two sides' shard lists are aligned by oid first; shards in
//! an equal run are never decoded (their row counts come from the footers, for positions).
//! Each run of differing shards is read once to hash its rows (arrow-row encoding, XXH3-128,
//! as `adopt` hashes rows) and, when there is a key column, its keys; the hashes are aligned
//! ([`super::align`]), and only the rows that end up listed are decoded a second time into
//! values. Memory is the hashes of the differing shards plus one batch, not the dataset.
//!
//! A changed row is told from a removal plus an addition by its key (a column named `id`,
//! `*_id`, `uuid` or `key` of string or integer type, unique on both sides, or `--key`), else
//! by position within a hunk of the alignment; the result says which.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;
use serde_json::{Map, Value};
use similar::{Algorithm, DiffOp};

use super::align::{Aligned, align};
use super::rowvalues::{self, FieldChange, Shown};
use super::state::{DatasetState, Source};
use super::tree::Content;
use crate::convert::row_hash::RowHasher;
use crate::repo::LocalClone;
use crate::repo::lfs;

/// What the caller asks of a row diff.
#[derive(Debug, Clone, Default)]
pub struct RowOptions {
    /// How many rows to list per split (the counts are always complete).
    pub max_rows: usize,
    /// The column that identifies a row; `None` finds one.
    pub key: Option<String>,
}

/// `--key` names a column the data does not have (the only row-diff error that stops `diff`:
/// the others leave a split's rows uncompared).
#[derive(Debug, thiserror::Error)]
#[error("--key {column}: the data has no such column (columns: {columns})")]
pub struct NoSuchKey {
    pub column: String,
    pub columns: String,
}

/// How removed and added rows were paired into changed rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum Pairing {
    /// By the value of a key column (`given` when `--key` named it).
    Key { column: String, given: bool },
    /// By position within a hunk: no key column was found.
    Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    Added,
    Removed,
    Changed,
}

/// One listed row. Positions are 0-based row numbers in the split on each side.
#[derive(Debug, Clone, Serialize)]
pub struct RowChange {
    pub kind: RowKind,
    pub old_position: Option<u64>,
    pub new_position: Option<u64>,
    /// The key's value, when rows are paired by key.
    pub key: Option<Shown>,
    /// For a changed row: the fields that differ, by path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// For an added or removed row: the row, long values shortened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<Map<String, Value>>,
}

/// The rows of one split between two states.
#[derive(Debug, Clone, Serialize)]
pub struct RowDiff {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// Shard files decoded (old and new sides together), of all the shard files of both sides.
    pub shards_read: usize,
    pub shards_total: usize,
    pub pairing: Pairing,
    /// Set when rows are not listed one by one because most of them differ (the schema
    /// changed, or most rows of the differing shards): why. The counts are then rows that are
    /// on one side only, as a multiset (`EXCEPT ALL` both ways); `changed` is 0.
    pub wholesale: Option<String>,
    /// Shards differ in bytes but hold the same rows in the same order (re-encoded).
    pub same_rows: bool,
    pub rows: Vec<RowChange>,
    /// Rows with a change that are not in `rows` (over `--rows`).
    pub rows_not_listed: u64,
}

/// A shard on one side: its path, content and first row's position in the split.
struct Shard<'a> {
    path: &'a str,
    content: &'a Content,
    offset: u64,
    rows: u64,
}

/// One side of the split.
struct Side<'a> {
    clone: &'a LocalClone,
    state: &'a DatasetState,
    shards: Vec<Shard<'a>>,
}

impl Side<'_> {
    fn open(&self, shard: &Shard) -> anyhow::Result<File> {
        open_shard(self.clone, self.state, shard.path, shard.content)
    }
}

/// Opens a shard's content: the LFS object (or, in the working tree, the file itself), or a
/// plain blob copied out of git.
fn open_shard(
    clone: &LocalClone,
    state: &DatasetState,
    path: &str,
    content: &Content,
) -> anyhow::Result<File> {
    let worktree = matches!(state.source, Source::WorkTree);
    match content {
        Content::Lfs(pointer) => {
            let stored = lfs::store_path(clone.repo.path(), &pointer.oid);
            if let Ok(file) = File::open(&stored) {
                return Ok(file);
            }
            let on_disk = clone.root.join(path);
            if worktree && std::fs::metadata(&on_disk).is_ok_and(|m| m.len() == pointer.size) {
                return File::open(&on_disk)
                    .with_context(|| format!("cannot read {}", on_disk.display()));
            }
            bail!(
                "{path}: its LFS object {} is not in {}",
                pointer.oid,
                clone.repo.path().join("lfs/objects").display()
            )
        }
        Content::Blob { id, .. } => {
            if worktree {
                let on_disk = clone.root.join(path);
                return File::open(&on_disk)
                    .with_context(|| format!("cannot read {}", on_disk.display()));
            }
            let blob = clone.repo.find_blob(*id)?;
            let mut file = tempfile::tempfile()?;
            file.write_all(blob.content())?;
            Ok(file)
        }
    }
}

fn footer(file: File, path: &str) -> anyhow::Result<(u64, Arc<Schema>)> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{path}: not a readable Parquet file"))?;
    let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
    Ok((rows, builder.schema().clone()))
}

/// Streams the batches of a Parquet file.
fn batches(
    file: File,
    path: &str,
    mut each: impl FnMut(&RecordBatch) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.with_batch_size(1024).build())
        .with_context(|| format!("{path}: not a readable Parquet file"))?;
    for batch in reader {
        let batch = batch.with_context(|| format!("{path}: cannot read its rows"))?;
        each(&batch)?;
    }
    Ok(())
}

fn content_id(content: &Content) -> String {
    match content {
        Content::Lfs(pointer) => pointer.oid.clone(),
        Content::Blob { id, .. } => id.to_string(),
    }
}

/// Whether a column's name and type make it a key candidate.
fn key_like(name: &str, data_type: &DataType) -> bool {
    let name = name.to_ascii_lowercase();
    let named = name == "id" || name.ends_with("_id") || name == "uuid" || name == "key";
    let typed = matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    );
    named && typed
}

/// The rows of a run of shards: their hashes and, when a key is asked for, the key hashes.
#[derive(Default)]
struct Hashed {
    rows: Vec<u128>,
    keys: Vec<u64>,
}

fn hash_rows(side: &Side, shards: &[Shard], key: Option<&str>) -> anyhow::Result<Hashed> {
    let mut out = Hashed::default();
    for shard in shards {
        let mut hasher: Option<RowHasher> = None;
        batches(side.open(shard)?, shard.path, |batch| {
            if hasher.is_none() {
                hasher = Some(
                    RowHasher::new(&batch.schema())
                        .with_context(|| format!("{}: cannot hash its rows", shard.path))?,
                );
            }
            let (_, hashes) = hasher
                .as_ref()
                .expect("made above")
                .hash(batch)
                .with_context(|| format!("{}: cannot hash its rows", shard.path))?;
            out.rows.extend(hashes);
            if let Some(key) = key {
                let column = batch
                    .column_by_name(key)
                    .with_context(|| format!("{}: no column {key:?}", shard.path))?;
                out.keys
                    .extend((0..batch.num_rows()).map(|i| key_hash(column.as_ref(), i)));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn key_hash(column: &dyn Array, i: usize) -> u64 {
    twox_hash::XxHash64::oneshot(0, rowvalues::value_json(column, i).to_string().as_bytes())
}

/// Rows of one side by position in the split, with their key's hash (0 without a key).
type Positions = Vec<(u64, u64)>;

/// The rows of one split that differ between `old` and `new`.
pub fn row_diff(
    clone: &LocalClone,
    old_state: &DatasetState,
    old_shards: &[(String, Content)],
    new_state: &DatasetState,
    new_shards: &[(String, Content)],
    options: &RowOptions,
) -> anyhow::Result<RowDiff> {
    // Footers of every shard (row counts for positions, schemas), each distinct content once.
    let mut footers: HashMap<String, (u64, Arc<Schema>)> = HashMap::new();
    let mut side = |state: &'_ DatasetState,
                    list: &'_ [(String, Content)]|
     -> anyhow::Result<Vec<(u64, Arc<Schema>)>> {
        list.iter()
            .map(|(path, content)| {
                let id = content_id(content);
                if let Some(found) = footers.get(&id) {
                    return Ok(found.clone());
                }
                let found = footer(open_shard(clone, state, path, content)?, path)?;
                footers.insert(id, found.clone());
                Ok(found)
            })
            .collect()
    };
    let old_footers = side(old_state, old_shards)?;
    let new_footers = side(new_state, new_shards)?;
    fn make<'a>(
        clone: &'a LocalClone,
        state: &'a DatasetState,
        list: &'a [(String, Content)],
        footers: &[(u64, Arc<Schema>)],
    ) -> Side<'a> {
        let mut offset = 0;
        let shards = list
            .iter()
            .zip(footers)
            .map(|((path, content), (rows, _))| {
                let shard = Shard {
                    path,
                    content,
                    offset,
                    rows: *rows,
                };
                offset += rows;
                shard
            })
            .collect();
        Side {
            clone,
            state,
            shards,
        }
    }
    let old = make(clone, old_state, old_shards, &old_footers);
    let new = make(clone, new_state, new_shards, &new_footers);
    let shards_total = old.shards.len() + new.shards.len();

    // The shard runs that differ, by oid.
    let old_ids: Vec<String> = old.shards.iter().map(|s| content_id(s.content)).collect();
    let new_ids: Vec<String> = new.shards.iter().map(|s| content_id(s.content)).collect();
    let hunks: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> =
        similar::capture_diff_slices(Algorithm::Myers, &old_ids, &new_ids)
            .into_iter()
            .filter(|op| !matches!(op, DiffOp::Equal { .. }))
            .map(|op| (op.old_range(), op.new_range()))
            .collect();

    let fields =
        |footers: &[(u64, Arc<Schema>)]| footers.first().map(|(_, schema)| schema.fields().clone());
    let (old_fields, new_fields) = (fields(&old_footers), fields(&new_footers));
    let schema_changed = matches!((&old_fields, &new_fields), (Some(a), Some(b)) if a != b);
    let mut result = RowDiff {
        added: 0,
        removed: 0,
        changed: 0,
        shards_read: 0,
        shards_total,
        pairing: Pairing::Position,
        wholesale: None,
        same_rows: false,
        rows: Vec::new(),
        rows_not_listed: 0,
    };
    let one_side = old.shards.is_empty() || new.shards.is_empty();
    if schema_changed || one_side {
        // Every row differs in form, or is on one side only: counts from the footers,
        // nothing decoded.
        result.removed = hunks
            .iter()
            .map(|(o, _)| old.shards[o.clone()].iter().map(|s| s.rows).sum::<u64>())
            .sum();
        result.added = hunks
            .iter()
            .map(|(_, n)| new.shards[n.clone()].iter().map(|s| s.rows).sum::<u64>())
            .sum();
        result.wholesale = Some(
            if old.shards.is_empty() {
                "a new split: every row is added"
            } else if new.shards.is_empty() {
                "a removed split: every row is removed"
            } else {
                "the schema changed, so every row of the changed shards differs"
            }
            .into(),
        );
        return Ok(result);
    }

    // The key: given, or found among the columns (and checked unique once hashed).
    let schema_fields = new_fields.or(old_fields);
    let (key, given) = match &options.key {
        Some(column) => {
            let found = schema_fields
                .as_ref()
                .is_none_or(|fields| fields.iter().any(|f| f.name() == column));
            if !found {
                let names: Vec<&str> = schema_fields
                    .iter()
                    .flat_map(|fields| fields.iter().map(|f| f.name().as_str()))
                    .collect();
                return Err(NoSuchKey {
                    column: column.clone(),
                    columns: names.join(", "),
                }
                .into());
            }
            (Some(column.clone()), true)
        }
        None => (
            schema_fields.as_ref().and_then(|fields| {
                fields
                    .iter()
                    .find(|f| key_like(f.name(), f.data_type()))
                    .map(|f| f.name().clone())
            }),
            false,
        ),
    };

    // Pass 1: hash the rows of each differing run, align them.
    let mut read: HashSet<(bool, usize)> = HashSet::new();
    let mut removed: Vec<(u64, u64)> = Vec::new(); // (position, key hash)
    let mut added: Vec<(u64, u64)> = Vec::new();
    // Runs of rows replaced by others: paired by position when there is no key.
    let mut replaced: Vec<(Positions, Positions)> = Vec::new();
    let mut unique_keys = true;
    let mut all_same = true;
    let mut wholesale = (0u64, 0u64);
    for (old_range, new_range) in &hunks {
        let old_run = &old.shards[old_range.clone()];
        let new_run = &new.shards[new_range.clone()];
        let old_start = old_run.first().map_or(0, |s| s.offset);
        let new_start = new_run.first().map_or(0, |s| s.offset);
        let old_count: u64 = old_run.iter().map(|s| s.rows).sum();
        let new_count: u64 = new_run.iter().map(|s| s.rows).sum();
        all_same &= old_count == new_count;
        if old_run.is_empty() || new_run.is_empty() {
            // Shards only on one side: their rows are added or removed, no need to hash them
            // unless keys must be paired against the other hunks.
            let (run, list, start, count, is_old) = if old_run.is_empty() {
                (new_run, &mut added, new_start, new_count, false)
            } else {
                (old_run, &mut removed, old_start, old_count, true)
            };
            let keys = if key.is_some() {
                let side = if is_old { &old } else { &new };
                read.extend(old_range.clone().map(|i| (true, i)).filter(|_| is_old));
                read.extend(new_range.clone().map(|i| (false, i)).filter(|_| !is_old));
                hash_rows(side, run, key.as_deref())?.keys
            } else {
                Vec::new()
            };
            list.extend(
                (0..count).map(|i| (start + i, keys.get(i as usize).copied().unwrap_or(0))),
            );
            all_same = false;
            continue;
        }
        read.extend(old_range.clone().map(|i| (true, i)));
        read.extend(new_range.clone().map(|i| (false, i)));
        let a = hash_rows(&old, old_run, key.as_deref())?;
        let b = hash_rows(&new, new_run, key.as_deref())?;
        if a.rows == b.rows {
            continue;
        }
        all_same = false;
        for keys in [&a.keys, &b.keys] {
            let mut seen = HashSet::with_capacity(keys.len());
            unique_keys &= keys.iter().all(|k| seen.insert(*k));
        }
        let ops = match align(&a.rows, &b.rows) {
            Aligned::Wholesale { removed, added } => {
                wholesale.0 += removed;
                wholesale.1 += added;
                continue;
            }
            Aligned::Ops(ops) => ops,
        };
        for op in ops {
            let key_of = |keys: &[u64], i: usize| keys.get(i).copied().unwrap_or(0);
            match op {
                DiffOp::Equal { .. } => {}
                DiffOp::Delete {
                    old_index, old_len, ..
                } => removed.extend(
                    (old_index..old_index + old_len)
                        .map(|i| (old_start + i as u64, key_of(&a.keys, i))),
                ),
                DiffOp::Insert {
                    new_index, new_len, ..
                } => added.extend(
                    (new_index..new_index + new_len)
                        .map(|i| (new_start + i as u64, key_of(&b.keys, i))),
                ),
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => replaced.push((
                    (old_index..old_index + old_len)
                        .map(|i| (old_start + i as u64, key_of(&a.keys, i)))
                        .collect(),
                    (new_index..new_index + new_len)
                        .map(|i| (new_start + i as u64, key_of(&b.keys, i)))
                        .collect(),
                )),
            }
        }
    }
    result.shards_read = read.len();
    result.same_rows = all_same && !hunks.is_empty();

    // Pair by key across the split: a key removed and added again is a changed row.
    let key = if options.key.is_none() && !unique_keys {
        None
    } else {
        key
    };
    let mut pairs: Vec<(u64, u64)> = Vec::new(); // (old position, new position)
    for (gone, came) in replaced {
        if key.is_some() {
            removed.extend(gone);
            added.extend(came);
        } else {
            let paired = gone.len().min(came.len());
            pairs.extend(gone.iter().zip(&came).map(|(o, n)| (o.0, n.0)));
            removed.extend(&gone[paired..]);
            added.extend(&came[paired..]);
        }
    }
    if let Some(column) = &key {
        result.pairing = Pairing::Key {
            column: column.clone(),
            given,
        };
        let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, (_, k)) in added.iter().enumerate().rev() {
            by_key.entry(*k).or_default().push(i);
        }
        let mut taken = vec![false; added.len()];
        let mut left = Vec::new();
        for (position, k) in removed {
            match by_key.get_mut(&k).and_then(Vec::pop) {
                Some(i) => {
                    taken[i] = true;
                    pairs.push((position, added[i].0));
                }
                None => left.push((position, k)),
            }
        }
        removed = left;
        added = added
            .into_iter()
            .zip(taken)
            .filter(|(_, t)| !t)
            .map(|(a, _)| a)
            .collect();
    }
    result.added = added.len() as u64 + wholesale.1;
    result.removed = removed.len() as u64 + wholesale.0;
    result.changed = pairs.len() as u64;
    if wholesale != (0, 0) {
        result.wholesale = Some("most rows of the changed shards differ".to_string());
    }

    // The rows to list, in order of position.
    let mut listed: Vec<(RowKind, Option<u64>, Option<u64>)> = pairs
        .iter()
        .map(|&(o, n)| (RowKind::Changed, Some(o), Some(n)))
        .chain(
            removed
                .iter()
                .map(|&(o, _)| (RowKind::Removed, Some(o), None)),
        )
        .chain(added.iter().map(|&(n, _)| (RowKind::Added, None, Some(n))))
        .collect();
    listed.sort_by_key(|(_, o, n)| (n.or(*o), o.is_none()));
    let total = listed.len() as u64;
    listed.truncate(options.max_rows);
    result.rows_not_listed = total - listed.len() as u64;
    if listed.is_empty() {
        return Ok(result);
    }

    // Pass 2: decode only the listed rows.
    let wanted_old: Vec<u64> = listed.iter().filter_map(|r| r.1).collect();
    let wanted_new: Vec<u64> = listed.iter().filter_map(|r| r.2).collect();
    let old_rows = fetch_rows(&old, &wanted_old, &mut read, true)?;
    let new_rows = fetch_rows(&new, &wanted_new, &mut read, false)?;
    result.shards_read = read.len();
    let key_of = |row: &Map<String, Value>| key.as_ref().and_then(|k| row.get(k)).map(Shown::new);
    for (kind, o, n) in listed {
        let old_row = o.and_then(|p| old_rows.get(&p));
        let new_row = n.and_then(|p| new_rows.get(&p));
        let change = match kind {
            RowKind::Changed => {
                let (Some(a), Some(b)) = (old_row, new_row) else {
                    continue;
                };
                RowChange {
                    kind,
                    old_position: o,
                    new_position: n,
                    key: key_of(b),
                    fields: rowvalues::field_changes(a, b),
                    row: None,
                }
            }
            RowKind::Added | RowKind::Removed => {
                let Some(row) = new_row.or(old_row) else {
                    continue;
                };
                RowChange {
                    kind,
                    old_position: o,
                    new_position: n,
                    key: key_of(row),
                    fields: Vec::new(),
                    row: Some(rowvalues::shown_row(row)),
                }
            }
        };
        result.rows.push(change);
    }
    Ok(result)
}

/// The rows at `positions` (in the split) of one side, decoding only the shards holding them.
fn fetch_rows(
    side: &Side,
    positions: &[u64],
    read: &mut HashSet<(bool, usize)>,
    is_old: bool,
) -> anyhow::Result<BTreeMap<u64, Map<String, Value>>> {
    let mut out = BTreeMap::new();
    for (index, shard) in side.shards.iter().enumerate() {
        let end = shard.offset + shard.rows;
        let mut wanted: Vec<u64> = positions
            .iter()
            .copied()
            .filter(|p| (shard.offset..end).contains(p))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        wanted.sort_unstable();
        read.insert((is_old, index));
        let mut at = shard.offset;
        batches(side.open(shard)?, shard.path, |batch| {
            let next = at + batch.num_rows() as u64;
            for &p in wanted.iter().filter(|p| (at..next).contains(*p)) {
                out.insert(p, rowvalues::row_json(batch, (p - at) as usize));
            }
            at = next;
            Ok(())
        })?;
    }
    Ok(out)
}

/// Writes a Parquet file as one JSON object per line, long values shortened (what `textconv`
/// shows git): bounded by a batch whatever the file holds.
pub fn write_rows_json(
    file: File,
    path: &str,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    batches(file, path, |batch| {
        for i in 0..batch.num_rows() {
            let row = rowvalues::shown_row(&rowvalues::row_json(batch, i));
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}
