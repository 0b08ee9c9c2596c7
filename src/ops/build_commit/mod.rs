//! `build`: JSONL → Parquet shards + dataset card → one commit in the local clone.
//!
//! - `plan`: the options resolved and checked before anything is written;
//! - `head`: what the build needs of HEAD, read once;
//! - `cache`: the proof that a rebuild would change nothing (stamps, else SHA-256);
//! - `next_state`: what the next commit holds (shards, card, summary);
//! - `message`: the commit message and its provenance trailers;
//! - `records`: the row digests of the last build's shards, so unchanged ones are reused;
//! - `row_hashes`: every row's hash of the last build, for the row delta of the next.

mod cache;
mod head;
mod message;
mod next_state;
mod plan;
mod records;
mod row_hashes;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

pub use self::head::HeadState;
pub use self::next_state::{ShardStatus, ShardSummary, SplitSummary, next_state};
pub use self::plan::{
    BuildPlan, CardOptions, InputOptions, check_config_name, check_split_name, read_template,
};
use super::Reporter;
use crate::convert;
use crate::ids::short_hex;
use crate::repo::{Change, CommitOutcome};
use crate::repo_id::from_dataset_url;
use crate::units::plural;

/// What `build` is asked to do.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub dir: PathBuf,
    pub inputs: InputOptions,
    pub card: CardOptions,
    /// The commit subject instead of the generated one.
    pub message: Option<String>,
    /// Refuse a build that would change the schema of existing data.
    pub strict_schema: bool,
}

/// What a build did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildOutcome {
    pub repo_id: String,
    /// The new commit, `None` when the result equals HEAD.
    pub commit: Option<String>,
    /// The conversion was skipped: the inputs and options are the last build's.
    pub cached: bool,
    pub subject: Option<String>,
    pub splits: Vec<SplitSummary>,
    pub schema_changes: Vec<String>,
}

