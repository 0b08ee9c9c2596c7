//! `hf-relay status`.

use crate::cli::StatusArgs;

pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay status` is not implemented yet")
}
