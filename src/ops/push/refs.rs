//! Step 5 of `push`: the refs — the branch when it moves, and the tags the Hub lacks — pushed
//! once every LFS object they need is on the Hub, waiting while the Hub is still applying an
//! earlier update of the same ref.

use std::time::Duration;

use anyhow::Context;
use git2::Oid;

use super::{Destination, HubRefs, PushOptions, Target};
use crate::auth::Token;
use crate::ids::short_hex;
use crate::inspect;
use crate::ops::Reporter;
use crate::repo::{LocalClone, remote};

/// Step 5: the refs — main when it moves, and the tags the Hub lacks; returns the refspecs
/// pushed (or, with `--dry-run`, that would be).
pub(super) fn push_refs(
    clone: &LocalClone,
    target: &Target,
    hub_main: &HubRefs,
    destination: &Destination,
    head: Oid,
    options: &PushOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<Vec<String>> {
    crate::interrupt::check()?;
    let branch = clone.head_ref_name()?;
    let remote_ref = destination.remote_ref.as_str();
    let is_main = remote_ref == remote::MAIN;
    // A pull request's refs/pr/N carries commits only; tags go with main and branches.
    let with_tags = !remote_ref.starts_with("refs/pr/");
    // The ref only when it moves: a push that adds a tag to an unchanged main reports the tag
    // alone, as `git push` does. A new pull request's ref starts at main: it always moves.
    let main_moves = hub_main.tip != Some(head) || destination.integrate_from != remote_ref;
    let mut refspecs: Vec<String> = main_moves
        .then(|| format!("{branch}:{remote_ref}"))
        .into_iter()
        .collect();
    // The tags the fetch saw: a tag created on the Hub since then under a name we push makes
    // the push refuse that tag (as a second look could only narrow, never close, that window).
    let mut new_tags = Vec::new();
    for (name, target_id) in clone.tags()?.into_iter().filter(|_| with_tags) {
        if !hub_main
            .tags
            .iter()
            .any(|(remote_name, _)| *remote_name == name)
        {
            refspecs.push(format!("refs/tags/{name}:refs/tags/{name}"));
            new_tags.push((name, target_id.to_string()));
        }
    }
    let record = |reason: &str| -> anyhow::Result<()> {
        if is_main {
            clone.set_published_main(head, reason)
        } else {
            clone
                .repo
                .reference(
                    &remote::tracking_ref(remote_ref),
                    head,
                    true,
                    &format!("hf-relay: {reason}"),
                )
                .map(drop)
                .map_err(Into::into)
        }
        .context("cannot record the published state")
    };
    let hub_tags: Vec<(String, String)> = hub_main
        .tags
        .iter()
        .map(|(name, id)| (name.clone(), id.to_string()))
        .collect();
    if !main_moves && new_tags.is_empty() {
        reporter.status(&format!(
            "Everything up to date: the Hub's {} is at {}",
            destination.label(),
            short_hex(&head.to_string())
        ));
        record("up to date")?;
        // The fetch brought the tags made on the Hub since: they are not ours to push.
        if !options.dry_run && with_tags {
            inspect::record_pushed_tags(clone.repo.path(), &hub_tags)?;
        }
        return Ok(Vec::new());
    }
    if options.dry_run {
        reporter.status(&format!("Would push {}", refspecs.join(", ")));
        return Ok(refspecs);
    }
    push_refs_waiting_for_the_hub(clone, &target.token, &refspecs, options.force, reporter)?;
    record("pushed")?;
    let mut published = hub_tags;
    published.extend(new_tags);
    inspect::record_pushed_tags(clone.repo.path(), &published)?;
    reporter.status(&format!(
        "Pushed {}",
        refspecs
            .iter()
            .map(|spec| spec.rsplit(':').next().unwrap_or(spec))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(refspecs)
}

/// Pushes the refs; when the Hub refuses them only because another update of the same ref is
/// under way (the push of a killed earlier run may still be applied after its client is gone),
/// waits and tries again: either that update was ours and the push finds nothing to do, or it
/// was someone else's and the push fails as a non-fast-forward would.
fn push_refs_waiting_for_the_hub(
    clone: &LocalClone,
    token: &Token,
    refspecs: &[String],
    force: bool,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
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
                reporter.status(&format!(
                    "The Hub is busy updating a ref ({error}); trying again in {} ms",
                    wait.as_millis()
                ));
                crate::interrupt::sleep(wait)?;
            }
            result => return result.map(drop),
        }
    }
    remote::push(clone, token, refspecs, force).map(drop)
}
