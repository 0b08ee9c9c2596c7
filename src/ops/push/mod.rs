//! `push`: publish what `build` prepared. Order matters: the repo exists, the Hub's branch is
//! integrated, every LFS object is uploaded and verified, and only then are refs pushed — so
//! the Hub never holds a ref whose LFS objects are missing. Each step is a function below (the
//! last, the refs, in `refs.rs`); Ctrl-C between or inside them stops the push before any ref
//! moves.

mod integrate;
mod refs;

use std::path::PathBuf;

use anyhow::Context;
use git2::Oid;

use super::Reporter;
use crate::auth::Token;
use crate::hub::{CreateOutcome, HubClient, LfsObject, Revision, UploadStats, YamlVerdict};
use crate::ids::short_hex;
use crate::inspect::{self, Hashing};
use crate::ops::{Hint, UserError};
use crate::repo::lfs::store_path;
use crate::repo::verified_lfs::VerifiedLfs;
use crate::repo::{LocalClone, Lock, remote};
use crate::repo_id::DatasetUrl;
use crate::units::{count, human_bytes};

pub use self::integrate::integrate;
use self::refs::push_refs;

/// Where a push publishes HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PushTo {
    /// The Hub's `main` (the default).
    #[default]
    Main,
    /// A branch of the Hub's repo, created by the push when it does not exist.
    Branch(String),
    /// A new pull request (against main), then its `refs/pr/N`. Without a title, the
    /// subject of HEAD's commit.
    NewPullRequest {
        title: Option<String>,
        description: Option<String>,
    },
    /// The `refs/pr/N` of an open pull request.
    PullRequest(u64),
}

/// What `push` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Visibility of a repo this push creates: `Some(true)` private, `Some(false)` public,
    /// `None` the Hub's default.
    pub private: Option<bool>,
    /// Fail instead of creating a missing repo.
    pub no_create: bool,
    /// Do every check, change nothing remotely.
    pub dry_run: bool,
    /// Overwrite the Hub's main instead of integrating it.
    pub force: bool,
    /// Where HEAD goes.
    pub to: PushTo,
}

/// The pull request a push opened or added commits to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PullRequestRef {
    pub num: u64,
    /// `{endpoint}/datasets/OWNER/NAME/discussions/N`.
    pub url: String,
    /// Whether this push opened it.
    pub created: bool,
}

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
    /// Of `lfs_objects_uploaded`, those that went through Xet.
    pub xet_objects_uploaded: usize,
    /// The bytes that actually travelled for the objects: whole files over plain LFS, only
    /// new chunks (and the shard) over Xet. A dry run says `lfs_bytes_uploaded`.
    pub bytes_sent: u64,
    pub refs_pushed: Vec<String>,
    pub dry_run: bool,
    /// The ref of the Hub HEAD went to: `refs/heads/main`, `refs/heads/NAME`, `refs/pr/N`.
    pub remote_ref: String,
    /// With `--create-pr` or `--pr N`: the pull request.
    pub pull_request: Option<PullRequestRef>,
}

