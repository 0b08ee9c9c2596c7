//! Where an input's bytes come from: a file or standard input, plain or compressed.
//!
//! The compression is recognised by the first bytes (gzip, zstd, bzip2, xz), never by the name,
//! and decoded as a stream. The SHA-256 of a provenance trailer is of the bytes as given (the
//! compressed ones). Standard input is read once: its bytes are copied into a spool file as they
//! are read, so that a later pass over the input (the whole-input schema pass) reads them again
//! from there; the spool is removed with the last [`Source`] that refers to it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::digest::common::hazmat::SerializableState;
use sha2::{Digest, Sha256};

use super::reuse::{CHECKPOINT_BYTES, Checkpoint};

/// The argument that stands for standard input.
pub const STDIN_ARG: &str = "-";

/// The name standard input goes by in messages and provenance trailers.
pub const STDIN_NAME: &str = "stdin";

/// Whether an INPUT argument means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN_ARG
}

/// How an input's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

/// Bytes needed to tell the formats apart.
const MAGIC_LEN: usize = 10;

impl Format {
    /// The format whose magic bytes `head` starts with (`Plain` when none).
    pub fn sniff(head: &[u8]) -> Format {
        // bzip2: "BZh", the block size '1'..'9', then a block's or the end-of-stream magic.
        const BZ_BLOCK: &[u8] = &[0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
        const BZ_END: &[u8] = &[0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
        if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            Format::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Format::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Format::Xz
        } else if head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            && (&head[4..10] == BZ_BLOCK || &head[4..10] == BZ_END)
        {
            Format::Bzip2
        } else {
            Format::Plain
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
        }
    }
}

/// One input: the name it has in messages and trailers, and where its bytes are.
#[derive(Clone)]
pub struct Source {
    name: PathBuf,
    origin: Origin,
}

#[derive(Clone)]
enum Origin {
    File(PathBuf),
    Stdin(Arc<Spool>),
}

impl Source {
    pub fn file(path: impl Into<PathBuf>) -> Source {
        let path = path.into();
        Source {
            name: path.clone(),
            origin: Origin::File(path),
        }
    }

    /// Standard input, spooled into a new file in `spool_dir` as it is read.
    pub fn stdin(spool_dir: &Path) -> io::Result<Source> {
        Ok(Source {
            name: PathBuf::from(STDIN_NAME),
            origin: Origin::Stdin(Arc::new(Spool::new(spool_dir, Box::new(io::stdin()))?)),
        })
    }

    /// The sources of INPUT arguments: `-` is standard input (spooled in `spool_dir`).
    pub fn of_args(files: &[PathBuf], spool_dir: &Path) -> io::Result<Vec<Source>> {
        let mut stdin: Option<Source> = None;
        files
            .iter()
            .map(|file| {
                if !is_stdin(file) {
                    return Ok(Source::file(file));
                }
                if stdin.is_none() {
                    stdin = Some(Source::stdin(spool_dir)?);
                }
                Ok(stdin.clone().expect("just set"))
            })
            .collect()
    }

    #[cfg(test)]
    fn from_reader(name: &str, spool_dir: &Path, reader: Box<dyn Read + Send>) -> Source {
        Source {
            name: PathBuf::from(name),
            origin: Origin::Stdin(Arc::new(Spool::new(spool_dir, reader).unwrap())),
        }
    }

    /// The name in messages and trailers: the path given, or `stdin`.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The size of the bytes as given, when known before reading them.
    pub fn size(&self) -> Option<u64> {
        match &self.origin {
            Origin::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Origin::Stdin(_) => None,
        }
    }

    fn open_raw(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match &self.origin {
            Origin::File(path) => Box::new(File::open(path)?),
            Origin::Stdin(spool) => Box::new(SpoolReader {
                file: File::open(spool.file.path())?,
                spool: spool.clone(),
                pos: 0,
            }),
        })
    }

    /// The decoded bytes, from the start. The raw bytes are counted (and hashed when `hash`)
    /// as they are read.
    pub fn open(&self, hash: bool) -> io::Result<Opened> {
        self.open_resuming(hash, &[])
    }

    /// [`Source::open`], hashing with SHA-256 only from the first block of raw bytes that
    /// differs from the previous build's `checkpoints` (see [`super::reuse`]).
    pub fn open_resuming(&self, hash: bool, checkpoints: &[Checkpoint]) -> io::Result<Opened> {
        self.open_with(hash, checkpoints, CHECKPOINT_BYTES)
    }

