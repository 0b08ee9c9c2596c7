//! Three-way merge of dataset cards, for integrating edits made on the Hub (e.g. the README
//! edited on the website) with a local build.
//!
//! The data is ours, so the machine-owned keys come from our card. Every other key merges by
//! key: a key changed on one side only takes that side's value; changed on both sides to
//! different values is a conflict. The body merges as a whole: whichever side changed it wins;
//! both sides changing it differently is a conflict.

use yaml_rust2::yaml::{Hash, Yaml};

use super::{MACHINE_KEYS, parse_card, yaml};

#[derive(Debug, thiserror::Error)]
pub enum CardMergeError {
    #[error(
        "README.md: `{key}` was changed both here and on the Hub, to different values; \
         edit README.md to the value you want and push again, or push with --force to \
         overwrite the Hub's version"
    )]
    KeyConflict { key: String },
    #[error(
        "README.md: the card's text was edited both here and on the Hub; merge the two by hand \
         (the Hub's version is in origin/main: `git show origin/main:README.md`), or push with \
         --force to overwrite it"
    )]
    BodyConflict,
    #[error(transparent)]
    Invalid(#[from] anyhow::Error),
}

/// Merges `ours` and `theirs`, which both descend from `base` (`None`: unrelated histories, as
/// with the initial commit of a new Hub repo; our side wins then).
pub fn merge_cards(base: Option<&str>, ours: &str, theirs: &str) -> Result<String, CardMergeError> {
    let ours_card = parse_card(ours)?;
    let theirs_card = parse_card(theirs)?;
    let base_card = base.map(parse_card).transpose()?;
    let base_meta = base_card.as_ref().map(|c| &c.meta);

    let mut merged: Hash = theirs_card.meta.clone();
    for (key, ours_value) in &ours_card.meta {
        let name = key.as_str().unwrap_or_default();
        if MACHINE_KEYS.contains(&name) {
            merged.insert(key.clone(), ours_value.clone());
            continue;
        }
        let Some(base_meta) = base_meta else {
            merged.insert(key.clone(), ours_value.clone());
            continue;
        };
        let base_value = base_meta.get(key);
        if base_value == Some(ours_value) {
            continue; // unchanged here: theirs (changed or not) stands
        }
        let theirs_value = theirs_card.meta.get(key);
        if theirs_value != base_value && theirs_value != Some(ours_value) {
            return Err(CardMergeError::KeyConflict {
                key: name.to_string(),
            });
        }
        merged.insert(key.clone(), ours_value.clone());
    }
    if let Some(base_meta) = base_meta {
        // Keys we removed, which the Hub did not change, go away.
        for (key, base_value) in base_meta {
            if !ours_card.meta.contains_key(key) && theirs_card.meta.get(key) == Some(base_value) {
                merged.remove(key);
            }
        }
    }
    for key in MACHINE_KEYS {
        if !ours_card.meta.contains_key(&Yaml::String(key.to_string())) {
            merged.remove(&Yaml::String(key.to_string()));
        }
    }

    // Generated blocks are regenerated from our data afterwards (`refresh_generated`), so only
    // the prose counts when deciding who changed the body.
    let prose = |body: &str| without_generated_blocks(body);
    let body = match &base_card {
        None => ours_card.body,
        Some(base) if prose(ours_card.body) == prose(base.body) => theirs_card.body,
        Some(base) if theirs_card.body == base.body || theirs_card.body == ours_card.body => {
            ours_card.body
        }
        Some(_) => return Err(CardMergeError::BodyConflict),
    };

    let mut out = String::from("---\n");
    out.push_str(&yaml::dump(&Yaml::Hash(merged)));
    out.push_str("---\n");
    out.push_str(body);
    let trimmed = out.trim_end_matches(['\r', '\n']).len();
    out.truncate(trimmed);
    out.push('\n');
    Ok(out)
}

/// The body without the lines between `<!-- hf-relay:begin …` and `<!-- hf-relay:end …`.
fn without_generated_blocks(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut inside = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("<!-- hf-relay:begin") {
            inside = true;
        } else if trimmed.starts_with("<!-- hf-relay:end") {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "---\nlicense: mit\ntags:\n- a\ndataset_info:\n  dataset_size: 1\n---\n\n# Title\n\nOld prose.\n";

    #[test]
    fn hub_prose_and_local_data_both_survive() {
        let ours = BASE.replace("dataset_size: 1", "dataset_size: 2");
        let theirs = BASE
            .replace("Old prose.", "Prose edited on the Hub.")
            .replace("- a\n", "- a\n- web\n");
        let merged = merge_cards(Some(BASE), &ours, &theirs).unwrap();
        assert!(merged.contains("dataset_size: 2"), "{merged}");
        assert!(merged.contains("Prose edited on the Hub."), "{merged}");
        assert!(merged.contains("- web"), "{merged}");
    }

    #[test]
    fn local_key_change_wins_over_unchanged_hub_key() {
        let ours = BASE.replace("license: mit", "license: apache-2.0");
        let merged = merge_cards(Some(BASE), &ours, BASE).unwrap();
        assert!(merged.contains("license: apache-2.0"), "{merged}");
    }

    #[test]
    fn conflicts_are_reported() {
        let ours = BASE.replace("license: mit", "license: apache-2.0");
        let theirs = BASE.replace("license: mit", "license: cc-by-4.0");
        assert!(matches!(
            merge_cards(Some(BASE), &ours, &theirs),
            Err(CardMergeError::KeyConflict { .. })
        ));
        let ours = BASE.replace("Old prose.", "Ours.");
        let theirs = BASE.replace("Old prose.", "Theirs.");
        assert!(matches!(
            merge_cards(Some(BASE), &ours, &theirs),
            Err(CardMergeError::BodyConflict)
        ));
    }
}
