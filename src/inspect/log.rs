//! History with what the dataset looked like at each commit: rows per split from the card,
//! and the row delta per split from the commit message (`Rows:`, written by `build`). Reads
//! only commits, cards and messages: a log never decodes data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::align::{RowDelta, parse_rows_line};
use super::state::{Card, unique_abbrev};
use super::status::remote_head;
use crate::repo::LocalClone;

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub commit: String,
    pub short: String,
    /// Author time, seconds since the epoch, and its UTC offset in minutes.
    pub time: i64,
    pub offset_minutes: i32,
    pub subject: String,
    /// The full message.
    pub message: String,
    /// Rows per split from the card at that commit, in the card's order.
    pub splits: Vec<SplitRows>,
    /// Why the card at that commit cannot be read, if so.
    pub card_error: Option<String>,
    /// Tags pointing at the commit, sorted.
    pub tags: Vec<String>,
    /// Whether this is the last known remote state (`origin/main`).
    pub remote_head: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SplitRows {
    pub config: String,
    pub split: String,
    pub num_examples: u64,
    /// Rows added, removed and changed by this commit, when its message says (see
    /// [`super::align::rows_line`]).
    pub rows_delta: Option<RowDelta>,
}

/// The branch's history, newest first.
pub fn log(clone: &LocalClone) -> anyhow::Result<Vec<LogEntry>> {
    let repo = &clone.repo;
    let tags = tags_by_commit(repo)?;
    let remote = remote_head(clone)?;
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    walk.push_head()?;
    let mut entries = Vec::new();
    for id in walk {
        let id = id?;
        let commit = repo.find_commit(id)?;
        let (mut splits, card_error) = splits_at(repo, &commit)?;
        let deltas = parse_rows_line(&String::from_utf8_lossy(commit.message_bytes()));
        for split in &mut splits {
            let name = match split.config.as_str() {
                "default" => split.split.clone(),
                config => format!("{config}/{}", split.split),
            };
            split.rows_delta = deltas.iter().find(|(n, _)| *n == name).map(|(_, d)| *d);
        }
        let when = commit.author().when();
        entries.push(LogEntry {
            commit: id.to_string(),
            short: unique_abbrev(repo, id),
            time: when.seconds(),
            offset_minutes: when.offset_minutes(),
            subject: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                .into_owned(),
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            splits,
            card_error,
            tags: tags.get(&id).cloned().unwrap_or_default(),
            remote_head: remote == Some(id),
        });
    }
    Ok(entries)
}

fn splits_at(
    repo: &git2::Repository,
    commit: &git2::Commit,
) -> anyhow::Result<(Vec<SplitRows>, Option<String>)> {
    let tree = commit.tree()?;
    let entry = match tree.get_name("README.md") {
        Some(entry) if entry.kind() == Some(git2::ObjectType::Blob) => entry,
        _ => return Ok((Vec::new(), None)),
    };
    let blob = repo.find_blob(entry.id())?;
    let card = Card::parse(String::from_utf8_lossy(blob.content()).into_owned());
    match &card.configs {
        Ok(configs) => Ok((
            configs
                .iter()
                .flat_map(|config| {
                    config.splits.iter().map(|split| SplitRows {
                        config: config.config_name.clone(),
                        split: split.name.clone(),
                        num_examples: split.num_examples,
                        rows_delta: None,
                    })
                })
                .collect(),
            None,
        )),
        Err(error) => Ok((Vec::new(), Some(error.clone()))),
    }
}

/// Tag names by the commit they point at.
pub fn tags_by_commit(repo: &git2::Repository) -> anyhow::Result<BTreeMap<git2::Oid, Vec<String>>> {
    let mut map: BTreeMap<git2::Oid, Vec<String>> = BTreeMap::new();
    for reference in repo.references_glob("refs/tags/*")? {
        let reference = reference?;
        let (Some(name), Ok(commit)) = (reference.shorthand().ok(), reference.peel_to_commit())
        else {
            continue;
        };
        map.entry(commit.id()).or_default().push(name.to_string());
    }
    for names in map.values_mut() {
        names.sort();
    }
    Ok(map)
}
