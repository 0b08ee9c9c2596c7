//! Column-by-column schema changes, and which of them a `datasets` user would notice.

use std::fmt;

use arrow_schema::{DataType, Schema};

use crate::features::{self, Feature};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaChangeKind {
    Added,
    Removed,
    TypeChanged,
}

/// One column (or nested field: `metadata.tokens`, `agent_responses[].agent_type`) that was
/// added, removed or changed type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaChange {
    pub column: String,
    pub change: SchemaChangeKind,
    pub old_type: Option<String>,
    pub new_type: Option<String>,
    /// Code reading the old data would break or see different values: a removed column, a
    /// type change other than a widening (int64 → float64, null → anything).
    pub breaking: bool,
}

impl fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let old = self.old_type.as_deref().unwrap_or("?");
        let new = self.new_type.as_deref().unwrap_or("?");
        match self.change {
            SchemaChangeKind::Added => write!(f, "added column {} ({new})", self.column),
            SchemaChangeKind::Removed => write!(f, "removed column {} ({old})", self.column),
            SchemaChangeKind::TypeChanged => write!(f, "column {}: {old} → {new}", self.column),
        }?;
        if self.breaking {
            write!(f, " (breaking)")?;
        }
        Ok(())
    }
}

/// Differences from `old` to `new`: added and changed columns in `new`'s order, then removed
/// ones. Structs and lists are compared field by field.
pub fn changes(old: &[(String, Feature)], new: &[(String, Feature)]) -> Vec<SchemaChange> {
    let mut out = Vec::new();
    compare_fields("", old, new, &mut out);
    out
}

fn compare_fields(
    prefix: &str,
    old: &[(String, Feature)],
    new: &[(String, Feature)],
    out: &mut Vec<SchemaChange>,
) {
    let path = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for (name, after) in new {
        match old.iter().find(|(n, _)| n == name) {
            None => out.push(SchemaChange {
                column: path(name),
                change: SchemaChangeKind::Added,
                old_type: None,
                new_type: Some(after.display_type()),
                breaking: false,
            }),
            Some((_, before)) => compare(&path(name), before, after, out),
        }
    }
    for (name, before) in old {
        if !new.iter().any(|(n, _)| n == name) {
            out.push(SchemaChange {
                column: path(name),
                change: SchemaChangeKind::Removed,
                old_type: Some(before.display_type()),
                new_type: None,
                breaking: true,
            });
        }
    }
}

fn compare(path: &str, old: &Feature, new: &Feature, out: &mut Vec<SchemaChange>) {
    match (old, new) {
        _ if old == new => {}
        (Feature::Struct(a), Feature::Struct(b)) => compare_fields(path, a, b, out),
        (Feature::List(a), Feature::List(b)) => compare(&format!("{path}[]"), a, b, out),
        _ => out.push(SchemaChange {
            column: path.to_string(),
            change: SchemaChangeKind::TypeChanged,
            old_type: Some(old.display_type()),
            new_type: Some(new.display_type()),
            breaking: !is_widening(old, new),
        }),
    }
}

/// What hf-relay's inference does when later data needs it, and what `datasets` casts
/// without losing values.
fn is_widening(old: &Feature, new: &Feature) -> bool {
    matches!(
        (old, new),
        (Feature::Value("int64"), Feature::Value("float64")) | (Feature::Value("null"), _)
    )
}

/// The features of a Parquet file's Arrow schema, or `None` when a column has a type hf-relay
/// does not model (the file was not written by hf-relay).
pub fn file_features(schema: &Schema) -> Option<Vec<(String, Feature)>> {
    fn modelled(data_type: &DataType) -> bool {
        match data_type {
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Int64
            | DataType::Float64
            | DataType::Boolean
            | DataType::Null => true,
            DataType::List(item) => modelled(item.data_type()),
            DataType::Struct(fields) => fields.iter().all(|f| modelled(f.data_type())),
            _ => false,
        }
    }
    schema
        .fields()
        .iter()
        .all(|field| modelled(field.data_type()))
        .then(|| features::schema_features(schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(dtype: &'static str) -> Feature {
        Feature::Value(dtype)
    }

    #[test]
    fn added_removed_widened_and_nested() {
        let old = vec![
            ("id".to_string(), v("string")),
            ("score".to_string(), v("int64")),
            ("gone".to_string(), v("string")),
            (
                "meta".to_string(),
                Feature::Struct(vec![("tokens".to_string(), v("int64"))]),
            ),
        ];
        let new = vec![
            ("id".to_string(), v("int64")),
            ("score".to_string(), v("float64")),
            (
                "meta".to_string(),
                Feature::Struct(vec![
                    ("tokens".to_string(), v("string")),
                    ("model".to_string(), v("string")),
                ]),
            ),
            ("extra".to_string(), Feature::List(Box::new(v("string")))),
        ];
        let lines: Vec<String> = changes(&old, &new).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lines,
            [
                "column id: string → int64 (breaking)",
                "column score: int64 → float64",
                "column meta.tokens: int64 → string (breaking)",
                "added column meta.model (string)",
                "added column extra (list<string>)",
                "removed column gone (string) (breaking)",
            ]
        );
    }
}
