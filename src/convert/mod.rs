//! JSONL → Arrow → Parquet shards. Never prints; reports progress through [`Progress`].
//!
//! Two passes over the input: the first infers the schema over every line (never a sample),
//! the second decodes and writes. Both parse line-aligned chunks on all cores; results are
//! consumed in input order, so the output does not depend on the number of threads.

pub mod decode;
pub mod error;
pub mod infer;
pub mod input;
pub mod shards;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::features::{Feature, huggingface_metadata, schema_features};
pub use error::{ConvertError, Location};
use infer::{Ty, merge};
use input::{Chunk, ChunkReader};
pub use shards::{Codec, Shard};
use std::cell::RefCell;
use stream::{Failure, LineError, TypeSeed, parse_line_with};

/// The inputs of one split, read in the order given.
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
}

#[derive(Debug, Clone)]
pub struct Converted {
    pub schema: SchemaRef,
    pub features: Vec<(String, Feature)>,
    pub splits: Vec<SplitOutput>,
    /// Every input file with its SHA-256, in the order read.
    pub inputs: Vec<(PathBuf, String)>,
}

/// Converts every split into shards under `out_dir`, with one schema inferred over all inputs.
pub fn convert(
    splits: &[SplitInput],
    out_dir: &Path,
    options: &Options,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<Converted, ConvertError> {
    let all_files: Vec<PathBuf> = splits
        .iter()
        .flat_map(|s| s.files.iter().cloned())
        .collect();
    let total_bytes = total_size(&all_files)?;

    progress.phase("Inferring schema", total_bytes);
    let (root, digests) =
        infer_schema(&all_files, options.conflicts_as_json, progress, interrupted)?;
    let inputs = all_files.iter().cloned().zip(digests).collect();
    if root == Ty::Null {
        let split = splits.first().map(|s| s.name.clone()).unwrap_or_default();
        return Err(ConvertError::NoRecords { split });
    }
    if matches!(&root, Ty::Struct(fields) if fields.is_empty()) {
        return Err(ConvertError::NoColumns);
    }
    let root = root.finalize();
    infer::check_depth(&root)?;
    let schema = Arc::new(infer::schema_of(&root));
    let features = schema_features(&schema);
    let schema = Arc::new(
        schema
            .as_ref()
            .clone()
            .with_metadata(std::collections::HashMap::from([(
                "huggingface".to_string(),
                huggingface_metadata(&features),
            )])),
    );
    let properties = shards::writer_properties(options.codec, &huggingface_metadata(&features));

    progress.phase("Writing Parquet", total_bytes);
    let mut outputs = Vec::with_capacity(splits.len());
    for split in splits {
        let mut writer = shards::ShardWriter::new(
            out_dir,
            &split.name,
            schema.clone(),
            properties.clone(),
            options.max_shard_bytes,
        );
        let mut num_examples = 0u64;
        let mut num_bytes = 0u64;
        let write_error = |source| ConvertError::Write {
            file: out_dir.to_path_buf(),
            source,
        };
        for_each_chunk(
            &split.files,
            interrupted,
            |chunk| decode_chunk(chunk, &split.files, &root, &schema),
            |chunk, (batch, row_bytes)| {
                progress.advance(chunk.bytes.len() as u64);
                num_examples += row_bytes.len() as u64;
                num_bytes += row_bytes.iter().sum::<u64>();
                writer.write(&batch, &row_bytes).map_err(write_error)
            },
        )?;
        if num_examples == 0 {
            return Err(ConvertError::NoRecords {
                split: split.name.clone(),
            });
        }
        let shards = writer.finish().map_err(write_error)?;
        outputs.push(SplitOutput {
            name: split.name.clone(),
            shards,
            num_examples,
            num_bytes,
        });
    }
    Ok(Converted {
        schema,
        features,
        splits: outputs,
        inputs,
    })
}

fn total_size(files: &[PathBuf]) -> Result<u64, ConvertError> {
    files.iter().try_fold(0, |sum, file| {
        let metadata = std::fs::metadata(file).map_err(|source| ConvertError::Io {
            file: file.clone(),
            source,
        })?;
        Ok(sum + metadata.len())
    })
}

/// The schema of all records of `files` (the first pass), and each file's SHA-256.
pub fn infer_schema(
    files: &[PathBuf],
    conflicts_as_json: bool,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<(Ty, Vec<String>), ConvertError> {
    let mut acc = Ty::Null;
    let digests = for_each_chunk(
        files,
        interrupted,
        |chunk| infer_chunk(chunk, files, Ty::Null, conflicts_as_json),
        |chunk, chunk_ty| {
            progress.advance(chunk.bytes.len() as u64);
            let before = std::mem::replace(&mut acc, Ty::Null);
            acc = match merge(before.clone(), chunk_ty, "", conflicts_as_json) {
                Ok(merged) => merged,
                // The conflict is between this chunk and earlier ones: replay the chunk line
                // by line on top of the earlier type to name the exact line.
                Err(_) => infer_chunk(chunk, files, before, conflicts_as_json)?,
            };
            Ok(())
        },
    )?;
    Ok((acc, digests))
}

/// Merges the types of a chunk's records into `start`.
fn infer_chunk(
    chunk: &Chunk,
    files: &[PathBuf],
    start: Ty,
    conflicts_as_json: bool,
) -> Result<Ty, ConvertError> {
    let file = &files[chunk.file_index];
    let mut acc = start;
    for (line_no, line) in input::lines(chunk.text(file)?, chunk.first_line) {
        let slot = RefCell::new(Failure::default());
        let seed = TypeSeed {
            acc: &mut acc,
            slot: &slot,
            conflicts_as_json,
        };
        parse_line_with(line, seed, &slot).map_err(|e| line_error(file, line_no, e))?;
    }
    Ok(acc)
}

fn decode_chunk(
    chunk: &Chunk,
    files: &[PathBuf],
    root: &Ty,
    schema: &SchemaRef,
) -> Result<(RecordBatch, Vec<u64>), ConvertError> {
    let file = &files[chunk.file_index];
    let mut builder = decode::BatchBuilder::new(root, schema.clone());
    for (line_no, line) in input::lines(chunk.text(file)?, chunk.first_line) {
        builder
            .append_line(line)
            .map_err(|e| line_error(file, line_no, e))?;
    }
    Ok(builder.finish())
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
        } => ConvertError::TypeConflict {
            location: location(None),
            path,
            found,
            expected,
        },
        LineError::IntegerOutOfRange { path, value } => ConvertError::IntegerOutOfRange {
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

/// Runs `work` on the chunks of `files` on all cores and hands the results to `consume` in
/// input order. Reading and parsing run on a producer thread while `consume` runs here, with a
/// bounded number of chunks in flight. Stops at the first error, in input order. Returns the
/// SHA-256 of each file.
fn for_each_chunk<T: Send>(
    files: &[PathBuf],
    interrupted: &AtomicBool,
    work: impl Fn(&Chunk) -> Result<T, ConvertError> + Sync,
    mut consume: impl FnMut(&Chunk, T) -> Result<(), ConvertError>,
) -> Result<Vec<String>, ConvertError> {
    // The reader thread spawns one task per chunk on the rayon pool and queues, in input
    // order, the receiver of each task's result; at most `in_flight` chunks are alive at once.
    let in_flight = rayon::current_num_threads() * 2 + 1;
    type Pending<T> = Receiver<Result<(Chunk, T), ConvertError>>;
    std::thread::scope(|scope| {
        let (queue, pending) = sync_channel::<Pending<T>>(in_flight);
        let work = &work;
        let producer = scope.spawn(move || {
            let mut reader = ChunkReader::new(files.to_vec());
            let mut complete = true;
            rayon::in_place_scope(|tasks| {
                for chunk in reader.by_ref() {
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
                reader.digests()
            } else {
                Vec::new()
            }
        });
        for receiver in pending {
            if interrupted.load(Ordering::Relaxed) {
                return Err(ConvertError::Interrupted);
            }
            let (chunk, value) = receiver.recv().expect("every task sends its result")?;
            consume(&chunk, value)?;
        }
        if interrupted.load(Ordering::Relaxed) {
            return Err(ConvertError::Interrupted);
        }
        Ok(producer.join().expect("the reader thread does not panic"))
    })
}
