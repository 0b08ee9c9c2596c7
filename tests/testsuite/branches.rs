//! Branches and pull requests the git-native way: `push --branch`, `clone --revision`,
//! `push --create-pr` / `--pr N` against the test Hub (its discussions endpoint and the
//! `refs/pr/N` rules of its pre-receive hook), read back with stock git, git-lfs and
//! `datasets`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;
use hf_relay_test_support::{READ_TOKEN, TestHub, WRITE_TOKEN};

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

/// `hf-relay build --dir CLONE INPUTS...`.
fn build(env: &TestEnv, clone: &Path, inputs: &[PathBuf]) {
    assert_success(&run(env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(clone)
        .args(inputs)));
}

/// `hf-relay init alice/NAME`, a build of the first friction file, and a push of main;
/// returns the clone and the Hub's main after it.
fn published(env: &TestEnv, hub: &TestHub, name: &str) -> (PathBuf, String) {
    let clone = env.init_on(&hub.url, name);
    build(env, &clone, &[friction(1)]);
    assert_success(&push(env, &clone, &[]));
    let main = hub_ref(hub, name, "refs/heads/main").expect("main on the Hub");
    (clone, main)
}

fn push(env: &TestEnv, clone: &Path, args: &[&str]) -> Output {
    run(env
        .hf_relay()
        .arg("push")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .env("HF_TOKEN", WRITE_TOKEN))
}

/// What `reference` holds in the Hub's bare repo of alice/NAME.
fn hub_ref(hub: &TestHub, name: &str, reference: &str) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(hub.bare_repo("alice", name))
        .args(["rev-parse", "--verify", "-q", reference])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| String::from_utf8(output.stdout).unwrap().trim().to_string())
}

/// The LFS oids the tree of `reference` points to, in the Hub's bare repo.
fn lfs_oids_at(hub: &TestHub, name: &str, reference: &str) -> Vec<String> {
    let bare = hub.bare_repo("alice", name);
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .arg("-C")
            .arg(&bare)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let mut oids = Vec::new();
    for line in git(&["ls-tree", "-r", reference]).lines() {
        let (info, _path) = line.split_once('\t').unwrap();
        let blob = info.split_whitespace().nth(2).unwrap();
        let content = git(&["cat-file", "-p", blob]);
        if let Some(oid) = content
            .lines()
            .find_map(|line| line.strip_prefix("oid sha256:"))
        {
            oids.push(oid.to_string());
        }
    }
    oids
}

fn json_of(output: &Output) -> serde_json::Value {
    assert_success(output);
    serde_json::from_str(&stdout(output)).unwrap()
}

fn requests_log(hub: &TestHub) -> String {
    std::fs::read_to_string(hub.root.path().join("requests.log")).unwrap_or_default()
}

/// `git push` with stock git, the token in an Authorization header.
fn git_push(env: &TestEnv, dir: &Path, token: &str, refspec: &str) -> Output {
    let basic = Command::new("python3")
        .args([
            "-c",
            "import base64,sys; print(base64.b64encode(('hf_user:'+sys.argv[1]).encode()).decode())",
            token,
        ])
        .output()
        .unwrap();
    let header = format!(
        "http.extraHeader=Authorization: Basic {}",
        String::from_utf8(basic.stdout).unwrap().trim()
    );
    run(env
        .git(dir)
        .args(["-c", &header, "push", "--no-verify", "origin", refspec]))
}

