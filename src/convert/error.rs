//! Conversion errors: each knows where in the input it happened.

use std::fmt;
use std::path::PathBuf;

/// A position in the input: file, 1-based line, and 1-based column when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: u64,
    pub column: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{location}: invalid JSON: {message}")]
    Malformed { location: Location, message: String },
    #[error("{location}: expected a JSON object per line, found {found}")]
    NotAnObject {
        location: Location,
        found: &'static str,
    },
    #[error(
        "{location}: type conflict in field `{path}`: found {found}, but earlier lines have {expected}"
    )]
    TypeConflict {
        location: Location,
        path: String,
        found: String,
        expected: String,
    },
    #[error("{location}: field `{path}`: integer {value} does not fit in int64")]
    IntegerOutOfRange {
        location: Location,
        path: String,
        value: String,
    },
    #[error(
        "{location}: field `{path}`: integer {value} cannot be stored exactly as float64, the \
         column's type (other lines hold floats); store such numbers as strings"
    )]
    InexactFloat {
        location: Location,
        path: String,
        value: String,
    },
    #[error(
        "{location}: duplicate key `{path}` in one object (ambiguous: hf-relay does not pick one of the values)"
    )]
    DuplicateKey { location: Location, path: String },
    #[error(
        "{location}: field `{path}` was not seen while inferring the schema (did the file change during the build?)"
    )]
    InputChanged { location: Location, path: String },
    #[error("cannot read {}: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: the {format} archive is {}: {source}",
        file.display(),
        if *truncated { "truncated (it ends in the middle of its compressed data)" } else { "corrupt" }
    )]
    Archive {
        file: PathBuf,
        format: &'static str,
        truncated: bool,
        source: std::io::Error,
    },
    #[error(
        "{}:1:1: the file is UTF-16 ({order}), but JSONL is UTF-8: convert it first, e.g. \
         `iconv -f UTF-16 -t UTF-8 IN > OUT.jsonl`",
        file.display()
    )]
    Utf16 { file: PathBuf, order: &'static str },
    #[error("cannot write {}: {source}", file.display())]
    Write {
        file: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("split `{split}` has no records (its input files are empty or hold only blank lines)")]
    NoRecords { split: String },
    #[error("no field in any record: every line is an empty object `{{}}`")]
    NoColumns,
    #[error(
        "{location}: field `{path}` is nested too deeply: pyarrow and `datasets` cannot read \
         more than {max_levels} levels of objects and lists (or 49 levels of lists); store the \
         deep part as a JSON string instead"
    )]
    TooDeep {
        location: Location,
        path: String,
        max_levels: usize,
    },
    #[error("{}: not a readable Parquet file: {message}", file.display())]
    Parquet { file: PathBuf, message: String },
    #[error(
        "{} and {} have different schemas: {detail} (all files of a build share one schema; \
         cast them to one first)",
        first.display(),
        second.display()
    )]
    SchemaMismatch {
        first: PathBuf,
        second: PathBuf,
        detail: String,
    },
    #[error(
        "{} is JSONL and {} is Parquet: a build reads one format (the splits of a config share \
         one schema); convert one to the other first",
        jsonl.display(),
        parquet.display()
    )]
    MixedFormats { jsonl: PathBuf, parquet: PathBuf },
    #[error(
        "{}: column `{column}` has the Arrow type {data_type}, and `datasets` has no feature \
         for {inner}; cast the column to a type it reads (e.g. a struct or a JSON string) first",
        file.display()
    )]
    UnsupportedType {
        file: PathBuf,
        column: String,
        data_type: String,
        inner: String,
    },
    #[error(
        "{location}: the line is longer than {} MiB, the most hf-relay reads as one record \
         (it is not read further); split the record, or store its big part in a file of its own",
        limit >> 20
    )]
    LineTooLong { location: Location, limit: u64 },
    /// Ctrl-C; carries [`Interrupted`] so that `interrupt::is_interrupted` finds it.
    #[error("interrupted")]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

impl ConvertError {
    /// The input whose text the error is about (not for failures to read it).
    pub fn input_file(&self) -> Option<&std::path::Path> {
        use ConvertError::*;
        match self {
            Malformed { location, .. }
            | NotAnObject { location, .. }
            | TypeConflict { location, .. }
            | IntegerOutOfRange { location, .. }
            | InexactFloat { location, .. }
            | DuplicateKey { location, .. }
            | InputChanged { location, .. }
            | TooDeep { location, .. } => Some(&location.file),
            Utf16 { file, .. } | Parquet { file, .. } | UnsupportedType { file, .. } => Some(file),
            Io { .. }
            | Archive { .. }
            | Write { .. }
            | NoRecords { .. }
            | NoColumns
            | SchemaMismatch { .. }
            | MixedFormats { .. }
            // A hostile length, not damaged text: the archive is not read again to blame it.
            | LineTooLong { .. }
            | Interrupted(_) => None,
        }
    }
}

/// The JSON path of a nested field: `agent_responses[].friction_moments`.
pub fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}