    fn open_with(
        &self,
        hash: bool,
        checkpoints: &[Checkpoint],
        block_bytes: u64,
    ) -> io::Result<Opened> {
        let again = match &self.origin {
            Origin::File(path) if hash && !checkpoints.is_empty() => Some(File::open(path)?),
            _ => None,
        };
        let checkpointer = hash.then(|| Checkpointer {
            previous: if again.is_some() {
                checkpoints.to_vec()
            } else {
                Vec::new()
            },
            matching: again.is_some(),
            block_bytes,
            block: BlockHash::new(block_bytes),
            block_start: 0,
            taken: Vec::new(),
            again,
            hashed: 0,
        });
        let tap = Arc::new(Mutex::new(TapState {
            hasher: hash.then(Sha256::new),
            consumed: 0,
            raw_failed: false,
            checkpointer,
        }));
        let mut raw = Tap {
            inner: self.open_raw()?,
            state: tap.clone(),
        };
        let mut head = Vec::with_capacity(MAGIC_LEN);
        (&mut raw).take(MAGIC_LEN as u64).read_to_end(&mut head)?;
        let format = Format::sniff(&head);
        let rest = io::Cursor::new(head).chain(raw);
        let reader: Box<dyn Read + Send> = match format {
            Format::Plain => Box::new(rest),
            Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(rest)),
            Format::Zstd => Box::new(zstd::stream::read::Decoder::new(rest)?),
            Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(rest)),
            Format::Xz => Box::new(XzBounded(liblzma::read::XzDecoder::new_stream(
                rest,
                liblzma::stream::Stream::new_stream_decoder(
                    XZ_MEMORY_LIMIT,
                    liblzma::stream::CONCATENATED,
                )?,
            ))),
        };
        Ok(Opened {
            reader,
            format,
            tap,
        })
    }
}

/// The most memory the xz decoder may take. An xz file names its dictionary size, and the
/// decoder allocates it: `xz -9` (the strongest preset) needs 65 MiB, a hostile file can ask
/// for 4 GiB in a few hundred bytes. zstd needs no such bound (its decoder refuses windows
/// over 128 MiB), nor do gzip (32 KiB) and bzip2 (900 kB blocks).
pub const XZ_MEMORY_LIMIT: u64 = 128 << 20;

/// The xz decoder, its "memory limit reached" told in words.
struct XzBounded<R: Read>(liblzma::read::XzDecoder<R>);

impl<R: Read> Read for XzBounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|error| {
            let over = error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
                == Some(&liblzma::stream::Error::MemLimit);
            if over {
                io::Error::other(DecoderLimit)
            } else {
                error
            }
        })
    }
}

/// A compressed input whose decoder needs more memory than hf-relay gives it.
#[derive(Debug)]
pub struct DecoderLimit;

impl std::fmt::Display for DecoderLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "its xz dictionary needs more than {} MiB of memory to decode, hf-relay's limit: \
             recompress it with `xz -9` or a lower preset",
            XZ_MEMORY_LIMIT >> 20
        )
    }
}

impl std::error::Error for DecoderLimit {}

/// An input opened for reading its decoded bytes.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub format: Format,
    tap: Arc<Mutex<TapState>>,
}

impl Opened {
    /// Raw bytes read so far (compressed ones for a compressed input).
    pub fn consumed(&self) -> u64 {
        lock(&self.tap).consumed
    }

    /// Whether the last failure came from reading the raw bytes (not from decoding them).
    pub fn raw_failed(&self) -> bool {
        lock(&self.tap).raw_failed
    }

    /// The SHA-256 of the raw bytes read (all of them once the reader is exhausted).
    pub fn digest(&self) -> io::Result<Option<String>> {
        let mut state = lock(&self.tap);
        state.catch_up()?;
        let Some(hasher) = state.hasher.clone() else {
            return Ok(None);
        };
        Ok(Some(super::shards::hex(&hasher.finalize())))
    }