#[test]
fn a_push_to_a_new_branch_creates_it_and_clone_revision_checks_it_out() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let (clone, main) = published(&env, &hub, "ds");
    assert_success(&run(env
        .hf_relay()
        .args(["tag", "v1", "--dir"])
        .arg(&clone)));
    assert_success(&push(&env, &clone, &[]));

    build(&env, &clone, &[friction(1), friction(2)]);
    let result = json_of(&push(&env, &clone, &["--branch", "review", "--json"]));
    let head = env
        .git_out(&clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert_eq!(result["remote_ref"], "refs/heads/review", "{result}");
    assert_eq!(result["commit"], head.as_str());
    assert_eq!(result["lfs_objects_uploaded"], 1, "{result}");
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/review"), Some(head.clone()));
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/main"), Some(main.clone()));
    for oid in lfs_oids_at(&hub, "ds", "refs/heads/review") {
        assert!(hub.lfs_dir("alice", "ds").join(&oid).is_file(), "{oid}");
    }

    // A clone of the branch gets its rows, on a local branch of that name tracking it.
    let output = run(env
        .hf_relay()
        .args(["clone", "alice/ds", "review-clone", "--revision", "review"])
        .args(["--endpoint", &hub.url]));
    assert_success(&output);
    let cloned = env.path().join("review-clone");
    assert_eq!(
        env.git_out(&cloned, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/review"
    );
    check_with_python(&cloned, &[("train", vec![friction(1), friction(2)])]);
    let status = json_of(&run(env
        .hf_relay()
        .args(["status", "--json", "--dir"])
        .arg(&cloned)));
    assert_eq!(status["branch"], "review", "{status}");
    assert_eq!(status["remote"]["name"], "origin/review", "{status}");
    assert_eq!(status["ahead"], 0, "{status}");
    let output = run(env.hf_relay().args(["diff", "--dir"]).arg(&cloned));
    assert_success(&output);
    assert!(
        stderr(&output).contains("No differences between origin/review"),
        "{}",
        stderr(&output)
    );

    // A tag is checked out too (on the local main), with the rows it names.
    let output = run(env
        .hf_relay()
        .args(["clone", "alice/ds", "v1-clone", "--revision", "v1"])
        .args(["--endpoint", &hub.url]));
    assert_success(&output);
    check_with_python(
        &env.path().join("v1-clone"),
        &[("train", vec![friction(1)])],
    );

    // A revision the Hub lacks is named, and nothing is left behind.
    let output = run(env
        .hf_relay()
        .args(["clone", "alice/ds", "nope-clone", "--revision", "nope"])
        .args(["--endpoint", &hub.url]));
    assert_failure(&output, "no branch or tag `nope`");
    assert!(!env.path().join("nope-clone").exists());

    // A local branch the Hub has never had is measured against origin/main.
    env.git_out(&clone, &["checkout", "--quiet", "-b", "draft"]);
    let status = json_of(&run(env
        .hf_relay()
        .args(["status", "--json", "--dir"])
        .arg(&clone)));
    assert_eq!(status["branch"], "draft", "{status}");
    assert_eq!(status["remote"]["name"], "origin/main", "{status}");
    assert_eq!(status["ahead"], 1, "{status}");

    // A second push of the branch from its clone integrates nothing and moves it.
    build(&env, &cloned, &[friction(2)]);
    let result = json_of(&push(&env, &cloned, &["--branch", "review", "--json"]));
    let head = env
        .git_out(&cloned, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert!(result["merged_remote"].is_null(), "{result}");
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/review"), Some(head));
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/main"), Some(main));
}

#[test]
fn create_pr_opens_pr_1_and_pr_1_takes_more_commits_that_git_and_datasets_read_back() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let (clone, main) = published(&env, &hub, "ds");

    build(&env, &clone, &[friction(1), friction(2)]);
    let result = json_of(&push(
        &env,
        &clone,
        &[
            "--create-pr",
            "--title",
            "Add the second dialogues",
            "--description",
            "More rows.",
            "--json",
        ],
    ));
    let head = env
        .git_out(&clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let pr_url = format!("{}/datasets/alice/ds/discussions/1", hub.url);
    assert_eq!(result["pull_request"]["num"], 1, "{result}");
    assert_eq!(result["pull_request"]["url"], pr_url.as_str(), "{result}");
    assert_eq!(result["remote_ref"], "refs/pr/1", "{result}");
    assert_eq!(result["lfs_objects_uploaded"], 1, "{result}");
    assert_eq!(hub_ref(&hub, "ds", "refs/pr/1"), Some(head));
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/main"), Some(main.clone()));
    let oids = lfs_oids_at(&hub, "ds", "refs/pr/1");
    assert!(!oids.is_empty());
    for oid in &oids {
        assert!(hub.lfs_dir("alice", "ds").join(oid).is_file(), "{oid}");
    }
    let mut response = ureq::get(&format!("{}/api/datasets/alice/ds/discussions/1", hub.url))
        .header("Authorization", &format!("Bearer {WRITE_TOKEN}"))
        .call()
        .unwrap();
    let discussion: serde_json::Value = response.body_mut().read_json().unwrap();
    assert_eq!(discussion["title"], "Add the second dialogues");
    assert_eq!(discussion["status"], "open");
    assert_eq!(discussion["isPullRequest"], true);

    // --pr 1 adds a commit; stdout ends with the PR's URL.
    build(&env, &clone, &[friction(2)]);
    let output = push(&env, &clone, &["--pr", "1"]);
    assert_success(&output);
    assert_eq!(stdout(&output).lines().last(), Some(pr_url.as_str()));
    let head = env
        .git_out(&clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert_eq!(hub_ref(&hub, "ds", "refs/pr/1"), Some(head));
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/main"), Some(main));
    for oid in lfs_oids_at(&hub, "ds", "refs/pr/1") {
        assert!(hub.lfs_dir("alice", "ds").join(&oid).is_file(), "{oid}");
    }

    // Stock git + git-lfs: clone, fetch the PR's ref, pull its LFS files; datasets reads them.
    let fresh = env.path().join("fresh");
    assert_success(&run(env
        .git(env.path())
        .args(["clone", "--quiet"])
        .arg(hub.dataset_url("alice", "ds"))
        .arg(&fresh)));
    env.git_out(&fresh, &["lfs", "install", "--local"]);
    env.git_out(&fresh, &["fetch", "--quiet", "origin", "refs/pr/1"]);
    env.git_out(&fresh, &["checkout", "--quiet", "FETCH_HEAD"]);
    let header = format!("http.extraHeader=Authorization: Bearer {WRITE_TOKEN}");
    env.git_out(&fresh, &["-c", &header, "lfs", "pull"]);
    check_with_python(&fresh, &[("train", vec![friction(2)])]);
}

#[test]
fn a_closed_pull_request_refuses_pushes_and_main_is_untouched() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let (clone, main) = published(&env, &hub, "ds");
    build(&env, &clone, &[friction(1), friction(2)]);
    let result = json_of(&push(&env, &clone, &["--create-pr", "--json"]));
    assert_eq!(result["pull_request"]["num"], 1, "{result}");

    // The PR's author may push to its ref without write access to the repo (alice's read
    // token; a commit without new LFS objects), but not to main.
    let work = env.path().join("work");
    assert_success(&run(env
        .git(env.path())
        .args(["clone", "--quiet"])
        .arg(hub.dataset_url("alice", "ds"))
        .arg(&work)));
    env.git_out(&work, &["fetch", "--quiet", "origin", "refs/pr/1"]);
    env.git_out(&work, &["checkout", "--quiet", "FETCH_HEAD"]);
    std::fs::write(work.join("NOTES.md"), "Reviewed.\n").unwrap();
    env.git_out(&work, &["add", "NOTES.md"]);
    env.git_out(&work, &["commit", "--quiet", "-m", "Review notes"]);
    assert_success(&git_push(&env, &work, READ_TOKEN, "HEAD:refs/pr/1"));
    let output = git_push(&env, &work, READ_TOKEN, "HEAD:refs/heads/main");
    assert!(
        stderr(&output).contains("DENIED update refs/heads/main: forbidden"),
        "{}",
        stderr(&output)
    );
    let pr_tip = hub_ref(&hub, "ds", "refs/pr/1").unwrap();
    assert_eq!(
        pr_tip,
        env.git_out(&work, &["rev-parse", "HEAD"]).trim(),
        "the author's push moved refs/pr/1"
    );

    ureq::post(&format!(
        "{}/api/datasets/alice/ds/discussions/1/status",
        hub.url
    ))
    .header("Authorization", &format!("Bearer {WRITE_TOKEN}"))
    .send_json(serde_json::json!({"status": "closed"}))
    .unwrap();

    build(&env, &clone, &[friction(2)]);
    let before = requests_log(&hub).len();
    let output = push(&env, &clone, &["--pr", "1"]);
    assert_failure(&output, "pull request #1 of alice/ds is closed");
    assert!(
        !requests_log(&hub)[before..].contains("/info/lfs/objects/batch"),
        "{}",
        requests_log(&hub)
    );

    // The Hub itself refuses the ref update (stock git, even forced), with its reason.
    let output = git_push(&env, &clone, WRITE_TOKEN, "+HEAD:refs/pr/1");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("DENIED update refs/pr/1: pull request #1 is closed"),
        "{}",
        stderr(&output)
    );
    // A number without a pull request cannot be created by a push either.
    let output = git_push(&env, &clone, WRITE_TOKEN, "HEAD:refs/pr/7");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("pull request #7 does not exist"),
        "{}",
        stderr(&output)
    );
    assert_eq!(hub_ref(&hub, "ds", "refs/pr/1"), Some(pr_tip));
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/main"), Some(main));
    assert_eq!(hub_ref(&hub, "ds", "refs/pr/7"), None);
}

