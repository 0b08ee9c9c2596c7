//! A full disk during build: a clean error, HEAD, index and files unchanged.

use super::*;

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
