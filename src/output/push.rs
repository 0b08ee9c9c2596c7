//! How `push` and `publish` show their result.

use crate::ops::push::PushResult;

/// The dataset URL (and the commit URL after a real push, the pull request's after one was
/// opened), or the whole result as JSON.
pub fn render(result: &PushResult, json: bool) -> serde_json::Result<String> {
    let text = if json {
        serde_json::to_string_pretty(result)?
    } else if result.dry_run {
        result.dataset_url.clone()
    } else if let Some(pr) = &result.pull_request {
        format!("{}\n{}\n{}", result.dataset_url, result.commit_url, pr.url)
    } else {
        format!("{}\n{}", result.dataset_url, result.commit_url)
    };
    Ok(format!("{text}\n"))
}
