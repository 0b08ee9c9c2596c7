//! Parquet inputs: files written by DuckDB, Polars, pyarrow and a Spark-style folder are
//! published as they are (the LFS object is the source file, byte for byte) and read back by
//! `datasets` as the source rows; files that break a layout rule, or `--rewrite`, go through
//! the shard writer; mixed schemas and formats are refused with the files named.

use std::path::{Path, PathBuf};

use crate::support::*;

/// The LFS pointers committed under `data/`, in name order: (path, oid, size).
fn committed_pointers(env: &TestEnv, clone: &Path) -> Vec<(String, String, u64)> {
    let listing = env.git_out(clone, &["ls-tree", "--name-only", "HEAD", "data/"]);
    listing
        .lines()
        .map(|path| {
            let pointer = env.git_out(clone, &["show", &format!("HEAD:{path}")]);
            let field = |key: &str| {
                pointer
                    .lines()
                    .find_map(|line| line.strip_prefix(key))
                    .unwrap_or_else(|| panic!("no {key} in the pointer of {path}:\n{pointer}"))
                    .to_string()
            };
            (
                path.to_string(),
                field("oid sha256:"),
                field("size ").parse().unwrap(),
            )
        })
        .collect()
}

/// `tests/python/check_parquet_clone.py`: `datasets.load_dataset(clone)` returns exactly the
/// rows pyarrow reads from the inputs, and the card agrees.
fn check_parquet_clone(clone: &Path, splits: &[(&str, Vec<PathBuf>)]) {
    check_with_script("tests/python/check_parquet_clone.py", clone, splits);
}

/// Asserts the build adopted `sources` in order: one shard each, whose LFS oid and size are
/// the source file's, whose working-tree bytes are the source's, and a trailer per input with
/// that same digest.
fn assert_adopted(env: &TestEnv, clone: &Path, sources: &[PathBuf]) {
    let pointers = committed_pointers(env, clone);
    assert_eq!(pointers.len(), sources.len(), "{pointers:?}");
    let trailers = trailers(env, clone);
    assert_eq!(trailers.len(), sources.len(), "{trailers:?}");
    for ((source, (path, oid, size)), trailer) in sources.iter().zip(&pointers).zip(&trailers) {
        let digest = sha256_hex(&std::fs::read(source).unwrap());
        assert_eq!(oid, &digest, "{path} is not {}", source.display());
        assert_eq!(*size, std::fs::metadata(source).unwrap().len());
        assert_eq!(
            std::fs::read(clone.join(path)).unwrap(),
            std::fs::read(source).unwrap()
        );
        let name = source.file_name().unwrap().to_string_lossy();
        assert_eq!(trailer, &format!("Input: {name} sha256:{digest}"));
    }
    // hf-relay's own check before a push agrees with the card it wrote.
    let verify = env
        .hf_relay()
        .arg("verify")
        .arg("--dir")
        .arg(clone)
        .output()
        .unwrap();
    assert_success(&verify);
}

