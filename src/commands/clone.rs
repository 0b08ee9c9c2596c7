//! `hf-relay clone`.

use crate::cli::CloneArgs;

pub fn run(args: CloneArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay clone` is not implemented yet")
}
