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

fn new_clone(parent: &Path) -> Clone {
    let dir = parent.join("ds");
    init_with_env(&dir, URL, "alice/ds", &fixed_env).unwrap();
    Clone::open(&dir).unwrap()
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

fn head_id(clone: &Clone) -> git2::Oid {
    clone.repo.head().unwrap().target().unwrap()
}

fn commit_count(clone: &Clone) -> usize {
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

// ---------------------------------------------------------------------------------------
// init

#[test]
fn init_creates_main_origin_defaults_and_one_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let repo = &clone.repo;

    assert_eq!(
        repo.find_reference("HEAD")
            .unwrap()
            .symbolic_target()
            .unwrap(),
        Some("refs/heads/main")
    );
    assert_eq!(clone.branch, "refs/heads/main");
    assert_eq!(clone.origin_url().unwrap(), URL);
    assert_eq!(commit_count(&clone), 1);

    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.message().ok(),
        Some("Initialize dataset repository alice/ds\n")
    );
    assert_eq!(head.author().name().ok(), Some("Test User"));
    assert_eq!(head.author().when().seconds(), 1_700_000_000);
    assert_eq!(head.committer().when().offset_minutes(), 60);

    let attributes =
        String::from_utf8(clone.head_blob(".gitattributes").unwrap().unwrap()).unwrap();
    assert!(
        attributes
            .lines()
            .any(|line| line == "*.parquet filter=lfs diff=lfs merge=lfs -text")
    );
    for header in [
        "# Audio files - uncompressed",
        "# Audio files - compressed",
        "# Image files - uncompressed",
        "# Image files - compressed",
        "# Video files - compressed",
    ] {
        assert!(attributes.lines().any(|line| line == header), "{header}");
    }
    let ignore = String::from_utf8(clone.head_blob(".gitignore").unwrap().unwrap()).unwrap();
    assert!(ignore.lines().any(|line| line == ".env"));
    assert!(ignore.lines().any(|line| line == ".env.*"));
    assert_eq!(
        clone.head_files_in("").unwrap(),
        vec![".gitattributes", ".gitignore"]
    );

    // The working tree holds the same files and git sees nothing to commit.
    assert_eq!(
        fs::read_to_string(clone.root.join(".gitattributes")).unwrap(),
        DEFAULT_GITATTRIBUTES
    );
    assert_eq!(git_stdout(&clone.root, &["status", "--porcelain"]), "");
    assert_eq!(
        git_stdout(&clone.root, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main\n"
    );
}

#[test]
fn init_into_a_non_empty_folder_fails_and_leaves_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("keep.txt"), "mine").unwrap();

    let error = init_with_env(&dir, URL, "alice/ds", &fixed_env).unwrap_err();
    assert!(error.to_string().contains("is not empty"), "{error:#}");
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["keep.txt"]);
    assert_eq!(fs::read_to_string(dir.join("keep.txt")).unwrap(), "mine");
}

#[test]
fn init_into_an_existing_empty_folder_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    fs::create_dir(&dir).unwrap();
    init_with_env(&dir, URL, "alice/ds", &fixed_env).unwrap();
    assert!(Clone::open(&dir).is_ok());
}

#[test]
fn init_refuses_credentials_in_the_url_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    for url in [
        "https://user:hf_secret@huggingface.co/datasets/alice/ds",
        "https://hf_secret@huggingface.co/datasets/alice/ds",
    ] {
        let error = init_with_env(&dir, url, "alice/ds", &fixed_env).unwrap_err();
        assert!(!format!("{error:#}").contains("hf_secret"));
        assert!(!dir.exists());
    }
    // SSH user names are not credentials.
    init_with_env(&dir, "git@hf.co:datasets/alice/ds", "alice/ds", &fixed_env).unwrap();
}

#[test]
fn init_with_a_bad_date_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a").join("ds");
    let env = |name: &str| match name {
        signature::GIT_AUTHOR_DATE => Some("yesterday-ish".to_string()),
        _ => fixed_env(name),
    };
    let error = init_with_env(&dir, URL, "alice/ds", &env).unwrap_err();
    assert!(
        format!("{error:#}").contains("GIT_AUTHOR_DATE"),
        "{error:#}"
    );
    assert!(!tmp.path().join("a").exists());
}

// ---------------------------------------------------------------------------------------
// open and lock

#[test]
fn open_explains_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let error = Clone::open(&plain).err().unwrap().to_string();
    assert_eq!(
        error,
        // The commands that make one are named by the CLI (`commands::diagnose`).
        format!("{} is not a git repository", plain.display())
    );

    let unborn = tmp.path().join("unborn");
    git2::Repository::init(&unborn).unwrap();
    let error = Clone::open(&unborn).err().unwrap().to_string();
    assert!(error.contains("no commit yet"), "{error}");

    let clone = new_clone(tmp.path());
    let head = head_id(&clone);
    clone.repo.set_head_detached(head).unwrap();
    let error = Clone::open(&clone.root).err().unwrap().to_string();
    assert!(error.contains("detached"), "{error}");
}

