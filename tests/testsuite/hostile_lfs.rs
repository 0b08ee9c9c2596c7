//! Hostile and starving servers on the REST/LFS side (issue 11), and Ctrl-C during `push`,
//! `clone` and `publish` (issue 12), against the project's test Hub with its hostile switches
//! (`batch_pad`, `href`, `drip_batch`, `drip_storage`; see `tests/hub/hub_server.py`).

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

/// Longest a push or clone here may take before the test calls it a hang.
const LIMIT: Duration = Duration::from_secs(120);

fn push_command(env: &TestEnv, clone: &Path) -> Command {
    let mut command = env.hf_relay();
    command
        .arg("push")
        .arg("--dir")
        .arg(clone)
        .env("HF_TOKEN", WRITE_TOKEN);
    command
}

/// The short (12-digit) oid of the LFS object of `path` at the clone's HEAD.
fn short_oid(env: &TestEnv, clone: &Path, path: &str) -> String {
    let pointer = env.git_out(clone, &["show", &format!("HEAD:{path}")]);
    let oid = pointer
        .lines()
        .find_map(|line| line.strip_prefix("oid sha256:"))
        .unwrap_or_else(|| panic!("{path} is not an LFS pointer: {pointer}"));
    oid[..12].to_string()
}

/// The Hub's main of `alice/NAME`, if the repo exists.
fn remote_main(hub: &TestHub, name: &str) -> Option<String> {
    let bare = hub.bare_repo("alice", name);
    if !bare.exists() {
        return None;
    }
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(&bare)
        .args(["rev-parse", "--verify", "-q", "refs/heads/main"])
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The subjects on the Hub's main of `alice/NAME`.
fn remote_subjects(hub: &TestHub, name: &str) -> String {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(hub.bare_repo("alice", name))
        .args(["log", "--format=%s", "main"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn head(env: &TestEnv, clone: &Path) -> String {
    env.git_out(clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string()
}

/// Waits for `child` at most `limit`; kills it (and fails the test) past that.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> (ExitStatus, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still ran after {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `command`, sends it SIGINT after `after`, and waits (at most `limit`) for it to end.
fn interrupted(command: &mut Command, after: Duration, limit: Duration) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let err = dir.path().join("err");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the command ended before Ctrl-C: {}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (status, elapsed) = wait_bounded(&mut child, limit, "the interrupted command");
    let output = Output {
        status,
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read(&err).unwrap(),
    };
    (output, elapsed)
}

#[test]
fn a_batch_answer_padded_with_unasked_objects_costs_no_memory() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    // The same push twice, on two repos: once plain, once with a batch answer padded with
    // 60,000 objects nobody asked for (~12 MB of JSON, one in ten with an error).
    let plain = prepared_clone(&env, &hub, "plain");
    let (output, plain_kib) = peak_rss_kib(&push_command(&env, &plain), LIMIT);
    assert!(output.status.success(), "{}", stderr(&output));
    let padded = prepared_clone(&env, &hub, "padded");
    hub.set_faults(r#"{"batch_pad": 60000}"#);
    let (output, padded_kib) = peak_rss_kib(&push_command(&env, &padded), LIMIT);
    hub.clear_faults();
    eprintln!("peak RSS: plain push {plain_kib} KiB, padded batch answer {padded_kib} KiB");
    // The unasked objects (and their errors) are ignored: the push publishes.
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(remote_main(&hub, "padded"), Some(head(&env, &padded)));
    // Memory follows the objects asked, not the answer.
    assert!(
        padded_kib < plain_kib + 16 * 1024,
        "peak RSS {padded_kib} KiB with a padded answer, {plain_kib} KiB without"
    );
}

#[test]
fn a_batch_answer_far_larger_than_the_objects_asked_is_refused_without_retrying() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "huge");
    // ~30 MB of answer for one object asked (the limit is 17.8 MB for one object).
    hub.set_faults(r#"{"batch_pad": 150000}"#);
    let (output, _) = run_bounded(&mut push_command(&env, &clone), LIMIT);
    hub.clear_faults();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("the batch answer is larger than"), "{err}");
    assert!(err.contains("for 1 object asked"), "{err}");
    assert!(
        !err.contains("trying again"),
        "an oversized answer was asked for again: {err}"
    );
    assert!(
        !remote_subjects(&hub, "huge").contains("Add train"),
        "main moved"
    );
}

#[test]
fn upload_hrefs_with_userinfo_or_another_scheme_are_refused() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    for mode in ["userinfo", "file", "ftp"] {
        let name = format!("href-{mode}");
        let clone = prepared_clone(&env, &hub, &name);
        let oid = short_oid(&env, &clone, "data/train-00000.parquet");
        hub.set_faults(&format!(r#"{{"href": "{mode}"}}"#));
        let (output, _) = run_bounded(&mut push_command(&env, &clone), LIMIT);
        hub.clear_faults();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{mode}: {err}");
        assert!(err.contains("refuses to use"), "{mode}: {err}");
        assert!(err.contains(&oid), "{mode}: the object is not named: {err}");
        assert!(
            !err.contains("pass@"),
            "{mode}: the userinfo is shown: {err}"
        );
        assert!(
            !remote_subjects(&hub, &name).contains("Add train"),
            "{mode}: main moved"
        );
        // Nothing was sent to the refused URL: the object is not on the Hub.
        assert!(
            std::fs::read_dir(hub.lfs_dir("alice", &name)).map_or(true, |d| d.count() == 0),
            "{mode}: the object was uploaded"
        );
    }
}

#[test]
fn download_hrefs_with_userinfo_or_another_scheme_are_refused_by_clone() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "served");
    assert_success(&push_command(&env, &clone).output().unwrap());
    let oid = short_oid(&env, &clone, "data/train-00000.parquet");
    for mode in ["userinfo", "file", "ftp"] {
        hub.set_faults(&format!(r#"{{"href": "{mode}"}}"#));
        let dest = format!("copy-{mode}");
        let (output, _) = run_bounded(&mut clone_command(&env, &hub.url, "served", &dest), LIMIT);
        hub.clear_faults();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{mode}: {err}");
        assert!(err.contains("refuses to use"), "{mode}: {err}");
        assert!(err.contains(&oid), "{mode}: the object is not named: {err}");
        assert!(
            !err.contains("pass@"),
            "{mode}: the userinfo is shown: {err}"
        );
        assert!(!env.path().join(&dest).exists(), "{mode}: a partial clone");
    }
}

#[test]
fn a_dripping_batch_answer_ends_the_push_with_a_clear_error_in_bounded_time() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "drip");
    let (output, _) = run_bounded(&mut push_command(&env, &clone), LIMIT);
    assert_success(&output);
    let before = remote_main(&hub, "drip");
    let output = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(2))
        .output()
        .unwrap();
    assert_success(&output);
    // One byte a second: before the fix, 6 attempts of a 120 s timeout (12.5 minutes).
    hub.set_faults(r#"{"drip_batch": true}"#);
    let (output, elapsed) = run_bounded(&mut push_command(&env, &clone), LIMIT);
    hub.clear_faults();
    let err = stderr(&output);
    eprintln!(
        "dripping batch answer: exit after {:.1} s",
        elapsed.as_secs_f64()
    );
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("the server stalled or is too slow"), "{err}");
    assert!(err.contains("gave up after"), "{err}");
    assert_eq!(remote_main(&hub, "drip"), before, "the Hub's main moved");
    let output = push_command(&env, &clone).output().unwrap();
    assert_success(&output);
    assert_eq!(remote_main(&hub, "drip"), Some(head(&env, &clone)));
}

