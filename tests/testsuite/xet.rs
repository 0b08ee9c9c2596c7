//! `push` over Xet (issue 25): the test Hub answers the batch call with the `xet` transfer and
//! fronts a real CAS (xet-client's simulation server, on disk, in this process) with a
//! recording proxy (`tests/hub/hub_xet.py`). What the CAS holds is read back through the CAS
//! itself, byte for byte; `hf-relay clone` reads it through the Hub's LFS bridge.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use xet_client::cas_client::{DirectAccessClient, LocalTestServer, LocalTestServerBuilder};
use xet_core_structures::merklehash::MerkleHash;

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

/// A CAS on loopback storing under `data`, and the runtime it serves from.
struct Cas {
    runtime: tokio::runtime::Runtime,
    server: LocalTestServer,
    data: tempfile::TempDir,
}

impl Cas {
    fn start() -> Cas {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let data = tempfile::Builder::new()
            .prefix("hf-relay-cas-")
            .tempdir()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(
            LocalTestServerBuilder::new()
                .with_disk_location(data.path())
                .start(),
        );
        Cas {
            runtime,
            server,
            data,
        }
    }

    /// The Hub's `xet` fault key pointing at this CAS, plus `extra` keys (`"k": v, …`).
    fn faults(&self, extra: &str) -> String {
        let python = std::env::var("HF_RELAY_TEST_PYTHON").expect("HF_RELAY_TEST_PYTHON");
        let xet = serde_json::json!({
            "cas": self.server.http_endpoint(),
            "data": self.data.path(),
            "python": python,
        });
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(", {extra}")
        };
        format!(r#"{{"xet": {xet}{extra}}}"#)
    }

    /// `{oid: Xet file hash}` of every file the CAS's shards register with a SHA-256, read as
    /// the Hub reads them.
    fn registered(&self) -> HashMap<String, String> {
        let output = Command::new("python3")
            .arg("-c")
            .arg("import json, sys, hub_xet; print(json.dumps(hub_xet.registered(sys.argv[1])))")
            .arg(self.data.path())
            .env("PYTHONPATH", repo_path("tests/hub"))
            .output()
            .unwrap();
        assert_success(&output);
        serde_json::from_str(&stdout(&output)).unwrap()
    }

    /// The file the CAS reconstructs for `hash`.
    fn file(&self, hash: &str) -> Vec<u8> {
        let hash = MerkleHash::from_hex(hash).unwrap();
        self.runtime
            .block_on(self.server.get_file_data(&hash, None))
            .unwrap()
            .to_vec()
    }

    /// The xorbs stored: new chunks make new xorbs.
    fn xorbs(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self.data.path().join("xorbs")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    count += 1;
                }
            }
        }
        count
    }
}

/// `(Authorization, METHOD PATH)` of every request the Hub's CAS proxy got.
fn cas_requests(hub: &TestHub) -> Vec<(String, String)> {
    std::fs::read_to_string(hub.root.path().join("xet-cas-auth.log"))
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let request = format!(
                "{} {}",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            );
            (parts.next().unwrap_or_default().to_string(), request)
        })
        .collect()
}

fn push_command(env: &TestEnv, clone: &Path) -> Command {
    let mut command = env.hf_relay();
    command
        .args(["push", "--json", "--dir"])
        .arg(clone)
        .env("HF_TOKEN", WRITE_TOKEN);
    command
}

fn push(env: &TestEnv, clone: &Path) -> (serde_json::Value, String) {
    let output = push_command(env, clone).output().unwrap();
    assert_success(&output);
    (
        serde_json::from_str(&stdout(&output)).unwrap(),
        stderr(&output),
    )
}

fn remote_main(hub: &TestHub, name: &str) -> Option<String> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(hub.bare_repo("alice", name))
        .args(["rev-parse", "--verify", "-q", "refs/heads/main"])
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| stdout(&output).trim().to_string())
}

