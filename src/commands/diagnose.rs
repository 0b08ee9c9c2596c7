//! Where the CLI meets the library's errors, as jj's `command_error.rs`: the layers return
//! typed errors that carry kinds and data; here the cause chain is read once, at the top, for
//! the kind of failure (which picks the exit code), the hints — what to do, in the CLI's words:
//! its commands, flags and environment variables — and the few messages whose advice reads as
//! part of the sentence.

use std::error::Error;

use crate::auth::MissingToken;
use crate::convert::ConvertError;
use crate::error::UserError;
use crate::hub::HubError;
use crate::ops::push::CardRefused;
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
        (Some(ErrorKind::User), error.hints().to_vec())
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
        let error = anyhow::Error::new(UserError::new("--a and --b").hint("drop --b"))
            .context("cannot build");
        let diagnosis = diagnose(&error);
        assert_eq!(diagnosis.kind, ErrorKind::User);
        assert_eq!(diagnosis.kind.exit_code(), 1);
        assert_eq!(diagnosis.hints, vec!["drop --b".to_string()]);

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
    }
}
