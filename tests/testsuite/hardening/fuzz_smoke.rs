//! Fuzz smoke: the cargo-fuzz targets over deterministic mutations of their seeds, on stable.

use super::*;

/// Small deterministic mutations: byte flips, interesting tokens, deletions, duplications and
/// splices from another seed.
fn mutate(rng: &mut fastrand::Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"\n",
        b"\r\n",
        b" ",
        b"\\",
        b"{}",
        b"[]",
        b"null",
        b"true",
        b"-0",
        b"1e400",
        b"NaN",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"18446744073709551616",
        b"1.5",
        b"\"a\":",
        b"\"\\ud800\"",
        b"\"\\u0000\"",
        b"\xff",
        b"\xc0\xaf",
        b"\xef\xbb\xbf",
        b"---\n",
        b"\n---\n",
        b"dataset_info:",
        b"configs:",
        b"  - ",
        b"- split: train\n",
        b": ",
        b"'",
        b"&a",
        b"*a",
        b"!!str",
        b"<!-- hf-relay:",
        b"-->",
        b"{{fields}}",
        b"{{splits}}",
        b"|",
        b"\t",
        b"#",
    ];
    let mut data = seed.to_vec();
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(..=data.len());
        match rng.u8(0..6) {
            0 if !data.is_empty() => {
                let i = rng.usize(..data.len());
                data[i] ^= 1 << rng.u8(0..8);
            }
            1 => {
                let token = TOKENS[rng.usize(..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = (at + rng.usize(1..16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 if !data.is_empty() => {
                let start = rng.usize(..data.len());
                let end = (start + rng.usize(1..64)).min(data.len());
                let piece = data[start..end].to_vec();
                data.splice(at..at, piece);
            }
            4 if !other.is_empty() => {
                let start = rng.usize(..other.len());
                let end = (start + rng.usize(1..128)).min(other.len());
                data.splice(at..at, other[start..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// Runs `target` on every seed and on `iterations` mutations; a panic fails with the input
/// (saved under the test's temp folder for a regression case).
fn fuzz_smoke(
    name: &str,
    seeds: &[Vec<u8>],
    iterations: usize,
    target: fn(&[u8]),
    known_crasher: fn(&[u8]) -> bool,
) {
    let mut rng = fastrand::Rng::with_seed(0x5eed_f022);
    let mut inputs: Vec<Vec<u8>> = seeds.to_vec();
    for _ in 0..iterations {
        let seed = &seeds[rng.usize(..seeds.len())];
        let other = &seeds[rng.usize(..seeds.len())];
        inputs.push(mutate(&mut rng, seed, other));
    }
    let mut skipped = 0;
    for (i, input) in inputs.iter().enumerate() {
        if known_crasher(input) {
            skipped += 1;
            continue;
        }
        let result = std::panic::catch_unwind(|| target(input));
        if let Err(panic) = result {
            let dir = std::env::temp_dir().join("hf-relay-fuzz-crashes");
            std::fs::create_dir_all(&dir).unwrap();
            let saved = dir.join(format!("{name}-{i}"));
            std::fs::write(&saved, input).unwrap();
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "{name}: input {i} panicked: {message}\ninput ({} bytes, saved as {}): {:?}",
                input.len(),
                saved.display(),
                String::from_utf8_lossy(&input[..input.len().min(400)])
            );
        }
    }
    eprintln!(
        "fuzz smoke {name}: {} inputs, no panic ({skipped} skipped as a known crasher)",
        inputs.len()
    );
}

fn no_known_crasher(_: &[u8]) -> bool {
    false
}

fn jsonl_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(repo_path("tests/bad_input"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| std::fs::read(p).unwrap())
        .filter(|bytes| bytes.len() < 64 << 10)
        .collect();
    seeds.sort();
    seeds.push(friction_like(0..3, 7).into_bytes());
    seeds
}

fn card_seeds() -> Vec<Vec<u8>> {
    let template = std::fs::read(repo_path("examples/friction/card.md")).unwrap();
    let mut seeds = vec![
        b"---\nlicense: mit\n---\n# Title\n\nProse.\n".to_vec(),
        b"---\r\nlicense: mit\r\ntags:\r\n- a\r\n---\r\nBody\r\n".to_vec(),
        b"---\n---\n".to_vec(),
        b"no front matter at all\n".to_vec(),
        b"---\nkey: [unclosed\n---\nbody".to_vec(),
        b"---\n- a list\n---\n".to_vec(),
        concat!(
            "---\ndataset_info:\n- config_name: en\n  features:\n  - name: id\n    dtype: string\n",
            "  splits:\n  - name: train\n    num_bytes: 10\n    num_examples: 2\n",
            "  download_size: 5\n  dataset_size: 10\nconfigs:\n- config_name: en\n",
            "  data_files:\n  - split: train\n    path: en/train-*\n---\n",
            "<!-- hf-relay:begin fields -->\n| a | b |\n<!-- hf-relay:end fields -->\n"
        )
        .as_bytes()
        .to_vec(),
    ];
    let mut with_template = seeds[0].clone();
    with_template.push(0xFF);
    with_template.extend_from_slice(&template);
    seeds.push(with_template);
    // A card rendered by hf-relay itself.
    let rendered = {
        let mut input = seeds[6].clone();
        input.push(0xFF);
        input.extend_from_slice(b"# {{pretty_name}}\n\n{{splits}}\n\n{{fields}}\n");
        input
    };
    seeds.push(rendered);
    seeds
}

#[test]
fn fuzz_smoke_jsonl_to_arrow() {
    fuzz_smoke(
        "jsonl_to_arrow",
        &jsonl_seeds(),
        2000,
        hf_relay_fuzz_targets::jsonl_to_arrow,
        hf_relay_fuzz_targets::known_jsonl_crasher,
    );
}

#[test]
fn known_crashers_still_crash_and_a_fixed_one_is_not_skipped() {
    for (issue, crasher) in hf_relay_fuzz_targets::KNOWN_JSONL_CRASHERS {
        assert!(
            hf_relay_fuzz_targets::known_jsonl_crasher(crasher),
            "{issue}"
        );
        let result = std::panic::catch_unwind(|| hf_relay_fuzz_targets::jsonl_to_arrow(crasher));
        assert!(
            result.is_err(),
            "the known crasher of {issue} no longer crashes: remove it from KNOWN_JSONL_CRASHERS"
        );
    }
    // The crasher fixed in b67167b (every record `{}`) is checked again, not skipped.
    let fixed = b"{}\n{}\n";
    assert!(!hf_relay_fuzz_targets::known_jsonl_crasher(fixed));
    hf_relay_fuzz_targets::jsonl_to_arrow(fixed);
}

#[test]
fn fuzz_smoke_card_merge() {
    fuzz_smoke(
        "card_merge",
        &card_seeds(),
        4000,
        hf_relay_fuzz_targets::card_merge,
        no_known_crasher,
    );
}
