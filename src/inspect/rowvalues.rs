//! Rows of a Parquet shard as a person reads them: each value as JSON (the form the JSONL
//! input had), fields compared recursively with their paths (`agent_responses[2].text`), and
//! long values shortened with their length kept, so a row diff or `textconv` stays bounded
//! whatever the data holds.

use arrow_array::cast::AsArray as _;
use arrow_array::types::{
    Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use serde::Serialize;
use serde_json::{Map, Value};

/// How many characters of a value's JSON text are kept when it is shown.
pub const SHOWN_CHARS: usize = 200;
/// How many characters before the first difference a changed value is shown from.
const DIFF_CONTEXT: usize = 20;

/// Row `i` of `batch` as a JSON object, columns in the schema's order.
pub fn row_json(batch: &RecordBatch, i: usize) -> Map<String, Value> {
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| (field.name().clone(), value_json(column.as_ref(), i)))
        .collect()
}

/// The value at `i` as JSON; types JSON has no form for are named (`<Decimal128(10, 2)>`).
pub fn value_json(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    macro_rules! number {
        ($t:ty) => {
            Value::from(array.as_primitive::<$t>().value(i))
        };
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => number!(Int8Type),
        DataType::Int16 => number!(Int16Type),
        DataType::Int32 => number!(Int32Type),
        DataType::Int64 => number!(Int64Type),
        DataType::UInt8 => number!(UInt8Type),
        DataType::UInt16 => number!(UInt16Type),
        DataType::UInt32 => number!(UInt32Type),
        DataType::UInt64 => number!(UInt64Type),
        DataType::Float16 => float(f64::from(array.as_primitive::<Float16Type>().value(i))),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Date32 => number!(Date32Type),
        DataType::Date64 => number!(Date64Type),
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Value::from(array.as_string::<i64>().value(i)),
        DataType::Utf8View => Value::from(array.as_string_view().value(i)),
        DataType::Binary => bytes(array.as_binary::<i32>().value(i)),
        DataType::LargeBinary => bytes(array.as_binary::<i64>().value(i)),
        DataType::BinaryView => bytes(array.as_binary_view().value(i)),
        DataType::List(_) => list(array.as_list::<i32>().value(i).as_ref()),
        DataType::LargeList(_) => list(array.as_list::<i64>().value(i).as_ref()),
        DataType::FixedSizeList(..) => list(array.as_fixed_size_list().value(i).as_ref()),
        DataType::Struct(fields) => {
            let array = array.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(array.columns())
                    .map(|(field, column)| (field.name().clone(), value_json(column.as_ref(), i)))
                    .collect(),
            )
        }
        other => Value::String(format!("<{other}>")),
    }
}

fn float(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or_else(|| Value::String(x.to_string()), Value::Number)
}

fn bytes(data: &[u8]) -> Value {
    Value::String(format!("<{} bytes>", data.len()))
}

fn list(values: &dyn Array) -> Value {
    Value::Array((0..values.len()).map(|i| value_json(values, i)).collect())
}

/// A value as shown: itself when its JSON text is short, else the start of that text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub value: Value,
    /// Characters in the value's full JSON text.
    pub chars: usize,
    /// Whether `value` is the shortened text rather than the value.
    pub truncated: bool,
}

impl Shown {
    pub fn new(value: &Value) -> Shown {
        let text = value.to_string();
        let chars = text.chars().count();
        if chars <= SHOWN_CHARS {
            return Shown {
                value: value.clone(),
                chars,
                truncated: false,
            };
        }
        Shown {
            value: Value::String(shorten(&text, SHOWN_CHARS)),
            chars,
            truncated: true,
        }
    }

    /// Two versions of a changed value, each shown from a little before the first character
    /// where their JSON texts differ (`…` marks what was left out), so that an edit at the
    /// end of a long text is seen rather than hidden behind the start both share.
    pub fn pair(old: &Value, new: &Value) -> (Shown, Shown) {
        let (a, b) = (old.to_string(), new.to_string());
        let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        if common <= DIFF_CONTEXT {
            return (Shown::new(old), Shown::new(new));
        }
        let from = common - DIFF_CONTEXT;
        let window = |text: &str| {
            let start = text.char_indices().nth(from).map_or(text.len(), |(i, _)| i);
            Shown {
                value: Value::String(format!("…{}", shorten(&text[start..], SHOWN_CHARS))),
                chars: text.chars().count(),
                truncated: true,
            }
        };
        (window(&a), window(&b))
    }

