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
//! Data pages are content-defined too, as `datasets` writes them (`Chunked`: a parquet-rs
//! `ArrowWriter` with CDC per shard, several shards at once); with
//! [`Options::content_defined_pages`] off, each leaf column is encoded on a thread of its own
//! (`Encoders`).
//!
//! [`Options::content_defined_pages`]: super::Options::content_defined_pages

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use std::cell::Cell;
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{CdcOptions, EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use sha2::{Digest, Sha256};

use super::reuse::{Cut, ShardRecord};

/// `datasets`' target for uncompressed data per row group (`config.MAX_ROW_GROUP_SIZE`).
pub const ROW_GROUP_BYTES: u64 = 100_000_000;
/// pyarrow's cap on rows per row group.
const ROW_GROUP_ROWS: usize = 1024 * 1024;
/// Batches queued per column encoder: bounds how far the slowest column may lag behind.
const COLUMN_QUEUE: usize = 2;
/// Stack of a chunking encoder thread (address space; only what is used is allocated).
const ENCODER_STACK: usize = 32 << 20;
/// Shards encoded at once with content-defined chunking (at most one per core).
const MAX_CHUNKED_ENCODERS: usize = 4;
/// Memory the chunking encoders may hold, in bytes: the rows queued for them (Arrow memory),
/// which let the encoder of one shard go on while the next shard is filled, plus the row
/// groups their writers buffer until the row group closes (encoded and compressed pages,
/// dictionaries). What keeps a build's peak RSS under 256 MiB with several encoders (1 GB
/// benchmark: 193–219 MiB with 32 MiB, 305–315 MiB with 128 MiB, at about the same speed;
/// BENCHMARKS.md).
const CHUNKED_MEMORY_BYTES: usize = 32 << 20;
/// Row groups and shards queued for the assembler.
const FILE_QUEUE: usize = 16;
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
/// index, content-defined chunking when `chunked`) plus the `huggingface` key-value metadata
/// that pyarrow writes.
pub fn writer_properties(
    codec: Codec,
    huggingface_metadata: &str,
    chunked: bool,
) -> WriterProperties {
    let mut metadata = vec![KeyValue::new(
        "huggingface".to_string(),
        huggingface_metadata.to_string(),
    )];
    if chunked {
        metadata.push(cdc_metadata());
    }
    let mut builder = WriterProperties::builder()
        .set_compression(match codec {
            Codec::Snappy => Compression::SNAPPY,
            Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
        })
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(None)
        .set_content_defined_chunking(chunked.then_some(CDC_OPTIONS))
        .set_key_value_metadata(Some(metadata));
    if chunked {
        // Pages end at chunk boundaries only (a chunk is at most 1 MiB of values). A page the
        // size or row-count limit closes on a chunk's last value would be followed by an
        // empty one (see [`Chunked`]).
        builder = builder
            .set_data_page_size_limit(usize::MAX)
            .set_data_page_row_count_limit(usize::MAX);
    }
    builder.build()
}

/// The same settings without content-defined chunking: for a shard the chunking writer got
/// wrong (see [`Chunked`]).
fn unchunked(properties: &WriterProperties) -> WriterProperties {
    let metadata = properties.key_value_metadata().map(|entries| {
        entries
            .iter()
            .filter(|entry| entry.key != "content_defined_chunking")
            .cloned()
            .collect()
    });
    let defaults = WriterProperties::default();
    properties
        .clone()
        .into_builder()
        .set_content_defined_chunking(None)
        .set_data_page_size_limit(defaults.data_page_size_limit())
        .set_data_page_row_count_limit(defaults.data_page_row_count_limit())
        .set_key_value_metadata(metadata)
        .build()
}

type Sink = HashingWriter<BufWriter<File>>;

/// What the feeding thread tells a column's encoder.
enum ColumnMessage {
    /// A new row group begins, encoded by this writer.
    Start(Box<ArrowColumnWriter>),
    Leaf(ArrowLeafColumn),
    /// The row group is complete: hand the encoded chunk to the assembler.
    Finish,
}

/// What the feeding thread tells the assembler, in file order.
enum FileMessage {
    Open(Box<SerializedFileWriter<Sink>>),
    /// The next row group is complete: splice every column's chunk into the file, in order.
    RowGroup,
    Close,
}

/// Encodes the leaf columns of every row group in parallel, one thread per column, while an
/// assembler thread splices finished column chunks into the file in order. Each column writer
/// sees exactly the writes an `ArrowWriter` would make, so the bytes do not depend on thread
/// timing; parsing, encoding and compressing overlap instead of taking turns.
struct Encoders {
    columns: Vec<SyncSender<ColumnMessage>>,
    files: SyncSender<FileMessage>,
    /// Per closed shard: its SHA-256 and size, in order.
    closed: Receiver<(String, u64)>,
    threads: Vec<JoinHandle<parquet::errors::Result<()>>>,
}

impl Encoders {
    fn start(leaves: usize) -> Encoders {
        let mut columns = Vec::with_capacity(leaves);
        let mut chunks = Vec::with_capacity(leaves);
        let mut threads = Vec::with_capacity(leaves + 1);
        for leaf in 0..leaves {
            let (to_column, inbox) = sync_channel::<ColumnMessage>(COLUMN_QUEUE);
            let (done, chunk_inbox) = sync_channel::<ArrowColumnChunk>(1);
            columns.push(to_column);
            chunks.push(chunk_inbox);
            let thread = std::thread::Builder::new()
                .name(format!("hf-relay-column-{leaf}"))
                .spawn(move || {
                    let mut writer: Option<Box<ArrowColumnWriter>> = None;
                    for message in inbox {
                        match message {
                            ColumnMessage::Start(new) => writer = Some(new),
                            ColumnMessage::Leaf(leaf) => writer
                                .as_mut()
                                .expect("a row group was started")
                                .write(&leaf)?,
                            ColumnMessage::Finish => {
                                let chunk = writer.take().expect("a row group was started");
                                if done.send(chunk.close()?).is_err() {
                                    break; // the assembler stopped on an error
                                }
                            }
                        }
                    }
                    Ok(())
                })
                .expect("cannot start an encoder thread");
            threads.push(thread);
        }
        let (files, file_inbox) = sync_channel::<FileMessage>(FILE_QUEUE);
        let (closed_sender, closed) = std::sync::mpsc::channel();
        let assembler = std::thread::Builder::new()
            .name("hf-relay-assembler".into())
            .spawn(move || {
                let mut file: Option<Box<SerializedFileWriter<Sink>>> = None;
                for message in file_inbox {
                    match message {
                        FileMessage::Open(writer) => file = Some(writer),
                        FileMessage::RowGroup => {
                            let writer = file.as_mut().expect("a shard is open");
                            let mut row_group = writer.next_row_group()?;
                            for inbox in &chunks {
                                let Ok(chunk) = inbox.recv() else {
                                    // An encoder failed: its error is reported by `join`.
                                    return Ok(());
                                };
                                chunk.append_to_row_group(&mut row_group)?;
                            }
                            row_group.close()?;
                        }
                        FileMessage::Close => {
                            let writer = file.take().expect("a shard is open");
                            let mut sink = writer.into_inner()?;
                            sink.flush()?;
                            let digest = hex(&sink.hasher.finalize());
                            let _ = closed_sender.send((digest, sink.written));
                        }
                    }
                }
                Ok(())
            })
            .expect("cannot start the assembler thread");
        threads.push(assembler);
        Encoders {
            columns,
            files,
            closed,
            threads,
        }
    }

    /// Waits for every thread; the first error any of them met.
    fn join(self) -> parquet::errors::Result<Vec<(String, u64)>> {
        let Encoders {
            columns,
            files,
            closed,
            threads,
        } = self;
        drop(columns);
        drop(files);
        let mut first_error = None;
        for thread in threads {
            let result = thread.join().expect("an encoder thread panicked");
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(closed.try_iter().collect()),
        }
    }
}

/// What the feeding thread tells the chunking encoder of a shard, in file order.
enum ChunkedMessage {
    /// A new shard, the `index`-th this writer opens.
    Open(Box<ArrowWriter<Sink>>, PathBuf, usize),
    /// Rows of the open shard, with the bytes they hold of the queue's budget.
    Rows(RecordBatch, usize),
    /// The rows so far make a row group.
    RowGroup,
    Close,
}

/// Encodes shards with content-defined chunking, several shards at once.
///
/// parquet-rs applies chunking inside `ArrowWriter` only, which encodes a file's columns one
/// after the other (the column-parallel [`Encoders`] cannot chunk). So shards are encoded in
/// parallel instead: shard `i` goes to encoder `i % n`, and while the feeding thread fills the
/// next shard, the encoder of the last one works through the rows queued for it. The rows
/// queued for all encoders and the row groups their writers buffer hold at most
/// [`CHUNKED_MEMORY_BYTES`]. Each shard is one writer's
/// work from start to end, so the bytes do not depend on timing or on the number of encoders.
///
/// parquet-rs 60.1 sometimes writes an empty data page (apache/arrow-rs#10929): after each
/// chunk but the last of a write it closes the page, even when there is nothing to close:
/// when the page size or row-count limit closed it on the chunk's last value (hence both
/// limits are lifted: pages end at chunk boundaries only), when a dictionary that outgrew its
/// limit closed it there, or when the chunker puts a boundary before the first value of a
/// write that follows such a close or opens a row group. pyarrow may then read that column
/// chunk as empty. This happens by chance with values of any size (1 shard in 21 of the 1 GB
/// benchmark), and always when the first value of a row group is 1 MiB or more. So every
/// shard is checked when it closes: a page index with two pages starting on the same row is
/// such a page, and that shard is written again without chunking (read back by parquet-rs,
/// which reads it right), with the same row groups. The result depends on the rows only.
struct Chunked {
    encoders: Vec<(
        Sender<ChunkedMessage>,
        JoinHandle<parquet::errors::Result<()>>,
    )>,
    /// Per closed shard: its index, SHA-256 and size.
    closed: Receiver<(usize, String, u64)>,
    budget: Arc<Budget>,
    /// The encoder of the open shard, and the shards opened so far.
    current: Cell<usize>,
    opened: Cell<usize>,
}

/// The memory of the chunking encoders ([`CHUNKED_MEMORY_BYTES`]): rows queued, taken by the
/// feeding thread and given back by an encoder once written, and what each encoder's writer
/// buffers.
struct Budget {
    state: Mutex<BudgetState>,
    changed: Condvar,
}

#[derive(Default)]
struct BudgetState {
    queued: usize,
    /// Per encoder: the memory its writer holds.
    buffered: Vec<usize>,
    failed: bool,
}

impl Budget {
    fn new(encoders: usize) -> Budget {
        Budget {
            state: Mutex::new(BudgetState {
                buffered: vec![0; encoders],
                ..BudgetState::default()
            }),
            changed: Condvar::new(),
        }
    }

    /// Waits until `bytes` more fit in the budget, or nothing is queued (the encoders' writers
    /// may hold the whole budget until the rows that close their row groups reach them);
    /// `Stopped` once an encoder has failed.
    fn take(&self, bytes: usize) -> Result<usize, Stopped> {
        let mut state = self.state.lock().expect("budget lock");
        loop {
            if state.failed {
                return Err(Stopped);
            }
            let held = state.queued + state.buffered.iter().sum::<usize>();
            if state.queued == 0 || held + bytes <= CHUNKED_MEMORY_BYTES {
                break;
            }
            state = self.changed.wait(state).expect("budget lock");
        }
        state.queued += bytes;
        Ok(bytes)
    }

    /// An encoder wrote rows of `bytes`, and its writer now holds `buffered` bytes.
    fn give(&self, encoder: usize, bytes: usize, buffered: usize) {
        let mut state = self.state.lock().expect("budget lock");
        state.queued -= bytes;
        state.buffered[encoder] = buffered;
        drop(state);
        self.changed.notify_all();
    }

    /// An encoder failed, or the writer is discarded: every encoder stops at its next message.
    fn fail(&self) {
        self.state.lock().expect("budget lock").failed = true;
        self.changed.notify_all();
    }

    fn failed(&self) -> bool {
        self.state.lock().expect("budget lock").failed
    }
}

impl Chunked {
    fn start(schema: SchemaRef, properties: &WriterProperties) -> Chunked {
        let (closed_sender, closed) = std::sync::mpsc::channel();
        let fallback = unchunked(properties);
        let count = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_CHUNKED_ENCODERS);
        let budget = Arc::new(Budget::new(count));
        let encoders = (0..count)
            .map(|number| {
                let (inbox, messages) = std::sync::mpsc::channel::<ChunkedMessage>();
                let (schema, fallback) = (schema.clone(), fallback.clone());
                let (closed_sender, budget) = (closed_sender.clone(), budget.clone());
                let thread = std::thread::Builder::new()
                    .name(format!("hf-relay-encoder-{number}"))
                    // `ArrowWriter` computes the leaves of nested columns recursively here, as
                    // the main thread (8 MiB) does for the column encoders: the deepest
                    // accepted nesting needs more than a spawned thread's default 2 MiB.
                    .stack_size(ENCODER_STACK)
                    .spawn(move || {
                        let result = encode_shards(
                            number,
                            messages,
                            &schema,
                            &fallback,
                            &closed_sender,
                            &budget,
                        );
                        if result.is_err() {
                            budget.fail();
                        }
                        result
                    })
                    .expect("cannot start an encoder thread");
                (inbox, thread)
            })
            .collect();
        Chunked {
            encoders,
            closed,
            budget,
            current: Cell::new(0),
            opened: Cell::new(0),
        }
    }

    /// Starts a shard, on the next encoder in turn.
    fn open(&self, writer: ArrowWriter<Sink>, path: PathBuf) -> Result<(), Stopped> {
        let index = self.opened.get();
        self.opened.set(index + 1);
        self.current.set(index % self.encoders.len());
        self.send(ChunkedMessage::Open(Box::new(writer), path, index))
    }

    /// Queues rows of the open shard, once the queue has room for them.
    fn rows(&self, rows: RecordBatch) -> Result<(), Stopped> {
        let bytes = self.budget.take(rows.get_array_memory_size())?;
        self.send(ChunkedMessage::Rows(rows, bytes))
    }

    /// Sends `message` to the encoder of the open shard.
    fn send(&self, message: ChunkedMessage) -> Result<(), Stopped> {
        self.encoders[self.current.get()]
            .0
            .send(message)
            .map_err(|_| Stopped)
    }

    /// Stops the encoders at their next message (the shards are discarded) and waits for them.
    fn abandon(self) {
        self.budget.fail();
        let _ = self.join();
    }

    /// Waits for every encoder; the SHA-256 and size of each shard, in order.
    fn join(self) -> parquet::errors::Result<Vec<(String, u64)>> {
        let mut first_error = None;
        let threads: Vec<_> = self
            .encoders
            .into_iter()
            .map(|(inbox, thread)| {
                drop(inbox);
                thread
            })
            .collect();
        for thread in threads {
            if let Err(error) = thread.join().expect("an encoder thread panicked") {
                first_error.get_or_insert(error);
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        let mut closed: Vec<(usize, String, u64)> = self.closed.try_iter().collect();
        closed.sort_unstable_by_key(|(index, ..)| *index);
        Ok(closed
            .into_iter()
            .map(|(_, digest, size)| (digest, size))
            .collect())
    }
}

/// One chunking encoder: writes the shards it is sent, one after the other.
fn encode_shards(
    number: usize,
    messages: Receiver<ChunkedMessage>,
    schema: &SchemaRef,
    fallback: &WriterProperties,
    closed: &Sender<(usize, String, u64)>,
    budget: &Budget,
) -> parquet::errors::Result<()> {
    let mut open: Option<(Box<ArrowWriter<Sink>>, PathBuf, usize)> = None;
    for message in messages {
        if budget.failed() {
            return Ok(()); // the writer is discarded, or another encoder reports an error
        }
        match message {
            ChunkedMessage::Open(writer, path, index) => open = Some((writer, path, index)),
            ChunkedMessage::Rows(rows, bytes) => {
                let writer = &mut open.as_mut().expect("a shard is open").0;
                let result = writer.write(&rows);
                drop(rows);
                budget.give(number, bytes, writer.memory_size());
                result?;
            }
            ChunkedMessage::RowGroup => {
                let writer = &mut open.as_mut().expect("a shard is open").0;
                writer.flush()?;
                budget.give(number, 0, writer.memory_size());
            }
            ChunkedMessage::Close => {
                let (mut writer, path, index) = open.take().expect("a shard is open");
                // `finish` writes the footer and flushes every buffer.
                let metadata = writer.finish()?;
                budget.give(number, 0, 0);
                let sink = writer.inner();
                let written = (hex(&sink.hasher.clone().finalize()), sink.written);
                drop(writer);
                let (digest, size) = if has_empty_page(&metadata) {
                    rewrite(&path, &metadata, schema.clone(), fallback)?
                } else {
                    written
                };
                let _ = closed.send((index, digest, size));
            }
        }
    }
    Ok(())
}

/// Whether a column chunk of the file holds a data page without rows: two pages of its page
/// index start on the same row.
fn has_empty_page(metadata: &parquet::file::metadata::ParquetMetaData) -> bool {
    (0..metadata.num_row_groups()).any(|row_group| {
        let index = metadata.page_index_for_row_group(row_group);
        let columns = metadata.row_group(row_group).num_columns();
        (0..columns).any(|column| {
            let rows = metadata.row_group(row_group).num_rows();
            index.page_locations(column).is_some_and(|pages| {
                pages
                    .windows(2)
                    .any(|pair| pair[1].first_row_index <= pair[0].first_row_index)
                    || pages
                        .last()
                        .is_some_and(|last| last.first_row_index >= rows)
            })
        })
    })
}

/// Writes the shard at `path` again with `properties`, row group by row group, reading it
/// with parquet-rs. Returns the new file's SHA-256 and size.
fn rewrite(
    path: &Path,
    metadata: &parquet::file::metadata::ParquetMetaData,
    schema: SchemaRef,
    properties: &WriterProperties,
) -> parquet::errors::Result<(String, u64)> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let temporary = path.with_extension("parquet.rewrite");
    let file = File::create(&temporary)?;
    let sink = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        written: 0,
    };
    let mut writer = ArrowWriter::try_new(sink, schema.clone(), Some(properties.clone()))?;
    for row_group in 0..metadata.num_row_groups() {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?
            .with_row_groups(vec![row_group])
            .build()?;
        for rows in reader {
            let rows = rows.map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
            let rows = RecordBatch::try_new(schema.clone(), rows.columns().to_vec())
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
            writer.write(&rows)?;
        }
        writer.flush()?;
    }
    writer.finish()?;
    let sink = writer.inner();
    let result = (hex(&sink.hasher.clone().finalize()), sink.written);
    drop(writer);
    std::fs::rename(&temporary, path)?;
    Ok(result)
}

