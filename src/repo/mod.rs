//! The local clone: a git repository (libgit2 via git2) with a git-lfs object store.
//! Never prints; returns data.
//!
//! git2 runs no git-lfs filters, so LFS files are committed as pointer blobs written here, their
//! content is kept in `.git/lfs/objects` as git-lfs would, and the index records the stat data
//! of the real files, as after a git-lfs smudge: `git status` stays clean.
//!
//! A commit changes several files, which POSIX cannot replace atomically: the moves are written
//! to a journal first, and a clone opened after a kill completes them (see `journal`).

mod journal;
pub mod lfs;
mod refs;
pub mod remote;
pub mod tags;
pub use refs::TAG_PREFIX;
pub mod signature;
#[cfg(test)]
mod tests;
pub mod verified_lfs;

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail, ensure};

pub use self::journal::Recovered;
use self::journal::{Applied, JOURNAL, Journal, Move, SCRATCH_PREFIX, STAGING_PREFIX};
use self::signature::Env;

/// One change to the tree of the next commit.
#[derive(Debug)]
pub enum Change {
    /// A file committed as a Git LFS pointer. `staged` is the real content, written by the
    /// caller somewhere under [`Clone::staging_dir`]; on commit it is stored in
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

/// An open clone.
pub struct Clone {
    pub repo: git2::Repository,
    /// The root of the working tree.
    pub root: PathBuf,
    /// The branch HEAD points at, e.g. `refs/heads/main`; commits move it.
    pub branch: String,
    /// A commit a killed hf-relay had left half-applied, which opening the clone completed
    /// (for the command to say so).
    pub recovered: Option<Recovered>,
}

/// Held while a command works on a clone; a second process fails clearly.
pub struct Lock {
    _file: fs::File,
}

/// The lock file, inside `.git/`.
const LOCK_FILE: &str = "hf-relay.lock";

/// The Hub refuses regular (non-LFS) files larger than this (hub-protocol §1.3).
pub const MAX_REGULAR_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The `.gitattributes` the Hub writes into a new dataset repo (hub-protocol §6.3).
pub const DEFAULT_GITATTRIBUTES: &str = "\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.avro filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.lz4 filter=lfs diff=lfs merge=lfs -text
*.mds filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
# Audio files - uncompressed
*.pcm filter=lfs diff=lfs merge=lfs -text
*.sam filter=lfs diff=lfs merge=lfs -text
*.raw filter=lfs diff=lfs merge=lfs -text
# Audio files - compressed
*.aac filter=lfs diff=lfs merge=lfs -text
*.flac filter=lfs diff=lfs merge=lfs -text
*.mp3 filter=lfs diff=lfs merge=lfs -text
*.ogg filter=lfs diff=lfs merge=lfs -text
*.wav filter=lfs diff=lfs merge=lfs -text
# Image files - uncompressed
*.bmp filter=lfs diff=lfs merge=lfs -text
*.gif filter=lfs diff=lfs merge=lfs -text
*.png filter=lfs diff=lfs merge=lfs -text
*.tiff filter=lfs diff=lfs merge=lfs -text
# Image files - compressed
*.jpg filter=lfs diff=lfs merge=lfs -text
*.jpeg filter=lfs diff=lfs merge=lfs -text
*.webp filter=lfs diff=lfs merge=lfs -text
# Video files - compressed
*.mp4 filter=lfs diff=lfs merge=lfs -text
*.webm filter=lfs diff=lfs merge=lfs -text
";

/// The `.gitignore` of a new clone: keeps a token in `.env` out of git.
pub const DEFAULT_GITIGNORE: &str = ".env\n.env.*\n";

/// A folder that holds no clone (the CLI names the commands that make one).
#[derive(Debug, thiserror::Error)]
pub enum NoClone {
    #[error("{0} is not a git repository")]
    NotARepository(String),
    #[error("{0} is not in a git repository (nor is any folder above it)")]
    NotInARepository(String),
    #[error("{dir} has no commit yet (branch {branch} is unborn)")]
    Unborn { dir: String, branch: String },
}

impl Clone {
    /// Opens the clone that holds `dir`, looking upwards from it as git does (so a command run
    /// in `data/` finds the clone above it); `dir` must exist. Then as [`Clone::open`].
    pub fn discover(dir: &Path) -> anyhow::Result<Clone> {
        let shown = dir.display();
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => bail!("{shown} is not a folder"),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                bail!("{shown} does not exist")
            }
            Err(error) => return Err(error).with_context(|| format!("cannot read {shown}")),
        }
        let repo = match git2::Repository::discover(dir) {
            Ok(repo) => repo,
            Err(error) if error.code() == git2::ErrorCode::NotFound => {
                return Err(NoClone::NotInARepository(shown.to_string()).into());
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot open the git repository of {shown}"));
            }
        };
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        match repo.workdir() {
            // Messages then name the folder as the user gave it.
            Some(root) if same(root, dir) => Clone::open(dir),
            Some(root) => Clone::open(root),
            None => Err(anyhow::anyhow!(
                "{shown} is in a bare repository ({}), without a working tree",
                repo.path().display()
            )),
        }
    }

    /// Opens the clone whose working tree root is `dir`; HEAD must be a branch with commits.
    ///
    /// When no other process holds the lock, first completes a commit a killed process left
    /// half-applied (see [`Clone::recovered`]) and removes the staging and scratch folders of
    /// killed processes. Otherwise nothing is written.
    pub fn open(dir: &Path) -> anyhow::Result<Clone> {
        let shown = dir.display();
        let not_a_repo = || anyhow::Error::new(NoClone::NotARepository(shown.to_string()));
        let repo = match git2::Repository::open(dir) {
            Ok(repo) => repo,
            Err(error) if error.code() == git2::ErrorCode::NotFound => return Err(not_a_repo()),
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot open the git repository {shown}"));
            }
        };
        let Some(workdir) = repo.workdir() else {
            return Err(not_a_repo()).context("it is a bare repository, without a working tree");
        };
        let root: PathBuf = workdir.components().collect();
        // `Repository::open` also accepts the `.git` folder itself; we want the root.
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same(dir, &root) {
            bail!(
                "{shown} is not the root of a git working tree (its root is {})",
                root.display()
            );
        }

        let branch = {
            let head = repo.find_reference("HEAD").context("cannot read HEAD")?;
            match head.symbolic_target() {
                Ok(Some(target)) if target.starts_with("refs/heads/") => target.to_string(),
                _ => bail!("HEAD of {shown} is not on a branch (detached); check out `main` first"),
            }
        };
        match repo.find_reference(&branch) {
            Ok(_) => {}
            Err(error) if error.code() == git2::ErrorCode::NotFound => {
                return Err(NoClone::Unborn {
                    dir: shown.to_string(),
                    branch: short_branch(&branch).to_string(),
                }
                .into());
            }
            Err(error) => return Err(error).with_context(|| format!("cannot read {branch}")),
        }
        let mut clone = Clone {
            repo,
            root,
            branch,
            recovered: None,
        };
        clone.recovered = journal::recover(&clone)?;
        Ok(clone)
    }

    /// Removes the git lock files that a killed fetch or push may have left on the refs a push
    /// updates (`refs/remotes/origin/main`, `packed-refs`, tags), once they are old enough to
    /// be nobody's (see `journal::remove_stale_locks`); `_held` proves the caller holds the
    /// clone's lock. Returns how many were removed.
    pub fn remove_stale_ref_locks(&self, _held: &Lock) -> anyhow::Result<usize> {
        let git_dir = self.repo.path();
        let mut locks = vec![
            git_dir.join(format!("{}.lock", remote::ORIGIN_MAIN)),
            git_dir.join("packed-refs.lock"),
        ];
        if let Ok(tags) = fs::read_dir(git_dir.join("refs/tags")) {
            locks.extend(
                tags.flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|e| e == "lock")),
            );
        }
        journal::remove_stale_locks(&locks, "cannot update the record of the Hub's refs")
    }

    /// Takes the clone's lock (`.git/hf-relay.lock`); fails at once, clearly, when another
    /// hf-relay process holds it. The kernel releases it when the process ends, even by a kill.
    pub fn lock(&self) -> anyhow::Result<Lock> {
        match self.try_lock()? {
            Some(lock) => Ok(lock),
            None => bail!(
                "another hf-relay process is working on {} (lock held on .git/{LOCK_FILE}); \
                 wait for it to finish",
                self.root.display()
            ),
        }
    }

    /// The clone's lock; `None` when another process holds it.
    pub fn try_lock(&self) -> anyhow::Result<Option<Lock>> {
        let path = self.repo.path().join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// The `origin` remote's URL.
    pub fn origin_url(&self) -> anyhow::Result<String> {
        let remote = self
            .repo
            .find_remote("origin")
            .with_context(|| format!("{} has no remote `origin`", self.root.display()))?;
        remote
            .url()
            .map(str::to_string)
            .context("the URL of remote `origin` is not valid UTF-8")
    }

    /// A fresh temporary directory inside `.git/` (same filesystem as the working tree, so
    /// staged files can be renamed into place), removed when dropped. Hold [`Clone::lock`]
    /// while it exists: [`Clone::open`] in another process removes it when the lock is free,
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

    /// Applies `changes` on top of HEAD's tree and commits with `message`. Nothing is touched
    /// when the resulting tree equals HEAD's tree. Author and committer come from the
    /// `GIT_AUTHOR_*` / `GIT_COMMITTER_*` variables, else git config, else `hf-relay`.
    /// Hold [`Clone::lock`] while committing.
    pub fn commit(&self, changes: Vec<Change>, message: &str) -> anyhow::Result<CommitOutcome> {
        self.commit_with_env(changes, message, &signature::process_env)
    }

    /// [`Clone::commit`] with the `GIT_*` variables looked up through `env` (tests pass a
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

    fn commit_impl(
        &self,
        changes: Vec<Change>,
        message: &str,
        env: Env<'_>,
        other_parent: Option<git2::Oid>,
        stop: Option<Stop>,
    ) -> anyhow::Result<CommitOutcome> {
        let git_dir = self.repo.path();
        ensure!(
            fs::symlink_metadata(git_dir.join(JOURNAL)).is_err(),
            "an interrupted hf-relay commit is not completed yet (.git/{JOURNAL}); run the \
             command again to complete it first"
        );
        let message = git2::message_prettify(message, None).context("invalid commit message")?;
        ensure!(!message.trim().is_empty(), "the commit message is empty");
        let subject = message.lines().next().unwrap_or_default().to_string();
        let identities = signature::resolve(&self.repo.config()?, env)?;

        let mut seen = HashSet::new();
        for change in &changes {
            check_path(change.path())?;
            ensure!(
                seen.insert(change.path().to_string()),
                "{} appears more than once in one commit",
                change.path()
            );
        }

        let head = self.head_commit()?;
        let head_tree = head.tree()?;

        // 1–2. Hash the LFS files and write every blob; nothing outside the odb is touched yet.
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

        // 3. The new tree. A folder on the way to a path must be a folder in HEAD: libgit2 only
        // says "D/F conflict" when it is a file or a committed symbolic link.
        for plan in &planned {
            check_tree_parents(&self.repo, &head_tree, &self.root, plan.path())?;
        }
        let mut update = git2::build::TreeUpdateBuilder::new();
        for plan in &planned {
            match plan {
                Planned::Lfs { path, blob, .. } | Planned::File { path, blob, .. } => {
                    update.upsert(path.as_str(), *blob, git2::FileMode::Blob);
                }
                Planned::Delete { path } => {
                    update.remove(path.as_str());
                }
            }
        }
        let tree_id = update
            .create_updated(&self.repo, &head_tree)
            .context("cannot build the new tree")?;

        // 4. Same tree: nothing to commit, nothing to touch.
        if tree_id == head_tree.id() && other_parent.is_none() {
            return Ok(CommitOutcome::Unchanged);
        }

        // 5. Refuse what the Hub would refuse, and anything that would write outside the clone.
        for plan in &planned {
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

        // 6. Expensive work first: the LFS store, the files to move in (all in one scratch
        // folder, which the journal then owns), the commit object.
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
        let tree = self.repo.find_tree(tree_id)?;
        let mut parents = vec![head.clone()];
        if let Some(id) = other_parent {
            parents.push(
                self.repo
                    .find_commit(id)
                    .context("cannot find the commit to merge")?,
            );
        }
        let commit_id = self
            .repo
            .commit(
                None,
                &identities.author,
                &identities.committer,
                &message,
                &tree,
                &parents.iter().collect::<Vec<_>>(),
            )
            .context("cannot create the commit")?;

        // 7. The short window: working tree, index, branch. The journal comes first, so a
        // process killed in the window leaves a commit the next `Clone::open` completes.
        let relative = |path: &Path| {
            path.strip_prefix(git_dir)
                .ok()
                .and_then(Path::to_str)
                .map(str::to_string)
                .with_context(|| format!("{} is not a UTF-8 path in .git", path.display()))
        };
        let mut moves = Vec::with_capacity(upserts.len());
        for (path, source, blob) in &upserts {
            moves.push(Move {
                source: relative(source)?,
                path: path.to_string(),
                blob: blob.to_string(),
            });
        }
        let journal = Journal {
            branch: self.branch.clone(),
            old_head: head.id().to_string(),
            new_commit: commit_id.to_string(),
            moves,
            deletes: deletes.iter().map(|path| path.to_string()).collect(),
            cleanup: vec![relative(scratch.path())?],
        };
        journal::write(git_dir, scratch.path(), &journal)
            .context("cannot write the commit journal")?;
        // From here on the journal owns the scratch folder: it holds the files to move in.
        let _ = scratch.keep();
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
        verified.record(git_dir);
        Ok(CommitOutcome::Committed { id: commit_id })
    }

    fn head_commit(&self) -> anyhow::Result<git2::Commit<'_>> {
        self.repo
            .find_reference(&self.branch)
            .and_then(|reference| reference.peel_to_commit())
            .with_context(|| format!("cannot read the last commit of {}", self.branch))
    }
}

