//! A few worker threads over a list: transfers block on the network, so they get their own
//! threads rather than rayon's CPU pool.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::HubError;

/// Runs `work` on every item with up to `workers` threads and returns the results in item
/// order. After the first error, or Ctrl-C, no new item is started; that error is returned.
pub(crate) fn run<T, R>(
    items: &[T],
    workers: usize,
    work: impl Fn(&T) -> Result<R, HubError> + Sync,
) -> Result<Vec<R>, HubError>
where
    T: Sync,
    R: Send,
{
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        return items
            .iter()
            .map(|item| {
                crate::interrupt::check()?;
                work(item)
            })
            .collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let first_error: Mutex<Option<HubError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !failed.load(Ordering::SeqCst) {
                    if crate::interrupt::interrupted() {
                        failed.store(true, Ordering::SeqCst);
                        first_error
                            .lock()
                            .unwrap()
                            .get_or_insert(HubError::Interrupted(crate::interrupt::Interrupted));
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(index) else { break };
                    match work(item) {
                        Ok(result) => results.lock().unwrap()[index] = Some(result),
                        Err(err) => {
                            failed.store(true, Ordering::SeqCst);
                            first_error.lock().unwrap().get_or_insert(err);
                        }
                    }
                }
            });
        }
    });
    if let Some(err) = first_error.into_inner().unwrap() {
        return Err(err);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect())
}
