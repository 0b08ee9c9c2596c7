//! hf-relay's integration tests: one test binary with a module per subject (as cargo's
//! `tests/testsuite`). Each test drives the built binary in a sealed environment
//! (`support::TestEnv`), most against the project's Hub server on loopback
//! (`hf_relay_test_support::TestHub`), and checks stdout, stderr, the exit code and the
//! resulting repository together; interop with the real clients (git, git-lfs, datasets,
//! pyarrow).

mod adopt;
mod bounds_files;
mod bounds_server;
mod branches;
mod build;
mod card_gates;
mod clone;
mod everyday_output;
mod everyday_publish;
mod everyday_review;
mod hardening;
mod hostile_git;
mod hostile_lfs;
mod inputs;
mod journeys;
mod logdelta;
mod net;
mod push;
mod review;
mod rowdiff;
mod shard_bytes;
mod shards;
mod support;
mod tag;
mod transcripts;
mod usage;
#[cfg(feature = "xet")]
mod xet;
