//! `hf-relay push` against the project's Hub server on loopback (real `git http-backend`, LFS
//! batch API, pre-receive rules), checked with stock git and git-lfs and with `datasets`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;
use hf_relay_test_support::{READ_TOKEN, TestHub, WRITE_TOKEN, WRONG_TOKEN};

fn push(env: &TestEnv, clone: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = env.hf_relay();
    command.arg("push").arg("--dir").arg(clone).args(args);
    if let Some(token) = token {
        command.env("HF_TOKEN", token);
    }
    command.output().unwrap()
}

/// `hf-relay tag NAME` at the clone's HEAD.
fn tag(env: &TestEnv, clone: &Path, name: &str) {
    assert_success(
        &env.hf_relay()
            .args(["tag", name, "--dir"])
            .arg(clone)
            .output()
            .unwrap(),
    );
}

fn git_clone_from_hub(
    env: &TestEnv,
    hub: &TestHub,
    name: &str,
    dest: &str,
    extra: &[&str],
) -> PathBuf {
    let target = env.path().join(dest);
    let output = env
        .git(env.path())
        .args(["clone", "--quiet"])
        .args(extra)
        .arg(hub.dataset_url("alice", name))
        .arg(&target)
        .output()
        .unwrap();
    assert_success(&output);
    target
}

fn assert_token_nowhere(env: &TestEnv, clone: &Path, outputs: &[&Output], token: &str) {
    for output in outputs {
        assert!(!stdout(output).contains(token), "token in stdout");
        assert!(!stderr(output).contains(token), "token in stderr");
    }
    let mut stack = vec![clone.join(".git")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.starts_with(clone.join(".git/lfs/objects"))
                && !path.starts_with(clone.join(".git/objects"))
            {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(token),
                    "token in {}",
                    path.display()
                );
            }
        }
    }
    let _ = env;
}

#[test]
fn init_build_push_publishes_and_a_fresh_git_clone_reads_it_back() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "friction");

    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["created_repo"], true);
    assert_eq!(result["lfs_objects_uploaded"], 1);
    let head = env.git_out(&clone, &["rev-parse", "HEAD"]);
    assert_eq!(
        result["commit_url"],
        format!("{}/datasets/alice/friction/commit/{}", hub.url, head.trim())
    );
    assert!(
        stderr(&output).contains("Created dataset repo alice/friction"),
        "{}",
        stderr(&output)
    );
    // The Hub's initial commit was integrated, not overwritten.
    assert!(!result["merged_remote"].is_null(), "{result}");

    // A stock git + git-lfs clone gets byte-identical Parquet files; datasets reads the rows.
    let fresh = git_clone_from_hub(&env, &hub, "friction", "fresh", &[]);
    env.git_out(&fresh, &["lfs", "install", "--local"]);
    let output = env
        .git(&fresh)
        .args([
            "-c",
            &format!("http.extraHeader=Authorization: Bearer {WRITE_TOKEN}"),
            "lfs",
            "pull",
        ])
        .output()
        .unwrap();
    assert_success(&output);
    let pulled = std::fs::read(fresh.join("data/train-00000.parquet")).unwrap();
    let local = std::fs::read(clone.join("data/train-00000.parquet")).unwrap();
    assert!(
        pulled == local,
        "git lfs pull gave different bytes ({} vs {} bytes)",
        pulled.len(),
        local.len()
    );
    check_with_python(&fresh, &[("train", vec![friction(1)])]);

    // A second push with no change uploads nothing.
    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["lfs_objects_uploaded"], 0);
    assert_eq!(result["created_repo"], false);
    assert_eq!(result["refs_pushed"], serde_json::json!([]));
    assert!(
        stderr(&output).contains("Everything up to date: the Hub's main is at"),
        "{}",
        stderr(&output)
    );
    assert_token_nowhere(&env, &clone, &[&output], WRITE_TOKEN);
}

