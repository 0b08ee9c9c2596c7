//! Test support shared by hf-relay's unit tests (`repo::remote`) and its integration test
//! suite (`tests/testsuite`): the project's Hub server (`tests/hub/hub_server.py`) on loopback,
//! with a temp root and fixed tokens, killed when dropped.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// alice's write token (member of org `acme`).
pub const WRITE_TOKEN: &str = "hf_testwrite0000000000000000000000";
/// alice's read-only token.
pub const READ_TOKEN: &str = "hf_testread00000000000000000000000";
/// A token the server does not know.
pub const WRONG_TOKEN: &str = "hf_wrongtoken000000000000000000000";

pub struct TestHub {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub root: tempfile::TempDir,
}

impl TestHub {
    pub fn start() -> TestHub {
        TestHub::start_with_args(&[])
    }

    /// Starts the server with extra arguments (e.g. `--tls-cert`, `--tls-key`).
    pub fn start_with_args(args: &[&std::ffi::OsStr]) -> TestHub {
        let root = tempfile::Builder::new()
            .prefix("hf-relay-hub-")
            .tempdir()
            .unwrap();
        let tokens = serde_json::json!({
            WRITE_TOKEN: {"user": "alice", "write": true, "orgs": ["acme"]},
            READ_TOKEN: {"user": "alice", "write": false, "orgs": []},
        });
        std::fs::write(root.path().join("tokens.json"), tokens.to_string()).unwrap();
        let (child, url) = spawn_server(root.path(), args);
        TestHub { child, url, root }
    }

    /// `POST /api/repos/create` as alice.
    pub fn create_dataset(&self, owner: &str, name: &str, private: bool) {
        let body = serde_json::json!({
            "type": "dataset",
            "name": name,
            "organization": owner,
            "private": private,
        });
        ureq::post(&format!("{}/api/repos/create", self.url))
            .header("Authorization", &format!("Bearer {WRITE_TOKEN}"))
            .send_json(&body)
            .unwrap_or_else(|error| panic!("cannot create {owner}/{name}: {error}"));
    }

    pub fn dataset_url(&self, owner: &str, name: &str) -> String {
        format!("{}/datasets/{owner}/{name}", self.url)
    }

    /// Puts an LFS object straight into the server's store, as if it had been uploaded.
    pub fn put_lfs_object(&self, owner: &str, name: &str, oid: &str, content: &[u8]) {
        let dir = self.lfs_dir(owner, name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(oid), content).unwrap();
    }

    pub fn lfs_dir(&self, owner: &str, name: &str) -> PathBuf {
        self.root.path().join("lfs").join(owner).join(name)
    }

    /// The server's fault switches (the FAULT KEYS of `hub_server.py`), re-read on every
    /// request; counters go down in the file as the faults are served.
    pub fn faults_file(&self) -> PathBuf {
        self.root.path().join("faults.json")
    }

    /// Sets the fault switches, replacing any set before (`faults` is a JSON object).
    pub fn set_faults(&self, faults: &str) {
        std::fs::write(self.faults_file(), faults).unwrap();
    }

    pub fn clear_faults(&self) {
        let _ = std::fs::remove_file(self.faults_file());
    }

    /// The server's bare repository of `owner/name`.
    pub fn bare_repo(&self, owner: &str, name: &str) -> PathBuf {
        self.root
            .path()
            .join("repos/datasets")
            .join(owner)
            .join(format!("{name}.git"))
    }
}

/// Starts `hub_server.py --root ROOT ARGS…` and waits for its `READY URL` line.
fn spawn_server(root: &Path, args: &[&std::ffi::OsStr]) -> (Child, String) {
    let script = project_root().join("tests/hub/hub_server.py");
    let log = std::fs::File::create(root.join("server.err")).unwrap();
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--root")
        .arg(root)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("cannot start python3 tests/hub/hub_server.py");
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("READY ") {
                let _ = send.send(url.trim().to_string());
            }
        }
    });
    match receive.recv_timeout(Duration::from_secs(20)) {
        Ok(url) => (child, url),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the test server did not start: {}",
                std::fs::read_to_string(root.join("server.err")).unwrap_or_default()
            );
        }
    }
}

/// Another host a redirect may lead to (`hub_server.py --foreign`): it answers every request
/// with 401 and `WWW-Authenticate: Basic`, and logs the Authorization header of each.
pub struct ForeignServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub root: tempfile::TempDir,
}

impl ForeignServer {
    pub fn start() -> ForeignServer {
        let root = tempfile::Builder::new()
            .prefix("hf-relay-foreign-")
            .tempdir()
            .unwrap();
        let (child, url) = spawn_server(root.path(), &[std::ffi::OsStr::new("--foreign")]);
        ForeignServer { child, url, root }
    }

    /// One `(request line, Authorization header or "-")` per request received.
    pub fn requests(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.root.path().join("foreign-auth.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let mut parts = line.splitn(3, ' ');
                let method = parts.next().unwrap_or_default();
                let path = parts.next().unwrap_or_default();
                let auth = parts.next().unwrap_or_default();
                (format!("{method} {path}"), auth.to_string())
            })
            .collect()
    }
}

impl Drop for ForeignServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hf-relay checkout this crate lives in (`crates/test-support/../..`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
