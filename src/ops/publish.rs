//! `publish`: the one-shot workflow of the reference Python uploader — open the repo's local
//! clone (cloning it, or initialising it when the Hub has no such repo yet), build, push.

use std::path::PathBuf;

use anyhow::Context;

use super::Reporter;
use super::build_commit::{BuildOptions, BuildPlan, CardOptions, InputOptions};
use super::clone::CloneOptions;
use super::init::InitOptions;
use super::push::{PushOptions, PushResult};
use crate::hub::HubClient;
use crate::ops::{Hint, UserError};
use crate::repo_id::{RepoId, dataset_url, from_dataset_url};

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
    // Every flag and input is checked before anything is written: a refusal leaves no folder
    // and no clone behind (the build checks them again, against the clone).
    BuildPlan::resolve(&options.inputs, &options.card)?;
    let dir = options.dir();
    let repo_id = &options.repo_id;
    let mut made = None;
    if dir.join(".git").exists() {
        check_origin(&dir, options, reporter)?;
    } else {
        made = Some(Made::before(&dir));
        if crate::auth::offline() {
            return Err(
                UserError::new("HF_HUB_OFFLINE is set: publish needs the network")
                    .hint(Hint::PrepareOffline)
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
            super::init::init(&init_options(options, &dir), reporter)?;
        }
    }
    let built = crate::interrupt::check()
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            super::build_commit::build(
                &BuildOptions {
                    dir: dir.clone(),
                    inputs: options.inputs.clone(),
                    card: options.card.clone(),
                    message: options.message.clone(),
                    strict_schema: false,
                },
                reporter,
            )
        });
    if let Err(error) = built {
        if let Some(made) = made {
            made.undo(reporter);
        }
        return Err(error);
    }
    crate::interrupt::check()?;
    let clone = super::open_clone(&dir, reporter)?;
    let result = super::push::push(&clone, &options.push, reporter)?;
    if !result.dry_run {
        // The URLs are the result, on stdout: not repeated here.
        reporter.status(&format!("Published {}", result.repo_id));
    }
    Ok(result)
}

/// `init`'s options for a new clone of the repo in `dir`.
fn init_options(options: &PublishOptions, dir: &std::path::Path) -> InitOptions {
    InitOptions {
        repo_id: options.repo_id.clone(),
        dir: Some(dir.to_path_buf()),
        endpoint: options.endpoint.clone(),
    }
}

/// The clone `publish` makes (init or clone) before its build, taken away again when the build
/// fails: a rerun then starts as this one did, and bad input leaves nothing behind. Once the
/// build has committed, the clone stays (a failed push is run again from it).
struct Made {
    dir: PathBuf,
    /// The first folder of `dir`'s path that did not exist; `None` when `dir` existed (empty).
    top: Option<PathBuf>,
}

impl Made {
    fn before(dir: &std::path::Path) -> Made {
        let top = (!dir.exists()).then(|| {
            let mut top = dir.to_path_buf();
            while let Some(parent) = top.parent() {
                if parent.as_os_str().is_empty() || parent.exists() {
                    break;
                }
                top = parent.to_path_buf();
            }
            top
        });
        Made {
            dir: dir.to_path_buf(),
            top,
        }
    }

    fn undo(self, reporter: &dyn Reporter) {
        match &self.top {
            Some(top) => {
                let _ = std::fs::remove_dir_all(top);
            }
            None => crate::repo::empty_dir(&self.dir),
        }
        reporter.status(&format!(
            "Removed {}, the clone this publish made: the build failed",
            self.dir.display()
        ));
    }
}

/// An existing clone is the repo of `--repo-id`, or `publish` stops before it builds or sends
/// anything: its push would go to the clone's `origin`, whatever `--repo-id` says. The ids are
/// compared as written: a refusal over case costs a retry, a wrong guess a publish elsewhere.
fn check_origin(
    dir: &std::path::Path,
    options: &PublishOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let url = super::open_clone(dir, reporter)?.origin_url()?;
    let origin = from_dataset_url(&url)
        .with_context(|| format!("cannot tell which repo the clone {} is", dir.display()))?;
    let wanted = &options.repo_id;
    let dir = dir.display();
    if origin == *wanted {
        // The same id on another Hub (`--endpoint`, `HF_ENDPOINT`) is another repo too.
        let url = url.trim_end_matches('/').trim_end_matches(".git");
        let wanted_url = dataset_url(&options.endpoint, wanted);
        if url.eq_ignore_ascii_case(&wanted_url) {
            return Ok(());
        }
        let mut error = UserError::new(format!(
            "the clone {dir} publishes to {url}, not to {wanted_url} (--endpoint or \
             HF_ENDPOINT); nothing was built or sent"
        ));
        if let Some(endpoint) = url.strip_suffix(&format!("/datasets/{origin}")) {
            error = error.hint(Hint::PublishToEndpoint {
                endpoint: endpoint.to_string(),
            });
        }
        return Err(error
            .hint(Hint::PublishFromAnotherFolder { url: wanted_url })
            .into());
    }
    Err(UserError::new(format!(
        "--repo-id {wanted} disagrees with the clone {dir}, whose origin is {origin}; \
         nothing was built or sent"
    ))
    .hint(Hint::PublishRepoFromAnotherFolder {
        repo: wanted.to_string(),
    })
    .hint(Hint::RepointOrigin {
        dir: dir.to_string(),
        repo: wanted.to_string(),
        url: dataset_url(&options.endpoint, wanted),
    })
    .hint(Hint::PublishOrigin {
        origin: origin.to_string(),
    })
    .into())
}

/// The card `publish` would write, without writing anything: against the local clone when
/// there is one, else against a scratch clone that leaves no trace.
pub fn preview_card(options: &PublishOptions, reporter: &dyn Reporter) -> anyhow::Result<String> {
    let dir = options.dir();
    if dir.join(".git").exists() {
        check_origin(&dir, options, reporter)?;
        return super::card::preview(&dir, &options.inputs, &options.card, reporter);
    }
    let scratch = tempfile::tempdir()?;
    let scratch_dir = scratch.path().join(&options.repo_id.name);
    // Not reported: the scratch clone is no concern of the user's.
    super::init::init(&init_options(options, &scratch_dir), &super::Quiet)?;
    super::card::preview(&scratch_dir, &options.inputs, &options.card, reporter)
}
