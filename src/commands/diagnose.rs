//! Where the CLI meets the library's errors, as jj's `command_error.rs`: the layers return
//! typed errors that carry kinds and data; here the cause chain is read once, at the top, for
//! the kind of failure (which picks the exit code), the hints — what to do, in the CLI's words:
//! its commands, flags and environment variables — and the few messages whose advice reads as
//! part of the sentence.

use std::error::Error;

use crate::auth::MissingToken;
use crate::convert::ConvertError;
use crate::hub::HubError;
use crate::ops::push::CardRefused;
use crate::ops::{Hint, UserError};
use crate::repo::NoClone;
use crate::repo::remote::{RemoteError, UnknownRevision};

/// What kind of failure, which picks the exit code (README, "Exit codes"). A command line
/// clap cannot parse exits 2 before any of this runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input, the clone or the environment is not what the command needs: exit 1.
    User,
    /// The Hub refused or could not be reached: exit 1.
    Hub,
    /// Something hf-relay did not expect (a git or file-system error with no better story).
    Internal,
    /// Ctrl-C: exit 130, and nothing half-written.
    Interrupted,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Interrupted => super::EXIT_INTERRUPTED,
            ErrorKind::User | ErrorKind::Hub | ErrorKind::Internal => super::EXIT_FAILURE,
        }
    }
}

/// The kind and hints of an error, read from its whole cause chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub kind: ErrorKind,
    pub hints: Vec<String>,
}

