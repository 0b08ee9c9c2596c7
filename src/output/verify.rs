//! How `verify` shows its report.

use std::fmt::Write as _;

use crate::inspect::VerifyReport;
use crate::units::thousands;

/// `verify: OK (…)`, or the problems, one per line.
pub fn render(report: &VerifyReport) -> String {
    if report.is_ok() {
        let count = |n: u64, one: &str, many: &str| {
            format!("{} {}", thousands(n), if n == 1 { one } else { many })
        };
        return format!(
            "verify: OK ({}, {}, {})\n",
            count(report.files as u64, "file", "files"),
            count(report.lfs_objects as u64, "LFS object", "LFS objects"),
            count(report.rows, "row", "rows")
        );
    }
    let mut out = String::new();
    for problem in &report.problems {
        let _ = writeln!(out, "{problem}");
    }
    out
}
