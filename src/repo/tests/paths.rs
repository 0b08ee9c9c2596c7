//! Path safety: symbolic links and bad paths are refused before anything changes.

use super::*;

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
