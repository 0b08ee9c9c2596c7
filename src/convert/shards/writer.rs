//! The shard writer: where shards, row groups and the encoder's batches end, and previous
//! shards taken instead of encoding the same rows again.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use super::super::reuse::{Cut, ShardRecord};
use super::encoders::{Chunked, ChunkedMessage, Stopped};
use super::{
    BATCH_BYTES, BATCH_ROWS, Boundaries, HashingWriter, ROW_GROUP_BYTES, ROW_GROUP_ROWS, Shard, hex,
};

struct OpenShard {
    shard: Shard,
    digest: Sha256,
    lines: Sha256,
    row_group_open: bool,
    row_group_bytes: u64,
    row_group_rows: usize,
    /// The rows of the next batch for the encoder, and their count and size (see
    /// [`BATCH_BYTES`]).
    pending: Vec<RecordBatch>,
    batch_rows: usize,
    batch_bytes: u64,
}

/// Writes the rows of one split into `{dir}/{split}-NNNNN.parquet`.
pub struct ShardWriter {
    dir: PathBuf,
    split: String,
    schema: SchemaRef,
    properties: WriterProperties,
    boundaries: Boundaries,
    /// The encoders, started with the first shard encoded.
    chunked: Option<Chunked>,
    open: Option<OpenShard>,
    done: Vec<Shard>,
    /// Previous shards by the hash of their first row.
    candidates: Candidates,
    /// Rows held back while they may be a previous shard.
    held: Option<Held>,
    /// Set while held rows are written: they do not start holding again.
    replaying: bool,
}

type Candidates = std::collections::HashMap<u128, Vec<(ShardRecord, PathBuf)>>;

/// The rows of a shard that may turn out to be a previous one (see [`super::super::reuse`]).
struct Held {
    batches: Vec<(RecordBatch, Vec<u64>, Vec<u128>)>,
    rows: u64,
    bytes: u64,
    digest: Sha256,
    lines: Sha256,
    first_row: u128,
    candidates: Vec<(ShardRecord, PathBuf)>,
    max_rows: u64,
}

impl Held {
    /// The candidate these rows are, were the shard to end here.
    fn matching(&self) -> Option<(ShardRecord, PathBuf)> {
        let digest = hex(&self.digest.clone().finalize());
        self.candidates
            .iter()
            .find(|(record, _)| record.num_rows == self.rows && record.rows_digest == digest)
            .cloned()
    }
}

fn add_row(digest: &mut Sha256, lines: &mut Sha256, size: u64, hash: u128) {
    digest.update(hash.to_le_bytes());
    digest.update(size.to_le_bytes());
    lines.update(hash.to_le_bytes());
}

impl ShardWriter {
    pub fn new(
        dir: &Path,
        split: &str,
        schema: SchemaRef,
        properties: WriterProperties,
        max_shard_bytes: u64,
    ) -> ShardWriter {
        ShardWriter {
            dir: dir.to_path_buf(),
            split: split.to_string(),
            schema,
            properties,
            boundaries: Boundaries::for_max(max_shard_bytes),
            chunked: None,
            open: None,
            done: Vec::new(),
            candidates: Candidates::new(),
            held: None,
            replaying: false,
        }
    }

    /// Previous shards this writer may take instead of encoding the same rows again.
    pub fn reusing(mut self, candidates: Candidates) -> ShardWriter {
        self.candidates = candidates;
        self
    }

    /// Appends a batch whose rows have the given size estimates and line hashes.
    pub fn write(
        &mut self,
        batch: &RecordBatch,
        row_bytes: &[u64],
        row_hashes: &[u128],
    ) -> parquet::errors::Result<()> {
        let result = self.write_rows(batch, row_bytes, row_hashes);
        self.surface(result)
    }

