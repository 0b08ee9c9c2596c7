//! `hf-relay log` with each commit's row delta per split (`train 600 (+3 -0 ~1)`): the build
//! compares every row's hash with those it recorded at the last build and writes the counts
//! into the commit message (`Rows: train +3 -0 ~1, test +0 -0 ~0`), so the delta travels with
//! the history; `log` only reads messages. When the delta is not known (first build, the
//! recorded hashes gone or damaged, a build that changes only the card), the message and the
//! log say nothing of it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

const TRAIN_ROWS: usize = 600;
const TEST_ROWS: usize = 200;

/// Row `i` of the test data.
fn row(i: usize) -> Value {
    json!({
        "id": format!("r{i:05}"),
        "question": format!("Question {i}: does the plan {} survive the counterexample?", i * 7919 % 1000),
        "answers": [format!("first answer to {i}"), format!("second answer to {i}")],
        "score": (i % 10) as f64 / 2.0,
    })
}

fn rows(range: std::ops::Range<usize>) -> Vec<Value> {
    range.map(row).collect()
}

/// A train and a test split, built into small shards, in a clone made with `init`.
struct Dataset {
    clone: PathBuf,
    train: PathBuf,
    test: PathBuf,
}

impl Dataset {
    fn new(env: &TestEnv, clone: PathBuf) -> Dataset {
        Dataset {
            clone,
            train: env.path().join("train.jsonl"),
            test: env.path().join("test.jsonl"),
        }
    }

    /// Writes both inputs and builds them; returns the build's stderr.
    fn build(&self, env: &TestEnv, train: &[Value], test: &[Value], extra: &[&str]) -> String {
        std::fs::write(&self.train, jsonl(train)).unwrap();
        std::fs::write(&self.test, jsonl(test)).unwrap();
        let split = format!("test={}", self.test.display());
        let mut args = vec![
            self.train.to_str().unwrap(),
            "--split",
            &split,
            "--max-shard-size",
            "40KB",
        ];
        args.extend(extra);
        let output = run_build(env, &self.clone, &args);
        assert_success(&output);
        stderr(&output)
    }
}

fn jsonl(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}

/// The `Rows:` line of HEAD's commit message, if any.
fn rows_line(env: &TestEnv, clone: &Path) -> Option<String> {
    env.git_out(clone, &["log", "-1", "--format=%B"])
        .lines()
        .find(|l| l.starts_with("Rows:"))
        .map(String::from)
}

/// `hf-relay log ARGS` in `clone`, which must succeed with nothing on stderr.
fn log(env: &TestEnv, clone: &Path, args: &[&str]) -> String {
    let output = env
        .hf_relay()
        .arg("log")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(stderr(&output), "");
    stdout(&output)
}

/// What `log --oneline` says of the dataset at the newest commit (after the `—`).
fn newest_summary(env: &TestEnv, clone: &Path) -> String {
    let out = log(env, clone, &["--oneline"]);
    let first = out.lines().next().unwrap();
    first.split_once(" — ").unwrap().1.to_string()
}

#[test]
fn an_edit_an_insertion_and_a_deletion_are_counted_per_split() {
    let env = TestEnv::new();
    let data = Dataset::new(&env, env.init("data"));
    let mut train = rows(0..TRAIN_ROWS);
    let mut test = rows(10_000..10_000 + TEST_ROWS);
    data.build(&env, &train, &test, &[]);
    let shards = std::fs::read_dir(data.clone.join("data")).unwrap().count();
    assert!(shards >= 6, "{shards} shards");
    // The first build: nothing to compare with, nothing said.
    assert_eq!(rows_line(&env, &data.clone), None);
    assert_eq!(newest_summary(&env, &data.clone), "train 600 · test 200");

    // One field of one row.
    train[321]["answers"][1] = json!("an edited answer");
    let status = data.build(&env, &train, &test, &[]);
    assert!(
        status.contains("unchanged, taken from the last build"),
        "{status}"
    );
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: train +0 -0 ~1, test +0 -0 ~0")
    );
    assert_eq!(
        newest_summary(&env, &data.clone),
        "train 600 (+0 -0 ~1) · test 200 (+0 -0 ~0)"
    );

    // Three rows inserted in train, two appended to test.
    train.splice(100..100, rows(50_000..50_003));
    test.extend(rows(60_000..60_002));
    data.build(&env, &train, &test, &[]);
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: train +3 -0 ~0, test +2 -0 ~0")
    );

    // 200 rows deleted.
    train.drain(200..400);
    data.build(&env, &train, &test, &[]);
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: train +0 -200 ~0, test +0 -0 ~0")
    );
    assert_eq!(
        newest_summary(&env, &data.clone),
        "train 403 (+0 -200 ~0) · test 202 (+0 -0 ~0)"
    );

    // A build that changes only the card says nothing of rows.
    let status = data.build(&env, &train, &test, &["--license", "mit"]);
    assert!(status.contains("Committed"), "{status}");
    assert_eq!(rows_line(&env, &data.clone), None);
    assert_eq!(newest_summary(&env, &data.clone), "train 403 · test 202");

    // `log --json` carries the counts per split, newest first; none where none is known.
    let entries: Value = serde_json::from_str(&log(&env, &data.clone, &["--json"])).unwrap();
    let deltas: Vec<Vec<Value>> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            entry["splits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|split| json!([split["split"], split["rows_delta"]]))
                .collect()
        })
        .collect();
    let counts = |added: u64, removed: u64, changed: u64| json!({"added": added, "removed": removed, "changed": changed});
    assert_eq!(
        deltas,
        vec![
            vec![json!(["train", null]), json!(["test", null])],
            vec![
                json!(["train", counts(0, 200, 0)]),
                json!(["test", counts(0, 0, 0)])
            ],
            vec![
                json!(["train", counts(3, 0, 0)]),
                json!(["test", counts(2, 0, 0)])
            ],
            vec![
                json!(["train", counts(0, 0, 1)]),
                json!(["test", counts(0, 0, 0)])
            ],
            vec![json!(["train", null]), json!(["test", null])],
            vec![],
        ]
    );
}

