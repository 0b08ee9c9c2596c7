//! Making a commit: changes applied on top of HEAD's tree, checked against what the Hub and
//! the working tree allow, and put in place through the journal, so that a kill leaves a
//! commit the next command completes (see `journal`). A commit that would leave the tree as
//! it is touches nothing.
//!
//! [`LocalClone::commit`] runs its steps in order, each a method below: check the request, write
//! the blobs, build the tree, check that every file can be written, stage the files in a
//! scratch folder, write the commit object, then the short window (journal, working tree,
//! index, branch).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail, ensure};

use super::journal::{self, Applied, Journal, Move, SCRATCH_PREFIX, STAGING_PREFIX};
use super::paths::{check_path, check_tree_parents, check_worktree_target};
use super::signature::{self, Env, Identities};
use super::state::COMMIT_JOURNAL;
use super::worktree::{check_same_filesystem, settle};
use super::{LocalClone, lfs, verified_lfs};

/// One change to the tree of the next commit.
#[derive(Debug)]
pub enum Change {
    /// A file committed as a Git LFS pointer. `staged` is the real content, written by the
    /// caller somewhere under [`LocalClone::staging_dir`]; on commit it is stored in
    /// `.git/lfs/objects` and moved (through the commit's scratch folder) to `path` in the
    /// working tree. An empty file is committed as an empty blob (its own pointer) and never
    /// stored.
    Lfs { path: String, staged: PathBuf },
    /// [`Change::Lfs`] whose pointer the caller computed while writing the file (saves a
    /// second read). The size is checked against the file; the hash is trusted.
    LfsHashed {
        path: String,
        staged: PathBuf,
        pointer: lfs::Pointer,
    },
    /// A regular file committed as its bytes (README.md, .gitattributes, …).
    File { path: String, bytes: Vec<u8> },
    /// A file removed from the tree and the working tree. A path absent from HEAD is ignored.
    Delete { path: String },
}

impl Change {
    /// The `/`-separated path, relative to the root of the clone.
    pub fn path(&self) -> &str {
        match self {
            Change::Lfs { path, .. }
            | Change::LfsHashed { path, .. }
            | Change::File { path, .. }
            | Change::Delete { path } => path,
        }
    }
}

/// What `commit` did.
#[derive(Debug)]
pub enum CommitOutcome {
    /// The resulting tree equals HEAD's: nothing was committed or touched.
    Unchanged,
    Committed {
        id: git2::Oid,
    },
}

/// The Hub refuses regular (non-LFS) files larger than this (hub-protocol §1.3).
pub const MAX_REGULAR_FILE_SIZE: u64 = 10 * 1024 * 1024;

