//! The error an operation raises when the input, the clone or the environment is not what it
//! needs and it has no typed error of its own: a message and, as data, what the user can do
//! about it. The CLI (`commands::diagnose`) reads these from the cause chain and prints them as
//! `Hint:` lines after the message, as jj does; nothing here knows the exit codes.

/// An error message with hints. Raise it as the root of an error (`Err(…into())`), not as an
/// `anyhow` context: the CLI finds causes, not context layers.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    message: String,
    hints: Vec<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> UserError {
        UserError {
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Adds a hint: what the user can do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> UserError {
        self.hints.push(hint.into());
        self
    }

    pub fn hints(&self) -> &[String] {
        &self.hints
    }
}