#[test]
fn without_the_recorded_row_hashes_a_build_says_no_delta_and_the_next_one_does_again() {
    let env = TestEnv::new();
    let data = Dataset::new(&env, env.init("data"));
    let mut train = rows(0..TRAIN_ROWS);
    let test = rows(10_000..10_000 + TEST_ROWS);
    data.build(&env, &train, &test, &[]);
    let recorded = data.clone.join(".git/hf-relay/row-hashes/default");
    assert!(recorded.join("train.bin").is_file());

    // Gone: the build succeeds and says nothing of rows; so does log.
    std::fs::remove_dir_all(data.clone.join(".git/hf-relay/row-hashes")).unwrap();
    train[10]["score"] = json!(9.5);
    let status = data.build(&env, &train, &test, &[]);
    assert!(!status.contains("Warning"), "{status}");
    assert_eq!(rows_line(&env, &data.clone), None);
    assert_eq!(newest_summary(&env, &data.clone), "train 600 · test 200");

    // Recorded again by that build (its unchanged start included, not decoded): known again.
    train[500]["score"] = json!(9.5);
    data.build(&env, &train, &test, &[]);
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: train +0 -0 ~1, test +0 -0 ~0")
    );

    // Damaged (cut short) for one split: that split's delta is not known, the other's is.
    let file = recorded.join("train.bin");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 5]).unwrap();
    train[20]["score"] = json!(9.5);
    data.build(&env, &train, &test, &[]);
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: test +0 -0 ~0")
    );
    assert_eq!(
        newest_summary(&env, &data.clone),
        "train 600 · test 200 (+0 -0 ~0)"
    );

    // Recorded for other shards than HEAD's (the history was moved under it): not used for
    // train; test's shards are the same in both, so its rows are known.
    env.git_out(&data.clone, &["reset", "--hard", "HEAD~2"]);
    train[30]["score"] = json!(9.5);
    data.build(&env, &train, &test, &[]);
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: test +0 -0 ~0")
    );
}

/// `rows` as Python's `json.dumps` writes them: the same values in other text.
fn spaced_jsonl(rows: &[Value]) -> String {
    jsonl(rows).replace("\":", "\": ").replace(",\"", ", \"")
}

#[test]
fn rows_are_compared_by_value_not_by_the_text_of_their_lines() {
    let env = TestEnv::new();
    let data = Dataset::new(&env, env.init("data"));
    let mut train = rows(0..TRAIN_ROWS);
    let test = rows(10_000..10_000 + TEST_ROWS);
    data.build(&env, &train, &test, &[]);

    // The same file written again by another tool (`json.dumps` spacing), with one field of
    // one row edited: every line differs, one row does — as `diff` counts it.
    train[321]["score"] = json!(7.5);
    std::fs::write(&data.train, spaced_jsonl(&train)).unwrap();
    std::fs::write(&data.test, spaced_jsonl(&test)).unwrap();
    let split = format!("test={}", data.test.display());
    let args = [
        data.train.to_str().unwrap(),
        "--split",
        &split,
        "--max-shard-size",
        "40KB",
    ];
    assert_success(&run_build(&env, &data.clone, &args));
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: train +0 -0 ~1, test +0 -0 ~0")
    );
    let output = env
        .hf_relay()
        .args(["diff", "--dir"])
        .arg(&data.clone)
        .args(["HEAD~1", "HEAD", "--stat"])
        .output()
        .unwrap();
    assert_success(&output);
    let diff = stdout(&output);
    assert!(
        diff.contains("; 1 row changed, 0 rows added, 0 removed\n"),
        "{diff}"
    );
    assert!(
        diff.contains("rows: the same, only the shards' encoding differs"),
        "{diff}"
    );

    // Written back in the compact text, with another field edited: again every line
    // differs, and one row does.
    train[10]["score"] = json!(8.5);
    data.build(&env, &train, &test, &[]);
    assert_eq!(
        rows_line(&env, &data.clone).as_deref(),
        Some("Rows: train +0 -0 ~1, test +0 -0 ~0")
    );
}

