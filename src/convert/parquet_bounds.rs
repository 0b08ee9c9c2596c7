//! What a Parquet file claims about itself, bounded before the parquet crate trusts it.
//!
//! The parquet crate reads a footer as long as its last eight bytes say (a sparse 2 GiB file
//! claiming a 2 GiB footer is read whole), turns its schema into a tree recursively (100,000
//! levels overflow the stack), and decodes a page whole (one 1 GiB value compresses to 33 kB).
//! So the footer's length is checked against the file and a bound before it is read, the
//! depth of its schema is read from the Thrift elements with a small iterative reader before
//! the crate converts them, and the pages of a file that is rewritten are checked, from their
//! headers, before any is decoded.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

/// The largest footer read. Footers are kilobytes; a wide file with thousands of row groups
/// reaches a few MiB.
pub const MAX_FOOTER_BYTES: u64 = 64 << 20;
/// The deepest schema read: as pyarrow, which refuses more than 100 levels of nesting.
pub const MAX_SCHEMA_DEPTH: usize = 100;
/// The largest page decoded when a file is rewritten: a page is decoded whole (and a value
/// never spans pages), then held in a batch and in the shard writer's page. The same bound as
/// a JSONL line, [`super::input::MAX_LINE_BYTES`].
pub const MAX_PAGE_BYTES: u64 = super::input::MAX_LINE_BYTES;

/// Bytes at the end of a Parquet file: the footer's length and the magic.
const TAIL: u64 = 8;
/// How deep the skipped parts of a Thrift structure may nest (the parquet crate's bound).
const MAX_THRIFT_DEPTH: usize = 64;

/// The file's metadata, its footer length and schema depth checked first.
pub fn load(file: &File) -> Result<ArrowReaderMetadata, String> {
    let metadata = footer(file)?;
    ArrowReaderMetadata::try_new(Arc::new(metadata), ArrowReaderOptions::new())
        .map_err(|e| e.to_string())
}

