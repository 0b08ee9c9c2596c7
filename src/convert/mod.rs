//! JSONL → Arrow → Parquet shards. Never prints; reports progress through [`Progress`].
//!
//! The schema covers every line (never a sample), yet the input is usually parsed once: the
//! schema is guessed from the first chunk, every chunk is decoded with the guess, and only a
//! line that does not fit it sends the conversion through whole-input inference and a second
//! decode (see [`convert`]). Line-aligned chunks are parsed on all cores and consumed in input
//! order; shards are encoded on a thread of their own, with content-defined data pages (or,
//! without them, each leaf column on a thread of its own; see [`shards`]). The output does not
//! depend on the number of threads.

pub mod adopt;
pub mod decode;
pub mod error;
pub mod infer;
pub mod input;
pub mod naming;
pub mod parquet_bounds;
pub mod prefix;
pub mod reuse;
pub mod row_hash;
pub mod shards;
pub mod source;
pub mod stream;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::features::{Feature, huggingface_metadata, schema_features};
pub use error::{ConvertError, Location};
use infer::{Ty, merge};
use input::{BufferPool, Chunk, ChunkReader};
use prefix::{HeldChunk, Prefix};
use reuse::Checkpoint;
pub use shards::{Codec, Shard};
use source::{Format, Source};
use stream::{LineError, Slot, TypeSeed, parse_line_with};

/// The inputs of one split, read in the order given: JSONL files, plain or compressed (gzip,
/// zstd, bzip2, xz: told by their first bytes), and at most one `-` for standard input.
#[derive(Debug, Clone)]
pub struct SplitInput {
    pub name: String,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_shard_bytes: u64,
    pub codec: Codec,
    /// `--on-type-conflict string`: store conflicting values as JSON text.
    pub conflicts_as_json: bool,
    /// Content-defined data pages, as `datasets` writes them (see [`shards`]).
    pub content_defined_pages: bool,
    /// `--rewrite`: Parquet inputs go through the shard writer even when they could be
    /// published as they are (see [`adopt`]).
    pub rewrite: bool,
}

