//! What the CLI shows: progress bars on a terminal (quiet in pipes), status lines on stderr,
//! results on stdout.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::convert::Progress;

pub mod diff;

/// A byte progress bar on stderr, drawn only when stderr is a terminal.
pub struct BarProgress {
    bar: ProgressBar,
}

/// A byte bar on stderr when it is a terminal; hidden (quiet) in pipes and CI.
fn terminal_bar() -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>18} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar
}

impl BarProgress {
    pub fn new() -> BarProgress {
        BarProgress {
            bar: terminal_bar(),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        BarProgress::new()
    }
}

impl Progress for BarProgress {
    fn phase(&self, name: &str, total_bytes: u64) {
        // Length first: setting the message draws, and a bar of length 0 is drawn full.
        self.bar.set_length(total_bytes);
        self.bar.set_position(0);
        self.bar.set_message(name.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
}

/// A status line on stderr (stdout is kept for results).
pub fn status(message: impl AsRef<str>) {
    eprintln!("{}", message.as_ref());
}

/// A warning on stderr, `warning: …` as cargo and git write it.
pub fn warning(message: impl AsRef<str>) {
    eprintln!("warning: {}", message.as_ref());
}

/// How the operations report to a person: status lines and warnings on stderr, progress bars
/// on stderr when it is a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalReporter;

impl crate::ops::Reporter for TerminalReporter {
    fn status(&self, line: &str) {
        status(line);
    }

    fn warning(&self, line: &str) {
        warning(line);
    }

    fn conversion(&self) -> Box<dyn crate::ops::ConversionBar + '_> {
        Box::new(BarProgress::new())
    }

    fn transfer(&self, label: &'static str) -> Box<dyn crate::ops::TransferBar + '_> {
        Box::new(TransferProgress::new(label))
    }
}

impl crate::ops::ConversionBar for BarProgress {
    fn finish(&self) {
        BarProgress::finish(self);
    }
}

impl crate::ops::TransferBar for TransferProgress {
    fn finish(&self) {
        TransferProgress::finish(self);
    }
}

/// Byte progress of an LFS transfer on stderr (terminal only); retries are announced.
pub struct TransferProgress {
    bar: ProgressBar,
    label: &'static str,
}

impl TransferProgress {
    pub fn new(label: &'static str) -> TransferProgress {
        // Nothing is drawn before `on_start` knows the total (a bar of length 0 is drawn full).
        TransferProgress {
            bar: terminal_bar(),
            label,
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl crate::hub::UploadReporter for TransferProgress {
    fn on_start(&self, total_objects: usize, total_bytes: u64) {
        if total_bytes == 0 {
            return; // nothing to transfer: no bar
        }
        self.bar.set_length(total_bytes);
        self.bar.set_message(format!(
            "{} {}",
            self.label,
            crate::units::count(total_objects, "object")
        ));
    }

    fn on_bytes(&self, n: u64) {
        self.bar.inc(n);
    }

    fn on_object_done(&self, _oid: &str) {}

    fn on_retry(&self, reason: &str, wait: std::time::Duration) {
        let line = if wait.is_zero() {
            reason.to_string()
        } else {
            format!("{reason}; trying again in {:.1}s", wait.as_secs_f64())
        };
        if self.bar.length().unwrap_or(0) == 0 {
            status(line); // before `on_start`: `suspend` would draw the empty bar afterwards
        } else {
            self.bar.suspend(|| status(line));
        }
    }
}
