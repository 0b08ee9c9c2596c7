//! Which tags the Hub has, as far as this clone knows.
//!
//! git2's fetch stores the remote's tags as local `refs/tags/*`, so a local tag cannot tell
//! whether it was pushed. hf-relay keeps that record in **`.git/hf-relay/pushed-tags`**.
//!
//! The contract, for every command that writes it (`push` after the Hub accepted the tag refs;
//! `clone` for the tags it fetched) and for `status`, which reads it:
//!
//! - UTF-8 text, one tag per line: `NAME SHA`, separated by a single space, ending in `\n`.
//!   `NAME` is the short tag name (`v1`, not `refs/tags/v1`); `SHA` is the 40-hex object id the
//!   remote's `refs/tags/NAME` points at: the *tag object* for an annotated tag, the commit for
//!   a lightweight one (what `git rev-parse refs/tags/NAME` prints, not `NAME^{commit}`).
//! - Blank lines, lines starting with `#` and lines that do not parse are ignored; when a name
//!   appears twice the later line wins.
//! - A missing file means no tag has been pushed. Writers replace the file atomically (a
//!   temporary file in the same folder, then rename: [`crate::repo::state`]) and keep the
//!   lines of other tags: [`record_pushed_tags`] does exactly that.
//!
//! A local tag is "not pushed" when the file has no line for it or a different SHA (the tag was
//! moved or re-created after the push).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::repo::state::PUSHED_TAGS;

/// The tags recorded as pushed: name → SHA. A missing file is an empty record.
pub fn read_pushed_tags(git_dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let Some(bytes) = PUSHED_TAGS.read(git_dir)? else {
        return Ok(BTreeMap::new());
    };
    let text = String::from_utf8(bytes).with_context(|| {
        format!(
            "cannot read {}: it is not UTF-8",
            PUSHED_TAGS.path(git_dir).display()
        )
    })?;
    Ok(parse(&text))
}

fn parse(text: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, sha)) = line.split_once(' ') else {
            continue;
        };
        let valid_sha = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        if !name.is_empty() && valid_sha {
            tags.insert(name.to_string(), sha.to_ascii_lowercase());
        }
    }
    tags
}

/// Adds (or updates) `tags` — `(name, sha)` pairs — in the record, keeping the other lines'
/// tags, and writes it atomically (sorted by name).
pub fn record_pushed_tags(git_dir: &Path, tags: &[(String, String)]) -> anyhow::Result<()> {
    let mut record = read_pushed_tags(git_dir)?;
    for (name, sha) in tags {
        anyhow::ensure!(
            !name.is_empty() && !name.contains([' ', '\n', '\r']),
            "invalid tag name {name:?}"
        );
        anyhow::ensure!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "invalid object id {sha:?} for tag {name}"
        );
        record.insert(name.clone(), sha.to_ascii_lowercase());
    }
    let mut text = String::new();
    for (name, sha) in &record {
        let _ = writeln!(text, "{name} {sha}");
    }
    PUSHED_TAGS.write(git_dir, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_lines_win_and_junk_is_ignored() {
        let a = "a".repeat(40);
        let b = "B".repeat(40);
        let text = format!("# comment\n\nv1 {a}\nbroken\nv2 short\nv1 {b}\r\n");
        let tags = parse(&text);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags["v1"], "b".repeat(40));
    }

    #[test]
    fn record_merges_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let one = ("v1".to_string(), "1".repeat(40));
        let two = ("v2".to_string(), "2".repeat(40));
        record_pushed_tags(dir.path(), std::slice::from_ref(&one)).unwrap();
        record_pushed_tags(dir.path(), std::slice::from_ref(&two)).unwrap();
        let text = std::fs::read_to_string(PUSHED_TAGS.path(dir.path())).unwrap();
        assert_eq!(text, format!("v1 {}\nv2 {}\n", one.1, two.1));
    }
}
