//! The local clone: a git repository (libgit2 via git2) with a git-lfs object store.
//! Never prints; returns data.

pub mod lfs;

use std::path::{Path, PathBuf};

/// One change to the tree of the next commit.
#[derive(Debug)]
pub enum Change {
    /// A file committed as a Git LFS pointer. `staged` is the real content, written by the
    /// caller somewhere under [`Clone::staging_dir`]; on commit it is stored in
    /// `.git/lfs/objects` and moved to `path` in the working tree.
    Lfs { path: String, staged: PathBuf },
    /// A regular file committed as its bytes (README.md, .gitattributes, …).
    File { path: String, bytes: Vec<u8> },
    /// A file removed from the tree and the working tree.
    Delete { path: String },
}

/// What `commit` did.
#[derive(Debug)]
pub enum CommitOutcome {
    /// The resulting tree equals HEAD's: nothing was committed or touched.
    Unchanged,
    Committed { id: git2::Oid },
}

/// An open clone.
pub struct Clone {
    pub repo: git2::Repository,
    pub root: PathBuf,
}

/// Held while a command works on a clone; a second process fails clearly.
pub struct Lock {
    _file: std::fs::File,
}

impl Clone {
    pub fn open(dir: &Path) -> anyhow::Result<Clone> {
        let _ = dir;
        todo!()
    }

    /// Takes the clone's lock (`.git/hf-relay.lock`); fails at once, clearly, when another
    /// hf-relay process holds it.
    pub fn lock(&self) -> anyhow::Result<Lock> {
        todo!()
    }

    /// The `origin` remote's URL.
    pub fn origin_url(&self) -> anyhow::Result<String> {
        todo!()
    }

    /// A fresh temporary directory inside `.git/` (same filesystem as the working tree, so
    /// staged files can be renamed into place), removed when dropped.
    pub fn staging_dir(&self) -> anyhow::Result<tempfile::TempDir> {
        todo!()
    }

    /// The raw blob at `path` in HEAD (for an LFS file: its pointer text); `None` when absent.
    pub fn head_blob(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let _ = path;
        todo!()
    }

    /// Paths of the files in HEAD's tree directly under folder `dir` (not recursive), sorted.
    pub fn head_files_in(&self, dir: &str) -> anyhow::Result<Vec<String>> {
        let _ = dir;
        todo!()
    }

    /// Applies `changes` on top of HEAD's tree and commits with `message`. Nothing is touched
    /// when the resulting tree equals HEAD's tree.
    pub fn commit(&self, changes: Vec<Change>, message: &str) -> anyhow::Result<CommitOutcome> {
        let _ = (changes, message);
        todo!()
    }
}

/// Creates a new clone at `dir` for `remote_url`: branch `main`, remote `origin`, the Hub's
/// `.gitattributes`, a `.gitignore` holding `.env`, and a first commit.
pub fn init(dir: &Path, remote_url: &str, repo_id: &str) -> anyhow::Result<git2::Oid> {
    let _ = (dir, remote_url, repo_id);
    todo!()
}
