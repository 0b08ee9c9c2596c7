//! JSON values → Arrow arrays, following the inferred type, with a per-row size estimate.
//!
//! The size estimate is what `datasets` calls `num_bytes` (the uncompressed Arrow size): 8 bytes
//! per number, 1 per bool, the text plus a 4-byte offset per string, a 4-byte offset per list.
//! It is computed per row, so shard and row-group boundaries depend only on the rows, never on
//! how the input happened to be chunked.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, ListArray, NullArray, RecordBatch, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, SchemaRef};
use serde_json::Value;

use super::infer::Ty;

/// Why a value could not be appended: its JSON path and what was found.
#[derive(Debug)]
pub struct DecodeError {
    pub path: String,
    pub found: String,
    pub expected: String,
}

/// A column being built.
enum ColumnBuilder {
    Null(usize),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
    Json(StringBuilder),
    List {
        field: Arc<Field>,
        offsets: Vec<i32>,
        validity: NullBufferBuilder,
        items: Box<ColumnBuilder>,
    },
    Struct {
        names: Vec<String>,
        fields: arrow_schema::Fields,
        children: Vec<ColumnBuilder>,
        validity: NullBufferBuilder,
    },
}

impl ColumnBuilder {
    fn new(ty: &Ty, data_type: &DataType) -> ColumnBuilder {
        match (ty, data_type) {
            (Ty::Null, _) => ColumnBuilder::Null(0),
            (Ty::Bool, _) => ColumnBuilder::Bool(BooleanBuilder::new()),
            (Ty::Int, _) => ColumnBuilder::Int(Int64Builder::new()),
            (Ty::Float, _) => ColumnBuilder::Float(Float64Builder::new()),
            (Ty::Str, _) => ColumnBuilder::Str(StringBuilder::new()),
            (Ty::Json, _) => ColumnBuilder::Json(StringBuilder::new()),
            (Ty::List(item), DataType::List(field)) => ColumnBuilder::List {
                field: field.clone(),
                offsets: vec![0],
                validity: NullBufferBuilder::new(0),
                items: Box::new(ColumnBuilder::new(item, field.data_type())),
            },
            (Ty::Struct(tys), DataType::Struct(fields)) => ColumnBuilder::Struct {
                names: tys.keys().cloned().collect(),
                fields: fields.clone(),
                children: tys
                    .values()
                    .zip(fields.iter())
                    .map(|(ty, field)| ColumnBuilder::new(ty, field.data_type()))
                    .collect(),
                validity: NullBufferBuilder::new(0),
            },
            (ty, data_type) => unreachable!("type {ty:?} does not match {data_type}"),
        }
    }

    /// Appends a null; returns its size estimate.
    fn append_null(&mut self) -> u64 {
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
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) => {
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

    /// Appends one value; returns its size estimate. `path` is the value's JSON path, used
    /// only in errors.
    fn append(&mut self, value: &Value, path: &mut String) -> Result<u64, DecodeError> {
        if value.is_null() {
            return Ok(self.append_null());
        }
        let mismatch = |path: &String, expected: &str| DecodeError {
            path: path.clone(),
            found: json_kind(value).to_string(),
            expected: expected.to_string(),
        };
        match self {
            ColumnBuilder::Null(_) => Err(mismatch(path, "null")),
            ColumnBuilder::Bool(b) => {
                b.append_value(value.as_bool().ok_or_else(|| mismatch(path, "bool"))?);
                Ok(1)
            }
            ColumnBuilder::Int(b) => {
                b.append_value(value.as_i64().ok_or_else(|| mismatch(path, "int64"))?);
                Ok(8)
            }
            ColumnBuilder::Float(b) => {
                // An int in a float column widens (the inference decided so).
                b.append_value(value.as_f64().ok_or_else(|| mismatch(path, "float64"))?);
                Ok(8)
            }
            ColumnBuilder::Str(b) => {
                let text = value.as_str().ok_or_else(|| mismatch(path, "string"))?;
                b.append_value(text);
                Ok(text.len() as u64 + 4)
            }
            ColumnBuilder::Json(b) => {
                let text = value.to_string();
                b.append_value(&text);
                Ok(text.len() as u64 + 4)
            }
            ColumnBuilder::List {
                offsets,
                validity,
                items,
                ..
            } => {
                let array = value.as_array().ok_or_else(|| mismatch(path, "list"))?;
                let len = path.len();
                path.push_str("[]");
                let mut size = 4;
                for item in array {
                    size += items.append(item, path)?;
                }
                path.truncate(len);
                let last = *offsets.last().expect("offsets start with 0");
                offsets.push(last + array.len() as i32);
                validity.append_non_null();
                Ok(size)
            }
            ColumnBuilder::Struct {
                names,
                children,
                validity,
                ..
            } => {
                let object = value.as_object().ok_or_else(|| mismatch(path, "object"))?;
                let size = append_object(names, children, object, path)?;
                validity.append_non_null();
                Ok(size)
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) => Arc::new(b.finish()),
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
}

/// Appends the fields of one object (missing keys are nulls). A key the schema lacks means the
/// input changed since inference.
fn append_object(
    names: &[String],
    children: &mut [ColumnBuilder],
    object: &serde_json::Map<String, Value>,
    path: &mut String,
) -> Result<u64, DecodeError> {
    let mut size = 0;
    for (name, child) in names.iter().zip(children.iter_mut()) {
        match object.get(name) {
            Some(value) => {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                size += child.append(value, path)?;
                path.truncate(len);
            }
            None => size += child.append_null(),
        }
    }
    if object.len() > names.len() || object.keys().any(|k| !names.contains(k)) {
        let unknown = object
            .keys()
            .find(|k| !names.contains(k))
            .cloned()
            .unwrap_or_default();
        let field_path = if path.is_empty() {
            unknown
        } else {
            format!("{path}.{unknown}")
        };
        return Err(DecodeError {
            path: field_path,
            found: "a new key".into(),
            expected: "the inferred schema".into(),
        });
    }
    Ok(size)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(n) if n.is_u64() => "an integer beyond int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Builds record batches from top-level JSON objects.
pub struct BatchBuilder {
    schema: SchemaRef,
    names: Vec<String>,
    columns: Vec<ColumnBuilder>,
    row_bytes: Vec<u64>,
}

impl BatchBuilder {
    pub fn new(root: &Ty, schema: SchemaRef) -> BatchBuilder {
        let Ty::Struct(fields) = root else {
            unreachable!("records are objects")
        };
        let columns = fields
            .values()
            .zip(schema.fields().iter())
            .map(|(ty, field)| ColumnBuilder::new(ty, field.data_type()))
            .collect();
        BatchBuilder {
            schema,
            names: fields.keys().cloned().collect(),
            columns,
            row_bytes: Vec::new(),
        }
    }

    /// Appends one record. On error the builder must be discarded (columns may be uneven).
    pub fn append(&mut self, object: &serde_json::Map<String, Value>) -> Result<(), DecodeError> {
        let size = append_object(&self.names, &mut self.columns, object, &mut String::new())?;
        self.row_bytes.push(size);
        Ok(())
    }

    /// The batch and each row's size estimate.
    pub fn finish(mut self) -> (RecordBatch, Vec<u64>) {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        let options =
            arrow_array::RecordBatchOptions::new().with_row_count(Some(self.row_bytes.len()));
        let batch = RecordBatch::try_new_with_options(self.schema, arrays, &options)
            .expect("builders follow the schema");
        (batch, self.row_bytes)
    }
}
