//! What a person reads in everyday use (issue 21): `--help` texts, units and wording of the
//! status lines, the card's field descriptions and the warning about undescribed fields, and
//! the exit code when the reader of the output goes away (`| head -1`).

use std::path::Path;
use std::process::{Output, Stdio};

use crate::support::*;
use hf_relay_test_support::{TestHub, WRITE_TOKEN};

/// Runs `command` with stdout and stderr on a pipe whose reader is already closed, as
/// `… 2>&1 | head -1` leaves them once `head` is gone; its exit status.
fn run_with_closed_output(mut command: std::process::Command) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command
        .stdin(Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .status()
        .unwrap()
}

#[test]
fn build_into_a_closed_pipe_commits_and_exits_0() {
    let env = TestEnv::new();
    let clone = env.init("piped");
    let mut command = env.hf_relay();
    command
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(1));
    let status = run_with_closed_output(command);
    assert_eq!(status.code(), Some(0), "{status:?}");
    let subject = env.git_out(&clone, &["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "Add train: 80 rows in 1 shard");
    assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
}

#[test]
fn an_error_into_a_closed_pipe_keeps_exit_code_1() {
    let env = TestEnv::new();
    let clone = env.init("piped-error");
    let bad = env.write("bad.jsonl", "{\"a\": 1}\n{\"a\": \n");
    let before = env.snapshot(&clone);
    let mut command = env.hf_relay();
    command.arg("build").arg("--dir").arg(&clone).arg(&bad);
    let status = run_with_closed_output(command);
    assert_eq!(status.code(), Some(1), "{status:?}");
    assert!(before == env.snapshot(&clone), "the clone changed");
}

#[test]
fn log_into_a_closed_pipe_exits_0() {
    let env = TestEnv::new();
    let clone = env.init("piped-log");
    assert_success(&run_build(&env, &clone, &[friction(1).to_str().unwrap()]));
    let mut command = env.hf_relay();
    command.arg("log").arg("--dir").arg(&clone);
    assert_eq!(run_with_closed_output(command).code(), Some(0));
}

fn help(env: &TestEnv, args: &[&str]) -> String {
    let output = env.hf_relay().args(args).output().unwrap();
    assert_success(&output);
    stdout(&output)
}

/// The entries of a `--help` page (`--dir <DIR>`, `-m, --message <MESSAGE>`, `[INPUT]...`)
/// with the description clap prints under each (empty when there is none).
fn help_entries(help: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut open = false;
    for line in help.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if (2..=6).contains(&indent) && text.starts_with(['-', '[', '<']) {
            // Short pages put the description on the same line, after two spaces.
            let (entry, description) = text.split_once("  ").unwrap_or((text, ""));
            entries.push((entry.to_string(), description.trim().to_string()));
            open = true;
        } else if text.is_empty() {
            open = false;
        } else if open && indent >= 10 {
            let description = &mut entries.last_mut().unwrap().1;
            description.push_str(text);
            description.push(' ');
        }
    }
    entries
}

/// The description of `flag` in a `--help` page.
fn flag_help(help: &str, flag: &str) -> String {
    help_entries(help)
        .into_iter()
        .find(|(entry, _)| {
            entry
                .split([' ', ','])
                .any(|word| word == flag || word.trim_start_matches('-') == flag)
        })
        .unwrap_or_else(|| panic!("no {flag} in:\n{help}"))
        .1
}

#[test]
fn every_flag_of_every_command_is_described_in_help() {
    let env = TestEnv::new();
    for command in [
        "init", "build", "card", "push", "clone", "tag", "publish", "status", "diff", "log",
        "verify",
    ] {
        let text = help(&env, &[command, "--help"]);
        let entries = help_entries(&text);
        assert!(entries.len() > 2, "{command}: no flags in\n{text}");
        for (entry, description) in entries {
            assert!(
                !description.trim().is_empty(),
                "hf-relay {command} --help: {entry} has no description:\n{text}"
            );
        }
    }
}

#[test]
fn help_states_the_default_visibility_of_a_new_repo() {
    let env = TestEnv::new();
    for command in ["push", "publish"] {
        let text = help(&env, &[command, "--help"]);
        let public = flag_help(&text, "--public");
        let private = flag_help(&text, "--private");
        assert!(
            public.contains("default") || private.contains("default"),
            "hf-relay {command} --help does not say which visibility is the default:\n\
             --public: {public}\n--private: {private}"
        );
    }
}

