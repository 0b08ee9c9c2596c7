//! Ctrl-C, as every layer sees it. The handler only sets a flag; long work (conversion, HTTP
//! body reads and writes, git transfers, retry waits) polls [`check`] at its checkpoints and
//! stops with [`Interrupted`], which the top level maps to exit code 130.
//!
//! A flag rather than a channel: the checkpoints are in blocking loops of several layers
//! (rayon workers, ureq body readers, libgit2 callbacks), and each only needs "stop now?".

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The work was stopped by Ctrl-C. Carried inside other errors; `report_error` looks for it
/// anywhere in the cause chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Whether `error` is a Ctrl-C: [`Interrupted`] anywhere in its cause chain. The one answer to
/// "was this Ctrl-C?" (the exit code 130, a clone that says it was interrupted).
pub fn is_interrupted(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Interrupted>())
}

/// Installs the Ctrl-C handler (once per process; a failure only means Ctrl-C kills the
/// process the default way).
pub fn install_handler() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    #[cfg(test)]
    if THIS_THREAD.get() {
        return true;
    }
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once Ctrl-C was pressed: the checkpoint of long work.
pub fn check() -> Result<(), Interrupted> {
    if interrupted() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// The flag itself, for code that takes an `&AtomicBool` (the converter's workers).
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}

/// Sleeps for `duration` (a retry backoff, a wait for the Hub), waking every 50 ms to stop
/// early on Ctrl-C.
pub fn sleep(duration: Duration) -> Result<(), Interrupted> {
    const TICK: Duration = Duration::from_millis(50);
    let end = Instant::now() + duration;
    loop {
        check()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep(TICK.min(end - now));
    }
}

/// Test-only: sets or clears the flag, as the handler would.
#[cfg(test)]
pub fn set_for_test(value: bool) {
    INTERRUPTED.store(value, Ordering::SeqCst);
}

#[cfg(test)]
thread_local! {
    static THIS_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Test-only: as [`set_for_test`], seen by [`interrupted`] and [`check`] on the calling thread
/// only, so that a test of a checkpoint on its own thread (a libgit2 callback runs on the
/// thread that called libgit2) does not stop the tests running beside it.
#[cfg(test)]
pub fn set_for_this_thread_for_test(value: bool) {
    THIS_THREAD.set(value);
}
