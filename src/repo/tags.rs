//! Annotated release tags: checking a name, resolving what it points to, creating and listing
//! them.

use std::path::Path;

use anyhow::{Context as _, bail, ensure};
use git2::Oid;

use super::LocalClone;
use super::refs::TAG_PREFIX;
use super::signature;

/// A commit a revision resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCommit {
    pub id: Oid,
    /// git's unique abbreviation (at least 7 characters).
    pub short: String,
}

/// One tag, as `tag --list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TagEntry {
    pub name: String,
    /// The commit it points to, abbreviated.
    pub short: String,
    /// The subject of the tag message (of the commit's message for a lightweight tag).
    pub subject: String,
}

/// Tag names as git accepts them, and not shaped like an option.
pub fn check_tag_name(name: &str) -> anyhow::Result<()> {
    ensure!(
        !name.starts_with('-') && git2::Reference::is_valid_name(&format!("{TAG_PREFIX}{name}")),
        "invalid tag name {name:?}: git refuses names with spaces, `..`, `~ ^ : ? * [ \\`, \
         control characters, a leading `-` or `.`, or a trailing `/`, `.` or `.lock` \
         (e.g. v1.0 or release/2026-01)"
    );
    Ok(())
}

/// A tag message cleaned up as `git tag -m` does (comments and trailing blanks removed).
pub fn clean_tag_message(text: &str) -> anyhow::Result<String> {
    let text = git2::message_prettify(text, None).context("invalid tag message")?;
    ensure!(!text.trim().is_empty(), "the tag message is empty");
    Ok(text)
}

impl LocalClone {
    /// Whether `refs/tags/NAME` exists.
    pub fn has_tag(&self, name: &str) -> bool {
        self.repo
            .find_reference(&format!("{TAG_PREFIX}{name}"))
            .is_ok()
    }

    /// The commit `rev` names (a branch, tag, id or `HEAD~2`).
    pub fn resolve_commit(&self, rev: &str) -> anyhow::Result<ResolvedCommit> {
        let commit = match self.repo.revparse_single(rev) {
            Ok(object) => object
                .peel_to_commit()
                .with_context(|| format!("{rev:?} does not point to a commit"))?,
            Err(error) if error.code() == git2::ErrorCode::NotFound => {
                bail!("cannot find the commit {rev:?} in {}", self.root.display())
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read the revision {rev:?}"));
            }
        };
        Ok(ResolvedCommit {
            id: commit.id(),
            short: unique_abbrev(commit.as_object())?,
        })
    }

    /// The content of `path` in `commit`'s tree; `None` when it has no such file.
    pub fn blob_at(&self, commit: Oid, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let tree = self.repo.find_commit(commit)?.tree()?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        Ok(Some(self.repo.find_blob(entry.id())?.content().to_vec()))
    }

    /// Creates the annotated tag `name` on `commit`, signed by the committer identity.
    pub fn create_tag(&self, name: &str, commit: Oid, message: &str) -> anyhow::Result<()> {
        let identities = signature::resolve(&self.repo.config()?, &signature::process_env)?;
        let object = self
            .repo
            .find_object(commit, Some(git2::ObjectType::Commit))?;
        self.repo
            .tag(name, &object, &identities.committer, message, false)
            .map_err(|error| match error.code() {
                git2::ErrorCode::Exists => anyhow::anyhow!("tag {name} already exists"),
                _ => anyhow::Error::new(error).context(format!("cannot create tag {name}")),
            })?;
        Ok(())
    }

    /// Every tag, sorted by name.
    pub fn list_tags(&self) -> anyhow::Result<Vec<TagEntry>> {
        let mut rows = Vec::new();
        for reference in self.repo.references_glob(&format!("{TAG_PREFIX}*"))? {
            let reference = reference?;
            let Ok(full) = reference.name() else { continue };
            let name = full.trim_start_matches(TAG_PREFIX).to_string();
            // An annotated tag's subject is its message's; a lightweight tag shows its commit's.
            let (target, subject) = match reference.peel_to_tag() {
                Ok(tag) => (
                    tag.target()?,
                    first_line(tag.message_bytes().unwrap_or_default()),
                ),
                Err(_) => {
                    let object = reference.peel(git2::ObjectType::Any)?;
                    let subject = object
                        .as_commit()
                        .map(|commit| first_line(commit.message_bytes()))
                        .unwrap_or_default();
                    (object, subject)
                }
            };
            let target = match target.peel_to_commit() {
                Ok(commit) => commit.into_object(),
                Err(_) => target,
            };
            rows.push(TagEntry {
                name,
                short: unique_abbrev(&target)?,
                subject,
            });
        }
        rows.sort();
        Ok(rows)
    }
}

fn first_line(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.lines().next().unwrap_or_default().trim().to_string()
}

fn unique_abbrev(object: &git2::Object<'_>) -> anyhow::Result<String> {
    let short = object.short_id()?;
    Ok(short.as_str().unwrap_or_default().to_string())
}