#[test]
fn bad_tokens_give_clear_messages_and_change_nothing() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "secure");
    hub.create_dataset("alice", "secure", false);
    let remote_before = Command::new("git")
        .arg("--git-dir")
        .arg(hub.bare_repo("alice", "secure"))
        .args(["rev-parse", "main"])
        .output()
        .unwrap();

    // Missing: says where it looked.
    let output = push(&env, &clone, None, &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("HF_TOKEN") && err.contains("HUGGINGFACE_API_KEY") && err.contains("token"),
        "{err}"
    );
    assert!(
        err.contains(".cache/huggingface/token") || err.contains("huggingface/token"),
        "{err}"
    );

    // Wrong and read-only tokens: refused, without the token in any message.
    for token in [WRONG_TOKEN, READ_TOKEN] {
        let output = push(&env, &clone, Some(token), &[]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{token}: {}",
            stderr(&output)
        );
        assert_token_nowhere(&env, &clone, &[&output], token);
    }
    let remote_after = Command::new("git")
        .arg("--git-dir")
        .arg(hub.bare_repo("alice", "secure"))
        .args(["rev-parse", "main"])
        .output()
        .unwrap();
    assert_eq!(
        remote_before.stdout, remote_after.stdout,
        "the remote changed"
    );
    assert!(
        !std::fs::read_to_string(clone.join(".git/config"))
            .unwrap()
            .contains("hf_")
    );
}

#[test]
fn token_from_a_dotenv_file_and_offline_mode() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "dotenv");
    std::fs::write(
        clone.join(".env"),
        format!("HUGGINGFACE_API_KEY={WRITE_TOKEN}\n"),
    )
    .unwrap();
    let output = env
        .hf_relay()
        .args(["push", "--dir"])
        .arg(&clone)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("HF_HUB_OFFLINE"),
        "{}",
        stderr(&output)
    );
    let output = push(&env, &clone, None, &[]);
    assert_success(&output);
    // .env is never committed.
    let files = env.git_out(&clone, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(!files.lines().any(|f| f == ".env"), "{files}");
}

#[test]
fn dry_run_reports_and_changes_nothing_remotely() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "dry");
    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--dry-run", "--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["dry_run"], true);
    assert_eq!(result["lfs_objects_uploaded"], 1);
    assert!(
        stderr(&output).contains("Would create dataset repo alice/dry"),
        "{}",
        stderr(&output)
    );
    assert!(
        !hub.bare_repo("alice", "dry").exists(),
        "dry run created the repo"
    );
}

#[test]
fn a_card_edit_made_on_the_hub_survives_the_next_publish() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "edited");
    assert_success(&push(&env, &clone, Some(WRITE_TOKEN), &[]));

    // Someone edits the card's prose and adds a tag on the website (here: a plain git push).
    let web = git_clone_from_hub(&env, &hub, "edited", "web", &[]);
    let readme = std::fs::read_to_string(web.join("README.md")).unwrap();
    let edited = readme.replacen("---\n", "---\nweb_key: from the website\n", 1)
        + "\n## Added on the Hub\n\nThanks to our reviewers.\n";
    std::fs::write(web.join("README.md"), edited).unwrap();
    env.git_out(&web, &["commit", "-qam", "Update README.md"]);
    let header = format!(
        "http.extraHeader=Authorization: Basic {}",
        base64_basic(WRITE_TOKEN)
    );
    env.git_out(&web, &["-c", &header, "push", "-q", "origin", "main"]);

    // Locally: more data; then publish again without --force.
    let output = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(1))
        .arg(friction(2))
        .output()
        .unwrap();
    assert_success(&output);
    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(!result["merged_remote"].is_null(), "{result}");
    let after = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(after.contains("web_key: from the website"), "{after}");
    assert!(
        after.contains("## Added on the Hub\n\nThanks to our reviewers."),
        "{after}"
    );
    assert!(after.contains("num_examples: 120"), "{after}");
    let fresh = git_clone_from_hub(&env, &hub, "edited", "fresh", &[]);
    assert_eq!(
        std::fs::read_to_string(fresh.join("README.md")).unwrap(),
        after
    );
}

