//! The fuzz targets' bodies live in `crates/fuzz-targets`, shared with the stable smoke test.
pub use hf_relay_fuzz_targets::*;
