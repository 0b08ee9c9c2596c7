//! `hf-relay diff` at the level of rows: which rows were added, removed or changed, which
//! fields of a changed row, paired by key or by position; only the shards that differ are
//! read. And the same through `git diff` with the `textconv` driver.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::*;

const ROWS: usize = 600;

/// Row `i` of the test data: an `id` (unless `keyed` is false), prose, and a list of structs.
fn row(i: usize, keyed: bool) -> Value {
    let responses: Vec<Value> = (0..3)
        .map(|r| {
            json!({
                "agent": format!("agent-{r}"),
                "friction_moments": (i + r) % 5,
                "text": format!("Response {r} to question {i}: the premise holds, the estimate moves."),
            })
        })
        .collect();
    let mut row = json!({
        "id": format!("r{i:05}"),
        "question": format!("Question {i}: does the plan {} survive the counterexample?", i * 7919 % 1000),
        "agent_responses": responses,
        "score": (i % 10) as f64 / 2.0,
    });
    if !keyed {
        row.as_object_mut().unwrap().remove("id");
    }
    row
}

fn jsonl(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}

/// A clone with one build of `rows` in small shards; returns it and the input's path.
fn built(env: &TestEnv, rows: &[Value]) -> (PathBuf, PathBuf) {
    let clone = env.init("data");
    let input = env.write("rows.jsonl", jsonl(rows));
    rebuild(env, &clone, &input, rows);
    (clone, input)
}

fn rebuild(env: &TestEnv, clone: &Path, input: &Path, rows: &[Value]) {
    std::fs::write(input, jsonl(rows)).unwrap();
    let output = run_build(
        env,
        clone,
        &[input.to_str().unwrap(), "--max-shard-size", "40KB"],
    );
    assert_success(&output);
}

fn diff(env: &TestEnv, clone: &Path, args: &[&str]) -> String {
    let output = env
        .hf_relay()
        .arg("diff")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .output()
        .unwrap();
    assert_success(&output);
    stdout(&output)
}

fn diff_json(env: &TestEnv, clone: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&diff(env, clone, &args)).unwrap()
}

fn shard_count(clone: &Path) -> usize {
    std::fs::read_dir(clone.join("data")).unwrap().count()
}

/// The lines of the Data section after the split's line.
fn data_lines(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| *l != "Data:")
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn one_field_of_one_row_edited_names_the_row_its_key_and_the_field() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, true)).collect();
    let (clone, input) = built(&env, &rows);
    let shards = shard_count(&clone);
    assert!(shards >= 5, "{shards} shards");
    // What was last published: the first build.
    let published = env.git_out(&clone, &["rev-parse", "HEAD"]);
    env.git_out(
        &clone,
        &["update-ref", "refs/remotes/origin/main", published.trim()],
    );

    rows[321]["agent_responses"][2]["friction_moments"] = json!(9);
    rebuild(&env, &clone, &input, &rows);
    assert_eq!(shard_count(&clone), shards);

    // The default: the last published state → the working tree (HEAD, clean).
    let out = diff(&env, &clone, &[]);
    assert_eq!(
        data_lines(&out),
        [
            format!(
                "    1 row changed, 0 rows added, 0 removed — 2 of {} shard files read; rows paired by key id",
                2 * shards
            )
            .as_str(),
            "    ~ row 321 (id \"r00321\")",
            "        agent_responses[2].friction_moments: 3 → 9",
        ],
        "{out}"
    );

    let json = diff_json(&env, &clone, &["HEAD~1", "HEAD"]);
    let rows = &json["splits"][0]["row_diff"];
    assert_eq!(
        (&rows["changed"], &rows["added"], &rows["removed"]),
        (&json!(1), &json!(0), &json!(0))
    );
    assert_eq!(rows["shards_read"], 2, "unchanged shards are not read");
    assert_eq!(rows["shards_total"], 2 * shards);
    assert_eq!(
        rows["pairing"],
        json!({"by": "key", "column": "id", "given": false})
    );
    let listed = &rows["rows"][0];
    assert_eq!(listed["kind"], "changed");
    assert_eq!(
        (&listed["old_position"], &listed["new_position"]),
        (&json!(321), &json!(321))
    );
    assert_eq!(listed["key"]["value"], "r00321");
    assert_eq!(
        listed["fields"],
        json!([{
            "path": "agent_responses[2].friction_moments",
            "old": {"value": 3, "chars": 1, "truncated": false},
            "new": {"value": 9, "chars": 1, "truncated": false},
        }])
    );
}