/// Where conversion reports progress (the CLI shows bars on a terminal).
pub trait Progress: Sync {
    fn phase(&self, name: &str, total_bytes: u64);
    fn advance(&self, bytes: u64);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

#[derive(Debug, Clone)]
pub struct SplitOutput {
    pub name: String,
    pub shards: Vec<Shard>,
    pub num_examples: u64,
    pub num_bytes: u64,
    /// The first shards, taken from the last build without decoding their rows (see
    /// [`prefix`]).
    pub skipped_shards: usize,
    /// Every row's hash, in order (of the kind [`Converted::row_hash_kind`] names), when
    /// every row was hashed: what the next build's row delta compares with.
    pub row_hashes: Option<Vec<u128>>,
}

#[derive(Debug, Clone)]
pub struct Converted {
    pub schema: SchemaRef,
    pub features: Vec<(String, Feature)>,
    pub splits: Vec<SplitOutput>,
    /// Every input file with its SHA-256, in the order read.
    pub inputs: Vec<(PathBuf, String)>,
    /// The SHA-256 checkpoints of every input file, in the same order (see [`reuse`]).
    pub checkpoints: Vec<Vec<Checkpoint>>,
    /// The schema, writer options and version the shards were written with: shards of a build
    /// with another key are never reused.
    pub format_key: String,
    /// Parquet inputs written again by the shard writer instead of adopted, with why.
    pub rewritten: Vec<(PathBuf, String)>,
    /// What [`SplitOutput::row_hashes`] hash: row hashes of another kind are not compared.
    pub row_hash_kind: String,
}

/// Converts every split into shards under `out_dir`, with one schema inferred over all inputs.
///
/// The schema is first guessed from the records of the first chunk, and every chunk is decoded
/// and written with that guess. When every line fits the guess, the guess is exactly what
/// inference over the whole input gives (every line's type is within it, and the first chunk's
/// lines are among them), so one parse suffices. The first line that does not fit (a key not
/// seen yet, a wider type) sends the conversion back: the output so far is discarded, the
/// schema is inferred over the rest of the input on top of the guess, and everything is
/// decoded again with the complete schema.
pub fn convert(
    splits: &[SplitInput],
    out_dir: &Path,
    options: &Options,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Converted, ConvertError> {
    convert_reusing(
        splits,
        out_dir,
        options,
        &reuse::Previous::none(),
        progress,
        interrupted,
    )
}

/// [`convert`], taking the previous build's shards as they are when their rows are unchanged
/// (see [`reuse`]).
pub fn convert_reusing(
    splits: &[SplitInput],
    out_dir: &Path,
    options: &Options,
    previous: &reuse::Previous,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Converted, ConvertError> {
    if adopt::inputs_are_parquet(splits)? {
        return adopt::convert(splits, out_dir, options, previous, progress, interrupted);
    }
    let args: Vec<PathBuf> = splits
        .iter()
        .flat_map(|s| s.files.iter().cloned())
        .collect();
    // Standard input is spooled beside the shards, for the passes that read the input again.
    let all_files = Source::of_args(&args, out_dir).map_err(|source| ConvertError::Io {
        file: PathBuf::from(source::STDIN_NAME),
        source,
    })?;
    let mut rest = all_files.as_slice();
    let splits: Vec<Split> = splits
        .iter()
        .map(|split| {
            let (files, after) = rest.split_at(split.files.len());
            rest = after;
            Split {
                name: &split.name,
                files,
            }
        })
        .collect();
    let result = convert_sources(
        &splits,
        &all_files,
        out_dir,
        options,
        previous,
        progress,
        interrupted,
    );
    result.map_err(|error| blame_archive(error, &all_files, interrupted))
}

/// A decompressor may hand out the bytes of a damaged block before its checksum tells: an
/// error in the text of a compressed input is reported as the damaged archive it comes from,
/// when the archive is one.
fn blame_archive(error: ConvertError, files: &[Source], interrupted: &AtomicBool) -> ConvertError {
    let Some(file) = error.input_file() else {
        return error;
    };
    let Some(source) = files.iter().find(|s| s.name() == file) else {
        return error;
    };
    if !source
        .open(false)
        .is_ok_and(|opened| opened.format != Format::Plain)
    {
        return error;
    }
    for chunk in ChunkReader::new(vec![source.clone()]).without_digests() {
        match chunk {
            Err(archive @ ConvertError::Archive { .. }) => return archive,
            Err(_) => break,
            Ok(_) if interrupted.load(Ordering::Relaxed) => break,
            Ok(_) => {}
        }
    }
    error
}

/// A split with its opened-to-be inputs.
struct Split<'a> {
    name: &'a str,
    files: &'a [Source],
}

fn convert_sources(
    splits: &[Split],
    all_files: &[Source],
    out_dir: &Path,
    options: &Options,
    previous: &reuse::Previous,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Converted, ConvertError> {
    let total_bytes = total_size(all_files);

    let guess = guess_schema(all_files, options.conflicts_as_json)?;
    if guess == Ty::Null {
        let split = splits
            .first()
            .map(|s| s.name.to_string())
            .unwrap_or_default();
        return Err(ConvertError::NoRecords { split });
    }
    let guess_has_columns = matches!(&guess, Ty::Struct(fields) if !fields.is_empty());
    // The slow path infers from here on top of this: after a misfit, from the chunk that did
    // not fit on top of the guess; when every record of the first chunk is `{}` (no guess is
    // worth making), from the start.
    let (base, from_chunk) = if guess_has_columns {
        infer::check_depth(&guess).map_err(|e| locate(e, all_files))?;
        progress.phase("Converting", total_bytes);
        let pass = write_splits(
            splits,
            out_dir,
            options,
            previous,
            &guess,
            Mode::Guessed,
            progress,
            interrupted,
        )?;
        match pass {
            Pass::Complete { outputs, digests } => {
                return Ok(converted(&guess, options, outputs, all_files, digests));
            }
            Pass::Misfit { chunk } => (guess, chunk),
        }
    } else {
        (Ty::Null, 0)
    };
    progress.phase("Inferring schema", total_bytes);
    let root = infer_schema_from(
        all_files,
        base,
        from_chunk,
        options.conflicts_as_json,
        progress,
        interrupted,
    )?;
    write_inferred(
        root,
        splits,
        out_dir,
        options,
        previous,
        all_files,
        progress,
        interrupted,
    )
}

/// The second half of the slow path: decode and write with the schema inferred over all lines.
#[allow(clippy::too_many_arguments)] // private; the same arguments as `write_splits`
fn write_inferred(
    root: Ty,
    splits: &[Split],
    out_dir: &Path,
    options: &Options,
    previous: &reuse::Previous,
    all_files: &[Source],
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Converted, ConvertError> {
    if matches!(&root, Ty::Struct(fields) if fields.is_empty()) {
        return Err(ConvertError::NoColumns);
    }
    infer::check_depth(&root).map_err(|e| locate(e, all_files))?;
    progress.phase("Writing Parquet", total_size(all_files));
    match write_splits(
        splits,
        out_dir,
        options,
        previous,
        &root,
        Mode::Inferred,
        progress,
        interrupted,
    )? {
        Pass::Complete { outputs, digests } => {
            Ok(converted(&root, options, outputs, all_files, digests))
        }
        Pass::Misfit { .. } => unreachable!("with the inferred schema, a misfit is an error"),
    }
}

fn converted(
    root: &Ty,
    options: &Options,
    splits: Vec<SplitOutput>,
    files: &[Source],
    (digests, checkpoints): Digests,
) -> Converted {
    let (schema, features) = arrow_schema(root);
    Converted {
        checkpoints,
        format_key: format_key(&schema, &features, options),
        schema,
        features,
        splits,
        inputs: files
            .iter()
            .map(|file| file.name().to_path_buf())
            .zip(digests)
            .collect(),
        rewritten: Vec::new(),
        row_hash_kind: LINE_HASHES.to_string(),
    }
}

/// The row hashes of JSONL inputs: the XXH3-128 of each line, as decoding and [`prefix`] hash
/// them.
pub const LINE_HASHES: &str = "xxh3-128 of each JSONL line";

/// What the bytes of a shard depend on besides its rows.
pub(crate) fn format_key(
    schema: &SchemaRef,
    features: &[(String, Feature)],
    options: &Options,
) -> String {
    use sha2::{Digest, Sha256};
    let text = format!(
        "{}\n{}\n{:?}\n{}\n{:?}\n{}\n{}",
        env!("CARGO_PKG_VERSION"),
        shards::encoding_key(),
        schema.fields(),
        huggingface_metadata(features),
        options.codec,
        options.max_shard_bytes,
        options.content_defined_pages
    );
    shards::hex(&Sha256::digest(text.as_bytes()))
}

/// The Arrow schema of `root` with the `huggingface` metadata, and its `datasets` features.
fn arrow_schema(root: &Ty) -> (SchemaRef, Vec<(String, Feature)>) {
    let schema = infer::schema_of(root);
    let features = schema_features(&schema);
    let schema = schema.with_metadata(std::collections::HashMap::from([(
        "huggingface".to_string(),
        huggingface_metadata(&features),
    )]));
    (Arc::new(schema), features)
}

/// How decoding treats a line that does not fit the schema.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The schema is a guess: a line that does not fit stops the pass.
    Guessed,
    /// The schema was inferred over every line: a line that does not fit is an error.
    Inferred,
}

/// The SHA-256 of every input, with its checkpoints (see [`reuse`]).
type Digests = (Vec<String>, Vec<Vec<Checkpoint>>);

enum Pass {
    Complete {
        outputs: Vec<SplitOutput>,
        digests: Digests,
    },
    /// The index (over all input files, in order) of the first chunk with a line that does not
    /// fit the guessed schema. Everything written was removed.
    Misfit { chunk: usize },
}

/// Decodes every split with the schema `root` and writes its shards.
#[allow(clippy::too_many_arguments)] // private, called from two places in this file
fn write_splits(
    splits: &[Split],
    out_dir: &Path,
    options: &Options,
    previous: &reuse::Previous,
    root: &Ty,
    mode: Mode,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Pass, ConvertError> {
    let (schema, features) = arrow_schema(root);
    let properties = shards::writer_properties(
        options.codec,
        &huggingface_metadata(&features),
        options.content_defined_pages,
    );
    let key = format_key(&schema, &features, options);
    let names: Vec<&Path> = splits
        .iter()
        .flat_map(|split| split.files)
        .map(Source::name)
        .collect();
    let resume = previous.checkpoints_for(&names);
    let mut outputs: Vec<SplitOutput> = Vec::with_capacity(splits.len());
    let mut digests = (Vec::new(), Vec::new());
    let mut chunks_before = 0;
    let discard = |outputs: &[SplitOutput]| {
        for shard in outputs.iter().flat_map(|split| &split.shards) {
            let _ = std::fs::remove_file(&shard.path);
        }
    };
    let pool = BufferPool::default();
    for split in splits {
        let files = split.files;
        let writer = shards::ShardWriter::new(
            out_dir,
            split.name,
            schema.clone(),
            properties.clone(),
            options.max_shard_bytes,
        )
        .reusing(previous.for_split(split.name, &key));
        let mut out = SplitWrite {
            writer,
            row_hashes: Vec::new(),
            num_examples: 0,
            num_bytes: 0,
            misfit: None,
            out_dir,
            chunks_before,
        };
        let mut prefix = Prefix::new(previous.chain(split.name, &key));
        // While the start of the split is compared with the last build's shards, chunks are
        // only hashed; once it differs, they are decoded (those hashed meanwhile, here).
        let walking = AtomicBool::new(prefix.walking());
        let decode =
            |chunk: &Chunk, skip: usize| decode_chunk(chunk, files, root, &schema, mode, skip);
        let mut chunks = 0;
        let read = for_each_chunk(
            files,
            Reading {
                skip: 0,
                hash: true,
                resume: &resume,
            },
            &pool,
            interrupted,
            |chunk| {
                if walking.load(Ordering::Acquire) {
                    Ok(Decoded::Lines(line_hashes(chunk)))
                } else {
                    decode(chunk, 0)
                }
            },
            |chunk, decoded| {
                progress.advance(chunk.raw_bytes);
                let index = chunks;
                chunks += 1;
                let decoded = match decoded {
                    Decoded::Lines(hashes) if prefix.walking() => {
                        let held = HeldChunk {
                            index,
                            chunk: chunk.take(),
                            skip: 0,
                        };
                        let ended = prefix
                            .feed(held, &hashes, &mut out.writer, &pool)
                            .map_err(|e| out.write_error(e))?;
                        let Some(held) = ended else {
                            return Ok(Flow::Continue);
                        };
                        walking.store(false, Ordering::Release);
                        return out.put_held(held, &decode, &pool);
                    }
                    Decoded::Lines(_) => decode(chunk, 0)?,
                    decoded => decoded,
                };
                out.put(index, decoded)
            },
        );
        let read = read.and_then(|read| {
            if prefix.walking() {
                // The input ended while compared: what was held since the last shard taken.
                let held = prefix.stop();
                if let Flow::Stop = out.put_held(held, &decode, &pool)? {
                    return Ok(None);
                }
            }
            Ok(read)
        });
        let SplitWrite {
            writer,
            row_hashes,
            num_examples,
            num_bytes,
            misfit,
            ..
        } = out;
        let num_examples = num_examples + prefix.rows_taken;
        let num_bytes = num_bytes + prefix.bytes_taken;
        let read = match read {
            Ok(read) => read,
            Err(error) => {
                writer.discard();
                discard(&outputs);
                return Err(error);
            }
        };
        if let Some(chunk) = misfit {
            writer.discard();
            discard(&outputs);
            return Ok(Pass::Misfit { chunk });
        }
        chunks_before += chunks;
        let (split_digests, split_checkpoints) =
            read.expect("a pass that did not stop read everything");
        digests.0.extend(split_digests);
        digests.1.extend(split_checkpoints);
        if num_examples == 0 {
            writer.discard();
            discard(&outputs);
            return Err(ConvertError::NoRecords {
                split: split.name.to_string(),
            });
        }
        let write_error = |source| ConvertError::Write {
            file: out_dir.to_path_buf(),
            source,
        };
        let shards = writer.finish().map_err(write_error)?;
        outputs.push(SplitOutput {
            name: split.name.to_string(),
            shards,
            num_examples,
            num_bytes,
            skipped_shards: prefix.shards,
            row_hashes: Some({
                let mut hashes = std::mem::take(&mut prefix.hashes_taken);
                hashes.extend(row_hashes);
                hashes
            }),
        });
    }
    Ok(Pass::Complete { outputs, digests })
}

/// The writing of one split's decoded chunks.
struct SplitWrite<'a> {
    writer: shards::ShardWriter,
    /// The line hashes of the rows written, in order.
    row_hashes: Vec<u128>,
    num_examples: u64,
    num_bytes: u64,
    /// The index (over all inputs) of the first chunk that did not fit the guessed schema.
    misfit: Option<usize>,
    out_dir: &'a Path,
    /// Chunks of the splits before this one.
    chunks_before: usize,
}

impl SplitWrite<'_> {
    fn write_error(&self, source: parquet::errors::ParquetError) -> ConvertError {
        ConvertError::Write {
            file: self.out_dir.to_path_buf(),
            source,
        }
    }

    /// Writes the rows of the split's chunk `index`.
    fn put(&mut self, index: usize, decoded: Decoded) -> Result<Flow, ConvertError> {
        let Decoded::Batch(batch, row_bytes, row_hashes) = decoded else {
            self.misfit = Some(self.chunks_before + index);
            return Ok(Flow::Stop);
        };
        self.num_examples += row_bytes.len() as u64;
        self.num_bytes += row_bytes.iter().sum::<u64>();
        self.row_hashes.extend_from_slice(&row_hashes);
        let written = self.writer.write(&batch, &row_bytes, &row_hashes);
        written.map_err(|e| self.write_error(e))?;
        Ok(Flow::Continue)
    }

    /// Decodes and writes the chunks held by a walk that ended.
    fn put_held(
        &mut self,
        held: Vec<HeldChunk>,
        decode: &dyn Fn(&Chunk, usize) -> Result<Decoded, ConvertError>,
        pool: &BufferPool,
    ) -> Result<Flow, ConvertError> {
        for held in held {
            let decoded = decode(&held.chunk, held.skip)?;
            pool.give(held.chunk.bytes);
            if let Flow::Stop = self.put(held.index, decoded)? {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }
}

/// The XXH3-128 of each non-blank line of a chunk, as decoding hashes them. The text is not
/// checked for UTF-8: a line equal to one of the last build's was valid then, and any other is
/// decoded (and checked) before anything is written from it.
fn line_hashes(chunk: &Chunk) -> Vec<u128> {
    input::line_bytes(&chunk.bytes)
        .map(twox_hash::XxHash3_128::oneshot)
        .collect()
}

/// The size of the inputs as given (standard input counts 0: its size is not known ahead).
fn total_size(files: &[Source]) -> u64 {
    files.iter().filter_map(Source::size).sum()
}

/// A first guess of the schema: the types of the records of the first chunk that holds any,
/// up to the first line that fails (that line is met again, and reported, by the real pass).
/// `Ty::Null` when the input holds no record at all.
fn guess_schema(files: &[Source], conflicts_as_json: bool) -> Result<Ty, ConvertError> {
    for chunk in ChunkReader::new(files.to_vec()).without_digests() {
        let chunk = chunk?;
        let Ok(text) = chunk.text(files[chunk.file_index].name()) else {
            return Ok(Ty::Struct(Default::default()));
        };
        let lines: Vec<&str> = input::lines(text, chunk.first_line)
            .map(|(_, l)| l)
            .collect();
        let infer = |lines: &[&str]| {
            let mut acc = Ty::Null;
            for (i, line) in lines.iter().enumerate() {
                let slot = Slot::new(line);
                let seed = TypeSeed {
                    acc: &mut acc,
                    slot: &slot,
                    conflicts_as_json,
                };
                if parse_line_with(line, seed, &slot).is_err() {
                    return Err(i);
                }
            }
            Ok(acc)
        };
        let guess = match infer(&lines) {
            Ok(guess) => guess,
            // Only the lines before the failing one: a line that fails may have widened the
            // type half-way.
            Err(failing) => match infer(&lines[..failing]) {
                Ok(Ty::Null) | Err(_) => Ty::Struct(Default::default()),
                Ok(guess) => guess,
            },
        };
        if guess != Ty::Null {
            return Ok(guess);
        }
    }
    Ok(Ty::Null)
}

/// The schema of all records of `files`: the chunks from index `skip` on, merged on top of
/// `start` (the type of the chunks before).
fn infer_schema_from(
    files: &[Source],
    start: Ty,
    skip: usize,
    conflicts_as_json: bool,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Ty, ConvertError> {
    let mut acc = start;
    for_each_chunk(
        files,
        Reading {
            skip,
            hash: false,
            resume: &HashMap::new(),
        },
        &BufferPool::default(),
        interrupted,
        |chunk| infer_chunk(chunk, files, Ty::Null, conflicts_as_json),
        |chunk, chunk_ty| {
            progress.advance(chunk.raw_bytes);
            let before = std::mem::replace(&mut acc, Ty::Null);
            acc = match merge(before.clone(), chunk_ty, "", conflicts_as_json) {
                Ok(merged) => merged,
                // The conflict is between this chunk and earlier ones: replay the chunk line
                // by line on top of the earlier type to name the exact line.
                Err(_) => infer_chunk(chunk, files, before, conflicts_as_json)?,
            };
            Ok(Flow::Continue)
        },
    )?;
    if acc == Ty::Null {
        return Ok(Ty::Struct(Default::default()));
    }
    Ok(acc)
}

/// Merges the types of a chunk's records into `start`.
fn infer_chunk(
    chunk: &Chunk,
    files: &[Source],
    start: Ty,
    conflicts_as_json: bool,
) -> Result<Ty, ConvertError> {
    let file = files[chunk.file_index].name();
    let mut acc = start;
    for (line_no, line) in input::lines(chunk.text(file)?, chunk.first_line) {
        let slot = Slot::new(line);
        let seed = TypeSeed {
            acc: &mut acc,
            slot: &slot,
            conflicts_as_json,
        };
        parse_line_with(line, seed, &slot).map_err(|e| line_error(file, line_no, e))?;
    }
    Ok(acc)
}

enum Decoded {
    /// The rows, their size estimates and their line hashes.
    Batch(RecordBatch, Vec<u64>, Vec<u128>),
    /// Only the line hashes (see [`prefix`]).
    Lines(Vec<u128>),
    /// A line does not fit the guessed schema.
    Misfit,
}

fn decode_chunk(
    chunk: &Chunk,
    files: &[Source],
    root: &Ty,
    schema: &SchemaRef,
    mode: Mode,
    skip: usize,
) -> Result<Decoded, ConvertError> {
    thread_local! {
        /// The capacities of this thread's last batch, and the schema they are for.
        static LAST_BATCH: RefCell<(usize, decode::Capacities)> = const { RefCell::new((0, Vec::new())) };
    }
    let file = files[chunk.file_index].name();
    let schema_id = Arc::as_ptr(schema) as *const () as usize;
    let mut builder = LAST_BATCH.with_borrow(|(id, hints)| {
        let hints = if *id == schema_id {
            hints.as_slice()
        } else {
            &[]
        };
        decode::BatchBuilder::with_capacities(root, schema.clone(), hints)
    });
    let text = chunk.text(file)?;
    for (line_no, line) in input::lines(text, chunk.first_line).skip(skip) {
        match builder.append_line(line) {
            Ok(()) => {}
            Err(LineError::Conflict { .. } | LineError::UnknownKey { .. })
                if mode == Mode::Guessed =>
            {
                return Ok(Decoded::Misfit);
            }
            Err(error) => return Err(line_error(file, line_no, error)),
        }
    }
    LAST_BATCH.set((schema_id, builder.capacities()));
    let (batch, row_bytes, row_hashes) = builder.finish();
    Ok(Decoded::Batch(batch, row_bytes, row_hashes))
}

/// The error for a field nested too deeply, at the first line that reaches it.
fn locate(too_deep: infer::TooDeep, files: &[Source]) -> ConvertError {
    let mut location = Location {
        file: files
            .first()
            .map(|f| f.name().to_path_buf())
            .unwrap_or_default(),
        line: 1,
        column: None,
    };
    'files: for file in files {
        for chunk in ChunkReader::new(vec![file.clone()]).without_digests() {
            let Ok(chunk) = chunk else { break };
            let Ok(text) = chunk.text(file.name()) else {
                break;
            };
            for (line_no, line) in input::lines(text, chunk.first_line) {
                let value = serde_json::from_str::<serde_json::Value>(line);
                if value.is_ok_and(|value| infer::reaches(&value, &too_deep.steps)) {
                    location = Location {
                        file: file.name().to_path_buf(),
                        line: line_no,
                        column: None,
                    };
                    break 'files;
                }
            }
        }
    }
    ConvertError::TooDeep {
        location,
        path: too_deep.path,
        max_levels: infer::MAX_ARROW_DEPTH,
    }
}

fn line_error(file: &Path, line: u64, error: LineError) -> ConvertError {
    let location = |column| Location {
        file: file.to_path_buf(),
        line,
        column,
    };
    match error {
        LineError::Syntax { column, message } => ConvertError::Malformed {
            location: location(Some(column)),
            message,
        },
        LineError::NotAnObject { found } => ConvertError::NotAnObject {
            location: location(Some(1)),
            found,
        },
        LineError::Conflict {
            path,
            found,
            expected,
            column,
        } => ConvertError::TypeConflict {
            location: location(column),
            path,
            found,
            expected,
        },
        LineError::IntegerOutOfRange { path, value } => ConvertError::IntegerOutOfRange {
            location: location(None),
            path,
            value,
        },
        LineError::InexactFloat { path, value } => ConvertError::InexactFloat {
            location: location(None),
            path,
            value,
        },
        LineError::DuplicateKey { path } => ConvertError::DuplicateKey {
            location: location(None),
            path,
        },
        LineError::UnknownKey { path } => ConvertError::InputChanged {
            location: location(None),
            path,
        },
    }
}

/// Which chunks a pass works on.
#[derive(Clone, Copy)]
struct Reading<'a> {
    /// Chunks before this index are read but not handed to `work`.
    skip: usize,
    /// Whether the files' SHA-256 are wanted.
    hash: bool,
    /// The last build's SHA-256 checkpoints of the inputs, by name (see [`reuse`]).
    resume: &'a HashMap<PathBuf, Vec<Checkpoint>>,
}

/// Whether a pass goes on after a chunk.
enum Flow {
    Continue,
    Stop,
}

/// Runs `work` on the chunks of `files` on all cores and hands the results to `consume` in
/// input order. Reading and parsing run on a producer thread while `consume` runs here, with a
/// bounded number of chunks in flight. Stops at the first error, in input order, or when
/// `consume` says so. Returns the SHA-256 of each file with its checkpoints, or `None` when
/// stopped early. Chunk buffers go back to `pool` (unless `consume` took them).
fn for_each_chunk<T: Send>(
    files: &[Source],
    reading: Reading,
    pool: &BufferPool,
    interrupted: &AtomicBool,
    work: impl Fn(&Chunk) -> Result<T, ConvertError> + Sync,
    mut consume: impl FnMut(&mut Chunk, T) -> Result<Flow, ConvertError>,
) -> Result<Option<Digests>, ConvertError> {
    // The reader thread spawns one task per chunk on the rayon pool and queues, in input
    // order, the receiver of each task's result; at most `in_flight` chunks are alive at once.
    let in_flight = rayon::current_num_threads() + 2;
    type Pending<T> = Receiver<Result<(Chunk, T), ConvertError>>;
    std::thread::scope(|scope| {
        let (queue, pending) = sync_channel::<Pending<T>>(in_flight);
        let work = &work;
        let reader_pool = pool.clone();
        let resume: Vec<Vec<Checkpoint>> = files
            .iter()
            .map(|file| reading.resume.get(file.name()).cloned().unwrap_or_default())
            .collect();
        let producer = scope.spawn(move || {
            let mut reader = ChunkReader::new(files.to_vec())
                .with_pool(reader_pool)
                .resuming(resume);
            if !reading.hash {
                reader = reader.without_digests();
            }
            let mut complete = true;
            rayon::in_place_scope(|tasks| {
                for (index, chunk) in reader.by_ref().enumerate() {
                    if index < reading.skip {
                        if let Err(error) = chunk {
                            let (result, receiver) = sync_channel(1);
                            let _ = result.send(Err(error));
                            let _ = queue.send(receiver);
                            complete = false;
                            return;
                        }
                        continue;
                    }
                    let (result, receiver) = sync_channel(1);
                    if queue.send(receiver).is_err() {
                        complete = false;
                        return; // the consumer stopped
                    }
                    match chunk {
                        Ok(chunk) => tasks.spawn(move |_| {
                            let _ = result.send(work(&chunk).map(|value| (chunk, value)));
                        }),
                        Err(error) => {
                            let _ = result.send(Err(error));
                            complete = false;
                            return;
                        }
                    }
                }
            });
            if complete {
                reader.digests_and_checkpoints()
            } else {
                (Vec::new(), Vec::new())
            }
        });
        for receiver in pending {
            if interrupted.load(Ordering::Relaxed) {
                return Err(ConvertError::Interrupted);
            }
            let (mut chunk, value) = receiver.recv().expect("every task sends its result")?;
            let flow = consume(&mut chunk, value)?;
            if chunk.bytes.capacity() > 0 {
                pool.give(chunk.bytes);
            }
            if let Flow::Stop = flow {
                return Ok(None);
            }
        }
        if interrupted.load(Ordering::Relaxed) {
            return Err(ConvertError::Interrupted);
        }
        Ok(Some(
            producer.join().expect("the reader thread does not panic"),
        ))
    })
}
