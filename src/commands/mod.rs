//! One orchestration function per command.

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(_) => todo!(),
        Command::Build(_) => todo!(),
        Command::Card(_) => todo!(),
    }
}

/// `Error: …` with the cause chain on stderr.
pub fn report_error(error: &anyhow::Error) {
    eprintln!("Error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("Caused by: {cause}");
    }
}
