//! Resolution: what a scalar means, by PyYAML's YAML 1.1 rules (`yes` is a bool, `010` is 8,
//! `1e3` is a string) and its tags; and whether a plain string would read back as itself in
//! PyYAML and in a YAML 1.2 parser (what the dump needs to know to leave it unquoted).

use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::yaml::Yaml;

const CORE_TAG: &str = "tag:yaml.org,2002:";

fn tag_text(tag: &Tag) -> String {
    if tag.handle == CORE_TAG {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

pub(super) fn check_collection_tag(tag: Option<&Tag>, expected: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.handle == CORE_TAG && tag.suffix == expected => Ok(()),
        Some(tag) if tag.handle == "!" && tag.suffix.is_empty() => Ok(()),
        Some(tag) => Err(format!("unsupported YAML tag {}", tag_text(tag))),
    }
}

pub(super) fn resolve_scalar(
    value: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
) -> Result<Yaml, String> {
    match tag {
        None if style == TScalarStyle::Plain => Ok(resolve_plain(value)),
        None => Ok(Yaml::String(value)),
        Some(tag) if tag.handle == "!" && tag.suffix.is_empty() => Ok(Yaml::String(value)),
        Some(tag) if tag.handle == CORE_TAG => {
            let bad = || format!("invalid value {value:?} for tag {}", tag_text(tag));
            match tag.suffix.as_str() {
                "str" => Ok(Yaml::String(value)),
                "int" => construct_int(&value).ok_or_else(bad),
                "float" => construct_float(&value)
                    .map(|f| Yaml::Real(python_float_repr(f)))
                    .ok_or_else(bad),
                "bool" if is_pyyaml_bool(&value) => Ok(Yaml::Boolean(bool_value(&value))),
                "null" => Ok(Yaml::Null),
                _ => Err(bad()),
            }
        }
        Some(tag) => Err(format!("unsupported YAML tag {}", tag_text(tag))),
    }
}

/// PyYAML's implicit resolution of a plain scalar. Timestamps stay strings.
fn resolve_plain(value: String) -> Yaml {
    if is_pyyaml_bool(&value) {
        Yaml::Boolean(bool_value(&value))
    } else if is_pyyaml_float(&value) {
        match construct_float(&value) {
            Some(f) => Yaml::Real(python_float_repr(f)),
            None => Yaml::String(value),
        }
    } else if is_pyyaml_int(&value) {
        construct_int(&value).unwrap_or(Yaml::String(value))
    } else if is_pyyaml_null(&value) {
        Yaml::Null
    } else {
        Yaml::String(value)
    }
}

fn bool_value(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "yes" | "true" | "on")
}

/// PyYAML's `construct_yaml_int`; an integer beyond i64 is kept as `Real` holding its digits.
fn construct_int(text: &str) -> Option<Yaml> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.as_bytes().first()? {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let magnitude: i128 = if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.starts_with('0') {
        i128::from_str_radix(digits, 8).ok()?
    } else if digits.contains(':') {
        let mut total: i128 = 0;
        for part in digits.split(':') {
            total = total
                .checked_mul(60)?
                .checked_add(part.parse::<i128>().ok()?)?;
        }
        total
    } else {
        digits.parse().ok()?
    };
    let value = if negative { -magnitude } else { magnitude };
    Some(match i64::try_from(value) {
        Ok(small) => Yaml::Integer(small),
        Err(_) => Yaml::Real(value.to_string()),
    })
}

/// PyYAML's `construct_yaml_float`.
pub(super) fn construct_float(text: &str) -> Option<f64> {
    let cleaned = text.replace('_', "").to_ascii_lowercase();
    let (sign, body) = match cleaned.as_bytes().first()? {
        b'-' => (-1.0, &cleaned[1..]),
        b'+' => (1.0, &cleaned[1..]),
        _ => (1.0, cleaned.as_str()),
    };
    if body == ".inf" {
        Some(sign * f64::INFINITY)
    } else if body == ".nan" {
        Some(f64::NAN)
    } else if body.contains(':') {
        let mut total = 0.0;
        for part in body.split(':') {
            total = total * 60.0 + part.parse::<f64>().ok()?;
        }
        Some(sign * total)
    } else {
        body.parse::<f64>().ok().map(|f| sign * f)
    }
}

/// How PyYAML writes a float: Python's `repr`, lowercased, with `.0` before a bare exponent.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if !(-4..16).contains(&exponent) {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{exp_sign}{:02}", exponent.abs()));
    } else if exponent < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exponent - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exponent as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PyYAML's implicit resolvers (resolver.py), written out by hand.

