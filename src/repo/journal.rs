//! The commit journal: what a commit still has to do once its objects exist, so that a process
//! killed while it puts files into the working tree leaves a clone the next one can finish.
//!
//! Several files cannot be replaced atomically on POSIX. So before its first rename a commit
//! writes `.git/hf-relay/commit-in-progress.json` (a temporary file renamed into place: whole
//! or absent), then [`apply`]s it: renames, deletes, index, branch, and removes it. Applying
//! rolls forward only and is idempotent, so the same code completes an interrupted commit when
//! the clone is next opened ([`recover`], from `LocalClone::open`), under the clone's lock: a live
//! process's journal and folders are never touched.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{Context as _, bail, ensure};
use git2::Oid;
use serde::{Deserialize, Serialize};

use super::lock::remove_stale_locks;
use super::paths::{check_path, check_worktree_target};
use super::state::COMMIT_JOURNAL;
use super::worktree::{index_entry, remove_empty_parents};
use super::{LocalClone, lfs, short_branch};
/// Prefix of a build's staging folder in `.git/` (`LocalClone::staging_dir`).
pub(super) const STAGING_PREFIX: &str = "hf-relay-staging-";
/// Prefix of a commit's scratch folder in `.git/`, which holds the files it moves in.
pub(super) const SCRATCH_PREFIX: &str = "hf-relay-commit-";

/// A commit whose objects are written and whose branch may not have moved yet.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Journal {
    /// e.g. `refs/heads/main`.
    pub branch: String,
    pub old_head: String,
    pub new_commit: String,
    pub moves: Vec<Move>,
    /// Working-tree paths to delete.
    pub deletes: Vec<String>,
    /// Folders directly under `.git/` to remove at the end (the commit's scratch folder).
    pub cleanup: Vec<String>,
}

/// A file to rename into the working tree.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Move {
    /// Relative to `.git/`, inside one of the `cleanup` folders.
    pub source: String,
    /// Relative to the root of the clone.
    pub path: String,
    /// The blob the index records for `path` (for an LFS file: its pointer).
    pub blob: String,
}

/// A commit an interrupted process had left half-applied, now completed.
#[derive(Debug, Clone)]
pub struct Recovered {
    pub commit: Oid,
    /// The commit's subject line.
    pub subject: String,
}

/// How far [`apply`] got.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Applied {
    Done,
    /// Stopped by the test hook ([`crate::env::HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW`]).
    Stopped,
}

/// Writes the journal atomically and synced to disk (see [`crate::repo::state`]).
pub(super) fn write(git_dir: &Path, journal: &Journal) -> anyhow::Result<()> {
    COMMIT_JOURNAL.write(git_dir, &serde_json::to_vec_pretty(journal)?)
}

/// The journal of `git_dir`, if there is one.
fn read(git_dir: &Path) -> anyhow::Result<Option<Journal>> {
    let Some(bytes) = COMMIT_JOURNAL.read(git_dir)? else {
        return Ok(None);
    };
    let path = COMMIT_JOURNAL.path(git_dir);
    let journal: Journal = serde_json::from_slice(&bytes)
        .map_err(anyhow::Error::from)
        .and_then(|journal: Journal| journal.check().map(|()| journal))
        .with_context(|| {
            format!(
                "{} is not a valid hf-relay commit journal; check `git status`, then delete it",
                path.display()
            )
        })?;
    Ok(Some(journal))
}

impl Journal {
    /// The journal only names files inside the clone and folders hf-relay creates.
    fn check(&self) -> anyhow::Result<()> {
        ensure!(
            self.branch.starts_with("refs/heads/"),
            "{:?} is not a branch",
            self.branch
        );
        for id in [&self.old_head, &self.new_commit] {
            Oid::from_str(id).with_context(|| format!("{id:?} is not a commit id"))?;
        }
        for name in &self.cleanup {
            ensure!(
                is_leftover_name(name),
                "{name:?} is not an hf-relay scratch folder"
            );
        }
        for one in &self.moves {
            check_path(&one.path)?;
            check_path(&one.source)?;
            ensure!(
                self.cleanup
                    .iter()
                    .any(|folder| one.source.starts_with(&format!("{folder}/"))),
                "{:?} is not in a scratch folder",
                one.source
            );
            Oid::from_str(&one.blob).with_context(|| format!("{:?} is not a blob id", one.blob))?;
        }
        for path in &self.deletes {
            check_path(path)?;
        }
        Ok(())
    }
}

