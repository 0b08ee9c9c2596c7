//! `hf-relay verify`: LFS objects, Parquet files and the card agree; the Hub would take it.
//! The explicit integrity check: it hashes every LFS object, whatever their stamps say.

use crate::cli::VerifyArgs;
use crate::ops::verify::{VerifyOptions, verify};
use crate::output::TerminalReporter;

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let options = VerifyOptions {
        dir: args.dir,
        rev: args.rev,
    };
    let report = verify(&options, &TerminalReporter)?;
    super::print_stdout(&crate::output::verify::render(&report))?;
    if !report.is_ok() {
        let n = report.problems.len();
        anyhow::bail!(
            "verify found {n} problem{} at {} ({})",
            if n == 1 { "" } else { "s" },
            report.rev,
            report.short
        );
    }
    Ok(())
}
