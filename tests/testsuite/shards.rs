//! Content-defined shard boundaries and stable shard names (issue 13): an edit anywhere in the
//! input gives new bytes to the shard it falls in (and at most one neighbour); every other
//! shard keeps its name and its LFS object, and `datasets` still reads the rows in input order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::*;
use serde_json::Value;

/// Small shards, so that a few hundred kB of input make dozens of them.
const MAX_SHARD: &str = "64KB";

/// `n` deterministic rows of 200–900 bytes: `{"id", "text", "score"}`.
fn rows(n: usize, seed: u64) -> Vec<String> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let words = [
        "shard", "row", "boundary", "hub", "parquet", "edit", "git", "lfs",
    ];
    (0..n)
        .map(|i| {
            let len = 200 + (next() % 700) as usize;
            let mut text = String::new();
            while text.len() < len {
                text.push_str(words[(next() % words.len() as u64) as usize]);
                text.push(' ');
            }
            let score = (next() % 1000) as f64 / 8.0;
            format!(r#"{{"id": {i}, "seed": {seed}, "text": "{text}", "score": {score}}}"#)
        })
        .collect()
}

fn write_input(env: &TestEnv, lines: &[String]) -> PathBuf {
    env.write("input.jsonl", lines.join("\n") + "\n")
}

fn build(env: &TestEnv, clone: &Path, input: &Path) -> Value {
    let output = env
        .hf_relay()
        .args(["build", "--json", "--max-shard-size", MAX_SHARD, "--dir"])
        .arg(clone)
        .arg(input)
        .output()
        .unwrap();
    assert_success(&output);
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// The object ids of `after` that `before` lacks: what `push` would upload.
fn new_objects(before: &[(String, String)], after: &[(String, String)]) -> Vec<String> {
    let old: BTreeSet<&String> = before.iter().map(|(_, oid)| oid).collect();
    after
        .iter()
        .filter(|(_, oid)| !old.contains(oid))
        .map(|(path, _)| path.clone())
        .collect()
}

/// Every shard whose bytes did not change kept its name.
fn assert_unchanged_keep_names(before: &[(String, String)], after: &[(String, String)]) {
    for (path, oid) in after {
        if let Some((old_path, _)) = before.iter().find(|(_, o)| o == oid) {
            assert_eq!(path, old_path, "unchanged bytes ({oid}) were renamed");
        }
    }
}

fn base(env: &TestEnv) -> (PathBuf, Vec<String>) {
    let clone = env.init("ds");
    let lines = rows(1500, 1);
    let result = build(env, &clone, &write_input(env, &lines));
    let count = result["splits"][0]["shards"].as_array().unwrap().len();
    assert!(count >= 10, "only {count} shards");
    (clone, lines)
}

#[test]
fn each_single_edit_gives_new_bytes_to_at_most_two_shards_and_reads_back_exactly() {
    let env = TestEnv::new();
    let (clone, mut lines) = base(&env);
    let n = lines.len();
    type Edit = Box<dyn Fn(&mut Vec<String>)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("delete at 10%", Box::new(move |l| drop(l.remove(n / 10)))),
        ("delete at 50%", Box::new(move |l| drop(l.remove(n / 2)))),
        (
            "delete at 90%",
            Box::new(move |l| drop(l.remove(n * 9 / 10))),
        ),
        (
            "insert in the middle",
            Box::new(move |l| l.insert(n / 2, rows(1, 99).remove(0))),
        ),
        (
            "edit a field in the middle",
            Box::new(move |l| l[n / 3] = l[n / 3].replace("\"score\": ", "\"score\": 1")),
        ),
    ];
    for (what, edit) in edits {
        let before = head_shards(&env, &clone);
        edit(&mut lines);
        let input = write_input(&env, &lines);
        let result = build(&env, &clone, &input);
        assert_eq!(result["committed"], true, "{what}");
        assert_eq!(result["splits"][0]["num_examples"], lines.len(), "{what}");
        let after = head_shards(&env, &clone);
        let uploaded = new_objects(&before, &after);
        assert!(
            !uploaded.is_empty() && uploaded.len() <= 2,
            "{what}: new bytes in {uploaded:?} of {} shards",
            after.len()
        );
        let gone = new_objects(&after, &before);
        assert!(gone.len() <= 2, "{what}: {gone:?} replaced");
        assert_unchanged_keep_names(&before, &after);
        check_with_python(&clone, &[("train", vec![input])]);
    }
}