#[test]
fn three_rows_inserted_are_added_and_nothing_changed() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, true)).collect();
    let (clone, input) = built(&env, &rows);
    for n in 0..3 {
        let mut new = row(10_000 + n, true);
        new["id"] = json!(format!("new-{n}"));
        rows.insert(100 + n, new);
    }
    rebuild(&env, &clone, &input, &rows);

    let out = diff(&env, &clone, &["HEAD~1", "HEAD"]);
    let lines = data_lines(&out);
    assert!(
        lines[0].starts_with("    0 rows changed, 3 rows added, 0 removed — "),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "{out}");
    for (n, line) in lines[1..].iter().enumerate() {
        let start = format!(
            "    + row {} (id \"new-{n}\"): {{\"id\":\"new-{n}\",",
            100 + n
        );
        assert!(
            line.starts_with(&start),
            "{line:?} does not start with {start:?}"
        );
    }
    let json = diff_json(&env, &clone, &["HEAD~1", "HEAD"]);
    let rows = &json["splits"][0]["row_diff"];
    assert_eq!(
        (&rows["changed"], &rows["added"], &rows["removed"]),
        (&json!(0), &json!(3), &json!(0))
    );
    assert_eq!(
        rows["rows"][0]["row"]["question"],
        row(10_000, true)["question"]
    );
}

#[test]
fn two_hundred_rows_deleted_are_removed_listed_up_to_the_cap() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, true)).collect();
    let (clone, input) = built(&env, &rows);
    rows.drain(200..400);
    rebuild(&env, &clone, &input, &rows);

    let out = diff(&env, &clone, &["HEAD~1", "HEAD"]);
    let lines = data_lines(&out);
    assert!(
        lines[0].starts_with("    0 rows changed, 0 rows added, 200 removed — "),
        "{out}"
    );
    // 20 rows by default, then how many more.
    assert_eq!(lines.len(), 22, "{out}");
    assert!(
        lines[1].starts_with("    - row 200 (id \"r00200\"): {\"id\":\"r00200\","),
        "{out}"
    );
    assert_eq!(lines[21], "    … and 180 more (--rows N lists more)");
    let out = diff(&env, &clone, &["HEAD~1", "HEAD", "--rows", "2"]);
    assert_eq!(data_lines(&out).len(), 4, "{out}");
    assert_eq!(
        data_lines(&out)[3],
        "    … and 198 more (--rows N lists more)"
    );

    // --stat: the counts only.
    let out = diff(&env, &clone, &["HEAD~1", "HEAD", "--stat"]);
    let train = out.lines().next().unwrap();
    assert!(
        train.ends_with("; 0 rows changed, 0 rows added, 200 removed"),
        "{out}"
    );
    assert!(!out.contains("r00200"), "{out}");

    let json = diff_json(&env, &clone, &["HEAD~1", "HEAD"]);
    let rows = &json["splits"][0]["row_diff"];
    assert_eq!(
        (&rows["changed"], &rows["added"], &rows["removed"]),
        (&json!(0), &json!(0), &json!(200))
    );
    assert_eq!(rows["rows"].as_array().unwrap().len(), 20);
    assert_eq!(rows["rows_not_listed"], 180);
}

