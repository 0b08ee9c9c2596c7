//! Reading JSONL as line-aligned chunks, so that chunks can be parsed on all cores.
//!
//! A UTF-8 BOM at the start of a file and CRLF line ends are accepted; blank lines are skipped
//! (they still count for line numbers).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::error::{ConvertError, Location};
use super::reuse::Checkpoint;
use super::source::{Format, Opened, Source};

/// Target size of one chunk. Small enough to stay clear of the costly ≥ 32 MB allocations on
/// these VMs, big enough to amortise per-chunk work.
const CHUNK_BYTES: usize = 4 << 20;

/// The longest line read as a record, `\n` excluded. A longer one is refused as soon as that
/// many bytes of it are read: one record is held whole several times over (the chunk, its
/// columns, the row hashing, the shard writer's page and its compressed form: measured peak
/// RSS 142, 240, 434 and 954 MiB for a line of 16, 32, 64 and 127 MiB), so the bound keeps an
/// accepted line under ~1 GiB. It also keeps every column of a batch (a chunk: at most this
/// plus [`CHUNK_BYTES`] and one read) far below the 2 GiB Arrow's 32-bit offsets address.
pub const MAX_LINE_BYTES: u64 = 128 << 20;

/// Whole lines of one file.
pub struct Chunk {
    /// Index of the file in the list given to [`ChunkReader::new`].
    pub file_index: usize,
    /// 1-based number of the chunk's first line.
    pub first_line: u64,
    pub bytes: Vec<u8>,
    /// Raw bytes of the input read for this chunk (compressed ones for a compressed input),
    /// for progress against the inputs' sizes.
    pub raw_bytes: u64,
}

impl Chunk {
    /// The chunk, its bytes moved out of `self` (left empty).
    pub fn take(&mut self) -> Chunk {
        Chunk {
            file_index: self.file_index,
            first_line: self.first_line,
            bytes: std::mem::take(&mut self.bytes),
            raw_bytes: self.raw_bytes,
        }
    }

    /// The chunk as text, validated as UTF-8 once for all its lines; the error names the line
    /// and column of the first invalid byte.
    pub fn text(&self, file: &Path) -> Result<&str, ConvertError> {
        if let Ok(text) = simdutf8::basic::from_utf8(&self.bytes) {
            return Ok(text);
        }
        let error = std::str::from_utf8(&self.bytes).expect_err("simdutf8 found invalid UTF-8");
        let offset = error.valid_up_to();
        let before = &self.bytes[..offset];
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        let line = self.first_line + memchr::memchr_iter(b'\n', before).count() as u64;
        Err(ConvertError::Malformed {
            location: Location {
                file: file.to_path_buf(),
                line,
                column: Some((offset - line_start) as u64 + 1),
            },
            message: format!("invalid UTF-8 (byte 0x{:02x})", self.bytes[offset]),
        })
    }
}

/// The non-blank lines of a chunk's text with their 1-based numbers, `\r` stripped.
pub fn lines(text: &str, first_line: u64) -> impl Iterator<Item = (u64, &str)> {
    // `memchr_iter` (SIMD) rather than `str::split`, whose newline search showed as 3–6 % of a
    // build's profile. A final line without `\n` still counts; an empty one after it does not.
    let unterminated = (!text.is_empty() && !text.ends_with('\n')).then_some(text.len());
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(unterminated);
    let mut start = 0;
    ends.enumerate().filter_map(move |(i, end)| {
        // Cutting at a `\n` byte, or at the end, keeps `text` on char boundaries.
        let line = &text[start..end];
        start = end + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.bytes().all(|b| b.is_ascii_whitespace()) {
            None
        } else {
            Some((first_line + i as u64, line))
        }
    })
}

/// The bytes of the lines [`lines`] yields from the same bytes (without the UTF-8 check: for
/// hashing lines that are only compared, see [`super::prefix`]).
pub fn line_bytes(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let unterminated = (!bytes.is_empty() && !bytes.ends_with(b"\n")).then_some(bytes.len());
    let ends = memchr::memchr_iter(b'\n', bytes).chain(unterminated);
    let mut start = 0;
    ends.filter_map(move |end| {
        let line = &bytes[start..end];
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        (!line.iter().all(|b| b.is_ascii_whitespace())).then_some(line)
    })
}

/// Chunk buffers handed back once their chunk is consumed, so the reader fills memory that is
/// already mapped instead of fresh pages (on these VMs first touches are costly).
#[derive(Clone, Default)]
pub struct BufferPool(Arc<Mutex<Vec<Vec<u8>>>>);

impl BufferPool {
    /// Gives a buffer back (its contents are dropped).
    pub fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut buffers) = self.0.lock() {
            buffers.push(buffer);
        }
    }

    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut buffers| buffers.pop())
            .unwrap_or_default()
    }
}

