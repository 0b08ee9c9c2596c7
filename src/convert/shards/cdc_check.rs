//! The check for apache/arrow-rs#10929, and the rewrite without chunking of a shard it finds.
//!
//! parquet-rs 60.1 sometimes writes an empty data page (apache/arrow-rs#10929): after each
//! chunk but the last of a write it closes the page, even when there is nothing to close:
//! when the page size or row-count limit closed it on the chunk's last value (hence both
//! limits are lifted: pages end at chunk boundaries only), when a dictionary that outgrew its
//! limit closed it there, or when the chunker puts a boundary before the first value of a
//! write that follows such a close or opens a row group. pyarrow may then read that column
//! chunk as empty. This happens by chance with values of any size (1 shard in 21 of the 1 GB
//! benchmark), and always when the first value of a row group is 1 MiB or more. So every
//! shard is checked when it closes: a page index with two pages starting on the same row is
//! such a page, and that shard is written again without chunking (read back by parquet-rs,
//! which reads it right), with the same row groups. The result depends on the rows only.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use super::{HashingWriter, hex};

/// The same settings without content-defined chunking: for a shard the chunking writer got
/// wrong (see [`Chunked`]).
pub(super) fn unchunked(properties: &WriterProperties) -> WriterProperties {
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

/// Whether a column chunk of the file holds a data page without rows: two pages of its page
/// index start on the same row.
pub(super) fn has_empty_page(metadata: &parquet::file::metadata::ParquetMetaData) -> bool {
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
pub(super) fn rewrite(
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
