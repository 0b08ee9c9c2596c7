//! `hf-relay status`: what is not published yet, against the last known remote state.

use crate::cli::StatusArgs;
use crate::inspect;

pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let clone = super::open_clone(&args.dir)?;
    let status = inspect::status(&clone)?;
    if args.json {
        let mut value = serde_json::to_value(&status)?;
        value["ahead"] = status.ahead().into();
        super::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&value)?))
    } else {
        super::print_stdout(&crate::output::status::render(&status))
    }
}
