//! The card metadata checks the Hub applies when a README.md is pushed (its pre-receive "YAML
//! metadata verification" and `POST /api/validate-yaml`), done offline so a bad value is found
//! before anything is written or uploaded.
//!
//! The lists come from the Hub's published sources and live in `data/hub/*.json`, each with its
//! source and version (`scripts/refresh-hub-lists.py` regenerates them); they are embedded, so
//! the binary needs no network. Never prints; returns every problem found.
//!
//! Where the Hub's exact rule is not published, the rule here is an assumption, named as such
//! beside it.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use yaml_rust2::yaml::{Hash, Yaml};

use super::MetadataFlags;

const LICENSES_JSON: &str = include_str!("../../data/hub/licenses.json");
const TASKS_JSON: &str = include_str!("../../data/hub/tasks.json");
const LANGUAGES_JSON: &str = include_str!("../../data/hub/languages.json");
const FIELDS_JSON: &str = include_str!("../../data/hub/card-fields.json");

/// How many nearest valid ids a problem suggests.
const SUGGESTIONS: usize = 3;

/// One value the Hub would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the front matter, e.g. `task_categories[1]` or `configs[0].config_name`.
    pub path: String,
    /// The top-level key (`license`, `configs`, ...).
    pub key: String,
    /// The offending value as written (YAML-ish text), empty when the value is missing.
    pub value: String,
    /// What is wrong, e.g. `not a license id the Hub knows`.
    pub message: String,
    /// Up to three nearest valid values, nearest first.
    pub suggestions: Vec<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path)?;
        if self.value.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{:?} is {}", self.value, self.message)?;
        }
        match self.suggestions.first() {
            Some(best) if is_close(&self.value, best) => {
                write!(f, "; did you mean {}?", self.suggestions.join(", "))?
            }
            Some(_) => write!(
                f,
                "; the nearest valid ones: {}",
                self.suggestions.join(", ")
            )?,
            None => {}
        }
        Ok(())
    }
}

/// The card's problems as one error (for `?`), naming README.md; `None` when there are none.
pub fn problems_error(what: &str, problems: &[Problem]) -> Option<anyhow::Error> {
    if problems.is_empty() {
        return None;
    }
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    Some(anyhow::anyhow!(
        "{what}: the Hub would refuse this card metadata ({} problem{}):\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        lines.join("\n")
    ))
}

#[derive(Deserialize)]
struct LicensesFile {
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct TasksFile {
    task_categories: Vec<String>,
    task_ids: Vec<String>,
}

#[derive(Deserialize)]
struct LanguagesFile {
    extra: Vec<String>,
    codes: Vec<String>,
}

#[derive(Deserialize)]
struct FieldsFile {
    size_categories: Vec<String>,
    multilinguality: Vec<String>,
    annotations_creators: Vec<String>,
    language_creators: Vec<String>,
    source_datasets: Vec<String>,
}

struct Lists {
    licenses: Vec<String>,
    task_categories: Vec<String>,
    task_ids: Vec<String>,
    languages: Vec<String>,
    language_set: HashSet<String>,
    fields: FieldsFile,
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        // The files are ours and embedded: a parse failure is a build defect, caught by tests.
        let licenses: LicensesFile = serde_json::from_str(LICENSES_JSON).expect("licenses.json");
        let tasks: TasksFile = serde_json::from_str(TASKS_JSON).expect("tasks.json");
        let languages: LanguagesFile =
            serde_json::from_str(LANGUAGES_JSON).expect("languages.json");
        let fields: FieldsFile = serde_json::from_str(FIELDS_JSON).expect("card-fields.json");
        let mut all_languages = languages.codes;
        all_languages.extend(languages.extra);
        Lists {
            licenses: licenses.ids,
            task_categories: tasks.task_categories,
            task_ids: tasks.task_ids,
            language_set: all_languages.iter().cloned().collect(),
            languages: all_languages,
            fields,
        }
    })
}

