//! Finding and opening a clone: from any folder inside it, as git does, with a clear error for
//! every way a folder is not a clone hf-relay can work on; opening completes a commit a killed
//! process left half-applied (see `journal`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::{LocalClone, journal, short_branch};

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

impl LocalClone {
    /// Opens the clone that holds `dir`, looking upwards from it as git does (so a command run
    /// in `data/` finds the clone above it); `dir` must exist. Then as [`LocalClone::open`].
    pub fn discover(dir: &Path) -> anyhow::Result<LocalClone> {
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
            Some(root) if same(root, dir) => LocalClone::open(dir),
            Some(root) => LocalClone::open(root),
            None => Err(anyhow::anyhow!(
                "{shown} is in a bare repository ({}), without a working tree",
                repo.path().display()
            )),
        }
    }

    /// Opens the clone whose working tree root is `dir`; HEAD must be a branch with commits.
    ///
    /// When no other process holds the lock, first completes a commit a killed process left
    /// half-applied (see [`LocalClone::recovered`]) and removes the staging and scratch folders of
    /// killed processes. Otherwise nothing is written.
    pub fn open(dir: &Path) -> anyhow::Result<LocalClone> {
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
        let mut clone = LocalClone {
            repo,
            root,
            branch,
            recovered: None,
        };
        clone.recovered = journal::recover(&clone)?;
        Ok(clone)
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
}
