//! Whole-input schema inference: one pass that widens types as it meets them.
//!
//! Rules: null (or an empty list's item) and a typed value resolve to the typed value; int
//! widens to float; keys keep first-seen order, including a key first seen on the last line;
//! strings stay strings. Anything else is a conflict: an error, or (with
//! `--on-type-conflict string`) a column of JSON text.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};
use indexmap::IndexMap;

use super::error::join_path;

/// The inferred type of one JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Only nulls seen so far (or nothing: an empty list's items).
    Null,
    Bool,
    Int,
    Float,
    Str,
    /// Values of conflicting types, stored as their JSON text.
    Json,
    List(Box<Ty>),
    Struct(IndexMap<String, Ty>),
}

/// A conflict found while merging: the path and the two type names.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub path: String,
    pub found: String,
    pub expected: String,
}

impl Ty {
    /// A short name for error messages: `string`, `list<int64>`, `object`.
    pub fn describe(&self) -> String {
        match self {
            Ty::Null => "null".into(),
            Ty::Bool => "bool".into(),
            Ty::Int => "int64".into(),
            Ty::Float => "float64".into(),
            Ty::Str => "string".into(),
            Ty::Json => "JSON text".into(),
            Ty::List(item) => match item.as_ref() {
                Ty::Null => "list".into(),
                other => format!("list<{}>", other.describe()),
            },
            Ty::Struct(_) => "object".into(),
        }
    }
}

/// Merges `new` into `acc` (the type seen so far). With `conflicts_as_json`, irreconcilable
/// types become [`Ty::Json`] instead of an error.
pub fn merge(acc: Ty, new: Ty, path: &str, conflicts_as_json: bool) -> Result<Ty, Conflict> {
    Ok(match (acc, new) {
        (Ty::Null, other) | (other, Ty::Null) => other,
        (Ty::Json, _) | (_, Ty::Json) => Ty::Json,
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
        (Ty::List(a), Ty::List(b)) => {
            let item_path = format!("{path}[]");
            Ty::List(Box::new(merge(*a, *b, &item_path, conflicts_as_json)?))
        }
        (Ty::Struct(mut a), Ty::Struct(b)) => {
            for (key, ty) in b {
                let field_path = join_path(path, &key);
                match a.get_mut(&key) {
                    Some(slot) => {
                        let old = std::mem::replace(slot, Ty::Null);
                        *slot = merge(old, ty, &field_path, conflicts_as_json)?;
                    }
                    None => {
                        a.insert(key, ty);
                    }
                }
            }
            Ty::Struct(a)
        }
        (a, b) if a == b => a,
        (a, b) => {
            if conflicts_as_json {
                Ty::Json
            } else {
                return Err(Conflict {
                    path: if path.is_empty() {
                        "<root>".into()
                    } else {
                        path.to_string()
                    },
                    found: b.describe(),
                    expected: a.describe(),
                });
            }
        }
    })
}

/// The name of list items, as `datasets`/pyarrow write them.
pub const LIST_ITEM_NAME: &str = "element";

impl Ty {
    /// The Arrow type for this inferred type. An object that never had a key is stored as JSON
    /// text (Parquet cannot hold an empty group).
    pub fn data_type(&self) -> DataType {
        match self {
            Ty::Null => DataType::Null,
            Ty::Bool => DataType::Boolean,
            Ty::Int => DataType::Int64,
            Ty::Float => DataType::Float64,
            Ty::Str | Ty::Json => DataType::Utf8,
            Ty::List(item) => {
                DataType::List(Arc::new(Field::new(LIST_ITEM_NAME, item.data_type(), true)))
            }
            Ty::Struct(fields) if fields.is_empty() => DataType::Utf8,
            Ty::Struct(fields) => DataType::Struct(struct_fields(fields)),
        }
    }
}

/// Nesting pyarrow (and so `datasets`) can still read: it imports Arrow schemas up to 64
/// levels deep and Parquet schemas up to 100 levels, where a list takes two.
pub const MAX_ARROW_DEPTH: usize = 63;
const MAX_PARQUET_DEPTH: usize = 100;

/// One step of a path into a record: a key, or the items of a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Item,
}

/// A field nested deeper than the `datasets` readers accept.
#[derive(Debug, Clone, PartialEq)]
pub struct TooDeep {
    /// `a.b[].c`, for messages.
    pub path: String,
    pub steps: Vec<Step>,
}

