//! Parquet inputs: adopted as they are, or rewritten by the shard writer.
//!
//! A Parquet file (told by its `PAR1` magic, whatever its name) that meets the Hub's layout
//! rules is published as it is: its bytes are copied into the staging folder while being
//! hashed (one read), and that SHA-256 is both its LFS object id and the trailer's digest of
//! the input. Its rows, sizes and schema come from the footer alone, so memory stays flat
//! whatever the size of the file. The rules:
//!
//! - the file's data is at most `--max-shard-size` uncompressed (the sum of its column
//!   chunks' uncompressed sizes, which is also what the card counts as its `num_bytes`);
//! - no row group holds more than [`shards::ROW_GROUP_BYTES`] uncompressed.
//!
//! A file that breaks a rule, or every file with `--rewrite`, is read back as Arrow batches and
//! written by [`shards::ShardWriter`] (content-defined boundaries, the build's codec). Its rows'
//! size estimates and hashes are those of their [`arrow_row`] encoding: the length of a row's
//! bytes, and their XXH3-128.
//!
//! All files of a build share one schema (every split of a config does): the Arrow schemas
//! must be equal, ignoring metadata, nullability, the names of list items, dictionary encoding
//! and the offset width of strings and binaries (`string`, `large_string` and `string_view`
//! are one), which is what `datasets` casts between when it reads the files with the card's
//! features. The features are those of the first file's `huggingface` metadata when it has
//! one this model holds (and it names the file's columns), else those `datasets` infers from
//! its Arrow schema.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use super::reuse::Cut;
use super::row_hash::RowHasher;
use super::shards::{self, Shard, ShardWriter, hex};
use super::{
    Conversion, ConvertError, Converted, Options, Progress, SplitInput, SplitOutput, parquet_bounds,
};
use crate::features::{Feature, features_of_metadata, huggingface_metadata, schema_features};

/// The first (and last) four bytes of every Parquet file.
pub const MAGIC: &[u8; 4] = b"PAR1";
/// Bytes per read while adopting a file; a few are in flight at once.
const COPY_BUFFER: usize = 8 << 20;
const COPY_BUFFERS: usize = 3;
/// Rows per batch when a file is rewritten.
const REWRITE_BATCH_ROWS: usize = 8192;

/// Whether `path` starts with the Parquet magic (standard input never does).
pub fn is_parquet(path: &Path) -> std::io::Result<bool> {
    if super::source::is_stdin(path) {
        return Ok(false);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path)?;
    let mut read = 0;
    while read < magic.len() {
        match file.read(&mut magic[read..])? {
            0 => return Ok(false),
            n => read += n,
        }
    }
    Ok(&magic == MAGIC)
}

/// Whether the inputs are Parquet (all of them) or JSONL (all of them); a mix is an error
/// naming one file of each.
pub fn inputs_are_parquet(splits: &[SplitInput]) -> Result<bool, ConvertError> {
    let mut jsonl = None;
    let mut parquet = None;
    for file in splits.iter().flat_map(|split| &split.files) {
        let is = is_parquet(file).map_err(|source| ConvertError::Io {
            file: file.clone(),
            source,
        })?;
        let slot = if is { &mut parquet } else { &mut jsonl };
        slot.get_or_insert_with(|| file.clone());
    }
    match (jsonl, parquet) {
        (Some(jsonl), Some(parquet)) => Err(ConvertError::MixedFormats { jsonl, parquet }),
        (_, parquet) => Ok(parquet.is_some()),
    }
}

