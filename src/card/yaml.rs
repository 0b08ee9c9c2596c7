//! YAML the way huggingface_hub reads and writes card metadata (PyYAML `safe_load` and
//! `safe_dump(sort_keys=False, allow_unicode=True)`), on top of yaml-rust2's event parser.
//!
//! Loading resolves plain scalars with PyYAML's YAML 1.1 rules (`yes` is a bool, `010` is 8,
//! `1e3` is a string), so the data we keep is the data the Hub tooling sees. Dumping quotes a
//! string whenever PyYAML *or* a YAML 1.2 parser would read the plain form as something else.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::yaml::{Hash, Yaml};

/// A YAML syntax or construction error, with its 1-based position in the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// How much aliases (and the anchors they refer to) may copy into the tree, in weight units:
/// a node weighs 8, a scalar also its length in bytes, so the weight is about the size of the
/// YAML the copies dump to. At most 16x the document's own size, and at least 64 KiB.
///
/// PyYAML shares an aliased object instead of copying it, so a "billion laughs" costs it
/// nothing until someone walks the tree; we copy (yaml-rust2's `Yaml` is an owned tree), and
/// the dump of the card walks it anyway, so the copies must be bounded. Real cards use a
/// handful of aliases to small anchors (a shared feature list, a repeated `data_files`
/// entry): tens to a few thousand units, far below 64 KiB; even a card made mostly of aliases
/// to a small list stays under 16x. An alias bomb grows exponentially with each level of
/// anchors, so it overruns the budget after a few levels, whatever the budget's constants.
/// Like serde_yaml's repetition limit (alias jumps bounded by 100x the document's events) and
/// go-yaml's alias ratio, the budget grows with the document, so a large real card is never
/// refused for its size alone, while what a card can make us hold (and commit) stays linear
/// in what it is.
pub fn alias_budget(text_len: usize) -> usize {
    const MIN_BUDGET: usize = 64 * 1024;
    const PER_BYTE: usize = 16;
    text_len.saturating_mul(PER_BYTE).max(MIN_BUDGET)
}

/// The weight of a scalar: see [`alias_budget`].
const NODE_WEIGHT: usize = 8;

/// Parses one YAML document as PyYAML's `safe_load` would. An empty document is `Null`.
/// Aliases are expanded (copied), within [`alias_budget`] of the text's length; beyond it the
/// document is refused at the alias that overran it.
pub fn load(text: &str) -> Result<Yaml, YamlError> {
    let mut loader = Loader {
        alias_budget: alias_budget(text.len()),
        ..Loader::default()
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut loader, true) {
        return Err(YamlError {
            line: error.marker().line(),
            column: error.marker().col() + 1,
            message: error.info().to_string(),
        });
    }
    if let Some(error) = loader.error {
        return Err(error);
    }
    let mut docs = loader.docs;
    match docs.len() {
        0 => Ok(Yaml::Null),
        1 => Ok(docs.remove(0)),
        _ => Err(YamlError {
            line: loader.second_doc_line,
            column: 1,
            message: "expected a single document, found several".to_string(),
        }),
    }
}

enum KeyState {
    Expect,
    Key(Yaml),
    Merge,
}

enum Frame {
    Seq {
        items: Vec<Yaml>,
        anchor: usize,
        /// The weight of the items so far (see [`alias_budget`]).
        weight: usize,
    },
    Map {
        map: Hash,
        key: KeyState,
        merges: Vec<Yaml>,
        anchor: usize,
        weight: usize,
    },
}

#[derive(Default)]
struct Loader {
    stack: Vec<Frame>,
    /// Each anchored node with its weight.
    anchors: HashMap<usize, (Yaml, usize)>,
    /// What aliases may still copy in, in weight units.
    alias_budget: usize,
    /// How many aliases were expanded (for the error).
    aliases: usize,
    docs: Vec<Yaml>,
    second_doc_line: usize,
    error: Option<YamlError>,
}

impl MarkedEventReceiver for Loader {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        if let Err(message) = self.handle(event, mark) {
            self.error = Some(YamlError {
                line: mark.line(),
                column: mark.col() + 1,
                message,
            });
        }
    }
}