#[test]
fn card_without_a_mode_names_both_preview_and_check() {
    let env = TestEnv::new();
    let clone = env.init("card-modes");
    let output = env
        .hf_relay()
        .args(["card", "--dir"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("--preview") && text.contains("--check"),
        "{text}"
    );
    let top = help(&env, &["--help"]);
    let line = top
        .lines()
        .find(|line| line.trim_start().starts_with("card "))
        .unwrap();
    assert!(
        line.contains("--preview") && line.contains("--check"),
        "{line}"
    );
}

/// A clone with one build of a one-row file (`{"a": 1}`).
fn one_row_clone(env: &TestEnv, name: &str) -> (std::path::PathBuf, Output) {
    let clone = env.init(name);
    let input = env.write("one.jsonl", "{\"a\": 1}\n");
    let output = run_build(env, &clone, &[input.to_str().unwrap()]);
    assert_success(&output);
    (clone, output)
}

#[test]
fn one_row_is_one_row_not_1_rows() {
    let env = TestEnv::new();
    let (clone, build) = one_row_clone(&env, "one-row");
    let dir = clone.to_str().unwrap();
    let mut seen = stderr(&build);
    seen += &env.git_out(&clone, &["log", "-1", "--format=%B"]);
    for args in [
        vec!["diff", "--dir", dir],
        vec!["diff", "--dir", dir, "--stat"],
        vec!["log", "--dir", dir],
    ] {
        let output = env.hf_relay().args(&args).output().unwrap();
        assert_success(&output);
        seen += &stdout(&output);
    }
    assert!(!seen.contains("1 rows"), "{seen}");
    assert!(seen.contains("Add train: 1 row in 1 shard"), "{seen}");
    assert!(seen.contains("new split, 1 row,"), "{seen}");
}

/// The progress bar counts bytes in the units of the status lines and the card (kB, MB: powers
/// of 1000), not in KiB/MiB.
#[test]
fn the_progress_bar_uses_the_units_of_the_summary() {
    let env = TestEnv::new();
    let clone = env.init("units");
    let output = env
        .hf_relay_on_terminal()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(1))
        .output()
        .unwrap();
    assert_success(&output);
    let drawn = stdout(&output);
    let size = std::fs::metadata(friction(1)).unwrap().len();
    let total = hf_relay::units::human_bytes(size);
    assert!(drawn.contains(&format!("/{total} ")), "{total}:\n{drawn}");
    assert!(!drawn.contains("iB"), "{drawn}");
}

/// The first frame of a bar already has its label (the message is set before the bar is drawn).
#[test]
fn no_progress_frame_has_an_empty_label() {
    let env = TestEnv::new();
    let clone = env.init("labels");
    let output = env
        .hf_relay_on_terminal()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg(friction(1))
        .output()
        .unwrap();
    assert_success(&output);
    let drawn = stdout(&output);
    let frames: Vec<&str> = drawn
        .split(['\r', '\n'])
        .filter(|frame| frame.contains("] "))
        .collect();
    assert!(!frames.is_empty(), "{drawn}");
    for frame in frames {
        let label = without_escapes(frame);
        let label = label.split('[').next().unwrap();
        assert!(
            !label.trim().is_empty(),
            "a frame without a label: {frame:?}"
        );
    }
}

/// `text` without the terminal's escape sequences (`ESC [ 2 K`, `ESC [ 1 A`).
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.next(); // '['
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn publish(env: &TestEnv, hub: &TestHub, repo: &str, dir: Option<&Path>) -> Output {
    let mut command = env.hf_relay();
    command
        .args(["publish", "--repo-id", repo, "--endpoint", &hub.url])
        .arg(friction(1))
        .env("HF_TOKEN", WRITE_TOKEN);
    if let Some(dir) = dir {
        command.arg("--dir").arg(dir);
    }
    command.output().unwrap()
}

#[test]
fn publish_prints_the_dataset_url_once() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let output = publish(&env, &hub, "alice/once", None);
    assert_success(&output);
    let url = hub.dataset_url("alice", "once");
    let everything = stdout(&output) + &stderr(&output);
    assert_eq!(
        everything.matches(&format!("{url}\n")).count(),
        1,
        "{everything}"
    );
    assert!(stdout(&output).starts_with(&format!("{url}\n")));
}

