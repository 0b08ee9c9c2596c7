//! `repo::remote` against the project's Hub server (`tests/hub/hub_server.py`) on loopback.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::*;
use crate::repo::lfs::{LfsCheckout, checkout_lfs, lfs_pointers_at, lfs_pointers_between};
use crate::repo::{Change, CommitOutcome, lfs};
use hf_relay_test_support::{READ_TOKEN, TestHub, WRITE_TOKEN, WRONG_TOKEN};

fn token(value: &str) -> Token {
    Token::new(value)
}

fn fixed_env(name: &str) -> Option<String> {
    let value = match name {
        "GIT_AUTHOR_NAME" | "GIT_COMMITTER_NAME" => "Test",
        "GIT_AUTHOR_EMAIL" | "GIT_COMMITTER_EMAIL" => "test@example.com",
        "GIT_AUTHOR_DATE" | "GIT_COMMITTER_DATE" => "@1764000000 +0000",
        _ => return None,
    };
    Some(value.to_string())
}

fn commit(clone: &LocalClone, changes: Vec<Change>, message: &str) -> Oid {
    match clone.commit_with_env(changes, message, &fixed_env).unwrap() {
        CommitOutcome::Committed { id } => id,
        CommitOutcome::Unchanged => panic!("nothing was committed"),
    }
}

fn commit_text(clone: &LocalClone, path: &str, text: &str) -> Oid {
    let change = Change::File {
        path: path.to_string(),
        bytes: text.as_bytes().to_vec(),
    };
    commit(clone, vec![change], &format!("Add {path}"))
}

/// Commits `bytes` at `path` as a regular blob, bypassing the checks of `LocalClone::commit` (which
/// refuses what the Hub refuses); only HEAD moves.
fn commit_raw(clone: &LocalClone, path: &str, bytes: &[u8]) -> Oid {
    let repo = &clone.repo;
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let blob = repo.blob(bytes).unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(path, blob, git2::FileMode::Blob);
    let tree = repo
        .find_tree(update.create_updated(repo, &head.tree().unwrap()).unwrap())
        .unwrap();
    let signature =
        git2::Signature::new("Test", "test@example.com", &git2::Time::new(1, 0)).unwrap();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        &format!("Add {path}"),
        &tree,
        &[&head],
    )
    .unwrap()
}

/// An LFS file committed through `LocalClone::commit`; returns its pointer.
fn commit_lfs(clone: &LocalClone, path: &str, content: &[u8]) -> (Oid, lfs::Pointer) {
    let staging = clone.staging_dir().unwrap();
    let staged = staging.path().join("file");
    std::fs::write(&staged, content).unwrap();
    let pointer = lfs::Hasher::new().pointer_for(&staged).unwrap();
    let change = Change::Lfs {
        path: path.to_string(),
        staged,
    };
    (commit(clone, vec![change], &format!("Add {path}")), pointer)
}

fn main_spec() -> Vec<String> {
    vec![format!("{MAIN}:{MAIN}")]
}

fn head(clone: &LocalClone) -> Oid {
    clone.repo.head().unwrap().target().unwrap()
}

/// The error of a call expected to fail (`LocalClone` has no `Debug`, so no `unwrap_err`).
fn failure<T>(result: anyhow::Result<T>) -> anyhow::Error {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(error) => error,
    }
}

fn remote_error(error: &anyhow::Error) -> &RemoteError {
    error
        .downcast_ref::<RemoteError>()
        .unwrap_or_else(|| panic!("not a RemoteError: {error:#}"))
}

fn git_config(clone: &LocalClone) -> String {
    std::fs::read_to_string(clone.repo.path().join("config")).unwrap()
}

