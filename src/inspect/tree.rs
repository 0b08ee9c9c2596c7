//! The files of a commit or of the working tree, with LFS files seen through their pointers.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context as _;

use crate::repo::LocalClone;
use crate::repo::lfs::{self, Pointer};

/// What a file holds, as git (or git-lfs) identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A Git LFS file: the tree holds its pointer.
    Lfs(Pointer),
    /// A regular file: its git blob id and size.
    Blob { id: git2::Oid, size: u64 },
}

impl Content {
    /// The size of the file's real content.
    pub fn size(&self) -> u64 {
        match self {
            Content::Lfs(pointer) => pointer.size,
            Content::Blob { size, .. } => *size,
        }
    }
}

/// Every file of a tree by `/`-separated path.
pub type Files = BTreeMap<String, Content>;

/// Lists the files of `tree` (recursively), reading only the blobs small enough to be pointers.
pub fn tree_files(repo: &git2::Repository, tree: &git2::Tree) -> anyhow::Result<Files> {
    let odb = repo.odb()?;
    let mut files = Files::new();
    let mut failure = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let name = String::from_utf8_lossy(entry.name_bytes());
        let path = format!("{dir}{name}");
        match blob_content(repo, &odb, entry.id()) {
            Ok(content) => {
                files.insert(path, content);
                git2::TreeWalkResult::Ok
            }
            Err(error) => {
                failure = Some(error.context(format!("cannot read {path}")));
                git2::TreeWalkResult::Abort
            }
        }
    })?;
    match failure {
        Some(error) => Err(error),
        None => Ok(files),
    }
}

fn blob_content(
    repo: &git2::Repository,
    odb: &git2::Odb,
    id: git2::Oid,
) -> anyhow::Result<Content> {
    let (size, _) = odb.read_header(id)?;
    if size > 0 && size < 1024 {
        let blob = repo.find_blob(id)?;
        if let Some(pointer) = Pointer::parse(blob.content()) {
            return Ok(Content::Lfs(pointer));
        }
    }
    Ok(Content::Blob {
        id,
        size: size as u64,
    })
}

/// How a working-tree file differs from HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Not in HEAD (untracked or staged as new).
    New,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// A file of the working tree whose content differs from HEAD's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorktreeChange {
    pub path: String,
    pub kind: ChangeKind,
}

/// The working tree: HEAD's files with what git reports as changed read from disk (LFS files
/// hashed into pointers), and the changes themselves. A file git flags only because its stat
/// data changed (same content) is not a change.
pub fn worktree_files(clone: &LocalClone) -> anyhow::Result<(Files, Vec<WorktreeChange>)> {
    let repo = &clone.repo;
    let head = repo.head()?.peel_to_commit()?;
    let mut files = tree_files(repo, &head.tree()?)?;
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true)
        .renames_head_to_index(false)
        .renames_index_to_workdir(false);
    let statuses = repo
        .statuses(Some(&mut options))
        .context("cannot read the status of the working tree")?;
    let mut paths = HashSet::new();
    for entry in statuses.iter() {
        if entry.status() == git2::Status::CURRENT || entry.status().is_ignored() {
            continue;
        }
        let path = String::from_utf8_lossy(entry.path_bytes()).into_owned();
        paths.insert(path);
    }
    let mut paths: Vec<String> = paths.into_iter().collect();
    paths.sort();

    let mut hasher = None;
    let mut changes = Vec::new();
    for path in paths {
        let on_disk = clone.root.join(&path);
        let current = match std::fs::symlink_metadata(&on_disk) {
            Ok(meta) if meta.is_file() => Some(file_content(
                repo,
                &path,
                &on_disk,
                meta.len(),
                hasher.get_or_insert_with(lfs::Hasher::new),
            )?),
            Ok(_) => None,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", on_disk.display()));
            }
        };
        let before = files.get(&path);
        let kind = match (before, &current) {
            (None, None) => continue,
            (Some(old), Some(new)) if old == new => continue,
            (None, Some(_)) => ChangeKind::New,
            (Some(_), None) => ChangeKind::Deleted,
            (Some(_), Some(_)) => ChangeKind::Modified,
        };
        match current {
            Some(content) => files.insert(path.clone(), content),
            None => files.remove(&path),
        };
        changes.push(WorktreeChange { path, kind });
    }
    Ok((files, changes))
}

/// A working-tree file as it would be committed: a pointer when `.gitattributes` sends it to
/// LFS (an empty file stays an empty blob), else a blob.
fn file_content(
    repo: &git2::Repository,
    path: &str,
    on_disk: &Path,
    size: u64,
    hasher: &mut lfs::Hasher,
) -> anyhow::Result<Content> {
    let lfs = repo
        .get_attr(
            Path::new(path),
            "filter",
            git2::AttrCheckFlags::FILE_THEN_INDEX,
        )
        .ok()
        .flatten()
        == Some("lfs");
    if lfs && size > 0 {
        let pointer = hasher
            .pointer_for(on_disk)
            .with_context(|| format!("cannot hash {}", on_disk.display()))?;
        return Ok(Content::Lfs(pointer));
    }
    let id = git2::Oid::hash_file(git2::ObjectType::Blob, on_disk)
        .with_context(|| format!("cannot hash {}", on_disk.display()))?;
    Ok(Content::Blob { id, size })
}
