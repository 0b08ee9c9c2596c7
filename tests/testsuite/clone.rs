//! `hf-relay clone` against the project's Hub server on loopback, driven as a user would.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;
use hf_relay::auth::Token;
use hf_relay::repo::{Change, LocalClone, lfs, remote};
use hf_relay_test_support::{TestHub, WRITE_TOKEN, WRONG_TOKEN};

fn fixed_env(name: &str) -> Option<String> {
    match name {
        "GIT_AUTHOR_DATE" | "GIT_COMMITTER_DATE" => Some("@1764000000 +0000".to_string()),
        _ => None,
    }
}

/// Creates `owner/name` and pushes a README and one LFS file (whose object the server gets
/// directly); returns the pushed commit and the LFS content.
fn publish_dataset(hub: &TestHub, owner: &str, name: &str, private: bool) -> (String, Vec<u8>) {
    hub.create_dataset(owner, name, private);
    let work = tempfile::tempdir().unwrap();
    let clone = remote::clone_from(
        &hub.dataset_url(owner, name),
        &work.path().join("a"),
        Some(&Token::new(WRITE_TOKEN)),
    )
    .unwrap();
    let content: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let staging = clone.staging_dir().unwrap();
    let staged = staging.path().join("shard");
    std::fs::write(&staged, &content).unwrap();
    let pointer = lfs::Hasher::new().pointer_for(&staged).unwrap();
    let changes = vec![
        Change::File {
            path: "README.md".to_string(),
            bytes: b"# A dataset\n".to_vec(),
        },
        Change::Lfs {
            path: "data/train-00000.parquet".to_string(),
            staged,
        },
    ];
    clone
        .commit_with_env(changes, "Add train", &fixed_env)
        .unwrap();
    hub.put_lfs_object(owner, name, &pointer.oid, &content);
    remote::push(
        &clone,
        &Token::new(WRITE_TOKEN),
        &["refs/heads/main:refs/heads/main".to_string()],
        false,
    )
    .unwrap();
    let head = clone.repo.head().unwrap().target().unwrap().to_string();
    (head, content)
}

fn clone_cmd(env: &TestEnv, hub: &TestHub, args: &[&str]) -> std::process::Command {
    let mut command = env.hf_relay();
    command
        .arg("clone")
        .args(args)
        .arg("--endpoint")
        .arg(&hub.url);
    command
}

fn open(dir: &Path) -> LocalClone {
    LocalClone::open(dir).unwrap()
}

#[test]
fn clone_no_lfs_clones_a_dataset_with_its_pointers() {
    let hub = TestHub::start();
    let (head, content) = publish_dataset(&hub, "alice", "ds", false);
    let env = TestEnv::new();
    let output = clone_cmd(&env, &hub, &["alice/ds", "--no-lfs"])
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(stdout(&output), "");
    let url = hub.dataset_url("alice", "ds");
    assert_eq!(
        stderr(&output),
        format!(
            "Cloning alice/ds from {url} into ds\n\
             Cloned alice/ds into ds (3 files, 1 LFS object)\n\
             LFS files hold their pointers (--no-lfs); their content was not downloaded\n"
        )
    );
    let dir = env.path().join("ds");
    assert_eq!(env.git_out(&dir, &["rev-parse", "HEAD"]).trim(), head);
    assert_eq!(
        env.git_out(&dir, &["rev-parse", "--abbrev-ref", "HEAD"])
            .trim(),
        "main"
    );
    assert_eq!(
        env.git_out(&dir, &["remote", "get-url", "origin"]).trim(),
        url
    );
    let config = std::fs::read_to_string(dir.join(".git/config")).unwrap();
    assert!(
        !config.contains(WRITE_TOKEN) && !config.contains("hf_"),
        "{config}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "# A dataset\n"
    );
    let pointer = std::fs::read(dir.join("data/train-00000.parquet")).unwrap();
    assert!(lfs::Pointer::parse(&pointer).is_some_and(|p| p.size == content.len() as u64));
    assert_eq!(env.git_out(&dir, &["status", "--porcelain"]), "");
    // The result is a clone the other commands open.
    assert_eq!(open(&dir).branch, "refs/heads/main");
}

#[test]
fn clone_into_a_given_folder_without_lfs_files() {
    let hub = TestHub::start();
    hub.create_dataset("alice", "fresh", false);
    let env = TestEnv::new();
    // Anonymous: the repo is public.
    let output = clone_cmd(&env, &hub, &["alice/fresh", "nested/mine"])
        .output()
        .unwrap();
    assert_success(&output);
    assert!(
        stderr(&output).contains("Cloned alice/fresh into nested/mine (1 file, 0 LFS objects)\n"),
        "{}",
        stderr(&output)
    );
    let dir = env.path().join("nested/mine");
    assert!(
        std::fs::read_to_string(dir.join(".gitattributes"))
            .unwrap()
            .contains("*.parquet filter=lfs diff=lfs merge=lfs -text")
    );
    assert_eq!(env.git_out(&dir, &["status", "--porcelain"]), "");

    // A second clone into the same, now non-empty, folder is refused and changes nothing.
    let before = env.snapshot(&dir);
    let output = clone_cmd(&env, &hub, &["alice/fresh", "nested/mine"])
        .output()
        .unwrap();
    assert_failure(&output, "already exists and is not empty");
    assert_eq!(env.snapshot(&dir), before);
}