#[test]
fn a_second_lock_fails_clearly_until_the_first_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let first = clone.lock().unwrap();

    let other = Clone::open(&clone.root).unwrap();
    let error = other.lock().err().unwrap().to_string();
    assert_eq!(
        error,
        format!(
            "another hf-relay process is working on {} (lock held on .git/hf-relay.lock); wait \
             for it to finish",
            clone.root.display()
        )
    );
    drop(first);
    assert!(other.lock().is_ok());
}

#[test]
fn staging_dir_is_inside_git_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let staging = clone.staging_dir().unwrap();
    assert!(staging.path().starts_with(clone.repo.path()));
    assert!(
        staging
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("hf-relay-staging-")
    );
}

// ---------------------------------------------------------------------------------------
// pointers and the store

const SPEC_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
                            oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
                            size 12345\n";

#[test]
fn pointer_encodes_exactly_as_the_spec_example() {
    let pointer = Pointer {
        oid: "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393".to_string(),
        size: 12345,
    };
    assert_eq!(pointer.encode(), SPEC_POINTER);
    assert_eq!(
        Pointer::parse(SPEC_POINTER.as_bytes()),
        Some(pointer.clone())
    );
    assert_eq!(pointer.git_blob(), SPEC_POINTER.as_bytes());
    assert!(
        Pointer {
            oid: pointer.oid,
            size: 0
        }
        .git_blob()
        .is_empty()
    );
}

#[test]
fn pointer_parse_is_strict() {
    let variants = [
        SPEC_POINTER.replace('\n', "\r\n"),
        SPEC_POINTER.trim_end().to_string(),
        SPEC_POINTER.replace("4d7a", "4D7A"),
        SPEC_POINTER.replace("4d7a", "4d7"),
        SPEC_POINTER.replace("size 12345", "size 012345"),
        SPEC_POINTER.replace("size 12345", "size  12345"),
        SPEC_POINTER.replace("size 12345", "size -1"),
        SPEC_POINTER.replace("size 12345", "size"),
        SPEC_POINTER.replace("sha256:", "sha512:"),
        SPEC_POINTER.replace("spec/v1", "spec/v2"),
        format!("{SPEC_POINTER}extra 1\n"),
        SPEC_POINTER.replace(
            "oid",
            "ext-0-foo sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\noid",
        ),
        String::new(),
    ];
    for text in variants {
        assert_eq!(Pointer::parse(text.as_bytes()), None, "{text:?}");
    }
}

#[test]
fn hashing_and_store_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("abc");
    fs::write(&file, "abc").unwrap();
    let mut hasher = lfs::Hasher::new();
    let pointer = hasher.pointer_for(&file).unwrap();
    assert_eq!(
        pointer.oid,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(pointer.size, 3);

    // More than one buffer's worth, to exercise the loop.
    let big = tmp.path().join("big");
    fs::write(&big, vec![b'x'; lfs::HASH_BUFFER_SIZE * 2 + 7]).unwrap();
    assert_eq!(
        hasher.pointer_for(&big).unwrap().size,
        (lfs::HASH_BUFFER_SIZE * 2 + 7) as u64
    );

    let git_dir = tmp.path().join("git");
    assert_eq!(
        lfs::store_path(&git_dir, &pointer.oid),
        git_dir.join("lfs/objects/ba/78").join(&pointer.oid)
    );
    let stored = lfs::hash_and_store(&git_dir, &file, &mut hasher).unwrap();
    assert_eq!(stored, pointer);
    assert_eq!(
        fs::read(lfs::store_path(&git_dir, &pointer.oid)).unwrap(),
        b"abc"
    );
    assert_eq!(
        lfs::store(&git_dir, &pointer, &file).unwrap(),
        lfs::Stored::AlreadyPresent
    );

    if git_lfs_available() {
        let output = Command::new("git")
            .args(["lfs", "pointer", "--file"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success());
        assert_eq!(String::from_utf8(output.stdout).unwrap(), pointer.encode());
    } else {
        eprintln!("note: git-lfs is not installed; skipped comparing with `git lfs pointer`");
    }
}

// ---------------------------------------------------------------------------------------
// commit

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
    use super::verified_lfs::{Stamps, VerifiedLfs, verified_lfs_path};
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
    fs::remove_file(verified_lfs_path(git_dir)).unwrap();
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

#[cfg(unix)]
#[test]
fn symlinks_in_the_working_tree_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, clone.root.join("data")).unwrap();
    let before = head_id(&clone);

    let error = clone
        .commit_with_env(
            vec![Change::File {
                path: "data/README.md".to_string(),
                bytes: b"hi\n".to_vec(),
            }],
            "through a link",
            &fixed_env,
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("symbolic link"), "{error}");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(head_id(&clone), before);
}

