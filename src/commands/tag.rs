//! `hf-relay tag NAME [REV] [-m MESSAGE]`: an annotated release tag in the local clone, whose
//! default message says which dataset it is and how many rows each split has; `--list` shows
//! the tags.

use std::path::Path;

use anyhow::{Context as _, bail, ensure};

use crate::cli::TagArgs;
use crate::output::status;
use crate::repo::Clone;
use crate::repo::signature;
use crate::repo_id::from_dataset_url;
use crate::units::thousands;

const TAG_PREFIX: &str = "refs/tags/";

pub fn run(args: TagArgs) -> anyhow::Result<()> {
    if args.list {
        let clone = super::open_clone(&args.dir)?;
        return list(&clone);
    }
    let name = args.name.context("a tag name is required (or --list)")?;
    check_name(&name)?;
    let message = match args.message.as_deref() {
        Some(text) => {
            let text = git2::message_prettify(text, None).context("invalid tag message")?;
            ensure!(!text.trim().is_empty(), "the tag message is empty");
            Some(text)
        }
        None => None,
    };
    let rev = args.rev.as_deref().unwrap_or("HEAD");

    let clone = super::open_clone(&args.dir)?;
    let _lock = clone.lock()?;
    let reference = format!("{TAG_PREFIX}{name}");
    if clone.repo.find_reference(&reference).is_ok() {
        bail!("tag {name} already exists");
    }
    let commit = match clone.repo.revparse_single(rev) {
        Ok(object) => object
            .peel_to_commit()
            .with_context(|| format!("{rev:?} does not point to a commit"))?,
        Err(error) if error.code() == git2::ErrorCode::NotFound => {
            bail!("cannot find the commit {rev:?} in {}", args.dir.display())
        }
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read the revision {rev:?}"));
        }
    };
    let short = short_id(commit.as_object())?;
    let message = match message {
        Some(message) => message,
        None => default_message(&clone, &commit, &short)?,
    };
    let identities = signature::resolve(&clone.repo.config()?, &signature::process_env)?;
    clone
        .repo
        .tag(
            &name,
            commit.as_object(),
            &identities.committer,
            &message,
            false,
        )
        .map_err(|error| match error.code() {
            git2::ErrorCode::Exists => anyhow::anyhow!("tag {name} already exists"),
            _ => anyhow::Error::new(error).context(format!("cannot create tag {name}")),
        })?;
    status(format!(
        "Created tag {name} at {short}: {}",
        message.lines().next().unwrap_or_default()
    ));
    Ok(())
}

/// Tag names as git accepts them, and not shaped like an option.
fn check_name(name: &str) -> anyhow::Result<()> {
    ensure!(
        !name.starts_with('-') && git2::Reference::is_valid_name(&format!("{TAG_PREFIX}{name}")),
        "invalid tag name {name:?}: git refuses names with spaces, `..`, `~ ^ : ? * [ \\`, \
         control characters, a leading `-` or `.`, or a trailing `/`, `.` or `.lock` \
         (e.g. v1.0 or release/2026-01)"
    );
    Ok(())
}

/// `Dataset OWNER/NAME at abc1234`, then one line per split with its rows, from the card of
/// that commit (none when the card has no `dataset_info`).
fn default_message(
    clone: &Clone,
    commit: &git2::Commit<'_>,
    short: &str,
) -> anyhow::Result<String> {
    let dataset = match clone.origin_url().and_then(|url| from_dataset_url(&url)) {
        Ok(id) => id.to_string(),
        Err(_) => folder_name(&clone.root),
    };
    let mut message = format!("Dataset {dataset} at {short}\n");
    let splits = match split_lines(clone, commit) {
        Ok(lines) => lines,
        Err(error) => {
            status(format!(
                "warning: no row counts in the tag message: {:#}",
                error.context(format!("cannot read README.md at {short}"))
            ));
            Vec::new()
        }
    };
    if !splits.is_empty() {
        message.push('\n');
        for line in splits {
            message.push_str(&line);
            message.push('\n');
        }
    }
    Ok(message)
}

/// `train: 1,234 rows`, `en/test: 56 rows`, … from the README.md of `commit`.
fn split_lines(clone: &Clone, commit: &git2::Commit<'_>) -> anyhow::Result<Vec<String>> {
    let tree = commit.tree()?;
    let entry = match tree.get_path(Path::new("README.md")) {
        Ok(entry) => entry,
        Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    let blob = clone.repo.find_blob(entry.id())?;
    let text = std::str::from_utf8(blob.content()).context("README.md is not valid UTF-8")?;
    let mut lines = Vec::new();
    for config in crate::card::read_configs(text)? {
        let prefix = match config.config_name.as_str() {
            "default" => String::new(),
            name => format!("{name}/"),
        };
        for split in &config.splits {
            let rows = split.num_examples;
            lines.push(format!(
                "{prefix}{}: {} row{}",
                split.name,
                thousands(rows),
                if rows == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(lines)
}

/// One line per tag on stdout: `NAME  abc1234  subject of the tag message`.
fn list(clone: &Clone) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for reference in clone.repo.references_glob(&format!("{TAG_PREFIX}*"))? {
        let reference = reference?;
        let Ok(full) = reference.name() else { continue };
        let name = full.trim_start_matches(TAG_PREFIX).to_string();
        // An annotated tag's subject is its message's; a lightweight tag shows its commit's.
        let (target, subject) = match reference.peel_to_tag() {
            Ok(tag) => (
                tag.target()?,
                first_line(tag.message_bytes().unwrap_or_default()),
            ),
            Err(_) => {
                let object = reference.peel(git2::ObjectType::Any)?;
                let subject = object
                    .as_commit()
                    .map(|commit| first_line(commit.message_bytes()))
                    .unwrap_or_default();
                (object, subject)
            }
        };
        let target = match target.peel_to_commit() {
            Ok(commit) => commit.into_object(),
            Err(_) => target,
        };
        rows.push((name, short_id(&target)?, subject));
    }
    if rows.is_empty() {
        status("No tags yet; create one with `hf-relay tag NAME`");
        return Ok(());
    }
    rows.sort();
    let width = rows
        .iter()
        .map(|(name, ..)| name.chars().count())
        .max()
        .unwrap_or(0);
    for (name, short, subject) in rows {
        println!(
            "{}",
            format!("{name:<width$}  {short}  {subject}").trim_end()
        );
    }
    Ok(())
}

fn first_line(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.lines().next().unwrap_or_default().trim().to_string()
}

fn short_id(object: &git2::Object<'_>) -> anyhow::Result<String> {
    let short = object.short_id()?;
    Ok(short.as_str().unwrap_or_default().to_string())
}

fn folder_name(root: &Path) -> String {
    root.canonicalize()
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| root.display().to_string())
}