#[test]
fn clone_refuses_offline_mode_and_bad_ids_before_any_network_access() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    for value in ["1", "yes", "TRUE", " on "] {
        let output = clone_cmd(&env, &hub, &["alice/ds"])
            .env("HF_HUB_OFFLINE", value)
            .output()
            .unwrap();
        assert_failure(
            &output,
            "Error: cannot clone alice/ds: HF_HUB_OFFLINE is set, which forbids network access",
        );
    }
    for bad in ["noslash", "a/b/c", "alice/x--y"] {
        let output = clone_cmd(&env, &hub, &[bad]).output().unwrap();
        assert_failure(&output, "invalid repo id");
    }
    assert!(!env.path().join("ds").exists());
    let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap_or_default();
    assert_eq!(log, "", "no request reached the Hub");
}

#[test]
fn clone_of_a_private_repo_needs_a_valid_token() {
    let hub = TestHub::start();
    publish_dataset(&hub, "acme", "secret", true);
    let env = TestEnv::new();

    let output = clone_cmd(&env, &hub, &["acme/secret", "--no-lfs"])
        .output()
        .unwrap();
    assert_failure(&output, "this repository needs a token");
    assert!(stderr(&output).contains("acme/secret"));
    assert!(!env.path().join("secret").exists());

    let started = Instant::now();
    let output = clone_cmd(&env, &hub, &["acme/secret", "--no-lfs"])
        .env("HF_TOKEN", WRONG_TOKEN)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_failure(
        &output,
        "authentication failed: the Hub refused the token (invalid, expired, or without access \
         to acme/secret)",
    );
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(WRONG_TOKEN), "{text}");
    }
    assert!(!env.path().join("secret").exists());

    let output = clone_cmd(&env, &hub, &["acme/secret", "--no-lfs"])
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&output);
    let config = std::fs::read_to_string(env.path().join("secret/.git/config")).unwrap();
    assert!(!config.contains(WRITE_TOKEN), "{config}");
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(WRITE_TOKEN), "{text}");
    }
}

#[test]
fn clone_of_a_missing_repo_says_not_found() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let output = clone_cmd(&env, &hub, &["alice/nope"])
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_failure(
        &output,
        "repository not found: alice/nope does not exist on the Hub, or the token cannot see it",
    );
    assert!(!env.path().join("nope").exists());
}

/// The LFS object `oid` in the clone's store.
fn stored_object(dir: &Path, oid: &str) -> std::path::PathBuf {
    lfs::store_path(&dir.join(".git"), oid)
}

/// The oid of the LFS file `path` at HEAD of the clone in `dir`.
fn pointer_oid(env: &TestEnv, dir: &Path, path: &str) -> String {
    let blob = env.git_out(dir, &["cat-file", "blob", &format!("HEAD:{path}")]);
    lfs::Pointer::parse(blob.as_bytes()).unwrap().oid
}

#[track_caller]
fn assert_git_clean_with_lfs(env: &TestEnv, dir: &Path) {
    let fsck = env.git(dir).args(["lfs", "fsck"]).output().unwrap();
    assert_success(&fsck);
    assert_eq!(env.git_out(dir, &["status", "--porcelain"]), "");
}

#[test]
fn clone_downloads_lfs_objects_into_the_store_and_working_tree() {
    let hub = TestHub::start();
    let (head, content) = publish_dataset(&hub, "alice", "ds", false);
    let env = TestEnv::new();
    // Anonymous: the repo is public, and there is no token anywhere.
    let output = clone_cmd(&env, &hub, &["alice/ds"]).output().unwrap();
    assert_success(&output);
    assert_eq!(stdout(&output), "");
    let url = hub.dataset_url("alice", "ds");
    assert_eq!(
        stderr(&output),
        format!(
            "Cloning alice/ds from {url} into ds\n\
             Downloaded 1 LFS object (5.0 kB)\n\
             Cloned alice/ds into ds (3 files, 1 LFS object)\n"
        )
    );
    let dir = env.path().join("ds");
    assert_eq!(env.git_out(&dir, &["rev-parse", "HEAD"]).trim(), head);
    let path = "data/train-00000.parquet";
    assert_eq!(std::fs::read(dir.join(path)).unwrap(), content);
    let oid = pointer_oid(&env, &dir, path);
    assert_eq!(std::fs::read(stored_object(&dir, &oid)).unwrap(), content);
    assert_git_clean_with_lfs(&env, &dir);
    assert_eq!(
        env.git_out(&dir, &["lfs", "ls-files", "--name-only"]),
        format!("{path}\n")
    );
    // Nothing left over from the transfer.
    let leftovers: Vec<_> = std::fs::read_dir(stored_object(&dir, &oid).parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from(&oid)]);

    // The clone is a working hf-relay clone: a build replaces the shard and commits.
    let output = env
        .hf_relay()
        .args(["build", "--dir"])
        .arg(&dir)
        .arg(repo_path("examples/friction/dialogues-02.jsonl"))
        .output()
        .unwrap();
    assert_success(&output);
    assert!(
        stderr(&output).contains("Committed "),
        "{}",
        stderr(&output)
    );
    assert_ne!(env.git_out(&dir, &["rev-parse", "HEAD"]).trim(), head);
    assert_ne!(std::fs::read(dir.join(path)).unwrap(), content);
    assert_git_clean_with_lfs(&env, &dir);
}

