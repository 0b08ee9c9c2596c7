//! `hf-relay verify`: LFS objects, Parquet files and the card agree; the Hub would take it.

use crate::cli::VerifyArgs;
use crate::inspect;

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let rev = args.rev.as_deref().unwrap_or("HEAD");
    let report = inspect::verify(&clone, rev)?;
    super::diff::print_stdout(&format!("{report}\n"))?;
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
