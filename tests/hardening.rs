//! Hardening: bad input, kill -9, a full disk, network faults, secrets and paths, proven by
//! driving the built binary. The policies and the figures are in docs/reliability.md.
//!
//! Every test bounds the time of each command it runs: a hang fails the test instead of
//! blocking the suite.

mod common;
#[path = "../fuzz/src/lib.rs"]
mod fuzz_targets;
#[path = "../src/repo/remote/test_hub.rs"]
mod test_hub;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use test_hub::{TestHub, WRITE_TOKEN};

// -------------------------------------------------------------------------------------------
// Helpers

/// Longest any single hf-relay command may take before the test calls it a hang.
const COMMAND_LIMIT: Duration = Duration::from_secs(90);

/// Runs `command` to completion and returns its output and duration; fails the test when it
/// runs longer than `limit` (the process is killed first).
fn run_bounded(command: &mut Command, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        bytes
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = err.join().unwrap();
            panic!(
                "{command:?} did not finish within {limit:?} (a hang); stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, elapsed)
}

fn run(command: &mut Command) -> Output {
    run_bounded(command, COMMAND_LIMIT).0
}

fn build(env: &TestEnv, clone: &Path, args: &[&str], inputs: &[&Path]) -> Output {
    let mut command = env.hf_relay();
    command.arg("build").arg("--dir").arg(clone).args(args);
    command.args(inputs);
    run(&mut command)
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    assert!(
        !stderr(output).contains("panicked"),
        "panic:\n{}",
        stderr(output)
    );
}

fn head(env: &TestEnv, clone: &Path) -> String {
    env.git_out(clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string()
}

/// `git fsck --full` finds nothing wrong (dangling objects are fine: a build writes its blobs
/// before it moves the branch). Returns the number of unreachable objects.
#[track_caller]
fn assert_fsck_clean(env: &TestEnv, clone: &Path) -> usize {
    let output = env
        .git(clone)
        .args(["fsck", "--full", "--no-progress", "--unreachable"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert!(
        output.status.success()
            && !["error", "missing", "broken", "corrupt", "fatal"]
                .iter()
                .any(|word| err.contains(word)),
        "git fsck found problems in {}:\n{err}\n{}",
        clone.display(),
        stdout(&output)
    );
    stdout(&output).lines().count()
}

/// `hf-relay verify`: every LFS pointer of HEAD has its object, the card matches the data.
#[track_caller]
fn assert_verify(env: &TestEnv, clone: &Path) {
    let output = run(env.hf_relay().args(["verify", "--dir"]).arg(clone));
    assert_success(&output);
}

/// Files hf-relay leaves under `.git/` when it is killed: staging and commit scratch folders.
fn leftovers(clone: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(clone.join(".git"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with("hf-relay-staging-") || name.starts_with("hf-relay-commit-")
        })
        .collect();
    names.sort();
    names
}

/// A snapshot without the scratch folders a killed process may leave under `.git/`.
fn snapshot_without_leftovers(env: &TestEnv, clone: &Path) -> Vec<(String, Vec<u8>)> {
    env.snapshot(clone)
        .into_iter()
        .filter(|(path, _)| {
            !(path.starts_with(".git/hf-relay-staging-")
                || path.starts_with(".git/hf-relay-commit-"))
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}

/// Deterministic friction-like records (nested lists of structs, long Unicode text, floats,
/// nulls, absent keys), like `gen_friction.py` makes them, without needing Python.
fn friction_like(rows: std::ops::Range<usize>, seed: u64) -> String {
    const WORDS: &[&str] = &[
        "the",
        "agent",
        "considers",
        "whether",
        "constraint",
        "évidence",
        "premise",
        "摩擦",
        "disagreement",
        "🙂",
        "plan",
        "verify",
        "\"quoted\"",
        "tab\there",
        "back\\slash",
        "line\nbreak",
        "Übergang",
        "consensus",
        "重新考虑",
        "risk",
        "trade-off",
        "signal",
    ];
    const AGENTS: &[&str] = &["planner", "critic", "skeptic", "mediator", "executor"];
    let mut out = String::new();
    for i in rows {
        let mut rng = fastrand::Rng::with_seed(seed.wrapping_mul(1_000_003) + i as u64);
        let mut text = |min: usize, max: usize| {
            let target = rng.usize(min..max);
            let mut s = String::new();
            while s.len() < target {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(WORDS[rng.usize(..WORDS.len())]);
            }
            s
        };
        let question = text(100, 400);
        let answer = text(20, 200);
        let mut responses = Vec::new();
        let mut rng2 = fastrand::Rng::with_seed(seed ^ (i as u64) << 1);
        for _ in 0..rng2.usize(2..=5) {
            let moments: Vec<String> = if rng2.u8(0..10) < 6 {
                Vec::new()
            } else {
                (0..rng2.usize(1..4)).map(|_| text(10, 60)).collect()
            };
            responses.push(json!({
                "agent_type": AGENTS[rng2.usize(..AGENTS.len())],
                "thought_stream": text(200, 2000),
                "friction_moments": moments,
            }));
        }
        let mut record = json!({
            "id": format!("r{seed}-{i:06}"),
            "question": question,
            "agent_responses": responses,
            "final_answer": answer,
            "metadata": {
                "model": AGENTS[rng2.usize(..AGENTS.len())],
                "temperature": rng2.u32(0..200) as f64 / 100.0,
                "tokens": rng2.i64(10..5000),
            },
        });
        match rng2.u8(0..10) {
            0..=2 => {}
            3 => record["review_score"] = Value::Null,
            _ => record["review_score"] = json!(rng2.u32(0..1000) as f64 / 10.0),
        }
        out.push_str(&serde_json::to_string(&record).unwrap());
        out.push('\n');
    }
    out
}

/// Runs `tests/python/check_clone.py` on many clones in one Python process (importing
/// `datasets` once): name → Ok, or the checker's complaint.
fn check_many_with_python(
    env: &TestEnv,
    jobs: &[(String, PathBuf, PathBuf)],
) -> BTreeMap<String, Result<(), String>> {
    const DRIVER: &str = r#"
import contextlib, importlib.util, io, json, sys
spec = importlib.util.spec_from_file_location("check_clone", sys.argv[1])
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)
results = {}
for job in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["check_clone.py", *job["args"]]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            check.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:
        code = 1
        err.write(f"{type(e).__name__}: {e}")
    results[job["name"]] = {"code": code, "stderr": err.getvalue()[-1500:]}
print(json.dumps(results))
"#;
    if jobs.is_empty() {
        return BTreeMap::new();
    }
    let driver = env.write("check_many.py", DRIVER);
    let input: Vec<Value> = jobs
        .iter()
        .map(|(name, clone, rows)| {
            json!({"name": name, "args": [clone, format!("train={}", rows.display())]})
        })
        .collect();
    let stdin_file = env.write("check_many.json", serde_json::to_vec(&input).unwrap());
    let mut command = python();
    command
        .arg(&driver)
        .arg(repo_path("tests/python/check_clone.py"))
        .stdin(std::fs::File::open(stdin_file).unwrap())
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", env.home().join(".cache/huggingface"));
    let output = command.output().unwrap();
    assert_success(&output);
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();
    jobs.iter()
        .map(|(name, _, _)| {
            let result = &results[name];
            let outcome = if result["code"] == 0 {
                Ok(())
            } else {
                let text = result["stderr"].as_str().unwrap_or_default();
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.contains("Generating train split"))
                    .collect();
                Err(format!("datasets read-back failed: {}", lines.join(" | ")))
            };
            (name.clone(), outcome)
        })
        .collect()
}

// -------------------------------------------------------------------------------------------
// 1. Bad input

/// Generates a case too big to keep in git (see `generate` in tests/bad_input/expected.json).
fn generate_case(spec: &Value) -> Vec<u8> {
    let (kind, n) = spec
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| !["pad", "lists"].contains(&k.as_str()))
        })
        .map(|(k, v)| (k.as_str(), v.as_u64().unwrap() as usize))
        .expect("generate: {kind: n}");
    let mut out = String::new();
    match kind {
        // `n` levels of objects, counting the record itself.
        "deep_objects" => {
            let mut value = "1".to_string();
            for level in 0..n - 1 {
                value = format!("{{\"k{level}\": {value}}}");
            }
            for _ in 0..2 {
                out.push_str(&format!("{{\"x\": {value}}}\n"));
            }
        }
        // The record, then `n - 1` levels of lists.
        "deep_lists" => {
            let value = format!("{}1{}", "[".repeat(n - 1), "]".repeat(n - 1));
            out.push_str(&format!("{{\"x\": {value}}}\n"));
        }
        // `{"x": …}` holding `n` levels of objects, then `lists` levels of lists.
        "deep_mixed" => {
            let lists = spec["lists"].as_u64().unwrap() as usize;
            let mut value = format!("{}1{}", "[".repeat(lists), "]".repeat(lists));
            for level in 0..n {
                value = format!("{{\"k{level}\": {value}}}");
            }
            out.push_str(&format!("{{\"x\": {value}}}\n"));
        }
        "wide" => {
            for row in 1..=2 {
                let record: serde_json::Map<String, Value> = (0..n)
                    .map(|i| {
                        let value = match i % 3 {
                            0 => json!(i * row),
                            1 => json!(format!("v{i}-{row}")),
                            _ => json!([i as f64 / 4.0, null]),
                        };
                        (format!("col_{i:04}"), value)
                    })
                    .collect();
                out.push_str(&serde_json::to_string(&record).unwrap());
                out.push('\n');
            }
        }
        "long_string" => {
            out.push_str(&format!("{{\"id\": 1, \"text\": \"{}\"}}\n", "x".repeat(n)));
            out.push_str("{\"id\": 2, \"text\": \"short\"}\n");
        }
        // `n` good lines, then one whose deep value conflicts.
        "conflict_after" => {
            let pad = "p".repeat(spec["pad"].as_u64().unwrap_or(0) as usize);
            for i in 0..n {
                out.push_str(&format!(
                    "{{\"id\": {i}, \"pad\": \"{pad}\", \"meta\": {{\"tags\": [{{\"score\": {i}}}]}}}}\n"
                ));
            }
            out.push_str(&format!(
                "{{\"id\": {n}, \"pad\": \"\", \"meta\": {{\"tags\": [{{\"score\": \"high\"}}]}}}}\n"
            ));
        }
        other => panic!("unknown generator {other}"),
    }
    out.into_bytes()
}

/// What one case did against its expectation: `Err` says how it deviates.
struct CaseRun {
    name: String,
    expectation: Value,
    deviation: Result<(), String>,
}

#[test]
fn bad_input_corpus() {
    let corpus = repo_path("tests/bad_input");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(corpus.join("expected.json")).unwrap()).unwrap();
    let cases = expected["cases"].as_object().unwrap();
    assert!(cases.len() >= 30, "the corpus needs at least 30 cases");
    // Every file of the folder has an expectation, and every expectation a file or generator.
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".jsonl") && !name.ends_with(".readback.jsonl") {
            assert!(
                cases.contains_key(&name),
                "{name} has no entry in expected.json"
            );
        }
    }

    let env = TestEnv::new();
    let generated = env.path().join("generated");
    std::fs::create_dir_all(&generated).unwrap();
    let names: Vec<&String> = cases.keys().collect();

    // Builds run on two workers; each case has its own clone.
    let runs: Vec<(String, Value, PathBuf, PathBuf, Output)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|worker| {
                let env = &env;
                let names = &names;
                let (corpus, generated) = (&corpus, &generated);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for name in names.iter().skip(worker).step_by(2) {
                        let case = &cases[name.as_str()];
                        let input = match case.get("generate") {
                            Some(spec) => {
                                let path = generated.join(name.as_str());
                                std::fs::write(&path, generate_case(spec)).unwrap();
                                path
                            }
                            None => corpus.join(name.as_str()),
                        };
                        assert!(input.is_file(), "{name}: no file {}", input.display());
                        let stem = name.trim_end_matches(".jsonl").replace('_', "-");
                        let clone = env.init(&stem);
                        let before = env.snapshot(&clone);
                        let output = build(env, &clone, &[], &[&input]);
                        if output.status.code() != Some(0) {
                            let after = env.snapshot(&clone);
                            assert!(
                                before == after,
                                "{name}: the failed build changed the clone\n{}",
                                stderr(&output)
                            );
                        }
                        done.push((name.to_string(), case.clone(), input, clone, output));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });

    // Read back every successful build with datasets, in one Python process.
    let jobs: Vec<(String, PathBuf, PathBuf)> = runs
        .iter()
        .filter(|(_, _, _, _, output)| output.status.success())
        .map(|(name, case, input, clone, _)| {
            let rows = match case.get("reads_back_as").and_then(Value::as_str) {
                Some(file) => corpus.join(file),
                None => input.clone(),
            };
            (name.clone(), clone.clone(), rows)
        })
        .collect();
    let read_back = check_many_with_python(&env, &jobs);

    let mut results = Vec::new();
    for (name, case, _, _, output) in runs {
        let err = stderr(&output);
        let deviation = if err.contains("panicked") || output.status.code() == Some(101) {
            Err(format!("panicked: {}", err.trim()))
        } else if case.get("ok") == Some(&Value::Bool(true)) {
            if output.status.success() {
                read_back[&name].clone()
            } else {
                Err(format!("failed: {}", err.trim()))
            }
        } else {
            let fragments: Vec<&str> = case["error_contains"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: neither ok nor error_contains"))
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            let missing: Vec<&&str> = fragments.iter().filter(|f| !err.contains(**f)).collect();
            if output.status.code() != Some(1) {
                Err(format!(
                    "expected exit 1, got {:?}; stderr: {}",
                    output.status.code(),
                    err.trim()
                ))
            } else if !err.starts_with("Error: ") {
                Err(format!(
                    "stderr does not start with `Error: `: {}",
                    err.trim()
                ))
            } else if !missing.is_empty() {
                Err(format!("stderr lacks {missing:?}: {}", err.trim()))
            } else {
                Ok(())
            }
        };
        results.push(CaseRun {
            name,
            expectation: case,
            deviation,
        });
    }

    let mut failures = Vec::new();
    let (mut passed, mut known) = (0, 0);
    for run in &results {
        match (run.expectation.get("known_bug"), &run.deviation) {
            (None, Ok(())) => passed += 1,
            (None, Err(how)) => failures.push(format!("{}: {how}", run.name)),
            (Some(_), Err(how)) => {
                known += 1;
                eprintln!("known bug, still there: {}: {how}", run.name);
            }
            (Some(bug), Ok(())) => failures.push(format!(
                "{}: behaves as expected now, but expected.json lists a known bug ({bug}); \
                 delete its known_bug line",
                run.name
            )),
        }
    }
    eprintln!(
        "bad input: {} cases, {passed} as expected, {known} known bugs",
        results.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) deviate:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// -------------------------------------------------------------------------------------------
// 7. Fuzz smoke: the cargo-fuzz targets over deterministic mutations of their seeds, on stable.

/// Small deterministic mutations: byte flips, interesting tokens, deletions, duplications and
/// splices from another seed.
fn mutate(rng: &mut fastrand::Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"\n",
        b"\r\n",
        b" ",
        b"\\",
        b"{}",
        b"[]",
        b"null",
        b"true",
        b"-0",
        b"1e400",
        b"NaN",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"18446744073709551616",
        b"1.5",
        b"\"a\":",
        b"\"\\ud800\"",
        b"\"\\u0000\"",
        b"\xff",
        b"\xc0\xaf",
        b"\xef\xbb\xbf",
        b"---\n",
        b"\n---\n",
        b"dataset_info:",
        b"configs:",
        b"  - ",
        b"- split: train\n",
        b": ",
        b"'",
        b"&a",
        b"*a",
        b"!!str",
        b"<!-- hf-relay:",
        b"-->",
        b"{{fields}}",
        b"{{splits}}",
        b"|",
        b"\t",
        b"#",
    ];
    let mut data = seed.to_vec();
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(..=data.len());
        match rng.u8(0..6) {
            0 if !data.is_empty() => {
                let i = rng.usize(..data.len());
                data[i] ^= 1 << rng.u8(0..8);
            }
            1 => {
                let token = TOKENS[rng.usize(..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = (at + rng.usize(1..16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 if !data.is_empty() => {
                let start = rng.usize(..data.len());
                let end = (start + rng.usize(1..64)).min(data.len());
                let piece = data[start..end].to_vec();
                data.splice(at..at, piece);
            }
            4 if !other.is_empty() => {
                let start = rng.usize(..other.len());
                let end = (start + rng.usize(1..128)).min(other.len());
                data.splice(at..at, other[start..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// Runs `target` on every seed and on `iterations` mutations; a panic fails with the input
/// (saved under the test's temp folder for a regression case).
fn fuzz_smoke(
    name: &str,
    seeds: &[Vec<u8>],
    iterations: usize,
    target: fn(&[u8]),
    known_crasher: fn(&[u8]) -> bool,
) {
    let mut rng = fastrand::Rng::with_seed(0x5eed_f022);
    let mut inputs: Vec<Vec<u8>> = seeds.to_vec();
    for _ in 0..iterations {
        let seed = &seeds[rng.usize(..seeds.len())];
        let other = &seeds[rng.usize(..seeds.len())];
        inputs.push(mutate(&mut rng, seed, other));
    }
    let mut skipped = 0;
    for (i, input) in inputs.iter().enumerate() {
        if known_crasher(input) {
            skipped += 1;
            continue;
        }
        let result = std::panic::catch_unwind(|| target(input));
        if let Err(panic) = result {
            let dir = std::env::temp_dir().join("hf-relay-fuzz-crashes");
            std::fs::create_dir_all(&dir).unwrap();
            let saved = dir.join(format!("{name}-{i}"));
            std::fs::write(&saved, input).unwrap();
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "{name}: input {i} panicked: {message}\ninput ({} bytes, saved as {}): {:?}",
                input.len(),
                saved.display(),
                String::from_utf8_lossy(&input[..input.len().min(400)])
            );
        }
    }
    eprintln!(
        "fuzz smoke {name}: {} inputs, no panic ({skipped} skipped as a known crasher)",
        inputs.len()
    );
}

fn no_known_crasher(_: &[u8]) -> bool {
    false
}

fn jsonl_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(repo_path("tests/bad_input"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| std::fs::read(p).unwrap())
        .filter(|bytes| bytes.len() < 64 << 10)
        .collect();
    seeds.sort();
    seeds.push(friction_like(0..3, 7).into_bytes());
    seeds
}

fn card_seeds() -> Vec<Vec<u8>> {
    let template = std::fs::read(repo_path("examples/friction/card.md")).unwrap();
    let mut seeds = vec![
        b"---\nlicense: mit\n---\n# Title\n\nProse.\n".to_vec(),
        b"---\r\nlicense: mit\r\ntags:\r\n- a\r\n---\r\nBody\r\n".to_vec(),
        b"---\n---\n".to_vec(),
        b"no front matter at all\n".to_vec(),
        b"---\nkey: [unclosed\n---\nbody".to_vec(),
        b"---\n- a list\n---\n".to_vec(),
        concat!(
            "---\ndataset_info:\n- config_name: en\n  features:\n  - name: id\n    dtype: string\n",
            "  splits:\n  - name: train\n    num_bytes: 10\n    num_examples: 2\n",
            "  download_size: 5\n  dataset_size: 10\nconfigs:\n- config_name: en\n",
            "  data_files:\n  - split: train\n    path: en/train-*\n---\n",
            "<!-- hf-relay:begin fields -->\n| a | b |\n<!-- hf-relay:end fields -->\n"
        )
        .as_bytes()
        .to_vec(),
    ];
    let mut with_template = seeds[0].clone();
    with_template.push(0xFF);
    with_template.extend_from_slice(&template);
    seeds.push(with_template);
    // A card rendered by hf-relay itself.
    let rendered = {
        let mut input = seeds[6].clone();
        input.push(0xFF);
        input.extend_from_slice(b"# {{pretty_name}}\n\n{{splits}}\n\n{{fields}}\n");
        input
    };
    seeds.push(rendered);
    seeds
}

#[test]
fn fuzz_smoke_jsonl_to_arrow() {
    fuzz_smoke(
        "jsonl_to_arrow",
        &jsonl_seeds(),
        2000,
        fuzz_targets::jsonl_to_arrow,
        fuzz_targets::known_jsonl_crasher,
    );
}

#[test]
fn fuzz_smoke_card_merge() {
    fuzz_smoke(
        "card_merge",
        &card_seeds(),
        4000,
        fuzz_targets::card_merge,
        no_known_crasher,
    );
}

// -------------------------------------------------------------------------------------------
// 2. kill -9 during build and push

/// Where a killed command left a clone: `(HEAD, leftovers under .git)`. Asserts what must hold
/// whatever the kill hit: `git fsck` is clean and the working tree and index match HEAD.
#[track_caller]
fn assert_consistent_after_kill(env: &TestEnv, clone: &Path, what: &str) -> (String, Vec<String>) {
    assert_fsck_clean(env, clone);
    assert_eq!(
        porcelain_status(env, clone),
        "",
        "{what}: the working tree or index differs from HEAD"
    );
    (head(env, clone), leftovers(clone))
}

/// `git status --porcelain` of a copied clone. Clones are copied with `cp -a`, which keeps
/// sizes and mtimes but not inodes and ctimes; without git-lfs installed a re-hashed LFS file
/// looks modified, so compare like that.
fn porcelain_status(env: &TestEnv, clone: &Path) -> String {
    env.git_out(
        clone,
        &[
            "--no-optional-locks",
            "-c",
            "core.checkStat=minimal",
            "-c",
            "core.trustctime=false",
            "status",
            "--porcelain",
            "--untracked-files=all",
        ],
    )
}

/// A kill point: `fraction` of the reference duration. Even trials spread over the whole run;
/// odd ones crowd the end, where the commit moves files into place and the branch.
fn kill_delay(trial: u64, reference: Duration) -> Duration {
    let mut rng = fastrand::Rng::with_seed(0xdead_beef ^ trial.wrapping_mul(0x9e37_79b9));
    let fraction = if trial.is_multiple_of(2) {
        rng.f64() * 1.05
    } else {
        0.8 + rng.f64() * 0.25
    };
    reference.mul_f64(fraction)
}

/// Spawns `command`, kills it with SIGKILL after `delay`; true when it had already finished.
fn kill_after(command: &mut Command, delay: Duration) -> bool {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let status = child.wait().unwrap();
    finished && status.success()
}

const KILL_TRIALS: u64 = 20;

/// The journal a commit writes before it moves files into the working tree; a kill leaves it
/// for the next hf-relay command to complete.
fn journal(clone: &Path) -> PathBuf {
    clone.join(".git/hf-relay/commit-in-progress.json")
}

/// The next hf-relay command (a read-only one, `status`) completes the interrupted commit
/// `new` and says so.
#[track_caller]
fn assert_next_command_completes(env: &TestEnv, clone: &Path, new: &str, what: &str) {
    let output = run(env.hf_relay().args(["status", "--dir"]).arg(clone));
    assert_success(&output);
    assert!(
        stderr(&output).contains(&format!("Completed the interrupted commit {}", &new[..12])),
        "{what}: no completion reported:\n{}",
        stderr(&output)
    );
    assert!(
        !journal(clone).exists(),
        "{what}: the journal is still there"
    );
    assert_eq!(leftovers(clone), Vec::<String>::new(), "{what}: leftovers");
    let (at, _) = assert_consistent_after_kill(env, clone, what);
    assert_eq!(at, new, "{what}: not completed to the new commit");
    assert_verify(env, clone);
}

#[test]
fn kill_9_during_build_leaves_the_old_or_the_new_commit_and_a_rerun_converges() {
    let env = TestEnv::new();
    // The new input appends rows to the old one: the last shard changes, shards are added.
    let old_input = env.write("old.jsonl", friction_like(0..150, 1));
    let new_input = env.write(
        "new.jsonl",
        friction_like(0..150, 1) + &friction_like(150..300, 1),
    );
    let args = ["--max-shard-size", "512KB"];
    let base = env.init("kill-build");
    assert_success(&build(&env, &base, &args, &[&old_input]));
    let old = head(&env, &base);

    let reference = env.path().join("reference");
    copy_dir(&base, &reference);
    let start = Instant::now();
    assert_success(&build(&env, &reference, &args, &[&new_input]));
    let duration = start.elapsed();
    let new = head(&env, &reference);
    assert_ne!(old, new);

    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut with_leftovers = 0;
    for trial in 0..KILL_TRIALS {
        let clone = env.path().join(format!("trial-{trial:02}"));
        copy_dir(&base, &clone);
        let delay = kill_delay(trial, duration);
        let mut command = env.hf_relay();
        command
            .arg("build")
            .arg("--dir")
            .arg(&clone)
            .args(args)
            .arg(&new_input);
        let finished = kill_after(&mut command, delay);
        let what = format!("build trial {trial} (killed after {delay:?})");
        with_leftovers += usize::from(!leftovers(&clone).is_empty());
        let outcome = if journal(&clone).exists() {
            // Killed in the window: files may be half moved; the next command completes it.
            assert!(!finished, "{what}: a finished build left its journal");
            assert_next_command_completes(&env, &clone, &new, &what);
            "killed in the window, completed by the next command"
        } else {
            let (at, _) = assert_consistent_after_kill(&env, &clone, &what);
            assert!(
                at == old || at == new,
                "{what}: HEAD is {at}, neither the old {old} nor the new {new}"
            );
            if at == new {
                assert_verify(&env, &clone);
            }
            match (finished, at == new) {
                (true, _) => "finished before the kill",
                (false, true) => "killed after the commit",
                (false, false) => "killed before the commit",
            }
        };
        *outcomes.entry(outcome).or_default() += 1;

        // A rerun converges on the same commit, and removes what killed processes left.
        assert_success(&build(&env, &clone, &args, &[&new_input]));
        assert_eq!(
            head(&env, &clone),
            new,
            "{what}: the rerun did not converge"
        );
        let (_, left) = assert_consistent_after_kill(&env, &clone, &what);
        assert_verify(&env, &clone);
        assert_eq!(
            left,
            Vec::<String>::new(),
            "{what}: leftovers after the rerun"
        );
        assert!(
            !journal(&clone).exists(),
            "{what}: a journal after the rerun"
        );
    }
    eprintln!(
        "kill -9 during build: {KILL_TRIALS} trials survived (build takes {duration:?}): \
         {outcomes:?}; {with_leftovers} left a staging or scratch folder under .git, removed by \
         the rerun"
    );
}

/// A kill in the commit window, made deterministic: the test hook
/// `HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW=N` aborts the build once N files are renamed into the
/// working tree (0: just after the journal is written; beyond the files: after the branch moved).
#[test]
fn a_build_aborted_anywhere_in_its_commit_window_is_completed_by_the_next_command() {
    let env = TestEnv::new();
    let old_input = env.write("old.jsonl", friction_like(0..150, 1));
    let new_input = env.write(
        "new.jsonl",
        friction_like(0..150, 1) + &friction_like(150..300, 1),
    );
    let args = ["--max-shard-size", "512KB"];
    let base = env.init("window");
    assert_success(&build(&env, &base, &args, &[&old_input]));
    let old = head(&env, &base);
    let reference = env.path().join("reference");
    copy_dir(&base, &reference);
    assert_success(&build(&env, &reference, &args, &[&new_input]));
    let new = head(&env, &reference);
    let working_tree = |clone: &Path| -> Vec<(String, Vec<u8>)> {
        env.snapshot(clone)
            .into_iter()
            .filter(|(path, _)| !path.starts_with(".git/"))
            .collect()
    };
    // How many files the commit moves in (README.md and the shards): read from the journal
    // of the first run, which aborts before any of them.
    let mut moved = usize::MAX;
    let mut after = 0;
    while after <= moved.saturating_add(1) {
        let what = format!("aborted after {after} renames");
        let clone = env.path().join(format!("abort-{after}"));
        copy_dir(&base, &clone);
        let mut command = env.hf_relay();
        command
            .env("HF_RELAY_TEST_ABORT_IN_COMMIT_WINDOW", after.to_string())
            .arg("build")
            .arg("--dir")
            .arg(&clone)
            .args(args)
            .arg(&new_input);
        let output = run(&mut command);
        assert_eq!(output.status.code(), None, "{what}: not aborted");
        assert!(journal(&clone).exists(), "{what}: no journal");
        if after == 0 {
            let written: Value =
                serde_json::from_slice(&std::fs::read(journal(&clone)).unwrap()).unwrap();
            moved = written["moves"].as_array().unwrap().len();
            assert!(moved >= 3, "README.md and at least two shards: {written:#}");
        }
        let expected = if after > moved { &new } else { &old };
        assert_eq!(&head(&env, &clone), expected, "{what}");
        let dirty = porcelain_status(&env, &clone);
        assert_eq!(
            dirty.is_empty(),
            after == 0 || after > moved,
            "{what}:\n{dirty}"
        );

        // While another live process holds the lock, a read-only command touches nothing.
        {
            let holder = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(clone.join(".git/hf-relay.lock"))
                .unwrap();
            holder.try_lock().unwrap();
            let before = env.snapshot(&clone);
            for command in ["status", "log", "verify"] {
                let output = run(env.hf_relay().args([command, "--dir"]).arg(&clone));
                assert!(
                    !stderr(&output).contains("Completed"),
                    "{what}: {command} completed the commit under a live lock"
                );
            }
            assert!(
                env.snapshot(&clone) == before,
                "{what}: a read-only command changed the clone while the lock was held"
            );
        }

        assert_next_command_completes(&env, &clone, &new, &what);
        assert!(
            working_tree(&clone) == working_tree(&reference),
            "{what}: files differ"
        );
        after += 1;
    }
    eprintln!(
        "commit window: builds aborted after 0 to {} of {moved} renames were all completed by \
         the next command",
        moved + 1
    );
}

/// Every LFS pointer in every commit the Hub's repo holds has its object in the Hub's store.
/// Returns the number of pointers checked.
#[track_caller]
fn assert_remote_lfs_complete(hub: &TestHub, owner: &str, name: &str) -> usize {
    let bare = hub.bare_repo(owner, name);
    if !bare.exists() {
        return 0;
    }
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .arg("--git-dir")
            .arg(&bare)
            .args(args)
            .output()
            .unwrap();
        assert_success(&output);
        stdout(&output)
    };
    let mut checked = 0;
    for commit in git(&["rev-list", "--all"]).lines() {
        for entry in git(&["ls-tree", "-r", "-l", commit]).lines() {
            let (meta, path) = entry.split_once('\t').unwrap();
            let fields: Vec<&str> = meta.split_whitespace().collect();
            let size: u64 = fields[3].parse().unwrap_or(u64::MAX);
            if fields[1] != "blob" || size > 1024 {
                continue;
            }
            let text = git(&["cat-file", "blob", fields[2]]);
            let Some(oid) = text
                .lines()
                .find_map(|l| l.strip_prefix("oid sha256:"))
                .filter(|_| text.starts_with("version https://git-lfs.github.com/spec/v1\n"))
            else {
                continue;
            };
            let want: u64 = text
                .lines()
                .find_map(|l| l.strip_prefix("size "))
                .unwrap()
                .parse()
                .unwrap();
            let stored = hub.lfs_dir(owner, name).join(oid);
            let have = std::fs::metadata(&stored).map(|m| m.len()).ok();
            assert_eq!(
                have,
                Some(want),
                "the Hub's {owner}/{name} holds commit {commit} with {path} -> LFS {oid}, \
                 but its store lacks the object"
            );
            checked += 1;
        }
    }
    checked
}

fn remote_ref(hub: &TestHub, owner: &str, name: &str, reference: &str) -> Option<String> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(hub.bare_repo(owner, name))
        .args(["rev-parse", "--verify", "--quiet", reference])
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| stdout(&output).trim().to_string())
}

fn push_command(env: &TestEnv, clone: &Path, token: &str, args: &[&str]) -> Command {
    let mut command = env.hf_relay();
    command
        .arg("push")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .env("HF_TOKEN", token);
    command
}

#[test]
fn kill_9_during_push_never_leaves_a_remote_ref_without_its_lfs_objects() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let input = env.write("push.jsonl", friction_like(0..120, 2));
    let init = |name: &str, dir: &Path| {
        assert_success(&run(env
            .hf_relay()
            .args(["init", &format!("alice/{name}")])
            .arg(dir)
            .args(["--endpoint", &hub.url])));
    };
    let base = env.path().join("base");
    init("kill-push-base", &base);
    // Several shards: several LFS uploads, each slowed down by the Hub.
    assert_success(&build(
        &env,
        &base,
        &["--max-shard-size", "150KB"],
        &[&input],
    ));
    let built = head(&env, &base);
    hub.set_faults(&json!({"lfs_slow_ms": 300}).to_string());

    let prepare = |name: &str| {
        let clone = env.path().join(name);
        copy_dir(&base, &clone);
        env.git_out(
            &clone,
            &[
                "remote",
                "set-url",
                "origin",
                &hub.dataset_url("alice", name),
            ],
        );
        clone
    };
    let reference = prepare("kill-push-reference");
    let (output, duration) = run_bounded(
        &mut push_command(&env, &reference, WRITE_TOKEN, &[]),
        COMMAND_LIMIT,
    );
    assert_success(&output);

    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pointers_checked = 0;
    let mut waited_for_ref = Vec::new();
    let mut stale_locks = Vec::new();
    for trial in 0..KILL_TRIALS {
        let name = format!("kill-push-{trial:02}");
        let clone = prepare(&name);
        let delay = kill_delay(trial, duration);
        let finished = kill_after(&mut push_command(&env, &clone, WRITE_TOKEN, &[]), delay);
        let what = format!("push trial {trial} (killed after {delay:?})");

        // The Hub never holds a ref whose LFS objects are missing.
        pointers_checked += assert_remote_lfs_complete(&hub, "alice", &name);
        let remote_main = remote_ref(&hub, "alice", &name, "refs/heads/main");

        // Locally: the built commit, or the merge with the Hub's first commit.
        let (at, _) = assert_consistent_after_kill(&env, &clone, &what);
        let parents = env.git_out(&clone, &["rev-list", "--parents", "-n", "1", "HEAD"]);
        assert!(
            at == built || parents.split_whitespace().nth(1) == Some(built.as_str()),
            "{what}: HEAD {at} is neither the built commit nor a merge on top of it"
        );
        *outcomes
            .entry(
                match (finished, remote_main.as_deref() == Some(at.as_str())) {
                    (true, _) => "finished before the kill",
                    (false, true) => "killed after the ref update",
                    (false, false) if remote_main.is_none() => "killed before the repo existed",
                    (false, false) => "killed before the ref update",
                },
            )
            .or_default() += 1;

        // A rerun converges: the Hub's main is the local HEAD, with every object. The Hub may
        // still be applying the killed push when the rerun starts (git keeps going after the
        // client is gone); the rerun then finds the ref busy, waits and tries again.
        let output = run(&mut push_command(&env, &clone, WRITE_TOKEN, &[]));
        assert!(
            output.status.success(),
            "{what}: the rerun failed:\n{}",
            stderr(&output)
        );
        if stderr(&output).contains("The Hub is busy updating a ref") {
            waited_for_ref.push(format!("trial {trial}"));
        }
        if stderr(&output).contains("stale git lock file") {
            stale_locks.push(format!("trial {trial}"));
        }
        let local = head(&env, &clone);
        assert_eq!(
            remote_ref(&hub, "alice", &name, "refs/heads/main").as_deref(),
            Some(local.as_str()),
            "{what}: the rerun did not publish HEAD"
        );
        pointers_checked += assert_remote_lfs_complete(&hub, "alice", &name);
        assert_consistent_after_kill(&env, &clone, &what);
        assert_verify(&env, &clone);
    }
    hub.clear_faults();
    eprintln!(
        "kill -9 during push: {KILL_TRIALS} trials survived (push takes {duration:?}): \
         {outcomes:?}; {pointers_checked} remote LFS pointers checked; {} reruns found the \
         Hub still applying the killed push and waited for the ref: {}; {} removed a stale git \
         lock file the kill left in the clone: {}",
        waited_for_ref.len(),
        waited_for_ref.join(", "),
        stale_locks.len(),
        stale_locks.join(", ")
    );
}

// -------------------------------------------------------------------------------------------
// 3. A full disk during build

/// `hf-relay build` under `prlimit --fsize` (RLIMIT_FSIZE: no file may grow past `bytes`),
/// with SIGXFSZ ignored (the write fails with EFBIG) or left to kill the process.
fn build_with_file_size_limit(
    env: &TestEnv,
    clone: &Path,
    input: &Path,
    bytes: u64,
    ignore_sigxfsz: bool,
) -> Output {
    let sealed = env.hf_relay();
    let mut command = Command::new("sh");
    command.env_clear().current_dir(env.path());
    for (key, value) in sealed.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    let trap = if ignore_sigxfsz { "trap '' XFSZ; " } else { "" };
    command
        .arg("-c")
        .arg(format!("{trap}exec prlimit --fsize={bytes} \"$@\""))
        .arg("sh")
        .arg(sealed.get_program())
        .args(["build", "--max-shard-size", "512KB", "--dir"])
        .arg(clone)
        .arg(input);
    run(&mut command)
}

#[test]
fn a_file_size_limit_during_build_gives_a_clean_error_and_leaves_the_clone_as_it_was() {
    use std::os::unix::process::ExitStatusExt as _;
    let env = TestEnv::new();
    let first = env.write("first.jsonl", friction_like(0..40, 3));
    let input = env.write("more.jsonl", friction_like(0..300, 3));
    let clone = env.init("full-disk");
    assert_success(&build(&env, &clone, &[], &[&first]));
    let old = head(&env, &clone);

    // EFBIG: the write fails, the build reports it and the clone is exactly as it was.
    for limit in [4 << 10, 8 << 10] {
        let before = env.snapshot(&clone);
        let output = build_with_file_size_limit(&env, &clone, &input, limit, true);
        assert_exit(&output, 1);
        let err = stderr(&output);
        assert!(
            err.lines().any(|l| l.starts_with("Error: ")) && err.contains("File too large"),
            "limit {limit}: {err}"
        );
        assert!(
            before == env.snapshot(&clone),
            "limit {limit}: the clone changed"
        );
    }

    // SIGXFSZ kills the process mid-write: the clone stays at the old commit; only the
    // staging folder is left under .git.
    let before = snapshot_without_leftovers(&env, &clone);
    let output = build_with_file_size_limit(&env, &clone, &input, 6 << 10, false);
    assert_eq!(
        output.status.signal(),
        Some(25),
        "expected death by SIGXFSZ: {:?}\n{}",
        output.status,
        stderr(&output)
    );
    assert!(
        before == snapshot_without_leftovers(&env, &clone),
        "SIGXFSZ: the clone changed beyond the staging folder"
    );
    let (at, left) = assert_consistent_after_kill(&env, &clone, "SIGXFSZ");
    assert_eq!(at, old);
    eprintln!("SIGXFSZ left {left:?} under .git");

    // Without the limit the build goes through.
    assert_success(&build(
        &env,
        &clone,
        &["--max-shard-size", "512KB"],
        &[&input],
    ));
    assert_ne!(head(&env, &clone), old);
    assert_verify(&env, &clone);
}

/// A tmpfs mounted for the test (needs root); unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, bytes: u64) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        output.status.success().then(|| Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A real full disk (ENOSPC) at many points of a build: clones on tmpfs filesystems of
/// growing sizes. Needs root to mount; skipped (with a note) otherwise.
#[test]
fn a_full_disk_at_any_point_of_a_build_leaves_head_index_and_files_as_they_were() {
    let env = TestEnv::new();
    let first = env.write("first.jsonl", friction_like(0..20, 4));
    let input = env.write("more.jsonl", friction_like(0..200, 4));
    // How much a successful build needs.
    let probe = env.path().join("probe");
    let Some(mount) = Mount::tmpfs(&probe, 64 << 20) else {
        eprintln!("full disk: skipped, cannot mount a tmpfs (needs root)");
        return;
    };
    let clone = probe.join("c");
    assert_success(&run(env.hf_relay().args(["init", "you/c"]).arg(&clone)));
    assert_success(&build(&env, &clone, &[], &[&first]));
    let used_before = du(&probe);
    assert_success(&build(
        &env,
        &clone,
        &["--max-shard-size", "256KB"],
        &[&input],
    ));
    let needed = du(&probe);
    drop(mount);

    let mut failed_at = BTreeMap::new();
    let mut orphans = 0;
    // The peak is above the final size: the old shards stay until the new ones replace them.
    let steps = 24;
    let top = used_before + 2 * (needed - used_before) + (64 << 10);
    for step in 0..=steps {
        let size = used_before + (top - used_before) * step / steps;
        let dir = env.path().join(format!("disk-{step:02}"));
        let Some(_mount) = Mount::tmpfs(&dir, size.max(64 << 10)) else {
            panic!("cannot mount a tmpfs of {size} bytes");
        };
        let clone = dir.join("c");
        let init = run(env.hf_relay().args(["init", "you/c"]).arg(&clone));
        if !init.status.success() {
            continue;
        }
        if !build(&env, &clone, &[], &[&first]).status.success() {
            continue;
        }
        let old = head(&env, &clone);
        let before = env.snapshot(&clone);
        let output = build(&env, &clone, &["--max-shard-size", "256KB"], &[&input]);
        let what = format!("disk of {size} bytes");
        if output.status.success() {
            *failed_at.entry("no failure".to_string()).or_insert(0) += 1;
            assert_consistent_after_kill(&env, &clone, &what);
            continue;
        }
        assert_exit(&output, 1);
        let err = stderr(&output);
        assert!(
            err.lines().any(|l| l.starts_with("Error: "))
                && err.contains("No space left on device"),
            "{what}: {err}"
        );
        let (at, _) = assert_consistent_after_kill(&env, &clone, &what);
        assert_eq!(at, old, "{what}: HEAD moved");
        // Only objects nobody references may remain: loose git objects written before the
        // failure, an LFS object hard-linked into the store.
        let after = env.snapshot(&clone);
        for (path, bytes) in &after {
            if !before.iter().any(|(p, b)| p == path && b == bytes) {
                assert!(
                    path.starts_with(".git/objects/") || path.starts_with(".git/lfs/"),
                    "{what}: {path} changed or appeared"
                );
                orphans += usize::from(!path.ends_with('/'));
            }
        }
        for (path, _) in &before {
            assert!(
                after.iter().any(|(p, _)| p == path),
                "{what}: {path} vanished"
            );
        }
        // Group by the message without the temp paths.
        let shape: String = err
            .lines()
            .map(|l| {
                l.split_whitespace()
                    .map(|w| if w.contains('/') { "PATH" } else { w })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(" / ");
        *failed_at.entry(shape).or_insert(0) += 1;
    }
    eprintln!(
        "full disk: {} sizes from {used_before} to {top} bytes (a build needs {needed}); \
         outcomes: {failed_at:#?}; {orphans} unreferenced objects left in .git",
        steps + 1
    );
}

fn du(dir: &Path) -> u64 {
    let output = Command::new("du").arg("-sB1").arg(dir).output().unwrap();
    stdout(&output)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

// -------------------------------------------------------------------------------------------
// 4 + 5. Network faults and secrets: every Hub scenario runs with recognisable tokens.

/// A write token that must never show up anywhere.
const CANARY: &str = "hf_SECRETcanary1234567890abcdef";
/// A read-only token and a token the Hub does not know, equally recognisable.
const CANARY_READ: &str = "hf_SECRETcanaryREAD0987654321fe";
const CANARY_WRONG: &str = "hf_SECRETcanaryWRONG1122334455";
/// What every canary contains: catches partial leaks too.
const CANARY_CORE: &str = "SECRETcanary";

/// The test Hub with the canary tokens registered, and a clone built from the friction example.
struct Scene {
    hub: TestHub,
    env: TestEnv,
    clone: PathBuf,
    name: String,
    outputs: Vec<Output>,
}

impl Scene {
    /// `split_files`: how many friction files go in (each split is its own LFS object).
    fn new(name: &str) -> Scene {
        let hub = TestHub::start();
        let tokens_path = hub.root.path().join("tokens.json");
        let mut tokens: Value =
            serde_json::from_slice(&std::fs::read(&tokens_path).unwrap()).unwrap();
        tokens[CANARY] = json!({"user": "alice", "write": true, "orgs": ["acme"]});
        tokens[CANARY_READ] = json!({"user": "alice", "write": false, "orgs": []});
        std::fs::write(&tokens_path, tokens.to_string()).unwrap();
        let env = TestEnv::new();
        let clone = env.path().join(name);
        assert_success(&run(env
            .hf_relay()
            .args(["init", &format!("alice/{name}")])
            .arg(&clone)
            .args(["--endpoint", &hub.url])));
        let friction = |n: usize| repo_path(&format!("examples/friction/dialogues-0{n}.jsonl"));
        assert_success(&build(
            &env,
            &clone,
            &["--split", &format!("test={}", friction(2).display())],
            &[&friction(1)],
        ));
        Scene {
            hub,
            env,
            clone,
            name: name.to_string(),
            outputs: Vec::new(),
        }
    }

    /// Creates the repo on the Hub (its first commit) and returns its main.
    fn create_remote(&self) -> String {
        self.hub.create_dataset("alice", &self.name, false);
        self.remote_main().unwrap()
    }

    fn remote_main(&self) -> Option<String> {
        remote_ref(&self.hub, "alice", &self.name, "refs/heads/main")
    }

    fn push(&mut self, token: &str, args: &[&str], limit: Duration) -> (Output, Duration) {
        let (output, elapsed) = run_bounded(
            &mut push_command(&self.env, &self.clone, token, args),
            limit,
        );
        self.outputs.push(output.clone());
        (output, elapsed)
    }

    /// Adds a split so the next push has a new LFS object to upload.
    fn build_more(&self, split: &str, rows: std::ops::Range<usize>) {
        let input = self
            .env
            .write(&format!("{split}.jsonl"), friction_like(rows, 9));
        let spec = format!("{split}={}", input.display());
        let friction = |n: usize| repo_path(&format!("examples/friction/dialogues-0{n}.jsonl"));
        assert_success(&build(
            &self.env,
            &self.clone,
            &[
                "--split",
                &format!("test={}", friction(2).display()),
                "--split",
                &spec,
            ],
            &[&friction(1)],
        ));
    }

    /// No canary anywhere: outputs, every file of the test's folders (clones, HOME, HF_HOME)
    /// and the Hub's, every git object of the clones and of the Hub's repo.
    #[track_caller]
    fn assert_no_canary(&self) -> usize {
        for output in &self.outputs {
            for text in [stdout(output), stderr(output)] {
                assert!(
                    !text.contains(CANARY_CORE),
                    "a token in the output:\n{text}"
                );
            }
        }
        let mut scanned = 0;
        for root in [self.env.path(), self.hub.root.path()] {
            scanned += assert_no_canary_in_files(root);
        }
        for repo in git_dirs(self.env.path())
            .into_iter()
            .chain(std::iter::once(self.hub.bare_repo("alice", &self.name)))
        {
            if !repo.exists() {
                continue;
            }
            let output = Command::new("git")
                .arg("--git-dir")
                .arg(&repo)
                .args(["cat-file", "--batch-all-objects", "--batch"])
                .output()
                .unwrap();
            assert!(
                !String::from_utf8_lossy(&output.stdout).contains(CANARY_CORE),
                "a token in a git object of {}",
                repo.display()
            );
        }
        scanned
    }
}

/// Files the test put a token in on purpose.
fn deliberate_token_file(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name == ".env" || name == "tokens.json" || path.ends_with(".cache/huggingface/token")
}

#[track_caller]
fn assert_no_canary_in_files(root: &Path) -> usize {
    let mut scanned = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && !deliberate_token_file(&path) {
                let bytes = std::fs::read(&path).unwrap_or_default();
                scanned += 1;
                assert!(
                    !bytes
                        .windows(CANARY_CORE.len())
                        .any(|w| w == CANARY_CORE.as_bytes()),
                    "a token in {}",
                    path.display()
                );
            }
        }
    }
    scanned
}

fn git_dirs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if entry.file_name() == ".git" {
                    found.push(entry.path());
                } else {
                    stack.push(entry.path());
                }
            }
        }
    }
    found
}

/// Push time allowed under faults: retries with backoff (1, 2, 4, 8, 8 s) stay well under it.
const FAULT_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn transient_network_faults_are_retried_and_the_push_succeeds_in_bounded_time() {
    let cases = [
        ("lfs-429", json!({"lfs_429": 2, "retry_after": 1})),
        ("lfs-500", json!({"lfs_500": 2})),
        ("lfs-503", json!({"lfs_503": 2})),
        ("lfs-drop", json!({"lfs_drop": 2})),
        ("lfs-slow", json!({"lfs_slow_ms": 2500})),
        ("batch-429", json!({"batch_429": 2, "retry_after": 1})),
        ("batch-503", json!({"batch_503": 2})),
    ];
    let mut figures = Vec::new();
    for (name, faults) in cases {
        let mut scene = Scene::new(name);
        scene.create_remote();
        scene.hub.set_faults(&faults.to_string());
        let (output, elapsed) = scene.push(CANARY, &["--json"], FAULT_LIMIT);
        assert_success(&output);
        let result: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(result["lfs_objects_uploaded"], 2, "{name}: {result}");
        assert_eq!(
            scene.remote_main().as_deref(),
            result["commit"].as_str(),
            "{name}"
        );
        assert_remote_lfs_complete(&scene.hub, "alice", name);
        // The fault was consumed (counters go down as the Hub serves them).
        let left: Value =
            serde_json::from_slice(&std::fs::read(scene.hub.faults_file()).unwrap()).unwrap();
        for key in [
            "lfs_429",
            "lfs_500",
            "lfs_503",
            "lfs_drop",
            "batch_429",
            "batch_503",
        ] {
            if faults.get(key).is_some() {
                assert_eq!(left[key], 0, "{name}: the fault {key} was not hit: {left}");
            }
        }
        if faults.get("retry_after").is_some() {
            assert!(
                elapsed >= Duration::from_secs(1),
                "{name}: Retry-After was not honoured ({elapsed:?})"
            );
        }
        scene.assert_no_canary();
        figures.push(format!("{name}: ok in {:.1} s", elapsed.as_secs_f64()));
    }
    eprintln!("transient faults: {}", figures.join("; "));
}

/// A fault that outlasts the retry budget: a clear error, the Hub's main untouched, and the
/// push goes through once the fault is gone.
fn exhausted_fault(name: &str, faults: Value, expect: &[&str]) -> String {
    let mut scene = Scene::new(name);
    let before = scene.create_remote();
    scene.hub.set_faults(&faults.to_string());
    let (output, elapsed) = scene.push(CANARY, &[], FAULT_LIMIT);
    assert_exit(&output, 1);
    let err = stderr(&output);
    for fragment in expect {
        assert!(err.contains(fragment), "{name}: no {fragment:?} in:\n{err}");
    }
    assert_eq!(
        scene.remote_main().as_deref(),
        Some(before.as_str()),
        "{name}: the Hub's main moved"
    );
    assert_remote_lfs_complete(&scene.hub, "alice", name);
    scene.hub.clear_faults();
    let (output, _) = scene.push(CANARY, &[], FAULT_LIMIT);
    assert_success(&output);
    assert_eq!(scene.remote_main(), Some(head(&scene.env, &scene.clone)));
    assert_remote_lfs_complete(&scene.hub, "alice", name);
    scene.assert_no_canary();
    let last = err.lines().last().unwrap_or_default().to_string();
    format!(
        "{name}: exit 1 after {:.1} s ({last})",
        elapsed.as_secs_f64()
    )
}

#[test]
fn lfs_500_beyond_the_retry_budget_is_a_clear_error_and_the_remote_is_unchanged() {
    let figure = exhausted_fault(
        "lfs-500-forever",
        json!({"lfs_500": 50}),
        &["gave up after"],
    );
    eprintln!("{figure}");
}

#[test]
fn batch_503_beyond_the_retry_budget_is_a_clear_error_and_the_remote_is_unchanged() {
    let figure = exhausted_fault(
        "batch-503-forever",
        json!({"batch_503": 50}),
        &["gave up after"],
    );
    eprintln!("{figure}");
}

#[test]
fn dropped_connections_beyond_the_retry_budget_are_a_clear_error() {
    let figure = exhausted_fault("drop-forever", json!({"lfs_drop": 50}), &["gave up after"]);
    eprintln!("{figure}");
}

#[test]
fn expired_upload_urls_are_renewed_then_reported() {
    let figure = exhausted_fault("expired", json!({"expire_urls": true}), &["expired"]);
    eprintln!("{figure}");
}

#[test]
fn tokens_never_leak_into_the_clone_the_outputs_or_the_hub() {
    let mut scene = Scene::new("secrets");
    // Refused tokens first: clear errors, nothing created.
    for token in [CANARY_WRONG, CANARY_READ] {
        let (output, _) = scene.push(token, &[], COMMAND_LIMIT);
        assert_exit(&output, 1);
    }
    assert_eq!(
        scene.remote_main(),
        None,
        "a refused token created the repo"
    );
    let (output, _) = scene.push(CANARY, &["--dry-run", "--json"], COMMAND_LIMIT);
    assert_success(&output);
    let (output, _) = scene.push(CANARY, &["--json"], COMMAND_LIMIT);
    assert_success(&output);
    // The read-only token on an existing repo, after a change.
    scene.build_more("extra", 0..5);
    let (output, _) = scene.push(CANARY_READ, &[], COMMAND_LIMIT);
    assert_exit(&output, 1);

    // A token in .env (with .env no longer ignored: a user's mistake) and in HF_HOME/token.
    std::fs::write(scene.clone.join(".env"), format!("HF_TOKEN={CANARY}\n")).unwrap();
    std::fs::write(scene.clone.join(".gitignore"), "").unwrap();
    scene.build_more("extra", 0..7);
    let output = run(scene
        .env
        .hf_relay()
        .arg("push")
        .arg("--dir")
        .arg(&scene.clone));
    scene.outputs.push(output.clone());
    assert_success(&output);
    std::fs::remove_file(scene.clone.join(".env")).unwrap();
    let token_file = scene.env.home().join(".cache/huggingface/token");
    std::fs::create_dir_all(token_file.parent().unwrap()).unwrap();
    std::fs::write(&token_file, CANARY).unwrap();
    let tag = run(scene
        .env
        .hf_relay()
        .args(["tag", "v1", "--dir"])
        .arg(&scene.clone));
    assert_success(&tag);
    let output = run(scene
        .env
        .hf_relay()
        .arg("push")
        .arg("--dir")
        .arg(&scene.clone));
    scene.outputs.push(output.clone());
    assert_success(&output);

    // hf-relay clone and status with the token.
    let copy = scene.env.path().join("cloned");
    let output = run(scene
        .env
        .hf_relay()
        .args(["clone", "alice/secrets"])
        .arg(&copy)
        .args(["--endpoint", &scene.hub.url])
        .env("HF_TOKEN", CANARY));
    scene.outputs.push(output.clone());
    assert_success(&output);
    for dir in [&scene.clone, &copy] {
        let output = run(scene
            .env
            .hf_relay()
            .args(["status", "--dir"])
            .arg(dir)
            .env("HF_TOKEN", CANARY));
        scene.outputs.push(output.clone());
        assert_success(&output);
    }

    // .env is never committed, here or on the Hub.
    for git_dir in [
        scene.clone.join(".git"),
        scene.hub.bare_repo("alice", "secrets"),
    ] {
        let output = Command::new("git")
            .arg("--git-dir")
            .arg(&git_dir)
            .args(["log", "--all", "--name-only", "--format="])
            .output()
            .unwrap();
        assert_success(&output);
        assert!(
            !stdout(&output).lines().any(|f| f.ends_with(".env")),
            ".env was committed in {}",
            git_dir.display()
        );
    }
    let scanned = scene.assert_no_canary();
    eprintln!(
        "secrets: {} commands, {scanned} files and every git object scanned, 0 leaks",
        scene.outputs.len()
    );
}

// -------------------------------------------------------------------------------------------
// 6. Paths

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