fn footer(file: &File) -> Result<ParquetMetaData, String> {
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    // The leading magic, the footer and the tail.
    if size < 4 + TAIL {
        return Err(format!(
            "it is {size} bytes long, too short for a Parquet file"
        ));
    }
    let mut tail = [0u8; TAIL as usize];
    file.read_exact_at(&mut tail, size - TAIL)
        .map_err(|e| e.to_string())?;
    if &tail[4..] != super::adopt::MAGIC {
        return Err("it does not end with the Parquet magic `PAR1` (truncated?)".to_string());
    }
    let length = u64::from(u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")));
    if length > size - 4 - TAIL {
        return Err(format!(
            "its footer claims {length} bytes, more than the file's {size} bytes hold \
             (truncated or damaged)"
        ));
    }
    if length > MAX_FOOTER_BYTES {
        return Err(format!(
            "its footer is {length} bytes, more than the {} MiB hf-relay reads",
            MAX_FOOTER_BYTES >> 20
        ));
    }
    let mut bytes = vec![0u8; length as usize];
    file.read_exact_at(&mut bytes, size - TAIL - length)
        .map_err(|e| e.to_string())?;
    let depth = schema_depth(&bytes).map_err(|e| format!("its footer is damaged: {e}"))?;
    if depth > MAX_SCHEMA_DEPTH {
        return Err(format!(
            "its schema is nested more than {MAX_SCHEMA_DEPTH} levels deep, the most pyarrow \
             and hf-relay read"
        ));
    }
    ParquetMetaDataReader::decode_metadata(&bytes).map_err(|e| e.to_string())
}

/// Refuses a file that holds a page over [`MAX_PAGE_BYTES`] once decoded, told by the page
/// headers. Every column chunk is walked, whatever size the footer gives it (a footer can
/// understate it): one small read per page, next to decoding every page anyway.
pub fn check_pages(file: &File, metadata: &ParquetMetaData) -> Result<(), String> {
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    for (group_index, group) in metadata.row_groups().iter().enumerate() {
        for column in group.columns() {
            let start = match column.dictionary_page_offset() {
                Some(dictionary) => dictionary.min(column.data_page_offset()),
                None => column.data_page_offset(),
            };
            let end = start.saturating_add(column.compressed_size());
            let (Ok(mut at), Ok(end)) = (u64::try_from(start), u64::try_from(end)) else {
                return Err(format!(
                    "column `{}` of row group {group_index} has a negative offset",
                    column.column_path().string()
                ));
            };
            let end = end.min(size);
            while at < end {
                let (header_length, uncompressed, compressed) = page_header(file, at, end)?;
                if uncompressed > MAX_PAGE_BYTES {
                    return Err(format!(
                        "column `{}` of row group {group_index} holds a page of {uncompressed} \
                         bytes once decoded, more than the {} MiB hf-relay decodes at once (a \
                         value that big does not fit a shard); split or drop the big values",
                        column.column_path().string(),
                        MAX_PAGE_BYTES >> 20
                    ));
                }
                at += header_length + compressed;
            }
        }
    }
    Ok(())
}

/// The length of the page header at `at`, the page's decoded and compressed sizes.
fn page_header(file: &File, at: u64, end: u64) -> Result<(u64, u64, u64), String> {
    let damaged = |what: String| format!("the page header at byte {at} is damaged: {what}");
    // Most headers are a few dozen bytes; statistics can make them longer.
    let mut want = 4 << 10;
    loop {
        let length = want.min(end - at);
        let mut bytes = vec![0u8; length as usize];
        file.read_exact_at(&mut bytes, at)
            .map_err(|e| e.to_string())?;
        let mut reader = Thrift::new(&bytes);
        match page_sizes(&mut reader) {
            Ok((uncompressed, compressed)) => {
                return Ok((reader.at as u64, uncompressed, compressed));
            }
            Err(Failure::Short) if length < end - at && want < (1 << 20) => want *= 16,
            Err(Failure::Short) => return Err(damaged("it is cut short".to_string())),
            Err(Failure::Invalid(what)) => return Err(damaged(what)),
        }
    }
}

/// `PageHeader.uncompressed_page_size` (field 2) and `compressed_page_size` (field 3).
fn page_sizes(reader: &mut Thrift) -> Result<(u64, u64), Failure> {
    let (mut uncompressed, mut compressed) = (None, None);
    let mut last = 0;
    while let Some((id, kind)) = reader.field_header(&mut last)? {
        match (id, kind) {
            (2, I32) => uncompressed = Some(reader.varint_i64()?),
            (3, I32) => compressed = Some(reader.varint_i64()?),
            _ => reader.skip(kind, 0)?,
        }
    }
    match (uncompressed, compressed) {
        (Some(u), Some(c)) if u >= 0 && c >= 0 => Ok((u as u64, c as u64)),
        _ => Err(Failure::Invalid(
            "no page sizes, or negative ones".to_string(),
        )),
    }
}

/// The deepest level of the schema in a `FileMetaData` (the root is level 0, its columns
/// level 1), from its flattened list of `SchemaElement`s (field 2) and their `num_children`
/// (field 5), without building the tree.
fn schema_depth(footer: &[u8]) -> Result<usize, String> {
    let mut reader = Thrift::new(footer);
    let mut last = 0;
    let describe = |failure: Failure| match failure {
        Failure::Short => "it ends in the middle of its schema".to_string(),
        Failure::Invalid(what) => what,
    };
    while let Some((id, kind)) = reader.field_header(&mut last).map_err(describe)? {
        if id != 2 || kind != LIST {
            reader.skip(kind, 0).map_err(describe)?;
            continue;
        }
        let (count, element) = reader.list_header().map_err(describe)?;
        if element != STRUCT {
            return Err("its schema is not a list of elements".to_string());
        }
        // The children each open group still has to see.
        let mut open: Vec<i64> = Vec::new();
        let mut deepest = 0;
        for _ in 0..count {
            let children = schema_element_children(&mut reader).map_err(describe)?;
            if let Some(left) = open.last_mut() {
                *left -= 1;
            }
            deepest = deepest.max(open.len());
            if deepest > MAX_SCHEMA_DEPTH {
                // Deep enough to refuse: the rest need not be read.
                return Ok(deepest);
            }
            if children > 0 {
                open.push(children);
            } else {
                while open.last() == Some(&0) {
                    open.pop();
                }
            }
        }
        return Ok(deepest);
    }
    Err("it has no schema".to_string())
}

/// `SchemaElement.num_children` (field 5), 0 when absent.
fn schema_element_children(reader: &mut Thrift) -> Result<i64, Failure> {
    let mut children = 0;
    let mut last = 0;
    while let Some((id, kind)) = reader.field_header(&mut last)? {
        match (id, kind) {
            (5, I32) => children = reader.varint_i64()?.max(0),
            _ => reader.skip(kind, 0)?,
        }
    }
    Ok(children)
}

// Thrift compact protocol types.
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
const UUID: u8 = 13;

enum Failure {
    /// The bytes end before the structure does.
    Short,
    Invalid(String),
}

/// A reader of the Thrift compact protocol, as much of it as the checks above need.
struct Thrift<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Thrift<'a> {
    fn new(bytes: &'a [u8]) -> Thrift<'a> {
        Thrift { bytes, at: 0 }
    }

    fn byte(&mut self) -> Result<u8, Failure> {
        let byte = *self.bytes.get(self.at).ok_or(Failure::Short)?;
        self.at += 1;
        Ok(byte)
    }

    fn advance(&mut self, n: u64) -> Result<(), Failure> {
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(Failure::Short);
        }
        self.at += n as usize;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, Failure> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Failure::Invalid(
            "a varint longer than 10 bytes".to_string(),
        ))
    }

    /// A zigzag-encoded integer (i16, i32 and i64 alike).
    fn varint_i64(&mut self) -> Result<i64, Failure> {
        let value = self.varint()?;
        Ok((value >> 1) as i64 ^ -((value & 1) as i64))
    }

    /// The next field's id and type, `None` at the end of the struct.
    fn field_header(&mut self, last: &mut i64) -> Result<Option<(i64, u8)>, Failure> {
        let byte = self.byte()?;
        if byte == 0 {
            return Ok(None);
        }
        let kind = byte & 0x0f;
        let delta = i64::from(byte >> 4);
        let id = if delta == 0 {
            self.varint_i64()?
        } else {
            *last + delta
        };
        *last = id;
        Ok(Some((id, kind)))
    }

    /// A list's (or set's) length and element type.
    fn list_header(&mut self) -> Result<(u64, u8), Failure> {
        let byte = self.byte()?;
        let count = match byte >> 4 {
            15 => self.varint()?,
            short => u64::from(short),
        };
        Ok((count, byte & 0x0f))
    }

    /// Skips a value of type `kind` (`depth` levels down in skipped values).
    fn skip(&mut self, kind: u8, depth: usize) -> Result<(), Failure> {
        if depth > MAX_THRIFT_DEPTH {
            return Err(Failure::Invalid(format!(
                "values nested more than {MAX_THRIFT_DEPTH} levels deep"
            )));
        }
        match kind {
            TRUE | FALSE => Ok(()),
            BYTE => self.advance(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.advance(8),
            BINARY => {
                let length = self.varint()?;
                self.advance(length)
            }
            UUID => self.advance(16),
            LIST | SET => {
                let (count, element) = self.list_header()?;
                for _ in 0..count {
                    self.skip_element(element, depth + 1)?;
                }
                Ok(())
            }
            MAP => {
                let count = self.varint()?;
                if count == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                for _ in 0..count {
                    self.skip_element(kinds >> 4, depth + 1)?;
                    self.skip_element(kinds & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            STRUCT => {
                let mut last = 0;
                while let Some((_, kind)) = self.field_header(&mut last)? {
                    self.skip(kind, depth + 1)?;
                }
                Ok(())
            }
            other => Err(Failure::Invalid(format!("unknown Thrift type {other}"))),
        }
    }

    /// Skips an element of a list, set or map: there a boolean takes a byte.
    fn skip_element(&mut self, kind: u8, depth: usize) -> Result<(), Failure> {
        match kind {
            TRUE | FALSE => self.advance(1),
            other => self.skip(other, depth),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `FileMetaData` holding only a schema of `depth` nested groups and a leaf.
    fn nested_footer(depth: usize) -> Vec<u8> {
        let mut out = vec![0x15, 0x02]; // field 1 (version), i32 1
        out.push(0x19); // field 2, list
        let count = depth + 1;
        out.push(0xfc); // list of structs, size in a varint
        let mut n = count as u64;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        for level in 0..count {
            // field 4 (name): binary "g"
            out.extend([0x48, 0x01, b'g']);
            if level < depth {
                out.extend([0x15, 0x02]); // field 5 (num_children): i32 1
            }
            out.push(0);
        }
        out.push(0);
        out
    }

    #[test]
    fn the_schema_depth_is_read_without_building_the_tree() {
        assert_eq!(schema_depth(&nested_footer(1)).ok(), Some(1));
        assert_eq!(schema_depth(&nested_footer(100)).ok(), Some(100));
        // Reading stops as soon as the bound is passed.
        assert_eq!(schema_depth(&nested_footer(100_000)).ok(), Some(101));
        assert!(schema_depth(&nested_footer(5)[..6]).is_err());
    }
}
