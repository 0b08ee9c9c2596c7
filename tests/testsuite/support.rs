//! A sealed environment for driving the built binary: temp HOME and HF_HOME, no inherited
//! Hugging Face or git identity variables, fixed commit dates.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hf_relay_test_support::{TestHub, WRITE_TOKEN};

pub struct TestEnv {
    pub root: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let root = tempfile::Builder::new()
            .prefix("hf-relay-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        TestEnv { root }
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The hf-relay binary with a cleared environment, run in the test's root folder.
    pub fn hf_relay(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hf-relay"));
        self.seal(&mut command);
        command
    }

    /// The hf-relay binary with stdin, stdout and stderr on a pseudo-terminal (Python's `pty`),
    /// in the same sealed environment: everything it drew there comes back as stdout.
    pub fn hf_relay_on_terminal(&self) -> Command {
        let mut command = Command::new("python3");
        self.seal(&mut command);
        command
            .args([
                "-c",
                "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))",
                env!("CARGO_BIN_EXE_hf-relay"),
            ])
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::null());
        command
    }

    /// Plain `git` in the same sealed environment.
    pub fn git(&self, dir: &Path) -> Command {
        let mut command = Command::new("git");
        self.seal(&mut command);
        command.current_dir(dir);
        command
    }

    fn seal(&self, command: &mut Command) {
        command
            .env_clear()
            .current_dir(self.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("HF_HOME", self.home().join(".cache/huggingface"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", "@1764000000 +0000")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_COMMITTER_DATE", "@1764000000 +0000")
            .env("LANG", "C.UTF-8");
    }

    /// Runs `git` and returns its stdout, failing the test on a non-zero exit.
    pub fn git_out(&self, dir: &Path, args: &[&str]) -> String {
        let output = self.git(dir).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// `hf-relay init you/NAME` with an offline endpoint; returns the clone's path.
    pub fn init(&self, name: &str) -> PathBuf {
        self.init_repo(&format!("you/{name}"), "http://127.0.0.1:9")
    }

    /// `hf-relay init alice/NAME` on the test Hub at `endpoint` (alice is the owner of the
    /// Hub's write token, so `push` can publish it); returns the clone's path.
    pub fn init_on(&self, endpoint: &str, name: &str) -> PathBuf {
        self.init_repo(&format!("alice/{name}"), endpoint)
    }

    /// `hf-relay init OWNER/NAME --endpoint ENDPOINT`, which must succeed; returns the clone's
    /// path (NAME in the test's root folder).
    pub fn init_repo(&self, repo_id: &str, endpoint: &str) -> PathBuf {
        let output = self
            .hf_relay()
            .args(["init", repo_id, "--endpoint", endpoint])
            .output()
            .unwrap();
        assert_success(&output);
        let (_, name) = repo_id.split_once('/').expect("OWNER/NAME");
        self.path().join(name)
    }

    /// A snapshot of everything a failed command must leave as it was: HEAD, the index, the
    /// working tree and the files under .git (but for the lock file).
    pub fn snapshot(&self, clone: &Path) -> Vec<(String, Vec<u8>)> {
        let mut entries = Vec::new();
        collect(clone, clone, &mut entries);
        entries.sort();
        entries
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == ".git/hf-relay.lock" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            out.push((format!("{rel}/"), Vec::new()));
            collect(root, &path, out);
        } else {
            out.push((rel, std::fs::read(&path).unwrap()));
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "command failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Exit code 1 (an error, not a usage error) with `stderr_part` in the message.
#[track_caller]
pub fn assert_failure(output: &Output, stderr_part: &str) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    assert!(
        stderr(output).contains(stderr_part),
        "stderr lacks {stderr_part:?}:\n{}",
        stderr(output)
    );
}

/// Asserts that what a command drew on a terminal holds a progress bar labelled `label`, and
/// that every frame of it shows the total `bytes`: none is drawn before the total is known (a
/// bar of length 0 is drawn full, as `0 B/0 B`).
pub fn assert_progress_frames(drawn: &str, label: &str, bytes: u64) {
    assert!(
        drawn.contains(&format!("{label} [")),
        "no progress bar {label:?}:\n{drawn}"
    );
    let total = format!("/{} ", hf_relay::units::human_bytes(bytes));
    let frames: Vec<&str> = drawn
        .split(['\r', '\n'])
        .filter(|frame| frame.contains("B/"))
        .collect();
    assert!(
        frames.iter().all(|frame| frame.contains(&total)),
        "a frame without the total {total:?}:\n{frames:#?}"
    );
}

/// The Python of the test venv (`scripts/test.sh` creates it and sets the variable).
pub fn python() -> Command {
    let python = std::env::var("HF_RELAY_TEST_PYTHON").expect(
        "HF_RELAY_TEST_PYTHON is not set: run the tests with ./scripts/test.sh, which installs \
         the Python clients (datasets, pyarrow, huggingface_hub, PyYAML) they need",
    );
    Command::new(python)
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs `tests/python/check_clone.py` on a clone (datasets/pyarrow/PyYAML/huggingface_hub).
pub fn check_with_python(clone: &Path, splits: &[(&str, Vec<PathBuf>)]) -> String {
    check_with_script("tests/python/check_clone.py", clone, splits)
}

/// Runs a checker of `tests/python/` on a clone with `SPLIT=FILE,...` arguments, offline, with
/// the `datasets` cache of the clone's test environment; its output.
pub fn check_with_script(script: &str, clone: &Path, splits: &[(&str, Vec<PathBuf>)]) -> String {
    let mut command = python();
    command.arg(repo_path(script)).arg(clone);
    for (split, files) in splits {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        command.arg(format!("{split}={}", files.join(",")));
    }
    let hf_home = clone.parent().unwrap().join("home/.cache/huggingface");
    command
        .env("HF_DATASETS_OFFLINE", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", hf_home);
    let output = command.output().unwrap();
    assert_success(&output);
    stdout(&output)
}

/// `hf-relay build --dir CLONE ARGS...`, as it ended.
pub fn run_build(env: &TestEnv, clone: &Path, args: &[&str]) -> Output {
    env.hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .output()
        .unwrap()
}

/// The `Input:` trailers of HEAD's commit message (the inputs' SHA-256).
pub fn trailers(env: &TestEnv, clone: &Path) -> Vec<String> {
    env.git_out(clone, &["log", "-1", "--format=%B"])
        .lines()
        .filter(|l| l.starts_with("Input: "))
        .map(String::from)
        .collect()
}

/// SHA-256 of `bytes`, lowercase hex (an LFS object id).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `.git/hf-relay/verified-lfs.json` and `stat` say of a file: size, mtime (ns), ctime
/// (ns), inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamps {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
}

pub fn stamps(path: &Path) -> Stamps {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).unwrap();
    Stamps {
        size: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        inode: meta.ino(),
    }
}

/// The entry of `oid` in the clone's cache of verified LFS objects: its stamps and when it was
/// recorded (ns).
pub fn verified_entry(clone: &Path, oid: &str) -> Option<(Stamps, i64)> {
    let text = std::fs::read_to_string(clone.join(".git/hf-relay/verified-lfs.json")).ok()?;
    let cache: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entry = cache["objects"].get(oid)?;
    let field = |name: &str| entry[name].as_i64().unwrap();
    Some((
        Stamps {
            size: field("size") as u64,
            mtime_ns: field("mtime_ns"),
            ctime_ns: field("ctime_ns"),
            inode: field("inode") as u64,
        },
        field("recorded_ns"),
    ))
}

/// Flips one byte of `path` in place (same inode, same size), then sets its mtime back with
/// `touch -d`, as a tool that preserves times would: only the ctime (which nobody can set)
/// tells the file changed.
pub fn corrupt_in_place_keeping_mtime(path: &Path) {
    use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
    let before = stamps(path);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let middle = before.size / 2;
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(middle)).unwrap();
    file.read_exact(&mut byte).unwrap();
    file.seek(SeekFrom::Start(middle)).unwrap();
    file.write_all(&[byte[0] ^ 0xff]).unwrap();
    drop(file);
    let mtime = format!(
        "@{}.{:09}",
        before.mtime_ns.div_euclid(1_000_000_000),
        before.mtime_ns.rem_euclid(1_000_000_000)
    );
    let status = Command::new("touch")
        .args(["-m", "-d", &mtime])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "touch -m -d {mtime} failed");
    let after = stamps(path);
    assert_eq!(
        (after.size, after.mtime_ns, after.inode),
        (before.size, before.mtime_ns, before.inode),
        "the corruption must keep size, mtime and inode"
    );
    assert_ne!(after.ctime_ns, before.ctime_ns, "the ctime moves");
}

/// What a person saw: the exit code, stdout and stderr together, with the test's temporary
/// root written `[ROOT]` — the form a snapshot pins.
pub fn transcript(env: &TestEnv, output: &Output) -> String {
    let root = env.path().to_string_lossy().into_owned();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or_else(|| "signal".to_string(), |code| code.to_string()),
        stdout(output),
        stderr(output)
    )
    .replace(&root, "[ROOT]")
}

// -------------------------------------------------------------------------------------------
// Transcripts: what a person read, in the stable form a snapshot pins.

/// A person at a shell: the sealed environment, the test Hub and a token in `HF_TOKEN`.
pub struct Shell {
    pub env: TestEnv,
    pub hub: TestHub,
}

impl Shell {
    pub fn new() -> Shell {
        Shell {
            env: TestEnv::new(),
            hub: TestHub::start(),
        }
    }