/// `hf-relay build --dir CLONE <the friction example> --card-template examples/friction/card.md
/// EXTRA...`, as the README's first command runs it.
fn build_friction_example(env: &TestEnv, clone: &Path, extra: &[&str]) -> Output {
    let template = repo_path("examples/friction/card.md");
    let mut args = vec![
        friction(1).to_str().unwrap().to_string(),
        friction(2).to_str().unwrap().to_string(),
        "--card-template".to_string(),
        template.to_str().unwrap().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_build(env, clone, &args)
}

/// The rows of the card's fields table: (field, description).
fn field_rows(clone: &Path) -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let block = readme
        .split("hf-relay:begin fields")
        .nth(1)
        .unwrap()
        .split("hf-relay:end fields")
        .next()
        .unwrap()
        .to_string();
    block
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            (
                cells[0].trim().trim_matches('`').to_string(),
                cells[2].trim().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_example_template_describes_every_field_of_the_card() {
    let env = TestEnv::new();
    let clone = env.init("described");
    assert_success(&build_friction_example(&env, &clone, &[]));
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(!readme.contains("_TODO"), "{readme}");
    let rows = field_rows(&clone);
    let get = |name: &str| {
        rows.iter()
            .find(|(field, _)| field == name)
            .unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
            .1
            .clone()
    };
    assert_eq!(get("question"), "the task the agents were given.");
    assert_eq!(
        get("agent_responses[].thought_stream"),
        "the agent's reasoning in its own words, multilingual, with the false starts left in"
    );
    assert_eq!(get("metadata.temperature"), "the sampling temperature");
    assert_eq!(rows.len(), 13, "{rows:?}");
}

/// Descriptions written in the table are kept; a rebuild with the template fills in only the
/// rows still undescribed.
#[test]
fn a_rebuild_with_the_template_fills_in_placeholders_and_keeps_written_descriptions() {
    let env = TestEnv::new();
    let clone = env.init("filled-later");
    let inputs = [friction(1), friction(2)];
    let inputs: Vec<&str> = inputs.iter().map(|p| p.to_str().unwrap()).collect();
    assert_success(&run_build(&env, &clone, &inputs));
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert_eq!(readme.matches("_TODO: describe this field_").count(), 13);
    let edited = readme.replacen(
        "| `question` | `string` | _TODO: describe this field_ |",
        "| `question` | `string` | What was asked, verbatim. |",
        1,
    );
    std::fs::write(clone.join("README.md"), edited).unwrap();
    env.git_out(&clone, &["commit", "-qam", "Describe question"]);

    let output = build_friction_example(&env, &clone, &[]);
    assert_success(&output);
    let rows = field_rows(&clone);
    assert!(
        rows.contains(&("question".into(), "What was asked, verbatim.".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("final_answer".into(), "what the group settled on.".into())),
        "{rows:?}"
    );
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(!readme.contains("_TODO: describe this field_"), "{readme}");
}

fn push(env: &TestEnv, clone: &Path, args: &[&str]) -> Output {
    env.hf_relay()
        .args(["push", "--dir"])
        .arg(clone)
        .args(args)
        .env("HF_TOKEN", WRITE_TOKEN)
        .output()
        .unwrap()
}

#[test]
fn push_and_dry_run_warn_naming_the_fields_without_a_description() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = prepared_clone(&env, &hub, "undescribed");
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    // Describe all but two fields by hand.
    let edited: String = readme
        .lines()
        .map(|line| {
            if line.starts_with("| `metadata.tokens`") || line.starts_with("| `review_score`") {
                line.to_string()
            } else {
                line.replace("_TODO: describe this field_", "Described.")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(clone.join("README.md"), edited).unwrap();
    env.git_out(&clone, &["commit", "-qam", "Describe most fields"]);
    let expected = "warning: README.md: no description for 2 fields: `metadata.tokens`, \
                    `review_score`; write one in the Description column of the card's fields \
                    table";
    for args in [&["--dry-run"][..], &[]] {
        let output = push(&env, &clone, args);
        assert_success(&output);
        assert!(
            stderr(&output).contains(expected),
            "push {args:?}:\n{}",
            stderr(&output)
        );
    }
}

#[test]
fn push_of_a_fully_described_card_has_no_warning() {
    let hub = TestHub::start();
    let env = TestEnv::new();
    let clone = env.init_on(&hub.url, "described");
    assert_success(&build_friction_example(&env, &clone, &[]));
    let output = push(&env, &clone, &[]);
    assert_success(&output);
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
}

/// The README and docs/reliability.md give the size of the bad-input corpus the suite runs.
#[test]
fn the_docs_count_the_bad_input_cases_the_corpus_holds() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("tests/bad_input/expected.json")).unwrap(),
    )
    .unwrap();
    let cases = expected["cases"].as_object().unwrap().len();
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    let reliability = std::fs::read_to_string(repo_path("docs/reliability.md")).unwrap();
    assert!(
        readme.contains(&format!(
            "| bad input: {cases} malformed or tricky JSONL cases | {cases} as expected"
        )),
        "README.md's reliability table does not say {cases} cases"
    );
    assert!(
        reliability.contains(&format!("| bad input | {cases} JSONL cases")),
        "docs/reliability.md does not say {cases} cases"
    );
}

/// The README names what is built from source: no OpenSSL since TLS is rustls.
#[test]
fn the_readme_says_what_is_built_from_source() {
    let lock = std::fs::read_to_string(repo_path("Cargo.lock")).unwrap();
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    assert!(!lock.contains("name = \"openssl-src\""));
    assert!(!readme.contains("OpenSSL are built from source"));
    assert!(lock.contains("name = \"libgit2-sys\""));
    assert!(readme.contains("libgit2 is built from source"));
}