/// `git status --porcelain` in a sealed environment (no user or system config).
fn git_status(dir: &Path) -> String {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(dir)
        .env("HOME", home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// A hub with `alice/NAME` (public) and a clone of it with the write token.
fn hub_and_clone(name: &str) -> (TestHub, tempfile::TempDir, LocalClone) {
    let hub = TestHub::start();
    hub.create_dataset("alice", name, false);
    let work = tempfile::tempdir().unwrap();
    let clone = clone_from(
        &hub.dataset_url("alice", name),
        &work.path().join("a"),
        Some(&token(WRITE_TOKEN)),
    )
    .unwrap();
    (hub, work, clone)
}

#[test]
fn remote_push_then_fetch_and_clone_round_trip() {
    let (hub, work, a) = hub_and_clone("round");
    assert_eq!(a.branch, MAIN);
    assert_eq!(a.origin_url().unwrap(), hub.dataset_url("alice", "round"));
    let first = head(&a);
    assert_eq!(fetch(&a, None).unwrap().main, Some(first));

    let pushed = commit_text(&a, "notes.txt", "hello hub\n");
    let report = push(&a, &token(WRITE_TOKEN), &main_spec(), false).unwrap();
    assert_eq!(report.updated, vec![MAIN.to_string()]);
    assert_eq!(
        a.repo.refname_to_id(ORIGIN_MAIN).unwrap(),
        pushed,
        "libgit2 moves the tracking ref on push"
    );
    assert_eq!(remote_head(&a, None).unwrap(), Some(pushed));
    assert_eq!(
        fetch(&a, Some(&token(WRITE_TOKEN))).unwrap().main,
        Some(pushed)
    );

    // A second clone (anonymous: the repo is public) sees the commit.
    let b = clone_from(
        &hub.dataset_url("alice", "round"),
        &work.path().join("b"),
        None,
    )
    .unwrap();
    assert_eq!(head(&b), pushed);
    assert_eq!(
        std::fs::read_to_string(b.root.join("notes.txt")).unwrap(),
        "hello hub\n"
    );
    assert_eq!(git_status(&b.root), "");
    assert!(!git_config(&a).contains("hf_"), "{}", git_config(&a));
}

#[test]
fn remote_refused_push_quotes_the_server() {
    let (_hub, _work, a) = hub_and_clone("binary");
    commit_raw(&a, "blob.dat", b"abc\x00\x01\x02def");
    let error = push(&a, &token(WRITE_TOKEN), &main_spec(), false).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(remote_error(&error), RemoteError::Refused { .. }),
        "{message}"
    );
    assert!(
        message.starts_with("the Hub refused refs/heads/main: pre-receive hook declined\n"),
        "{message}"
    );
    assert!(
        message.contains("\nremote: Your push was rejected because it contains binary files.\n"),
        "{message}"
    );
    assert!(
        message.contains("\nremote:   - blob.dat (ref: refs/heads/main)"),
        "{message}"
    );
    assert!(!message.contains("-----"), "{message}");
    assert!(!remote_error(&error).is_retryable());
}

#[test]
fn remote_read_token_push_is_denied() {
    let (_hub, _work, a) = hub_and_clone("denied");
    commit_text(&a, "notes.txt", "text\n");
    let error = push(&a, &token(READ_TOKEN), &main_spec(), false).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("the Hub refused refs/heads/main"),
        "{message}"
    );
    assert!(
        message.contains("remote: DENIED update refs/heads/main: forbidden"),
        "{message}"
    );
    assert!(!message.contains(READ_TOKEN));
}

#[test]
fn remote_wrong_token_fails_once_and_is_never_shown() {
    let (hub, work, a) = hub_and_clone("wrong");
    commit_text(&a, "notes.txt", "text\n");
    let started = Instant::now();
    let error = push(&a, &token(WRONG_TOKEN), &main_spec(), false).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        remote_error(&error),
        RemoteError::AuthFailed { .. }
    ));
    let message = format!("{error:#}");
    assert_eq!(
        message,
        "authentication failed: the Hub refused the token (invalid, expired, or without access \
         to alice/wrong)"
    );
    assert!(!message.contains(WRONG_TOKEN));
    assert!(!git_config(&a).contains(WRONG_TOKEN));
    // One request without credentials, one with the token; no replays.
    let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
    let refused = log
        .lines()
        .filter(|line| line.contains("receive-pack") && line.ends_with(" 401"))
        .count();
    assert!(refused <= 2, "{log}");

    // Same on clone, and the folder is removed.
    hub.create_dataset("acme", "private-wrong", true);
    let dir = work.path().join("c");
    let error = failure(clone_from(
        &hub.dataset_url("acme", "private-wrong"),
        &dir,
        Some(&token(WRONG_TOKEN)),
    ));
    assert!(matches!(
        remote_error(&error),
        RemoteError::AuthFailed { .. }
    ));
    assert!(!dir.exists());
}

