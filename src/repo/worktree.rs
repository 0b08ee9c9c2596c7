//! Files moved into the working tree the way git would leave them: no executable bit, a
//! settled mtime, an index entry carrying their stat data (so `git status` stays clean), and
//! no empty folder left behind by a delete.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context as _, ensure};

/// A staged file is renamed into the working tree; a rename cannot cross filesystems, and
/// failing there would leave a half-updated working tree, so check first.
pub(super) fn check_same_filesystem(staged: &Path, root: &Path) -> anyhow::Result<()> {
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
            "{} is not on the same filesystem as {}; stage files under LocalClone::staging_dir",
            staged.display(),
            root.display()
        );
    }
    #[cfg(not(unix))]
    let _ = (staged, root);
    Ok(())
}

/// Prepares a file that is about to be moved into the working tree: no executable bit (the
/// index says 100644) and an mtime at least a second old. A file modified in the same second
/// as the index is "racily clean" to git, which then re-hashes it; for an LFS file that takes
/// the git-lfs clean filter, and without git-lfs installed git would see the Parquet bytes
/// instead of the pointer and call the file modified. Later edits still change the mtime.
pub(super) fn settle(path: &Path, mtime: SystemTime) -> anyhow::Result<()> {
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
pub(super) fn index_entry(path: &str, id: git2::Oid, meta: &fs::Metadata) -> git2::IndexEntry {
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
pub(super) fn remove_empty_parents(root: &Path, path: &str) {
    let mut parent = Path::new(path).parent();
    while let Some(folder) = parent {
        if folder.as_os_str().is_empty() || fs::remove_dir(root.join(folder)).is_err() {
            break;
        }
        parent = folder.parent();
    }
}
