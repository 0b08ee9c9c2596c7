//! Hostile servers and repositories on the git side (issue 11): a Hub that redirects git to
//! another origin, a server that echoes the credential back, a repository whose `data` is a
//! symbolic link out of the clone. Driven through the binary as a user would.

use std::path::Path;
use std::process::Output;

use crate::support::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hf_relay_test_support::{ForeignServer, TestHub, WRITE_TOKEN};

fn push(env: &TestEnv, clone: &Path) -> Output {
    env.hf_relay()
        .arg("push")
        .arg("--dir")
        .arg(clone)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap()
}

/// Every form in which the token may travel: raw, the Basic payload hf-relay sends, base64 of
/// the token alone, URL-encoded (as Python's `quote` and byte by byte).
fn token_forms() -> Vec<String> {
    let token = WRITE_TOKEN;
    vec![
        token.to_string(),
        STANDARD.encode(format!("hf_user:{token}")),
        STANDARD.encode(token),
        STANDARD.encode(token).trim_end_matches('=').to_string(),
        token.replace('_', "%5F"),
        token.bytes().map(|b| format!("%{b:02x}")).collect(),
        token.bytes().map(|b| format!("%{b:02X}")).collect(),
    ]
}

/// No form of the token in the outputs, nor in any file under `dir` (when it exists).
fn assert_token_nowhere(outputs: &[&Output], dir: Option<&Path>) {
    for form in token_forms() {
        for output in outputs {
            assert!(!stdout(output).contains(&form), "{form:?} in stdout");
            assert!(
                !stderr(output).contains(&form),
                "{form:?} in stderr:\n{}",
                stderr(output)
            );
        }
    }
    let Some(dir) = dir.filter(|dir| dir.exists()) else {
        return;
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                for form in token_forms() {
                    assert!(!text.contains(&form), "{form:?} in {}", path.display());
                }
            }
        }
    }
}

/// The foreign server got no Authorization header at all.
#[track_caller]
fn assert_no_credential_sent(foreign: &ForeignServer) {
    let requests = foreign.requests();
    for (request, auth) in &requests {
        assert_eq!(
            auth, "-",
            "the foreign host got a credential with {request}"
        );
    }
}

fn port(url: &str) -> &str {
    url.rsplit(':').next().unwrap()
}

/// The Hub answers `GET …/info/refs` with a 302 to another origin whose server asks for Basic
/// credentials: `push` and `clone` stop with an error naming both, and that server never sees
/// an Authorization header — nor any request. Tried with another port of the same host and
/// with another host name.
#[test]
fn a_git_redirect_to_another_origin_gets_no_token_for_push_or_clone() {
    let hub = TestHub::start();
    let foreign = ForeignServer::start();
    let env = TestEnv::new();
    hub.create_dataset("alice", "moved", false);
    let clone = prepared_clone(&env, &hub, "moved");
    let other_host = foreign.url.replace("127.0.0.1", "localhost");

    for target in [&foreign.url, &other_host] {
        hub.set_faults(
            &serde_json::json!({
                "git_redirect": {"alice/moved": format!("{target}/datasets/alice/moved")}
            })
            .to_string(),
        );
        let head_before = env.git_out(&hub.bare_repo("alice", "moved"), &["rev-parse", "main"]);

        let pushed = push(&env, &clone);
        assert_no_credential_sent(&foreign);
        assert_failure(&pushed, "redirected git for alice/moved");
        let text = stderr(&pushed);
        assert!(
            text.contains(&format!("127.0.0.1:{}", port(&hub.url))),
            "{text}"
        );
        let foreign_host = match target == &foreign.url {
            true => format!("127.0.0.1:{}", port(&foreign.url)),
            false => "localhost".to_string(),
        };
        assert!(text.contains(&foreign_host), "{text}");
        assert_eq!(
            env.git_out(&hub.bare_repo("alice", "moved"), &["rev-parse", "main"]),
            head_before,
            "the Hub's main moved"
        );

        let dest = format!(
            "fresh-{}",
            if target == &foreign.url {
                "port"
            } else {
                "host"
            }
        );
        let cloned = clone_command(&env, &hub.url, "moved", &dest)
            .output()
            .unwrap();
        assert_no_credential_sent(&foreign);
        assert_failure(&cloned, "redirected git for alice/moved");
        assert!(
            stderr(&cloned).contains(&foreign_host),
            "{}",
            stderr(&cloned)
        );
        assert!(!env.path().join(&dest).exists(), "a partial clone was left");
        assert_token_nowhere(&[&pushed, &cloned], Some(&clone.join(".git")));
    }
    // git goes over hf-relay's own client, which refuses a redirect to another origin before
    // contacting it: the foreign server got no request at all, with or without a credential.
    assert_eq!(foreign.requests(), Vec::new());
}

/// A redirect within the Hub's origin (a renamed repository) is followed, and the token goes
/// with it: a private repository clones through it.
#[test]
fn a_git_redirect_within_the_hubs_origin_is_followed() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    hub.create_dataset("alice", "real", true);
    let clone = prepared_clone(&env, &hub, "real");
    assert_success(&push(&env, &clone));
    hub.set_faults(
        &serde_json::json!({
            "git_redirect": {"alice/alias": hub.dataset_url("alice", "real")}
        })
        .to_string(),
    );

    let cloned = clone_command(&env, &hub.url, "alias", "through-alias")
        .arg("--no-lfs")
        .output()
        .unwrap();
    assert_success(&cloned);
    assert_eq!(
        env.git_out(&env.path().join("through-alias"), &["rev-parse", "HEAD"]),
        env.git_out(&hub.bare_repo("alice", "real"), &["rev-parse", "main"])
    );
    assert_token_nowhere(&[&cloned], Some(&env.path().join("through-alias/.git")));
}

/// A pre-receive hook that prints the credential it was sent (the Authorization value, its
/// base64 payload, base64 of the token alone, the token URL-encoded): the refused push quotes
/// the hook's `remote:` lines with every form of the token masked.
#[test]
fn a_hook_that_echoes_the_credential_shows_no_form_of_the_token() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    hub.create_dataset("alice", "echo", false);
    let clone = prepared_clone(&env, &hub, "echo");
    hub.set_faults(r#"{"hook_echo_auth": true}"#);

    let pushed = push(&env, &clone);
    assert_token_nowhere(&[&pushed], Some(&clone.join(".git")));
    assert_failure(&pushed, "remote: DENIED: hook_echo_auth refuses every push");
    let text = stderr(&pushed);
    // The hook did run and its lines are relayed, masked.
    for line in [
        "remote: I was sent: Basic ***",
        "remote: its payload: ***",
        "remote: the token alone in base64: ***",
        "remote: quoted: ***",
        "remote: every byte: ***",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
}

/// A repository whose `data` is a committed symbolic link out of the clone: `build` refuses to
/// write through it, says what is wrong, and leaves the clone and the outside untouched.
#[test]
fn a_committed_data_symlink_out_of_the_clone_is_refused_clearly() {
    let env = TestEnv::new();
    let clone = env.init("linked");
    let outside = env.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink("../outside", clone.join("data")).unwrap();
    env.git_out(&clone, &["add", "data"]);
    env.git_out(&clone, &["commit", "-q", "-m", "data is elsewhere"]);
    let head_before = env.git_out(&clone, &["rev-parse", "HEAD"]);

    let output = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(repo_path("examples/friction/dialogues-01.jsonl"))
        .output()
        .unwrap();
    assert_failure(
        &output,
        "data is a symbolic link pointing outside the clone",
    );
    assert!(
        !stderr(&output).contains("D/F conflict"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(env.git_out(&clone, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
}
