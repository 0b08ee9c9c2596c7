//! git smart HTTP (protocol v0/v1, stateless RPC) over the same kind of ureq agent as REST
//! and LFS: a libgit2 custom transport for `http://` and `https://` remotes, registered once,
//! so libgit2 itself never opens a socket, resolves a proxy or verifies a certificate.
//!
//! An operation runs inside a [`Session`]: it hands the [`Token`] over for the remote's
//! [`Origin`] and, when libgit2 fails, gives back why the transport stopped as a typed
//! [`TransportError`] (libgit2 can only carry a code, a class and a message across C). The
//! session's state lives in thread-locals because git2 binds a transport per URL scheme for the
//! whole process (`git2::transport::register`; libgit2's per-remote transport callback is not
//! exposed), and libgit2 runs the transport on the calling thread. A request gets
//! `Authorization: Basic base64(hf_user:TOKEN)` only when its URL has exactly the session's
//! origin (sent up front: no 401 round trip); redirects follow the one rule of
//! [`crate::net::follow`], so one to another origin is refused before anything is sent there.
//!
//! What the server sends is bounded before libgit2 keeps it: a ref advertisement holds at most
//! [`MAX_ADVERTISED_REFS`] refs in [`MAX_ADVERTISEMENT_BYTES`], and a malformed pkt-line or an
//! error line in it or in receive-pack's answer is named ([`pkt::PktLines`]). Every text is made
//! displayable by [`crate::sanitize`] with the lent token masked.

mod error;
mod pkt;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use ureq::Agent;
use ureq::http::{self, HeaderValue, Response};

pub use self::error::{NetFailure, Refusal, TransportError};
use self::pkt::PktLines;
use super::agent::{self, CONNECT_TIMEOUT, Timeouts};
use super::watchdog::InterruptWatcher;
use super::{Hop, Origin, Unfollowed};
use crate::auth::{GIT_USERNAME, Redactor, Token};
use crate::interrupt;

/// The progress window of git requests: longer than REST's, as receive-pack may think a while
/// (index-pack, hooks) between the last byte of a pack and its answer.
pub const PROGRESS_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest error body kept for a message.
const ERROR_BODY_LIMIT: u64 = 16 * 1024;
/// Longest message of a failed git request, in characters.
const MESSAGE_LIMIT: usize = 1000;
/// Most refs a server may advertise (each costs libgit2 memory; a Hub repository has its
/// branches, tags and `refs/pr/N`, far fewer).
pub const MAX_ADVERTISED_REFS: u64 = 100_000;
/// Most bytes a ref advertisement may take.
pub const MAX_ADVERTISEMENT_BYTES: u64 = 32 * 1024 * 1024;
/// How many of the last bytes of a git answer are kept to explain a failure libgit2 gives no
/// reason for.
const LAST_BYTES: usize = 32;