#[test]
fn push_over_xet_stores_each_file_in_the_cas_and_a_clone_reads_the_rows_back() {
    let cas = Cas::start();
    let hub = TestHub::start();
    hub.set_faults(&cas.faults(""));
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "xet");

    let (result, err) = push(&env, &clone);
    assert_eq!(result["lfs_objects_uploaded"], 1, "{result}");
    assert_eq!(result["xet_objects_uploaded"], 1, "{result}");
    let sent = result["bytes_sent"].as_u64().unwrap();
    assert!(sent > 0, "{result}");
    assert!(
        err.contains("Uploaded 1 LFS object (") && err.contains(" of new chunks, 0 already"),
        "{err}"
    );

    // The files went to the CAS, not to the Hub's LFS store; each reconstructs
    // byte-identically, under the SHA-256 its pointer names.
    assert!(!hub.lfs_dir("alice", "xet").exists());
    let registered = cas.registered();
    let objects = lfs_objects(&clone);
    assert!(!objects.is_empty());
    for (oid, path) in &objects {
        let local = std::fs::read(path).unwrap();
        let hash = registered
            .get(oid)
            .unwrap_or_else(|| panic!("no shard registers {oid}: {registered:?}"));
        let back = cas.file(hash);
        assert!(back == local, "the CAS gives other bytes for {oid}");
        assert_eq!(&sha256_hex(&back), oid);
    }

    // The Hub token went to the Hub only: the CAS saw its own access token on every request.
    let requests = cas_requests(&hub);
    assert!(
        requests.iter().any(|(_, r)| r.starts_with("POST ")),
        "{requests:?}"
    );
    for (auth, request) in &requests {
        assert!(auth.starts_with("Bearer xet_cas_"), "{request}: {auth}");
        assert!(!auth.contains(WRITE_TOKEN), "{request}");
    }
    assert!(!err.contains(WRITE_TOKEN));

    // A clone elsewhere reads everything back through the Hub's LFS bridge.
    let back = env.path().join("back");
    let output = env
        .hf_relay()
        .arg("clone")
        .arg("alice/xet")
        .arg(&back)
        .arg("--endpoint")
        .arg(&hub.url)
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(lfs_objects(&back).len(), objects.len());
    check_with_python(&back, &[("train", vec![friction(1)])]);
}

#[test]
fn a_push_of_data_the_cas_already_holds_sends_no_new_chunks() {
    let cas = Cas::start();
    let hub = TestHub::start();
    hub.set_faults(&cas.faults(""));
    let env = TestEnv::new();
    let first = prepared_clone(&env, &hub, "first");
    push(&env, &first);
    let xorbs = cas.xorbs();
    assert!(xorbs > 0);

    // Another repo with the same shard: the Hub asks for it, the CAS has every chunk.
    hub.set_faults(&cas.faults(r#""xet_forget": true"#));
    let second = prepared_clone(&env, &hub, "second");
    let (result, err) = push(&env, &second);
    assert_eq!(result["xet_objects_uploaded"], 1, "{result}");
    assert_eq!(cas.xorbs(), xorbs, "new xorbs for data the CAS holds");
    let size = lfs_objects(&second)[0].1.metadata().unwrap().len();
    let sent = result["bytes_sent"].as_u64().unwrap();
    // Only the shard (the file's entry) travels.
    assert!(sent < size / 20, "sent {sent} of {size}: {err}");
}

/// JSONL of `rows` rows of 2 KB hardly compressible text each.
fn random_rows(env: &TestEnv, name: &str, rows: usize, seed: u64) -> PathBuf {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut text = String::new();
    for i in 0..rows {
        let body: String = (0..2048).map(|_| rng.alphanumeric()).collect();
        text.push_str(&format!("{{\"id\": {i}, \"text\": \"{body}\"}}\n"));
    }
    env.write(name, text)
}

#[test]
fn a_one_row_edit_sends_at_most_a_fifth_of_the_changed_shard() {
    let cas = Cas::start();
    let hub = TestHub::start();
    hub.set_faults(&cas.faults(""));
    let env = TestEnv::new();
    let output = env
        .hf_relay()
        .args(["init", "alice/edit", "--endpoint", &hub.url])
        .output()
        .unwrap();
    assert_success(&output);
    let clone = env.path().join("edit");
    let input = random_rows(&env, "rows.jsonl", 4000, 25);
    assert_success(&run_build(&env, &clone, &[input.to_str().unwrap()]));
    push(&env, &clone);

    // One letter of the middle row.
    let text = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let middle = &mut lines[2000];
    let at = middle.len() / 2;
    let letter = if &middle[at..=at] == "x" { "y" } else { "x" };
    middle.replace_range(at..=at, letter);
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    assert_success(&run_build(&env, &clone, &[input.to_str().unwrap()]));

    let (result, err) = push(&env, &clone);
    assert_eq!(result["xet_objects_uploaded"], 1, "{result}");
    let shard = result["lfs_bytes_uploaded"].as_u64().unwrap();
    let sent = result["bytes_sent"].as_u64().unwrap();
    eprintln!("one-row edit: {sent} bytes sent for a shard of {shard}");
    assert!(sent * 5 <= shard, "sent {sent} of {shard}: {err}");
}

#[test]
fn with_xet_turned_off_the_push_goes_through_plain_lfs() {
    let cas = Cas::start();
    let hub = TestHub::start();
    hub.set_faults(&cas.faults(""));
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "plain");
    let output = push_command(&env, &clone)
        .env("HF_HUB_DISABLE_XET", "1")
        .output()
        .unwrap();
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["xet_objects_uploaded"], 0, "{result}");
    assert_eq!(
        result["bytes_sent"], result["lfs_bytes_uploaded"],
        "{result}"
    );
    assert!(
        !stderr(&output).contains("new chunks"),
        "{}",
        stderr(&output)
    );
    for (oid, _) in lfs_objects(&clone) {
        assert!(hub.lfs_dir("alice", "plain").join(oid).is_file());
    }
    assert!(cas_requests(&hub).is_empty());
}

