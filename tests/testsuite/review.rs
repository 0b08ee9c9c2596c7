//! `hf-relay status` / `diff` / `log` / `verify` on a clone with several builds, a tag, a
//! hand-edited README and a simulated last published state (`refs/remotes/origin/main`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;
use hf_relay::units::human_bytes;

/// A clone where:
/// - `a`: train from dialogues-01 (80 rows), license mit — published (origin/main), tag `v1`
///   (annotated, recorded as pushed);
/// - `b`: train from dialogues-01 + 02 (120 rows), license apache-2.0;
/// - `c`: plus 3 rows with a new column `lang` (123 rows), cut into several shards; tag `v2`;
/// - README.md hand-edited in the working tree.
struct Scenario {
    env: TestEnv,
    clone: PathBuf,
    a: String,
    b: String,
    c: String,
}

const HAND_EDIT: &str = "Hand-written notes about the dialogues.";

impl Scenario {
    fn new() -> Scenario {
        let env = TestEnv::new();
        let clone = env.init("friction");
        let one = repo_path("examples/friction/dialogues-01.jsonl");
        let two = repo_path("examples/friction/dialogues-02.jsonl");
        let extra = env.write("extra.jsonl", extra_rows(&one));

        build(
            &env,
            &clone,
            &[&one],
            &["--license", "mit", "--pretty-name", "Friction"],
        );
        let a = head(&env, &clone);
        env.git_out(&clone, &["update-ref", "refs/remotes/origin/main", &a]);
        env.git_out(&clone, &["tag", "-a", "v1", "-m", "First release", &a]);
        let v1 = env.git_out(&clone, &["rev-parse", "refs/tags/v1"]);
        std::fs::create_dir_all(clone.join(".git/hf-relay")).unwrap();
        std::fs::write(
            clone.join(".git/hf-relay/pushed-tags"),
            format!("v1 {}\n", v1.trim()),
        )
        .unwrap();

        build(&env, &clone, &[&one, &two], &["--license", "apache-2.0"]);
        let b = head(&env, &clone);
        build(
            &env,
            &clone,
            &[&one, &two, &extra],
            &["--max-shard-size", "450KB"],
        );
        let c = head(&env, &clone);
        env.git_out(&clone, &["tag", "v2"]);

        let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
        assert!(readme.contains("\n# Friction\n"));
        let edited = readme.replacen(
            "\n# Friction\n",
            &format!("\n# Friction\n\n{HAND_EDIT}\n"),
            1,
        );
        std::fs::write(clone.join("README.md"), edited).unwrap();
        Scenario {
            env,
            clone,
            a,
            b,
            c,
        }
    }

    fn run(&self, command: &str, args: &[&str]) -> Output {
        self.env
            .hf_relay()
            .arg(command)
            .arg("--dir")
            .arg(&self.clone)
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, command: &str, args: &[&str]) -> String {
        let output = self.run(command, args);
        assert_success(&output);
        stdout(&output)
    }

    fn short(&self, rev: &str) -> String {
        self.env
            .git_out(&self.clone, &["rev-parse", "--short", rev])
            .trim()
            .to_string()
    }

    fn subject(&self, rev: &str) -> String {
        self.env
            .git_out(&self.clone, &["log", "-1", "--format=%s", rev])
            .trim()
            .to_string()
    }

    /// LFS pointers (path → (oid, size)) of the shards at `rev`.
    fn pointers(&self, rev: &str) -> BTreeMap<String, (String, u64)> {
        let listing = self
            .env
            .git_out(&self.clone, &["ls-tree", "-r", "--name-only", rev, "data/"]);
        listing
            .lines()
            .map(|path| {
                let text = self
                    .env
                    .git_out(&self.clone, &["cat-file", "-p", &format!("{rev}:{path}")]);
                let oid = text
                    .lines()
                    .find_map(|l| l.strip_prefix("oid sha256:"))
                    .unwrap()
                    .to_string();
                let size = text
                    .lines()
                    .find_map(|l| l.strip_prefix("size "))
                    .unwrap()
                    .parse()
                    .unwrap();
                (path.to_string(), (oid, size))
            })
            .collect()
    }

    fn object_path(&self, oid: &str) -> PathBuf {
        self.clone
            .join(".git/lfs/objects")
            .join(&oid[0..2])
            .join(&oid[2..4])
            .join(oid)
    }
}

/// 3 rows of `source` with new ids and a column no other row has.
fn extra_rows(source: &Path) -> String {
    let text = std::fs::read_to_string(source).unwrap();
    let mut out = String::new();
    for line in text.lines().take(3) {
        let mut row: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        let id = format!("{}-extra", row["id"].as_str().unwrap());
        row.insert("id".into(), id.into());
        row.insert("lang".into(), "en".into());
        out.push_str(&serde_json::to_string(&row).unwrap());
        out.push('\n');
    }
    out
}

