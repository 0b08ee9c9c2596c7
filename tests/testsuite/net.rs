//! The one HTTP client (`src/net`): TLS trust from `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE`
//! against the test Hub serving HTTPS with a certificate from a CA made for the test
//! (`trustme`), and proxies (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) through a CONNECT proxy
//! on loopback (`tests/hub/connect_proxy.py`) that logs each request line it gets.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

fn friction(n: usize) -> String {
    repo_path(&format!("examples/friction/dialogues-0{n}.jsonl"))
        .display()
        .to_string()
}

fn tls_hub(cert: &Path, key: &Path) -> TestHub {
    let hub = TestHub::start_with_args(&[
        OsStr::new("--tls-cert"),
        cert.as_os_str(),
        OsStr::new("--tls-key"),
        key.as_os_str(),
    ]);
    assert!(hub.url.starts_with("https://127.0.0.1:"), "{}", hub.url);
    hub
}

fn publish(env: &TestEnv, endpoint: &str, name: &str, vars: &[(&str, &str)]) -> Output {
    let mut command = env.hf_relay();
    command
        .args(["publish", "--repo-id", &format!("alice/{name}")])
        .args(["--endpoint", endpoint, "--license", "mit", "--dir", name])
        .arg(friction(1))
        .env("HF_TOKEN", WRITE_TOKEN);
    command.envs(vars.iter().copied());
    command.output().unwrap()
}

fn clone(env: &TestEnv, endpoint: &str, name: &str, dir: &str, vars: &[(&str, &str)]) -> Output {
    clone_command(env, endpoint, name, dir)
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

/// `push` of new data in `clone` (a build first).
fn build_and_push(env: &TestEnv, clone: &Path, vars: &[(&str, &str)]) -> Output {
    assert_success(
        &env.hf_relay()
            .arg("build")
            .arg("--dir")
            .arg(clone)
            .arg(friction(1))
            .arg(friction(2))
            .output()
            .unwrap(),
    );
    let mut command = env.hf_relay();
    command
        .arg("push")
        .arg("--dir")
        .arg(clone)
        .env("HF_TOKEN", WRITE_TOKEN);
    command.envs(vars.iter().copied());
    command.output().unwrap()
}

#[test]
fn an_https_hub_on_a_private_ca_works_with_ssl_cert_file_and_fails_clearly_without_it() {
    let env = TestEnv::new();
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_ca(certs.path(), &["127.0.0.1", "localhost"]);
    let hub = tls_hub(&cert, &key);
    let ca = ca.display().to_string();

    // Without the CA: refused, naming the host and the variable; nothing created on the Hub.
    let output = publish(&env, &hub.url, "tls", &[]);
    assert_failure(&output, "not trusted");
    let err = stderr(&output);
    assert!(
        err.contains("127.0.0.1") && err.contains("SSL_CERT_FILE"),
        "{err}"
    );
    assert!(!hub.bare_repo("alice", "tls").exists());

    // With it: REST (create), LFS (batch, upload, verify) and git (receive-pack).
    let output = publish(&env, &hub.url, "tls", &[("SSL_CERT_FILE", &ca)]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("Uploaded 1 LFS object ("),
        "{}",
        stderr(&output)
    );

    // clone (git upload-pack, LFS download) with requests' variable, then a push of more data.
    let output = clone(
        &env,
        &hub.url,
        "tls",
        "copy",
        &[("REQUESTS_CA_BUNDLE", &ca)],
    );
    assert_success(&output);
    let copy = env.path().join("copy");
    assert!(copy.join("README.md").exists());
    let output = build_and_push(&env, &copy, &[("CURL_CA_BUNDLE", &ca)]);
    assert_success(&output);
    let readme = env.git_out(&hub.bare_repo("alice", "tls"), &["show", "main:README.md"]);
    assert!(readme.contains("num_examples: 120"), "{readme}");

    // git without the CA: a clone fails clearly too, and leaves nothing behind.
    let output = clone(&env, &hub.url, "tls", "nocert", &[]);
    assert_failure(&output, "not trusted");
    assert!(
        stderr(&output).contains("SSL_CERT_FILE"),
        "{}",
        stderr(&output)
    );
    assert!(!env.path().join("nocert").exists());

    // A bundle that is not there is named.
    let output = clone(
        &env,
        &hub.url,
        "tls",
        "badca",
        &[("SSL_CERT_FILE", "/nonexistent/ca.pem")],
    );
    assert_failure(&output, "/nonexistent/ca.pem");
}

#[test]
fn every_request_of_publish_push_and_clone_goes_through_the_proxy_unless_no_proxy_names_the_host() {
    let env = TestEnv::new();
    let hub = TestHub::start();
    let port = hub.url.rsplit(':').next().unwrap().to_string();
    // `hub.test` resolves only inside the proxy: a request that bypassed it would fail.
    let proxy = Proxy::start(&["--map", "hub.test=127.0.0.1"]);
    let endpoint = format!("http://hub.test:{port}");
    let via = [("HTTP_PROXY", proxy.url.as_str())];

    let output = publish(&env, &endpoint, "viaproxy", &via);
    assert_success(&output);
    let lines = proxy.lines();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|line| line == &format!("CONNECT hub.test:{port} HTTP/1.1")),
        "{lines:#?}"
    );
    proxy.clear();
    let output = clone(&env, &endpoint, "viaproxy", "copy", &via);
    assert_success(&output);
    assert!(!proxy.lines().is_empty());
    proxy.clear();
    let output = build_and_push(&env, &env.path().join("copy"), &via);
    assert_success(&output);
    assert!(!proxy.lines().is_empty());

    // Loopback is proxied too (as curl does) unless NO_PROXY names it.
    proxy.clear();
    let output = clone(&env, &hub.url, "viaproxy", "loop", &via);
    assert_success(&output);
    assert!(
        proxy
            .lines()
            .iter()
            .any(|l| l.contains(&format!("127.0.0.1:{port}"))),
        "{:?}",
        proxy.lines()
    );
    proxy.clear();
    let output = clone(
        &env,
        &hub.url,
        "viaproxy",
        "direct",
        &[
            ("http_proxy", proxy.url.as_str()),
            ("no_proxy", "localhost,127.0.0.1"),
        ],
    );
    assert_success(&output);
    assert_eq!(proxy.lines(), Vec::<String>::new());
    // HTTPS_PROXY is for https URLs only: a plain-http Hub is reached directly.
    let output = clone(
        &env,
        &hub.url,
        "viaproxy",
        "direct2",
        &[("HTTPS_PROXY", proxy.url.as_str())],
    );
    assert_success(&output);
    assert_eq!(proxy.lines(), Vec::<String>::new());
}

