//! `verify`: the LFS store, the Parquet files and the card agree with each other, and nothing
//! in the tree would be refused by the Hub. `push` runs it first.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::schema::{self, SchemaChangeKind, file_features};
use super::state::{DatasetState, resolve, unique_abbrev};
use super::tree::Content;
use crate::repo::lfs::{self, Pointer};
use crate::repo::verified_lfs::{self, Stamps, VerifiedLfs};
use crate::repo::{LocalClone, MAX_REGULAR_FILE_SIZE};
use crate::units::thousands;

type Features = Vec<(String, crate::features::Feature)>;

/// One thing wrong, at a path of the tree (`README.md` for the card's numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The revision as given (`HEAD`, `v1`, …) and the commit it names.
    pub rev: String,
    pub commit: String,
    pub short: String,
    /// Files in the tree.
    pub files: usize,
    /// Non-empty LFS pointers in the tree.
    pub lfs_objects: usize,
    /// Rows in the Parquet files of the card's splits.
    pub rows: u64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Which LFS objects [`verify`] hashes; every object's presence and size are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// Every one: `hf-relay verify`, the explicit integrity check.
    All,
    /// Those the cache of verified objects does not vouch for (their stamps changed, or were
    /// racy when recorded): `push`, which would otherwise hash the whole dataset each time.
    Unvouched,
}

