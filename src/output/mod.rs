//! What the CLI shows: progress bars on a terminal (quiet in pipes), status lines on stderr,
//! results on stdout.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::convert::Progress;

pub mod build;
pub mod diff;
pub mod log;
pub mod push;
pub mod status;
pub mod tag;
pub mod verify;

/// A byte progress bar on stderr, drawn only when stderr is a terminal.
pub struct BarProgress {
    bar: ProgressBar,
}

/// A byte bar, drawn nowhere until `start` gives it its total and label.
fn terminal_bar() -> ProgressBar {
    let bar = ProgressBar::hidden();
    // Sizes as the status lines, the commit messages and the card write them (kB, MB: powers
    // of 1000), not indicatif's KiB/MiB.
    let bytes = |value: u64, out: &mut dyn std::fmt::Write| {
        let _ = out.write_str(&crate::units::human_bytes(value));
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:30}] {done}/{total} {rate}/s eta {eta}")
            .expect("a valid template")
            .with_key(
                "done",
                move |state: &ProgressState, out: &mut dyn std::fmt::Write| bytes(state.pos(), out),
            )
            .with_key(
                "total",
                move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    bytes(state.len().unwrap_or(0), out)
                },
            )
            .with_key(
                "rate",
                move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    bytes(state.per_sec() as u64, out)
                },
            )
            .progress_chars("=> "),
    );
    bar
}

/// Gives the bar its total and label, then draws it on stderr when that is a terminal: every
/// frame has both (a bar of length 0 is drawn full, one without a message has no label).
fn start(bar: &ProgressBar, total_bytes: u64, label: String) {
    bar.set_draw_target(ProgressDrawTarget::hidden());
    bar.set_length(total_bytes);
    bar.set_position(0);
    bar.set_message(label);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.tick();
    }
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
        start(&self.bar, total_bytes, name.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
}

/// A line on stderr. When nobody reads stderr any more (`2>&1 | head -1`), the line is dropped
/// and the command goes on: its work and exit code do not depend on its reader (`eprintln!`
/// would panic, exit 101).
pub fn stderr_line(line: std::fmt::Arguments) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A status line on stderr (stdout is kept for results).
pub fn status(message: impl AsRef<str>) {
    stderr_line(format_args!("{}", message.as_ref()));
}

/// A warning on stderr, `warning: …` as cargo and git write it.
pub fn warning(message: impl AsRef<str>) {
    stderr_line(format_args!("warning: {}", message.as_ref()));
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
        start(
            &self.bar,
            total_bytes,
            format!(
                "{} {}",
                self.label,
                crate::units::count(total_objects, "object")
            ),
        );
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