#[test]
fn without_a_key_column_rows_pair_by_position_and_say_so() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, false)).collect();
    let (clone, input) = built(&env, &rows);
    rows[42]["question"] = json!("An edited question");
    rebuild(&env, &clone, &input, &rows);

    let out = diff(&env, &clone, &["HEAD~1", "HEAD"]);
    let lines = data_lines(&out);
    assert!(
        lines[0].starts_with("    1 row changed, 0 rows added, 0 removed — ")
            && lines[0].ends_with("; no key column: rows paired by position"),
        "{out}"
    );
    assert_eq!(
        lines[1..],
        [
            "    ~ row 42",
            &format!(
                "        question: {} → \"An edited question\"",
                row(42, false)["question"]
            ),
        ],
        "{out}"
    );
    let json = diff_json(&env, &clone, &["HEAD~1", "HEAD"]);
    assert_eq!(
        json["splits"][0]["row_diff"]["pairing"],
        json!({"by": "position"})
    );

    // A column named with --key pairs by it; one that does not exist is an error naming it.
    let out = diff(&env, &clone, &["HEAD~1", "HEAD", "--key", "score"]);
    assert!(out.contains("rows paired by key score"), "{out}");
    let output = env
        .hf_relay()
        .args(["diff", "HEAD~1", "HEAD", "--key", "uid", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_failure(&output, "--key uid: the data has no such column");
}

#[test]
fn shards_that_differ_in_bytes_only_and_a_new_column_are_said_in_one_line() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, true)).collect();
    let (clone, input) = built(&env, &rows);

    // Another codec: every shard differs, no row does.
    let output = run_build(
        &env,
        &clone,
        &[
            input.to_str().unwrap(),
            "--max-shard-size",
            "40KB",
            "--compression",
            "zstd",
        ],
    );
    assert_success(&output);
    let out = diff(&env, &clone, &["HEAD~1", "HEAD"]);
    let lines = data_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("    rows: the same, only the shards' encoding differs — "),
        "{out}"
    );
    assert_eq!(
        diff_json(&env, &clone, &["HEAD~1", "HEAD"])["splits"][0]["row_diff"]["same_rows"],
        true
    );

    // A new column: every row differs in form, nothing is listed.
    let before = shard_count(&clone);
    for (i, row) in rows.iter_mut().enumerate() {
        row["lang"] = json!(if i % 2 == 0 { "en" } else { "fr" });
    }
    rebuild(&env, &clone, &input, &rows);
    let out = diff(&env, &clone, &["HEAD~1", "HEAD"]);
    let shards = before + shard_count(&clone);
    assert_eq!(
        data_lines(&out),
        [format!(
            "    rows not listed: the schema changed, so every row of the changed shards differs \
             (600 added, 600 removed; 0 of {shards} shard files read)",
        )],
        "{out}"
    );
}

#[test]
fn git_diff_with_the_textconv_driver_shows_the_changed_row() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, true)).collect();
    let (clone, input) = built(&env, &rows);
    rows[321]["question"] = json!("An edited question");
    rebuild(&env, &clone, &input, &rows);

    // The documented setup: a local config line and a line in .git/info/attributes.
    let textconv = format!("{} textconv", env!("CARGO_BIN_EXE_hf-relay"));
    env.git_out(&clone, &["config", "diff.parquet.textconv", &textconv]);
    std::fs::write(
        clone.join(".git/info/attributes"),
        "*.parquet diff=parquet\n",
    )
    .unwrap();

    let out = env.git_out(&clone, &["diff", "HEAD~1", "HEAD", "--", "data/"]);
    let changed: Vec<&str> = out
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    let old = format!("-{}", row(321, true));
    let mut new_row = row(321, true);
    new_row["question"] = json!("An edited question");
    let new = format!("+{new_row}");
    assert_eq!(changed, [old.as_str(), new.as_str()], "{out}");
    // git log -p shows it too.
    let out = env.git_out(&clone, &["log", "-p", "-1", "--", "data/"]);
    assert!(out.contains(&new), "{out}");
}

#[test]
fn a_shard_whose_object_is_missing_leaves_its_rows_uncompared_and_the_diff_goes_on() {
    let env = TestEnv::new();
    let mut rows: Vec<Value> = (0..ROWS).map(|i| row(i, true)).collect();
    let (clone, input) = built(&env, &rows);
    rows[321]["question"] = json!("An edited question");
    rebuild(&env, &clone, &input, &rows);
    // The old version of the changed shard, as a clone that never fetched it would lack it.
    let changed = env.git_out(
        &clone,
        &["diff", "--name-only", "HEAD~1", "HEAD", "--", "data/"],
    );
    let path = changed.trim();
    let pointer = env.git_out(&clone, &["cat-file", "-p", &format!("HEAD~1:{path}")]);
    let oid = pointer
        .lines()
        .find_map(|l| l.strip_prefix("oid sha256:"))
        .unwrap();
    std::fs::remove_file(
        clone
            .join(".git/lfs/objects")
            .join(&oid[..2])
            .join(&oid[2..4])
            .join(oid),
    )
    .unwrap();

    let out = diff(&env, &clone, &["HEAD~1", "HEAD"]);
    let lines = data_lines(&out);
    assert_eq!(
        lines[0],
        format!(
            "    rows not compared: {path}: its LFS object {oid} is not in {}",
            clone.join(".git/lfs/objects").display()
        ),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!("    changed {path} (")),
        "{out}"
    );
}
