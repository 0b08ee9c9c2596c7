//! The Hub over HTTP: REST (repo info, create, whoami) and the Git LFS batch API. Never prints;
//! transfers report progress through [`UploadReporter`].
//!
//! - `http`: one request, error mapping, retries with backoff;
//! - `api`: the REST endpoints (hub-protocol.md §3);
//! - `lfs`: the batch API (§2.2–2.3); `upload` and `download`: the transfers (§2.4);
//! - `xet`: the Xet transfer (§2.5), when the batch answer picks it (cargo feature `xet`);
//! - `pool`: the small worker pool both transfers use.
//!
//! Trust, proxies, redirects, the origin the token is bound to and the progress window under
//! every request are `crate::net`'s.

mod api;
mod download;
mod error;
mod http;
mod lfs;
mod pool;
mod progress;
mod upload;
mod validate_yaml;
#[cfg(feature = "xet")]
mod xet;

#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

pub use api::{CreateOutcome, DatasetInfo, Discussion, WhoAmI};
pub use error::{HubError, error_chain};
pub use http::RetryPolicy;
pub use lfs::{LfsObject, Revision};
pub use upload::UploadStats;
pub use validate_yaml::YamlVerdict;
#[cfg(feature = "xet")]
pub use xet::prepare_process;

/// Without the `xet` feature there is nothing to prepare.
#[cfg(not(feature = "xet"))]
pub fn prepare_process() {}

use crate::auth::{Redactor, Token};

/// Objects (and parts of one object) transferred at the same time.
const DEFAULT_WORKERS: usize = 4;

/// A blocking Hub client. The token is optional: public repos can be read without one.
pub struct HubClient {
    http: http::Http,
    workers: usize,
}

impl HubClient {
    /// `endpoint` is the Hub's base URL (`https://huggingface.co`, or `HF_ENDPOINT`).
    pub fn new(endpoint: &str, token: Option<Token>) -> HubClient {
        HubClient {
            http: http::Http::new(endpoint, token),
            workers: DEFAULT_WORKERS,
        }
    }

    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> HubClient {
        self.http.policy = policy;
        self
    }

    /// Parallel transfers (objects, and parts of one multipart object); at least 1.
    pub fn with_workers(mut self, workers: usize) -> HubClient {
        self.workers = workers.max(1);
        self
    }

    pub fn endpoint(&self) -> &str {
        &self.http.endpoint
    }

    pub fn has_token(&self) -> bool {
        self.http.has_token()
    }

    /// Redacts this client's token (and any `hf_…` token, URL userinfo, auth header) from
    /// text, e.g. git's or the server's output.
    pub fn redactor(&self) -> &Redactor {
        &self.http.redactor
    }

    /// `{endpoint}/datasets/OWNER/NAME`, the repo's page and git remote.
    pub fn dataset_url(&self, repo_id: &str) -> String {
        format!("{}/datasets/{repo_id}", self.http.endpoint)
    }
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.http.endpoint)
            .field("has_token", &self.http.has_token())
            .field("workers", &self.workers)
            .finish()
    }
}

/// Progress of an LFS transfer (upload or download). Called from worker threads.
pub trait UploadReporter: Sync {
    /// Before the first byte: the objects that will actually be transferred.
    fn on_start(&self, total_objects: usize, total_bytes: u64);
    /// More bytes sent or received. Retried bytes are not counted twice; the sum never exceeds
    /// `total_bytes`.
    fn on_bytes(&self, n: u64);
    /// One object is complete (verified, or renamed into place).
    fn on_object_done(&self, oid: &str);
    /// A request failed and will be sent again after `wait`.
    fn on_retry(&self, reason: &str, wait: Duration);
}

/// A reporter that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl UploadReporter for NoProgress {
    fn on_start(&self, _: usize, _: u64) {}
    fn on_bytes(&self, _: u64) {}
    fn on_object_done(&self, _: &str) {}
    fn on_retry(&self, _: &str, _: Duration) {}
}
