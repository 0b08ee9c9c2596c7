//! Which proxy a request goes through: `HTTPS_PROXY` for `https` URLs, `HTTP_PROXY` for `http`
//! URLs, else `ALL_PROXY` (lower case first, as curl reads them), unless the host matches
//! `NO_PROXY`. Unlike ureq's own `Proxy::try_from_env` (one proxy whatever the scheme, host-only
//! NO_PROXY entries), the scheme picks the variable and NO_PROXY entries may carry a port. As
//! in curl, loopback hosts are proxied too unless NO_PROXY names them.

use std::sync::OnceLock;

use super::Origin;
use crate::env::{self, Env};

/// The proxy variables of the process, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    https: Option<String>,
    http: Option<String>,
    all: Option<String>,
    no_proxy: Vec<String>,
}

impl ProxySettings {
    pub fn from_env(vars: &dyn Env) -> ProxySettings {
        let pick = |names: [&str; 2]| {
            names
                .iter()
                .filter_map(|name| vars.var(name))
                .map(|value| value.trim().to_string())
                .find(|value| !value.is_empty())
        };
        ProxySettings {
            https: pick([env::HTTPS_PROXY_LOWER, env::HTTPS_PROXY]),
            http: pick([env::HTTP_PROXY_LOWER, env::HTTP_PROXY]),
            all: pick([env::ALL_PROXY_LOWER, env::ALL_PROXY]),
            no_proxy: pick([env::NO_PROXY_LOWER, env::NO_PROXY])
                .map(|list| {
                    list.split(',')
                        .map(|entry| entry.trim().to_ascii_lowercase())
                        .filter(|entry| !entry.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The proxy URL for `url`, `None` for a direct connection.
    pub fn for_url(&self, url: &str) -> Option<&str> {
        let origin = Origin::of(url)?;
        if self.bypasses(&origin) {
            return None;
        }
        let by_scheme = match origin.scheme.as_str() {
            "https" => self.https.as_deref(),
            _ => self.http.as_deref(),
        };
        by_scheme.or(self.all.as_deref())
    }

    /// curl's NO_PROXY: `*` matches all; `host`, `.host` and `*.host` match the host and its
    /// subdomains; `host:port` only that port; IPs match exactly.
    fn bypasses(&self, origin: &Origin) -> bool {
        self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            let (pattern, port) = match entry.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                    (host, port.parse::<u16>().ok())
                }
                _ => (entry.as_str(), None),
            };
            if port.is_some_and(|port| port != origin.port) {
                return false;
            }
            let pattern = pattern
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_start_matches('[')
                .trim_end_matches(']');
            !pattern.is_empty()
                && (origin.host == pattern || origin.host.ends_with(&format!(".{pattern}")))
        })
    }
}

fn settings() -> &'static ProxySettings {
    static SETTINGS: OnceLock<ProxySettings> = OnceLock::new();
    SETTINGS.get_or_init(|| ProxySettings::from_env(&env::ProcessEnv))
}

/// The ureq proxy for `url` from the process environment; an unusable proxy URL is an error
/// that names the variable's value without its credentials.
pub fn proxy_for(url: &str) -> Result<Option<ureq::Proxy>, String> {
    let Some(proxy) = settings().for_url(url) else {
        return Ok(None);
    };
    ureq::Proxy::new(proxy).map(Some).map_err(|err| {
        format!(
            "the proxy {} (from HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is not usable: {err}",
            shown(proxy)
        )
    })
}

/// The proxy in use for `url`, redacted, for messages ("through the proxy …").
pub fn shown_for(url: &str) -> Option<String> {
    settings().for_url(url).map(shown)
}

/// A proxy URL without its user and password.
pub fn shown(proxy: &str) -> String {
    let (scheme, rest) = match proxy.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), proxy),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}***@{host}"),
        None => format!("{scheme}{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> ProxySettings {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxySettings::from_env(&vars)
    }

    #[test]
    fn the_scheme_picks_the_variable_and_all_proxy_is_the_fallback() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://secure:1"),
            ("http_proxy", "http://plain:2"),
            ("ALL_PROXY", "http://any:3"),
        ]);
        assert_eq!(
            s.for_url("https://huggingface.co/x"),
            Some("http://secure:1")
        );
        assert_eq!(s.for_url("http://127.0.0.1:8080/x"), Some("http://plain:2"));
        let s = settings(&[("all_proxy", "http://any:3")]);
        assert_eq!(s.for_url("https://h/x"), Some("http://any:3"));
        assert_eq!(settings(&[]).for_url("https://h/x"), None);
        // Lower case wins, as in curl.
        let s = settings(&[
            ("https_proxy", "http://low:1"),
            ("HTTPS_PROXY", "http://up:1"),
        ]);
        assert_eq!(s.for_url("https://h/x"), Some("http://low:1"));
    }

    #[test]
    fn no_proxy_matches_hosts_domains_and_ports_and_loopback_is_proxied_otherwise() {
        let proxy = ("HTTPS_PROXY", "http://p:1");
        let http = ("HTTP_PROXY", "http://p:1");
        let direct = |no_proxy: &str, url: &str| {
            settings(&[proxy, http, ("NO_PROXY", no_proxy)])
                .for_url(url)
                .is_none()
        };
        assert!(!direct("", "http://127.0.0.1:8080/x"));
        assert!(direct("127.0.0.1", "http://127.0.0.1:8080/x"));
        assert!(direct(
            "localhost, 127.0.0.1:8080",
            "http://127.0.0.1:8080/x"
        ));
        assert!(!direct("127.0.0.1:9", "http://127.0.0.1:8080/x"));
        assert!(direct(".huggingface.co", "https://hub.huggingface.co/x"));
        assert!(direct("huggingface.co", "https://huggingface.co/x"));
        assert!(direct("*.internal", "https://a.b.internal/x"));
        assert!(!direct("huggingface.co", "https://nothuggingface.co/x"));
        assert!(direct("*", "https://anything/x"));
        assert!(direct("[::1]", "http://[::1]:80/x"));
    }

    #[test]
    fn proxy_credentials_are_not_shown() {
        assert_eq!(
            shown("http://alice:s3cret@proxy.corp:3128/"),
            "http://***@proxy.corp:3128"
        );
        assert_eq!(shown("proxy.corp:3128"), "proxy.corp:3128");
    }
}
