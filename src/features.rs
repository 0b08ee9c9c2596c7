//! The `datasets` feature model: how a column's type is described in the `huggingface` Parquet
//! metadata (`{"info": {"features": …}}`, datasets ≥ 4 form) and in the card's `dataset_info`.

use std::sync::Mutex;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use serde_json::{Map, Value, json};

/// One column type, as `datasets` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// A scalar: `dtype` as `datasets` names it (`string`, `int64`, `float32`, `date32`,
    /// `timestamp[us, tz=UTC]`, …).
    Value(&'static str),
    /// A variable-length list (`_type: List`).
    List(Box<Feature>),
    /// A list with 64-bit offsets (`_type: LargeList`).
    LargeList(Box<Feature>),
    /// A struct: named sub-features in order.
    Struct(Vec<(String, Feature)>),
}

impl Feature {
    pub fn from_data_type(data_type: &DataType) -> Feature {
        Feature::try_from_data_type(data_type)
            .unwrap_or_else(|other| unreachable!("hf-relay never builds columns of type {other}"))
    }

    /// The feature `datasets.Features.from_arrow_schema` gives an Arrow type, or the (inner)
    /// type it has no feature for (maps, intervals, unions, fixed-size lists, views of binary…).
    pub fn try_from_data_type(data_type: &DataType) -> Result<Feature, DataType> {
        let value = |dtype: &str| Ok(Feature::Value(intern_dtype(dtype)));
        let unit = |unit: &TimeUnit| match unit {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        };
        match data_type {
            DataType::Null => value("null"),
            DataType::Boolean => value("bool"),
            DataType::Int8 => value("int8"),
            DataType::Int16 => value("int16"),
            DataType::Int32 => value("int32"),
            DataType::Int64 => value("int64"),
            DataType::UInt8 => value("uint8"),
            DataType::UInt16 => value("uint16"),
            DataType::UInt32 => value("uint32"),
            DataType::UInt64 => value("uint64"),
            DataType::Float16 => value("float16"),
            DataType::Float32 => value("float32"),
            DataType::Float64 => value("float64"),
            DataType::Utf8 => value("string"),
            DataType::LargeUtf8 => value("large_string"),
            DataType::Utf8View => value("string_view"),
            DataType::Binary => value("binary"),
            DataType::LargeBinary => value("large_binary"),
            DataType::FixedSizeBinary(n) => value(&format!("fixed_size_binary[{n}]")),
            DataType::Date32 => value("date32"),
            DataType::Date64 => value("date64"),
            DataType::Timestamp(u, None) => value(&format!("timestamp[{}]", unit(u))),
            DataType::Timestamp(u, Some(tz)) => value(&format!("timestamp[{}, tz={tz}]", unit(u))),
            DataType::Time32(u) => value(&format!("time32[{}]", unit(u))),
            DataType::Time64(u) => value(&format!("time64[{}]", unit(u))),
            DataType::Duration(u) => value(&format!("duration[{}]", unit(u))),
            DataType::Decimal128(p, s) => value(&format!("decimal128({p}, {s})")),
            DataType::Decimal256(p, s) => value(&format!("decimal256({p}, {s})")),
            // `datasets` describes a dictionary column by its values.
            DataType::Dictionary(_, values) => Feature::try_from_data_type(values),
            DataType::List(item) => Ok(Feature::List(Box::new(Feature::try_from_data_type(
                item.data_type(),
            )?))),
            DataType::LargeList(item) => Ok(Feature::LargeList(Box::new(
                Feature::try_from_data_type(item.data_type())?,
            ))),
            DataType::Struct(fields) => {
                let mut features = Vec::with_capacity(fields.len());
                for field in fields {
                    features.push((
                        field.name().clone(),
                        Feature::try_from_data_type(field.data_type())?,
                    ));
                }
                Ok(Feature::Struct(features))
            }
            other => Err(other.clone()),
        }
    }

