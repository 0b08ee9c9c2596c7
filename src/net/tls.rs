//! Which certificates are trusted: the platform's roots (`rustls-native-certs`: the system
//! store on Linux, the keychain on macOS, the Windows store), plus the PEM bundle named by
//! `SSL_CERT_FILE`, else `REQUESTS_CA_BUNDLE`, else `CURL_CA_BUNDLE`. With no platform roots
//! and no bundle, the bundled Mozilla list (webpki-roots) is the fallback.

use std::sync::{Arc, OnceLock};

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::env::{self, Env};

/// The CA bundle from the environment: `(variable, path)`.
pub fn bundle_var(vars: &dyn Env) -> Option<(&'static str, String)> {
    let (name, value) = env::CA_BUNDLE_VARS.iter().find_map(|name| {
        vars.var(name)
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .map(|value| (*name, value))
    })?;
    // A bundle hf-relay itself exported as `SSL_CERT_FILE` (for a client that reads only that
    // variable) is still named by the variable the user set.
    match EXPORTED.get() {
        Some((original, path)) if name == env::SSL_CERT_FILE && *path == value => {
            Some((original, value))
        }
        _ => Some((name, value)),
    }
}

/// The bundle exported as `SSL_CERT_FILE` by [`export_bundle_as_ssl_cert_file`], with the
/// variable the user named it by.
static EXPORTED: std::sync::OnceLock<(&'static str, String)> = std::sync::OnceLock::new();

/// Exports the CA bundle in use as `SSL_CERT_FILE`, the one variable rustls-native-certs reads,
/// when the user named it `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE`; messages keep naming the
/// user's variable. Call it from `main` before any other thread starts.
pub fn export_bundle_as_ssl_cert_file() {
    if let Some((var, path)) = bundle_var(&crate::env::ProcessEnv)
        && var != env::SSL_CERT_FILE
    {
        // SAFETY: called from `main` before any other thread is started.
        unsafe { std::env::set_var(env::SSL_CERT_FILE, &path) };
        let _ = EXPORTED.set((var, path));
    }
}

/// The largest CA bundle read. The Mozilla list is about 220 KB and a corporate bundle a few
/// hundred more; a bigger "bundle" is a wrong path (`/dev/zero`, a data file).
pub const MAX_BUNDLE_BYTES: u64 = 16 << 20;

/// The certificates of a PEM bundle; an unreadable file or one without a certificate is an
/// error naming the variable and the file.
pub fn read_bundle(var: &str, path: &str) -> Result<Vec<Certificate<'static>>, String> {
    let bytes = read_bounded(var, path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(err) => return Err(format!("{var}={path} is not a PEM bundle: {err}")),
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "{var}={path} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)"
        ));
    }
    Ok(certs)
}

/// The bytes of the bundle at `path`: a regular file (a FIFO would block the open, a device
/// never end) of at most [`MAX_BUNDLE_BYTES`], read no further than that.
fn read_bounded(var: &str, path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let cannot = |err: std::io::Error| format!("cannot read {var}={path}: {err}");
    // `metadata` follows symlinks without opening anything.
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!(
            "{var}={path} is not a regular file: set it to a PEM file of CA certificates"
        ));
    }
    let too_big = || {
        format!(
            "{var}={path} is bigger than {} MiB, the most a CA bundle is read: set it to a PEM \
             file of CA certificates",
            MAX_BUNDLE_BYTES >> 20
        )
    };
    if metadata.len() > MAX_BUNDLE_BYTES {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    // The file may have grown since: read one byte more than the bound, to tell.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// The roots for `vars`: platform roots plus the bundle.
pub fn roots_from(vars: &dyn Env) -> Result<RootCerts, String> {
    let extra = match bundle_var(vars) {
        Some((var, path)) => read_bundle(var, &path)?,
        None => Vec::new(),
    };
    let mut roots: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if roots.is_empty() && extra.is_empty() {
        return Ok(RootCerts::WebPki);
    }
    roots.extend(extra);
    Ok(RootCerts::Specific(Arc::new(roots)))
}

/// The TLS configuration of every agent, from the process environment (read once). `Err`
/// holds the message for a bad bundle; every request then fails with it.
pub fn config() -> Result<TlsConfig, String> {
    static CONFIG: OnceLock<Result<TlsConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            roots_from(&env::ProcessEnv).map(|roots| TlsConfig::builder().root_certs(roots).build())
        })
        .clone()
}

/// Whether a failure (its whole error chain, as text) is a certificate the roots do not trust.
pub fn is_untrusted(chain: &str) -> bool {
    let lower = chain.to_ascii_lowercase();
    lower.contains("invalid peer certificate")
        || lower.contains("unknownissuer")
        || lower.contains("certificate verify failed")
        || lower.contains("badsignature")
}

/// The message for an untrusted certificate of `host`.
pub fn untrusted_message(host: &str, chain: &str) -> String {
    format!(
        "the TLS certificate of {host} is not trusted ({chain}); if it is signed by a private \
         or corporate CA, set SSL_CERT_FILE (or REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) to a PEM \
         file holding that CA"
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_bundle_variables_are_read_in_order_and_a_bad_bundle_is_named() {
        let vars: HashMap<String, String> = [
            ("CURL_CA_BUNDLE", "/c.pem"),
            ("REQUESTS_CA_BUNDLE", "/r.pem"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            bundle_var(&vars),
            Some(("REQUESTS_CA_BUNDLE", "/r.pem".to_string()))
        );
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let err = read_bundle("SSL_CERT_FILE", missing.to_str().unwrap()).unwrap_err();
        assert!(
            err.contains("SSL_CERT_FILE=") && err.contains("none.pem"),
            "{err}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = read_bundle("SSL_CERT_FILE", empty.to_str().unwrap()).unwrap_err();
        assert!(err.contains("no certificate"), "{err}");
    }
}