#[test]
fn clone_draws_download_progress_on_a_terminal_with_its_total() {
    let hub = TestHub::start();
    let (_, content) = publish_dataset(&hub, "alice", "ds", false);
    let env = TestEnv::new();
    let output = env
        .hf_relay_on_terminal()
        .args(["clone", "alice/ds", "--endpoint", &hub.url])
        .output()
        .unwrap();
    assert_success(&output);
    let drawn = stdout(&output);
    assert_progress_frames(&drawn, "Downloading 1 object", content.len() as u64);
    assert!(drawn.contains("Cloned alice/ds"), "{drawn}");
}

#[test]
fn clone_of_a_private_repo_downloads_with_a_token_and_fails_clearly_without() {
    let hub = TestHub::start();
    let (_, content) = publish_dataset(&hub, "acme", "secret", true);
    let env = TestEnv::new();
    let path = "data/train-00000.parquet";

    let output = clone_cmd(&env, &hub, &["acme/secret"]).output().unwrap();
    assert_failure(
        &output,
        "this repository needs a token: acme/secret is private or gated, or does not exist",
    );
    assert!(
        stderr(&output).contains("\nHint: set HF_TOKEN to a token that can access it\n"),
        "{}",
        stderr(&output)
    );
    assert!(!env.path().join("secret").exists());

    let output = clone_cmd(&env, &hub, &["acme/secret"])
        .env("HF_TOKEN", WRONG_TOKEN)
        .output()
        .unwrap();
    assert_failure(&output, "authentication failed: the Hub refused the token");
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(WRONG_TOKEN), "{text}");
    }
    assert!(!env.path().join("secret").exists());

    let output = clone_cmd(&env, &hub, &["acme/secret"])
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&output);
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(WRITE_TOKEN), "{text}");
    }
    let dir = env.path().join("secret");
    assert_eq!(std::fs::read(dir.join(path)).unwrap(), content);
    assert_git_clean_with_lfs(&env, &dir);
    let config = std::fs::read_to_string(dir.join(".git/config")).unwrap();
    assert!(!config.contains(WRITE_TOKEN), "{config}");

    // The token is found where huggingface_hub looks too: here the token file in HF_HOME.
    let token_file = env.home().join(".cache/huggingface/token");
    std::fs::create_dir_all(token_file.parent().unwrap()).unwrap();
    std::fs::write(&token_file, format!("{WRITE_TOKEN}\n")).unwrap();
    let output = clone_cmd(&env, &hub, &["acme/secret", "again"])
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(
        std::fs::read(env.path().join("again").join(path)).unwrap(),
        content
    );
}

#[test]
fn a_failed_lfs_download_removes_the_clone() {
    let hub = TestHub::start();
    let (_, content) = publish_dataset(&hub, "alice", "ds", false);
    let env = TestEnv::new();
    let oid = lfs::Hasher::new()
        .pointer_for(&env.write("content", &content))
        .unwrap()
        .oid;
    let served = hub.lfs_dir("alice", "ds").join(&oid);

    // The server holds other bytes under the object's name: the download does not match.
    let mut corrupted = content.clone();
    corrupted[10] ^= 0xff;
    std::fs::write(&served, &corrupted).unwrap();
    let output = clone_cmd(&env, &hub, &["alice/ds", "nested/ds"])
        .output()
        .unwrap();
    assert_failure(
        &output,
        "Error: cannot clone alice/ds into nested/ds; the partial clone was removed (--no-lfs \
         clones without downloading the LFS files)",
    );
    assert!(
        stderr(&output).contains("does not match"),
        "{}",
        stderr(&output)
    );
    assert!(!env.path().join("nested").exists());

    // The object is gone from the server; a given empty folder is emptied again, not removed.
    std::fs::remove_file(&served).unwrap();
    std::fs::create_dir(env.path().join("empty")).unwrap();
    let output = clone_cmd(&env, &hub, &["alice/ds", "empty"])
        .output()
        .unwrap();
    assert_failure(
        &output,
        "Error: cannot clone alice/ds into empty; the partial clone was removed",
    );
    assert!(stderr(&output).contains(&oid), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_dir(env.path().join("empty")).unwrap().count(),
        0
    );

    // Without LFS, the same repo clones (its pointers only).
    let output = clone_cmd(&env, &hub, &["alice/ds", "empty", "--no-lfs"])
        .output()
        .unwrap();
    assert_success(&output);
}
