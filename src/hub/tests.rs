//! Against the project's test Hub (`tests/hub/hub_server.py`): one server per test, on a
//! temporary root, with fault switches in `faults.json`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::*;
use crate::auth::Token;

const WRITE: &str = "plain-write-secret-1234"; // not hf_-shaped: only the exact redactor hides it
const HF_WRITE: &str = "hf_testwrite0000000000000000000000";
const READ: &str = "read-only-secret-5678";
const WRONG: &str = "wrong-secret-9999";

struct Hub {
    child: Child,
    url: String,
    root: tempfile::TempDir,
}

impl Hub {
    fn start() -> Hub {
        let root = tempfile::tempdir().unwrap();
        let tokens = serde_json::json!({
            WRITE: {"user": "alice", "write": true, "orgs": ["acme"]},
            HF_WRITE: {"user": "alice", "write": true, "orgs": ["acme"]},
            READ: {"user": "alice", "write": false, "orgs": []},
        });
        std::fs::write(root.path().join("tokens.json"), tokens.to_string()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hub/hub_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--root")
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs tests/hub/hub_server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("server did not start: {line:?}"))
            .to_string();
        Hub { child, url, root }
    }

    fn client(&self, token: Option<&str>) -> HubClient {
        HubClient::new(&self.url, token.map(Token::new)).with_retry_policy(RetryPolicy {
            max_retries: 5,
            base: Duration::from_millis(20),
            max: Duration::from_millis(100),
            max_server_wait: Duration::from_secs(5),
            ..RetryPolicy::default()
        })
    }

    fn faults(&self, json: serde_json::Value) {
        std::fs::write(self.root.path().join("faults.json"), json.to_string()).unwrap();
    }

    fn clear_faults(&self) {
        let _ = std::fs::remove_file(self.root.path().join("faults.json"));
    }

    fn stored(&self, repo: &str, oid: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.path().join("lfs").join(repo).join(oid)).ok()
    }

    /// A new public dataset `alice/NAME` with the write token.
    fn dataset(&self, name: &str) -> String {
        let repo = format!("alice/{name}");
        let outcome = self
            .client(Some(WRITE))
            .create_dataset(&repo, None)
            .unwrap();
        assert_eq!(outcome, CreateOutcome::Created);
        repo
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type RetryHook = Box<dyn Fn(&str) + Sync>;

#[derive(Default)]
struct Recorder {
    started: Mutex<Vec<(usize, u64)>>,
    bytes: AtomicU64,
    done: Mutex<Vec<String>>,
    retries: Mutex<Vec<(String, Duration)>>,
    /// Runs on every retry (e.g. to clear a fault).
    hook: Option<RetryHook>,
}

impl UploadReporter for Recorder {
    fn on_start(&self, total_objects: usize, total_bytes: u64) {
        self.started
            .lock()
            .unwrap()
            .push((total_objects, total_bytes));
    }
    fn on_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::SeqCst);
    }
    fn on_object_done(&self, oid: &str) {
        self.done.lock().unwrap().push(oid.to_string());
    }
    fn on_retry(&self, reason: &str, wait: Duration) {
        self.retries
            .lock()
            .unwrap()
            .push((reason.to_string(), wait));
        if let Some(hook) = &self.hook {
            hook(reason);
        }
    }
}

impl Recorder {
    fn retries(&self) -> Vec<String> {
        self.retries
            .lock()
            .unwrap()
            .iter()
            .map(|(r, _)| r.clone())
            .collect()
    }
}

/// Files with distinct content in a temp dir, as (object, path) pairs.
fn files(dir: &Path, sizes: &[usize]) -> Vec<(LfsObject, PathBuf)> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let content: Vec<u8> = (0..size)
                .map(|j| ((j * 31 + i * 7 + j / 251) % 256) as u8)
                .collect();
            let path = dir.join(format!("file-{i}.bin"));
            std::fs::write(&path, &content).unwrap();
            let oid = Sha256::digest(&content)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (
                LfsObject {
                    oid,
                    size: size as u64,
                },
                path,
            )
        })
        .collect()
}

/// No secret in the error's Display, Debug or cause chain.
fn assert_no_secret(err: &HubError) {
    for text in [format!("{err}"), format!("{err:?}"), error_chain(err)] {
        for secret in [WRITE, HF_WRITE, READ, WRONG] {
            assert!(!text.contains(secret), "secret in {text}");
        }
    }
}

