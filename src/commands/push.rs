//! `hf-relay push`: publish what `build` prepared. Order matters: the repo exists, the Hub's
//! branch is integrated, every LFS object is uploaded and verified, and only then are refs
//! pushed — so the Hub never holds a ref whose LFS objects are missing.

use std::path::PathBuf;

use std::time::Duration;

use anyhow::{Context, bail};
use git2::Oid;

use crate::auth::{self, FoundToken};
use crate::cli::{PushArgs, VisibilityArgs};
use crate::hub::{CreateOutcome, HubClient, LfsObject, YamlVerdict};
use crate::inspect::{self, Hashing};
use crate::output::{TransferProgress, status};
use crate::repo::lfs::store_path;
use crate::repo::verified_lfs::VerifiedLfs;
use crate::repo::{Clone, remote};
use crate::repo_id::{RepoId, from_dataset_url};
use crate::units::{count, human_bytes};

/// What a push did (or, with `--dry-run`, would do).
#[derive(Debug, serde::Serialize)]
pub struct PushResult {
    pub repo_id: String,
    pub dataset_url: String,
    pub commit: String,
    pub commit_url: String,
    pub created_repo: bool,
    pub merged_remote: Option<String>,
    pub lfs_objects_uploaded: usize,
    pub lfs_bytes_uploaded: u64,
    pub lfs_objects_skipped: usize,
    pub refs_pushed: Vec<String>,
    pub dry_run: bool,
}

pub fn run(args: PushArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let result = push(
        &clone,
        &args.visibility,
        &PushOptions {
            no_create: args.no_create,
            dry_run: args.dry_run,
            force: args.force,
        },
    )?;
    report(&result, args.json)
}

pub struct PushOptions {
    pub no_create: bool,
    pub dry_run: bool,
    pub force: bool,
}

pub fn report(result: &PushResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(result)?);
    } else if result.dry_run {
        println!("{}", result.dataset_url);
    } else {
        println!("{}", result.dataset_url);
        println!("{}", result.commit_url);
    }
    Ok(())
}

/// The endpoint part of a dataset remote URL (`{endpoint}/datasets/OWNER/NAME`).
fn endpoint_of(url: &str, repo_id: &RepoId) -> String {
    let trimmed = url.trim_end_matches('/').trim_end_matches(".git");
    trimmed
        .strip_suffix(&format!("/datasets/{repo_id}"))
        .unwrap_or(trimmed)
        .to_string()
}

pub fn token_for(clone: &Clone) -> anyhow::Result<FoundToken> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    auth::find_token(&cwd, Some(&clone.root)).map_err(|missing| anyhow::anyhow!("{missing}"))
}

