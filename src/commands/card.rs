//! `hf-relay card --preview`: the card the next build would write; writes nothing.

use crate::cli::CardArgs;
use crate::output::TerminalReporter;

pub fn run(args: CardArgs) -> anyhow::Result<()> {
    let readme = crate::ops::card::preview(
        &args.dir,
        &super::input_options(&args.inputs),
        &super::card_options(&args.card),
        &TerminalReporter,
    )?;
    super::print_stdout(&readme)
}
