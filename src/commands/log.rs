//! `hf-relay log`: the history, newest first, with the dataset at each commit.

use crate::cli::LogArgs;
use crate::inspect;

pub fn run(args: LogArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let entries = inspect::log(&clone)?;
    if args.json {
        return super::print_stdout(&crate::output::log::render_json(&entries)?);
    }
    let remote = inspect::remote_ref(&clone)
        .trim_start_matches("refs/remotes/")
        .to_string();
    super::print_stdout(&crate::output::log::render(&entries, &remote, args.oneline))
}