impl Loader {
    fn handle(&mut self, event: Event, mark: Marker) -> Result<(), String> {
        match event {
            Event::DocumentStart => {
                if self.docs.len() == 1 && self.second_doc_line == 0 {
                    self.second_doc_line = mark.line();
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                if let Some(Frame::Map {
                    key: key @ KeyState::Expect,
                    ..
                }) = self.stack.last_mut()
                    && style == TScalarStyle::Plain
                    && tag.is_none()
                    && value == "<<"
                {
                    *key = KeyState::Merge;
                    return Ok(());
                }
                let weight = NODE_WEIGHT + value.len();
                let node = resolve_scalar(value, style, tag.as_ref())?;
                self.insert(node, anchor, weight)?;
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "seq")?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    weight: NODE_WEIGHT,
                });
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "map")?;
                self.stack.push(Frame::Map {
                    map: Hash::new(),
                    key: KeyState::Expect,
                    merges: Vec::new(),
                    anchor,
                    weight: NODE_WEIGHT,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    anchor,
                    weight,
                }) = self.stack.pop()
                {
                    self.insert(Yaml::Array(items), anchor, weight)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    map,
                    merges,
                    anchor,
                    weight,
                    ..
                }) = self.stack.pop()
                {
                    // Merged keys only drop entries: the weight stays an upper bound.
                    let map = apply_merges(map, merges)?;
                    self.insert(Yaml::Hash(map), anchor, weight)?;
                }
            }
            Event::Alias(id) => {
                let weight = self
                    .anchors
                    .get(&id)
                    .map(|(_, weight)| *weight)
                    .ok_or_else(|| "found an alias to an unknown anchor".to_string())?;
                // Charged before the copy is made: the copy is what a bomb makes huge.
                self.charge(weight)?;
                let node = self.anchors[&id].0.clone();
                self.aliases += 1;
                self.insert(node, 0, weight)?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// Takes `weight` from the copy budget, or refuses the document.
    fn charge(&mut self, weight: usize) -> Result<(), String> {
        if weight > self.alias_budget {
            return Err(format!(
                "refusing the front matter as an alias bomb (\"billion laughs\"): its {} \
                 aliases copy more than it may grow by (16x its own size, at least 64 KiB); \
                 write the values out or nest fewer aliases",
                self.aliases + 1
            ));
        }
        self.alias_budget -= weight;
        Ok(())
    }

    fn insert(&mut self, node: Yaml, anchor: usize, weight: usize) -> Result<(), String> {
        if anchor > 0 {
            // The anchor keeps a copy too: nested anchors would copy quadratically.
            self.charge(weight)?;
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq {
                items,
                weight: total,
                ..
            }) => {
                *total = total.saturating_add(weight);
                items.push(node);
            }
            Some(Frame::Map {
                map,
                key,
                merges,
                weight: total,
                ..
            }) => {
                *total = total.saturating_add(weight);
                match std::mem::replace(key, KeyState::Expect) {
                    KeyState::Expect => {
                        if matches!(node, Yaml::Array(_) | Yaml::Hash(_)) {
                            return Err("a mapping key must be a scalar".to_string());
                        }
                        *key = KeyState::Key(node);
                    }
                    // Like a Python dict: a repeated key keeps its first position, last value wins.
                    KeyState::Key(k) => {
                        map.replace(k, node);
                    }
                    KeyState::Merge => merges.push(node),
                }
            }
        }
        Ok(())
    }
}

/// `<<` merge keys, as PyYAML's `flatten_mapping` applies them.
fn apply_merges(own: Hash, merges: Vec<Yaml>) -> Result<Hash, String> {
    if merges.is_empty() {
        return Ok(own);
    }
    let mut sources = Vec::new();
    for merge in merges {
        match merge {
            Yaml::Hash(map) => sources.push(map),
            Yaml::Array(items) => {
                let mut maps = Vec::new();
                for item in items {
                    match item {
                        Yaml::Hash(map) => maps.push(map),
                        _ => return Err("a merge list may only hold mappings".to_string()),
                    }
                }
                sources.extend(maps.into_iter().rev());
            }
            _ => return Err("a merge key needs a mapping or a list of mappings".to_string()),
        }
    }
    let mut merged = Hash::new();
    for (key, value) in sources.into_iter().flatten().chain(own) {
        merged.replace(key, value);
    }
    Ok(merged)
}

const CORE_TAG: &str = "tag:yaml.org,2002:";

fn tag_text(tag: &Tag) -> String {
    if tag.handle == CORE_TAG {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.handle == CORE_TAG && tag.suffix == expected => Ok(()),
        Some(tag) if tag.handle == "!" && tag.suffix.is_empty() => Ok(()),
        Some(tag) => Err(format!("unsupported YAML tag {}", tag_text(tag))),
    }
}

