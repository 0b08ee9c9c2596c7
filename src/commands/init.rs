//! `hf-relay init OWNER/NAME [DIR]`: a new local clone for a Hub dataset repo.

use std::path::PathBuf;

use anyhow::Context;

use crate::cli::InitArgs;
use crate::output::status;
use crate::repo;
use crate::repo_id::{RepoId, dataset_url};

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    let repo_id = RepoId::parse(&args.repo_id)?;
    let endpoint = crate::env::endpoint(args.endpoint.as_deref());
    let url = dataset_url(&endpoint, &repo_id);
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&repo_id.name));
    repo::init(&dir, &url, &repo_id.to_string())
        .with_context(|| format!("cannot create a clone of {repo_id} in {}", dir.display()))?;
    status(format!(
        "Initialized {} in {} (remote origin = {url})",
        repo_id,
        dir.display()
    ));
    status(format!(
        "Next: hf-relay build --dir {} data.jsonl   # convert, write the card, commit",
        dir.display()
    ));
    Ok(())
}
