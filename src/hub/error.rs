//! One error type for every Hub call. Each variant says what went wrong and what to do; every
//! text field has been through the client's redactor, and URLs are shown without their query
//! (presigned storage URLs carry signatures there).

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum HubError {
    /// HTTP 401. On a repo URL this is deliberately ambiguous on the Hub (hub-protocol.md §7.1).
    #[error(
        "{}",
        unauthorized_text(
            url,
            unauthorized_meaning(*invalid_token, *sent_token),
            message,
            request_id
        )
    )]
    Unauthorized {
        url: String,
        /// `X-Error-Message` said the credentials are invalid: the token itself was refused.
        invalid_token: bool,
        sent_token: bool,
        message: Option<String>,
        request_id: Option<String>,
    },

    /// HTTP 403: the token is valid but lacks the rights.
    #[error(
        "forbidden (HTTP 403) at {url}{}: the token lacks write access here (a read token, a \
         fine-grained token without this repository, or no write access to the namespace); \
         use a token with write access{}",
        detail(message),
        request(request_id)
    )]
    Forbidden {
        url: String,
        message: Option<String>,
        request_id: Option<String>,
    },

    /// HTTP 404.
    #[error(
        "not found (HTTP 404) at {url}{}: the repository does not exist, or this token cannot \
         see it{}",
        detail(message),
        request(request_id)
    )]
    NotFound {
        url: String,
        message: Option<String>,
        request_id: Option<String>,
    },

    /// HTTP 429.
    #[error(
        "rate limited (HTTP 429) at {url}{}{}: wait a moment and try again{}",
        detail(message),
        wait_text(retry_after),
        request(request_id)
    )]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
        message: Option<String>,
        request_id: Option<String>,
    },

    /// HTTP 5xx.
    #[error(
        "server error (HTTP {status}) at {url}{}: the Hub or its storage failed; try again \
         later{}",
        detail(message),
        request(request_id)
    )]
    Server {
        status: u16,
        url: String,
        retry_after: Option<Duration>,
        message: Option<String>,
        request_id: Option<String>,
    },

    /// Any other refusal (400, 408, 409, 413, 422, …).
    #[error(
        "request refused (HTTP {status}) at {url}{}{}",
        detail(message),
        request(request_id)
    )]
    Rejected {
        status: u16,
        url: String,
        retry_after: Option<Duration>,
        message: Option<String>,
        request_id: Option<String>,
    },

    /// Refused before or instead of an exchange, for good (`crate::net`): an untrusted
    /// certificate, an unreadable CA bundle, an unusable proxy, a redirect to another host.
    #[error("cannot use {url}: {message}")]
    Refused { url: String, message: String },

    /// No HTTP answer: connection refused or reset, timeout, DNS, TLS, broken framing.
    #[error("network error on {method} {url} (check the connection and HF_ENDPOINT)")]
    Network {
        method: &'static str,
        url: String,
        #[source]
        source: ureq::Error,
    },

    /// The server answered something this client cannot use.
    #[error("invalid response from {url}: {detail}")]
    InvalidResponse { url: String, detail: String },

    /// A per-object `error` in an LFS batch answer.
    #[error("the Hub refused LFS object {oid}: {message} (code {code})")]
    ObjectError {
        oid: String,
        code: i64,
        message: String,
    },

    /// A presigned storage URL expired and asking for fresh ones did not help.
    #[error(
        "the signed storage URL {url} for LFS object {oid} has expired, and fresh URLs from a \
         new batch request expired too; check the system clock"
    )]
    ExpiredUrl { oid: String, url: String },

    /// A retryable error kept happening.
    #[error("{what}: gave up after {attempts} attempts in {seconds} s")]
    RetriesExhausted {
        what: String,
        attempts: u32,
        /// From the first attempt to giving up.
        seconds: u64,
        #[source]
        last: Box<HubError>,
    },

    /// Ctrl-C: the transfer stopped at its next checkpoint (or its socket was shut down).
    #[error("stopped by Ctrl-C")]
    Interrupted(#[from] crate::interrupt::Interrupted),

    /// An action's URL this client refuses to send anything to: not `http`/`https`, or with
    /// a user name or password (which would go out as `Authorization: Basic`).
    #[error(
        "the Hub's batch answer gives LFS object {oid} {what} URL that hf-relay refuses to \
         use: {url} ({reason})"
    )]
    UnsafeHref {
        oid: String,
        what: &'static str,
        url: String,
        reason: &'static str,
    },

    /// The Xet client (`hf-xet`) failed against the Hub's content-addressed store; it has
    /// retried what it could. `kind` is its category (network, auth, timeout, server_error…).
    #[error("the Xet upload to {url} failed ({kind}): {message}")]
    Xet {
        url: String,
        kind: &'static str,
        message: String,
    },

    /// A local file could not be read or written.
    #[error("{action} {}", path.display())]
    LocalIo {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl HubError {
    /// Whether sending the same request again may succeed: 408/429/500/502/503/504, a transient
    /// 409, timeouts, connection failures and resets.
    pub fn is_retryable(&self) -> bool {
        match self {
            HubError::RateLimited { .. } => true,
            HubError::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            HubError::Rejected {
                status, message, ..
            } => {
                *status == 408
                    || (*status == 409
                        && message
                            .as_deref()
                            .is_some_and(|m| m.contains("conflicting operation")))
            }
            HubError::Network { source, .. } => matches!(
                source,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::Protocol(_)
            ),
            _ => false,
        }
    }

    /// The wait the server asked for (`Retry-After`, or `RateLimit` when exhausted).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HubError::RateLimited { retry_after, .. }
            | HubError::Server { retry_after, .. }
            | HubError::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A 401's message with `what` (its meaning in the caller's words) in place of the facts
    /// the message gives; `None` for other errors.
    pub fn unauthorized_message(&self, what: &str) -> Option<String> {
        match self {
            HubError::Unauthorized {
                url,
                message,
                request_id,
                ..
            } => Some(unauthorized_text(url, what, message, request_id)),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HubError::Unauthorized { .. } => Some(401),
            HubError::Forbidden { .. } => Some(403),
            HubError::NotFound { .. } => Some(404),
            HubError::RateLimited { .. } => Some(429),
            HubError::Server { status, .. } | HubError::Rejected { status, .. } => Some(*status),
            HubError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }
}

pub use crate::net::error_chain;

fn detail(message: &Option<String>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!(" ({m})"),
        _ => String::new(),
    }
}

fn request(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" [request id: {id}]"),
        None => String::new(),
    }
}

fn wait_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(", retry after {} s", wait.as_secs()),
        None => String::new(),
    }
}

/// What a 401 means, as facts (the CLI words what to do about it, `commands::diagnose`).
fn unauthorized_meaning(invalid_token: bool, sent_token: bool) -> &'static str {
    if invalid_token {
        "the token was refused (invalid or expired)"
    } else if sent_token {
        "the repository is private or does not exist (or this token cannot see it), or the \
         token was refused (invalid or expired)"
    } else {
        "no token was sent: this needs a token, or the repository is private or does not exist"
    }
}

fn unauthorized_text(
    url: &str,
    what: &str,
    message: &Option<String>,
    request_id: &Option<String>,
) -> String {
    format!(
        "unauthorized (HTTP 401) at {url}{}: {what}{}",
        detail(message),
        request(request_id)
    )
}
