//! Writing one split as Parquet shards with stable boundaries.
//!
//! A shard is closed when the next row would take it past the maximum shard size, and a row
//! group is closed at ~100 MB (both measured by the rows' uncompressed size estimate, as
//! `datasets` measures them). Boundaries depend only on the rows before them, so appending rows
//! to the input changes only the last shard and adds new ones.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use sha2::{Digest, Sha256};

/// `datasets`' target for uncompressed data per row group (`config.MAX_ROW_GROUP_SIZE`).
pub const ROW_GROUP_BYTES: u64 = 100_000_000;
/// pyarrow's cap on rows per row group.
const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// One written shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// `train-00000.parquet`.
    pub file_name: String,
    pub path: PathBuf,
    pub num_rows: u64,
    pub num_bytes: u64,
    /// SHA-256 of the file (lowercase hex) and its size: the Git LFS object id.
    pub sha256: String,
    pub file_size: u64,
}

/// A writer that hashes what passes through, so a shard's LFS object id costs no second read.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Snappy,
    Zstd,
}

/// Writer settings shared by every shard: the `datasets` defaults (snappy, dictionary, page
/// index) plus the `huggingface` key-value metadata that pyarrow writes.
///
/// Content-defined chunking, which `datasets` also enables, stays off: parquet-rs 60 writes an
/// empty data page before a value larger than the CDC `max_chunk_size` (1 MiB), and pyarrow then
/// reads that column with no rows (apache/arrow-rs#10929, found by our bad-input suite).
pub fn writer_properties(codec: Codec, huggingface_metadata: &str) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(match codec {
            Codec::Snappy => Compression::SNAPPY,
            Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
        })
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(None)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "huggingface".to_string(),
            huggingface_metadata.to_string(),
        )]))
        .build()
}

struct OpenShard {
    writer: ArrowWriter<HashingWriter<BufWriter<File>>>,
    shard: Shard,
    row_group_bytes: u64,
    row_group_rows: usize,
}

/// Writes the rows of one split into `{dir}/{split}-NNNNN.parquet`.
pub struct ShardWriter {
    dir: PathBuf,
    split: String,
    schema: SchemaRef,
    properties: WriterProperties,
    max_shard_bytes: u64,
    open: Option<OpenShard>,
    done: Vec<Shard>,
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
            max_shard_bytes,
            open: None,
            done: Vec::new(),
        }
    }

    /// Appends a batch whose rows have the given size estimates.
    pub fn write(&mut self, batch: &RecordBatch, row_bytes: &[u64]) -> parquet::errors::Result<()> {
        let mut start = 0;
        for (i, &size) in row_bytes.iter().enumerate() {
            let shard_full = self.open.as_ref().is_some_and(|open| {
                open.shard.num_rows > 0 && open.shard.num_bytes + size > self.max_shard_bytes
            });
            if shard_full {
                self.write_slice(batch, start, i)?;
                start = i;
                self.close_shard()?;
            }
            let row_group_full = self.open.as_ref().is_some_and(|open| {
                open.row_group_rows > 0
                    && (open.row_group_bytes + size > ROW_GROUP_BYTES
                        || open.row_group_rows >= ROW_GROUP_ROWS)
            });
            if row_group_full {
                self.write_slice(batch, start, i)?;
                start = i;
                let open = self.open.as_mut().expect("an open shard");
                open.writer.flush()?;
                open.row_group_bytes = 0;
                open.row_group_rows = 0;
            }
            let open = self.open_shard()?;
            open.shard.num_rows += 1;
            open.shard.num_bytes += size;
            open.row_group_bytes += size;
            open.row_group_rows += 1;
        }
        self.write_slice(batch, start, row_bytes.len())
    }

    fn write_slice(
        &mut self,
        batch: &RecordBatch,
        start: usize,
        end: usize,
    ) -> parquet::errors::Result<()> {
        if end > start {
            let open = self
                .open
                .as_mut()
                .expect("rows were counted into an open shard");
            open.writer.write(&batch.slice(start, end - start))?;
        }
        Ok(())
    }

    fn open_shard(&mut self) -> parquet::errors::Result<&mut OpenShard> {
        if self.open.is_none() {
            let file_name = format!("{}-{:05}.parquet", self.split, self.done.len());
            let path = self.dir.join(&file_name);
            let file = File::create(&path)?;
            let sink = HashingWriter {
                inner: BufWriter::with_capacity(1 << 20, file),
                hasher: Sha256::new(),
                written: 0,
            };
            let writer =
                ArrowWriter::try_new(sink, self.schema.clone(), Some(self.properties.clone()))?;
            self.open = Some(OpenShard {
                writer,
                shard: Shard {
                    file_name,
                    path,
                    num_rows: 0,
                    num_bytes: 0,
                    sha256: String::new(),
                    file_size: 0,
                },
                row_group_bytes: 0,
                row_group_rows: 0,
            });
        }
        Ok(self.open.as_mut().expect("just opened"))
    }

    fn close_shard(&mut self) -> parquet::errors::Result<()> {
        if let Some(mut open) = self.open.take() {
            let sink = open.writer.into_inner()?;
            open.shard.sha256 = hex(&sink.hasher.finalize());
            open.shard.file_size = sink.written;
            sink.inner
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
            self.done.push(open.shard);
        }
        Ok(())
    }

    /// Closes the last shard and returns all shards in order.
    pub fn finish(mut self) -> parquet::errors::Result<Vec<Shard>> {
        self.close_shard()?;
        Ok(self.done)
    }
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
