//! The clone's lock (`.git/hf-relay.lock`), held while a command works on the clone, and the
//! git lock files a killed process left behind, removed once they are old enough to be
//! nobody's.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail, ensure};

use super::{LocalClone, remote};

/// Held while a command works on a clone; a second process fails clearly.
pub struct Lock {
    _file: fs::File,
}

/// The lock file, inside `.git/`.
const LOCK_FILE: &str = "hf-relay.lock";

/// How old one of git's lock files must be, with our lock free, to be called the leftover of
/// a killed process.
const STALE_LOCK_AGE: Duration = Duration::from_secs(2);

impl LocalClone {
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

    /// Removes the git lock files that a killed fetch or push may have left on the refs a push
    /// updates (`refs/remotes/origin/main`, `packed-refs`, tags), once they are old enough to
    /// be nobody's (see [`remove_stale_locks`]); `_held` proves the caller holds the
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
        remove_stale_locks(&locks, "cannot update the record of the Hub's refs")
    }
}

/// Removes each of `locks` (git lock files) once it is [`STALE_LOCK_AGE`] old, waiting for a
/// young one to age; fails (`context: … keeps being locked`) when one is still renewed after
/// three times that. Call only under the clone's lock, so that no hf-relay process is at work.
/// Returns how many were removed.
pub(super) fn remove_stale_locks(locks: &[PathBuf], context: &str) -> anyhow::Result<usize> {
    let mut removed = 0;
    for lock in locks {
        let start = SystemTime::now();
        loop {
            let modified = match fs::symlink_metadata(lock).and_then(|meta| meta.modified()) {
                Ok(modified) => modified,
                Err(error) if error.kind() == io::ErrorKind::NotFound => break,
                Err(error) => {
                    return Err(error)
                        .with_context(|| format!("cannot inspect {}", lock.display()));
                }
            };
            let age = |time: SystemTime| time.elapsed().unwrap_or_default();
            if age(modified) >= STALE_LOCK_AGE {
                match fs::remove_file(lock) {
                    Ok(()) => {
                        removed += 1;
                        break;
                    }
                    Err(error) if error.kind() == io::ErrorKind::NotFound => break,
                    Err(error) => {
                        return Err(error).with_context(|| {
                            format!("cannot remove the stale lock {}", lock.display())
                        });
                    }
                }
            }
            ensure!(
                age(start) < STALE_LOCK_AGE * 3,
                "{context}: {} keeps being locked by another git process; run hf-relay again \
                 when it is done",
                lock.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(removed)
}
