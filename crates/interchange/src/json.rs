//! The model's own JSON: records tagged with `"type"`, as a JSON array
//! (one record a line when Girok writes it) or as JSON Lines.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use girok_journal::PreparedChange;
use girok_model::{Change, Record, RecordId, Vocabularies};
use girok_store::{ChangeSink, Presealed, Presealer};
use serde_json::value::RawValue;

use crate::{ImportError, ImportSummary, RecordWriter};

/// Lines are parsed, validated, encoded and (in an unlocked encrypted store)
/// sealed on a second thread, in chunks, while this thread writes; the first
/// error from either stops both.
pub(crate) fn import_lines(
    path: &Path,
    file: &str,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    const CHUNK: usize = 512;
    type Prepared = (u64, u64, Result<Presealed, ImportError>);
    let reader = BufReader::with_capacity(1 << 20, crate::open(path)?);
    let vocabularies = sink.vocabularies().clone();
    let presealer = sink.presealer();
    let mut summary = ImportSummary::default();
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(64);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            for (index, line) in reader.lines().enumerate() {
                let number = index as u64 + 1;
                let prepared = match line {
                    Err(e) => Err(ImportError::at(
                        file,
                        number,
                        None,
                        format!("cannot be read as UTF-8 text: {e}"),
                    )),
                    Ok(text) if text.trim().is_empty() => continue,
                    Ok(text) => prepare(file, number, &text, &vocabularies)
                        .and_then(|p| preseal(file, number, presealer.as_ref(), p, &vocabularies))
                        .map(|p| (text.len() as u64 + 1, p)),
                };
                let failed = prepared.is_err();
                chunk.push(match prepared {
                    Ok((bytes, prepared)) => (number, bytes, Ok(prepared)),
                    Err(error) => (number, 0, Err(error)),
                });
                if (chunk.len() == CHUNK || failed)
                    && sender.send(std::mem::take(&mut chunk)).is_err()
                {
                    return;
                }
                if failed {
                    return;
                }
            }
            let _ = sender.send(chunk);
        });
        for chunk in receiver {
            // Whether the ids the chunk names are used, in a few queries
            // rather than one or two per record.
            let named: Vec<RecordId> = chunk
                .iter()
                .filter_map(|(_, _, prepared)| prepared.as_ref().ok())
                .flat_map(|presealed| named_ids(presealed.change()))
                .collect();
            sink.look_up_ahead(&named)
                .map_err(|e| ImportError::refused(file, chunk[0].0, None, e))?;
            for (line, bytes, prepared) in chunk {
                sink.apply_presealed(prepared?)
                    .map_err(|e| ImportError::refused(file, line, None, e))?;
                summary.records += 1;
                progress(bytes);
            }
        }
        Ok(summary)
    })
}

/// The ids a change names: its subject and what its record refers to.
fn named_ids(change: &Change) -> Vec<RecordId> {
    let mut ids: Vec<RecordId> = change.subject().cloned().into_iter().collect();
    if let Change::Create { record } = change {
        ids.extend(record.references().into_iter().map(|(_, id, _)| id.clone()));
    }
    ids
}

/// Seals a record's identifying data on the parsing thread, when the store
/// is encrypted and unlocked (the write path seals whatever is left).
fn preseal(
    file: &str,
    line: u64,
    presealer: Option<&Presealer>,
    prepared: PreparedChange,
    vocabularies: &Vocabularies,
) -> Result<Presealed, ImportError> {
    match presealer {
        Some(presealer) => presealer
            .seal(prepared, vocabularies)
            .map_err(|e| ImportError::refused(file, line, None, e)),
        None => Ok(Presealed::plain(prepared)),
    }
}

/// Parses, validates and encodes the record on one line.
fn prepare(
    file: &str,
    line: u64,
    text: &str,
    vocabularies: &Vocabularies,
) -> Result<PreparedChange, ImportError> {
    let record: Record = serde_json::from_str(text).map_err(|e| {
        ImportError::at(
            file,
            line,
            None,
            format!(
                "not a Girok record: {e} (at character {} of the record)",
                e.column()
            ),
        )
    })?;
    PreparedChange::new(Change::Create { record }, vocabularies)
        .map_err(|e| ImportError::refused(file, line, None, e.into()))
}

pub(crate) fn import_array(
    path: &Path,
    file: &str,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let mut text = String::new();
    crate::open(path)?
        .read_to_string(&mut text)
        .map_err(|e| ImportError::File {
            file: file.to_string(),
            message: format!("cannot be read as UTF-8 text: {e}"),
        })?;
    let items: Vec<&RawValue> = serde_json::from_str(&text).map_err(|e| {
        ImportError::at(
            file,
            e.line() as u64,
            None,
            format!("expected a JSON array of records: {e}"),
        )
    })?;
    let mut summary = ImportSummary::default();
    for item in items {
        // Each item borrows from `text`, so its offset gives the line it starts on.
        let offset = item.get().as_ptr() as usize - text.as_ptr() as usize;
        let line = text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        let prepared = prepare(file, line, item.get(), sink.vocabularies())?;
        sink.apply_prepared(prepared)
            .map_err(|e| ImportError::refused(file, line, None, e))?;
        summary.records += 1;
        progress(item.get().len() as u64 + 1);
    }
    Ok(summary)
}

/// Writes records as a JSON array (one record a line) or as JSON Lines.
pub(crate) struct JsonWriter<W: Write> {
    out: W,
    lines: bool,
    count: u64,
}

impl<W: Write> JsonWriter<W> {
    pub(crate) fn new(out: W, lines: bool) -> JsonWriter<W> {
        JsonWriter {
            out,
            lines,
            count: 0,
        }
    }
}

impl<W: Write> RecordWriter for JsonWriter<W> {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        let separator: &[u8] = match (self.lines, self.count) {
            (true, _) => b"",
            (false, 0) => b"[\n",
            (false, _) => b",\n",
        };
        self.out.write_all(separator)?;
        serde_json::to_writer(&mut self.out, record).map_err(std::io::Error::other)?;
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        self.count += 1;
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<u64> {
        if !self.lines {
            self.out
                .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()?;
        Ok(self.count)
    }
}
