//! LFS pointers in git history: which objects a push must upload first, and the checkout that
//! replaces the pointer text a clone leaves in the working tree with the real content.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, ensure};
use git2::{FileMode, ObjectType, Oid, TreeWalkMode, TreeWalkResult};

use super::Pointer;
use crate::repo::LocalClone;
use crate::repo::lfs;
use crate::repo::paths::check_worktree_target;
use crate::repo::worktree::{index_entry, settle};

/// Writes the content of the LFS object `pointer` to the given path (a temporary file in
/// `.git/lfs/tmp`); [`checkout_lfs`] checks its hash and size, then moves it into the store.
pub type FetchObject<'a> = &'a dyn Fn(&Pointer, &Path) -> anyhow::Result<()>;

/// What [`checkout_lfs`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LfsCheckout {
    /// LFS files of HEAD (paths), each holding its content now.
    pub files: usize,
    /// Objects that were missing from `.git/lfs/objects` and fetched.
    pub fetched: usize,
    /// Files left alone: changed in the working tree (neither the pointer nor the content).
    pub modified: Vec<String>,
}

/// Every LFS pointer in the trees of the commits reachable from `tip` and from none of `have`
/// (the objects a push of `tip` must upload first, since the Hub checks every file of every new
/// commit), one per LFS oid with the smallest path it was seen at, sorted by path. Ids in `have`
/// that are not in the local repository are ignored.
pub fn lfs_pointers_between(
    clone: &LocalClone,
    have: &[Oid],
    tip: Oid,
) -> anyhow::Result<Vec<(String, Pointer)>> {
    let repo = &clone.repo;
    let mut walk = repo.revwalk()?;
    walk.push(tip)
        .with_context(|| format!("cannot walk the history of {tip}"))?;
    for id in have {
        if repo.find_commit(*id).is_ok() {
            walk.hide(*id)?;
        }
    }
    let mut scan = Scan::new(repo);
    for commit in walk {
        let commit = repo.find_commit(commit?)?;
        scan.tree(&commit.tree()?, true)?;
    }
    Ok(scan.distinct())
}

/// Every LFS pointer in the tree of `commit`, one per LFS oid, sorted by path.
pub fn lfs_pointers_at(clone: &LocalClone, commit: Oid) -> anyhow::Result<Vec<(String, Pointer)>> {
    let mut scan = Scan::new(&clone.repo);
    scan.tree(&clone.repo.find_commit(commit)?.tree()?, true)?;
    Ok(scan.distinct())
}

