//! JSONL → Arrow → Parquet shards. Never prints; reports progress through [`Progress`].
//!
//! The schema covers every line (never a sample), yet the input is usually parsed once: the
//! schema is guessed from the first chunk, every chunk is decoded with the guess, and only a
//! line that does not fit it sends the conversion through whole-input inference and a second
//! decode (see [`convert`]). Line-aligned chunks are parsed on all cores and consumed in input
//! order; shards are encoded on threads of their own, several at once, with content-defined
//! data pages (see [`shards`]). The output does not depend on the number of threads.
//!
//! This file is the facade: the types a caller sees and [`convert`], which sends Parquet
//! inputs to [`adopt`] and JSONL inputs to the pipeline (`pipeline.rs`: the passes over the
//! input; `schema_pass.rs`: the schema guessed or inferred; `parallel.rs`: chunks worked on
//! all cores and consumed in order).

pub mod adopt;
pub mod decode;
pub mod error;
pub mod infer;
pub mod input;
pub mod naming;
mod parallel;
pub mod parquet_bounds;
mod pipeline;
pub mod prefix;
pub mod reuse;
pub mod row_hash;
mod schema_pass;
pub mod shards;
pub mod source;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use arrow_schema::SchemaRef;

use crate::features::{Feature, huggingface_metadata};
pub use error::{ConvertError, Location};
use reuse::Checkpoint;
pub use shards::{Codec, Shard};

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

/// One conversion: what to convert, where, how, and what it may reuse; every pass of the
/// JSONL pipeline and of [`adopt`] reads it.
#[derive(Clone, Copy)]
pub struct Conversion<'a> {
    pub splits: &'a [SplitInput],
    /// Where the shards are written (under temporary names, see [`naming`]).
    pub out_dir: &'a Path,
    pub options: &'a Options,
    /// The last build's shards, taken as they are when their rows are unchanged (see
    /// [`reuse`]); [`reuse::Previous::none`] for nothing.
    pub previous: &'a reuse::Previous,
    pub progress: &'a dyn Progress,
    /// Polled between chunks: set, the conversion stops with [`ConvertError::Interrupted`].
    pub interrupted: &'a AtomicBool,
}

/// Converts every split into shards under `out_dir`, with one schema inferred over all inputs
/// (Parquet inputs: see [`adopt`]).
///
/// The schema is first guessed from the records of the first chunk, and every chunk is decoded
/// and written with that guess. When every line fits the guess, the guess is exactly what
/// inference over the whole input gives (every line's type is within it, and the first chunk's
/// lines are among them), so one parse suffices. The first line that does not fit (a key not
/// seen yet, a wider type) sends the conversion back: the output so far is discarded, the
/// schema is inferred over the rest of the input on top of the guess, and everything is
/// decoded again with the complete schema.
pub fn convert(conversion: &Conversion) -> Result<Converted, ConvertError> {
    if adopt::inputs_are_parquet(conversion.splits)? {
        return adopt::convert(conversion);
    }
    pipeline::convert(conversion)
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
        // The last line stood for content-defined data pages when they could be turned off:
        // kept, so that shards of earlier builds are still reused.
        "{}\n{}\n{:?}\n{}\n{:?}\n{}\ntrue",
        env!("CARGO_PKG_VERSION"),
        shards::encoding_key(),
        schema.fields(),
        huggingface_metadata(features),
        options.codec,
        options.max_shard_bytes,
    );
    shards::hex(&Sha256::digest(text.as_bytes()))
}
