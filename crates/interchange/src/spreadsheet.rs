//! Spreadsheets in the CSV layout: the first sheet of an Excel (`.xlsx`,
//! `.xlsm`, `.xls`) or OpenDocument (`.ods`) workbook, its first row the
//! headers, read as the CSV layout reads its rows. Problems name the sheet's
//! row numbers, as the spreadsheet program shows them. The workbook's kind is
//! read from its bytes, not its name: a file that is not one is refused.

use std::path::Path;

use calamine::{Data, Range, Reader};

use crate::csv_layout::Rows;
use crate::{CsvProblem, ImportError, Wrong};

/// The first sheet's cells, as text, with the number of its first row.
pub(crate) struct SheetRows {
    cells: Range<Data>,
    /// The row after the last one read, counted from the sheet's first row (0).
    next: usize,
    /// The sheet's row number (1-based) of the range's first row.
    first_row: u64,
    /// The header row, once read: a cell's problem names its column.
    header: csv::StringRecord,
}

/// Opens the first sheet of the workbook at `path`, known as `file`.
pub(crate) fn open(path: &Path, file: &str) -> Result<SheetRows, ImportError> {
    let not_a_workbook = |e: calamine::Error| ImportError::File {
        file: file.to_string(),
        message: format!("is not a spreadsheet Girok can read (.xlsx, .xlsm, .xls or .ods): {e}"),
    };
    // In memory: the reader tries each kind of workbook on its own copy of a cheap cursor.
    let bytes = std::fs::read(path).map_err(|e| ImportError::File {
        file: file.to_string(),
        message: format!("cannot be read: {e}"),
    })?;
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.as_slice()))
        .map_err(not_a_workbook)?;
    let cells = match workbook.worksheet_range_at(0) {
        Some(Ok(cells)) => cells,
        Some(Err(e)) => return Err(not_a_workbook(e)),
        None => {
            return Err(ImportError::File {
                file: file.to_string(),
                message: "has no sheet".into(),
            });
        }
    };
    let first_row = cells.start().map(|(row, _)| row as u64 + 1).unwrap_or(1);
    Ok(SheetRows {
        cells,
        next: 0,
        first_row,
        header: csv::StringRecord::new(),
    })
}

/// A cell as the text a person typed or sees: whole numbers without a
/// decimal point, dates as ISO dates (with the time when there is one).
fn text_of(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            format!("{}", *number as i64)
        }
        Data::Float(number) => number.to_string(),
        Data::Bool(yes) => yes.to_string(),
        Data::DateTime(date) => match date.as_datetime() {
            Some(moment) if moment.time() == chrono::NaiveTime::MIN => {
                moment.format("%Y-%m-%d").to_string()
            }
            Some(moment) => moment.format("%Y-%m-%d %H:%M").to_string(),
            None => date.to_string(),
        },
        Data::Error(error) => return Err(error.to_string()),
    })
}

impl SheetRows {
    /// The number of rows of the sheet after its header row.
    pub(crate) fn data_rows(&self) -> u64 {
        self.cells.height().saturating_sub(1) as u64
    }
}

impl Rows for SheetRows {
    fn header(&mut self) -> Result<csv::StringRecord, ImportError> {
        let Some(row) = self.cells.rows().next() else {
            return Ok(csv::StringRecord::new());
        };
        self.next = 1;
        // Empty cells after the last heading are not columns.
        let mut headings: Vec<String> =
            row.iter().map(|c| text_of(c).unwrap_or_default()).collect();
        while headings.last().is_some_and(|h| h.trim().is_empty()) {
            headings.pop();
        }
        self.header = csv::StringRecord::from(headings);
        Ok(self.header.clone())
    }

    fn next_row(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Result<Option<Result<u64, CsvProblem>>, ImportError> {
        let (height, width) = self.cells.get_size();
        let columns = self.header.len().min(width);
        loop {
            if self.next >= height {
                return Ok(None);
            }
            let row = self.next;
            let line = self.first_row + row as u64;
            self.next += 1;
            record.clear();
            let mut problem = None;
            for index in 0..columns {
                let cell = self.cells.get((row, index)).unwrap_or(&Data::Empty);
                match text_of(cell) {
                    Ok(text) => record.push_field(&text),
                    Err(error) => {
                        record.push_field("");
                        problem.get_or_insert(CsvProblem {
                            line,
                            column: self.header.get(index).map(str::to_string),
                            wrong: Wrong::CellError(error),
                        });
                    }
                }
            }
            // A sheet's rows may end early; the layout reads the missing cells as empty.
            while record.len() < self.header.len() {
                record.push_field("");
            }
            if let Some(problem) = problem {
                return Ok(Some(Err(problem)));
            }
            // Rows left empty (a gap, the formatting's last rows) are no testimony.
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            return Ok(Some(Ok(line)));
        }
    }
}
