//! Everyday journeys of `publish`, `build` and `push --dry-run` (issue 21): a command does what
//! it was told and nothing else (no other repo), validates every flag before it writes anything
//! (no folder, no clone), and never commits a state `verify` or `push` would refuse.

use std::path::Path;
use std::process::Output;

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
    // The preview of that build's card says the same.
    let output = env
        .hf_relay()
        .args(["card", "--preview", "--dir"])
        .arg(&clone)
        .arg("train-lang.jsonl")
        .output()
        .unwrap();
    assert_failure(&output, "split test of config default would no longer fit");
    assert_eq!(stdout(&output), "");
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
    verify_and_read_both_splits(&env, &clone, "train-lang.jsonl", "test-lang.jsonl");
}

/// `verify` passes and `datasets` reads train and test back as the files `train` and `test`.
fn verify_and_read_both_splits(env: &TestEnv, clone: &Path, train: &str, test: &str) {
    let output = env
        .hf_relay()
        .args(["verify", "--dir"])
        .arg(clone)
        .output()
        .unwrap();
    assert_success(&output);
    check_with_python(
        clone,
        &[
            ("train", vec![env.path().join(train)]),
            ("test", vec![env.path().join(test)]),
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
    verify_and_read_both_splits(&env, &clone, "train-text.jsonl", "test-text.jsonl");
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

/// `hf-relay publish --repo-id ID --endpoint HUB ARGS...` with a write token.
fn publish(env: &TestEnv, hub: &TestHub, repo_id: &str, args: &[&str]) -> Output {
    env.hf_relay()
        .args(["publish", "--repo-id", repo_id, "--endpoint", &hub.url])
        .args(args)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap()
}

#[test]
fn publish_refuses_a_repo_id_that_is_not_the_clones_origin() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "friction-disagreement-v2");
    let before = env.snapshot(&clone);
    let f2 = friction(2).display().to_string();

    // The default folder ./NAME holds alice's clone; bob's id is another repo.
    let output = publish(&env, &hub, "bob/friction-disagreement-v2", &[&f2]);
    assert_failure(
        &output,
        "--repo-id bob/friction-disagreement-v2 disagrees with the clone friction-disagreement-v2, \
         whose origin is alice/friction-disagreement-v2",
    );
    let err = stderr(&output);
    assert!(
        err.contains("--dir") && err.contains("remote set-url origin"),
        "{err}"
    );
    assert!(!err.contains("Converted"), "it built: {err}");
    assert!(!err.contains("Published"), "it pushed: {err}");
    assert_eq!(stdout(&output), "");

    // Another name, the clone given with --dir.
    let output = publish(
        &env,
        &hub,
        "bob/other-name",
        &["--dir", "friction-disagreement-v2", &f2],
    );
    assert_failure(
        &output,
        "--repo-id bob/other-name disagrees with the clone friction-disagreement-v2, whose origin \
         is alice/friction-disagreement-v2",
    );
    assert!(!stderr(&output).contains("Published"));

    assert!(env.snapshot(&clone) == before, "the clone changed");
    for (owner, name) in [
        ("alice", "friction-disagreement-v2"),
        ("bob", "friction-disagreement-v2"),
        ("bob", "other-name"),
    ] {
        assert!(
            !hub.bare_repo(owner, name).exists(),
            "{owner}/{name} exists on the Hub"
        );
    }

    // The clone's own id publishes.
    let output = publish(&env, &hub, "alice/friction-disagreement-v2", &[&f2]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("Published alice/friction-disagreement-v2"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn publish_refuses_bad_flags_and_inputs_before_it_creates_the_folder() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let f1 = friction(1).display().to_string();
    let missing = env.path().join("missing.jsonl").display().to_string();
    let no_template = env.path().join("no-template.md").display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--license", "apach-2.0", &f1], "apach-2.0"),
        (&[], "no input"),
        (&[&missing], "cannot read input"),
        (&[&f1, "--split", "bad-name=x.jsonl"], "invalid split name"),
        (&[&f1, "--config", "Data"], "invalid config name"),
        // A bad --max-shard-size is clap's usage error (exit 2): `usage::bad_flag_values_…`.
        (
            &[&f1, "--card-template", &no_template],
            "cannot read card template",
        ),
        (
            &[&f1, "--pretty-name", "Chat\u{1}logs"],
            "invalid --pretty-name",
        ),
    ];
    for (args, message) in cases {
        // A repo that is new on the Hub (init) and one that exists there (clone).
        for (name, on_hub) in [("zz", false), ("lic-test", true)] {
            if on_hub && !hub.bare_repo("alice", name).exists() {
                hub.create_dataset("alice", name, false);
            }
            let output = publish(&env, &hub, &format!("alice/{name}"), args);
            assert_failure(&output, message);
            let err = stderr(&output);
            assert!(
                !err.contains("Initialized") && !err.contains("cloning"),
                "{args:?}: {err}"
            );
            assert!(
                !env.path().join(name).exists(),
                "{args:?} left the folder {name} behind: {err}"
            );
        }
    }
}

#[test]
fn push_dry_run_json_says_what_the_push_would_do() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "fresh");
    for _ in 0..2 {
        let output = env
            .hf_relay()
            .args(["push", "--dry-run", "--json", "--dir"])
            .arg(&clone)
            .env("HF_TOKEN", WRITE_TOKEN)
            .output()
            .unwrap();
        assert_success(&output);
        assert!(
            stderr(&output).contains("Would create dataset repo alice/fresh"),
            "{}",
            stderr(&output)
        );
        let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(result["dry_run"], true, "{result}");
        assert_eq!(result["created_repo"], true, "{result}");
        // Nothing was created: the second dry run would create it too.
        assert!(!hub.bare_repo("alice", "fresh").exists());
    }

    // Once it exists, a dry run would create nothing, and would merge the Hub's first commit.
    hub.create_dataset("alice", "fresh", false);
    let hub_main = env.git_out(&hub.bare_repo("alice", "fresh"), &["rev-parse", "main"]);
    let output = env
        .hf_relay()
        .args(["push", "--dry-run", "--json", "--dir"])
        .arg(&clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&output);
    assert!(
        stderr(&output).contains("Would integrate the Hub's main"),
        "{}",
        stderr(&output)
    );
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["created_repo"], false, "{result}");
    assert_eq!(result["merged_remote"], hub_main.trim(), "{result}");
    assert_eq!(
        env.git_out(&hub.bare_repo("alice", "fresh"), &["rev-parse", "main"]),
        hub_main
    );
}

