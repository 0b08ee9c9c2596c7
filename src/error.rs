//! Errors as the user meets them: a kind that decides the exit code, and hints — what to do
//! about it — kept as data and printed after the cause chain as `Hint:` lines (as jj does),
//! not glued into the messages.
//!
//! The layers return their own typed errors inside `anyhow::Error`; [`diagnose`] reads the
//! chain once at the top and finds the kind and the hints. Code that has no typed error of its
//! own and wants a hint raises a [`UserError`].

use crate::auth::MissingToken;
use crate::convert::ConvertError;
use crate::hub::HubError;
use crate::interrupt::Interrupted;
use crate::repo::remote::RemoteError;

/// What kind of failure, which picks the exit code (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command line itself is wrong: exit 2 (clap's usage errors exit 2 as well).
    Usage,
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
            ErrorKind::Usage => 2,
            ErrorKind::Interrupted => 130,
            ErrorKind::User | ErrorKind::Hub | ErrorKind::Internal => 1,
        }
    }
}

/// An error message with a kind and hints. Raise it as the root of an error (`Err(…into())`),
/// not as an `anyhow` context: [`diagnose`] finds causes, not context layers.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    message: String,
    kind: ErrorKind,
    hints: Vec<String>,
}

impl UserError {
    /// A user error (exit 1).
    pub fn new(message: impl Into<String>) -> UserError {
        UserError {
            message: message.into(),
            kind: ErrorKind::User,
            hints: Vec::new(),
        }
    }

    /// A usage error (exit 2): flags that cannot work together, a malformed value.
    pub fn usage(message: impl Into<String>) -> UserError {
        UserError {
            kind: ErrorKind::Usage,
            ..UserError::new(message)
        }
    }

    /// Adds a hint: what the user can do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> UserError {
        self.hints.push(hint.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn hints(&self) -> &[String] {
        &self.hints
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
    let mut kind = None;
    let mut hints: Vec<String> = Vec::new();
    let mut interrupted = false;
    for cause in error.chain() {
        let (cause_kind, cause_hints): (Option<ErrorKind>, Vec<String>) = if cause
            .is::<Interrupted>()
            || matches!(
                cause.downcast_ref::<ConvertError>(),
                Some(ConvertError::Interrupted)
            ) {
            interrupted = true;
            (None, Vec::new())
        } else if let Some(error) = cause.downcast_ref::<UserError>() {
            (Some(error.kind()), error.hints().to_vec())
        } else if let Some(error) = cause.downcast_ref::<MissingToken>() {
            (Some(ErrorKind::User), error.hints())
        } else if let Some(error) = cause.downcast_ref::<RemoteError>() {
            (Some(ErrorKind::Hub), error.hints())
        } else if cause.is::<HubError>() {
            (Some(ErrorKind::Hub), Vec::new())
        } else if let Some(error) = cause.downcast_ref::<ConvertError>() {
            (Some(ErrorKind::User), error.hints())
        } else if cause.is::<git2::Error>() {
            (Some(ErrorKind::Internal), Vec::new())
        } else {
            (None, Vec::new())
        };
        if kind.is_none() {
            kind = cause_kind;
        }
        for hint in cause_hints {
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
    }
    if interrupted {
        return Diagnosis {
            kind: ErrorKind::Interrupted,
            hints: vec![
                "nothing is half-written: the clone holds only complete commits and no ref moved \
                 on the Hub after Ctrl-C; run the command again to finish"
                    .to_string(),
            ],
        };
    }
    Diagnosis {
        kind: kind.unwrap_or(ErrorKind::User),
        hints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_picks_the_exit_code_and_hints_come_from_every_cause() {
        let error = anyhow::Error::new(UserError::usage("--a and --b").hint("drop --b"))
            .context("cannot build");
        let diagnosis = diagnose(&error);
        assert_eq!(diagnosis.kind, ErrorKind::Usage);
        assert_eq!(diagnosis.kind.exit_code(), 2);
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
    }
}
