//! What `build` accepts besides plain JSONL files: gzip, zstd, bzip2 and xz files (told by their
//! first bytes, whatever their name) and standard input, each giving the shards of the plain
//! build, byte for byte, with trailers naming the input as given.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::support::*;

/// `build` with `input` written to its standard input.
fn build_from_stdin(env: &TestEnv, clone: &Path, args: &[&str], input: Vec<u8>) -> Output {
    let mut child = env
        .hf_relay()
        .arg("build")
        .arg("--dir")
        .arg(clone)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // A build that fails early closes its end: a broken pipe is no test failure.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// Rows past the first 4 MiB chunk that add a key, so that the build reads its input twice
/// (the guessed schema misses the key; the whole-input pass and the rewrite read it again).
fn jsonl_with_late_key() -> Vec<u8> {
    let filler = "y".repeat(700);
    let mut text = String::new();
    for i in 0..7000 {
        text.push_str(&format!(
            "{{\"id\": {i}, \"text\": \"{filler}{i}\", \"meta\": {{\"n\": {}, \"tags\": [\"a\", \"b{i}\"]}}}}\n",
            i * 31
        ));
    }
    assert!(
        text.len() > 4 << 20,
        "the late key must be past the first chunk"
    );
    text.push_str(r#"{"id": 7000, "text": "late", "meta": {"n": 0, "tags": []}, "late": 1.5}"#);
    text.push('\n');
    text.into_bytes()
}

/// The input compressed as `format` by Python's standard library (`zstd` by the zstd crate,
/// with a checksum as the `zstd` tool writes): `gzip` is two concatenated members.
fn compress(env: &TestEnv, format: &str, data: &[u8]) -> Vec<u8> {
    if format == "zstd" {
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.include_checksum(true).unwrap();
        encoder.write_all(data).unwrap();
        return encoder.finish().unwrap();
    }
    let raw = env.write("to-compress.bin", data);
    let packed = env.path().join("compressed.bin");
    let script = r#"
import bz2, gzip, lzma, sys
fmt, src, dst = sys.argv[1:]
data = open(src, "rb").read()
if fmt == "gzip":
    half = len(data) // 2
    out = gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0)
elif fmt == "bzip2":
    out = bz2.compress(data)
else:
    out = lzma.compress(data, format=lzma.FORMAT_XZ)
open(dst, "wb").write(out)
"#;
    let output = python()
        .args(["-c", script, format])
        .arg(&raw)
        .arg(&packed)
        .output()
        .unwrap();
    assert_success(&output);
    std::fs::read(packed).unwrap()
}

/// Every shard committed in HEAD: its path, its LFS pointer, and the file's bytes.
fn shards(env: &TestEnv, clone: &Path) -> Vec<(String, String, Vec<u8>)> {
    env.git_out(clone, &["ls-tree", "-r", "--name-only", "HEAD", "data"])
        .lines()
        .map(|path| {
            let pointer = env.git_out(clone, &["cat-file", "-p", &format!("HEAD:{path}")]);
            assert!(pointer.contains("oid sha256:"), "{path}: {pointer}");
            (
                path.to_string(),
                pointer,
                std::fs::read(clone.join(path)).unwrap(),
            )
        })
        .collect()
}

/// Files and folders under the clone whose name says they are a stdin spool or a staging area.
fn leftovers(clone: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![clone.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains("stdin") || name.starts_with("hf-relay-staging") {
                found.push(path.clone());
            }
            if path.is_dir() {
                pending.push(path);
            }
        }
    }
    found
}

