//! The card's YAML front matter diffed key by key: `license: mit → apache-2.0`,
//! `dataset_info.splits[train].num_examples: 80 → 120`.

use std::fmt;

use serde_json::{Map, Value};

/// One difference in the front matter, at a key path.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetaChange {
    /// `license`, `dataset_info.splits[train].num_examples`, `task_categories`.
    pub path: String,
    /// `None` when the key was added.
    pub old: Option<Value>,
    /// `None` when the key was removed.
    pub new: Option<Value>,
}

/// Longest value shown in a line; the JSON output has the whole value.
const MAX_SHOWN: usize = 200;

fn shown(value: &Value) -> String {
    let text = flow(value);
    match text.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("{} …", &text[..cut]),
        None => text,
    }
}

impl fmt::Display for MetaChange {
    /// `path: old → new`, `+ path: new`, `- path: old`; long values are cut with `…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => {
                write!(f, "{}: {} → {}", self.path, shown(old), shown(new))
            }
            (None, Some(new)) => write!(f, "+ {}: {}", self.path, shown(new)),
            (Some(old), None) => write!(f, "- {}: {}", self.path, shown(old)),
            (None, None) => write!(f, "  {}", self.path),
        }
    }
}

/// Keys that name the items of a list of mappings, tried in this order.
const ITEM_KEYS: [&str; 3] = ["config_name", "name", "split"];

/// Differences between two front matters: keys of `old` in their order (changed or removed),
/// then keys only in `new`, in theirs.
pub fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<MetaChange> {
    let mut changes = Vec::new();
    diff_maps("", old, new, &mut changes);
    changes
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn diff_maps(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    out: &mut Vec<MetaChange>,
) {
    for (key, before) in old {
        let path = join(prefix, key);
        match new.get(key) {
            Some(after) => diff_values(&path, before, after, out),
            None => out.push(MetaChange {
                path,
                old: Some(before.clone()),
                new: None,
            }),
        }
    }
    for (key, after) in new {
        if !old.contains_key(key) {
            out.push(MetaChange {
                path: join(prefix, key),
                old: None,
                new: Some(after.clone()),
            });
        }
    }
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<MetaChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => diff_maps(path, a, b, out),
        (Value::Array(a), Value::Array(b)) => diff_lists(path, a, b, out),
        // One config is written as a mapping, several as a list: compare them as lists.
        (Value::Object(a), Value::Array(b)) if path == "dataset_info" => {
            diff_lists(path, &[default_entry(a)], b, out)
        }
        (Value::Array(a), Value::Object(b)) if path == "dataset_info" => {
            diff_lists(path, a, &[default_entry(b)], out)
        }
        _ => out.push(changed(path, old, new)),
    }
}