/// `log --oneline` with what changes from run to run masked: commit ids (`[ID]`) and the date
/// of the Hub's first commit (`[TODAY]`; hf-relay's commits have the sealed fixed date).
fn masked_oneline(env: &TestEnv, clone: &Path) -> String {
    log(env, clone, &["--oneline"])
        .lines()
        .map(|line| {
            let (_, rest) = line.split_once(' ').unwrap();
            let (date, rest) = rest.split_once(' ').unwrap();
            let date = if date == "2025-11-24" {
                date
            } else {
                "[TODAY]"
            };
            // The Hub's commit, named in the merge's subject.
            let rest = match rest.split_once("main (") {
                Some((before, after)) => {
                    format!("{before}main ([ID]{}", &after[after.find(')').unwrap()..])
                }
                None => rest.to_string(),
            };
            format!("[ID] {date} {rest}\n")
        })
        .collect()
}

#[test]
fn the_delta_travels_with_the_history_to_a_fresh_clone() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let output = env
        .hf_relay()
        .args(["init", "alice/rows", "--endpoint", &hub.url])
        .output()
        .unwrap();
    assert_success(&output);
    let data = Dataset::new(&env, env.path().join("rows"));
    let mut train = rows(0..TRAIN_ROWS);
    let test = rows(10_000..10_000 + TEST_ROWS);
    data.build(&env, &train, &test, &[]);
    train[321]["answers"][1] = json!("an edited answer");
    train.extend(rows(50_000..50_003));
    data.build(&env, &train, &test, &[]);
    let push = env
        .hf_relay()
        .args(["push", "--dir"])
        .arg(&data.clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&push);

    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let output = env
        .hf_relay()
        .current_dir(&elsewhere)
        .args(["clone", "alice/rows", "--endpoint", &hub.url])
        .output()
        .unwrap();
    assert_success(&output);
    let fresh = elsewhere.join("rows");
    assert!(!fresh.join(".git/hf-relay/row-hashes").exists());
    let log = masked_oneline(&env, &fresh);
    assert_eq!(log, masked_oneline(&env, &data.clone));
    insta::assert_snapshot!("log_oneline_with_row_deltas", log);
}

/// Writes `rows.parquet` with pyarrow: ids 0..n, the row `edited` with another text.
fn parquet_rows(env: &TestEnv, n: usize, edited: Option<usize>) -> PathBuf {
    let script = format!(
        r#"
import pyarrow as pa, pyarrow.parquet as pq
n, edited = {n}, {edited}
ids = list(range(n))
text = [("edited" if i == edited else "text") + f" of row {{i}}" for i in ids]
pq.write_table(pa.table({{"id": ids, "text": text}}), "rows.parquet")
"#,
        edited = edited.map_or("None".to_string(), |e| e.to_string())
    );
    run_python(env, &script);
    env.path().join("rows.parquet")
}

#[test]
fn parquet_inputs_have_a_delta_when_rewritten_and_none_when_published_as_they_are() {
    let env = TestEnv::new();
    let clone = env.init("data");
    let build = |args: &[&str]| {
        let input = env.path().join("rows.parquet");
        let mut all = vec![input.to_str().unwrap()];
        all.extend(args);
        assert_success(&run_build(&env, &clone, &all));
    };
    // Published as they are: the rows are never read, so no delta is known.
    parquet_rows(&env, 300, None);
    build(&[]);
    parquet_rows(&env, 303, Some(7));
    build(&[]);
    assert_eq!(rows_line(&env, &clone), None);
    assert_eq!(newest_summary(&env, &clone), "train 303");
    // Rewritten: every row is read and hashed (as `diff` hashes Parquet rows).
    parquet_rows(&env, 303, None);
    build(&["--rewrite"]);
    assert_eq!(rows_line(&env, &clone), None);
    parquet_rows(&env, 310, Some(7));
    build(&["--rewrite"]);
    assert_eq!(
        rows_line(&env, &clone).as_deref(),
        Some("Rows: train +7 -0 ~1")
    );
}

#[test]
fn a_named_config_names_its_splits_config_slash_split() {
    let env = TestEnv::new();
    let clone = env.init("data");
    let input = env.path().join("en.jsonl");
    let build = |rows: &[Value]| {
        std::fs::write(&input, jsonl(rows)).unwrap();
        let args = [
            input.to_str().unwrap(),
            "--config",
            "en",
            "--max-shard-size",
            "40KB",
        ];
        assert_success(&run_build(&env, &clone, &args));
    };
    let mut en = rows(0..TRAIN_ROWS);
    build(&en);
    en[5]["question"] = json!("an edited question");
    build(&en);
    assert_eq!(
        rows_line(&env, &clone).as_deref(),
        Some("Rows: en/train +0 -0 ~1")
    );
    assert_eq!(newest_summary(&env, &clone), "en/train 600 (+0 -0 ~1)");
}
