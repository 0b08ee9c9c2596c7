//! `hf-relay build`: JSONL → Parquet shards + dataset card → one commit in the local clone.

use crate::cli::BuildArgs;
use crate::ops::build::{BuildOptions, build};
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
        let result = if outcome.cached {
            serde_json::json!({
                "repo_id": outcome.repo_id,
                "committed": false,
                "commit": null,
                "cached": true,
            })
        } else {
            serde_json::json!({
                "repo_id": outcome.repo_id,
                "committed": outcome.commit.is_some(),
                "commit": outcome.commit,
                "subject": outcome.subject,
                "splits": outcome.splits,
                "schema_changes": outcome.schema_changes,
            })
        };
        super::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&result)?))?;
    }
    Ok(())
}