impl LocalClone {
    /// A fresh temporary directory inside `.git/` (same filesystem as the working tree, so
    /// staged files can be renamed into place), removed when dropped. Hold [`LocalClone::lock`]
    /// while it exists: [`LocalClone::open`] in another process removes it when the lock is free,
    /// as the leftover of a killed process.
    pub fn staging_dir(&self) -> anyhow::Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(self.repo.path())
            .with_context(|| {
                format!(
                    "cannot create a staging folder in {}",
                    self.repo.path().display()
                )
            })
    }

    /// Applies `changes` on top of HEAD's tree and commits with `message`. Nothing is touched
    /// when the resulting tree equals HEAD's tree. Author and committer come from the
    /// `GIT_AUTHOR_*` / `GIT_COMMITTER_*` variables, else git config, else `hf-relay`.
    /// Hold [`LocalClone::lock`] while committing.
    pub fn commit(&self, changes: Vec<Change>, message: &str) -> anyhow::Result<CommitOutcome> {
        self.commit_with_env(changes, message, &signature::process_env)
    }

    /// [`LocalClone::commit`] with the `GIT_*` variables looked up through `env` (tests pass a
    /// fixed map instead of mutating the process environment).
    pub fn commit_with_env(
        &self,
        changes: Vec<Change>,
        message: &str,
        env: Env<'_>,
    ) -> anyhow::Result<CommitOutcome> {
        self.commit_impl(changes, message, env, None, Stop::from_env())
    }

    /// A merge commit: `changes` on top of HEAD's tree, with parents HEAD and `other_parent`.
    /// Committed even when the tree equals HEAD's (the second parent is the point).
    pub fn merge_commit(
        &self,
        changes: Vec<Change>,
        message: &str,
        other_parent: git2::Oid,
    ) -> anyhow::Result<git2::Oid> {
        match self.commit_impl(
            changes,
            message,
            &signature::process_env,
            Some(other_parent),
            Stop::from_env(),
        )? {
            CommitOutcome::Committed { id } => Ok(id),
            CommitOutcome::Unchanged => unreachable!("merge commits are always made"),
        }
    }

    pub(super) fn commit_impl(
        &self,
        changes: Vec<Change>,
        message: &str,
        env: Env<'_>,
        other_parent: Option<git2::Oid>,
        stop: Option<Stop>,
    ) -> anyhow::Result<CommitOutcome> {
        let request = self.check_request(&changes, message, env)?;
        let head = self.head_commit()?;
        let head_tree = head.tree()?;
        // Nothing outside the object database is touched until the tree is known to change.
        let planned = self.write_blobs(changes, &head_tree)?;
        let tree_id = self.build_tree(&planned, &head_tree)?;
        if tree_id == head_tree.id() && other_parent.is_none() {
            return Ok(CommitOutcome::Unchanged);
        }
        self.check_writable(&planned)?;
        // The expensive work before the window: the LFS store, the files to move in.
        let staged = self.stage(&planned)?;
        let commit_id = self.write_commit_object(&request, tree_id, &head, other_parent)?;
        self.put_in_place(staged, head.id(), commit_id, &request.subject, stop)?;
        Ok(CommitOutcome::Committed { id: commit_id })
    }

    /// Step 1: no interrupted commit is waiting, the message is not empty, the identities
    /// resolve and no path is bad or named twice.
    fn check_request(
        &self,
        changes: &[Change],
        message: &str,
        env: Env<'_>,
    ) -> anyhow::Result<Request> {
        ensure!(
            !COMMIT_JOURNAL.exists(self.repo.path()),
            "an interrupted hf-relay commit is not completed yet ({}); run the command again \
             to complete it first",
            COMMIT_JOURNAL.shown()
        );
        let message = git2::message_prettify(message, None).context("invalid commit message")?;
        ensure!(!message.trim().is_empty(), "the commit message is empty");
        let subject = message.lines().next().unwrap_or_default().to_string();
        let identities = signature::resolve(&self.repo.config()?, env)?;

        let mut seen = HashSet::new();
        for change in changes {
            check_path(change.path())?;
            ensure!(
                seen.insert(change.path().to_string()),
                "{} appears more than once in one commit",
                change.path()
            );
        }
        Ok(Request {
            message,
            subject,
            identities,
        })
    }

    /// Step 2: hashes the LFS files and writes every blob. A delete of a path HEAD does not
    /// have is dropped.
    fn write_blobs(
        &self,
        changes: Vec<Change>,
        head_tree: &git2::Tree<'_>,
    ) -> anyhow::Result<Vec<Planned>> {
        let mut hasher = None;
        let mut planned = Vec::with_capacity(changes.len());
        for change in changes {
            planned.push(match change {
                Change::Lfs { path, staged } => {
                    check_staged(&staged, None)?;
                    let pointer = hasher
                        .get_or_insert_with(lfs::Hasher::new)
                        .pointer_for(&staged)
                        .with_context(|| format!("cannot hash {}", staged.display()))?;
                    self.plan_lfs(path, staged, pointer)?
                }
                Change::LfsHashed {
                    path,
                    staged,
                    pointer,
                } => {
                    check_staged(&staged, Some(pointer.size))?;
                    self.plan_lfs(path, staged, pointer)?
                }
                Change::File { path, bytes } => {
                    let blob = self.repo.blob(&bytes)?;
                    Planned::File { path, bytes, blob }
                }
                Change::Delete { path } => match head_tree.get_path(Path::new(&path)) {
                    Ok(entry) => {
                        ensure!(
                            entry.kind() == Some(git2::ObjectType::Blob),
                            "cannot delete {path}: it is a folder in HEAD, not a file"
                        );
                        Planned::Delete { path }
                    }
                    Err(error) if error.code() == git2::ErrorCode::NotFound => continue,
                    Err(error) => return Err(error).with_context(|| format!("cannot read {path}")),
                },
            });
        }
        Ok(planned)
    }

    /// An LFS file of the next commit: its pointer blob written to the object database.
    fn plan_lfs(
        &self,
        path: String,
        staged: PathBuf,
        pointer: lfs::Pointer,
    ) -> anyhow::Result<Planned> {
        let blob = self.repo.blob(&pointer.git_blob())?;
        Ok(Planned::Lfs {
            path,
            staged,
            pointer,
            blob,
        })
    }

    /// Step 3: the new tree. A folder on the way to a path must be a folder in HEAD: libgit2
    /// only says "D/F conflict" when it is a file or a committed symbolic link.
    fn build_tree(
        &self,
        planned: &[Planned],
        head_tree: &git2::Tree<'_>,
    ) -> anyhow::Result<git2::Oid> {
        for plan in planned {
            check_tree_parents(&self.repo, head_tree, &self.root, plan.path())?;
        }
        let mut update = git2::build::TreeUpdateBuilder::new();
        for plan in planned {
            match plan {
                Planned::Lfs { path, blob, .. } | Planned::File { path, blob, .. } => {
                    update.upsert(path.as_str(), *blob, git2::FileMode::Blob);
                }
                Planned::Delete { path } => {
                    update.remove(path.as_str());
                }
            }
        }
        update
            .create_updated(&self.repo, head_tree)
            .context("cannot build the new tree")
    }

    /// Step 4: refuses what the Hub would refuse, and anything that would write outside the
    /// clone or could not be renamed into place.
    fn check_writable(&self, planned: &[Planned]) -> anyhow::Result<()> {
        for plan in planned {
            if let Planned::File { path, bytes, .. } = plan
                && let Some(reason) = hub_rejects_as_regular_file(bytes)
            {
                bail!(
                    "{path} cannot be committed as a regular file: {reason}, which the Hub \
                     rejects; it must go through LFS"
                );
            }
            check_worktree_target(&self.root, plan.path())?;
            if let Planned::Lfs { staged, .. } = plan {
                check_same_filesystem(staged, &self.root)?;
            }
        }
        Ok(())
    }

    /// Step 5: stores the LFS objects and puts every file to move in into one scratch folder
    /// (which the journal then owns), settled as git expects them.
    fn stage<'a>(&self, planned: &'a [Planned]) -> anyhow::Result<Staged<'a>> {
        let git_dir = self.repo.path();
        let scratch = tempfile::Builder::new()
            .prefix(SCRATCH_PREFIX)
            .tempdir_in(git_dir)
            .with_context(|| {
                format!("cannot create a temporary folder in {}", git_dir.display())
            })?;
        let settled_mtime = SystemTime::now() - Duration::from_secs(1);
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        let mut verified = Verified::default();
        for (number, plan) in planned.iter().enumerate() {
            match plan {
                Planned::Lfs {
                    path,
                    staged,
                    pointer,
                    blob,
                } => {
                    let outcome = lfs::store(git_dir, pointer, staged).with_context(|| {
                        format!("cannot store {} in the LFS store", staged.display())
                    })?;
                    verified.note(git_dir, &pointer.oid, outcome);
                    settle(staged, settled_mtime)?;
                    let source = scratch.path().join(number.to_string());
                    fs::rename(staged, &source).with_context(|| {
                        format!("cannot move {} to {}", staged.display(), source.display())
                    })?;
                    upserts.push((path.as_str(), source, *blob));
                }
                Planned::File { path, bytes, blob } => {
                    let source = scratch.path().join(number.to_string());
                    fs::write(&source, bytes)
                        .with_context(|| format!("cannot write {}", source.display()))?;
                    settle(&source, settled_mtime)?;
                    upserts.push((path.as_str(), source, *blob));
                }
                Planned::Delete { path } => deletes.push(path.as_str()),
            }
        }
        Ok(Staged {
            scratch,
            upserts,
            deletes,
            verified,
        })
    }

    /// Step 6: the commit object (no ref moves yet).
    fn write_commit_object(
        &self,
        request: &Request,
        tree_id: git2::Oid,
        head: &git2::Commit<'_>,
        other_parent: Option<git2::Oid>,
    ) -> anyhow::Result<git2::Oid> {
        let tree = self.repo.find_tree(tree_id)?;
        let mut parents = vec![head.clone()];
        if let Some(id) = other_parent {
            parents.push(
                self.repo
                    .find_commit(id)
                    .context("cannot find the commit to merge")?,
            );
        }
        self.repo
            .commit(
                None,
                &request.identities.author,
                &request.identities.committer,
                &request.message,
                &tree,
                &parents.iter().collect::<Vec<_>>(),
            )
            .context("cannot create the commit")
    }

    /// Step 7, the short window: working tree, index, branch. The journal comes first, so a
    /// process killed in the window leaves a commit the next `LocalClone::open` completes.
    fn put_in_place(
        &self,
        staged: Staged<'_>,
        old_head: git2::Oid,
        commit_id: git2::Oid,
        subject: &str,
        stop: Option<Stop>,
    ) -> anyhow::Result<()> {
        let git_dir = self.repo.path();
        let relative = |path: &Path| {
            path.strip_prefix(git_dir)
                .ok()
                .and_then(Path::to_str)
                .map(str::to_string)
                .with_context(|| format!("{} is not a UTF-8 path in .git", path.display()))
        };
        let mut moves = Vec::with_capacity(staged.upserts.len());
        for (path, source, blob) in &staged.upserts {
            moves.push(Move {
                source: relative(source)?,
                path: path.to_string(),
                blob: blob.to_string(),
            });
        }
        let journal = Journal {
            branch: self.branch.clone(),
            old_head: old_head.to_string(),
            new_commit: commit_id.to_string(),
            moves,
            deletes: staged.deletes.iter().map(|path| path.to_string()).collect(),
            cleanup: vec![relative(staged.scratch.path())?],
        };
        journal::write(git_dir, &journal).context("cannot write the commit journal")?;
        // From here on the journal owns the scratch folder: it holds the files to move in.
        let _ = staged.scratch.keep();
        let applied = journal::apply(
            self,
            &journal,
            &format!("hf-relay: {subject}"),
            stop.map(|stop| stop.after),
        )
        .with_context(|| {
            format!(
                "the commit {commit_id} is half-applied; the next hf-relay command on this \
                 clone completes it"
            )
        })?;
        if applied == Applied::Stopped {
            let stop = stop.expect("only a stop point stops");
            if stop.abort {
                std::process::abort();
            }
            bail!("stopped in the commit window after {} renames", stop.after);
        }
        staged.verified.record(git_dir);
        Ok(())
    }
}

