//! The refs a publish reads and moves: HEAD, the local tags, the last known state of the
//! Hub's `main`, and the tree of HEAD.

use std::path::Path;

use anyhow::{Context as _, ensure};
use git2::Oid;

use super::LocalClone;
use super::paths::check_path;
use super::remote::ORIGIN_MAIN;

/// Where tags live.
pub const TAG_PREFIX: &str = "refs/tags/";

impl LocalClone {
    /// The `.git` folder.
    pub fn git_dir(&self) -> &std::path::Path {
        self.repo.path()
    }

    /// The commit HEAD points to.
    pub fn head_id(&self) -> anyhow::Result<Oid> {
        Ok(self.repo.head()?.peel_to_commit()?.id())
    }

    /// What HEAD names, as the source of a push: its branch (`refs/heads/main`), or `HEAD`
    /// when it is detached.
    pub fn head_ref_name(&self) -> anyhow::Result<String> {
        Ok(self.repo.head()?.name().unwrap_or("HEAD").to_string())
    }

    /// Whether `commit` already contains `other` (equal, or a descendant of it).
    pub fn contains(&self, commit: Oid, other: Oid) -> anyhow::Result<bool> {
        Ok(commit == other || self.repo.graph_descendant_of(commit, other)?)
    }

    /// The local tags, `(NAME, id)` sorted by name, where the id is what `refs/tags/NAME`
    /// holds (the tag object of an annotated tag).
    pub fn tags(&self) -> anyhow::Result<Vec<(String, Oid)>> {
        let mut tags = Vec::new();
        for reference in self.repo.references_glob(&format!("{TAG_PREFIX}*"))? {
            let reference = reference?;
            let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
                continue;
            };
            tags.push((name.trim_start_matches(TAG_PREFIX).to_string(), target));
        }
        tags.sort();
        Ok(tags)
    }

    /// Records `id` as the last known state of the Hub's `main` (`refs/remotes/origin/main`).
    pub fn set_published_main(&self, id: Oid, reason: &str) -> anyhow::Result<()> {
        self.repo
            .reference(ORIGIN_MAIN, id, true, &format!("hf-relay: {reason}"))?;
        Ok(())
    }

    /// The id of the tree at `dir` in HEAD, when HEAD has such a folder.
    pub fn head_tree_id_of(&self, dir: &str) -> Option<String> {
        let tree = self.repo.head().ok()?.peel_to_tree().ok()?;
        let entry = tree.get_path(std::path::Path::new(dir)).ok()?;
        Some(entry.id().to_string())
    }

    /// The files (blobs and links) in HEAD's tree, recursively.
    pub fn head_file_count(&self) -> anyhow::Result<usize> {
        let tree = self.repo.head()?.peel_to_tree()?;
        let mut files = 0;
        tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                files += 1;
            }
            git2::TreeWalkResult::Ok
        })?;
        Ok(files)
    }

    /// The raw blob at `path` in HEAD (for an LFS file: its pointer text); `None` when absent.
    pub fn head_blob(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        check_path(path)?;
        let tree = self.head_commit()?.tree()?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("cannot read {path} in HEAD")),
        };
        ensure!(
            entry.kind() == Some(git2::ObjectType::Blob),
            "{path} is not a file in HEAD"
        );
        let blob = self.repo.find_blob(entry.id())?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Paths of the files in HEAD's tree directly under folder `dir` (not recursive), sorted.
    /// `""` is the root; an absent folder has no files.
    pub fn head_files_in(&self, dir: &str) -> anyhow::Result<Vec<String>> {
        let dir = dir.trim_matches('/');
        let root_tree = self.head_commit()?.tree()?;
        let tree = if dir.is_empty() || dir == "." {
            root_tree
        } else {
            check_path(dir)?;
            match root_tree.get_path(Path::new(dir)) {
                Ok(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                    self.repo.find_tree(entry.id())?
                }
                Ok(_) => return Ok(Vec::new()),
                Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
                Err(error) => {
                    return Err(error).with_context(|| format!("cannot read {dir}/ in HEAD"));
                }
            }
        };
        let mut files = Vec::new();
        for entry in tree.iter() {
            if entry.kind() != Some(git2::ObjectType::Blob) {
                continue;
            }
            let name = entry.name().with_context(|| {
                format!(
                    "a file name in {dir}/ is not valid UTF-8: {:?}",
                    String::from_utf8_lossy(entry.name_bytes())
                )
            })?;
            files.push(if dir.is_empty() || dir == "." {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            });
        }
        files.sort();
        Ok(files)
    }

    pub(super) fn head_commit(&self) -> anyhow::Result<git2::Commit<'_>> {
        self.repo
            .find_reference(&self.branch)
            .and_then(|reference| reference.peel_to_commit())
            .with_context(|| format!("cannot read the last commit of {}", self.branch))
    }
}
