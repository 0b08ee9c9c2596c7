//! `hf-relay clone OWNER/NAME [DIR]`: a local clone of a Hub dataset, with the content of its
//! LFS files in the working tree (unless `--no-lfs`).
//!
//! The clone is all or nothing: when anything after the git clone fails (or Ctrl-C was
//! pressed), the folder is removed again, so there is never a half-downloaded clone to mistake
//! for a good one.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::auth::Token;
use crate::cli::CloneArgs;
use crate::convert::ConvertError;
use crate::hub::{HubClient, LfsObject};
use crate::output::status;
use crate::repo::{Clone, lfs, remote};
use crate::repo_id::{RepoId, dataset_url};
use crate::units::{human_bytes, plural};

pub fn run(args: CloneArgs) -> anyhow::Result<()> {
    let repo_id = RepoId::parse(&args.repo_id)?;
    let endpoint = crate::env::endpoint(args.endpoint.as_deref());
    let url = dataset_url(&endpoint, &repo_id);
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&repo_id.name));
    if crate::auth::offline() {
        bail!(
            "cannot clone {repo_id}: {} is set, which forbids network access; unset it to clone",
            crate::env::HF_HUB_OFFLINE
        );
    }
    // Public repos need no token: without one, clone anonymously (a private repo then fails
    // with "this repository needs a token").
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let token = crate::auth::find_token(&cwd, None)
        .ok()
        .map(|found| found.token);

    // The endpoint comes from the user: never echo credentials it may hold.
    let shown_url = crate::auth::redact(&url);
    status(format!(
        "Cloning {repo_id} from {shown_url} into {}",
        dir.display()
    ));
    let created = Created::before_clone(&dir);
    let clone = remote::clone_from(&url, &dir, token.as_ref())
        .with_context(|| format!("cannot clone {repo_id} into {}", dir.display()))?;
    // From here on the folder is ours: any failure removes what the clone wrote.
    let result = finish(&clone, args.no_lfs, &endpoint, &repo_id, token);
    drop(clone);
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            created.remove();
            let interrupted = error.chain().any(|cause| {
                matches!(
                    cause.downcast_ref::<ConvertError>(),
                    Some(ConvertError::Interrupted)
                )
            });
            let context = if interrupted {
                format!(
                    "clone of {repo_id} interrupted; the partial clone in {} was removed",
                    dir.display()
                )
            } else {
                format!(
                    "cannot clone {repo_id} into {}; the partial clone was removed{}",
                    dir.display(),
                    if args.no_lfs {
                        ""
                    } else {
                        " (--no-lfs clones without downloading the LFS files)"
                    }
                )
            };
            return Err(error.context(context));
        }
    };

    if summary.downloaded > 0 {
        status(format!(
            "Downloaded {} LFS object{} ({})",
            summary.downloaded,
            plural(summary.downloaded),
            human_bytes(summary.downloaded_bytes)
        ));
    }
    status(format!(
        "Cloned {repo_id} into {} ({} file{}, {} LFS object{})",
        dir.display(),
        summary.files,
        plural(summary.files),
        summary.objects,
        plural(summary.objects)
    ));
    if args.no_lfs && summary.objects > 0 {
        status("LFS files hold their pointers (--no-lfs); their content was not downloaded");
    }
    if !summary.modified.is_empty() {
        status(format!(
            "Left as checked out (neither their LFS pointer nor their content): {}",
            summary.modified.join(", ")
        ));
    }
    Ok(())
}

/// What a successful clone holds.
struct Summary {
    files: usize,
    objects: usize,
    downloaded: usize,
    downloaded_bytes: u64,
    modified: Vec<String>,
}

/// Everything after the git clone: counts, then (unless `no_lfs`) the LFS objects of HEAD into
/// `.git/lfs/objects` and their content into the working tree.
fn finish(
    clone: &Clone,
    no_lfs: bool,
    endpoint: &str,
    repo_id: &RepoId,
    token: Option<Token>,
) -> anyhow::Result<Summary> {
    check_interrupted()?;
    let head = clone.repo.head()?.peel_to_commit()?;
    let files = count_files(&head.tree()?)?;
    let pointers = remote::lfs_pointers_at(clone, head.id())?;
    let mut summary = Summary {
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
        let bar = crate::output::TransferProgress::new("Downloading");
        // `lfs_download` checks the size and SHA-256 of each object before renaming it into
        // its place in the store, so only complete, verified objects ever land there.
        let downloaded = client.lfs_download(
            &repo_id.to_string(),
            &missing,
            &|object| lfs::store_path(&git_dir, &object.oid),
            &bar,
        );
        bar.finish();
        downloaded.context("cannot download the LFS files")?;
        summary.downloaded = missing.len();
        summary.downloaded_bytes = missing.iter().map(|object| object.size).sum();
    }
    check_interrupted()?;

    // Every object is in the store now; checkout_lfs fetches nothing, it only swaps the
    // pointer text for the content and refreshes the index.
    let report = remote::checkout_lfs(clone, &|pointer, _| {
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

fn check_interrupted() -> anyhow::Result<()> {
    if crate::interrupt::interrupted() {
        return Err(ConvertError::Interrupted.into());
    }
    Ok(())
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

/// The files (blobs and links) in `tree`, recursively.
fn count_files(tree: &git2::Tree<'_>) -> anyhow::Result<usize> {
    let mut files = 0;
    tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            files += 1;
        }
        git2::TreeWalkResult::Ok
    })?;
    Ok(files)
}
