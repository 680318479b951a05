//! File formats in and out of a store: the model's own JSON (an array or JSON
//! Lines) and a flat CSV layout with English or Korean headers.
//!
//! Imports go through the store's write path inside one transaction, so a file
//! is imported whole or not at all. Every error names the file, the line and,
//! where there is one, the column or field, and says what was expected.

mod csv_layout;
mod json;

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use girok_model::{Change, Invalid, Record};
use girok_store::{ChangeSink, StoreError};
use sha2::{Digest, Sha256};

pub use csv_layout::COLUMNS;

/// The formats Girok reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of records, as `export --format json` writes it.
    Json,
    /// One JSON record per line.
    JsonLines,
    /// The flat act-per-row layout of [`COLUMNS`].
    Csv,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Where in an input a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u64,
    /// The CSV column header or JSON field, when known.
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, line {}", self.file, self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{location}: {message}; nothing was imported")]
    At { location: Location, message: String },
    #[error("{file}: {message}; nothing was imported")]
    File { file: String, message: String },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl ImportError {
    pub(crate) fn at(
        file: &str,
        line: u64,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError::At {
            location: Location {
                file: file.to_string(),
                line,
                column: column.map(str::to_string),
            },
            message: message.into(),
        }
    }

    /// A store refusal of the change built from `line`, located there.
    pub(crate) fn refused(
        file: &str,
        line: u64,
        column: Option<&str>,
        error: StoreError,
    ) -> ImportError {
        match error {
            StoreError::Invalid(Invalid {
                record,
                field,
                message,
            }) => {
                let record = record
                    .map(|id| format!("record {id}: "))
                    .unwrap_or_default();
                ImportError::at(
                    file,
                    line,
                    Some(column.unwrap_or(&field)),
                    format!("{record}{message}"),
                )
            }
            StoreError::Conflict { message, .. } => ImportError::at(file, line, column, message),
            other => ImportError::Store(other),
        }
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub records: u64,
    /// Records a CSV row named that already existed and were reused.
    pub reused: u64,
}

/// Imports `path` through `sink`. The caller runs this inside one store
/// transaction; any error leaves the store as it was.
pub fn import(
    path: &Path,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let shown = path.display().to_string();
    let format = Format::from_path(path).ok_or_else(|| ImportError::File {
        file: shown.clone(),
        message: "unknown format: name the file .csv, .json or .jsonl".into(),
    })?;
    let (sha256, lines) = file_sha256(path)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    // Records are one a line in all three formats, less the CSV header or the JSON brackets.
    let records = lines.saturating_sub(if format == Format::JsonLines {
        0
    } else {
        1 + (format == Format::Json) as u64
    });
    sink.apply(Change::Import {
        file_name,
        sha256: sha256.clone(),
        records,
    })?;
    match format {
        Format::Csv => csv_layout::import(path, &sha256, sink, progress),
        Format::Json => json::import_array(path, sink, progress),
        Format::JsonLines => json::import_lines(path, sink, progress),
    }
}

/// Writes exported records in one format. Records arrive in dependency order.
pub trait RecordWriter {
    fn write(&mut self, record: &Record) -> std::io::Result<()>;
    /// Completes the output; returns how many rows or records were written.
    fn finish(&mut self) -> std::io::Result<u64>;
}

/// A writer of `format` into `out`; `korean_headers` applies to CSV.
pub fn writer<'a>(
    format: Format,
    out: impl Write + 'a,
    korean_headers: bool,
) -> Box<dyn RecordWriter + 'a> {
    match format {
        Format::Json => Box::new(json::JsonWriter::new(out, false)),
        Format::JsonLines => Box::new(json::JsonWriter::new(out, true)),
        Format::Csv => Box::new(csv_layout::CsvWriter::new(out, korean_headers)),
    }
}

pub(crate) fn open(path: &Path) -> Result<File, ImportError> {
    File::open(path).map_err(|e| ImportError::File {
        file: path.display().to_string(),
        message: format!("cannot be read: {e}"),
    })
}

/// SHA-256 of a file's bytes, lower-case hex, and its number of lines.
pub fn file_sha256(path: &Path) -> Result<(String, u64), ImportError> {
    let mut reader = BufReader::with_capacity(1 << 20, open(path)?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        let read = reader.read(&mut buffer).map_err(|e| ImportError::File {
            file: path.display().to_string(),
            message: format!("cannot be read: {e}"),
        })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        lines += buffer[..read].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok((hex::encode(hasher.finalize()), lines))
}
