//! `hf-relay clone OWNER/NAME [DIR]`: a local clone of a Hub dataset, with the content of its
//! LFS files in the working tree (unless `--no-lfs`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::CloneArgs;
use crate::output::status;
use crate::repo::lfs::Pointer;
use crate::repo::remote;
use crate::repo_id::{RepoId, dataset_url};

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
    let token = token_from_env();

    // The endpoint comes from the user: never echo credentials it may hold.
    let shown_url = remote::redact(&url, None);
    status(format!(
        "Cloning {repo_id} from {shown_url} into {}",
        dir.display()
    ));
    let clone = remote::clone_from(&url, &dir, token.as_deref())
        .with_context(|| format!("cannot clone {repo_id} into {}", dir.display()))?;
    let head = clone.repo.head()?.peel_to_commit()?;
    let files = count_files(&head.tree()?)?;
    let objects = remote::lfs_pointers_at(&clone, head.id())?.len();

    if !args.no_lfs {
        let _lock = clone.lock()?;
        let download = |pointer: &Pointer, path: &Path| {
            download_lfs_object(&endpoint, &repo_id, token.as_deref(), pointer, path)
        };
        let report = remote::checkout_lfs(&clone, &download).with_context(|| {
            format!(
                "cloned {repo_id} into {}, but its LFS files could not be downloaded; they \
                 hold their LFS pointers for now (delete the folder and clone again, or use \
                 --no-lfs)",
                dir.display()
            )
        })?;
        if report.fetched > 0 {
            status(format!(
                "Downloaded {} LFS object{}",
                report.fetched,
                plural(report.fetched)
            ));
        }
    }
    status(format!(
        "Cloned {repo_id} into {} ({files} file{}, {objects} LFS object{})",
        dir.display(),
        plural(files),
        plural(objects)
    ));
    if args.no_lfs && objects > 0 {
        status("LFS files hold their pointers (--no-lfs); their content was not downloaded");
    }
    Ok(())
}

/// The token for the Hub, from `HF_TOKEN` only for now.
// TODO(auth): use crate::auth::find_token
fn token_from_env() -> Option<String> {
    std::env::var(crate::env::HF_TOKEN)
        .ok()
        .map(|token| token.trim().to_string())
        .filter(|token| !token.is_empty())
}

/// Writes the content of the LFS object `pointer` of `repo_id` to `path`.
// TODO(hub): download through `crate::hub` (its `lfs_download`, batch API) once it lands;
// `checkout_lfs` checks the sha256 and size of what is written here.
fn download_lfs_object(
    endpoint: &str,
    repo_id: &RepoId,
    token: Option<&str>,
    pointer: &Pointer,
    path: &Path,
) -> anyhow::Result<()> {
    let _ = (endpoint, token, path);
    bail!(
        "downloading LFS objects is not available yet (object {} of {repo_id}, {} bytes); \
         clone with --no-lfs",
        pointer.oid,
        pointer.size
    )
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
