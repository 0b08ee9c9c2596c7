//! The machine-owned metadata: `dataset_info`, `configs` and `size_categories`, in the exact
//! shape `datasets.push_to_hub` writes them, and the way back to `ConfigInfo`.

use anyhow::{Context, bail};
use yaml_rust2::yaml::{Hash, Yaml};

use super::{ConfigInfo, SplitInfo};
use crate::features::Feature;

pub(super) fn key(text: &str) -> Yaml {
    Yaml::String(text.to_string())
}

fn uint(n: u64) -> Yaml {
    match i64::try_from(n) {
        Ok(small) => Yaml::Integer(small),
        Err(_) => Yaml::Real(n.to_string()),
    }
}

pub(super) fn as_u64(node: &Yaml) -> u64 {
    match node {
        Yaml::Integer(i) => u64::try_from(*i).unwrap_or(0),
        Yaml::Real(text) => text.parse::<u64>().unwrap_or(0),
        _ => 0,
    }
}

/// The text of a scalar used as a name (`config_name`, `split`, `name`).
pub(super) fn scalar_text(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn get<'a>(map: &'a Hash, name: &str) -> Option<&'a Yaml> {
    map.get(&key(name))
}

/// `size_categories` label for a total row count.
pub fn size_category(n: u64) -> &'static str {
    const LABELS: [(u64, &str); 10] = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
        (1_000_000_000, "100M<n<1B"),
        (10_000_000_000, "1B<n<10B"),
        (100_000_000_000, "10B<n<100B"),
        (1_000_000_000_000, "100B<n<1T"),
    ];
    LABELS
        .iter()
        .find(|(limit, _)| n < *limit)
        .map_or("n>1T", |(_, label)| label)
}

// ---------------------------------------------------------------------------------------------
// Features <-> YAML (`Features._to_yaml_list`).

/// The `features:` list.
pub fn features_yaml(features: &[(String, Feature)]) -> Yaml {
    Yaml::Array(
        features
            .iter()
            .map(|(name, feature)| {
                let mut entry = Hash::new();
                entry.insert(key("name"), key(name));
                entry.extend(feature_body(feature));
                Yaml::Hash(entry)
            })
            .collect(),
    )
}

/// `{dtype: x}`, `{struct: [...]}` or `{list: ...}` (simplified as `datasets` does).
fn feature_body(feature: &Feature) -> Hash {
    let mut body = Hash::new();
    match feature {
        Feature::Value(dtype) => {
            body.insert(key("dtype"), key(dtype));
        }
        Feature::Struct(fields) => {
            body.insert(key("struct"), features_yaml(fields));
        }
        Feature::List(item) | Feature::LargeList(item) => {
            let list_key = if matches!(feature, Feature::LargeList(_)) {
                "large_list"
            } else {
                "list"
            };
            let inner = feature_body(item);
            let simplified = if inner.len() == 1 {
                get(&inner, "dtype")
                    .or_else(|| get(&inner, "struct"))
                    .cloned()
            } else {
                None
            };
            body.insert(key(list_key), simplified.unwrap_or(Yaml::Hash(inner)));
        }
    }
    body
}

fn parse_features(node: &Yaml, path: &str) -> anyhow::Result<Vec<(String, Feature)>> {
    let Yaml::Array(entries) = node else {
        bail!("`{path}` is not a list of features");
    };
    entries
        .iter()
        .map(|entry| {
            let Yaml::Hash(map) = entry else {
                bail!("an entry of `{path}` is not a mapping");
            };
            let name = get(map, "name")
                .and_then(scalar_text)
                .with_context(|| format!("an entry of `{path}` has no name"))?;
            let feature = parse_feature_body(map, &format!("{path}.{name}"))?;
            Ok((name, feature))
        })
        .collect()
}

