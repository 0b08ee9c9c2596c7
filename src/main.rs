use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_malloc_arenas();
    hf_relay::hub::prepare_process();
    let cli = hf_relay::cli::Cli::parse();
    match hf_relay::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(hf_relay::commands::report_error(&error)),
    }
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), and the shard
/// encoders' freed buffers stay spread over them: a 10 GB build peaked at 244 MiB with the
/// default and 174 MiB with two arenas, at the same speed (BENCHMARKS.md). Two arenas keep a
/// build's memory flat in the input's size.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