/// A commit's message and identities, checked before anything is written.
struct Request {
    message: String,
    subject: String,
    identities: Identities,
}

/// A change with its blob written.
enum Planned {
    Lfs {
        path: String,
        staged: PathBuf,
        pointer: lfs::Pointer,
        blob: git2::Oid,
    },
    File {
        path: String,
        bytes: Vec<u8>,
        blob: git2::Oid,
    },
    Delete {
        path: String,
    },
}

impl Planned {
    fn path(&self) -> &str {
        match self {
            Planned::Lfs { path, .. } | Planned::File { path, .. } | Planned::Delete { path } => {
                path
            }
        }
    }
}

/// The files of a commit in its scratch folder, ready to be moved into the working tree.
struct Staged<'a> {
    scratch: tempfile::TempDir,
    /// Working-tree path, file in the scratch folder, blob.
    upserts: Vec<(&'a str, PathBuf, git2::Oid)>,
    deletes: Vec<&'a str>,
    verified: Verified<'a>,
}

/// Test-only: where a commit stops in its window, as a kill there would.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stop {
    /// Files renamed into place before stopping (see `journal::apply`).
    pub(super) after: usize,
    /// Abort the process (the binary under test); else return an error (unit tests).
    pub(super) abort: bool,
}

impl Stop {
    /// From [`crate::env::HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW`]; `None` when unset (always,
    /// outside the tests).
    fn from_env() -> Option<Stop> {
        let value = std::env::var(crate::env::HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW).ok()?;
        Some(Stop {
            after: value.trim().parse().ok()?,
            abort: true,
        })
    }
}

