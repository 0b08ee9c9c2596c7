//! Dumping: a `Yaml` tree in PyYAML's block style (`safe_dump(sort_keys=False,
//! allow_unicode=True)`), a string quoted whenever PyYAML or a YAML 1.2 parser would read its
//! plain form as something else.

use yaml_rust2::yaml::{Hash, Yaml};

use super::resolve::{construct_float, python_float_repr, resolves_as_string, strip_sign};

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
