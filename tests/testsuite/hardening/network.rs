//! Network faults and secrets: every Hub scenario runs with recognisable tokens.

use super::*;

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