/// A staged file is there (with the pointer's size, when the pointer was computed before).
fn check_staged(staged: &Path, expected_size: Option<u64>) -> anyhow::Result<()> {
    let meta = fs::metadata(staged)
        .with_context(|| format!("cannot read the staged {}", staged.display()))?;
    ensure!(meta.is_file(), "{} is not a file", staged.display());
    if let Some(size) = expected_size {
        ensure!(
            meta.len() == size,
            "{} does not match its LFS pointer ({size} bytes expected)",
            staged.display()
        );
    }
    Ok(())
}

/// Why the Hub's pre-receive hook would reject `bytes` as a regular (non-LFS) file, if it would.
fn hub_rejects_as_regular_file(bytes: &[u8]) -> Option<String> {
    if bytes.len() as u64 > MAX_REGULAR_FILE_SIZE {
        return Some(format!("it is larger than 10 MiB ({} bytes)", bytes.len()));
    }
    if is_binary(bytes) {
        return Some("it is binary".to_string());
    }
    None
}

/// huggingface_hub's old rule (`repository.py::is_binary_file`): after removing the printable
/// bytes (0x20–0xFF except 0x7F) and `\a\b\t\n\f\r\x1b`, anything left means binary.
fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().any(|&byte| {
        let text = (byte >= 0x20 && byte != 0x7f) || matches!(byte, 7 | 8 | 9 | 10 | 12 | 13 | 27);
        !text
    })
}

