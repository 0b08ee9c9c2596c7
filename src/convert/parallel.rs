//! Chunks of the input worked on all cores and consumed in input order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};

use super::ConvertError;
use super::input::{BufferPool, Chunk, ChunkReader};
use super::reuse::Checkpoint;
use super::source::Source;

/// The SHA-256 of every input, with its checkpoints (see [`super::reuse`]).
pub(super) type Digests = (Vec<String>, Vec<Vec<Checkpoint>>);

/// Which chunks a pass works on.
#[derive(Clone, Copy)]
pub(super) struct Reading<'a> {
    /// Chunks before this index are read but not handed to `work`.
    pub(super) skip: usize,
    /// Whether the files' SHA-256 are wanted.
    pub(super) hash: bool,
    /// The last build's SHA-256 checkpoints of the inputs, by name (see [`super::reuse`]).
    pub(super) resume: &'a HashMap<PathBuf, Vec<Checkpoint>>,
}

/// Whether a pass goes on after a chunk.
pub(super) enum Flow {
    Continue,
    Stop,
}

/// Runs `work` on the chunks of `files` on all cores and hands the results to `consume` in
/// input order. Reading and parsing run on a producer thread while `consume` runs here, with a
/// bounded number of chunks in flight. Stops at the first error, in input order, or when
/// `consume` says so. Returns the SHA-256 of each file with its checkpoints, or `None` when
/// stopped early. Chunk buffers go back to `pool` (unless `consume` took them).
pub(super) fn for_each_chunk<T: Send>(
    files: &[Source],
    reading: Reading,
    pool: &BufferPool,
    interrupted: &AtomicBool,
    work: impl Fn(&Chunk) -> Result<T, ConvertError> + Sync,
    mut consume: impl FnMut(&mut Chunk, T) -> Result<Flow, ConvertError>,
) -> Result<Option<Digests>, ConvertError> {
    // The reader thread spawns one task per chunk on the rayon pool and queues, in input
    // order, the receiver of each task's result; at most `in_flight` chunks are alive at once.
    let in_flight = rayon::current_num_threads() + 2;
    type Pending<T> = Receiver<Result<(Chunk, T), ConvertError>>;
    std::thread::scope(|scope| {
        let (queue, pending) = sync_channel::<Pending<T>>(in_flight);
        let work = &work;
        let reader_pool = pool.clone();
        let resume: Vec<Vec<Checkpoint>> = files
            .iter()
            .map(|file| reading.resume.get(file.name()).cloned().unwrap_or_default())
            .collect();
        let producer = scope.spawn(move || {
            let mut reader = ChunkReader::new(files.to_vec())
                .with_pool(reader_pool)
                .resuming(resume);
            if !reading.hash {
                reader = reader.without_digests();
            }
            let mut complete = true;
            rayon::in_place_scope(|tasks| {
                for (index, chunk) in reader.by_ref().enumerate() {
                    if index < reading.skip {
                        if let Err(error) = chunk {
                            let (result, receiver) = sync_channel(1);
                            let _ = result.send(Err(error));
                            let _ = queue.send(receiver);
                            complete = false;
                            return;
                        }
                        continue;
                    }
                    let (result, receiver) = sync_channel(1);
                    if queue.send(receiver).is_err() {
                        complete = false;
                        return; // the consumer stopped
                    }
                    match chunk {
                        Ok(chunk) => tasks.spawn(move |_| {
                            let _ = result.send(work(&chunk).map(|value| (chunk, value)));
                        }),
                        Err(error) => {
                            let _ = result.send(Err(error));
                            complete = false;
                            return;
                        }
                    }
                }
            });
            if complete {
                reader.digests_and_checkpoints()
            } else {
                (Vec::new(), Vec::new())
            }
        });
        for receiver in pending {
            if interrupted.load(Ordering::Relaxed) {
                return Err(ConvertError::Interrupted(crate::interrupt::Interrupted));
            }
            let (mut chunk, value) = receiver.recv().expect("every task sends its result")?;
            let flow = consume(&mut chunk, value)?;
            if chunk.bytes.capacity() > 0 {
                pool.give(chunk.bytes);
            }
            if let Flow::Stop = flow {
                return Ok(None);
            }
        }
        if interrupted.load(Ordering::Relaxed) {
            return Err(ConvertError::Interrupted(crate::interrupt::Interrupted));
        }
        Ok(Some(
            producer.join().expect("the reader thread does not panic"),
        ))
    })
}