    /// The SHA-256 checkpoints of the raw bytes read, for the next build.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        lock(&self.tap)
            .checkpointer
            .as_ref()
            .map(|c| c.taken.clone())
            .unwrap_or_default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct TapState {
    /// While [`Checkpointer::matching`], the state at the last checkpoint taken.
    hasher: Option<Sha256>,
    consumed: u64,
    raw_failed: bool,
    checkpointer: Option<Checkpointer>,
}

/// Takes a [`Checkpoint`] every [`CHECKPOINT_BYTES`], and skips the SHA-256 of the blocks that
/// equal the previous build's.
struct Checkpointer {
    previous: Vec<Checkpoint>,
    /// Every block so far equals the previous build's: the SHA-256 waits (the state at the
    /// last checkpoint is known).
    matching: bool,
    block_bytes: u64,
    block: BlockHash,
    block_start: u64,
    taken: Vec<Checkpoint>,
    /// The input opened a second time, to hash again the bytes of a block that turns out to
    /// differ.
    again: Option<File>,
    /// Bytes hashed with SHA-256.
    hashed: u64,
}

impl TapState {
    /// Raw bytes `bytes` at offset `self.consumed` went through.
    fn hash(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let Some(hasher) = self.hasher.as_mut() else {
            return Ok(());
        };
        let Some(checkpointer) = self.checkpointer.as_mut() else {
            hasher.update(bytes);
            return Ok(());
        };
        let mut at = self.consumed;
        while !bytes.is_empty() {
            let block_end = checkpointer.block_start + checkpointer.block_bytes;
            let (piece, rest) = bytes.split_at(((block_end - at) as usize).min(bytes.len()));
            checkpointer.block.write(piece);
            if !checkpointer.matching {
                hasher.update(piece);
                checkpointer.hashed += piece.len() as u64;
            }
            at += piece.len() as u64;
            bytes = rest;
            if at == block_end {
                checkpointer.end_block(hasher, at)?;
            }
        }
        Ok(())
    }

    /// At the end of the input: the SHA-256 of the bytes since the last checkpoint, when it
    /// waited.
    fn catch_up(&mut self) -> io::Result<()> {
        let (Some(hasher), Some(checkpointer)) = (self.hasher.as_mut(), &mut self.checkpointer)
        else {
            return Ok(());
        };
        if checkpointer.matching {
            checkpointer.hash_again(hasher, self.consumed)?;
            checkpointer.matching = false;
        }
        Ok(())
    }
}

impl Checkpointer {
    /// The block ending at `end` is complete.
    fn end_block(&mut self, hasher: &mut Sha256, end: u64) -> io::Result<()> {
        let block = format!("{:032x}", self.block.finish());
        let mut taken = None;
        if self.matching {
            taken = self
                .previous
                .get(self.taken.len())
                .filter(|p| p.offset == end && p.block == block)
                .and_then(|p| Some((p.clone(), restore(&p.state)?)));
            match &taken {
                Some((_, state)) => *hasher = state.clone(),
                None => {
                    self.hash_again(hasher, end)?;
                    self.matching = false;
                }
            }
        }
        let checkpoint = match taken {
            Some((checkpoint, _)) => checkpoint,
            None => Checkpoint {
                offset: end,
                block,
                state: super::shards::hex(&hasher.serialize()),
            },
        };
        self.taken.push(checkpoint);
        self.block_start = end;
        if self.taken.len() >= self.previous.len() && self.matching {
            // Nothing further to compare with: hash as the bytes come.
            self.matching = false;
        }
        Ok(())
    }

    /// Hashes the raw bytes from the last checkpoint to `end` again, from the input.
    fn hash_again(&mut self, hasher: &mut Sha256, end: u64) -> io::Result<()> {
        let file = self.again.as_ref().expect("a second handle while matching");
        let mut buffer = vec![0; (end - self.block_start) as usize];
        file.read_exact_at(&mut buffer, self.block_start)?;
        hasher.update(&buffer);
        self.hashed += buffer.len() as u64;
        Ok(())
    }
}

/// The XXH3-128 of a block: of the XXH3-128 of its 32 pieces (256 KiB, aligned on the block), so
/// that most bytes are hashed in place by the one-shot function, whatever the read sizes.
struct BlockHash {
    piece_bytes: usize,
    /// The start of a piece that did not arrive in one read.
    partial: Vec<u8>,
    pieces: Vec<u8>,
}

impl BlockHash {
    fn new(block_bytes: u64) -> BlockHash {
        // 256 KiB for the 8 MiB blocks.
        let piece_bytes = (block_bytes as usize / 32).max(1);
        debug_assert_eq!(block_bytes as usize % piece_bytes, 0);
        BlockHash {
            piece_bytes,
            partial: Vec::new(),
            pieces: Vec::new(),
        }
    }

    fn piece(&mut self, bytes: &[u8]) {
        let hash = twox_hash::XxHash3_128::oneshot(bytes);
        self.pieces.extend_from_slice(&hash.to_le_bytes());
    }

    fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.partial.is_empty() && bytes.len() >= self.piece_bytes {
                let (piece, rest) = bytes.split_at(self.piece_bytes);
                self.piece(piece);
                bytes = rest;
                continue;
            }
            let take = (self.piece_bytes - self.partial.len()).min(bytes.len());
            self.partial.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.partial.len() == self.piece_bytes {
                let partial = std::mem::take(&mut self.partial);
                self.piece(&partial);
                self.partial = partial;
                self.partial.clear();
            }
        }
    }

    /// The hash of the block written since the last call.
    fn finish(&mut self) -> u128 {
        if !self.partial.is_empty() {
            let partial = std::mem::take(&mut self.partial);
            self.piece(&partial);
            self.partial = partial;
            self.partial.clear();
        }
        let hash = twox_hash::XxHash3_128::oneshot(&self.pieces);
        self.pieces.clear();
        hash
    }
}