/// The Parquet files of a folder given as an input, sorted by name: the layout Spark, Hive,
/// DuckDB and pyarrow datasets write (`part-00000-….parquet`), with `_SUCCESS`, `_metadata`,
/// checksums (`*.crc`) and hidden files left out. Partition folders (`key=value/`) and any
/// other content are refused: hf-relay would have to invent the partition column.
pub fn folder_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        names.push(entry.file_name());
    }
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let text = name.to_string_lossy();
        if text.starts_with('_') || text.starts_with('.') || text.ends_with(".crc") {
            continue;
        }
        let path = dir.join(&name);
        let metadata =
            std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if metadata.is_dir() {
            if text.contains('=') {
                return Err(format!(
                    "input folder {} is partitioned ({text}/): hf-relay does not turn partition \
                     folders into columns; write the data unpartitioned, with the partition key \
                     as a column (DuckDB `COPY … (FORMAT parquet)` without PARTITION_BY, Spark \
                     without partitionBy)",
                    dir.display()
                ));
            }
            return Err(format!(
                "input folder {} holds a folder {text}/: only Parquet files (and _SUCCESS, \
                 *.crc or hidden files, which are ignored) are expected there",
                dir.display()
            ));
        }
        // Opening a FIFO blocks until a writer comes, a device may never end: only regular
        // files (or symlinks to one) are opened.
        if !metadata.is_file() {
            return Err(format!(
                "input folder {} holds {text}, which is not a regular file ({}): a folder input \
                 is the Parquet files of one dataset",
                dir.display(),
                file_kind(&metadata)
            ));
        }
        let parquet =
            is_parquet(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if !parquet {
            return Err(format!(
                "input folder {} holds {text}, which is not a Parquet file: a folder input is \
                 the Parquet files of one dataset (give JSONL files one by one)",
                dir.display()
            ));
        }
        files.push(path);
    }
    if files.is_empty() {
        return Err(format!(
            "input folder {} holds no Parquet file",
            dir.display()
        ));
    }
    Ok(files)
}

/// What a file that is neither a regular file nor a folder is, in words.
fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// What the footer of one input says.
struct Footer {
    path: PathBuf,
    schema: SchemaRef,
    /// The `huggingface` key-value metadata, when the file has one.
    huggingface: Option<String>,
    num_rows: u64,
    /// The sum of the column chunks' uncompressed sizes.
    uncompressed: u64,
    largest_row_group: u64,
    file_size: u64,
}

