//! A new clone: `git init` with branch `main`, remote `origin`, the Hub's `.gitattributes`, a
//! `.gitignore` holding `.env`, and a first commit; nothing is left behind when it fails.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, ensure};

use super::signature::{self, Env};

/// The `.gitattributes` the Hub writes into a new dataset repo (hub-protocol §6.3).
pub const DEFAULT_GITATTRIBUTES: &str = "\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.avro filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.lz4 filter=lfs diff=lfs merge=lfs -text
*.mds filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
# Audio files - uncompressed
*.pcm filter=lfs diff=lfs merge=lfs -text
*.sam filter=lfs diff=lfs merge=lfs -text
*.raw filter=lfs diff=lfs merge=lfs -text
# Audio files - compressed
*.aac filter=lfs diff=lfs merge=lfs -text
*.flac filter=lfs diff=lfs merge=lfs -text
*.mp3 filter=lfs diff=lfs merge=lfs -text
*.ogg filter=lfs diff=lfs merge=lfs -text
*.wav filter=lfs diff=lfs merge=lfs -text
# Image files - uncompressed
*.bmp filter=lfs diff=lfs merge=lfs -text
*.gif filter=lfs diff=lfs merge=lfs -text
*.png filter=lfs diff=lfs merge=lfs -text
*.tiff filter=lfs diff=lfs merge=lfs -text
# Image files - compressed
*.jpg filter=lfs diff=lfs merge=lfs -text
*.jpeg filter=lfs diff=lfs merge=lfs -text
*.webp filter=lfs diff=lfs merge=lfs -text
# Video files - compressed
*.mp4 filter=lfs diff=lfs merge=lfs -text
*.webm filter=lfs diff=lfs merge=lfs -text
";

/// The `.gitignore` of a new clone: keeps a token in `.env` out of git.
pub const DEFAULT_GITIGNORE: &str = ".env\n.env.*\n";

/// Creates a new clone at `dir` for `remote_url`: branch `main`, remote `origin`, the Hub's
/// `.gitattributes`, a `.gitignore` holding `.env`, and a first commit.
pub fn init(dir: &Path, remote_url: &str, repo_id: &str) -> anyhow::Result<git2::Oid> {
    init_with_env(dir, remote_url, repo_id, &signature::process_env)
}

/// [`init`] with the `GIT_*` variables looked up through `env`.
pub fn init_with_env(
    dir: &Path,
    remote_url: &str,
    repo_id: &str,
    env: Env<'_>,
) -> anyhow::Result<git2::Oid> {
    check_remote_url(remote_url)?;
    // Resolved before anything is created: a bad GIT_*_DATE leaves no trace.
    let config = git2::Config::open_default().context("cannot read git config")?;
    let identities = signature::resolve(&config, env)?;
    let created = prepare_empty_dir(dir)?;
    let result = init_in(dir, remote_url, repo_id, &identities);
    if result.is_err() {
        match &created {
            Some(top) => {
                let _ = fs::remove_dir_all(top);
            }
            None => empty_dir(dir),
        }
    }
    result
}

fn init_in(
    dir: &Path,
    remote_url: &str,
    repo_id: &str,
    identities: &signature::Identities,
) -> anyhow::Result<git2::Oid> {
    let mut options = git2::RepositoryInitOptions::new();
    options
        .initial_head("main")
        .no_reinit(true)
        .mkdir(false)
        .mkpath(false);
    let repo = git2::Repository::init_opts(dir, &options)
        .with_context(|| format!("cannot create a git repository in {}", dir.display()))?;
    repo.remote("origin", remote_url)
        .context("cannot add the remote `origin`")?;
    let workdir = repo
        .workdir()
        .context("the new repository has no working tree")?;
    let mut index = repo.index()?;
    for (name, content) in [
        (".gitattributes", DEFAULT_GITATTRIBUTES),
        (".gitignore", DEFAULT_GITIGNORE),
    ] {
        let path = workdir.join(name);
        fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
        index
            .add_path(Path::new(name))
            .with_context(|| format!("cannot add {name} to the git index"))?;
    }
    index.write().context("cannot write the git index")?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let message = format!("Initialize dataset repository {repo_id}\n");
    repo.commit(
        Some("HEAD"),
        &identities.author,
        &identities.committer,
        &message,
        &tree,
        &[],
    )
    .context("cannot create the first commit")
}

/// Makes sure `dir` is an empty folder; returns the topmost folder created for it, if any.
pub(super) fn prepare_empty_dir(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    match fs::metadata(dir) {
        Ok(meta) => {
            ensure!(
                meta.is_dir(),
                "{} already exists and is not a folder",
                dir.display()
            );
            let mut entries =
                fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
            ensure!(
                entries.next().is_none(),
                "{} already exists and is not empty; choose a new folder",
                dir.display()
            );
            Ok(None)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let mut top = dir.to_path_buf();
            while let Some(parent) = top.parent() {
                if parent.as_os_str().is_empty() || parent.exists() {
                    break;
                }
                top = parent.to_path_buf();
            }
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            Ok(Some(top))
        }
        Err(error) => Err(error).with_context(|| format!("cannot inspect {}", dir.display())),
    }
}

/// Removes everything inside `dir` (which was empty before we started).
pub(crate) fn empty_dir(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
    }
}

/// The remote URL is stored in `.git/config`: a token or password must never be part of it.
pub(super) fn check_remote_url(url: &str) -> anyhow::Result<()> {
    ensure!(!url.trim().is_empty(), "the remote URL is empty");
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _host)) = authority.rsplit_once('@') {
            let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            // Not echoing the URL: it holds a secret.
            ensure!(
                !http && !userinfo.contains(':'),
                "the remote URL must not contain credentials; hf-relay sends the token only \
                 when it talks to the Hub"
            );
        }
    }
    Ok(())
}
