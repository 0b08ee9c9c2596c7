//! `hf-relay tag NAME [REV] [-m MESSAGE]` and `hf-relay tag --list`.

use anyhow::Context as _;

use crate::cli::TagArgs;
use crate::ops::tag::{TagOptions, create, list};
use crate::output::{TerminalReporter, status};

pub fn run(args: TagArgs) -> anyhow::Result<()> {
    if args.list {
        let tags = list(&args.dir, &TerminalReporter)?;
        if tags.is_empty() {
            status("No tags yet; create one with `hf-relay tag NAME`");
            return Ok(());
        }
        return super::print_stdout(&crate::output::tag::render_list(&tags));
    }
    let options = TagOptions {
        dir: args.dir,
        name: args.name.context("a tag name is required (or --list)")?,
        rev: args.rev,
        message: args.message,
    };
    create(&options, &TerminalReporter)?;
    Ok(())
}
