//! Byte counting for transfers: retried bytes are not reported twice, and an object never
//! reports more than its size.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use super::UploadReporter;

/// What one object has reported so far.
pub(crate) struct ObjectProgress<'r> {
    size: u64,
    reported: AtomicU64,
    reporter: &'r dyn UploadReporter,
}

impl<'r> ObjectProgress<'r> {
    pub fn new(size: u64, reporter: &'r dyn UploadReporter) -> ObjectProgress<'r> {
        ObjectProgress {
            size,
            reported: AtomicU64::new(0),
            reporter,
        }
    }

    fn add(&self, n: u64) {
        let mut current = self.reported.load(Ordering::SeqCst);
        loop {
            let new = current.saturating_add(n).min(self.size);
            if new == current {
                return;
            }
            match self
                .reported
                .compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    self.reporter.on_bytes(new - current);
                    return;
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// The object is complete: report whatever is left so its bytes add up to its size.
    pub fn finish(&self) {
        let before = self.reported.swap(self.size, Ordering::SeqCst);
        if self.size > before {
            self.reporter.on_bytes(self.size - before);
        }
    }
}

/// A reader that reports its bytes beyond `high`, the furthest point earlier attempts of the
/// same transfer reached.
pub(crate) struct Counted<'a, R> {
    inner: R,
    position: u64,
    high: &'a mut u64,
    progress: &'a ObjectProgress<'a>,
}

impl<'a, R> Counted<'a, R> {
    pub fn new(inner: R, high: &'a mut u64, progress: &'a ObjectProgress<'a>) -> Counted<'a, R> {
        Counted {
            inner,
            position: 0,
            high,
            progress,
        }
    }
}

impl<R: Read> Read for Counted<'_, R> {
    /// Also a Ctrl-C checkpoint: after Ctrl-C the read fails, and so does the transfer.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        crate::interrupt::check().map_err(std::io::Error::other)?;
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        if self.position > *self.high {
            self.progress.add(self.position - *self.high);
            *self.high = self.position;
        }
        Ok(n)
    }
}