/// For every LFS file of HEAD: makes sure its object is in `.git/lfs/objects` (calling
/// `fetch_object` for the missing ones, then checking sha256 and size), puts the content in the
/// working tree in place of the pointer text, and refreshes the index entry's stat data so
/// `git status` stays clean. Files the user changed are left alone and listed. Call it with the
/// clone's lock held.
pub fn checkout_lfs(
    clone: &LocalClone,
    fetch_object: FetchObject<'_>,
) -> anyhow::Result<LfsCheckout> {
    let head = clone
        .repo
        .find_reference(&clone.branch)
        .and_then(|reference| reference.peel_to_commit())
        .with_context(|| format!("cannot read the last commit of {}", clone.branch))?;
    let mut scan = Scan::new(&clone.repo);
    scan.tree(&head.tree()?, false)?;
    let files = scan.found;

    let git_dir = clone.repo.path();
    let tmp_dir = git_dir.join("lfs").join("tmp");
    let mut report = LfsCheckout::default();
    let mut hasher = lfs::Hasher::new();
    let mut ready = HashSet::new();
    for file in &files {
        if ready.contains(&file.pointer.oid) || has_object(git_dir, &file.pointer) {
            ready.insert(file.pointer.oid.clone());
            continue;
        }
        fs::create_dir_all(&tmp_dir)
            .with_context(|| format!("cannot create {}", tmp_dir.display()))?;
        let download = tempfile::Builder::new()
            .prefix(&format!("{}-", file.pointer.oid))
            .permissions(umask_mode())
            .tempfile_in(&tmp_dir)
            .with_context(|| format!("cannot create a temporary file in {}", tmp_dir.display()))?
            .into_temp_path();
        fetch_object(&file.pointer, &download).with_context(|| {
            format!(
                "cannot download {} (LFS object {})",
                file.path, file.pointer.oid
            )
        })?;
        let got = hasher
            .pointer_for(&download)
            .with_context(|| format!("cannot read the downloaded {}", file.path))?;
        ensure!(
            got == file.pointer,
            "the downloaded content of {} does not match its LFS pointer (got sha256 {} and {} \
             bytes, expected {} and {} bytes)",
            file.path,
            got.oid,
            got.size,
            file.pointer.oid,
            file.pointer.size
        );
        let target = lfs::store_path(git_dir, &file.pointer.oid);
        let parent = target.parent().expect("store paths have a parent");
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        download
            .persist(&target)
            .with_context(|| format!("cannot move the LFS object to {}", target.display()))?;
        report.fetched += 1;
        ready.insert(file.pointer.oid.clone());
    }

    let mut index = clone.repo.index().context("cannot open the git index")?;
    index.read(false).context("cannot read the git index")?;
    let settled_mtime = SystemTime::now() - Duration::from_secs(1);
    for file in &files {
        check_worktree_target(&clone.root, &file.path)?;
        let target = clone.root.join(&file.path);
        match worktree_state(&target, &file.pointer, &mut hasher)? {
            Worktree::Pointer => {
                let object = lfs::store_path(git_dir, &file.pointer.oid);
                let mut copy = tempfile::Builder::new()
                    .prefix(".hf-relay-lfs-")
                    .permissions(umask_mode())
                    .tempfile_in(target.parent().unwrap_or(&clone.root))
                    .context("cannot create a temporary file in the working tree")?;
                // Not `fs::copy`, which would give the file the object's mode.
                fs::File::open(&object)
                    .and_then(|mut source| io::copy(&mut source, copy.as_file_mut()))
                    .with_context(|| {
                        format!("cannot copy {} to {}", object.display(), file.path)
                    })?;
                let copy = copy.into_temp_path();
                settle(&copy, settled_mtime)?;
                copy.persist(&target)
                    .with_context(|| format!("cannot write {}", target.display()))?;
            }
            Worktree::Content => {}
            Worktree::Modified => {
                report.modified.push(file.path.clone());
                continue;
            }
        }
        let meta = fs::symlink_metadata(&target)
            .with_context(|| format!("cannot read {}", target.display()))?;
        index
            .add(&index_entry(&file.path, file.blob, &meta))
            .with_context(|| format!("cannot update {} in the git index", file.path))?;
        report.files += 1;
    }
    index.write().context("cannot write the git index")?;
    Ok(report)
}

/// The mode of a new file: 0666 less the umask, as git and git-lfs create files (tempfile's
/// own is 0600).
fn umask_mode() -> fs::Permissions {
    std::os::unix::fs::PermissionsExt::from_mode(0o666)
}

/// Whether the store holds `pointer`'s object with the right size.
fn has_object(git_dir: &Path, pointer: &Pointer) -> bool {
    fs::metadata(lfs::store_path(git_dir, &pointer.oid))
        .is_ok_and(|meta| meta.is_file() && meta.len() == pointer.size)
}

enum Worktree {
    /// The pointer text, as git2 checked it out.
    Pointer,
    /// Already the content.
    Content,
    /// Missing, or changed by the user.
    Modified,
}

fn worktree_state(
    path: &Path,
    pointer: &Pointer,
    hasher: &mut lfs::Hasher,
) -> anyhow::Result<Worktree> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Ok(Worktree::Modified),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Worktree::Modified),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    let blob = pointer.git_blob();
    if meta.len() == blob.len() as u64 {
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if bytes == blob {
            return Ok(Worktree::Pointer);
        }
    }
    if meta.len() == pointer.size {
        let got = hasher
            .pointer_for(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if got == *pointer {
            return Ok(Worktree::Content);
        }
    }
    Ok(Worktree::Modified)
}

