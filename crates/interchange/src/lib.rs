//! File formats in and out of a store: the model's own JSON (an array or JSON
//! Lines) and a flat CSV layout with English or Korean headers, which is
//! also read from the first sheet of a spreadsheet (Excel or OpenDocument).
//!
//! Imports go through the store's write path inside one transaction, so a file
//! is imported whole or not at all. Every error names the file, the line and,
//! where there is one, the column or field, and says what was expected.

mod csv_layout;
mod json;
mod spreadsheet;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use girok_intake::Field;
use girok_model::{Change, Invalid, Record, RecordKind, Wording};
use girok_store::{BatchError, BatchSize, ChangeSink, Store, StoreError};
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

/// What a file to import holds, by its name: records in a format Girok
/// writes, or the CSV layout in the first sheet of a workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Written(Format),
    Spreadsheet,
}

impl Input {
    fn of(name: &str) -> Result<Input, ImportError> {
        let path = Path::new(name);
        let spreadsheet = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["xlsx", "xlsm", "xls", "ods"].contains(&e.to_ascii_lowercase().as_str())
        });
        if spreadsheet {
            return Ok(Input::Spreadsheet);
        }
        Format::from_path(path)
            .map(Input::Written)
            .ok_or_else(|| ImportError::File {
                file: name.to_string(),
                message: "unknown format: name the file .csv, .xlsx, .ods, .json or .jsonl".into(),
            })
    }

    /// Whether it is in the CSV layout, read row by row.
    fn has_rows(self) -> bool {
        matches!(self, Input::Written(Format::Csv) | Input::Spreadsheet)
    }

    /// The input ready to be read: a workbook is parsed here, once, before
    /// its import is announced (which counts its rows).
    fn open(self, path: &Path, name: &str) -> Result<Opened, ImportError> {
        Ok(match self {
            Input::Written(format) => Opened::Written(format),
            Input::Spreadsheet => Opened::Sheet(spreadsheet::open(path, name)?),
        })
    }
}

/// An input opened: text in a format Girok writes, read from its file as it
/// goes, or a spreadsheet's first sheet, read whole.
enum Opened {
    Written(Format),
    Sheet(spreadsheet::SheetRows),
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
        match refusal(error) {
            Ok((field, message)) => {
                ImportError::at(file, line, column.or(field.as_deref()), message.to_string())
            }
            Err(failure) => ImportError::Store(failure),
        }
    }
}

/// A store's refusal of a change as the field it names (if any) and what to
/// say; a failure of the store is no refusal and is given back.
pub(crate) fn refusal(error: StoreError) -> Result<(Option<String>, Wording), StoreError> {
    match error {
        StoreError::Invalid(Invalid {
            record,
            field,
            message,
        }) => {
            let Some(record) = record else {
                return Ok((Some(field), message));
            };
            let said = Wording::new(
                format!("record {record}: {message}"),
                format!("기록 {record}: {}", message.korean()),
            );
            Ok((Some(field), said))
        }
        StoreError::Conflict { message, .. } => Ok((None, message)),
        other => Err(other),
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub records: u64,
    /// Records a CSV row named that already existed and were reused.
    pub reused: u64,
}

/// What is wrong at one place of a CSV file, apart from its wording, so
/// that each door can word it in its reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wrong {
    /// The line is not CSV (say, a row with another number of cells).
    NotCsv(String),
    /// A header that is none of [`COLUMNS`].
    UnknownColumn,
    /// A header given twice.
    RepeatedColumn,
    /// A column every file needs is absent from the header row.
    MissingColumn(Field),
    /// A cell that cannot be read, as intake refuses it.
    Refused(girok_intake::Refusal),
    /// The store refused a record made from the row (a taken id, a bad reference).
    Store(Wording),
    /// A spreadsheet's cell holds an error (`#DIV/0!`, `#REF!`) instead of a value.
    CellError(String),
}

impl fmt::Display for Wrong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wrong::NotCsv(reason) => write!(f, "not valid CSV: {reason}"),
            Wrong::UnknownColumn => {
                let accepted: Vec<String> = COLUMNS
                    .iter()
                    .map(|(_, en, ko, _)| format!("{en}/{ko}"))
                    .collect();
                write!(f, "unknown column; the columns are {}", accepted.join(", "))
            }
            Wrong::RepeatedColumn => f.write_str("appears twice"),
            Wrong::MissingColumn(field) => {
                let (en, ko) = csv_layout::headers_of(*field);
                write!(f, "the required column {en} (or {ko}) is missing")
            }
            Wrong::Refused(refusal) => write!(f, "{refusal}"),
            Wrong::Store(message) => write!(f, "{message}"),
            Wrong::CellError(error) => write!(
                f,
                "the cell holds the spreadsheet error {error} instead of a value"
            ),
        }
    }
}

/// One problem of a CSV file: its line, the column as the file heads it
/// (none for a whole line or a missing column), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProblem {
    pub line: u64,
    pub column: Option<String>,
    pub wrong: Wrong,
}

