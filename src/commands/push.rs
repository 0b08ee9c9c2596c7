//! `hf-relay push`: publish what `build` prepared (see `ops::push` for the steps).

use crate::cli::PushArgs;
use crate::ops::push::{PushOptions, PushResult, PushTo, push};
use crate::output::TerminalReporter;

pub fn run(args: PushArgs) -> anyhow::Result<()> {
    let clone = crate::ops::open_clone(&args.dir, &TerminalReporter)?;
    let options = PushOptions {
        private: super::private(&args.visibility),
        no_create: args.no_create,
        dry_run: args.dry_run,
        force: args.force,
        to: match (args.branch, args.create_pr, args.pr) {
            (Some(branch), ..) if branch != "main" => PushTo::Branch(branch),
            (_, true, _) => PushTo::NewPullRequest {
                title: args.title,
                description: args.description,
            },
            (_, _, Some(num)) => PushTo::PullRequest(num),
            _ => PushTo::Main,
        },
    };
    let result = push(&clone, &options, &TerminalReporter)?;
    print_result(&result, args.json)
}

/// The result on stdout (`output::push`).
pub fn print_result(result: &PushResult, json: bool) -> anyhow::Result<()> {
    super::print_stdout(&crate::output::push::render(result, json)?)
}
