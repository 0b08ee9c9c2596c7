//! Upload through Xet (hub-protocol.md §2.5, issue 25): when the batch answer says
//! `"transfer": "xet"`, the files go to the Hub's content-addressed store (CAS) as
//! content-defined chunks, and only the chunks the CAS lacks travel. The chunking, xorbs and
//! the shard (with the SHA-256 metadata extension git repos need) are `hf-xet`'s, the
//! maintained client; this file only hands it the CAS address and tokens, keeps it inside
//! hf-relay's HTTP policy and reports what it did.
//!
//! Policy, as for every other request: the Hub token goes only to the token-refresh URL, and
//! only when that URL is on the Hub's origin; the CAS sees its own access token. Trust and
//! proxies: `hf-xet`'s reqwest reads the platform store plus `SSL_CERT_FILE` and the proxy
//! variables itself ([`prepare_process`] exports the bundle hf-relay chose as
//! `SSL_CERT_FILE`). Ctrl-C aborts the commit within a poll tick. No telemetry.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use xet::XetError;
use xet::xet_session::{
    HeaderMap, HeaderValue, Sha256Policy, XetConfig, XetSessionBuilder, XetUploadCommit,
};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::lfs::{BatchItem, LfsObject, Revision};
use super::{HubClient, HubError, UploadReporter};
use crate::net::agent::CONNECT_TIMEOUT;

/// How often the watcher looks at Ctrl-C and at the commit's progress.
const POLL: Duration = Duration::from_millis(50);

/// What went over Xet: the files, their bytes, and the bytes that actually travelled (new
/// chunks in xorbs plus the shard).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct XetSent {
    pub objects: usize,
    pub file_bytes: u64,
    pub sent_bytes: u64,
}

/// Once per process, before any other thread runs: the rustls provider `hf-xet`'s reqwest
/// needs (built without one, so that no second TLS provider and no aws-lc C build come in),
/// and the CA bundle hf-relay trusts exported as `SSL_CERT_FILE`, the one variable
/// rustls-native-certs (under reqwest) reads, when the user named it `REQUESTS_CA_BUNDLE` or
/// `CURL_CA_BUNDLE`.
pub fn prepare_process() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    crate::net::tls::export_bundle_as_ssl_cert_file();
}

/// The CAS address and write token of a Xet batch answer (`actions.upload.header`).
struct CasAccess {
    url: String,
    token: String,
    expires: u64,
}

impl CasAccess {
    fn of(client: &HubClient, item: &BatchItem) -> Result<CasAccess, HubError> {
        let upload = item
            .upload
            .as_ref()
            .expect("only objects to upload go over Xet");
        let get = |name: &str| {
            upload
                .header
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let missing = |name: &str| HubError::InvalidResponse {
            url: client.http.shown(&upload.href),
            detail: format!(
                "the Xet upload action for LFS object {} has no {name} header",
                item.object.short()
            ),
        };
        let url = get("X-Xet-Cas-Url").ok_or_else(|| missing("X-Xet-Cas-Url"))?;
        client.check_href(&item.object, "a Xet storage", &url)?;
        let token = get("X-Xet-Access-Token").ok_or_else(|| missing("X-Xet-Access-Token"))?;
        let expires = get("X-Xet-Token-Expiration")
            .and_then(|value| value.parse::<u64>().ok())
            .ok_or_else(|| missing("X-Xet-Token-Expiration (unix seconds)"))?;
        Ok(CasAccess {
            url: url.trim_end_matches('/').to_string(),
            token,
            expires,
        })
    }
}

impl HubClient {
    /// The token-refresh URL: the action's href when it is on the Hub's origin (the Hub
    /// token may go there), else the Hub's own `xet-write-token` route for the revision
    /// pushed to, in huggingface_hub's form (`_commit_api.py::_upload_xet_files`).
    fn xet_refresh_url(&self, repo_id: &str, revision: &Revision, href: &str) -> String {
        if crate::net::same_origin(&self.http.endpoint, href) {
            return href.to_string();
        }
        format!(
            "{}/api/datasets/{repo_id}/xet-write-token/{}",
            self.http.endpoint,
            write_token_revision(revision)
        )
    }

