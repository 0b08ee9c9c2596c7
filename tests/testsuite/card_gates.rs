//! The card's gates: an alias-bomb README.md is refused in bounded time and memory, and card
//! metadata the Hub would refuse is caught before anything is written (flags) or uploaded
//! (push), as the Hub's YAML verification would catch it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

/// Generous: a hang, not a slow machine, is what it catches.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// Address space a bounded command may use: far above what hf-relay needs for a small
/// build, far below what an unbounded alias expansion takes.
const MEMORY_LIMIT: u64 = 4 << 30;

/// `command` (an `env.hf_relay()`) run with its address space capped at [`MEMORY_LIMIT`],
/// killed after [`TIME_LIMIT`].
fn run_capped(command: Command) -> Output {
    run_bounded(
        &mut with_address_space_limit(&command, MEMORY_LIMIT),
        TIME_LIMIT,
    )
    .0
}

/// A "billion laughs" front matter: `levels` anchors, each a list of nine aliases to the one
/// before (9 levels: 370 bytes that expand to 387 million strings).
fn alias_bomb(levels: usize) -> String {
    let mut text = String::from("---\nlicense: mit\nl0: &l0 [lol]\n");
    for level in 1..=levels {
        let aliases = vec![format!("*l{}", level - 1); 9].join(",");
        text.push_str(&format!("l{level}: &l{level} [{aliases}]\n"));
    }
    text.push_str("---\n# Bomb\n");
    text
}

/// `hf-relay init you/NAME` + a build of the first friction file.
fn built_clone(env: &TestEnv, name: &str) -> PathBuf {
    let clone = env.init(name);
    assert_success(&build(env, &clone, &[], &friction(1)));
    clone
}

fn build(env: &TestEnv, clone: &Path, args: &[&str], input: &Path) -> Output {
    let mut command = env.hf_relay();
    command
        .arg("build")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .arg(input);
    run_capped(command)
}

/// Writes README.md by hand and commits it with plain git (as a user's edit would land).
fn commit_readme(env: &TestEnv, clone: &Path, text: &str) {
    std::fs::write(clone.join("README.md"), text).unwrap();
    env.git_out(clone, &["add", "README.md"]);
    env.git_out(clone, &["commit", "--quiet", "-m", "Edit the card by hand"]);
}

fn card_check(env: &TestEnv, clone: &Path) -> Output {
    let mut command = env.hf_relay();
    command.args(["card", "--check", "--dir"]).arg(clone);
    run_capped(command)
}

/// The clone is as it was: same files, same bytes (the names of what differs on failure). The
/// cache of verified LFS objects is left out: verify and push may record in it.
#[track_caller]
fn assert_unchanged(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)], what: &str) {
    let keep = |entries: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        entries
            .iter()
            .filter(|(name, _)| name != ".git/hf-relay/verified-lfs.json")
            .cloned()
            .collect()
    };
    let (before, after) = (keep(before), keep(after));
    if before != after {
        let differ: Vec<&String> = before
            .iter()
            .chain(&after)
            .filter(|entry| !before.contains(entry) || !after.contains(entry))
            .map(|(name, _)| name)
            .collect();
        panic!("{what} changed the clone: {differ:?}");
    }
}

fn requests(hub: &TestHub) -> String {
    std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap_or_default()
}

#[track_caller]
fn assert_no_upload(hub: &TestHub) {
    let log = requests(hub);
    assert!(
        !log.contains("/info/lfs/objects/batch")
            && !log.contains(" PUT ")
            && !log.contains("git-receive-pack"),
        "something was uploaded:\n{log}"
    );
}

#[test]
fn an_alias_bomb_card_is_refused_by_build_diff_and_verify_and_the_clone_stays() {
    let env = TestEnv::new();
    let clone = built_clone(&env, "bomb");
    commit_readme(&env, &clone, &alias_bomb(9));
    let before = env.snapshot(&clone);
    let mut commands: Vec<(&str, Command)> = Vec::new();
    let mut command = env.hf_relay();
    command
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(2));
    commands.push(("build", command));
    for name in ["diff", "verify"] {
        let mut command = env.hf_relay();
        command.arg(name).arg("--dir").arg(&clone);
        commands.push((name, command));
    }
    let mut command = env.hf_relay();
    command.args(["card", "--check", "--dir"]).arg(&clone);
    commands.push(("card --check", command));
    for (name, command) in commands {
        let output = run_capped(command);
        // diff reports the card as "cannot be compared" (on stdout) and goes on with the data;
        // the others fail.
        let said = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            said.contains("README.md") && said.contains("alias bomb"),
            "{name}: {:?}\n{said}",
            output.status
        );
        assert_eq!(
            output.status.code(),
            Some(i32::from(name != "diff")),
            "{name}: {said}"
        );
        assert!(!said.contains("memory allocation"), "{name}: {said}");
        assert_unchanged(&before, &env.snapshot(&clone), name);
    }
}

