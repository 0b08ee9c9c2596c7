//! The files hf-relay keeps for itself in `.git/hf-relay/`, all listed here: what each holds,
//! who writes it, and the one way they are written. They live in `.git/`, so they are never
//! committed, and `git clone` does not copy them.
//!
//! | file | holds | written by | read by |
//! | --- | --- | --- | --- |
//! | `build-cache.json` | the last build's inputs (stamps, SHA-256) and the data tree it left: an unchanged rebuild is skipped | `build` (`ops::build_commit::cache`) | `build` |
//! | `shards.json` | the row digests of the last build's shards and its inputs' SHA-256 checkpoints: unchanged shards are reused | `build` (`ops::build_commit::records`) | `build` |
//! | `verified-lfs.json` | the LFS objects known to be intact, by their stat data | a commit, `verify`, `push` (`repo::verified_lfs`) | `push`, `verify`, a commit |
//! | `pushed-tags` | the tags the Hub has, as far as this clone knows | `push`, `clone` (`inspect::pushed_tags`) | `status`, `push` |
//! | `row-hashes` | a folder, `CONFIG/SPLIT.bin`: every row's hash of the last build, per split: the next build's row delta (the `Rows:` line `log` shows) | `build` (`ops::build_commit::row_hashes`, with its own atomic write per split) | `build` |
//! | `commit-in-progress.json` | the journal of a commit being put in place | a commit (`repo::journal`) | opening the clone, which completes it |
//!
//! Each file's format belongs to the module named in its row and does not change with this
//! list: a clone made by an earlier hf-relay keeps working. The caches are only caches (a
//! missing or unreadable one costs work, never a wrong result); the journal and the pushed
//! tags are records.
//!
//! Every writer holds the clone's lock and replaces the file with [`StateFile::write`]: the
//! bytes go to `NAME.tmp` beside it, then a rename puts them in place, so a reader sees the
//! old file or the new one, never a part. The temporary name is fixed: writers hold the lock
//! and never race, and what a killed writer left is replaced by the next write.
//!
//! To add a state file: a `pub const` [`StateFile`] below, its entry in [`ALL`], and its row
//! in the table above.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The folder of the state files, inside `.git/`.
pub const FOLDER: &str = "hf-relay";

/// One file in `.git/hf-relay/`.
#[derive(Debug)]
pub struct StateFile {
    /// Its name in [`FOLDER`].
    pub name: &'static str,
    /// What it holds, in a few words.
    pub holds: &'static str,
    /// Synced to disk before it replaces the old file: a commit relies on the journal being
    /// whole on disk before it renames the first file.
    durable: bool,
}

/// See the table at the top of this module.
pub const BUILD_CACHE: StateFile = StateFile {
    name: "build-cache.json",
    holds: "the last build's inputs and the data tree it left",
    durable: false,
};

/// See the table at the top of this module.
pub const SHARDS: StateFile = StateFile {
    name: "shards.json",
    holds: "the row digests of the last build's shards",
    durable: false,
};

/// See the table at the top of this module.
pub const VERIFIED_LFS: StateFile = StateFile {
    name: "verified-lfs.json",
    holds: "the LFS objects known to be intact, by their stat data",
    durable: false,
};

/// See the table at the top of this module.
pub const PUSHED_TAGS: StateFile = StateFile {
    name: "pushed-tags",
    holds: "the tags the Hub has",
    durable: false,
};

/// See the table at the top of this module: a folder, one `CONFIG/SPLIT.bin` per split, each
/// read and written by `ops::build_commit::row_hashes`.
pub const ROW_HASHES: StateFile = StateFile {
    name: "row-hashes",
    holds: "every row's hash of the last build, per split",
    durable: false,
};

/// See the table at the top of this module.
pub const COMMIT_JOURNAL: StateFile = StateFile {
    name: "commit-in-progress.json",
    holds: "the journal of a commit being put in place",
    durable: true,
};

/// Every state file.
pub const ALL: [&StateFile; 6] = [
    &BUILD_CACHE,
    &SHARDS,
    &VERIFIED_LFS,
    &PUSHED_TAGS,
    &ROW_HASHES,
    &COMMIT_JOURNAL,
];

impl StateFile {
    /// Its path for the clone whose `.git` folder is `git_dir`.
    pub fn path(&self, git_dir: &Path) -> PathBuf {
        git_dir.join(FOLDER).join(self.name)
    }

    /// How messages name it: `.git/hf-relay/NAME`.
    pub fn shown(&self) -> String {
        format!(".git/{FOLDER}/{}", self.name)
    }