#[test]
fn files_written_by_duckdb_polars_and_pyarrow_are_published_as_they_are() {
    let env = TestEnv::new();
    run_python(
        &env,
        r#"
import datetime, decimal
import duckdb, polars as pl, pyarrow as pa, pyarrow.parquet as pq
duckdb.sql("""COPY (SELECT i AS id, 'row ' || i AS text, i * 0.5 AS score,
    DATE '2024-01-01' + i::INT AS day, [i, i + 1] AS tags, {'a': i, 'b': 'x' || i} AS meta,
    CASE WHEN i % 7 = 0 THEN NULL ELSE i::SMALLINT END AS small
    FROM range(3000) t(i)) TO 'duckdb.parquet' (FORMAT parquet)""")
pl.DataFrame({
    "id": list(range(2000)),
    "text": [f"polars {i}" for i in range(2000)],
    "f32": pl.Series([i / 3 for i in range(2000)], dtype=pl.Float32),
    "u8": pl.Series([i % 256 for i in range(2000)], dtype=pl.UInt8),
    "ts": [datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=i) for i in range(2000)],
    "words": [["a", str(i)] for i in range(2000)],
}).write_parquet("polars.parquet")
n = 1500
pq.write_table(pa.table({
    "id": pa.array(range(n), pa.int32()),
    "label": pa.array([["cat", "dog"][i % 2] for i in range(n)]).dictionary_encode(),
    "blob": pa.array([bytes([i % 256]) * 3 for i in range(n)], pa.binary()),
    "at": pa.array([i * 1000 for i in range(n)], pa.timestamp("ms", tz="UTC")),
    "big": pa.array([[i] for i in range(n)], pa.large_list(pa.int64())),
}), "pyarrow.parquet", row_group_size=500, compression="zstd")
"#,
    );
    for name in ["duckdb", "polars", "pyarrow"] {
        let clone = env.init(name);
        let source = env.path().join(format!("{name}.parquet"));
        let output = run_build(&env, &clone, &[source.to_str().unwrap()]);
        assert_success(&output);
        assert!(
            !stderr(&output).contains("Rewrote"),
            "{name}: {}",
            stderr(&output)
        );
        assert_adopted(&env, &clone, std::slice::from_ref(&source));
        check_parquet_clone(&clone, &[("train", vec![source])]);
    }
}

/// A folder as Spark writes it: `part-*` files (here gzip and lz4, which Spark may use), a
/// `_SUCCESS` marker and hidden `.crc` checksums.
fn spark_folder(env: &TestEnv) -> PathBuf {
    run_python(
        env,
        r#"
import os, pyarrow as pa, pyarrow.parquet as pq
os.makedirs("spark_out")
for part, codec in enumerate(["gzip", "lz4", "brotli"]):
    rows = range(part * 1000, part * 1000 + 1000)
    table = pa.table({"id": pa.array(rows, pa.int64()), "text": [f"spark {i}" for i in rows],
                      "score": pa.array([i / 7 for i in rows], pa.float64())})
    name = f"part-{part:05d}-3f1c2b7e-c000.{codec}.parquet"
    pq.write_table(table, f"spark_out/{name}", compression=codec)
    open(f"spark_out/.{name}.crc", "wb").write(b"crc")
open("spark_out/_SUCCESS", "wb").close()
open("spark_out/._SUCCESS.crc", "wb").write(b"crc")
"#,
    );
    env.path().join("spark_out")
}

#[test]
fn a_spark_style_folder_is_its_part_files_in_name_order() {
    let env = TestEnv::new();
    let folder = spark_folder(&env);
    let parts: Vec<PathBuf> = (0..3)
        .map(|part| {
            let codec = ["gzip", "lz4", "brotli"][part];
            folder.join(format!("part-{part:05}-3f1c2b7e-c000.{codec}.parquet"))
        })
        .collect();
    let clone = env.init("spark");
    let output = run_build(&env, &clone, &[folder.to_str().unwrap()]);
    assert_success(&output);
    assert_adopted(&env, &clone, &parts);
    check_parquet_clone(&clone, &[("train", parts.clone())]);

    // A folder is also a named split, beside a file of its own.
    let test = env.path().join("test.parquet");
    std::fs::copy(&parts[0], &test).unwrap();
    let output = run_build(
        &env,
        &clone,
        &[
            folder.to_str().unwrap(),
            "--split",
            &format!("test={}", test.display()),
        ],
    );
    assert_success(&output);
    check_parquet_clone(&clone, &[("train", parts.clone()), ("test", vec![test])]);

    // The same folder again: nothing to convert or commit.
    let head = env.git_out(&clone, &["rev-parse", "HEAD"]);
    let again = run_build(
        &env,
        &clone,
        &[
            folder.to_str().unwrap(),
            "--split",
            &format!("test={}", env.path().join("test.parquet").display()),
        ],
    );
    assert_success(&again);
    assert!(
        stderr(&again).contains("Nothing to commit"),
        "{}",
        stderr(&again)
    );
    assert_eq!(env.git_out(&clone, &["rev-parse", "HEAD"]), head);
}

