//! The journal: a commit stopped in its window (as a kill there would) is completed on open.

use std::time::{Duration, SystemTime};

use super::*;

/// A clone with a first data commit, and the changes of a second one: README.md and
/// data/a.parquet change, data/c.parquet is added, data/b.parquet is deleted (3 moves).
fn clone_with_pending_changes(parent: &Path) -> (LocalClone, tempfile::TempDir, Vec<Change>) {
    let clone = new_clone(parent);
    let staging = clone.staging_dir().unwrap();
    let first = vec![
        Change::File {
            path: "README.md".to_string(),
            bytes: b"# one\n".to_vec(),
        },
        Change::Lfs {
            path: "data/a.parquet".to_string(),
            staged: stage(staging.path(), "a1", &parquet_bytes(3)),
        },
        Change::Lfs {
            path: "data/b.parquet".to_string(),
            staged: stage(staging.path(), "b1", &parquet_bytes(5)),
        },
    ];
    committed(clone.commit_with_env(first, "first", &fixed_env).unwrap());
    let second = vec![
        Change::File {
            path: "README.md".to_string(),
            bytes: b"# two\n".to_vec(),
        },
        Change::Lfs {
            path: "data/a.parquet".to_string(),
            staged: stage(staging.path(), "a2", &parquet_bytes(7)),
        },
        Change::Lfs {
            path: "data/c.parquet".to_string(),
            staged: stage(staging.path(), "c2", &parquet_bytes(9)),
        },
        Change::Delete {
            path: "data/b.parquet".to_string(),
        },
    ];
    (clone, staging, second)
}

/// Commits `changes`, stopping after `after` renames; the error says so.
fn commit_stopped(clone: &LocalClone, changes: Vec<Change>, after: usize) {
    let error = clone
        .commit_impl(
            changes,
            "second",
            &fixed_env,
            None,
            Some(Stop {
                after,
                abort: false,
            }),
        )
        .unwrap_err();
    assert!(format!("{error:#}").contains("stopped"), "{error:#}");
}

/// Every file under `dir` with its bytes, but for the lock file.
fn tree_snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().unwrap() != "hf-relay.lock" {
                files.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// `attempt` until it gives a value. A lock just released can still look held for a moment: a
/// child process another test thread forks inherits the lock's descriptor until it execs.
fn soon<T>(mut attempt: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(value) = attempt() {
            return value;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("still not done after 2 s");
}

fn leftover_names(clone: &LocalClone) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(clone.repo.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("hf-relay-"))
        .filter(|name| name != "hf-relay.lock")
        .collect();
    names.sort();
    names
}

#[test]
fn a_commit_stopped_anywhere_in_its_window_is_completed_when_the_clone_is_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let (reference, _staging, changes) = clone_with_pending_changes(&tmp.path().join("reference"));
    let old = head_id(&reference);
    let new = committed(
        reference
            .commit_with_env(changes, "second", &fixed_env)
            .unwrap(),
    );

    // 0: journal written, nothing moved; 1–3: some files moved; 4: the branch moved too.
    for after in 0..=4 {
        let parent = tmp.path().join(format!("stop-{after}"));
        let (clone, _staging, changes) = clone_with_pending_changes(&parent);
        assert_eq!(head_id(&clone), old);
        commit_stopped(&clone, changes, after);
        let journal = crate::repo::state::COMMIT_JOURNAL.path(clone.repo.path());
        assert!(journal.exists(), "stop {after}: the journal is there");
        assert_eq!(head_id(&clone), if after == 4 { new } else { old });
        let half = git_stdout(&clone.root, &["status", "--porcelain"]);
        assert_eq!(
            half.is_empty(),
            after == 0 || after == 4,
            "stop {after}: {half}"
        );

        let reopened = LocalClone::open(&clone.root).unwrap();
        let recovered = reopened.recovered.as_ref().expect("a completed commit");
        assert_eq!(
            (recovered.commit, recovered.subject.as_str()),
            (new, "second")
        );
        assert_eq!(head_id(&reopened), new, "stop {after}");
        assert_eq!(
            git_stdout(
                &clone.root,
                &["status", "--porcelain", "--untracked-files=all"]
            ),
            "",
            "stop {after}"
        );
        for path in ["README.md", "data/a.parquet", "data/c.parquet"] {
            assert_eq!(
                fs::read(clone.root.join(path)).unwrap(),
                fs::read(reference.root.join(path)).unwrap(),
                "stop {after}: {path}"
            );
        }
        assert!(!clone.root.join("data/b.parquet").exists());
        assert!(!journal.exists(), "stop {after}: the journal is removed");
        assert_eq!(leftover_names(&clone), Vec::<String>::new(), "stop {after}");
        assert!(LocalClone::open(&clone.root).unwrap().recovered.is_none());
    }
}

