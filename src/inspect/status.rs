//! What is not published yet, measured against the last known remote state
//! (`refs/remotes/origin/BRANCH`, as the last fetch or push left it): works offline.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::pushed_tags::read_pushed_tags;
use super::state::unique_abbrev;
use super::tree::{self, Content, WorktreeChange};
use crate::repo::LocalClone;
use crate::repo::lfs::Pointer;

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `main`.
    pub branch: String,
    /// The last known remote state of the branch; `None` when never published.
    pub remote: Option<RemoteHead>,
    /// Commits on the branch that the remote state does not have (all of them when never
    /// published), newest first.
    pub unpublished: Vec<CommitLine>,
    /// Commits of the remote state the branch does not have.
    pub behind: usize,
    /// LFS objects referenced by unpublished commits that the remote history does not
    /// reference: what a push uploads.
    pub lfs_objects: usize,
    pub lfs_bytes: u64,
    /// Of those, the ones missing from `.git/lfs/objects` (a push would fail on them).
    pub lfs_missing: usize,
    /// Working-tree files whose content differs from HEAD.
    pub uncommitted: Vec<WorktreeChange>,
    /// Local tags the Hub does not have as they are (see [`super::pushed_tags`]).
    pub unpushed_tags: Vec<TagLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RemoteHead {
    /// `origin/main`.
    pub name: String,
    pub commit: String,
    pub short: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommitLine {
    pub commit: String,
    pub short: String,
    pub subject: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagLine {
    pub name: String,
    /// What `refs/tags/NAME` points at (the tag object for an annotated tag).
    pub target: String,
    /// The commit it names.
    pub commit: String,
    pub short: String,
    /// The tag was pushed, but pointing elsewhere.
    pub moved: bool,
}

impl Status {
    pub fn ahead(&self) -> usize {
        self.unpublished.len()
    }

    /// Nothing to push and nothing uncommitted.
    pub fn is_clean(&self) -> bool {
        self.unpublished.is_empty() && self.uncommitted.is_empty() && self.unpushed_tags.is_empty()
    }
}

/// The remote-tracking ref of the clone's branch (`refs/remotes/origin/NAME`, as a fetch,
/// `clone --revision NAME` or `push --branch NAME` left it); for a branch the Hub has never
/// had, `refs/remotes/origin/main`, where a push of it starts from.
pub fn remote_ref(clone: &LocalClone) -> String {
    let short = clone
        .branch
        .strip_prefix("refs/heads/")
        .unwrap_or(&clone.branch);
    let own = format!("refs/remotes/origin/{short}");
    if short != "main" && clone.repo.find_reference(&own).is_err() {
        return crate::repo::remote::ORIGIN_MAIN.to_string();
    }
    own
}

/// The commit of the last known remote state, if the branch was ever fetched or pushed.
pub fn remote_head(clone: &LocalClone) -> anyhow::Result<Option<git2::Oid>> {
    match clone.repo.find_reference(&remote_ref(clone)) {
        Ok(reference) => Ok(Some(reference.peel_to_commit()?.id())),
        Err(error) if error.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(error) => Err(error.into()),
    }
}

pub fn status(clone: &LocalClone) -> anyhow::Result<Status> {
    let repo = &clone.repo;
    let head = repo.head()?.peel_to_commit()?.id();
    let remote = remote_head(clone)?;

    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    walk.push(head)?;
    if let Some(remote) = remote {
        walk.hide(remote)?;
    }
    let mut unpublished = Vec::new();
    let mut unpublished_ids = Vec::new();
    for id in walk {
        let id = id?;
        let commit = repo.find_commit(id)?;
        unpublished.push(CommitLine {
            commit: id.to_string(),
            short: unique_abbrev(repo, id),
            subject: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                .into_owned(),
        });
        unpublished_ids.push(id);
    }
    let behind = match remote {
        Some(remote) => repo.graph_ahead_behind(head, remote)?.1,
        None => 0,
    };

    let published = match remote {
        Some(remote) => history_pointers(repo, remote)?,
        None => BTreeMap::new(),
    };
    let mut to_upload = BTreeMap::new();
    let mut seen_trees = HashSet::new();
    for id in &unpublished_ids {
        let tree = repo.find_commit(*id)?.tree()?;
        collect_pointers(repo, &tree, &mut seen_trees, &mut to_upload)?;
    }
    to_upload.retain(|oid, _| !published.contains_key(oid));
    let lfs_bytes = to_upload.values().sum();
    let lfs_missing = to_upload
        .iter()
        .filter(|(oid, size)| {
            let path = crate::repo::lfs::store_path(repo.path(), oid);
            !std::fs::metadata(path).is_ok_and(|meta| meta.len() == **size)
        })
        .count();

    let (_, uncommitted) = tree::worktree_files(clone)?;
    let unpushed_tags = if remote.is_some() {
        unpushed_tags(repo)?
    } else {
        // Never published: the Hub has none of the tags, whatever the record says.
        all_tags(repo)?
    };

    Ok(Status {
        branch: clone
            .branch
            .strip_prefix("refs/heads/")
            .unwrap_or(&clone.branch)
            .to_string(),
        remote: remote.map(|id| RemoteHead {
            name: remote_ref(clone)
                .trim_start_matches("refs/remotes/")
                .to_string(),
            commit: id.to_string(),
            short: unique_abbrev(repo, id),
        }),
        unpublished,
        behind,
        lfs_objects: to_upload.len(),
        lfs_bytes,
        lfs_missing,
        uncommitted,
        unpushed_tags,
    })
}

/// The commits of the local tags the Hub does not have (all of them when the branch was never
/// published): with the branch's unpublished commits, what a push publishes.
pub fn unpushed_tag_commits(clone: &LocalClone) -> anyhow::Result<Vec<git2::Oid>> {
    let tags = match remote_head(clone)? {
        Some(_) => unpushed_tags(&clone.repo)?,
        None => all_tags(&clone.repo)?,
    };
    Ok(tags
        .iter()
        .filter_map(|tag| git2::Oid::from_str(&tag.commit).ok())
        .collect())
}

/// The LFS objects (oid → size) referenced anywhere in the history of `tip`.
fn history_pointers(
    repo: &git2::Repository,
    tip: git2::Oid,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut walk = repo.revwalk()?;
    walk.push(tip)?;
    let mut pointers = BTreeMap::new();
    let mut seen_trees = HashSet::new();
    for id in walk {
        let tree = repo.find_commit(id?)?.tree()?;
        collect_pointers(repo, &tree, &mut seen_trees, &mut pointers)?;
    }
    Ok(pointers)
}

/// Adds the non-empty LFS pointers of `tree` to `out`, skipping subtrees already visited (a
/// build changes few folders, so each commit costs only what it changed).
fn collect_pointers(
    repo: &git2::Repository,
    tree: &git2::Tree,
    seen_trees: &mut HashSet<git2::Oid>,
    out: &mut BTreeMap<String, u64>,
) -> anyhow::Result<()> {
    if !seen_trees.insert(tree.id()) {
        return Ok(());
    }
    for entry in tree.iter() {
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let subtree = repo.find_tree(entry.id())?;
                collect_pointers(repo, &subtree, seen_trees, out)?;
            }
            Some(git2::ObjectType::Blob) => {
                if let Some(Content::Lfs(Pointer { oid, size })) = pointer_of(repo, entry.id())?
                    && size > 0
                {
                    out.insert(oid, size);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn pointer_of(repo: &git2::Repository, id: git2::Oid) -> anyhow::Result<Option<Content>> {
    let (size, _) = repo.odb()?.read_header(id)?;
    if size == 0 || size >= 1024 {
        return Ok(None);
    }
    let blob = repo.find_blob(id)?;
    Ok(Pointer::parse(blob.content()).map(Content::Lfs))
}

/// Every local tag: name → (ref target, commit).
fn local_tags(repo: &git2::Repository) -> anyhow::Result<Vec<(String, git2::Oid, git2::Oid)>> {
    let mut tags = Vec::new();
    for reference in repo.references_glob("refs/tags/*")? {
        let reference = reference?;
        let Some(name) = reference.shorthand().ok().map(str::to_string) else {
            continue;
        };
        let Some(target) = reference.target() else {
            continue;
        };
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        tags.push((name, target, commit.id()));
    }
    tags.sort();
    Ok(tags)
}

fn tag_line(
    repo: &git2::Repository,
    name: String,
    target: git2::Oid,
    commit: git2::Oid,
    moved: bool,
) -> TagLine {
    TagLine {
        name,
        target: target.to_string(),
        commit: commit.to_string(),
        short: unique_abbrev(repo, commit),
        moved,
    }
}

fn all_tags(repo: &git2::Repository) -> anyhow::Result<Vec<TagLine>> {
    Ok(local_tags(repo)?
        .into_iter()
        .map(|(name, target, commit)| tag_line(repo, name, target, commit, false))
        .collect())
}

fn unpushed_tags(repo: &git2::Repository) -> anyhow::Result<Vec<TagLine>> {
    let pushed = read_pushed_tags(repo.path())?;
    Ok(local_tags(repo)?
        .into_iter()
        .filter_map(|(name, target, commit)| match pushed.get(&name) {
            Some(sha) if *sha == target.to_string() => None,
            Some(_) => Some(tag_line(repo, name, target, commit, true)),
            None => Some(tag_line(repo, name, target, commit, false)),
        })
        .collect())
}
