//! Arrow column builders following the inferred type, with a per-row size estimate.
//!
//! The size estimate is what `datasets` calls `num_bytes` (the uncompressed Arrow size): 8 bytes
//! per number, 1 per bool, the text plus a 4-byte offset per string, a 4-byte offset per list.
//! It is computed per row, so shard and row-group boundaries depend only on the rows, never on
//! how the input happened to be chunked. Values are appended by the visitors in `stream`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{ArrayRef, ListArray, NullArray, RecordBatch, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, SchemaRef};

use super::infer::Ty;
use super::stream::{LineError, RowSeed, Slot, parse_line_with};

/// A column being built.
pub enum ColumnBuilder {
    Null(usize),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
    Json(StringBuilder),
    /// A nested object that never had a key: Parquet cannot hold an empty group, so its values
    /// are kept as their JSON text (`{}`). A value with keys does not fit.
    EmptyObject(StringBuilder),
    List {
        field: Arc<Field>,
        offsets: Vec<i32>,
        validity: NullBufferBuilder,
        items: Box<ColumnBuilder>,
    },
    Struct {
        fields: Fields,
        /// Field name → position, for appending keys in any order.
        index: HashMap<String, usize>,
        children: Vec<ColumnBuilder>,
        /// Per field, the generation of the object that last set it: detects duplicate keys
        /// and missing ones without clearing anything per row.
        stamps: Vec<u32>,
        generation: u32,
        validity: NullBufferBuilder,
    },
}

/// How many values (and string bytes) each builder of a batch held, in depth-first order: the
/// next batch of the same schema starts with that capacity (plus slack) instead of growing its
/// buffers by doubling, which costs copies and page faults on fresh memory.
pub type Capacities = Vec<(usize, usize)>;

impl ColumnBuilder {
    pub fn new(ty: &Ty, data_type: &DataType) -> ColumnBuilder {
        ColumnBuilder::with_capacities(ty, data_type, &mut [].iter())
    }

    fn with_capacities(
        ty: &Ty,
        data_type: &DataType,
        hints: &mut std::slice::Iter<(usize, usize)>,
    ) -> ColumnBuilder {
        let (items, bytes) = hints.next().map_or((0, 0), |&(items, bytes)| {
            (items + items / 8, bytes + bytes / 8)
        });
        let strings = || StringBuilder::with_capacity(items, bytes);
        match (ty, data_type) {
            (Ty::Null, _) => ColumnBuilder::Null(0),
            (Ty::Bool, _) => ColumnBuilder::Bool(BooleanBuilder::with_capacity(items)),
            (Ty::Int, _) => ColumnBuilder::Int(Int64Builder::with_capacity(items)),
            (Ty::Float, _) => ColumnBuilder::Float(Float64Builder::with_capacity(items)),
            (Ty::Str, _) => ColumnBuilder::Str(strings()),
            (Ty::Json, _) => ColumnBuilder::Json(strings()),
            (Ty::Struct(tys), DataType::Utf8) if tys.is_empty() => {
                ColumnBuilder::EmptyObject(strings())
            }
            (Ty::List(item), DataType::List(field)) => ColumnBuilder::List {
                field: field.clone(),
                offsets: {
                    let mut offsets = Vec::with_capacity(items + 1);
                    offsets.push(0);
                    offsets
                },
                validity: NullBufferBuilder::new(items),
                items: Box::new(ColumnBuilder::with_capacities(
                    item,
                    field.data_type(),
                    hints,
                )),
            },
            (Ty::Struct(tys), DataType::Struct(fields)) => ColumnBuilder::Struct {
                fields: fields.clone(),
                index: tys
                    .keys()
                    .enumerate()
                    .map(|(i, name)| (name.clone(), i))
                    .collect(),
                children: tys
                    .values()
                    .zip(fields.iter())
                    .map(|(ty, field)| ColumnBuilder::with_capacities(ty, field.data_type(), hints))
                    .collect(),
                stamps: vec![0; tys.len()],
                generation: 0,
                validity: NullBufferBuilder::new(items),
            },
            (ty, data_type) => unreachable!("type {ty:?} does not match {data_type}"),
        }
    }

