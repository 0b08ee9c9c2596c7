//! Loading: one YAML document into a `Yaml` tree, as PyYAML's `safe_load` builds it (aliases
//! copied within [`alias_budget`], `<<` merge keys applied, repeated keys as a Python dict).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::yaml::{Hash, Yaml};

use super::resolve::{check_collection_tag, resolve_scalar};

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