#[test]
fn tags_are_pushed_and_can_be_cloned() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "tagged");
    tag(&env, &clone, "v1");
    let output = push(&env, &clone, Some(WRITE_TOKEN), &[]);
    assert_success(&output);
    let fresh = git_clone_from_hub(&env, &hub, "tagged", "at-tag", &["--branch", "v1"]);
    assert!(fresh.join("data/train-00000.parquet").exists());
    let status = env
        .hf_relay()
        .args(["status", "--json", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&status);
    let status: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(status["ahead"], 0, "{status}");
    assert_eq!(
        status["unpushed_tags"].as_array().unwrap().len(),
        0,
        "{status}"
    );
}

#[test]
fn a_tag_on_a_published_main_is_pushed_alone() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "tag-later");
    assert_success(&push(&env, &clone, Some(WRITE_TOKEN), &[]));
    let bare = hub.bare_repo("alice", "tag-later");
    let hub_main = env.git_out(&bare, &["rev-parse", "refs/heads/main"]);
    tag(&env, &clone, "v1");

    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        result["refs_pushed"],
        serde_json::json!(["refs/tags/v1:refs/tags/v1"]),
        "{result}"
    );
    assert_eq!(result["lfs_objects_uploaded"], 0);
    let messages = stderr(&output);
    assert!(messages.contains("Pushed refs/tags/v1"), "{messages}");
    assert!(!messages.contains("refs/heads/main"), "{messages}");
    assert_eq!(
        env.git_out(&bare, &["rev-parse", "refs/heads/main"]),
        hub_main
    );
    assert_eq!(
        env.git_out(&bare, &["rev-parse", "refs/tags/v1^{commit}"]),
        hub_main
    );

    // Nothing left: the next push says so and pushes nothing.
    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["refs_pushed"], serde_json::json!([]), "{result}");
}

#[test]
fn push_draws_upload_progress_on_a_terminal_and_announces_a_retry_before_it() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "on-terminal");
    // The first batch call is answered 429: its retry is announced before the bar exists.
    hub.set_faults(r#"{"batch_429": 1, "retry_after": 1}"#);
    let output = env
        .hf_relay_on_terminal()
        .arg("push")
        .arg("--dir")
        .arg(&clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&output);
    let drawn = stdout(&output);
    let size = std::fs::metadata(clone.join("data/train-00000.parquet"))
        .unwrap()
        .len();
    assert_progress_frames(&drawn, "Uploading 1 object", size);
    assert!(
        drawn.contains("LFS batch request (upload of 1 object): rate limited (HTTP 429)")
            && drawn.contains("trying again in 1.0s"),
        "{drawn}"
    );
    assert!(drawn.contains("Pushed refs/heads/main"), "{drawn}");
    assert!(
        !drawn.contains(WRITE_TOKEN),
        "the token was drawn:\n{drawn}"
    );
}

#[test]
fn push_refuses_an_inconsistent_repository() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "corrupt");
    // Corrupt the LFS object behind the shard.
    for (_, path) in lfs_objects(&clone) {
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0xff;
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let output = push(&env, &clone, Some(WRITE_TOKEN), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("inconsistent"),
        "{}",
        stderr(&output)
    );
    assert!(!hub.bare_repo("alice", "corrupt").exists());
}