thread_local! {
    /// The tokens lent by the live sessions of this thread, each for its origin.
    static TOKENS: RefCell<Vec<(Origin, Token)>> = const { RefCell::new(Vec::new()) };
    /// Why the transport last failed on this thread, for [`Session::take_failure`].
    static FAILURE: RefCell<Option<TransportError>> = const { RefCell::new(None) };
    /// The last bytes read from a git answer, for [`Session::last_bytes`].
    static TAIL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `failure` for the session, and returns it.
fn record(failure: TransportError) -> TransportError {
    FAILURE.with(|kept| *kept.borrow_mut() = Some(failure.clone()));
    failure
}

/// The failure as the transport's `Read`/`Write` hand it to libgit2.
fn io_error(failure: TransportError) -> io::Error {
    io::Error::other(record(failure))
}

/// One git operation of this thread with a remote: while it lives, git requests to its origin
/// carry its token, and a failure of the transport is kept for [`Session::take_failure`].
#[must_use]
pub struct Session {
    lent: Option<Origin>,
}

impl Session {
    /// Starts a session with the remote at `origin` (`None` for a URL without an http(s)
    /// origin: nothing is lent), registering the transport first. An empty token lends
    /// nothing.
    pub fn begin(origin: Option<&Origin>, token: Option<&Token>) -> Session {
        register();
        FAILURE.with(|failure| *failure.borrow_mut() = None);
        TAIL.with(|tail| tail.borrow_mut().clear());
        let lent = match (origin, token.filter(|token| !token.expose().is_empty())) {
            (Some(origin), Some(token)) => {
                TOKENS.with(|tokens| tokens.borrow_mut().push((origin.clone(), token.clone())));
                Some(origin.clone())
            }
            _ => None,
        };
        Session { lent }
    }

    /// Why the transport stopped, when it did (taken once): what libgit2's error stands for.
    pub fn take_failure(&self) -> Option<TransportError> {
        FAILURE.with(|failure| failure.borrow_mut().take())
    }

    /// The last bytes the server sent (at most 32), to say what it sent when libgit2 stops
    /// without a reason.
    pub fn last_bytes(&self) -> Vec<u8> {
        TAIL.with(|tail| tail.borrow().clone())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(origin) = &self.lent {
            TOKENS.with(|tokens| {
                let mut tokens = tokens.borrow_mut();
                if let Some(i) = tokens.iter().rposition(|(o, _)| o == origin) {
                    tokens.remove(i);
                }
            });
        }
    }
}

/// The token lent for exactly the origin of `url`.
fn token_for(url: &str) -> Option<Token> {
    let origin = Origin::of(url)?;
    TOKENS.with(|tokens| {
        tokens
            .borrow()
            .iter()
            .rev()
            .find(|(o, _)| *o == origin)
            .map(|(_, token)| token.clone())
    })
}

/// Registers the transport for `http` and `https` (once per process; [`Session::begin`] does it
/// before the first remote operation).
fn register() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        for scheme in ["http", "https"] {
            // SAFETY: called once, under `Once`, before any remote operation of this process
            // (every one calls `register` first), so no transport lookup runs concurrently.
            let registered = unsafe {
                git2::transport::register(scheme, |remote| {
                    Transport::smart(remote, true, Subtransport::default())
                })
            };
            registered.expect("registering the git HTTP transport");
        }
    });
}

fn agent() -> &'static Agent {
    static AGENT: OnceLock<(Agent, InterruptWatcher)> = OnceLock::new();
    &AGENT
        .get_or_init(|| {
            let agent = agent::build(Timeouts {
                connect: CONNECT_TIMEOUT,
                progress: PROGRESS_TIMEOUT,
                global: None,
            });
            let watcher = InterruptWatcher::start(&agent);
            (agent, watcher)
        })
        .0
}

/// One connection of libgit2 to a remote; remembers where a redirect of `info/refs` moved the
/// repository (within the origin), as git does for the requests that follow.
#[derive(Default)]
struct Subtransport {
    base: Mutex<Option<String>>,
}

