//! How `build --json` shows its result.

use crate::ops::build_commit::BuildOutcome;

/// The result as JSON: the commit and the splits it wrote, or `cached` when the inputs and
/// options equal the last build's.
pub fn render_json(outcome: &BuildOutcome) -> serde_json::Result<String> {
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
    Ok(format!("{}\n", serde_json::to_string_pretty(&result)?))
}
