//! `hf-relay tag`, driven as a user would, checked with git.

use std::path::Path;
use std::process::Output;

use crate::support::*;

fn tag(env: &TestEnv, clone: &Path, args: &[&str]) -> Output {
    env.hf_relay()
        .arg("tag")
        .args(args)
        .arg("--dir")
        .arg(clone)
        .output()
        .unwrap()
}

/// `you/NAME` built from both friction files (train: 120 rows), then a second commit adding
/// config `en` (train 40 rows, test 80 rows).
fn built_clone(env: &TestEnv, name: &str) -> std::path::PathBuf {
    let clone = env.init(name);
    let one = repo_path("examples/friction/dialogues-01.jsonl");
    let two = repo_path("examples/friction/dialogues-02.jsonl");
    let (one, two) = (one.to_str().unwrap(), two.to_str().unwrap());
    assert_success(&run_build(env, &clone, &[one, two]));
    let test = format!("test={one}");
    assert_success(&run_build(
        env,
        &clone,
        &["--config", "en", two, "--split", &test],
    ));
    clone
}

fn short(env: &TestEnv, clone: &Path, rev: &str) -> String {
    env.git_out(clone, &["rev-parse", "--short=7", rev])
        .trim()
        .to_string()
}

#[test]
fn tag_creates_an_annotated_tag_listing_rows_per_split() {
    let env = TestEnv::new();
    let clone = built_clone(&env, "ds");
    let output = tag(&env, &clone, &["v1.0"]);
    assert_success(&output);
    let head = short(&env, &clone, "HEAD");
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!("Created tag v1.0 at {head}: Dataset you/ds at {head}\n")
    );
    assert_eq!(
        env.git_out(&clone, &["cat-file", "-t", "v1.0"]).trim(),
        "tag"
    );
    assert_eq!(
        env.git_out(&clone, &["rev-parse", "v1.0^{commit}"]),
        env.git_out(&clone, &["rev-parse", "HEAD"])
    );
    assert_eq!(
        env.git_out(
            &clone,
            &[
                "tag",
                "-l",
                "--format=%(taggername) %(taggeremail) %(taggerdate:raw)",
                "v1.0"
            ]
        )
        .trim(),
        "Test Committer <committer@example.com> 1764000000 +0000"
    );
    assert_eq!(
        env.git_out(&clone, &["tag", "-l", "--format=%(contents)", "v1.0"]),
        format!(
            "Dataset you/ds at {head}\n\ntrain: 120 rows\nen/train: 40 rows\nen/test: 80 rows\n\n"
        )
    );
    // The working tree and index are untouched.
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
}

#[test]
fn tag_at_a_revision_with_a_message_and_list() {
    let env = TestEnv::new();
    let clone = built_clone(&env, "ds");
    assert_success(&tag(
        &env,
        &clone,
        &["v0.1", "HEAD~1", "-m", "First cut\n\nMore words"],
    ));
    assert_success(&tag(&env, &clone, &["release/2026-01"]));
    // A lightweight tag made with git shows its commit's subject.
    env.git_out(&clone, &["tag", "light", "HEAD~2"]);

    let output = env
        .hf_relay()
        .args(["tag", "--list", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(stderr(&output), "");
    let (first, second, third) = (
        short(&env, &clone, "HEAD~2"),
        short(&env, &clone, "HEAD~1"),
        short(&env, &clone, "HEAD"),
    );
    assert_eq!(
        stdout(&output),
        format!(
            "light            {first}  Initialize dataset repository you/ds\n\
             release/2026-01  {third}  Dataset you/ds at {third}\n\
             v0.1             {second}  First cut\n"
        )
    );
    // The message given is kept as it is.
    assert_eq!(
        env.git_out(&clone, &["tag", "-l", "--format=%(contents)", "v0.1"]),
        "First cut\n\nMore words\n\n"
    );
    // The default message reads the card of the tagged commit, not HEAD's.
    assert_success(&tag(&env, &clone, &["v0.0", "HEAD~1"]));
    assert_eq!(
        env.git_out(&clone, &["tag", "-l", "--format=%(contents)", "v0.0"]),
        format!("Dataset you/ds at {second}\n\ntrain: 120 rows\n\n")
    );
}

#[test]
fn tag_list_without_tags_says_so_on_stderr() {
    let env = TestEnv::new();
    let clone = env.init("empty");
    let output = env
        .hf_relay()
        .args(["tag", "--list", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("No tags yet"));
}

#[test]
fn tag_refuses_invalid_names_unknown_revisions_and_duplicates() {
    let env = TestEnv::new();
    let clone = env.init("ds");
    for bad in [
        "has space",
        "a..b",
        "end.lock",
        "x~1",
        "trail/",
        "back\\slash",
        "@{x}",
    ] {
        let before = env.snapshot(&clone);
        assert_failure(
            &tag(&env, &clone, &[bad]),
            &format!("Error: invalid tag name {bad:?}"),
        );
        assert_eq!(env.snapshot(&clone), before, "{bad}");
    }
    assert_failure(
        &tag(&env, &clone, &["v1", "no-such-rev"]),
        "Error: cannot find the commit \"no-such-rev\"",
    );

    assert_success(&tag(&env, &clone, &["v1"]));
    let before = env.snapshot(&clone);
    let output = tag(&env, &clone, &["v1", "-m", "again"]);
    assert_failure(&output, "Error: tag v1 already exists");
    assert_eq!(stdout(&output), "");
    assert_eq!(env.snapshot(&clone), before);
    // The first tag's message has no split lines: the card has no dataset_info yet.
    let head = short(&env, &clone, "HEAD");
    assert_eq!(
        env.git_out(&clone, &["tag", "-l", "--format=%(contents)", "v1"]),
        format!("Dataset you/ds at {head}\n\n")
    );
}

#[test]
fn tag_outside_a_clone_fails_clearly() {
    let env = TestEnv::new();
    let output = env.hf_relay().args(["tag", "v1"]).output().unwrap();
    assert_failure(&output, "is not in a git repository");
}