    /// Uploads the files of `jobs` (objects the Hub asked for over Xet) in one commit to the
    /// CAS. Each file's SHA-256 is the LFS oid, registered in the shard so that the Hub can
    /// match the pointers pushed next.
    pub(crate) fn xet_upload(
        &self,
        repo_id: &str,
        revision: &Revision,
        jobs: &[(BatchItem, &Path)],
        reporter: &dyn UploadReporter,
    ) -> Result<XetSent, HubError> {
        let Some((first, _)) = jobs.first() else {
            return Ok(XetSent::default());
        };
        let cas = CasAccess::of(self, first)?;
        // hf-xet retries a failed TLS handshake for minutes before it gives up, and then
        // without the hint. hf-relay's own agent (the same trust and proxies) reaches the CAS
        // once first: a certificate it does not trust, an unreadable bundle or an unusable
        // proxy ends the push here. Other failures may pass; hf-xet retries those itself.
        if let Err(err @ (HubError::Refused { .. } | HubError::Interrupted(_))) =
            self.http.reach(&cas.url)
        {
            return Err(err);
        }
        let href = &first.upload.as_ref().expect("an upload action").href;
        let refresh_url = self.xet_refresh_url(repo_id, revision, href);
        let mut refresh_headers = HeaderMap::new();
        if let Some(token) = self.http.token_for(&refresh_url) {
            let value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    self.xet_error(
                        &cas.url,
                        XetError::Configuration("the token is not a valid header value".into()),
                    )
                })?;
            refresh_headers.insert("authorization", value);
        }
        // The answer's X-Xet-Session-Id is not forwarded (git-xet sets it as the session's
        // id): hf-xet 1.8's session draws its own (a UUID v7 in `XetSessionBuilder::build`,
        // no setter) and sends it on every request over any custom header of that name.
        let mut cas_headers = HeaderMap::new();
        cas_headers.insert(
            "user-agent",
            HeaderValue::from_static(concat!("hf-relay/", env!("CARGO_PKG_VERSION"))),
        );

        // The cache keeps the shards of earlier uploads: a later push dedups against them
        // locally (the store's global dedup only samples chunks). Where hf_xet keeps its own.
        let cache = crate::auth::hf_home_in(&crate::env::ProcessEnv)
            .map(|home| home.join("xet"))
            .unwrap_or_else(|| std::env::temp_dir().join("hf-relay-xet"));
        // No telemetry POSTs to the CAS; connections give up as fast as hf-relay's own, and a
        // failing store is retried as the Hub is (hf-xet's own policy: 3 s doubling, up to
        // 6 min a wait, minutes in all).
        let millis = |d: Duration| format!("{}ms", d.as_millis());
        let policy = &self.http.policy;
        let config = XetConfig::new()
            .with_config("telemetry.enabled", false)
            .and_then(|c| c.with_config("client.connect_timeout", millis(CONNECT_TIMEOUT)))
            .and_then(|c| c.with_config("client.retry_max_attempts", policy.max_retries))
            .and_then(|c| c.with_config("client.retry_base_delay", millis(policy.base)))
            .and_then(|c| c.with_config("client.retry_max_duration", millis(policy.max)))
            .map_err(|err| self.xet_error(&cas.url, XetError::Configuration(err.to_string())))?;
        let session = XetSessionBuilder::new_with_config(config)
            .with_cache_dir(cache)
            .build()
            .map_err(|err| self.xet_error(&cas.url, err))?;
        let commit = session
            .new_upload_commit()
            .map_err(|err| self.xet_error(&cas.url, err))?
            .with_endpoint(&cas.url)
            .with_token_info(&cas.token, cas.expires)
            .with_token_refresh_url(&refresh_url, refresh_headers)
            .with_custom_headers(cas_headers)
            .build_blocking()
            .map_err(|err| self.xet_error(&cas.url, err))?;

