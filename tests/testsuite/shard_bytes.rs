//! Same bytes whatever the path (issue 25, item 0): a shard's bytes depend only on its rows and
//! the options, not on where the build started decoding, what it reused or where the input
//! reader's chunks fell. Every edit of the incremental suite is built both ways — a rebuild of
//! the last build's clone and a build from scratch — and the shards' LFS object ids compared.
//!
//! The input spans many of the reader's 4 MiB chunks and its shards straddle them, and its
//! rows are nested like the friction benchmark's (a list of structs of long texts: the column
//! whose pages came out different).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::support::*;

/// Shards of ≈ 1 MB of rows: about a dozen of them straddle the reader's chunks.
const MAX_SHARD: &str = "2MB";

/// `n` deterministic friction-like rows of 1–9 kB, numbered from `first`.
fn rows(first: usize, n: usize, seed: u64) -> Vec<String> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |below: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % below
    };
    let words = [
        "agent",
        "friction",
        "thought",
        "disagree",
        "évidence",
        "claim",
        "tab\\t",
        "quote\\\"",
        "line\\n",
        "résumé",
        "🙂",
        "stream",
    ];
    let text = |next: &mut dyn FnMut(u64) -> u64, min: u64, spread: u64| {
        let len = (min + next(spread)) as usize;
        let mut text = String::new();
        while text.len() < len {
            text.push_str(words[next(words.len() as u64) as usize]);
            text.push(' ');
        }
        text
    };
    (first..first + n)
        .map(|i| {
            let responses: Vec<String> = (0..2 + next(4))
                .map(|_| {
                    let moments: Vec<String> = (0..next(3))
                        .map(|_| format!("\"{}\"", text(&mut next, 10, 60)))
                        .collect();
                    format!(
                        r#"{{"agent_type": "critic-{}", "thought_stream": "{}", "friction_moments": [{}]}}"#,
                        next(5),
                        text(&mut next, 200, 1800),
                        moments.join(", ")
                    )
                })
                .collect();
            let score = match next(10) {
                0..=2 => String::new(),
                3 => r#", "review_score": null"#.to_string(),
                n => format!(r#", "review_score": {}.5"#, n),
            };
            format!(
                r#"{{"id": "row-{i:06}", "question": "{}", "agent_responses": [{}], "final_answer": "{}", "metadata": {{"model": "m-{}", "temperature": 0.{}, "tokens": {}}}{score}}}"#,
                text(&mut next, 50, 200),
                responses.join(", "),
                text(&mut next, 20, 300),
                next(3),
                next(10),
                next(4000),
            )
        })
        .collect()
}

fn jsonl(lines: &[String]) -> String {
    lines.join("\n") + "\n"
}

fn build(env: &TestEnv, clone: &Path, input: &Path) {
    let output = run_build(
        env,
        clone,
        &["--max-shard-size", MAX_SHARD, input_arg(input)],
    );
    assert_success(&output);
}

fn input_arg(input: &Path) -> &str {
    input.to_str().unwrap()
}

/// Builds `input` into `clone` (a rebuild) and into a clone of its own from scratch: the same
/// shards, byte for byte.
fn assert_rebuild_equals_fresh(env: &TestEnv, clone: &Path, input: &Path, what: &str) {
    build(env, clone, input);
    let fresh = env.init(&format!("fresh-{}", what.replace(' ', "-")));
    build(env, &fresh, input);
    let (rebuilt, fresh) = (head_shards(env, clone), head_shards(env, &fresh));
    assert!(rebuilt.len() >= 8, "{what}: only {} shards", rebuilt.len());
    let differ: Vec<String> = rebuilt
        .iter()
        .zip(&fresh)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{} {} (from scratch: {} {})", a.0, a.1, b.0, b.1))
        .collect();
    assert!(
        differ.is_empty() && rebuilt.len() == fresh.len(),
        "{what}: the rebuild's shards differ from a build from scratch:\n{}",
        differ.join("\n")
    );
}

#[test]
fn every_edit_rebuilt_gives_the_shards_a_build_from_scratch_gives() {
    let env = TestEnv::new();
    let clone = env.init("ds");
    let mut lines = rows(0, 3000, 7);
    let input: PathBuf = env.write("input.jsonl", jsonl(&lines));
    let size = std::fs::metadata(&input).unwrap().len();
    assert!(
        size > 12_000_000,
        "{size} bytes: the input spans several of the reader's 4 MiB chunks"
    );
    build(&env, &clone, &input);

    let n = lines.len();
    type Edit = Box<dyn Fn(&mut Vec<String>)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "edit one letter of the middle row",
            Box::new(move |l| {
                l[n / 2] = l[n / 2].replacen("\"final_answer\": \"", "\"final_answer\": \"X", 1)
            }),
        ),
        (
            "append 1 percent",
            Box::new(move |l| l.extend(rows(n, n / 100, 8))),
        ),
        (
            "delete at 10 percent",
            Box::new(move |l| drop(l.remove(n / 10))),
        ),
        (
            "delete at 50 percent",
            Box::new(move |l| drop(l.remove(n / 2))),
        ),
        (
            "delete at 90 percent",
            Box::new(move |l| drop(l.remove(n * 9 / 10))),
        ),
        (
            "insert rows in the middle",
            Box::new(move |l| {
                let at = l.len() / 2;
                l.splice(at..at, rows(10 * n, 40, 9));
            }),
        ),
    ];
    for (what, edit) in edits {
        edit(&mut lines);
        let input = env.write("input.jsonl", jsonl(&lines));
        assert_rebuild_equals_fresh(&env, &clone, &input, what);
    }

    // An appended compressed input: a rebuild decodes from the middle of the gzip stream.
    let gzip = |lines: &[String]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(jsonl(lines).as_bytes()).unwrap();
        env.write("input.jsonl.gz", encoder.finish().unwrap())
    };
    let clone = env.init("gz");
    build(&env, &clone, &gzip(&lines));
    lines.extend(rows(20 * n, n / 50, 10));
    assert_rebuild_equals_fresh(&env, &clone, &gzip(&lines), "appended gzip");
}