#[test]
fn bad_paths_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    for path in [
        "../x",
        "/abs",
        "a//b",
        "a/./b",
        ".git/config",
        "a/",
        "",
        "a\\b",
    ] {
        let result = clone.commit_with_env(
            vec![Change::File {
                path: path.to_string(),
                bytes: b"x\n".to_vec(),
            }],
            "bad",
            &fixed_env,
        );
        assert!(result.is_err(), "{path:?}");
    }
    let twice = clone.commit_with_env(
        vec![
            Change::File {
                path: "a".to_string(),
                bytes: b"x\n".to_vec(),
            },
            Change::Delete {
                path: "a".to_string(),
            },
        ],
        "twice",
        &fixed_env,
    );
    assert!(twice.is_err());
}

#[test]
fn identity_falls_back_to_config_then_default() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(tmp.path()).unwrap();
    let mut config = repo.config().unwrap();
    config.set_str("user.name", "Config Name").unwrap();
    config.set_str("user.email", "config@example.com").unwrap();
    let no_env = |_: &str| None;
    let ids = signature::resolve(&repo.config().unwrap(), &no_env).unwrap();
    assert_eq!(ids.author.name().ok(), Some("Config Name"));
    assert_eq!(ids.committer.email().ok(), Some("config@example.com"));

    let ids = signature::resolve(&repo.config().unwrap(), &fixed_env).unwrap();
    assert_eq!(ids.author.name().ok(), Some("Test User"));

    let empty = git2::Config::new().unwrap();
    let ids = signature::resolve(&empty, &no_env).unwrap();
    assert_eq!(ids.author.name().ok(), Some(signature::DEFAULT_NAME));
    assert_eq!(ids.committer.email().ok(), Some(signature::DEFAULT_EMAIL));
}

#[test]
fn dates_in_git_formats() {
    let expect = |text: &str, seconds: i64, offset: i32| {
        let time = signature::parse_date(text).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        assert_eq!(
            (time.seconds(), time.offset_minutes()),
            (seconds, offset),
            "{text}"
        );
    };
    // 2026-01-02T02:04:05Z
    const T: i64 = 1_767_319_445;
    expect("@1700000000 +0000", 1_700_000_000, 0);
    expect("@1700000000", 1_700_000_000, 0);
    expect("1700000000 +0000", 1_700_000_000, 0);
    expect("1700000000 -0130", 1_700_000_000, -90);
    expect("Fri, 02 Jan 2026 03:04:05 +0100", T, 60);
    expect("2026-01-02T03:04:05+01:00", T, 60);
    expect("2026-01-02T02:04:05Z", T, 0);
    expect("2026-01-02 03:04:05 +0100", T, 60);
    expect("2026-01-02T03:04:05+0100", T, 60);
    expect("2026-01-02 03:04:05+01:00", T, 60);
    for bad in [
        "",
        "yesterday",
        "@abc",
        "1700000000 +2500",
        "2026-13-02T03:04:05Z",
    ] {
        assert!(signature::parse_date(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// journal: a commit stopped in its window (as a kill there would) is completed on open

/// A clone with a first data commit, and the changes of a second one: README.md and
/// data/a.parquet change, data/c.parquet is added, data/b.parquet is deleted (3 moves).
fn clone_with_pending_changes(parent: &Path) -> (Clone, tempfile::TempDir, Vec<Change>) {
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
fn commit_stopped(clone: &Clone, changes: Vec<Change>, after: usize) {
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

fn leftover_names(clone: &Clone) -> Vec<String> {
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
        let journal = clone.repo.path().join(journal::JOURNAL);
        assert!(journal.exists(), "stop {after}: the journal is there");
        assert_eq!(head_id(&clone), if after == 4 { new } else { old });
        let half = git_stdout(&clone.root, &["status", "--porcelain"]);
        assert_eq!(
            half.is_empty(),
            after == 0 || after == 4,
            "stop {after}: {half}"
        );

        let reopened = Clone::open(&clone.root).unwrap();
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
        assert!(Clone::open(&clone.root).unwrap().recovered.is_none());
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
    let other = Clone::open(&clone.root).unwrap();
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
        soon(|| Some(Clone::open(&clone.root).unwrap()).filter(|c| c.recovered.is_some()));
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
    let error = format!("{:#}", Clone::open(&clone.root).err().unwrap());
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
    soon(|| Clone::open(&clone.root).unwrap().recovered);
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
    drop(Clone::open(&clone.root).unwrap());
    assert!(!git_dir.join("hf-relay.lock").exists());

    for name in ["hf-relay-staging-abc123", "hf-relay-commit-def456"] {
        fs::create_dir_all(git_dir.join(name).join("sub")).unwrap();
        fs::write(git_dir.join(name).join("sub/0"), b"partial").unwrap();
    }
    fs::create_dir(git_dir.join("hf-relay-staging-")).unwrap();
    fs::write(git_dir.join("hf-relay-commit-file"), b"not a folder").unwrap();

    let lock = clone.lock().unwrap();
    drop(Clone::open(&clone.root).unwrap());
    assert_eq!(
        leftover_names(&clone).len(),
        4,
        "a live process's folders stay"
    );
    drop(lock);

    soon(|| {
        drop(Clone::open(&clone.root).unwrap());
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
    let reopened = Clone::open(&clone.root).unwrap();
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
