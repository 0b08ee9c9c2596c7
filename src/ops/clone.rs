//! `clone`: a local clone of a Hub dataset, with the content of its LFS files in the working
//! tree (unless `no_lfs`).
//!
//! The clone is all or nothing: when anything after the git clone fails (or Ctrl-C was
//! pressed), the folder is removed again, so there is never a half-downloaded clone to mistake
//! for a good one.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::Reporter;
use crate::auth::Token;
use crate::hub::{HubClient, LfsObject};
use crate::ops::{Hint, UserError};
use crate::repo::{LocalClone, lfs, remote};
use crate::repo_id::{RepoId, dataset_url};
use crate::units::{human_bytes, plural};

/// What `clone` is asked to do.
#[derive(Debug, Clone)]
pub struct CloneOptions {
    pub repo_id: RepoId,
    /// Where to clone; default `./NAME`.
    pub dir: Option<PathBuf>,
    /// Keep the LFS pointers instead of downloading the content.
    pub no_lfs: bool,
    /// The Hub's base URL (`--endpoint`, else `HF_ENDPOINT`, else the public Hub).
    pub endpoint: String,
    /// The branch or tag to check out (default: main).
    pub revision: Option<String>,
}

/// What a successful clone holds.
#[derive(Debug, Clone)]
pub struct CloneOutcome {
    pub dir: PathBuf,
    pub files: usize,
    pub objects: usize,
    pub downloaded: usize,
    pub downloaded_bytes: u64,
    /// Files left as checked out (neither their LFS pointer nor their content).
    pub modified: Vec<String>,
}

pub fn clone(options: &CloneOptions, reporter: &dyn Reporter) -> anyhow::Result<CloneOutcome> {
    let repo_id = &options.repo_id;
    let endpoint = options.endpoint.as_str();
    let url = dataset_url(endpoint, repo_id);
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&repo_id.name));
    if crate::auth::offline() {
        return Err(UserError::new(format!(
            "cannot clone {repo_id}: {} is set, which forbids network access",
            crate::env::HF_HUB_OFFLINE
        ))
        .hint(Hint::UnsetOffline { action: "clone" })
        .into());
    }
    // Public repos need no token: without one, clone anonymously (a private repo then fails
    // with "this repository needs a token").
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let token = crate::auth::find_token(&cwd, None)
        .ok()
        .map(|found| found.token);

    // The endpoint comes from the user: never echo credentials it may hold.
    let shown_url = crate::auth::redact(&url);
    reporter.status(&format!(
        "Cloning {repo_id} from {shown_url} into {}",
        dir.display()
    ));
    let created = Created::before_clone(&dir);
    let revision = options.revision.as_deref();
    let clone = remote::clone_revision(&url, &dir, token.as_ref(), revision)
        .with_context(|| format!("cannot clone {repo_id} into {}", dir.display()))?;
    // From here on the folder is ours: any failure removes what the clone wrote.
    let result = finish(&clone, options.no_lfs, endpoint, repo_id, token, reporter);
    drop(clone);
    match result {
        Ok(files) => {
            let outcome = CloneOutcome { dir, ..files };
            report(&outcome, repo_id, options.no_lfs, reporter);
            Ok(outcome)
        }
        Err(error) => {
            created.remove();
            let interrupted = crate::interrupt::is_interrupted(&error);
            let context = if interrupted {
                format!(
                    "clone of {repo_id} interrupted; the partial clone in {} was removed",
                    dir.display()
                )
            } else {
                format!(
                    "cannot clone {repo_id} into {}; the partial clone was removed{}",
                    dir.display(),
                    if options.no_lfs {
                        ""
                    } else {
                        " (--no-lfs clones without downloading the LFS files)"
                    }
                )
            };
            Err(error.context(context))
        }
    }
}

/// The status lines of a successful clone.
fn report(outcome: &CloneOutcome, repo_id: &RepoId, no_lfs: bool, reporter: &dyn Reporter) {
    if outcome.downloaded > 0 {
        reporter.status(&format!(
            "Downloaded {} LFS object{} ({})",
            outcome.downloaded,
            plural(outcome.downloaded),
            human_bytes(outcome.downloaded_bytes)
        ));
    }
    reporter.status(&format!(
        "Cloned {repo_id} into {} ({} file{}, {} LFS object{})",
        outcome.dir.display(),
        outcome.files,
        plural(outcome.files),
        outcome.objects,
        plural(outcome.objects)
    ));
    if no_lfs && outcome.objects > 0 {
        reporter
            .status("LFS files hold their pointers (--no-lfs); their content was not downloaded");
    }
    if !outcome.modified.is_empty() {
        reporter.status(&format!(
            "Left as checked out (neither their LFS pointer nor their content): {}",
            outcome.modified.join(", ")
        ));
    }
}

