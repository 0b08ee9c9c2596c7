//! Text from outside (a server's error body, `ERR` pkt-line, side-band message, refused-ref
//! reason, header) made fit to show: the one place that sanitises, caps and redacts it, used
//! by the REST, LFS and git paths alike (issue 22).
//!
//! Why here and in this order: a terminal obeys escape sequences (window title, screen clear,
//! OSC 52 writing the clipboard, concealed text), so no control character may pass; stock git
//! shows each as `?`, and so do we. A server may also split an echoed token with an escape
//! sequence or a NUL so that it renders whole while its bytes are not contiguous: the redactor
//! therefore looks at the text with the control characters taken out, and a control run inside
//! a masked part disappears with it. The length is capped last, on the redacted text, so that
//! a cut never leaves the visible head of a secret the redactor would have recognised whole.

use crate::auth::Redactor;

/// Most bytes of outside text looked at; the rest is dropped before anything else (error
/// bodies and side-band tails are read with smaller limits already).
pub const INPUT_LIMIT: usize = 64 * 1024;
/// Most characters of one line of server text shown (an error message, a `remote:` line).
pub const LINE_LIMIT: usize = 300;

/// `text` as one displayable line: whitespace runs (newlines included) become one space,
/// every other control character or escape sequence run becomes `?`, every form of a secret
/// `redactor` knows is masked, and the result is cut to `limit` characters (`…` marks a cut).
pub fn line(text: &str, redactor: &Redactor, limit: usize) -> String {
    let (visible, marks) = strip(head(text));
    let mut out = String::new();
    let spans = redactor.spans(&visible);
    let mut spans = spans.iter().peekable();
    let mut marks = marks.iter().copied().peekable();
    let mut at = 0;
    loop {
        while marks.next_if(|&mark| mark < at).is_some() {}
        if marks.next_if_eq(&at).is_some() {
            out.push('?');
        }
        if at >= visible.len() {
            break;
        }
        if let Some(span) = spans.next_if(|span| span.range.start == at) {
            out.push_str(span.with);
            at = span.range.end;
            continue;
        }
        let c = visible[at..].chars().next().expect("at is a char boundary");
        out.push(c);
        at += c.len_utf8();
    }
    cap(out, limit)
}

/// Our own multi-line message, as a last line of defence before it is printed: every control
/// character but the newline becomes `?` (the parts from outside went through [`line`]).
pub fn terminal(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' => c,
            c if is_control(c) => '?',
            c => c,
        })
        .collect()
}

/// The first [`INPUT_LIMIT`] bytes of `text`, cut at a character boundary.
fn head(text: &str) -> &str {
    if text.len() <= INPUT_LIMIT {
        return text;
    }
    let mut end = INPUT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn cap(text: String, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text,
    }
}

/// C0 and C1 controls, DEL, and the invisible characters that reorder or hide text (bidi
/// overrides and isolates, zero-width joiners): nothing of it may reach a terminal as sent.
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || c == '\u{feff}'
}

/// `text` without control characters (whitespace collapsed to single spaces, trimmed), and the
/// byte positions in it where a run of control characters or escape sequences stood.
fn strip(text: &str) -> (String, Vec<usize>) {
    let mut visible = String::with_capacity(text.len());
    let mut marks: Vec<usize> = Vec::new();
    let mut space = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            space = !visible.is_empty();
            continue;
        }
        if !is_control(c) {
            if space {
                visible.push(' ');
                space = false;
            }
            visible.push(c);
            continue;
        }
        // A control character: skip the whole escape sequence it may start.
        match (c, chars.peek().copied()) {
            // CSI: parameters and intermediates, then one final byte.
            ('\u{1b}', Some('[')) | ('\u{9b}', _) => {
                if c == '\u{1b}' {
                    chars.next();
                }
                while chars
                    .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
                    .is_some()
                {}
                chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
            }
            // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \ or U+009C).
            ('\u{1b}', Some(']' | 'P' | 'X' | '^' | '_'))
            | ('\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}', _) => {
                if c == '\u{1b}' {
                    chars.next();
                }
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || c == '\u{9c}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.next_if_eq(&'\\').is_some() {
                        break;
                    }
                }
            }
            // Any other escape: ESC and the one character it introduces.
            ('\u{1b}', Some(next)) if !next.is_control() => {
                chars.next();
            }
            _ => {}
        }
        if space {
            visible.push(' ');
            space = false;
        }
        if marks.last() != Some(&visible.len()) {
            marks.push(visible.len());
        }
    }
    (visible, marks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Token;

    fn plain(text: &str) -> String {
        line(text, &Redactor::default(), LINE_LIMIT)
    }

    #[test]
    fn escape_sequences_and_control_characters_become_question_marks() {
        assert_eq!(plain("a\u{1b}]0;title\u{7}b"), "a?b");
        assert_eq!(plain("\u{1b}[2J\u{1b}[Hclear"), "?clear");
        assert_eq!(plain("x\u{1b}]52;c;Y3VybA==\u{1b}\\y"), "x?y");
        assert_eq!(plain("\u{1b}[8mhidden\u{1b}[0m"), "?hidden?");
        assert_eq!(
            plain("bel\u{7} bs\u{8} nul\u{0} del\u{7f}"),
            "bel? bs? nul? del?"
        );
        assert_eq!(plain("c1\u{9b}31mred"), "c1?red");
        assert_eq!(plain("bidi\u{202e}evil"), "bidi?evil");
        assert_eq!(plain("unterminated \u{1b}]0;forever"), "unterminated ?");
        assert_eq!(plain("  two\n\tlines \r\n "), "two lines");
        assert_eq!(plain("é ✓ 日本"), "é ✓ 日本");
    }

    #[test]
    fn a_token_split_by_controls_is_masked_whole() {
        let token = Token::new("hf_SECRETcanary1234567890abcdef");
        let redactor = Redactor::new(Some(&token));
        let raw = token.expose();
        for split in [
            format!("{}\u{1b}[0m{}", &raw[..1], &raw[1..]),
            format!("{}\u{0}{}", &raw[..8], &raw[8..]),
            format!("{}\u{1b}]0;x\u{7}{}", &raw[..20], &raw[20..]),
        ] {
            let shown = line(&format!("echo {split} done\u{7}"), &redactor, LINE_LIMIT);
            assert_eq!(shown, "echo *** done?", "{split:?}");
        }
        // Without knowing the token, the hf_ pattern still sees through the split.
        let shown = plain(&format!("t={}\u{0}{}", &raw[..8], &raw[8..]));
        assert_eq!(shown, "t=hf_***");
    }

    #[test]
    fn the_cap_comes_after_redaction() {
        use base64::Engine as _;
        let token = Token::new("hf_testwrite0000000000000000000000");
        let redactor = Redactor::new(Some(&token));
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("hf_user:{}", token.expose()));
        let text = format!("{} bare: {basic} tail", "x ".repeat(140));
        let shown = line(&text, &redactor, LINE_LIMIT);
        assert!(shown.ends_with("bare: *** tail"), "{shown}");
        let shown = line(&text, &redactor, 290);
        assert!(!shown.contains("aGZf"), "{shown}");
        assert!(shown.ends_with('…'), "{shown}");
        assert_eq!(line(&"é".repeat(400), &redactor, 3), "ééé…");
    }

    #[test]
    fn terminal_keeps_newlines_only() {
        assert_eq!(terminal("a\nb\u{1b}[2Jc\rd\t"), "a\nb?[2Jc?d?");
    }
}