#[test]
fn appending_changes_only_the_last_shard_and_adds_new_ones() {
    let env = TestEnv::new();
    let (clone, mut lines) = base(&env);
    let before = head_shards(&env, &clone);
    lines.extend(rows(300, 2));
    let input = write_input(&env, &lines);
    build(&env, &clone, &input);
    let after = head_shards(&env, &clone);
    assert!(after.len() > before.len());
    let (last, kept) = before.split_last().unwrap();
    assert_eq!(
        &after[..kept.len()],
        kept,
        "a shard before the last changed"
    );
    assert_eq!(after[kept.len()].0, last.0, "the last shard was renamed");
    assert!(
        after[kept.len() + 1..]
            .iter()
            .all(|(path, _)| path > &last.0),
        "new shards sort after the last one"
    );
    check_with_python(&clone, &[("train", vec![input])]);
}

/// A batch inserted in the middle makes new boundaries: the new shards get names that sort
/// between their neighbours, and `datasets` reads every row in input order.
#[test]
fn shards_inserted_between_others_get_names_that_keep_the_input_order() {
    let env = TestEnv::new();
    let (clone, mut lines) = base(&env);
    let before = head_shards(&env, &clone);
    let middle = lines.len() / 2;
    lines.splice(middle..middle, rows(400, 3));
    let input = write_input(&env, &lines);
    build(&env, &clone, &input);
    let after = head_shards(&env, &clone);
    assert_unchanged_keep_names(&before, &after);
    let between: Vec<&String> = after
        .iter()
        .map(|(path, _)| path)
        .filter(|path| path.len() > "data/train-00000.parquet".len())
        .collect();
    assert!(!between.is_empty(), "no name between two others: {after:?}");
    let kept = after.len() - new_objects(&before, &after).len();
    assert!(kept >= before.len() - 2, "{kept} of {} kept", before.len());
    check_with_python(&clone, &[("train", vec![input])]);
}

