//! The operations behind the commands: init, build, card preview, push, clone, publish, tag
//! and verify, each with its own option type. An operation never prints: it reports status lines,
//! warnings and progress through a [`Reporter`] and returns what it did as data, which the
//! command files under `commands/` turn into output.
//!
//! - `init`: a new clone, offline;
//! - `build`: plan the inputs, convert, compute the next state (card, shards), commit;
//! - `card`: the card the next build would write;
//! - `push`: verify, look up or create the repo, integrate the Hub's main, upload LFS objects,
//!   push refs;
//! - `clone`: git clone plus the LFS objects of the checked-out commit;
//! - `publish`: open or make the clone, build, push;
//! - `tag`: annotated release tags with the dataset's row counts;
//! - `verify`: every LFS object hashed, the Parquet files and the card checked.

pub mod build_commit;
pub mod card;
pub mod clone;
mod error;
pub mod init;
pub mod publish;
pub mod push;
pub mod tag;
pub mod verify;

pub use error::{Hint, UserError};

use std::path::{Path, PathBuf};

use crate::auth::{self, FoundToken};
use crate::convert;
use crate::hub::UploadReporter;
use crate::ids::short_hex;
use crate::repo::LocalClone;

/// How an operation tells the user what is going on. The CLI draws progress bars on a
/// terminal and writes status lines on stderr; tests and library callers may ignore it all
/// ([`Quiet`]).
pub trait Reporter: Sync {
    /// A line about what happened or happens next (`Converted train: …`).
    fn status(&self, line: &str);
    /// Something the user should know; the operation goes on.
    fn warning(&self, line: &str);
    /// Byte progress of a conversion, until the returned bar is finished.
    fn conversion(&self) -> Box<dyn ConversionBar + '_>;
    /// Byte progress of an LFS transfer (`label`: "Uploading", "Downloading").
    fn transfer(&self, label: &'static str) -> Box<dyn TransferBar + '_>;
}

/// A conversion's progress, cleared by `finish`.
pub trait ConversionBar: convert::Progress {
    fn finish(&self);
}

/// An LFS transfer's progress, cleared by `finish`.
pub trait TransferBar: UploadReporter {
    fn finish(&self);
}

/// A reporter that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl ConversionBar for convert::NoProgress {
    fn finish(&self) {}
}

impl TransferBar for crate::hub::NoProgress {
    fn finish(&self) {}
}

impl Reporter for Quiet {
    fn status(&self, _: &str) {}
    fn warning(&self, _: &str) {}
    fn conversion(&self) -> Box<dyn ConversionBar + '_> {
        Box::new(convert::NoProgress)
    }
    fn transfer(&self, _: &'static str) -> Box<dyn TransferBar + '_> {
        Box::new(crate::hub::NoProgress)
    }
}

/// Opens the clone that holds `dir` (found upwards, as git does), saying so when opening it
/// completed a commit a killed hf-relay had left half-applied.
pub fn open_clone(dir: &Path, reporter: &dyn Reporter) -> anyhow::Result<LocalClone> {
    let clone = LocalClone::discover(dir)?;
    if let Some(recovered) = &clone.recovered {
        reporter.status(&format!(
            "Completed the interrupted commit {} {} (an hf-relay process was killed while \
             putting it in place)",
            short_hex(&recovered.commit.to_string()),
            recovered.subject
        ));
    }
    Ok(clone)
}

/// The token for talking to the Hub about `clone` (its `.env` counts), or an error that lists
/// every place looked at.
pub fn token_for(clone: Option<&LocalClone>) -> Result<FoundToken, auth::MissingToken> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    auth::find_token(&cwd, clone.map(|clone| clone.root.as_path()))
}