#[test]
fn push_hashes_an_object_changed_in_place_under_its_old_mtime() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "touched");
    let pointer = env.git_out(&clone, &["cat-file", "-p", "HEAD:data/train-00000.parquet"]);
    let oid = pointer
        .lines()
        .find_map(|line| line.strip_prefix("oid sha256:"))
        .unwrap();
    let object = clone
        .join(".git/lfs/objects")
        .join(&oid[0..2])
        .join(&oid[2..4])
        .join(oid);
    // The build recorded the object with the stamps it still has, out of the racy window:
    // untouched, push would not hash it.
    let (recorded, at) = verified_entry(&clone, oid).expect("the build recorded the object");
    assert_eq!(recorded, stamps(&object));
    assert!(
        recorded.mtime_ns < at - 1_000_000_000,
        "racy: {recorded:?} at {at}"
    );

    // Same size, inode and mtime; only the ctime moved.
    corrupt_in_place_keeping_mtime(&object);
    for args in [&["--dry-run"][..], &[]] {
        let output = push(&env, &clone, Some(WRITE_TOKEN), args);
        assert_failure(&output, "refusing to publish an inconsistent repository");
        assert!(
            stderr(&output).contains(&format!(
                "data/train-00000.parquet: LFS object {oid} in .git/lfs/objects is corrupt"
            )),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(!hub.bare_repo("alice", "touched").exists());
}

#[test]
fn push_refuses_a_card_whose_count_does_not_match_the_data() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "miscounted");
    // A card edited by hand and committed with plain git, its count no longer that of the data.
    let card = env.git_out(&clone, &["show", "HEAD:README.md"]);
    assert!(card.contains("    num_examples: 80\n"), "{card}");
    std::fs::write(
        clone.join("README.md"),
        card.replace("    num_examples: 80\n", "    num_examples: 999\n"),
    )
    .unwrap();
    env.git_out(
        &clone,
        &["commit", "-q", "-a", "-m", "Edit the count by hand"],
    );
    let output = push(&env, &clone, Some(WRITE_TOKEN), &[]);
    assert_failure(&output, "refusing to publish an inconsistent repository");
    assert!(
        stderr(&output).contains(
            "README.md: dataset_info.splits[train].num_examples is 999, but its Parquet files \
             hold 80 rows"
        ),
        "{}",
        stderr(&output)
    );
    assert!(!hub.bare_repo("alice", "miscounted").exists());
}

fn base64_basic(token: &str) -> String {
    let output = Command::new("python3")
        .args(["-c", "import base64,sys; print(base64.b64encode(('hf_user:'+sys.argv[1]).encode()).decode())", token])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn publish_inits_builds_and_pushes_in_one_go_and_then_reuses_the_clone() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let publish = |extra: &[&str]| {
        let mut command = env.hf_relay();
        command
            .args([
                "publish",
                "--repo-id",
                "alice/oneshot",
                "--endpoint",
                &hub.url,
                "--license",
                "mit",
            ])
            .args(extra)
            .env("HF_TOKEN", WRITE_TOKEN);
        command.output().unwrap()
    };
    let f1 = friction(1).display().to_string();
    let preview = publish(&["--preview-card", &f1]);
    assert_success(&preview);
    assert!(stdout(&preview).contains("license: mit"));
    assert!(
        !env.path().join("oneshot").exists(),
        "--preview-card wrote a clone"
    );

    let output = publish(&[&f1]);
    assert_success(&output);
    let err = stderr(&output);
    assert!(err.contains("is new"), "{err}");
    assert!(err.contains("Converted train: 80 rows"), "{err}");
    assert!(err.contains("Uploaded 1 LFS object ("), "{err}");
    assert!(stdout(&output).contains(&format!("{}/datasets/alice/oneshot", hub.url)));

    // Elsewhere, with more data: the repo exists, so it is cloned first, then updated.
    let f2 = friction(2).display().to_string();
    let output = publish(&["--dir", "second", &f1, &f2]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("exists on the Hub: cloning"),
        "{}",
        stderr(&output)
    );
    let fresh = git_clone_from_hub(&env, &hub, "oneshot", "check", &[]);
    assert!(
        std::fs::read_to_string(fresh.join("README.md"))
            .unwrap()
            .contains("num_examples: 120")
    );
}

#[test]
fn a_push_killed_mid_upload_completes_when_run_again() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "killed");
    // Slow uploads down so the kill lands mid-upload.
    hub.set_faults(r#"{"lfs_slow_ms": 4000}"#);
    let mut child = env
        .hf_relay()
        .args(["push", "--dir"])
        .arg(&clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    child.kill().unwrap();
    child.wait().unwrap();
    // The Hub holds no ref pointing at data it lacks: main is still the initial commit, if any.
    let bare = hub.bare_repo("alice", "killed");
    if bare.exists() {
        let log = Command::new("git")
            .arg("--git-dir")
            .arg(&bare)
            .args(["log", "--format=%s", "main"])
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&log.stdout).contains("Add train"),
            "a ref was pushed before its LFS objects"
        );
    }
    std::fs::remove_file(hub.faults_file()).unwrap();
    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let fresh = git_clone_from_hub(&env, &hub, "killed", "fresh", &[]);
    assert!(fresh.join("data/train-00000.parquet").exists());
}