    /// `hf-relay ARGS...` run in `cwd` (as after `cd`), with the token and the Hub endpoint.
    pub fn hf_relay(&self, cwd: &Path, args: &[&str]) -> Output {
        self.env
            .hf_relay()
            .current_dir(cwd)
            .args(args)
            .env("HF_TOKEN", WRITE_TOKEN)
            .env("HF_ENDPOINT", &self.hub.url)
            .output()
            .unwrap()
    }

    /// Like `hf_relay`, failing the test when the command fails.
    #[track_caller]
    pub fn ok(&self, cwd: &Path, args: &[&str]) -> Output {
        let output = self.hf_relay(cwd, args);
        assert_success(&output);
        output
    }

    pub fn root(&self) -> &Path {
        self.env.path()
    }

    /// What the person read ([`transcript`]), with what changes from run to run replaced: the
    /// Hub's address `[HUB]`, its folder `[HUBROOT]`, hashes `[HASH]`, dates `[DATE]`.
    pub fn transcript(&self, output: &Output) -> String {
        let text = transcript(&self.env, output)
            .replace(&self.hub.url, "[HUB]")
            .replace(
                &self.hub.root.path().to_string_lossy().into_owned(),
                "[HUBROOT]",
            );
        scrub_dates(&scrub_hashes(&text))
    }
}

/// Hex runs (commit ids, short ids, SHA-256) become `[HASH]`: 12 characters or more, or 7 to
/// 11 with a digit.
pub fn scrub_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let hex = word.len() >= 7
            && word
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            // Without a digit, 7 to 11 letters a-f may be a word; 12 never are. (The 7-character
            // ids the transcripts show are of commits with fixed dates: stable anyway.)
            && (word.len() >= 12 || word.chars().any(|c| c.is_ascii_digit()));
        out.push_str(if hex { "[HASH]" } else { word });
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `2026-12-07 18:38:51` becomes `[DATE]`.
pub fn scrub_dates(text: &str) -> String {
    const SHAPE: &str = "dddd-dd-dd dd:dd:dd";
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let fits = chars.len() - i >= SHAPE.len()
            && SHAPE
                .chars()
                .zip(&chars[i..])
                .all(|(shape, c)| match shape {
                    'd' => c.is_ascii_digit(),
                    other => other == *c,
                });
        if fits {
            out.push_str("[DATE]");
            i += SHAPE.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// One of the friction example's input files (`dialogues-0N.jsonl`).
pub fn friction(n: usize) -> PathBuf {
    repo_path(&format!("examples/friction/dialogues-0{n}.jsonl"))
}

/// `hf-relay init alice/NAME --endpoint HUB` + a build of the friction example.
pub fn prepared_clone(env: &TestEnv, hub: &TestHub, name: &str) -> PathBuf {
    prepared_clone_on(env, &hub.url, name)
}

/// [`prepared_clone`] for a Hub at `endpoint` (another name for the test Hub, e.g. behind a
/// proxy).
pub fn prepared_clone_on(env: &TestEnv, endpoint: &str, name: &str) -> PathBuf {
    let clone = env.init_on(endpoint, name);
    let input = friction(1);
    assert_success(&run_build(env, &clone, &[input.to_str().unwrap()]));
    clone
}

/// `hf-relay clone alice/NAME DEST --endpoint ENDPOINT` with the Hub's write token: the
/// command, to run, bound or measure.
pub fn clone_command(env: &TestEnv, endpoint: &str, name: &str, dest: &str) -> Command {
    let mut command = env.hf_relay();
    command
        .args([
            "clone",
            &format!("alice/{name}"),
            dest,
            "--endpoint",
            endpoint,
        ])
        .env("HF_TOKEN", WRITE_TOKEN);
    command
}

// -------------------------------------------------------------------------------------------
// Bounded runs: a hang fails the test instead of blocking the suite; memory is measured or
// capped where a test is about memory.

/// Runs `command` to its end with its output captured and returns it with how long it took.
/// Past `limit` the command is killed with its process group (what it started, such as the
/// program under `/usr/bin/time`, goes too) and the test fails as a hang, with the stderr so
/// far. The output goes through files, not pipes: a process left behind cannot hold the test.
pub fn run_bounded(command: &mut Command, limit: Duration) -> (Output, Duration) {
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let start = Instant::now();
    let mut child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "{command:?} did not finish within {limit:?} (a hang); stderr:\n{}",
                String::from_utf8_lossy(&std::fs::read(&err).unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read(&err).unwrap(),
    };
    (output, elapsed)
}

/// `command` run by `program ARGS...`: the same program, arguments, environment (`TestEnv`
/// commands set theirs explicitly over a cleared one) and folder.
pub fn run_under(program: &str, args: &[&OsStr], command: &Command) -> Command {
    let mut wrapper = Command::new(program);
    wrapper
        .args(args)
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            wrapper.env(key, value);
        }
    }
    if let Some(dir) = command.get_current_dir() {
        wrapper.current_dir(dir);
    }
    wrapper
}

/// `command` with its address space capped at `bytes` (`prlimit --as`): an unbounded
/// allocation ends in an error instead of taking the machine.
pub fn with_address_space_limit(command: &Command, bytes: u64) -> Command {
    let limit = format!("--as={bytes}");
    run_under("prlimit", &[OsStr::new(&limit), OsStr::new("--")], command)
}

/// `command` under `/usr/bin/time -v`, bounded by `limit` as [`run_bounded`]: its output (the
/// report goes to a file, stderr is the command's own) and its peak RSS in KiB.
pub fn peak_rss_kib(command: &Command, limit: Duration) -> (Output, u64) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("time");
    let mut timed = run_under(
        "/usr/bin/time",
        &[OsStr::new("-v"), OsStr::new("-o"), report.as_os_str()],
        command,
    );
    let (output, _) = run_bounded(&mut timed, limit);
    let report = std::fs::read_to_string(&report).unwrap();
    let kib = report
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .unwrap_or_else(|| panic!("no peak RSS in:\n{report}"))
        .trim()
        .parse()
        .unwrap();
    (output, kib)
}

