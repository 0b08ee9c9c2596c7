//! Writing one split as Parquet shards with content-defined boundaries.
//!
//! Where a shard ends is decided by the rows near the cut, not by the running total: once a
//! shard holds a quarter of the maximum shard size, it ends after the first row whose line
//! hash picks it (see [`Boundaries`]), and at the latest before the row that would take it past
//! the maximum. An edit, insertion or deletion therefore changes the shard it falls in (rarely
//! a neighbour too); the next boundary is found on the same row as before, and every later
//! shard comes out byte-identical. Appending rows changes only the last shard and adds new
//! ones. A row group is closed at ~100 MB (both measured by the rows' uncompressed size
//! estimate, as `datasets` measures them). The files are written under temporary names;
//! [`super::naming`] gives them their names in the dataset.
//!
//! Data pages are content-defined too, as `datasets` writes them: each shard is encoded by a
//! parquet-rs `ArrowWriter` with content-defined chunking (CDC), several shards at once
//! ([`encoders`]), and a shard parquet-rs wrote an empty page into is written again without
//! chunking ([`cdc_check`]). [`writer`] decides where shards, row groups and the encoder's
//! batches end, and takes a previous build's shard instead of encoding the same rows again.

mod cdc_check;
mod encoders;
mod writer;

pub use writer::ShardWriter;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{CdcOptions, EnabledStatistics, WriterProperties};
use sha2::{Digest, Sha256};

use super::reuse::Cut;

/// `datasets`' target for uncompressed data per row group (`config.MAX_ROW_GROUP_SIZE`).
pub const ROW_GROUP_BYTES: u64 = 100_000_000;
/// pyarrow's cap on rows per row group.
const ROW_GROUP_ROWS: usize = 1024 * 1024;
/// Rows are handed to the encoder in batches of this many bytes (by the rows' size estimate,
/// the last row included) or [`BATCH_ROWS`] rows, counted from the start of the row group.
/// The encoder's page breaks and dictionary fallback depend on where its batches end
/// (parquet-rs checks them per batch), so batches end where the shard's own rows say, never
/// where a decoded chunk of the input happened to end or where a rebuild started decoding:
/// a shard's bytes depend on its rows and the options only.
const BATCH_BYTES: u64 = 1 << 20;
const BATCH_ROWS: usize = 64 * 1024;

/// What a shard's bytes depend on in how this writer encodes, for the format key: shards of
/// an hf-relay that batched rows otherwise are never reused.
pub fn encoding_key() -> String {
    format!("batches of {BATCH_BYTES} bytes or {BATCH_ROWS} rows from each row group's start")
}

/// Where shards end: after `min` bytes, at the first row with `hash % divisor < row size`,
/// so each further byte has a `1 / divisor` chance to end the shard; never past `max`.
///
/// With `min = max / 4` and `divisor = max / 5` a shard averages ≈ 45 % of the maximum
/// (≈ 225 MB for the default 500 MB), and ≈ 2 % of shards are cut at the maximum instead (whose
/// next boundary then depends on where the shard started, until a content-defined cut
/// resynchronises).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boundaries {
    pub min: u64,
    pub divisor: u64,
    pub max: u64,
}

impl Boundaries {
    pub fn for_max(max: u64) -> Boundaries {
        Boundaries {
            min: max / 4,
            divisor: (max / 5).max(1),
            max,
        }
    }

    /// Whether a shard of `shard_bytes` (this row included) ends after a row of `row_bytes`
    /// whose line hash is `hash`.
    pub fn ends_after(&self, shard_bytes: u64, row_bytes: u64, hash: u128) -> bool {
        shard_bytes >= self.min && (hash as u64) % self.divisor < row_bytes
    }
}

/// One written shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// `train-00000.parquet`: a temporary name in the writer's folder until
    /// [`super::naming`] names it.
    pub file_name: String,
    pub path: PathBuf,
    pub num_rows: u64,
    pub num_bytes: u64,
    /// SHA-256 of the file (lowercase hex) and its size: the Git LFS object id.
    pub sha256: String,
    pub file_size: u64,
    /// XXH3-128 of the first line and the digest of all rows (see [`super::reuse`]), hex.
    pub first_row: String,
    pub rows_digest: String,
    /// The digest of the line hashes alone, and how the shard ended (see [`super::reuse`]).
    pub lines_digest: String,
    pub cut: Cut,
    /// The file is a previous build's shard, taken without encoding.
    pub reused: bool,
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

/// The content-defined chunking options `datasets` writes with (`config.DEFAULT_CDC_OPTIONS`):
/// data pages end where the content says, so an edit changes the pages it falls in and Xet
/// storage deduplicates the rest.
pub const CDC_OPTIONS: CdcOptions = CdcOptions {
    min_chunk_size: 256 * 1024,
    max_chunk_size: 1024 * 1024,
    norm_level: 0,
};

/// The key-value entry `datasets` records its chunking options in, with the same text
/// (Python's `json.dumps` of the options).
fn cdc_metadata() -> KeyValue {
    KeyValue::new(
        "content_defined_chunking".to_string(),
        format!(
            "{{\"min_chunk_size\": {}, \"max_chunk_size\": {}, \"norm_level\": {}}}",
            CDC_OPTIONS.min_chunk_size, CDC_OPTIONS.max_chunk_size, CDC_OPTIONS.norm_level
        ),
    )
}

/// Writer settings shared by every shard: the `datasets` defaults (snappy, dictionary, page
/// index, content-defined chunking) plus the `huggingface` key-value metadata that pyarrow
/// writes.
pub fn writer_properties(codec: Codec, huggingface_metadata: &str) -> WriterProperties {
    let metadata = vec![
        KeyValue::new("huggingface".to_string(), huggingface_metadata.to_string()),
        cdc_metadata(),
    ];
    WriterProperties::builder()
        .set_compression(match codec {
            Codec::Snappy => Compression::SNAPPY,
            Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
        })
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(None)
        .set_content_defined_chunking(Some(CDC_OPTIONS))
        .set_key_value_metadata(Some(metadata))
        // Pages end at chunk boundaries only (a chunk is at most 1 MiB of values). A page the
        // size or row-count limit closes on a chunk's last value would be followed by an
        // empty one (see [`cdc_check`]).
        .set_data_page_size_limit(usize::MAX)
        .set_data_page_row_count_limit(usize::MAX)
        .build()
}

/// Where a shard is written: its SHA-256 is computed on the way.
type Sink = HashingWriter<BufWriter<File>>;

/// The digest of a shard's line hashes alone (what [`Shard::lines_digest`] holds).
pub fn lines_digest(hashes: impl IntoIterator<Item = u128>) -> String {
    let mut lines = Sha256::new();
    for hash in hashes {
        lines.update(hash.to_le_bytes());
    }
    hex(&lines.finalize())
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