fn parse_feature_body(map: &Hash, path: &str) -> anyhow::Result<Feature> {
    if let Some(dtype) = get(map, "dtype") {
        return match dtype {
            Yaml::String(dtype) => Ok(Feature::Value(static_dtype(dtype))),
            // ClassLabel: its Arrow storage is int64.
            Yaml::Hash(inner) if get(inner, "class_label").is_some() => Ok(Feature::Value("int64")),
            _ => bail!("`{path}` has an unsupported dtype"),
        };
    }
    if let Some(fields) = get(map, "struct") {
        return Ok(Feature::Struct(parse_features(fields, path)?));
    }
    for list_key in ["list", "large_list", "sequence"] {
        if let Some(item) = get(map, list_key) {
            let item = match item {
                Yaml::String(dtype) => Feature::Value(static_dtype(dtype)),
                Yaml::Array(_) => Feature::Struct(parse_features(item, path)?),
                Yaml::Hash(inner) => parse_feature_body(inner, path)?,
                _ => bail!("`{path}` has an unsupported {list_key}"),
            };
            return Ok(if list_key == "large_list" {
                Feature::LargeList(Box::new(item))
            } else {
                Feature::List(Box::new(item))
            });
        }
    }
    bail!("`{path}` has no dtype, struct or list")
}

use crate::features::intern_dtype as static_dtype;

// ---------------------------------------------------------------------------------------------
// dataset_info entries.

/// The `dataset_info` entry of a config, starting with `config_name`.
pub fn config_entry(config: &ConfigInfo) -> Hash {
    let mut entry = Hash::new();
    entry.insert(key("config_name"), key(&config.config_name));
    entry.insert(key("features"), features_yaml(&config.features));
    let splits = config
        .splits
        .iter()
        .map(|split| {
            let mut map = Hash::new();
            map.insert(key("name"), key(&split.name));
            map.insert(key("num_bytes"), uint(split.num_bytes));
            map.insert(key("num_examples"), uint(split.num_examples));
            Yaml::Hash(map)
        })
        .collect();
    entry.insert(key("splits"), Yaml::Array(splits));
    entry.insert(key("download_size"), uint(config.download_size));
    let dataset_size = config.splits.iter().map(|s| s.num_bytes).sum();
    entry.insert(key("dataset_size"), uint(dataset_size));
    entry
}