fn read_footer(path: &Path) -> Result<Footer, ConvertError> {
    let io = |source| ConvertError::Io {
        file: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let file_size = file.metadata().map_err(io)?.len();
    let metadata = parquet_bounds::load(&file).map_err(|message| ConvertError::Parquet {
        file: path.to_path_buf(),
        message,
    })?;
    let parquet = metadata.metadata();
    let huggingface = parquet
        .file_metadata()
        .key_value_metadata()
        .and_then(|pairs| pairs.iter().find(|kv| kv.key == "huggingface"))
        .and_then(|kv| kv.value.clone());
    // The column chunks' sizes, which every writer fills in (a row group's `total_byte_size`
    // is not always what its columns add up to).
    let sizes = parquet.row_groups().iter().map(|group| {
        group
            .columns()
            .iter()
            .map(|column| column.uncompressed_size().max(0) as u64)
            .sum::<u64>()
    });
    Ok(Footer {
        path: path.to_path_buf(),
        schema: metadata.schema().clone(),
        huggingface,
        num_rows: parquet.file_metadata().num_rows().max(0) as u64,
        uncompressed: sizes.clone().sum(),
        largest_row_group: sizes.max().unwrap_or(0),
        file_size,
    })
}

/// The type as `datasets` tells types apart (see the module documentation).
fn normal(data_type: &DataType) -> DataType {
    use arrow_schema::Field;
    let item = |field: &arrow_schema::FieldRef| {
        Arc::new(Field::new("item", normal(field.data_type()), true))
    };
    match data_type {
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::Dictionary(_, values) => normal(values),
        DataType::List(field) => DataType::List(item(field)),
        DataType::LargeList(field) => DataType::LargeList(item(field)),
        DataType::FixedSizeList(field, n) => DataType::FixedSizeList(item(field), *n),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| Field::new(f.name(), normal(f.data_type()), true))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The first difference between two files' schemas, in words; `None` when `datasets` reads
/// them as one.
fn schema_difference(first: &Footer, other: &Footer) -> Option<String> {
    let (a, b) = (first.schema.fields(), other.schema.fields());
    let name = |path: &Path| path.display().to_string();
    for (index, field) in a.iter().enumerate() {
        let Some(theirs) = b.get(index) else {
            return Some(format!(
                "column {} `{}` of {} is missing from {}",
                index + 1,
                field.name(),
                name(&first.path),
                name(&other.path)
            ));
        };
        if theirs.name() != field.name() {
            return Some(format!(
                "column {} is `{}` in {} but `{}` in {}",
                index + 1,
                field.name(),
                name(&first.path),
                theirs.name(),
                name(&other.path)
            ));
        }
        if normal(field.data_type()) != normal(theirs.data_type()) {
            return Some(format!(
                "column `{}` is {} in {} but {} in {}",
                field.name(),
                type_name(field.data_type()),
                name(&first.path),
                type_name(theirs.data_type()),
                name(&other.path)
            ));
        }
    }
    b.get(a.len()).map(|extra| {
        format!(
            "{} has a column `{}` that {} lacks",
            name(&other.path),
            extra.name(),
            name(&first.path)
        )
    })
}

/// A type as the card would show it (`list<int64>`), else as Arrow names it.
fn type_name(data_type: &DataType) -> String {
    match Feature::try_from_data_type(data_type) {
        Ok(Feature::Struct(_)) | Err(_) => format!("{data_type}"),
        Ok(feature) => feature.display_type(),
    }
}

/// The features of the build: the first file's `huggingface` metadata when it describes its
/// columns, else what `datasets` infers from the Arrow schema.
fn features_of(footer: &Footer) -> Result<Vec<(String, Feature)>, ConvertError> {
    if let Some(features) = footer.huggingface.as_deref().and_then(features_of_metadata) {
        let names: Vec<&str> = features.iter().map(|(n, _)| n.as_str()).collect();
        let columns: Vec<&str> = footer
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if names == columns {
            return Ok(features);
        }
    }
    for field in footer.schema.fields() {
        if let Err(inner) = Feature::try_from_data_type(field.data_type()) {
            return Err(ConvertError::UnsupportedType {
                file: footer.path.clone(),
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
                inner: inner.to_string(),
            });
        }
    }
    Ok(schema_features(&footer.schema))
}

/// Why a file cannot be published as it is, if it cannot.
fn broken_rule(footer: &Footer, options: &Options) -> Option<String> {
    use crate::units::human_bytes;
    if footer.uncompressed > options.max_shard_bytes {
        return Some(format!(
            "its data is {} uncompressed, more than --max-shard-size ({})",
            human_bytes(footer.uncompressed),
            human_bytes(options.max_shard_bytes)
        ));
    }
    if footer.largest_row_group > shards::ROW_GROUP_BYTES {
        return Some(format!(
            "a row group holds {} uncompressed, more than the {} the Hub's viewer reads",
            human_bytes(footer.largest_row_group),
            human_bytes(shards::ROW_GROUP_BYTES)
        ));
    }
    None
}

/// Publishes the Parquet inputs of every split (see the module documentation).
pub fn convert(job: &Conversion) -> Result<Converted, ConvertError> {
    let Conversion {
        splits,
        out_dir,
        options,
        previous,
        progress,
        interrupted,
    } = *job;
    let mut footers: Vec<Vec<Footer>> = Vec::with_capacity(splits.len());
    for split in splits {
        let split_footers: Result<Vec<Footer>, ConvertError> =
            split.files.iter().map(|file| read_footer(file)).collect();
        footers.push(split_footers?);
    }
    let all: Vec<&Footer> = footers.iter().flatten().collect();
    let Some(first) = all.first() else {
        return Err(ConvertError::NoRecords {
            split: splits.first().map(|s| s.name.clone()).unwrap_or_default(),
        });
    };
    for other in &all[1..] {
        if let Some(detail) = schema_difference(first, other) {
            return Err(ConvertError::SchemaMismatch {
                first: first.path.clone(),
                second: other.path.clone(),
                detail,
            });
        }
    }
    let features = features_of(first)?;
    let metadata = huggingface_metadata(&features);
    let with_metadata = |schema: &Schema| {
        Arc::new(Schema::new(schema.fields().clone()).with_metadata(
            std::collections::HashMap::from([("huggingface".to_string(), metadata.clone())]),
        ))
    };
    let schema = with_metadata(&first.schema);
    let key = {
        let text = format!(
            "parquet\n{}",
            super::format_key(&schema, &features, options)
        );
        hex(&Sha256::digest(text.as_bytes()))
    };
    progress.phase(
        "Adopting Parquet",
        all.iter().map(|footer| footer.file_size).sum(),
    );

    let mut created: Vec<PathBuf> = Vec::new();
    let mut rewritten = Vec::new();
    let result = (|| {
        let mut outputs = Vec::with_capacity(splits.len());
        let mut inputs = Vec::new();
        for (split, split_footers) in splits.iter().zip(&footers) {
            let candidates = previous.for_split(&split.name, &key);
            let mut output = SplitOutput {
                name: split.name.clone(),
                shards: Vec::new(),
                num_examples: 0,
                num_bytes: 0,
                skipped_shards: 0,
                row_hashes: Some(Vec::new()),
            };
            for (index, footer) in split_footers.iter().enumerate() {
                let reason = match broken_rule(footer, options) {
                    Some(reason) => Some(reason),
                    None if options.rewrite => Some("asked by --rewrite".to_string()),
                    None => None,
                };
                if let Some(reason) = reason {
                    rewritten.push((footer.path.clone(), reason));
                    let dir = out_dir.join(format!("rewrite-{}-{index:05}", split.name));
                    std::fs::create_dir_all(&dir).map_err(|source| ConvertError::Io {
                        file: dir.clone(),
                        source,
                    })?;
                    created.push(dir.clone());
                    let file_schema = with_metadata(&footer.schema);
                    let writer = ShardWriter::new(
                        &dir,
                        &split.name,
                        file_schema.clone(),
                        shards::writer_properties(options.codec, &metadata),
                        options.max_shard_bytes,
                    )
                    .reusing(candidates.clone());
                    let (shards, bytes, hashes) =
                        rewrite_file(footer, file_schema, writer, interrupted)?;
                    if let Some(all) = output.row_hashes.as_mut() {
                        all.extend(hashes);
                    }
                    let sha256 = hash_file(&footer.path, interrupted)?;
                    progress.advance(footer.file_size);
                    output.num_examples += shards.iter().map(|s| s.num_rows).sum::<u64>();
                    output.num_bytes += bytes;
                    output.shards.extend(shards);
                    inputs.push((footer.path.clone(), sha256));
                } else {
                    let file_name = format!("adopt-{}-{index:05}.parquet", split.name);
                    let path = out_dir.join(&file_name);
                    created.push(path.clone());
                    let sha256 = copy_hashing(footer, &path, progress, interrupted)?;
                    // Its rows are not read: the split's row hashes are not known.
                    output.row_hashes = None;
                    output.num_examples += footer.num_rows;
                    output.num_bytes += footer.uncompressed;
                    output.shards.push(Shard {
                        file_name,
                        path,
                        num_rows: footer.num_rows,
                        num_bytes: footer.uncompressed,
                        sha256: sha256.clone(),
                        file_size: footer.file_size,
                        // Not a row hash: an adopted file is never matched for reuse (it is
                        // taken as it is anyway).
                        first_row: "adopted".to_string(),
                        rows_digest: sha256.clone(),
                        lines_digest: "adopted".to_string(),
                        cut: Cut::End,
                        reused: false,
                    });
                    inputs.push((footer.path.clone(), sha256));
                }
            }
            if output.num_examples == 0 {
                return Err(ConvertError::NoRecords {
                    split: split.name.clone(),
                });
            }
            outputs.push(output);
        }
        Ok((outputs, inputs))
    })();
    let (outputs, inputs) = match result {
        Ok(done) => done,
        Err(error) => {
            for path in created {
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
            return Err(error);
        }
    };
    let row_hash_kind = super::row_hash::kind(&schema);
    Ok(Converted {
        row_hash_kind,
        schema,
        features,
        splits: outputs,
        // Parquet inputs are hashed whole: a changed file is a new object anyway.
        checkpoints: vec![Vec::new(); inputs.len()],
        inputs,
        format_key: key,
        rewritten,
    })
}

/// Copies an input to `target` while hashing it: one thread reads and hashes, another
/// writes. Returns the SHA-256, which is the LFS object id of the copy.
fn copy_hashing(
    footer: &Footer,
    target: &Path,
    progress: &dyn Progress,
    interrupted: &AtomicBool,
) -> Result<String, ConvertError> {
    let source_path = &footer.path;
    let mut input = File::open(source_path).map_err(|source| ConvertError::Io {
        file: source_path.clone(),
        source,
    })?;
    let write_error = |source: std::io::Error| ConvertError::Io {
        file: target.to_path_buf(),
        source,
    };
    let mut output = File::create(target).map_err(write_error)?;
    let (full, to_write) = sync_channel::<Vec<u8>>(COPY_BUFFERS);
    let (give_back, empty) = sync_channel::<Vec<u8>>(COPY_BUFFERS);
    for _ in 0..COPY_BUFFERS {
        give_back
            .send(vec![0; COPY_BUFFER])
            .expect("the channel has room for every buffer");
    }
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for buffer in to_write {
                output.write_all(&buffer)?;
                let _ = give_back.send(buffer);
            }
            output.flush()
        });
        let mut hasher = Sha256::new();
        let mut copied = 0u64;
        let read = (|| {
            loop {
                if interrupted.load(Ordering::Relaxed) {
                    return Err(ConvertError::Interrupted(crate::interrupt::Interrupted));
                }
                // The writer stopped on an error: `join` below reports it.
                let Ok(mut buffer) = empty.recv() else {
                    return Ok(());
                };
                buffer.resize(COPY_BUFFER, 0);
                let mut filled = 0;
                while filled < buffer.len() {
                    match input.read(&mut buffer[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(source) => {
                            return Err(ConvertError::Io {
                                file: source_path.clone(),
                                source,
                            });
                        }
                    }
                }
                if filled == 0 {
                    return Ok(());
                }
                buffer.truncate(filled);
                hasher.update(&buffer);
                copied += filled as u64;
                progress.advance(filled as u64);
                if full.send(buffer).is_err() {
                    return Ok(());
                }
            }
        })();
        drop(full);
        let written = writer.join().expect("the copying thread does not panic");
        read?;
        written.map_err(write_error)?;
        if copied != footer.file_size {
            return Err(ConvertError::Io {
                file: source_path.clone(),
                source: std::io::Error::other("the file changed during the build"),
            });
        }
        Ok(hex(&hasher.finalize()))
    })
}