    /// Turns a `Stopped` into the error of the thread that stopped.
    fn surface<T>(&mut self, result: Result<T, WriteError>) -> parquet::errors::Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(WriteError::Parquet(error)) => Err(error),
            Err(WriteError::Stopped(Stopped)) => {
                let error = self.chunked.take().and_then(|chunked| chunked.join().err());
                Err(error.unwrap_or_else(|| {
                    parquet::errors::ParquetError::General("an encoder thread stopped".into())
                }))
            }
        }
    }

    fn write_rows(
        &mut self,
        batch: &RecordBatch,
        row_bytes: &[u64],
        row_hashes: &[u128],
    ) -> Result<(), WriteError> {
        let mut start = 0;
        let mut i = 0;
        while i < row_bytes.len() {
            let (size, hash) = (row_bytes[i], row_hashes[i]);
            if let Some(held) = self.held.as_mut() {
                if held.rows > 0 && held.bytes + size > self.boundaries.max {
                    // The shard ends before this row.
                    held.batches
                        .push(slice(batch, row_bytes, row_hashes, start, i));
                    start = i;
                    self.settle(Cut::Max)?;
                    continue;
                }
                held.rows += 1;
                held.bytes += size;
                add_row(&mut held.digest, &mut held.lines, size, hash);
                let ends = self.boundaries.ends_after(held.bytes, size, hash);
                if ends || held.rows > held.max_rows {
                    held.batches
                        .push(slice(batch, row_bytes, row_hashes, start, i + 1));
                    start = i + 1;
                    if ends {
                        self.settle(Cut::Content)?;
                    } else {
                        self.replay()?;
                    }
                }
                i += 1;
                continue;
            }
            if self.open.is_none()
                && !self.replaying
                && let Some(candidates) = self.candidates.get(&hash).cloned()
            {
                self.write_slice(batch, start, i)?;
                start = i;
                self.held = Some(Held {
                    batches: Vec::new(),
                    rows: 0,
                    bytes: 0,
                    digest: Sha256::new(),
                    lines: Sha256::new(),
                    first_row: hash,
                    max_rows: candidates
                        .iter()
                        .map(|(r, _)| r.num_rows)
                        .max()
                        .unwrap_or(0),
                    candidates,
                });
                continue;
            }
            let shard_full = self.open.as_ref().is_some_and(|open| {
                open.shard.num_rows > 0 && open.shard.num_bytes + size > self.boundaries.max
            });
            if shard_full {
                self.write_slice(batch, start, i)?;
                start = i;
                self.close_shard(Cut::Max)?;
                continue;
            }
            let row_group_full = self.open.as_ref().is_some_and(|open| {
                open.row_group_rows > 0
                    && (open.row_group_bytes + size > ROW_GROUP_BYTES
                        || open.row_group_rows >= ROW_GROUP_ROWS)
            });
            if row_group_full {
                self.write_slice(batch, start, i)?;
                start = i;
                self.finish_row_group()?;
            }
            let open = self.open_shard()?;
            if open.shard.num_rows == 0 {
                open.shard.first_row = format!("{hash:032x}");
            }
            open.shard.num_rows += 1;
            open.shard.num_bytes += size;
            open.row_group_bytes += size;
            open.row_group_rows += 1;
            add_row(&mut open.digest, &mut open.lines, size, hash);
            open.batch_rows += 1;
            open.batch_bytes += size;
            let batch_full = open.batch_bytes >= BATCH_BYTES || open.batch_rows >= BATCH_ROWS;
            let shard_bytes = open.shard.num_bytes;
            if self.boundaries.ends_after(shard_bytes, size, hash) {
                self.write_slice(batch, start, i + 1)?;
                start = i + 1;
                self.close_shard(Cut::Content)?;
            } else if batch_full {
                self.write_slice(batch, start, i + 1)?;
                start = i + 1;
                self.send_batch()?;
            }
            i += 1;
        }
        match self.held.as_mut() {
            Some(held) => {
                if start < row_bytes.len() {
                    let rest = slice(batch, row_bytes, row_hashes, start, row_bytes.len());
                    held.batches.push(rest);
                }
                Ok(())
            }
            None => self.write_slice(batch, start, row_bytes.len()),
        }
    }

    /// The held shard ends here (by `cut`): take the previous shard it equals, else encode its
    /// rows.
    fn settle(&mut self, cut: Cut) -> Result<(), WriteError> {
        let Some(held) = self.held.as_ref() else {
            return Ok(());
        };
        let Some((record, source)) = held.matching() else {
            return self.replay();
        };
        let held = self.held.take().expect("checked above");
        let record = ShardRecord {
            first_row: format!("{:032x}", held.first_row),
            num_rows: held.rows,
            num_bytes: held.bytes,
            lines_digest: hex(&held.lines.finalize()),
            cut,
            ..record
        };
        self.take_previous(record, &source)?;
        Ok(())
    }

    /// Takes a previous build's shard as the next one, as it is (its rows are known to be
    /// unchanged, and to end where it ended, by `cut`). Nothing may be open or held.
    pub fn reuse(&mut self, record: &ShardRecord, source: &Path) -> parquet::errors::Result<()> {
        assert!(
            self.open.is_none() && self.held.is_none(),
            "a shard is reused between shards"
        );
        self.take_previous(record.clone(), source)
    }

    fn take_previous(&mut self, record: ShardRecord, source: &Path) -> parquet::errors::Result<()> {
        let file_name = format!("{}-{:05}.parquet", self.split, self.done.len());
        let path = self.dir.join(&file_name);
        // A symbolic link to the previous file, which the caller turns into a file of its own
        // where the commit moves it in, and leaves out where the working tree already holds
        // that very file (`ops::build_commit`). Neither a copy nor a hard link here: copying the
        // unchanged shards cost more than the rest of an append rebuild, and a hard link (or
        // a rename onto the same file) touches the working tree file that git's index checks.
        if std::os::unix::fs::symlink(source, &path).is_err() {
            std::fs::copy(source, &path)?;
        }
        self.done.push(Shard {
            file_name,
            path,
            num_rows: record.num_rows,
            num_bytes: record.num_bytes,
            sha256: record.sha256,
            file_size: record.file_size,
            first_row: record.first_row,
            rows_digest: record.rows_digest,
            lines_digest: record.lines_digest,
            cut: record.cut,
            reused: true,
        });
        Ok(())
    }

    /// Encodes the held rows as if they had never been held.
    fn replay(&mut self) -> Result<(), WriteError> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        self.replaying = true;
        let mut result = Ok(());
        for (batch, sizes, hashes) in &held.batches {
            result = self.write_rows(batch, sizes, hashes);
            if result.is_err() {
                break;
            }
        }
        self.replaying = false;
        result
    }

    /// Adds rows `start..end` of `batch` (counted into the open shard) to the next batch for
    /// the encoder.
    fn write_slice(
        &mut self,
        batch: &RecordBatch,
        start: usize,
        end: usize,
    ) -> Result<(), WriteError> {
        if end <= start {
            return Ok(());
        }
        let open = self
            .open
            .as_mut()
            .expect("rows were counted into an open shard");
        open.pending.push(batch.slice(start, end - start));
        Ok(())
    }

    /// Hands the rows gathered since the last batch to the encoder, as one batch.
    fn send_batch(&mut self) -> Result<(), WriteError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        open.batch_rows = 0;
        open.batch_bytes = 0;
        let mut parts = std::mem::take(&mut open.pending);
        let Some(first) = parts.first() else {
            return Ok(());
        };
        // The rows are copied into arrays of their own: parquet-rs's chunker hashes the
        // values of a nested column from the start of the child array, not from the first
        // value the sliced rows refer to, so a slice of a decoded chunk would be chunked by
        // rows outside it (hence by where the chunk began). Concatenating with an empty slice
        // copies even a single part.
        let empty = first.slice(0, 0);
        parts.push(empty);
        let slice = arrow_select::concat::concat_batches(&parts[0].schema(), &parts)
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
        drop(parts);
        let chunked = self
            .chunked
            .as_ref()
            .expect("the encoders run with an open shard");
        open.row_group_open = true;
        chunked.rows(slice)?;
        Ok(())
    }

    fn finish_row_group(&mut self) -> Result<(), WriteError> {
        self.send_batch()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if open.row_group_open {
            let chunked = self
                .chunked
                .as_ref()
                .expect("the encoders run with an open shard");
            chunked.send(ChunkedMessage::RowGroup)?;
            open.row_group_open = false;
        }
        open.row_group_bytes = 0;
        open.row_group_rows = 0;
        Ok(())
    }

    fn open_shard(&mut self) -> Result<&mut OpenShard, WriteError> {
        if self.open.is_none() {
            let file_name = format!("{}-{:05}.parquet", self.split, self.done.len());
            let path = self.dir.join(&file_name);
            let file = File::create(&path).map_err(parquet::errors::ParquetError::from)?;
            let sink = HashingWriter {
                inner: BufWriter::with_capacity(1 << 20, file),
                hasher: Sha256::new(),
                written: 0,
            };
            // `ArrowWriter` sets up the file as pyarrow would (the `ARROW:schema` key among
            // them).
            let writer =
                ArrowWriter::try_new(sink, self.schema.clone(), Some(self.properties.clone()))?;
            let chunked = self
                .chunked
                .get_or_insert_with(|| Chunked::start(self.schema.clone(), &self.properties));
            chunked.open(writer, path.clone())?;
            self.open = Some(OpenShard {
                shard: Shard {
                    file_name,
                    path,
                    num_rows: 0,
                    num_bytes: 0,
                    sha256: String::new(),
                    file_size: 0,
                    first_row: String::new(),
                    rows_digest: String::new(),
                    lines_digest: String::new(),
                    cut: Cut::End,
                    reused: false,
                },
                digest: Sha256::new(),
                lines: Sha256::new(),
                row_group_open: false,
                row_group_bytes: 0,
                row_group_rows: 0,
                pending: Vec::new(),
                batch_rows: 0,
                batch_bytes: 0,
            });
        }
        Ok(self.open.as_mut().expect("just opened"))
    }

    fn close_shard(&mut self, cut: Cut) -> Result<(), WriteError> {
        self.finish_row_group()?;
        if let Some(mut open) = self.open.take() {
            let chunked = self
                .chunked
                .as_ref()
                .expect("the encoders run with an open shard");
            chunked.send(ChunkedMessage::Close)?;
            open.shard.rows_digest = hex(&open.digest.finalize());
            open.shard.lines_digest = hex(&open.lines.finalize());
            open.shard.cut = cut;
            self.done.push(open.shard);
        }
        Ok(())
    }

    /// Closes the last shard and returns all shards in order.
    pub fn finish(mut self) -> parquet::errors::Result<Vec<Shard>> {
        let result = self
            .settle(Cut::End)
            .and_then(|()| self.close_shard(Cut::End));
        self.surface(result)?;
        let Some(chunked) = self.chunked.take() else {
            return Ok(std::mem::take(&mut self.done));
        };
        let closed = chunked.join()?;
        let encoded = self.done.iter_mut().filter(|shard| !shard.reused);
        let encoded: Vec<&mut Shard> = encoded.collect();
        assert_eq!(closed.len(), encoded.len(), "every shard was closed");
        for (shard, (sha256, size)) in encoded.into_iter().zip(closed) {
            shard.sha256 = sha256;
            shard.file_size = size;
        }
        Ok(std::mem::take(&mut self.done))
    }

    /// Stops the encoders and removes every file this writer created.
    pub fn discard(mut self) {
        if let Some(chunked) = self.chunked.take() {
            chunked.abandon();
        }
        let open = self.open.take().map(|open| open.shard);
        for shard in self.done.iter().chain(open.as_ref()) {
            let _ = std::fs::remove_file(&shard.path);
        }
    }
}

impl Drop for ShardWriter {
    fn drop(&mut self) {
        if let Some(chunked) = self.chunked.take() {
            chunked.abandon();
        }
    }
}

enum WriteError {
    Parquet(parquet::errors::ParquetError),
    Stopped(Stopped),
}

impl From<parquet::errors::ParquetError> for WriteError {
    fn from(error: parquet::errors::ParquetError) -> Self {
        WriteError::Parquet(error)
    }
}

impl From<Stopped> for WriteError {
    fn from(stopped: Stopped) -> Self {
        WriteError::Stopped(stopped)
    }
}

/// Rows `start..end` of a batch with their sizes and hashes.
fn slice(
    batch: &RecordBatch,
    sizes: &[u64],
    hashes: &[u128],
    start: usize,
    end: usize,
) -> (RecordBatch, Vec<u64>, Vec<u128>) {
    (
        batch.slice(start, end - start),
        sizes[start..end].to_vec(),
        hashes[start..end].to_vec(),
    )
}