/// Test-only: where a commit stops in its window, as a kill there would.
#[derive(Debug, Clone, Copy)]
struct Stop {
    /// Files renamed into place before stopping (see `journal::apply`).
    after: usize,
    /// Abort the process (the binary under test); else return an error (unit tests).
    abort: bool,
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

impl Clone {
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

fn short_branch(branch: &str) -> &str {
    branch.strip_prefix("refs/heads/").unwrap_or(branch)
}

/// Paths are `/`-separated and relative to the root; no `.`, `..`, empty components or `.git`.
fn check_path(path: &str) -> anyhow::Result<()> {
    ensure!(!path.is_empty(), "empty path in the repository");
    ensure!(
        !path.starts_with('/'),
        "{path:?} must be relative to the root of the clone"
    );
    for component in path.split('/') {
        ensure!(
            !component.is_empty() && component != "." && component != "..",
            "{path:?} is not a normalized relative path (no empty, `.` or `..` components)"
        );
        ensure!(
            !component.eq_ignore_ascii_case(".git"),
            "{path:?} points into .git"
        );
        ensure!(
            !component.contains(['\\', '\0']),
            "{path:?} contains a backslash or NUL character"
        );
    }
    Ok(())
}

/// Refuses to write `path` when it, or a folder on the way to it, is a symbolic link (which
/// could lead out of the clone), when a folder is in the way, or when a parent is a file.
fn check_worktree_target(root: &Path, path: &str) -> anyhow::Result<()> {
    let components: Vec<&str> = path.split('/').collect();
    let mut current = root.to_path_buf();
    for (position, component) in components.iter().enumerate() {
        current.push(component);
        let last = position + 1 == components.len();
        let meta = match fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot inspect {}", current.display()));
            }
        };
        let shown = components[..=position].join("/");
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&current).unwrap_or_default();
            bail!(
                "refusing to write {path}: {} in the working tree",
                symlink_problem(root, &shown, &target)
            );
        }
        if last {
            ensure!(
                !meta.is_dir(),
                "cannot write {path}: it is a folder in the working tree"
            );
        } else {
            ensure!(
                meta.is_dir(),
                "cannot write {path}: {shown} is a file in the working tree"
            );
        }
    }
    Ok(())
}