/// The entries of an existing `dataset_info` (mapping or list form), with their config names.
pub fn existing_entries(dataset_info: Option<&Yaml>) -> Vec<(String, Hash)> {
    let named = |map: &Hash| {
        let name = get(map, "config_name")
            .and_then(scalar_text)
            .unwrap_or_else(|| "default".to_string());
        (name, map.clone())
    };
    match dataset_info {
        Some(Yaml::Hash(map)) => vec![named(map)],
        Some(Yaml::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Yaml::Hash(map) => Some(named(map)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The new `dataset_info` value: the rebuilt config replaces its old entry, other configs are
/// kept; one config is a mapping, several a list sorted by `config_name`.
pub fn merged_dataset_info(
    existing: &[(String, Hash)],
    rebuilt: &ConfigInfo,
) -> Vec<(String, Hash)> {
    let mut entries: Vec<(String, Hash)> = existing
        .iter()
        .filter(|(name, _)| *name != rebuilt.config_name)
        .map(|(name, map)| {
            // In list form every entry starts with its config_name.
            let mut entry = Hash::new();
            entry.insert(key("config_name"), key(name));
            for (k, v) in map {
                if *k != key("config_name") {
                    entry.insert(k.clone(), v.clone());
                }
            }
            (name.clone(), entry)
        })
        .collect();
    entries.push((rebuilt.config_name.clone(), config_entry(rebuilt)));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

pub fn dataset_info_value(entries: &[(String, Hash)]) -> Yaml {
    match entries {
        [(name, entry)] => {
            let mut entry = entry.clone();
            if name == "default" {
                entry.remove(&key("config_name"));
            }
            Yaml::Hash(entry)
        }
        _ => Yaml::Array(entries.iter().map(|(_, e)| Yaml::Hash(e.clone())).collect()),
    }
}

/// Splits of a `dataset_info` entry as (name, num_examples, num_bytes).
pub fn entry_splits(entry: &Hash) -> Vec<SplitInfo> {
    let Some(Yaml::Array(splits)) = get(entry, "splits") else {
        return Vec::new();
    };
    splits
        .iter()
        .filter_map(|split| match split {
            Yaml::Hash(map) => Some(SplitInfo {
                name: get(map, "name").and_then(scalar_text).unwrap_or_default(),
                num_bytes: get(map, "num_bytes").map_or(0, as_u64),
                num_examples: get(map, "num_examples").map_or(0, as_u64),
            }),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// configs.

fn data_files(config: &ConfigInfo) -> Yaml {
    Yaml::Array(
        config
            .splits
            .iter()
            .map(|split| {
                let mut map = Hash::new();
                map.insert(key("split"), key(&split.name));
                let path = if config.data_dir.is_empty() {
                    format!("{}-*", split.name)
                } else {
                    format!("{}/{}-*", config.data_dir, split.name)
                };
                map.insert(key("path"), key(&path));
                Yaml::Hash(map)
            })
            .collect(),
    )
}

fn entry_config_name(entry: &Yaml) -> Option<String> {
    match entry {
        Yaml::Hash(map) => get(map, "config_name").and_then(scalar_text),
        _ => None,
    }
}

/// The new `configs` list: other configs' entries verbatim, the rebuilt config's `data_files`
/// regenerated (its other keys, e.g. `default: true`, kept), sorted by `config_name`.
pub fn merged_configs(existing: Option<&Yaml>, rebuilt: &ConfigInfo) -> Yaml {
    let mut entries: Vec<Yaml> = match existing {
        Some(Yaml::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let mut found = false;
    for entry in &mut entries {
        if entry_config_name(entry).as_deref() == Some(rebuilt.config_name.as_str())
            && let Yaml::Hash(map) = entry
        {
            map.replace(key("data_files"), data_files(rebuilt));
            found = true;
        }
    }
    if !found {
        let mut map = Hash::new();
        map.insert(key("config_name"), key(&rebuilt.config_name));
        map.insert(key("data_files"), data_files(rebuilt));
        entries.push(Yaml::Hash(map));
    }
    entries.sort_by_key(entry_config_name);
    Yaml::Array(entries)
}

/// The folder of a config's shards, from its `configs` entry's first data file path.
fn data_dir_from_configs(configs: Option<&Yaml>, config_name: &str) -> Option<String> {
    let Some(Yaml::Array(entries)) = configs else {
        return None;
    };
    let entry = entries
        .iter()
        .find(|e| entry_config_name(e).as_deref() == Some(config_name))?;
    let Yaml::Hash(map) = entry else {
        return None;
    };
    fn first_path(node: &Yaml) -> Option<String> {
        match node {
            Yaml::String(path) => Some(path.clone()),
            Yaml::Array(items) => items.iter().find_map(first_path),
            Yaml::Hash(map) => get(map, "path").and_then(first_path),
            _ => None,
        }
    }
    let path = first_path(get(map, "data_files")?)?;
    Some(
        path.rsplit_once('/')
            .map_or(String::new(), |(dir, _)| dir.to_string()),
    )
}

/// A `ConfigInfo` read back from a `dataset_info` entry.
pub fn config_info(name: &str, entry: &Hash, configs: Option<&Yaml>) -> anyhow::Result<ConfigInfo> {
    let features = match get(entry, "features") {
        Some(node) => parse_features(node, "features")
            .with_context(|| format!("README.md: dataset_info of config {name:?}"))?,
        None => Vec::new(),
    };
    let data_dir = data_dir_from_configs(configs, name).unwrap_or_else(|| {
        if name == "default" {
            "data".to_string()
        } else {
            name.to_string()
        }
    });
    Ok(ConfigInfo {
        config_name: name.to_string(),
        data_dir,
        features,
        splits: entry_splits(entry),
        download_size: get(entry, "download_size").map_or(0, as_u64),
    })
}