/// Checks the commit `rev` names:
/// - every LFS pointer has its object in `.git/lfs/objects`, with the pointer's size and sha256
///   (hashed as `hashing` says; the objects found intact by hashing are recorded in `verified`,
///   those found missing or corrupt forgotten: the caller saves it);
/// - every Parquet shard of the card's splits is readable and its schema is the card's
///   `features` for its config;
/// - the card's `num_examples` per split equal the Parquet row counts, its `download_size` the
///   sum of the config's Parquet file sizes, its `dataset_size` the sum of the splits'
///   `num_bytes` (`num_bytes` itself is an estimate that only a full conversion recomputes);
/// - nothing would be refused by the Hub: a non-LFS file over 10 MiB or binary, a README whose
///   YAML does not parse.
pub fn verify(
    clone: &LocalClone,
    rev: &str,
    hashing: Hashing,
    verified: &mut VerifiedLfs,
) -> anyhow::Result<VerifyReport> {
    let commit = resolve(&clone.repo, rev)?;
    let state = DatasetState::at_commit(clone, rev, &commit)?;
    let mut problems = Vec::new();
    let mut problem = |path: &str, message: String| {
        problems.push(Problem {
            path: path.to_string(),
            message,
        })
    };
    let git_dir = clone.repo.path();

    // 1. Every file: LFS objects present and intact; regular files acceptable to the Hub.
    // Hashing the objects is most of the work (and of `push` before its first request), so
    // they are hashed on the CPU pool, several at a time, and `push` skips those it can vouch
    // for by their stamps.
    let mut pointers: Vec<&Pointer> = state
        .files
        .values()
        .filter_map(|content| match content {
            Content::Lfs(pointer) => Some(pointer),
            Content::Blob { .. } => None,
        })
        .collect();
    pointers.sort_by(|a, b| (&a.oid, a.size).cmp(&(&b.oid, b.size)));
    pointers.dedup_by(|a, b| a.oid == b.oid && a.size == b.size); // files with the same content
    let vouched = verified as &VerifiedLfs;
    let checked: std::collections::HashMap<(&str, u64), Result<Checked, String>> = pointers
        .par_iter()
        .map_init(lfs::Hasher::new, |hasher, pointer| {
            let key = (pointer.oid.as_str(), pointer.size);
            (
                key,
                check_object(git_dir, pointer, hasher, hashing, vouched),
            )
        })
        .collect();
    // Forgotten first: a pointer with a wrong size must not undo the record of a right one.
    for ((oid, _), verdict) in &checked {
        if verdict.is_err() {
            verified.forget(oid);
        }
    }
    for ((oid, _), verdict) in &checked {
        if let Ok(Checked::Hashed {
            stamps,
            recorded_ns,
        }) = verdict
        {
            verified.record(oid, *stamps, *recorded_ns);
        }
    }
    let mut lfs_objects = 0;
    let mut intact = std::collections::HashSet::new();
    for (path, content) in &state.files {
        match content {
            Content::Lfs(pointer) => {
                lfs_objects += 1;
                let verdict = &checked[&(pointer.oid.as_str(), pointer.size)];
                match verdict {
                    Ok(_) => {
                        intact.insert(path.clone());
                    }
                    Err(message) => problem(path, message.clone()),
                }
            }
            Content::Blob { id, size } => {
                if *size > MAX_REGULAR_FILE_SIZE {
                    problem(
                        path,
                        format!(
                            "{} bytes, over the Hub's 10 MiB limit for a file not stored with \
                             Git LFS",
                            thousands(*size)
                        ),
                    );
                } else if is_binary(clone.repo.find_blob(*id)?.content()) {
                    problem(
                        path,
                        "binary file not stored with Git LFS; the Hub refuses it (add its \
                         pattern to .gitattributes)"
                            .to_string(),
                    );
                }
            }
        }
    }

    // 2. The card.
    let mut rows = 0;
    if let Some(card) = &state.card {
        let meta = match &card.meta {
            Ok(meta) => Some(meta),
            Err(error) => {
                problem(
                    "README.md",
                    error.trim_start_matches("README.md: ").to_string(),
                );
                None
            }
        };
        match (&card.configs, meta) {
            (Err(error), Some(_)) => {
                problem(
                    "README.md",
                    error.trim_start_matches("README.md: ").to_string(),
                );
            }
            (Ok(configs), Some(meta)) => {
                let list_form = matches!(meta.get("dataset_info"), Some(Value::Array(_)));
                for config in configs {
                    let key = if list_form {
                        format!("dataset_info[{}]", config.config_name)
                    } else {
                        "dataset_info".to_string()
                    };
                    let mut download_size = 0;
                    for split in &config.splits {
                        let shards = state.shards(&config.data_dir, &split.name);
                        if shards.is_empty() {
                            let glob = if config.data_dir.is_empty() {
                                format!("{}-*.parquet", split.name)
                            } else {
                                format!("{}/{}-*.parquet", config.data_dir, split.name)
                            };
                            problem(
                                &glob,
                                format!(
                                    "no Parquet file for split {} of config {}, which the card \
                                     lists with {} rows",
                                    split.name,
                                    config.config_name,
                                    thousands(split.num_examples)
                                ),
                            );
                            continue;
                        }
                        let mut split_rows = Some(0);
                        for (path, content) in shards {
                            download_size += content.size();
                            let file = match content {
                                Content::Lfs(pointer) if intact.contains(path) => {
                                    lfs::store_path(git_dir, &pointer.oid)
                                }
                                Content::Lfs(_) => {
                                    split_rows = None;
                                    continue;
                                }
                                Content::Blob { .. } => {
                                    // Not LFS: step 1 already said whether the Hub takes it.
                                    split_rows = None;
                                    continue;
                                }
                            };
                            match read_footer(&file) {
                                Ok((num_rows, features)) => {
                                    split_rows = split_rows.map(|n| n + num_rows);
                                    rows += num_rows;
                                    if let Some(features) = features
                                        && let Some(message) =
                                            schema_mismatch(&config.features, &features)
                                    {
                                        problem(
                                            path,
                                            format!(
                                                "schema differs from the card's features of \
                                                 config {}: {message}",
                                                config.config_name
                                            ),
                                        );
                                    }
                                }
                                Err(error) => {
                                    split_rows = None;
                                    problem(
                                        path,
                                        format!("not a readable Parquet file: {error:#}"),
                                    );
                                }
                            }
                        }
                        if let Some(actual) = split_rows
                            && actual != split.num_examples
                        {
                            problem(
                                "README.md",
                                format!(
                                    "{key}.splits[{}].num_examples is {}, but its Parquet files \
                                     hold {} rows",
                                    split.name,
                                    thousands(split.num_examples),
                                    thousands(actual)
                                ),
                            );
                        }
                    }
                    if download_size != config.download_size {
                        problem(
                            "README.md",
                            format!(
                                "{key}.download_size is {}, but the config's Parquet files total \
                                 {} bytes",
                                thousands(config.download_size),
                                thousands(download_size)
                            ),
                        );
                    }
                    let declared = dataset_size(meta, &config.config_name, list_form);
                    let sum: u64 = config.splits.iter().map(|s| s.num_bytes).sum();
                    if let Some(declared) = declared
                        && declared != sum
                    {
                        problem(
                            "README.md",
                            format!(
                                "{key}.dataset_size is {}, but the splits' num_bytes add up to {}",
                                thousands(declared),
                                thousands(sum)
                            ),
                        );
                    }
                }
            }
            (_, None) => {}
        }
    }

    Ok(VerifyReport {
        rev: rev.to_string(),
        commit: commit.id().to_string(),
        short: unique_abbrev(&clone.repo, commit.id()),
        files: state.files.len(),
        lfs_objects,
        rows,
        problems,
    })
}

