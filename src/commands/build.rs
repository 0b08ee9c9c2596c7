//! `hf-relay build`: JSONL → Parquet shards + dataset card → one commit in the local clone.

use crate::cli::BuildArgs;
use crate::ops::build_commit::{BuildOptions, build};
use crate::output::TerminalReporter;

pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let options = BuildOptions {
        dir: args.dir,
        inputs: super::input_options(&args.inputs),
        card: super::card_options(&args.card),
        message: args.message,
        strict_schema: args.strict_schema,
    };
    let outcome = build(&options, &TerminalReporter)?;
    if args.json {
        super::print_stdout(&crate::output::build::render_json(&outcome)?)?;
    }
    Ok(())
}
