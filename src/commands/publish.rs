//! `hf-relay publish`: open or make the repo's local clone, build, push (`ops::publish`).

use crate::cli::PublishArgs;
use crate::ops::publish::{PublishOptions, preview_card, publish};
use crate::ops::push::PushOptions;
use crate::output::TerminalReporter;
use crate::repo_id::RepoId;

pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let options = PublishOptions {
        repo_id: RepoId::parse(&args.repo_id)?,
        dir: args.dir,
        endpoint: crate::env::endpoint(args.endpoint.as_deref()),
        inputs: super::input_options(&args.inputs),
        card: super::card_options(&args.card),
        message: args.message,
        push: PushOptions {
            private: super::private(&args.visibility),
            no_create: false,
            dry_run: args.dry_run,
            force: false,
            ..PushOptions::default()
        },
    };
    if args.preview_card {
        let readme = preview_card(&options, &TerminalReporter)?;
        return super::print_stdout(&readme);
    }
    let result = publish(&options, &TerminalReporter)?;
    super::push::print_result(&result, args.json)
}
