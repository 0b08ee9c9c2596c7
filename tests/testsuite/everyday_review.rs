//! Everyday journeys of issue 21 (items 3, 4, 6, 7, 8, 10): what a user sees right after
//! `clone`, from a subfolder, after a card-only build, with a corrupt object of an older tagged
//! commit, and when a type or a push conflicts.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

fn run(env: &TestEnv, command: &str, clone: &Path, args: &[&str]) -> Output {
    env.hf_relay()
        .arg(command)
        .arg("--dir")
        .arg(clone)
        .args(args)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap()
}

/// `hf-relay clone alice/NAME DEST` from the test Hub, under `umask` (a shell sets it).
fn hf_clone(env: &TestEnv, hub: &TestHub, name: &str, dest: &str, umask: &str) -> PathBuf {
    let script = format!("umask {umask} && exec \"$0\" \"$@\"");
    let clone = clone_command(env, &hub.url, name, dest);
    let output = run_under("sh", &["-c".as_ref(), script.as_ref()], &clone)
        .output()
        .unwrap();
    assert_success(&output);
    env.path().join(dest)
}

/// A published dataset (friction, 80 rows) with the tag `v1` on the Hub.
fn published_with_tag(env: &TestEnv, hub: &TestHub, name: &str) -> PathBuf {
    let clone = prepared_clone(env, hub, name);
    assert_success(&run(env, "tag", &clone, &["v1"]));
    assert_success(&run(env, "push", &clone, &[]));
    clone
}

fn lfs_object(clone: &Path, oid: &str) -> PathBuf {
    clone
        .join(".git/lfs/objects")
        .join(&oid[0..2])
        .join(&oid[2..4])
        .join(oid)
}

fn pointer_oid(env: &TestEnv, clone: &Path, rev_path: &str) -> String {
    env.git_out(clone, &["cat-file", "-p", rev_path])
        .lines()
        .find_map(|line| line.strip_prefix("oid sha256:"))
        .unwrap()
        .to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// Item 3: a fresh clone knows the Hub's tags are on the Hub.
#[test]
fn status_right_after_clone_lists_no_unpushed_tag() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    published_with_tag(&env, &hub, "tagged");
    let fresh = hf_clone(&env, &hub, "tagged", "fresh", "022");

    let output = run(&env, "status", &fresh, &[]);
    assert_success(&output);
    assert!(
        stdout(&output).contains("Tags not pushed: none\n"),
        "{}",
        stdout(&output)
    );
    let output = run(&env, "status", &fresh, &["--json"]);
    assert_success(&output);
    let status: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(status["unpushed_tags"], serde_json::json!([]), "{status}");
    // push agrees: nothing to send.
    let output = run(&env, "push", &fresh, &["--dry-run"]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("Everything up to date"),
        "{}",
        stderr(&output)
    );
}

// Item 4: files a clone writes honour the umask, as git's and build's do.
#[test]
fn clone_writes_data_files_and_lfs_objects_as_the_umask_says() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = published_with_tag(&env, &hub, "modes");
    let oid = pointer_oid(&env, &clone, "HEAD:data/train-00000.parquet");
    for (umask, expected) in [("022", 0o644), ("027", 0o640)] {
        let fresh = hf_clone(&env, &hub, "modes", &format!("fresh-{umask}"), umask);
        let data = fresh.join("data/train-00000.parquet");
        assert_eq!(mode(&data), expected, "umask {umask}: {}", data.display());
        let object = lfs_object(&fresh, &oid);
        assert_eq!(
            mode(&object),
            expected,
            "umask {umask}: {}",
            object.display()
        );
        // As git itself wrote the other files.
        assert_eq!(mode(&fresh.join(".gitattributes")), expected);
    }
}

