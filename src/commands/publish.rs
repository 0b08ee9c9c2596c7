//! `hf-relay publish`: the one-shot workflow of the reference Python uploader — open the repo's
//! local clone (cloning it, or initialising it when the Hub has no such repo yet), build, push.

use std::path::PathBuf;

use anyhow::Context;

use super::push::{PushOptions, push, report};
use crate::auth;
use crate::cli::{BuildArgs, CardArgs, CloneArgs, InitArgs, PublishArgs};
use crate::hub::HubClient;
use crate::output::status;
use crate::repo_id::RepoId;

pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let repo_id = RepoId::parse(&args.repo_id)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&repo_id.name));
    let endpoint = crate::env::endpoint(args.endpoint.as_deref());

    if args.preview_card {
        if !dir.join(".git").exists() {
            // Nothing local yet: preview against a scratch clone, leaving no trace.
            let scratch = tempfile::tempdir()?;
            let scratch_dir = scratch.path().join(&repo_id.name);
            crate::repo::init(
                &scratch_dir,
                &crate::repo_id::dataset_url(&endpoint, &repo_id),
                &repo_id.to_string(),
            )?;
            return super::card::run(CardArgs {
                dir: scratch_dir,
                preview: true,
                check: false,
                inputs: args.inputs,
                card: args.card,
            });
        }
        return super::card::run(CardArgs {
            dir,
            preview: true,
            check: false,
            inputs: args.inputs,
            card: args.card,
        });
    }

    if !dir.join(".git").exists() {
        if auth::offline() {
            anyhow::bail!(
                "HF_HUB_OFFLINE is set: publish needs the network (use init + build to prepare offline)"
            );
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let token = auth::find_token(&cwd, None).map_err(|missing| anyhow::anyhow!("{missing}"))?;
        let client = HubClient::new(&endpoint, Some(token.token));
        let exists = client
            .dataset_info(&repo_id.to_string())
            .context("cannot look the repo up on the Hub")?
            .is_some();
        if exists {
            status(format!(
                "{repo_id} exists on the Hub: cloning it into {}",
                dir.display()
            ));
            super::clone::run(CloneArgs {
                repo_id: repo_id.to_string(),
                dir: Some(dir.clone()),
                no_lfs: false,
                endpoint: Some(endpoint.clone()),
            })?;
        } else {
            status(format!(
                "{repo_id} is new: preparing a clone in {}",
                dir.display()
            ));
            super::init::run(InitArgs {
                repo_id: repo_id.to_string(),
                dir: Some(dir.clone()),
                endpoint: Some(endpoint.clone()),
            })?;
        }
    }

    super::build::run(BuildArgs {
        dir: dir.clone(),
        inputs: args.inputs,
        message: args.message,
        json: false,
        strict_schema: false,
        card: args.card,
    })?;
    let clone = super::open_clone(&dir)?;
    let result = push(
        &clone,
        &args.visibility,
        &PushOptions {
            no_create: false,
            dry_run: args.dry_run,
            force: false,
        },
    )?;
    if !result.dry_run {
        status(format!(
            "Published {} at {}",
            result.repo_id, result.dataset_url
        ));
    }
    report(&result, args.json)
}