    /// The value as one line of at most `max` characters (plus the length when shortened).
    pub fn line(&self, max: usize) -> String {
        let text = match &self.value {
            Value::String(text) if self.truncated => text.clone(),
            value => value.to_string(),
        };
        if self.truncated || text.chars().count() > max {
            format!("{} ({} chars)", shorten(&text, max), self.chars)
        } else {
            text
        }
    }
}

/// The first `max` characters of `text` and `…` when it is longer.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// One field that differs between two versions of a row; `None` where the path is absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub old: Option<Shown>,
    pub new: Option<Shown>,
}

/// The leaves where `old` and `new` differ: objects by key, arrays by index.
pub fn field_changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    compare_maps("", old, new, &mut out);
    out
}

fn compare_maps(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    for (key, was) in old {
        match new.get(key) {
            Some(now) => compare(&join(key), was, now, out),
            None => out.push(FieldChange {
                path: join(key),
                old: Some(Shown::new(was)),
                new: None,
            }),
        }
    }
    for (key, now) in new {
        if !old.contains_key(key) {
            out.push(FieldChange {
                path: join(key),
                old: None,
                new: Some(Shown::new(now)),
            });
        }
    }
}

fn compare(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => compare_maps(path, a, b, out),
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let at = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => compare(&at, x, y, out),
                    (x, y) => out.push(FieldChange {
                        path: at,
                        old: x.map(Shown::new),
                        new: y.map(Shown::new),
                    }),
                }
            }
        }
        _ => {
            let (old, new) = Shown::pair(old, new);
            out.push(FieldChange {
                path: path.to_string(),
                old: Some(old),
                new: Some(new),
            })
        }
    }
}

/// How many items of a list are kept when a row is shown whole.
pub const SHOWN_ITEMS: usize = 50;

/// A whole row as shown: its structure kept, each long string replaced by its start and its
/// length (`"Dear…" (5210 chars)`), each long list by its first items and a count.
pub fn shown_row(row: &Map<String, Value>) -> Map<String, Value> {
    row.iter()
        .map(|(key, value)| (key.clone(), shown_value(value)))
        .collect()
}

fn shown_value(value: &Value) -> Value {
    match value {
        Value::String(text) => {
            let chars = text.chars().count();
            if chars <= SHOWN_CHARS {
                value.clone()
            } else {
                Value::String(format!("{} ({chars} chars)", shorten(text, SHOWN_CHARS)))
            }
        }
        Value::Array(items) => {
            let mut shown: Vec<Value> = items.iter().take(SHOWN_ITEMS).map(shown_value).collect();
            if items.len() > SHOWN_ITEMS {
                shown.push(Value::String(format!("… ({} items)", items.len())));
            }
            Value::Array(shown)
        }
        Value::Object(map) => Value::Object(shown_row(map)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_changes_are_named_by_path() {
        let old = json!({"id": "a", "r": [{"f": 1, "t": "x"}, {"f": 2}], "s": {"k": true}});
        let new =
            json!({"id": "a", "r": [{"f": 1, "t": "y"}, {"f": 2}, {"f": 3}], "s": {"k": false}});
        let changes = field_changes(old.as_object().unwrap(), new.as_object().unwrap());
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["r[0].t", "r[2]", "s.k"]);
        assert_eq!(changes[1].old, None);
        assert_eq!(changes[2].new.as_ref().unwrap().value, json!(false));
    }

    #[test]
    fn a_change_at_the_end_of_a_long_text_is_shown_where_it_is() {
        let start = "word ".repeat(60);
        let old = Value::String(format!("{start}end"));
        let new = Value::String(format!("{start}end (edited)"));
        let changes = field_changes(
            json!({"t": old}).as_object().unwrap(),
            json!({"t": new}).as_object().unwrap(),
        );
        let (old, new) = (
            changes[0].old.as_ref().unwrap(),
            changes[0].new.as_ref().unwrap(),
        );
        assert_eq!(old.line(60), "…d word word word end\" (305 chars)");
        assert_eq!(new.line(60), "…d word word word end (edited)\" (314 chars)");
        // A change near the start is shown from the start.
        let (a, _) = Shown::pair(&json!("abc"), &json!("abd"));
        assert_eq!(a.line(60), "\"abc\"");
    }

    #[test]
    fn long_values_are_shortened_with_their_length() {
        let long = Value::String("é".repeat(500));
        let shown = Shown::new(&long);
        assert!(shown.truncated);
        assert_eq!(shown.chars, 502);
        assert_eq!(shown.line(10), format!("\"{}… (502 chars)", "é".repeat(9)));
        assert_eq!(Shown::new(&json!(3)).line(10), "3");
    }
}