#[test]
fn diff_and_log_report_the_rows_and_the_shards_an_edit_changed() {
    let env = TestEnv::new();
    let (clone, mut lines) = base(&env);
    let before = head_shards(&env, &clone);
    lines.remove(lines.len() / 2);
    let input = write_input(&env, &lines);
    build(&env, &clone, &input);
    let after = head_shards(&env, &clone);
    let changed = new_objects(&before, &after);
    assert_eq!(changed.len(), 1, "{changed:?}");

    let output = env
        .hf_relay()
        .args(["diff", "HEAD~1", "HEAD", "--stat", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    let stat = stdout(&output);
    assert!(
        stat.contains("1,500 → 1,499 rows (-1)") && stat.contains("(shards: 1 changed)"),
        "{stat}"
    );
    let output = env
        .hf_relay()
        .args(["diff", "HEAD~1", "HEAD", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    let full = stdout(&output);
    assert!(
        full.contains("0 rows changed, 0 rows added, 1 removed — 2 of "),
        "{full}"
    );

    let output = env
        .hf_relay()
        .args(["log", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_success(&output);
    let log = stdout(&output);
    assert!(log.contains("1,499 rows (-1)"), "{log}");
    assert!(log.contains(&format!("changed {}", changed[0])), "{log}");
}

/// A rebuild after an edit takes the unchanged shards from the last build instead of encoding
/// them (`reused` in `build --json`), and its shards are exactly what a build from scratch of
/// the same input writes.
#[test]
fn unchanged_shards_are_reused_and_equal_a_fresh_build() {
    let env = TestEnv::new();
    let (clone, mut lines) = base(&env);
    let before = head_shards(&env, &clone);
    lines.remove(lines.len() / 3);
    lines.extend(rows(50, 4));
    let input = write_input(&env, &lines);
    let result = build(&env, &clone, &input);
    let summaries = result["splits"][0]["shards"].as_array().unwrap();
    let after = head_shards(&env, &clone);
    let old: BTreeSet<&String> = before.iter().map(|(_, oid)| oid).collect();
    let mut reused = 0;
    for (summary, (path, oid)) in summaries.iter().zip(&after) {
        assert_eq!(summary["path"], *path);
        let expected = old.contains(oid);
        assert_eq!(summary["reused"], expected, "{path}: {summary}");
        reused += usize::from(expected);
    }
    assert!(
        reused + 3 >= before.len(),
        "{reused} of {} reused",
        before.len()
    );

    let fresh = env.init("fresh");
    build(&env, &fresh, &input);
    let oids = |shards: &[(String, String)]| -> Vec<String> {
        shards.iter().map(|(_, oid)| oid.clone()).collect()
    };
    assert_eq!(oids(&head_shards(&env, &fresh)), oids(&after));
    check_with_python(&clone, &[("train", vec![input])]);
}

/// Content-defined data pages (issue 13, item 3): shards carry the chunking options
/// `datasets` writes with, and values of any size read back exactly — parquet-rs 60.1 writes
/// an empty data page where a chunk boundary falls before the first value of a row group
/// (apache/arrow-rs#10929), which pyarrow reads as a column with no rows; such a shard is
/// written again without chunking.
#[test]
fn values_over_a_mebibyte_read_back_exactly_with_content_defined_pages() {
    let env = TestEnv::new();
    let clone = env.init("ds");
    let mut lines = rows(300, 3);
    // Rows of 1.3 MB each start a shard of their own (more than --max-shard-size), so a fresh
    // column writer's first value is over the chunker's 1 MiB maximum: the case that writes
    // an empty page.
    for (i, at) in [40usize, 41, 150, 299].into_iter().enumerate() {
        let big: String = (0..1_300_000)
            .map(|j| (b'a' + ((j * 7 + i) % 26) as u8) as char)
            .collect();
        lines.insert(
            at,
            format!(
                r#"{{"id": {}, "seed": 0, "text": "{big}", "score": 0.5}}"#,
                10_000 + i
            ),
        );
    }
    let input = write_input(&env, &lines);
    build(&env, &clone, &input);
    check_with_python(&clone, &[("train", vec![input.clone()])]);

    // Every shard says how its pages were cut, as `datasets` does, unless it had to be
    // written without chunking; and the ones with big first values are among the latter.
    let script = r#"
import glob, json, sys
import pyarrow.parquet as pq
out = []
for path in sorted(glob.glob(sys.argv[1] + "/data/*.parquet")):
    meta = pq.ParquetFile(path).metadata
    kv = meta.metadata or {}
    first = pq.read_table(path, columns=["id"]).column("id")[0].as_py()
    out.append([first, kv.get(b"content_defined_chunking", b"").decode()])
print(json.dumps(out))
"#;
    let output = python().args(["-c", script]).arg(&clone).output().unwrap();
    assert_success(&output);
    let pages: Vec<(u64, String)> = serde_json::from_str(&stdout(&output)).unwrap();
    let datasets_options =
        r#"{"min_chunk_size": 262144, "max_chunk_size": 1048576, "norm_level": 0}"#;
    let chunked = pages
        .iter()
        .filter(|(_, kv)| kv == datasets_options)
        .count();
    assert!(
        chunked >= pages.len() / 2,
        "most shards have content-defined pages: {pages:?}"
    );
    for (first, kv) in &pages {
        assert!(kv.is_empty() || kv == datasets_options, "{kv}");
        if *first >= 10_000 {
            assert!(kv.is_empty(), "shard starting with big row {first}: {kv}");
        }
    }

    // The same input gives the same bytes.
    let again = env.init("again");
    build(&env, &again, &input);
    assert_eq!(head_shards(&env, &clone), head_shards(&env, &again));
}

/// The clone holds exactly the shards and the trailers of a build from scratch of `input`,
/// and its trailer names the input's real SHA-256.
fn assert_as_from_scratch(env: &TestEnv, clone: &Path, input: &Path, fresh_name: &str) {
    let fresh = env.init(fresh_name);
    build(env, &fresh, input);
    let oids = |shards: Vec<(String, String)>| -> Vec<String> {
        shards.into_iter().map(|(_, oid)| oid).collect()
    };
    assert_eq!(
        oids(head_shards(env, clone)),
        oids(head_shards(env, &fresh))
    );
    let trailers = trailers(env, clone);
    assert_eq!(trailers, self::trailers(env, &fresh));
    let digest = sha256_hex(&std::fs::read(input).unwrap());
    assert!(
        trailers
            .iter()
            .any(|t| t.ends_with(&format!("sha256:{digest}"))),
        "{trailers:?} lacks {digest}"
    );
}

/// The number of leading shards `build --json` says were taken without decoding their rows.
fn skipped(result: &Value) -> usize {
    result["splits"][0]["skipped_shards"].as_u64().unwrap() as usize
}

/// After rows are appended, the unchanged start of the input is not even decoded: every shard
/// but the last is taken as it was (`skipped_shards` in `build --json`, and said on stderr),
/// and the result is byte for byte a build from scratch, trailer included.
#[test]
fn appending_skips_the_unchanged_shards_without_decoding_and_equals_a_fresh_build() {
    let env = TestEnv::new();
    let (clone, mut lines) = base(&env);
    let before = head_shards(&env, &clone);
    let first_stamps = stamps(&clone.join(&before[0].0));
    lines.extend(rows(300, 2));
    let input = write_input(&env, &lines);
    let output = env
        .hf_relay()
        .args(["build", "--max-shard-size", MAX_SHARD, "--dir"])
        .arg(&clone)
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&output);
    let said = format!("the first {} unchanged", before.len() - 1);
    assert!(stderr(&output).contains(&said), "{}", stderr(&output));
    // The shards taken were not touched (git's index and the cache of verified LFS objects
    // go by these stamps).
    assert_eq!(stamps(&clone.join(&before[0].0)), first_stamps);
    assert_as_from_scratch(&env, &clone, &input, "fresh");

    // Once more, in JSON: the shards taken are exactly the leading ones whose bytes stay.
    lines.extend(rows(40, 3));
    let input = write_input(&env, &lines);
    let before = head_shards(&env, &clone);
    let result = build(&env, &clone, &input);
    let after = head_shards(&env, &clone);
    let skipped = skipped(&result);
    assert_eq!(skipped, before.len() - 1);
    assert_eq!(&after[..skipped], &before[..skipped]);
    let summaries = result["splits"][0]["shards"].as_array().unwrap();
    assert!(summaries[..skipped].iter().all(|s| s["reused"] == true));
    assert_as_from_scratch(&env, &clone, &input, "fresh2");
    check_with_python(&clone, &[("train", vec![input])]);
}

/// A change inside the start of the input is found although the lines before it are only
/// hashed: one byte changed in a row (same size), and a line added at the very start.
#[test]
fn edits_in_the_unchanged_start_are_found_and_rebuilt() {
    let env = TestEnv::new();
    let (clone, lines) = base(&env);
    let before = head_shards(&env, &clone);

    let mut edited = lines.clone();
    let at = lines.len() / 3;
    edited[at] = edited[at].replacen("shard", "shard".to_uppercase().as_str(), 1);
    assert_ne!(edited[at], lines[at]);
    assert_eq!(edited[at].len(), lines[at].len());
    let input = write_input(&env, &edited);
    let result = build(&env, &clone, &input);
    let after = head_shards(&env, &clone);
    let changed = new_objects(&before, &after);
    assert_eq!(changed.len(), 1, "{changed:?}");
    let position = after.iter().position(|(path, _)| *path == changed[0]);
    let position = position.unwrap();
    assert_eq!(
        skipped(&result),
        position,
        "the shards before the edit are skipped"
    );
    assert_as_from_scratch(&env, &clone, &input, "fresh-edit");

    let mut first = vec![rows(1, 9).remove(0)];
    first.extend(edited);
    let input = write_input(&env, &first);
    let result = build(&env, &clone, &input);
    assert_eq!(skipped(&result), 0);
    assert_as_from_scratch(&env, &clone, &input, "fresh-first");
}

/// A compressed input is compared after decoding (its compressed bytes change at the end when
/// rows are appended), and its trailer is the SHA-256 of the compressed file.
#[test]
fn an_appended_compressed_input_skips_its_unchanged_shards_too() {
    use std::io::Write;
    let env = TestEnv::new();
    let gzip = |lines: &[String]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all((lines.join("\n") + "\n").as_bytes())
            .unwrap();
        env.write("input.jsonl.gz", encoder.finish().unwrap())
    };
    let clone = env.init("ds");
    let mut lines = rows(1500, 1);
    let result = build(&env, &clone, &gzip(&lines));
    let count = result["splits"][0]["shards"].as_array().unwrap().len();
    lines.extend(rows(300, 2));
    let input = gzip(&lines);
    let result = build(&env, &clone, &input);
    assert_eq!(skipped(&result), count - 1);
    assert_as_from_scratch(&env, &clone, &input, "fresh");
}

/// What `push` sends after an edit, read from the test Hub: only the shards with new bytes
/// travel (issue 13: "push uploads at most 2 shards' worth of LFS bytes").
#[test]
fn push_after_an_edit_uploads_only_the_shards_with_new_bytes() {
    use hf_relay_test_support::{TestHub, WRITE_TOKEN};
    let env = TestEnv::new();
    let hub = TestHub::start();
    let clone = env.init_on(&hub.url, "edits");
    let mut lines = rows(1500, 1);
    let result = build(&env, &clone, &write_input(&env, &lines));
    let count = result["splits"][0]["shards"].as_array().unwrap().len();
    assert!(count >= 10, "only {count} shards");
    let push = || {
        let output = env
            .hf_relay()
            .args(["push", "--dir"])
            .arg(&clone)
            .env("HF_TOKEN", WRITE_TOKEN)
            .output()
            .unwrap();
        assert_success(&output);
    };
    push();
    let log = || std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
    let stored = || -> std::collections::BTreeMap<String, u64> {
        std::fs::read_dir(hub.lfs_dir("alice", "edits"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, e.metadata().unwrap().len())
            })
            .collect()
    };
    let before = stored();
    assert_eq!(before.len(), count, "the first push uploads every shard");
    let log_before = log().len();

    lines.remove(lines.len() / 2);
    let input = write_input(&env, &lines);
    build(&env, &clone, &input);
    push();

    let after = stored();
    let uploads: Vec<String> = log()[log_before..]
        .lines()
        .filter(|l| l.contains(" PUT /lfs-storage/"))
        .map(String::from)
        .collect();
    let new: Vec<(&String, &u64)> = after
        .iter()
        .filter(|(oid, _)| !before.contains_key(*oid))
        .collect();
    assert!(
        !new.is_empty() && new.len() <= 2,
        "new objects on the Hub: {new:?}"
    );
    assert_eq!(uploads.len(), new.len(), "uploads: {uploads:?}");
    let uploaded: u64 = new.iter().map(|(_, size)| **size).sum();
    let mut sizes: Vec<u64> = after.values().copied().collect();
    sizes.sort_unstable();
    let two_largest: u64 = sizes.iter().rev().take(2).sum();
    assert!(uploaded <= two_largest, "{uploaded} bytes uploaded");

    // The Hub's copy reads back as the edited input.
    let hub_clone = env.path().join("from-hub");
    let output = env
        .hf_relay()
        .args(["clone", "alice/edits", "--endpoint", &hub.url])
        .arg(&hub_clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap();
    assert_success(&output);
    check_with_python(&hub_clone, &[("train", vec![input])]);
}
