//! The bodies of hf-relay's fuzz targets, shared by the cargo-fuzz binaries (`fuzz/`, nightly)
//! and the stable fuzz smoke test of the integration suite (`tests/testsuite/hardening`).
//!
//! Each target must never panic, and checks a few properties that must hold for any input.

use std::sync::atomic::AtomicBool;

use hf_relay::card::{self, CardRequest, ConfigInfo, MetadataFlags, SplitInfo};
use hf_relay::convert::reuse::Previous;
use hf_relay::convert::{self, Codec, Conversion, ConvertError, NoProgress, Options, SplitInput};
use hf_relay::features::Feature;

/// Arbitrary bytes as one JSONL file, converted into Parquet shards in a temp folder.
///
/// Properties, checked against a line-by-line model built on `serde_json::Value`:
/// - a successful conversion means every non-blank line is a JSON object, and the row count is
///   the number of non-blank lines (also summed over the shards);
/// - any line that is not a JSON object makes the conversion fail;
/// - a syntax or "not an object" error names a line the model also rejects;
/// - every error names the input file and a line that exists.
pub fn jsonl_to_arrow(data: &[u8]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("input.jsonl");
    std::fs::write(&input, data).expect("write input");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("create out dir");
    // Options vary with the input so the fuzzer explores them without spending bytes on them.
    let options = Options {
        max_shard_bytes: if data.len().is_multiple_of(3) {
            256
        } else {
            1 << 20
        },
        codec: if data.len().is_multiple_of(5) {
            Codec::Zstd
        } else {
            Codec::Snappy
        },
        conflicts_as_json: data.len() % 2 == 1,
        rewrite: false,
    };
    let splits = [SplitInput {
        name: "train".to_string(),
        files: vec![input.clone()],
    }];
    let result = convert::convert(&Conversion {
        splits: &splits,
        out_dir: &out,
        options: &options,
        previous: &Previous::none(),
        progress: &NoProgress,
        interrupted: &AtomicBool::new(false),
    });

    // The model judges what the converter reads: the decoded text of a compressed input.
    let Some(decoded) = decoded_text(&input) else {
        assert!(
            result.is_err(),
            "converted an input that does not decode as the archive it starts like"
        );
        return;
    };
    let data = decoded.as_slice();
    let model = model_lines(data);
    let invalid = |line: u64| model.iter().any(|l| l.number == line && !l.valid_object);
    let any_invalid = model.iter().any(|l| !l.valid_object);
    let line_count = data.split(|&b| b == b'\n').count() as u64;
    match result {
        Ok(converted) => {
            assert!(
                !any_invalid,
                "converted although line {} is not a JSON object",
                model.iter().find(|l| !l.valid_object).unwrap().number
            );
            let split = &converted.splits[0];
            assert_eq!(split.num_examples, model.len() as u64, "row count");
            let shard_rows: u64 = split.shards.iter().map(|s| s.num_rows).sum();
            assert_eq!(shard_rows, split.num_examples, "rows over the shards");
            for shard in &split.shards {
                let size = std::fs::metadata(&shard.path).expect("shard exists").len();
                assert_eq!(size, shard.file_size, "shard size");
            }
        }
        Err(error) => {
            let location = match &error {
                ConvertError::Malformed { location, .. }
                | ConvertError::NotAnObject { location, .. } => {
                    assert!(
                        invalid(location.line),
                        "{error}: the model accepts line {}",
                        location.line
                    );
                    Some(location)
                }
                ConvertError::TypeConflict { location, .. }
                | ConvertError::IntegerOutOfRange { location, .. }
                | ConvertError::InexactFloat { location, .. }
                | ConvertError::DuplicateKey { location, .. } => Some(location),
                ConvertError::NoRecords { .. } => {
                    assert!(model.is_empty(), "{error}, but the input has records");
                    None
                }
                ConvertError::TooDeep { location, .. } => {
                    assert!(!any_invalid, "{error}, but some line is invalid");
                    Some(location)
                }
                ConvertError::NoColumns => {
                    assert!(!any_invalid, "{error}, but some line is invalid");
                    None
                }
                // The bytes look like UTF-16 (a byte-order mark, or every other byte NUL), or
                // like a compressed archive that does not decode: refused as a whole file.
                ConvertError::Utf16 { .. } | ConvertError::Archive { .. } => None,
                other => panic!("unexpected error for an in-memory input: {other}"),
            };
            if let Some(location) = location {
                assert_eq!(location.file, input, "{error}: wrong file");
                assert!(
                    (1..=line_count).contains(&location.line),
                    "{error}: line {} of {line_count}",
                    location.line
                );
            }
        }
    }
}

/// Inputs that crash `jsonl_to_arrow` through a bug already reported, each with the issue that
/// tracks it: the fuzz binary and the smoke test skip them so they keep looking for new ones,
/// and `tests/testsuite/hardening/` checks that every one of them still crashes (so an entry goes with
/// its fix). None at the moment: until b67167b every record being `{}` panicked in
/// convert::infer::schema_of, and that input is now the `only_empty_objects.jsonl` case of
/// tests/bad_input.
pub const KNOWN_JSONL_CRASHERS: &[(&str, &[u8])] = &[];