#[test]
fn publish_refuses_a_clone_of_the_same_id_on_another_hub_and_a_preview_of_another_repo() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "elsewhere");
    let before = env.snapshot(&clone);
    let f2 = friction(2).display().to_string();

    // Same id, but --endpoint names another Hub than the clone's origin.
    let output = env
        .hf_relay()
        .args(["publish", "--repo-id", "alice/elsewhere"])
        .args(["--endpoint", "http://127.0.0.1:9", &f2])
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_failure(
        &output,
        &format!(
            "the clone elsewhere publishes to {}/datasets/alice/elsewhere, not to \
             http://127.0.0.1:9/datasets/alice/elsewhere",
            hub.url
        ),
    );
    assert!(
        stderr(&output).contains(&format!("--endpoint {}", hub.url)),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("Converted"));

    // The card preview of another repo is not the card of this clone.
    let output = publish(
        &env,
        &hub,
        "bob/elsewhere",
        &["--dir", "elsewhere", "--preview-card", &f2],
    );
    assert_failure(
        &output,
        "--repo-id bob/elsewhere disagrees with the clone elsewhere, whose origin is \
         alice/elsewhere",
    );
    assert_eq!(stdout(&output), "");
    assert!(env.snapshot(&clone) == before, "the clone changed");
    assert!(!hub.bare_repo("alice", "elsewhere").exists());
}

#[test]
fn publish_takes_away_the_clone_it_made_when_the_build_fails() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    env.write("broken.jsonl", "{\"text\": \"a\"}\n{\"text\": \n");
    // A new repo (init) and one on the Hub (clone).
    hub.create_dataset("alice", "on-hub", false);
    for name in ["new-repo", "on-hub"] {
        let output = publish(&env, &hub, &format!("alice/{name}"), &["broken.jsonl"]);
        assert_failure(&output, "broken.jsonl:2:");
        assert!(
            !env.path().join(name).exists(),
            "{name} left behind: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!("Removed {name}, the clone this publish made")),
            "{}",
            stderr(&output)
        );
    }
    // In a folder of folders it made, all of them go.
    let output = publish(
        &env,
        &hub,
        "alice/new-repo",
        &["--dir", "a/b/c", "broken.jsonl"],
    );
    assert_failure(&output, "broken.jsonl:2:");
    assert!(!env.path().join("a").exists());
    // An existing clone keeps its state.
    let clone = prepared_clone(&env, &hub, "kept");
    let before = env.snapshot(&clone);
    let output = publish(&env, &hub, "alice/kept", &["broken.jsonl"]);
    assert_failure(&output, "broken.jsonl:2:");
    assert!(env.snapshot(&clone) == before, "the clone changed");
}
