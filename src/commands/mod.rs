//! One orchestration function per command: flags in, library calls, status out.

mod build;
mod build_cache;
mod card;
mod clone;
mod diff;
mod init;
mod integrate;
mod log;
mod next_state;
mod plan;
mod publish;
mod push;
mod shard_records;
mod status;
mod tag;
mod verify;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::convert::ConvertError;
use crate::output::status;
use crate::repo::Clone;

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
    }
}

/// Opens the clone at `dir`, saying so when opening it completed a commit a killed hf-relay
/// had left half-applied.
pub(crate) fn open_clone(dir: &Path) -> anyhow::Result<Clone> {
    let clone = Clone::open(dir)?;
    if let Some(recovered) = &clone.recovered {
        status(format!(
            "Completed the interrupted commit {} {} (an hf-relay process was killed while \
             putting it in place)",
            &recovered.commit.to_string()[..12],
            recovered.subject
        ));
    }
    Ok(clone)
}

/// An exit code without a message: the command already said everything (`diff --exit-code`).
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct SilentExit(pub u8);

/// `Error: …` with the cause chain on stderr; returns the exit code.
pub fn report_error(error: &anyhow::Error) -> u8 {
    if let Some(SilentExit(code)) = error.downcast_ref::<SilentExit>() {
        return *code;
    }
    eprintln!("Error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("Caused by: {cause}");
    }
    let interrupted = error.chain().any(|cause| {
        cause.is::<crate::interrupt::Interrupted>()
            || matches!(
                cause.downcast_ref::<ConvertError>(),
                Some(ConvertError::Interrupted)
            )
    });
    if interrupted {
        eprintln!("Hint: nothing was written; the clone is as it was.");
        EXIT_INTERRUPTED
    } else {
        EXIT_FAILURE
    }
}