/// Yields the chunks of several inputs, in order (decoded, when compressed).
pub struct ChunkReader {
    pool: BufferPool,
    files: Vec<Source>,
    file_index: usize,
    current: Option<Opened>,
    at_file_start: bool,
    next_line: u64,
    carry: Vec<u8>,
    /// Raw bytes of the current input already counted in a chunk's `raw_bytes`.
    counted: u64,
    /// SHA-256 of each input's raw bytes, for the commit's provenance trailers.
    digests: Vec<String>,
    hash: bool,
    /// The previous build's SHA-256 checkpoints of each input (see [`super::reuse`]).
    resume: Vec<Vec<Checkpoint>>,
    /// This read's checkpoints of each input, for the next build.
    checkpoints: Vec<Vec<Checkpoint>>,
}

impl ChunkReader {
    pub fn new(files: Vec<Source>) -> ChunkReader {
        ChunkReader {
            pool: BufferPool::default(),
            file_index: 0,
            current: None,
            at_file_start: true,
            next_line: 1,
            carry: Vec::new(),
            counted: 0,
            digests: Vec::with_capacity(files.len()),
            hash: true,
            resume: Vec::new(),
            checkpoints: Vec::with_capacity(files.len()),
            files,
        }
    }

    fn name(&self) -> PathBuf {
        self.files[self.file_index].name().to_path_buf()
    }

    fn io_error(&self, source: std::io::Error) -> ConvertError {
        ConvertError::Io {
            file: self.name(),
            source,
        }
    }

    /// A failure while reading the current input: a decoding one names the format.
    fn read_error(&self, source: std::io::Error) -> ConvertError {
        let over_limit = source
            .get_ref()
            .is_some_and(|inner| inner.is::<super::source::DecoderLimit>());
        match &self.current {
            Some(opened)
                if opened.format != Format::Plain && !opened.raw_failed() && !over_limit =>
            {
                ConvertError::Archive {
                    file: self.name(),
                    format: opened.format.name(),
                    truncated: source.kind() == std::io::ErrorKind::UnexpectedEof,
                    source,
                }
            }
            _ => self.io_error(source),
        }
    }

    /// The error for a line over [`MAX_LINE_BYTES`], which starts after `before` (the bytes of
    /// the buffer before it).
    fn line_too_long(&self, before: &[u8]) -> ConvertError {
        ConvertError::LineTooLong {
            location: Location {
                file: self.name(),
                line: self.next_line + memchr::memchr_iter(b'\n', before).count() as u64,
                column: None,
            },
            limit: MAX_LINE_BYTES,
        }
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>, ConvertError> {
        let mut raw_bytes = 0;
        loop {
            if self.file_index >= self.files.len() {
                return Ok(None);
            }
            if self.current.is_none() {
                let resume = self
                    .resume
                    .get(self.file_index)
                    .map_or(&[][..], Vec::as_slice);
                let opened = self.files[self.file_index]
                    .open_resuming(self.hash, resume)
                    .map_err(|e| self.io_error(e))?;
                self.current = Some(opened);
                self.at_file_start = true;
                self.next_line = 1;
                self.counted = 0;
                self.carry.clear();
            }
            let mut buffer = self.pool.take();
            buffer.extend_from_slice(&self.carry);
            self.carry.clear();
            let mut eof = false;
            let mut has_newline = false;
            // Where the line being read starts (the carry holds no newline).
            let mut line_start = 0;
            // Fill up to the target size, then cut after the last newline; a line longer than
            // the target makes the chunk grow until its end is found, or its length the limit.
            loop {
                let start = buffer.len();
                let want = CHUNK_BYTES.max(start + (64 << 10));
                buffer.reserve_exact(want - start);
                let reader = &mut self.current.as_mut().expect("open input").reader;
                // `take` + `read_to_end` fills the spare capacity without zeroing it first.
                let n = match reader
                    .by_ref()
                    .take((want - start) as u64)
                    .read_to_end(&mut buffer)
                {
                    Ok(n) => n,
                    Err(e) => return Err(self.read_error(e)),
                };
                if n == 0 {
                    eof = true;
                    break;
                }
                // Lines that start and end within this read are shorter than one read; only
                // the one that ends in it, and the one it leaves open, can be over the limit.
                if let Some(first) = memchr::memchr(b'\n', &buffer[start..]) {
                    if (start + first - line_start) as u64 > MAX_LINE_BYTES {
                        return Err(self.line_too_long(&buffer[..line_start]));
                    }
                    let last = memchr::memrchr(b'\n', &buffer[start..]).expect("one is there");
                    line_start = start + last + 1;
                    has_newline = true;
                }
                if (buffer.len() - line_start) as u64 > MAX_LINE_BYTES {
                    return Err(self.line_too_long(&buffer[..line_start]));
                }
                if buffer.len() >= CHUNK_BYTES && has_newline {
                    break;
                }
            }
            let opened = self.current.as_ref().expect("open input");
            let consumed = opened.consumed();
            raw_bytes += consumed - self.counted;
            self.counted = consumed;
            if self.at_file_start {
                self.at_file_start = false;
                if let Some(order) = utf16_order(&buffer) {
                    return Err(ConvertError::Utf16 {
                        file: self.name(),
                        order,
                    });
                }
                if buffer.starts_with(b"\xEF\xBB\xBF") {
                    buffer.drain(..3);
                }
            }
            let bytes = if eof {
                if self.hash {
                    let digest = opened.digest().map_err(|e| self.io_error(e))?;
                    self.digests.push(digest.expect("hashing"));
                    self.checkpoints.push(opened.checkpoints());
                }
                self.current = None;
                buffer
            } else {
                let cut = memchr::memrchr(b'\n', &buffer).expect("a newline") + 1;
                self.carry.extend_from_slice(&buffer[cut..]);
                buffer.truncate(cut);
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
            self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
            return Ok(Some(Chunk {
                file_index,
                first_line,
                bytes,
                raw_bytes,
            }));
        }
    }
}

/// The byte order of a text that starts as UTF-16: a byte order mark, or ASCII characters
/// each paired with a NUL (`{\0"\0` or `\0{\0"`).
fn utf16_order(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xff, 0xfe, ..] => Some("little-endian"),
        [0xfe, 0xff, ..] => Some("big-endian"),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some("little-endian"),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some("big-endian"),
        _ => None,
    }
}

