//! `hf-relay verify`.

use crate::cli::VerifyArgs;

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay verify` is not implemented yet")
}