#[test]
fn a_smaller_alias_bomb_is_not_committed_as_a_huge_readme() {
    // Six levels: 531,441 strings, which used to become a 9.4 MB README.md.
    let env = TestEnv::new();
    let clone = built_clone(&env, "smallbomb");
    commit_readme(&env, &clone, &alias_bomb(6));
    let before = env.snapshot(&clone);
    let output = build(&env, &clone, &[], &friction(2));
    assert_failure(&output, "alias bomb");
    assert!(stderr(&output).contains("README.md"), "{}", stderr(&output));
    assert_unchanged(&before, &env.snapshot(&clone), "it");
}

#[test]
fn clone_of_a_served_alias_bomb_card_stays_bounded() {
    let hub = TestHub::start();
    hub.create_dataset("alice", "bomb", false);
    let env = TestEnv::new();
    let url = hub.dataset_url("alice", "bomb");
    let work = env.path().join("work");
    env.git_out(
        env.path(),
        &["clone", "--quiet", &url, work.to_str().unwrap()],
    );
    std::fs::write(work.join("README.md"), alias_bomb(9)).unwrap();
    env.git_out(&work, &["add", "README.md"]);
    env.git_out(&work, &["commit", "--quiet", "-m", "A bomb"]);
    let push_url = url.replacen("http://", &format!("http://alice:{WRITE_TOKEN}@"), 1);
    env.git_out(&work, &["push", "--quiet", &push_url, "HEAD:main"]);

    let mut command = env.hf_relay();
    command
        .args(["clone", "alice/bomb", "--endpoint", &hub.url])
        .env("HF_TOKEN", WRITE_TOKEN);
    let output = run_capped(command);
    // clone does not read the card's metadata: it succeeds, in bounded time and memory, and
    // the commands that do read it refuse it.
    assert_success(&output);
    let dir = env.path().join("bomb");
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        alias_bomb(9)
    );
    let output = card_check(&env, &dir);
    assert_failure(&output, "alias bomb");
}

#[test]
fn invalid_card_flags_are_refused_before_anything_is_written() {
    let env = TestEnv::new();
    let clone = built_clone(&env, "flags");
    let before = env.snapshot(&clone);
    let cases: [(&[&str], &str, &str, &str); 4] = [
        (
            &["--license", "totally-made-up"],
            "license",
            "totally-made-up",
            "the nearest valid ones: ",
        ),
        (
            &["--license", "apache2"],
            "license",
            "apache2",
            "apache-2.0",
        ),
        (
            &["--task-category", "make-coffee"],
            "task_categories",
            "make-coffee",
            "the nearest valid ones: ",
        ),
        (
            &["--language", "xx-not-a-lang"],
            "language",
            "xx-not-a-lang",
            "the nearest valid ones: xh, ",
        ),
    ];
    for (args, key, value, suggestion) in cases {
        let output = build(&env, &clone, args, &friction(2));
        assert_failure(&output, &format!("{key} (--"));
        let err = stderr(&output);
        assert!(err.contains(&format!("{value:?}")), "{args:?}: {err}");
        assert!(err.contains(suggestion), "{args:?}: {err}");
        assert_unchanged(&before, &env.snapshot(&clone), &format!("{args:?}"));
        // The preview refuses them too.
        let mut command = env.hf_relay();
        command
            .args(["card", "--preview", "--dir"])
            .arg(&clone)
            .args(args);
        assert_failure(&run_capped(command), &format!("{value:?}"));
    }
    // Several at once: every problem is listed.
    let output = build(
        &env,
        &clone,
        &[
            "--license",
            "apache2",
            "--task-category",
            "text-clasification",
            "--language",
            "xx-not-a-lang",
        ],
        &friction(2),
    );
    assert_failure(&output, "3 problems");
    assert!(stderr(&output).contains("text-classification"));
    assert_unchanged(&before, &env.snapshot(&clone), "it");
}

