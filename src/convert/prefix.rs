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
    /// The line hashes of the rows taken, in order (the split's row hashes start with them,
    /// see [`super::SplitOutput::row_hashes`]), and of the lines compared since.
    pub hashes_taken: Vec<u128>,
    compared: Vec<u128>,
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
            hashes_taken: Vec::new(),
            compared: Vec::new(),
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
            self.compared.push(hash);
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

    /// Ends the walk (the input ended, or a line differs): the chunks to decode.
    pub fn stop(&mut self) -> Vec<HeldChunk> {
        self.walking = false;
        std::mem::take(&mut self.held)
    }

    fn take(&mut self, index: usize, writer: &mut ShardWriter) -> parquet::errors::Result<()> {
        let (record, path) = &self.chain[index];
        writer.reuse(record, path)?;
        self.shards += 1;
        self.rows_taken += record.num_rows;
        self.bytes_taken += record.num_bytes;
        // The lines compared since the last shard taken are exactly this shard's rows.
        self.hashes_taken.append(&mut self.compared);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};

    fn record(lines: &[u128], cut: Cut) -> ShardRecord {
        ShardRecord {
            file_name: "x.parquet".into(),
            sha256: "00".into(),
            file_size: 1,
            num_rows: lines.len() as u64,
            num_bytes: 10 * lines.len() as u64,
            first_row: format!("{:032x}", lines[0]),
            rows_digest: String::new(),
            lines_digest: super::super::shards::lines_digest(lines.iter().copied()),
            cut,
        }
    }

    fn chunk(index: usize) -> HeldChunk {
        HeldChunk {
            index,
            chunk: Chunk {
                file_index: 0,
                first_line: 1,
                bytes: Vec::new(),
                raw_bytes: 0,
            },
            skip: 0,
        }
    }

    /// Walks `chunks` of line hashes against `records`: the shards taken, and where decoding
    /// starts (chunk index and lines skipped in it), if the walk ended.
    fn walk(records: &[(&[u128], Cut)], chunks: &[&[u128]]) -> (usize, Option<(usize, usize)>) {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("previous.parquet");
        std::fs::write(&source, b"PAR1").unwrap();
        let chain: Vec<(ShardRecord, PathBuf)> = records
            .iter()
            .map(|(lines, cut)| (record(lines, *cut), source.clone()))
            .collect();
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let properties = super::super::shards::writer_properties(super::super::Codec::Snappy, "");
        let mut writer = ShardWriter::new(dir.path(), "train", schema, properties, 1000);
        let pool = BufferPool::default();
        let mut prefix = Prefix::new(&chain);
        for (index, hashes) in chunks.iter().enumerate() {
            let ended = prefix
                .feed(chunk(index), hashes, &mut writer, &pool)
                .unwrap();
            if let Some(held) = ended {
                let first = held.first().map(|h| (h.index, h.skip));
                check_hashes_taken(&prefix, records);
                return (prefix.shards, first);
            }
        }
        check_hashes_taken(&prefix, records);
        (prefix.shards, None)
    }

    /// The hashes kept for the rows taken are those of the shards taken, in order.
    fn check_hashes_taken(prefix: &Prefix, records: &[(&[u128], Cut)]) {
        let expected: Vec<u128> = records[..prefix.shards]
            .iter()
            .flat_map(|(lines, _)| lines.iter().copied())
            .collect();
        assert_eq!(prefix.hashes_taken, expected);
    }

    #[test]
    fn shards_are_taken_while_their_lines_match_and_their_end_is_their_own() {
        let content = Cut::Content;
        // Both shards match; the third record ends with the input: decoding starts there.
        let records: &[(&[u128], Cut)] =
            &[(&[1, 2, 3], content), (&[4, 5], content), (&[6], Cut::End)];
        assert_eq!(walk(records, &[&[1, 2], &[3, 4, 5, 6]]), (2, Some((1, 3))));
        // A changed line in the second shard: decoding starts at its first line.
        assert_eq!(walk(records, &[&[1, 2], &[3, 4, 9, 6]]), (1, Some((1, 1))));
        // A shard spanning chunks that differs: from the chunk it starts in.
        let records: &[(&[u128], Cut)] = &[(&[1], content), (&[2, 3, 4], content)];
        assert_eq!(walk(records, &[&[1, 2], &[3, 7]]), (1, Some((0, 1))));
        // A cut at the maximum counts only when the row after it is the same.
        let records: &[(&[u128], Cut)] =
            &[(&[1, 2], Cut::Max), (&[3, 4], content), (&[5], Cut::End)];
        assert_eq!(walk(records, &[&[1, 2], &[3, 4, 5]]), (2, Some((1, 2))));
        assert_eq!(walk(records, &[&[1, 2], &[8, 3, 4, 5]]), (0, Some((0, 0))));
        // Records of older builds (no line digest) are never taken.
        let mut old = record(&[1, 2], content);
        old.lines_digest.clear();
        let chain = [(old, PathBuf::new())];
        assert!(!Prefix::new(&chain).walking());
    }
}
