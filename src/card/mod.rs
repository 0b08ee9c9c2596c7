//! The dataset card (README.md): YAML front matter + Markdown body.
//!
//! Machine-owned keys (`dataset_info`, `configs`, `size_categories`) are regenerated on every
//! build; every other key is kept in its order. The body comes from a template on first build;
//! later builds refresh only the generated blocks between markers and never touch the prose.
//! Never prints; returns text.

use crate::features::Feature;

/// Statistics of one split, as written under `dataset_info.splits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitInfo {
    pub name: String,
    /// Uncompressed Arrow size estimate of the split's data.
    pub num_bytes: u64,
    pub num_examples: u64,
}

/// Everything the card says about one config (subset) of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInfo {
    pub config_name: String,
    /// Folder of the config's shards: `data` for `default`, else the config name.
    pub data_dir: String,
    pub features: Vec<(String, Feature)>,
    pub splits: Vec<SplitInfo>,
    /// Total size in bytes of the config's Parquet files.
    pub download_size: u64,
}

/// Card metadata given on the command line; `None`/empty means "keep what the card has".
#[derive(Debug, Clone, Default)]
pub struct MetadataFlags {
    pub pretty_name: Option<String>,
    pub license: Option<String>,
    pub language: Vec<String>,
    pub task_categories: Vec<String>,
    pub tags: Vec<String>,
    pub annotations_creators: Vec<String>,
    pub source_datasets: Vec<String>,
}

/// What the card of the next commit is made of.
pub struct CardRequest<'a> {
    /// `OWNER/NAME`.
    pub repo_id: &'a str,
    /// The current README.md text, if the clone has one.
    pub existing: Option<&'a str>,
    /// A body template (used only when the current README has no body yet).
    pub template: Option<&'a str>,
    /// The config this build produced, with all its splits.
    pub config: &'a ConfigInfo,
    pub flags: &'a MetadataFlags,
}

/// Renders the full README.md text.
pub fn render(request: &CardRequest) -> anyhow::Result<String> {
    let _ = request;
    todo!()
}

/// Reads the config entries of `dataset_info` from an existing card (empty when there are none),
/// so a build can report deltas and keep the splits it does not rebuild.
pub fn read_configs(readme: &str) -> anyhow::Result<Vec<ConfigInfo>> {
    let _ = readme;
    todo!()
}