pub fn push(
    clone: &LocalClone,
    options: &PushOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<PushResult> {
    let destination = Destination::check(clone, &options.to)?;
    let target = Target::resolve(clone, reporter)?;
    let client = HubClient::new(&target.endpoint, Some(target.token.clone()));
    let repo = look_up_or_create(&client, &target, options, reporter)?;
    let pr_url = |num: u64| {
        format!(
            "{}/datasets/{}/discussions/{num}",
            target.endpoint, target.id
        )
    };
    if let PushTo::PullRequest(num) = options.to {
        check_open_pull_request(&client, &target, num, &pr_url(num))?;
    }
    let hub_main = fetch_and_integrate(clone, &target, &repo, &destination, options, reporter)?;
    ask_the_hub_about_the_card(clone, &client, reporter)?;
    warn_about_undescribed_fields(clone, reporter)?;
    let head = clone.head_id()?;
    if matches!(options.to, PushTo::NewPullRequest { .. }) && hub_main.tip == Some(head) {
        return Err(UserError::new(format!(
            "nothing to propose: HEAD ({}) is the Hub's main",
            short_hex(&head.to_string())
        ))
        .hint(Hint::CommitBeforePullRequest)
        .into());
    }
    // The objects go to the ref pushed to: the Hub scopes Xet write tokens to it.
    let revision = match options.to {
        PushTo::NewPullRequest { .. } => Revision::NewPullRequest,
        _ => Revision::Ref(destination.remote_ref.clone()),
    };
    let transfer = upload(
        clone, &client, &target, &repo, &hub_main, head, &revision, options, reporter,
    )?;
    let mut destination = destination;
    let mut pull_request = None;
    match &options.to {
        PushTo::NewPullRequest { title, description } => {
            let title = pr_title(clone, title.as_deref())?;
            if options.dry_run {
                reporter.status(&format!("Would open a pull request \"{title}\""));
            } else {
                crate::interrupt::check()?;
                let opened = client
                    .create_pull_request(&target.id, &title, description.as_deref().unwrap_or(""))
                    .context("cannot open the pull request")?;
                reporter.status(&format!("Opened pull request #{} \"{title}\"", opened.num));
                destination.remote_ref = format!("refs/pr/{}", opened.num);
                pull_request = Some(PullRequestRef {
                    num: opened.num,
                    url: pr_url(opened.num),
                    created: true,
                });
            }
        }
        PushTo::PullRequest(num) => {
            pull_request = Some(PullRequestRef {
                num: *num,
                url: pr_url(*num),
                created: false,
            });
        }
        _ => {}
    }
    let refs_pushed = push_refs(
        clone,
        &target,
        &hub_main,
        &destination,
        head,
        options,
        reporter,
    )?;

    let dataset_url = format!("{}/datasets/{}", target.endpoint, target.id);
    Ok(PushResult {
        remote_ref: destination.remote_ref,
        pull_request,
        commit_url: format!("{dataset_url}/commit/{head}"),
        dataset_url,
        repo_id: target.id.clone(),
        commit: head.to_string(),
        // A dry run says what a push would do: create the repo when the Hub lacks it.
        created_repo: repo.created || (options.dry_run && !repo.exists),
        merged_remote: hub_main.merged.map(|tip| tip.to_string()),
        lfs_objects_uploaded: transfer.uploaded,
        lfs_bytes_uploaded: transfer.bytes,
        lfs_objects_skipped: transfer.skipped,
        xet_objects_uploaded: transfer.xet_objects,
        bytes_sent: transfer.sent,
        refs_pushed,
        dry_run: options.dry_run,
    })
}

/// The card's metadata would be refused by the Hub: the push stops before any request (the
/// CLI says how to check the card again).
#[derive(Debug, thiserror::Error)]
#[error("refusing to push")]
pub struct CardRefused(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Step 1: everything resolved and checked before any request — offline mode, the lock, the
/// repo id and endpoint from `origin`, the token, and a consistent clone.
struct Target {
    _lock: Lock,
    id: String,
    endpoint: String,
    token: Token,
}

impl Target {
    fn resolve(clone: &LocalClone, reporter: &dyn Reporter) -> anyhow::Result<Target> {
        if crate::auth::offline() {
            return Err(
                UserError::new("HF_HUB_OFFLINE is set: push needs the network")
                    .hint(Hint::UnsetOffline { action: "publish" })
                    .into(),
            );
        }
        let lock = clone.lock()?;
        let removed = clone.remove_stale_ref_locks(&lock)?;
        if removed > 0 {
            reporter.status(&format!(
                "Removed {} left by an interrupted fetch or push",
                count(removed, "stale git lock file")
            ));
        }
        let remote = DatasetUrl::parse(&clone.origin_url()?)?;
        let found = super::token_for(Some(clone))?;
        let mut verified = VerifiedLfs::load(clone.repo.path());
        let report = inspect::verify(clone, "HEAD", Hashing::Unvouched, &mut verified)?;
        // Best effort: a lost record only means hashing again next time.
        let _ = verified.save();
        if !report.is_ok() {
            return Err(UserError::new(format!(
                "refusing to publish an inconsistent repository:\n{}",
                report
                    .problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
            .hint(Hint::FixAndVerify)
            .into());
        }
        // The older commits' objects too, against the last known remote state, before any
        // request (step 4 checks again against what the Hub has then).
        check_objects_to_publish(clone, &[inspect::remote_head(clone)?], clone.head_id()?)?;
        // Card metadata the Hub's YAML verification would refuse stops the push here, before
        // any request (the Hub's pre-receive check would refuse it only after every upload).
        if let Some(readme) = head_readme(clone)? {
            crate::card::validate::check_readme(&readme)
                .map_err(|source| CardRefused(source.into()))?;
        }
        Ok(Target {
            _lock: lock,
            id: remote.repo_id.to_string(),
            endpoint: remote.endpoint,
            token: found.token,
        })
    }
}

/// The Hub's ref HEAD goes to, and the one to integrate first (for a new pull request, main:
/// its `refs/pr/N` starts there).
struct Destination {
    remote_ref: String,
    integrate_from: String,
}

impl Destination {
    /// Checked before any request: the branch name is one git accepts, the title one the
    /// Hub accepts.
    fn check(clone: &LocalClone, to: &PushTo) -> anyhow::Result<Destination> {
        let both = |name: String| Destination {
            remote_ref: name.clone(),
            integrate_from: name,
        };
        Ok(match to {
            // No destination given: the Hub's branch the clone's branch tracks, as `status`
            // measures it (`clone --revision review` works on `review`: a push from there must
            // not land on main); a local branch the Hub never had goes to main.
            PushTo::Main => {
                match crate::inspect::remote_ref(clone).strip_prefix("refs/remotes/origin/") {
                    Some(branch) if branch != "main" => both(format!("refs/heads/{branch}")),
                    _ => both(remote::MAIN.to_string()),
                }
            }
            PushTo::Branch(name) => {
                let full = format!("refs/heads/{name}");
                if name.is_empty() || !git2::Reference::is_valid_name(&full) {
                    return Err(UserError::new(format!(
                        "--branch {name:?} is not a valid git branch name"
                    ))
                    .hint(Hint::BranchName)
                    .into());
                }
                both(full)
            }
            PushTo::NewPullRequest { title, .. } => {
                let title = pr_title(clone, title.as_deref())?;
                // huggingface_hub's create_discussion: 3 to 200 characters.
                if !(3..=200).contains(&title.chars().count()) {
                    return Err(UserError::new(format!(
                        "the pull request title {title:?} must have 3 to 200 characters"
                    ))
                    .hint(Hint::GiveTitle)
                    .into());
                }
                Destination {
                    remote_ref: "refs/pr/NEW".to_string(),
                    integrate_from: remote::MAIN.to_string(),
                }
            }
            PushTo::PullRequest(num) => both(format!("refs/pr/{num}")),
        })
    }

    /// `main`, `feature`, `refs/pr/1`: how messages name it.
    fn label(&self) -> &str {
        self.remote_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&self.remote_ref)
    }
}

/// The title of a new pull request: the one given, else the subject of HEAD's commit.
fn pr_title(clone: &LocalClone, title: Option<&str>) -> anyhow::Result<String> {
    Ok(match title {
        Some(title) => title.trim().to_string(),
        None => {
            let commit = clone.repo.head()?.peel_to_commit()?;
            String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                .trim()
                .to_string()
        }
    })
}

/// `--pr N` adds commits only to an open pull request: checked before anything is uploaded
/// (the Hub refuses the ref update of a closed or merged one too).
fn check_open_pull_request(
    client: &HubClient,
    target: &Target,
    num: u64,
    url: &str,
) -> anyhow::Result<()> {
    let discussion = client
        .discussion(&target.id, num)
        .with_context(|| format!("cannot look up pull request #{num} of {}", target.id))?;
    match discussion {
        None => Err(UserError::new(format!(
            "{} has no pull request #{num} on {}",
            target.id, target.endpoint
        ))
        .hint(Hint::OpenPullRequest)
        .into()),
        Some(discussion) if !discussion.is_pr() => Err(UserError::new(format!(
            "#{num} of {} is a discussion, not a pull request ({url})",
            target.id
        ))
        .into()),
        Some(discussion) => match discussion.status.as_deref() {
            Some("open") | Some("draft") | None => Ok(()),
            Some(status) => Err(UserError::new(format!(
                "pull request #{num} of {} is {status}: the Hub accepts no more commits for it \
                 ({url})",
                target.id
            ))
            .hint(Hint::OpenNewPullRequest)
            .into()),
        },
    }
}

/// Whether the repo was on the Hub, or this push created it.
struct HubRepo {
    exists: bool,
    created: bool,
}

/// Step 2: the repo exists, or is created.
fn look_up_or_create(
    client: &HubClient,
    target: &Target,
    options: &PushOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<HubRepo> {
    let id = &target.id;
    let exists = client
        .dataset_info(id)
        .context("cannot look the repo up on the Hub")?
        .is_some();
    let visibility_flag = match options.private {
        Some(true) => "private",
        _ => "public",
    };
    if exists {
        if options.private.is_some() {
            reporter.status(&format!(
                "Note: {id} already exists; --{visibility_flag} is ignored (change visibility in the repo settings)"
            ));
        }
        return Ok(HubRepo {
            exists,
            created: false,
        });
    }
    if options.no_create {
        return Err(UserError::new(format!(
            "{id} does not exist on {} (or this token cannot see it); --no-create was given",
            target.endpoint
        ))
        .into());
    }
    if options.dry_run {
        let private = if options.private == Some(true) {
            " (private)"
        } else {
            ""
        };
        reporter.status(&format!("Would create dataset repo {id}{private}"));
        return Ok(HubRepo {
            exists,
            created: false,
        });
    }
    match client
        .create_dataset(id, options.private)
        .context("cannot create the repo")?
    {
        CreateOutcome::Created => reporter.status(&format!("Created dataset repo {id}")),
        CreateOutcome::AlreadyExists => {
            reporter.status(&format!("Dataset repo {id} already exists"))
        }
    }
    Ok(HubRepo {
        exists,
        created: true,
    })
}

/// What the Hub's target ref (main, the branch, the pull request's ref; for a new pull
/// request main), main and tags were, and whether this push merged the target ref in.
struct HubRefs {
    tip: Option<Oid>,
    main: Option<Oid>,
    tags: Vec<(String, Oid)>,
    merged: Option<Oid>,
}

/// Step 3: fetch the Hub's main and integrate what it has that this clone lacks.
fn fetch_and_integrate(
    clone: &LocalClone,
    target: &Target,
    repo: &HubRepo,
    destination: &Destination,
    options: &PushOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<HubRefs> {
    if !repo.exists && !repo.created {
        return Ok(HubRefs {
            tip: None,
            main: None,
            tags: Vec::new(),
            merged: None,
        });
    }
    let from = &destination.integrate_from;
    let label = from.strip_prefix("refs/heads/").unwrap_or(from);
    let advertised = remote::fetch_ref(clone, Some(&target.token), from)
        .with_context(|| format!("cannot fetch the Hub's {label}"))?;
    if let PushTo::PullRequest(num) = options.to
        && advertised.tip.is_none()
    {
        return Err(UserError::new(format!(
            "the Hub has no refs/pr/{num} for pull request #{num} of {}",
            target.id
        ))
        .into());
    }
    let mut merged = None;
    if let Some(tip) = advertised.tip
        && !options.force
    {
        if options.dry_run {
            if !clone.contains(clone.head_id()?, tip)? {
                reporter.status(&format!(
                    "Would integrate the Hub's {label} (it has commits this clone lacks)"
                ));
                // `--json` says what the push would do: merge this tip.
                merged = Some(tip);
            }
        } else if let Some(merge) = integrate::integrate_ref(clone, tip, label)? {
            reporter.status(&format!(
                "Integrated the Hub's {label} into {}",
                short_hex(&merge.to_string())
            ));
            merged = Some(tip);
        }
    }
    Ok(HubRefs {
        tip: advertised.tip,
        main: advertised.main,
        tags: advertised.tags,
        merged,
    })
}

/// README.md of HEAD, the card a push publishes.
fn head_readme(clone: &LocalClone) -> anyhow::Result<Option<String>> {
    Ok(clone
        .head_blob("README.md")?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// A card whose fields table still says `_TODO: describe this field_` is published all the
/// same, with a warning naming the fields.
fn warn_about_undescribed_fields(
    clone: &LocalClone,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let Some(readme) = head_readme(clone)? else {
        return Ok(());
    };
    let fields = crate::card::undescribed_fields(&readme);
    if !fields.is_empty() {
        let names: Vec<String> = fields.iter().map(|name| format!("`{name}`")).collect();
        reporter.warning(&format!(
            "README.md: no description for {}: {}; write one in the Description column of the \
             card's fields table, or once in the card template as list items like \
             \"- `name` — what it holds\" (then build with --card-template)",
            count(fields.len(), "field"),
            names.join(", ")
        ));
    }
    Ok(())
}

/// Step 3b: the Hub's own verdict on the card to publish (after integration, which may have
/// changed it), when it offers `POST /api/validate-yaml`; before any upload.
fn ask_the_hub_about_the_card(
    clone: &LocalClone,
    client: &HubClient,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let Some(readme) = head_readme(clone)? else {
        return Ok(());
    };
    match client
        .validate_yaml(&readme)
        .context("cannot ask the Hub to validate README.md")?
    {
        YamlVerdict::NotOffered => Ok(()),
        YamlVerdict::Valid { warnings } => {
            for warning in warnings {
                reporter.warning(&format!("the Hub says of README.md: {warning}"));
            }
            Ok(())
        }
        YamlVerdict::Invalid { errors } => Err(UserError::new(format!(
            "refusing to push: the Hub refuses the metadata of README.md:\n  {}",
            errors.join("\n  ")
        ))
        .hint(Hint::FixCard)
        .into()),
    }
}

/// What the LFS step moved.
#[derive(Default)]
struct Transfer {
    uploaded: usize,
    bytes: u64,
    skipped: usize,
    xet_objects: usize,
    /// The bytes that travelled (see [`PushResult::bytes_sent`]).
    sent: u64,
}

/// Step 4: the LFS objects the new commits reference, uploaded and verified first.
#[allow(clippy::too_many_arguments)]
fn upload(
    clone: &LocalClone,
    client: &HubClient,
    target: &Target,
    repo: &HubRepo,
    hub_main: &HubRefs,
    head: Oid,
    revision: &Revision,
    options: &PushOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<Transfer> {
    check_objects_to_publish(clone, &[hub_main.tip, hub_main.main], head)?;
    let objects = lfs_objects_to_publish(clone, &[hub_main.tip, hub_main.main], head)?;
    if options.dry_run {
        let wanted: Vec<LfsObject> = objects.iter().map(|(object, _)| object.clone()).collect();
        let missing = if repo.exists {
            client.lfs_plan(&target.id, revision, &wanted)?
        } else {
            wanted
        };
        let bytes = missing.iter().map(|object| object.size).sum();
        if !missing.is_empty() {
            reporter.status(&format!(
                "Would upload {} ({})",
                count(missing.len(), "LFS object"),
                human_bytes(bytes)
            ));
        }
        return Ok(Transfer {
            uploaded: missing.len(),
            bytes,
            skipped: objects.len() - missing.len(),
            sent: bytes,
            ..Transfer::default()
        });
    }
    if objects.is_empty() {
        return Ok(Transfer::default());
    }
    let bar = reporter.transfer("Uploading");
    let stats = client.lfs_upload(&target.id, revision, &objects, &*bar);
    bar.finish();
    let stats = stats.context("cannot upload the LFS objects")?;
    reporter.status(&uploaded_line(&stats));
    Ok(Transfer {
        uploaded: stats.objects_uploaded,
        bytes: stats.bytes_uploaded,
        skipped: stats.objects_skipped,
        xet_objects: stats.xet_objects,
        sent: stats.bytes_uploaded - stats.xet_file_bytes + stats.xet_sent_bytes,
    })
}

/// `Uploaded 2 LFS objects (38.4 MB) as 1.9 MB of new chunks, 0 already on the Hub`: over
/// Xet, what dedup saved is what a user wants to see.
fn uploaded_line(stats: &UploadStats) -> String {
    let objects = count(stats.objects_uploaded, "LFS object");
    let bytes = human_bytes(stats.bytes_uploaded);
    let sent = human_bytes(stats.xet_sent_bytes);
    let what = if stats.xet_objects == 0 {
        format!("{objects} ({bytes})")
    } else if stats.xet_objects == stats.objects_uploaded {
        format!("{objects} ({bytes}) as {sent} of new chunks")
    } else {
        format!(
            "{objects} ({bytes}; {} of them over Xet as {sent} of new chunks)",
            stats.xet_objects
        )
    };
    format!(
        "Uploaded {what}, {} already on the Hub",
        stats.objects_skipped
    )
}

/// Step 4a: every object to upload has the bytes its pointer names, older commits' included
/// (step 1 checked HEAD's): the Hub would refuse corrupt bytes only after the upload, and a
/// corrupt object is best found here, with the file and commit that hold it. Objects whose
/// stamps the cache of verified objects vouches for are not hashed again.
fn check_objects_to_publish(
    clone: &LocalClone,
    hub_tips: &[Option<Oid>],
    head: Oid,
) -> anyhow::Result<()> {
    let have: Vec<Oid> = hub_tips.iter().flatten().copied().collect();
    let mut verified = VerifiedLfs::load(clone.repo.path());
    let problems = inspect::verify_commits(
        clone,
        &have,
        &[head],
        &Default::default(),
        Hashing::Unvouched,
        &mut verified,
    )?;
    // Best effort: a lost record only means hashing again next time.
    let _ = verified.save();
    if problems.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Err(UserError::new(format!(
        "refusing to push: {} of the commits to publish {} (the Hub would refuse {}); nothing \
         was uploaded:\n  {}",
        count(problems.len(), "LFS object"),
        match problems.len() {
            1 => "does not match its pointer",
            _ => "do not match their pointers",
        },
        if problems.len() == 1 { "it" } else { "them" },
        lines.join("\n  ")
    ))
    .hint(Hint::RestoreObjects)
    .into())
}

/// The non-empty LFS objects of the commits between the Hub's refs and `head`, each with its
/// file in `.git/lfs/objects`.
fn lfs_objects_to_publish(
    clone: &LocalClone,
    hub_tips: &[Option<Oid>],
    head: Oid,
) -> anyhow::Result<Vec<(LfsObject, PathBuf)>> {
    let mut have: Vec<Oid> = hub_tips.iter().flatten().copied().collect();
    have.dedup();
    let pointers = crate::repo::lfs::lfs_pointers_between(clone, &have, head)?;
    let git_dir = clone.repo.path().to_path_buf();
    let mut objects = Vec::new();
    for (path, pointer) in &pointers {
        if pointer.size == 0 {
            continue;
        }
        let file = store_path(&git_dir, &pointer.oid);
        if !file.is_file() {
            return Err(UserError::new(format!(
                "the LFS object of {path} ({}) is missing from .git/lfs/objects",
                short_hex(&pointer.oid)
            ))
            .hint(Hint::Verify)
            .into());
        }
        objects.push((
            LfsObject {
                oid: pointer.oid.clone(),
                size: pointer.size,
            },
            file,
        ));
    }
    Ok(objects)
}