/// What importing a CSV file would do, found by importing it in a batch
/// that is rolled back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    /// Rows read after the header, good or not.
    pub rows: u64,
    /// Records the good rows would create, by kind.
    pub created: BTreeMap<RecordKind, u64>,
    /// Every problem, in file order; the file can be imported only without any.
    pub problems: Vec<CsvProblem>,
}

/// How to write an import of `bytes` in all: a large one rebuilds the
/// store's indexes once instead of maintaining them row by row.
pub fn batch_size(bytes: u64) -> BatchSize {
    if bytes > 32 << 20 {
        BatchSize::Bulk
    } else {
        BatchSize::Small
    }
}

/// Imports `path` through `sink`. The caller runs this inside one store
/// transaction; any error leaves the store as it was.
pub fn import(
    path: &Path,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    import_as(path, &path.display().to_string(), sink, progress)
}

/// [`import`] of a file known by another name than its path (an upload
/// kept under its hash): `name` decides the format and is what the journal
/// records and every message names.
pub fn import_as(
    path: &Path,
    name: &str,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let opened = Input::of(name)?.open(path, name)?;
    let sha256 = announce(path, name, &opened, sink)?;
    let rows = |read: Preview| ImportSummary {
        records: read.created.values().sum(),
        ..ImportSummary::default()
    };
    let mut stop = Problems::Stop;
    match opened {
        Opened::Sheet(mut sheet) => Ok(rows(csv_layout::import_rows(
            &mut sheet, name, &sha256, sink, progress, &mut stop,
        )?)),
        Opened::Written(Format::Csv) => Ok(rows(csv_layout::import(
            path, name, &sha256, sink, progress, &mut stop,
        )?)),
        Opened::Written(Format::Json) => json::import_array(path, name, sink, progress),
        Opened::Written(Format::JsonLines) => json::import_lines(path, name, sink, progress),
    }
}

/// Every problem of the CSV file `path` (known as `name`) and what it would
/// create, found by importing it into `store` in a batch that is always
/// rolled back: nothing is written. A file imported before is refused as
/// an import refuses it ([`StoreError::DuplicateImport`]) before any row is read.
pub fn preview(
    store: &mut dyn Store,
    actor: &str,
    path: &Path,
    name: &str,
) -> Result<Preview, ImportError> {
    let input = Input::of(name)?;
    if !input.has_rows() {
        return Err(ImportError::File {
            file: name.to_string(),
            message: "only a CSV file or a spreadsheet can be previewed".into(),
        });
    }
    let mut outcome = None;
    let rolled_back = store.write_batch(actor, BatchSize::Small, &mut |sink| {
        outcome = Some(preview_in(path, name, input, sink));
        // Never committed: a preview writes nothing, however good the file.
        Err(BatchError::Abandoned)
    });
    match (outcome, rolled_back) {
        (Some(outcome), _) => outcome,
        (None, Err(BatchError::Store(error))) => Err(error.into()),
        (None, _) => Err(ImportError::File {
            file: name.to_string(),
            message: "the store did not run the preview".into(),
        }),
    }
}

fn preview_in(
    path: &Path,
    name: &str,
    input: Input,
    sink: &mut dyn ChangeSink,
) -> Result<Preview, ImportError> {
    let opened = input.open(path, name)?;
    let sha256 = announce(path, name, &opened, sink)?;
    let mut problems = Vec::new();
    let mut noted = Problems::Note(&mut problems);
    let mut preview = match opened {
        Opened::Sheet(mut sheet) => {
            csv_layout::import_rows(&mut sheet, name, &sha256, sink, &mut |_| {}, &mut noted)?
        }
        Opened::Written(_) => {
            csv_layout::import(path, name, &sha256, sink, &mut |_| {}, &mut noted)?
        }
    };
    preview.problems = problems;
    Ok(preview)
}

/// What a CSV import does with a problem: an import stops at the first, a
/// preview notes each and reads on from the next row.
pub(crate) enum Problems<'a> {
    Stop,
    Note(&'a mut Vec<CsvProblem>),
}

impl Problems<'_> {
    /// Notes the problem, or stops the import with it.
    pub(crate) fn found(&mut self, file: &str, problem: CsvProblem) -> Result<(), ImportError> {
        match self {
            Problems::Stop => Err(ImportError::at(
                file,
                problem.line,
                problem.column.as_deref(),
                problem.wrong.to_string(),
            )),
            Problems::Note(problems) => {
                problems.push(problem);
                Ok(())
            }
        }
    }
}

/// Journals the `Import` change, which refuses a file imported before;
/// returns the file's SHA-256.
fn announce(
    path: &Path,
    name: &str,
    opened: &Opened,
    sink: &mut dyn ChangeSink,
) -> Result<String, ImportError> {
    let (sha256, lines) = file_sha256(path)?;
    let file_name = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string());
    // Records are one a line in the text formats, less the CSV header or the JSON brackets.
    let records = match opened {
        Opened::Sheet(sheet) => sheet.data_rows(),
        Opened::Written(Format::JsonLines) => lines,
        Opened::Written(Format::Csv) => lines.saturating_sub(1),
        Opened::Written(Format::Json) => lines.saturating_sub(2),
    };
    sink.apply(Change::Import {
        file_name,
        sha256: sha256.clone(),
        records,
    })?;
    Ok(sha256)
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
