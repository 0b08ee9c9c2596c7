//! Command-line types (clap). Behaviour lives in `commands/`; this file only describes flags.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "hf-relay",
    version,
    about = "Publish JSONL datasets to the Hugging Face Hub the git-native way",
    long_about = "hf-relay converts JSONL into Parquet shards, writes a dataset card and commits \
                  both into a local git clone of a Hub dataset repository; everything except \
                  push and clone works offline."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new local clone for the Hub dataset repo OWNER/NAME.
    Init(InitArgs),
    /// Convert JSONL into Parquet shards, regenerate the card and commit.
    Build(BuildArgs),
    /// Show the card the next build would write (--preview), or check the card (--check).
    Card(CardArgs),
    /// Publish the clone to the Hub: create the repo, upload LFS objects, push branch and tags.
    Push(PushArgs),
    /// Clone an existing Hub dataset and download its LFS objects.
    Clone(CloneArgs),
    /// Create an annotated release tag, or list tags.
    Tag(TagArgs),
    /// One shot: open or create the clone, build, push.
    Publish(PublishArgs),
    /// What is not published yet: commits, LFS objects, tags, uncommitted changes.
    Status(StatusArgs),
    /// What changed in the card, the data and the schema between two states.
    Diff(DiffArgs),
    /// History with a dataset summary per commit.
    Log(LogArgs),
    /// Check LFS objects (hashing every one), Parquet files and the card against each other.
    Verify(VerifyArgs),
    /// Print a Parquet file (or the LFS object its pointer names) as one JSON line per row,
    /// for git: `git config diff.parquet.textconv "hf-relay textconv"`.
    Textconv(TextconvArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The clone to publish.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub visibility: VisibilityArgs,
    /// Fail instead of creating the repo when it does not exist.
    #[arg(long)]
    pub no_create: bool,
    /// Run every check and report what would be uploaded; change nothing remotely.
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite the remote branch even when it has commits we do not have.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Publish HEAD to this branch of the Hub's repo (created when missing) instead of main.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["create_pr", "pr"])]
    pub branch: Option<String>,
    /// Open a pull request on the Hub and push HEAD to its refs/pr/N.
    #[arg(long, conflicts_with = "pr")]
    pub create_pr: bool,
    /// The pull request's title (default: the subject of HEAD's commit).
    #[arg(long, value_name = "TITLE", requires = "create_pr")]
    pub title: Option<String>,
    /// The pull request's description.
    #[arg(long, value_name = "TEXT", requires = "create_pr")]
    pub description: Option<String>,
    /// Add HEAD's commits to the open pull request N (its refs/pr/N).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
}

#[derive(Debug, Args, Clone, Copy, Default)]
pub struct VisibilityArgs {
    /// Create the repo as private (ignored when it already exists).
    #[arg(long, conflicts_with = "public")]
    pub private: bool,
    /// Create the repo as public (ignored when it already exists). With neither flag the Hub
    /// decides: public by default, unless the organization's settings say otherwise.
    #[arg(long)]
    pub public: bool,
}

#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The Hub dataset repository id, OWNER/NAME.
    pub repo_id: String,
    /// Where to clone (default: ./NAME).
    pub dir: Option<PathBuf>,
    /// Keep LFS pointers in the working tree; download no LFS objects.
    #[arg(long)]
    pub no_lfs: bool,
    /// Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Check out this branch or tag instead of main.
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The tag to create.
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// The commit to tag (default: HEAD).
    pub rev: Option<String>,
    /// Tag message (default: the dataset at that commit, splits and row counts).
    #[arg(short = 'm', long = "message", value_name = "MESSAGE")]
    pub message: Option<String>,
    /// List tags instead.
    #[arg(long, conflicts_with_all = ["name", "rev", "message"])]
    pub list: bool,
    /// The clone to tag in.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The Hub dataset repository id, OWNER/NAME.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_id: String,
    /// The local clone to use (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub visibility: VisibilityArgs,
    /// Run every check; change nothing remotely.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the card the build would write, and stop.
    #[arg(long)]
    pub preview_card: bool,
    /// Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Commit subject (replaces the generated one).
    #[arg(short = 'm', long = "message", value_name = "MESSAGE")]
    pub message: Option<String>,
    #[command(flatten)]
    pub card: CardFlags,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The clone to look at.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Print the status as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The clone to compare in.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// The older state (default: the last published state, origin/main, else the first commit).
    pub from: Option<String>,
    /// The newer state (default: the working tree).
    pub to: Option<String>,
    /// Only the summary: rows added, removed and changed per split, shards, schema changes.
    #[arg(long)]
    pub stat: bool,
    /// Print the differences as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit with 1 when there are differences, like git diff --exit-code.
    #[arg(long)]
    pub exit_code: bool,
    /// How many changed rows to list per split.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub rows: usize,
    /// The column that identifies a row, to tell a changed row from a removed and an added
    /// one (default: a unique column named id, *_id, uuid or key; else rows pair by position).
    #[arg(long, value_name = "COLUMN")]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct TextconvArgs {
    /// The Parquet file, or a Git LFS pointer to one (read from the clone's LFS store).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// The clone whose history to show.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// One line per commit.
    #[arg(long)]
    pub oneline: bool,
    /// Print the history as JSON on stdout.
    #[arg(long, conflicts_with = "oneline")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The clone to check.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// The commit to verify (default: HEAD).
    pub rev: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The Hub dataset repository id, OWNER/NAME.
    pub repo_id: String,
    /// Where to create the clone (default: ./NAME).
    pub dir: Option<PathBuf>,
    /// Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The clone to build into.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Commit subject (replaces the generated one).
    #[arg(short = 'm', long = "message", value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Refuse (and write nothing) when the build would change the schema of existing data.
    #[arg(long)]
    pub strict_schema: bool,
    #[command(flatten)]
    pub card: CardFlags,
}

