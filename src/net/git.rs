//! git smart HTTP (protocol v0/v1, stateless RPC) over the same kind of ureq agent as REST
//! and LFS: a libgit2 custom transport for `http://` and `https://` remotes, registered once
//! ([`register`]), so libgit2 itself never opens a socket, resolves a proxy or verifies a
//! certificate.
//!
//! The token: the factory is process-global, so an operation hands its token over with
//! [`authorize`] for the remote's origin, on its own thread and for its duration (libgit2 runs
//! the transport on the calling thread). A request gets `Authorization: Basic
//! base64(hf_user:TOKEN)` only when its URL has exactly that origin (sent up front: no 401
//! round trip); a redirect to another origin is refused before anything is sent there.
//!
//! What the server sends is bounded before libgit2 keeps it: a ref advertisement holds at most
//! [`MAX_ADVERTISED_REFS`] refs in [`MAX_ADVERTISEMENT_BYTES`], and a malformed pkt-line or an
//! error line in it or in receive-pack's answer is named ([`PktLines`]); [`take_refusal`]
//! tells `repo::remote` why the transport stopped. Every message
//! is made displayable by [`crate::sanitize`] with the lent tokens masked.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use git2::{ErrorClass, ErrorCode};
use ureq::Agent;
use ureq::http::{self, HeaderValue, Response};

use super::agent::{self, CONNECT_TIMEOUT, Timeouts};
use super::{Origin, Redirect};
use crate::auth::{Redactor, Token};
use crate::hub::watchdog::InterruptWatcher;
use crate::interrupt;

/// The Basic-auth user name sent with the token (hub-protocol §1.2).
pub const USERNAME: &str = "hf_user";
/// The progress window of git requests: longer than REST's, as receive-pack may think a while
/// (index-pack, hooks) between the last byte of a pack and its answer.
pub const PROGRESS_TIMEOUT: Duration = Duration::from_secs(30);
/// Redirects followed per request, within the origin.
const MAX_REDIRECTS: u32 = 5;
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
    static TOKENS: RefCell<Vec<(Origin, Token)>> = const { RefCell::new(Vec::new()) };
    /// Why the transport stopped reading an answer, for [`take_refusal`].
    static REFUSAL: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The last bytes read from a git answer, for [`last_bytes`].
    static TAIL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Why the transport refused what the server sent during the last operation of this thread
/// (a bound exceeded, a malformed pkt-line), already displayable; taken once.
pub fn take_refusal() -> Option<String> {
    REFUSAL.with(|refusal| refusal.borrow_mut().take())
}

/// The last bytes the server sent on this thread (at most 32), to say what it sent when
/// libgit2 stops without a reason.
pub fn last_bytes() -> Vec<u8> {
    TAIL.with(|tail| tail.borrow().clone())
}

/// Records why the transport stops and returns the error for libgit2.
fn refuse(message: String) -> io::Error {
    let message = displayable(&message, MESSAGE_LIMIT);
    REFUSAL.with(|refusal| *refusal.borrow_mut() = Some(message.clone()));
    io::Error::other(message)
}

/// While alive, git requests of this thread to `url`'s origin carry the token.
#[must_use]
pub struct Authorized {
    origin: Option<Origin>,
}

/// Lends `token` to git requests to the origin of `url` (the remote), on this thread, until the
/// guard is dropped. No token, or a URL without an http(s) origin, lends nothing.
pub fn authorize(url: &str, token: Option<&str>) -> Authorized {
    REFUSAL.with(|refusal| *refusal.borrow_mut() = None);
    TAIL.with(|tail| tail.borrow_mut().clear());
    let origin = match (Origin::of(url), token.filter(|t| !t.is_empty())) {
        (Some(origin), Some(token)) => {
            TOKENS.with(|tokens| {
                tokens
                    .borrow_mut()
                    .push((origin.clone(), Token::new(token)))
            });
            Some(origin)
        }
        _ => None,
    };
    Authorized { origin }
}