    /// Whether it is there (anything at its path counts).
    pub fn exists(&self, git_dir: &Path) -> bool {
        fs::symlink_metadata(self.path(git_dir)).is_ok()
    }

    /// Its bytes; `None` when there is no such file.
    pub fn read(&self, git_dir: &Path) -> anyhow::Result<Option<Vec<u8>>> {
        let path = self.path(git_dir);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Replaces the file with `bytes` atomically (see the module's documentation). Hold the
    /// clone's lock.
    pub fn write(&self, git_dir: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        replace(
            &self.path(git_dir),
            &self.temporary(git_dir),
            self.durable,
            |out| out.write_all(bytes),
        )
    }

    /// For a state folder: replaces the file at `relative` inside it with what `write` writes
    /// (streamed, buffered), atomically as [`StateFile::write`] does (the temporary file is
    /// `NAME.tmp` beside it). Hold the clone's lock.
    pub fn write_in(
        &self,
        git_dir: &Path,
        relative: &Path,
        write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
    ) -> anyhow::Result<()> {
        let path = self.path(git_dir).join(relative);
        let mut temporary = path.clone().into_os_string();
        temporary.push(".tmp");
        replace(&path, Path::new(&temporary), self.durable, write)
    }

    /// Where [`StateFile::write`] puts the bytes before the rename.
    fn temporary(&self, git_dir: &Path) -> PathBuf {
        git_dir.join(FOLDER).join(format!("{}.tmp", self.name))
    }

    /// Removes the temporary file a writer killed before its rename left, if any. Hold the
    /// clone's lock.
    pub fn remove_temporary(&self, git_dir: &Path) {
        let _ = fs::remove_file(self.temporary(git_dir));
    }

    /// Removes the file; one that is not there is fine.
    pub fn remove(&self, git_dir: &Path) -> anyhow::Result<()> {
        let path = self.path(git_dir);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
}

/// Puts what `write` writes at `path` through `temporary` and a rename (see the module's
/// documentation); on failure the temporary file is removed and the old file stays.
fn replace(
    path: &Path,
    temporary: &Path,
    durable: bool,
    write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let folder = path.parent().expect("a state file is in a folder");
    fs::create_dir_all(folder)
        .with_context(|| format!("cannot create folder {}", folder.display()))?;
    let written = fs::File::create(temporary)
        .and_then(|file| {
            let mut out = io::BufWriter::new(file);
            write(&mut out)?;
            let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            if durable {
                file.sync_all()?;
            }
            Ok(())
        })
        .with_context(|| format!("cannot write {}", temporary.display()))
        .and_then(|()| {
            fs::rename(temporary, path).with_context(|| format!("cannot write {}", path.display()))
        });
    if written.is_err() {
        let _ = fs::remove_file(temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_have_distinct_names_and_a_row_in_the_table() {
        let table = include_str!("state.rs");
        for (number, file) in ALL.iter().enumerate() {
            assert!(
                ALL[..number].iter().all(|other| other.name != file.name),
                "{} is listed twice",
                file.name
            );
            assert!(
                table.contains(&format!("//! | `{}` |", file.name)),
                "{} has no row in the table of src/repo/state.rs",
                file.name
            );
        }
    }

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path();
        assert_eq!(SHARDS.read(git_dir).unwrap(), None);
        SHARDS.write(git_dir, b"first, and longer").unwrap();
        SHARDS.write(git_dir, b"second").unwrap();
        assert_eq!(
            SHARDS.read(git_dir).unwrap().as_deref(),
            Some(&b"second"[..])
        );
        assert_eq!(
            fs::read(git_dir.join("hf-relay/shards.json")).unwrap(),
            b"second"
        );
        let names: Vec<_> = fs::read_dir(git_dir.join(FOLDER))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["shards.json"]);
        SHARDS.remove(git_dir).unwrap();
        SHARDS.remove(git_dir).unwrap();
        assert!(!SHARDS.exists(git_dir));
    }

    #[test]
    fn a_failed_write_says_which_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path();
        COMMIT_JOURNAL.write(git_dir, b"old").unwrap();
        // A folder where the file goes: the rename fails.
        fs::remove_file(COMMIT_JOURNAL.path(git_dir)).unwrap();
        fs::create_dir(COMMIT_JOURNAL.path(git_dir)).unwrap();
        fs::write(COMMIT_JOURNAL.path(git_dir).join("x"), b"").unwrap();
        let error = COMMIT_JOURNAL.write(git_dir, b"new").unwrap_err();
        assert!(
            format!("{error:#}").contains("commit-in-progress.json"),
            "{error:#}"
        );
        assert!(
            !git_dir
                .join("hf-relay/commit-in-progress.json.tmp")
                .exists()
        );
    }
}
