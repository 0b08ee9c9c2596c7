//! Commits: LFS files, unchanged trees, deletes, stable ids, what the Hub would refuse.

use super::*;

#[test]
fn lfs_commit_writes_pointer_stores_object_and_leaves_a_clean_status() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let _lock = clone.lock().unwrap();
    let staging = clone.staging_dir().unwrap();
    let bytes = parquet_bytes(3);
    let staged = stage(staging.path(), "shard", &bytes);
    let path = "data/train-00000-of-00001.parquet";

    let id = committed(
        clone
            .commit_with_env(
                vec![
                    Change::Lfs {
                        path: path.to_string(),
                        staged: staged.clone(),
                    },
                    Change::File {
                        path: "README.md".to_string(),
                        bytes: b"# ds\n".to_vec(),
                    },
                ],
                "Add data\n\nbody",
                &fixed_env,
            )
            .unwrap(),
    );

    assert_eq!(head_id(&clone), id);
    assert_eq!(commit_count(&clone), 2);
    let pointer = lfs::Hasher::new()
        .pointer_for(&clone.root.join(path))
        .unwrap();
    assert_eq!(
        clone.head_blob(path).unwrap().unwrap(),
        pointer.encode().into_bytes()
    );
    assert_eq!(
        fs::read(lfs::store_path(clone.repo.path(), &pointer.oid)).unwrap(),
        bytes
    );
    assert_eq!(fs::read(clone.root.join(path)).unwrap(), bytes);
    assert_eq!(fs::read(clone.root.join("README.md")).unwrap(), b"# ds\n");
    assert!(!staged.exists());
    assert_eq!(clone.head_blob("missing").unwrap(), None);

    let head = clone.repo.find_commit(id).unwrap();
    assert_eq!(head.message().ok(), Some("Add data\n\nbody\n"));
    let reflog = clone.repo.reflog("refs/heads/main").unwrap();
    assert_eq!(
        reflog.get(0).unwrap().message().unwrap(),
        Some("hf-relay: Add data")
    );

    assert_eq!(git_stdout(&clone.root, &["status", "--porcelain"]), "");
    assert_eq!(
        git_stdout(&clone.root, &["ls-files", "--stage", path]),
        format!(
            "100644 {} 0\t{path}\n",
            head.tree().unwrap().get_path(Path::new(path)).unwrap().id()
        )
    );

    if git_lfs_available() {
        let fsck = git(&clone.root, &["lfs", "fsck"]);
        assert!(
            fsck.status.success(),
            "git lfs fsck: {}{}",
            String::from_utf8_lossy(&fsck.stdout),
            String::from_utf8_lossy(&fsck.stderr)
        );
        let listed = git_stdout(&clone.root, &["lfs", "ls-files", "--long"]);
        assert!(
            listed.contains(&pointer.oid) && listed.contains(path),
            "{listed}"
        );
    } else {
        eprintln!("note: git-lfs is not installed; skipped `git lfs fsck` and `git lfs ls-files`");
    }
}

#[test]
fn an_identical_tree_is_unchanged_and_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let staging = clone.staging_dir().unwrap();
    let path = "data/train.parquet";
    let staged = stage(staging.path(), "a", &parquet_bytes(5));
    committed(
        clone
            .commit_with_env(
                vec![Change::Lfs {
                    path: path.to_string(),
                    staged,
                }],
                "first",
                &fixed_env,
            )
            .unwrap(),
    );
    let before = head_id(&clone);
    let oid = lfs::Hasher::new()
        .pointer_for(&clone.root.join(path))
        .unwrap()
        .oid;
    fs::remove_file(lfs::store_path(clone.repo.path(), &oid)).unwrap();

    let again = stage(staging.path(), "b", &parquet_bytes(5));
    let outcome = clone
        .commit_with_env(
            vec![
                Change::Lfs {
                    path: path.to_string(),
                    staged: again.clone(),
                },
                Change::File {
                    path: ".gitignore".to_string(),
                    bytes: DEFAULT_GITIGNORE.as_bytes().to_vec(),
                },
                Change::Delete {
                    path: "never-existed.txt".to_string(),
                },
            ],
            "second",
            &fixed_env,
        )
        .unwrap();
    assert!(matches!(outcome, CommitOutcome::Unchanged));
    assert_eq!(head_id(&clone), before);
    assert_eq!(commit_count(&clone), 2);
    assert!(again.exists(), "the staged file stays where it was");
    assert!(
        !lfs::store_path(clone.repo.path(), &oid).exists(),
        "the LFS store is not written"
    );
}

#[test]
fn delete_removes_file_empty_folders_and_index_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let staging = clone.staging_dir().unwrap();
    let a = stage(staging.path(), "a", &parquet_bytes(7));
    let b = stage(staging.path(), "b", &parquet_bytes(9));
    committed(
        clone
            .commit_with_env(
                vec![
                    Change::Lfs {
                        path: "data/old/train.parquet".to_string(),
                        staged: a,
                    },
                    Change::Lfs {
                        path: "data/keep.parquet".to_string(),
                        staged: b,
                    },
                ],
                "add",
                &fixed_env,
            )
            .unwrap(),
    );
    assert_eq!(
        clone.head_files_in("data").unwrap(),
        vec!["data/keep.parquet"]
    );
    assert_eq!(
        clone.head_files_in("data/old/").unwrap(),
        vec!["data/old/train.parquet"]
    );

    committed(
        clone
            .commit_with_env(
                vec![Change::Delete {
                    path: "data/old/train.parquet".to_string(),
                }],
                "remove",
                &fixed_env,
            )
            .unwrap(),
    );
    assert_eq!(clone.head_blob("data/old/train.parquet").unwrap(), None);
    assert!(clone.head_files_in("data/old").unwrap().is_empty());
    assert!(!clone.root.join("data/old").exists());
    assert!(clone.root.join("data/keep.parquet").exists());
    assert_eq!(git_stdout(&clone.root, &["status", "--porcelain"]), "");
    assert_eq!(
        git_stdout(&clone.root, &["ls-files"]),
        ".gitattributes\n.gitignore\ndata/keep.parquet\n"
    );
}