/// Refuses to write `path` when a folder on the way to it is something else in `head_tree`: a
/// file, or a committed symbolic link (which could lead out of the clone).
fn check_tree_parents(
    repo: &git2::Repository,
    head_tree: &git2::Tree<'_>,
    root: &Path,
    path: &str,
) -> anyhow::Result<()> {
    let components: Vec<&str> = path.split('/').collect();
    for end in 1..components.len() {
        let prefix = components[..end].join("/");
        let entry = match head_tree.get_path(Path::new(&prefix)) {
            Ok(entry) => entry,
            Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(()),
            Err(error) => return Err(error).with_context(|| format!("cannot read {prefix}")),
        };
        if entry.kind() == Some(git2::ObjectType::Tree) {
            continue;
        }
        if entry.filemode() == i32::from(git2::FileMode::Link) {
            let blob = repo
                .find_blob(entry.id())
                .with_context(|| format!("cannot read the link {prefix}"))?;
            let target = PathBuf::from(String::from_utf8_lossy(blob.content()).into_owned());
            bail!(
                "cannot write {path}: {} (committed in HEAD); hf-relay writes only into real \
                 folders of the clone",
                symlink_problem(root, &prefix, &target)
            );
        }
        bail!("cannot write {path}: {prefix} is a file in HEAD, not a folder");
    }
    Ok(())
}