/// Regression (issue 21): on the branch `clone --revision review` checked out, a plain `push`
/// published HEAD to the Hub's main (`Would push refs/heads/review:refs/heads/main`). It goes
/// to the branch the clone tracks, as `status` measures it; main stays where it was.
#[test]
fn a_plain_push_from_a_cloned_branch_goes_to_that_branch_not_main() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let (clone, main) = published(&env, &hub, "ds");
    build(&env, &clone, &[friction(1), friction(2)]);
    assert_success(&push(&env, &clone, &["--branch", "review"]));

    let output = run(env
        .hf_relay()
        .args(["clone", "alice/ds", "review-clone", "--revision", "review"])
        .args(["--endpoint", &hub.url]));
    assert_success(&output);
    let cloned = env.path().join("review-clone");
    build(&env, &cloned, &[friction(2)]);

    let output = push(&env, &cloned, &["--dry-run"]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("refs/heads/review:refs/heads/review"),
        "{}",
        stderr(&output)
    );
    let result = json_of(&push(&env, &cloned, &["--json"]));
    assert_eq!(result["remote_ref"], "refs/heads/review", "{result}");
    let head = env
        .git_out(&cloned, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/review"), Some(head));
    assert_eq!(hub_ref(&hub, "ds", "refs/heads/main"), Some(main));
    let status = json_of(&run(env
        .hf_relay()
        .args(["status", "--json", "--dir"])
        .arg(&cloned)));
    assert_eq!(status["ahead"], 0, "{status}");
}