#[test]
fn compressed_inputs_give_the_shards_of_the_plain_build_whatever_their_name() {
    let env = TestEnv::new();
    let data = jsonl_with_late_key();
    let plain = env.write("rows.jsonl", &data);
    let reference = env.init("plain");
    assert_success(&run_build(&env, &reference, &[plain.to_str().unwrap()]));
    let expected = shards(&env, &reference);
    assert!(!expected.is_empty());
    let readme = std::fs::read_to_string(reference.join("README.md")).unwrap();
    assert!(readme.contains("- name: late\n"), "{readme}");

    for (format, name) in [
        ("gzip", "rows.jsonl.gz"),
        ("gzip", "gzip-named-plain.jsonl"),
        ("zstd", "rows.jsonl.zst"),
        ("bzip2", "rows.jsonl.bz2"),
        ("xz", "rows.jsonl.xz"),
    ] {
        let packed = compress(&env, format, &data);
        let input = env.write(name, &packed);
        let clone = env.init(&format!("from-{}", name.replace('.', "-")));
        let output = run_build(&env, &clone, &[input.to_str().unwrap()]);
        assert_success(&output);
        assert!(
            shards(&env, &clone) == expected,
            "{name}: the shards differ from the plain build's"
        );
        assert_eq!(
            trailers(&env, &clone),
            vec![format!("Input: {name} sha256:{}", sha256_hex(&packed))],
            "{name}: the trailer names the file (outside the clone: by its name alone), with the \
             SHA-256 of its bytes as given"
        );
    }
}

#[test]
fn standard_input_gives_the_shards_of_the_plain_build_and_leaves_no_spool() {
    let env = TestEnv::new();
    let data = jsonl_with_late_key();
    let test_rows = b"{\"id\": -1, \"text\": \"t\", \"meta\": {\"n\": 1, \"tags\": []}}\n";
    let plain = env.write("rows.jsonl", &data);
    let test = env.write("test.jsonl", test_rows);
    let reference = env.init("plain");
    let split_test = format!("test={}", test.display());
    assert_success(&run_build(
        &env,
        &reference,
        &[plain.to_str().unwrap(), "--split", &split_test],
    ));
    let expected = shards(&env, &reference);

    // `-` as an INPUT, plain and compressed.
    let zst = compress(&env, "zstd", &data);
    for (what, bytes) in [("plain", data.clone()), ("zstd", zst)] {
        let clone = env.init(&format!("stdin-{what}"));
        let output = build_from_stdin(&env, &clone, &["-", "--split", &split_test], bytes.clone());
        assert_success(&output);
        assert!(shards(&env, &clone) == expected, "{what}: shards differ");
        assert_eq!(
            trailers(&env, &clone),
            vec![
                format!("Input: stdin sha256:{}", sha256_hex(&bytes)),
                format!("Input: test.jsonl sha256:{}", sha256_hex(test_rows)),
            ]
        );
        assert_eq!(leftovers(&clone), Vec::<PathBuf>::new());
        assert_eq!(env.git_out(&clone, &["status", "--porcelain"]), "");
    }

    // `--split NAME=-`.
    let clone = env.init("stdin-split");
    let output = build_from_stdin(
        &env,
        &clone,
        &[plain.to_str().unwrap(), "--split", "test=-"],
        test_rows.to_vec(),
    );
    assert_success(&output);
    assert!(
        shards(&env, &clone) == expected,
        "--split test=-: shards differ"
    );
    assert_eq!(
        trailers(&env, &clone)[1],
        format!("Input: stdin sha256:{}", sha256_hex(test_rows))
    );
    assert_eq!(leftovers(&clone), Vec::<PathBuf>::new());

    // Read once only: a second `-` is refused before anything is read.
    let before = env.snapshot(&clone);
    let output = build_from_stdin(&env, &clone, &["-", "--split", "test=-"], Vec::new());
    assert_failure(&output, "standard input (`-`) is given twice");
    assert!(env.snapshot(&clone) == before);
}

#[test]
fn a_second_build_from_standard_input_is_converted_again_not_skipped() {
    let env = TestEnv::new();
    let clone = env.init("stdin-twice");
    let first = b"{\"a\": 1}\n".to_vec();
    assert_success(&build_from_stdin(&env, &clone, &["-"], first.clone()));
    let head = env.git_out(&clone, &["rev-parse", "HEAD"]);
    // The same bytes: nothing to commit, found by converting (stdin has no stamps to trust).
    let output = build_from_stdin(&env, &clone, &["-"], first);
    assert_success(&output);
    assert!(stderr(&output).contains("Nothing to commit: the dataset and card equal HEAD."));
    assert_eq!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);
    // Other bytes on standard input: a new commit.
    assert_success(&build_from_stdin(
        &env,
        &clone,
        &["-"],
        b"{\"a\": 2}\n".to_vec(),
    ));
    assert_ne!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);
}

