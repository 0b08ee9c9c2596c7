//! Reviewing a clone before publishing, in dataset terms: what is not published yet
//! ([`status()`]), what changed in the card, the data and the schema between two states
//! ([`diff()`]), the history with row counts ([`log()`]), and whether LFS objects, Parquet
//! files and the card agree ([`verify()`]). Works offline: the remote is known only through
//! `refs/remotes/origin/*` and the pushed-tags record ([`pushed_tags`]). Never prints.

pub mod align;
mod diff;
mod log;
mod meta;
pub mod pushed_tags;
mod rowdiff;
mod rowvalues;
mod schema;
mod state;
mod status;
mod tree;
mod verify;

pub use diff::{
    ConfigSchemaChange, DatasetDiff, FileDiff, FileStatus, ReadmeDiff, SplitDiff, add_row_diffs,
    diff, unified,
};
pub use log::{LogEntry, SplitRows, log, tags_by_commit};
pub use meta::{MetaChange, diff as meta_diff, flow};
pub use pushed_tags::{read_pushed_tags, record_pushed_tags};
pub use rowdiff::{Pairing, RowChange, RowDiff, RowKind, RowOptions, write_rows_json};
pub use rowvalues::{FieldChange, Shown};
pub use schema::{SchemaChange, SchemaChangeKind, file_features};
pub use state::{Card, DatasetState, Source, resolve, unique_abbrev};
pub use status::{
    CommitLine, RemoteHead, Status, TagLine, remote_head, remote_ref, status, unpushed_tag_commits,
};
pub use tree::{ChangeKind, Content, Files, WorktreeChange};
pub use verify::{
    Hashing, Problem, VerifyReport, is_binary, verify, verify_commits, verify_unpublished,
};
