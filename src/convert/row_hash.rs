//! A row of an Arrow batch hashed through its `arrow-row` encoding: the encoding's size and
//! XXH3-128 place a rewritten Parquet file's shard boundaries (`adopt`), and the hash aligns
//! two versions' rows (`inspect::rowdiff`), so both read rows the same way.

use arrow_array::RecordBatch;
use arrow_row::{RowConverter, SortField};
use arrow_schema::{ArrowError, Schema};

pub struct RowHasher {
    converter: RowConverter,
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