        let total: u64 = jobs.iter().map(|(item, _)| item.object.size).sum();
        reporter.on_start(jobs.len(), total);
        let done = AtomicBool::new(false);
        let (result, reported) = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| watch(&commit, &done, total, reporter));
            let result = self.xet_commit(&commit, &cas.url, jobs);
            done.store(true, Ordering::SeqCst);
            (result, watcher.join().unwrap_or(total))
        });
        let sent = match result {
            Ok(sent) => sent,
            Err(err) => {
                let _ = session.abort();
                return Err(err);
            }
        };
        if total > reported {
            reporter.on_bytes(total - reported);
        }
        for (item, _) in jobs {
            reporter.on_object_done(&item.object.oid);
        }
        Ok(sent)
    }

    fn xet_commit(
        &self,
        commit: &XetUploadCommit,
        cas_url: &str,
        jobs: &[(BatchItem, &Path)],
    ) -> Result<XetSent, HubError> {
        let mut uploads = Vec::with_capacity(jobs.len());
        for (item, path) in jobs {
            crate::interrupt::check()?;
            let handle = commit
                .upload_from_path_blocking(
                    path.to_path_buf(),
                    Sha256Policy::from_hex(&item.object.oid),
                )
                .map_err(|err| self.xet_error(cas_url, err))?;
            uploads.push((&item.object, handle));
        }
        for (object, handle) in &uploads {
            let metadata = handle
                .finalize_ingestion_blocking()
                .map_err(|err| self.xet_error(cas_url, err))?;
            check_ingested(self, cas_url, object, &metadata.xet_info)?;
        }
        let report = commit
            .commit_blocking()
            .map_err(|err| self.xet_error(cas_url, err))?;
        let metrics = &report.dedup_metrics;
        Ok(XetSent {
            objects: jobs.len(),
            file_bytes: jobs.iter().map(|(item, _)| item.object.size).sum(),
            sent_bytes: metrics.xorb_bytes_uploaded + metrics.shard_bytes_uploaded,
        })
    }

    /// A Xet failure as a [`HubError`]: Ctrl-C as [`HubError::Interrupted`], the rest with
    /// the CAS named and the message redacted.
    fn xet_error(&self, cas_url: &str, err: XetError) -> HubError {
        if crate::interrupt::interrupted()
            || matches!(
                err,
                XetError::KeyboardInterrupt | XetError::UserCancelled(_) | XetError::Cancelled(_)
            )
        {
            return HubError::Interrupted(crate::interrupt::Interrupted);
        }
        HubError::Xet {
            url: self.http.shown(cas_url),
            kind: err.telemetry_class().1,
            message: self.http.displayable(&err.to_string()),
        }
    }
}

/// The revision segment of the `xet-write-token` route, as huggingface_hub writes it: the
/// branch's short name or the full `refs/pr/N`, percent-encoded as one path segment
/// (`quote(revision, safe="")`: `refs/pr/1` → `refs%2Fpr%2F1`); for a pull request not yet
/// opened, `None?create_pr=1` (the Hub then scopes the token to pull-request refs).
fn write_token_revision(revision: &Revision) -> String {
    let name = match revision {
        Revision::Ref(name) => name.strip_prefix("refs/heads/").unwrap_or(name),
        Revision::NewPullRequest => return "None?create_pr=1".to_string(),
    };
    // Python's `quote` keeps letters, digits and `_.-~`.
    const QUOTED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'_')
        .remove(b'.')
        .remove(b'-')
        .remove(b'~');
    utf8_percent_encode(name, QUOTED).to_string()
}

/// The file the CAS took must be the object the pointer names.
fn check_ingested(
    client: &HubClient,
    cas_url: &str,
    object: &LfsObject,
    info: &xet::xet_session::XetFileInfo,
) -> Result<(), HubError> {
    if info.sha256.as_deref() == Some(object.oid.as_str())
        && info.file_size.is_none_or(|size| size == object.size)
    {
        return Ok(());
    }
    Err(HubError::InvalidResponse {
        url: client.http.shown(cas_url),
        detail: format!(
            "the Xet upload of LFS object {} registered SHA-256 {} and {} bytes",
            object.oid,
            info.sha256.as_deref().unwrap_or("(none)"),
            info.file_size
                .map_or("?".to_string(), |size| size.to_string())
        ),
    })
}

/// Until `done`: aborts the commit on Ctrl-C, and reports the bytes the commit has processed
/// (returned).
fn watch(
    commit: &XetUploadCommit,
    done: &AtomicBool,
    total: u64,
    reporter: &dyn UploadReporter,
) -> u64 {
    let mut reported = 0u64;
    while !done.load(Ordering::SeqCst) {
        if crate::interrupt::interrupted() {
            let _ = commit.abort();
            return reported;
        }
        let now = commit.progress().total_bytes_completed.min(total);
        if now > reported {
            reporter.on_bytes(now - reported);
            reported = now;
        }
        std::thread::sleep(POLL);
    }
    reported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_token_route_names_the_revision_as_huggingface_hub_does() {
        let of = |name: &str| write_token_revision(&Revision::Ref(name.to_string()));
        assert_eq!(of("refs/heads/main"), "main");
        assert_eq!(of("refs/heads/feature/x y"), "feature%2Fx%20y");
        assert_eq!(of("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(of("refs/heads/v1.0_rc-2~"), "v1.0_rc-2~");
        assert_eq!(
            write_token_revision(&Revision::NewPullRequest),
            "None?create_pr=1"
        );
    }
}
