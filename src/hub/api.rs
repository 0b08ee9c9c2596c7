//! REST endpoints (hub-protocol.md §3): whoami, dataset info, create.

use serde::Deserialize;
use serde_json::json;

use super::http::{JSON, Method, Request};
use super::{HubClient, HubError, NoProgress};

/// The token's owner (`GET /api/whoami-v2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoAmI {
    pub name: String,
    /// Organizations the user belongs to (possible namespaces besides `name`).
    pub orgs: Vec<String>,
    /// The token's role (`read`, `write`, …), when the Hub says.
    pub role: Option<String>,
}

/// A dataset repo as the Hub sees it (`GET /api/datasets/OWNER/NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DatasetInfo {
    pub id: String,
    /// The commit `main` points to (`None` for an empty repo).
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub private: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    AlreadyExists,
}

#[derive(Deserialize)]
struct WhoAmIBody {
    name: String,
    #[serde(default)]
    orgs: Vec<Named>,
    #[serde(default)]
    auth: Option<AuthBody>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct AuthBody {
    #[serde(default, rename = "accessToken")]
    access_token: Option<AccessToken>,
}

#[derive(Deserialize)]
struct AccessToken {
    #[serde(default)]
    role: Option<String>,
}

const JSON_LIMIT: u64 = 16 * 1024 * 1024;

impl HubClient {
    /// Who the token belongs to. The Hub rate-limits this endpoint heavily: call it once.
    pub fn whoami(&self) -> Result<WhoAmI, HubError> {
        let url = format!("{}/api/whoami-v2", self.http.endpoint);
        let body: WhoAmIBody =
            self.http
                .retry("asking who the token belongs to", &NoProgress, || {
                    let response = self
                        .http
                        .send(&Request::new(Method::Get, &url).auth(), None)?;
                    self.http.read_json(response, Method::Get, &url, JSON_LIMIT)
                })?;
        Ok(WhoAmI {
            name: body.name,
            orgs: body.orgs.into_iter().map(|o| o.name).collect(),
            role: body.auth.and_then(|a| a.access_token).and_then(|t| t.role),
        })
    }

    /// The dataset, or `None` when it does not exist or this token cannot see it (404, and 401
    /// unless the Hub says the token itself is invalid).
    pub fn dataset_info(&self, repo_id: &str) -> Result<Option<DatasetInfo>, HubError> {
        let url = format!("{}/api/datasets/{repo_id}", self.http.endpoint);
        let result = self
            .http
            .retry(&format!("looking up {repo_id}"), &NoProgress, || {
                let response = self
                    .http
                    .send(&Request::new(Method::Get, &url).auth(), None)?;
                self.http
                    .read_json::<DatasetInfo>(response, Method::Get, &url, JSON_LIMIT)
            });
        match result {
            Ok(info) => Ok(Some(info)),
            Err(HubError::NotFound { .. }) => Ok(None),
            Err(HubError::Unauthorized {
                invalid_token: false,
                ..
            }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Creates the dataset repo; `private` sets the visibility (`None`: the namespace's
    /// default). An existing repo is [`CreateOutcome::AlreadyExists`], also when the token may
    /// not create (401/403) but can see the repo, as hfh's `exist_ok` does.
    pub fn create_dataset(
        &self,
        repo_id: &str,
        private: Option<bool>,
    ) -> Result<CreateOutcome, HubError> {
        let (organization, name) = match repo_id.split_once('/') {
            Some((owner, name)) => (Some(owner), name),
            None => (None, repo_id),
        };
        let mut body = json!({"type": "dataset", "name": name, "organization": organization});
        if let Some(private) = private {
            body["visibility"] = json!(if private { "private" } else { "public" });
        }
        let url = format!("{}/api/repos/create", self.http.endpoint);
        let result = self
            .http
            .retry(&format!("creating {repo_id}"), &NoProgress, || {
                let response =
                    self.http
                        .send_json(&Request::new(Method::Post, &url).auth(), JSON, &body)?;
                self.http.drain(response);
                Ok(())
            });
        match result {
            Ok(()) => Ok(CreateOutcome::Created),
            Err(HubError::Rejected { status: 409, .. }) => Ok(CreateOutcome::AlreadyExists),
            Err(err @ (HubError::Unauthorized { .. } | HubError::Forbidden { .. })) => {
                match self.dataset_info(repo_id) {
                    Ok(Some(_)) => Ok(CreateOutcome::AlreadyExists),
                    _ => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }
}

/// A discussion or pull request of a repo, as the discussions API describes it
/// (`POST`/`GET /api/datasets/OWNER/NAME/discussions[/NUM]`, as huggingface_hub's
/// `create_pull_request` and `get_discussion_details` call it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discussion {
    pub num: u64,
    /// `open`, `closed`, `merged` or `draft`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, rename = "isPullRequest")]
    pub is_pull_request: Option<bool>,
    #[serde(default, rename = "pullRequest")]
    pub pull_request: Option<bool>,
    #[serde(default)]
    pub title: Option<String>,
}

impl Discussion {
    /// Whether this is a pull request (the create answer says `pullRequest`, the details
    /// `isPullRequest`).
    pub fn is_pr(&self) -> bool {
        self.is_pull_request.or(self.pull_request).unwrap_or(false)
    }
}

impl HubClient {
    /// Opens a pull request on the dataset (`pullRequest: true`); the Hub creates its ref,
    /// `refs/pr/NUM`, at main. Sent once, never retried: a lost answer to a retried POST
    /// would open a second pull request.
    pub fn create_pull_request(
        &self,
        repo_id: &str,
        title: &str,
        description: &str,
    ) -> Result<Discussion, HubError> {
        let url = format!("{}/api/datasets/{repo_id}/discussions", self.http.endpoint);
        let body = json!({"title": title, "description": description, "pullRequest": true});
        let response =
            self.http
                .send_json(&Request::new(Method::Post, &url).auth(), JSON, &body)?;
        self.http
            .read_json(response, Method::Post, &url, JSON_LIMIT)
    }

    /// The discussion `num` of the dataset, `None` when the Hub has none of that number.
    pub fn discussion(&self, repo_id: &str, num: u64) -> Result<Option<Discussion>, HubError> {
        let url = format!(
            "{}/api/datasets/{repo_id}/discussions/{num}",
            self.http.endpoint
        );
        let result = self.http.retry(
            &format!("looking up discussion #{num} of {repo_id}"),
            &NoProgress,
            || {
                let response = self
                    .http
                    .send(&Request::new(Method::Get, &url).auth(), None)?;
                self.http
                    .read_json::<Discussion>(response, Method::Get, &url, JSON_LIMIT)
            },
        );
        match result {
            Ok(discussion) => Ok(Some(discussion)),
            Err(HubError::NotFound { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }
}
