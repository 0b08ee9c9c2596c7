//! `hf-relay tag`.

use crate::cli::TagArgs;

pub fn run(args: TagArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay tag` is not implemented yet")
}