    /// The column's type, for error messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ColumnBuilder::Null(_) => "null",
            ColumnBuilder::Bool(_) => "bool",
            ColumnBuilder::Int(_) => "int64",
            ColumnBuilder::Float(_) => "float64",
            ColumnBuilder::Str(_) => "string",
            ColumnBuilder::Json(_) => "JSON text",
            ColumnBuilder::EmptyObject(_) => "object",
            ColumnBuilder::List { .. } => "list",
            ColumnBuilder::Struct { .. } => "object",
        }
    }

    /// Appends a null; returns its size estimate.
    pub fn append_null(&mut self) -> u64 {
        match self {
            ColumnBuilder::Null(n) => {
                *n += 1;
                0
            }
            ColumnBuilder::Bool(b) => {
                b.append_null();
                1
            }
            ColumnBuilder::Int(b) => {
                b.append_null();
                8
            }
            ColumnBuilder::Float(b) => {
                b.append_null();
                8
            }
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) | ColumnBuilder::EmptyObject(b) => {
                b.append_null();
                4
            }
            ColumnBuilder::List {
                offsets, validity, ..
            } => {
                offsets.push(*offsets.last().expect("offsets start with 0"));
                validity.append_null();
                4
            }
            ColumnBuilder::Struct {
                children, validity, ..
            } => {
                validity.append_null();
                children.iter_mut().map(ColumnBuilder::append_null).sum()
            }
        }
    }

    /// Records this builder's size and its children's, depth-first (see [`Capacities`]).
    fn record_capacities(&self, out: &mut Capacities) {
        match self {
            ColumnBuilder::Null(n) => out.push((*n, 0)),
            ColumnBuilder::Bool(b) => out.push((b.len(), 0)),
            ColumnBuilder::Int(b) => out.push((b.len(), 0)),
            ColumnBuilder::Float(b) => out.push((b.len(), 0)),
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) | ColumnBuilder::EmptyObject(b) => {
                out.push((b.len(), b.values_slice().len()))
            }
            ColumnBuilder::List { offsets, items, .. } => {
                out.push((offsets.len() - 1, 0));
                items.record_capacities(out);
            }
            ColumnBuilder::Struct {
                children, validity, ..
            } => {
                out.push((validity.len(), 0));
                for child in children {
                    child.record_capacities(out);
                }
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) | ColumnBuilder::EmptyObject(b) => {
                Arc::new(b.finish())
            }
            ColumnBuilder::List {
                field,
                offsets,
                validity,
                items,
            } => {
                let offsets = std::mem::replace(offsets, vec![0]);
                Arc::new(ListArray::new(
                    field.clone(),
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    items.finish(),
                    validity.finish(),
                ))
            }
            ColumnBuilder::Struct {
                fields,
                children,
                validity,
                ..
            } => {
                let arrays = children.iter_mut().map(ColumnBuilder::finish).collect();
                Arc::new(StructArray::new(fields.clone(), arrays, validity.finish()))
            }
        }
    }

    fn finish_children(&mut self) -> Vec<ArrayRef> {
        match self {
            ColumnBuilder::Struct { children, .. } => {
                children.iter_mut().map(ColumnBuilder::finish).collect()
            }
            _ => unreachable!("records are objects"),
        }
    }
}

/// Builds record batches from JSON lines.
pub struct BatchBuilder {
    schema: SchemaRef,
    root: ColumnBuilder,
    row_bytes: Vec<u64>,
    /// Each line's XXH3-128 (of its bytes as written): where shard boundaries fall, and what
    /// proves a shard's rows unchanged.
    row_hashes: Vec<u128>,
}

impl BatchBuilder {
    pub fn new(root: &Ty, schema: SchemaRef) -> BatchBuilder {
        BatchBuilder::with_capacities(root, schema, &[])
    }

    /// A builder whose buffers start with the sizes another batch of this schema needed.
    pub fn with_capacities(root: &Ty, schema: SchemaRef, hints: &[(usize, usize)]) -> BatchBuilder {
        let data_type = DataType::Struct(schema.fields().clone());
        let rows = hints.first().map_or(0, |&(rows, _)| rows + rows / 8);
        BatchBuilder {
            root: ColumnBuilder::with_capacities(root, &data_type, &mut hints.iter()),
            schema,
            row_bytes: Vec::with_capacity(rows),
            row_hashes: Vec::with_capacity(rows),
        }
    }

    /// The sizes this batch needed, for [`BatchBuilder::with_capacities`].
    pub fn capacities(&self) -> Capacities {
        let mut out = Vec::new();
        self.root.record_capacities(&mut out);
        out
    }

    /// Appends one line. On error the builder must be discarded (columns may be uneven).
    pub fn append_line(&mut self, line: &str) -> Result<(), LineError> {
        let slot = Slot::new(line);
        let size = parse_line_with(
            line,
            RowSeed {
                root: &mut self.root,
                slot: &slot,
            },
            &slot,
        )?;
        self.row_bytes.push(size);
        self.row_hashes
            .push(twox_hash::XxHash3_128::oneshot(line.as_bytes()));
        Ok(())
    }

    /// The batch, each row's size estimate and each row's line hash.
    pub fn finish(mut self) -> (RecordBatch, Vec<u64>, Vec<u128>) {
        let arrays = self.root.finish_children();
        let options =
            arrow_array::RecordBatchOptions::new().with_row_count(Some(self.row_bytes.len()));
        let batch = RecordBatch::try_new_with_options(self.schema, arrays, &options)
            .expect("builders follow the schema");
        (batch, self.row_bytes, self.row_hashes)
    }
}
