//! `POST /api/validate-yaml` (hub-protocol.md §3.6): the Hub's own verdict on a README.md's
//! metadata, asked before anything is uploaded so a card the pre-receive hook would refuse
//! fails early and readably.

use serde::Deserialize;
use serde_json::json;

use super::http::{JSON, Method, Request};
use super::{HubClient, HubError, NoProgress};

/// What the Hub said of a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlVerdict {
    /// The Hub has no such endpoint (404): nothing was checked.
    NotOffered,
    Valid {
        warnings: Vec<String>,
    },
    /// 400: the Hub's error messages.
    Invalid {
        errors: Vec<String>,
    },
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    warnings: Vec<Message>,
}

const ANSWER_LIMIT: u64 = 1024 * 1024;

impl HubClient {
    /// Asks the Hub whether `readme` (a whole README.md) has metadata it accepts, as
    /// huggingface_hub's `RepoCard.validate` does.
    pub fn validate_yaml(&self, readme: &str) -> Result<YamlVerdict, HubError> {
        let url = format!("{}/api/validate-yaml", self.http.endpoint);
        let body = json!({"content": readme, "repoType": "dataset"});
        let result = self
            .http
            .retry("validating README.md with the Hub", &NoProgress, || {
                let response =
                    self.http
                        .send_json(&Request::new(Method::Post, &url).auth(), JSON, &body)?;
                self.http
                    .read_json::<Answer>(response, Method::Post, &url, ANSWER_LIMIT)
            });
        match result {
            Ok(answer) => Ok(YamlVerdict::Valid {
                warnings: answer.warnings.into_iter().map(|w| w.message).collect(),
            }),
            Err(HubError::NotFound { .. }) => Ok(YamlVerdict::NotOffered),
            Err(HubError::Rejected {
                status: 400,
                message,
                ..
            }) => Ok(YamlVerdict::Invalid {
                errors: message
                    .map(|m| m.split("; ").map(str::to_string).collect())
                    .unwrap_or_else(|| vec!["the Hub gave no reason".to_string()]),
            }),
            Err(err) => Err(err),
        }
    }
}
