//! How `status` shows what is not published yet.

use std::fmt::Write as _;

use crate::inspect::Status;
use crate::units::{human_bytes, thousands};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

pub fn render(status: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "On branch {}", status.branch);
    let ahead = plural(status.ahead(), "commit", "commits");
    let _ = match &status.remote {
        None => writeln!(
            out,
            "Never published (no origin/{}): {ahead} to push",
            status.branch
        ),
        Some(remote) if status.ahead() == 0 && status.behind == 0 => {
            writeln!(out, "Up to date with {} ({})", remote.name, remote.short)
        }
        Some(remote) => writeln!(
            out,
            "{ahead} ahead, {} behind {} ({}, the last known remote state)",
            thousands(status.behind as u64),
            remote.name,
            remote.short
        ),
    };
    for commit in &status.unpublished {
        let _ = writeln!(out, "  {} {}", commit.short, commit.subject);
    }
    if status.lfs_objects == 0 {
        let _ = writeln!(out, "LFS objects to upload: none");
    } else {
        let _ = write!(
            out,
            "LFS objects to upload: {}, {}",
            thousands(status.lfs_objects as u64),
            human_bytes(status.lfs_bytes)
        );
        if status.lfs_missing > 0 {
            let _ = write!(
                out,
                " ({} missing from .git/lfs/objects; run `hf-relay verify`)",
                thousands(status.lfs_missing as u64)
            );
        }
        out.push('\n');
    }
    if status.uncommitted.is_empty() {
        let _ = writeln!(out, "Uncommitted changes: none");
    } else {
        let _ = writeln!(out, "Uncommitted changes:");
        for change in &status.uncommitted {
            let _ = writeln!(
                out,
                "  {:<9} {}",
                format!("{}:", change.kind.label()),
                change.path
            );
        }
    }
    if status.unpushed_tags.is_empty() {
        let _ = writeln!(out, "Tags not pushed: none");
    } else {
        let _ = writeln!(out, "Tags not pushed:");
        for tag in &status.unpushed_tags {
            let moved = if tag.moved {
                " (moved since it was pushed)"
            } else {
                ""
            };
            let _ = writeln!(out, "  {} → {}{moved}", tag.name, tag.short);
        }
    }
    out
}