/// Ctrl-C 3 s into a push whose upload the Hub answers only after a minute.
#[test]
fn ctrl_c_stops_a_push_against_a_slow_hub_and_the_rerun_publishes() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "sigint");
    hub.create_dataset("alice", "sigint", false);
    let before = remote_main(&hub, "sigint");
    hub.set_faults(r#"{"lfs_slow_ms": 60000}"#);
    let (output, elapsed) = interrupted(
        &mut push_command(&env, &clone),
        Duration::from_secs(3),
        Duration::from_secs(15),
    );
    hub.clear_faults();
    let err = stderr(&output);
    eprintln!(
        "push: exit {:?} {:.2} s after SIGINT",
        output.status.code(),
        elapsed.as_secs_f64()
    );
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?} after SIGINT"
    );
    assert_eq!(remote_main(&hub, "sigint"), before, "the Hub's main moved");
    let output = push_command(&env, &clone).output().unwrap();
    assert_success(&output);
    assert_eq!(remote_main(&hub, "sigint"), Some(head(&env, &clone)));
}

/// Ctrl-C 3 s into a clone whose LFS download drips one byte a second.
#[test]
fn ctrl_c_stops_a_clone_during_a_slow_lfs_download_and_leaves_nothing() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "served");
    assert_success(&push_command(&env, &clone).output().unwrap());
    hub.set_faults(r#"{"drip_storage": true}"#);
    let (output, elapsed) = interrupted(
        &mut clone_command(&env, &hub.url, "served", "copy"),
        Duration::from_secs(3),
        Duration::from_secs(15),
    );
    hub.clear_faults();
    let err = stderr(&output);
    eprintln!(
        "clone: exit {:?} {:.2} s after SIGINT",
        output.status.code(),
        elapsed.as_secs_f64()
    );
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?} after SIGINT"
    );
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        !env.path().join("copy").exists(),
        "a partial clone was left"
    );
    let output = clone_command(&env, &hub.url, "served", "copy")
        .output()
        .unwrap();
    assert_success(&output);
    assert!(env.path().join("copy/data/train-00000.parquet").is_file());
}

/// Ctrl-C 3 s into a publish (init, build, push) whose upload the Hub answers only after a
/// minute.
#[test]
fn ctrl_c_stops_a_publish_and_the_rerun_publishes() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let publish = || {
        let mut command = env.hf_relay();
        command
            .args([
                "publish",
                "--repo-id",
                "alice/oneshot",
                "--endpoint",
                &hub.url,
            ])
            .arg(friction(1))
            .env("HF_TOKEN", WRITE_TOKEN);
        command
    };
    hub.set_faults(r#"{"lfs_slow_ms": 60000}"#);
    let (output, elapsed) = interrupted(
        &mut publish(),
        Duration::from_secs(3),
        Duration::from_secs(15),
    );
    hub.clear_faults();
    let err = stderr(&output);
    eprintln!(
        "publish: exit {:?} {:.2} s after SIGINT",
        output.status.code(),
        elapsed.as_secs_f64()
    );
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?} after SIGINT"
    );
    if hub.bare_repo("alice", "oneshot").exists() {
        assert!(
            !remote_subjects(&hub, "oneshot").contains("Add train"),
            "the Hub's main moved"
        );
    }
    let output = publish().output().unwrap();
    assert_success(&output);
    let clone = env.path().join("oneshot");
    assert_eq!(remote_main(&hub, "oneshot"), Some(head(&env, &clone)));
}