#[test]
fn rewrite_decodes_every_codec_and_is_deterministic() {
    let env = TestEnv::new();
    let folder = spark_folder(&env);
    let parts: Vec<PathBuf> = part_files(&folder);
    let mut trees = Vec::new();
    for name in ["rewrite-a", "rewrite-b"] {
        let clone = env.init(name);
        let output = run_build(
            &env,
            &clone,
            &[
                folder.to_str().unwrap(),
                "--rewrite",
                "--compression",
                "zstd",
            ],
        );
        assert_success(&output);
        assert_eq!(
            stderr(&output).matches("Rewrote ").count(),
            3,
            "{}",
            stderr(&output)
        );
        // The shards are hf-relay's, not the sources.
        let sources: Vec<String> = parts
            .iter()
            .map(|p| sha256_hex(&std::fs::read(p).unwrap()))
            .collect();
        for (path, oid, _) in committed_pointers(&env, &clone) {
            assert!(!sources.contains(&oid), "{path} is a source file");
        }
        // The trailer still names each input with its own digest.
        let trailers = trailers(&env, &clone);
        for (part, trailer) in parts.iter().zip(&trailers) {
            assert!(
                trailer.ends_with(&sha256_hex(&std::fs::read(part).unwrap())),
                "{trailer}"
            );
        }
        check_parquet_clone(&clone, &[("train", parts.clone())]);
        let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
        trees.push((
            env.git_out(&clone, &["rev-parse", "HEAD:data"]),
            readme.replace(name, "NAME"),
        ));
    }
    assert!(
        trees[0] == trees[1],
        "the same input gave different data or cards"
    );
}

fn part_files(folder: &Path) -> Vec<PathBuf> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("part-") && name.ends_with(".parquet")
        })
        .collect();
    parts.sort();
    parts
}

#[test]
fn a_file_larger_than_the_shard_limit_goes_through_the_shard_writer() {
    let env = TestEnv::new();
    run_python(
        &env,
        r#"
import pyarrow as pa, pyarrow.parquet as pq
n = 20000
pq.write_table(pa.table({"id": range(n), "text": [f"text {i} " * 8 for i in range(n)]}), "big.parquet")
pq.write_table(pa.table({"id": range(n, n + 10), "text": [f"small {i}" for i in range(10)]}), "small.parquet")
"#,
    );
    let big = env.path().join("big.parquet");
    let small = env.path().join("small.parquet");
    let clone = env.init("oversized");
    let output = run_build(
        &env,
        &clone,
        &[
            big.to_str().unwrap(),
            small.to_str().unwrap(),
            "--max-shard-size",
            "500kB",
        ],
    );
    assert_success(&output);
    let out = stderr(&output);
    assert!(out.contains(&format!("Rewrote {}", big.display())), "{out}");
    assert!(out.contains("more than --max-shard-size"), "{out}");
    assert!(!out.contains("small.parquet"), "{out}");
    let pointers = committed_pointers(&env, &clone);
    assert!(pointers.len() > 3, "{pointers:?}");
    // The small file is adopted as it is, after the big one's shards.
    let last = pointers.last().unwrap();
    assert_eq!(last.1, sha256_hex(&std::fs::read(&small).unwrap()));
    for (path, _, _) in &pointers[..pointers.len() - 1] {
        let size = std::fs::metadata(clone.join(path)).unwrap().len();
        assert!(size < 500_000, "{path}: {size} bytes");
    }
    check_parquet_clone(&clone, &[("train", vec![big, small])]);
}

