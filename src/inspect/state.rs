//! The dataset at one revision or in the working tree: card, shards, schema.

use anyhow::Context as _;
use serde_json::{Map, Value};
use yaml_rust2::yaml::Yaml;

use super::tree::{self, Content, Files, WorktreeChange};
use crate::card::{self, ConfigInfo};
use crate::repo::LocalClone;

/// Where a state comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A commit, named as the user named it (`origin/main`, `v1`, a sha).
    Commit {
        name: String,
        id: git2::Oid,
    },
    WorkTree,
}

impl Source {
    /// `origin/main (e11f718)`, or `the working tree`.
    pub fn label(&self, repo: &git2::Repository) -> String {
        match self {
            Source::Commit { name, id } => {
                let short = unique_abbrev(repo, *id);
                if name == &short || id.to_string().starts_with(name.as_str()) {
                    short
                } else {
                    format!("{name} ({short})")
                }
            }
            Source::WorkTree => "the working tree".to_string(),
        }
    }

    pub fn commit(&self) -> Option<git2::Oid> {
        match self {
            Source::Commit { id, .. } => Some(*id),
            Source::WorkTree => None,
        }
    }
}

/// The README as the Hub reads it.
#[derive(Debug, Clone)]
pub struct Card {
    pub text: String,
    /// The front matter as JSON (an object), or why it cannot be read.
    pub meta: Result<Map<String, Value>, String>,
    /// The Markdown body (the whole text when the front matter cannot be read).
    pub body: String,
    /// How many lines precede the body in the file.
    pub body_line: usize,
    /// The configs of `dataset_info`, or why they cannot be read.
    pub configs: Result<Vec<ConfigInfo>, String>,
}

impl Card {
    pub fn parse(text: String) -> Card {
        let (meta, body) = match card::split_front_matter(&text) {
            Ok((meta, body)) => (Ok(yaml_hash_to_json(&meta)), body.to_string()),
            Err(error) => (Err(format!("{error:#}")), text.clone()),
        };
        let body_line = text[..text.len() - body.len()].matches('\n').count();
        let configs = match &meta {
            Ok(_) => card::read_configs(&text).map_err(|error| format!("{error:#}")),
            Err(error) => Err(error.clone()),
        };
        Card {
            text,
            meta,
            body,
            body_line,
            configs,
        }
    }

    /// The configs, or none when the card has none or cannot be read.
    pub fn configs(&self) -> &[ConfigInfo] {
        self.configs.as_deref().unwrap_or_default()
    }
}

/// The dataset as one revision (or the working tree) holds it.
#[derive(Debug, Clone)]
pub struct DatasetState {
    pub source: Source,
    /// `None` when there is no README.md.
    pub card: Option<Card>,
    pub files: Files,
}

impl DatasetState {
    /// The state at `commit`.
    pub fn at_commit(
        clone: &LocalClone,
        name: &str,
        commit: &git2::Commit,
    ) -> anyhow::Result<Self> {
        let files = tree::tree_files(&clone.repo, &commit.tree()?)?;
        let card = match files.get("README.md") {
            Some(Content::Blob { id, .. }) => {
                let blob = clone.repo.find_blob(*id)?;
                Some(Card::parse(
                    String::from_utf8_lossy(blob.content()).into_owned(),
                ))
            }
            _ => None,
        };
        Ok(DatasetState {
            source: Source::Commit {
                name: name.to_string(),
                id: commit.id(),
            },
            card,
            files,
        })
    }

    /// The state of the working tree, and how it differs from HEAD.
    pub fn worktree(clone: &LocalClone) -> anyhow::Result<(Self, Vec<WorktreeChange>)> {
        let (files, changes) = tree::worktree_files(clone)?;
        let card = match files.get("README.md") {
            Some(Content::Blob { .. }) => {
                let path = clone.root.join("README.md");
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Some(Card::parse(String::from_utf8_lossy(&bytes).into_owned()))
            }
            _ => None,
        };
        let state = DatasetState {
            source: Source::WorkTree,
            card,
            files,
        };
        Ok((state, changes))
    }

