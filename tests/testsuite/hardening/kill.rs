//! kill -9 during build and push: the old or the new state, never a mix, and a rerun converges.

use super::*;

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
