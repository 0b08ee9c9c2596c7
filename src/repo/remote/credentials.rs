//! The token's only way into libgit2 (the credentials callback), and the redaction of every text
//! libgit2 or the server hands back.

use std::cell::Cell;

use git2::{Cred, CredentialType, ErrorClass, ErrorCode, RemoteCallbacks};

/// The Basic-auth user name sent with the token; the Hub ignores it, and huggingface_hub stores
/// git credentials under this name (hub-protocol §1.2).
pub const USERNAME: &str = "hf_user";

/// Answers libgit2's credential requests for one operation (one connection), and remembers what
/// happened so a failure can be explained.
pub struct Credentials<'a> {
    token: Option<&'a str>,
    /// `OWNER/NAME` (or the redacted URL), for messages.
    repo: String,
    asked: Cell<u32>,
}

impl<'a> Credentials<'a> {
    pub fn new(token: Option<&'a str>, repo: impl Into<String>) -> Credentials<'a> {
        Credentials {
            token: token.filter(|token| !token.is_empty()),
            repo: repo.into(),
            asked: Cell::new(0),
        }
    }

    /// The repository shown in messages.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The token, for redacting texts.
    pub(super) fn token(&self) -> Option<&str> {
        self.token
    }

    /// Callbacks with the credentials callback installed. libgit2 calls it on each HTTP 401; the
    /// token is offered once, and a second call means the server refused it: answering with an
    /// error stops libgit2 at once instead of replaying the same token up to its replay limit.
    pub fn callbacks<'s>(&'s self) -> RemoteCallbacks<'s> {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |_url, _username, allowed| {
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
            Cred::userpass_plaintext(USERNAME, token)
        });
        callbacks
    }

    /// Whether libgit2 asked for credentials at all.
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

    pub(super) fn token_needed(&self) -> String {
        format!(
            "this repository needs a token: {} is private or gated, or does not exist; set \
             HF_TOKEN to a token that can access it",
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

    /// [`redact`] with this operation's token.
    pub fn redact(&self, text: &str) -> String {
        redact(text, self.token)
    }
}

/// What is left of `text` once secrets are masked: the `token` itself, then whatever
/// [`crate::auth::redact`] masks (`hf_…` tokens, URL user-info, `Authorization` values).
pub fn redact(text: &str, token: Option<&str>) -> String {
    match token.filter(|token| !token.is_empty()) {
        Some(token) => crate::auth::redact(&text.replace(token, "***")),
        None => crate::auth::redact(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_token_hf_tokens_and_url_userinfo() {
        let token = "hf_abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(
            redact(&format!("bad token {token}."), Some(token)),
            "bad token ***."
        );
        // A token that does not look like one is still masked.
        assert_eq!(
            redact("sent s3cr3t-value", Some("s3cr3t-value")),
            "sent ***"
        );
        assert_eq!(
            redact("Bearer hf_AbCdEf0123456789 sent", None),
            "Bearer *** sent"
        );
        assert_eq!(
            redact(
                "fatal: https://x:hf_secret00@hub.local:8/datasets/a/b failed",
                None
            ),
            "fatal: https://***@hub.local:8/datasets/a/b failed"
        );
        assert_eq!(redact("hf_hub_download", None), "hf_hub_download");
    }

    #[test]
    fn credentials_are_offered_once() {
        let credentials = Credentials::new(Some("hf_token0123456789"), "alice/data");
        assert!(!credentials.was_asked());
        assert!(!credentials.token_refused());
        assert!(credentials.auth_failed().contains("alice/data"));
        assert!(!credentials.auth_failed().contains("hf_token"));
        let anonymous = Credentials::new(Some(""), "alice/data");
        assert!(anonymous.token().is_none());
    }
}