    pub fn configs(&self) -> &[ConfigInfo] {
        self.card.as_ref().map_or(&[], Card::configs)
    }

    /// The Parquet shards of one split: `{data_dir}/{split}-*.parquet`, directly in the folder,
    /// which is what the card's `data_files` glob (`data/train-*`) picks up.
    pub fn shards<'a>(&'a self, data_dir: &str, split: &str) -> Vec<(&'a str, &'a Content)> {
        shards_in(&self.files, data_dir, split)
    }
}

/// See [`DatasetState::shards`].
pub fn shards_in<'a>(files: &'a Files, data_dir: &str, split: &str) -> Vec<(&'a str, &'a Content)> {
    let prefix = if data_dir.is_empty() {
        format!("{split}-")
    } else {
        format!("{data_dir}/{split}-")
    };
    files
        .range(prefix.clone()..)
        .take_while(|(path, _)| path.starts_with(&prefix))
        .filter(|(path, _)| path.ends_with(".parquet") && !path[prefix.len()..].contains('/'))
        .map(|(path, content)| (path.as_str(), content))
        .collect()
}

/// The commit `rev` names (a branch, `origin/main`, a tag, a sha, `HEAD~2`, …).
pub fn resolve<'r>(repo: &'r git2::Repository, rev: &str) -> anyhow::Result<git2::Commit<'r>> {
    let object = repo
        .revparse_single(rev)
        .with_context(|| format!("unknown revision {rev:?}"))?;
    object
        .peel_to_commit()
        .with_context(|| format!("{rev:?} does not name a commit"))
}

/// A unique abbreviation of `id` (7 hex digits or more).
pub fn unique_abbrev(repo: &git2::Repository, id: git2::Oid) -> String {
    repo.find_object(id, None)
        .ok()
        .and_then(|object| object.short_id().ok())
        .and_then(|buf| buf.as_str().ok().map(str::to_string))
        .unwrap_or_else(|| id.to_string()[..7].to_string())
}

/// Card metadata as JSON, keys in their order (PyYAML reads the same values).
pub fn yaml_to_json(node: &Yaml) -> Value {
    match node {
        Yaml::Hash(map) => Value::Object(yaml_hash_to_json(map)),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Integer(n) => Value::from(*n),
        Yaml::Real(text) => match text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(number) => Value::Number(number),
            None => Value::String(text.clone()),
        },
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

fn yaml_hash_to_json(map: &yaml_rust2::yaml::Hash) -> Map<String, Value> {
    map.iter()
        .map(|(key, value)| {
            let key = match yaml_to_json(key) {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (key, yaml_to_json(value))
        })
        .collect()
}

impl DatasetState {
    /// The dataset at the commit `rev` names.
    pub fn at_rev(clone: &LocalClone, rev: &str) -> anyhow::Result<DatasetState> {
        let commit = resolve(&clone.repo, rev)?;
        DatasetState::at_commit(clone, rev, &commit)
    }

    /// The last published state: the remote-tracking branch, else the first commit (`init`'s).
    pub fn published_or_first(clone: &LocalClone) -> anyhow::Result<DatasetState> {
        if let Some(id) = super::remote_head(clone)? {
            let name = super::remote_ref(clone)
                .trim_start_matches("refs/remotes/")
                .to_string();
            return DatasetState::at_commit(clone, &name, &clone.repo.find_commit(id)?);
        }
        let mut commit = clone.repo.head()?.peel_to_commit()?;
        while let Ok(parent) = commit.parent(0) {
            commit = parent;
        }
        let name = unique_abbrev(&clone.repo, commit.id());
        DatasetState::at_commit(clone, &name, &commit).context("cannot read the first commit")
    }

    /// How messages name this state: `origin/main (abc1234)`, `the working tree`.
    pub fn label(&self, clone: &LocalClone) -> String {
        self.source.label(&clone.repo)
    }
}
