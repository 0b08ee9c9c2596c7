//! `init`: a new local clone for a Hub dataset repo, offline: branch `main`, remote `origin`
//! at the repo's URL on the endpoint, the Hub's `.gitattributes`, a `.gitignore` holding
//! `.env`, and a first commit. `publish` starts a new repo's clone with it too.

use std::path::PathBuf;

use anyhow::Context as _;

use super::Reporter;
use crate::repo;
use crate::repo_id::{RepoId, dataset_url};

/// What `init OWNER/NAME [DIR]` is asked to do.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub repo_id: RepoId,
    /// Where the clone goes; default `./NAME`.
    pub dir: Option<PathBuf>,
    pub endpoint: String,
}

impl InitOptions {
    /// The folder of the clone.
    pub fn dir(&self) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.repo_id.name))
    }
}

/// The clone `init` made.
#[derive(Debug, Clone)]
pub struct Initialized {
    pub dir: PathBuf,
    /// The remote `origin`.
    pub url: String,
    /// The first commit.
    pub commit: git2::Oid,
}

/// Makes the clone; nothing is left behind when it fails.
pub fn init(options: &InitOptions, reporter: &dyn Reporter) -> anyhow::Result<Initialized> {
    let repo_id = &options.repo_id;
    let dir = options.dir();
    let url = dataset_url(&options.endpoint, repo_id);
    let commit = repo::init(&dir, &url, &repo_id.to_string())
        .with_context(|| format!("cannot create a clone of {repo_id} in {}", dir.display()))?;
    reporter.status(&format!(
        "Initialized {repo_id} in {} (remote origin = {url})",
        dir.display()
    ));
    Ok(Initialized { dir, url, commit })
}
