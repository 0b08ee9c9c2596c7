//! The token's only way into libgit2 (the credentials callback), the origin it may go to, and
//! the display of every text libgit2 or the server hands back (through [`crate::sanitize`]).
//!
//! Redirects: libgit2 is told not to follow a redirect to another host at all
//! (`RemoteRedirect::None`; see [`super::redirect_policy`]), and this callback hands the token
//! only to the origin (scheme, host, port) of the remote URL. libgit2 compares host names only,
//! so a redirect to another port of the same host is still followed: when that server asks for
//! credentials, it gets none, and the operation stops with [`super::RemoteError::Redirected`].

use std::cell::{Cell, RefCell};

use git2::{Cred, CredentialType, ErrorClass, ErrorCode, RemoteCallbacks};

use crate::auth::{Redactor, Token};

/// The Basic-auth user name sent with the token (hub-protocol §1.2).
pub use crate::auth::GIT_USERNAME as USERNAME;

/// Answers libgit2's credential requests for one operation (one connection), and remembers what
/// happened so a failure can be explained.
pub struct Credentials<'a> {
    token: Option<&'a Token>,
    redactor: Redactor,
    /// `OWNER/NAME` (or the redacted URL), for messages.
    repo: String,
    /// Where the token may go: the origin of the remote URL (`None` if it has none we can read,
    /// in which case the token goes nowhere).
    origin: Option<Origin>,
    asked: Cell<u32>,
    /// The origin of a server that asked for credentials and was not the remote's.
    foreign: RefCell<Option<Origin>>,
}

impl<'a> Credentials<'a> {
    /// Credentials for talking to `url` (the remote's URL, as configured).
    pub fn new(token: Option<&'a Token>, repo: impl Into<String>, url: &str) -> Credentials<'a> {
        let token = token.filter(|token| !token.expose().is_empty());
        Credentials {
            token,
            redactor: Redactor::new(token),
            repo: repo.into(),
            origin: Origin::of(url),
            asked: Cell::new(0),
            foreign: RefCell::new(None),
        }
    }

    /// The repository shown in messages.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// Whether there is a token to offer.
    pub(super) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Callbacks with the credentials callback installed. libgit2 calls it on each HTTP 401; the
    /// token is offered once, only to the remote's origin, and a second call means the server
    /// refused it: answering with an error stops libgit2 at once instead of replaying the same
    /// token up to its replay limit.
    pub fn callbacks<'s>(&'s self) -> RemoteCallbacks<'s> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |url, _username, allowed| {
            if let Some(asker) = Origin::of(url)
                && self.origin.as_ref() != Some(&asker)
            {
                let message = self.redirected_message(&asker);
                *self.foreign.borrow_mut() = Some(asker);
                return Err(git2::Error::new(ErrorCode::Auth, ErrorClass::Http, message));
            }
            let asked = self.asked.get() + 1;
            self.asked.set(asked);
            let Some(token) = self.token else {
                return Err(git2::Error::new(
                    ErrorCode::Auth,
                    ErrorClass::Http,
                    self.token_needed(),
                ));
            };
            if asked > 1 {
                return Err(git2::Error::new(
                    ErrorCode::Auth,
                    ErrorClass::Http,
                    self.auth_failed(),
                ));
            }
            if !allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                return Err(git2::Error::new(
                    ErrorCode::Auth,
                    ErrorClass::Http,
                    "the server asked for an authentication method other than a token \
                     (HTTP Basic); hf-relay only talks to the Hub over HTTPS",
                ));
            }
            // The one place the secret is handed to libgit2.
            Cred::userpass_plaintext(USERNAME, token.expose())
        });
        callbacks
    }

    /// Whether libgit2 asked the remote's origin for credentials at all.
    pub fn was_asked(&self) -> bool {
        self.asked.get() > 0
    }

    /// Whether the server refused the token (it asked again after getting it).
    pub fn token_refused(&self) -> bool {
        self.token.is_some() && self.asked.get() > 1
    }

    /// Whether the server asked for a token and there was none.
    pub fn token_missing(&self) -> bool {
        self.token.is_none() && self.asked.get() > 0
    }

    /// The remote's origin and the other one that asked for credentials, if one did.
    pub(super) fn foreign_asker(&self) -> Option<(String, String)> {
        let foreign = self.foreign.borrow();
        let asker = foreign.as_ref()?;
        Some((self.origin_label(), asker.to_string()))
    }

    /// The remote's origin, for messages.
    pub(super) fn origin_label(&self) -> String {
        match &self.origin {
            Some(origin) => origin.to_string(),
            None => "the remote".to_string(),
        }
    }

    fn redirected_message(&self, asker: &Origin) -> String {
        super::RemoteError::Redirected {
            repo: self.repo.clone(),
            from: self.origin_label(),
            to: asker.to_string(),
        }
        .to_string()
    }

    pub(super) fn token_needed(&self) -> String {
        format!(
            "this repository needs a token: {} is private or gated, or does not exist",
            self.repo
        )
    }

    pub(super) fn auth_failed(&self) -> String {
        format!(
            "authentication failed: the Hub refused the token (invalid, expired, or without \
             access to {})",
            self.repo
        )
    }

    /// Server text fit to show ([`crate::sanitize::line`]) with this operation's token masked.
    pub fn display(&self, text: &str) -> String {
        crate::sanitize::line(text, &self.redactor, crate::sanitize::LINE_LIMIT)
    }

    /// Whether `fragment` is a piece of the token (never shown, even cut short).
    pub(super) fn is_in_token(&self, fragment: &str) -> bool {
        self.token
            .is_some_and(|token| !fragment.is_empty() && token.expose().contains(fragment))
    }
}