/// Which JSONL files go where, and how they are converted.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Inputs for split `train`, read in the order given: JSONL files (gzip, zstd, bzip2 and xz
    /// files are decompressed, told by their contents), `-` for standard input (once), or
    /// Parquet files and folders of them (a build reads one format).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// An input for a named split (repeatable; several inputs of a split keep their order;
    /// FILE may be compressed JSONL, `-` for standard input, a Parquet file or folder).
    #[arg(long = "split", value_name = "NAME=FILE")]
    pub splits: Vec<String>,
    /// Dataset config (subset) name; its files go under a folder of that name.
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub config: String,
    /// Largest uncompressed size of one shard, e.g. 500MB, 1GB, 200MiB (a bad size is a usage
    /// error, exit 2).
    #[arg(long, default_value = "500MB", value_name = "SIZE", value_parser = crate::units::parse_size)]
    pub max_shard_size: u64,
    /// Parquet compression codec.
    #[arg(long, value_enum, default_value_t = Compression::Snappy)]
    pub compression: Compression,
    /// What to do with a value whose type conflicts with the column's type.
    #[arg(long, value_enum, default_value_t = OnTypeConflict::Error)]
    pub on_type_conflict: OnTypeConflict,
    /// Write Parquet inputs again with hf-relay's shard writer (content-defined shards, the
    /// --compression codec) instead of publishing the files as they are.
    #[arg(long)]
    pub rewrite: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Compression {
    Snappy,
    Zstd,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnTypeConflict {
    /// Stop with an error naming file, line, field and both types.
    Error,
    /// Store the conflicting column as JSON text.
    String,
}

/// Card metadata flags: written into the README's YAML and kept there afterwards.
#[derive(Debug, Args, Clone, Default)]
pub struct CardFlags {
    /// The dataset's display name (the card's `pretty_name` and title; without it the title
    /// is the repo's name).
    #[arg(long, value_name = "NAME")]
    pub pretty_name: Option<String>,
    /// License id, e.g. mit, apache-2.0, cc-by-4.0.
    #[arg(long, value_name = "ID")]
    pub license: Option<String>,
    /// Language code (repeatable).
    #[arg(long, value_name = "CODE")]
    pub language: Vec<String>,
    /// Task category (repeatable), e.g. text-generation.
    #[arg(long, value_name = "TASK")]
    pub task_category: Vec<String>,
    /// Tag (repeatable).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// How annotations were created (repeatable), e.g. machine-generated.
    #[arg(long, value_name = "KIND")]
    pub annotations_creators: Vec<String>,
    /// Source datasets (repeatable), e.g. original.
    #[arg(long, value_name = "SOURCE")]
    pub source_datasets: Vec<String>,
    /// Markdown template for the card body on first build.
    #[arg(long, value_name = "FILE")]
    pub card_template: Option<PathBuf>,
}

/// `card` needs one mode: `--preview` or `--check` (a usage error naming both otherwise).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").required(true).args(["preview", "check"])))]
pub struct CardArgs {
    /// The clone whose card to show.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Print the card the next build would write (writes nothing).
    #[arg(long, conflicts_with = "check")]
    pub preview: bool,
    /// Check the metadata of the working tree's README.md as the Hub would (every problem,
    /// with its YAML path); exit 0 when valid, 1 otherwise.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub card: CardFlags,
}
