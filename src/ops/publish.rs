//! `publish`: the one-shot workflow of the reference Python uploader — open the repo's local
//! clone (cloning it, or initialising it when the Hub has no such repo yet), build, push.

use std::path::PathBuf;

use anyhow::Context;

use super::Reporter;
use super::build::{BuildOptions, CardOptions, InputOptions};
use super::clone::CloneOptions;
use super::push::{PushOptions, PushResult};
use crate::error::UserError;
use crate::hub::HubClient;
use crate::repo_id::{RepoId, dataset_url};

/// What `publish` is asked to do.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub repo_id: RepoId,
    /// The local clone; default `./NAME`.
    pub dir: Option<PathBuf>,
    pub endpoint: String,
    pub inputs: InputOptions,
    pub card: CardOptions,
    pub message: Option<String>,
    pub push: PushOptions,
}

impl PublishOptions {
    pub fn dir(&self) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.repo_id.name))
    }
}

pub fn publish(options: &PublishOptions, reporter: &dyn Reporter) -> anyhow::Result<PushResult> {
    let dir = options.dir();
    let repo_id = &options.repo_id;
    if !dir.join(".git").exists() {
        if crate::auth::offline() {
            return Err(
                UserError::new("HF_HUB_OFFLINE is set: publish needs the network")
                    .hint("use init + build to prepare offline")
                    .into(),
            );
        }
        let token = super::token_for(None)?;
        let client = HubClient::new(&options.endpoint, Some(token.token));
        let exists = client
            .dataset_info(&repo_id.to_string())
            .context("cannot look the repo up on the Hub")?
            .is_some();
        if exists {
            reporter.status(&format!(
                "{repo_id} exists on the Hub: cloning it into {}",
                dir.display()
            ));
            super::clone::clone(
                &CloneOptions {
                    repo_id: repo_id.clone(),
                    dir: Some(dir.clone()),
                    no_lfs: false,
                    endpoint: options.endpoint.clone(),
                    revision: None,
                },
                reporter,
            )?;
        } else {
            reporter.status(&format!(
                "{repo_id} is new: preparing a clone in {}",
                dir.display()
            ));
            let url = dataset_url(&options.endpoint, repo_id);
            crate::repo::init(&dir, &url, &repo_id.to_string()).with_context(|| {
                format!("cannot create a clone of {repo_id} in {}", dir.display())
            })?;
            reporter.status(&format!(
                "Initialized {repo_id} in {} (remote origin = {url})",
                dir.display()
            ));
        }
    }
    crate::interrupt::check()?;
    super::build::build(
        &BuildOptions {
            dir: dir.clone(),
            inputs: options.inputs.clone(),
            card: options.card.clone(),
            message: options.message.clone(),
            strict_schema: false,
        },
        reporter,
    )?;
    crate::interrupt::check()?;
    let clone = super::open_clone(&dir, reporter)?;
    let result = super::push::push(&clone, &options.push, reporter)?;
    if !result.dry_run {
        // The URLs are the result, on stdout: not repeated here.
        reporter.status(&format!("Published {}", result.repo_id));
    }
    Ok(result)
}

/// The card `publish` would write, without writing anything: against the local clone when
/// there is one, else against a scratch clone that leaves no trace.
pub fn preview_card(options: &PublishOptions, reporter: &dyn Reporter) -> anyhow::Result<String> {
    let dir = options.dir();
    if dir.join(".git").exists() {
        return super::card::preview(&dir, &options.inputs, &options.card, reporter);
    }
    let scratch = tempfile::tempdir()?;
    let scratch_dir = scratch.path().join(&options.repo_id.name);
    crate::repo::init(
        &scratch_dir,
        &dataset_url(&options.endpoint, &options.repo_id),
        &options.repo_id.to_string(),
    )?;
    super::card::preview(&scratch_dir, &options.inputs, &options.card, reporter)
}
