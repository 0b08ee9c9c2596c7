//! `hf-relay publish`.

use crate::cli::PublishArgs;

pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("`hf-relay publish` is not implemented yet")
}