#[test]
fn fixed_identities_and_dates_give_stable_commit_ids() {
    let run = || {
        let tmp = tempfile::tempdir().unwrap();
        let clone = new_clone(tmp.path());
        let first = head_id(&clone);
        let staging = clone.staging_dir().unwrap();
        let staged = stage(staging.path(), "a", &parquet_bytes(11));
        let second = committed(
            clone
                .commit_with_env(
                    vec![Change::Lfs {
                        path: "data/train.parquet".to_string(),
                        staged,
                    }],
                    "data",
                    &fixed_env,
                )
                .unwrap(),
        );
        (first, second)
    };
    assert_eq!(run(), run());
}

#[test]
fn an_empty_lfs_file_is_an_empty_blob_and_not_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let staging = clone.staging_dir().unwrap();
    let staged = stage(staging.path(), "empty", b"");
    committed(
        clone
            .commit_with_env(
                vec![Change::Lfs {
                    path: "data/empty.parquet".to_string(),
                    staged,
                }],
                "empty",
                &fixed_env,
            )
            .unwrap(),
    );
    assert_eq!(
        clone.head_blob("data/empty.parquet").unwrap(),
        Some(Vec::new())
    );
    assert!(!clone.repo.path().join("lfs/objects").exists());
    assert_eq!(git_stdout(&clone.root, &["status", "--porcelain"]), "");
}

#[test]
fn a_commit_records_the_objects_it_stores_and_keeps_those_whose_link_it_replaces() {
    use crate::repo::state::VERIFIED_LFS;
    use crate::repo::verified_lfs::{Stamps, VerifiedLfs};
    use std::os::unix::fs::MetadataExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let git_dir = clone.repo.path();
    let staging = clone.staging_dir().unwrap();
    let commit = |files: &[(&str, &[u8])], message: &str| {
        let changes = files
            .iter()
            .map(|(path, bytes)| Change::Lfs {
                path: path.to_string(),
                staged: stage(staging.path(), &path.replace('/', "-"), bytes),
            })
            .collect();
        committed(clone.commit_with_env(changes, message, &fixed_env).unwrap());
    };
    let a = parquet_bytes(5);
    let oid = lfs::Hasher::new()
        .pointer_for(&stage(staging.path(), "x", &a))
        .unwrap()
        .oid;
    let object = lfs::store_path(git_dir, &oid);
    let stamps = || Stamps::of(&fs::metadata(&object).unwrap());
    let vouched = || VerifiedLfs::load(git_dir).trusts(&oid, &stamps());

    // Stored (linked) by the commit, with the stamps it has once in the working tree.
    commit(&[("data/a.parquet", &a)], "Add a");
    assert!(vouched());

    // Rebuilt unchanged: the working-tree file, the object's other link, is replaced, which
    // sets the object's ctime; the commit keeps vouching for it.
    commit(
        &[
            ("data/a.parquet", &a),
            ("data/b.parquet", &parquet_bytes(6)),
        ],
        "Add b",
    );
    assert_eq!(fs::metadata(&object).unwrap().nlink(), 1);
    assert!(vouched());

    // An object already present that the cache does not vouch for is not recorded: the commit
    // never read it.
    fs::remove_file(VERIFIED_LFS.path(git_dir)).unwrap();
    commit(
        &[
            ("data/a.parquet", &a),
            ("data/c.parquet", &parquet_bytes(7)),
        ],
        "Add c",
    );
    assert!(!vouched());
}

#[test]
fn files_the_hub_would_reject_are_refused_before_anything_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let before = head_id(&clone);
    let staging = clone.staging_dir().unwrap();
    let staged = stage(staging.path(), "a", &parquet_bytes(13));
    let big_text = vec![b'a'; MAX_REGULAR_FILE_SIZE as usize + 1];
    for (path, bytes) in [
        ("blob.bin", vec![0u8, 1, 2, 3]),
        ("notes.txt", b"tab\tand vertical tab\x0b".to_vec()),
        ("big.txt", big_text),
    ] {
        let error = clone
            .commit_with_env(
                vec![
                    Change::Lfs {
                        path: "data/train.parquet".to_string(),
                        staged: staged.clone(),
                    },
                    Change::File {
                        path: path.to_string(),
                        bytes,
                    },
                ],
                "bad",
                &fixed_env,
            )
            .unwrap_err()
            .to_string();
        assert!(error.contains(path) && error.contains("LFS"), "{error}");
        assert_eq!(head_id(&clone), before);
        assert!(!clone.root.join(path).exists());
        assert!(!clone.root.join("data").exists());
        assert!(staged.exists());
        assert!(!clone.repo.path().join("lfs").exists());
    }

    // UTF-8 and the usual control characters are text.
    let id = clone
        .commit_with_env(
            vec![Change::File {
                path: "README.md".to_string(),
                bytes: "é\u{7}\u{8}\t\n\u{c}\r\u{1b}\n".as_bytes().to_vec(),
            }],
            "text",
            &fixed_env,
        )
        .unwrap();
    assert!(matches!(id, CommitOutcome::Committed { .. }));
}