/// What a commit knows of the objects it puts in the store, for the cache of verified objects
/// (`verified_lfs`), so that the `push` after a build hashes none of them again.
#[derive(Default)]
struct Verified<'a> {
    cache: Option<verified_lfs::VerifiedLfs>,
    /// Stored by this commit: their content is what was hashed.
    stored: Vec<&'a str>,
    /// Already present, and vouched for by the cache, with their stamps before the commit.
    kept: Vec<(&'a str, verified_lfs::Stamps)>,
}

impl<'a> Verified<'a> {
    fn note(&mut self, git_dir: &Path, oid: &'a str, outcome: lfs::Stored) {
        match outcome {
            lfs::Stored::Linked | lfs::Stored::Copied => self.stored.push(oid),
            lfs::Stored::AlreadyPresent => {
                let cache = self
                    .cache
                    .get_or_insert_with(|| verified_lfs::VerifiedLfs::load(git_dir));
                if let Ok(meta) = fs::metadata(lfs::store_path(git_dir, oid)) {
                    let stamps = verified_lfs::Stamps::of(&meta);
                    if cache.trusts(oid, &stamps) {
                        self.kept.push((oid, stamps));
                    }
                }
            }
            lfs::Stored::Empty => {}
        }
    }

    /// Once the commit is applied. The stamps are read only now: renaming a stored object's
    /// staged file into the working tree set its ctime, and so did replacing a working-tree
    /// file that was a kept object's other link. A kept object whose size, mtime and inode are
    /// unchanged stays vouched for with its new ctime: a write since the check would have moved
    /// its mtime. Best effort: the commit is made, and a missing entry only costs hashing.
    fn record(self, git_dir: &Path) {
        if self.stored.is_empty() && self.kept.is_empty() {
            return;
        }
        let mut cache = self
            .cache
            .unwrap_or_else(|| verified_lfs::VerifiedLfs::load(git_dir));
        let now = |oid: &str| {
            let recorded_ns = verified_lfs::now_ns();
            fs::metadata(lfs::store_path(git_dir, oid))
                .ok()
                .map(|meta| (verified_lfs::Stamps::of(&meta), recorded_ns))
        };
        for oid in self.stored {
            if let Some((stamps, recorded_ns)) = now(oid) {
                cache.record(oid, stamps, recorded_ns);
            }
        }
        for (oid, before) in self.kept {
            if let Some((after, recorded_ns)) = now(oid)
                && after != before
                && after
                    == (verified_lfs::Stamps {
                        ctime_ns: after.ctime_ns,
                        ..before
                    })
            {
                cache.record(oid, after, recorded_ns);
            }
        }
        let _ = cache.save();
    }
}
