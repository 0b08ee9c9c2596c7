//! What a server sends is bounded and sanitised before it is kept or shown (issue 22, findings
//! 1–5): a hostile server in front of the test Hub (`tests/hub/hostile_git_proxy.py`) sends
//! terminal escape sequences, the token echoed back split or encoded, floods of side-band
//! progress, huge ref advertisements and malformed pkt-lines; `push` and `clone` fail (or
//! succeed) with a clear message, no control character and no form of the token on the
//! terminal, bounded memory, and the clone and the Hub unchanged.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

/// Longest a command may take before the test calls it a hang.
const LIMIT: Duration = Duration::from_secs(120);

fn run(command: &mut Command) -> Output {
    run_bounded(command, LIMIT).0
}

/// `command`'s output and its peak RSS in MiB, bounded by [`LIMIT`].
fn peak_rss_mib(command: &Command) -> (Output, u64) {
    let (output, kib) = peak_rss_kib(command, LIMIT);
    (output, kib / 1024)
}

/// The hostile proxy in front of a test Hub; its mode is a file re-read on every request.
struct Proxy {
    child: Child,
    url: String,
    mode: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proxy {
    fn start(hub: &TestHub) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let mode = dir.path().join("mode");
        let mut child = Command::new("python3")
            .arg(repo_path("tests/hub/hostile_git_proxy.py"))
            .arg(&hub.url)
            .arg(&mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the proxy did not start: {line:?}"))
            .to_string();
        Proxy {
            child,
            url,
            mode,
            _dir: dir,
        }
    }

    fn set(&self, mode: &str) {
        std::fs::write(&self.mode, mode).unwrap();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Hub with `alice/NAME`, the proxy in front of it, and a clone of it through the proxy
/// with a new build to push.
struct Scene {
    hub: TestHub,
    proxy: Proxy,
    env: TestEnv,
    clone: PathBuf,
    name: String,
}

impl Scene {
    fn new(name: &str) -> Scene {
        let hub = TestHub::start();
        let proxy = Proxy::start(&hub);
        let env = TestEnv::new();
        hub.create_dataset("alice", name, false);
        assert_success(
            &clone_command(&env, &proxy.url, name, name)
                .output()
                .unwrap(),
        );
        let clone = env.path().join(name);
        let input = friction(1);
        assert_success(&run_build(&env, &clone, &[input.to_str().unwrap()]));
        Scene {
            hub,
            proxy,
            env,
            clone,
            name: name.to_string(),
        }
    }

    fn push_command(&self) -> Command {
        let mut command = self.env.hf_relay();
        command
            .arg("push")
            .arg("--dir")
            .arg(&self.clone)
            .env("HF_TOKEN", WRITE_TOKEN);
        command
    }

    fn clone_command(&self, dest: &str) -> Command {
        clone_command(&self.env, &self.proxy.url, &self.name, dest)
    }

    /// Every ref of the clone and of the Hub's repository, HEAD, and the work tree's state.
    fn state(&self) -> String {
        let refs = |dir: &Path| {
            let output = Command::new("git")
                .arg("--git-dir")
                .arg(dir)
                .args(["for-each-ref", "--format=%(refname) %(objectname)"])
                .output()
                .unwrap();
            stdout(&output)
        };
        format!(
            "clone:\n{}HEAD {}\n{}\nhub:\n{}",
            refs(&self.clone.join(".git")),
            self.env.git_out(&self.clone, &["rev-parse", "HEAD"]),
            self.env
                .git_out(&self.clone, &["status", "--porcelain", "--ignored"]),
            refs(&self.hub.bare_repo("alice", &self.name)),
        )
    }
}

/// Every form in which the token may travel or be rendered: raw, the Basic payload, base64 of
/// the token alone, percent-encoded, and the part of it that every split leaves whole.
fn token_forms() -> Vec<String> {
    let token = WRITE_TOKEN;
    vec![
        token.to_string(),
        STANDARD.encode(format!("hf_user:{token}")),
        STANDARD.encode(format!("hf_user:{token}"))[..24].to_string(),
        STANDARD.encode(token),
        STANDARD.encode(token).trim_end_matches('=').to_string(),
        token.bytes().map(|b| format!("%{b:02x}")).collect(),
        token.bytes().map(|b| format!("%{b:02X}")).collect(),
        "testwrite".to_string(),
    ]
}

/// No control character (but the newline) and no form of the token in stdout or stderr.
#[track_caller]
fn assert_displayable(output: &Output) {
    for (name, text) in [("stdout", stdout(output)), ("stderr", stderr(output))] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
            .collect();
        assert!(
            bad.is_empty(),
            "control characters {bad:?} in {name}:\n{text:?}"
        );
        for form in token_forms() {
            assert!(!text.contains(&form), "{form:?} in {name}:\n{text}");
        }
    }
}

/// Server text with escape sequences (window title, screen clear, OSC 52, concealed text,
/// BEL/BS/NUL/DEL, a C1 CSI, a bidi override) and the token split by an escape sequence and by
/// a NUL, in an `ERR` pkt-line, a 403 body that also echoes the Basic credential (finding 2), a
/// side-band message with an `ng` reason, a side-band-3 message and a REST error body: every
/// path shows the text without a control character and without any form of the token, and
/// leaves the clone and the Hub unchanged.
#[test]
fn server_text_reaches_the_terminal_sanitised_and_redacted() {
    let scene = Scene::new("hostile");
    let before = scene.state();
    for mode in [
        "refs_403_echo",
        "refs_err",
        "push_hostile",
        "push_band3",
        "api_hostile",
    ] {
        scene.proxy.set(mode);
        let pushed = run(&mut scene.push_command());
        eprintln!("{mode}, push:\n{}", stderr(&pushed));
        assert_failure(&pushed, "HOSTILE");
        assert!(
            stderr(&pushed).contains(" END"),
            "{mode}: {}",
            stderr(&pushed)
        );
        assert_displayable(&pushed);
        assert_eq!(scene.state(), before, "{mode} changed the clone or the Hub");
        if mode.starts_with("refs_") {
            let cloned = run(&mut scene.clone_command("fresh"));
            eprintln!("{mode}, clone:\n{}", stderr(&cloned));
            assert_failure(&cloned, "HOSTILE");
            assert_displayable(&cloned);
            assert!(
                !scene.env.path().join("fresh").exists(),
                "{mode}: a partial clone"
            );
        }
        if mode == "refs_403_echo" {
            assert!(stderr(&pushed).contains("bare: ***"), "{}", stderr(&pushed));
        }
    }
}

/// 256 MiB of side-band progress before the answer of receive-pack: the push succeeds, shows
/// none of it, and its memory stays far below what it was sent (finding 3).
#[test]
fn a_flood_of_side_band_progress_costs_push_no_memory() {
    let scene = Scene::new("flood");
    scene.proxy.set("push_flood:256");
    let (pushed, mib) = peak_rss_mib(&scene.push_command());
    eprintln!("peak RSS of push under 256 MiB of side-band: {mib} MiB");
    assert_success(&pushed);
    assert_displayable(&pushed);
    assert!(
        !stderr(&pushed).contains("xxxxxxxxxx"),
        "{}",
        stderr(&pushed)
    );
    assert_eq!(
        scene.env.git_out(&scene.clone, &["rev-parse", "HEAD"]),
        scene.env.git_out(
            &scene.hub.bare_repo("alice", &scene.name),
            &["rev-parse", "main"]
        )
    );
    assert!(mib < 96, "peak RSS {mib} MiB");
}

/// An advertisement of 300,000 refs: `clone` and `push` stop with an error naming the limit,
/// in bounded memory, and leave nothing behind (finding 4).
#[test]
fn a_huge_ref_advertisement_is_refused_in_bounded_memory() {
    let scene = Scene::new("many");
    let before = scene.state();
    scene.proxy.set("refs_many:300000");
    let (cloned, clone_mib) = peak_rss_mib(&scene.clone_command("fresh"));
    let (pushed, push_mib) = peak_rss_mib(&scene.push_command());
    eprintln!("peak RSS with 300,000 refs advertised: clone {clone_mib} MiB, push {push_mib} MiB");
    for output in [&cloned, &pushed] {
        assert_failure(output, "more than 100000 refs");
        assert_displayable(output);
    }
    assert!(!scene.env.path().join("fresh").exists());
    assert_eq!(scene.state(), before);
    assert!(
        clone_mib < 96 && push_mib < 96,
        "{clone_mib} / {push_mib} MiB"
    );
}

/// A pkt-line of length `0003` (libgit2 gives no reason): the error says what the server sent
/// instead of "no error" (finding 5).
#[test]
fn an_invalid_pkt_line_is_named_not_no_error() {
    let scene = Scene::new("pkt");
    let before = scene.state();
    scene.proxy.set("refs_0003");
    let cloned = run(&mut scene.clone_command("fresh"));
    let pushed = run(&mut scene.push_command());
    for output in [&cloned, &pushed] {
        eprintln!("{}", stderr(output));
        assert_failure(output, "0003");
        assert!(!stderr(output).contains("no error"), "{}", stderr(output));
        assert_displayable(output);
    }
    assert!(!scene.env.path().join("fresh").exists());
    assert_eq!(scene.state(), before);
}