/// `verify` without a revision: HEAD as [`verify`] checks it, and the LFS objects of every
/// commit and tag a push would publish (the branch's commits the last known remote state lacks,
/// the tags the Hub lacks): an older unpublished commit's object is uploaded too.
pub fn verify_unpublished(
    clone: &LocalClone,
    hashing: Hashing,
    verified: &mut VerifiedLfs,
) -> anyhow::Result<VerifyReport> {
    let mut report = verify(clone, "HEAD", hashing, verified)?;
    let head = clone.head_id()?;
    let skip = crate::repo::lfs::lfs_pointers_at(clone, head)?
        .into_iter()
        .map(|(_, pointer)| pointer.oid)
        .collect();
    let have: Vec<git2::Oid> = super::status::remote_head(clone)?.into_iter().collect();
    let mut tips = vec![head];
    tips.extend(super::status::unpushed_tag_commits(clone)?);
    let older = verify_commits(clone, &have, &tips, &skip, hashing, verified)?;
    report.problems.extend(older);
    Ok(report)
}

/// Checks the LFS objects of the commits reachable from `tips` and from none of `have` (what a
/// push of them publishes), as [`verify`] checks those of one tree: present, with the pointer's
/// size and sha256 (hashed unless `hashing` lets `verified` vouch for it). Objects in `skip`
/// (already checked) are left out. Each problem names the file and the newest such commit
/// holding it, with its tags: `data/train-00000.parquet (commit 1a2b3c4, tag v1)`.
pub fn verify_commits(
    clone: &LocalClone,
    have: &[git2::Oid],
    tips: &[git2::Oid],
    skip: &std::collections::HashSet<String>,
    hashing: Hashing,
    verified: &mut VerifiedLfs,
) -> anyhow::Result<Vec<Problem>> {
    let repo = &clone.repo;
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    for tip in tips {
        walk.push(*tip)?;
    }
    for id in have {
        if repo.find_commit(*id).is_ok() {
            walk.hide(*id)?;
        }
    }
    // oid → (pointer, path, commit), the newest commit first seen.
    let mut found: std::collections::BTreeMap<String, (Pointer, String, git2::Oid)> =
        Default::default();
    let mut seen_trees = std::collections::HashSet::new();
    for id in walk {
        let id = id?;
        let tree = repo.find_commit(id)?.tree()?;
        pointers_of_tree(repo, &tree, "", id, &mut seen_trees, &mut found)?;
    }
    found.retain(|oid, (pointer, _, _)| pointer.size > 0 && !skip.contains(oid));
    let tags = super::log::tags_by_commit(repo)?;
    let git_dir = repo.path();
    let vouched = verified as &VerifiedLfs;
    let verdicts: Vec<(String, Result<Checked, String>)> = found
        .par_iter()
        .map_init(lfs::Hasher::new, |hasher, (oid, (pointer, _, _))| {
            (
                oid.clone(),
                check_object(git_dir, pointer, hasher, hashing, vouched),
            )
        })
        .collect();
    let mut problems = Vec::new();
    for (oid, verdict) in verdicts {
        match verdict {
            Ok(Checked::Hashed {
                stamps,
                recorded_ns,
            }) => verified.record(&oid, stamps, recorded_ns),
            Ok(Checked::Vouched) => {}
            Err(message) => {
                verified.forget(&oid);
                let (_, path, commit) = &found[&oid];
                let mut names = vec![format!("commit {}", unique_abbrev(repo, *commit))];
                for tag in tags.get(commit).into_iter().flatten() {
                    names.push(format!("tag {tag}"));
                }
                problems.push(Problem {
                    path: format!("{path} ({})", names.join(", ")),
                    message,
                });
            }
        }
    }
    Ok(problems)
}