#[test]
fn transient_upload_failures_are_retried() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "flaky");
    hub.set_faults(r#"{"lfs_500": 1, "lfs_429": 1, "retry_after": 1}"#);
    let output = push(&env, &clone, Some(WRITE_TOKEN), &["--json"]);
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["lfs_objects_uploaded"], 1);
    assert!(
        stderr(&output).contains("trying again"),
        "{}",
        stderr(&output)
    );
}

/// The Hub may still be applying an earlier push of the same ref (its client killed, git's
/// receive-pack still running): the ref is locked. The push waits and tries again.
#[test]
fn a_ref_the_hub_is_still_updating_is_pushed_once_it_is_free() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "busy");
    assert_success(&push(&env, &clone, Some(WRITE_TOKEN), &[]));
    let output = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(1))
        .arg(friction(2))
        .output()
        .unwrap();
    assert_success(&output);

    let lock = hub.bare_repo("alice", "busy").join("refs/heads/main.lock");
    std::fs::write(&lock, "").unwrap();
    // Freed once the push has seen the Hub refuse the locked ref and said it waits (not after
    // a fixed time: a slow machine would reach the push after the lock is gone).
    let mut child = env
        .hf_relay()
        .args(["push", "--dir"])
        .arg(&clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout_pipe = child.stdout.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut { stdout_pipe }, &mut bytes).unwrap();
        bytes
    });
    let mut stderr_bytes = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap())) {
        let line = line.unwrap();
        if line.contains("The Hub is busy updating a ref") && lock.exists() {
            std::fs::remove_file(&lock).unwrap();
        }
        stderr_bytes.extend_from_slice(line.as_bytes());
        stderr_bytes.push(b'\n');
    }
    let status = child.wait().unwrap();
    let output = Output {
        status,
        stdout: stdout_reader.join().unwrap(),
        stderr: stderr_bytes,
    };
    assert_success(&output);
    assert!(
        stderr(&output).contains("The Hub is busy updating a ref"),
        "{}",
        stderr(&output)
    );
    let remote_main = Command::new("git")
        .arg("--git-dir")
        .arg(hub.bare_repo("alice", "busy"))
        .args(["rev-parse", "refs/heads/main"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&remote_main).trim(),
        env.git_out(&clone, &["rev-parse", "HEAD"]).trim()
    );
}

/// A push or fetch killed while git wrote a ref leaves its `.lock` file; the next push removes
/// it once it is old enough to be nobody's, instead of failing on it.
#[test]
fn a_lock_file_left_by_a_killed_push_is_removed_by_the_next_one() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "stale-lock");
    assert_success(&push(&env, &clone, Some(WRITE_TOKEN), &[]));
    let lock = clone.join(".git/refs/remotes/origin/main.lock");
    std::fs::write(&lock, "").unwrap();
    let touch = Command::new("touch")
        .args(["-d", "2020-01-01"])
        .arg(&lock)
        .status()
        .unwrap();
    assert!(touch.success());
    let output = push(&env, &clone, Some(WRITE_TOKEN), &[]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("Removed 1 stale git lock file"),
        "{}",
        stderr(&output)
    );
    assert!(!lock.exists());
}

#[test]
fn push_without_a_token_lists_every_place_it_looked_and_sends_nothing() {
    let env = TestEnv::new();
    let clone = env.init("no-token");
    let output = env
        .hf_relay()
        .args(["push", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    insta::assert_snapshot!(transcript(&env, &output), @r"
    exit: 1
    --- stdout
    --- stderr
    Error: no Hugging Face token found; looked in:
      - environment variable HF_TOKEN
      - environment variable HUGGINGFACE_API_KEY
      - environment variable HUGGING_FACE_HUB_TOKEN
      - .env file [ROOT]/.env (HF_TOKEN, HUGGINGFACE_API_KEY, HUGGING_FACE_HUB_TOKEN) (not found)
      - .env file [ROOT]/no-token/.env (HF_TOKEN, HUGGINGFACE_API_KEY, HUGGING_FACE_HUB_TOKEN) (not found)
      - token file [ROOT]/home/.cache/huggingface/token (from HF_HOME; not found)
    Hint: set HF_TOKEN, or run `hf auth login`
    ");
}