/// The list-form entry of a single-config `dataset_info` mapping.
fn default_entry(map: &Map<String, Value>) -> Value {
    let mut entry = Map::new();
    entry.insert("config_name".into(), Value::from("default"));
    for (key, value) in map {
        entry.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(entry)
}

fn changed(path: &str, old: &Value, new: &Value) -> MetaChange {
    MetaChange {
        path: path.to_string(),
        old: Some(old.clone()),
        new: Some(new.clone()),
    }
}

/// Lists of named mappings are matched by name (`splits[train]`); lists of mappings of the
/// same length by position (`[0]`); any other list changes as a whole (`tags: [a] → [a, b]`).
fn diff_lists(path: &str, old: &[Value], new: &[Value], out: &mut Vec<MetaChange>) {
    if let Some(key) = item_key(old, new) {
        let name = |item: &Value| scalar(&item[key]);
        for before in old {
            let item_path = format!("{path}[{}]", name(before));
            match new.iter().find(|after| name(after) == name(before)) {
                Some(after) => diff_values(&item_path, before, after, out),
                None => out.push(MetaChange {
                    path: item_path,
                    old: Some(before.clone()),
                    new: None,
                }),
            }
        }
        for after in new {
            if !old.iter().any(|before| name(before) == name(after)) {
                out.push(MetaChange {
                    path: format!("{path}[{}]", name(after)),
                    old: None,
                    new: Some(after.clone()),
                });
            }
        }
        return;
    }
    let all_maps = old.iter().chain(new).all(Value::is_object);
    if all_maps && old.len() == new.len() && !old.is_empty() {
        for (index, (before, after)) in old.iter().zip(new).enumerate() {
            diff_values(&format!("{path}[{index}]"), before, after, out);
        }
        return;
    }
    out.push(changed(
        path,
        &Value::Array(old.to_vec()),
        &Value::Array(new.to_vec()),
    ));
}

/// The first of [`ITEM_KEYS`] that every item of both lists has, as a scalar, with no
/// repeated value within a list.
fn item_key(old: &[Value], new: &[Value]) -> Option<&'static str> {
    if old.is_empty() && new.is_empty() {
        return None;
    }
    ITEM_KEYS.into_iter().find(|key| {
        [old, new].iter().all(|list| {
            let mut names = Vec::with_capacity(list.len());
            list.iter().all(|item| match item.get(key) {
                Some(value) if !value.is_object() && !value.is_array() && !value.is_null() => {
                    let name = scalar(value);
                    let fresh = !names.contains(&name);
                    names.push(name);
                    fresh
                }
                _ => false,
            })
        })
    })
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A compact one-line YAML flow form: `mit`, `[a, b]`, `{dtype: string}`; strings that would
/// read as something else are quoted.
pub fn flow(value: &Value) -> String {
    match value {
        Value::String(text) => flow_string(text),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", flow_string(key), flow(value)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

fn flow_string(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let reads_as_other = matches!(
        lower.as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off"
    ) || text.parse::<f64>().is_ok();
    let special = text.trim() != text
        || text.contains([',', '[', ']', '{', '}', '#', '"', '\'', '\n', '\r', '\t'])
        || text.contains(": ")
        || text.ends_with(':')
        || text.starts_with(['-', '?', '!', '&', '*', '|', '>', '%', '@', '`']);
    if reads_as_other || special {
        Value::String(text.to_string()).to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(old: Value, new: Value) -> Vec<String> {
        let (Value::Object(old), Value::Object(new)) = (old, new) else {
            panic!("objects expected");
        };
        diff(&old, &new).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn keys_lists_and_named_items() {
        let old = json!({
            "pretty_name": "Fr",
            "license": "mit",
            "dataset_info": {"splits": [
                {"name": "train", "num_examples": 12000},
                {"name": "test", "num_examples": 5},
            ]},
            "language": ["en"],
        });
        let new = json!({
            "license": "apache-2.0",
            "dataset_info": {"splits": [
                {"name": "train", "num_examples": 12345},
                {"name": "validation", "num_examples": 7},
            ]},
            "language": ["en", "fr"],
            "tags": ["friction"],
        });
        assert_eq!(
            lines(old, new),
            [
                "- pretty_name: Fr",
                "license: mit → apache-2.0",
                "dataset_info.splits[train].num_examples: 12000 → 12345",
                "- dataset_info.splits[test]: {name: test, num_examples: 5}",
                "+ dataset_info.splits[validation]: {name: validation, num_examples: 7}",
                "language: [en] → [en, fr]",
                "+ tags: [friction]",
            ]
        );
    }

    #[test]
    fn one_config_mapping_compares_with_the_list_form() {
        let old = json!({"dataset_info": {"splits": [{"name": "train", "num_examples": 1}]}});
        let new = json!({"dataset_info": [
            {"config_name": "default", "splits": [{"name": "train", "num_examples": 2}]},
            {"config_name": "en", "download_size": 3},
        ]});
        assert_eq!(
            lines(old, new),
            [
                "dataset_info[default].splits[train].num_examples: 1 → 2",
                "+ dataset_info[en]: {config_name: en, download_size: 3}",
            ]
        );
    }

    #[test]
    fn strings_that_read_as_other_values_are_quoted() {
        assert_eq!(flow(&json!("1.0")), "\"1.0\"");
        assert_eq!(flow(&json!("yes")), "\"yes\"");
        assert_eq!(flow(&json!("n<1K")), "n<1K");
        assert_eq!(flow(&json!("a: b")), "\"a: b\"");
        assert_eq!(
            flow(&json!({"path": "data/train-*"})),
            "{path: data/train-*}"
        );
    }
}