/// The [`SUGGESTIONS`] valid values nearest to `value` (Levenshtein distance on the lowercased
/// text, a value that contains the other counting as near), nearest first; ties go to the
/// value of the closest length, then to list order.
fn nearest(value: &str, valid: &[String]) -> Vec<String> {
    let value = value.to_lowercase();
    let mut scored: Vec<(usize, usize, usize, &String)> = valid
        .iter()
        .enumerate()
        .map(|(i, candidate)| {
            let mut distance = strsim::levenshtein(&value, candidate);
            if value.len() >= 3
                && (candidate.contains(&value) || value.contains(candidate.as_str()))
            {
                distance = distance.min(2);
            }
            (
                distance,
                candidate.len().abs_diff(value.len()),
                i,
                candidate,
            )
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(.., candidate)| candidate.clone())
        .collect()
}

/// Is `suggestion` close enough to `value` to be what was meant (within half its length)?
fn is_close(value: &str, suggestion: &str) -> bool {
    let value = value.to_lowercase();
    let limit = value.chars().count().div_ceil(2).max(2);
    strsim::levenshtein(&value, suggestion) <= limit
        || (value.len() >= 3 && (suggestion.contains(&value) || value.contains(suggestion)))
}

fn text_of(node: &Yaml) -> String {
    match node {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".to_string(),
        Yaml::Array(_) => "a list".to_string(),
        Yaml::Hash(_) => "a mapping".to_string(),
        _ => "?".to_string(),
    }
}

/// Collects problems, keyed by the current top-level key.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(
        &mut self,
        path: &str,
        key: &str,
        value: &str,
        message: &str,
        suggestions: Vec<String>,
    ) {
        self.problems.push(Problem {
            path: path.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            message: message.to_string(),
            suggestions,
        });
    }

    /// A string or a list of strings: calls `each` on every string with its path.
    fn strings(&mut self, key: &str, node: &Yaml, mut each: impl FnMut(&mut Self, &str, &str)) {
        match node {
            Yaml::String(s) => each(self, key, s),
            Yaml::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{key}[{i}]");
                    match item {
                        Yaml::String(s) => each(self, &path, s),
                        other => self.push(&path, key, &text_of(other), "not a string", Vec::new()),
                    }
                }
            }
            Yaml::Null => {}
            other => self.push(
                key,
                key,
                &text_of(other),
                "not a string or a list of strings",
                Vec::new(),
            ),
        }
    }

    fn one_of(&mut self, key: &str, node: &Yaml, valid: &[String], what: &str) {
        self.strings(key, node, |checker, path, value| {
            if !valid.iter().any(|v| v == value) {
                checker.push(path, key, value, what, nearest(value, valid));
            }
        });
    }
}

/// Is `value` a language code the Hub accepts? An ISO 639-1, 639-2 or 639-3 code, `code` or
/// `multilingual`; or (an assumption: the Hub's docs keep BCP-47 tags in `language_bcp47`,
/// but cards on the Hub use `en-US` under `language` too) such a code followed by BCP-47
/// subtags (`-` and 1-8 letters or digits each).
fn is_language(value: &str) -> bool {
    let languages = &lists().language_set;
    if languages.contains(value) {
        return true;
    }
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or("");
    languages.contains(primary)
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn check_language(checker: &mut Checker, node: &Yaml) {
    checker.strings("language", node, |checker, path, value| {
        if !is_language(value) {
            let primary = value.split('-').next().unwrap_or(value);
            checker.push(
                path,
                "language",
                value,
                "not a language code the Hub accepts (ISO 639-1, 639-2 or 639-3)",
                nearest(primary, &lists().languages),
            );
        }
    });
}

fn check_license(checker: &mut Checker, meta: &Hash, node: &Yaml) {
    let lists = lists();
    let mut other = false;
    checker.strings("license", node, |checker, path, value| {
        if value == "other" {
            other = true;
        } else if !lists.licenses.iter().any(|id| id == value) {
            checker.push(
                path,
                "license",
                value,
                "not a license id the Hub knows (its docs' license table), nor `other`",
                nearest(value, &lists.licenses),
            );
        }
    });
    if other {
        for field in ["license_name", "license_link"] {
            match meta.get(&Yaml::String(field.to_string())) {
                Some(Yaml::String(s)) if !s.trim().is_empty() => {}
                Some(value) => checker.push(
                    field,
                    field,
                    &text_of(value),
                    "not a non-empty string (needed with `license: other`)",
                    Vec::new(),
                ),
                None => checker.push(
                    field,
                    field,
                    "",
                    "missing: `license: other` needs `license_name` (a short id for the \
                     license) and `license_link` (LICENSE, LICENSE.md or a URL)",
                    Vec::new(),
                ),
            }
        }
    }
}

fn check_source_datasets(checker: &mut Checker, node: &Yaml) {
    let valid = &lists().fields.source_datasets;
    checker.strings("source_datasets", node, |checker, path, value| {
        // `original`, `extended`, `extended|<dataset id>`, or a dataset id (an assumption:
        // the Hub's template lists only the first two, cards use ids too).
        let rest = value.strip_prefix("extended|").unwrap_or(value);
        let id_like = !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./|".contains(c));
        if !valid.iter().any(|v| v == value) && !id_like {
            checker.push(
                path,
                "source_datasets",
                value,
                "not `original`, `extended`, `extended|<dataset>` or a dataset id",
                nearest(value, valid),
            );
        }
    });
}

fn field<'a>(map: &'a Hash, name: &str) -> Option<&'a Yaml> {
    map.get(&Yaml::String(name.to_string()))
}