/// Waits for `child` at most `limit`; kills it (and fails the test) past that.
fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the push did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_during_a_xet_upload_exits_130_and_moves_no_ref() {
    let cas = Cas::start();
    let hub = TestHub::start();
    // Every xorb or shard upload waits a minute at the Hub's CAS proxy.
    hub.set_faults(&cas.faults(r#""xet_slow_ms": 60000"#));
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "sigint");
    hub.create_dataset("alice", "sigint", false);
    let before = remote_main(&hub, "sigint");

    let dir = tempfile::tempdir().unwrap();
    let mut child = push_command(&env, &clone)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("out")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("err")).unwrap())
        .spawn()
        .unwrap();
    // Ctrl-C once the upload has reached the CAS.
    let start = Instant::now();
    while !cas_requests(&hub)
        .iter()
        .any(|(_, r)| r.starts_with("POST "))
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the push ended before reaching the CAS: {}",
            std::fs::read_to_string(dir.path().join("err")).unwrap_or_default()
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no upload to the CAS"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_bounded(&mut child, Duration::from_secs(30));
    let output = Output {
        status,
        stdout: std::fs::read(dir.path().join("out")).unwrap(),
        stderr: std::fs::read(dir.path().join("err")).unwrap(),
    };
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert_eq!(remote_main(&hub, "sigint"), before, "the Hub's main moved");
}

/// A store that answers every upload with 500 is retried as hf-relay retries the Hub (about
/// 25 s of backoff, see `hub::http::RetryPolicy`), not for hf-xet's own minutes; the push
/// then fails, naming the store and the status, and no ref moves.
#[test]
fn a_failing_cas_ends_the_push_after_hf_relays_retries() {
    let cas = Cas::start();
    let hub = TestHub::start();
    hub.set_faults(&cas.faults(r#""xet_cas_status": 500"#));
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "failing");
    hub.create_dataset("alice", "failing", false);
    let before = remote_main(&hub, "failing");

    let (output, _) = run_bounded(&mut push_command(&env, &clone), Duration::from_secs(75));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("Xet upload"), "{err}");
    assert!(err.contains("500"), "{err}");
    assert_eq!(remote_main(&hub, "failing"), before, "the Hub's main moved");
}

/// A test Hub over HTTPS for `hub.test` and `127.0.0.1`, with a certificate from a CA of its
/// own (made in `dir`): the Hub and the CA's file.
fn tls_hub(dir: &Path) -> (TestHub, PathBuf) {
    let (ca, cert, key) = make_ca(dir, &["hub.test", "127.0.0.1"]);
    let hub = TestHub::start_with_args(&[
        std::ffi::OsStr::new("--tls-cert"),
        cert.as_os_str(),
        std::ffi::OsStr::new("--tls-key"),
        key.as_os_str(),
    ]);
    (hub, ca)
}