/// Everything after the git clone: counts, then (unless `no_lfs`) the LFS objects of HEAD into
/// `.git/lfs/objects` and their content into the working tree. (The outcome's `dir` is left
/// empty for the caller.)
fn finish(
    clone: &LocalClone,
    no_lfs: bool,
    endpoint: &str,
    repo_id: &RepoId,
    token: Option<Token>,
    reporter: &dyn Reporter,
) -> anyhow::Result<CloneOutcome> {
    crate::interrupt::check()?;
    // Every tag of a fresh clone came from the Hub: record them as pushed, or `status` would
    // list them as tags to push (see `inspect::pushed_tags`).
    let fetched: Vec<(String, String)> = clone
        .tags()?
        .into_iter()
        .map(|(name, id)| (name, id.to_string()))
        .collect();
    if !fetched.is_empty() {
        crate::inspect::record_pushed_tags(clone.repo.path(), &fetched)?;
    }
    let head = clone.head_id()?;
    let files = clone.head_file_count()?;
    let pointers = lfs::lfs_pointers_at(clone, head)?;
    let mut summary = CloneOutcome {
        dir: PathBuf::new(),
        files,
        objects: pointers.len(),
        downloaded: 0,
        downloaded_bytes: 0,
        modified: Vec::new(),
    };
    if no_lfs {
        return Ok(summary);
    }

    let _lock = clone.lock()?;
    let git_dir = clone.repo.path().to_path_buf();
    let missing: Vec<LfsObject> = pointers
        .iter()
        .filter(|(_, pointer)| !in_store(&git_dir, pointer))
        .map(|(_, pointer)| LfsObject {
            oid: pointer.oid.clone(),
            size: pointer.size,
        })
        .collect();
    if !missing.is_empty() {
        let client = HubClient::new(endpoint, token);
        let bar = reporter.transfer("Downloading");
        // `lfs_download` checks the size and SHA-256 of each object before renaming it into
        // its place in the store, so only complete, verified objects ever land there.
        let downloaded = client.lfs_download(
            &repo_id.to_string(),
            &missing,
            &|object| lfs::store_path(&git_dir, &object.oid),
            &*bar,
        );
        bar.finish();
        downloaded.context("cannot download the LFS files")?;
        summary.downloaded = missing.len();
        summary.downloaded_bytes = missing.iter().map(|object| object.size).sum();
    }
    crate::interrupt::check()?;

    // Every object is in the store now; checkout_lfs fetches nothing, it only swaps the
    // pointer text for the content and refreshes the index.
    let report = lfs::checkout_lfs(clone, &|pointer, _| {
        bail!(
            "LFS object {} ({} bytes) is missing from .git/lfs/objects after download",
            pointer.oid,
            pointer.size
        )
    })
    .context("cannot put the LFS files' content in the working tree")?;
    summary.modified = report.modified;
    Ok(summary)
}

/// Whether the store already holds `pointer`'s object (with the right size).
fn in_store(git_dir: &Path, pointer: &lfs::Pointer) -> bool {
    fs::metadata(lfs::store_path(git_dir, &pointer.oid))
        .is_ok_and(|meta| meta.is_file() && meta.len() == pointer.size)
}

/// What to remove when the clone fails after `clone_from` succeeded: the topmost folder it
/// created, or the content of the (empty) folder it was given.
enum Created {
    Folder(PathBuf),
    ContentOf(PathBuf),
}

impl Created {
    /// Decided before cloning, as `clone_from` does: `dir` must be absent or empty.
    fn before_clone(dir: &Path) -> Created {
        if dir.exists() {
            return Created::ContentOf(dir.to_path_buf());
        }
        let mut top = dir.to_path_buf();
        while let Some(parent) = top.parent() {
            if parent.as_os_str().is_empty() || parent.exists() {
                break;
            }
            top = parent.to_path_buf();
        }
        Created::Folder(top)
    }

    fn remove(&self) {
        match self {
            Created::Folder(top) => {
                let _ = fs::remove_dir_all(top);
            }
            Created::ContentOf(dir) => crate::repo::empty_dir(dir),
        }
    }
}
