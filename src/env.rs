//! Every environment variable hf-relay reads, in one place (documented in the README).

/// Hub endpoint; default `https://huggingface.co`.
pub const HF_ENDPOINT: &str = "HF_ENDPOINT";
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The endpoint from `--endpoint`, else `HF_ENDPOINT`, else the public Hub; no trailing `/`
/// (as huggingface_hub strips it).
pub fn endpoint(flag: Option<&str>) -> String {
    let raw = match flag {
        Some(value) => value.to_string(),
        None => std::env::var(HF_ENDPOINT)
            .ok()
            .filter(|value| !value.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
    };
    raw.trim().trim_end_matches('/').to_string()
}

/// The Hub access token; read first (as huggingface_hub does).
pub const HF_TOKEN: &str = "HF_TOKEN";
/// An older name for the token that some project scripts still set; read second.
pub const HUGGINGFACE_API_KEY: &str = "HUGGINGFACE_API_KEY";
/// huggingface_hub's deprecated name for the token; read third.
pub const HUGGING_FACE_HUB_TOKEN: &str = "HUGGING_FACE_HUB_TOKEN";
/// The token variables, in the order they are looked up.
pub const TOKEN_VARS: [&str; 3] = [HF_TOKEN, HUGGINGFACE_API_KEY, HUGGING_FACE_HUB_TOKEN];
/// Path of the token file written by `hf auth login`; default `$HF_HOME/token`.
pub const HF_TOKEN_PATH: &str = "HF_TOKEN_PATH";
/// huggingface_hub's home folder; default `$XDG_CACHE_HOME/huggingface`.
pub const HF_HOME: &str = "HF_HOME";
/// The XDG cache folder; default `~/.cache`.
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// The user's home folder (`~`).
pub const HOME: &str = "HOME";
/// The user's home folder on Windows, when `HOME` is unset.
pub const USERPROFILE: &str = "USERPROFILE";
/// Offline mode: `1`/`ON`/`YES`/`TRUE` (any case) forbids network access, as in huggingface_hub.
pub const HF_HUB_OFFLINE: &str = "HF_HUB_OFFLINE";

/// `1`/`ON`/`YES`/`TRUE` (any case): `push` uploads through plain Git LFS even when the Hub
/// offers Xet (huggingface_hub's name for the same switch).
pub const HF_HUB_DISABLE_XET: &str = "HF_HUB_DISABLE_XET";

/// Whether this build speaks Xet and `HF_HUB_DISABLE_XET` does not turn it off.
pub fn xet_enabled() -> bool {
    cfg!(feature = "xet") && !std::env::var(HF_HUB_DISABLE_XET).is_ok_and(|value| is_truthy(&value))
}

/// A PEM file of CA certificates added to the trusted roots (as OpenSSL and curl read it).
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// The same, as requests / huggingface_hub users set it; read when `SSL_CERT_FILE` is unset.
pub const REQUESTS_CA_BUNDLE: &str = "REQUESTS_CA_BUNDLE";
/// The same, as curl users set it; read last.
pub const CURL_CA_BUNDLE: &str = "CURL_CA_BUNDLE";
/// The CA bundle variables, in the order they are looked up.
pub const CA_BUNDLE_VARS: [&str; 3] = [SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE];
/// The proxy for `https` URLs (lower case read first, as curl does).
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// The proxy for `http` URLs.
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const HTTP_PROXY_LOWER: &str = "http_proxy";
/// The proxy when the scheme's own variable is unset.
pub const ALL_PROXY: &str = "ALL_PROXY";
pub const ALL_PROXY_LOWER: &str = "all_proxy";
/// Comma-separated hosts (`host`, `.domain`, `host:port`, `*`) reached without a proxy.
pub const NO_PROXY: &str = "NO_PROXY";
pub const NO_PROXY_LOWER: &str = "no_proxy";

/// Commit author and committer, as git reads them (git's own names; `repo::signature`), else
/// git config `user.name` / `user.email`, else `hf-relay <hf-relay@localhost>`.
pub const GIT_AUTHOR_NAME: &str = "GIT_AUTHOR_NAME";
pub const GIT_AUTHOR_EMAIL: &str = "GIT_AUTHOR_EMAIL";
/// A date in any form git accepts (`@1764000000 +0000`, RFC 2822, ISO 8601).
pub const GIT_AUTHOR_DATE: &str = "GIT_AUTHOR_DATE";
pub const GIT_COMMITTER_NAME: &str = "GIT_COMMITTER_NAME";
pub const GIT_COMMITTER_EMAIL: &str = "GIT_COMMITTER_EMAIL";
pub const GIT_COMMITTER_DATE: &str = "GIT_COMMITTER_DATE";

/// Read by rayon, not here: the number of threads that parse JSON chunks (default: one per
/// core). The output does not depend on it.
pub const RAYON_NUM_THREADS: &str = "RAYON_NUM_THREADS";

/// Test-only, not for users (and not in the README): `N` makes a commit abort the process once
/// it has renamed `N` files into the working tree (`0`: right after writing its journal; more
/// than the commit's files: after the branch moved, before the journal is removed), as a kill
/// in that window would. `tests/testsuite/hardening/` uses it to test the recovery deterministically.
pub const HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW: &str = "HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW";

/// Where environment variables come from: the process ([`ProcessEnv`]) or, in tests, a map.
pub trait Env {
    /// The variable's value; `None` when unset or not valid UTF-8.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Env for std::collections::BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// huggingface_hub's truthy values: `1`, `ON`, `YES`, `TRUE`, any case, surrounding spaces ignored.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_uppercase().as_str(),
        "1" | "ON" | "YES" | "TRUE"
    )
}
