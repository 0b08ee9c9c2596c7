//! How `tag --list` shows the release tags.

use crate::repo::tags::TagEntry;

/// One line per tag: its name (padded to the longest), its commit and the commit's subject.
pub fn render_list(tags: &[TagEntry]) -> String {
    let width = tags
        .iter()
        .map(|tag| tag.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for tag in tags {
        let line = format!("{:<width$}  {}  {}", tag.name, tag.short, tag.subject);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