/// `LINK is a symbolic link pointing outside the clone (to TARGET)`, or `… pointing inside the
/// clone …`, judged from the link's place in the clone and its target (not followed).
fn symlink_problem(root: &Path, link: &str, target: &Path) -> String {
    use std::path::Component;
    let mut inside: Option<Vec<&std::ffi::OsStr>> = match target.is_absolute() {
        true => None,
        false => Some(
            link.split('/')
                .map(std::ffi::OsStr::new)
                .collect::<Vec<_>>()
                .split_last()
                .map(|(_, parents)| parents.to_vec())
                .unwrap_or_default(),
        ),
    };
    if let Some(stack) = inside.as_mut() {
        for component in target.components() {
            match component {
                Component::Normal(name) => stack.push(name),
                Component::CurDir => {}
                Component::ParentDir => {
                    if stack.pop().is_none() {
                        inside = None;
                        break;
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    inside = None;
                    break;
                }
            }
        }
    }
    let outside = match inside {
        Some(stack) => stack
            .first()
            .is_some_and(|first| first.eq_ignore_ascii_case(".git")),
        None => !(target.is_absolute() && target.starts_with(root)),
    };
    let place = if outside { "outside" } else { "inside" };
    format!(
        "{link} is a symbolic link pointing {place} the clone (to {})",
        target.display()
    )
}

/// A staged file is renamed into the working tree; a rename cannot cross filesystems, and
/// failing there would leave a half-updated working tree, so check first.
fn check_same_filesystem(staged: &Path, root: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let device = |path: &Path| {
            fs::metadata(path)
                .map(|meta| meta.dev())
                .with_context(|| format!("cannot inspect {}", path.display()))
        };
        ensure!(
            device(staged)? == device(root)?,
            "{} is not on the same filesystem as {}; stage files under Clone::staging_dir",
            staged.display(),
            root.display()
        );
    }
    #[cfg(not(unix))]
    let _ = (staged, root);
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

/// Prepares a file that is about to be moved into the working tree: no executable bit (the
/// index says 100644) and an mtime at least a second old. A file modified in the same second
/// as the index is "racily clean" to git, which then re-hashes it; for an LFS file that takes
/// the git-lfs clean filter, and without git-lfs installed git would see the Parquet bytes
/// instead of the pointer and call the file modified. Later edits still change the mtime.
fn settle(path: &Path, mtime: SystemTime) -> anyhow::Result<()> {
    let file = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file.metadata()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode();
        if mode & 0o111 != 0 {
            file.set_permissions(fs::Permissions::from_mode(mode & !0o111))
                .with_context(|| format!("cannot change the mode of {}", path.display()))?;
        }
    }
    if meta.modified()? > mtime {
        file.set_modified(mtime)
            .with_context(|| format!("cannot set the mtime of {}", path.display()))?;
    }
    Ok(())
}

