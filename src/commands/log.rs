//! `hf-relay log`.

use crate::cli::LogArgs;

pub fn run(args: LogArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay log` is not implemented yet")
}