fn check_configs(checker: &mut Checker, node: &Yaml) {
    let key = "configs";
    let Yaml::Array(entries) = node else {
        if !matches!(node, Yaml::Null) {
            checker.push(
                key,
                key,
                &text_of(node),
                "not a list of configs",
                Vec::new(),
            );
        }
        return;
    };
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("{key}[{i}]");
        let Yaml::Hash(map) = entry else {
            checker.push(&path, key, &text_of(entry), "not a mapping", Vec::new());
            continue;
        };
        match field(map, "config_name") {
            Some(Yaml::String(s)) if !s.is_empty() => {}
            Some(other) => checker.push(
                &format!("{path}.config_name"),
                key,
                &text_of(other),
                "not a non-empty string",
                Vec::new(),
            ),
            None => checker.push(
                &format!("{path}.config_name"),
                key,
                "",
                "missing (every config needs a config_name)",
                Vec::new(),
            ),
        }
        if let Some(dir) = field(map, "data_dir")
            && !matches!(dir, Yaml::String(_))
        {
            let path = format!("{path}.data_dir");
            checker.push(&path, key, &text_of(dir), "not a string", Vec::new());
        }
        if let Some(default) = field(map, "default")
            && !matches!(default, Yaml::Boolean(_))
        {
            let path = format!("{path}.default");
            checker.push(
                &path,
                key,
                &text_of(default),
                "not true or false",
                Vec::new(),
            );
        }
        if let Some(files) = field(map, "data_files") {
            check_data_files(checker, &format!("{path}.data_files"), files);
        }
    }
}

/// `data_files`: a pattern, a list of patterns, or a list of `{split, path}` where `path` is a
/// pattern or a list of patterns (datasets' `MetadataConfigs`).
fn check_data_files(checker: &mut Checker, path: &str, node: &Yaml) {
    let patterns_ok = |node: &Yaml| match node {
        Yaml::String(_) => true,
        Yaml::Array(items) => items.iter().all(|i| matches!(i, Yaml::String(_))),
        _ => false,
    };
    match node {
        Yaml::String(_) => {}
        Yaml::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match item {
                    Yaml::String(_) => {}
                    Yaml::Hash(map) => {
                        if !matches!(field(map, "split"), Some(Yaml::String(_))) {
                            checker.push(
                                &format!("{item_path}.split"),
                                "configs",
                                &field(map, "split").map(text_of).unwrap_or_default(),
                                "missing or not a string",
                                Vec::new(),
                            );
                        }
                        if !field(map, "path").is_some_and(patterns_ok) {
                            checker.push(
                                &format!("{item_path}.path"),
                                "configs",
                                &field(map, "path").map(text_of).unwrap_or_default(),
                                "missing or not a pattern or a list of patterns",
                                Vec::new(),
                            );
                        }
                    }
                    other => checker.push(
                        &item_path,
                        "configs",
                        &text_of(other),
                        "not a pattern or a {split, path} mapping",
                        Vec::new(),
                    ),
                }
            }
        }
        other => checker.push(
            path,
            "configs",
            &text_of(other),
            "not a pattern, a list of patterns or a list of {split, path}",
            Vec::new(),
        ),
    }
}