/// An index entry for `path` with the stat data of the working-tree file, so git sees it clean.
fn index_entry(path: &str, id: git2::Oid, meta: &fs::Metadata) -> git2::IndexEntry {
    // The index stores 32-bit fields; git truncates the same way.
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid) = {
        use std::os::unix::fs::MetadataExt as _;
        (
            git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
            git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
            meta.dev() as u32,
            meta.ino() as u32,
            meta.uid(),
            meta.gid(),
        )
    };
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid) = {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|since| git2::IndexTime::new(since.as_secs() as i32, since.subsec_nanos()))
            .unwrap_or_else(|| git2::IndexTime::new(0, 0));
        (mtime, mtime, 0, 0, 0, 0)
    };
    git2::IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: 0o100644,
        uid,
        gid,
        file_size: meta.len() as u32,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// Removes the folders of `path` that became empty, deepest first, never `root` itself.
fn remove_empty_parents(root: &Path, path: &str) {
    let mut parent = Path::new(path).parent();
    while let Some(folder) = parent {
        if folder.as_os_str().is_empty() || fs::remove_dir(root.join(folder)).is_err() {
            break;
        }
        parent = folder.parent();
    }
}

/// Creates a new clone at `dir` for `remote_url`: branch `main`, remote `origin`, the Hub's
/// `.gitattributes`, a `.gitignore` holding `.env`, and a first commit.
pub fn init(dir: &Path, remote_url: &str, repo_id: &str) -> anyhow::Result<git2::Oid> {
    init_with_env(dir, remote_url, repo_id, &signature::process_env)
}