/// The SHA-256 state a checkpoint holds (`None` when it is not one).
fn restore(state: &str) -> Option<Sha256> {
    let bytes = (0..state.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(state.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let serialized = bytes.as_slice().try_into().ok()?;
    Sha256::deserialize(serialized).ok()
}

/// Counts and hashes the raw bytes on their way into the decoder.
struct Tap {
    inner: Box<dyn Read + Send>,
    state: Arc<Mutex<TapState>>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        let mut state = lock(&self.state);
        match &result {
            Ok(n) => {
                if let Err(error) = state.hash(&buf[..*n]) {
                    state.raw_failed = true;
                    return Err(error);
                }
                state.consumed += *n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => state.raw_failed = true,
        }
        result
    }
}

/// Standard input and the copy of what was read of it so far.
struct Spool {
    file: tempfile::NamedTempFile,
    state: Mutex<SpoolState>,
}

struct SpoolState {
    /// `None` once standard input reached its end.
    input: Option<Box<dyn Read + Send>>,
    written: u64,
}

impl Spool {
    fn new(dir: &Path, input: Box<dyn Read + Send>) -> io::Result<Spool> {
        let file = tempfile::Builder::new()
            .prefix(".stdin-spool-")
            .tempfile_in(dir)?;
        Ok(Spool {
            file,
            state: Mutex::new(SpoolState {
                input: Some(input),
                written: 0,
            }),
        })
    }
}

/// Reads the spool from the start, then standard input (copying it to the spool) past it.
struct SpoolReader {
    spool: Arc<Spool>,
    file: File,
    pos: u64,
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut state = lock(&self.spool.state);
        if self.pos < state.written {
            let n = buf.len().min((state.written - self.pos) as usize);
            drop(state);
            let n = self.file.read_at(&mut buf[..n], self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        let Some(input) = state.input.as_mut() else {
            return Ok(0);
        };
        let n = input.read(buf)?;
        if n == 0 {
            state.input = None;
            return Ok(0);
        }
        self.spool.file.as_file().write_all(&buf[..n])?;
        state.written += n as u64;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(format: Format, data: &[u8]) -> Vec<u8> {
        match format {
            Format::Plain => data.to_vec(),
            Format::Gzip => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Format::Zstd => {
                // With a checksum, as the `zstd` tool writes by default: without one, a flipped
                // byte inside literals decodes to other bytes without an error.
                let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
                e.include_checksum(true).unwrap();
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Format::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Format::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    const ALL: [Format; 5] = [
        Format::Plain,
        Format::Gzip,
        Format::Zstd,
        Format::Bzip2,
        Format::Xz,
    ];

    fn sha256(bytes: &[u8]) -> String {
        super::super::shards::hex(&Sha256::digest(bytes))
    }

    /// Reads `path` whole, resuming from `checkpoints` with 64-byte blocks: the SHA-256, the
    /// new checkpoints, and how many bytes went through SHA-256.
    fn read_resuming(path: &Path, checkpoints: &[Checkpoint]) -> (String, Vec<Checkpoint>, u64) {
        let mut opened = Source::file(path).open_with(true, checkpoints, 64).unwrap();
        let mut sink = Vec::new();
        // Odd read sizes, so that reads straddle the blocks.
        let mut buffer = [0; 37];
        loop {
            let n = opened.reader.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&buffer[..n]);
        }
        let digest = opened.digest().unwrap().unwrap();
        let hashed = lock(&opened.tap).checkpointer.as_ref().unwrap().hashed;
        (digest, opened.checkpoints(), hashed)
    }

    #[test]
    fn resumed_sha256_equals_a_full_one_and_hashes_only_from_the_first_change() {
        let dir = tempfile::tempdir().unwrap();
        let base: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let path = dir.path().join("input");
        std::fs::write(&path, &base).unwrap();
        let (digest, checkpoints, hashed) = read_resuming(&path, &[]);
        assert_eq!(digest, sha256(&base));
        assert_eq!(hashed, base.len() as u64);
        assert_eq!(checkpoints.len(), base.len() / 64);

        let mut appended = base.clone();
        appended.extend_from_slice(b"some more bytes at the end");
        let mut edited = base.clone();
        edited[700] ^= 1;
        let mut at_start = base.clone();
        at_start[0] ^= 1;
        // (input, bytes that must go through SHA-256 at most)
        let cases: [(&[u8], u64); 5] = [
            (&base, 1000 - 960),
            (&appended, 1026 - 960),
            (&edited, 1000 - 640),
            (&at_start, 1000),
            (&base[..500], 500 - 448),
        ];
        for (input, at_most) in cases {
            std::fs::write(&path, input).unwrap();
            let (digest, resumed, hashed) = read_resuming(&path, &checkpoints);
            assert_eq!(digest, sha256(input), "{} bytes", input.len());
            assert!(hashed <= at_most, "{hashed} > {at_most} bytes hashed");
            // The checkpoints recorded are those of a read from scratch.
            assert_eq!(resumed, read_resuming(&path, &[]).1);
        }
        // A damaged checkpoint only costs the hashing.
        let mut damaged = checkpoints.clone();
        damaged[3].state = "zz".into();
        std::fs::write(&path, &base).unwrap();
        assert_eq!(read_resuming(&path, &damaged).0, sha256(&base));
    }

    #[test]
    fn every_format_decodes_by_magic_and_hashes_the_bytes_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"{\"a\":1}\n{\"a\":2}\n".repeat(1000);
        for format in ALL {
            let raw = compress(format, &data);
            // Any name: the magic bytes decide.
            let path = dir.path().join(format!("{}.jsonl", format.name()));
            std::fs::write(&path, &raw).unwrap();
            let mut opened = Source::file(&path).open(true).unwrap();
            assert_eq!(opened.format, format);
            let mut decoded = Vec::new();
            opened.reader.read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, data, "{format:?}");
            assert_eq!(opened.consumed(), raw.len() as u64, "{format:?}");
            assert_eq!(
                opened.digest().unwrap().unwrap(),
                sha256(&raw),
                "{format:?}"
            );
        }
    }

    #[test]
    fn concatenated_members_are_all_read() {
        let dir = tempfile::tempdir().unwrap();
        for format in [Format::Gzip, Format::Zstd, Format::Bzip2, Format::Xz] {
            let mut raw = compress(format, b"{\"a\":1}\n");
            raw.extend(compress(format, b"{\"a\":2}\n"));
            let path = dir.path().join("two");
            std::fs::write(&path, &raw).unwrap();
            let mut opened = Source::file(&path).open(false).unwrap();
            let mut decoded = Vec::new();
            opened.reader.read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, b"{\"a\":1}\n{\"a\":2}\n", "{format:?}");
        }
    }

    #[test]
    fn truncated_and_corrupt_archives_fail_to_read() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{{\"i\":{i},\"s\":\"{}\"}}\n", i * 7919).into_bytes())
            .collect();
        for format in [Format::Gzip, Format::Zstd, Format::Bzip2, Format::Xz] {
            let raw = compress(format, &data);
            let mut corrupt = raw.clone();
            let middle = corrupt.len() / 2;
            for byte in &mut corrupt[middle..middle + 16] {
                *byte ^= 0x5a;
            }
            for (what, bytes) in [
                ("truncated", &raw[..raw.len() * 2 / 3]),
                ("corrupt", &corrupt),
            ] {
                let path = dir.path().join(what);
                std::fs::write(&path, bytes).unwrap();
                let mut opened = Source::file(&path).open(false).unwrap();
                let mut decoded = Vec::new();
                let result = opened.reader.read_to_end(&mut decoded);
                let error = result.expect_err(&format!("{what} {format:?} read without error"));
                assert_eq!(
                    error.kind() == io::ErrorKind::UnexpectedEof,
                    what == "truncated",
                    "{what} {format:?}: {error:?}"
                );
                assert!(!opened.raw_failed());
            }
        }
    }

    #[test]
    fn a_spooled_stream_reads_again_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let data = compress(Format::Zstd, &b"{\"k\":\"v\"}\n".repeat(5000));
        let source =
            Source::from_reader("stdin", dir.path(), Box::new(io::Cursor::new(data.clone())));
        // A first pass that stops early, a second that reads everything, a third from the spool.
        let mut first = source.open(false).unwrap();
        let mut part = vec![0; 100];
        first.reader.read_exact(&mut part).unwrap();
        for _ in 0..2 {
            let mut opened = source.open(true).unwrap();
            let mut decoded = Vec::new();
            opened.reader.read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, b"{\"k\":\"v\"}\n".repeat(5000));
            assert_eq!(opened.digest().unwrap().unwrap(), sha256(&data));
        }
        let spooled: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(spooled.len(), 1);
        drop((first, source));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "spool removed"
        );
    }
}
