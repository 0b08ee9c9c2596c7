//! The rates of the building blocks a build spends its time in, on the first 300 MB of a JSONL
//! file: SHA-256 (`sha2`, as hf-relay uses it), snappy (`snap`, as the `parquet` crate uses it)
//! and three JSON parsers driving the same serde visitor line by line (one `Deserializer` per
//! line, as hf-relay does). Best of 6 interleaved passes per parser; rates in MB/s.

use std::fmt;
use std::time::Instant;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use sha2::Digest;

/// Touches every value the way hf-relay's column visitors do (string lengths, numbers, keys).
struct Touch(u64);

impl<'de> DeserializeSeed<'de> for &mut Touch {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Touch {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.0 += 1;
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0 = self.0.wrapping_add(v as u64);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0 = self.0.wrapping_add(v);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0 = self.0.wrapping_add(v as u64);
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0 += v.len() as u64;
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(&mut *self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<str>>()? {
            self.0 += key.len() as u64;
            map.next_value_seed(&mut *self)?;
        }
        Ok(())
    }
}

fn rate(megabytes: f64, started: Instant) -> f64 {
    megabytes / started.elapsed().as_secs_f64()
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: hf-relay-routes FILE.jsonl");
    let mut data = std::fs::read(&path).expect("readable input");
    data.truncate(data.len().min(300_000_000));
    let end = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    data.truncate(end);
    let text = std::str::from_utf8(&data).expect("UTF-8 input");
    let megabytes = data.len() as f64 / 1e6;
    let lines = || text.split('\n').filter(|line| !line.is_empty());
    println!("input: {megabytes:.0} MB of {path}");

    let started = Instant::now();
    let mut hasher = sha2::Sha256::new();
    for block in data.chunks(1 << 20) {
        hasher.update(block);
    }
    let digest = hasher.finalize();
    println!(
        "sha256 (sha2): {:.0} MB/s ({:02x}…)",
        rate(megabytes, started),
        digest[0]
    );

    let mut encoder = snap::raw::Encoder::new();
    let mut out = vec![0; snap::raw::max_compress_len(1 << 20)];
    let started = Instant::now();
    let mut compressed = 0;
    for block in data.chunks(1 << 20) {
        compressed += encoder.compress(block, &mut out).expect("compressible");
    }
    println!(
        "snappy (snap, 1 MiB blocks): {:.0} MB/s, ratio {:.3}",
        rate(megabytes, started),
        compressed as f64 / data.len() as f64
    );

    // One pass of a parser over every line: its rate and what the visitor summed.
    fn pass(megabytes: f64, mut parse_all: impl FnMut(&mut Touch)) -> (f64, u64) {
        let started = Instant::now();
        let mut touch = Touch(0);
        parse_all(&mut touch);
        (rate(megabytes, started), touch.0)
    }
    let mut best = [0f64; 3];
    let mut sums = [0u64; 3];
    let mut scratch = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    for _ in 0..6 {
        let passes = [
            pass(megabytes, |touch| {
                for line in lines() {
                    let mut de = serde_json::Deserializer::from_str(line);
                    touch.deserialize(&mut de).expect("valid JSON");
                    de.end().expect("one value per line");
                }
            }),
            pass(megabytes, |touch| {
                for line in lines() {
                    let mut de = sonic_rs::Deserializer::from_str(line);
                    touch.deserialize(&mut de).expect("valid JSON");
                    de.end().expect("one value per line");
                }
            }),
            // simd-json parses in place: each line is copied into a reused buffer first.
            pass(megabytes, |touch| {
                for line in lines() {
                    scratch.clear();
                    scratch.extend_from_slice(line.as_bytes());
                    let mut de = simd_json::Deserializer::from_slice_with_buffers(
                        &mut scratch,
                        &mut buffers,
                    )
                    .expect("valid JSON");
                    touch.deserialize(&mut de).expect("valid JSON");
                }
            }),
        ];
        for (i, (rate, sum)) in passes.into_iter().enumerate() {
            best[i] = best[i].max(rate);
            sums[i] = sum;
        }
    }
    assert!(
        sums.iter().all(|&s| s == sums[0]),
        "the parsers saw different values: {sums:?}"
    );
    println!(
        "JSON through serde, best of 6: serde_json {:.0} MB/s, sonic-rs {:.0} MB/s ({:.2}×), simd-json {:.0} MB/s ({:.2}×)",
        best[0],
        best[1],
        best[1] / best[0],
        best[2],
        best[2] / best[0]
    );
}