#[test]
fn remote_private_repo_needs_a_token_and_missing_repo_is_not_found() {
    let hub = TestHub::start();
    hub.create_dataset("acme", "secret", true);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("nested/secret");
    let error = failure(clone_from(&hub.dataset_url("acme", "secret"), &dir, None));
    assert!(
        matches!(remote_error(&error), RemoteError::TokenNeeded { .. }),
        "{error:#}"
    );
    assert!(
        error
            .to_string()
            .starts_with("this repository needs a token")
    );
    assert!(!work.path().join("nested").exists());

    let secret = clone_from(
        &hub.dataset_url("acme", "secret"),
        &dir,
        Some(&token(WRITE_TOKEN)),
    )
    .unwrap();
    assert!(secret.root.join(".gitattributes").is_file());
    assert!(!git_config(&secret).contains(WRITE_TOKEN));
    let error = fetch(&secret, None).unwrap_err();
    assert!(matches!(
        remote_error(&error),
        RemoteError::TokenNeeded { .. }
    ));

    let error = failure(clone_from(
        &hub.dataset_url("alice", "nope"),
        &work.path().join("nope"),
        Some(&token(WRITE_TOKEN)),
    ));
    assert!(
        matches!(remote_error(&error), RemoteError::NotFound { .. }),
        "{error:#}"
    );
    assert!(error.to_string().contains("alice/nope"));

    // Credentials in the URL are refused before anything is created.
    let with_secret = hub
        .dataset_url("acme", "secret")
        .replace("http://", "http://u:hf_abcdefghijkl@");
    let error = failure(clone_from(&with_secret, &work.path().join("x"), None));
    assert!(!error.to_string().contains("hf_abcdefghijkl"));
    assert!(!work.path().join("x").exists());
}

#[test]
fn remote_non_fast_forward_push_is_refused_unless_forced() {
    let (hub, work, a) = hub_and_clone("race");
    let b = clone_from(
        &hub.dataset_url("alice", "race"),
        &work.path().join("b"),
        None,
    )
    .unwrap();
    commit_text(&a, "a.txt", "from a\n");
    push(&a, &token(WRITE_TOKEN), &main_spec(), false).unwrap();

    let mine = commit_text(&b, "b.txt", "from b\n");
    for fetched_first in [false, true] {
        if fetched_first {
            fetch(&b, None).unwrap();
        }
        let error = push(&b, &token(WRITE_TOKEN), &main_spec(), false).unwrap_err();
        assert!(
            matches!(remote_error(&error), RemoteError::NotFastForward),
            "{error:#}"
        );
        assert_eq!(
            error.to_string(),
            "the Hub's branch has commits this clone does not have"
        );
    }
    let report = push(&b, &token(WRITE_TOKEN), &main_spec(), true).unwrap();
    assert_eq!(report.updated, vec![MAIN.to_string()]);
    assert_eq!(remote_head(&b, None).unwrap(), Some(mine));
}

#[test]
fn remote_tags_are_pushed_listed_and_fetched() {
    let (hub, work, a) = hub_and_clone("tags");
    assert_eq!(remote_tags(&a, None).unwrap(), Vec::new());
    let target = a
        .repo
        .head()
        .unwrap()
        .peel(git2::ObjectType::Commit)
        .unwrap();
    let signature =
        git2::Signature::new("Test", "test@example.com", &git2::Time::new(1, 0)).unwrap();
    let tag = a
        .repo
        .tag("v1", &target, &signature, "Release v1\n", false)
        .unwrap();
    let report = push(
        &a,
        &token(WRITE_TOKEN),
        &["refs/tags/v1:refs/tags/v1".to_string()],
        false,
    )
    .unwrap();
    assert_eq!(report.updated, vec!["refs/tags/v1".to_string()]);
    assert_eq!(
        remote_tags(&a, Some(&token(WRITE_TOKEN))).unwrap(),
        vec![("v1".to_string(), tag)]
    );

    // Fetch brings the tag, and keeps a local tag of the same name as it is.
    let b = clone_from(
        &hub.dataset_url("alice", "tags"),
        &work.path().join("b"),
        None,
    )
    .unwrap();
    assert_eq!(b.repo.refname_to_id("refs/tags/v1").unwrap(), tag);
    b.repo
        .find_reference("refs/tags/v1")
        .unwrap()
        .delete()
        .unwrap();
    let advertised = fetch(&b, None).unwrap();
    assert_eq!(advertised.tags, vec![("v1".to_string(), tag)]);
    assert_eq!(b.repo.refname_to_id("refs/tags/v1").unwrap(), tag);
    let commit = b.repo.find_object(target.id(), None).unwrap();
    b.repo.tag_lightweight("v1", &commit, true).unwrap();
    fetch(&b, None).unwrap();
    assert_eq!(
        b.repo.refname_to_id("refs/tags/v1").unwrap(),
        commit.id(),
        "a local tag is not overwritten"
    );
}

