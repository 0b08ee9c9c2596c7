//! Reading JSONL as line-aligned chunks, so that chunks can be parsed on all cores.
//!
//! A UTF-8 BOM at the start of a file and CRLF line ends are accepted; blank lines are skipped
//! (they still count for line numbers).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::{ConvertError, Location};

/// Target size of one chunk. Small enough to stay clear of the costly ≥ 32 MB allocations on
/// these VMs, big enough to amortise per-chunk work.
const CHUNK_BYTES: usize = 4 << 20;

/// Whole lines of one file.
pub struct Chunk {
    /// Index of the file in the list given to [`ChunkReader::new`].
    pub file_index: usize,
    /// 1-based number of the chunk's first line.
    pub first_line: u64,
    pub bytes: Vec<u8>,
}

impl Chunk {
    /// The non-blank lines with their 1-based numbers, `\r` stripped.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let body = self.bytes.strip_suffix(b"\n").unwrap_or(&self.bytes);
        body.split(|&b| b == b'\n')
            .enumerate()
            .filter_map(move |(i, line)| {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    Some((self.first_line + i as u64, line))
                }
            })
    }
}

/// Yields the chunks of several files, in order.
pub struct ChunkReader {
    files: Vec<PathBuf>,
    file_index: usize,
    current: Option<File>,
    at_file_start: bool,
    next_line: u64,
    carry: Vec<u8>,
    /// SHA-256 of each file's raw bytes, for the commit's provenance trailers.
    hashers: Vec<Sha256>,
}

impl ChunkReader {
    pub fn new(files: Vec<PathBuf>) -> ChunkReader {
        ChunkReader {
            file_index: 0,
            current: None,
            at_file_start: true,
            next_line: 1,
            carry: Vec::new(),
            hashers: files.iter().map(|_| Sha256::new()).collect(),
            files,
        }
    }

    fn io_error(&self, source: std::io::Error) -> ConvertError {
        ConvertError::Io {
            file: self.files[self.file_index].clone(),
            source,
        }
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>, ConvertError> {
        loop {
            if self.file_index >= self.files.len() {
                return Ok(None);
            }
            if self.current.is_none() {
                let file =
                    File::open(&self.files[self.file_index]).map_err(|e| self.io_error(e))?;
                self.current = Some(file);
                self.at_file_start = true;
                self.next_line = 1;
                self.carry.clear();
            }
            let mut buffer = std::mem::take(&mut self.carry);
            let mut eof = false;
            let mut has_newline = false;
            // Fill up to the target size, then cut after the last newline; a line longer than
            // the target makes the chunk grow until its end is found.
            loop {
                let start = buffer.len();
                let want = CHUNK_BYTES.max(start + (64 << 10));
                buffer.resize(want, 0);
                let file = self.current.as_mut().expect("open file");
                let n = match file.read(&mut buffer[start..]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                    Err(e) => return Err(self.io_error(e)),
                };
                buffer.truncate(start + n);
                self.hashers[self.file_index].update(&buffer[start..]);
                if n == 0 {
                    eof = true;
                    break;
                }
                has_newline |= buffer[start..].contains(&b'\n');
                if buffer.len() >= CHUNK_BYTES && has_newline {
                    break;
                }
            }
            if self.at_file_start {
                self.at_file_start = false;
                if buffer.starts_with(b"\xEF\xBB\xBF") {
                    buffer.drain(..3);
                }
            }
            let bytes = if eof {
                self.current = None;
                buffer
            } else {
                let cut = buffer.iter().rposition(|&b| b == b'\n').expect("a newline") + 1;
                self.carry = buffer.split_off(cut);
                buffer
            };
            let file_index = self.file_index;
            if eof {
                self.file_index += 1;
            }
            if bytes.is_empty() {
                continue;
            }
            let first_line = self.next_line;
            self.next_line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            return Ok(Some(Chunk {
                file_index,
                first_line,
                bytes,
            }));
        }
    }
}

impl ChunkReader {
    /// The SHA-256 (lowercase hex) of every file; complete once the reader is exhausted.
    pub fn digests(self) -> Vec<String> {
        self.hashers
            .into_iter()
            .map(|h| super::shards::hex(&h.finalize()))
            .collect()
    }
}

impl Iterator for ChunkReader {
    type Item = Result<Chunk, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// Parses one line into a JSON object, with a precise location on failure.
pub fn parse_line(file: &Path, line_no: u64, line: &[u8]) -> Result<Value, ConvertError> {
    let location = |column| Location {
        file: file.to_path_buf(),
        line: line_no,
        column,
    };
    let value: Value = serde_json::from_slice(line).map_err(|e| ConvertError::Malformed {
        location: location(Some(e.column() as u64)),
        message: strip_serde_position(&e.to_string()),
    })?;
    let found = match &value {
        Value::Object(_) => return Ok(value),
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
    };
    Err(ConvertError::NotAnObject {
        location: location(Some(1)),
        found,
    })
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_serde_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn chunks_keep_line_numbers_bom_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"a\":2}")
            .unwrap();
        let chunks: Vec<_> = ChunkReader::new(vec![path])
            .collect::<Result<_, _>>()
            .unwrap();
        let lines: Vec<(u64, Vec<u8>)> = chunks
            .iter()
            .flat_map(|c| c.lines().map(|(n, l)| (n, l.to_vec())))
            .collect();
        assert_eq!(
            lines,
            vec![(1, b"{\"a\":1}".to_vec()), (4, b"{\"a\":2}".to_vec())]
        );
    }

    #[test]
    fn long_files_split_on_line_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        let mut f = File::create(&path).unwrap();
        let line = format!("{{\"text\":\"{}\"}}\n", "x".repeat(1000));
        for _ in 0..10_000 {
            f.write_all(line.as_bytes()).unwrap();
        }
        let chunks: Vec<_> = ChunkReader::new(vec![path])
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(chunks.len() > 1);
        let mut expected_line = 1;
        for chunk in &chunks {
            for (n, l) in chunk.lines() {
                assert_eq!(n, expected_line);
                assert_eq!(l, line.trim_end().as_bytes());
                expected_line += 1;
            }
        }
        assert_eq!(expected_line, 10_001);
    }
}