impl Drop for Authorized {
    fn drop(&mut self) {
        if let Some(origin) = &self.origin {
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

/// Registers the transport for `http` and `https` (once per process; before the first remote
/// operation).
pub fn register() {
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
            .map_err(Failure::into_git)?;
            let expected = format!("application/x-{service}-advertisement");
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type.starts_with(&expected) {
                return Err(Failure::new(
                    ErrorCode::GenericError,
                    ErrorClass::Invalid,
                    format!(
                        "{} is not a git smart HTTP server (answered {} instead of {expected})",
                        shown(&url),
                        if content_type.is_empty() {
                            "no content type"
                        } else {
                            content_type
                        }
                    ),
                )
                .into_git());
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
            .map_err(|failure| io::Error::other(failure.message))?;
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
                return io::Error::other(interrupt::Interrupted.to_string());
            }
            io::Error::other(displayable(
                &format!(
                    "reading the answer of {}: {}",
                    shown(&self.url),
                    agent::describe(&self.url, &err.to_string())
                ),
                MESSAGE_LIMIT,
            ))
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

/// A git answer made of pkt-lines, read through while they are checked: a ref advertisement
/// (the answer of `info/refs`) holds at most [`MAX_ADVERTISED_REFS`] refs in
/// [`MAX_ADVERTISEMENT_BYTES`]; receive-pack's answer is side-band framed, and a band-3 (fatal)
/// message ends it. A length that is not one, or an `ERR` line, stops the read with a message
/// saying so (libgit2 gives none for the first, and cuts the second at its first NUL, calling
/// both network errors), before libgit2 has kept anything.
struct PktLines<R> {
    inner: R,
    /// What the answer is, for messages.
    what: &'static str,
    /// Bounds for an advertisement.
    bounded: bool,
    /// Whether payloads start with a side-band number.
    sideband: bool,
    bytes: u64,
    /// pkt-lines with a payload.
    lines: u64,
    /// The length digits of the next pkt-line read so far.
    header: Vec<u8>,
    /// Payload bytes of the current pkt-line still to come.
    remaining: usize,
    /// The payload of the current pkt-line while it may be an error (at most one pkt-line,
    /// < 64 KiB).
    payload: Vec<u8>,
}

impl<R> PktLines<R> {
    fn advertisement(inner: R) -> PktLines<R> {
        PktLines::new(inner, "ref advertisement", true, false)
    }

    fn push_result(inner: R) -> PktLines<R> {
        PktLines::new(inner, "answer to the push", false, true)
    }

    fn new(inner: R, what: &'static str, bounded: bool, sideband: bool) -> PktLines<R> {
        PktLines {
            inner,
            what,
            bounded,
            sideband,
            bytes: 0,
            lines: 0,
            header: Vec::with_capacity(4),
            remaining: 0,
            payload: Vec::new(),
        }
    }

    /// The server's error text when the current payload is one: `ERR …`, or side-band 3.
    fn error_text(&self) -> Option<&[u8]> {
        match self.payload.strip_prefix(b"ERR ") {
            Some(text) => Some(text),
            None if self.sideband => self.payload.strip_prefix(&[3u8][..]),
            None => None,
        }
    }

    /// Checks `data`, the bytes read after the first `self.bytes`.
    fn scan(&mut self, mut data: &[u8]) -> io::Result<()> {
        let read = data.len();
        while !data.is_empty() {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len());
                if self.payload.len() < 4 || self.error_text().is_some() {
                    self.payload.extend_from_slice(&data[..take]);
                }
                self.remaining -= take;
                data = &data[take..];
                if self.remaining == 0
                    && let Some(text) = self.error_text()
                {
                    return Err(refuse(format!(
                        "the server says: {}",
                        String::from_utf8_lossy(text)
                    )));
                }
                continue;
            }
            self.header.push(data[0]);
            data = &data[1..];
            if self.header.len() < 4 {
                continue;
            }
            let header = std::mem::take(&mut self.header);
            self.payload.clear();
            let length = std::str::from_utf8(&header)
                .ok()
                .filter(|_| header.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| usize::from_str_radix(hex, 16).ok());
            match length {
                Some(0) => {}
                Some(length @ 4..) => {
                    self.remaining = length - 4;
                    self.lines += 1;
                    // The `# service=` line is not a ref.
                    if self.bounded && self.lines > MAX_ADVERTISED_REFS + 1 {
                        return Err(refuse(format!(
                            "the server advertised more than {MAX_ADVERTISED_REFS} refs; \
                             hf-relay reads at most that many"
                        )));
                    }
                }
                _ => {
                    return Err(refuse(format!(
                        "the server sent an invalid pkt-line in its {}: length \"{}\" at byte {}",
                        self.what,
                        String::from_utf8_lossy(&header),
                        (self.bytes + (read - data.len()) as u64).saturating_sub(4)
                    )));
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for PktLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n])?;
        self.bytes += n as u64;
        if self.bounded && self.bytes > MAX_ADVERTISEMENT_BYTES {
            return Err(refuse(format!(
                "the server's ref advertisement is larger than {} MiB; hf-relay reads at most \
                 that much",
                MAX_ADVERTISEMENT_BYTES / (1024 * 1024)
            )));
        }
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

/// Why a git request failed: libgit2's code and class (so `repo::remote::explain` can tell a
/// refused token from a network failure), and a displayable message (sanitised, redacted).
struct Failure {
    code: ErrorCode,
    class: ErrorClass,
    message: String,
}

impl Failure {
    fn new(code: ErrorCode, class: ErrorClass, message: String) -> Failure {
        Failure {
            code,
            class,
            message: displayable(&message, MESSAGE_LIMIT),
        }
    }

    fn into_git(self) -> git2::Error {
        git2::Error::new(self.code, self.class, self.message)
    }
}

/// Sends `call`, following redirects within the origin; returns the final URL and the 2xx
/// answer.
fn execute(call: &Call<'_>) -> Result<(String, Response<ureq::Body>), Failure> {
    let agent = agent();
    let mut url = call.url.to_string();
    let mut redirects = 0;
    loop {
        interrupt::check().map_err(|err| {
            Failure::new(ErrorCode::GenericError, ErrorClass::Net, err.to_string())
        })?;
        // A bad CA bundle or proxy, like an untrusted certificate below, is not retried:
        // `ErrorClass::Invalid` is not a network class for `repo::remote::explain`.
        let proxy = agent::prepare(&url).map_err(|message| {
            Failure::new(ErrorCode::GenericError, ErrorClass::Invalid, message)
        })?;
        let mut builder = http::Request::builder()
            .method(if call.post { "POST" } else { "GET" })
            .uri(url.as_str())
            .header(
                "User-Agent",
                concat!("git/2.0 (hf-relay/", env!("CARGO_PKG_VERSION"), ")"),
            )
            .header("Accept", call.accept);
        if let Some(content_type) = call.content_type {
            builder = builder.header("Content-Type", content_type);
        }
        let token = token_for(&url);
        if let Some(token) = &token {
            let credential = base64::engine::general_purpose::STANDARD
                .encode(format!("{USERNAME}:{}", token.expose()));
            let mut value =
                HeaderValue::from_str(&format!("Basic {credential}")).map_err(|_| {
                    Failure::new(
                        ErrorCode::Auth,
                        ErrorClass::Http,
                        "the token contains characters not allowed in an HTTP header".to_string(),
                    )
                })?;
            value.set_sensitive(true);
            builder = builder.header("Authorization", value);
        }
        let request = builder.body(call.body).map_err(|err| {
            Failure::new(
                ErrorCode::GenericError,
                ErrorClass::Invalid,
                format!("invalid git request to {}: {err}", shown(&url)),
            )
        })?;
        let request = agent::with_proxy(agent, request, proxy);
        let response = agent.run(request).map_err(|err| {
            if interrupt::interrupted() {
                let message = interrupt::Interrupted.to_string();
                return Failure::new(ErrorCode::GenericError, ErrorClass::Net, message);
            }
            let chain = crate::hub::error_chain(&err);
            let class = match super::tls::is_untrusted(&chain) {
                true => ErrorClass::Invalid,
                false => ErrorClass::Net,
            };
            let message = format!(
                "cannot reach {}: {}",
                shown(&url),
                agent::describe(&url, &chain)
            );
            Failure::new(ErrorCode::GenericError, class, message)
        })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => return Ok((url, response)),
            301 | 302 | 303 | 307 | 308 => {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                redirects += 1;
                match super::redirect(&url, &location, token.is_some()) {
                    Redirect::Follow { url: next, .. } if redirects <= MAX_REDIRECTS => {
                        url = next;
                    }
                    Redirect::Follow { .. } => {
                        return Err(Failure::new(
                            ErrorCode::GenericError,
                            ErrorClass::Invalid,
                            format!(
                                "{} redirected more than {MAX_REDIRECTS} times",
                                shown(call.url)
                            ),
                        ));
                    }
                    Redirect::CrossOrigin { from, to } => {
                        return Err(Failure::new(
                            ErrorCode::GenericError,
                            ErrorClass::Invalid,
                            // libgit2's own wording for a refused redirect, which
                            // `repo::remote` turns into `RemoteError::Redirected`.
                            format!("cannot redirect from '{from}' to '{to}'"),
                        ));
                    }
                    Redirect::Invalid => {
                        return Err(Failure::new(
                            ErrorCode::GenericError,
                            ErrorClass::Invalid,
                            format!(
                                "{} answered HTTP {status} without a usable Location",
                                shown(&url)
                            ),
                        ));
                    }
                }
            }
            401 => {
                let message = if token.is_some() {
                    format!(
                        "unexpected http status code: 401 from {}: the token was refused",
                        shown(&url)
                    )
                } else {
                    format!(
                        "unexpected http status code: 401 from {}: a token is needed",
                        shown(&url)
                    )
                };
                return Err(Failure::new(ErrorCode::Auth, ErrorClass::Http, message));
            }
            _ => {
                let mut text = Vec::new();
                let _ = response
                    .into_body()
                    .into_reader()
                    .take(ERROR_BODY_LIMIT)
                    .read_to_end(&mut text);
                let detail =
                    displayable(&String::from_utf8_lossy(&text), crate::sanitize::LINE_LIMIT);
                return Err(Failure::new(
                    ErrorCode::GenericError,
                    ErrorClass::Http,
                    format!(
                        "unexpected http status code: {status} from {}{}",
                        shown(&url),
                        if detail.is_empty() || detail.starts_with('<') {
                            String::new()
                        } else {
                            format!(": {detail}")
                        }
                    ),
                ));
            }
        }
    }
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

    /// Two servers on loopback: A answers every `/cross/…` with a redirect to B (another port,
    /// so another origin), every `/same/…` with a redirect to `/moved/…` on itself, and
    /// `/moved/…` with 401; B answers 401 asking for Basic credentials. Each request is logged
    /// as `SERVER PATH AUTHORIZATION-PRESENT`.
    const REDIRECTING: &str = r#"
import http.server, sys, threading
log = sys.argv[1]
def note(name, handler):
    with open(log, "a") as f:
        f.write("%s %s %s\n" % (name, handler.path, handler.headers.get("Authorization") is not None))
def deny(handler):
    handler.send_response(401)
    handler.send_header("WWW-Authenticate", 'Basic realm="x"')
    handler.send_header("Content-Length", "0")
    handler.end_headers()
class B(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        note("B", self); deny(self)
    def log_message(self, *a): pass
b = http.server.ThreadingHTTPServer(("127.0.0.1", 0), B)
class A(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        note("A", self)
        if self.path.startswith("/cross/"):
            location = "http://127.0.0.1:%d%s" % (b.server_address[1], self.path)
        elif self.path.startswith("/same/"):
            location = self.path.replace("/same/", "/moved/", 1)
        else:
            return deny(self)
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
a = http.server.ThreadingHTTPServer(("127.0.0.1", 0), A)
threading.Thread(target=b.serve_forever, daemon=True).start()
print(a.server_address[1], flush=True)
a.serve_forever()
"#;

    #[test]
    fn git_redirects_are_followed_with_the_token_within_the_origin_and_refused_across() {
        use std::io::BufRead as _;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.log");
        let mut child = std::process::Command::new("python3")
            .arg("-c")
            .arg(REDIRECTING)
            .arg(&log)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        let base = format!("http://127.0.0.1:{}", port.trim());
        let token = &crate::auth::Token::new("hf_redirectsecret000000000000000");

        let cross = crate::repo::remote::clone_from(
            &format!("{base}/cross/datasets/a/b"),
            &dir.path().join("cross"),
            Some(token),
        )
        .err()
        .expect("the clone fails");
        let message = format!("{cross:#}");
        let requests = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::write(&log, "").unwrap();
        let same = crate::repo::remote::clone_from(
            &format!("{base}/same/datasets/a/b"),
            &dir.path().join("same"),
            Some(token),
        )
        .err()
        .expect("the clone fails");
        let same_requests = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = child.kill();
        let _ = child.wait();

        assert!(
            message.contains("another origin") && message.contains(&base),
            "{message}"
        );
        assert!(!message.contains(token.expose()), "{message}");
        assert!(
            !requests.lines().any(|line| line.starts_with("B ")),
            "the other origin was contacted: {requests}"
        );
        assert_eq!(
            same_requests.lines().collect::<Vec<_>>(),
            [
                "A /same/datasets/a/b/info/refs?service=git-upload-pack True",
                "A /moved/datasets/a/b/info/refs?service=git-upload-pack True",
            ],
            "{same:#}"
        );
        assert!(!dir.path().join("cross").exists() && !dir.path().join("same").exists());
    }

    fn pkt(payload: &[u8]) -> Vec<u8> {
        let mut line = format!("{:04x}", payload.len() + 4).into_bytes();
        line.extend_from_slice(payload);
        line
    }

    /// Reads `answer` through `lines` to the end: the error message, if any.
    fn read_through(mut lines: PktLines<std::io::Cursor<Vec<u8>>>) -> Option<String> {
        let mut sink = Vec::new();
        lines
            .read_to_end(&mut sink)
            .err()
            .map(|err| err.to_string())
    }

    #[test]
    fn pkt_lines_are_bounded_and_errors_named() {
        let service = pkt(b"# service=git-upload-pack\n");
        let advert = |body: Vec<u8>| {
            let mut answer = service.clone();
            answer.extend_from_slice(b"0000");
            answer.extend(body);
            PktLines::advertisement(std::io::Cursor::new(answer))
        };
        let oid = "1".repeat(40);
        let refs = |n: u64, name_len: usize| -> Vec<u8> {
            let name = "x".repeat(name_len);
            let mut body: Vec<u8> = (0..n)
                .flat_map(|i| pkt(format!("{oid} refs/tags/{name}{i}\n").as_bytes()))
                .collect();
            body.extend_from_slice(b"0000");
            body
        };
        assert_eq!(read_through(advert(refs(MAX_ADVERTISED_REFS, 0))), None);
        let message = read_through(advert(refs(MAX_ADVERTISED_REFS + 1, 0))).unwrap();
        assert!(message.contains("more than 100000 refs"), "{message}");
        // 600 refs of 64 KiB: over 32 MiB.
        let message = read_through(advert(refs(600, 65_000))).unwrap();
        assert!(message.contains("larger than 32 MiB"), "{message}");
        let message = read_through(advert(b"0003".to_vec())).unwrap();
        assert!(message.contains(r#"length "0003" at byte 34"#), "{message}");
        let message = read_through(advert(b"zz10".to_vec())).unwrap();
        assert!(message.contains(r#"length "zz10""#), "{message}");
        let message = read_through(advert(pkt(b"ERR no\0pe \x1b[2Jhere"))).unwrap();
        assert_eq!(message, "the server says: no?pe ?here");

        let push = |body: Vec<u8>| PktLines::push_result(std::io::Cursor::new(body));
        let mut report = pkt(b"\x02progress\r");
        report.extend(pkt(
            &[b"\x01".as_slice(), &pkt(b"unpack ok\n"), b"0000"].concat()
        ));
        report.extend_from_slice(b"0000");
        assert_eq!(read_through(push(report)), None);
        let message = read_through(push(pkt(b"\x03fatal\x07 end"))).unwrap();
        assert_eq!(message, "the server says: fatal? end");
        assert!(take_refusal().is_some() && take_refusal().is_none());
    }

    #[test]
    fn a_token_is_lent_only_to_its_origin_and_only_while_the_guard_lives() {
        {
            let _auth = authorize("http://127.0.0.1:8080/datasets/a/b", Some("hf_secret0000"));
            assert!(token_for("http://127.0.0.1:8080/datasets/a/b/info/refs").is_some());
            assert!(token_for("http://127.0.0.1:8081/datasets/a/b").is_none());
            assert!(token_for("https://127.0.0.1:8080/datasets/a/b").is_none());
            assert!(token_for("http://127.0.0.1:8080@evil/x").is_none());
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
        let _none = authorize("http://127.0.0.1:8080/x", Some(""));
        assert!(token_for("http://127.0.0.1:8080/x").is_none());
    }
}
