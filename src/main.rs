use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = hf_relay::cli::Cli::parse();
    match hf_relay::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(hf_relay::commands::report_error(&error)),
    }
}
