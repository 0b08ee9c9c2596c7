//! The unchanged start of a split, taken from the last build without decoding it.
//!
//! The split's lines are hashed (XXH3-128, as decoding hashes them) and compared, in order,
//! with the last build's shards of that split: a shard whose lines are the same and whose end
//! was decided by its own rows (see [`super::reuse::Cut`]) is taken as it is, since the same
//! lines decode to the same sizes under the same schema and options, hence to the same
//! boundaries and bytes. The first shard that differs ends the walk: its lines, and every line
//! after them, are decoded and written as usual. Only the chunks since the start of the shard
//! being compared are kept (at most about one shard of input), so memory stays flat.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::input::{BufferPool, Chunk};
use super::reuse::{Cut, ShardRecord};
use super::shards::{ShardWriter, hex};

/// A chunk whose lines from `skip` on (non-blank lines, counted from 0) are not taken yet.
pub struct HeldChunk {
    /// The chunk's index in the split's input.
    pub index: usize,
    pub chunk: Chunk,
    pub skip: usize,
}

/// Walks the start of one split against the last build's shards of it.
pub struct Prefix<'a> {
    chain: &'a [(ShardRecord, PathBuf)],
    /// The recorded shard the next lines are compared with.
    next: usize,
    /// Lines of it seen so far, and the digest of their hashes.
    rows: u64,
    lines: Sha256,
    /// The shard before `next` matched but ended at the maximum, before a row of its own
    /// choosing: it is taken once the next line is that row.
    pending: bool,
    /// The chunks since the start of the first shard not taken.
    held: Vec<HeldChunk>,
    walking: bool,
    /// Shards taken, and their rows and bytes.
    pub shards: usize,
    pub rows_taken: u64,
    pub bytes_taken: u64,
}

/// Whether a record can start the walk's next step (older records lack what it needs).
fn usable(record: Option<&(ShardRecord, PathBuf)>) -> bool {
    record.is_some_and(|(record, _)| {
        record.cut != Cut::End && !record.lines_digest.is_empty() && record.num_rows > 0
    })
}

fn first_row(record: &ShardRecord) -> Option<u128> {
    u128::from_str_radix(&record.first_row, 16).ok()
}

impl<'a> Prefix<'a> {
    /// A walk against `chain` (the last build's shards of the split, in order, in this build's
    /// format; empty when there is nothing to compare with).
    pub fn new(chain: &'a [(ShardRecord, PathBuf)]) -> Prefix<'a> {
        Prefix {
            chain,
            next: 0,
            rows: 0,
            lines: Sha256::new(),
            pending: false,
            held: Vec::new(),
            walking: usable(chain.first()),
            shards: 0,
            rows_taken: 0,
            bytes_taken: 0,
        }
    }

    /// Whether lines are still being compared (not decoded).
    pub fn walking(&self) -> bool {
        self.walking
    }

    /// Compares the line hashes of the split's next chunk, taking into `writer` every shard
    /// that matches. `Some` once the walk is over: the chunks whose lines, from `skip` on, are
    /// to be decoded.
    pub fn feed(
        &mut self,
        held: HeldChunk,
        hashes: &[u128],
        writer: &mut ShardWriter,
        pool: &BufferPool,
    ) -> parquet::errors::Result<Option<Vec<HeldChunk>>> {
        self.held.push(held);
        for (i, &hash) in hashes.iter().enumerate() {
            if self.pending {
                let follows = self.chain.get(self.next).and_then(|(r, _)| first_row(r));
                if follows != Some(hash) {
                    return Ok(Some(self.stop()));
                }
                self.pending = false;
                self.take(self.next - 1, writer)?;
                self.release(i, pool);
            }
            if self.rows == 0 && !usable(self.chain.get(self.next)) {
                return Ok(Some(self.stop()));
            }
            self.rows += 1;
            self.lines.update(hash.to_le_bytes());
            let record = &self.chain[self.next].0;
            if self.rows < record.num_rows {
                continue;
            }
            let digest = hex(&std::mem::take(&mut self.lines).finalize());
            self.rows = 0;
            if digest != record.lines_digest {
                return Ok(Some(self.stop()));
            }
            self.next += 1;
            match record.cut {
                Cut::Content => {
                    self.take(self.next - 1, writer)?;
                    self.release(i + 1, pool);
                }
                Cut::Max => self.pending = true,
                Cut::End => unreachable!("not usable"),
            }
        }
        if let Some(last) = self.held.last()
            && last.skip == hashes.len()
            && self.held.len() == 1
        {
            let done = self.held.pop().expect("just checked");
            pool.give(done.chunk.bytes);
        }
        Ok(None)
    }

    /// Ends the walk (the input ended, or a chunk cannot be compared): the chunks to decode.
    pub fn stop(&mut self) -> Vec<HeldChunk> {
        self.walking = false;
        std::mem::take(&mut self.held)
    }

    /// Holds a chunk that ends the walk without being compared.
    pub fn push(&mut self, held: HeldChunk) {
        self.held.push(held);
    }

    fn take(&mut self, index: usize, writer: &mut ShardWriter) -> parquet::errors::Result<()> {
        let (record, path) = &self.chain[index];
        writer.reuse(record, path)?;
        self.shards += 1;
        self.rows_taken += record.num_rows;
        self.bytes_taken += record.num_bytes;
        Ok(())
    }

    /// Every line before line `skip` of the last held chunk is taken.
    fn release(&mut self, skip: usize, pool: &BufferPool) {
        let mut last = self.held.pop().expect("the chunk being compared is held");
        last.skip = skip;
        for done in self.held.drain(..) {
            pool.give(done.chunk.bytes);
        }
        self.held.push(last);
    }
}