impl SmartSubtransport for Subtransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let base = self
            .base
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| url.trim_end_matches('/').to_string());
        let (service, ls) = match action {
            Service::UploadPackLs => ("git-upload-pack", true),
            Service::UploadPack => ("git-upload-pack", false),
            Service::ReceivePackLs => ("git-receive-pack", true),
            Service::ReceivePack => ("git-receive-pack", false),
        };
        if ls {
            let suffix = format!("/info/refs?service={service}");
            let url = format!("{base}{suffix}");
            let (final_url, response) = execute(&Call {
                url: &url,
                post: false,
                content_type: None,
                accept: "*/*",
                body: &[],
            })
            .map_err(|failure| record(failure).to_git())?;
            let expected = format!("application/x-{service}-advertisement");
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type.starts_with(&expected) {
                let content_type = match content_type {
                    "" => "no content type".to_string(),
                    text => displayable(text, MESSAGE_LIMIT),
                };
                let failure = TransportError::NotGit {
                    url: shown(&url),
                    content_type,
                    expected,
                };
                return Err(record(failure).to_git());
            }
            if final_url != url
                && let Some(moved) = final_url.strip_suffix(&suffix)
            {
                *self.base.lock().unwrap_or_else(|e| e.into_inner()) = Some(moved.to_string());
            }
            return Ok(Box::new(Stream {
                pending: None,
                reader: Some(Box::new(PktLines::advertisement(reader_of(
                    response, final_url,
                )))),
            }));
        }
        Ok(Box::new(Stream {
            pending: Some(Pending {
                url: format!("{base}/{service}"),
                service,
                body: Vec::new(),
            }),
            reader: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// A POST waiting for its body (libgit2 writes it all, then reads the answer).
struct Pending {
    url: String,
    service: &'static str,
    body: Vec<u8>,
}

struct Stream {
    pending: Option<Pending>,
    reader: Option<Box<dyn Read + Send>>,
}

impl Write for Stream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.pending {
            Some(pending) => {
                pending.body.extend_from_slice(data);
                Ok(data.len())
            }
            None => Err(io::Error::other("git request already sent")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.reader.is_none() {
            let Some(pending) = self.pending.take() else {
                return Ok(0);
            };
            let content_type = format!("application/x-{}-request", pending.service);
            let accept = format!("application/x-{}-result", pending.service);
            let (final_url, response) = execute(&Call {
                url: &pending.url,
                post: true,
                content_type: Some(&content_type),
                accept: &accept,
                body: &pending.body,
            })
            .map_err(io_error)?;
            let reader = reader_of(response, final_url);
            self.reader = Some(match pending.service {
                "git-receive-pack" => Box::new(PktLines::push_result(reader)),
                _ => reader,
            });
        }
        self.reader.as_mut().expect("set above").read(buf)
    }
}

/// The answer's body; a failure while reading it names the URL (and the untrusted certificate
/// or the proxy, see [`agent::describe`]).
fn reader_of(response: Response<ureq::Body>, url: String) -> Box<dyn Read + Send> {
    Box::new(Described {
        inner: response.into_body().into_reader(),
        url,
    })
}

struct Described<R> {
    inner: R,
    url: String,
}

impl<R: Read> Read for Described<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).map_err(|err| {
            if interrupt::interrupted() {
                return io_error(TransportError::Interrupted);
            }
            let chain = err.to_string();
            let timed_out = err.kind() == io::ErrorKind::TimedOut;
            io_error(TransportError::ReadFailed {
                url: shown(&self.url),
                failure: error::classify_io(&self.url, timed_out, &chain),
                detail: displayable(&agent::describe(&self.url, &chain), MESSAGE_LIMIT),
            })
        })?;
        TAIL.with(|tail| {
            let mut tail = tail.borrow_mut();
            tail.extend_from_slice(&buf[n.saturating_sub(LAST_BYTES)..n]);
            let excess = tail.len().saturating_sub(LAST_BYTES);
            tail.drain(..excess);
        });
        Ok(n)
    }
}

struct Call<'a> {
    url: &'a str,
    post: bool,
    content_type: Option<&'a str>,
    accept: &'a str,
    body: &'a [u8],
}

/// Sends `call`, following redirects by [`crate::net::follow`]'s rule; returns the final URL
/// and the 2xx answer.
fn execute(call: &Call<'_>) -> Result<(String, Response<ureq::Body>), TransportError> {
    let (url, (response, token_sent)) = super::follow(
        call.url,
        |url| {
            let (response, token_sent) = send(call, url)?;
            Ok(match super::redirect_location(&response) {
                Some(location) => Hop::Redirect {
                    answer: (response, token_sent),
                    location,
                    carried_token: token_sent,
                },
                None => Hop::Answer((response, token_sent)),
            })
        },
        drop,
        |url, unfollowed| match unfollowed {
            Unfollowed::TooMany { .. } => TransportError::TooManyRedirects {
                url: shown(call.url),
            },
            Unfollowed::CrossOrigin { from, to } => TransportError::CrossOrigin { from, to },
            Unfollowed::Invalid {
                answer: (response, _),
                ..
            } => TransportError::BadRedirect {
                url: shown(url),
                status: response.status().as_u16(),
            },
        },
    )?;
    match response.status().as_u16() {
        200..=299 => Ok((url, response)),
        401 => Err(TransportError::Unauthorized {
            url: shown(&url),
            token_sent,
        }),
        status => {
            let mut text = Vec::new();
            let _ = response
                .into_body()
                .into_reader()
                .take(ERROR_BODY_LIMIT)
                .read_to_end(&mut text);
            let detail = displayable(&String::from_utf8_lossy(&text), crate::sanitize::LINE_LIMIT);
            Err(TransportError::Status {
                url: shown(&url),
                status,
                detail: (!detail.is_empty() && !detail.starts_with('<')).then_some(detail),
            })
        }
    }
}

