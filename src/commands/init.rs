//! `hf-relay init OWNER/NAME [DIR]`: a new local clone for a Hub dataset repo.

use crate::cli::InitArgs;
use crate::ops::init::{InitOptions, init};
use crate::output::{TerminalReporter, status};
use crate::repo_id::RepoId;

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    let options = InitOptions {
        repo_id: RepoId::parse(&args.repo_id)?,
        dir: args.dir,
        endpoint: crate::env::endpoint(args.endpoint.as_deref()),
    };
    let made = init(&options, &TerminalReporter)?;
    status(format!(
        "Next: hf-relay build --dir {} data.jsonl   # convert, write the card, commit",
        made.dir.display()
    ));
    Ok(())
}
