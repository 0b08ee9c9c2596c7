//! hf-relay: publish JSONL datasets to the Hugging Face Hub the git-native way.
//!
//! Layers (none of them prints): `convert` (JSONL → Arrow → Parquet shards), `card` (the
//! dataset card), `repo` (the local git clone and its LFS store), `features` (the `datasets`
//! type model). `commands` orchestrates them; `cli` describes the flags.

pub mod auth;
pub mod card;
pub mod cli;
pub mod commands;
pub mod convert;
pub mod env;
pub mod error;
pub mod features;
pub mod hub;
pub mod ids;
pub mod inspect;
pub mod interrupt;
pub mod ops;
pub mod output;
pub mod repo;
pub mod repo_id;
pub mod units;