pub fn build(options: &BuildOptions, reporter: &dyn Reporter) -> anyhow::Result<BuildOutcome> {
    let plan = BuildPlan::resolve(&options.inputs, &options.card)?;
    let clone = super::open_clone(&options.dir, reporter)?;
    let _lock = clone.lock()?;
    let repo_id = from_dataset_url(&clone.origin_url()?)?.to_string();

    let head = HeadState::read(&clone, &plan.data_dir)?;
    if let Some(proof) = cache::unchanged(&clone, &head, &repo_id, &plan) {
        let how = match proof {
            cache::Unchanged::Stamps => "same size, mtime and inode",
            cache::Unchanged::Contents(digests) => {
                // Only a cache: failing to refresh it costs the next build this check.
                let _ = cache::record(&clone, &plan, digests);
                "same SHA-256"
            }
        };
        reporter.status(&format!(
            "Nothing to commit: the inputs and options are those of the last build ({how}), and HEAD holds its data and card."
        ));
        return Ok(BuildOutcome {
            repo_id,
            commit: None,
            cached: true,
            subject: None,
            splits: Vec::new(),
            schema_changes: Vec::new(),
        });
    }

    // Everything is written into a staging folder inside .git first; the clone only changes
    // in `commit`, once all of it has succeeded.
    let staging = clone.staging_dir()?;
    let bar = reporter.conversion();
    let previous = records::previous(&clone, &head, &plan);
    let converted = convert::convert(&convert::Conversion {
        splits: &plan.splits,
        out_dir: staging.path(),
        options: &plan.options,
        previous: &previous,
        progress: &*bar,
        interrupted: crate::interrupt::flag(),
    });
    bar.finish();
    drop(bar);
    let converted = converted?;
    for (file, reason) in &converted.rewritten {
        reporter.status(&format!(
            "Rewrote {} with hf-relay's shard writer: {reason}",
            file.display()
        ));
    }
    for split in &converted.splits {
        let skipped = match split.skipped_shards {
            0 => String::new(),
            n => format!(
                " (the first {n} unchanged, taken from the last build without decoding them)"
            ),
        };
        reporter.status(&format!(
            "Converted {}: {} in {} shard{}{skipped}",
            split.name,
            crate::units::rows(split.num_examples),
            split.shards.len(),
            plural(split.shards.len())
        ));
    }

    let mut state = next_state(&head, &repo_id, &plan, &converted)?;
    row_hashes::add_deltas(&clone, &head, &plan, &converted, &mut state.splits);
    // `verify` and `push` would refuse the commit, and `datasets` could not read the config.
    if let Some(misfit) = &state.misfit {
        return Err(misfit.error().into());
    }
    // A value the Hub would refuse that is already in the card (a hand edit): `push` refuses it.
    for problem in crate::card::validate::validate_readme(&state.readme)? {
        reporter.warning(&format!(
            "README.md {problem} (push will refuse this card; see `hf-relay card --check`)"
        ));
    }
    if !state.schema_changes.is_empty() {
        let changes = state.schema_changes.join("; ");
        if options.strict_schema {
            return Err(crate::ops::UserError::new(format!(
                "the build would change the schema ({changes}); nothing was written"
            ))
            .hint(crate::ops::Hint::AcceptSchemaChange)
            .into());
        }
        reporter.warning(&format!("the schema changes: {changes}"));
    }
    let message = message::commit_message(
        &clone.root,
        &plan,
        &state,
        &converted,
        options.message.as_deref(),
        head.committed_readme
            .as_deref()
            .and_then(|bytes| std::str::from_utf8(bytes).ok()),
    );
    let subject = message.lines().next().unwrap_or_default().to_string();
    if crate::interrupt::interrupted() {
        return Err(crate::interrupt::Interrupted.into());
    }
    let card_changed = head.committed_readme.as_deref() != Some(state.readme.as_bytes());
    let shard_records = records::of_build(&converted, &state);
    let next_state::NextState {
        mut changes,
        splits,
        schema_changes,
        ..
    } = state;
    changes.retain(|change| !already_in_place(&clone.root, &head, change));
    for change in &changes {
        if let Change::LfsHashed { staged, .. } = change {
            own_file(staged)
                .with_context(|| format!("cannot stage a copy of {}", staged.display()))?;
        }
    }
    let outcome = clone
        .commit(changes, &message)
        .context("cannot commit the build")?;
    let commit = match outcome {
        CommitOutcome::Unchanged => {
            reporter.status("Nothing to commit: the dataset and card equal HEAD.");
            None
        }
        CommitOutcome::Committed { id } => {
            if card_changed {
                reporter.status("Updated the dataset card (README.md)");
            }
            let id = id.to_string();
            reporter.status(&format!("Committed {} {subject}", short_hex(&id)));
            Some(id)
        }
    };
    // Only a cache: failing to write it costs the next build its shortcut, nothing else.
    let digests = converted.inputs.iter().map(|(_, d)| d.clone()).collect();
    let _ = cache::record(&clone, &plan, digests);
    let _ = records::record(&clone, &shard_records);
    row_hashes::record_build(&clone, &plan, &converted, &splits);
    Ok(BuildOutcome {
        repo_id,
        commit,
        cached: false,
        subject: Some(subject),
        splits,
        schema_changes,
    })
}

/// A reused shard, staged as a symbolic link to its LFS object, whose path in HEAD already
/// has that pointer and in the working tree that very file: the commit has nothing to change
/// there (and the file, untouched, stays clean for git's index).
fn already_in_place(root: &Path, head: &HeadState, change: &Change) -> bool {
    let Change::LfsHashed {
        path,
        staged,
        pointer,
    } = change
    else {
        return false;
    };
    if head.pointer(path) != Some(pointer) {
        return false;
    }
    let (Ok(staged), Ok(current)) = (
        std::fs::metadata(staged),
        std::fs::symlink_metadata(root.join(path)),
    ) else {
        return false;
    };
    current.is_file() && staged.dev() == current.dev() && staged.ino() == current.ino()
}

/// A reused shard staged as a symbolic link becomes a copy of its own, for the commit to move
/// into the working tree.
fn own_file(staged: &Path) -> std::io::Result<()> {
    if !std::fs::symlink_metadata(staged)?.file_type().is_symlink() {
        return Ok(());
    }
    let source = std::fs::read_link(staged)?;
    std::fs::remove_file(staged)?;
    std::fs::copy(source, staged)?;
    Ok(())
}