fn check_dataset_info(checker: &mut Checker, node: &Yaml) {
    let key = "dataset_info";
    let entries: Vec<(String, &Hash, bool)> = match node {
        Yaml::Hash(map) => vec![(key.to_string(), map, false)],
        Yaml::Array(items) => {
            let mut entries = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let path = format!("{key}[{i}]");
                match item {
                    Yaml::Hash(map) => entries.push((path, map, true)),
                    other => checker.push(&path, key, &text_of(other), "not a mapping", Vec::new()),
                }
            }
            entries
        }
        Yaml::Null => Vec::new(),
        other => {
            checker.push(
                key,
                key,
                &text_of(other),
                "not a mapping or a list of mappings",
                Vec::new(),
            );
            Vec::new()
        }
    };
    for (path, map, in_list) in entries {
        if in_list && !matches!(field(map, "config_name"), Some(Yaml::String(_))) {
            checker.push(
                &format!("{path}.config_name"),
                key,
                &field(map, "config_name").map(text_of).unwrap_or_default(),
                "missing or not a string (needed when dataset_info is a list)",
                Vec::new(),
            );
        }
        if let Some(features) = field(map, "features")
            && !matches!(features, Yaml::Array(_) | Yaml::Hash(_))
        {
            let path = format!("{path}.features");
            checker.push(
                &path,
                key,
                &text_of(features),
                "not a list of features",
                Vec::new(),
            );
        }
        for size in ["download_size", "dataset_size"] {
            if let Some(value) = field(map, size)
                && !matches!(value, Yaml::Integer(n) if *n >= 0)
            {
                let path = format!("{path}.{size}");
                checker.push(&path, key, &text_of(value), "not a byte count", Vec::new());
            }
        }
        match field(map, "splits") {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Array(splits)) => {
                for (i, split) in splits.iter().enumerate() {
                    let split_path = format!("{path}.splits[{i}]");
                    let Yaml::Hash(split) = split else {
                        checker.push(
                            &split_path,
                            key,
                            &text_of(split),
                            "not a mapping",
                            Vec::new(),
                        );
                        continue;
                    };
                    if !matches!(field(split, "name"), Some(Yaml::String(_))) {
                        checker.push(
                            &format!("{split_path}.name"),
                            key,
                            &field(split, "name").map(text_of).unwrap_or_default(),
                            "missing or not a string",
                            Vec::new(),
                        );
                    }
                    for count in ["num_bytes", "num_examples"] {
                        if let Some(value) = field(split, count)
                            && !matches!(value, Yaml::Integer(n) if *n >= 0)
                        {
                            let path = format!("{split_path}.{count}");
                            checker.push(&path, key, &text_of(value), "not a count", Vec::new());
                        }
                    }
                }
            }
            Some(other) => {
                let path = format!("{path}.splits");
                checker.push(
                    &path,
                    key,
                    &text_of(other),
                    "not a list of splits",
                    Vec::new(),
                );
            }
        }
    }
}

/// Every problem of a front matter, in key order.
pub fn validate_meta(meta: &Hash) -> Vec<Problem> {
    let lists = lists();
    let mut checker = Checker {
        problems: Vec::new(),
    };
    for (key, node) in meta {
        let Yaml::String(key) = key else { continue };
        match key.as_str() {
            "license" => check_license(&mut checker, meta, node),
            "task_categories" => checker.one_of(
                key,
                node,
                &lists.task_categories,
                "not a task category the Hub knows",
            ),
            "task_ids" => checker.one_of(key, node, &lists.task_ids, "not a task id the Hub knows"),
            "size_categories" => checker.one_of(
                key,
                node,
                &lists.fields.size_categories,
                "not a size category",
            ),
            "multilinguality" => checker.one_of(
                key,
                node,
                &lists.fields.multilinguality,
                "not a multilinguality value",
            ),
            "annotations_creators" => checker.one_of(
                key,
                node,
                &lists.fields.annotations_creators,
                "not an annotations_creators value",
            ),
            "language_creators" => checker.one_of(
                key,
                node,
                &lists.fields.language_creators,
                "not a language_creators value",
            ),
            "language" => check_language(&mut checker, node),
            "source_datasets" => check_source_datasets(&mut checker, node),
            "pretty_name" if !matches!(node, Yaml::String(_)) => {
                checker.push(key, key, &text_of(node), "not a string", Vec::new());
            }
            "configs" => check_configs(&mut checker, node),
            "dataset_info" => check_dataset_info(&mut checker, node),
            _ => {}
        }
    }
    checker.problems
}

