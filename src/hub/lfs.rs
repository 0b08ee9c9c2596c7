//! The Git LFS batch API (hub-protocol.md §2.2–2.3) and `lfs_plan`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{BufReader, Read};
use std::time::{Duration, Instant};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use super::http::{LFS_JSON, Method, Request};
use super::{HubClient, HubError, NoProgress, UploadReporter};

/// Objects per batch request (hfjs sends 100, hfh 256).
const BATCH_SIZE: usize = 100;
/// Largest batch answer read (multipart answers list one URL per part).
const BATCH_BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// What one asked object may add to the answer: a multipart upload of the most parts S3
/// allows (10,000) with long presigned URLs.
const BODY_PER_OBJECT: u64 = 16 * 1024 * 1024;
/// Most header entries one action may carry (`chunk_size` and up to 10,000 part URLs).
const MAX_HEADER_ENTRIES: usize = 10_000 + 64;
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
        crate::ids::short_hex(&self.oid)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Upload,
    Download,
}

impl Operation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::Upload => "upload",
            Operation::Download => "download",
        }
    }
}

/// The Hub revision LFS objects go to (huggingface_hub's `revision` and `create_pr`). The
/// batch request names it as its `ref`, which the Hub scopes the Xet write token to; a
/// token refreshed on hf-relay's own route asks for it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// A ref of the Hub's repo: `refs/heads/main`, `refs/heads/dev`, `refs/pr/1`.
    Ref(String),
    /// The pull request the push opens once the files are up: its ref does not exist yet.
    NewPullRequest,
}

impl Revision {
    pub fn main() -> Revision {
        Revision::Ref("refs/heads/main".to_string())
    }