/// The CONNECT proxy of the tests (`tests/hub/connect_proxy.py ARGS`), which logs each request
/// line it gets; killed when dropped.
pub struct Proxy {
    child: std::process::Child,
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proxy {
    pub fn start(args: &[&str]) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("proxy.log");
        let mut child = std::process::Command::new("python3")
            .arg(repo_path("tests/hub/connect_proxy.py"))
            .arg("--log")
            .arg(&log)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in
                std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok)
            {
                if let Some(url) = line.strip_prefix("READY ") {
                    let _ = send.send(url.to_string());
                }
            }
        });
        let url = receive
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the proxy did not start");
        Proxy {
            child,
            url,
            log,
            _dir: dir,
        }
    }

    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn clear(&self) {
        std::fs::write(&self.log, "").unwrap();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HEAD's shards, in name order, with their LFS object ids.
pub fn head_shards(env: &TestEnv, clone: &Path) -> Vec<(String, String)> {
    let listing = env.git_out(clone, &["ls-tree", "HEAD", "data/"]);
    listing
        .lines()
        .filter(|line| line.ends_with(".parquet"))
        .map(|line| {
            let (meta, path) = line.split_once('\t').unwrap();
            let blob = meta.split_whitespace().nth(2).unwrap();
            let pointer = env.git_out(clone, &["cat-file", "blob", blob]);
            let oid = pointer
                .lines()
                .find_map(|l| l.strip_prefix("oid sha256:"))
                .unwrap()
                .to_string();
            (path.to_string(), oid)
        })
        .collect()
}

/// `(oid, path)` of every LFS object in the clone's store, by oid.
pub fn lfs_objects(clone: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let mut stack = vec![clone.join(".git/lfs/objects")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if name.len() == 64 {
                    found.push((name, path));
                }
            }
        }
    }
    found.sort();
    found
}

/// Runs a Python script (the test venv: duckdb, polars, pyarrow) in the test's folder, which
/// must succeed.
pub fn run_python(env: &TestEnv, script: &str) {
    let output = python()
        .arg("-c")
        .arg(script)
        .current_dir(env.path())
        .output()
        .unwrap();
    assert_success(&output);
}

/// A CA (`ca.pem`) and a certificate for `hosts` (`cert.pem`, `key.pem`), made by trustme in
/// `dir`.
pub fn make_ca(dir: &Path, hosts: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    let script = r#"
import sys, trustme
out = sys.argv[1]
ca = trustme.CA()
cert = ca.issue_cert(*sys.argv[2:])
ca.cert_pem.write_to_path(out + "/ca.pem")
cert.private_key_pem.write_to_path(out + "/key.pem")
for blob in cert.cert_chain_pems:
    blob.write_to_path(out + "/cert.pem", append=True)
"#;
    let output = python()
        .arg("-c")
        .arg(script)
        .arg(dir)
        .args(hosts)
        .output()
        .unwrap();
    assert_success(&output);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}
