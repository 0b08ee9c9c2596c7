//! YAML the way huggingface_hub reads and writes card metadata (PyYAML `safe_load` and
//! `safe_dump(sort_keys=False, allow_unicode=True)`), on top of yaml-rust2's event parser.
//!
//! Loading resolves plain scalars with PyYAML's YAML 1.1 rules (`yes` is a bool, `010` is 8,
//! `1e3` is a string), so the data we keep is the data the Hub tooling sees. Dumping quotes a
//! string whenever PyYAML *or* a YAML 1.2 parser would read the plain form as something else.
//!
//! Three rooms: `load.rs` builds the tree from the parser's events (anchors, aliases within a
//! budget, merge keys), `resolve.rs` says what a scalar or tag means to PyYAML (and to a YAML
//! 1.2 reader), `dump.rs` writes the tree back as PyYAML's `safe_dump` does.

mod dump;
mod load;
mod resolve;

pub use dump::dump;
pub use load::load;
#[cfg(test)]
pub use {load::alias_budget, resolve::python_float_repr};
