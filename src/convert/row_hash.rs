//! A row of an Arrow batch hashed through its `arrow-row` encoding: the encoding's size and
//! XXH3-128 place a rewritten Parquet file's shard boundaries (`adopt`), the hash aligns two
//! versions' rows (`inspect::rowdiff`), and every build records it per row for the next
//! build's row delta, so all three read rows the same way: by value, whatever text or file
//! they came from.

use std::path::Path;

use arrow_array::RecordBatch;
use arrow_row::{RowConverter, SortField};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
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

/// The row hashes of a Parquet file of ours, read as rows of `schema` (the schema it was
/// written with).
pub fn hash_parquet_file(path: &Path, schema: &SchemaRef) -> anyhow::Result<Vec<u128>> {
    let file = std::fs::File::open(path)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(8192)
        .build()?;
    let hasher = RowHasher::new(schema)?;
    let mut hashes = Vec::new();
    for batch in reader {
        let batch = RecordBatch::try_new(schema.clone(), batch?.columns().to_vec())?;
        hashes.extend(hasher.hash(&batch)?.1);
    }
    Ok(hashes)
}
