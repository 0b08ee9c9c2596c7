//! Why the git transport failed, as data ([`TransportError`]): what `repo::remote` turns into
//! its own error by matching on kinds, never by reading a message back. Every text held here
//! is displayable already (sanitised, capped, with the lent tokens masked).

use super::{MAX_ADVERTISED_REFS, MAX_ADVERTISEMENT_BYTES};
use crate::net::MAX_REDIRECTS;

/// How an exchange with the server failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetFailure {
    /// The progress window (`net::watchdog`) or a timeout ran out.
    Timeout,
    /// The server's TLS certificate is not trusted: trying again does not help.
    Untrusted,
    /// Through a proxy, which the message names.
    Proxy,
    /// Refused, reset, a name that does not resolve, or any other failed connection.
    Connection,
}

/// What in the server's git answer the transport refused to read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the server advertised more than {MAX_ADVERTISED_REFS} refs; hf-relay reads at most \
         that many"
    )]
    TooManyRefs,
    #[error(
        "the server's ref advertisement is larger than {} MiB; hf-relay reads at most that much",
        MAX_ADVERTISEMENT_BYTES / (1024 * 1024)
    )]
    TooLarge,
    /// A pkt-line length that is not one: `what` the answer is, `length` its four bytes, `at`
    /// their offset.
    #[error("the server sent an invalid pkt-line in its {what}: length \"{length}\" at byte {at}")]
    InvalidPktLine {
        what: &'static str,
        length: String,
        at: u64,
    },
    /// An `ERR` line, or a fatal side-band message.
    #[error("the server says: {0}")]
    ServerSays(String),
}

/// Why a git request over HTTP failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// Ctrl-C.
    #[error("{}", crate::interrupt::Interrupted)]
    Interrupted,
    /// Before any request: the CA bundle or the proxy settings cannot be used.
    #[error("{0}")]
    Setup(String),
    #[error("invalid git request to {url}: {detail}")]
    InvalidRequest { url: String, detail: String },
    #[error("the token contains characters not allowed in an HTTP header")]
    TokenNotHeaderSafe,
    /// Sending the request failed.
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        url: String,
        failure: NetFailure,
        detail: String,
    },
    /// Reading the answer failed.
    #[error("reading the answer of {url}: {detail}")]
    ReadFailed {
        url: String,
        failure: NetFailure,
        detail: String,
    },
    /// HTTP 401; `token_sent`: whether the request carried the token.
    #[error(
        "unexpected http status code: 401 from {url}: {}",
        if *token_sent { "the token was refused" } else { "a token is needed" }
    )]
    Unauthorized { url: String, token_sent: bool },
    /// Any other status that is neither 2xx nor a redirect; `detail`: the server's text.
    #[error(
        "unexpected http status code: {status} from {url}{}",
        detail.as_ref().map(|detail| format!(": {detail}")).unwrap_or_default()
    )]
    Status {
        url: String,
        status: u16,
        detail: Option<String>,
    },
    #[error("{url} redirected more than {MAX_REDIRECTS} times")]
    TooManyRedirects { url: String },
    #[error("{url} answered HTTP {status} without a usable Location")]
    BadRedirect { url: String, status: u16 },
    /// A redirect to another origin of a request that carried the token: nothing was sent
    /// there.
    #[error("{from} redirected git to {to}, another origin")]
    CrossOrigin { from: String, to: String },
    #[error("{url} is not a git smart HTTP server (answered {content_type} instead of {expected})")]
    NotGit {
        url: String,
        content_type: String,
        expected: String,
    },
    /// The server's answer broke a bound or the protocol.
    #[error(transparent)]
    Refused(Refusal),
}

impl TransportError {
    /// The same failure as libgit2 needs it back from the transport: it carries a code, a
    /// class and a message across C, which `repo::remote` does not read (it takes this value
    /// from the [`super::Session`]).
    pub(super) fn to_git(&self) -> git2::Error {
        use git2::{ErrorClass, ErrorCode};
        let (code, class) = match self {
            TransportError::Unauthorized { .. } | TransportError::TokenNotHeaderSafe => {
                (ErrorCode::Auth, ErrorClass::Http)
            }
            TransportError::Status { .. } => (ErrorCode::GenericError, ErrorClass::Http),
            TransportError::Interrupted
            | TransportError::Unreachable { .. }
            | TransportError::ReadFailed { .. } => (ErrorCode::GenericError, ErrorClass::Net),
            _ => (ErrorCode::GenericError, ErrorClass::Invalid),
        };
        git2::Error::new(code, class, self.to_string())
    }

    /// The failure of the connection, when that is what failed.
    pub fn net_failure(&self) -> Option<NetFailure> {
        match self {
            TransportError::Unreachable { failure, .. }
            | TransportError::ReadFailed { failure, .. } => Some(*failure),
            _ => None,
        }
    }
}

/// How `err` (of a request to `url`, with its cause chain `chain`) failed.
pub(super) fn classify(url: &str, err: &ureq::Error, chain: &str) -> NetFailure {
    let timed_out = match err {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
        _ => false,
    };
    classify_io(url, timed_out, chain)
}

/// [`classify`] for a failed read of the answer.
pub(super) fn classify_io(url: &str, timed_out: bool, chain: &str) -> NetFailure {
    if crate::net::tls::is_untrusted(chain) {
        NetFailure::Untrusted
    } else if timed_out {
        NetFailure::Timeout
    } else if crate::net::proxy::shown_for(url).is_some() {
        NetFailure::Proxy
    } else {
        NetFailure::Connection
    }
}