#[test]
fn whoami_reports_user_orgs_and_role() {
    let hub = Hub::start();
    let me = hub.client(Some(WRITE)).whoami().unwrap();
    assert_eq!(
        me,
        WhoAmI {
            name: "alice".into(),
            orgs: vec!["acme".into()],
            role: Some("write".into()),
        }
    );
    let me = hub.client(Some(READ)).whoami().unwrap();
    assert_eq!(me.role.as_deref(), Some("read"));
}

#[test]
fn create_then_already_exists_and_dataset_info() {
    let hub = Hub::start();
    let client = hub.client(Some(WRITE));
    assert_eq!(client.dataset_info("alice/ds").unwrap(), None);
    assert_eq!(
        client.create_dataset("alice/ds", Some(false)).unwrap(),
        CreateOutcome::Created
    );
    assert_eq!(
        client.create_dataset("alice/ds", None).unwrap(),
        CreateOutcome::AlreadyExists
    );
    let info = client.dataset_info("alice/ds").unwrap().unwrap();
    assert_eq!(info.id, "alice/ds");
    assert_eq!(info.private, Some(false));
    assert_eq!(info.sha.as_deref().map(str::len), Some(40));

    // Private: visible to the owner, None for an anonymous client.
    client.create_dataset("acme/secret", Some(true)).unwrap();
    let info = client.dataset_info("acme/secret").unwrap().unwrap();
    assert_eq!(info.private, Some(true));
    assert_eq!(hub.client(None).dataset_info("acme/secret").unwrap(), None);
    // A read token may not create, but the repo exists: hfh's exist_ok answer.
    assert_eq!(
        hub.client(Some(READ))
            .create_dataset("alice/ds", None)
            .unwrap(),
        CreateOutcome::AlreadyExists
    );
}

#[test]
fn upload_three_objects_then_nothing() {
    let hub = Hub::start();
    let repo = hub.dataset("up");
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[1000, 20_000, 70_000]);
    let list: Vec<LfsObject> = objects.iter().map(|(o, _)| o.clone()).collect();
    let client = hub.client(Some(WRITE));
    assert_eq!(
        client.lfs_plan(&repo, &Revision::main(), &list).unwrap(),
        list
    );

    let recorder = Recorder::default();
    let stats = client
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(
        stats,
        UploadStats {
            objects_uploaded: 3,
            bytes_uploaded: 91_000,
            objects_skipped: 0,
            ..UploadStats::default()
        }
    );
    assert_eq!(*recorder.started.lock().unwrap(), vec![(3, 91_000)]);
    assert_eq!(recorder.bytes.load(Ordering::SeqCst), 91_000);
    assert_eq!(recorder.done.lock().unwrap().len(), 3);
    assert!(recorder.retries().is_empty());
    for (object, path) in &objects {
        assert_eq!(
            hub.stored(&repo, &object.oid).unwrap(),
            std::fs::read(path).unwrap()
        );
    }

    assert!(
        client
            .lfs_plan(&repo, &Revision::main(), &list)
            .unwrap()
            .is_empty()
    );
    let recorder = Recorder::default();
    let stats = client
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(
        stats,
        UploadStats {
            objects_uploaded: 0,
            bytes_uploaded: 0,
            objects_skipped: 3,
            ..UploadStats::default()
        }
    );
    assert_eq!(*recorder.started.lock().unwrap(), vec![(0, 0)]);
    let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
    assert_eq!(log.matches("PUT /lfs-storage/").count(), 3);
}

#[test]
fn multipart_upload() {
    let hub = Hub::start();
    let repo = hub.dataset("mp");
    hub.faults(serde_json::json!({"multipart_threshold": 5000, "chunk_size": 4096}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[10_000, 4096, 100]);
    let recorder = Recorder::default();
    let stats = hub
        .client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(stats.objects_uploaded, 3);
    assert_eq!(recorder.bytes.load(Ordering::SeqCst), 14_196);
    for (object, path) in &objects {
        assert_eq!(
            hub.stored(&repo, &object.oid).unwrap(),
            std::fs::read(path).unwrap()
        );
    }
    let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
    assert_eq!(log.matches("/part/").count(), 3, "{log}");
    assert_eq!(log.matches("POST /lfs-complete/").count(), 1, "{log}");
}

#[test]
fn retry_after_429_is_honoured() {
    let hub = Hub::start();
    let repo = hub.dataset("r429");
    hub.faults(serde_json::json!({"lfs_429": 1, "retry_after": 1}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[5000]);
    let recorder = Recorder::default();
    let start = Instant::now();
    let stats = hub
        .client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(stats.objects_uploaded, 1);
    let retries = recorder.retries.lock().unwrap().clone();
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].1, Duration::from_secs(1));
    assert!(retries[0].0.contains("HTTP 429"), "{}", retries[0].0);
    assert_eq!(recorder.bytes.load(Ordering::SeqCst), 5000);
}

