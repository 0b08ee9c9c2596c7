//! LFS downloads: batch "download", GET each href into a temporary file beside its
//! destination, check size and SHA-256, rename into place.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::http::{Method, Request, transfer_timeout};
use super::lfs::{Action, BatchItem, LfsObject, Operation, Revision, dedup};
use super::progress::{Counted, ObjectProgress};
use super::{HubClient, HubError, UploadReporter, pool};

const READ_BUFFER: usize = 256 * 1024;

impl HubClient {
    /// Downloads each object to `dest(object)` (folders are created). A file appears only once
    /// its size and SHA-256 match. Works without a token for public repos.
    pub fn lfs_download(
        &self,
        repo_id: &str,
        objects: &[LfsObject],
        dest: &(dyn Fn(&LfsObject) -> PathBuf + Sync),
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        let (empty, wanted): (Vec<_>, Vec<_>) =
            dedup(objects).into_iter().partition(|o| o.size == 0);
        for object in &empty {
            // An empty file is its own pointer; the Hub stores nothing for it.
            let path = dest(object);
            create_parent(&path)?;
            std::fs::write(&path, b"").map_err(|source| HubError::LocalIo {
                action: "could not write",
                path: path.clone(),
                source,
            })?;
        }
        let items = self.batch(
            repo_id,
            &Revision::main(),
            Operation::Download,
            &wanted,
            reporter,
        )?;
        let url = self.batch_url(repo_id);
        for item in &items {
            if item.download.is_none() {
                return Err(HubError::InvalidResponse {
                    url: self.http.shown(&url),
                    detail: format!("no download action for LFS object {}", item.object.oid),
                });
            }
        }
        reporter.on_start(items.len(), items.iter().map(|i| i.object.size).sum());
        pool::run(&items, self.workers, |item| {
            self.download_object(repo_id, item.clone(), &dest(&item.object), reporter)
        })?;
        Ok(())
    }

    fn download_object(
        &self,
        repo_id: &str,
        item: BatchItem,
        dest: &Path,
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        let progress = ObjectProgress::new(item.object.size, reporter);
        let mut high = 0;
        let oid = item.object.oid.clone();
        let fetched = self.with_fresh_url(
            repo_id,
            &Revision::main(),
            Operation::Download,
            item,
            reporter,
            |object, action| self.fetch(object, action, dest, &mut high, &progress, reporter),
        )?;
        let Some(item) = fetched else {
            return Err(HubError::InvalidResponse {
                url: self.http.shown(&self.batch_url(repo_id)),
                detail: format!("no download action for LFS object {oid}"),
            });
        };
        progress.finish();
        reporter.on_object_done(&item.object.oid);
        Ok(())
    }

    fn fetch(
        &self,
        object: &LfsObject,
        action: &Action,
        dest: &Path,
        high: &mut u64,
        progress: &ObjectProgress<'_>,
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        let folder = create_parent(dest)?;
        let headers = action.header_pairs();
        let what = format!(
            "downloading LFS object {} ({} bytes)",
            object.short(),
            object.size
        );
        let local = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| HubError::LocalIo {
                action,
                path,
                source,
            }
        };
        self.http.retry(&what, reporter, || {
            if action.expired() {
                return Err(self.expired(object, action));
            }
            let request = Request::new(Method::Get, &action.href)
                .headers(&headers)
                .timeout(transfer_timeout(object.size));
            let response = self
                .http
                .send(&request, None)
                .map_err(|err| self.storage_error(object, &action.href, err))?;
            // 0666 less the umask, as git and git-lfs create files (tempfile's own is 0600).
            let mut temp = tempfile::Builder::new()
                .prefix(".hf-relay-download-")
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
                .tempfile_in(&folder)
                .map_err(local("could not create a temporary file in", &folder))?;
            let mut body = Counted::new(response.into_body().into_reader(), &mut *high, progress);
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; READ_BUFFER];
            let mut received = 0u64;
            loop {
                let n = body.read(&mut buffer).map_err(|err| {
                    self.http
                        .network(Method::Get, &action.href, ureq::Error::Io(err))
                })?;
                if n == 0 {
                    break;
                }
                received += n as u64;
                if received > object.size {
                    break;
                }
                hasher.update(&buffer[..n]);
                temp.write_all(&buffer[..n])
                    .map_err(local("could not write", temp.path()))?;
            }
            let oid = crate::ids::hex(&hasher.finalize());
            if received != object.size || oid != object.oid {
                let got = if received != object.size {
                    let more = if received > object.size {
                        " or more"
                    } else {
                        ""
                    };
                    format!("{received}{more} bytes instead of {}", object.size)
                } else {
                    format!("sha256 {oid}")
                };
                return Err(HubError::InvalidResponse {
                    url: self.http.shown(&action.href),
                    detail: format!(
                        "the download of LFS object {} does not match it: {got}",
                        object.oid
                    ),
                });
            }
            temp.as_file()
                .sync_all()
                .map_err(local("could not write", temp.path()))?;
            temp.persist(dest)
                .map_err(|err| local("could not move the download to", dest)(err.error))?;
            Ok(())
        })
    }
}

/// Creates the folder `path` goes in and returns it.
fn create_parent(path: &Path) -> Result<PathBuf, HubError> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&folder).map_err(|source| HubError::LocalIo {
        action: "could not create folder",
        path: folder.clone(),
        source,
    })?;
    Ok(folder)
}
