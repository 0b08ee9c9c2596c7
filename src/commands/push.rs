//! `hf-relay push`.

use crate::cli::PushArgs;

pub fn run(args: PushArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay push` is not implemented yet")
}