/// The Xet client obeys hf-relay's HTTP policy: the CA bundle named by requests' variable
/// (not the one it reads itself) and `HTTPS_PROXY` for the CAS on an HTTPS Hub.
#[test]
fn xet_uploads_trust_requests_ca_bundle_and_go_through_https_proxy() {
    let cas = Cas::start();
    let certs = tempfile::tempdir().unwrap();
    let (hub, ca) = tls_hub(certs.path());
    hub.set_faults(&cas.faults(""));
    let port = hub.url.rsplit(':').next().unwrap().to_string();
    let endpoint = format!("https://hub.test:{port}");
    let proxy = Proxy::start(&["--map", "hub.test=127.0.0.1"]);
    let env = TestEnv::new();
    let clone = prepared_clone_on(&env, &endpoint, "policy");

    let output = push_command(&env, &clone)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("HTTPS_PROXY", &proxy.url)
        .output()
        .unwrap();
    assert_success(&output);
    let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(result["xet_objects_uploaded"], 1, "{result}");
    assert!(
        cas_requests(&hub)
            .iter()
            .any(|(_, r)| r.starts_with("POST ")),
        "{:?}",
        cas_requests(&hub)
    );
    let lines = proxy.lines();
    assert!(
        lines
            .iter()
            .all(|line| line == &format!("CONNECT hub.test:{port} HTTP/1.1")),
        "{lines:#?}"
    );
}

/// `NO_PROXY` holds on the Xet path as on the others: the Hub (`hub.test`, which only the
/// proxy resolves) goes through `HTTPS_PROXY`, the CAS (the same server named `127.0.0.1`)
/// does not when `NO_PROXY` names it, and does when it does not (hf-xet's reqwest exempts
/// no loopback address of its own, as curl).
#[test]
fn no_proxy_naming_the_cas_keeps_xet_uploads_off_the_proxy() {
    let cas = Cas::start();
    let certs = tempfile::tempdir().unwrap();
    let (hub, ca) = tls_hub(certs.path());
    let port = hub.url.rsplit(':').next().unwrap().to_string();
    hub.set_faults(&cas.faults(&format!(
        r#""xet_forget": true, "xet_cas_host": "127.0.0.1:{port}""#
    )));
    let proxy = Proxy::start(&["--map", "hub.test=127.0.0.1"]);
    let env = TestEnv::new();
    let through_hub = format!("CONNECT hub.test:{port} HTTP/1.1");
    let through_cas = format!("CONNECT 127.0.0.1:{port} HTTP/1.1");
    for (name, no_proxy) in [
        ("direct", Some("example.org, 127.0.0.1")),
        ("proxied", None),
    ] {
        let clone = prepared_clone_on(&env, &format!("https://hub.test:{port}"), name);
        let posts_before = cas_requests(&hub)
            .iter()
            .filter(|(_, r)| r.starts_with("POST "))
            .count();
        proxy.clear();
        let mut command = push_command(&env, &clone);
        command
            .env("REQUESTS_CA_BUNDLE", &ca)
            .env("HTTPS_PROXY", &proxy.url);
        if let Some(no_proxy) = no_proxy {
            command.env("NO_PROXY", no_proxy);
        }
        let output = command.output().unwrap();
        assert_success(&output);
        let result: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(result["xet_objects_uploaded"], 1, "{name}: {result}");
        let posts = cas_requests(&hub)
            .iter()
            .filter(|(_, r)| r.starts_with("POST "))
            .count();
        assert!(posts > posts_before, "{name}: nothing reached the CAS");
        let lines = proxy.lines();
        assert!(lines.contains(&through_hub), "{name}: {lines:#?}");
        assert_eq!(
            lines.contains(&through_cas),
            no_proxy.is_none(),
            "{name}: {lines:#?}"
        );
    }
}

