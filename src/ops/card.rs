//! The card the next build would write (`card --preview`, `publish --preview-card`); writes
//! nothing.

use std::path::Path;

use super::Reporter;
use super::build_commit::{BuildPlan, CardOptions, HeadState, InputOptions, next_state};
use crate::card::{self, CardRequest};
use crate::convert;
use crate::ops::{Hint, UserError};
use crate::repo_id::from_dataset_url;

/// The card text. Without inputs the data stays as committed and the card is refreshed from
/// what it declares; with inputs they are converted in a scratch folder outside the clone.
pub fn preview(
    dir: &Path,
    inputs: &InputOptions,
    card_options: &CardOptions,
    reporter: &dyn Reporter,
) -> anyhow::Result<String> {
    card::validate::check_flags(&card_options.flags)?;
    let clone = super::open_clone(dir, reporter)?;
    let repo_id = from_dataset_url(&clone.origin_url()?)?.to_string();
    if !inputs.inputs.is_empty() || !inputs.splits.is_empty() {
        let plan = BuildPlan::resolve(inputs, card_options)?;
        // Converted outside the clone, so the preview leaves no trace in it.
        let scratch = tempfile::tempdir()?;
        let converted = convert::convert(&convert::Conversion {
            splits: &plan.splits,
            out_dir: scratch.path(),
            options: &plan.options,
            previous: &convert::reuse::Previous::none(),
            progress: &convert::NoProgress,
            interrupted: crate::interrupt::flag(),
        })?;
        let head = HeadState::read(&clone, &plan.data_dir)?;
        let state = next_state(&head, &repo_id, &plan, &converted)?;
        // The card of a build that would be refused is no card to show.
        if let Some(misfit) = &state.misfit {
            return Err(misfit.error().into());
        }
        return Ok(state.readme);
    }
    let nothing =
        |what: &str| UserError::new(format!("nothing to preview: {what}")).hint(Hint::GiveInputs);
    let Some(existing) = HeadState::readme_only(&clone)? else {
        return Err(nothing("this clone has no card yet").into());
    };
    let configs = card::read_configs(&existing)?;
    let Some(config) = configs.iter().find(|c| c.config_name == inputs.config) else {
        return Err(nothing(&format!("the card has no config {:?} yet", inputs.config)).into());
    };
    let template = card_options
        .template
        .as_deref()
        .map(super::build_commit::read_template)
        .transpose()?;
    card::render(&CardRequest {
        repo_id: &repo_id,
        existing: Some(&existing),
        template: template.as_deref(),
        config,
        flags: &card_options.flags,
    })
}

/// `card --check`: the working tree's README.md (what the next commit will hold) checked as the
/// Hub's YAML verification would; an error lists every problem with its YAML path.
pub fn check(dir: &Path, reporter: &dyn Reporter) -> anyhow::Result<()> {
    let clone = super::open_clone(dir, reporter)?;
    let path = clone.root.join("README.md");
    let readme = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(UserError::new(format!("{}: no card to check", path.display())).into());
        }
        Err(error) => {
            return Err(
                anyhow::Error::new(error).context(format!("cannot read {}", path.display()))
            );
        }
    };
    card::validate::check_readme(&readme)
}