    /// The feature of `datasets.Features.to_dict()` JSON (the `huggingface` metadata), for the
    /// forms this model holds: `Value`, `List`, `LargeList`, a `Sequence` of a value or list,
    /// and structs. `None` for anything else (`ClassLabel`, `Image`, fixed-length lists, …).
    pub fn from_json(value: &Value) -> Option<Feature> {
        let map = value.as_object()?;
        match map.get("_type").and_then(Value::as_str) {
            Some("Value") => Some(Feature::Value(intern_dtype(map.get("dtype")?.as_str()?))),
            Some(kind @ ("List" | "LargeList" | "Sequence")) => {
                if map
                    .get("length")
                    .and_then(Value::as_i64)
                    .is_some_and(|n| n != -1)
                {
                    return None;
                }
                let item = map.get("feature")?;
                // A `Sequence` of a dict is a struct of lists in `datasets`: not this model.
                if kind == "Sequence" && item.get("_type").is_none() {
                    return None;
                }
                let item = Box::new(Feature::from_json(item)?);
                Some(if kind == "LargeList" {
                    Feature::LargeList(item)
                } else {
                    Feature::List(item)
                })
            }
            Some(_) => None,
            None => {
                let mut fields = Vec::with_capacity(map.len());
                for (name, feature) in map {
                    fields.push((name.clone(), Feature::from_json(feature)?));
                }
                Some(Feature::Struct(fields))
            }
        }
    }

    /// The feature with `large_string`/`string_view` read as `string` and `large_binary` as
    /// `binary`: `datasets` casts between them when it reads files with the card's features,
    /// so Parquet files that differ only so are one dataset (see [`crate::convert::adopt`]).
    pub fn ignoring_offset_width(&self) -> Feature {
        match self {
            Feature::Value("large_string" | "string_view") => Feature::Value("string"),
            Feature::Value("large_binary") => Feature::Value("binary"),
            Feature::Value(dtype) => Feature::Value(dtype),
            Feature::List(item) => Feature::List(Box::new(item.ignoring_offset_width())),
            Feature::LargeList(item) => Feature::LargeList(Box::new(item.ignoring_offset_width())),
            Feature::Struct(fields) => Feature::Struct(
                fields
                    .iter()
                    .map(|(name, f)| (name.clone(), f.ignoring_offset_width()))
                    .collect(),
            ),
        }
    }