/// An LFS file found in a tree.
struct Found {
    path: String,
    blob: Oid,
    pointer: Pointer,
}

/// Walks trees, reading each small blob once.
struct Scan<'r> {
    repo: &'r git2::Repository,
    odb: Option<git2::Odb<'r>>,
    /// Blob id → its pointer, if it is one.
    blobs: HashMap<Oid, Option<Pointer>>,
    /// Trees already walked (skipped when `distinct`: they hold nothing new).
    trees: HashSet<Oid>,
    found: Vec<Found>,
}

impl<'r> Scan<'r> {
    fn new(repo: &'r git2::Repository) -> Scan<'r> {
        Scan {
            repo,
            odb: None,
            blobs: HashMap::new(),
            trees: HashSet::new(),
            found: Vec::new(),
        }
    }

    /// Adds the LFS files of `tree`. With `distinct`, a subtree already walked is skipped and a
    /// blob already seen is not reported again.
    fn tree(&mut self, tree: &git2::Tree<'_>, distinct: bool) -> anyhow::Result<()> {
        if distinct && !self.trees.insert(tree.id()) {
            return Ok(());
        }
        if self.odb.is_none() {
            self.odb = Some(self.repo.odb()?);
        }
        let mut failure = None;
        tree.walk(TreeWalkMode::PreOrder, |folder, entry| match entry.kind() {
            Some(ObjectType::Tree) => {
                if distinct && !self.trees.insert(entry.id()) {
                    return TreeWalkResult::Skip;
                }
                TreeWalkResult::Ok
            }
            Some(ObjectType::Blob) => {
                let mode = entry.filemode();
                let regular = mode == i32::from(FileMode::Blob)
                    || (distinct && mode == i32::from(FileMode::BlobExecutable));
                if !regular || (distinct && self.blobs.contains_key(&entry.id())) {
                    return TreeWalkResult::Ok;
                }
                match self.pointer(entry.id()) {
                    Ok(Some(pointer)) => {
                        let name = String::from_utf8_lossy(entry.name_bytes());
                        self.found.push(Found {
                            path: format!("{folder}{name}"),
                            blob: entry.id(),
                            pointer,
                        });
                        TreeWalkResult::Ok
                    }
                    Ok(None) => TreeWalkResult::Ok,
                    Err(error) => {
                        failure = Some(error);
                        TreeWalkResult::Abort
                    }
                }
            }
            _ => TreeWalkResult::Ok,
        })
        .or_else(|error| match failure.is_some() {
            true => Ok(()),
            false => Err(error),
        })?;
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The pointer held by blob `id`, if it is one; pointers are < 1024 bytes (spec), so larger
    /// blobs are never read.
    fn pointer(&mut self, id: Oid) -> anyhow::Result<Option<Pointer>> {
        if let Some(known) = self.blobs.get(&id) {
            return Ok(known.clone());
        }
        let odb = self.odb.as_ref().expect("set before the walk");
        let (size, _) = odb.read_header(id)?;
        let pointer = if size > 0 && size < 1024 {
            Pointer::parse(self.repo.find_blob(id)?.content())
        } else {
            None
        };
        self.blobs.insert(id, pointer.clone());
        Ok(pointer)
    }

    /// One entry per LFS oid (with the smallest of its paths, whatever the walk order),
    /// sorted by path.
    fn distinct(self) -> Vec<(String, Pointer)> {
        let mut by_oid: HashMap<String, (String, Pointer)> = HashMap::new();
        for found in self.found {
            match by_oid.get_mut(&found.pointer.oid) {
                Some(kept) if kept.0 <= found.path => {}
                Some(kept) => kept.0 = found.path,
                None => {
                    by_oid.insert(found.pointer.oid.clone(), (found.path, found.pointer));
                }
            }
        }
        let mut out: Vec<(String, Pointer)> = by_oid.into_values().collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
