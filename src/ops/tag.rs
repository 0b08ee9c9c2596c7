//! `tag`: an annotated release tag in the local clone, whose default message says which
//! dataset it is and how many rows each split has; and the list of tags.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::Reporter;
use crate::repo::LocalClone;
use crate::repo::tags::{TagEntry, check_tag_name, clean_tag_message};
use crate::repo_id::from_dataset_url;
use crate::units::thousands;

/// What `tag NAME [REV] [-m MESSAGE]` is asked to do.
#[derive(Debug, Clone)]
pub struct TagOptions {
    pub dir: PathBuf,
    pub name: String,
    /// The commit to tag; default `HEAD`.
    pub rev: Option<String>,
    /// The tag message; default: the dataset and its rows per split.
    pub message: Option<String>,
}

/// The tag created: its name, the commit's short id, and the message's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedTag {
    pub name: String,
    pub short: String,
    pub subject: String,
}

pub fn create(options: &TagOptions, reporter: &dyn Reporter) -> anyhow::Result<CreatedTag> {
    let name = &options.name;
    check_tag_name(name)?;
    let message = options
        .message
        .as_deref()
        .map(clean_tag_message)
        .transpose()?;
    let rev = options.rev.as_deref().unwrap_or("HEAD");

    let clone = super::open_clone(&options.dir, reporter)?;
    let _lock = clone.lock()?;
    if clone.has_tag(name) {
        bail!("tag {name} already exists");
    }
    let commit = clone.resolve_commit(rev)?;
    let message = match message {
        Some(message) => message,
        None => default_message(&clone, commit.id, &commit.short, reporter),
    };
    clone.create_tag(name, commit.id, &message)?;
    let subject = message.lines().next().unwrap_or_default().to_string();
    reporter.status(&format!(
        "Created tag {name} at {}: {subject}",
        commit.short
    ));
    Ok(CreatedTag {
        name: name.clone(),
        short: commit.short,
        subject,
    })
}

/// Every tag of the clone at `dir`, sorted by name.
pub fn list(dir: &Path, reporter: &dyn Reporter) -> anyhow::Result<Vec<TagEntry>> {
    super::open_clone(dir, reporter)?.list_tags()
}

/// `Dataset OWNER/NAME at abc1234`, then one line per split with its rows, from the card of
/// that commit (none when the card has no `dataset_info`).
fn default_message(
    clone: &LocalClone,
    commit: git2::Oid,
    short: &str,
    reporter: &dyn Reporter,
) -> String {
    let dataset = match clone.origin_url().and_then(|url| from_dataset_url(&url)) {
        Ok(id) => id.to_string(),
        Err(_) => folder_name(&clone.root),
    };
    let mut message = format!("Dataset {dataset} at {short}\n");
    let splits = match split_lines(clone, commit) {
        Ok(lines) => lines,
        Err(error) => {
            reporter.warning(&format!(
                "no row counts in the tag message: {:#}",
                error.context(format!("cannot read README.md at {short}"))
            ));
            Vec::new()
        }
    };
    if !splits.is_empty() {
        message.push('\n');
        for line in splits {
            message.push_str(&line);
            message.push('\n');
        }
    }
    message
}

/// `train: 1,234 rows`, `en/test: 56 rows`, … from the README.md of `commit`.
fn split_lines(clone: &LocalClone, commit: git2::Oid) -> anyhow::Result<Vec<String>> {
    let Some(bytes) = clone.blob_at(commit, "README.md")? else {
        return Ok(Vec::new());
    };
    let text = std::str::from_utf8(&bytes).context("README.md is not valid UTF-8")?;
    let mut lines = Vec::new();
    for config in crate::card::read_configs(text)? {
        let prefix = match config.config_name.as_str() {
            "default" => String::new(),
            name => format!("{name}/"),
        };
        for split in &config.splits {
            let rows = split.num_examples;
            lines.push(format!(
                "{prefix}{}: {} row{}",
                split.name,
                thousands(rows),
                if rows == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(lines)
}

fn folder_name(root: &Path) -> String {
    root.canonicalize()
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| root.display().to_string())
}
