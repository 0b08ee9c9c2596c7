//! `hf-relay textconv FILE`: a Parquet shard as one JSON line per row, for git's textconv
//! (`git diff` and `git log -p` then show data changes as changed lines). git hands over the
//! blob as the tree holds it, which for a shard is its LFS pointer unless git-lfs smudged it;
//! a pointer is read from the clone's LFS store (found from the current folder, where git
//! runs the command).

use std::io::{BufWriter, Read as _, Write as _};

use anyhow::Context as _;

use crate::cli::TextconvArgs;
use crate::inspect::write_rows_json;
use crate::repo::lfs::{self, Pointer};

pub fn run(args: TextconvArgs) -> anyhow::Result<()> {
    let name = args.file.display().to_string();
    let mut file =
        std::fs::File::open(&args.file).with_context(|| format!("cannot read {name}"))?;
    let mut head = Vec::new();
    (&mut file).take(1024).read_to_end(&mut head)?;
    let file = match Pointer::parse(&head) {
        Some(pointer) => {
            let repo = git2::Repository::discover(".").context(
                "a Git LFS pointer, read from the LFS store of the clone in the current folder",
            )?;
            let stored = lfs::store_path(repo.path(), &pointer.oid);
            std::fs::File::open(&stored).with_context(|| {
                format!(
                    "{name} is a Git LFS pointer to {} and the object is not in {}",
                    pointer.oid,
                    repo.path().join("lfs/objects").display()
                )
            })?
        }
        None => std::fs::File::open(&args.file).with_context(|| format!("cannot read {name}"))?,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = write_rows_json(file, &name, &mut out).and_then(|()| Ok(out.flush()?));
    match written {
        Err(error) if broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// Whether writing stopped because the reader (git's pager) went away.
fn broken_pipe(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(BrokenPipe)
    })
}
