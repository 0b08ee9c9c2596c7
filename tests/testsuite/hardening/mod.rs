//! Hardening: bad input, kill -9, a full disk, network faults, secrets and paths, proven by
//! driving the built binary. The policies and the figures are in docs/reliability.md.
//!
//! Every test bounds the time of each command it runs: a hang fails the test instead of
//! blocking the suite.

mod bad_input;
mod full_disk;
mod fuzz_smoke;
mod kill;
mod network;
mod paths;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};
use serde_json::{Value, json};

// -------------------------------------------------------------------------------------------
// Helpers

/// Longest any single hf-relay command may take before the test calls it a hang.
const COMMAND_LIMIT: Duration = Duration::from_secs(90);

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
