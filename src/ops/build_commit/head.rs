//! What a build needs to know of HEAD, read once under the clone's lock: the card (as the user
//! sees it and as committed), `.gitattributes`, and the data folder's tree, files and LFS
//! pointers. The cache check, the next state, the shard records and the commit summary all
//! read this one snapshot.

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::repo::LocalClone;
use crate::repo::lfs::Pointer;

/// Largest blob read as a possible LFS pointer (a pointer is about 130 bytes).
const POINTER_MAX: usize = 1024;

/// HEAD as a build sees it.
#[derive(Debug, Clone, Default)]
pub struct HeadState {
    /// README.md as the user sees it: the working tree's (hand edits included), else HEAD's.
    pub readme: Option<String>,
    /// README.md as HEAD holds it.
    pub committed_readme: Option<Vec<u8>>,
    /// `.gitattributes` as HEAD holds it.
    pub gitattributes: Option<String>,
    /// The tree id of the data folder, when HEAD has one.
    pub data_tree: Option<String>,
    /// The files directly in the data folder (`data/train-00000.parquet`, …).
    pub data_files: Vec<String>,
    /// The LFS pointers among them, by path.
    pub pointers: BTreeMap<String, Pointer>,
}

impl HeadState {
    pub fn read(clone: &LocalClone, data_dir: &str) -> anyhow::Result<HeadState> {
        let committed_readme = clone.head_blob("README.md")?;
        let readme = current_readme(clone, committed_readme.as_deref())?;
        let gitattributes = clone
            .head_blob(".gitattributes")?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let data_files = clone.head_files_in(data_dir)?;
        let mut pointers = BTreeMap::new();
        for path in &data_files {
            if let Some(bytes) = clone.head_blob(path)?
                && bytes.len() <= POINTER_MAX
                && let Some(pointer) = Pointer::parse(&bytes)
            {
                pointers.insert(path.clone(), pointer);
            }
        }
        Ok(HeadState {
            readme,
            committed_readme,
            gitattributes,
            data_tree: clone.head_tree_id_of(data_dir),
            data_files,
            pointers,
        })
    }

    /// README.md as the user sees it, without the rest (for a card preview of the committed
    /// data).
    pub fn readme_only(clone: &LocalClone) -> anyhow::Result<Option<String>> {
        current_readme(clone, clone.head_blob("README.md")?.as_deref())
    }

    /// The LFS pointer HEAD holds at `path`, if any.
    pub fn pointer(&self, path: &str) -> Option<&Pointer> {
        self.pointers.get(path)
    }
}

/// The README as the user sees it: the working tree's (hand edits included), else `committed`.
fn current_readme(clone: &LocalClone, committed: Option<&[u8]>) -> anyhow::Result<Option<String>> {
    let path = clone.root.join("README.md");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => committed.map(<[u8]>::to_vec),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    bytes
        .map(|b| String::from_utf8(b).context("README.md is not valid UTF-8"))
        .transpose()
}
