//! `hf-relay card --preview`: the card the next build would write; writes nothing.

use anyhow::bail;

use super::next_state::{current_readme, next_state};
use super::plan::{BuildPlan, metadata_flags, read_template};
use crate::card::{self, CardRequest};
use crate::cli::CardArgs;
use crate::convert::{self, NoProgress};
use crate::output::status;
use crate::repo::Clone;
use crate::repo_id::from_dataset_url;

pub fn run(args: CardArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    if args.check {
        return check(&clone);
    }
    card::validate::check_flags(&metadata_flags(&args.card))?;
    let repo_id = from_dataset_url(&clone.origin_url()?)?.to_string();
    let readme = if args.inputs.inputs.is_empty() && args.inputs.splits.is_empty() {
        // No inputs: the data stays as committed; refresh the card from what it declares.
        let Some(existing) = current_readme(&clone)? else {
            bail!(
                "nothing to preview: this clone has no card yet; give the INPUTs the next build will read"
            );
        };
        let configs = card::read_configs(&existing)?;
        let Some(config) = configs.iter().find(|c| c.config_name == args.inputs.config) else {
            bail!(
                "nothing to preview: the card has no config {:?} yet; give the INPUTs the next build will read",
                args.inputs.config
            );
        };
        let template = args
            .card
            .card_template
            .as_ref()
            .map(read_template)
            .transpose()?;
        card::render(&CardRequest {
            repo_id: &repo_id,
            existing: Some(&existing),
            template: template.as_deref(),
            config,
            flags: &metadata_flags(&args.card),
        })?
    } else {
        let plan = BuildPlan::resolve(&args.inputs, &args.card)?;
        // Converted outside the clone, so the preview leaves no trace in it.
        let scratch = tempfile::tempdir()?;
        let converted = convert::convert(
            &plan.splits,
            scratch.path(),
            &plan.options,
            &NoProgress,
            crate::interrupt::flag(),
        )?;
        next_state(&clone, &repo_id, &plan, &converted)?.readme
    };
    print!("{readme}");
    Ok(())
}

/// `card --check`: the working tree's README.md (what the next commit will hold) checked as
/// the Hub's YAML verification would; the problems go to stderr, one a line.
fn check(clone: &Clone) -> anyhow::Result<()> {
    let path = clone.root.join("README.md");
    let readme = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            bail!("{}: no card to check", path.display())
        }
        Err(error) => bail!("cannot read {}: {error}", path.display()),
    };
    card::validate::check_readme(&readme)?;
    status("README.md: the card metadata is valid for the Hub");
    Ok(())
}
