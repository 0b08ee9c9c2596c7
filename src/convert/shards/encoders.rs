//! The encoders: shards encoded with content-defined chunking, several at once, within one
//! memory budget.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use sha2::Digest;

use super::cdc_check::{has_empty_page, rewrite, unchunked};
use super::{Sink, hex};

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

/// What the feeding thread tells the chunking encoder of a shard, in file order.
pub(super) enum ChunkedMessage {
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
/// after the other. So shards are encoded in parallel instead: shard `i` goes to encoder
/// `i % n`, and while the feeding thread fills the next shard, the encoder of the last one
/// works through the rows queued for it. The rows queued for all encoders and the row groups
/// their writers buffer hold at most [`CHUNKED_MEMORY_BYTES`]. Each shard is one writer's
/// work from start to end, so the bytes do not depend on timing or on the number of encoders.
/// Every shard is checked when it closes, and written again without chunking when parquet-rs
/// put an empty data page into it (see [`super::cdc_check`]).
pub(super) struct Chunked {
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
    pub(super) fn start(schema: SchemaRef, properties: &WriterProperties) -> Chunked {
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
    pub(super) fn open(&self, writer: ArrowWriter<Sink>, path: PathBuf) -> Result<(), Stopped> {
        let index = self.opened.get();
        self.opened.set(index + 1);
        self.current.set(index % self.encoders.len());
        self.send(ChunkedMessage::Open(Box::new(writer), path, index))
    }

    /// Queues rows of the open shard, once the queue has room for them.
    pub(super) fn rows(&self, rows: RecordBatch) -> Result<(), Stopped> {
        let bytes = self.budget.take(rows.get_array_memory_size())?;
        self.send(ChunkedMessage::Rows(rows, bytes))
    }

    /// Sends `message` to the encoder of the open shard.
    pub(super) fn send(&self, message: ChunkedMessage) -> Result<(), Stopped> {
        self.encoders[self.current.get()]
            .0
            .send(message)
            .map_err(|_| Stopped)
    }

    /// Stops the encoders at their next message (the shards are discarded) and waits for them.
    pub(super) fn abandon(self) {
        self.budget.fail();
        let _ = self.join();
    }

    /// Waits for every encoder; the SHA-256 and size of each shard, in order.
    pub(super) fn join(self) -> parquet::errors::Result<Vec<(String, u64)>> {
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

/// A send failed because a thread stopped on an error; that error is what `join` returns.
#[derive(Debug)]
pub(super) struct Stopped;