/// [`init`] with the `GIT_*` variables looked up through `env`.
pub fn init_with_env(
    dir: &Path,
    remote_url: &str,
    repo_id: &str,
    env: Env<'_>,
) -> anyhow::Result<git2::Oid> {
    check_remote_url(remote_url)?;
    // Resolved before anything is created: a bad GIT_*_DATE leaves no trace.
    let config = git2::Config::open_default().context("cannot read git config")?;
    let identities = signature::resolve(&config, env)?;
    let created = prepare_empty_dir(dir)?;
    let result = init_in(dir, remote_url, repo_id, &identities);
    if result.is_err() {
        match &created {
            Some(top) => {
                let _ = fs::remove_dir_all(top);
            }
            None => empty_dir(dir),
        }
    }
    result
}

fn init_in(
    dir: &Path,
    remote_url: &str,
    repo_id: &str,
    identities: &signature::Identities,
) -> anyhow::Result<git2::Oid> {
    let mut options = git2::RepositoryInitOptions::new();
    options
        .initial_head("main")
        .no_reinit(true)
        .mkdir(false)
        .mkpath(false);
    let repo = git2::Repository::init_opts(dir, &options)
        .with_context(|| format!("cannot create a git repository in {}", dir.display()))?;
    repo.remote("origin", remote_url)
        .context("cannot add the remote `origin`")?;
    let workdir = repo
        .workdir()
        .context("the new repository has no working tree")?;
    let mut index = repo.index()?;
    for (name, content) in [
        (".gitattributes", DEFAULT_GITATTRIBUTES),
        (".gitignore", DEFAULT_GITIGNORE),
    ] {
        let path = workdir.join(name);
        fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
        index
            .add_path(Path::new(name))
            .with_context(|| format!("cannot add {name} to the git index"))?;
    }
    index.write().context("cannot write the git index")?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let message = format!("Initialize dataset repository {repo_id}\n");
    repo.commit(
        Some("HEAD"),
        &identities.author,
        &identities.committer,
        &message,
        &tree,
        &[],
    )
    .context("cannot create the first commit")
}

/// Makes sure `dir` is an empty folder; returns the topmost folder created for it, if any.
fn prepare_empty_dir(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    match fs::metadata(dir) {
        Ok(meta) => {
            ensure!(
                meta.is_dir(),
                "{} already exists and is not a folder",
                dir.display()
            );
            let mut entries =
                fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
            ensure!(
                entries.next().is_none(),
                "{} already exists and is not empty; choose a new folder",
                dir.display()
            );
            Ok(None)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let mut top = dir.to_path_buf();
            while let Some(parent) = top.parent() {
                if parent.as_os_str().is_empty() || parent.exists() {
                    break;
                }
                top = parent.to_path_buf();
            }
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            Ok(Some(top))
        }
        Err(error) => Err(error).with_context(|| format!("cannot inspect {}", dir.display())),
    }
}

/// Removes everything inside `dir` (which was empty before we started).
pub(crate) fn empty_dir(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
    }
}

/// The remote URL is stored in `.git/config`: a token or password must never be part of it.
fn check_remote_url(url: &str) -> anyhow::Result<()> {
    ensure!(!url.trim().is_empty(), "the remote URL is empty");
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _host)) = authority.rsplit_once('@') {
            let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            // Not echoing the URL: it holds a secret.
            ensure!(
                !http && !userinfo.contains(':'),
                "the remote URL must not contain credentials; hf-relay sends the token only \
                 when it talks to the Hub"
            );
        }
    }
    Ok(())
}
