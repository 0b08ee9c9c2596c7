//! `hf-relay card --preview`: the card the next build would write; writes nothing.
//! `hf-relay card --check`: the card's metadata checked as the Hub would.

use crate::cli::CardArgs;
use crate::output::TerminalReporter;

pub fn run(args: CardArgs) -> anyhow::Result<()> {
    if args.check {
        crate::ops::card::check(&args.dir, &TerminalReporter)?;
        crate::output::status("README.md: the card metadata is valid for the Hub");
        return Ok(());
    }
    let readme = crate::ops::card::preview(
        &args.dir,
        &super::input_options(&args.inputs),
        &super::card_options(&args.card),
        &TerminalReporter,
    )?;
    super::print_stdout(&readme)
}