/// Refuses a schema nested deeper than the `datasets` readers accept, naming the deepest field.
///
/// The Parquet count includes the schema's root group, as pyarrow counts it when it reads the
/// file back.
pub fn check_depth(root: &Ty) -> Result<(), TooDeep> {
    fn walk(ty: &Ty, steps: &mut Vec<Step>, arrow: usize, parquet: usize) -> bool {
        if arrow > MAX_ARROW_DEPTH || parquet > MAX_PARQUET_DEPTH {
            return true;
        }
        match ty {
            Ty::List(item) => {
                steps.push(Step::Item);
                if walk(item, steps, arrow + 1, parquet + 2) {
                    return true;
                }
                steps.pop();
                false
            }
            Ty::Struct(fields) => fields.iter().any(|(name, child)| {
                steps.push(Step::Key(name.clone()));
                if walk(child, steps, arrow + 1, parquet + 1) {
                    return true;
                }
                steps.pop();
                false
            }),
            _ => false,
        }
    }
    let Ty::Struct(fields) = root else {
        return Ok(());
    };
    for (name, child) in fields {
        let mut steps = vec![Step::Key(name.clone())];
        if walk(child, &mut steps, 1, 2) {
            return Err(TooDeep {
                path: path_text(&steps),
                steps,
            });
        }
    }
    Ok(())
}

/// `a.b[].c` for the steps `a`, `b`, item, `c`.
pub fn path_text(steps: &[Step]) -> String {
    let mut path = String::new();
    for step in steps {
        match step {
            Step::Item => path.push_str("[]"),
            Step::Key(key) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
        }
    }
    path
}

/// Whether a record reaches the end of `steps` with a value that is not null.
pub fn reaches(value: &serde_json::Value, steps: &[Step]) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return !value.is_null();
    };
    match (step, value) {
        (Step::Key(key), serde_json::Value::Object(map)) => {
            map.get(key).is_some_and(|child| reaches(child, rest))
        }
        (Step::Item, serde_json::Value::Array(items)) => {
            items.iter().any(|item| reaches(item, rest))
        }
        _ => false,
    }
}

fn struct_fields(fields: &IndexMap<String, Ty>) -> Fields {
    fields
        .iter()
        .map(|(name, ty)| Field::new(name, ty.data_type(), true))
        .collect()
}

/// The Arrow schema of the records (the top-level type is always an object).
pub fn schema_of(root: &Ty) -> Schema {
    match root {
        Ty::Struct(fields) => Schema::new(struct_fields(fields)),
        other => unreachable!("records are objects, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::stream::{LineError, Slot, TypeSeed, parse_line_with};
    use serde_json::{Value, json};

    fn ty(value: Value) -> Ty {
        ty_with(value, false).unwrap()
    }

    fn ty_with(value: Value, conflicts_as_json: bool) -> Result<Ty, LineError> {
        let line = value.to_string();
        let mut acc = Ty::Null;
        let slot = Slot::new(&line);
        let seed = TypeSeed {
            acc: &mut acc,
            slot: &slot,
            conflicts_as_json,
        };
        parse_line_with(&line, seed, &slot)?;
        Ok(acc)
    }

    fn merged(values: &[Value]) -> Result<Ty, Conflict> {
        values
            .iter()
            .try_fold(Ty::Null, |acc, v| merge(acc, ty(v.clone()), "", false))
    }

    #[test]
    fn keeps_first_seen_order_and_late_keys() {
        let t = merged(&[json!({"b": 1, "a": "x"}), json!({"a": "y", "z": true})]).unwrap();
        let Ty::Struct(fields) = t else { panic!() };
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["b", "a", "z"]);
    }

    #[test]
    fn null_and_empty_list_resolve_to_typed() {
        let t = merged(&[json!({"l": [], "n": null}), json!({"l": ["s"], "n": 2.5})]).unwrap();
        assert!(
            matches!(schema_of(&t).field(0).data_type(), DataType::List(item) if item.data_type() == &DataType::Utf8 && item.name() == "element")
        );
        assert_eq!(schema_of(&t).field(1).data_type(), &DataType::Float64);
    }

    #[test]
    fn int_widens_to_float() {
        let t = merged(&[json!({"x": 1}), json!({"x": 1.5}), json!({"x": 2})]).unwrap();
        assert_eq!(schema_of(&t).field(0).data_type(), &DataType::Float64);
    }

    #[test]
    fn conflict_names_path_and_types() {
        let err = merged(&[
            json!({"agent_responses": [{"friction_moments": ["a"]}]}),
            json!({"agent_responses": [{"friction_moments": "oops"}]}),
        ])
        .unwrap_err();
        assert_eq!(err.path, "agent_responses[].friction_moments");
        assert_eq!(err.found, "string");
        assert_eq!(err.expected, "list<string>");
    }

    #[test]
    fn conflicts_as_json_text() {
        let a = ty(json!({"x": "s"}));
        let b = ty(json!({"x": {"k": 1}}));
        let t = merge(merge(Ty::Null, a, "", true).unwrap(), b, "", true).unwrap();
        assert_eq!(
            t,
            Ty::Struct([("x".to_string(), Ty::Json)].into_iter().collect())
        );
    }
}
