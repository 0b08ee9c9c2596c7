//! One file per command: clap arguments become an operation's options (`ops/`), the
//! operation runs with the terminal reporter, and its result is printed. Errors are printed
//! here, once, with their hints, and mapped to the exit code.

mod build;
mod card;
mod clone;
pub mod diagnose;
mod diff;
mod init;
mod log;
mod publish;
mod push;
mod status;
mod tag;
mod textconv;
mod verify;

use std::path::Path;

use anyhow::Context as _;

use crate::cli::{CardFlags, Cli, Command, Compression, InputArgs, OnTypeConflict, VisibilityArgs};
use crate::convert::Codec;
use crate::ops::build_commit::{CardOptions, InputOptions};
use crate::output::TerminalReporter;
use crate::repo::LocalClone;

/// Exit codes (documented in the README).
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_INTERRUPTED: u8 = 130;

pub fn run(cli: Cli) -> anyhow::Result<()> {
    crate::interrupt::install_handler();
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Build(args) => build::run(args),
        Command::Card(args) => card::run(args),
        Command::Push(args) => push::run(args),
        Command::Clone(args) => clone::run(args),
        Command::Tag(args) => tag::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Status(args) => status::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Log(args) => log::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Textconv(args) => textconv::run(args),
    }
}

/// Opens the clone at `dir` for a command that only reads it.
fn open_clone(dir: &Path) -> anyhow::Result<LocalClone> {
    crate::ops::open_clone(dir, &TerminalReporter)
}

fn input_options(args: &InputArgs) -> InputOptions {
    InputOptions {
        inputs: args.inputs.clone(),
        splits: args.splits.clone(),
        config: args.config.clone(),
        max_shard_bytes: args.max_shard_size,
        codec: match args.compression {
            Compression::Snappy => Codec::Snappy,
            Compression::Zstd => Codec::Zstd,
        },
        conflicts_as_json: args.on_type_conflict == OnTypeConflict::String,
        rewrite: args.rewrite,
    }
}

fn card_options(flags: &CardFlags) -> CardOptions {
    CardOptions {
        flags: crate::card::MetadataFlags {
            pretty_name: flags.pretty_name.clone(),
            license: flags.license.clone(),
            language: flags.language.clone(),
            task_categories: flags.task_category.clone(),
            tags: flags.tag.clone(),
            annotations_creators: flags.annotations_creators.clone(),
            source_datasets: flags.source_datasets.clone(),
        },
        template: flags.card_template.clone(),
    }
}

/// `--private` / `--public` as the visibility of a repo a push creates.
fn private(visibility: &VisibilityArgs) -> Option<bool> {
    match (visibility.private, visibility.public) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Writes a command's result; a closed pipe (`| head`) ends the output quietly.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// An exit code without a message: the command already said everything (`diff --exit-code`).
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct SilentExit(pub u8);

/// `Error: …`, the cause chain and the hints on stderr; returns the exit code.
pub fn report_error(error: &anyhow::Error) -> u8 {
    if let Some(SilentExit(code)) = error.downcast_ref::<SilentExit>() {
        return *code;
    }
    // Server text in the chain was sanitised where it was received; this is the last line of
    // defence for the terminal.
    use crate::output::stderr_line;
    let safe = |text: String| crate::sanitize::terminal(&text);
    for (i, line) in diagnose::chain_lines(error).into_iter().enumerate() {
        let label = if i == 0 { "Error" } else { "Caused by" };
        stderr_line(format_args!("{}", safe(format!("{label}: {line}"))));
    }
    let diagnosis = diagnose::diagnose(error);
    for hint in &diagnosis.hints {
        stderr_line(format_args!("{}", safe(format!("Hint: {hint}"))));
    }
    diagnosis.kind.exit_code()
}
