//! Byte sizes as people write them (`500MB`, `1GiB`) and as we print them.

use anyhow::{Context, bail};

/// Parses `500MB` (decimal, as `datasets` does), `200MiB` (binary), or a plain byte count.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let trimmed = text.trim();
    let split_at = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split_at);
    let number: f64 = number
        .parse()
        .with_context(|| format!("invalid size {text:?}: expected e.g. 500MB, 1GB or 200MiB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" => 1_000,
        "MB" | "M" => 1_000_000,
        "GB" | "G" => 1_000_000_000,
        "KIB" => 1 << 10,
        "MIB" => 1 << 20,
        "GIB" => 1 << 30,
        other => bail!(
            "invalid size {text:?}: unknown unit {other:?} (use B, KB, MB, GB, KiB, MiB, GiB)"
        ),
    };
    let bytes = (number * multiplier as f64).round();
    if bytes < 1.0 {
        bail!("invalid size {text:?}: must be at least one byte");
    }
    Ok(bytes as u64)
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(names: &[String]) -> String {
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `1.2 MB`-style display for status lines.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 LFS object`, `2 LFS objects`, `12,345 rows`: a count with its noun, plural in `s`.
pub fn count(n: usize, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n as u64), plural(n))
}

/// `1 row`, `12,345 rows`.
pub fn rows(n: u64) -> String {
    format!("{} row{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// `""` for one, `"s"` otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("200MiB").unwrap(), 200 << 20);
        assert_eq!(parse_size("1234").unwrap(), 1234);
        assert!(parse_size("12 parsecs").is_err());
        assert_eq!(thousands(12345), "12,345");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(count(1, "LFS object"), "1 LFS object");
        assert_eq!(count(1200, "row"), "1,200 rows");
    }
}