/// Adds the LFS pointers of `tree` (at `prefix`) not yet in `out`, attributed to `commit`;
/// subtrees already visited are skipped (their pointers are in `out` already).
fn pointers_of_tree(
    repo: &git2::Repository,
    tree: &git2::Tree,
    prefix: &str,
    commit: git2::Oid,
    seen_trees: &mut std::collections::HashSet<git2::Oid>,
    out: &mut std::collections::BTreeMap<String, (Pointer, String, git2::Oid)>,
) -> anyhow::Result<()> {
    if !seen_trees.insert(tree.id()) {
        return Ok(());
    }
    let odb = repo.odb()?;
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes());
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let subtree = repo.find_tree(entry.id())?;
                pointers_of_tree(repo, &subtree, &path, commit, seen_trees, out)?;
            }
            Some(git2::ObjectType::Blob) => {
                let (size, _) = odb.read_header(entry.id())?;
                if size == 0 || size >= 1024 {
                    continue;
                }
                if let Some(pointer) = Pointer::parse(repo.find_blob(entry.id())?.content()) {
                    out.entry(pointer.oid.clone())
                        .or_insert((pointer, path, commit));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// How an object was found intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// Its stamps are those recorded when it was last known intact: not hashed.
    Vouched,
    /// Hashed; `stamps` were read (after `recorded_ns`) before hashing.
    Hashed { stamps: Stamps, recorded_ns: i64 },
}

/// The object of `pointer` is in the store with the right size and sha256 (hashed unless
/// `hashing` lets `verified` vouch for it); else what is wrong.
fn check_object(
    git_dir: &Path,
    pointer: &Pointer,
    hasher: &mut lfs::Hasher,
    hashing: Hashing,
    verified: &VerifiedLfs,
) -> Result<Checked, String> {
    let path = lfs::store_path(git_dir, &pointer.oid);
    let recorded_ns = verified_lfs::now_ns();
    let meta = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => meta,
        _ => {
            return Err(format!(
                "LFS object {} is missing from .git/lfs/objects",
                pointer.oid
            ));
        }
    };
    if meta.len() != pointer.size {
        return Err(format!(
            "LFS object {} is {} bytes in .git/lfs/objects, the pointer says {}",
            pointer.oid,
            thousands(meta.len()),
            thousands(pointer.size)
        ));
    }
    let stamps = Stamps::of(&meta);
    if hashing == Hashing::Unvouched && verified.trusts(&pointer.oid, &stamps) {
        return Ok(Checked::Vouched);
    }
    let actual = hasher
        .pointer_for(&path)
        .map_err(|error| format!("cannot read LFS object {}: {error}", path.display()))?;
    if actual.oid != pointer.oid {
        return Err(format!(
            "LFS object {} in .git/lfs/objects is corrupt: its content has sha256 {}",
            pointer.oid, actual.oid
        ));
    }
    Ok(Checked::Hashed {
        stamps,
        recorded_ns,
    })
}

/// Row count and features (`None` when a column type is outside hf-relay's model) from the
/// Parquet footer; the pages are not read.
fn read_footer(path: &Path) -> anyhow::Result<(u64, Option<Features>)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // A shard may come from the Hub: its footer is bounded before it is read, as an input's.
    let metadata = crate::convert::parquet_bounds::load(&file).map_err(|reason| {
        anyhow::anyhow!(
            "{} is not a readable Parquet file: {reason}",
            path.display()
        )
    })?;
    let num_rows = u64::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or(0);
    Ok((num_rows, file_features(metadata.schema())))
}

/// How the file's features differ from the card's, in words; `None` when they are equal.
fn schema_mismatch(
    card: &[(String, crate::features::Feature)],
    file: &[(String, crate::features::Feature)],
) -> Option<String> {
    let loose = |features: &[(String, crate::features::Feature)]| -> Vec<_> {
        features
            .iter()
            .map(|(name, f)| (name.clone(), f.ignoring_offset_width()))
            .collect()
    };
    if loose(card) == loose(file) {
        return None;
    }
    let parts: Vec<String> = schema::changes(card, file)
        .into_iter()
        .map(|change| {
            let old = change.old_type.unwrap_or_default();
            let new = change.new_type.unwrap_or_default();
            match change.change {
                SchemaChangeKind::Added => {
                    format!(
                        "column {} ({new}) is in the file, not in the card",
                        change.column
                    )
                }
                SchemaChangeKind::Removed => {
                    format!(
                        "column {} ({old}) is in the card, not in the file",
                        change.column
                    )
                }
                SchemaChangeKind::TypeChanged => format!(
                    "column {} is {old} in the card, {new} in the file",
                    change.column
                ),
            }
        })
        .collect();
    Some(if parts.is_empty() {
        "the columns are in a different order".to_string()
    } else {
        parts.join("; ")
    })
}

