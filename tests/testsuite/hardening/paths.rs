//! Paths: bad split, config and repo names, and symlinks out of the clone.

use super::*;

#[test]
fn bad_split_config_and_repo_names_are_refused_before_anything_is_written() {
    let env = TestEnv::new();
    let clone = env.init("paths");
    let input = repo_path("examples/friction/dialogues-01.jsonl");
    let input = input.to_str().unwrap();
    let before = env.snapshot(&clone);
    let mut refused = 0;
    for split in [
        "../x", "/abs", "a-b", "", "a b", "tr/ain", "..", ".hidden", "a.", "x\\y",
    ] {
        let output = build(&env, &clone, &["--split", &format!("{split}={input}")], &[]);
        assert_exit(&output, 1);
        assert!(
            stderr(&output).contains("invalid split name"),
            "{split:?}: {}",
            stderr(&output)
        );
        refused += 1;
    }
    for config in [
        "..",
        "data",
        "Data",
        "README.md",
        "a/b",
        ".git",
        "/abs",
        ".hidden",
        "a..b",
        "x\\y",
        "",
    ] {
        let output = build(&env, &clone, &["--config", config], &[Path::new(input)]);
        assert_exit(&output, 1);
        assert!(
            stderr(&output).contains("invalid config name"),
            "{config:?}: {}",
            stderr(&output)
        );
        refused += 1;
    }
    assert!(
        before == env.snapshot(&clone),
        "a refused build changed the clone"
    );

    // Repo ids, for every command that takes one: nothing is created anywhere.
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    // The commands run in a folder of their own, so that "above" is the test's folder and not
    // the shared temp folder, where other tests create and remove files meanwhile.
    let work = env.path().join("repo-id-work");
    std::fs::create_dir_all(&work).unwrap();
    let parent = env.path().to_path_buf();
    let (here, above) = (listing(&work), listing(&parent));
    for repo_id in [
        "../evil",
        "a/b/c",
        "/abs",
        "you/..",
        "you/.git",
        "you/x.git",
        "you/a..b",
        "you/",
    ] {
        let commands: [Vec<&str>; 3] = [
            vec!["init", repo_id, "--endpoint", "http://127.0.0.1:9"],
            vec!["clone", repo_id, "--endpoint", "http://127.0.0.1:9"],
            vec![
                "publish",
                "--repo-id",
                repo_id,
                "--endpoint",
                "http://127.0.0.1:9",
                input,
            ],
        ];
        for args in commands {
            let output = run(env.hf_relay().current_dir(&work).args(&args));
            assert_exit(&output, 1);
            assert!(
                stderr(&output).contains("invalid repo id"),
                "{args:?}: {}",
                stderr(&output)
            );
            refused += 1;
        }
    }
    assert_eq!(here, listing(&work), "a refused command created something");
    assert_eq!(
        above,
        listing(&parent),
        "a refused command wrote outside its folder"
    );

    // Usage errors are exit 2.
    for args in [
        vec!["build", "--no-such-flag"],
        vec!["init"],
        vec!["push", "--private", "--public"],
    ] {
        let output = run(env.hf_relay().args(&args));
        assert_exit(&output, 2);
    }
    eprintln!("paths: {refused} bad names refused with exit 1");
}

/// A symbolic link in the working tree that points outside the clone: the build refuses to
/// write through it, and what it points to stays untouched.
#[test]
fn a_symlink_inside_the_clone_is_never_written_through() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    let first = repo_path("examples/friction/dialogues-01.jsonl");
    let second = repo_path("examples/friction/dialogues-02.jsonl");
    let outside = env.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("file.txt"), "do not touch\n").unwrap();
    let untouched = |what: &str| {
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            1,
            "{what}: something was written outside the clone"
        );
        assert_eq!(
            std::fs::read_to_string(outside.join("file.txt")).unwrap(),
            "do not touch\n",
            "{what}: the file outside the clone changed"
        );
    };

    // `data` -> a folder outside, before the first build.
    let clone = env.init("link-data");
    symlink(&outside, clone.join("data")).unwrap();
    let old = head(&env, &clone);
    let output = build(&env, &clone, &[], &[&first]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("symbolic link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(head(&env, &clone), old);
    untouched("data -> outside");

    // README.md -> a file outside, on a rebuild.
    let clone = env.init("link-readme");
    assert_success(&build(&env, &clone, &[], &[&first]));
    std::fs::remove_file(clone.join("README.md")).unwrap();
    symlink(outside.join("file.txt"), clone.join("README.md")).unwrap();
    let old = head(&env, &clone);
    let output = build(&env, &clone, &[], &[&second]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("symbolic link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(head(&env, &clone), old);
    untouched("README.md -> outside");

    // A shard -> a file outside, on a rebuild that changes that shard.
    let clone = env.init("link-shard");
    assert_success(&build(&env, &clone, &[], &[&first]));
    let shard = clone.join("data/train-00000.parquet");
    std::fs::remove_file(&shard).unwrap();
    symlink(outside.join("file.txt"), &shard).unwrap();
    let old = head(&env, &clone);
    let output = build(&env, &clone, &[], &[&second]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("symbolic link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(head(&env, &clone), old);
    untouched("shard -> outside");
}
