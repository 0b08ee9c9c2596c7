//! The local clone: a git repository (libgit2 via git2) with a git-lfs object store.
//! Never prints; returns data.
//!
//! git2 runs no git-lfs filters, so LFS files are committed as pointer blobs written here, their
//! content is kept in `.git/lfs/objects` as git-lfs would, and the index records the stat data
//! of the real files, as after a git-lfs smudge: `git status` stays clean.
//!
//! A commit changes several files, which POSIX cannot replace atomically: the moves are written
//! to a journal first, and a clone opened after a kill completes them (see `journal`).
//!
//! One subject per file: `open` (finding and opening a clone), `lock` (the clone's lock and
//! git's stale lock files), `commit` (a commit, step by step), `journal` (putting it in place,
//! completing it after a kill), `worktree` (files as git expects them), `paths` (path safety),
//! `init` (a new clone), `refs` and `tags`, `signature` (author and committer), `lfs` (pointers,
//! the object store, LFS files in history and their checkout), `verified_lfs` (objects known
//! intact), `state` (the files in `.git/hf-relay/`), and `remote` (git over HTTPS).

mod commit;
mod init;
mod journal;
pub mod lfs;
mod lock;
mod open;
mod paths;
mod refs;
pub mod remote;
pub mod signature;
pub mod state;
pub mod tags;
#[cfg(test)]
mod tests;
pub mod verified_lfs;
mod worktree;

use std::path::PathBuf;

#[cfg(test)]
use self::commit::Stop;
pub use self::commit::{Change, CommitOutcome, MAX_REGULAR_FILE_SIZE};
pub(crate) use self::init::empty_dir;
pub use self::init::{DEFAULT_GITATTRIBUTES, DEFAULT_GITIGNORE, init, init_with_env};
// `remote::clone_from` checks its URL and folder as `init` does.
use self::init::{check_remote_url, prepare_empty_dir};
pub use self::journal::Recovered;
pub use self::lock::Lock;
pub use self::open::NoClone;
pub use self::refs::TAG_PREFIX;

/// An open clone.
pub struct LocalClone {
    pub repo: git2::Repository,
    /// The root of the working tree.
    pub root: PathBuf,
    /// The branch HEAD points at, e.g. `refs/heads/main`; commits move it.
    pub branch: String,
    /// A commit a killed hf-relay had left half-applied, which opening the clone completed
    /// (for the command to say so).
    pub recovered: Option<Recovered>,
}

/// `main` for `refs/heads/main`.
fn short_branch(branch: &str) -> &str {
    branch.strip_prefix("refs/heads/").unwrap_or(branch)
}