#[test]
fn mismatched_schemas_mixed_formats_and_partitions_are_refused() {
    let env = TestEnv::new();
    run_python(
        &env,
        r#"
import os, pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"id": [1, 2], "text": ["a", "b"]}), "a.parquet")
pq.write_table(pa.table({"id": [3, 4], "text": [5, 6]}), "b.parquet")
pq.write_table(pa.table({"id": [3, 4]}), "short.parquet")
pq.write_table(pa.table({"id": [1], "m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64()))}), "map.parquet")
os.makedirs("partitioned/year=2024")
pq.write_table(pa.table({"id": [1]}), "partitioned/year=2024/part-0.parquet")
os.makedirs("stray")
pq.write_table(pa.table({"id": [1]}), "stray/part-0.parquet")
open("stray/notes.txt", "w").write("hello")
"#,
    );
    let clone = env.init("refusals");
    let a = env.path().join("a.parquet");
    assert_success(&run_build(&env, &clone, &[a.to_str().unwrap()]));
    let jsonl = env.write("rows.jsonl", "{\"id\": 5, \"text\": \"c\"}\n");

    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec![
                a.display().to_string(),
                env.path().join("b.parquet").display().to_string(),
            ],
            vec![
                "a.parquet and ",
                "b.parquet have different schemas",
                "column `text`",
                "string",
                "int64",
            ],
        ),
        (
            vec![
                a.display().to_string(),
                env.path().join("short.parquet").display().to_string(),
            ],
            vec!["a.parquet", "short.parquet", "`text`", "missing"],
        ),
        (
            vec![a.display().to_string(), jsonl.display().to_string()],
            vec!["rows.jsonl is JSONL", "a.parquet is Parquet", "one format"],
        ),
        (
            vec![
                a.display().to_string(),
                "--split".into(),
                format!("test={}", jsonl.display()),
            ],
            vec!["rows.jsonl is JSONL", "a.parquet is Parquet"],
        ),
        (
            vec![env.path().join("partitioned").display().to_string()],
            vec!["partitioned", "year=2024/", "partition"],
        ),
        (
            vec![env.path().join("stray").display().to_string()],
            vec!["notes.txt", "not a Parquet file"],
        ),
        (
            vec![env.path().join("map.parquet").display().to_string()],
            vec!["map.parquet", "column `m`", "Map", "no feature"],
        ),
    ];
    for (args, expected) in cases {
        let before = env.snapshot(&clone);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run_build(&env, &clone, &args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        for part in expected {
            assert!(err.contains(part), "{args:?}: expected {part:?} in:\n{err}");
        }
        assert_eq!(env.snapshot(&clone), before, "{args:?}: the clone changed");
    }
}

#[test]
fn files_of_several_writers_with_one_schema_are_one_split() {
    let env = TestEnv::new();
    run_python(
        &env,
        r#"
import json, duckdb, polars as pl, pyarrow as pa, pyarrow.parquet as pq
duckdb.sql("COPY (SELECT i AS id, 'duck ' || i AS text FROM range(100) t(i)) TO '1-duckdb.parquet' (FORMAT parquet)")
# Polars writes its strings as large_string: `datasets` reads both as one column.
pl.DataFrame({"id": list(range(100, 200)), "text": [f"polars {i}" for i in range(100, 200)]}).write_parquet("2-polars.parquet")
# A file with `huggingface` metadata (as `datasets` writes): its features are the card's.
features = {"id": {"dtype": "int64", "_type": "Value"}, "label": {"dtype": "string", "_type": "Value"}}
schema = pa.schema([("id", pa.int32()), ("label", pa.string())],
                   metadata={"huggingface": json.dumps({"info": {"features": features}})})
pq.write_table(pa.table({"id": pa.array([1, 2], pa.int32()), "label": ["x", "y"]}, schema=schema), "hf.parquet")
"#,
    );
    let sources = vec![
        env.path().join("1-duckdb.parquet"),
        env.path().join("2-polars.parquet"),
    ];
    let clone = env.init("writers");
    let args: Vec<&str> = sources.iter().map(|p| p.to_str().unwrap()).collect();
    assert_success(&run_build(&env, &clone, &args));
    assert_adopted(&env, &clone, &sources);
    check_parquet_clone(&clone, &[("train", sources)]);

    let hf = env.path().join("hf.parquet");
    let clone = env.init("hf-metadata");
    assert_success(&run_build(&env, &clone, &[hf.to_str().unwrap()]));
    let card = std::fs::read_to_string(clone.join("README.md")).unwrap();
    assert!(card.contains("- name: id\n    dtype: int64"), "{card}");
    assert_adopted(&env, &clone, std::slice::from_ref(&hf));
    check_parquet_clone(&clone, &[("train", vec![hf])]);
}