fn build(env: &TestEnv, clone: &Path, inputs: &[&Path], args: &[&str]) {
    let output = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(clone)
        .args(inputs)
        .args(args)
        .output()
        .unwrap();
    assert_success(&output);
}

fn head(env: &TestEnv, clone: &Path) -> String {
    env.git_out(clone, &["rev-parse", "HEAD"])
        .trim()
        .to_string()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// The lines of `text` from the one equal to `header` up to the next blank line.
fn section<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn status_reports_unpublished_commits_lfs_bytes_uncommitted_changes_and_tags() {
    let s = Scenario::new();
    let published = s.pointers(&s.a);
    let mut upload = BTreeMap::new();
    for rev in [&s.b, &s.c] {
        for (oid, size) in s.pointers(rev).into_values() {
            if !published.values().any(|(o, _)| *o == oid) {
                upload.insert(oid, size);
            }
        }
    }
    assert_eq!(upload.len(), 5, "1 shard of b, 4 shards of c");
    let bytes: u64 = upload.values().sum();

    let out = s.ok("status", &[]);
    assert_eq!(
        lines(&out),
        [
            "On branch main".to_string(),
            format!(
                "2 commits ahead, 0 behind origin/main ({}, the last known remote state)",
                s.short(&s.a)
            ),
            format!("  {} {}", s.short(&s.c), s.subject(&s.c)),
            format!("  {} {}", s.short(&s.b), s.subject(&s.b)),
            format!("LFS objects to upload: 5, {}", human_bytes(bytes)),
            "Uncommitted changes:".to_string(),
            "  modified: README.md".to_string(),
            "Tags not pushed:".to_string(),
            format!("  v2 → {}", s.short(&s.c)),
        ]
    );

    let json: serde_json::Value = serde_json::from_str(&s.ok("status", &["--json"])).unwrap();
    assert_eq!(json["branch"], "main");
    assert_eq!(json["ahead"], 2);
    assert_eq!(json["behind"], 0);
    assert_eq!(json["remote"]["commit"], s.a.as_str());
    assert_eq!(json["lfs_objects"], 5);
    assert_eq!(json["lfs_bytes"], bytes);
    assert_eq!(json["uncommitted"][0]["path"], "README.md");
    assert_eq!(json["uncommitted"][0]["kind"], "modified");
    assert_eq!(json["unpushed_tags"][0]["name"], "v2");

    // A pushed tag that was moved afterwards is not pushed as it is.
    std::fs::write(
        s.clone.join(".git/hf-relay/pushed-tags"),
        format!("v1 {}\nv2 {}\n", "0".repeat(40), s.c),
    )
    .unwrap();
    let out = s.ok("status", &[]);
    assert!(
        out.ends_with(&format!(
            "Tags not pushed:\n  v1 → {} (moved since it was pushed)\n",
            s.short(&s.a)
        )),
        "{out}"
    );

    // Up to date once origin/main has caught up and the edit is gone.
    let committed = s.env.git_out(&s.clone, &["show", "HEAD:README.md"]);
    std::fs::write(s.clone.join("README.md"), committed).unwrap();
    s.env
        .git_out(&s.clone, &["update-ref", "refs/remotes/origin/main", &s.c]);
    let out = s.ok("status", &[]);
    assert!(
        out.starts_with(&format!(
            "On branch main\nUp to date with origin/main ({})\nLFS objects to upload: none\n\
             Uncommitted changes: none\n",
            s.short(&s.c)
        )),
        "{out}"
    );
}

#[test]
fn diff_shows_card_keys_prose_rows_shards_and_schema() {
    let s = Scenario::new();
    let old = s.pointers(&s.a);
    let new = s.pointers(&s.c);
    let total = |map: &BTreeMap<String, (String, u64)>| map.values().map(|(_, s)| s).sum::<u64>();
    assert_eq!(new.len(), 4);

    // Default: the last published state (origin/main) → the working tree.
    let out = s.ok("diff", &[]);
    assert_eq!(
        out.lines().next().unwrap(),
        format!("diff origin/main ({}) → the working tree", s.short(&s.a))
    );
    let meta = section(&out, "README.md metadata:");
    for expected in [
        "  license: mit → apache-2.0",
        "  + dataset_info.features[lang]: {name: lang, dtype: string}",
        "  dataset_info.splits[train].num_examples: 80 → 123",
    ] {
        assert!(meta.contains(&expected), "{expected} not in {meta:#?}");
    }
    assert_eq!(meta.len(), 6, "{meta:#?}");
    let body = section(&out, "README.md body:");
    assert_eq!(body[..2], ["--- a/README.md", "+++ b/README.md"]);
    assert!(body.contains(&"+Hand-written notes about the dialogues."));
    assert!(body.contains(&"-| `train` | 80 | 382.5 kB |"), "{body:#?}");
    assert_eq!(
        section(&out, "Data:"),
        [
            format!(
                "  train: 80 → 123 rows (+43), 1 → 4 shards, {} → {}",
                human_bytes(total(&old)),
                human_bytes(total(&new))
            ),
            // A column was added: every row differs, which one line says.
            "    rows not listed: the schema changed, so every row of the changed shards differs \
             (123 added, 80 removed; 0 of 5 shard files read)"
                .to_string(),
        ]
    );
    assert_eq!(section(&out, "Schema:"), ["  added column lang (string)"]);

    // Between two revisions: a tag and a commit.
    let out = s.ok("diff", &["v1", &s.b]);
    assert_eq!(
        out.lines().next().unwrap(),
        format!("diff v1 ({}) → {}", s.short(&s.a), s.short(&s.b))
    );
    let meta = section(&out, "README.md metadata:");
    assert!(meta.contains(&"  license: mit → apache-2.0"), "{meta:#?}");
    assert!(meta.contains(&"  dataset_info.splits[train].num_examples: 80 → 120"));
    assert!(!out.contains("Schema:"), "{out}");
    let b = s.pointers(&s.b);
    let data = section(&out, "Data:");
    assert_eq!(
        data[..2],
        [
            format!(
                "  train: 80 → 120 rows (+40), 1 shard, {} → {}",
                human_bytes(total(&old)),
                human_bytes(total(&b))
            ),
            // The 40 rows of dialogues-02 appended, listed 20 at most.
            "    0 rows changed, 40 rows added, 0 removed — 2 of 2 shard files read; rows paired \
             by key id"
                .to_string(),
        ]
    );
    assert!(data[2].starts_with("    + row 80 (id \"fr-"), "{data:#?}");
    assert_eq!(data[22], "    … and 20 more (--rows N lists more)");
    assert_eq!(data.len(), 23);

    let out = s.ok("diff", &[&s.b, "v2"]);
    let meta = section(&out, "README.md metadata:");
    assert!(!out.contains("license"), "{out}");
    assert!(meta.contains(&"  dataset_info.splits[train].num_examples: 120 → 123"));
    assert_eq!(section(&out, "Schema:"), ["  added column lang (string)"]);

    // --stat: rows, shards, schema and a line for the card.
    let out = s.ok("diff", &["v1", "v2", "--stat"]);
    assert_eq!(
        lines(&out),
        [
            format!(
                "train: 80 → 123 rows (+43), 1 → 4 shards, {} → {} (shards: 3 added, 1 changed); \
                 0 rows changed, 123 rows added, 80 removed",
                human_bytes(total(&old)),
                human_bytes(total(&new))
            )
            .as_str(),
            "schema: added column lang (string)",
            "README.md: 6 metadata changes, body +2 -1 lines",
        ]
    );
}

#[test]
fn diff_exit_code_and_json() {
    let s = Scenario::new();
    // Same commit: nothing on stdout, exit 0.
    let output = s.run("diff", &["v2", "HEAD", "--exit-code"]);
    assert_success(&output);
    assert_eq!(stdout(&output), "");
    let short = s.short(&s.c);
    assert_eq!(
        stderr(&output),
        format!("No differences between v2 ({short}) and HEAD ({short}).\n")
    );
    // Differences: exit 1, the diff on stdout, no "Error:".
    for args in [&["--exit-code"][..], &["v1", "v2", "--exit-code", "--stat"]] {
        let output = s.run("diff", args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(!stdout(&output).is_empty());
        assert_eq!(stderr(&output), "", "{args:?}");
    }
    // Only the hand edit differs between HEAD and the working tree.
    let out = s.ok("diff", &["HEAD"]);
    assert!(!out.contains("Data:") && !out.contains("Schema:"), "{out}");
    assert!(section(&out, "README.md body:").contains(&"+Hand-written notes about the dialogues."));

    let output = s.run("diff", &["--json", "--exit-code"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["differences"], true);
    assert_eq!(json["from"]["commit"], s.a.as_str());
    assert_eq!(json["to"]["commit"], serde_json::Value::Null);
    assert_eq!(json["readme"]["changed"], true);
    let license = json["readme"]["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "license")
        .unwrap();
    assert_eq!(license["old"], "mit");
    assert_eq!(license["new"], "apache-2.0");
    assert!(
        json["readme"]["body_diff"]
            .as_str()
            .unwrap()
            .contains("+Hand-written notes")
    );
    let split = &json["splits"][0];
    assert_eq!(split["split"], "train");
    assert_eq!(split["rows_before"], 80);
    assert_eq!(split["rows_after"], 123);
    assert_eq!(split["shards"].as_array().unwrap().len(), 4);
    assert_eq!(json["schema"][0]["column"], "lang");
    assert_eq!(json["schema"][0]["change"], "added");
    assert_eq!(json["schema"][0]["breaking"], false);
}

#[test]
fn log_shows_rows_per_split_and_tags() {
    let s = Scenario::new();
    let root = s
        .env
        .git_out(&s.clone, &["rev-list", "--max-parents=0", "HEAD"]);
    let root = root.trim();
    let out = s.ok("log", &["--oneline"]);
    assert_eq!(
        lines(&out),
        [
            format!(
                "{} 2025-11-24 {} — train 123 (+3 -0 ~0) (tag: v2)",
                s.short(&s.c),
                s.subject(&s.c)
            ),
            format!(
                "{} 2025-11-24 {} — train 120 (+40 -0 ~0)",
                s.short(&s.b),
                s.subject(&s.b)
            ),
            format!(
                "{} 2025-11-24 {} — train 80 (tag: v1, origin/main)",
                s.short(&s.a),
                s.subject(&s.a)
            ),
            format!(
                "{} 2025-11-24 Initialize dataset repository you/friction — no data",
                s.short(root)
            ),
        ]
    );
    let out = s.ok("log", &[]);
    assert!(
        out.starts_with(&format!(
            "commit {} (tag: v2)\nDate:    2025-11-24 16:00:00 +0000\nDataset: train 123 (+3 -0 ~0)\n\n    {}\n",
            s.c,
            s.subject(&s.c)
        )),
        "{out}"
    );
    assert!(out.contains(&format!("commit {} (tag: v1, origin/main)\n", s.a)));
}

#[test]
fn verify_passes_then_catches_corrupt_objects_and_wrong_counts() {
    let s = Scenario::new();
    assert_eq!(
        s.ok("verify", &[]),
        "verify: OK (7 files, 4 LFS objects, 123 rows)\n"
    );
    assert_eq!(
        s.ok("verify", &["v1"]),
        "verify: OK (4 files, 1 LFS object, 80 rows)\n"
    );

    let (oid, size) = s.pointers("HEAD")["data/train-00001.parquet"].clone();
    let object = s.object_path(&oid);
    let original = std::fs::read(&object).unwrap();
    let restore = || {
        let _ = std::fs::remove_file(&object);
        std::fs::write(&object, &original).unwrap();
    };

    // Same size, one byte changed.
    let mut corrupt = original.clone();
    corrupt[original.len() / 2] ^= 0xff;
    let _ = std::fs::remove_file(&object); // may be hard-linked to the working tree file
    std::fs::write(&object, &corrupt).unwrap();
    let output = s.run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with(&format!(
            "data/train-00001.parquet: LFS object {oid} in .git/lfs/objects is corrupt: its \
             content has sha256 "
        )),
        "{out}"
    );
    assert_eq!(
        stderr(&output),
        format!(
            "Error: verify found 1 problem at HEAD ({})\n",
            s.short("HEAD")
        )
    );

    // Truncated, then missing.
    std::fs::write(&object, &original[..100]).unwrap();
    let output = s.run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!(
            "data/train-00001.parquet: LFS object {oid} is 100 bytes in .git/lfs/objects, the \
             pointer says {}\n",
            hf_relay::units::thousands(size)
        )
    );
    std::fs::remove_file(&object).unwrap();
    let output = s.run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!("data/train-00001.parquet: LFS object {oid} is missing from .git/lfs/objects\n")
    );
    restore();
    assert_success(&s.run("verify", &[]));

    // A card whose count does not match the data, committed with plain git.
    let committed = s.env.git_out(&s.clone, &["show", "HEAD:README.md"]);
    assert!(committed.contains("    num_examples: 123\n"));
    std::fs::write(
        s.clone.join("README.md"),
        committed.replace("    num_examples: 123\n", "    num_examples: 999\n"),
    )
    .unwrap();
    s.env.git_out(&s.clone, &["add", "README.md"]);
    s.env
        .git_out(&s.clone, &["commit", "-q", "-m", "Edit the count by hand"]);
    let output = s.run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "README.md: dataset_info.splits[train].num_examples is 999, but its Parquet files \
         hold 123 rows\n"
    );
    // The earlier commit is still fine.
    assert_success(&s.run("verify", &["v2"]));

    // A card whose features do not match the files.
    let lang = "  - name: lang\n    dtype: string\n";
    assert!(committed.contains(lang));
    std::fs::write(
        s.clone.join("README.md"),
        committed.replace(lang, "  - name: lang\n    dtype: int64\n"),
    )
    .unwrap();
    s.env.git_out(&s.clone, &["add", "README.md"]);
    s.env
        .git_out(&s.clone, &["commit", "-q", "-m", "Edit the schema by hand"]);
    let output = s.run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert_eq!(
        out.lines().next().unwrap(),
        "data/train-00000.parquet: schema differs from the card's features of config default: \
         column lang is int64 in the card, string in the file"
    );
    assert!(stderr(&output).starts_with("Error: verify found 4 problems at HEAD"));
}