#[test]
fn remote_lfs_pointers_between_lists_what_a_push_must_upload() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("local");
    crate::repo::init_with_env(
        &dir,
        "http://127.0.0.1:9/datasets/you/x",
        "you/x",
        &fixed_env,
    )
    .unwrap();
    let clone = LocalClone::open(&dir).unwrap();
    let first = head(&clone);
    let (one, train) = commit_lfs(&clone, "data/train-00000.parquet", b"train bytes");
    assert_eq!(
        lfs_pointers_between(&clone, &[first], one).unwrap(),
        vec![("data/train-00000.parquet".to_string(), train.clone())]
    );
    let (two, test) = commit_lfs(&clone, "data/test-00000.parquet", b"test bytes");
    // The same content at a second path, and an empty LFS file: nothing more to upload.
    commit_lfs(&clone, "more/train.parquet", b"train bytes");
    let (three, _) = commit_lfs(&clone, "data/empty.parquet", b"");
    commit_text(&clone, "README.md", "# x\n");
    let tip = head(&clone);

    let all = lfs_pointers_between(&clone, &[first], tip).unwrap();
    assert_eq!(
        all,
        vec![
            ("data/test-00000.parquet".to_string(), test.clone()),
            ("data/train-00000.parquet".to_string(), train.clone()),
        ]
    );
    // The Hub checks the whole tree of every new commit, unchanged files included.
    assert_eq!(
        lfs_pointers_between(&clone, &[two], three).unwrap().len(),
        2
    );
    assert_eq!(
        lfs_pointers_between(&clone, &[tip], tip).unwrap(),
        Vec::new()
    );
    // An id the clone does not have is ignored.
    let unknown = Oid::from_str("0123456789012345678901234567890123456789").unwrap();
    assert_eq!(
        lfs_pointers_between(&clone, &[unknown, first], tip).unwrap(),
        all
    );
    assert_eq!(lfs_pointers_at(&clone, one).unwrap().len(), 1);
}

#[test]
fn remote_checkout_lfs_replaces_pointers_and_keeps_status_clean() {
    let (hub, work, a) = hub_and_clone("lfs");
    let content = vec![7u8; 3000];
    let (_, pointer) = commit_lfs(&a, "data/train-00000.parquet", &content);
    commit_lfs(&a, "data/copy.parquet", &content);
    hub.put_lfs_object("alice", "lfs", &pointer.oid, &content);
    push(&a, &token(WRITE_TOKEN), &main_spec(), false).unwrap();

    let b = clone_from(
        &hub.dataset_url("alice", "lfs"),
        &work.path().join("b"),
        None,
    )
    .unwrap();
    let train = b.root.join("data/train-00000.parquet");
    assert_eq!(
        std::fs::read(&train).unwrap(),
        pointer.encode().into_bytes()
    );

    // A download that returns the wrong bytes is caught, and nothing is stored.
    let bad = |_: &lfs::Pointer, path: &Path| -> anyhow::Result<()> {
        std::fs::write(path, b"not it")?;
        Ok(())
    };
    let error = checkout_lfs(&b, &bad).unwrap_err();
    assert!(format!("{error:#}").contains("does not match its LFS pointer"));
    assert!(!lfs::store_path(b.repo.path(), &pointer.oid).exists());

    let calls = std::cell::Cell::new(0);
    let server_store = hub.lfs_dir("alice", "lfs");
    let download = |wanted: &lfs::Pointer, path: &Path| -> anyhow::Result<()> {
        calls.set(calls.get() + 1);
        std::fs::copy(server_store.join(&wanted.oid), path)?;
        Ok(())
    };
    let report = checkout_lfs(&b, &download).unwrap();
    assert_eq!(
        report,
        LfsCheckout {
            files: 2,
            fetched: 1,
            modified: Vec::new()
        }
    );
    assert_eq!(calls.get(), 1);
    assert_eq!(std::fs::read(&train).unwrap(), content);
    assert_eq!(
        std::fs::read(b.root.join("data/copy.parquet")).unwrap(),
        content
    );
    assert_eq!(git_status(&b.root), "");

    // Again: nothing to fetch; a file the user changed is left alone.
    std::fs::write(b.root.join("data/copy.parquet"), b"mine").unwrap();
    let report = checkout_lfs(&b, &download).unwrap();
    assert_eq!(report.fetched, 0);
    assert_eq!(report.files, 1);
    assert_eq!(report.modified, vec!["data/copy.parquet".to_string()]);
    assert_eq!(calls.get(), 1);
    assert_eq!(git_status(&b.root), " M data/copy.parquet\n");
}