/// Puts `journal` in place: every source still there is renamed to its path, the deletes are
/// applied, the index entries are rebuilt from the files, the branch moves from the old head
/// to the new commit (compare-and-swap), then the journal and its folders are removed. Nothing
/// is changed when the branch is neither at the old head nor at the new commit.
///
/// `stop_after` (tests only) stops as a kill would, once that many files are renamed (0: before
/// the first); a number beyond the moves stops after the branch moved, before the cleanup.
pub(super) fn apply(
    clone: &LocalClone,
    journal: &Journal,
    reflog: &str,
    stop_after: Option<usize>,
) -> anyhow::Result<Applied> {
    let git_dir = clone.repo.path();
    let old = Oid::from_str(&journal.old_head)?;
    let new = Oid::from_str(&journal.new_commit)?;
    let current = branch_position(clone, journal)?;
    if stop_after == Some(0) {
        return Ok(Applied::Stopped);
    }

    let mut renamed = 0;
    let mut entries = Vec::with_capacity(journal.moves.len());
    for one in &journal.moves {
        let blob = Oid::from_str(&one.blob)?;
        let source = git_dir.join(&one.source);
        let target = clone.root.join(&one.path);
        check_worktree_target(&clone.root, &one.path)?;
        match fs::symlink_metadata(&source) {
            Ok(_) => {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create folder {}", parent.display()))?;
                }
                fs::rename(&source, &target).with_context(|| {
                    format!("cannot move {} to {}", source.display(), target.display())
                })?;
                renamed += 1;
                if stop_after == Some(renamed) {
                    return Ok(Applied::Stopped);
                }
            }
            // Moved before the interruption: the target must be that file.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                check_moved(clone, &one.path, &target, blob)?;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot inspect {}", source.display()));
            }
        }
        let meta = fs::symlink_metadata(&target)
            .with_context(|| format!("cannot read {}", target.display()))?;
        entries.push(index_entry(&one.path, blob, &meta));
    }
    for path in &journal.deletes {
        let target = clone.root.join(path);
        match fs::remove_file(&target) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("cannot delete {}", target.display()));
            }
        }
        remove_empty_parents(&clone.root, path);
    }

    let mut index = clone.repo.index().context("cannot open the git index")?;
    index.read(false).context("cannot read the git index")?;
    for entry in &entries {
        let path = String::from_utf8_lossy(&entry.path).into_owned();
        index
            .add(entry)
            .with_context(|| format!("cannot add {path} to the git index"))?;
    }
    for path in &journal.deletes {
        index
            .remove_path(Path::new(path))
            .with_context(|| format!("cannot remove {path} from the git index"))?;
    }
    index.write().context("cannot write the git index")?;

    if current == old {
        clone
            .repo
            .reference_matching(&journal.branch, new, true, old, reflog)
            .with_context(|| {
                format!(
                    "cannot move {} to the new commit {new}",
                    short_branch(&journal.branch)
                )
            })?;
    }
    if stop_after.is_some_and(|after| after > journal.moves.len()) {
        return Ok(Applied::Stopped);
    }

    let path = COMMIT_JOURNAL.path(git_dir);
    fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    // Leftovers only: a folder that cannot be removed now is removed by the next recovery.
    for folder in &journal.cleanup {
        let _ = fs::remove_dir_all(git_dir.join(folder));
    }
    Ok(Applied::Done)
}

/// Where the journal's branch is: at its old head or at its new commit; anything else (HEAD on
/// another branch, the branch moved by hand) is an error, and nothing is changed.
fn branch_position(clone: &LocalClone, journal: &Journal) -> anyhow::Result<Oid> {
    let old = Oid::from_str(&journal.old_head)?;
    let new = Oid::from_str(&journal.new_commit)?;
    let branch = short_branch(&journal.branch);
    let journal_file = COMMIT_JOURNAL.shown();
    let give_up = format!(
        "check `git status`, then delete {journal_file} to give up that commit ({})",
        short(new)
    );
    ensure!(
        journal.branch == clone.branch,
        "an interrupted hf-relay commit on branch {branch} is not completed, but HEAD is now on \
         {}; nothing was changed. Switch back to {branch} and run hf-relay again, or {give_up}",
        short_branch(&clone.branch)
    );
    let current = clone
        .repo
        .refname_to_id(&journal.branch)
        .with_context(|| format!("cannot read {branch}"))?;
    ensure!(
        current == old || current == new,
        "an interrupted hf-relay commit is not completed, but {branch} has moved since: it is at \
         {}, neither at {} (before that commit) nor at {} (after it); nothing was changed. \
         Move {branch} back to {} and run hf-relay again, or {give_up}",
        short(current),
        short(old),
        short(new),
        short(old)
    );
    Ok(current)
}

