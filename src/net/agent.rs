//! Building the one kind of agent every request goes through, and the per-request choices
//! (proxy) and error texts (untrusted certificate, proxy) that go with it.

use std::time::Duration;

use ureq::Agent;
use ureq::http::Request;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector as _, DefaultConnector};

use super::watchdog::Watchdog;
use super::{Origin, proxy, tls};

/// Connecting (TCP, TLS, proxy CONNECT) and resolving may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The timeouts of an agent.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// The progress window ([`super::watchdog`]): fewer than 1 KiB moved within it ends the attempt.
    pub progress: Duration,
    /// The overall limit of one request, `None` for none (git packs: the window bounds them).
    pub global: Option<Duration>,
}

/// An agent with the trusted roots of [`tls`], no proxy of its own (each request gets its own
/// through [`with_proxy`]), no automatic redirects (the caller applies [`super::redirect`]),
/// statuses as answers, and the progress window under every connection.
pub fn build(timeouts: Timeouts) -> Agent {
    let mut config = Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("hf-relay/", env!("CARGO_PKG_VERSION")))
        .proxy(None)
        .max_redirects(0)
        .timeout_connect(Some(timeouts.connect))
        .timeout_resolve(Some(timeouts.connect))
        .timeout_per_read(Some(timeouts.progress))
        .timeout_per_write(Some(timeouts.progress))
        .timeout_global(timeouts.global);
    if let Ok(tls) = tls::config() {
        config = config.tls_config(tls);
    }
    Agent::with_parts(
        config.build(),
        DefaultConnector::new().chain(Watchdog),
        DefaultResolver::default(),
    )
}

/// Checks what must hold before any request to `url` is made: a readable CA bundle and a
/// usable proxy. Returns the proxy to set on the request.
pub fn prepare(url: &str) -> Result<Option<ureq::Proxy>, String> {
    tls::config()?;
    proxy::proxy_for(url)
}

/// `request` with the proxy chosen for its URL.
pub fn with_proxy<B: ureq::AsSendBody>(
    agent: &Agent,
    request: Request<B>,
    proxy: Option<ureq::Proxy>,
) -> Request<B> {
    agent.configure_request(request).proxy(proxy).build()
}

/// The text for a failed exchange with `url`, from its error chain: an untrusted certificate
/// says so and which variable adds a CA; a proxy failure names the proxy (redacted).
pub fn describe(url: &str, chain: &str) -> String {
    let host = Origin::of(url)
        .map(|origin| origin.host_label())
        .unwrap_or_else(|| "the server".to_string());
    if tls::is_untrusted(chain) {
        return tls::untrusted_message(&host, chain);
    }
    match proxy::shown_for(url) {
        Some(proxy) => format!("{chain} (through the proxy {proxy})"),
        None => chain.to_string(),
    }
}