/// Every problem of a README's front matter; an unreadable front matter is an error (naming
/// README.md, line and column).
pub fn validate_readme(readme: &str) -> anyhow::Result<Vec<Problem>> {
    let (meta, _) = super::split_front_matter(readme)?;
    Ok(validate_meta(&meta))
}

/// The problem of one card flag value (`key` as in the card: `license`, `language`,
/// `task_categories`, ...), or `None` when the Hub accepts it. Flags with no rule pass.
pub fn validate_value(key: &str, value: &str) -> Option<Problem> {
    let mut meta = Hash::new();
    if key == "license" && value == "other" {
        // The name and link come from the card, not from the flag.
        return None;
    }
    meta.insert(
        Yaml::String(key.to_string()),
        Yaml::String(value.to_string()),
    );
    validate_meta(&meta).into_iter().next().map(|mut problem| {
        problem.path = format!("{key} ({})", flag_name(key));
        problem
    })
}

/// The command-line flag that sets a card key.
fn flag_name(key: &str) -> &str {
    match key {
        "license" => "--license",
        "language" => "--language",
        "task_categories" => "--task-category",
        "annotations_creators" => "--annotations-creators",
        "source_datasets" => "--source-datasets",
        "pretty_name" => "--pretty-name",
        other => other,
    }
}

/// The problems of the card flags of a build or a preview.
pub fn validate_flags(flags: &MetadataFlags) -> Vec<Problem> {
    let mut values: Vec<(&str, &str)> = Vec::new();
    if let Some(license) = flags.license.as_deref().filter(|v| !v.is_empty()) {
        values.push(("license", license));
    }
    for (key, list) in [
        ("language", &flags.language),
        ("task_categories", &flags.task_categories),
        ("annotations_creators", &flags.annotations_creators),
        ("source_datasets", &flags.source_datasets),
    ] {
        values.extend(list.iter().map(|v| (key, v.as_str())));
    }
    values
        .into_iter()
        .filter_map(|(key, value)| validate_value(key, value))
        .collect()
}

