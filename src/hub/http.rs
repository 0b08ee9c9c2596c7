//! Sending one request, turning a non-2xx answer into a [`HubError`], and retrying with
//! exponential backoff (hfh `http_backoff`: 1 s base doubling to 8 s, `Retry-After` honoured).

use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use ureq::http::{self, HeaderMap, HeaderValue, Response};
use ureq::{Agent, Body, SendBody};

use super::UploadReporter;
use super::error::HubError;
use crate::auth::{Redactor, Token};
use crate::net::error_chain;
use crate::net::watchdog::InterruptWatcher;
use crate::{interrupt, net};

pub(crate) const LFS_JSON: &str = "application/vnd.git-lfs+json";
pub(crate) const JSON: &str = "application/json";

const CONNECT_TIMEOUT: Duration = net::agent::CONNECT_TIMEOUT;
/// The progress window: an attempt that moves less than 1 KiB
/// ([`net::watchdog::MIN_PROGRESS`]) within it ends, be the server silent or dripping.
pub(crate) const PROGRESS_TIMEOUT: Duration = Duration::from_secs(10);
/// Overall limit of a REST or batch call.
pub(crate) const API_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest error body kept for the message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Longest message kept from an error body.
const MESSAGE_LIMIT: usize = 500;
/// Longest URL shown in a message, in characters.
const URL_LIMIT: usize = 2000;

/// How often and how long to retry. The defaults follow huggingface_hub.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles on each retry.
    pub base: Duration,
    /// Longest backoff.
    pub max: Duration,
    /// Longest server-requested wait (`Retry-After`, `RateLimit`) that is honoured as is.
    pub max_server_wait: Duration,
    /// Once a request has failed, no new attempt starts later than this after its first
    /// failure (the waits the server asks for are added on top): with the progress window,
    /// a slow or stalled server ends in a clear error after at most window + budget + window.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(8),
            max_server_wait: Duration::from_secs(300),
            budget: Duration::from_secs(25),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (1-based), with up to 25 % jitter off.
    fn backoff(&self, retry: u32) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        doubled.min(self.max).mul_f64(0.75 + 0.25 * fastrand::f64())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    #[cfg_attr(not(feature = "xet"), allow(dead_code))]
    Head,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Head => "HEAD",
        }
    }
}

/// What to send. `auth` asks for the Hub token; it is attached only when the URL is on the
/// configured endpoint, so presigned storage URLs (and anything else) never see it.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub auth: bool,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub stall_timeout: Duration,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, url: &'a str) -> Request<'a> {
        Request {
            method,
            url,
            auth: false,
            headers: Vec::new(),
            timeout: API_TIMEOUT,
            stall_timeout: PROGRESS_TIMEOUT,
        }
    }

    pub fn auth(mut self) -> Request<'a> {
        self.auth = true;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Request<'a> {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn headers<'h>(mut self, headers: impl IntoIterator<Item = &'h (String, String)>) -> Self {
        self.headers.extend(headers.into_iter().cloned());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Request<'a> {
        self.timeout = timeout;
        self
    }

    pub fn stall_timeout(mut self, timeout: Duration) -> Request<'a> {
        self.stall_timeout = timeout;
        self
    }
}

/// The overall limit for moving `bytes`: generous (32 KiB/s), as stalls and drips are caught
/// by the progress window.
pub(crate) fn transfer_timeout(bytes: u64) -> Duration {
    Duration::from_secs(300) + Duration::from_secs(bytes / (32 * 1024))
}

/// The HTTP side of the client: one agent (connection pool), the endpoint, the token.
pub(crate) struct Http {
    agent: Agent,
    /// Shuts `agent` down on Ctrl-C, so blocked reads and writes return at once.
    _watcher: InterruptWatcher,
    pub endpoint: String,
    token: Option<Token>,
    pub redactor: Redactor,
    pub policy: RetryPolicy,
}

