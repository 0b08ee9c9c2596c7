//! Whole user journeys across commands, against the test Hub, the way the README tells them:
//! the quickstart (init → build → diff → tag → push → edit → push → clone elsewhere → status →
//! verify), `publish` into the folder it made before, and clone → rebuild → push from the clone.
//! What a person reads along the quickstart is pinned as transcripts (stdout, stderr and exit
//! code, `snapshots/`), with the parts that change from run to run (temp paths, the Hub's port,
//! commit ids and hashes, dates) written as `[ROOT]`, `[HUB]`, `[HASH]`, `[DATE]`
//! (`support::Shell::transcript`).

use std::path::Path;

use crate::support::*;

/// `input` with `"lang": "en"` added to every row: the same data with one more column.
fn with_lang_column(input: &Path) -> String {
    let text = std::fs::read_to_string(input).unwrap();
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut row: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        row.insert("lang".into(), "en".into());
        out.push_str(&serde_json::to_string(&row).unwrap());
        out.push('\n');
    }
    out
}

/// The first `n` rows of `input`, their ids made new (rows to append).
fn more_rows(input: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(input).unwrap();
    let mut out = String::new();
    for line in text.lines().take(n) {
        let mut row: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        let id = format!("{}-again", row["id"].as_str().unwrap());
        row.insert("id".into(), id.into());
        row.insert("lang".into(), "en".into());
        out.push_str(&serde_json::to_string(&row).unwrap());
        out.push('\n');
    }
    out
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The files `git ls-tree -r NAME-ONLY` lists at `rev`.
fn tree(shell: &Shell, clone: &Path, rev: &str) -> Vec<String> {
    shell
        .env
        .git_out(clone, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(String::from)
        .collect()
}

/// The quickstart, step by step, with a transcript of every command a person reads.
#[test]
fn quickstart_from_init_to_a_second_clone() {
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    let template = repo_path("examples/friction/card.md");
    let template = template.to_str().unwrap();
    let train = shell.env.write("train.jsonl", text(&friction(1)));
    let test = shell.env.write("test.jsonl", text(&friction(2)));
    let _ = (&train, &test);

    // init
    let output = shell.ok(&root, &["init", "alice/friction-disagreement-v2"]);
    insta::assert_snapshot!("quickstart_01_init", shell.transcript(&output));
    let clone = root.join("friction-disagreement-v2");

    // build: two splits, the example's template, card flags
    let output = shell.ok(
        &root,
        &[
            "build",
            "--dir",
            "friction-disagreement-v2",
            "train.jsonl",
            "--split",
            "test=test.jsonl",
            "--card-template",
            template,
            "--license",
            "mit",
            "--language",
            "en",
            "--pretty-name",
            "Friction Disagreement v2",
        ],
    );
    insta::assert_snapshot!("quickstart_02_build", shell.transcript(&output));
    assert_eq!(
        tree(&shell, &clone, "HEAD"),
        [
            ".gitattributes",
            ".gitignore",
            "README.md",
            "data/test-00000.parquet",
            "data/train-00000.parquet"
        ]
    );
    let readme = text(&clone.join("README.md"));
    assert!(!readme.contains("_TODO"), "{readme}");
    assert!(
        readme.contains("pretty_name: Friction Disagreement v2\n"),
        "{readme}"
    );

    // a schema change: both splits rebuilt together with a new column, as the README says
    std::fs::write(&train, with_lang_column(&friction(1))).unwrap();
    std::fs::write(&test, with_lang_column(&friction(2))).unwrap();
    let output = shell.ok(
        &clone,
        &["build", "../train.jsonl", "--split", "test=../test.jsonl"],
    );
    insta::assert_snapshot!(
        "quickstart_03_build_schema_change",
        shell.transcript(&output)
    );
    // The row counts stay the same: the subject says what changed.
    let subject = shell.env.git_out(&clone, &["log", "-1", "--format=%s"]);
    assert!(
        subject.contains("; schema: added column lang (string)"),
        "{subject}"
    );
    assert!(
        text(&clone.join("README.md")).contains("name: lang"),
        "the card's features gain the column"
    );

    // review: status, diff, log
    let output = shell.ok(&clone, &["status"]);
    insta::assert_snapshot!("quickstart_04_status", shell.transcript(&output));
    let output = shell.ok(&clone, &["diff", "--stat"]);
    insta::assert_snapshot!("quickstart_05_diff_stat", shell.transcript(&output));
    let output = shell.ok(&clone, &["diff", "HEAD~1", "HEAD"]);
    insta::assert_snapshot!("quickstart_06_diff_schema", shell.transcript(&output));
    let output = shell.ok(&clone, &["log", "--oneline"]);
    insta::assert_snapshot!("quickstart_07_log", shell.transcript(&output));

    // tag, then publish: dry run first
    let output = shell.ok(&clone, &["tag", "v1"]);
    insta::assert_snapshot!("quickstart_08_tag", shell.transcript(&output));
    let output = shell.ok(&clone, &["push", "--dry-run"]);
    insta::assert_snapshot!("quickstart_09_push_dry_run", shell.transcript(&output));
    let output = shell.ok(&clone, &["push"]);
    insta::assert_snapshot!("quickstart_10_push", shell.transcript(&output));
    let published = shell
        .env
        .git_out(&clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert!(stdout(&output).contains(&format!("/commit/{published}")));

    // edit: prose by hand (git commit), rows appended to train; push again
    let edited = text(&clone.join("README.md")).replace(
        "## Why friction matters",
        "A note from the maintainers: the March batch is in.\n\n## Why friction matters",
    );
    std::fs::write(clone.join("README.md"), edited).unwrap();
    shell.env.git_out(
        &clone,
        &["commit", "-qam", "Card: a note on the March batch"],
    );
    let extra = shell.env.write("march.jsonl", more_rows(&friction(1), 5));
    let _ = extra;
    let output = shell.ok(
        &clone,
        &[
            "build",
            "../train.jsonl",
            "../march.jsonl",
            "--split",
            "test=../test.jsonl",
        ],
    );
    insta::assert_snapshot!("quickstart_11_build_append", shell.transcript(&output));
    assert!(text(&clone.join("README.md")).contains("the March batch is in"));
    let output = shell.ok(&clone, &["push"]);
    insta::assert_snapshot!("quickstart_12_push_again", shell.transcript(&output));
    let head = shell
        .env
        .git_out(&clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string();

    // clone elsewhere: the same dataset, history and tag
    let elsewhere = root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let output = shell.ok(&elsewhere, &["clone", "alice/friction-disagreement-v2"]);
    insta::assert_snapshot!("quickstart_13_clone", shell.transcript(&output));
    let second = elsewhere.join("friction-disagreement-v2");
    assert_eq!(
        shell.env.git_out(&second, &["rev-parse", "HEAD"]).trim(),
        head
    );
    assert_eq!(shell.env.git_out(&second, &["tag", "--list"]).trim(), "v1");
    for file in [
        "data/train-00000.parquet",
        "data/test-00000.parquet",
        "README.md",
    ] {
        assert_eq!(
            std::fs::read(second.join(file)).unwrap(),
            std::fs::read(clone.join(file)).unwrap(),
            "{file}"
        );
    }
    let output = shell.ok(&second, &["status"]);
    let status = stdout(&output);
    assert!(status.contains("On branch main"), "{status}");
    assert!(status.contains("Up to date with origin/main"), "{status}");
    assert!(!status.contains("to push"), "{status}");
    assert!(status.contains("Uncommitted changes: none"), "{status}");
    // The Hub's own tag came with the clone: nothing to push, as `push --dry-run` agrees.
    assert!(status.contains("Tags not pushed: none"), "{status}");
    let output = shell.ok(&second, &["push", "--dry-run"]);
    assert!(
        stderr(&output).contains("Everything up to date"),
        "{}",
        stderr(&output)
    );
    // Run from a subfolder, as git finds its repository upwards.
    let output = shell.ok(&second.join("data"), &["verify"]);
    assert!(stdout(&output).contains("verify: OK") || stderr(&output).contains("verify: OK"));
    let output = shell.ok(&second, &["verify"]);
    insta::assert_snapshot!("quickstart_14_verify", shell.transcript(&output));
    let output = shell.ok(&second, &["log"]);
    insta::assert_snapshot!("quickstart_15_log_of_the_clone", shell.transcript(&output));
}

/// `hf-relay publish` twice with the same repo id: the first run makes `./NAME` and the repo,
/// the second opens that folder, builds the new data into it and pushes.
#[test]
fn publish_again_into_the_folder_it_made() {
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    let template = repo_path("examples/friction/card.md");
    let one = friction(1);
    let two = friction(2);
    let (one, two, template) = (
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        template.to_str().unwrap(),
    );
    let first = shell.ok(
        &root,
        &[
            "publish",
            one,
            "--repo-id",
            "alice/dialogues",
            "--card-template",
            template,
            "--license",
            "mit",
            "--public",
        ],
    );
    let clone = root.join("dialogues");
    let url = format!("{}/datasets/alice/dialogues", shell.hub.url);
    assert!(
        stdout(&first).starts_with(&format!("{url}\n")),
        "{}",
        stdout(&first)
    );
    assert!(stderr(&first).contains("alice/dialogues is new: preparing a clone in dialogues"));

    let second = shell.ok(
        &root,
        &[
            "publish",
            one,
            two,
            "--repo-id",
            "alice/dialogues",
            "--card-template",
            template,
        ],
    );
    let err = stderr(&second);
    assert!(
        !err.contains("preparing a clone") && !err.contains("cloning it"),
        "{err}"
    );
    assert!(
        err.contains("Committed ") && err.contains("Update train: 120 rows (+40) in 1 shard"),
        "{err}"
    );
    assert!(err.contains("Published alice/dialogues"), "{err}");
    let head = shell.env.git_out(&clone, &["rev-parse", "HEAD"]);
    assert_eq!(
        stdout(&second),
        format!("{url}\n{url}/commit/{}\n", head.trim())
    );

    // What the Hub holds is that commit, with both inputs' rows.
    let check = root.join("check");
    std::fs::create_dir_all(&check).unwrap();
    shell.ok(&check, &["clone", "alice/dialogues"]);
    let fresh = check.join("dialogues");
    assert_eq!(shell.env.git_out(&fresh, &["rev-parse", "HEAD"]), head);
    let output = shell.ok(&fresh, &["verify"]);
    assert_eq!(
        stdout(&output),
        "verify: OK (4 files, 1 LFS object, 120 rows)\n"
    );
}

/// A folder made by `init` with the same repo id is the one `publish --dir` builds and pushes.
#[test]
fn publish_into_an_initialised_folder_with_the_same_repo_id() {
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    shell.ok(&root, &["init", "alice/prepared", "mine"]);
    let one = friction(1);
    let output = shell.ok(
        &root,
        &[
            "publish",
            one.to_str().unwrap(),
            "--repo-id",
            "alice/prepared",
            "--dir",
            "mine",
        ],
    );
    let err = stderr(&output);
    assert!(err.contains("Created dataset repo alice/prepared"), "{err}");
    assert!(err.contains("Pushed refs/heads/main"), "{err}");
    let clone = root.join("mine");
    let head = shell.env.git_out(&clone, &["rev-parse", "HEAD"]);
    let url = format!("{}/datasets/alice/prepared", shell.hub.url);
    assert_eq!(
        stdout(&output),
        format!("{url}\n{url}/commit/{}\n", head.trim())
    );
    assert!(
        !root.join("prepared").exists(),
        "publish made another folder"
    );
    let output = shell.ok(&clone, &["status"]);
    assert!(
        stdout(&output).contains("Up to date with origin/main"),
        "{}",
        stdout(&output)
    );
}

/// Someone else's dataset: clone it, rebuild with more data, push from the clone; a second
/// clone gets the new state.
#[test]
fn clone_rebuild_and_push_from_the_clone() {
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    let one = friction(1);
    let two = friction(2);
    let (one, two) = (one.to_str().unwrap(), two.to_str().unwrap());
    shell.ok(&root, &["publish", one, "--repo-id", "alice/shared"]);

    let desk = root.join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    let output = shell.ok(&desk, &["clone", "alice/shared"]);
    assert!(
        stderr(&output).contains("Cloned alice/shared into shared (4 files, 1 LFS object)"),
        "{}",
        stderr(&output)
    );
    let clone = desk.join("shared");
    let output = shell.ok(&clone, &["build", one, two]);
    assert!(
        stderr(&output).contains("Update train: 120 rows (+40) in 1 shard"),
        "{}",
        stderr(&output)
    );
    let output = shell.ok(&clone, &["status"]);
    let status = stdout(&output);
    assert!(
        status.contains("1 commit ahead, 0 behind origin/main"),
        "{status}"
    );
    let output = shell.ok(&clone, &["push"]);
    let err = stderr(&output);
    assert!(!err.contains("Created dataset repo"), "{err}");
    assert!(err.contains("Uploaded 1 LFS object"), "{err}");
    assert!(err.contains("Pushed refs/heads/main"), "{err}");
    let head = shell.env.git_out(&clone, &["rev-parse", "HEAD"]);
    assert!(stdout(&output).ends_with(&format!("/commit/{}\n", head.trim())));

    let other = root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    shell.ok(&other, &["clone", "alice/shared"]);
    let second = other.join("shared");
    assert_eq!(shell.env.git_out(&second, &["rev-parse", "HEAD"]), head);
    let output = shell.ok(&second, &["verify"]);
    assert_eq!(
        stdout(&output),
        "verify: OK (4 files, 1 LFS object, 120 rows)\n"
    );
    let output = shell.ok(&second, &["log", "--oneline"]);
    let log = stdout(&output);
    assert!(
        log.lines()
            .next()
            .unwrap()
            .contains("Update train: 120 rows (+40) in 1 shard — train 120 (origin/main)"),
        "{log}"
    );
}

/// The README's first command puts its clone in `target/friction-demo`, so the Quickstart's
/// `init` of the same repo id, run next in the same folder, starts from a free `./NAME`.
#[test]
fn the_readmes_first_command_leaves_the_quickstarts_folder_free() {
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    let first = readme
        .split("# 1. Build hf-relay")
        .nth(1)
        .unwrap()
        .split("# 2.")
        .next()
        .unwrap();
    let quickstart = readme.split("## Quickstart").nth(1).unwrap();
    let init = quickstart
        .lines()
        .find(|line| line.starts_with("hf-relay init "))
        .unwrap();
    let args: Vec<&str> = init.split_whitespace().skip(1).collect();
    assert_eq!(
        args.len(),
        2,
        "the Quickstart's init takes the default folder: {init}"
    );
    let name = args[1].rsplit('/').next().unwrap();
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    // Command 1's init, as written (cargo run --release -- ARGS).
    let first_init = first
        .lines()
        .find(|line| line.contains("-- init "))
        .unwrap();
    let first_args: Vec<&str> = first_init
        .split("-- ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .take_while(|word| *word != "&&")
        .collect();
    shell.ok(&root, &first_args);
    assert!(
        !root.join(name).exists(),
        "command 1 made ./{name}: {first_init}"
    );
    shell.ok(&root, &args);
    assert!(root.join(name).join(".git").exists());
}
