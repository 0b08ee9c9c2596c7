//! The dataset card (README.md): YAML front matter + Markdown body.
//!
//! Machine-owned keys (`dataset_info`, `configs`, `size_categories`) are regenerated on every
//! build; every other key is kept in its order. The body comes from a template on first build;
//! later builds refresh only the generated blocks between markers and never touch the prose.
//! Never prints; returns text.

mod body;
mod info;
mod merge;
pub mod validate;
mod yaml;

pub use body::undescribed_fields;
pub use merge::{CardMergeError, merge_cards};

/// Keys hf-relay regenerates on every build; every other key belongs to the user.
pub const MACHINE_KEYS: [&str; 3] = ["dataset_info", "configs", "size_categories"];

#[cfg(test)]
mod tests;

use anyhow::bail;
use yaml_rust2::yaml::{Hash, Yaml};

use crate::features::Feature;
use info::{get, key};

/// Statistics of one split, as written under `dataset_info.splits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitInfo {
    pub name: String,
    /// Uncompressed Arrow size estimate of the split's data.
    pub num_bytes: u64,
    pub num_examples: u64,
}

/// Everything the card says about one config (subset) of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInfo {
    pub config_name: String,
    /// Folder of the config's shards: `data` for `default`, else the config name.
    pub data_dir: String,
    pub features: Vec<(String, Feature)>,
    pub splits: Vec<SplitInfo>,
    /// Total size in bytes of the config's Parquet files.
    pub download_size: u64,
}

/// Card metadata given on the command line; `None`/empty means "keep what the card has".
#[derive(Debug, Clone, Default)]
pub struct MetadataFlags {
    pub pretty_name: Option<String>,
    pub license: Option<String>,
    pub language: Vec<String>,
    pub task_categories: Vec<String>,
    pub tags: Vec<String>,
    pub annotations_creators: Vec<String>,
    pub source_datasets: Vec<String>,
}

/// What the card of the next commit is made of.
pub struct CardRequest<'a> {
    /// `OWNER/NAME`.
    pub repo_id: &'a str,
    /// The current README.md text, if the clone has one.
    pub existing: Option<&'a str>,
    /// A body template (used only when the current README has no body yet).
    pub template: Option<&'a str>,
    /// The config this build produced, with all its splits.
    pub config: &'a ConfigInfo,
    pub flags: &'a MetadataFlags,
}

/// Renders the full README.md text.
pub fn render(request: &CardRequest) -> anyhow::Result<String> {
    let existing = request.existing.unwrap_or("");
    let card = parse_card(existing)?;
    let config = request.config;
    let flags = request.flags;

    let existing_infos = info::existing_entries(get(&card.meta, "dataset_info"));
    let infos = info::merged_dataset_info(&existing_infos, config);
    let total_examples: u64 = infos
        .iter()
        .flat_map(|(_, entry)| info::entry_splits(entry))
        .map(|split| split.num_examples)
        .sum();

    let mut meta = card.meta.clone();
    let mut set = |name: &str, value: Yaml| {
        meta.replace(key(name), value);
    };
    let text = |value: &Option<String>| value.as_deref().filter(|v| !v.is_empty()).map(key);
    let list = |values: &[String]| {
        (!values.is_empty()).then(|| Yaml::Array(values.iter().map(|v| key(v)).collect()))
    };
    let flag_values = [
        ("pretty_name", text(&flags.pretty_name)),
        ("license", text(&flags.license)),
        ("language", list(&flags.language)),
        ("task_categories", list(&flags.task_categories)),
        ("tags", list(&flags.tags)),
        ("annotations_creators", list(&flags.annotations_creators)),
        ("source_datasets", list(&flags.source_datasets)),
    ];
    for (name, value) in flag_values {
        if let Some(value) = value {
            set(name, value);
        }
    }
    set(
        "size_categories",
        Yaml::Array(vec![key(info::size_category(total_examples))]),
    );
    set("dataset_info", info::dataset_info_value(&infos));
    set(
        "configs",
        info::merged_configs(get(&card.meta, "configs"), config),
    );

    let pretty_name = match get(&meta, "pretty_name") {
        Some(Yaml::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => request
            .repo_id
            .rsplit('/')
            .next()
            .unwrap_or(request.repo_id)
            .to_string(),
    };
    let split_rows = infos
        .iter()
        .flat_map(|(name, entry)| {
            let splits = if *name == config.config_name {
                config.splits.clone()
            } else {
                info::entry_splits(entry)
            };
            splits.into_iter().map(move |split| body::SplitRow {
                config: name.clone(),
                split: split.name,
                num_examples: split.num_examples,
                num_bytes: split.num_bytes,
            })
        })
        .collect();
    let context = body::BodyContext {
        repo_id: request.repo_id,
        pretty_name,
        split_rows,
        features: &config.features,
        descriptions: request
            .template
            .map(body::template_descriptions)
            .unwrap_or_default(),
    };

    let newline = card.newline;
    let body = if card.body.trim().is_empty() {
        let template = request.template.unwrap_or(body::DEFAULT_TEMPLATE);
        body::from_template(template, &context, newline)
    } else {
        body::refresh(card.body, &context)
    };

    let yaml_text = yaml::dump(&Yaml::Hash(meta));
    let mut out = String::with_capacity(yaml_text.len() + body.len() + 16);
    out.push_str("---\n");
    out.push_str(&yaml_text);
    out.push_str("---\n");
    if newline != "\n" {
        out = out.replace('\n', newline);
    }
    out.push_str(&body);
    let trimmed_len = out.trim_end_matches(['\r', '\n']).len();
    out.truncate(trimmed_len);
    out.push_str(newline);
    Ok(out)
}

/// Reads the config entries of `dataset_info` from an existing card (empty when there are none),
/// so a build can report deltas and keep the splits it does not rebuild.
pub fn read_configs(readme: &str) -> anyhow::Result<Vec<ConfigInfo>> {
    let card = parse_card(readme)?;
    let configs = get(&card.meta, "configs");
    info::existing_entries(get(&card.meta, "dataset_info"))
        .iter()
        .map(|(name, entry)| info::config_info(name, entry, configs))
        .collect()
}

/// A README split into its YAML front matter (an empty mapping when it has none) and its
/// Markdown body, as the Hub reads it; invalid YAML is an error naming line and column.
pub fn split_front_matter(readme: &str) -> anyhow::Result<(Hash, &str)> {
    let card = parse_card(readme)?;
    Ok((card.meta, card.body))
}

/// An existing README split into its metadata and its body.
struct ParsedCard<'a> {
    meta: Hash,
    body: &'a str,
    /// `\r\n` when the file uses CRLF line endings throughout, else `\n`.
    newline: &'static str,
}