pub fn push(
    clone: &Clone,
    visibility: &VisibilityArgs,
    options: &PushOptions,
) -> anyhow::Result<PushResult> {
    // 1. Everything resolved and checked before any request.
    if auth::offline() {
        bail!("HF_HUB_OFFLINE is set: push needs the network (unset it to publish)");
    }
    let lock = clone.lock()?;
    let removed = clone.remove_stale_ref_locks(&lock)?;
    if removed > 0 {
        status(format!(
            "Removed {} left by an interrupted fetch or push",
            count(removed, "stale git lock file")
        ));
    }
    let url = clone.origin_url()?;
    let repo_id = from_dataset_url(&url)?;
    let endpoint = endpoint_of(&url, &repo_id);
    let found = token_for(clone)?;
    let mut verified = VerifiedLfs::load(clone.repo.path());
    let report = inspect::verify(clone, "HEAD", Hashing::Unvouched, &mut verified)?;
    // Best effort: a lost record only means hashing again next time.
    let _ = verified.save();
    if !report.is_ok() {
        bail!(
            "refusing to publish an inconsistent repository:\n{report}\nHint: fix it (e.g. rebuild) and run `hf-relay verify`"
        );
    }
    // The card metadata the Hub's YAML verification would refuse stops the push here, before
    // any request (the pre-receive hook would refuse it only after every upload).
    let readme_of_head = || -> anyhow::Result<Option<String>> {
        Ok(clone
            .head_blob("README.md")?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    };
    if let Some(readme) = readme_of_head()? {
        crate::card::validate::check_readme(&readme)
            .context("refusing to push (fix README.md, then `hf-relay card --check`)")?;
    }
    let token = found.token.clone();
    let client = HubClient::new(&endpoint, Some(found.token));
    let id = repo_id.to_string();

    // 2. The repo exists, or is created.
    let mut created_repo = false;
    let private = match (visibility.private, visibility.public) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let exists = client
        .dataset_info(&id)
        .context("cannot look the repo up on the Hub")?
        .is_some();
    if !exists {
        if options.no_create {
            bail!(
                "{id} does not exist on {endpoint} (or this token cannot see it); --no-create was given"
            );
        }
        if options.dry_run {
            status(format!(
                "Would create dataset repo {id}{}",
                if private == Some(true) {
                    " (private)"
                } else {
                    ""
                }
            ));
        } else {
            match client
                .create_dataset(&id, private)
                .context("cannot create the repo")?
            {
                CreateOutcome::Created => status(format!("Created dataset repo {id}")),
                CreateOutcome::AlreadyExists => status(format!("Dataset repo {id} already exists")),
            }
            created_repo = true;
        }
    } else if private.is_some() {
        status(format!(
            "Note: {id} already exists; --{} is ignored (change visibility in the repo settings)",
            if private == Some(true) {
                "private"
            } else {
                "public"
            }
        ));
    }

    // 3. The Hub's main: integrate what it has that we lack.
    let advertised = if exists || created_repo {
        Some(remote::fetch(clone, Some(token.expose())).context("cannot fetch the Hub's main")?)
    } else {
        None
    };
    let remote_tip = advertised.as_ref().and_then(|refs| refs.main);
    let mut merged_remote = None;
    if let Some(tip) = remote_tip
        && !options.force
    {
        if options.dry_run {
            let head = clone.repo.head()?.peel_to_commit()?.id();
            if head != tip && !clone.repo.graph_descendant_of(head, tip)? {
                status("Would integrate the Hub's main (it has commits this clone lacks)");
            }
        } else if let Some(merge) = crate::commands::integrate::integrate(clone, tip)? {
            status(format!(
                "Integrated the Hub's main into {}",
                &merge.to_string()[..12]
            ));
            merged_remote = Some(tip.to_string());
        }
    }
    let head = clone.repo.head()?.peel_to_commit()?.id();

    // The Hub's own verdict on the card to publish, when it offers one, before any upload.
    if let Some(readme) = readme_of_head()? {
        match client
            .validate_yaml(&readme)
            .context("cannot ask the Hub to validate README.md")?
        {
            YamlVerdict::NotOffered => {}
            YamlVerdict::Valid { warnings } => {
                for warning in warnings {
                    status(format!("Warning: the Hub says of README.md: {warning}"));
                }
            }
            YamlVerdict::Invalid { errors } => bail!(
                "refusing to push: the Hub refuses the metadata of README.md:\n  {}",
                errors.join("\n  ")
            ),
        }
    }

    // 4. LFS objects the new commits reference, uploaded and verified first.
    let have: Vec<Oid> = remote_tip.into_iter().collect();
    let pointers = remote::lfs_pointers_between(clone, &have, head)?;
    let git_dir = clone.repo.path().to_path_buf();
    let mut objects = Vec::new();
    for (path, pointer) in &pointers {
        if pointer.size == 0 {
            continue;
        }
        let file = store_path(&git_dir, &pointer.oid);
        if !file.is_file() {
            bail!(
                "the LFS object of {path} ({}) is missing from .git/lfs/objects; run `hf-relay verify`",
                &pointer.oid[..12]
            );
        }
        objects.push((
            LfsObject {
                oid: pointer.oid.clone(),
                size: pointer.size,
            },
            file,
        ));
    }
    let (uploaded, bytes, skipped) = if options.dry_run {
        let wanted: Vec<LfsObject> = objects.iter().map(|(o, _)| o.clone()).collect();
        let missing = if exists {
            client.lfs_plan(&id, &wanted)?
        } else {
            wanted
        };
        let bytes = missing.iter().map(|o| o.size).sum();
        if !missing.is_empty() {
            status(format!(
                "Would upload {} ({})",
                count(missing.len(), "LFS object"),
                human_bytes(bytes)
            ));
        }
        (missing.len(), bytes, objects.len() - missing.len())
    } else if objects.is_empty() {
        (0, 0, 0)
    } else {
        let progress = TransferProgress::new("Uploading");
        let stats = client.lfs_upload(&id, &objects, &progress);
        progress.finish();
        let stats = stats.context("cannot upload the LFS objects")?;
        status(format!(
            "Uploaded {} ({}), {} already on the Hub",
            count(stats.objects_uploaded, "LFS object"),
            human_bytes(stats.bytes_uploaded),
            stats.objects_skipped
        ));
        (
            stats.objects_uploaded,
            stats.bytes_uploaded,
            stats.objects_skipped,
        )
    };

    // 5. Refs: main, and the tags the Hub lacks.
    let branch = clone
        .repo
        .head()?
        .name()
        .unwrap_or("refs/heads/main")
        .to_string();
    // main only when it moves: a push that adds a tag to an unchanged main reports the tag
    // alone, as `git push` does.
    let main_moves = remote_tip != Some(head);
    let mut refspecs: Vec<String> = main_moves
        .then(|| format!("{branch}:refs/heads/main"))
        .into_iter()
        .collect();
    // The tags the fetch saw: a tag created on the Hub since then under a name we push makes
    // the push refuse that tag (as a second look could only narrow, never close, that window).
    let remote_tags: Vec<(String, Oid)> = advertised.map(|refs| refs.tags).unwrap_or_default();
    let mut new_tags = Vec::new();
    for reference in clone.repo.references_glob("refs/tags/*")? {
        let reference = reference?;
        let (Ok(name), Some(target)) = (reference.shorthand(), reference.target()) else {
            continue;
        };
        if !remote_tags
            .iter()
            .any(|(remote_name, _)| remote_name == name)
        {
            refspecs.push(format!("refs/tags/{name}:refs/tags/{name}"));
            new_tags.push((name.to_string(), target.to_string()));
        }
    }
    let up_to_date = !main_moves && new_tags.is_empty();
    if up_to_date {
        status(format!(
            "Everything up to date: the Hub's main is at {}",
            &head.to_string()[..12]
        ));
        refspecs.clear();
        clone
            .repo
            .reference(
                "refs/remotes/origin/main",
                head,
                true,
                "hf-relay: up to date",
            )
            .context("cannot record the published state")?;
    } else if options.dry_run {
        status(format!("Would push {}", refspecs.join(", ")));
    } else {
        push_refs(clone, token.expose(), &refspecs, options.force)?;
        clone
            .repo
            .reference("refs/remotes/origin/main", head, true, "hf-relay: pushed")
            .context("cannot record the published state")?;
        let mut published: Vec<(String, String)> = remote_tags
            .iter()
            .map(|(n, id)| (n.clone(), id.to_string()))
            .collect();
        published.extend(new_tags);
        inspect::record_pushed_tags(clone.repo.path(), &published)?;
        status(format!(
            "Pushed {}",
            refspecs
                .iter()
                .map(|s| s.rsplit(':').next().unwrap_or(s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let dataset_url = format!("{endpoint}/datasets/{id}");
    Ok(PushResult {
        commit_url: format!("{dataset_url}/commit/{head}"),
        dataset_url,
        repo_id: id,
        commit: head.to_string(),
        created_repo,
        merged_remote,
        lfs_objects_uploaded: uploaded,
        lfs_bytes_uploaded: bytes,
        lfs_objects_skipped: skipped,
        refs_pushed: refspecs,
        dry_run: options.dry_run,
    })
}

/// Pushes the refs; when the Hub refuses them only because another update of the same ref is
/// under way (the push of a killed earlier run may still be applied after its client is gone),
/// waits and tries again: either that update was ours and the push finds nothing to do, or it
/// was someone else's and the push fails as a non-fast-forward would.
fn push_refs(clone: &Clone, token: &str, refspecs: &[String], force: bool) -> anyhow::Result<()> {
    const WAITS: [Duration; 4] = [
        Duration::from_millis(500),
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(4),
    ];
    let busy = |error: &anyhow::Error| {
        error
            .downcast_ref::<remote::RemoteError>()
            .is_some_and(remote::RemoteError::is_ref_busy)
    };
    for wait in WAITS {
        match remote::push(clone, token, refspecs, force) {
            Err(error) if busy(&error) => {
                status(format!(
                    "The Hub is busy updating a ref ({error}); trying again in {} ms",
                    wait.as_millis()
                ));
                std::thread::sleep(wait);
            }
            result => return result.map(drop),
        }
    }
    remote::push(clone, token, refspecs, force).map(drop)
}
