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

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use rayon::prelude::*;

use crate::features::{Feature, huggingface_metadata, schema_features};
pub use error::{ConvertError, Location};
use infer::{Ty, ValueTypeError, merge};
use input::{Chunk, ChunkReader, parse_line};
pub use shards::{Codec, Shard};

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
    let root = root.finalize();
    let schema = Arc::new(infer::schema_of(&root));
    if schema.fields().is_empty() {
        return Err(ConvertError::NoColumns);
    }
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
    let mut path = String::new();
    for (line_no, line) in chunk.lines() {
        let value = parse_line(file, line_no, line)?;
        let location = || Location {
            file: file.clone(),
            line: line_no,
            column: None,
        };
        let ty = Ty::of_value(&value, &mut path, conflicts_as_json).map_err(|e| match e {
            ValueTypeError::IntegerOutOfRange { path, value } => ConvertError::IntegerOutOfRange {
                location: location(),
                path,
                value,
            },
            ValueTypeError::Conflict(c) => ConvertError::TypeConflict {
                location: location(),
                path: c.path,
                found: c.found,
                expected: c.expected,
            },
        })?;
        acc = merge(acc, ty, "", conflicts_as_json).map_err(|c| ConvertError::TypeConflict {
            location: location(),
            path: c.path,
            found: c.found,
            expected: c.expected,
        })?;
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
    for (line_no, line) in chunk.lines() {
        let value = parse_line(file, line_no, line)?;
        let object = value.as_object().expect("parse_line returns objects");
        builder.append(object).map_err(|e| {
            let location = Location {
                file: file.clone(),
                line: line_no,
                column: None,
            };
            if e.found == "a new key" {
                ConvertError::InputChanged {
                    location,
                    path: e.path,
                }
            } else {
                ConvertError::TypeConflict {
                    location,
                    path: e.path,
                    found: e.found,
                    expected: e.expected,
                }
            }
        })?;
    }
    Ok(builder.finish())
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
    let group = (rayon::current_num_threads() * 2).max(2);
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel::<Result<(Chunk, T), ConvertError>>(group);
        let work = &work;
        let producer = scope.spawn(move || {
            let mut reader = ChunkReader::new(files.to_vec());
            loop {
                let mut chunks = Vec::with_capacity(group);
                for chunk in reader.by_ref().take(group) {
                    match chunk {
                        Ok(chunk) => chunks.push(chunk),
                        Err(e) => {
                            let results: Vec<_> = process(chunks, work);
                            for result in results {
                                if sender.send(result).is_err() {
                                    return Vec::new();
                                }
                            }
                            let _ = sender.send(Err(e));
                            return Vec::new();
                        }
                    }
                }
                if chunks.is_empty() {
                    return reader.digests();
                }
                for result in process(chunks, work) {
                    if sender.send(result).is_err() {
                        return Vec::new();
                    }
                }
            }
        });
        for result in receiver {
            if interrupted.load(Ordering::Relaxed) {
                return Err(ConvertError::Interrupted);
            }
            let (chunk, value) = result?;
            consume(&chunk, value)?;
        }
        if interrupted.load(Ordering::Relaxed) {
            return Err(ConvertError::Interrupted);
        }
        Ok(producer.join().expect("the reader thread does not panic"))
    })
}

fn process<T: Send>(
    chunks: Vec<Chunk>,
    work: &(impl Fn(&Chunk) -> Result<T, ConvertError> + Sync),
) -> Vec<Result<(Chunk, T), ConvertError>> {
    chunks
        .into_par_iter()
        .map(|chunk| work(&chunk).map(|value| (chunk, value)))
        .collect()
}