#[test]
fn remote_lines_drop_progress_and_rules() {
    let secret = token("hf_secret0123456789");
    let exchange = Exchange::new(Some(&secret), "a/b", "https://hub.local/datasets/a/b");
    let sideband = b"Resolving deltas:  50% (1/2)\rResolving deltas: 100% (2/2), done.\n\
        ------\nYour push was rejected\n  - x.bin (ref: refs/heads/main)\ntoken hf_secret0123456789\n\n";
    let mut tail = Tail::default();
    tail.push(sideband);
    assert_eq!(
        remote_lines(&tail, &exchange),
        vec![
            "remote: Your push was rejected",
            "remote:   - x.bin (ref: refs/heads/main)",
            "remote: token ***",
        ]
    );
}

#[test]
fn remote_lines_keep_a_bounded_tail() {
    let exchange = Exchange::new(None, "a/b", "https://hub.local/datasets/a/b");
    let mut tail = Tail::default();
    for i in 0..50_000 {
        tail.push(format!("hook line {i}\n").as_bytes());
    }
    assert!(tail.bytes.len() <= 2 * SIDEBAND_TAIL);
    let lines = remote_lines(&tail, &exchange);
    assert_eq!(lines.len(), REMOTE_LINES + 1);
    assert!(
        lines[0].starts_with("remote: … (")
            && lines[0].ends_with("lines of earlier messages left out)"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.last().unwrap(), "remote: hook line 49999");

    let secret = token("hf_secret0123456789");
    let with_token = Exchange::new(Some(&secret), "a/b", "https://hub.local/datasets/a/b");
    assert!(
        no_reason(&with_token, b"xx\x1b0003")
            .ends_with(r#"were "xx\u{1b}0003" (not valid git protocol)"#)
    );
    assert!(!no_reason(&with_token, b"0123456789").contains("0123456789"));
    assert!(!no_reason(&with_token, b"").contains("were"));
}

#[test]
fn exchanges_redact_the_token_hf_tokens_and_url_userinfo() {
    let token = Token::new("hf_abcdefghijklmnopqrstuvwxyz012345");
    let exchange = Exchange::new(Some(&token), "a/b", "https://hub.local/datasets/a/b");
    assert_eq!(
        exchange.display(&format!("bad token {}.", token.expose())),
        "bad token ***."
    );
    // A token that does not look like one is still masked.
    let plain = Token::new("s3cr3t-value");
    let exchange = Exchange::new(Some(&plain), "a/b", "https://hub.local/");
    assert_eq!(exchange.display("sent s3cr3t-value"), "sent ***");
    let anonymous = Exchange::new(None, "a/b", "https://hub.local/");
    assert_eq!(
        anonymous.display("Bearer hf_AbCdEf0123456789 sent"),
        "Bearer *** sent"
    );
    assert_eq!(
        anonymous.display("fatal: https://x:hf_secret00@hub.local:8/datasets/a/b failed"),
        "fatal: https://***@hub.local:8/datasets/a/b failed"
    );
    assert_eq!(anonymous.display("hf_hub_download"), "hf_hub_download");
    let empty = Token::new("");
    assert!(!Exchange::new(Some(&empty), "a/b", "https://hub.local/").has_token());
}

/// What the transport reports is matched by kind, never read back from a message: each kind
/// becomes the `RemoteError` a user sees, retryable only when trying again can help.
#[test]
fn transport_failures_become_remote_errors_by_kind() {
    use crate::net::git::{NetFailure, Refusal, TransportError};
    let secret = token("hf_secret0123456789");
    let with_token = Exchange::new(Some(&secret), "a/b", "https://hub.local/datasets/a/b");
    let anonymous = Exchange::new(None, "a/b", "https://hub.local/datasets/a/b");
    let url = "https://hub.local/datasets/a/b/info/refs".to_string();
    let unauthorized = || TransportError::Unauthorized {
        url: url.clone(),
        token_sent: true,
    };
    let remote = |failure, exchange: &Exchange<'_>| from_transport(failure, exchange, Vec::new());
    assert!(matches!(
        remote(unauthorized(), &with_token),
        RemoteError::AuthFailed { .. }
    ));
    assert!(matches!(
        remote(unauthorized(), &anonymous),
        RemoteError::TokenNeeded { .. }
    ));
    let status = |status| TransportError::Status {
        url: url.clone(),
        status,
        detail: Some("busy".to_string()),
    };
    assert!(matches!(
        remote(status(404), &with_token),
        RemoteError::NotFound { .. }
    ));
    let busy = remote(status(503), &with_token);
    assert!(busy.is_retryable(), "{busy:?}");
    assert_eq!(
        busy.to_string(),
        "the Hub answered HTTP 503 for a/b: unexpected http status code: 503 from \
         https://hub.local/datasets/a/b/info/refs: busy"
    );
    let redirected = remote(
        TransportError::CrossOrigin {
            from: "https://hub.local".to_string(),
            to: "https://evil.example".to_string(),
        },
        &with_token,
    );
    assert!(
        matches!(&redirected, RemoteError::Redirected { to, .. } if to == "https://evil.example")
    );
    let unreachable = |failure| TransportError::Unreachable {
        url: url.clone(),
        failure,
        detail: "detail".to_string(),
    };
    assert!(remote(unreachable(NetFailure::Timeout), &with_token).is_retryable());
    assert!(remote(unreachable(NetFailure::Connection), &with_token).is_retryable());
    assert!(!remote(unreachable(NetFailure::Untrusted), &with_token).is_retryable());
    assert!(matches!(
        remote(TransportError::Refused(Refusal::TooManyRefs), &with_token),
        RemoteError::BadAnswer { .. }
    ));
}

/// Whether `Interrupted` is in the error's cause chain (what makes the exit code 130).
fn carries_interrupted(error: &anyhow::Error) -> bool {
    crate::interrupt::is_interrupted(error)
}

/// Ctrl-C (the flag set on this thread only: libgit2's callbacks run on the calling thread)
/// stops a clone, a fetch and a push at libgit2's next callback: the error carries
/// `Interrupted`, the clone folder is removed, and the interrupted push moved no ref on the Hub.
#[test]
fn remote_transfers_stop_on_ctrl_c() {
    let (hub, work, a) = hub_and_clone("stop");
    let behind = clone_from(
        &hub.dataset_url("alice", "stop"),
        &work.path().join("behind"),
        None,
    )
    .unwrap();
    let old_tip = head(&behind);
    let published = commit_text(&a, "notes.txt", "pushed\n");
    push(&a, &token(WRITE_TOKEN), &main_spec(), false).unwrap();
    commit_text(&a, "notes.txt", "not pushed\n");

    crate::interrupt::set_for_this_thread_for_test(true);
    let pushed = push(&a, &token(WRITE_TOKEN), &main_spec(), false);
    let fetched = fetch(&behind, None);
    let dir = work.path().join("b");
    let cloned = clone_from(&hub.dataset_url("alice", "stop"), &dir, None);
    crate::interrupt::set_for_this_thread_for_test(false);

    let error = pushed.unwrap_err();
    assert!(carries_interrupted(&error), "{error:#}");
    assert!(matches!(
        remote_error(&error),
        RemoteError::Interrupted { .. }
    ));
    assert_eq!(
        remote_head(&a, None).unwrap(),
        Some(published),
        "the Hub's main moved"
    );
    let error = fetched.unwrap_err();
    assert!(carries_interrupted(&error), "{error:#}");
    assert_eq!(behind.repo.refname_to_id(ORIGIN_MAIN).unwrap(), old_tip);
    let error = failure(cloned);
    assert!(carries_interrupted(&error), "{error:#}");
    assert!(
        !dir.exists(),
        "the interrupted clone left {}",
        dir.display()
    );

    // Without Ctrl-C, the same transfers go through.
    assert_eq!(fetch(&behind, None).unwrap().main, Some(published));
    push(&a, &token(WRITE_TOKEN), &main_spec(), false).unwrap();
}

/// git redirects through the transport of `crate::net::git`, end to end through `clone_from`.
mod git_redirects {
    /// Two servers on loopback: A answers every `/cross/…` with a redirect to B (another port,
    /// so another origin), every `/same/…` with a redirect to `/moved/…` on itself, and
    /// `/moved/…` with 401; B answers 401 asking for Basic credentials. Each request is logged
    /// as `SERVER PATH AUTHORIZATION-PRESENT`.
    const REDIRECTING: &str = r#"
import http.server, sys, threading
log = sys.argv[1]
def note(name, handler):
    with open(log, "a") as f:
        f.write("%s %s %s\n" % (name, handler.path, handler.headers.get("Authorization") is not None))
def deny(handler):
    handler.send_response(401)
    handler.send_header("WWW-Authenticate", 'Basic realm="x"')
    handler.send_header("Content-Length", "0")
    handler.end_headers()
class B(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        note("B", self); deny(self)
    def log_message(self, *a): pass
b = http.server.ThreadingHTTPServer(("127.0.0.1", 0), B)
class A(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        note("A", self)
        if self.path.startswith("/cross/"):
            location = "http://127.0.0.1:%d%s" % (b.server_address[1], self.path)
        elif self.path.startswith("/same/"):
            location = self.path.replace("/same/", "/moved/", 1)
        else:
            return deny(self)
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
a = http.server.ThreadingHTTPServer(("127.0.0.1", 0), A)
threading.Thread(target=b.serve_forever, daemon=True).start()
print(a.server_address[1], flush=True)
a.serve_forever()
"#;

    #[test]
    fn git_redirects_are_followed_with_the_token_within_the_origin_and_refused_across() {
        use std::io::BufRead as _;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.log");
        let mut child = std::process::Command::new("python3")
            .arg("-c")
            .arg(REDIRECTING)
            .arg(&log)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        let base = format!("http://127.0.0.1:{}", port.trim());
        let token = &crate::auth::Token::new("hf_redirectsecret000000000000000");

        let cross = crate::repo::remote::clone_from(
            &format!("{base}/cross/datasets/a/b"),
            &dir.path().join("cross"),
            Some(token),
        )
        .err()
        .expect("the clone fails");
        let message = format!("{cross:#}");
        let requests = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::write(&log, "").unwrap();
        let same = crate::repo::remote::clone_from(
            &format!("{base}/same/datasets/a/b"),
            &dir.path().join("same"),
            Some(token),
        )
        .err()
        .expect("the clone fails");
        let same_requests = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = child.kill();
        let _ = child.wait();

        assert!(
            message.contains("another origin") && message.contains(&base),
            "{message}"
        );
        assert!(!message.contains(token.expose()), "{message}");
        assert!(
            !requests.lines().any(|line| line.starts_with("B ")),
            "the other origin was contacted: {requests}"
        );
        assert_eq!(
            same_requests.lines().collect::<Vec<_>>(),
            [
                "A /same/datasets/a/b/info/refs?service=git-upload-pack True",
                "A /moved/datasets/a/b/info/refs?service=git-upload-pack True",
            ],
            "{same:#}"
        );
        assert!(!dir.path().join("cross").exists() && !dir.path().join("same").exists());
    }
}