#[test]
fn batch_429_is_retried() {
    let hub = Hub::start();
    let repo = hub.dataset("b429");
    hub.faults(serde_json::json!({"batch_429": 1, "retry_after": 0}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[300]);
    let recorder = Recorder::default();
    let stats = hub
        .client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(stats.objects_uploaded, 1);
    assert_eq!(recorder.retries().len(), 1);
    assert!(recorder.retries()[0].contains("batch"));
}

#[test]
fn success_after_two_500s() {
    let hub = Hub::start();
    let repo = hub.dataset("r500");
    hub.faults(serde_json::json!({"lfs_500": 2}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[3000]);
    let recorder = Recorder::default();
    hub.client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(recorder.retries().len(), 2);
    assert!(hub.stored(&repo, &objects[0].0.oid).is_some());
}

#[test]
fn retries_run_out() {
    let hub = Hub::start();
    let repo = hub.dataset("r503");
    hub.faults(serde_json::json!({"lfs_503": 10}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[3000]);
    let client = hub.client(Some(WRITE)).with_retry_policy(RetryPolicy {
        max_retries: 2,
        base: Duration::from_millis(10),
        max: Duration::from_millis(10),
        max_server_wait: Duration::from_secs(1),
        ..RetryPolicy::default()
    });
    let err = client
        .lfs_upload(&repo, &Revision::main(), &objects, &NoProgress)
        .unwrap_err();
    assert!(
        matches!(&err, HubError::RetriesExhausted { attempts: 3, last, .. }
            if matches!(**last, HubError::Server { status: 503, .. })),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(503));
    let text = error_chain(&err);
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    assert!(text.contains("HTTP 503"), "{text}");
    assert_no_secret(&err);
}

#[test]
fn dropped_connection_is_retried() {
    let hub = Hub::start();
    let repo = hub.dataset("drop");
    hub.faults(serde_json::json!({"lfs_drop": 1}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[600_000]);
    let recorder = Recorder::default();
    let stats = hub
        .client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(stats.objects_uploaded, 1);
    assert_eq!(recorder.retries().len(), 1, "{:?}", recorder.retries());
    assert!(recorder.retries()[0].contains("network error"));
    // Bytes sent twice are counted once.
    assert_eq!(recorder.bytes.load(Ordering::SeqCst), 600_000);
    assert_eq!(
        hub.stored(&repo, &objects[0].0.oid).unwrap(),
        std::fs::read(&objects[0].1).unwrap()
    );
}

#[test]
fn expired_url_is_batched_again() {
    let hub = Hub::start();
    let repo = hub.dataset("exp");
    hub.faults(serde_json::json!({"expire_urls": true}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[2000]);
    let faults = hub.root.path().join("faults.json");
    let recorder = Recorder {
        hook: Some(Box::new(move |reason: &str| {
            if reason.contains("expired") {
                let _ = std::fs::remove_file(&faults);
            }
        })),
        ..Recorder::default()
    };
    let stats = hub
        .client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &recorder)
        .unwrap();
    assert_eq!(stats.objects_uploaded, 1);
    assert!(recorder.retries()[0].contains("expired; asking for a new one"));
    let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
    assert_eq!(
        log.matches("/info/lfs/objects/batch 200").count(),
        2,
        "{log}"
    );

    // URLs that keep expiring: a clear error after a few new batch requests.
    hub.faults(serde_json::json!({"expire_urls": true}));
    let objects = files(dir.path(), &[2001]);
    let err = hub
        .client(Some(WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &NoProgress)
        .unwrap_err();
    assert!(matches!(err, HubError::ExpiredUrl { .. }), "{err:?}");
    assert!(err.to_string().contains(&objects[0].0.oid));
    assert!(!err.to_string().contains("sig="), "{err}");
}

#[test]
fn read_only_token_is_forbidden() {
    let hub = Hub::start();
    let repo = hub.dataset("ro");
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[100]);
    let client = hub.client(Some(READ));
    let err = client
        .lfs_upload(&repo, &Revision::main(), &objects, &NoProgress)
        .unwrap_err();
    assert!(matches!(err, HubError::Forbidden { .. }), "{err:?}");
    assert!(err.to_string().contains("Authorization error."), "{err}");
    assert!(err.to_string().contains("write access"), "{err}");
    assert_no_secret(&err);

    let err = client.create_dataset("alice/new", None).unwrap_err();
    assert!(matches!(err, HubError::Forbidden { .. }), "{err:?}");
    assert!(err.to_string().contains("rights to create"), "{err}");
    assert_no_secret(&err);
}

#[test]
fn wrong_token_is_unauthorized() {
    let hub = Hub::start();
    let repo = hub.dataset("wrong");
    let client = hub.client(Some(WRONG));
    let err = client.whoami().unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Unauthorized {
                invalid_token: true,
                sent_token: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid or expired"), "{err}");
    assert_no_secret(&err);

    // dataset_info only hides a 401 that does not blame the token.
    let err = client.dataset_info(&repo).unwrap_err();
    assert!(matches!(
        err,
        HubError::Unauthorized {
            invalid_token: true,
            ..
        }
    ));
    assert_no_secret(&err);

    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[100]);
    let err = client
        .lfs_upload(&repo, &Revision::main(), &objects, &NoProgress)
        .unwrap_err();
    assert!(matches!(err, HubError::Unauthorized { .. }), "{err:?}");
    assert_no_secret(&err);

    let err = hub
        .client(None)
        .lfs_upload(&repo, &Revision::main(), &objects, &NoProgress)
        .unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Unauthorized {
                sent_token: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no token was sent"), "{err}");
}

#[test]
fn debug_output_never_shows_the_token() {
    let hub = Hub::start();
    for token in [WRITE, HF_WRITE] {
        let client = hub.client(Some(token));
        assert!(!format!("{client:?}").contains(token));
        assert!(!format!("{:?}", client.redactor()).contains(token));
        assert!(
            !client
                .redactor()
                .redact(&format!("x {token} y"))
                .contains(token)
        );
    }
}

#[test]
fn download_round_trip() {
    let hub = Hub::start();
    let repo = hub.dataset("dl");
    hub.faults(serde_json::json!({"multipart_threshold": 50_000, "chunk_size": 16_384}));
    let dir = tempfile::tempdir().unwrap();
    let objects = files(dir.path(), &[10, 60_000, 300_000, 0]);
    hub.client(Some(HF_WRITE))
        .lfs_upload(&repo, &Revision::main(), &objects, &NoProgress)
        .unwrap();
    hub.clear_faults();

    let out = tempfile::tempdir().unwrap();
    let list: Vec<LfsObject> = objects.iter().map(|(o, _)| o.clone()).collect();
    let recorder = Recorder::default();
    let dest = |o: &LfsObject| out.path().join("nested").join(&o.oid);
    hub.client(None)
        .lfs_download(&repo, &list, &dest, &recorder)
        .unwrap();
    for (object, path) in &objects {
        assert_eq!(
            std::fs::read(dest(object)).unwrap(),
            std::fs::read(path).unwrap()
        );
    }
    assert_eq!(*recorder.started.lock().unwrap(), vec![(3, 360_010)]);
    assert_eq!(recorder.bytes.load(Ordering::SeqCst), 360_010);
    let leftovers: Vec<_> = std::fs::read_dir(out.path().join("nested"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".hf-relay"))
        .collect();
    assert!(leftovers.is_empty());

    // An object the Hub lacks: a hard error naming it.
    let missing = LfsObject {
        oid: "0".repeat(64),
        size: 5,
    };
    let err = hub
        .client(None)
        .lfs_download(&repo, &[missing], &dest, &NoProgress)
        .unwrap_err();
    assert!(
        matches!(&err, HubError::ObjectError { oid, code: 404, .. } if *oid == "0".repeat(64)),
        "{err:?}"
    );
}

#[test]
fn client_and_error_cross_threads() {
    fn check<T: Send + Sync + 'static>() {}
    check::<HubClient>();
    check::<HubError>();
}

#[test]
fn only_http_and_https_hrefs_without_userinfo_are_used() {
    let client = HubClient::new("http://127.0.0.1:9", None);
    let object = LfsObject {
        oid: "ab".repeat(32),
        size: 1,
    };
    for href in [
        "http://h/x",
        "HTTPS://h:443/x?sig=a@b",
        "http://127.0.0.1:9/x#y@z",
    ] {
        assert!(
            client.check_href(&object, "an upload", href).is_ok(),
            "{href}"
        );
    }
    for href in [
        "http://user:pass@h/x",
        "https://secret-pass@h/x",
        "file:///etc/passwd",
        "ftp://h/x",
        "//h/x",
        "http:///x",
    ] {
        let err = client
            .check_href(&object, "an upload", href)
            .expect_err(href);
        let text = err.to_string();
        assert!(text.contains("abababababab an upload URL"), "{text}");
        assert!(
            !text.contains("user:") && !text.contains("secret-"),
            "{text}"
        );
    }
}