fn is_pyyaml_bool(s: &str) -> bool {
    matches!(
        s,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_pyyaml_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

pub(super) fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn all_in(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    s.chars().all(allowed)
}

fn digit_or_underscore(c: char) -> bool {
    c.is_ascii_digit() || c == '_'
}

/// `[0-9][0-9_]*`
fn is_leading_digits(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit()) && all_in(s, digit_or_underscore)
}

/// `:[0-5]?[0-9]` groups (each element given without its colon).
fn is_sexagesimal_part(s: &str) -> bool {
    match s.as_bytes() {
        [d] => d.is_ascii_digit(),
        [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
        _ => false,
    }
}

/// `[eE][-+][0-9]+`
fn is_exponent(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(['e', 'E']) else {
        return false;
    };
    let Some(digits) = rest.strip_prefix(['-', '+']) else {
        return false;
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// `[0-9_]*` optionally followed by an exponent.
fn is_fraction_with_exponent(s: &str) -> bool {
    let end = s.find(|c: char| !digit_or_underscore(c)).unwrap_or(s.len());
    end == s.len() || is_exponent(&s[end..])
}

fn is_pyyaml_float(s: &str) -> bool {
    let unsigned = strip_sign(s);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // \.[0-9][0-9_]*(exp)?  (no sign)
    if let Some(rest) = s.strip_prefix('.')
        && rest.starts_with(|c: char| c.is_ascii_digit())
        && is_fraction_with_exponent(rest)
    {
        return true;
    }
    let Some((whole, fraction)) = unsigned.split_once('.') else {
        return false;
    };
    // [-+]?[0-9][0-9_]*\.[0-9_]*(exp)?
    if is_leading_digits(whole) && is_fraction_with_exponent(fraction) {
        return true;
    }
    // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    let mut parts = whole.split(':');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    is_leading_digits(first)
        && !rest.is_empty()
        && rest.iter().all(|p| is_sexagesimal_part(p))
        && all_in(fraction, digit_or_underscore)
}

fn is_pyyaml_int(s: &str) -> bool {
    let t = strip_sign(s);
    if let Some(bin) = t.strip_prefix("0b") {
        return !bin.is_empty() && all_in(bin, |c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && all_in(hex, |c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(oct) = t.strip_prefix('0') {
        return oct.is_empty() || all_in(oct, |c| matches!(c, '0'..='7' | '_'));
    }
    if !t.starts_with(|c: char| ('1'..='9').contains(&c)) {
        return false;
    }
    let mut parts = t.split(':');
    let first = parts.next().unwrap_or("");
    all_in(first, digit_or_underscore) && parts.all(is_sexagesimal_part)
}

fn is_pyyaml_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start >= min
    };
    let byte = |i: &mut usize, set: &[u8]| -> bool {
        if *i < b.len() && set.contains(&b[*i]) {
            *i += 1;
            true
        } else {
            false
        }
    };
    if !(digits(&mut i, 4, 4) && byte(&mut i, b"-")) {
        return false;
    }
    let date_start = i;
    if digits(&mut i, 2, 2) && byte(&mut i, b"-") && digits(&mut i, 2, 2) && i == b.len() {
        return true;
    }
    i = date_start;
    if !(digits(&mut i, 1, 2) && byte(&mut i, b"-") && digits(&mut i, 1, 2)) {
        return false;
    }
    if !byte(&mut i, b"Tt") {
        if !byte(&mut i, b" \t") {
            return false;
        }
        while byte(&mut i, b" \t") {}
    }
    if !(digits(&mut i, 1, 2)
        && byte(&mut i, b":")
        && digits(&mut i, 2, 2)
        && byte(&mut i, b":")
        && digits(&mut i, 2, 2))
    {
        return false;
    }
    if byte(&mut i, b".") {
        digits(&mut i, 0, usize::MAX);
    }
    if i == b.len() {
        return true;
    }
    while byte(&mut i, b" \t") {}
    if byte(&mut i, b"Z") {
        return i == b.len();
    }
    if !(byte(&mut i, b"-+") && digits(&mut i, 1, 2)) {
        return false;
    }
    if byte(&mut i, b":") && !digits(&mut i, 2, 2) {
        return false;
    }
    i == b.len()
}

/// Would a YAML 1.2 core-schema parser (yaml-rust2, the Hub's JavaScript parser) read this
/// plain scalar as something other than a string?
fn is_core_non_string(s: &str) -> bool {
    if !matches!(Yaml::from_str(s), Yaml::String(_)) {
        return true;
    }
    if matches!(
        s,
        "" | "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE"
    ) || matches!(s, "false" | "False" | "FALSE")
    {
        return true;
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return !oct.is_empty() && all_in(oct, |c| matches!(c, '0'..='7'));
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return !hex.is_empty() && all_in(hex, |c| c.is_ascii_hexdigit());
    }
    let t = strip_sign(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(at) => (&t[..at], Some(&t[at + 1..])),
        None => (t, None),
    };
    let numeric = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (whole.is_empty() && numeric(fraction))
                || (numeric(whole) && (fraction.is_empty() || numeric(fraction)))
        }
        None => numeric(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| numeric(strip_sign(e)));
    mantissa_ok && exponent_ok
}

/// True when a plain scalar with this text reads back as this string everywhere.
pub(super) fn resolves_as_string(s: &str) -> bool {
    !(is_pyyaml_bool(s)
        || is_pyyaml_float(s)
        || is_pyyaml_int(s)
        || is_pyyaml_null(s)
        || is_pyyaml_timestamp(s)
        || s == "<<"
        || s == "="
        || is_core_non_string(s))
}