/// [`validate_flags`] as an error for `?`, before anything is written.
pub fn check_flags(flags: &MetadataFlags) -> anyhow::Result<()> {
    match problems_error("invalid card flag", &validate_flags(flags)) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// A whole README.md checked as the Hub's YAML verification would: an error listing every
/// problem (with its YAML path) when there is one, naming README.md.
pub fn check_readme(readme: &str) -> anyhow::Result<()> {
    match problems_error("README.md", &validate_readme(readme)?) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(front_matter: &str) -> Vec<Problem> {
        validate_readme(&format!("---\n{front_matter}---\nbody\n")).unwrap()
    }

    #[test]
    fn the_lists_load_and_hold_the_well_known_ids() {
        let lists = lists();
        for id in ["apache-2.0", "mit", "cc-by-4.0", "other", "unknown"] {
            assert!(lists.licenses.iter().any(|l| l == id), "{id}");
        }
        for task in [
            "text-generation",
            "question-answering",
            "text-classification",
        ] {
            assert!(lists.task_categories.iter().any(|t| t == task), "{task}");
        }
        assert!(lists.task_ids.iter().any(|t| t == "extractive-qa"));
        for code in [
            "en",
            "fr",
            "eng",
            "fra",
            "fre",
            "yue",
            "code",
            "multilingual",
        ] {
            assert!(is_language(code), "{code}");
        }
    }

    #[test]
    fn a_valid_card_has_no_problem() {
        let card = "pretty_name: Chat logs\nlicense: apache-2.0\nlanguage:\n- en\n- fr\n- en-US\n\
                    task_categories:\n- text-generation\ntask_ids:\n- extractive-qa\n\
                    size_categories:\n- 1K<n<10K\nmultilinguality: monolingual\n\
                    annotations_creators:\n- machine-generated\nlanguage_creators:\n- found\n\
                    source_datasets:\n- original\n- extended|squad\ntags:\n- anything goes\n\
                    configs:\n- config_name: default\n  data_files:\n  - split: train\n    \
                    path: data/train-*\ndataset_info:\n  features:\n  - name: text\n    \
                    dtype: string\n  splits:\n  - name: train\n    num_bytes: 10\n    \
                    num_examples: 1\n  download_size: 5\n  dataset_size: 10\n";
        assert_eq!(problems(card), Vec::new());
        let other = "license: other\nlicense_name: my-license\nlicense_link: LICENSE\n";
        assert_eq!(problems(other), Vec::new());
    }

    #[test]
    fn every_invalid_key_is_reported_with_its_path_and_suggestions() {
        let card = "license: apache2\nlanguage:\n- en\n- xx-not-a-lang\n\
                    task_categories: [text-generation, make-coffee, text-clasification]\n\
                    task_ids: [extractive-q]\nsize_categories: [1k<n<10k]\n\
                    multilinguality: monolingal\nannotations_creators: [machine]\n\
                    language_creators: [no-annotation]\nsource_datasets: ['has space']\n\
                    pretty_name: [a, b]\nconfigs:\n- data_files: 3\n\
                    dataset_info:\n  splits:\n  - name: train\n    num_examples: many\n";
        let found = problems(card);
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "license",
                "language[1]",
                "task_categories[1]",
                "task_categories[2]",
                "task_ids[0]",
                "size_categories[0]",
                "multilinguality",
                "annotations_creators[0]",
                "language_creators[0]",
                "source_datasets[0]",
                "pretty_name",
                "configs[0].config_name",
                "configs[0].data_files",
                "dataset_info.splits[0].num_examples",
            ],
            "{found:#?}"
        );
        let by_path = |path: &str| found.iter().find(|p| p.path == path).unwrap();
        assert_eq!(by_path("license").suggestions[0], "apache-2.0");
        assert_eq!(by_path("license").value, "apache2");
        assert!(by_path("license").suggestions.len() <= 3);
        assert_eq!(
            by_path("task_categories[2]").suggestions[0],
            "text-classification"
        );
        assert_eq!(by_path("task_ids[0]").suggestions[0], "extractive-qa");
        assert_eq!(by_path("size_categories[0]").suggestions[0], "1K<n<10K");
        assert_eq!(by_path("multilinguality").suggestions[0], "monolingual");
        assert_eq!(
            by_path("annotations_creators[0]").suggestions[0],
            "machine-generated"
        );
        let text = by_path("license").to_string();
        assert!(
            text.contains("license: \"apache2\" is not a license id")
                && text.contains("apache-2.0"),
            "{text}"
        );
    }

    #[test]
    fn license_other_needs_a_name_and_a_link() {
        let found = problems("license: other\nlicense_link: 3\n");
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["license_name", "license_link"]);
    }

    #[test]
    fn flags_are_checked_one_value_at_a_time() {
        let flags = MetadataFlags {
            license: Some("totally-made-up".to_string()),
            language: vec!["en".to_string(), "xx-not-a-lang".to_string()],
            task_categories: vec!["make-coffee".to_string()],
            ..MetadataFlags::default()
        };
        let found = validate_flags(&flags);
        let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["license", "language", "task_categories"]);
        assert_eq!(found[0].path, "license (--license)");
        assert_eq!(found[1].value, "xx-not-a-lang");
        let error = check_flags(&flags).unwrap_err().to_string();
        assert!(error.contains("3 problems"), "{error}");
        assert!(validate_value("license", "mit").is_none());
        assert!(validate_value("license", "other").is_none());
        assert!(validate_value("tags", "whatever").is_none());
        assert_eq!(
            validate_value("license", "apache2").unwrap().suggestions[0],
            "apache-2.0"
        );
    }
}