/// Git's lock files a process killed in the window may have left (it was writing the index or
/// moving the branch): each is removed once it is old enough (see `lock::remove_stale_locks`).
/// A live git holds them for milliseconds; our own lock says no hf-relay is at work.
fn remove_stale_git_locks(git_dir: &Path, branch: &str) -> anyhow::Result<()> {
    let locks = [
        git_dir.join("index.lock"),
        git_dir.join(format!("{branch}.lock")),
    ];
    remove_stale_locks(&locks, "cannot complete the interrupted hf-relay commit").map(drop)
}

/// A moved file is where it should be (its size is that of the blob, or of the LFS object
/// the blob points to): checked when a source is gone, so a commit is never completed over a
/// file that is not its own.
fn check_moved(clone: &LocalClone, path: &str, target: &Path, blob: Oid) -> anyhow::Result<()> {
    let missing = || {
        format!(
            "cannot complete the interrupted commit: {path} is neither in its scratch folder nor \
             in the working tree"
        )
    };
    let meta = match fs::symlink_metadata(target) {
        Ok(meta) => meta,
        Err(error) if error.kind() == io::ErrorKind::NotFound => bail!(missing()),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot inspect {}", target.display()));
        }
    };
    ensure!(meta.is_file(), missing());
    let blob = clone
        .repo
        .find_blob(blob)
        .with_context(|| format!("cannot read the blob of {path}"))?;
    let expected =
        lfs::Pointer::parse(blob.content()).map_or(blob.size() as u64, |pointer| pointer.size);
    ensure!(
        meta.len() == expected,
        "cannot complete the interrupted commit: {path} in the working tree has {} bytes, not \
         the {expected} it should have",
        meta.len()
    );
    Ok(())
}

/// Run by `LocalClone::open`: when a journal or leftover folders are there and the lock is free,
/// completes the interrupted commit and removes the folders of killed processes. Does nothing
/// (and writes nothing) when there is nothing to do or another process holds the lock.
pub(super) fn recover(clone: &LocalClone) -> anyhow::Result<Option<Recovered>> {
    let git_dir = clone.repo.path();
    let journal_file = COMMIT_JOURNAL.shown();
    let pending = COMMIT_JOURNAL.exists(git_dir);
    if !pending && leftover_folders(git_dir).is_empty() {
        return Ok(None);
    }
    let lock = match clone.try_lock() {
        Ok(Some(lock)) => lock,
        // A live process: its journal and folders are its own.
        Ok(None) => return Ok(None),
        Err(error) if pending => return Err(error),
        // Without a journal only leftovers wait; they can wait for a writable clone.
        Err(_) => return Ok(None),
    };
    // Read under the lock: the process that held it may have finished meanwhile.
    let recovered = match read(git_dir)? {
        None => None,
        Some(journal) => {
            let new = Oid::from_str(&journal.new_commit)?;
            let subject = clone
                .repo
                .find_commit(new)
                .with_context(|| {
                    format!(
                        "cannot find the commit {new} of the interrupted commit in {journal_file}"
                    )
                })?
                .summary_bytes()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_default();
            branch_position(clone, &journal)?;
            remove_stale_git_locks(git_dir, &journal.branch)?;
            apply(
                clone,
                &journal,
                &format!("hf-relay: {subject} (completed after an interruption)"),
                None,
            )
            .with_context(|| {
                format!(
                    "cannot complete the commit {} a killed hf-relay left half-applied \
                     ({journal_file})",
                    short(new)
                )
            })?;
            Some(Recovered {
                commit: new,
                subject,
            })
        }
    };
    for folder in leftover_folders(git_dir) {
        let _ = fs::remove_dir_all(folder);
    }
    // A process killed while it wrote the journal left its temporary file.
    COMMIT_JOURNAL.remove_temporary(git_dir);
    drop(lock);
    Ok(recovered)
}

/// Whether `name` is a folder hf-relay creates directly under `.git/` while it works.
fn is_leftover_name(name: &str) -> bool {
    !name.contains(['/', '\\'])
        && [STAGING_PREFIX, SCRATCH_PREFIX]
            .iter()
            .any(|prefix| name.len() > prefix.len() && name.starts_with(prefix))
}

/// The staging and scratch folders under `.git/`: leftovers of killed processes when nobody
/// holds the lock.
fn leftover_folders(git_dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = fs::read_dir(git_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter(|entry| entry.file_name().to_str().is_some_and(is_leftover_name))
        .map(|entry| entry.path())
        .collect()
}

fn short(id: Oid) -> String {
    crate::ids::short_hex(&id.to_string()).to_string()
}