/// A CAS whose certificate is not trusted (the Hub's is) ends the push at once, as on the LFS
/// path: "not trusted", the CAS named, the variables that add a CA; no ref moved. (hf-xet
/// alone retried the handshake for minutes and said only that the network failed.)
#[test]
fn an_untrusted_cas_certificate_fails_fast_with_the_hint() {
    let cas = Cas::start();
    let certs = tempfile::tempdir().unwrap();
    let (hub, ca) = tls_hub(certs.path());
    // The CAS answers on another server, with a certificate of another CA.
    let other = tempfile::tempdir().unwrap();
    let (untrusted, _) = tls_hub(other.path());
    let cas_host = untrusted.url.rsplit('/').next().unwrap().to_string();
    hub.set_faults(&cas.faults(&format!(r#""xet_cas_host": "{cas_host}""#)));
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "untrusted");

    let mut push = push_command(&env, &clone);
    push.env("REQUESTS_CA_BUNDLE", &ca);
    let (output, _) = run_bounded(&mut push, Duration::from_secs(60));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("not trusted"), "{err}");
    assert!(err.contains(&cas_host), "{err}");
    assert!(err.contains("SSL_CERT_FILE"), "{err}");
    let head = env
        .git_out(&clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert_ne!(
        remote_main(&hub, "untrusted"),
        Some(head),
        "the Hub's main moved"
    );
    assert!(cas_requests(&hub).is_empty());
}

/// An expired CAS token is refreshed from the Hub's `xet-write-token` route with the Hub token;
/// a refresh href on another host gets nothing (the Hub's own route is asked instead).
#[test]
fn an_expired_cas_token_is_refreshed_on_the_hub_and_never_from_another_host() {
    let cas = Cas::start();
    let hub = TestHub::start();
    let foreign = hf_relay_test_support::ForeignServer::start();
    let env = TestEnv::new();
    for (name, href) in [("refresh", None), ("foreign", Some(&foreign.url))] {
        let href = href.map_or(String::new(), |url| {
            format!(r#", "xet_href": "{url}/api/datasets/alice/{name}/xet-write-token/main""#)
        });
        // Both repos hold the same shard: the second is asked for again all the same.
        hub.set_faults(&cas.faults(&format!(
            r#""xet_expired_token": true, "xet_forget": true{href}"#
        )));
        let clone = prepared_clone(&env, &hub, name);
        let (result, _) = push(&env, &clone);
        assert_eq!(result["xet_objects_uploaded"], 1, "{result}");
        let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
        assert!(
            log.lines().any(|line| line.contains(&format!(
                "GET /api/datasets/alice/{name}/xet-write-token/main 200"
            ))),
            "{log}"
        );
    }
    assert_eq!(foreign.requests(), Vec::<(String, String)>::new());
}

/// The CAS token is refreshed for the ref the push goes to, not main (a token scoped to main
/// may be refused to a pull request's author): through the Hub's href, which the batch's ref
/// names, and through hf-relay's own route when the href is on another host. The routes are
/// huggingface_hub's: a branch by its name, `refs/pr/N` quoted, `None?create_pr=1` for a pull
/// request the push opens after the upload.
#[test]
fn the_cas_token_is_refreshed_for_the_branch_or_pull_request_pushed_to() {
    let cas = Cas::start();
    let hub = TestHub::start();
    let foreign = hf_relay_test_support::ForeignServer::start();
    let env = TestEnv::new();
    for (name, href) in [("viahref", None), ("fallback", Some(&foreign.url))] {
        let href = href.map_or(String::new(), |url| {
            format!(r#", "xet_href": "{url}/api/datasets/alice/{name}/xet-write-token/main""#)
        });
        hub.set_faults(&cas.faults(&format!(
            r#""xet_expired_token": true, "xet_forget": true{href}"#
        )));
        let clone = env.init_on(&hub.url, name);
        let steps: [&[&str]; 4] = [
            &[],
            &["--branch", "review/v1.0"],
            &["--create-pr"],
            &["--pr", "1"],
        ];
        for (seed, args) in steps.into_iter().enumerate() {
            // New rows each time: new shards to upload.
            let input = random_rows(&env, "rows.jsonl", 20, seed as u64);
            assert_success(&run_build(&env, &clone, &[input.to_str().unwrap()]));
            let output = push_command(&env, &clone).args(args).output().unwrap();
            assert_success(&output);
        }
        let log = std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap();
        let prefix = format!("GET /api/datasets/alice/{name}/xet-write-token/");
        let routes: Vec<&str> = log
            .lines()
            .filter_map(|line| line.split_once(&prefix).map(|(_, rest)| rest))
            .collect();
        assert_eq!(
            routes,
            [
                "main 200",
                "review%2Fv1.0 200",
                "None?create_pr=1 200",
                "refs%2Fpr%2F1 200"
            ],
            "{name}: {log}"
        );
    }
    assert_eq!(foreign.requests(), Vec::<(String, String)>::new());
}
