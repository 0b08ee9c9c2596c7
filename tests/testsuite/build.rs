//! `hf-relay init` / `build` / `card --preview`, driven as a user would, checked with git,
//! git-lfs and the Python clients.

use std::path::PathBuf;

use crate::support::*;

fn friction_inputs() -> Vec<PathBuf> {
    vec![
        repo_path("examples/friction/dialogues-01.jsonl"),
        repo_path("examples/friction/dialogues-02.jsonl"),
    ]
}

#[test]
fn init_creates_a_clone_with_lfs_attributes_and_a_first_commit() {
    let env = TestEnv::new();
    let output = env
        .hf_relay()
        .args(["init", "you/friction-disagreement-v2"])
        .output()
        .unwrap();
    assert_success(&output);
    let clone = env.path().join("friction-disagreement-v2");
    assert_eq!(
        env.git_out(&clone, &["rev-parse", "--abbrev-ref", "HEAD"])
            .trim(),
        "main"
    );
    assert_eq!(
        env.git_out(&clone, &["remote", "get-url", "origin"]).trim(),
        "https://huggingface.co/datasets/you/friction-disagreement-v2"
    );
    let attributes = std::fs::read_to_string(clone.join(".gitattributes")).unwrap();
    assert!(attributes.contains("*.parquet filter=lfs diff=lfs merge=lfs -text"));
    assert!(
        std::fs::read_to_string(clone.join(".gitignore"))
            .unwrap()
            .lines()
            .any(|l| l == ".env")
    );
    assert_eq!(
        env.git_out(&clone, &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
}

#[test]
fn init_honours_hf_endpoint_and_rejects_bad_repo_ids() {
    let env = TestEnv::new();
    let output = env
        .hf_relay()
        .args(["init", "org/data", "mirror"])
        .env("HF_ENDPOINT", "http://hub.local:8080/")
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(
        env.git_out(&env.path().join("mirror"), &["remote", "get-url", "origin"])
            .trim(),
        "http://hub.local:8080/datasets/org/data"
    );
    for bad in [
        "no-owner",
        "a/b/c",
        "you/bad name",
        "you/x--y",
        "you/.hidden",
    ] {
        let output = env
            .hf_relay()
            .args(["init", bad, "target"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&output).contains("invalid repo id"),
            "{bad}: {}",
            stderr(&output)
        );
        assert!(
            !env.path().join("target").exists(),
            "{bad} created a folder"
        );
    }
    let output = env
        .hf_relay()
        .args(["init", "you/x", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn friction_example_builds_a_clone_that_git_lfs_and_datasets_read_back() {
    let env = TestEnv::new();
    let clone = env.init("friction-disagreement-v2");
    let template = repo_path("examples/friction/card.md");
    let mut args = vec![
        "--card-template".to_string(),
        template.display().to_string(),
    ];
    args.extend(
        [
            "--license",
            "mit",
            "--pretty-name",
            "Friction Disagreement v2",
            "--tag",
            "friction",
            "--language",
            "en",
        ]
        .map(String::from),
    );
    args.extend(friction_inputs().iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_build(&env, &clone, &args);
    assert_success(&output);

    // One new commit with a descriptive message and provenance trailers.
    let message = env.git_out(&clone, &["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("Add train: 120 rows in 1 shard\n"),
        "{message}"
    );
    assert!(
        message.contains("added   data/train-00000.parquet"),
        "{message}"
    );
    assert!(message.contains("dialogues-01.jsonl sha256:"), "{message}");
    assert!(message.contains(&format!("Hf-Relay-Version: {}", env!("CARGO_PKG_VERSION"))));
    assert_eq!(
        env.git_out(&clone, &["rev-list", "--count", "HEAD"]).trim(),
        "2"
    );

    // The Parquet file is committed as an LFS pointer; git-lfs sees a consistent store.
    let blob = env.git_out(&clone, &["cat-file", "-p", "HEAD:data/train-00000.parquet"]);
    assert!(
        blob.starts_with("version https://git-lfs.github.com/spec/v1\noid sha256:"),
        "{blob}"
    );
    assert!(
        std::fs::read(clone.join("data/train-00000.parquet"))
            .unwrap()
            .starts_with(b"PAR1")
    );
    assert_eq!(
        env.git_out(&clone, &["lfs", "ls-files", "--name-only"])
            .trim(),
        "data/train-00000.parquet"
    );
    env.git_out(&clone, &["lfs", "fsck"]);
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");

    // The card: user keys from flags, generated keys, the template's prose.
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(readme.starts_with("---\n"), "{readme}");
    assert!(readme.contains("license: mit\n"));
    assert!(readme.contains("pretty_name: Friction Disagreement v2\n"));
    assert!(readme.contains("- name: agent_responses\n"), "{readme}");
    assert!(readme.contains("num_examples: 120\n"));
    assert!(readme.contains("path: data/train-*\n"));
    assert!(readme.contains("# Friction Disagreement v2\n"), "{readme}");
    assert!(readme.contains("## Why friction matters"));
    assert!(
        readme.contains("`agent_responses[].friction_moments`")
            || readme.contains("agent_responses[].friction_moments"),
        "{readme}"
    );
    assert!(!readme.contains("{{"), "unrendered placeholder in {readme}");

    let summary = check_with_python(&clone, &[("train", friction_inputs())]);
    assert!(summary.contains("\"train\": 120"), "{summary}");
}

#[test]
fn an_identical_rebuild_makes_no_commit() {
    let env = TestEnv::new();
    let clone = env.init("same");
    let input = friction_inputs()[0].display().to_string();
    assert_success(&run_build(&env, &clone, &[&input]));
    let head = env.git_out(&clone, &["rev-parse", "HEAD"]);
    let before = env.snapshot(&clone);
    let output = run_build(&env, &clone, &[&input, "--json"]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("Nothing to commit"),
        "{}",
        stderr(&output)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["committed"], false);
    assert_eq!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);
    assert_eq!(env.snapshot(&clone), before);
}

#[test]
fn appending_rows_changes_only_the_last_shard() {
    let env = TestEnv::new();
    let clone = env.init("append");
    let lines: Vec<String> = std::fs::read_to_string(&friction_inputs()[0])
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let base = env.write("grow.jsonl", lines[..60].join("\n") + "\n");
    let first = run_build(
        &env,
        &clone,
        &[base.to_str().unwrap(), "--max-shard-size", "60KB"],
    );
    assert_success(&first);
    let shards_before = env.git_out(&clone, &["ls-tree", "-r", "HEAD", "data/"]);
    let count_before = shards_before.lines().count();
    assert!(count_before >= 3, "{shards_before}");

    // Append 20 more rows (a third more) to the same input.
    env.write("grow.jsonl", lines[..80].join("\n") + "\n");
    let output = run_build(
        &env,
        &clone,
        &[base.to_str().unwrap(), "--max-shard-size", "60KB", "--json"],
    );
    assert_success(&output);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let shards = json["splits"][0]["shards"].as_array().unwrap();
    let statuses: Vec<&str> = shards
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    let last_old = count_before - 1;
    assert!(
        statuses[..last_old].iter().all(|s| *s == "unchanged"),
        "{statuses:?}"
    );
    // The last old shard gets the new rows, unless a content-defined boundary fell on its
    // last row: then it stays as it was and the new rows start a new shard.
    let last_changed = statuses[last_old] == "changed";
    assert!(
        last_changed || statuses[last_old] == "unchanged",
        "{statuses:?}"
    );
    assert!(
        statuses[last_old + 1..].iter().all(|s| *s == "added"),
        "{statuses:?}"
    );

    // git agrees: only the last old shard and the new ones differ.
    let diff = env.git_out(
        &clone,
        &["diff", "--name-status", "HEAD~1", "HEAD", "--", "data/"],
    );
    let changed: Vec<&str> = diff.lines().collect();
    let added = if last_changed {
        assert_eq!(
            changed[0],
            format!("M\tdata/train-{last_old:05}.parquet"),
            "{diff}"
        );
        &changed[1..]
    } else {
        &changed[..]
    };
    assert!(added.iter().all(|l| l.starts_with('A')), "{diff}");
    let subject = env.git_out(&clone, &["log", "-1", "--format=%s"]);
    assert!(
        subject.starts_with("Update train: 80 rows (+20) in "),
        "{subject}"
    );
    check_with_python(&clone, &[("train", vec![base])]);
}

#[test]
fn removed_shards_go_in_the_same_commit() {
    let env = TestEnv::new();
    let clone = env.init("shrink");
    let input = friction_inputs()[0].display().to_string();
    assert_success(&run_build(
        &env,
        &clone,
        &[&input, "--max-shard-size", "100KB"],
    ));
    let many = env
        .git_out(&clone, &["ls-tree", "-r", "--name-only", "HEAD", "data/"])
        .lines()
        .count();
    assert!(many > 1);
    assert_success(&run_build(&env, &clone, &[&input]));
    let files = env.git_out(&clone, &["ls-tree", "-r", "--name-only", "HEAD", "data/"]);
    assert_eq!(files.trim(), "data/train-00000.parquet");
    assert!(!clone.join("data/train-00001.parquet").exists());
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
}

#[test]
fn output_is_deterministic_across_clones() {
    let env = TestEnv::new();
    let input = friction_inputs()[1].display().to_string();
    let mut results = Vec::new();
    for name in ["zq-first", "zq-second"] {
        let clone = env.init(name);
        assert_success(&run_build(
            &env,
            &clone,
            &[&input, "--split", &format!("test={input}")],
        ));
        results.push((
            std::fs::read(clone.join("data/train-00000.parquet")).unwrap(),
            std::fs::read(clone.join("data/test-00000.parquet")).unwrap(),
            std::fs::read_to_string(clone.join("README.md"))
                .unwrap()
                .replace(name, "NAME"),
        ));
    }
    assert!(
        results[0] == results[1],
        "two builds of the same input differ"
    );
}

/// Chunks are parsed on a thread pool and columns encoded on threads of their own: the bytes
/// must not depend on how many threads there are or how they are scheduled.
#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let env = TestEnv::new();
    let mut text = String::new();
    let friction = std::fs::read_to_string(&friction_inputs()[0]).unwrap();
    while text.len() < 9 << 20 {
        text.push_str(&friction);
    }
    let input = env.write("many-chunks.jsonl", text);
    let input = input.to_str().unwrap();
    let mut shards: Vec<Vec<(String, Vec<u8>)>> = Vec::new();
    for threads in ["1", "2", "5"] {
        let clone = env.init(&format!("threads-{threads}"));
        let output = env
            .hf_relay()
            .env("RAYON_NUM_THREADS", threads)
            .arg("build")
            .arg("--dir")
            .arg(&clone)
            .args([input, "--max-shard-size", "3MB"])
            .output()
            .unwrap();
        assert_success(&output);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(clone.join("data"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        assert!(files.len() > 2, "several shards: {}", files.len());
        shards.push(files);
    }
    assert!(
        shards[0] == shards[1] && shards[1] == shards[2],
        "the shards differ with the thread count"
    );
}

#[test]
fn schema_is_inferred_over_the_whole_input() {
    let env = TestEnv::new();
    let clone = env.init("schema");
    let mut lines = vec![r#"{"id": 1, "tags": [], "score": null, "meta": {"a": 1}}"#.to_string()];
    for i in 2..500 {
        lines.push(format!(
            r#"{{"id": {i}, "tags": [], "score": {i}, "meta": {{"a": {i}}}}}"#
        ));
    }
    lines.push(r#"{"id": 500, "tags": ["late"], "score": 0.5, "meta": {"a": 1.5, "b": "x"}, "late_key": "only here"}"#.to_string());
    let input = env.write("schema.jsonl", lines.join("\r\n") + "\r\n\r\n");
    let output = run_build(&env, &clone, &[input.to_str().unwrap()]);
    assert_success(&output);
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let front = readme.split("\n---\n").next().unwrap();
    // First-seen order, late keys kept, null/empty resolved, int widened to float.
    let id = front.find("- name: id").unwrap();
    let tags = front.find("- name: tags\n    list: string").expect(front);
    let score = front
        .find("- name: score\n    dtype: float64")
        .expect(front);
    let late = front
        .find("- name: late_key\n    dtype: string")
        .expect(front);
    assert!(id < tags && tags < score && score < late);
    assert!(front.contains("- name: b\n      dtype: string"), "{front}");
    check_with_python(&clone, &[("train", vec![input])]);
}

/// The schema is first guessed from the first 4 MiB of input; lines past that which widen it
/// (a new key, int → float, a null-only column that gets a type, a new key in another split)
/// make hf-relay infer over the whole input and decode again. The result must be what
/// inference over every line gives: first-seen order, the widened types, exact rows.
#[test]
fn lines_past_the_first_chunk_that_widen_the_schema_are_not_lost() {
    let env = TestEnv::new();
    let clone = env.init("widen-late");
    let filler = "x".repeat(1000);
    let mut train = String::new();
    for i in 0..6000 {
        train.push_str(&format!(
            "{{\"id\": {i}, \"score\": {i}, \"note\": null, \"text\": \"{filler}\"}}\n"
        ));
    }
    assert!(
        train.len() > 5 << 20,
        "the late lines must be past the first chunk"
    );
    train.push_str(r#"{"id": 6000, "score": 0.5, "note": "late", "text": "", "late_key": [1]}"#);
    train.push('\n');
    let train = env.write("train.jsonl", train);
    let test = env.write(
        "test.jsonl",
        r#"{"id": 1, "score": 2, "note": null, "text": "t", "test_only": true}"#.to_string() + "\n",
    );
    let output = run_build(
        &env,
        &clone,
        &[
            train.to_str().unwrap(),
            "--split",
            &format!("test={}", test.display()),
        ],
    );
    assert_success(&output);
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let front = readme.split("\n---\n").next().unwrap();
    let positions: Vec<usize> = [
        "- name: id\n    dtype: int64",
        "- name: score\n    dtype: float64",
        "- name: note\n    dtype: string",
        "- name: text\n    dtype: string",
        "- name: late_key\n    list: int64",
        "- name: test_only\n    dtype: bool",
    ]
    .iter()
    .map(|feature| {
        front
            .find(feature)
            .unwrap_or_else(|| panic!("{feature}:\n{front}"))
    })
    .collect();
    assert!(
        positions.is_sorted(),
        "first-seen order: {positions:?}\n{front}"
    );
    check_with_python(&clone, &[("train", vec![train]), ("test", vec![test])]);
}

fn assert_rejected(
    env: &TestEnv,
    clone: &std::path::Path,
    name: &str,
    contents: &[u8],
    expected: &[&str],
) {
    let before = env.snapshot(clone);
    let input = env.write(name, contents);
    let output = run_build(env, clone, &[input.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
    let err = stderr(&output);
    for part in expected {
        assert!(err.contains(part), "{name}: expected {part:?} in:\n{err}");
    }
    assert_eq!(env.snapshot(clone), before, "{name}: the clone changed");
}

#[test]
fn bad_input_gets_a_precise_error_and_leaves_the_clone_untouched() {
    let env = TestEnv::new();
    let clone = env.init("bad");
    let good = friction_inputs()[1].display().to_string();
    assert_success(&run_build(&env, &clone, &[&good]));

    assert_rejected(
        &env,
        &clone,
        "malformed.jsonl",
        b"{\"a\": 1}\n{\"a\": 2,}\n",
        &["malformed.jsonl:2:", "invalid JSON"],
    );
    assert_rejected(
        &env,
        &clone,
        "array.jsonl",
        b"{\"a\": 1}\n\n[1, 2]\n",
        &["array.jsonl:3:1", "expected a JSON object", "an array"],
    );
    assert_rejected(
        &env,
        &clone,
        "utf8.jsonl",
        b"{\"a\": \"ok\"}\n{\"a\": \"bad \xff byte\"}\n",
        &["utf8.jsonl:2:", "invalid JSON"],
    );
    assert_rejected(
        &env,
        &clone,
        "conflict.jsonl",
        b"{\"agent_responses\": [{\"friction_moments\": [\"a\"]}]}\n{\"agent_responses\": [{\"friction_moments\": \"late string\"}]}\n",
        &["conflict.jsonl:2", "agent_responses[].friction_moments", "string", "list<string>"],
    );
    assert_rejected(
        &env,
        &clone,
        "mixed.jsonl",
        b"{\"x\": \"s\"}\n{\"x\": 3}\n",
        &["mixed.jsonl:2", "`x`", "int64", "string"],
    );
    assert_rejected(&env, &clone, "empty.jsonl", b"\n\n", &["no records"]);

    // Unknown flags are usage errors (exit 2), and nothing is written either.
    let before = env.snapshot(&clone);
    let output = run_build(&env, &clone, &[&good, "--frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(env.snapshot(&clone), before);
}

#[test]
fn type_conflicts_can_be_stored_as_json_text() {
    let env = TestEnv::new();
    let clone = env.init("conflict");
    let input = env.write(
        "c.jsonl",
        "{\"x\": \"s\"}\n{\"x\": {\"k\": [1]}}\n{\"x\": null}\n",
    );
    let output = run_build(
        &env,
        &clone,
        &[input.to_str().unwrap(), "--on-type-conflict", "string"],
    );
    assert_success(&output);
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(readme.contains("- name: x\n    dtype: string"), "{readme}");
    // The values themselves: each conflicting value as its JSON text (as `json.dumps` writes
    // it), a null as a null — read back by pyarrow, not by us.
    let read = python()
        .args([
            "-c",
            "import json, sys, pyarrow.parquet as pq; \
             print(json.dumps(pq.read_table(sys.argv[1]).column('x').to_pylist()))",
        ])
        .arg(clone.join("data/train-00000.parquet"))
        .output()
        .unwrap();
    assert_success(&read);
    let values: serde_json::Value = serde_json::from_str(&stdout(&read)).unwrap();
    assert_eq!(values, serde_json::json!(["\"s\"", "{\"k\": [1]}", null]));
}

#[test]
fn the_provenance_trailer_names_inputs_without_the_users_folders() {
    let env = TestEnv::new();
    let clone = env.init("provenance");
    let outside = env.write(
        "home/secret-project/x.jsonl",
        "{\"text\": \"a\"}\n{\"text\": \"b\"}\n",
    );
    let inside = clone.join("raw/in.jsonl");
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    std::fs::write(&inside, "{\"text\": \"c\"}\n").unwrap();
    let output = run_build(
        &env,
        &clone,
        &[outside.to_str().unwrap(), inside.to_str().unwrap()],
    );
    assert_success(&output);
    let message = env.git_out(&clone, &["log", "-1", "--format=%B"]);
    let trailers: Vec<&str> = message
        .lines()
        .filter(|line| line.starts_with("Input: "))
        .collect();
    assert_eq!(trailers.len(), 2, "{message}");
    assert!(
        trailers[0].starts_with("Input: x.jsonl sha256:"),
        "{message}"
    );
    assert!(
        trailers[1].starts_with("Input: raw/in.jsonl sha256:"),
        "{message}"
    );
    assert!(!message.contains("secret-project"), "{message}");
    assert!(!message.contains(env.path().to_str().unwrap()), "{message}");
}

#[test]
fn card_preview_prints_the_next_card_and_writes_nothing() {
    let env = TestEnv::new();
    let clone = env.init("preview");
    let input = friction_inputs()[1].display().to_string();
    let before = env.snapshot(&clone);
    let output = env
        .hf_relay()
        .args(["card", "--preview", "--dir"])
        .arg(&clone)
        .args([input.as_str(), "--license", "apache-2.0"])
        .output()
        .unwrap();
    assert_success(&output);
    let card = stdout(&output);
    assert!(card.contains("license: apache-2.0"), "{card}");
    assert!(card.contains("num_examples: 40"), "{card}");
    assert_eq!(env.snapshot(&clone), before);

    // After a build, the preview without inputs equals the committed card.
    assert_success(&run_build(
        &env,
        &clone,
        &[&input, "--license", "apache-2.0"],
    ));
    let output = env
        .hf_relay()
        .args(["card", "--preview", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(
        stdout(&output),
        std::fs::read_to_string(clone.join("README.md")).unwrap()
    );
}

#[test]
fn card_keeps_user_keys_and_prose_across_builds() {
    let env = TestEnv::new();
    let clone = env.init("prose");
    let input = friction_inputs()[1].display().to_string();
    assert_success(&run_build(
        &env,
        &clone,
        &[&input, "--license", "mit", "--tag", "friction"],
    ));
    // The user edits the card by hand: a new key, their own prose.
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let edited = readme.replacen("---\n", "---\nmy_custom_key: keep me\n", 1)
        + "\n## Notes from the authors\n\nHand-written.\n";
    std::fs::write(clone.join("README.md"), &edited).unwrap();
    let more = env.write(
        "more.jsonl",
        std::fs::read_to_string(&friction_inputs()[0]).unwrap(),
    );
    let output = run_build(
        &env,
        &clone,
        &[&input, "--split", &format!("test={}", more.display())],
    );
    assert_success(&output);
    let after = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(
        after.starts_with("---\nmy_custom_key: keep me\n"),
        "{after}"
    );
    assert!(after.contains("license: mit"));
    assert!(after.contains("- friction"));
    assert!(after.contains("## Notes from the authors\n\nHand-written.\n"));
    assert!(after.contains("num_examples: 80"));
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
}

#[test]
fn an_unchanged_rebuild_skips_the_conversion_and_a_change_does_not() {
    let env = TestEnv::new();
    let clone = env.init("cached");
    let input = env.write(
        "cached.jsonl",
        std::fs::read(&friction_inputs()[1]).unwrap(),
    );
    // An input last modified well before the build (a fresh file would be "racy", as in git).
    let touch = std::process::Command::new("touch")
        .args(["-d", "2020-01-01"])
        .arg(&input)
        .status()
        .unwrap();
    assert!(touch.success());
    let input = input.display().to_string();
    assert_success(&run_build(&env, &clone, &[&input, "--license", "mit"]));
    let head = env.git_out(&clone, &["rev-parse", "HEAD"]);

    let output = run_build(&env, &clone, &[&input, "--license", "mit"]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("inputs and options are those of the last build"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("Converted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);

    // A new card flag: converted again, the card changes, the data does not.
    let output = run_build(&env, &clone, &[&input, "--license", "apache-2.0"]);
    assert_success(&output);
    assert!(stderr(&output).contains("Converted"), "{}", stderr(&output));
    let changed = env.git_out(&clone, &["diff", "--name-only", "HEAD~1", "HEAD"]);
    assert_eq!(changed.trim(), "README.md");

    // Other options and other bytes are never taken from the cache.
    let output = run_build(
        &env,
        &clone,
        &[&input, "--license", "apache-2.0", "--compression", "zstd"],
    );
    assert_success(&output);
    assert!(stderr(&output).contains("Converted"), "{}", stderr(&output));
    let mut text = std::fs::read_to_string(&input).unwrap();
    let first_line = text.lines().next().unwrap().to_string();
    text.push_str(&first_line);
    text.push('\n');
    std::fs::write(&input, text).unwrap();
    let touch = std::process::Command::new("touch")
        .args(["-d", "2020-01-02"])
        .arg(&input)
        .status()
        .unwrap();
    assert!(touch.success());
    let output = run_build(
        &env,
        &clone,
        &[&input, "--license", "apache-2.0", "--compression", "zstd"],
    );
    assert_success(&output);
    assert!(
        stderr(&output).contains("Converted train: 41 rows"),
        "{}",
        stderr(&output)
    );

    // Touched (or copied): other stamps, same bytes. The SHA-256 proves it unchanged.
    let args = [
        input.as_str(),
        "--license",
        "apache-2.0",
        "--compression",
        "zstd",
    ];
    let head = env.git_out(&clone, &["rev-parse", "HEAD"]);
    let touch_to = |date: &str| {
        let touch = std::process::Command::new("touch")
            .args(["-d", date])
            .arg(&input)
            .status()
            .unwrap();
        assert!(touch.success());
    };
    touch_to("2020-01-03");
    let output = run_build(&env, &clone, &args);
    assert_success(&output);
    assert!(
        stderr(&output).contains("(same SHA-256)"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("Converted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);

    // Same size, one byte changed: converted and committed.
    let text = std::fs::read_to_string(&input).unwrap();
    let changed = text.replacen("friction", "Friction", 1);
    assert_ne!(changed, text);
    assert_eq!(changed.len(), text.len());
    std::fs::write(&input, changed).unwrap();
    touch_to("2020-01-04");
    let output = run_build(&env, &clone, &args);
    assert_success(&output);
    assert!(stderr(&output).contains("Converted"), "{}", stderr(&output));
    assert_ne!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);
}

#[test]
fn schema_drift_warns_and_strict_schema_refuses() {
    let env = TestEnv::new();
    let clone = env.init("drift");
    let v1 = env.write("v1.jsonl", "{\"a\": 1}\n{\"a\": 2}\n");
    assert_success(&run_build(&env, &clone, &[v1.to_str().unwrap()]));
    let v2 = env.write("v2.jsonl", "{\"a\": 1, \"b\": \"new\"}\n{\"a\": 2.5}\n");
    let before = env.snapshot(&clone);
    let output = run_build(&env, &clone, &[v2.to_str().unwrap(), "--strict-schema"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("added column b (string)") && err.contains("column a: int64 → float64"),
        "{err}"
    );
    assert_eq!(env.snapshot(&clone), before);
    let output = run_build(&env, &clone, &[v2.to_str().unwrap()]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("warning: the schema changes"),
        "{}",
        stderr(&output)
    );
    let message = env.git_out(&clone, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Schema:\n  column a: int64 → float64\n  added column b (string)"),
        "{message}"
    );
}

/// A build big enough (in a debug binary) to be interrupted or contended.
fn big_input(env: &TestEnv) -> PathBuf {
    let path = env.path().join("big.jsonl");
    let status = std::process::Command::new("python3")
        .arg(repo_path("../shared/bench/gen_friction.py"))
        .args(["--rows", "6000", "--seed", "5", "--out"])
        .arg(&path)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        // Without the shared generator: repeat the example until it is big enough.
        let rows = std::fs::read_to_string(&friction_inputs()[0]).unwrap();
        std::fs::write(&path, rows.repeat(80)).unwrap();
    }
    path
}

#[test]
fn progress_is_drawn_on_a_terminal_and_never_in_a_pipe() {
    let env = TestEnv::new();
    let input = big_input(&env);
    let size = std::fs::metadata(&input).unwrap().len();

    let clone = env.init("on-terminal");
    let output = env
        .hf_relay_on_terminal()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&output);
    let drawn = stdout(&output);
    assert_progress_frames(&drawn, "Converting", size);
    assert!(drawn.contains("Committed"), "{drawn}");

    // The same build with stderr in a pipe: status lines only, no bar, no cursor movement.
    let clone = env.init("in-pipe");
    let output = run_build(&env, &clone, &[input.to_str().unwrap()]);
    assert_success(&output);
    let messages = stderr(&output);
    assert!(!messages.contains("Converting"), "{messages}");
    assert!(!messages.contains(['\r', '\x1b']), "{messages:?}");
    assert!(messages.contains("Committed"), "{messages}");
}

#[test]
fn ctrl_c_and_a_concurrent_build_leave_the_clone_as_it_was() {
    let env = TestEnv::new();
    let clone = env.init("interrupt");
    let input = big_input(&env);
    let before = env.snapshot(&clone);

    let child = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(&input)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Meanwhile a second process on the same clone fails at once, clearly.
    let second = run_build(&env, &clone, &[input.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another hf-relay process"),
        "{}",
        stderr(&second)
    );
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        env.snapshot(&clone),
        before,
        "the clone changed after Ctrl-C"
    );
}