/// A send failed because a thread stopped on an error; that error is what `join` returns.
#[derive(Debug)]
struct Stopped;

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
    /// Creates the column writers of each row group (the same for every shard).
    factory: Option<ArrowRowGroupWriterFactory>,
    encoders: Option<Encoders>,
    /// The encoder of content-defined chunking, when the properties ask for it.
    chunked: Option<Chunked>,
    row_groups: usize,
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

/// The rows of a shard that may turn out to be a previous one (see [`super::reuse`]).
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

/// The digest of a shard's line hashes alone (what [`Shard::lines_digest`] holds).
pub fn lines_digest(hashes: impl IntoIterator<Item = u128>) -> String {
    let mut lines = Sha256::new();
    for hash in hashes {
        lines.update(hash.to_le_bytes());
    }
    hex(&lines.finalize())
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
            factory: None,
            encoders: None,
            chunked: None,
            row_groups: 0,
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
                let error = match (self.encoders.take(), self.chunked.take()) {
                    (Some(encoders), _) => encoders.join().err(),
                    (None, Some(chunked)) => chunked.join().err(),
                    (None, None) => None,
                };
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
        // that very file (`ops::build`). Neither a copy nor a hard link here: copying the
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
        if let Some(chunked) = &self.chunked {
            open.row_group_open = true;
            chunked.rows(slice)?;
            return Ok(());
        }
        let encoders = self
            .encoders
            .as_ref()
            .expect("encoders run with an open shard");
        if !open.row_group_open {
            let factory = self.factory.as_ref().expect("a factory with an open shard");
            let writers = factory.create_column_writers(self.row_groups)?;
            self.row_groups += 1;
            for (writer, column) in writers.into_iter().zip(&encoders.columns) {
                column
                    .send(ColumnMessage::Start(Box::new(writer)))
                    .map_err(|_| Stopped)?;
            }
            open.row_group_open = true;
        }
        let mut columns = encoders.columns.iter();
        for (field, array) in self.schema.fields().iter().zip(slice.columns()) {
            for leaf in compute_leaves(field, array)? {
                columns
                    .next()
                    .expect("one encoder per leaf column")
                    .send(ColumnMessage::Leaf(leaf))
                    .map_err(|_| Stopped)?;
            }
        }
        Ok(())
    }

    fn finish_row_group(&mut self) -> Result<(), WriteError> {
        self.send_batch()?;
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        if open.row_group_open
            && let Some(chunked) = &self.chunked
        {
            chunked.send(ChunkedMessage::RowGroup)?;
            open.row_group_open = false;
        }
        if open.row_group_open {
            let encoders = self
                .encoders
                .as_ref()
                .expect("encoders run with an open shard");
            for column in &encoders.columns {
                column.send(ColumnMessage::Finish).map_err(|_| Stopped)?;
            }
            encoders
                .files
                .send(FileMessage::RowGroup)
                .map_err(|_| Stopped)?;
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
            // them); without chunking, the row groups are then written through its
            // lower-level parts.
            let writer =
                ArrowWriter::try_new(sink, self.schema.clone(), Some(self.properties.clone()))?;
            if self.properties.content_defined_chunking().is_some() {
                let chunked = self
                    .chunked
                    .get_or_insert_with(|| Chunked::start(self.schema.clone(), &self.properties));
                chunked.open(writer, path.clone())?;
            } else {
                let (file_writer, factory) = writer.into_serialized_writer()?;
                if self.encoders.is_none() {
                    let leaves = file_writer.schema_descr().num_columns();
                    self.encoders = Some(Encoders::start(leaves));
                }
                self.factory.get_or_insert(factory);
                self.encoders
                    .as_ref()
                    .expect("just started")
                    .files
                    .send(FileMessage::Open(Box::new(file_writer)))
                    .map_err(|_| Stopped)?;
            }
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
            if let Some(chunked) = &self.chunked {
                chunked.send(ChunkedMessage::Close)?;
            } else {
                let encoders = self
                    .encoders
                    .as_ref()
                    .expect("encoders run with an open shard");
                encoders
                    .files
                    .send(FileMessage::Close)
                    .map_err(|_| Stopped)?;
            }
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
        let closed = match (self.encoders.take(), self.chunked.take()) {
            (Some(encoders), _) => encoders.join()?,
            (None, Some(chunked)) => chunked.join()?,
            (None, None) => return Ok(std::mem::take(&mut self.done)),
        };
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
        if let Some(encoders) = self.encoders.take() {
            let _ = encoders.join();
        }
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
        if let Some(encoders) = self.encoders.take() {
            let _ = encoders.join();
        }
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

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
