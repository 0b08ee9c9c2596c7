//! `hf-relay clone OWNER/NAME [DIR]`: a local clone of a Hub dataset, with the content of its
//! LFS files in the working tree (unless `--no-lfs`).

use crate::cli::CloneArgs;
use crate::ops::clone::{CloneOptions, clone};
use crate::output::TerminalReporter;
use crate::repo_id::RepoId;

pub fn run(args: CloneArgs) -> anyhow::Result<()> {
    let options = CloneOptions {
        repo_id: RepoId::parse(&args.repo_id)?,
        dir: args.dir,
        no_lfs: args.no_lfs,
        endpoint: crate::env::endpoint(args.endpoint.as_deref()),
        revision: args.revision,
    };
    clone(&options, &TerminalReporter)?;
    Ok(())
}
