//! `hf-relay push`: publish what `build` prepared (see `ops::push` for the steps).

use crate::cli::PushArgs;
use crate::ops::push::{PushOptions, PushResult, push};
use crate::output::TerminalReporter;

pub fn run(args: PushArgs) -> anyhow::Result<()> {
    let clone = crate::ops::open_clone(&args.dir, &TerminalReporter)?;
    let options = PushOptions {
        private: super::private(&args.visibility),
        no_create: args.no_create,
        dry_run: args.dry_run,
        force: args.force,
    };
    let result = push(&clone, &options, &TerminalReporter)?;
    print_result(&result, args.json)
}

/// The dataset URL (and the commit URL after a real push), or the whole result as JSON.
pub fn print_result(result: &PushResult, json: bool) -> anyhow::Result<()> {
    let text = if json {
        serde_json::to_string_pretty(result)?
    } else if result.dry_run {
        result.dataset_url.clone()
    } else {
        format!("{}\n{}", result.dataset_url, result.commit_url)
    };
    super::print_stdout(&format!("{text}\n"))
}
