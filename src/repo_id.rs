//! Hub repository ids (`OWNER/NAME`), validated as huggingface_hub's `validate_repo_id` does:
//! letters, digits, `-`, `_`, `.`; no `--` or `..`; no leading or trailing `-`/`.`; at most 96
//! characters per part.

use std::fmt;

use anyhow::bail;

use crate::net::Origin;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoId {
    pub owner: String,
    pub name: String,
}

const MAX_PART_LEN: usize = 96;

impl RepoId {
    pub fn parse(text: &str) -> anyhow::Result<RepoId> {
        let Some((owner, name)) = text.split_once('/') else {
            bail!(
                "invalid repo id {text:?}: expected OWNER/NAME (e.g. you/friction-disagreement-v2)"
            );
        };
        check_part(text, "owner", owner)?;
        check_part(text, "name", name)?;
        if name.ends_with(".git") {
            bail!("invalid repo id {text:?}: the name must not end with .git");
        }
        Ok(RepoId {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

fn check_part(full: &str, what: &str, part: &str) -> anyhow::Result<()> {
    if part.is_empty() {
        bail!("invalid repo id {full:?}: the {what} is empty; expected OWNER/NAME");
    }
    if part.len() > MAX_PART_LEN {
        bail!("invalid repo id {full:?}: the {what} is longer than {MAX_PART_LEN} characters");
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        bail!(
            "invalid repo id {full:?}: {bad:?} is not allowed in the {what} \
             (use letters, digits, '-', '_' and '.')"
        );
    }
    if part.contains("--") || part.contains("..") {
        bail!("invalid repo id {full:?}: '--' and '..' are not allowed");
    }
    if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
        bail!("invalid repo id {full:?}: the {what} must not start or end with '-' or '.'");
    }
    Ok(())
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// The git URL of a dataset repo on `endpoint`.
pub fn dataset_url(endpoint: &str, repo_id: &RepoId) -> String {
    format!("{endpoint}/datasets/{repo_id}")
}

/// Recovers the repo id from a dataset remote URL (`…/datasets/OWNER/NAME[.git]`).
pub fn from_dataset_url(url: &str) -> anyhow::Result<RepoId> {
    DatasetUrl::parse(url).map(|dataset| dataset.repo_id)
}

/// A dataset remote URL (`{endpoint}/datasets/OWNER/NAME[.git]`), read once: the repository,
/// the endpoint its REST and LFS calls go to, and the [`Origin`] its token is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetUrl {
    pub repo_id: RepoId,
    pub endpoint: String,
    /// `None` for a remote that is not `http(s)://` (a local path in tests).
    pub origin: Option<Origin>,
}

impl DatasetUrl {
    pub fn parse(url: &str) -> anyhow::Result<DatasetUrl> {
        let trimmed = url.trim_end_matches('/').trim_end_matches(".git");
        let Some((endpoint, path)) = trimmed.rsplit_once("/datasets/") else {
            bail!("remote URL {url:?} is not a Hub dataset URL (…/datasets/OWNER/NAME)");
        };
        Ok(DatasetUrl {
            repo_id: RepoId::parse(path)?,
            endpoint: endpoint.to_string(),
            origin: Origin::of(url),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hub_ids() {
        assert_eq!(
            RepoId::parse("you/friction-disagreement-v2").unwrap().name,
            "friction-disagreement-v2"
        );
        assert!(RepoId::parse("a_b/c.d").is_ok());
    }

    #[test]
    fn rejects_bad_ids() {
        for bad in [
            "noslash", "a/b/c", "/x", "x/", "a/b--c", "a/b..c", "a/-b", "a/b.", "a/b c", "a/b.git",
        ] {
            assert!(RepoId::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(RepoId::parse(&format!("a/{}", "x".repeat(97))).is_err());
    }

    #[test]
    fn url_round_trip() {
        let id = RepoId::parse("o/n").unwrap();
        let url = dataset_url("http://127.0.0.1:9", &id);
        assert_eq!(from_dataset_url(&url).unwrap(), id);
        assert_eq!(
            from_dataset_url("https://huggingface.co/datasets/o/n.git").unwrap(),
            id
        );
        let parsed = DatasetUrl::parse("https://HuggingFace.co/datasets/o/n.git").unwrap();
        assert_eq!(parsed.endpoint, "https://HuggingFace.co");
        assert_eq!(parsed.origin.unwrap().to_string(), "https://huggingface.co");
    }
}