/// Whether `data` is one of the [`KNOWN_JSONL_CRASHERS`].
pub fn known_jsonl_crasher(data: &[u8]) -> bool {
    KNOWN_JSONL_CRASHERS
        .iter()
        .any(|(_, crasher)| *crasher == data)
}

/// The bytes of `input` as the converter reads them (decompressed when they start like gzip,
/// zstd, bzip2 or xz); `None` when such an archive does not decode.
fn decoded_text(input: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut opened = convert::source::Source::file(input).open(false).ok()?;
    let mut text = Vec::new();
    opened.reader.read_to_end(&mut text).ok()?;
    Some(text)
}

/// One non-blank line as the model sees it.
struct ModelLine {
    number: u64,
    valid_object: bool,
}

/// hf-relay's reading rules (a UTF-8 BOM at the start, `\r\n` line ends, blank lines skipped)
/// with `serde_json::Value` as the judge of each line.
fn model_lines(data: &[u8]) -> Vec<ModelLine> {
    numbered_lines(data)
        .map(|(number, line)| ModelLine {
            number,
            valid_object: matches!(
                serde_json::from_slice::<serde_json::Value>(line),
                Ok(serde_json::Value::Object(_))
            ),
        })
        .collect()
}

/// The non-blank lines with their 1-based numbers, `\r` stripped, after a leading BOM.
fn numbered_lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (!line.iter().all(u8::is_ascii_whitespace)).then_some((i as u64 + 1, line))
        })
}

/// Arbitrary text as README.md: parsed, rendered into the next card, and merged.
///
/// The input is cut at `0xFF` bytes (never valid UTF-8) into up to three parts: the existing
/// card, a body template, and the Hub's side of a merge. Nothing may panic.
/// For a card whose configs can be read (a build stops earlier otherwise):
/// - `render` is idempotent: rendering the rendered card again gives it back unchanged (a
///   rebuild of the same data must find nothing to commit);
/// - the rendered card parses, and `read_configs` finds the config just rendered with its
///   splits;
/// - merging a card with itself gives a card that parses.
pub fn card_merge(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (existing, template, theirs) = (next(), next(), next());

    // A build reads the current card's configs first and stops when that fails; the
    // properties below are about cards a build gets past that point with.
    let readable = card::read_configs(&existing).is_ok();
    let _ = card::split_front_matter(&existing);
    let _ = card::merge_cards(Some(&existing), &template, &theirs);
    let _ = card::merge_cards(None, &existing, &theirs);

    let config = sample_config();
    let flags = MetadataFlags {
        pretty_name: Some(template.lines().next().unwrap_or_default().to_string()),
        license: theirs.lines().next().map(str::to_string),
        tags: theirs.lines().skip(1).take(3).map(str::to_string).collect(),
        ..MetadataFlags::default()
    };
    let render = |existing: &str| {
        card::render(&CardRequest {
            repo_id: "fuzz/card",
            existing: Some(existing),
            template: Some(&template),
            config: &config,
            flags: &flags,
        })
    };
    let rendered = render(&existing);
    let Ok(rendered) = rendered else { return };
    if !readable {
        return;
    }
    let again = render(&rendered)
        .unwrap_or_else(|e| panic!("the rendered card does not render again: {e:#}"));
    assert!(
        again == rendered,
        "render is not idempotent:\n--- first\n{rendered}\n--- second\n{again}"
    );
    let configs = card::read_configs(&rendered)
        .unwrap_or_else(|e| panic!("the rendered card does not parse: {e:#}"));
    let found = configs
        .iter()
        .find(|c| c.config_name == config.config_name)
        .unwrap_or_else(|| panic!("the rendered card lost its config: {configs:?}"));
    for split in &config.splits {
        assert!(
            found.splits.contains(split),
            "the rendered card lost split {split:?}: {found:?}"
        );
    }
    let merged = card::merge_cards(Some(&rendered), &rendered, &rendered)
        .unwrap_or_else(|e| panic!("a card does not merge with itself: {e:#}"));
    card::split_front_matter(&merged)
        .unwrap_or_else(|e| panic!("the merged card does not parse: {e:#}"));
}

fn sample_config() -> ConfigInfo {
    ConfigInfo {
        config_name: "default".to_string(),
        data_dir: "data".to_string(),
        features: vec![
            ("id".to_string(), Feature::Value("string")),
            (
                "turns".to_string(),
                Feature::List(Box::new(Feature::Struct(vec![
                    ("role".to_string(), Feature::Value("string")),
                    ("score".to_string(), Feature::Value("float64")),
                ]))),
            ),
        ],
        splits: vec![
            SplitInfo {
                name: "train".to_string(),
                num_bytes: 1234,
                num_examples: 10,
            },
            SplitInfo {
                name: "test".to_string(),
                num_bytes: 99,
                num_examples: 1,
            },
        ],
        download_size: 2048,
    }
}
