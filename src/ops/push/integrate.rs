//! Integrating the Hub's `main` into the local branch before a push, without force: the initial
//! commit of a new Hub repo (its `.gitattributes`), or edits made on the Hub since the last
//! publish (e.g. the card edited on the website). The result is a merge commit, so the push is
//! a fast-forward and nothing on the Hub is lost.

use anyhow::{Context, bail};
use git2::{Oid, Tree};

use crate::card::{CardRequest, MetadataFlags, merge_cards, read_configs, render};
use crate::ops::{Hint, UserError};
use crate::repo::lfs::Pointer;
use crate::repo::{Change, LocalClone};
use crate::repo_id::DatasetUrl;

/// Merges `remote_tip` into HEAD when HEAD does not already contain it; returns the merge
/// commit. Conflicts stop with a message and leave the clone as it was.
pub fn integrate(clone: &LocalClone, remote_tip: Oid) -> anyhow::Result<Option<Oid>> {
    integrate_ref(clone, remote_tip, "main")
}

/// [`integrate`] of the Hub's `label` (`main`, a branch, `refs/pr/N`): the same merge, the
/// message naming that ref.
pub fn integrate_ref(
    clone: &LocalClone,
    remote_tip: Oid,
    label: &str,
) -> anyhow::Result<Option<Oid>> {
    let repo = &clone.repo;
    let head = repo.head()?.peel_to_commit()?;
    if head.id() == remote_tip || repo.graph_descendant_of(head.id(), remote_tip)? {
        return Ok(None);
    }
    let theirs = repo
        .find_commit(remote_tip)
        .with_context(|| format!("cannot read the Hub's {label}"))?;
    let base = repo.merge_base(head.id(), remote_tip).ok();
    let base_tree = match base {
        Some(id) => Some(repo.find_commit(id)?.tree()?),
        None => None,
    };
    let ours_tree = head.tree()?;
    let theirs_tree = theirs.tree()?;

    let diff = repo.diff_tree_to_tree(base_tree.as_ref(), Some(&theirs_tree), None)?;
    let mut changes = Vec::new();
    for delta in diff.deltas() {
        let Some(path) = delta.new_file().path().or(delta.old_file().path()) else {
            continue;
        };
        let path = path.to_string_lossy().replace('\\', "/");
        let ours_blob = blob_at(&ours_tree, &path);
        let theirs_blob = blob_at(&theirs_tree, &path);
        let base_blob = base_tree.as_ref().and_then(|t| blob_at(t, &path));
        if ours_blob == theirs_blob {
            continue;
        }
        let take_theirs = ours_blob == base_blob;
        let resolved = if take_theirs {
            match theirs_blob {
                None => Change::Delete { path },
                Some(id) => {
                    let bytes = repo.find_blob(id)?.content().to_vec();
                    if Pointer::parse(&bytes).is_some() {
                        bail!(
                            "the Hub has data this clone lacks ({path} changed there since the \
                             last publish); start from a fresh `hf-relay clone`, or push with \
                             --force to overwrite the Hub's version"
                        );
                    }
                    Change::File { path, bytes }
                }
            }
        } else {
            let text = |id: Option<Oid>| -> anyhow::Result<Option<String>> {
                id.map(|id| Ok(String::from_utf8_lossy(repo.find_blob(id)?.content()).into_owned()))
                    .transpose()
            };
            let (ours_text, theirs_text) = (text(ours_blob)?, text(theirs_blob)?);
            match (path.as_str(), ours_text, theirs_text) {
                ("README.md", Some(ours), Some(theirs)) => {
                    let base_text = text(base_blob)?;
                    let merged = merge_cards(base_text.as_deref(), &ours, &theirs)?;
                    let merged = refresh_generated(clone, &ours, merged)?;
                    Change::File {
                        path,
                        bytes: merged.into_bytes(),
                    }
                }
                (".gitattributes", Some(ours), Some(theirs)) => Change::File {
                    path,
                    bytes: union_lines(&ours, &theirs).into_bytes(),
                },
                (_, ours, theirs) => {
                    let data = [ours, theirs]
                        .iter()
                        .flatten()
                        .any(|text| Pointer::parse(text.as_bytes()).is_some());
                    return Err(both_changed(&path, label, data).into());
                }
            }
        };
        changes.push(resolved);
    }
    let local = clone
        .branch
        .strip_prefix("refs/heads/")
        .unwrap_or(&clone.branch);
    let message = format!(
        "Merge the Hub's {label} ({}) into the local {local}\n\nIntegrates what was published on \
         the Hub since the last push, keeping the Hub's card edits and this clone's data.\n",
        crate::ids::short_hex(&remote_tip.to_string())
    );
    let id = clone
        .merge_commit(changes, &message, remote_tip)
        .context("cannot commit the merge")?;
    Ok(Some(id))
}

/// `path` changed on both sides: the error, with the steps that resolve it by hand in the
/// clone (the push's fetch left the Hub's `label` in its remote-tracking ref). Data (an LFS
/// file) cannot be merged line by line: the way is to keep this clone's, recording the Hub's
/// commits as merged.
fn both_changed(path: &str, label: &str, data: bool) -> UserError {
    let remote_ref = match label.starts_with("refs/") {
        true => label.to_string(),
        false => format!("refs/heads/{label}"),
    };
    let tracking = crate::repo::remote::tracking_ref(&remote_ref);
    let tracking = tracking.trim_start_matches("refs/remotes/");
    let error = UserError::new(format!(
        "{path} was changed both here and on the Hub's {label} since the last publish; nothing \
         was pushed"
    ));
    let tracking = tracking.to_string();
    let error = if data {
        error.hint(Hint::KeepLocalData { tracking })
    } else {
        error.hint(Hint::ResolveByHand {
            tracking,
            path: path.to_string(),
        })
    };
    error.hint(Hint::ForcePush)
}

/// Regenerates the machine-owned parts of a merged card from our data (the Hub's side may
/// carry older tables).
fn refresh_generated(clone: &LocalClone, ours: &str, merged: String) -> anyhow::Result<String> {
    let repo_id = DatasetUrl::parse(&clone.origin_url()?)?.repo_id.to_string();
    let mut card = merged;
    for config in read_configs(ours)? {
        card = render(&CardRequest {
            repo_id: &repo_id,
            existing: Some(&card),
            template: None,
            config: &config,
            flags: &MetadataFlags::default(),
        })?;
    }
    Ok(card)
}

fn blob_at(tree: &Tree, path: &str) -> Option<Oid> {
    tree.get_path(std::path::Path::new(path))
        .ok()
        .map(|entry| entry.id())
}

/// Our lines, then theirs that we lack.
fn union_lines(ours: &str, theirs: &str) -> String {
    let mut out = ours.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let known: std::collections::HashSet<&str> = ours.lines().map(str::trim).collect();
    for line in theirs.lines() {
        if !line.trim().is_empty() && !known.contains(line.trim()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