fn parse_card(text: &str) -> anyhow::Result<ParsedCard<'_>> {
    let newline =
        if text.contains("\r\n") && text.matches('\n').count() == text.matches("\r\n").count() {
            "\r\n"
        } else {
            "\n"
        };
    let Some(front) = find_front_matter(text) else {
        return Ok(ParsedCard {
            meta: Hash::new(),
            body: text,
            newline,
        });
    };
    let first_line = text[..front.yaml_start].matches('\n').count() + 1;
    let meta = match yaml::load(&text[front.yaml_start..front.yaml_end]) {
        Ok(Yaml::Hash(map)) => map,
        Ok(Yaml::Null) => Hash::new(),
        Ok(other) => bail!(
            "README.md: the YAML front matter (line {first_line}) must be a mapping of keys to \
             values, found {}",
            describe(&other)
        ),
        Err(error) => bail!(
            "README.md: invalid YAML front matter at line {}, column {}: {}",
            error.line + first_line - 1,
            error.column,
            error.message
        ),
    };
    Ok(ParsedCard {
        meta,
        body: &text[front.end..],
        newline,
    })
}

fn describe(node: &Yaml) -> &'static str {
    match node {
        Yaml::Array(_) => "a list",
        Yaml::String(_) => "a string",
        Yaml::Integer(_) | Yaml::Real(_) => "a number",
        Yaml::Boolean(_) => "a boolean",
        _ => "a scalar",
    }
}

struct FrontMatter {
    yaml_start: usize,
    yaml_end: usize,
    /// Where the body starts.
    end: usize,
}

/// huggingface_hub's `^(\s*---(\r\n|\r|\n))([\S\s]*?)((\r\n|\r|\n)---[ \t]*(\r\n|\n|$))`, plus
/// an empty block (`---\n---\n`), which that regex misses.
fn find_front_matter(text: &str) -> Option<FrontMatter> {
    let start = text.len() - text.trim_start().len();
    let after_dashes = start + 3;
    if !text[start..].starts_with("---") {
        return None;
    }
    let rest = &text[after_dashes..];
    let openings: &[&str] = if rest.starts_with("\r\n") {
        &["\r\n", "\r"]
    } else if rest.starts_with('\r') {
        &["\r"]
    } else if rest.starts_with('\n') {
        &["\n"]
    } else {
        return None;
    };
    for opening in openings {
        let yaml_start = after_dashes + opening.len();
        if let Some(end) = closing_at(text, yaml_start, false) {
            return Some(FrontMatter {
                yaml_start,
                yaml_end: yaml_start,
                end,
            });
        }
        let mut p = yaml_start;
        while p < text.len() {
            if let Some(end) = closing_at(text, p, true) {
                return Some(FrontMatter {
                    yaml_start,
                    yaml_end: p,
                    end,
                });
            }
            p += text[p..].chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// Matches `(\r\n|\r|\n)---[ \t]*(\r\n|\n|$)` at `at` (the leading newline only when
/// `with_newline`); returns the end of the match.
fn closing_at(text: &str, at: usize, with_newline: bool) -> Option<usize> {
    let mut rest = &text[at..];
    if with_newline {
        rest = rest
            .strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\r'))
            .or_else(|| rest.strip_prefix('\n'))?;
    }
    let rest = rest.strip_prefix("---")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let consumed = if rest.starts_with("\r\n") {
        2
    } else if rest.starts_with('\n') || rest.is_empty() {
        rest.len().min(1)
    } else {
        return None;
    };
    Some(text.len() - rest.len() + consumed)
}
