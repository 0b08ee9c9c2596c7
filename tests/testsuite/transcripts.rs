//! What a person reads from the everyday commands, pinned as transcripts (stdout, stderr and
//! exit code together, `snapshots/`) where the quickstart of `journeys` does not pin it
//! already: `status` of a clean, a dirty and an unpublished clone, `log` with tags, `tag` (the
//! list, a name in use), `diff --stat` and `push --dry-run` of an update, `verify` and
//! `card --check` failing, `init` into a named folder and into a folder in use, and the
//! top-level `--help`. Masked as the quickstart's are (`Shell::transcript`): `[ROOT]`, `[HUB]`,
//! `[HASH]`, `[DATE]`.

use std::path::Path;

use crate::support::*;

/// The path of `path` (a friction input) as an argument.
fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A clone published with tag v1, then reviewed as it is edited, rebuilt and tagged again.
#[test]
fn status_log_tag_diff_and_push_dry_run_of_a_published_clone_that_moves_on() {
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    let (one, two) = (friction(1), friction(2));
    shell.ok(&root, &["init", "alice/moving"]);
    let clone = root.join("moving");
    shell.ok(&clone, &["build", arg(&one), "--license", "mit"]);
    shell.ok(&clone, &["tag", "v1"]);
    shell.ok(&clone, &["push"]);

    let output = shell.ok(&clone, &["status"]);
    insta::assert_snapshot!("status_clean", shell.transcript(&output));

    // An edit of the card and a new file, not committed.
    let readme = clone.join("README.md");
    let card = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(&readme, format!("{card}\nA line of my own.\n")).unwrap();
    std::fs::write(clone.join("notes.txt"), "to do\n").unwrap();
    let output = shell.ok(&clone, &["status"]);
    insta::assert_snapshot!("status_dirty", shell.transcript(&output));
    std::fs::write(&readme, card).unwrap();
    std::fs::remove_file(clone.join("notes.txt")).unwrap();

    // A build that adds rows, and a second tag: ahead of the Hub.
    shell.ok(&clone, &["build", arg(&one), arg(&two), "--license", "mit"]);
    shell.ok(&clone, &["tag", "v2", "-m", "Second release: both files"]);
    let output = shell.ok(&clone, &["status"]);
    insta::assert_snapshot!("status_ahead", shell.transcript(&output));
    let output = shell.ok(&clone, &["diff", "--stat"]);
    insta::assert_snapshot!("diff_stat_of_an_update", shell.transcript(&output));
    let output = shell.ok(&clone, &["log"]);
    insta::assert_snapshot!("log_with_tags", shell.transcript(&output));
    let output = shell.ok(&clone, &["tag", "--list"]);
    insta::assert_snapshot!("tag_list", shell.transcript(&output));
    let output = shell.hf_relay(&clone, &["tag", "v1"]);
    insta::assert_snapshot!("tag_refuses_a_name_in_use", shell.transcript(&output));
    let output = shell.ok(&clone, &["push", "--dry-run"]);
    insta::assert_snapshot!("push_dry_run_of_an_update", shell.transcript(&output));
}

/// `init` into a named folder and into one in use; `card --check` of a hand-edited card the Hub
/// would refuse; `verify` of a clone whose LFS object was corrupted.
#[test]
fn init_card_check_and_verify_say_what_is_wrong() {
    let shell = Shell::new();
    let root = shell.root().to_path_buf();
    let output = shell.ok(&root, &["init", "alice/checked", "mine"]);
    insta::assert_snapshot!("init_into_a_named_folder", shell.transcript(&output));
    let output = shell.hf_relay(&root, &["init", "alice/other", "mine"]);
    insta::assert_snapshot!("init_refuses_a_folder_in_use", shell.transcript(&output));

    let clone = root.join("mine");
    shell.ok(&clone, &["build", arg(&friction(1))]);
    let readme = clone.join("README.md");
    let card = std::fs::read_to_string(&readme).unwrap();
    let edited = card.replacen(
        "---\n",
        "---\nlicense: apache2\ntask_categories:\n- make-coffee\n",
        1,
    );
    std::fs::write(&readme, edited).unwrap();
    let output = shell.hf_relay(&clone, &["card", "--check"]);
    insta::assert_snapshot!("card_check_failure", shell.transcript(&output));
    std::fs::write(&readme, card).unwrap();

    let pointer = shell
        .env
        .git_out(&clone, &["show", "HEAD:data/train-00000.parquet"]);
    let oid = pointer
        .lines()
        .find_map(|line| line.strip_prefix("oid sha256:"))
        .unwrap();
    let object = clone.join(format!(
        ".git/lfs/objects/{}/{}/{oid}",
        &oid[..2],
        &oid[2..4]
    ));
    corrupt_in_place_keeping_mtime(&object);
    let output = shell.hf_relay(&clone, &["verify"]);
    insta::assert_snapshot!("verify_failure", shell.transcript(&output));
}

#[test]
fn top_level_help() {
    let env = TestEnv::new();
    let output = env.hf_relay().arg("--help").output().unwrap();
    insta::assert_snapshot!("help", transcript(&env, &output));
}