#[test]
fn verify_hashes_an_object_whose_stamps_say_it_is_unchanged() {
    let s = Scenario::new();
    let (oid, _) = s.pointers("HEAD")["data/train-00001.parquet"].clone();
    let object = s.object_path(&oid);
    // The build recorded the object as verified, by stamps `push` would trust.
    let (recorded, at) = verified_entry(&s.clone, &oid).expect("the build recorded the object");
    assert_eq!(recorded, stamps(&object));
    assert!(
        recorded.mtime_ns < at - 1_000_000_000,
        "racy: {recorded:?} at {at}"
    );

    corrupt_in_place_keeping_mtime(&object);
    let output = s.run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with(&format!(
            "data/train-00001.parquet: LFS object {oid} in .git/lfs/objects is corrupt: its \
             content has sha256 "
        )),
        "{}",
        stdout(&output)
    );
    // Found corrupt: no longer vouched for.
    assert_eq!(verified_entry(&s.clone, &oid), None);
}

#[test]
fn never_published_clone_counts_everything_and_verify_rejects_a_binary_file() {
    let env = TestEnv::new();
    let clone = env.init("fresh");
    let one = repo_path("examples/friction/dialogues-01.jsonl");
    build(&env, &clone, &[&one], &["--license", "mit"]);
    env.git_out(&clone, &["tag", "-a", "v0", "-m", "Preview"]);
    std::fs::write(clone.join("blob.dat"), [0u8, 1, 2, 3]).unwrap();
    env.git_out(&clone, &["add", "blob.dat"]);
    env.git_out(&clone, &["commit", "-q", "-m", "Add a binary file"]);
    let run = |command: &str, args: &[&str]| {
        env.hf_relay()
            .arg(command)
            .arg("--dir")
            .arg(&clone)
            .args(args)
            .output()
            .unwrap()
    };
    let short = |rev: &str| {
        env.git_out(&clone, &["rev-parse", "--short", rev])
            .trim()
            .to_string()
    };
    let shard = std::fs::metadata(clone.join("data/train-00000.parquet"))
        .unwrap()
        .len();

    let output = run("status", &[]);
    assert_success(&output);
    let out = stdout(&output);
    let out: Vec<&str> = out.lines().collect();
    assert_eq!(out[0], "On branch main");
    assert_eq!(
        out[1],
        "Never published (no origin/main): 3 commits to push"
    );
    assert_eq!(
        out[5],
        format!("LFS objects to upload: 1, {}", human_bytes(shard))
    );
    assert_eq!(out[6], "Uncommitted changes: none");
    assert_eq!(
        out[7..],
        [
            "Tags not pushed:".to_string(),
            format!("  v0 → {}", short("HEAD~1"))
        ]
    );

    // Never published: the diff starts from the first commit.
    let output = run("diff", &[]);
    assert_success(&output);
    let out = stdout(&output);
    assert_eq!(
        out.lines().next().unwrap(),
        format!("diff {} → the working tree", short("HEAD~2"))
    );
    assert!(section(&out, "README.md metadata:").contains(&"  + license: mit"));
    assert_eq!(
        section(&out, "Data:"),
        [
            format!(
                "  train: new split, 80 rows, 1 shard, {}",
                human_bytes(shard)
            ),
            format!(
                "    added   data/train-00000.parquet ({})",
                human_bytes(shard)
            ),
        ]
    );
    assert_eq!(section(&out, "Other files:"), ["  added   blob.dat (4 B)"]);

    let output = run("verify", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "blob.dat: binary file not stored with Git LFS; the Hub refuses it (add its pattern to \
         .gitattributes)\n"
    );
    assert_success(&run("verify", &["v0"]));
}