#[test]
fn an_https_hub_is_reached_through_https_proxy_and_proxy_credentials_are_never_shown() {
    let env = TestEnv::new();
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_ca(certs.path(), &["127.0.0.1", "localhost"]);
    let hub = tls_hub(&cert, &key);
    let ca = ca.display().to_string();
    let proxy = Proxy::start(&["--user", "bob", "--password", "pw-s3cret-9"]);
    let port = proxy.url.rsplit(':').next().unwrap();
    let good = format!("http://bob:pw-s3cret-9@127.0.0.1:{port}");
    let output = publish(
        &env,
        &hub.url,
        "tlsproxy",
        &[("SSL_CERT_FILE", &ca), ("HTTPS_PROXY", &good)],
    );
    assert_success(&output);
    let hub_port = hub.url.rsplit(':').next().unwrap();
    let lines = proxy.lines();
    assert!(
        !lines.is_empty()
            && lines
                .iter()
                .all(|l| l == &format!("CONNECT 127.0.0.1:{hub_port} HTTP/1.1")),
        "{lines:#?}"
    );

    // A wrong proxy password: a clear failure, and the password appears nowhere.
    let bad = format!("http://bob:pw-wr0ng-7@127.0.0.1:{port}");
    let output = clone(
        &env,
        &hub.url,
        "tlsproxy",
        "copy",
        &[("SSL_CERT_FILE", &ca), ("HTTPS_PROXY", &bad)],
    );
    assert!(!output.status.success());
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!text.contains("pw-wr0ng-7"), "{text}");
    assert!(text.contains("407") || text.contains("proxy"), "{text}");
}