fn resolve_scalar(value: String, style: TScalarStyle, tag: Option<&Tag>) -> Result<Yaml, String> {
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
fn construct_float(text: &str) -> Option<f64> {
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

fn strip_sign(s: &str) -> &str {
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
fn resolves_as_string(s: &str) -> bool {
    !(is_pyyaml_bool(s)
        || is_pyyaml_float(s)
        || is_pyyaml_int(s)
        || is_pyyaml_null(s)
        || is_pyyaml_timestamp(s)
        || s == "<<"
        || s == "="
        || is_core_non_string(s))
}

// ---------------------------------------------------------------------------------------------
// Emitter: PyYAML block style, 2-space mapping indent, sequences under a key not indented.

/// Dumps a value in block style; every line ends with `\n`.
pub fn dump(root: &Yaml) -> String {
    let mut out = String::new();
    match root {
        Yaml::Hash(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Yaml::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
        scalar => {
            write_scalar(&mut out, scalar);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// `inline_first`: the first entry continues a line already started (after `- `).
fn write_map(out: &mut String, map: &Hash, indent: usize, inline_first: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        match key {
            Yaml::Hash(_) | Yaml::Array(_) => write_flow(out, key),
            _ => write_scalar(out, key),
        }
        out.push(':');
        match value {
            Yaml::Hash(child) if !child.is_empty() => {
                out.push('\n');
                write_map(out, child, indent + 2, false);
            }
            Yaml::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent, false);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Yaml], indent: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Yaml::Hash(map) if !map.is_empty() => write_map(out, map, indent + 2, true),
            Yaml::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2, true),
            scalar => {
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// Flow style, only for the odd non-scalar mapping key (PyYAML cannot even load those).
fn write_flow(out: &mut String, node: &Yaml) {
    match node {
        Yaml::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, item);
            }
            out.push(']');
        }
        Yaml::Hash(map) => {
            out.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, key);
                out.push_str(": ");
                write_flow(out, value);
            }
            out.push('}');
        }
        Yaml::String(s) => write_double_quoted(out, s),
        scalar => write_scalar(out, scalar),
    }
}

fn write_scalar(out: &mut String, node: &Yaml) {
    match node {
        Yaml::String(s) => write_string(out, s),
        Yaml::Integer(i) => out.push_str(&i.to_string()),
        Yaml::Real(text) => write_real(out, text),
        Yaml::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Hash(_) => out.push_str("{}"),
        Yaml::Array(_) => out.push_str("[]"),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => out.push_str("null"),
    }
}

fn write_real(out: &mut String, text: &str) {
    let unsigned = strip_sign(text);
    if !unsigned.is_empty() && unsigned.chars().all(|c| c.is_ascii_digit()) {
        // A big integer kept as digits.
        out.push_str(text);
    } else if let Some(f) = construct_float(text) {
        out.push_str(&python_float_repr(f));
    } else {
        write_string(out, text);
    }
}

struct Analysis {
    allow_plain: bool,
    allow_single_quoted: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_space_or_break(c: char) -> bool {
    matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(c)
}

fn is_printable_unicode(c: char) -> bool {
    (c == '\u{85}'
        || ('\u{A0}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}')
        && c != '\u{FEFF}'
}

/// PyYAML's `Emitter.analyze_scalar`, block context only. Strings with line breaks are never
/// plain or single-quoted here: they go double-quoted on one line.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            allow_plain: false,
            allow_single_quoted: true,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &ch) in chars.iter().enumerate() {
        let followed_by_whitespace = i + 1 >= chars.len() || is_space_or_break(chars[i + 1]);
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                block_indicators = true;
            }
            if matches!(ch, '?' | ':' | '-') && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if ch == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if ch == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch) || is_printable_unicode(ch)) {
            special = true;
        }
        if ch == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == chars.len() - 1;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(ch) {
            leading_break |= i == 0;
            trailing_break |= i == chars.len() - 1;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_space_or_break(ch);
    }
    let quoted_only = leading_space || leading_break || trailing_space || trailing_break;
    let double_only = line_breaks || break_space || space_break || special;
    Analysis {
        allow_plain: !quoted_only && !double_only && !block_indicators,
        allow_single_quoted: !double_only,
    }
}

fn write_string(out: &mut String, s: &str) {
    let analysis = analyze(s);
    if analysis.allow_plain && resolves_as_string(s) {
        out.push_str(s);
    } else if analysis.allow_single_quoted {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        write_double_quoted(out, s);
    }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        let escape = match ch {
            '\0' => "\\0",
            '\x07' => "\\a",
            '\x08' => "\\b",
            '\t' => "\\t",
            '\n' => "\\n",
            '\x0B' => "\\v",
            '\x0C' => "\\f",
            '\r' => "\\r",
            '\x1B' => "\\e",
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{85}' => "\\N",
            '\u{2028}' => "\\L",
            '\u{2029}' => "\\P",
            c if (' '..='~').contains(&c) || is_printable_unicode(c) => {
                out.push(c);
                continue;
            }
            c if (c as u32) <= 0xFF => {
                out.push_str(&format!("\\x{:02X}", c as u32));
                continue;
            }
            c => {
                out.push_str(&format!("\\u{:04X}", c as u32));
                continue;
            }
        };
        out.push_str(escape);
    }
    out.push('"');
}
