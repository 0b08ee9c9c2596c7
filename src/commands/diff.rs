//! `hf-relay diff`: the card, the data per split and the schema between two states; by
//! default the last published state (origin/main, else the first commit) and the working tree.

use std::io::IsTerminal as _;

use super::SilentExit;
use crate::cli::DiffArgs;
use crate::inspect::{self, DatasetState, RowOptions};
use crate::output::diff::{render, render_stat};

pub fn run(args: DiffArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let old = match &args.from {
        Some(rev) => DatasetState::at_rev(&clone, rev)?,
        None => DatasetState::published_or_first(&clone)?,
    };
    let new = match &args.to {
        Some(rev) => DatasetState::at_rev(&clone, rev)?,
        None => DatasetState::worktree(&clone)?.0,
    };
    let mut diff = inspect::diff(&old, &new);
    let options = RowOptions {
        max_rows: if args.stat { 0 } else { args.rows },
        key: args.key.clone(),
    };
    inspect::add_row_diffs(&clone, &old, &new, &mut diff, &options)?;
    let from = old.label(&clone);
    let to = new.label(&clone);

    if args.json {
        let side = |state: &DatasetState, label: &str| {
            serde_json::json!({
                "label": label,
                "commit": state.source.commit().map(|id| id.to_string()),
            })
        };
        let mut value = serde_json::to_value(&diff)?;
        value["from"] = side(&old, &from);
        value["to"] = side(&new, &to);
        value["differences"] = diff.has_changes().into();
        super::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
    } else if !diff.has_changes() {
        crate::output::status(format!("No differences between {from} and {to}."));
    } else {
        let colour = std::io::stdout().is_terminal();
        let text = if args.stat {
            render_stat(&diff)
        } else {
            render(&diff, &from, &to, colour)
        };
        super::print_stdout(&text)?;
    }
    if args.exit_code && diff.has_changes() {
        return Err(SilentExit(super::EXIT_FAILURE).into());
    }
    Ok(())
}
