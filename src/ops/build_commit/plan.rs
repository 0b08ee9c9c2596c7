//! Turning build flags into one checked plan before anything is written.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::card::MetadataFlags;
use crate::convert::source::is_stdin;
use crate::convert::{Codec, Options, SplitInput};

/// The inputs of a build and how to convert them, as the user gave them.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// Files of split `train`, in order.
    pub inputs: Vec<PathBuf>,
    /// `NAME=FILE` specs of other splits, in order.
    pub splits: Vec<String>,
    /// The config (subset) name; `default` for the `data/` folder.
    pub config: String,
    /// Largest uncompressed shard, in bytes.
    pub max_shard_bytes: u64,
    pub codec: Codec,
    /// Store a column whose values conflict in type as JSON text instead of failing.
    pub conflicts_as_json: bool,
    /// Rewrite Parquet inputs with hf-relay's shard writer instead of adopting them.
    pub rewrite: bool,
}

/// The card flags of a build or preview.
#[derive(Debug, Clone, Default)]
pub struct CardOptions {
    pub flags: MetadataFlags,
    /// The body template for a first build.
    pub template: Option<PathBuf>,
}

/// Everything a build (or a card preview) will do, resolved and validated.
pub struct BuildPlan {
    pub config_name: String,
    /// `data` for the default config, else the config name.
    pub data_dir: String,
    pub splits: Vec<SplitInput>,
    pub options: Options,
    pub flags: MetadataFlags,
    pub template: Option<String>,
}

impl BuildPlan {
    pub fn resolve(inputs: &InputOptions, card: &CardOptions) -> anyhow::Result<BuildPlan> {
        let config_name = inputs.config.clone();
        check_config_name(&config_name)?;
        // A card flag the Hub would refuse stops here, before anything is converted or written.
        crate::card::validate::check_flags(&card.flags)?;
        // A control character would make README.md binary, which the Hub refuses; it would
        // fail only at the commit, after the conversion.
        if let Some(name) = &card.flags.pretty_name
            && name.chars().any(char::is_control)
        {
            bail!(
                "invalid --pretty-name {name:?}: the name of the dataset is one line of text, \
                 without control characters"
            );
        }
        let data_dir = if config_name == "default" {
            "data".to_string()
        } else {
            config_name.clone()
        };

        let mut splits: Vec<SplitInput> = Vec::new();
        let mut stdin_split: Option<String> = None;
        let mut add = |name: &str, file: &Path| -> anyhow::Result<()> {
            check_split_name(name)?;
            if is_stdin(file) {
                // Typed lines could not be stopped with Ctrl-C while a read waits for them.
                if std::io::stdin().is_terminal() {
                    bail!(
                        "standard input (`-`) is a terminal: pipe or redirect the JSONL into \
                         hf-relay, e.g. `producer | hf-relay build -` or `hf-relay build - < x.jsonl`"
                    );
                }
                // Standard input can be read once only.
                if let Some(first) = stdin_split.replace(name.to_string()) {
                    bail!(
                        "standard input (`-`) is given twice (split {first} and split {name}): \
                         it can be read once only"
                    );
                }
            }
            // A folder stands for its Parquet files, in name order.
            let files = if is_stdin(file) {
                vec![file.to_path_buf()]
            } else {
                let metadata = std::fs::metadata(file)
                    .with_context(|| format!("cannot read input {}", file.display()))?;
                if metadata.is_dir() {
                    crate::convert::adopt::folder_files(file).map_err(anyhow::Error::msg)?
                } else if metadata.is_file() {
                    vec![file.to_path_buf()]
                } else {
                    bail!("input {} is not a file or a folder", file.display());
                }
            };
            match splits.iter_mut().find(|s| s.name == name) {
                Some(split) => split.files.extend(files),
                None => splits.push(SplitInput {
                    name: name.to_string(),
                    files,
                }),
            }
            Ok(())
        };
        for file in &inputs.inputs {
            add("train", file)?;
        }
        for spec in &inputs.splits {
            let Some((name, file)) = spec.split_once('=') else {
                bail!("invalid --split {spec:?}: expected NAME=FILE, e.g. --split test=test.jsonl");
            };
            add(name, Path::new(file))?;
        }
        if splits.is_empty() {
            bail!("no input: give JSONL files (split train) or --split NAME=FILE");
        }

        let options = Options {
            max_shard_bytes: inputs.max_shard_bytes,
            codec: inputs.codec,
            conflicts_as_json: inputs.conflicts_as_json,
            rewrite: inputs.rewrite,
        };
        let template = match &card.template {
            Some(path) => Some(read_template(path)?),
            None => None,
        };
        Ok(BuildPlan {
            config_name,
            data_dir,
            splits,
            options,
            flags: card.flags.clone(),
            template,
        })
    }
}

pub fn read_template(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read card template {}", path.display()))
}

/// Split names as `datasets` accepts them: `^\w+(\.\w+)*$` (no dashes: they separate the
/// split from the shard number in file names).
pub fn check_split_name(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !valid {
        bail!(
            "invalid split name {name:?}: use letters, digits and '_' (dots between words), \
             e.g. train, validation, test"
        );
    }
    Ok(())
}

/// Config names become folder names: letters, digits, `-`, `_`, `.`; not `data` (reserved by
/// `datasets` for the default config) in any case, since `Data/` is `data/` on case-insensitive
/// file systems; not `README.md` (the card); no path tricks.
pub fn check_config_name(name: &str) -> anyhow::Result<()> {
    if name.eq_ignore_ascii_case("data") {
        bail!(
            "invalid config name {name:?}: `datasets` reserves \"data\" for the default config's \
             folder (in any case: file systems that ignore case would mix both)"
        );
    }
    if name.eq_ignore_ascii_case("README.md") {
        bail!("invalid config name {name:?}: its folder would replace the dataset card README.md");
    }
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        bail!("invalid config name {name:?}: use letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_split_name("train").is_ok());
        assert!(check_split_name("test.v2").is_ok());
        for bad in ["", "a-b", "../x", "a/b", ".x", "x."] {
            assert!(check_split_name(bad).is_err(), "{bad}");
        }
        assert!(check_config_name("en").is_ok());
        for bad in [
            "data",
            "Data",
            "README.md",
            "readme.MD",
            "..",
            "a/b",
            ".hidden",
            "",
        ] {
            assert!(check_config_name(bad).is_err(), "{bad}");
        }
    }
}