/// `dataset_size` of a config's `dataset_info` entry, as written.
fn dataset_size(
    meta: &serde_json::Map<String, Value>,
    config: &str,
    list_form: bool,
) -> Option<u64> {
    let info = meta.get("dataset_info")?;
    let entry = if list_form {
        info.as_array()?.iter().find(|entry| {
            entry
                .get("config_name")
                .map(|name| match name {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "default".to_string())
                == config
        })?
    } else {
        info
    };
    entry.get("dataset_size")?.as_u64()
}

/// huggingface_hub's rule (and the Hub's hook): delete the bytes that count as text — printable
/// ones, `\a \b \t \n \f \r \x1b` and everything from 0x80 — and anything left means binary.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&b| !(matches!(b, 7..=10 | 12 | 13 | 27) || (b >= 0x20 && b != 0x7f)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::verified_lfs::RACY_NS;

    /// `abc`'s pointer, and its object in a store under `git_dir` holding `abd` instead: any
    /// hash of it reports the corruption, so `Vouched` proves it was not hashed.
    fn corrupt_object(git_dir: &Path) -> (Pointer, std::path::PathBuf) {
        let pointer = Pointer {
            oid: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string(),
            size: 3,
        };
        let path = lfs::store_path(git_dir, &pointer.oid);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "abd").unwrap();
        // As a commit leaves it: the mtime out of the racy window.
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(10))
            .unwrap();
        (pointer, path)
    }

    fn check(
        git_dir: &Path,
        pointer: &Pointer,
        hashing: Hashing,
        verified: &VerifiedLfs,
    ) -> String {
        match check_object(git_dir, pointer, &mut lfs::Hasher::new(), hashing, verified) {
            Ok(Checked::Vouched) => "vouched".to_string(),
            Ok(Checked::Hashed { .. }) => "hashed, intact".to_string(),
            Err(message) => message,
        }
    }

    #[test]
    fn equal_stamps_skip_the_hash_and_any_changed_stamp_or_a_racy_entry_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let (pointer, path) = corrupt_object(dir.path());
        let corrupt = format!(
            "LFS object {} in .git/lfs/objects is corrupt: its content has sha256 {}",
            pointer.oid,
            lfs::Hasher::new().pointer_for(&path).unwrap().oid
        );
        let stamps = Stamps::of(&std::fs::metadata(&path).unwrap());
        let mut verified = VerifiedLfs::load(dir.path());
        assert_eq!(
            check(dir.path(), &pointer, Hashing::Unvouched, &verified),
            corrupt
        );

        verified.record(&pointer.oid, stamps, verified_lfs::now_ns());
        assert_eq!(
            check(dir.path(), &pointer, Hashing::Unvouched, &verified),
            "vouched"
        );
        // `hf-relay verify` hashes whatever the stamps say.
        assert_eq!(
            check(dir.path(), &pointer, Hashing::All, &verified),
            corrupt
        );

        for changed in [
            Stamps { size: 4, ..stamps },
            Stamps {
                mtime_ns: stamps.mtime_ns - 1,
                ..stamps
            },
            Stamps {
                ctime_ns: stamps.ctime_ns - 1,
                ..stamps
            },
            Stamps {
                inode: stamps.inode + 1,
                ..stamps
            },
        ] {
            verified.record(&pointer.oid, changed, verified_lfs::now_ns());
            assert_eq!(
                check(dir.path(), &pointer, Hashing::Unvouched, &verified),
                corrupt,
                "{changed:?}"
            );
        }

        // Racy: recorded within a second of the mtime, a same-tick write could hide.
        verified.record(&pointer.oid, stamps, stamps.mtime_ns + RACY_NS / 2);
        assert_eq!(
            check(dir.path(), &pointer, Hashing::Unvouched, &verified),
            corrupt
        );

        // Existence and size are checked whatever the cache says.
        verified.record(&pointer.oid, stamps, verified_lfs::now_ns());
        let wrong_size = Pointer {
            size: 4,
            ..pointer.clone()
        };
        assert_eq!(
            check(dir.path(), &wrong_size, Hashing::Unvouched, &verified),
            format!(
                "LFS object {} is 3 bytes in .git/lfs/objects, the pointer says 4",
                pointer.oid
            )
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            check(dir.path(), &pointer, Hashing::Unvouched, &verified),
            format!(
                "LFS object {} is missing from .git/lfs/objects",
                pointer.oid
            )
        );

        // Intact, and hashed: the stamps read before hashing, to record.
        std::fs::write(&path, "abc").unwrap();
        let before = verified_lfs::now_ns();
        match check_object(
            dir.path(),
            &pointer,
            &mut lfs::Hasher::new(),
            Hashing::All,
            &verified,
        ) {
            Ok(Checked::Hashed {
                stamps,
                recorded_ns,
            }) => {
                assert_eq!(stamps, Stamps::of(&std::fs::metadata(&path).unwrap()));
                assert!(recorded_ns >= before);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn binary_rule_matches_huggingface_hub() {
        assert!(!is_binary(b"plain text\twith tabs\r\n\x1b[0m and \xc3\xa9"));
        assert!(!is_binary(b""));
        assert!(is_binary(b"PAR1\x00\x15"));
        assert!(is_binary(b"\x7f"));
        assert!(is_binary(b"\x0b"));
    }
}