#[test]
fn valid_card_flags_pass_and_card_check_says_so() {
    let env = TestEnv::new();
    let clone = env.init("valid");
    let output = build(
        &env,
        &clone,
        &[
            "--license",
            "apache-2.0",
            "--task-category",
            "text-generation",
            "--language",
            "en",
            "--language",
            "fr",
            "--annotations-creators",
            "machine-generated",
            "--source-datasets",
            "original",
        ],
        &friction(1),
    );
    assert_success(&output);
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(readme.contains("license: apache-2.0\n"), "{readme}");
    let output = card_check(&env, &clone);
    assert_success(&output);
    assert!(stderr(&output).contains("valid"), "{}", stderr(&output));
}

#[test]
fn a_hand_edited_invalid_card_warns_at_build_fails_card_check_and_blocks_push() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = env.init_on(&hub.url, "edited");
    assert_success(&build(&env, &clone, &[], &friction(1)));
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let edited = readme.replacen(
        "---\n",
        "---\nlicense: apache2\ntask_categories:\n- make-coffee\n",
        1,
    );
    std::fs::write(clone.join("README.md"), &edited).unwrap();

    // card --check: every problem with its YAML path, exit 1.
    let output = card_check(&env, &clone);
    assert_failure(&output, "license: \"apache2\"");
    let err = stderr(&output);
    assert!(
        err.contains("task_categories[0]: \"make-coffee\"") && err.contains("apache-2.0"),
        "{err}"
    );

    // build keeps the user's keys, commits, and warns.
    let output = build(&env, &clone, &[], &friction(2));
    assert_success(&output);
    let err = stderr(&output);
    assert!(
        err.contains("warning: README.md license: \"apache2\"")
            && err.contains("task_categories[0]"),
        "{err}"
    );

    // push refuses before any request that uploads.
    let before = env.snapshot(&clone);
    let mut command = env.hf_relay();
    command
        .args(["push", "--dir"])
        .arg(&clone)
        .env("HF_TOKEN", WRITE_TOKEN);
    let output = run_capped(command);
    assert_failure(&output, "refusing to push");
    assert!(stderr(&output).contains("license: \"apache2\""));
    assert_no_upload(&hub);
    assert_eq!(
        requests(&hub),
        "",
        "the offline check comes before any request"
    );
    assert_unchanged(&before, &env.snapshot(&clone), "it");
}

/// A clone of `alice/NAME` on the Hub with one build in it.
fn hub_clone(env: &TestEnv, hub: &TestHub, name: &str) -> PathBuf {
    let clone = env.init_on(&hub.url, name);
    assert_success(&build(env, &clone, &["--license", "mit"], &friction(1)));
    clone
}

fn push(env: &TestEnv, clone: &Path) -> Output {
    let mut command = env.hf_relay();
    command
        .args(["push", "--dir"])
        .arg(clone)
        .env("HF_TOKEN", WRITE_TOKEN);
    run_capped(command)
}

#[test]
fn push_asks_the_hub_to_validate_the_card_before_uploading() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = hub_clone(&env, &hub, "asked");
    let output = push(&env, &clone);
    assert_success(&output);
    let log = requests(&hub);
    let validate = log.find("POST /api/validate-yaml").expect(&log);
    let batch = log.find("/info/lfs/objects/batch").expect(&log);
    assert!(
        validate < batch,
        "validate-yaml after the batch call:\n{log}"
    );
    assert!(log.contains("POST /api/validate-yaml 200"), "{log}");
}

#[test]
fn a_card_the_hub_refuses_stops_push_before_any_upload() {
    // The Hub's verdict alone, on a card our own check accepts: the Hub's rules may move
    // ahead of our lists, and its answer is what counts (the test Hub's
    // `validate_yaml_reject` switch refuses any card with the given message).
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = hub_clone(&env, &hub, "refused");
    hub.set_faults(r#"{"validate_yaml_reject": "\"license\" is no longer accepted"}"#);
    let output = push(&env, &clone);
    assert_failure(&output, "the Hub refuses the metadata of README.md");
    assert!(
        stderr(&output).contains("\"license\" is no longer accepted"),
        "{}",
        stderr(&output)
    );
    assert!(requests(&hub).contains("POST /api/validate-yaml 400"));
    assert_no_upload(&hub);

    // A Hub without the endpoint (404): push goes on.
    hub.set_faults(r#"{"no_validate_yaml": true}"#);
    let output = push(&env, &clone);
    assert_success(&output);
    assert!(requests(&hub).contains("POST /api/validate-yaml 404"));
}
