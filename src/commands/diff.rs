//! `hf-relay diff`.

use crate::cli::DiffArgs;

pub fn run(args: DiffArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay diff` is not implemented yet")
}
