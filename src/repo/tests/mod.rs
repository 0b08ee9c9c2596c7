//! Unit tests of `repo`, one file per subject as in `src/repo/`; the helpers they share are
//! here.

mod commit;
mod init;
mod lfs_store;
mod open;
mod paths;
mod recovery;
mod signature_dates;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::lfs::{self, Pointer};
use super::signature;
use super::*;

const URL: &str = "https://huggingface.co/datasets/alice/ds";

/// Fixed identities and dates, so commit ids are stable.
fn fixed_env(name: &str) -> Option<String> {
    let value = match name {
        signature::GIT_AUTHOR_NAME | signature::GIT_COMMITTER_NAME => "Test User",
        signature::GIT_AUTHOR_EMAIL | signature::GIT_COMMITTER_EMAIL => "test@example.com",
        signature::GIT_AUTHOR_DATE => "@1700000000 +0000",
        signature::GIT_COMMITTER_DATE => "2026-01-02T03:04:05+01:00",
        _ => return None,
    };
    Some(value.to_string())
}

fn new_clone(parent: &Path) -> LocalClone {
    let dir = parent.join("ds");
    init_with_env(&dir, URL, "alice/ds", &fixed_env).unwrap();
    LocalClone::open(&dir).unwrap()
}

/// The real `git`, isolated from any repository the tests themselves run in.
fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .output()
        .expect("git is installed")
}

fn git_stdout(dir: &Path, args: &[&str]) -> String {
    let output = git(dir, args);
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn git_lfs_available() -> bool {
    Command::new("git")
        .args(["lfs", "version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn stage(staging: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = staging.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Binary, Parquet-looking bytes.
fn parquet_bytes(seed: u8) -> Vec<u8> {
    let mut bytes = b"PAR1".to_vec();
    bytes.extend((0..=255u8).map(|b| b.wrapping_mul(seed)));
    bytes.extend(b"PAR1");
    bytes
}

fn head_id(clone: &LocalClone) -> git2::Oid {
    clone.repo.head().unwrap().target().unwrap()
}

fn commit_count(clone: &LocalClone) -> usize {
    let mut walk = clone.repo.revwalk().unwrap();
    walk.push_head().unwrap();
    walk.count()
}

fn committed(outcome: CommitOutcome) -> git2::Oid {
    match outcome {
        CommitOutcome::Committed { id } => id,
        CommitOutcome::Unchanged => panic!("expected a commit"),
    }
}
