//! The schema passes: a guess from the first chunk, inference over the whole input, and
//! errors located at the line that caused them.

use std::collections::HashMap;
use std::path::Path;

use super::infer::{self, Ty, merge};
use super::input::{self, BufferPool, Chunk, ChunkReader};
use super::parallel::{Flow, Reading, for_each_chunk};
use super::source::Source;
use super::stream::{LineError, Slot, TypeSeed, parse_line_with};
use super::{Conversion, ConvertError, Location};

/// A first guess of the schema: the types of the records of the first chunk that holds any,
/// up to the first line that fails (that line is met again, and reported, by the real pass).
/// `Ty::Null` when the input holds no record at all.
pub(super) fn guess_schema(files: &[Source], conflicts_as_json: bool) -> Result<Ty, ConvertError> {
    for chunk in ChunkReader::new(files.to_vec()).without_digests() {
        let chunk = chunk?;
        let Ok(text) = chunk.text(files[chunk.file_index].name()) else {
            return Ok(Ty::Struct(Default::default()));
        };
        let lines: Vec<&str> = input::lines(text, chunk.first_line)
            .map(|(_, l)| l)
            .collect();
        let infer = |lines: &[&str]| {
            let mut acc = Ty::Null;
            for (i, line) in lines.iter().enumerate() {
                let slot = Slot::new(line);
                let seed = TypeSeed {
                    acc: &mut acc,
                    slot: &slot,
                    conflicts_as_json,
                };
                if parse_line_with(line, seed, &slot).is_err() {
                    return Err(i);
                }
            }
            Ok(acc)
        };
        let guess = match infer(&lines) {
            Ok(guess) => guess,
            // Only the lines before the failing one: a line that fails may have widened the
            // type half-way.
            Err(failing) => match infer(&lines[..failing]) {
                Ok(Ty::Null) | Err(_) => Ty::Struct(Default::default()),
                Ok(guess) => guess,
            },
        };
        if guess != Ty::Null {
            return Ok(guess);
        }
    }
    Ok(Ty::Null)
}

/// The schema of all records of `files`: the chunks from index `skip` on, merged on top of
/// `start` (the type of the chunks before).
pub(super) fn infer_schema_from(
    job: &Conversion,
    files: &[Source],
    start: Ty,
    skip: usize,
) -> Result<Ty, ConvertError> {
    let conflicts_as_json = job.options.conflicts_as_json;
    let mut acc = start;
    for_each_chunk(
        files,
        Reading {
            skip,
            hash: false,
            resume: &HashMap::new(),
        },
        &BufferPool::default(),
        job.interrupted,
        |chunk| infer_chunk(chunk, files, Ty::Null, conflicts_as_json),
        |chunk, chunk_ty| {
            job.progress.advance(chunk.raw_bytes);
            let before = std::mem::replace(&mut acc, Ty::Null);
            acc = match merge(before.clone(), chunk_ty, "", conflicts_as_json) {
                Ok(merged) => merged,
                // The conflict is between this chunk and earlier ones: replay the chunk line
                // by line on top of the earlier type to name the exact line.
                Err(_) => infer_chunk(chunk, files, before, conflicts_as_json)?,
            };
            Ok(Flow::Continue)
        },
    )?;
    if acc == Ty::Null {
        return Ok(Ty::Struct(Default::default()));
    }
    Ok(acc)
}

/// Merges the types of a chunk's records into `start`.
fn infer_chunk(
    chunk: &Chunk,
    files: &[Source],
    start: Ty,
    conflicts_as_json: bool,
) -> Result<Ty, ConvertError> {
    let file = files[chunk.file_index].name();
    let mut acc = start;
    for (line_no, line) in input::lines(chunk.text(file)?, chunk.first_line) {
        let slot = Slot::new(line);
        let seed = TypeSeed {
            acc: &mut acc,
            slot: &slot,
            conflicts_as_json,
        };
        parse_line_with(line, seed, &slot).map_err(|e| line_error(file, line_no, e))?;
    }
    Ok(acc)
}

/// The error for a field nested too deeply, at the first line that reaches it.
pub(super) fn locate(too_deep: infer::TooDeep, files: &[Source]) -> ConvertError {
    let mut location = Location {
        file: files
            .first()
            .map(|f| f.name().to_path_buf())
            .unwrap_or_default(),
        line: 1,
        column: None,
    };
    'files: for file in files {
        for chunk in ChunkReader::new(vec![file.clone()]).without_digests() {
            let Ok(chunk) = chunk else { break };
            let Ok(text) = chunk.text(file.name()) else {
                break;
            };
            for (line_no, line) in input::lines(text, chunk.first_line) {
                let value = serde_json::from_str::<serde_json::Value>(line);
                if value.is_ok_and(|value| infer::reaches(&value, &too_deep.steps)) {
                    location = Location {
                        file: file.name().to_path_buf(),
                        line: line_no,
                        column: None,
                    };
                    break 'files;
                }
            }
        }
    }
    ConvertError::TooDeep {
        location,
        path: too_deep.path,
        max_levels: infer::MAX_ARROW_DEPTH,
    }
}

pub(super) fn line_error(file: &Path, line: u64, error: LineError) -> ConvertError {
    let location = |column| Location {
        file: file.to_path_buf(),
        line,
        column,
    };
    match error {
        LineError::Syntax { column, message } => ConvertError::Malformed {
            location: location(Some(column)),
            message,
        },
        LineError::NotAnObject { found } => ConvertError::NotAnObject {
            location: location(Some(1)),
            found,
        },
        LineError::Conflict {
            path,
            found,
            expected,
            column,
        } => ConvertError::TypeConflict {
            location: location(column),
            path,
            found,
            expected,
        },
        LineError::IntegerOutOfRange { path, value } => ConvertError::IntegerOutOfRange {
            location: location(None),
            path,
            value,
        },
        LineError::InexactFloat { path, value } => ConvertError::InexactFloat {
            location: location(None),
            path,
            value,
        },
        LineError::DuplicateKey { path } => ConvertError::DuplicateKey {
            location: location(None),
            path,
        },
        LineError::UnknownKey { path } => ConvertError::InputChanged {
            location: location(None),
            path,
        },
    }
}
