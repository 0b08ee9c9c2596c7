//! The JSONL pipeline: a pass that decodes with the schema guessed from the first chunk, and,
//! when a line does not fit it, a pass that infers the schema over the whole input and one
//! that decodes again with it (see [`super::convert`]).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::infer::{self, Ty};
use super::input::{self, BufferPool, Chunk, ChunkReader};
use super::parallel::{Digests, Flow, Reading, for_each_chunk};
use super::prefix::{HeldChunk, Prefix};
use super::schema_pass::{guess_schema, infer_schema_from, line_error, locate};
use super::source::{self, Format, Source};
use super::stream::LineError;
use super::{Conversion, ConvertError, Converted, SplitOutput, decode, format_key, shards};
use crate::features::{Feature, huggingface_metadata, schema_features};

/// Converts JSONL inputs (see [`super::convert`]).
pub(super) fn convert(job: &Conversion) -> Result<Converted, ConvertError> {
    let args: Vec<PathBuf> = job
        .splits
        .iter()
        .flat_map(|s| s.files.iter().cloned())
        .collect();
    // Standard input is spooled beside the shards, for the passes that read the input again.
    let all_files = Source::of_args(&args, job.out_dir).map_err(|source| ConvertError::Io {
        file: PathBuf::from(source::STDIN_NAME),
        source,
    })?;
    let mut rest = all_files.as_slice();
    let splits: Vec<Split> = job
        .splits
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
    let result = convert_sources(job, &splits, &all_files);
    result.map_err(|error| blame_archive(error, &all_files, job.interrupted))
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
    job: &Conversion,
    splits: &[Split],
    all_files: &[Source],
) -> Result<Converted, ConvertError> {
    let total_bytes = total_size(all_files);

    let guess = guess_schema(all_files, job.options.conflicts_as_json)?;
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
        job.progress.phase("Converting", total_bytes);
        match write_splits(job, splits, &guess, Mode::Guessed)? {
            Pass::Complete { outputs, digests } => {
                return Ok(converted(job, &guess, outputs, all_files, digests));
            }
            Pass::Misfit { chunk } => (guess, chunk),
        }
    } else {
        (Ty::Null, 0)
    };
    job.progress.phase("Inferring schema", total_bytes);
    let root = infer_schema_from(job, all_files, base, from_chunk)?;
    write_inferred(job, root, splits, all_files)
}

/// The second half of the slow path: decode and write with the schema inferred over all lines.
fn write_inferred(
    job: &Conversion,
    root: Ty,
    splits: &[Split],
    all_files: &[Source],
) -> Result<Converted, ConvertError> {
    if matches!(&root, Ty::Struct(fields) if fields.is_empty()) {
        return Err(ConvertError::NoColumns);
    }
    infer::check_depth(&root).map_err(|e| locate(e, all_files))?;
    job.progress.phase("Writing Parquet", total_size(all_files));
    match write_splits(job, splits, &root, Mode::Inferred)? {
        Pass::Complete { outputs, digests } => {
            Ok(converted(job, &root, outputs, all_files, digests))
        }
        Pass::Misfit { .. } => unreachable!("with the inferred schema, a misfit is an error"),
    }
}

fn converted(
    job: &Conversion,
    root: &Ty,
    splits: Vec<SplitOutput>,
    files: &[Source],
    (digests, checkpoints): Digests,
) -> Converted {
    let (schema, features) = arrow_schema(root);
    Converted {
        checkpoints,
        format_key: format_key(&schema, &features, job.options),
        schema,
        features,
        splits,
        inputs: files
            .iter()
            .map(|file| file.name().to_path_buf())
            .zip(digests)
            .collect(),
        rewritten: Vec::new(),
        row_hash_kind: super::LINE_HASHES.to_string(),
    }
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
fn write_splits(
    job: &Conversion,
    splits: &[Split],
    root: &Ty,
    mode: Mode,
) -> Result<Pass, ConvertError> {
    let Conversion {
        out_dir,
        options,
        previous,
        progress,
        interrupted,
        ..
    } = *job;
    let (schema, features) = arrow_schema(root);
    let properties = shards::writer_properties(options.codec, &huggingface_metadata(&features));
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

enum Decoded {
    /// The rows, their size estimates and their line hashes.
    Batch(RecordBatch, Vec<u64>, Vec<u128>),
    /// Only the line hashes (see [`super::prefix`]).
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
