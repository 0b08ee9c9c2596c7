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
        let width = tags
            .iter()
            .map(|tag| tag.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for tag in tags {
            let line = format!("{:<width$}  {}  {}", tag.name, tag.short, tag.subject);
            out.push_str(line.trim_end());
            out.push('\n');
        }
        return super::print_stdout(&out);
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
