//! The `datasets` feature model: how a column's type is described in the `huggingface` Parquet
//! metadata (`{"info": {"features": …}}`, datasets ≥ 4 form) and in the card's `dataset_info`.

use arrow_schema::{DataType, Field, Fields, Schema};
use serde_json::{Map, Value, json};

/// One column type, as `datasets` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// A scalar: `dtype` is `string`, `int64`, `float64`, `bool` or `null`.
    Value(&'static str),
    /// A variable-length list (`_type: List`).
    List(Box<Feature>),
    /// A struct: named sub-features in order.
    Struct(Vec<(String, Feature)>),
}

impl Feature {
    pub fn from_data_type(data_type: &DataType) -> Feature {
        match data_type {
            DataType::Utf8 => Feature::Value("string"),
            DataType::LargeUtf8 => Feature::Value("large_string"),
            DataType::Int64 => Feature::Value("int64"),
            DataType::Float64 => Feature::Value("float64"),
            DataType::Boolean => Feature::Value("bool"),
            DataType::Null => Feature::Value("null"),
            DataType::List(item) => {
                Feature::List(Box::new(Feature::from_data_type(item.data_type())))
            }
            DataType::Struct(fields) => Feature::Struct(struct_features(fields)),
            other => unreachable!("hf-relay never builds columns of type {other}"),
        }
    }

    /// The JSON form of `datasets.Features.to_dict()` for this feature.
    pub fn to_json(&self) -> Value {
        match self {
            Feature::Value(dtype) => json!({"dtype": dtype, "_type": "Value"}),
            Feature::List(item) => json!({"feature": item.to_json(), "_type": "List"}),
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
            Feature::List(item) => match item.as_ref() {
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