/// Reads the chain: Ctrl-C anywhere makes it an interruption; otherwise the outermost typed
/// cause decides the kind. Hints are collected from every cause, outermost first, without
/// repeats.
pub fn diagnose(error: &anyhow::Error) -> Diagnosis {
    if crate::interrupt::is_interrupted(error) {
        return Diagnosis {
            kind: ErrorKind::Interrupted,
            hints: vec![
                "nothing is half-written: the clone holds only complete commits and no ref moved \
                 on the Hub after Ctrl-C; run the command again to finish"
                    .to_string(),
            ],
        };
    }
    let mut kind = None;
    let mut hints: Vec<String> = Vec::new();
    for cause in error.chain() {
        let (cause_kind, cause_hints) = read(cause);
        if kind.is_none() {
            kind = cause_kind;
        }
        for hint in cause_hints {
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
    }
    Diagnosis {
        kind: kind.unwrap_or(ErrorKind::User),
        hints,
    }
}

/// One cause's kind (if it has a typed one) and hints.
fn read(cause: &(dyn Error + 'static)) -> (Option<ErrorKind>, Vec<String>) {
    if let Some(error) = cause.downcast_ref::<UserError>() {
        (
            Some(ErrorKind::User),
            error.hints().iter().map(hint_text).collect(),
        )
    } else if cause.is::<MissingToken>() {
        (
            Some(ErrorKind::User),
            vec!["set HF_TOKEN, or run `hf auth login`".to_string()],
        )
    } else if let Some(error) = cause.downcast_ref::<RemoteError>() {
        (Some(ErrorKind::Hub), remote_hints(error))
    } else if cause.is::<UnknownRevision>() {
        (
            Some(ErrorKind::User),
            vec!["`git ls-remote` lists its branches and tags; the default is main".to_string()],
        )
    } else if cause.is::<HubError>() {
        (Some(ErrorKind::Hub), Vec::new())
    } else if let Some(error) = cause.downcast_ref::<ConvertError>() {
        (Some(ErrorKind::User), convert_hints(error))
    } else if cause.is::<git2::Error>() {
        (Some(ErrorKind::Internal), Vec::new())
    } else {
        (None, Vec::new())
    }
}

/// An operation's hint in the CLI's words.
fn hint_text(hint: &Hint) -> String {
    use crate::env::HF_HUB_OFFLINE;
    match hint {
        Hint::UnsetOffline { action } => format!("unset {HF_HUB_OFFLINE} to {action}"),
        Hint::PrepareOffline => "use init + build to prepare offline".to_string(),
        Hint::PublishToEndpoint { endpoint } => format!("to publish there: --endpoint {endpoint}"),
        Hint::PublishFromAnotherFolder { url } => {
            format!("to publish to {url}, give another folder: --dir NEW")
        }
        Hint::PublishRepoFromAnotherFolder { repo } => format!(
            "to publish {repo}, give another folder: --dir NEW (publish clones or creates {repo} \
             there)"
        ),
        Hint::RepointOrigin { dir, repo, url } => {
            format!("to re-point this clone at {repo}: git -C {dir} remote set-url origin {url}")
        }
        Hint::PublishOrigin { origin } => format!("to update {origin}: --repo-id {origin}"),
        Hint::GiveInputs => "give the INPUTs the next build will read".to_string(),
        Hint::AcceptSchemaChange => "drop --strict-schema to accept the change".to_string(),
        Hint::RebuildSplits { kept } => {
            let flags: Vec<String> = kept
                .iter()
                .map(|name| format!("--split {name}=FILE"))
                .collect();
            format!(
                "rebuild {} in the same build ({}) with the new columns",
                crate::units::and_list(kept),
                flags.join(" ")
            )
        }
        Hint::AnotherConfig => {
            "or put the new data in another config (--config NAME), beside this one".to_string()
        }
        Hint::KeepLocalData { tracking } => format!(
            "to keep this clone's data and record the Hub's commits as merged (its version stays \
             in the history): `git merge -s ours {tracking} -m \"Keep the local data\"`, then \
             `hf-relay push`; to take the Hub's data instead, start from a fresh `hf-relay clone`"
        ),
        Hint::ResolveByHand { tracking, path } => format!(
            "to resolve it by hand in the clone: `git merge {tracking}`, edit {path} (keep what \
             you want, remove the conflict markers), `git add {path} && git commit --no-edit`, \
             then `hf-relay push`"
        ),
        Hint::ForcePush => "or push with --force to overwrite the Hub's version".to_string(),
        Hint::CommitBeforePullRequest => {
            "commit the change first (e.g. `hf-relay build`), then push --create-pr".to_string()
        }
        Hint::FixAndVerify => "fix it (e.g. rebuild) and run `hf-relay verify`".to_string(),
        Hint::Verify => "run `hf-relay verify`".to_string(),
        Hint::RestoreObjects => "put each object's original bytes back at \
            .git/lfs/objects/XX/YY/OID (XX and YY: the first two pairs of hex digits of its id), \
            e.g. copied from another clone of the dataset or a backup, then push again; \
            `hf-relay verify` lists every damaged object"
            .to_string(),
        Hint::BranchName => {
            "use letters, digits, '-', '_', '.' and '/' (e.g. --branch review/v2)".to_string()
        }
        Hint::GiveTitle => "give one with --title".to_string(),
        Hint::OpenPullRequest => "open one with push --create-pr".to_string(),
        Hint::OpenNewPullRequest => "open a new one with push --create-pr".to_string(),
        Hint::FixCard => "fix README.md, then run `hf-relay card --check`".to_string(),
    }
}

fn remote_hints(error: &RemoteError) -> Vec<String> {
    let hint = match error {
        RemoteError::TokenNeeded { .. } => "set HF_TOKEN to a token that can access it",
        RemoteError::AuthFailed { .. } => {
            "check the token with `hf auth whoami`, or set HF_TOKEN to one with access"
        }
        RemoteError::NotFastForward => {
            "run push again to integrate them, or use --force to overwrite them"
        }
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

fn convert_hints(error: &ConvertError) -> Vec<String> {
    match error {
        ConvertError::TypeConflict { path, .. } => vec![format!(
            "to keep the mixed values, store `{path}` as JSON text with --on-type-conflict \
             string; or make the input consistent at the line named"
        )],
        _ => Vec::new(),
    }
}

/// One cause as the user reads it: its message, with the CLI's advice where that reads as
/// part of the sentence (the commands that make a clone, what to do about a 401).
pub fn message(cause: &(dyn Error + 'static)) -> String {
    if let Some(error) = cause.downcast_ref::<NoClone>() {
        let make_one = "run `hf-relay init OWNER/NAME` or `hf-relay clone OWNER/NAME` first";
        return match error {
            NoClone::NotARepository(_) => format!("{error}; {make_one}"),
            NoClone::Unborn { .. } => format!(
                "{error}; run `hf-relay init OWNER/NAME` or `hf-relay clone OWNER/NAME` to start \
                 from the Hub's first commit"
            ),
            NoClone::NotInARepository(_) => {
                format!("{error}; {make_one}, or give the clone with --dir")
            }
        };
    }
    if let Some(
        error @ HubError::Unauthorized {
            invalid_token,
            sent_token,
            ..
        },
    ) = cause.downcast_ref::<HubError>()
    {
        let what = if *invalid_token {
            "the token was refused (invalid or expired); set HF_TOKEN to a valid token, or run \
             `hf auth login`"
        } else if *sent_token {
            "the repository is private or does not exist (or this token cannot see it), or the \
             token was refused (invalid or expired)"
        } else {
            "no token was sent: this needs a token (set HF_TOKEN, or run `hf auth login`), or \
             the repository is private or does not exist"
        };
        if let Some(text) = error.unauthorized_message(what) {
            return text;
        }
    }
    if cause.is::<CardRefused>() {
        return format!("{cause} (fix README.md, then run `hf-relay card --check`)");
    }
    cause.to_string()
}

/// The lines of the cause chain, outermost first, each as [`message`] words it; a cause that
/// only repeats the line above it (a typed "interrupted" that carries the `Interrupted` it
/// stands for) is shown once.
pub fn chain_lines(error: &anyhow::Error) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for cause in error.chain() {
        let line = message(cause);
        if lines.last() != Some(&line) {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::Interrupted;

    #[test]
    fn the_kind_picks_the_exit_code_and_hints_come_from_every_cause() {
        let error = anyhow::Error::new(
            UserError::new("the build would change the schema").hint(Hint::AcceptSchemaChange),
        )
        .context("cannot build");
        let diagnosis = diagnose(&error);
        assert_eq!(diagnosis.kind, ErrorKind::User);
        assert_eq!(diagnosis.kind.exit_code(), 1);
        assert_eq!(
            diagnosis.hints,
            vec!["drop --strict-schema to accept the change".to_string()]
        );

        let plain = anyhow::anyhow!("no such file").context("cannot read input");
        assert_eq!(diagnose(&plain).kind.exit_code(), 1);
        assert!(diagnose(&plain).hints.is_empty());
    }

    #[test]
    fn ctrl_c_anywhere_in_the_chain_is_an_interruption() {
        let error = anyhow::Error::new(Interrupted).context("cannot upload the LFS objects");
        let diagnosis = diagnose(&error);
        assert_eq!(diagnosis.kind, ErrorKind::Interrupted);
        assert_eq!(diagnosis.kind.exit_code(), 130);

        // The converter's own Ctrl-C too, shown once.
        let error = anyhow::Error::new(ConvertError::from(Interrupted)).context("cannot build");
        assert_eq!(diagnose(&error).kind.exit_code(), 130);
        assert_eq!(chain_lines(&error), ["cannot build", "interrupted"]);
    }

    #[test]
    fn the_cli_words_the_hints_of_typed_library_errors() {
        let error = anyhow::Error::new(RemoteError::NotFastForward).context("cannot push");
        let diagnosis = diagnose(&error);
        assert_eq!(diagnosis.kind, ErrorKind::Hub);
        assert_eq!(
            diagnosis.hints,
            ["run push again to integrate them, or use --force to overwrite them"]
        );
        let missing = MissingToken {
            looked_in: vec!["environment variable HF_TOKEN".to_string()],
        };
        assert_eq!(
            diagnose(&anyhow::Error::new(missing)).hints,
            ["set HF_TOKEN, or run `hf auth login`"]
        );
    }

    #[test]
    fn a_config_whose_splits_would_no_longer_fit_names_the_flags_that_fix_it() {
        let error = UserError::new("splits test and validation of config en would no longer fit")
            .hint(Hint::RebuildSplits {
                kept: vec!["test".into(), "validation".into()],
            })
            .hint(Hint::AnotherConfig);
        assert_eq!(
            diagnose(&anyhow::Error::new(error)).hints,
            [
                "rebuild test and validation in the same build (--split test=FILE --split \
                 validation=FILE) with the new columns",
                "or put the new data in another config (--config NAME), beside this one"
            ]
        );
    }

    #[test]
    fn a_401_says_what_to_do_in_the_sentence_and_keeps_the_request_id_last() {
        let refused = |invalid_token, sent_token| {
            anyhow::Error::new(HubError::Unauthorized {
                url: "https://hub/api/whoami-v2".to_string(),
                invalid_token,
                sent_token,
                message: Some("Invalid credentials".to_string()),
                request_id: Some("R1".to_string()),
            })
        };
        assert_eq!(
            chain_lines(&refused(true, true)),
            [
                "unauthorized (HTTP 401) at https://hub/api/whoami-v2 (Invalid credentials): the \
              token was refused (invalid or expired); set HF_TOKEN to a valid token, or run `hf \
              auth login` [request id: R1]"
            ]
        );
        assert_eq!(
            chain_lines(&refused(false, false)),
            [
                "unauthorized (HTTP 401) at https://hub/api/whoami-v2 (Invalid credentials): no \
              token was sent: this needs a token (set HF_TOKEN, or run `hf auth login`), or the \
              repository is private or does not exist [request id: R1]"
            ]
        );
        assert_eq!(diagnose(&refused(true, true)).kind, ErrorKind::Hub);
    }

    #[test]
    fn a_card_the_hub_would_refuse_names_the_check_before_its_problems() {
        let problems = anyhow::anyhow!("README.md: the Hub would refuse this card metadata");
        let error = anyhow::Error::new(CardRefused(problems.into()));
        assert_eq!(
            chain_lines(&error),
            [
                "refusing to push (fix README.md, then run `hf-relay card --check`)",
                "README.md: the Hub would refuse this card metadata"
            ]
        );
    }

    #[test]
    fn a_folder_without_a_clone_is_told_how_to_make_one() {
        let error = anyhow::Error::new(NoClone::NotARepository("plain".to_string()));
        assert_eq!(
            chain_lines(&error),
            [
                "plain is not a git repository; run `hf-relay init OWNER/NAME` or `hf-relay clone \
              OWNER/NAME` first"
            ]
        );
        let error = anyhow::Error::new(NoClone::Unborn {
            dir: "unborn".to_string(),
            branch: "main".to_string(),
        });
        assert_eq!(
            chain_lines(&error),
            [
                "unborn has no commit yet (branch main is unborn); run `hf-relay init OWNER/NAME` \
              or `hf-relay clone OWNER/NAME` to start from the Hub's first commit"
            ]
        );
    }
}
