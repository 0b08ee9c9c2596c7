//! `hf-relay build`: JSONL → Parquet shards + dataset card → one commit in the local clone.

use std::fmt::Write as _;

use anyhow::{Context, bail};

use super::build_cache::{self, Unchanged};
use super::next_state::{NextState, ShardStatus, SplitSummary, next_state};
use super::plan::BuildPlan;
use super::shard_records;
use crate::cli::BuildArgs;
use crate::convert::{self, Converted};
use crate::output::{BarProgress, status};
use crate::repo::CommitOutcome;
use crate::repo_id::from_dataset_url;
use crate::units::{human_bytes, plural, thousands};

pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let plan = BuildPlan::resolve(&args.inputs, &args.card)?;
    let clone = super::open_clone(&args.dir)?;
    let _lock = clone.lock()?;
    let repo_id = from_dataset_url(&clone.origin_url()?)?.to_string();

    if let Some(proof) = build_cache::unchanged(&clone, &repo_id, &plan) {
        let how = match proof {
            Unchanged::Stamps => "same size, mtime and inode",
            Unchanged::Contents(digests) => {
                // Only a cache: failing to refresh it costs the next build this check.
                let _ = build_cache::record(&clone, &plan, digests);
                "same SHA-256"
            }
        };
        status(format!(
            "Nothing to commit: the inputs and options are those of the last build ({how}), and HEAD holds its data and card."
        ));
        if args.json {
            let result = serde_json::json!({"repo_id": repo_id, "committed": false, "commit": null, "cached": true});
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
        return Ok(());
    }

    // Everything is written into a staging folder inside .git first; the clone only changes
    // in `commit`, once all of it has succeeded.
    let staging = clone.staging_dir()?;
    let progress = BarProgress::new();
    let previous = shard_records::previous(&clone, &plan);
    let converted = convert::convert_reusing(
        &plan.splits,
        staging.path(),
        &plan.options,
        &previous,
        &progress,
        crate::interrupt::flag(),
    );
    progress.finish();
    let converted = converted?;
    for split in &converted.splits {
        status(format!(
            "Converted {}: {} rows in {} shard{}",
            split.name,
            thousands(split.num_examples),
            split.shards.len(),
            plural(split.shards.len())
        ));
    }

    let state = next_state(&clone, &repo_id, &plan, &converted)?;
    if !state.schema_changes.is_empty() {
        let changes = state.schema_changes.join("; ");
        if args.strict_schema {
            bail!(
                "the build would change the schema ({changes}); nothing was written (drop --strict-schema to accept the change)"
            );
        }
        status(format!("Warning: the schema changes: {changes}"));
    }
    let message = commit_message(&plan, &state, &converted, args.message.as_deref());
    let subject = message.lines().next().unwrap_or_default().to_string();
    if crate::interrupt::interrupted() {
        return Err(convert::ConvertError::Interrupted.into());
    }
    let card_changed = clone.head_blob("README.md")?.as_deref() != Some(state.readme.as_bytes());
    let records = shard_records::of_build(&converted, &state);
    let NextState {
        changes,
        splits,
        schema_changes,
        ..
    } = state;
    let outcome = clone
        .commit(changes, &message)
        .context("cannot commit the build")?;
    let commit = match outcome {
        CommitOutcome::Unchanged => {
            status("Nothing to commit: the dataset and card equal HEAD.");
            None
        }
        CommitOutcome::Committed { id } => {
            if card_changed {
                status("Updated the dataset card (README.md)");
            }
            status(format!("Committed {} {subject}", &id.to_string()[..12]));
            Some(id.to_string())
        }
    };
    // Only a cache: failing to write it costs the next build its shortcut, nothing else.
    let digests = converted.inputs.iter().map(|(_, d)| d.clone()).collect();
    let _ = build_cache::record(&clone, &plan, digests);
    let _ = shard_records::record(&clone, &records);
    if args.json {
        let result = serde_json::json!({
            "repo_id": repo_id,
            "committed": commit.is_some(),
            "commit": commit,
            "subject": subject,
            "splits": splits,
            "schema_changes": schema_changes,
        });
        println!("{}", serde_json::to_string_pretty(&result)?);
    }
    Ok(())
}

fn rows_with_delta(split: &SplitSummary) -> String {
    let rows = thousands(split.num_examples);
    match split.previous_examples {
        None => format!("{rows} rows (new)"),
        Some(previous) if previous == split.num_examples => format!("{rows} rows (±0)"),
        Some(previous) if previous < split.num_examples => {
            format!(
                "{rows} rows (+{})",
                thousands(split.num_examples - previous)
            )
        }
        Some(previous) => format!(
            "{rows} rows (-{})",
            thousands(previous - split.num_examples)
        ),
    }
}

/// Subject, body (splits, shards, schema) and provenance trailers.
fn commit_message(
    plan: &BuildPlan,
    state: &NextState,
    converted: &Converted,
    subject: Option<&str>,
) -> String {
    let prefix = if plan.config_name == "default" {
        String::new()
    } else {
        format!("{}/", plan.config_name)
    };
    let subject = match subject {
        Some(subject) => subject.to_string(),
        None => {
            let parts: Vec<String> = state
                .splits
                .iter()
                .map(|s| {
                    format!(
                        "{prefix}{}: {} in {} shard{}",
                        s.name,
                        rows_with_delta(s).replace(" (new)", ""),
                        s.shards.len(),
                        plural(s.shards.len())
                    )
                })
                .collect();
            let verb = if state.splits.iter().all(|s| s.previous_examples.is_none()) {
                "Add"
            } else {
                "Update"
            };
            format!("{verb} {}", parts.join("; "))
        }
    };
    let mut body = String::new();
    let _ = writeln!(body, "Splits:");
    for split in &state.splits {
        let _ = writeln!(
            body,
            "  {prefix}{}: {}, {} shard{}, {} uncompressed",
            split.name,
            rows_with_delta(split),
            split.shards.len(),
            plural(split.shards.len()),
            human_bytes(split.num_bytes)
        );
    }
    let shard_lines: Vec<String> = state
        .splits
        .iter()
        .flat_map(|split| {
            let touched = split
                .shards
                .iter()
                .filter(|s| s.status != ShardStatus::Unchanged)
                .map(|s| {
                    let verb = if s.status == ShardStatus::Added {
                        "added"
                    } else {
                        "changed"
                    };
                    format!(
                        "  {verb:<8}{} ({} rows, {})",
                        s.path,
                        thousands(s.num_rows),
                        human_bytes(s.size)
                    )
                });
            let removed = split
                .removed_shards
                .iter()
                .map(|p| format!("  {:<8}{p}", "removed"));
            touched.chain(removed).collect::<Vec<_>>()
        })
        .collect();
    if !shard_lines.is_empty() {
        let _ = writeln!(body, "\nShards:");
        for line in shard_lines {
            let _ = writeln!(body, "{line}");
        }
    }
    if !state.schema_changes.is_empty() {
        let _ = writeln!(body, "\nSchema:");
        for line in &state.schema_changes {
            let _ = writeln!(body, "  {line}");
        }
    }
    let _ = writeln!(body);
    for (file, sha256) in &converted.inputs {
        let _ = writeln!(body, "Input: {} sha256:{sha256}", file.display());
    }
    let _ = writeln!(body, "Hf-Relay-Version: {}", env!("CARGO_PKG_VERSION"));
    format!("{subject}\n\n{body}")
}
