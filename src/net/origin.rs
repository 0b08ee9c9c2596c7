//! The one origin type and the one redirect rule of every request (REST, LFS, storage and git):
//! a URL is parsed once, with the `url` crate (WHATWG parsing, as browsers and curl see the
//! host), into the [`Origin`] a token is bound to; a redirect is followed within it and, with
//! the token, never out of it ([`follow`]).

use std::fmt;

/// `scheme://host:port` of a URL, lowercased, with the default port filled in: what a
/// credential is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    /// The host: a lower-case name, or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// `None` for anything but an absolute `http`/`https` URL with a host.
    pub fn of(url: &str) -> Option<Origin> {
        let parsed = url::Url::parse(url.trim()).ok()?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return None;
        }
        let host = match parsed.host()? {
            url::Host::Domain(name) if !name.is_empty() => name.to_ascii_lowercase(),
            url::Host::Domain(_) => return None,
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
        };
        Some(Origin {
            scheme: parsed.scheme().to_string(),
            host,
            port: parsed.port_or_known_default()?,
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

/// Whether a credential for `credential_url`'s origin may go to `url`.
pub fn same_origin(credential_url: &str, url: &str) -> bool {
    match (Origin::of(credential_url), Origin::of(url)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Redirects followed per request, within the origin.
pub const MAX_REDIRECTS: u32 = 5;

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

/// `location` made absolute against `base`. An absolute location is kept as the server wrote
/// it (a presigned URL's signature covers its exact query).
fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.is_empty() {
        return None;
    }
    if location.contains("://") {
        return Some(location.to_string());
    }
    url::Url::parse(base)
        .ok()?
        .join(location)
        .ok()
        .map(String::from)
}

/// One answer of a request sent by [`follow`].
pub enum Hop<T> {
    /// The answer to keep: not a redirect, or one that must not be followed (a request whose
    /// body cannot be sent again).
    Answer(T),
    /// A redirect: its `Location` (empty when missing) and whether the request carried a
    /// credential.
    Redirect {
        answer: T,
        location: String,
        carried_token: bool,
    },
}

/// Why [`follow`] stopped at a redirect.
pub enum Unfollowed<T> {
    /// More than [`MAX_REDIRECTS`].
    TooMany { answer: T, carried_token: bool },
    /// It leaves the origin of a request that carried the token: nothing is sent there.
    CrossOrigin { from: String, to: String },
    /// No usable `Location`.
    Invalid { answer: T, carried_token: bool },
}

/// The one redirect loop: sends to `start`, follows redirects by [`redirect`]'s rule (at most
/// [`MAX_REDIRECTS`]), and returns the final URL with its answer. `discard` gets each redirect
/// answer that is followed (to drain it); `stop` turns one that is not into the caller's error,
/// given the URL that answered it.
pub fn follow<T, E>(
    start: &str,
    mut send: impl FnMut(&str) -> Result<Hop<T>, E>,
    mut discard: impl FnMut(T),
    stop: impl FnOnce(&str, Unfollowed<T>) -> E,
) -> Result<(String, T), E> {
    let mut url = start.to_string();
    let mut redirects = 0;
    loop {
        let (answer, location, carried_token) = match send(&url)? {
            Hop::Answer(answer) => return Ok((url, answer)),
            Hop::Redirect {
                answer,
                location,
                carried_token,
            } => (answer, location, carried_token),
        };
        redirects += 1;
        let unfollowed = match redirect(&url, &location, carried_token) {
            Redirect::Follow { url: next, .. } if redirects <= MAX_REDIRECTS => {
                discard(answer);
                url = next;
                continue;
            }
            Redirect::Follow { .. } => Unfollowed::TooMany {
                answer,
                carried_token,
            },
            Redirect::CrossOrigin { from, to } => Unfollowed::CrossOrigin { from, to },
            Redirect::Invalid => Unfollowed::Invalid {
                answer,
                carried_token,
            },
        };
        return Err(stop(&url, unfollowed));
    }
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
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            Origin::of("https://HuggingFace.co:443/x"),
            Origin::of("https://huggingface.co/datasets/a/b/info/refs?service=git-upload-pack")
        );
        assert_eq!(
            Origin::of("http://user:pw@127.0.0.1:8080/x"),
            Origin::of("http://127.0.0.1:8080/")
        );
        assert_ne!(
            Origin::of("http://127.0.0.1:1/"),
            Origin::of("http://127.0.0.1:2/")
        );
        assert_ne!(Origin::of("http://hub/"), Origin::of("https://hub/"));
        assert_ne!(Origin::of("http://hub/"), Origin::of("http://hub.evil/"));
        assert_eq!(Origin::of("not a url"), None);
        assert_eq!(Origin::of("http://host:port/"), None);
        // Where a client connects: a backslash ends the authority, as in browsers and curl.
        assert_eq!(
            Origin::of("http://evil.example\\@127.0.0.1:8080/x")
                .unwrap()
                .host_label(),
            "evil.example"
        );
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
        assert_eq!(redirect("http://h/a", "  ", false), Redirect::Invalid);
    }

    #[test]
    fn the_redirect_loop_stops_after_five_and_at_another_origin() {
        let mut sent = Vec::new();
        let endless = follow(
            "http://h/0",
            |url| -> Result<Hop<()>, String> {
                sent.push(url.to_string());
                Ok(Hop::Redirect {
                    answer: (),
                    location: format!("/{}", sent.len()),
                    carried_token: true,
                })
            },
            |()| {},
            |url, unfollowed| match unfollowed {
                Unfollowed::TooMany { .. } => format!("too many at {url}"),
                _ => "other".to_string(),
            },
        );
        assert_eq!(endless, Err("too many at http://h/5".to_string()));
        assert_eq!(sent.len(), 6);
        let crossing = follow(
            "http://h/0",
            |_| -> Result<Hop<()>, String> {
                Ok(Hop::Redirect {
                    answer: (),
                    location: "http://evil/x".to_string(),
                    carried_token: true,
                })
            },
            |()| {},
            |_, unfollowed| match unfollowed {
                Unfollowed::CrossOrigin { from, to } => format!("{from} -> {to}"),
                _ => "other".to_string(),
            },
        );
        assert_eq!(crossing, Err("http://h -> http://evil".to_string()));
    }
}
