//! Opening a clone, its lock and its staging folder.

use super::*;

#[test]
fn open_explains_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let error = LocalClone::open(&plain).err().unwrap().to_string();
    assert_eq!(
        error,
        // The commands that make one are named by the CLI (`commands::diagnose`).
        format!("{} is not a git repository", plain.display())
    );

    let unborn = tmp.path().join("unborn");
    git2::Repository::init(&unborn).unwrap();
    let error = LocalClone::open(&unborn).err().unwrap().to_string();
    assert!(error.contains("no commit yet"), "{error}");

    let clone = new_clone(tmp.path());
    let head = head_id(&clone);
    clone.repo.set_head_detached(head).unwrap();
    let error = LocalClone::open(&clone.root).err().unwrap().to_string();
    assert!(error.contains("detached"), "{error}");
}

#[test]
fn a_second_lock_fails_clearly_until_the_first_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = new_clone(tmp.path());
    let first = clone.lock().unwrap();

    let other = LocalClone::open(&clone.root).unwrap();
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
