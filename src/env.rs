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
