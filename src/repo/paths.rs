//! Path safety: the paths a commit names stay inside the clone, and nothing is written
//! through a symbolic link, a file in the way or a folder that HEAD holds as something else.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};

/// Paths are `/`-separated and relative to the root; no `.`, `..`, empty components or `.git`.
pub(super) fn check_path(path: &str) -> anyhow::Result<()> {
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
pub(super) fn check_worktree_target(root: &Path, path: &str) -> anyhow::Result<()> {
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
pub(super) fn check_tree_parents(
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