// Item 7: commands find the clone upwards from a subfolder, as git does; a --dir that does not
// exist says so.
#[test]
fn commands_run_from_a_subfolder_find_the_clone_and_a_missing_dir_says_so() {
    let env = TestEnv::new();
    let clone = env.init("upwards");
    assert_success(&run_build(
        &env,
        &clone,
        &[&friction(1).display().to_string()],
    ));

    for command in [
        &["status"][..],
        &["log", "--oneline"],
        &["verify"],
        &["diff", "--stat"],
    ] {
        let output = env
            .hf_relay()
            .args(command)
            .current_dir(clone.join("data"))
            .output()
            .unwrap();
        assert_success(&output);
    }
    let output = env
        .hf_relay()
        .arg("status")
        .current_dir(clone.join("data"))
        .output()
        .unwrap();
    assert!(
        stdout(&output).starts_with("On branch main\n"),
        "{}",
        stdout(&output)
    );
    // --dir a subfolder works too, and a build from there commits into the clone.
    let output = env
        .hf_relay()
        .args(["build", "--dir", "data", "--license", "mit"])
        .arg(friction(1))
        .current_dir(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    assert!(!clone.join("data/.git").exists());
    assert!(
        std::fs::read_to_string(clone.join("README.md"))
            .unwrap()
            .contains("license: mit")
    );

    let missing = env.path().join("nope");
    let output = env
        .hf_relay()
        .args(["status", "--dir"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_failure(&output, &format!("{} does not exist", missing.display()));
    assert!(
        !stderr(&output).contains("is not a git repository"),
        "{}",
        stderr(&output)
    );

    let plain = env.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let output = env
        .hf_relay()
        .args(["status", "--dir"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_failure(
        &output,
        &format!("{} is not in a git repository", plain.display()),
    );
}

fn subject(env: &TestEnv, clone: &Path, rev: &str) -> String {
    env.git_out(clone, &["log", "-1", "--format=%s", rev])
        .trim()
        .to_string()
}

// Item 8: the subject of a build says what changed — card keys, prose, data.
#[test]
fn a_card_only_build_says_what_changed_in_the_card() {
    let env = TestEnv::new();
    let clone = env.init("card-only");
    let one = friction(1).display().to_string();
    let two = friction(2).display().to_string();
    assert_success(&run_build(&env, &clone, &[&one]));
    assert_eq!(
        subject(&env, &clone, "HEAD"),
        "Add train: 80 rows in 1 shard"
    );

    let output = run_build(&env, &clone, &[&one, "--language", "en"]);
    assert_success(&output);
    assert_eq!(subject(&env, &clone, "HEAD"), "Update card: language en");
    assert!(
        stderr(&output).contains("Update card: language en\n"),
        "{}",
        stderr(&output)
    );
    let body = env.git_out(&clone, &["log", "-1", "--format=%b"]);
    assert!(body.contains("\nCard:\n  + language: [en]\n"), "{body}");

    // A hand edit of the prose, committed by the next build.
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    std::fs::write(
        clone.join("README.md"),
        format!("{readme}\nHow the dialogues were collected.\n"),
    )
    .unwrap();
    assert_success(&run_build(&env, &clone, &[&one, "--language", "en"]));
    assert_eq!(subject(&env, &clone, "HEAD"), "Update card: prose");

    // Data and a key together: both, the details in the body.
    assert_success(&run_build(
        &env,
        &clone,
        &[&one, &two, "--language", "en", "--license", "mit"],
    ));
    assert_eq!(
        subject(&env, &clone, "HEAD"),
        "Update train: 120 rows (+40) in 1 shard; card: license mit"
    );
    let body = env.git_out(&clone, &["log", "-1", "--format=%b"]);
    assert!(body.contains("\nCard:\n  + license: mit\n"), "{body}");

    // No run of identical subjects.
    let log = env.git_out(&clone, &["log", "--format=%s"]);
    let subjects: Vec<&str> = log.lines().collect();
    let mut unique = subjects.clone();
    unique.dedup();
    assert_eq!(subjects, unique, "{log}");
}

// Item 6: verify checks what push would publish; push never sends bytes that are not the
// pointer's, and says which file, commit and tag hold them.
#[test]
fn a_corrupt_object_of_an_older_tagged_commit_fails_verify_and_push_names_it() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "older");
    assert_success(&run(&env, "tag", &clone, &["v1"]));
    let v1 = env
        .git_out(&clone, &["rev-parse", "--short", "v1^{commit}"])
        .trim()
        .to_string();
    let old_oid = pointer_oid(&env, &clone, "v1:data/train-00000.parquet");
    let two = [friction(1), friction(2)].map(|p| p.display().to_string());
    assert_success(&run_build(&env, &clone, &[&two[0], &two[1]]));
    assert_ne!(
        pointer_oid(&env, &clone, "HEAD:data/train-00000.parquet"),
        old_oid
    );
    let object = lfs_object(&clone, &old_oid);
    let original = std::fs::read(&object).unwrap();
    corrupt_in_place_keeping_mtime(&object);

    let expected = format!(
        "data/train-00000.parquet (commit {v1}, tag v1): LFS object {old_oid} in \
         .git/lfs/objects is corrupt"
    );
    let output = env
        .hf_relay()
        .arg("verify")
        .current_dir(&clone)
        .output()
        .unwrap();
    assert_failure(&output, "verify found 1 problem at HEAD");
    assert!(stdout(&output).contains(&expected), "{}", stdout(&output));

    let before = env.snapshot(&clone);
    for args in [&["--dry-run"][..], &[]] {
        let output = run(&env, "push", &clone, args);
        assert_failure(
            &output,
            "refusing to push: 1 LFS object of the commits to publish does not match its pointer",
        );
        // Refused before any request: nothing created or merged.
        assert!(
            !stderr(&output).contains("repo alice/older"),
            "{}",
            stderr(&output)
        );
        assert!(!hub.bare_repo("alice", "older").exists());
        assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("Hint: put each object's original bytes back"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("HTTP 400"), "{}", stderr(&output));
    }
    // The clone is as it was, but for the record of objects found intact.
    let unchanged = |entries: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        entries
            .into_iter()
            .filter(|(path, _)| path != ".git/hf-relay/verified-lfs.json")
            .collect()
    };
    assert_eq!(unchanged(env.snapshot(&clone)), unchanged(before));
    let bare = hub.bare_repo("alice", "older");

    // The repair the hint gives works: the bytes back, verify and push succeed.
    std::fs::remove_file(&object).unwrap();
    std::fs::write(&object, &original).unwrap();
    let output = run(&env, "verify", &clone, &[]);
    assert_success(&output);
    assert_success(&run(&env, "push", &clone, &[]));
    assert!(hub.lfs_dir("alice", "older").join(&old_oid).exists());
    let refs = env.git_out(&bare, &["for-each-ref", "--format=%(refname)"]);
    assert!(refs.contains("refs/tags/v1"), "{refs}");
}

// Item 10: a type conflict names file:line:column and the column, with the way out.
#[test]
fn a_type_conflict_names_line_column_and_field_and_hints_at_on_type_conflict_string() {
    let env = TestEnv::new();
    let clone = env.init("conflicts");
    let scalar = env.write("scalar.jsonl", "{\"label\": 5}\n{\"label\": \"xy\"}\n");
    let nested = env.write(
        "nested.jsonl",
        "{\"label\": 5, \"a\": [{\"b\": 1}]}\n{\"label\": 6, \"a\": [{\"b\": 2}, {\"b\": [1]}]}\n",
    );
    // A string with an escaped quote, a number: the column is still where the value starts.
    let escaped = env.write("escaped.jsonl", "{\"label\": 5}\n{\"label\": \"a\\\"b\"}\n");
    let number = env.write(
        "number.jsonl",
        "{\"label\": \"x\"}\n{\"label\":  -12.5e3}\n",
    );
    for (input, at, field) in [
        (&scalar, "scalar.jsonl:2:11:", "label"),
        (&nested, "nested.jsonl:2:36:", "a[].b"),
        (&escaped, "escaped.jsonl:2:11:", "label"),
        (&number, "number.jsonl:2:12:", "label"),
    ] {
        let before = env.snapshot(&clone);
        let output = run_build(&env, &clone, &[input.to_str().unwrap()]);
        assert_failure(&output, &format!("{at} type conflict in field `{field}`"));
        assert!(
            stderr(&output).contains(&format!(
                "Hint: to keep the mixed values, store `{field}` as JSON text with \
                 --on-type-conflict string"
            )),
            "{}",
            stderr(&output)
        );
        assert_eq!(env.snapshot(&clone), before);
        // The hint works.
        let output = run_build(
            &env,
            &clone,
            &[input.to_str().unwrap(), "--on-type-conflict", "string"],
        );
        assert_success(&output);
        env.git_out(&clone, &["reset", "--hard", "-q", "HEAD~1"]);
    }
}

/// Runs `git ARGS` in `dir` in the sealed environment; the output, whatever the exit code.
fn git(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    env.git(dir).args(args).output().unwrap()
}

// Item 10: a push conflict says how to resolve it by hand, and those steps work. Data (LFS
// files): keep this clone's, recording the Hub's commits as merged.
#[test]
fn a_data_conflict_on_push_is_resolved_with_the_steps_of_its_hint() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "both");
    assert_success(&run(&env, "push", &clone, &[]));
    // Someone else publishes other data from their own clone.
    let other = hf_clone(&env, &hub, "both", "other", "022");
    assert_success(&run_build(
        &env,
        &other,
        &[&friction(2).display().to_string()],
    ));
    assert_success(&run(&env, "push", &other, &[]));
    let theirs = env.git_out(&other, &["rev-parse", "HEAD"]);

    let two = [friction(1), friction(2)].map(|p| p.display().to_string());
    assert_success(&run_build(&env, &clone, &[&two[0], &two[1]]));
    let ours = pointer_oid(&env, &clone, "HEAD:data/train-00000.parquet");
    let output = run(&env, "push", &clone, &[]);
    assert_failure(
        &output,
        "Error: data/train-00000.parquet was changed both here and on the Hub's main since the \
         last publish; nothing was pushed",
    );
    let hint = "Hint: to keep this clone's data and record the Hub's commits as merged (its \
                version stays in the history): `git merge -s ours origin/main -m \"Keep the local \
                data\"`, then `hf-relay push`";
    assert!(stderr(&output).contains(hint), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Hint: or push with --force"),
        "{}",
        stderr(&output)
    );
    let bare = hub.bare_repo("alice", "both");
    assert_eq!(env.git_out(&bare, &["rev-parse", "main"]), theirs);

    // The steps of the hint.
    let output = git(
        &env,
        &clone,
        &[
            "merge",
            "-s",
            "ours",
            "origin/main",
            "-m",
            "Keep the local data",
        ],
    );
    assert_success(&output);
    assert_success(&run(&env, "push", &clone, &[]));
    assert_eq!(
        pointer_oid(&env, &bare, "main:data/train-00000.parquet"),
        ours
    );
    // The Hub's commit stays in the history.
    let merged = git(
        &env,
        &bare,
        &["merge-base", "--is-ancestor", theirs.trim(), "main"],
    );
    assert_success(&merged);
}

