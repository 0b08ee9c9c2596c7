//! The Git LFS batch API (hub-protocol.md §2.2–2.3) and `lfs_plan`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{LFS_JSON, Method, Request};
use super::{HubClient, HubError, NoProgress, UploadReporter};

/// Objects per batch request (hfjs sends 100, hfh 256).
const BATCH_SIZE: usize = 100;
/// Largest batch answer read (multipart answers list one URL per part).
const BATCH_BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// A URL this close to its expiry is treated as expired.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// A Git LFS object: the SHA-256 of the content (64 lowercase hex digits) and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LfsObject {
    pub oid: String,
    pub size: u64,
}

impl LfsObject {
    /// The first 12 hex digits, for messages.
    pub(crate) fn short(&self) -> &str {
        &self.oid[..self.oid.len().min(12)]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Upload,
    Download,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Upload => "upload",
            Operation::Download => "download",
        }
    }
}

/// One action of a batch answer, href already rewritten to the endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub href: String,
    /// Header values as strings (`chunk_size` may come as a number).
    pub header: BTreeMap<String, String>,
    /// When the href stops working, if the server said.
    pub expires: Option<Instant>,
}

impl Action {
    pub fn expired(&self) -> bool {
        self.expires
            .is_some_and(|at| Instant::now() + EXPIRY_MARGIN >= at)
    }

    pub fn header_pairs(&self) -> Vec<(String, String)> {
        self.header
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// The batch answer for one object: no action at all means "already stored" on upload.
#[derive(Debug, Clone)]
pub(crate) struct BatchItem {
    pub object: LfsObject,
    pub upload: Option<Action>,
    pub verify: Option<Action>,
    pub download: Option<Action>,
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    objects: Vec<AnswerObject>,
}

#[derive(Deserialize)]
struct AnswerObject {
    oid: String,
    #[serde(default)]
    actions: Option<AnswerActions>,
    #[serde(default)]
    error: Option<AnswerError>,
}

#[derive(Deserialize)]
struct AnswerActions {
    upload: Option<AnswerAction>,
    verify: Option<AnswerAction>,
    download: Option<AnswerAction>,
}

#[derive(Deserialize)]
struct AnswerAction {
    href: String,
    #[serde(default)]
    header: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
struct AnswerError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

impl HubClient {
    /// The objects the Hub does not have yet (those its batch "upload" answer gives actions).
    pub fn lfs_plan(
        &self,
        repo_id: &str,
        objects: &[LfsObject],
    ) -> Result<Vec<LfsObject>, HubError> {
        let items = self.batch(repo_id, Operation::Upload, &dedup(objects), &NoProgress)?;
        Ok(items
            .into_iter()
            .filter(|item| item.upload.is_some())
            .map(|item| item.object)
            .collect())
    }

    pub(crate) fn batch_url(&self, repo_id: &str) -> String {
        format!(
            "{}/datasets/{repo_id}.git/info/lfs/objects/batch",
            self.http.endpoint
        )
    }

    /// Batch requests of at most [`BATCH_SIZE`] objects; one item per object, in order. A
    /// per-object `error` fails the whole call, naming the object.
    pub(crate) fn batch(
        &self,
        repo_id: &str,
        operation: Operation,
        objects: &[LfsObject],
        reporter: &dyn UploadReporter,
    ) -> Result<Vec<BatchItem>, HubError> {
        let url = self.batch_url(repo_id);
        let mut items = Vec::with_capacity(objects.len());
        for chunk in objects.chunks(BATCH_SIZE) {
            let body = json!({
                "operation": operation.as_str(),
                "transfers": ["basic", "multipart"],
                "objects": chunk,
                "hash_algo": "sha256",
                "ref": {"name": "main"},
            });
            let what = format!(
                "LFS batch request ({} of {})",
                operation.as_str(),
                crate::units::count(chunk.len(), "object")
            );
            let (answer, received): (BatchAnswer, Instant) =
                self.http.retry(&what, reporter, || {
                    let request = Request::new(Method::Post, &url)
                        .auth()
                        .header("Accept", LFS_JSON);
                    let response = self.http.send_json(&request, LFS_JSON, &body)?;
                    let received = Instant::now();
                    Ok((
                        self.http
                            .read_json(response, Method::Post, &url, BATCH_BODY_LIMIT)?,
                        received,
                    ))
                })?;
            items.extend(self.match_answer(&url, chunk, answer, received)?);
        }
        Ok(items)
    }

    fn match_answer(
        &self,
        url: &str,
        asked: &[LfsObject],
        answer: BatchAnswer,
        received: Instant,
    ) -> Result<Vec<BatchItem>, HubError> {
        let invalid = |detail: String| HubError::InvalidResponse {
            url: self.http.shown(url),
            detail,
        };
        let mut by_oid: HashMap<String, AnswerObject> = HashMap::new();
        for object in answer.objects {
            if let Some(error) = &object.error {
                return Err(HubError::ObjectError {
                    oid: object.oid.clone(),
                    code: error.code,
                    message: self.http.redactor.redact(&error.message),
                });
            }
            by_oid.insert(object.oid.clone(), object);
        }
        let mut items = Vec::with_capacity(asked.len());
        for object in asked {
            let answered = by_oid.remove(&object.oid).ok_or_else(|| {
                invalid(format!(
                    "the batch answer does not mention object {}",
                    object.oid
                ))
            })?;
            let actions = answered.actions.unwrap_or(AnswerActions {
                upload: None,
                verify: None,
                download: None,
            });
            let convert = |action: Option<AnswerAction>| -> Result<Option<Action>, HubError> {
                action
                    .map(|a| self.action(a, received).map_err(invalid))
                    .transpose()
            };
            items.push(BatchItem {
                object: object.clone(),
                upload: convert(actions.upload)?,
                verify: convert(actions.verify)?,
                download: convert(actions.download)?,
            });
        }
        Ok(items)
    }

    fn action(&self, action: AnswerAction, received: Instant) -> Result<Action, String> {
        let mut header = BTreeMap::new();
        for (key, value) in action.header.unwrap_or_default() {
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                other => return Err(format!("header {key:?} has a non-text value {other}")),
            };
            header.insert(key, text);
        }
        // `expires_in` is relative to our clock and wins over `expires_at` (lfs batch spec); 0
        // means unset, as in git-lfs.
        let expires = match (
            action.expires_in.filter(|s| *s != 0),
            action.expires_at.as_deref(),
        ) {
            (Some(secs), _) => Some(received + Duration::from_secs(secs.max(0) as u64)),
            (None, Some(at)) => chrono::DateTime::parse_from_rfc3339(at).ok().map(|at| {
                let left = (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                received + left
            }),
            (None, None) => None,
        };
        Ok(Action {
            href: self.http.fix_endpoint(&action.href),
            header,
            expires,
        })
    }
}

/// The objects without repeats (first occurrence kept, order kept).
pub(crate) fn dedup(objects: &[LfsObject]) -> Vec<LfsObject> {
    let mut seen = HashSet::new();
    objects
        .iter()
        .filter(|o| seen.insert(o.oid.clone()))
        .cloned()
        .collect()
}
