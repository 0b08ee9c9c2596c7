//! hf-relay: publish JSONL datasets to the Hugging Face Hub the git-native way.
//!
//! The CLI layer: `cli` (clap flags), `commands` (flags → options → operation → output),
//! `output` (status lines, progress bars, renderings) and `error` (kinds and hints).
//! The operations: `ops` (build, card preview, push, clone, publish, tag), which report through
//! `ops::Reporter`. The layers below, none of which prints: `convert` (JSONL → Arrow → Parquet
//! shards), `card` (the dataset card), `repo` (the local git clone, its LFS store, git over
//! HTTPS), `hub` (REST and the LFS batch API), `inspect` (dataset states for status, diff,
//! log, verify), `auth` (the token), `features` (the `datasets` type model), `interrupt`
//! (Ctrl-C), `env` (the environment variables).

pub mod auth;
pub mod card;
pub mod cli;
pub mod commands;
pub mod convert;
pub mod env;
pub mod features;
pub mod hub;
pub mod ids;
pub mod inspect;
pub mod interrupt;
pub mod net;
pub mod ops;
pub mod output;
pub mod repo;
pub mod repo_id;
pub mod sanitize;
pub mod units;