/// The SHA-256 of a file (a rewritten input, for the trailer).
fn hash_file(path: &Path, interrupted: &AtomicBool) -> Result<String, ConvertError> {
    let io = |source| ConvertError::Io {
        file: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; COPY_BUFFER];
    loop {
        if interrupted.load(Ordering::Relaxed) {
            return Err(ConvertError::Interrupted(crate::interrupt::Interrupted));
        }
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(io(source)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Reads a file as Arrow batches and writes them with `writer`; returns its shards, the sum
/// of the rows' size estimates and the rows' hashes.
fn rewrite_file(
    footer: &Footer,
    schema: SchemaRef,
    mut writer: ShardWriter,
    interrupted: &AtomicBool,
) -> Result<(Vec<Shard>, u64, Vec<u128>), ConvertError> {
    let read_error = |message: String| ConvertError::Parquet {
        file: footer.path.clone(),
        message,
    };
    let write_error = |source| ConvertError::Write {
        file: footer.path.clone(),
        source,
    };
    let file = File::open(&footer.path).map_err(|source| ConvertError::Io {
        file: footer.path.clone(),
        source,
    })?;
    // The footer as bounded when it was first read, and no page decoded that is over the
    // bound.
    let metadata = parquet_bounds::load(&file).map_err(read_error)?;
    parquet_bounds::check_pages(&file, metadata.metadata()).map_err(read_error)?;
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata)
        .with_batch_size(REWRITE_BATCH_ROWS)
        .build()
        .map_err(|e| read_error(e.to_string()))?;
    let mut hasher: Option<RowHasher> = None;
    let mut total_bytes = 0u64;
    let mut all_hashes = Vec::new();
    let result = (|| {
        for batch in reader {
            if interrupted.load(Ordering::Relaxed) {
                return Err(ConvertError::Interrupted(crate::interrupt::Interrupted));
            }
            let batch = batch.map_err(|e| read_error(e.to_string()))?;
            let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                .map_err(|e| read_error(e.to_string()))?;
            if hasher.is_none() {
                hasher = Some(
                    RowHasher::new(&schema)
                        .map_err(|e| read_error(format!("cannot hash its rows: {e}")))?,
                );
            }
            let (row_bytes, row_hashes) = hasher
                .as_ref()
                .expect("made above")
                .hash(&batch)
                .map_err(|e| read_error(format!("cannot hash its rows: {e}")))?;
            total_bytes += row_bytes.iter().sum::<u64>();
            all_hashes.extend_from_slice(&row_hashes);
            writer
                .write(&batch, &row_bytes, &row_hashes)
                .map_err(write_error)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok((
            writer.finish().map_err(write_error)?,
            total_bytes,
            all_hashes,
        )),
        Err(error) => {
            writer.discard();
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::Field;

    fn footer(name: &str, fields: Vec<Field>) -> Footer {
        Footer {
            path: PathBuf::from(name),
            schema: Arc::new(Schema::new(fields)),
            huggingface: None,
            num_rows: 10,
            uncompressed: 1_000,
            largest_row_group: 1_000,
            file_size: 500,
        }
    }

    #[test]
    fn the_layout_rules_send_big_files_and_row_groups_to_the_writer() {
        let options = Options {
            max_shard_bytes: 500_000_000,
            codec: shards::Codec::Snappy,
            conflicts_as_json: false,
            rewrite: false,
        };
        let mut file = footer("a.parquet", vec![Field::new("id", DataType::Int64, true)]);
        assert_eq!(broken_rule(&file, &options), None);
        file.uncompressed = 500_000_001;
        let reason = broken_rule(&file, &options).unwrap();
        assert!(reason.contains("--max-shard-size"), "{reason}");
        file.uncompressed = 300_000_000;
        file.largest_row_group = shards::ROW_GROUP_BYTES + 1;
        let reason = broken_rule(&file, &options).unwrap();
        assert!(reason.contains("row group"), "{reason}");
    }

    #[test]
    fn schemas_are_compared_as_datasets_reads_them() {
        let list = |name: &str, t: DataType, nullable| {
            DataType::List(Arc::new(Field::new(name, t, nullable)))
        };
        let a = footer(
            "a.parquet",
            vec![
                Field::new("id", DataType::Int64, false),
                Field::new("text", DataType::Utf8, true),
                Field::new("tags", list("element", DataType::Utf8, true), true),
            ],
        );
        let b = footer(
            "b.parquet",
            vec![
                Field::new("id", DataType::Int64, true),
                Field::new(
                    "text",
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::LargeUtf8)),
                    true,
                ),
                Field::new("tags", list("item", DataType::Utf8View, false), false),
            ],
        );
        assert_eq!(schema_difference(&a, &b), None);
        let c = footer(
            "c.parquet",
            vec![
                Field::new("id", DataType::Int64, true),
                Field::new("text", DataType::Int64, true),
            ],
        );
        let difference = schema_difference(&a, &c).unwrap();
        assert_eq!(
            difference,
            "column `text` is string in a.parquet but int64 in c.parquet"
        );
    }
}
