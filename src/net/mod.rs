//! One HTTP client for everything: REST, the LFS batch API, storage transfers and git smart
//! HTTP all go through agents built here, so one place decides
//!
//! - where the token goes: only to the origin (scheme, host, port) it was given for
//!   ([`Origin`]; `Bearer` for REST/LFS in `hub::http`, `Basic hf_user:TOKEN` for git in
//!   [`git`]);
//! - redirects ([`redirect`]): followed within the origin, refused across origins when the
//!   request carried the token (the error names both hosts, nothing is sent to the other one);
//! - timeouts ([`agent`]): connect, and the progress window of `hub::watchdog` under every
//!   connection;
//! - trust ([`tls`]): the platform's roots plus `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE` /
//!   `CURL_CA_BUNDLE`, and a clear error for an untrusted certificate;
//! - proxies ([`proxy`]): `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (either case),
//!   per request, with the proxy's credentials redacted.
//!
//! Nothing here prints.

pub mod agent;
pub mod git;
pub mod proxy;
pub mod tls;

use std::fmt;

/// `scheme://host:port` of a URL, lowercased, with the default port filled in: what a
/// credential is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// `None` for anything but an absolute `http`/`https` URL.
    pub fn of(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        let host_port = authority.rsplit('@').next()?;
        let (host, port) = split_host_port(host_port)?;
        let port = match port {
            Some(port) => port.parse().ok()?,
            None => default_port,
        };
        if host.is_empty() {
            return None;
        }
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// `host` or `host:port` when the port is not the scheme's default.
    pub fn host_label(&self) -> String {
        match (self.scheme.as_str(), self.port) {
            ("http", 80) | ("https", 443) => self.host.clone(),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host_label())
    }
}

/// `host[:port]` (IPv6 in brackets) → (host without brackets, port text).
fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((text, None)),
    }
}

/// Whether a credential for `credential_url`'s origin may go to `url`.
pub fn same_origin(credential_url: &str, url: &str) -> bool {
    match (Origin::of(credential_url), Origin::of(url)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// What to do with a redirect answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// Follow it to this absolute URL (with the token again when it is the same origin).
    Follow { url: String, same_origin: bool },
    /// Refused: it leaves the origin of a request that carried the token.
    CrossOrigin { from: String, to: String },
    /// No usable `Location`.
    Invalid,
}

/// The one redirect rule: within the origin, follow; to another origin, follow only when the
/// request carried no credential (a presigned storage URL), else refuse and name both hosts.
pub fn redirect(from_url: &str, location: &str, carried_token: bool) -> Redirect {
    let Some(target) = resolve(from_url, location) else {
        return Redirect::Invalid;
    };
    let (Some(from), Some(to)) = (Origin::of(from_url), Origin::of(&target)) else {
        return Redirect::Invalid;
    };
    if from == to {
        return Redirect::Follow {
            url: target,
            same_origin: true,
        };
    }
    if carried_token {
        return Redirect::CrossOrigin {
            from: from.to_string(),
            to: to.to_string(),
        };
    }
    Redirect::Follow {
        url: target,
        same_origin: false,
    }
}

/// `location` made absolute against `base` (absolute, `//host/…`, `/path`, or relative path).
fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.contains("://") {
        return Some(location.to_string());
    }
    let (scheme, rest) = base.split_once("://")?;
    if let Some(net_path) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{net_path}"));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = rest[authority_end..].split(['?', '#']).next().unwrap_or("");
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Some(format!("{scheme}://{authority}{dir}{location}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_fill_in_default_ports_and_ignore_userinfo() {
        let hub = Origin::of("https://HuggingFace.co/datasets/a/b").unwrap();
        assert_eq!(hub, Origin::of("https://huggingface.co:443/x").unwrap());
        assert_eq!(hub.to_string(), "https://huggingface.co");
        assert_ne!(hub, Origin::of("http://huggingface.co/x").unwrap());
        assert_ne!(hub, Origin::of("https://huggingface.co:8443/x").unwrap());
        assert_eq!(
            Origin::of("http://u:p@[::1]:8080/x").unwrap().to_string(),
            "http://::1:8080"
        );
        assert!(!same_origin(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080@evil.example/x"
        ));
        assert_eq!(Origin::of("file:///tmp/x"), None);
    }

    #[test]
    fn redirects_follow_within_the_origin_and_refuse_leaving_it_with_a_token() {
        assert_eq!(
            redirect("http://h:1/a/b/info/refs?s=x", "/c/info/refs?s=x", true),
            Redirect::Follow {
                url: "http://h:1/c/info/refs?s=x".to_string(),
                same_origin: true
            }
        );
        assert_eq!(
            redirect("http://h:1/a/b", "c", true),
            Redirect::Follow {
                url: "http://h:1/a/c".to_string(),
                same_origin: true
            }
        );
        assert_eq!(
            redirect("http://h:1/a", "http://evil:2/a", true),
            Redirect::CrossOrigin {
                from: "http://h:1".to_string(),
                to: "http://evil:2".to_string()
            }
        );
        assert!(matches!(
            redirect("https://s3/a?sig", "https://s3-eu/a?sig", false),
            Redirect::Follow {
                same_origin: false,
                ..
            }
        ));
        assert_eq!(
            redirect("http://h/a", "ftp://x/y", false),
            Redirect::Invalid
        );
    }
}