/// One exchange of `call` with `url`: the answer whatever its status, and whether it carried
/// the token.
fn send(call: &Call<'_>, url: &str) -> Result<(Response<ureq::Body>, bool), TransportError> {
    let agent = agent();
    interrupt::check().map_err(|_| TransportError::Interrupted)?;
    // A bad CA bundle or proxy, like an untrusted certificate below, is not retried.
    let proxy = agent::prepare(url)
        .map_err(|message| TransportError::Setup(displayable(&message, MESSAGE_LIMIT)))?;
    let mut builder = http::Request::builder()
        .method(if call.post { "POST" } else { "GET" })
        .uri(url)
        .header(
            "User-Agent",
            concat!("git/2.0 (hf-relay/", env!("CARGO_PKG_VERSION"), ")"),
        )
        .header("Accept", call.accept);
    if let Some(content_type) = call.content_type {
        builder = builder.header("Content-Type", content_type);
    }
    let token = token_for(url);
    if let Some(token) = &token {
        let credential = base64::engine::general_purpose::STANDARD
            .encode(format!("{GIT_USERNAME}:{}", token.expose()));
        let mut value = HeaderValue::from_str(&format!("Basic {credential}"))
            .map_err(|_| TransportError::TokenNotHeaderSafe)?;
        value.set_sensitive(true);
        builder = builder.header("Authorization", value);
    }
    let request = builder
        .body(call.body)
        .map_err(|err| TransportError::InvalidRequest {
            url: shown(url),
            detail: displayable(&err.to_string(), MESSAGE_LIMIT),
        })?;
    let request = agent::with_proxy(agent, request, proxy);
    let response = agent.run(request).map_err(|err| {
        if interrupt::interrupted() {
            return TransportError::Interrupted;
        }
        let chain = super::error_chain(&err);
        TransportError::Unreachable {
            url: shown(url),
            failure: error::classify(url, &err, &chain),
            detail: displayable(&agent::describe(url, &chain), MESSAGE_LIMIT),
        }
    })?;
    Ok((response, token.is_some()))
}

/// A URL for messages: no query, no userinfo.
fn shown(url: &str) -> String {
    crate::auth::redact(url.split(['?', '#']).next().unwrap_or(url))
}

/// `text` made displayable ([`crate::sanitize::line`]) with every token lent on this thread
/// masked, in any encoding: the same redactor as the REST path's.
fn displayable(text: &str, limit: usize) -> String {
    TOKENS.with(|tokens| {
        let tokens = tokens.borrow();
        let redactor = Redactor::for_tokens(tokens.iter().map(|(_, token)| token));
        crate::sanitize::line(text, &redactor, limit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_lent_only_to_its_origin_and_only_while_the_guard_lives() {
        {
            let origin = Origin::of("http://127.0.0.1:8080/datasets/a/b");
            let _session = Session::begin(origin.as_ref(), Some(&Token::new("hf_secret0000")));
            assert!(token_for("http://127.0.0.1:8080/datasets/a/b/info/refs").is_some());
            assert!(token_for("http://127.0.0.1:8081/datasets/a/b").is_none());
            assert!(token_for("https://127.0.0.1:8080/datasets/a/b").is_none());
            assert!(token_for("http://127.0.0.1:8080@evil/x").is_none());
            // A backslash ends the authority: the host is `evil`, not the lent origin.
            assert!(token_for("http://evil\\@127.0.0.1:8080/x").is_none());
            // Another thread sees nothing.
            std::thread::spawn(|| assert!(token_for("http://127.0.0.1:8080/x").is_none()))
                .join()
                .unwrap();
            let basic = base64::engine::general_purpose::STANDARD.encode("hf_user:hf_secret0000");
            let text = displayable(
                &format!("remote: Basic {basic} and hf_secret0000"),
                MESSAGE_LIMIT,
            );
            assert!(
                !text.contains(&basic) && !text.contains("secret0000"),
                "{text}"
            );
        }
        assert!(token_for("http://127.0.0.1:8080/datasets/a/b").is_none());
        let _none = Session::begin(
            Origin::of("http://127.0.0.1:8080/x").as_ref(),
            Some(&Token::new("")),
        );
        assert!(token_for("http://127.0.0.1:8080/x").is_none());
    }
}