impl ChunkReader {
    /// Takes its buffers from `pool`, where the consumer gives them back.
    pub fn with_pool(mut self, pool: BufferPool) -> ChunkReader {
        self.pool = pool;
        self
    }

    /// Reads without hashing (for a pass whose digests are not needed).
    pub fn without_digests(mut self) -> ChunkReader {
        self.hash = false;
        self
    }

    /// Hashes each input with SHA-256 only from where it differs from the previous build's
    /// checkpoints of it (one list per input, in order; see [`super::reuse`]).
    pub fn resuming(mut self, checkpoints: Vec<Vec<Checkpoint>>) -> ChunkReader {
        self.resume = checkpoints;
        self
    }

    /// The SHA-256 (lowercase hex) of every input; complete once the reader is exhausted.
    pub fn digests(self) -> Vec<String> {
        self.digests
    }

    /// [`ChunkReader::digests`], with the SHA-256 checkpoints of every input.
    pub fn digests_and_checkpoints(self) -> (Vec<String>, Vec<Vec<Checkpoint>>) {
        (self.digests, self.checkpoints)
    }
}

impl Iterator for ChunkReader {
    type Item = Result<Chunk, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;

    #[test]
    fn chunks_keep_line_numbers_bom_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"a\":2}")
            .unwrap();
        let chunks: Vec<_> = ChunkReader::new(vec![Source::file(path)])
            .collect::<Result<_, _>>()
            .unwrap();
        let found: Vec<(u64, Vec<u8>)> = chunks
            .iter()
            .flat_map(|c| {
                lines(c.text(Path::new("a")).unwrap(), c.first_line)
                    .map(|(n, l)| (n, l.as_bytes().to_vec()))
            })
            .collect();
        assert_eq!(
            found,
            vec![(1, b"{\"a\":1}".to_vec()), (4, b"{\"a\":2}".to_vec())]
        );
    }

    #[test]
    fn lines_match_splitting_on_newlines() {
        let by_split = |text: &str| -> Vec<(u64, String)> {
            let body = text.strip_suffix('\n').unwrap_or(text);
            body.split('\n')
                .enumerate()
                .map(|(i, l)| (7 + i as u64, l.strip_suffix('\r').unwrap_or(l)))
                .filter(|(_, l)| !l.bytes().all(|b| b.is_ascii_whitespace()))
                .map(|(n, l)| (n, l.to_string()))
                .collect()
        };
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "a\nb",
            "a\nb\n",
            "\na\n\n b \r\n\r\n",
            "é\r\nü",
            " \t\n{}\n\n\n{\"k\":1}\r",
            "x\n\r",
        ] {
            let found: Vec<(u64, String)> =
                lines(text, 7).map(|(n, l)| (n, l.to_string())).collect();
            assert_eq!(found, by_split(text), "{text:?}");
            let bytes: Vec<&[u8]> = line_bytes(text.as_bytes()).collect();
            let expected: Vec<&[u8]> = lines(text, 7).map(|(_, l)| l.as_bytes()).collect();
            assert_eq!(bytes, expected, "{text:?}");
        }
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
        let chunks: Vec<_> = ChunkReader::new(vec![Source::file(path)])
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(chunks.len() > 1);
        let mut expected_line = 1;
        for chunk in &chunks {
            for (n, l) in lines(chunk.text(Path::new("big")).unwrap(), chunk.first_line) {
                assert_eq!(n, expected_line);
                assert_eq!(l, line.trim_end());
                expected_line += 1;
            }
        }
        assert_eq!(expected_line, 10_001);
    }
}