    /// The JSON form of `datasets.Features.to_dict()` for this feature.
    pub fn to_json(&self) -> Value {
        match self {
            Feature::Value(dtype) => json!({"dtype": dtype, "_type": "Value"}),
            Feature::List(item) => json!({"feature": item.to_json(), "_type": "List"}),
            Feature::LargeList(item) => json!({"feature": item.to_json(), "_type": "LargeList"}),
            Feature::Struct(fields) => {
                let mut map = Map::new();
                for (name, feature) in fields {
                    map.insert(name.clone(), feature.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// A short human-readable type, for the card's field table: `string`, `list<string>`,
    /// `struct{a: int64, …}`, `list<struct>`.
    pub fn display_type(&self) -> String {
        match self {
            Feature::Value(dtype) => (*dtype).to_string(),
            Feature::List(item) | Feature::LargeList(item) => match item.as_ref() {
                Feature::Struct(_) => "list<struct>".to_string(),
                other => format!("list<{}>", other.display_type()),
            },
            Feature::Struct(_) => "struct".to_string(),
        }
    }
}

/// The top-level features of a schema, in column order.
pub fn schema_features(schema: &Schema) -> Vec<(String, Feature)> {
    struct_features(schema.fields())
}

fn struct_features(fields: &Fields) -> Vec<(String, Feature)> {
    fields
        .iter()
        .map(|field: &std::sync::Arc<Field>| {
            (
                field.name().clone(),
                Feature::from_data_type(field.data_type()),
            )
        })
        .collect()
}

/// The value of the `huggingface` key in the Parquet/Arrow schema metadata.
pub fn huggingface_metadata(features: &[(String, Feature)]) -> String {
    let mut map = Map::new();
    for (name, feature) in features {
        map.insert(name.clone(), feature.to_json());
    }
    json!({"info": {"features": Value::Object(map)}}).to_string()
}

/// The features in a `huggingface` metadata value (`{"info": {"features": …}}`, or the older
/// top-level `{"features": …}`), when this model holds every one of them.
pub fn features_of_metadata(text: &str) -> Option<Vec<(String, Feature)>> {
    let value: Value = serde_json::from_str(text).ok()?;
    let features = value
        .get("info")
        .and_then(|info| info.get("features"))
        .or_else(|| value.get("features"))?
        .as_object()?;
    features
        .iter()
        .map(|(name, feature)| Some((name.clone(), Feature::from_json(feature)?)))
        .collect()
}

/// `Feature::Value` holds a `&'static str`; dtypes outside the usual set are interned once.
pub fn intern_dtype(dtype: &str) -> &'static str {
    const KNOWN: [&str; 22] = [
        "string",
        "large_string",
        "int64",
        "float64",
        "bool",
        "null",
        "int8",
        "int16",
        "int32",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "binary",
        "large_binary",
        "date32",
        "date64",
        "image",
        "audio",
        "string_view",
    ];
    if let Some(known) = KNOWN.iter().find(|k| **k == dtype) {
        return known;
    }
    static INTERNED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut interned = INTERNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = interned.iter().find(|k| **k == dtype) {
        return found;
    }
    let leaked: &'static str = Box::leak(dtype.to_string().into_boxed_str());
    interned.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The dtypes `datasets.Features.from_arrow_schema` (datasets 5.2) gives these Arrow types.
    #[test]
    fn arrow_types_map_to_the_dtypes_datasets_infers() {
        let item = |t: DataType| Arc::new(Field::new("item", t, true));
        let cases = [
            (
                DataType::UInt16,
                json!({"dtype": "uint16", "_type": "Value"}),
            ),
            (
                DataType::Float32,
                json!({"dtype": "float32", "_type": "Value"}),
            ),
            (
                DataType::Date32,
                json!({"dtype": "date32", "_type": "Value"}),
            ),
            (
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                json!({"dtype": "timestamp[ns, tz=UTC]", "_type": "Value"}),
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, None),
                json!({"dtype": "timestamp[us]", "_type": "Value"}),
            ),
            (
                DataType::Decimal128(10, 2),
                json!({"dtype": "decimal128(10, 2)", "_type": "Value"}),
            ),
            (
                DataType::FixedSizeBinary(4),
                json!({"dtype": "fixed_size_binary[4]", "_type": "Value"}),
            ),
            (
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                json!({"dtype": "string", "_type": "Value"}),
            ),
            (
                DataType::LargeList(item(DataType::Int64)),
                json!({"feature": {"dtype": "int64", "_type": "Value"}, "_type": "LargeList"}),
            ),
        ];
        for (data_type, expected) in cases {
            let feature = Feature::try_from_data_type(&data_type).unwrap();
            assert_eq!(feature.to_json(), expected, "{data_type}");
            assert_eq!(Feature::from_json(&expected), Some(feature), "{data_type}");
        }
        let map = DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Int64, true),
                ])),
                false,
            )),
            false,
        );
        assert!(Feature::try_from_data_type(&map).is_err());
        assert!(
            Feature::try_from_data_type(&DataType::List(item(DataType::Interval(
                arrow_schema::IntervalUnit::MonthDayNano
            ))))
            .is_err()
        );
    }

    #[test]
    fn huggingface_metadata_outside_the_model_is_not_taken() {
        let label =
            r#"{"info": {"features": {"label": {"names": ["a", "b"], "_type": "ClassLabel"}}}}"#;
        assert_eq!(features_of_metadata(label), None);
        let plain = r#"{"info": {"features": {"id": {"dtype": "int64", "_type": "Value"}}}}"#;
        assert_eq!(
            features_of_metadata(plain),
            Some(vec![("id".to_string(), Feature::Value("int64"))])
        );
    }
}