// Item 10: a regular file changed on both sides — git's merge, then push.
#[test]
fn a_file_conflict_on_push_is_resolved_with_the_steps_of_its_hint() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "notes");
    std::fs::write(clone.join("notes.txt"), "first\n").unwrap();
    env.git_out(&clone, &["add", "notes.txt"]);
    env.git_out(&clone, &["commit", "-qm", "Add notes"]);
    assert_success(&run(&env, "push", &clone, &[]));

    // An edit on the Hub (here: a plain git push).
    let web = env.path().join("web");
    let output = env
        .git(env.path())
        .args(["clone", "-q", &hub.dataset_url("alice", "notes")])
        .arg(&web)
        .output()
        .unwrap();
    assert_success(&output);
    std::fs::write(web.join("notes.txt"), "first\nfrom the Hub\n").unwrap();
    env.git_out(&web, &["commit", "-qam", "Edit notes on the Hub"]);
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("hf_user:{WRITE_TOKEN}"),
    );
    let header = format!("http.extraHeader=Authorization: Basic {basic}");
    env.git_out(&web, &["-c", &header, "push", "-q", "origin", "main"]);

    std::fs::write(clone.join("notes.txt"), "first\nfrom here\n").unwrap();
    env.git_out(&clone, &["commit", "-qam", "Edit notes here"]);
    let output = run(&env, "push", &clone, &[]);
    assert_failure(
        &output,
        "Error: notes.txt was changed both here and on the Hub's main since the last publish",
    );
    let hint = "Hint: to resolve it by hand in the clone: `git merge origin/main`, edit notes.txt \
                (keep what you want, remove the conflict markers), `git add notes.txt && git \
                commit --no-edit`, then `hf-relay push`";
    assert!(stderr(&output).contains(hint), "{}", stderr(&output));

    // The steps of the hint.
    let output = git(&env, &clone, &["merge", "origin/main"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let conflicted = std::fs::read_to_string(clone.join("notes.txt")).unwrap();
    assert!(conflicted.contains("<<<<<<<"), "{conflicted}");
    std::fs::write(clone.join("notes.txt"), "first\nfrom here\nfrom the Hub\n").unwrap();
    env.git_out(&clone, &["add", "notes.txt"]);
    env.git_out(&clone, &["commit", "--no-edit", "-q"]);
    assert_success(&run(&env, "push", &clone, &[]));
    let bare = hub.bare_repo("alice", "notes");
    assert_eq!(
        env.git_out(&bare, &["show", "main:notes.txt"]),
        "first\nfrom here\nfrom the Hub\n"
    );
}

// Item 3, the same after a push that found the Hub up to date but fetched a tag made there.
#[test]
fn a_tag_fetched_by_an_up_to_date_push_is_not_listed_as_unpushed() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = published_with_tag(&env, &hub, "fetched-tag");
    let other = hf_clone(&env, &hub, "fetched-tag", "other", "022");
    assert_success(&run(&env, "tag", &other, &["v2"]));
    assert_success(&run(&env, "push", &other, &[]));

    let output = run(&env, "push", &clone, &[]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("Everything up to date"),
        "{}",
        stderr(&output)
    );
    assert!(env.git_out(&clone, &["tag", "--list"]).contains("v2"));
    let output = run(&env, "status", &clone, &[]);
    assert_success(&output);
    assert!(
        stdout(&output).contains("Tags not pushed: none\n"),
        "{}",
        stdout(&output)
    );
}