#[test]
fn truncated_and_corrupt_archives_are_refused_by_name_and_leave_the_clone_unchanged() {
    let env = TestEnv::new();
    let data = jsonl_with_late_key();
    let clone = env.init("broken-archives");
    let good = env.write("good.jsonl", b"{\"id\": 1, \"text\": \"x\"}\n");
    assert_success(&run_build(&env, &clone, &[good.to_str().unwrap()]));
    let before = env.snapshot(&clone);
    for (format, extension) in [
        ("gzip", "gz"),
        ("zstd", "zst"),
        ("bzip2", "bz2"),
        ("xz", "xz"),
    ] {
        let packed = compress(&env, format, &data);
        let truncated = env.write(
            &format!("truncated.jsonl.{extension}"),
            &packed[..packed.len() * 3 / 4],
        );
        let mut flipped = packed.clone();
        let middle = flipped.len() / 3;
        for byte in &mut flipped[middle..middle + 64] {
            *byte ^= 0xa5;
        }
        let corrupt = env.write(&format!("corrupt.jsonl.{extension}"), &flipped);
        for (file, what) in [(&truncated, "truncated"), (&corrupt, "corrupt")] {
            let output = run_build(&env, &clone, &[file.to_str().unwrap()]);
            assert_failure(
                &output,
                &format!("{}: the {format} archive is {what}", file.display()),
            );
            assert!(
                env.snapshot(&clone) == before,
                "{format} {what}: the failed build changed the clone"
            );
        }
        // The same through standard input: named `stdin`, spool gone.
        let output = build_from_stdin(&env, &clone, &["-"], packed[..packed.len() / 2].to_vec());
        assert_failure(
            &output,
            &format!("stdin: the {format} archive is truncated"),
        );
        assert!(env.snapshot(&clone) == before, "{format} on stdin");
    }
}

#[test]
fn errors_in_compressed_or_piped_input_name_the_line_and_column_of_the_text() {
    let env = TestEnv::new();
    let clone = env.init("bad-lines");
    // The bad line is past the first chunk: found by the pass that reads the stream again.
    let mut data = jsonl_with_late_key();
    let lines = data.iter().filter(|b| **b == b'\n').count();
    data.extend_from_slice(b"{\"id\": 1, \"text\": \"x\",, }\n");
    let bad_line = lines + 1;
    let before = env.snapshot(&clone);
    for format in ["gzip", "xz"] {
        let input = env.write("bad.jsonl.z", compress(&env, format, &data));
        let output = run_build(&env, &clone, &[input.to_str().unwrap()]);
        assert_failure(
            &output,
            &format!("{}:{bad_line}:23: invalid JSON", input.display()),
        );
        assert!(env.snapshot(&clone) == before);
    }
    let output = build_from_stdin(&env, &clone, &["-"], data);
    assert_failure(&output, &format!("stdin:{bad_line}:23: invalid JSON"));
    assert!(
        env.snapshot(&clone) == before,
        "the spool is removed on error"
    );
}

#[test]
fn compressed_and_piped_builds_read_back_with_datasets() {
    let env = TestEnv::new();
    let friction = repo_path("examples/friction/dialogues-01.jsonl");
    let data = std::fs::read(&friction).unwrap();
    let clone = env.init("readback");
    let bz2 = env.write("dialogues.jsonl.bz2", compress(&env, "bzip2", &data));
    let split = format!("test={}", bz2.display());
    let output = build_from_stdin(&env, &clone, &["-", "--split", &split], data);
    assert_success(&output);
    let summary = check_with_python(
        &clone,
        &[("train", vec![friction.clone()]), ("test", vec![friction])],
    );
    assert!(summary.contains("\"train\": 80, \"test\": 80"), "{summary}");
}

#[test]
fn standard_input_on_a_terminal_is_refused_before_anything_is_read() {
    let env = TestEnv::new();
    let clone = env.init("stdin-terminal");
    let before = env.snapshot(&clone);
    let output = env
        .hf_relay_on_terminal()
        .arg("build")
        .arg("--dir")
        .arg(&clone)
        .arg("-")
        .output()
        .unwrap();
    // On the terminal, stdout and stderr come back together as stdout.
    let drawn = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{drawn}");
    assert!(
        drawn.contains("standard input (`-`) is a terminal: pipe or redirect the JSONL"),
        "{drawn}"
    );
    assert!(env.snapshot(&clone) == before);
}