#[test]
fn an_interrupted_commit_is_left_alone_while_another_process_holds_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let (clone, _staging, changes) = clone_with_pending_changes(tmp.path());
    let old = head_id(&clone);
    commit_stopped(&clone, changes, 2);

    let lock = clone.lock().unwrap();
    let before = tree_snapshot(&clone.root);
    let other = LocalClone::open(&clone.root).unwrap();
    assert!(other.recovered.is_none());
    assert_eq!(tree_snapshot(&clone.root), before, "nothing touched");
    assert_eq!(head_id(&other), old);
    // A commit under the lock refuses to start on top of a half-applied one.
    let error = other
        .commit_with_env(
            vec![Change::File {
                path: "x.txt".to_string(),
                bytes: b"x\n".to_vec(),
            }],
            "x",
            &fixed_env,
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("not completed yet"), "{error}");
    assert_eq!(tree_snapshot(&clone.root), before, "nothing touched");

    drop(lock);
    let reopened =
        soon(|| Some(LocalClone::open(&clone.root).unwrap()).filter(|c| c.recovered.is_some()));
    assert_ne!(head_id(&reopened), old);
}

#[test]
fn an_interrupted_commit_is_not_completed_over_a_branch_that_moved() {
    let tmp = tempfile::tempdir().unwrap();
    let (clone, _staging, changes) = clone_with_pending_changes(tmp.path());
    let old = head_id(&clone);
    commit_stopped(&clone, changes, 1);
    let elsewhere = clone.repo.find_commit(old).unwrap().parent_id(0).unwrap();
    clone
        .repo
        .reference(&clone.branch, elsewhere, true, "moved by hand")
        .unwrap();

    let before = tree_snapshot(&clone.root);
    let error = format!("{:#}", LocalClone::open(&clone.root).err().unwrap());
    assert!(
        error.contains("main has moved since") && error.contains("nothing was changed"),
        "{error}"
    );
    assert!(
        error.contains(".git/hf-relay/commit-in-progress.json"),
        "{error}"
    );
    assert_eq!(
        tree_snapshot(&clone.root),
        before,
        "the journal and files are kept"
    );

    // Moved back, the commit completes.
    clone
        .repo
        .reference(&clone.branch, old, true, "moved back")
        .unwrap();
    soon(|| LocalClone::open(&clone.root).unwrap().recovered);
    assert_eq!(
        git_stdout(
            &clone.root,
            &["status", "--porcelain", "--untracked-files=all"]
        ),
        ""
    );
}

#[test]
fn open_removes_the_folders_of_killed_processes_only_when_the_lock_is_free() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let git_dir = clone.repo.path().to_path_buf();
    // Nothing to do: nothing written, not even the lock file.
    drop(LocalClone::open(&clone.root).unwrap());
    assert!(!git_dir.join("hf-relay.lock").exists());

    for name in ["hf-relay-staging-abc123", "hf-relay-commit-def456"] {
        fs::create_dir_all(git_dir.join(name).join("sub")).unwrap();
        fs::write(git_dir.join(name).join("sub/0"), b"partial").unwrap();
    }
    fs::create_dir(git_dir.join("hf-relay-staging-")).unwrap();
    fs::write(git_dir.join("hf-relay-commit-file"), b"not a folder").unwrap();

    let lock = clone.lock().unwrap();
    drop(LocalClone::open(&clone.root).unwrap());
    assert_eq!(
        leftover_names(&clone).len(),
        4,
        "a live process's folders stay"
    );
    drop(lock);

    soon(|| {
        drop(LocalClone::open(&clone.root).unwrap());
        Some(()).filter(|()| leftover_names(&clone).len() < 4)
    });
    assert_eq!(
        leftover_names(&clone),
        vec!["hf-relay-commit-file", "hf-relay-staging-"],
        "only the folders hf-relay names stay"
    );
}

#[test]
fn git_lock_files_left_by_the_killed_process_are_removed_once_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let (clone, _staging, changes) = clone_with_pending_changes(tmp.path());
    commit_stopped(&clone, changes, 3);
    // Killed while writing the index long ago, then while moving the branch just now.
    let git_dir = clone.repo.path();
    let index_lock = git_dir.join("index.lock");
    fs::write(&index_lock, b"partial").unwrap();
    fs::File::options()
        .write(true)
        .open(&index_lock)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    let branch_lock = git_dir.join("refs/heads/main.lock");
    fs::write(&branch_lock, b"").unwrap();

    let start = std::time::Instant::now();
    let reopened = LocalClone::open(&clone.root).unwrap();
    assert!(reopened.recovered.is_some());
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "a fresh lock is waited for"
    );
    assert!(!index_lock.exists() && !branch_lock.exists());
    assert_eq!(
        git_stdout(
            &clone.root,
            &["status", "--porcelain", "--untracked-files=all"]
        ),
        ""
    );
}

#[test]
fn open_removes_the_journal_a_commit_killed_before_its_rename_was_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let git_dir = clone.repo.path().to_path_buf();
    // Killed while the journal was written: its scratch folder and the temporary file stay,
    // no journal, HEAD unchanged.
    let before = head_id(&clone);
    fs::create_dir_all(git_dir.join("hf-relay-commit-abc123")).unwrap();
    fs::create_dir_all(git_dir.join("hf-relay")).unwrap();
    let temporary = git_dir.join("hf-relay/commit-in-progress.json.tmp");
    fs::write(&temporary, b"{\"branch\": \"refs/he").unwrap();

    let reopened = LocalClone::open(&clone.root).unwrap();
    assert!(reopened.recovered.is_none());
    assert_eq!(head_id(&reopened), before);
    assert!(!temporary.exists(), "the temporary journal stays");
    assert_eq!(leftover_names(&reopened), Vec::<String>::new());
}
