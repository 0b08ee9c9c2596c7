//! Two guards under every request of the agent, so that neither a slow server nor Ctrl-C has to
//! wait out a timeout:
//!
//! - [`Watchdog`], the last link of the connector chain (above TLS): an attempt ends when fewer
//!   than [`MIN_PROGRESS`] bytes moved within the request's progress window (its per-read and
//!   per-write timeout), like curl's low-speed limit. A per-read timeout alone never fires on a
//!   server that drips one byte a second.
//! - [`InterruptWatcher`], a thread that shuts the agent down on Ctrl-C: reads and writes
//!   blocked on its sockets return at once, and the caller sees `crate::interrupt::interrupted()`.
//!
//! The transport API of ureq is `unversioned` (not covered by semver): Cargo.lock pins ureq, and
//! `tests/testsuite/hostile_lfs.rs` exercises both guards end to end (a dripping Hub, Ctrl-C).

use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Fewer bytes than this within the progress window end an attempt.
pub(crate) const MIN_PROGRESS: u64 = 1024;

/// The error an attempt ends with when the server moves too little data.
#[derive(Debug)]
pub(crate) struct TooSlow {
    pub window: Duration,
    pub moved: u64,
}

impl fmt::Display for TooSlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} moved in {} s (less than {} KiB): the server stalled or is too slow",
            crate::units::count(self.moved as usize, "byte"),
            self.window.as_secs(),
            MIN_PROGRESS / 1024
        )
    }
}

impl std::error::Error for TooSlow {}

/// The connector that wraps every transport of the chain before it in a [`Watched`].
#[derive(Debug, Default)]
pub(crate) struct Watchdog;

impl Connector<Box<dyn Transport>> for Watchdog {
    type Out = Watched;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Watched>, ureq::Error> {
        Ok(chained.map(|inner| Watched {
            inner,
            mark: Instant::now(),
            since_mark: 0,
            last: None,
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// A transport that measures progress: `since_mark` bytes have moved since `mark`; once they
/// reach [`MIN_PROGRESS`], the mark moves to now. A change of direction (request sent, answer
/// awaited; answer read, next request on the pooled connection) starts a fresh window, so the
/// time a server takes to think, or a connection spends idle in the pool, is not "no progress"
/// beyond one window.
#[derive(Debug)]
pub(crate) struct Watched {
    inner: Box<dyn Transport>,
    mark: Instant,
    since_mark: u64,
    last: Option<Direction>,
}

impl Watched {
    fn window(timeout: &NextTimeout, direction: Direction) -> Option<Duration> {
        match direction {
            Direction::Read => timeout.per_read,
            Direction::Write => timeout.per_write,
        }
        .map(|d| *d)
    }

    fn turn(&mut self, direction: Direction) {
        if self.last != Some(direction) {
            self.last = Some(direction);
            self.mark = Instant::now();
            self.since_mark = 0;
        }
    }

    /// `timeout` with its remaining time cut to the end of the progress window; `None` when
    /// the window is already over.
    fn capped(
        &self,
        mut timeout: NextTimeout,
        window: Duration,
    ) -> Result<(NextTimeout, bool), TooSlow> {
        let left = (self.mark + window).saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.too_slow(window));
        }
        let capped = left < *timeout.after;
        if capped {
            timeout.after = UreqDuration::Exact(left);
        }
        Ok((timeout, capped))
    }

    fn too_slow(&self, window: Duration) -> TooSlow {
        TooSlow {
            window,
            moved: self.since_mark,
        }
    }

    fn moved(&mut self, n: u64, window: Duration) -> Result<(), TooSlow> {
        self.since_mark += n;
        if self.since_mark >= MIN_PROGRESS {
            self.mark = Instant::now();
            self.since_mark = 0;
        } else if self.mark.elapsed() >= window {
            return Err(self.too_slow(window));
        }
        Ok(())
    }

    /// Runs one inner call under the window of `direction`.
    fn guarded<T>(
        &mut self,
        direction: Direction,
        timeout: NextTimeout,
        call: impl FnOnce(&mut Box<dyn Transport>, NextTimeout) -> Result<T, ureq::Error>,
        moved: impl FnOnce(&mut Box<dyn Transport>, &T) -> u64,
    ) -> Result<T, ureq::Error> {
        self.turn(direction);
        let Some(window) = Self::window(&timeout, direction) else {
            return call(&mut self.inner, timeout);
        };
        let (timeout, capped) = self.capped(timeout, window).map_err(slow)?;
        match call(&mut self.inner, timeout) {
            Ok(value) => {
                let n = moved(&mut self.inner, &value);
                self.moved(n, window).map_err(slow)?;
                Ok(value)
            }
            Err(ureq::Error::Timeout(_)) if capped && self.mark.elapsed() >= window => {
                Err(slow(self.too_slow(window)))
            }
            Err(err) => Err(err),
        }
    }
}

fn slow(err: TooSlow) -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, err))
}

impl Transport for Watched {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.guarded(
            Direction::Write,
            timeout,
            |inner, timeout| inner.transmit_output(amount, timeout),
            |_, _| amount as u64,
        )
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let before = self.inner.buffers().input().len();
        self.guarded(
            Direction::Read,
            timeout,
            |inner, timeout| inner.await_input(timeout),
            |inner, _| inner.buffers().input().len().saturating_sub(before) as u64,
        )
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// Shuts its agent down once Ctrl-C is pressed; the thread ends when this is dropped.
pub(crate) struct InterruptWatcher {
    _stop: mpsc::Sender<()>,
}

impl InterruptWatcher {
    pub fn start(agent: &Agent) -> InterruptWatcher {
        const TICK: Duration = Duration::from_millis(50);
        let (stop, stopped) = mpsc::channel::<()>();
        let agent = agent.clone();
        let spawned = std::thread::Builder::new()
            .name("hf-relay-ctrl-c".to_string())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(TICK) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if crate::interrupt::interrupted() {
                                agent.shutdown();
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            });
        // Without the thread, Ctrl-C is still seen at the next checkpoint.
        drop(spawned);
        InterruptWatcher { _stop: stop }
    }
}

impl fmt::Debug for InterruptWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InterruptWatcher")
    }
}
