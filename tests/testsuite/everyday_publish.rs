//! Everyday journeys of `publish`, `build` and `push --dry-run` (issue 21): a command does what
//! it was told and nothing else (no other repo), validates every flag before it writes anything
//! (no folder, no clone), and never commits a state `verify` or `push` would refuse.

use std::path::Path;

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

fn head(env: &TestEnv, clone: &Path) -> String {
    env.git_out(clone, &["rev-parse", "HEAD"])
}

/// A clone with splits train and test (columns text, label) built from `train.jsonl` and
/// `test.jsonl`.
fn two_split_clone(env: &TestEnv) -> std::path::PathBuf {
    env.write(
        "train.jsonl",
        "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n",
    );
    env.write("test.jsonl", "{\"text\": \"c\", \"label\": 1}\n");
    let clone = env.init("two-splits");
    let output = run_build(env, &clone, &["train.jsonl", "--split", "test=test.jsonl"]);
    assert_success(&output);
    clone
}

#[test]
fn build_refuses_a_split_whose_columns_the_other_splits_lack() {
    let env = TestEnv::new();
    let clone = two_split_clone(&env);
    env.write(
        "train-lang.jsonl",
        "{\"text\": \"a\", \"label\": 1, \"lang\": \"en\"}\n{\"text\": \"b\", \"label\": 0, \"lang\": \"fr\"}\n",
    );
    env.write(
        "test-lang.jsonl",
        "{\"text\": \"c\", \"label\": 1, \"lang\": \"de\"}\n",
    );
    let before = env.snapshot(&clone);
    let head_before = head(&env, &clone);

    let output = run_build(&env, &clone, &["train-lang.jsonl"]);
    assert_failure(
        &output,
        "split test of config default would no longer fit: this build gives train the columns \
         text, label, lang (added column lang (string)), while test keeps the columns text, label; \
         the splits of a config share one set of columns; nothing was written",
    );
    let err = stderr(&output);
    assert!(
        err.contains("Hint: rebuild test in the same build (--split test=FILE)"),
        "{err}"
    );
    assert!(err.contains("--config NAME"), "{err}");
    assert!(!err.contains("Committed"), "{err}");
    assert!(env.snapshot(&clone) == before, "the clone changed");
    assert_eq!(head(&env, &clone), head_before);

    // Both splits together: committed, verified, and read back by `datasets`.
    let output = run_build(
        &env,
        &clone,
        &["train-lang.jsonl", "--split", "test=test-lang.jsonl"],
    );
    assert_success(&output);
    assert!(
        stderr(&output).contains("added column lang"),
        "{}",
        stderr(&output)
    );
    let output = env
        .hf_relay()
        .args(["verify", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    check_with_python(
        &clone,
        &[
            ("train", vec![env.path().join("train-lang.jsonl")]),
            ("test", vec![env.path().join("test-lang.jsonl")]),
        ],
    );
}

#[test]
fn build_refuses_a_split_that_drops_a_column_the_other_splits_keep() {
    let env = TestEnv::new();
    let clone = two_split_clone(&env);
    env.write("train-text.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
    env.write("test-text.jsonl", "{\"text\": \"c\"}\n");
    let before = env.snapshot(&clone);

    let output = run_build(&env, &clone, &["train-text.jsonl"]);
    assert_failure(
        &output,
        "split test of config default would no longer fit: this build gives train the columns \
         text (removed column label (int64)), while test keeps the columns text, label",
    );
    assert!(env.snapshot(&clone) == before, "the clone changed");

    // Another config holds the new data beside the old.
    let output = run_build(&env, &clone, &["train-text.jsonl", "--config", "short"]);
    assert_success(&output);

    let output = run_build(
        &env,
        &clone,
        &["train-text.jsonl", "--split", "test=test-text.jsonl"],
    );
    assert_success(&output);
    let output = env
        .hf_relay()
        .args(["verify", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    check_with_python(
        &clone,
        &[
            ("train", vec![env.path().join("train-text.jsonl")]),
            ("test", vec![env.path().join("test-text.jsonl")]),
        ],
    );
}

#[test]
fn verify_and_push_still_refuse_splits_whose_columns_differ_from_the_card() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = two_split_clone(&env);
    // A hand edit gives the card a column the shards lack (as a build before the fix did for
    // the untouched split).
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let label = "  - name: label\n    dtype: int64\n";
    assert!(readme.contains(label), "{readme}");
    std::fs::write(
        clone.join("README.md"),
        readme.replace(
            label,
            &format!("{label}  - name: lang\n    dtype: string\n"),
        ),
    )
    .unwrap();
    env.git_out(&clone, &["add", "README.md"]);
    env.git_out(&clone, &["commit", "-q", "-m", "Add a column by hand"]);
    env.git_out(
        &clone,
        &[
            "remote",
            "set-url",
            "origin",
            &hub.dataset_url("you", "two-splits"),
        ],
    );

    let output = env
        .hf_relay()
        .args(["verify", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        transcript(&env, &output)
    );
    assert!(
        stdout(&output).contains(
            "data/test-00000.parquet: schema differs from the card's features of config default"
        ),
        "{}",
        stdout(&output)
    );
    let output = env
        .hf_relay()
        .args(["push", "--dry-run", "--dir"])
        .arg(&clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_failure(&output, "refusing to publish an inconsistent repository");
    assert!(stderr(&output).contains("data/test-00000.parquet: schema differs"));
}