/// The origin of a URL: scheme, host and port (the scheme's default port when none is given),
/// lower-cased, without user-info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `None` for a URL without `scheme://host`, or with a port that is not a number.
    pub(super) fn of(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, after)| after);
        let (host, port) = match host_port.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']')?;
                (format!("[{host}]"), after.strip_prefix(':'))
            }
            None => match host_port.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (host_port.to_string(), None),
            },
        };
        if host.is_empty() {
            return None;
        }
        let port = match port.filter(|port| !port.is_empty()) {
            Some(port) => port.parse().ok()?,
            None => match scheme.as_str() {
                "http" => 80,
                "https" => 443,
                _ => 0,
            },
        };
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_token_hf_tokens_and_url_userinfo() {
        let token = Token::new("hf_abcdefghijklmnopqrstuvwxyz012345");
        let credentials = Credentials::new(Some(&token), "a/b", "https://hub.local/datasets/a/b");
        assert_eq!(
            credentials.display(&format!("bad token {}.", token.expose())),
            "bad token ***."
        );
        // A token that does not look like one is still masked.
        let plain = Token::new("s3cr3t-value");
        let credentials = Credentials::new(Some(&plain), "a/b", "https://hub.local/");
        assert_eq!(credentials.display("sent s3cr3t-value"), "sent ***");
        let anonymous = Credentials::new(None, "a/b", "https://hub.local/");
        assert_eq!(
            anonymous.display("Bearer hf_AbCdEf0123456789 sent"),
            "Bearer *** sent"
        );
        assert_eq!(
            anonymous.display("fatal: https://x:hf_secret00@hub.local:8/datasets/a/b failed"),
            "fatal: https://***@hub.local:8/datasets/a/b failed"
        );
        assert_eq!(anonymous.display("hf_hub_download"), "hf_hub_download");
    }

    #[test]
    fn credentials_are_offered_once() {
        let token = Token::new("hf_token0123456789");
        let credentials = Credentials::new(Some(&token), "alice/data", "https://hub.local/");
        assert!(!credentials.was_asked());
        assert!(!credentials.token_refused());
        assert!(credentials.auth_failed().contains("alice/data"));
        assert!(!credentials.auth_failed().contains("hf_token"));
        let empty = Token::new("");
        let anonymous = Credentials::new(Some(&empty), "alice/data", "https://hub.local/");
        assert!(!anonymous.has_token());
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let of = |url: &str| Origin::of(url).map(|origin| origin.to_string());
        assert_eq!(
            of("https://huggingface.co/datasets/a/b"),
            Some("https://huggingface.co:443".into())
        );
        assert_eq!(
            Origin::of("https://HuggingFace.co:443/x"),
            Origin::of("https://huggingface.co/datasets/a/b/info/refs?service=git-upload-pack")
        );
        assert_eq!(
            of("http://user:pw@127.0.0.1:8080/x"),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(of("http://[::1]:9/x"), Some("http://[::1]:9".into()));
        assert_ne!(
            Origin::of("http://127.0.0.1:1/"),
            Origin::of("http://127.0.0.1:2/")
        );
        assert_ne!(Origin::of("http://hub/"), Origin::of("https://hub/"));
        assert_ne!(Origin::of("http://hub/"), Origin::of("http://hub.evil/"));
        assert_eq!(of("not a url"), None);
        assert_eq!(of("http://host:port/"), None);
    }
}