    /// The batch request's `ref` (git-lfs sends the ref pushed to, in full); none for a new
    /// pull request (as huggingface_hub's `create_pr`).
    fn batch_ref(&self) -> Option<serde_json::Value> {
        match self {
            Revision::Ref(name) => Some(json!({ "name": name })),
            Revision::NewPullRequest => None,
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
    /// The answer chose the Xet transfer: `upload` holds the token-refresh href and the CAS
    /// address and token in its headers (hub-protocol.md §2.5).
    #[cfg_attr(not(feature = "xet"), allow(dead_code))]
    pub xet: bool,
    pub upload: Option<Action>,
    pub verify: Option<Action>,
    pub download: Option<Action>,
}

#[derive(Debug, Deserialize)]
struct AnswerObject {
    oid: String,
    #[serde(default)]
    actions: Option<AnswerActions>,
    #[serde(default)]
    error: Option<AnswerError>,
}

#[derive(Debug, Deserialize)]
struct AnswerActions {
    upload: Option<AnswerAction>,
    verify: Option<AnswerAction>,
    download: Option<AnswerAction>,
}

#[derive(Debug, Deserialize)]
struct AnswerAction {
    href: String,
    #[serde(default)]
    header: Option<Header>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Debug, Deserialize)]
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
        revision: &Revision,
        objects: &[LfsObject],
    ) -> Result<Vec<LfsObject>, HubError> {
        let items = self.batch(
            repo_id,
            revision,
            Operation::Upload,
            &dedup(objects),
            &NoProgress,
        )?;
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
        revision: &Revision,
        operation: Operation,
        objects: &[LfsObject],
        reporter: &dyn UploadReporter,
    ) -> Result<Vec<BatchItem>, HubError> {
        let url = self.batch_url(repo_id);
        // Xet only for uploads: downloads go through the Hub's LFS bridge.
        let transfers: &[&str] = if operation == Operation::Upload && crate::env::xet_enabled() {
            &["basic", "multipart", "xet"]
        } else {
            &["basic", "multipart"]
        };
        let mut items = Vec::with_capacity(objects.len());
        for chunk in objects.chunks(BATCH_SIZE) {
            let mut body = json!({
                "operation": operation.as_str(),
                "transfers": transfers,
                "objects": chunk,
                "hash_algo": "sha256",
            });
            if let Some(name) = revision.batch_ref() {
                body["ref"] = name;
            }
            let what = format!(
                "LFS batch request ({} of {})",
                operation.as_str(),
                crate::units::count(chunk.len(), "object")
            );
            let asked: HashSet<&str> = chunk.iter().map(|o| o.oid.as_str()).collect();
            let limit = (BODY_PER_OBJECT * chunk.len() as u64 + 1024 * 1024).min(BATCH_BODY_LIMIT);
            let (answer, received) = self.http.retry(&what, reporter, || {
                let request = Request::new(Method::Post, &url)
                    .auth()
                    .header("Accept", LFS_JSON);
                let response = self.http.send_json(&request, LFS_JSON, &body)?;
                let received = Instant::now();
                Ok((self.read_answer(response, &url, &asked, limit)?, received))
            })?;
            items.extend(self.match_answer(&url, chunk, answer, received)?);
        }
        Ok(items)
    }

    /// Streams the answer, keeping only the first answer for each asked object: what the
    /// server adds beyond that costs parsing time (bounded by `limit`), not memory.
    fn read_answer(
        &self,
        response: ureq::http::Response<ureq::Body>,
        url: &str,
        asked: &HashSet<&str>,
        limit: u64,
    ) -> Result<Answer, HubError> {
        let reader = response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader();
        let mut reader = AnswerReader {
            inner: BufReader::with_capacity(64 * 1024, reader),
            left: limit,
            over_limit: false,
            error: None,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(&mut reader);
        let parsed = AnswerSeed { asked }
            .deserialize(&mut deserializer)
            .and_then(|kept| deserializer.end().map(|()| kept));
        if reader.over_limit {
            return Err(HubError::InvalidResponse {
                url: self.http.shown(url),
                detail: format!(
                    "the batch answer is larger than {} for {}; not read further",
                    crate::units::human_bytes(limit),
                    crate::units::count(asked.len(), "object asked")
                ),
            });
        }
        if let Some(err) = reader.error.take() {
            return Err(self.http.network(Method::Post, url, ureq::Error::Io(err)));
        }
        parsed.map_err(|err| HubError::InvalidResponse {
            url: self.http.shown(url),
            detail: self
                .http
                .displayable(&format!("the body is not the expected JSON: {err}")),
        })
    }

    fn match_answer(
        &self,
        url: &str,
        asked: &[LfsObject],
        answer: Answer,
        received: Instant,
    ) -> Result<Vec<BatchItem>, HubError> {
        let xet = answer.transfer.as_deref() == Some("xet");
        let mut by_oid = answer.objects;
        let invalid = |detail: String| HubError::InvalidResponse {
            url: self.http.shown(url),
            detail,
        };
        for object in asked {
            if let Some(error) = by_oid.get(&object.oid).and_then(|o| o.error.as_ref()) {
                return Err(HubError::ObjectError {
                    oid: object.oid.clone(),
                    code: error.code,
                    message: self.http.displayable(&error.message),
                });
            }
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
            let convert = |what: &'static str,
                           action: Option<AnswerAction>|
             -> Result<Option<Action>, HubError> {
                let Some(action) = action else {
                    return Ok(None);
                };
                let action = self.action(action, received).map_err(invalid)?;
                self.check_href(object, what, &action.href)?;
                if what == "an upload" && action.header.contains_key("chunk_size") {
                    for (key, part) in &action.header {
                        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
                            self.check_href(object, "a part upload", part)?;
                        }
                    }
                }
                Ok(Some(action))
            };
            items.push(BatchItem {
                object: object.clone(),
                xet,
                upload: convert("an upload", actions.upload)?,
                verify: convert("a verify", actions.verify)?,
                download: convert("a download", actions.download)?,
            });
        }
        Ok(items)
    }

    /// Only `http`/`https` URLs without userinfo: ureq would turn `user:pass@` into an
    /// `Authorization: Basic` header, and other schemes have no business in a transfer.
    pub(crate) fn check_href(
        &self,
        object: &LfsObject,
        what: &'static str,
        href: &str,
    ) -> Result<(), HubError> {
        let refused = |reason| HubError::UnsafeHref {
            oid: object.short().to_string(),
            what,
            url: self.http.shown(href),
            reason,
        };
        let Some((scheme, rest)) = href.split_once("://") else {
            return Err(refused("not an absolute http or https URL"));
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(refused("only http and https URLs are used"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return Err(refused(
                "the URL holds a user name or password, which would be sent as credentials",
            ));
        }
        if authority.is_empty() {
            return Err(refused("the URL names no host"));
        }
        Ok(())
    }

    fn action(&self, action: AnswerAction, received: Instant) -> Result<Action, String> {
        let header: BTreeMap<String, String> = action
            .header
            .map(|h| h.0)
            .unwrap_or_default()
            .into_iter()
            .collect();
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

/// The answer's body, at most `left` more bytes; it keeps the I/O error it failed with, so
/// that a reset (retried) or an answer over the limit (refused) is told apart from malformed
/// JSON (serde_json keeps only the message).
struct AnswerReader<R> {
    inner: R,
    left: u64,
    over_limit: bool,
    error: Option<std::io::Error>,
}

impl<R: Read> Read for AnswerReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|err| {
            self.error = Some(std::io::Error::new(err.kind(), err.to_string()));
        })?;
        if n as u64 > self.left {
            self.over_limit = true;
            return Err(std::io::Error::other("the batch answer is over its limit"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A batch answer as kept: the transfer it chose and the asked objects.
#[derive(Debug)]
struct Answer {
    transfer: Option<String>,
    objects: HashMap<String, AnswerObject>,
}

/// The top level of a batch answer: only `transfer` and `objects` are read, the latter into
/// the asked objects kept.
struct AnswerSeed<'a> {
    asked: &'a HashSet<&'a str>,
}

impl<'de> DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = Answer;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnswerSeed<'_> {
    type Value = Answer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a batch answer (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = HashMap::new();
        let mut transfer = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "objects" {
                map.next_value_seed(ObjectsSeed {
                    asked: self.asked,
                    kept: &mut kept,
                })?;
            } else if key == "transfer" {
                transfer = map.next_value::<Option<String>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Answer {
            transfer,
            objects: kept,
        })
    }
}

/// `objects`, one element at a time: an object nobody asked for (or a second answer for one)
/// is dropped as soon as it is parsed.
struct ObjectsSeed<'a, 'k> {
    asked: &'a HashSet<&'a str>,
    kept: &'k mut HashMap<String, AnswerObject>,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(object) = seq.next_element::<AnswerObject>()? {
            if self.asked.contains(object.oid.as_str()) && !self.kept.contains_key(&object.oid) {
                self.kept.insert(object.oid.clone(), object);
            }
        }
        Ok(())
    }
}

/// An action's `header`: at most [`MAX_HEADER_ENTRIES`] entries, each a string or a number
/// (`chunk_size` may come as one); anything else is refused while parsing, before it is built.
#[derive(Debug)]
struct Header(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Header, D::Error> {
        struct HeaderVisitor;

        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = Header;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of header names to text")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, HeaderText(value))) = map.next_entry::<String, HeaderText>()? {
                    if entries.len() == MAX_HEADER_ENTRIES {
                        return Err(de::Error::custom(format!(
                            "an action header with more than {MAX_HEADER_ENTRIES} entries"
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(Header(entries))
            }
        }

        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderText(String);

impl<'de> Deserialize<'de> for HeaderText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HeaderText, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = HeaderText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header value (text or a number)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderText, E> {
                Ok(HeaderText(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<HeaderText, E> {
                Ok(HeaderText(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HeaderText, E> {
                Ok(HeaderText(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HeaderText, E> {
                Ok(HeaderText(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HeaderText, E> {
                Ok(HeaderText(v.to_string()))
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str, asked: &[&str]) -> Result<HashMap<String, AnswerObject>, String> {
        parse_answer(json, asked).map(|answer| answer.objects)
    }

    fn parse_answer(json: &str, asked: &[&str]) -> Result<Answer, String> {
        let asked: HashSet<&str> = asked.iter().copied().collect();
        let mut deserializer = serde_json::Deserializer::from_str(json);
        AnswerSeed { asked: &asked }
            .deserialize(&mut deserializer)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_transfer_the_answer_chose_is_kept() {
        let xet = r#"{"transfer": "xet", "objects": [], "hash_algo": "sha256"}"#;
        assert_eq!(
            parse_answer(xet, &[]).unwrap().transfer.as_deref(),
            Some("xet")
        );
        let none = r#"{"objects": []}"#;
        assert_eq!(parse_answer(none, &[]).unwrap().transfer, None);
    }

    #[test]
    fn only_the_first_answer_for_each_asked_object_is_kept() {
        let json = r#"{"transfer": "basic", "objects": [
            {"oid": "x", "error": {"code": 404, "message": "not asked"}},
            {"oid": "a", "actions": {"download": {"href": "http://h/1", "header": {"n": 5}}}},
            {"oid": "a", "actions": {"download": {"href": "http://h/2"}}},
            {"oid": "y", "actions": {"download": {"href": "ftp://user:pw@h/3"}}}
        ], "hash_algo": "sha256"}"#;
        let kept = parse(json, &["a", "b"]).unwrap();
        assert_eq!(kept.len(), 1);
        let download = kept["a"]
            .actions
            .as_ref()
            .unwrap()
            .download
            .as_ref()
            .unwrap();
        assert_eq!(download.href, "http://h/1");
        let header = &download.header.as_ref().unwrap().0;
        assert_eq!(header, &[("n".to_string(), "5".to_string())]);
    }

    #[test]
    fn header_values_must_be_text_and_few() {
        let nested = r#"{"objects": [{"oid": "a", "actions": {"upload":
            {"href": "http://h/", "header": {"k": {"deep": 1}}}}}]}"#;
        assert!(parse(nested, &["a"]).unwrap_err().contains("header value"));
        let entries: Vec<String> = (0..MAX_HEADER_ENTRIES + 1)
            .map(|i| format!(r#""{i}": "u""#))
            .collect();
        let many = format!(
            r#"{{"objects": [{{"oid": "a", "actions": {{"upload": {{"href": "http://h/", "header": {{{}}}}}}}}}]}}"#,
            entries.join(",")
        );
        assert!(parse(&many, &["a"]).unwrap_err().contains("more than"));
    }
}
