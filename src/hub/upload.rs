//! LFS uploads as hfh `lfs.py::lfs_upload` does them (hub-protocol.md §2.4): basic PUT or
//! multipart parts + completion, then verify. Files are streamed from disk, never loaded.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::http::{LFS_JSON, Method, Request, transfer_timeout};
use super::lfs::{Action, BatchItem, LfsObject, Operation, Revision};
use super::progress::{Counted, ObjectProgress};
use super::{HubClient, HubError, UploadReporter, pool};

/// New batch requests for one object whose URLs expired, before giving up.
pub(crate) const MAX_REBATCH: u32 = 3;

/// What [`HubClient::lfs_upload`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadStats {
    pub objects_uploaded: usize,
    pub bytes_uploaded: u64,
    /// Objects the Hub already had (and empty files, which never go through LFS).
    pub objects_skipped: usize,
    /// Of `objects_uploaded`, those that went through Xet, with their bytes (counted in
    /// `bytes_uploaded` too) and the bytes that actually travelled for them (new chunks and
    /// the shard): the rest the Hub's store already had.
    pub xet_objects: usize,
    pub xet_file_bytes: u64,
    pub xet_sent_bytes: u64,
}

impl HubClient {
    /// Uploads the objects the Hub lacks, each from the file holding its content, then
    /// verifies them. Objects go in parallel; a failure stops new objects from starting.
    pub fn lfs_upload(
        &self,
        repo_id: &str,
        revision: &Revision,
        objects: &[(LfsObject, PathBuf)],
        reporter: &dyn UploadReporter,
    ) -> Result<UploadStats, HubError> {
        let mut stats = UploadStats::default();
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        for (object, path) in objects {
            if !seen.insert(object.oid.as_str()) {
                continue;
            }
            check_file(object, path)?;
            if object.size == 0 {
                stats.objects_skipped += 1; // an empty file is its own pointer
                continue;
            }
            files.push((object.clone(), path.as_path()));
        }
        let wanted: Vec<LfsObject> = files.iter().map(|(o, _)| o.clone()).collect();
        let items = self.batch(repo_id, revision, Operation::Upload, &wanted, reporter)?;
        let jobs: Vec<(BatchItem, &Path)> = items
            .into_iter()
            .zip(files.iter().map(|(_, path)| *path))
            .filter(|(item, _)| item.upload.is_some())
            .collect();
        stats.objects_skipped += wanted.len() - jobs.len();
        #[cfg(feature = "xet")]
        let jobs = {
            let (xet, lfs): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|(item, _)| item.xet);
            let sent = self.xet_upload(repo_id, revision, &xet, reporter)?;
            stats.objects_uploaded += sent.objects;
            stats.bytes_uploaded += sent.file_bytes;
            stats.xet_objects = sent.objects;
            stats.xet_file_bytes = sent.file_bytes;
            stats.xet_sent_bytes = sent.sent_bytes;
            lfs
        };
        if jobs.is_empty() && stats.xet_objects > 0 {
            return Ok(stats);
        }
        let total_bytes = jobs.iter().map(|(item, _)| item.object.size).sum();
        reporter.on_start(jobs.len(), total_bytes);
        let sent = pool::run(&jobs, self.workers, |(item, path)| {
            self.upload_object(repo_id, revision, item.clone(), path, reporter)
        })?;
        for (uploaded, (item, _)) in sent.into_iter().zip(&jobs) {
            if uploaded {
                stats.objects_uploaded += 1;
                stats.bytes_uploaded += item.object.size;
            } else {
                stats.objects_skipped += 1;
            }
        }
        Ok(stats)
    }

    /// One object, asking for fresh URLs when they expire. `false`: the Hub turned out to
    /// have it already.
    fn upload_object(
        &self,
        repo_id: &str,
        revision: &Revision,
        item: BatchItem,
        path: &Path,
        reporter: &dyn UploadReporter,
    ) -> Result<bool, HubError> {
        let oid = item.object.oid.clone();
        let progress = ObjectProgress::new(item.object.size, reporter);
        let Some(item) = self.with_fresh_url(
            repo_id,
            revision,
            Operation::Upload,
            item,
            reporter,
            |object, upload| self.transfer(object, upload, path, &progress, reporter),
        )?
        else {
            progress.finish();
            reporter.on_object_done(&oid);
            return Ok(false);
        };
        if let Some(verify) = &item.verify {
            self.verify(&item.object, verify, reporter)?;
        }
        progress.finish();
        reporter.on_object_done(&item.object.oid);
        Ok(true)
    }

    /// Runs `attempt` with the item's `operation` action; when its URL has expired (before or
    /// during the attempt), asks the batch API for a new one, at most [`MAX_REBATCH`] times.
    /// Returns the item last used (for its verify action), or `None` when the Hub gave no
    /// action for the object.
    pub(crate) fn with_fresh_url(
        &self,
        repo_id: &str,
        revision: &Revision,
        operation: Operation,
        mut item: BatchItem,
        reporter: &dyn UploadReporter,
        mut attempt: impl FnMut(&LfsObject, &Action) -> Result<(), HubError>,
    ) -> Result<Option<BatchItem>, HubError> {
        let mut rebatches = 0;
        loop {
            let action = match operation {
                Operation::Upload => item.upload.clone(),
                Operation::Download => item.download.clone(),
            };
            let Some(action) = action else {
                return Ok(None);
            };
            let result = if action.expired() {
                Err(self.expired(&item.object, &action))
            } else {
                attempt(&item.object, &action)
            };
            match result {
                Ok(()) => return Ok(Some(item)),
                Err(HubError::ExpiredUrl { .. }) if rebatches < MAX_REBATCH => {
                    rebatches += 1;
                    reporter.on_retry(
                        &format!(
                            "the {} URL for LFS object {} expired; asking for a new one",
                            operation.as_str(),
                            item.object.short()
                        ),
                        Duration::ZERO,
                    );
                    item = self.rebatch(repo_id, revision, operation, &item.object, reporter)?;
                }
                Err(err) => return Err(err),
            }
        }
    }

    pub(crate) fn rebatch(
        &self,
        repo_id: &str,
        revision: &Revision,
        operation: Operation,
        object: &LfsObject,
        reporter: &dyn UploadReporter,
    ) -> Result<BatchItem, HubError> {
        let mut items = self.batch(
            repo_id,
            revision,
            operation,
            std::slice::from_ref(object),
            reporter,
        )?;
        Ok(items.pop().expect("one item per object asked"))
    }

    pub(crate) fn expired(&self, object: &LfsObject, action: &Action) -> HubError {
        HubError::ExpiredUrl {
            oid: object.oid.clone(),
            url: self.http.shown(&action.href),
        }
    }

    /// A storage refusal that says the signed URL expired becomes [`HubError::ExpiredUrl`].
    pub(crate) fn storage_error(&self, object: &LfsObject, url: &str, err: HubError) -> HubError {
        let expired = match &err {
            HubError::Forbidden { message, .. } | HubError::Rejected { message, .. } => message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("expired")),
            _ => false,
        };
        if expired {
            HubError::ExpiredUrl {
                oid: object.oid.clone(),
                url: self.http.shown(url),
            }
        } else {
            err
        }
    }

    fn transfer(
        &self,
        object: &LfsObject,
        upload: &Action,
        path: &Path,
        progress: &ObjectProgress<'_>,
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        match upload.header.get("chunk_size") {
            Some(chunk_size) => {
                self.multipart(object, upload, chunk_size, path, progress, reporter)
            }
            None => self.basic(object, upload, path, progress, reporter),
        }
    }

    /// One PUT of the whole file, with the action's headers and no Hub token.
    fn basic(
        &self,
        object: &LfsObject,
        upload: &Action,
        path: &Path,
        progress: &ObjectProgress<'_>,
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        let what = format!(
            "uploading LFS object {} ({} bytes)",
            object.short(),
            object.size
        );
        let headers = upload.header_pairs();
        let mut high = 0;
        self.http.retry(&what, reporter, || {
            if upload.expired() {
                return Err(self.expired(object, upload));
            }
            let file = open(path)?;
            let mut body = Counted::new(file, &mut high, progress);
            let request = Request::new(Method::Put, &upload.href)
                .headers(&headers)
                .timeout(transfer_timeout(object.size));
            let response = self
                .http
                .send(&request, Some((&mut body, object.size)))
                .map_err(|err| self.storage_error(object, &upload.href, err))?;
            self.http.drain(response);
            Ok(())
        })
    }

    /// Hugging Face's multipart transfer: `chunk_size` plus one URL per part under digit keys;
    /// parts go in parallel, then the ETags are posted to the action's href.
    fn multipart(
        &self,
        object: &LfsObject,
        upload: &Action,
        chunk_size: &str,
        path: &Path,
        progress: &ObjectProgress<'_>,
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        let invalid = |detail: String| HubError::InvalidResponse {
            url: self.http.shown(&upload.href),
            detail,
        };
        let chunk = chunk_size
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| {
                invalid(format!(
                    "chunk_size {chunk_size:?} is not a positive number"
                ))
            })?;
        let mut parts: Vec<(u64, &str)> = Vec::new();
        for (key, url) in &upload.header {
            if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
                let number = key
                    .parse::<u64>()
                    .map_err(|_| invalid(format!("part number {key:?} is too large")))?;
                parts.push((number, url.as_str()));
            }
        }
        parts.sort_by_key(|(number, _)| *number);
        let expected = object.size.div_ceil(chunk);
        if parts.len() as u64 != expected {
            return Err(invalid(format!(
                "{} part URLs for LFS object {} of {} bytes in chunks of {chunk}; expected \
                 {expected}",
                parts.len(),
                object.oid,
                object.size
            )));
        }
        let indexed: Vec<(u64, &str)> = parts
            .iter()
            .enumerate()
            .map(|(i, (_, url))| (i as u64, *url))
            .collect();
        let etags = pool::run(&indexed, self.workers, |(index, url)| {
            let offset = index * chunk;
            let len = chunk.min(object.size - offset);
            self.put_part(
                object, upload, *index, expected, url, offset, len, path, progress, reporter,
            )
        })?;

        let parts: Vec<_> = etags
            .iter()
            .enumerate()
            .map(|(i, etag)| json!({"partNumber": i + 1, "etag": etag}))
            .collect();
        let body = json!({"oid": object.oid, "parts": parts});
        let what = format!("completing the multipart upload of {}", object.short());
        // Assembling a large object can take the Hub a while before it answers.
        let wait = transfer_timeout(object.size);
        self.http.retry(&what, reporter, || {
            let request = Request::new(Method::Post, &upload.href)
                .header("Accept", LFS_JSON)
                .timeout(wait)
                .stall_timeout(wait);
            let response = self.http.send_json(&request, LFS_JSON, &body)?;
            self.http.drain(response);
            Ok(())
        })
    }

    /// PUTs bytes `[offset, offset + len)` and returns the part's ETag.
    #[allow(clippy::too_many_arguments)]
    fn put_part(
        &self,
        object: &LfsObject,
        upload: &Action,
        index: u64,
        count: u64,
        url: &str,
        offset: u64,
        len: u64,
        path: &Path,
        progress: &ObjectProgress<'_>,
        reporter: &dyn UploadReporter,
    ) -> Result<String, HubError> {
        let what = format!(
            "uploading part {} of {count} of LFS object {}",
            index + 1,
            object.short()
        );
        let mut high = 0;
        self.http.retry(&what, reporter, || {
            if upload.expired() {
                return Err(self.expired(object, upload));
            }
            let mut file = open(path)?;
            file.seek(SeekFrom::Start(offset))
                .map_err(|source| HubError::LocalIo {
                    action: "could not read",
                    path: path.to_path_buf(),
                    source,
                })?;
            let mut body = Counted::new(file.take(len), &mut high, progress);
            let request = Request::new(Method::Put, url).timeout(transfer_timeout(len));
            let response = self
                .http
                .send(&request, Some((&mut body, len)))
                .map_err(|err| self.storage_error(object, url, err))?;
            let etag = response
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .filter(|v| !v.trim().is_empty());
            self.http.drain(response);
            etag.ok_or_else(|| HubError::InvalidResponse {
                url: self.http.shown(url),
                detail: format!("part {} has no ETag", index + 1),
            })
        })
    }

    /// `POST verify.href` with `{oid, size}`; the Hub token goes along when the href is on the
    /// endpoint.
    fn verify(
        &self,
        object: &LfsObject,
        verify: &Action,
        reporter: &dyn UploadReporter,
    ) -> Result<(), HubError> {
        let body = json!({"oid": object.oid, "size": object.size});
        let headers = verify.header_pairs();
        let what = format!("verifying LFS object {}", object.short());
        self.http.retry(&what, reporter, || {
            let request = Request::new(Method::Post, &verify.href)
                .auth()
                .header("Accept", LFS_JSON)
                .headers(&headers);
            let response = self.http.send_json(&request, LFS_JSON, &body)?;
            self.http.drain(response);
            Ok(())
        })
    }
}

fn open(path: &Path) -> Result<File, HubError> {
    File::open(path).map_err(|source| HubError::LocalIo {
        action: "could not open",
        path: path.to_path_buf(),
        source,
    })
}

/// The file must hold exactly the object's size (its hash is checked by the server).
fn check_file(object: &LfsObject, path: &Path) -> Result<(), HubError> {
    let len = std::fs::metadata(path)
        .map_err(|source| HubError::LocalIo {
            action: "could not read",
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if len == object.size {
        return Ok(());
    }
    Err(HubError::LocalIo {
        action: "unexpected size of",
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file has {len} bytes but LFS object {} has {}",
                object.oid, object.size
            ),
        ),
    })
}
