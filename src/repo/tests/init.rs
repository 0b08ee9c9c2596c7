//! `init`: a new clone, and nothing left behind when it fails.

use super::*;

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
    assert!(LocalClone::open(&dir).is_ok());
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
