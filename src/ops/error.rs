//! The error an operation raises when the input, the clone or the environment is not what it
//! needs and no layer below has a typed error for it: a message and, as data, what the user
//! can do about it ([`Hint`]). The CLI (`commands::diagnose`) words the hints — they name its
//! commands and flags — and prints them as `Hint:` lines after the message, as jj does.

/// An error message with hints. Raise it as the root of an error (`Err(…into())`), not as an
/// `anyhow` context: the CLI finds causes, not context layers.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    message: String,
    hints: Vec<Hint>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> UserError {
        UserError {
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Adds a hint: what the user can do about it.
    pub fn hint(mut self, hint: Hint) -> UserError {
        self.hints.push(hint);
        self
    }

    pub fn hints(&self) -> &[Hint] {
        &self.hints
    }
}

/// What the user can do about a refusal, as data; the CLI words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Offline mode forbids what `action` needs (`clone`, `publish`).
    UnsetOffline { action: &'static str },
    /// `publish` needs the network; `init` and `build` work offline.
    PrepareOffline,
    /// The clone publishes to the same repo id on the Hub at `endpoint`.
    PublishToEndpoint { endpoint: String },
    /// A clone of the repo at `url` belongs in another folder.
    PublishFromAnotherFolder { url: String },
    /// `publish` clones or creates `repo` in another folder.
    PublishRepoFromAnotherFolder { repo: String },
    /// The clone in `dir` can be pointed at `repo`, at `url`.
    RepointOrigin {
        dir: String,
        repo: String,
        url: String,
    },
    /// The clone's own repo, `origin`, is what `publish` would update.
    PublishOrigin { origin: String },
    /// A card preview needs the inputs of the next build.
    GiveInputs,
    /// The build stopped on a schema change only because it was told to.
    AcceptSchemaChange,
    /// The config's other splits (`kept`) can be rebuilt with the new columns.
    RebuildSplits { kept: Vec<String> },
    /// The new data can go into a config of its own.
    AnotherConfig,
    /// An LFS file changed on both sides: keep this clone's (`tracking` is the Hub's branch as
    /// last fetched).
    KeepLocalData { tracking: String },
    /// A text file changed on both sides: merge `tracking` and resolve `path` by hand.
    ResolveByHand { tracking: String, path: String },
    /// A forced push overwrites the Hub's version.
    ForcePush,
    /// A pull request needs a commit that is not the Hub's main.
    CommitBeforePullRequest,
    /// The clone is inconsistent: fix it and verify.
    FixAndVerify,
    /// An LFS object is missing: verify lists what else is.
    Verify,
    /// Damaged LFS objects: put their original bytes back.
    RestoreObjects,
    /// A branch name git refuses.
    BranchName,
    /// A pull request title of the wrong length.
    GiveTitle,
    /// No such pull request: open one.
    OpenPullRequest,
    /// A closed or merged pull request: open a new one.
    OpenNewPullRequest,
    /// Card metadata the Hub refuses.
    FixCard,
}
