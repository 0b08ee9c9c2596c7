//! A row of an Arrow batch hashed through its `arrow-row` encoding: the encoding's size and
//! XXH3-128 place a rewritten Parquet file's shard boundaries (`adopt`), and the hash aligns
//! two versions' rows (`inspect::rowdiff`, and the rows `build`'s row delta must read), so
//! they all compare rows the same way: by value, whatever text or file they came from.

use std::ops::Range;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_row::{RowConverter, SortField};
use arrow_schema::{ArrowError, Schema};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection};
use sha2::{Digest, Sha256};

pub struct RowHasher {
    converter: RowConverter,
}

/// What the hashes of rows of `schema` are, for the record: arrow-row encodings depend on the
/// column types, so hashes of another schema are never compared.
pub fn kind(schema: &Schema) -> String {
    format!(
        "xxh3-128 of each row's arrow-row encoding, schema {}",
        super::shards::hex(&Sha256::digest(format!("{:?}", schema.fields()).as_bytes()))
    )
}

impl RowHasher {
    pub fn new(schema: &Schema) -> Result<RowHasher, ArrowError> {
        let fields = schema
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        Ok(RowHasher {
            converter: RowConverter::new(fields)?,
        })
    }

    /// Each row's encoded size and the XXH3-128 of its encoding, in row order.
    pub fn hash(&self, batch: &RecordBatch) -> Result<(Vec<u64>, Vec<u128>), ArrowError> {
        let rows = self.converter.convert_columns(batch.columns())?;
        let mut sizes = Vec::with_capacity(rows.num_rows());
        let mut hashes = Vec::with_capacity(rows.num_rows());
        for row in rows.iter() {
            let bytes = row.as_ref();
            sizes.push(bytes.len() as u64);
            hashes.push(twox_hash::XxHash3_128::oneshot(bytes));
        }
        Ok((sizes, hashes))
    }
}

/// The rows of a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> anyhow::Result<usize> {
    let file = std::fs::File::open(path)?;
    let metadata = super::parquet_bounds::load(&file).map_err(anyhow::Error::msg)?;
    Ok(usize::try_from(
        metadata.metadata().file_metadata().num_rows(),
    )?)
}

/// The row hashes of the rows `ranges` (sorted, not overlapping, by row index) of a Parquet
/// file, in order. Only the row groups holding them are decoded.
pub fn hash_parquet_rows(path: &Path, ranges: &[Range<usize>]) -> anyhow::Result<Vec<u128>> {
    let file = std::fs::File::open(path)?;
    let metadata = super::parquet_bounds::load(&file).map_err(anyhow::Error::msg)?;
    let rows = usize::try_from(metadata.metadata().file_metadata().num_rows())?;
    let selection = RowSelection::from_consecutive_ranges(ranges.iter().cloned(), rows);
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata)
        .with_batch_size(1024)
        .with_row_selection(selection)
        .build()?;
    let mut hasher: Option<RowHasher> = None;
    let mut hashes = Vec::with_capacity(ranges.iter().map(ExactSizeIterator::len).sum());
    for batch in reader {
        let batch = batch?;
        if hasher.is_none() {
            hasher = Some(RowHasher::new(&batch.schema())?);
        }
        hashes.extend(hasher.as_ref().expect("made above").hash(&batch)?.1);
    }
    Ok(hashes)
}