impl Http {
    pub fn new(endpoint: &str, token: Option<Token>) -> Http {
        // crate::net decides trust, proxies, redirects (none automatic) and the watchdog.
        let agent = net::agent::build(net::agent::Timeouts {
            connect: CONNECT_TIMEOUT,
            progress: PROGRESS_TIMEOUT,
            global: Some(API_TIMEOUT),
        });
        let redactor = Redactor::new(token.as_ref());
        Http {
            _watcher: InterruptWatcher::start(&agent),
            agent,
            endpoint: endpoint.trim().trim_end_matches('/').to_string(),
            token,
            redactor,
            policy: RetryPolicy::default(),
        }
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// hfh `fix_hf_endpoint_in_url`: hrefs the Hub returns name the public Hub; with another
    /// endpoint (a mirror, a proxy, the test server) they are rewritten to it.
    pub fn fix_endpoint(&self, url: &str) -> String {
        const DEFAULTS: [&str; 2] = ["https://huggingface.co", "https://hub-ci.huggingface.co"];
        if DEFAULTS.contains(&self.endpoint.as_str()) {
            return url.to_string();
        }
        for default in DEFAULTS {
            if let Some(rest) = url.strip_prefix(default)
                && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            {
                return format!("{}{rest}", self.endpoint);
            }
        }
        url.to_string()
    }

    /// `url` shown to people: no query (signatures live there), no userinfo, no token, no
    /// control character (a server's `Location` or href may hold anything).
    pub fn shown(&self, url: &str) -> String {
        let base = url.split(['?', '#']).next().unwrap_or(url);
        crate::sanitize::line(base, &self.redactor, URL_LIMIT)
    }

    /// Text from the server (an error message, a header), fit to show: see [`crate::sanitize`].
    pub fn displayable(&self, text: &str) -> String {
        crate::sanitize::line(text, &self.redactor, MESSAGE_LIMIT)
    }

    /// The token, for a request to `url` on the Hub's origin only (the Xet token refresh).
    #[cfg_attr(not(feature = "xet"), allow(dead_code))]
    pub fn token_for(&self, url: &str) -> Option<&Token> {
        self.token.as_ref().filter(|_| self.sends_token_to(url))
    }

    fn sends_token_to(&self, url: &str) -> bool {
        net::same_origin(&self.endpoint, url)
    }

    /// One HEAD to `url`, without the token and without following a redirect: whether
    /// hf-relay's trust and proxy rules reach its server. Any HTTP answer is `Ok`.
    #[cfg(feature = "xet")]
    pub fn reach(&self, url: &str) -> Result<(), HubError> {
        interrupt::check()?;
        let req = Request::new(Method::Head, url);
        let builder = http::Request::builder().method("HEAD").uri(url);
        let response = self.run(&req, builder, SendBody::none())?;
        self.drain(response);
        Ok(())
    }

    /// Sends once (following redirects by [`net::follow`]'s rule). 2xx comes back as the
    /// response; anything else as a [`HubError`].
    pub fn send(
        &self,
        req: &Request<'_>,
        mut body: Option<(&mut dyn Read, u64)>,
    ) -> Result<Response<Body>, HubError> {
        let (url, (response, carried)) = net::follow(
            req.url,
            |url| {
                // A body is sent once: a redirect answer to it is the answer.
                let had_body = body.is_some();
                let (response, carried) = self.send_to(req, url, body.take())?;
                Ok(match net::redirect_location(&response) {
                    Some(location) if !had_body => net::Hop::Redirect {
                        answer: (response, carried),
                        location,
                        carried_token: carried,
                    },
                    _ => net::Hop::Answer((response, carried)),
                })
            },
            |(response, _)| self.drain(response),
            |url, unfollowed| match unfollowed {
                net::Unfollowed::CrossOrigin { from, to } => HubError::Refused {
                    url: self.shown(url),
                    message: format!(
                        "{from} redirected to another host, {to}; hf-relay does not follow \
                         it, so the token is never sent there"
                    ),
                },
                net::Unfollowed::TooMany {
                    answer: (response, _),
                    carried_token,
                }
                | net::Unfollowed::Invalid {
                    answer: (response, _),
                    carried_token,
                } => self.error_from(response, url, carried_token),
            },
        )?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.error_from(response, &url, carried))
        }
    }

    /// One exchange with `url`; the answer whatever its status, and whether it carried a
    /// credential (the token or an `Authorization` header of the request).
    fn send_to(
        &self,
        req: &Request<'_>,
        url: &str,
        body: Option<(&mut dyn Read, u64)>,
    ) -> Result<(Response<Body>, bool), HubError> {
        interrupt::check()?;
        let req = &Request {
            url,
            headers: req.headers.clone(),
            ..*req
        };
        let mut builder = http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url);
        let mut has_auth_header = false;
        for (name, value) in &req.headers {
            has_auth_header |= name.eq_ignore_ascii_case("authorization");
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut sent_token = false;
        if req.auth
            && !has_auth_header
            && let Some(token) = &self.token
            && self.sends_token_to(req.url)
        {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    HubError::InvalidResponse {
                        url: self.shown(req.url),
                        detail: "the token contains characters not allowed in an HTTP header"
                            .to_string(),
                    }
                })?;
            value.set_sensitive(true);
            builder = builder.header("Authorization", value);
            sent_token = true;
        }
        let response = match body {
            Some((reader, len)) => {
                let builder = builder.header("Content-Length", len.to_string());
                self.run(req, builder, SendBody::from_reader(reader))?
            }
            None => self.run(req, builder, SendBody::none())?,
        };
        Ok((response, sent_token || has_auth_header))
    }

    fn run(
        &self,
        req: &Request<'_>,
        builder: http::request::Builder,
        body: SendBody<'_>,
    ) -> Result<Response<Body>, HubError> {
        let request = builder.body(body).map_err(|err| HubError::Network {
            method: req.method.as_str(),
            url: self.shown(req.url),
            source: ureq::Error::Http(err),
        })?;
        let proxy = net::agent::prepare(req.url).map_err(|message| HubError::Refused {
            url: self.shown(req.url),
            message: self.redactor.redact(&message),
        })?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(req.timeout))
            .timeout_per_read(Some(req.stall_timeout))
            .timeout_per_write(Some(req.stall_timeout))
            .proxy(proxy)
            .build();
        self.agent
            .run(request)
            .map_err(|source| self.network(req.method, req.url, source))
    }

    /// Sends a JSON body (with the given content type) once.
    pub fn send_json(
        &self,
        req: &Request<'_>,
        content_type: &str,
        value: &serde_json::Value,
    ) -> Result<Response<Body>, HubError> {
        let bytes = serde_json::to_vec(value).expect("a JSON value serializes");
        let req = Request {
            headers: req
                .headers
                .iter()
                .cloned()
                .chain([("Content-Type".to_string(), content_type.to_string())])
                .collect(),
            ..*req
        };
        let len = bytes.len() as u64;
        self.send(&req, Some((&mut Cursor::new(bytes), len)))
    }

    /// A failed exchange; after Ctrl-C (which shuts the agent down under it) it is
    /// [`HubError::Interrupted`].
    pub fn network(&self, method: Method, url: &str, source: ureq::Error) -> HubError {
        if interrupt::interrupted() {
            return HubError::Interrupted(interrupt::Interrupted);
        }
        let chain = error_chain(&source);
        if net::tls::is_untrusted(&chain) {
            return HubError::Refused {
                url: self.shown(url),
                message: self.redactor.redact(&net::agent::describe(url, &chain)),
            };
        }
        HubError::Network {
            method: method.as_str(),
            url: self.shown(url),
            source,
        }
    }

    /// Reads a JSON answer (at most `limit` bytes).
    pub fn read_json<T: DeserializeOwned>(
        &self,
        response: Response<Body>,
        method: Method,
        url: &str,
        limit: u64,
    ) -> Result<T, HubError> {
        let mut text = Vec::new();
        response
            .into_body()
            .into_with_config()
            .limit(limit)
            .reader()
            .read_to_end(&mut text)
            .map_err(|err| self.network(method, url, ureq::Error::Io(err)))?;
        serde_json::from_slice(&text).map_err(|err| HubError::InvalidResponse {
            url: self.shown(url),
            detail: self.displayable(&format!("the body is not the expected JSON: {err}")),
        })
    }

    /// Reads and drops a (small) success body so the connection can be reused.
    pub fn drain(&self, response: Response<Body>) {
        let _ = std::io::copy(
            &mut response.into_body().into_reader().take(ERROR_BODY_LIMIT),
            &mut std::io::sink(),
        );
    }

    fn error_from(&self, response: Response<Body>, url: &str, sent_token: bool) -> HubError {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut raw = Vec::new();
        let _ = response
            .into_body()
            .into_reader()
            .take(ERROR_BODY_LIMIT)
            .read_to_end(&mut raw);
        let body = String::from_utf8_lossy(&raw);
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let error_message = header("x-error-message");
        let message = error_message
            .clone()
            .or_else(|| message_from_body(&body))
            .map(|m| self.displayable(&m));
        let request_id = ["x-request-id", "x-amzn-trace-id", "x-amz-cf-id"]
            .into_iter()
            .find_map(header)
            .map(|id| self.displayable(&id));
        let url = self.shown(url);
        let retry_after = server_wait(&headers).map(|w| w.min(self.policy.max_server_wait));
        match status {
            401 => HubError::Unauthorized {
                url,
                invalid_token: error_message
                    .is_some_and(|m| m.to_ascii_lowercase().contains("invalid credentials")),
                sent_token,
                message,
                request_id,
            },
            403 => HubError::Forbidden {
                url,
                message,
                request_id,
            },
            404 => HubError::NotFound {
                url,
                message,
                request_id,
            },
            429 => HubError::RateLimited {
                url,
                retry_after,
                message,
                request_id,
            },
            500..=599 => HubError::Server {
                status,
                url,
                retry_after,
                message,
                request_id,
            },
            _ => HubError::Rejected {
                status,
                url,
                retry_after,
                message,
                request_id,
            },
        }
    }

    /// Runs `op` until it succeeds, fails for good, or the retry budget is spent. `what` names
    /// the operation in messages ("uploading LFS object 1a2b3c…").
    pub fn retry<T>(
        &self,
        what: &str,
        reporter: &dyn UploadReporter,
        mut op: impl FnMut() -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let mut retries = 0;
        let started = Instant::now();
        // Set at the first failure: no attempt starts after it.
        let mut deadline: Option<Instant> = None;
        loop {
            interrupt::check()?;
            match op() {
                Ok(value) => return Ok(value),
                Err(_) if interrupt::interrupted() => {
                    return Err(HubError::Interrupted(interrupt::Interrupted));
                }
                Err(err) if err.is_retryable() => {
                    let server_wait = err.retry_after();
                    let wait = server_wait.unwrap_or_else(|| self.policy.backoff(retries + 1));
                    let deadline =
                        deadline.get_or_insert_with(|| Instant::now() + self.policy.budget);
                    if let Some(asked) = server_wait {
                        *deadline += asked; // the server is alive and said how long
                    }
                    if retries >= self.policy.max_retries || Instant::now() + wait > *deadline {
                        return Err(HubError::RetriesExhausted {
                            what: what.to_string(),
                            attempts: retries + 1,
                            seconds: started.elapsed().as_secs(),
                            last: Box::new(err),
                        });
                    }
                    retries += 1;
                    let reason = format!(
                        "{what}: {} (retry {retries} of {})",
                        error_chain(&err),
                        self.policy.max_retries
                    );
                    reporter.on_retry(&self.displayable(&reason), wait);
                    interrupt::sleep(wait)?;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// The human part of an error body: JSON `error` (string or list), `error_description`,
/// `message` (LFS), else the text itself.
fn message_from_body(body: &str) -> Option<String> {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return None;
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed) {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(items) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        };
        let mut parts: Vec<String> = ["error", "error_description", "message"]
            .iter()
            .filter_map(|k| map.get(*k).and_then(text))
            .collect();
        // `/api/validate-yaml`'s `{"errors": [{"message": ...}]}`.
        if parts.is_empty()
            && let Some(serde_json::Value::Array(errors)) = map.get("errors")
        {
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(|m| m.as_str()))
                .collect();
            if !messages.is_empty() {
                parts.push(messages.join("; "));
            }
        }
        parts.dedup();
        if !parts.is_empty() {
            return Some(parts.join(": "));
        }
    }
    if trimmed.starts_with('<') {
        return None; // an HTML error page says nothing useful
    }
    Some(trimmed.to_string())
}

/// The wait the server asks for: `Retry-After` (seconds or an HTTP date), else the `RateLimit`
/// header when it says nothing is left (`"api";r=0;t=55` → 56 s, as hfh does).
fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = get("retry-after") {
        let value = value.trim();
        if let Ok(secs) = value.parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            let secs = (date.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
            return Some(Duration::from_secs(secs.max(0) as u64));
        }
    }
    let value = get("ratelimit")?;
    let mut remaining = None;
    let mut reset = None;
    for part in value.split(';') {
        let part = part.trim();
        if let Some(r) = part.strip_prefix("r=") {
            remaining = r.trim().parse::<u64>().ok();
        } else if let Some(t) = part.strip_prefix("t=") {
            reset = t.trim().parse::<u64>().ok();
        }
    }
    match (remaining, reset) {
        (Some(0), Some(t)) => Some(Duration::from_secs(t + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_the_public_hub_prefix() {
        let http = Http::new("http://127.0.0.1:8080/", None);
        assert_eq!(http.endpoint, "http://127.0.0.1:8080");
        assert_eq!(
            http.fix_endpoint("https://huggingface.co/datasets/a/b.git/info/lfs/objects/verify"),
            "http://127.0.0.1:8080/datasets/a/b.git/info/lfs/objects/verify"
        );
        assert_eq!(
            http.fix_endpoint("https://huggingface.co.evil.com/x"),
            "https://huggingface.co.evil.com/x"
        );
        assert_eq!(
            http.fix_endpoint("https://s3.amazonaws.com/x?sig=1"),
            "https://s3.amazonaws.com/x?sig=1"
        );
        let public = Http::new("https://huggingface.co", None);
        assert_eq!(
            public.fix_endpoint("https://huggingface.co/x"),
            "https://huggingface.co/x"
        );
    }

    #[test]
    fn token_only_for_the_endpoint_origin() {
        let http = Http::new("http://127.0.0.1:8080", Some(Token::new("secret")));
        assert!(http.sends_token_to("http://127.0.0.1:8080/api/whoami-v2"));
        assert!(http.sends_token_to("HTTP://127.0.0.1:8080"));
        assert!(!http.sends_token_to("http://127.0.0.1:8081/api"));
        assert!(!http.sends_token_to("https://bucket.s3.amazonaws.com/x"));
        assert!(!http.sends_token_to("http://127.0.0.1:8080@evil.example/x"));
    }

    /// The origin the token is bound to is the one a client connects to: the `url` crate's
    /// reading of the authority (a backslash ends it for http(s), as in browsers and curl),
    /// with the scheme's default port filled in.
    #[test]
    fn token_scope_follows_the_url_crates_origin() {
        let http = Http::new("http://127.0.0.1:8080", Some(Token::new("secret")));
        assert!(!http.sends_token_to("http://evil.example\\@127.0.0.1:8080/x"));
        assert!(!http.sends_token_to("http://127.0.0.1:8080.evil.example/x"));
        assert!(!http.sends_token_to("https://127.0.0.1:8080/x"));
        let public = Http::new("https://huggingface.co", Some(Token::new("secret")));
        assert!(public.sends_token_to("https://huggingface.co:443/api/whoami-v2"));
        assert!(!public.sends_token_to("http://huggingface.co/api/whoami-v2"));
    }

    #[test]
    fn messages_from_bodies() {
        assert_eq!(message_from_body(r#"{"error":"nope"}"#).unwrap(), "nope");
        assert_eq!(message_from_body(r#"{"error":["a","b"]}"#).unwrap(), "a; b");
        assert_eq!(
            message_from_body(r#"{"message":"Authorization error.","documentation_url":"x"}"#)
                .unwrap(),
            "Authorization error."
        );
        assert_eq!(
            message_from_body(r#"{"error":"invalid_grant","error_description":"expired"}"#)
                .unwrap(),
            "invalid_grant: expired"
        );
        assert_eq!(message_from_body("Slow Down\n").unwrap(), "Slow Down");
        assert_eq!(message_from_body("<html>oops</html>"), None);
        assert_eq!(message_from_body("  "), None);
    }

    #[test]
    fn server_waits() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(3)));
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit", HeaderValue::from_static("\"api\";r=0;t=55"));
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(56)));
        headers.insert("ratelimit", HeaderValue::from_static("\"api\";r=3;t=55"));
        assert_eq!(server_wait(&headers), None);
    }

    #[test]
    fn retries_stop_when_the_budget_from_the_first_failure_is_spent() {
        let mut http = Http::new("http://127.0.0.1:9", None);
        http.policy = RetryPolicy {
            max_retries: 1000,
            base: Duration::from_millis(10),
            max: Duration::from_millis(10),
            max_server_wait: Duration::from_secs(1),
            budget: Duration::from_millis(200),
        };
        let started = Instant::now();
        let err = http
            .retry(
                "test",
                &super::super::NoProgress,
                || -> Result<(), HubError> {
                    Err(HubError::Server {
                        status: 503,
                        url: "u".to_string(),
                        retry_after: None,
                        message: None,
                        request_id: None,
                    })
                },
            )
            .unwrap_err();
        let HubError::RetriesExhausted { attempts, .. } = err else {
            panic!("{err:?}")
        };
        assert!(attempts > 2 && attempts < 100, "{attempts} attempts");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let policy = RetryPolicy::default();
        for (retry, full) in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (40, 8.0)] {
            let wait = policy.backoff(retry).as_secs_f64();
            assert!(wait <= full && wait >= full * 0.75, "{retry}: {wait}");
        }
    }
}
