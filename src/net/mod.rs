//! One HTTP client for everything: REST, the LFS batch API, storage transfers and git smart
//! HTTP all go through agents built here, so one place decides
//!
//! - where the token goes: only to the origin (scheme, host, port) it was given for
//!   ([`Origin`]; `Bearer` for REST/LFS in `hub::http`, `Basic hf_user:TOKEN` for git in
//!   [`git`]);
//! - redirects ([`redirect`]): followed within the origin, refused across origins when the
//!   request carried the token (the error names both hosts, nothing is sent to the other one);
//! - timeouts ([`agent`]): connect, and the progress window of [`watchdog`] under every
//!   connection, and Ctrl-C shutting an agent down;
//! - trust ([`tls`]): the platform's roots plus `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE` /
//!   `CURL_CA_BUNDLE`, and a clear error for an untrusted certificate;
//! - proxies ([`proxy`]): `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (either case),
//!   per request, with the proxy's credentials redacted.
//!
//! Nothing here prints.

pub mod agent;
pub mod git;
mod origin;
pub mod proxy;
pub mod tls;
pub mod watchdog;

pub use origin::{Hop, MAX_REDIRECTS, Origin, Redirect, Unfollowed, follow, redirect, same_origin};

/// The `Location` of a redirect answer (301, 302, 303, 307, 308; empty when it has none),
/// `None` for any other answer.
pub fn redirect_location<B>(response: &ureq::http::Response<B>) -> Option<String> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get("location");
    Some(
        location
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    )
}

/// An error and its causes on one line, as `anyhow`'s `{:#}` prints them.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
