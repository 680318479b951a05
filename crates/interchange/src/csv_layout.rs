//! The flat CSV layout: one row per act as one source tells it.
//!
//! A row is a testimony (`girok-intake` turns it into changes): it names a
//! source, a victim and an act. The source and the victim are created from
//! the first row that names a new id and reused by later rows (and by later
//! files). An act id that already exists adds one more attestation of that
//! act from the row's source: corroboration. Records a row makes without an
//! id of its own are named from the file's SHA-256 and the row's line.
//! Headers may be English or Korean; values may be vocabulary keys or any
//! English, Korean or romanized label of a term.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use girok_intake::{Field, Made, NewIds, Problem, Refusal, Stem, Testimony, field_at_fault};
use girok_model::*;
use girok_store::{ChangeSink, StoreError};

use crate::{CsvProblem, ImportError, Preview, Problems, RecordWriter, Wrong};

/// Every column: English header, Korean header, what it holds.
pub const COLUMNS: &[(Field, &str, &str, &str)] = &[
    (
        Field::SourceId,
        "source_id",
        "출처ID",
        "required: id of the source (testimony, document...)",
    ),
    (
        Field::SourceKind,
        "source_kind",
        "출처유형",
        "interview (default), document, report, media, other",
    ),
    (
        Field::SourceTitle,
        "source_title",
        "출처제목",
        "required for a new source",
    ),
    (
        Field::Consent,
        "consent",
        "동의범위",
        "required for a new interview: internal, partners, public-anonymised, public",
    ),
    (
        Field::SourceDate,
        "source_date",
        "입수일",
        "when the source was obtained (fuzzy date)",
    ),
    (
        Field::Language,
        "language",
        "언어",
        "language of the source: ko, en, ko-KP ...",
    ),
    (
        Field::Organisation,
        "organisation",
        "기록단체",
        "the documenting organisation: a spelling of a term of the organisations vocabulary is recorded as its key, other text as given (its own list until an admin merges it)",
    ),
    (
        Field::SourceNotes,
        "source_notes",
        "출처메모",
        "notes on a new source",
    ),
    (
        Field::WitnessId,
        "witness_id",
        "증언자ID",
        "id of the person who gave the testimony",
    ),
    (
        Field::WitnessName,
        "witness_name",
        "증언자이름",
        "the witness's name, for a new witness (one is made for a new source without witness_id)",
    ),
    (
        Field::WitnessSex,
        "witness_sex",
        "증언자성별",
        "the witness's sex, for a new witness (as sex)",
    ),
    (
        Field::VictimId,
        "victim_id",
        "피해자ID",
        "required: id of the victim",
    ),
    (
        Field::VictimNames,
        "victim_names",
        "피해자이름",
        "names of a new victim, separated by ;",
    ),
    (
        Field::Sex,
        "sex",
        "성별",
        "female, male, other, unknown (or f, m, 여, 남, 여성, 남성...)",
    ),
    (Field::Birth, "birth", "출생", "birth date (fuzzy date)"),
    (
        Field::Origin,
        "origin",
        "출신지",
        "place of origin (gazetteer: any spelling)",
    ),
    (
        Field::ActId,
        "act_id",
        "행위ID",
        "id of the act; made when empty; an existing id adds an attestation",
    ),
    (
        Field::EventId,
        "event_id",
        "사건ID",
        "id of the event the act is part of",
    ),
    (
        Field::ActType,
        "act_type",
        "행위유형",
        "required: act type (key or label)",
    ),
    (
        Field::ActDate,
        "act_date",
        "행위일시",
        "when (fuzzy date; empty means unknown)",
    ),
    (
        Field::ActPlace,
        "act_place",
        "행위장소",
        "where (gazetteer: any spelling)",
    ),
    (
        Field::VictimAge,
        "victim_age",
        "당시나이",
        "the victim's age at the act, 0 to 130 years",
    ),
    (
        Field::Status,
        "status",
        "상태",
        "what is known of the victim since",
    ),
    (
        Field::Facility,
        "facility",
        "구금시설",
        "detention facility type",
    ),
    (
        Field::Agency,
        "agency",
        "가해기관",
        "perpetrator agencies, separated by ;",
    ),
    (
        Field::Relation,
        "relation",
        "증언자와의관계",
        "the witness's relation to the victim",
    ),
    (
        Field::Knowledge,
        "knowledge",
        "인지경로",
        "saw, heard-from-victim, heard-from-others, document, unknown",
    ),
    (
        Field::Reliability,
        "reliability",
        "신뢰도",
        "reliability of the source, A to F",
    ),
    (
        Field::Credibility,
        "credibility",
        "신빙성",
        "credibility of the information, 1 (confirmed) to 6 (cannot be judged)",
    ),
    (
        Field::Description,
        "description",
        "내용",
        "what happened, in the source's words",
    ),
];

const REQUIRED: [Field; 3] = [Field::SourceId, Field::VictimId, Field::ActType];

fn header_key(text: &str) -> String {
    text.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

pub(crate) fn headers_of(field: Field) -> (&'static str, &'static str) {
    COLUMNS
        .iter()
        .find(|(f, ..)| *f == field)
        .map(|(_, en, ko, _)| (*en, *ko))
        .unwrap_or((field.name(), field.name()))
}

/// Ids known to exist: created earlier in this file, or already in the store.
struct Known<'a> {
    created: &'a HashSet<RecordId>,
    sink: &'a dyn ChangeSink,
}

impl girok_intake::Known for Known<'_> {
    fn exists(&self, id: &RecordId) -> bool {
        self.created.contains(id) || matches!(self.sink.kind_of(id), Ok(Some(_)))
    }
}

/// The rows of a file in the layout: a CSV file, or a spreadsheet's first sheet.
pub(crate) trait Rows {
    /// The header row.
    fn header(&mut self) -> Result<csv::StringRecord, ImportError>;
    /// Reads the next row into `record` and gives its line (its row in a
    /// spreadsheet), or what is wrong with a row that cannot be read;
    /// `None` after the last.
    fn next_row(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Result<Option<Result<u64, CsvProblem>>, ImportError>;
}

/// A CSV file's rows.
struct CsvRows<R: std::io::Read> {
    reader: csv::Reader<R>,
    file: String,
}

fn not_csv(e: &csv::Error) -> CsvProblem {
    CsvProblem {
        line: e.position().map(|p| p.line()).unwrap_or(0),
        column: None,
        wrong: Wrong::NotCsv(e.to_string()),
    }
}

impl<R: std::io::Read> CsvRows<R> {
    fn fatal(&self, e: csv::Error) -> ImportError {
        let problem = not_csv(&e);
        ImportError::at(&self.file, problem.line, None, problem.wrong.to_string())
    }
}

impl<R: std::io::Read> Rows for CsvRows<R> {
    fn header(&mut self) -> Result<csv::StringRecord, ImportError> {
        match self.reader.headers() {
            Ok(header) => Ok(header.clone()),
            Err(e) => Err(self.fatal(e)),
        }
    }

    fn next_row(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Result<Option<Result<u64, CsvProblem>>, ImportError> {
        match self.reader.read_record(record) {
            Ok(true) => Ok(Some(Ok(record.position().map(|p| p.line()).unwrap_or(0)))),
            Ok(false) => Ok(None),
            // A row of another width or not UTF-8 is the row's problem; the reader goes on past it.
            Err(e) if !e.is_io_error() => Ok(Some(Err(not_csv(&e)))),
            Err(e) => Err(self.fatal(e)),
        }
    }
}

/// Reads the CSV file's rows into `sink`, as [`import_rows`] does.
pub(crate) fn import(
    path: &Path,
    file: &str,
    sha256: &str,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
    problems: &mut Problems,
) -> Result<Preview, ImportError> {
    let mut rows = CsvRows {
        reader: csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(std::io::BufReader::new(crate::open(path)?)),
        file: file.to_string(),
    };
    import_rows(&mut rows, file, sha256, sink, progress, problems)
}

/// Reads the rows into `sink`; each problem goes to `problems`,
/// which stops the import or notes it and reads on from the next row. The
/// returned preview counts rows and created records; its problems are empty.
pub(crate) fn import_rows(
    rows: &mut dyn Rows,
    file: &str,
    sha256: &str,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
    problems: &mut Problems,
) -> Result<Preview, ImportError> {
    let header_row = rows.header()?;
    let mut columns: Vec<Field> = Vec::new();
    let mut headers: HashMap<Field, String> = HashMap::new();
    let mut header_problems = Vec::new();
    let at_header = |column: Option<&str>, wrong| CsvProblem {
        line: 1,
        column: column.map(str::to_string),
        wrong,
    };
    for header in header_row.iter() {
        let key = header_key(header);
        let Some(column) = COLUMNS
            .iter()
            .find(|(_, en, ko, _)| header_key(en) == key || header_key(ko) == key)
            .map(|(c, ..)| *c)
        else {
            header_problems.push(at_header(Some(header), Wrong::UnknownColumn));
            continue;
        };
        if headers.insert(column, header.to_string()).is_some() {
            header_problems.push(at_header(Some(header), Wrong::RepeatedColumn));
        }
        columns.push(column);
    }
    for column in REQUIRED {
        if !headers.contains_key(&column) {
            header_problems.push(at_header(None, Wrong::MissingColumn(column)));
        }
    }
    let mut read = Preview::default();
    if !header_problems.is_empty() {
        // Rows under headers that cannot be read would be read wrong: only the header is reported.
        for problem in header_problems {
            problems.found(file, problem)?;
        }
        return Ok(read);
    }
    let header = |field: Field| {
        headers
            .get(&field)
            .map(String::as_str)
            .unwrap_or_else(|| headers_of(field).0)
    };
    let provenance = format!("imported from {file}");
    let mut created: HashSet<RecordId> = HashSet::new();
    let mut record = csv::StringRecord::new();
    while let Some(row) = rows.next_row(&mut record)? {
        read.rows += 1;
        let line = match row {
            Ok(line) => line,
            Err(problem) => {
                problems.found(file, problem)?;
                continue;
            }
        };
        let at = |field: Field, wrong| CsvProblem {
            line,
            column: Some(header(field).to_string()),
            wrong,
        };
        let mut testimony = Testimony::new(Stem::row(sha256, line), NewIds::Given);
        testimony.provenance(provenance.clone());
        for (&column, value) in columns.iter().zip(record.iter()) {
            testimony.set(column, value);
        }
        // A row is an attestation: of an act, by a source.
        let empty: Vec<Refusal> = [Field::SourceId, Field::VictimId]
            .into_iter()
            .filter(|&field| testimony.get(field).is_none())
            .map(|field| Refusal {
                field,
                problem: Problem::Missing(""),
            })
            .collect();
        let known = Known {
            created: &created,
            sink: &*sink,
        };
        let made = if empty.is_empty() {
            testimony.changes(sink.vocabularies(), &known)
        } else {
            Err(empty)
        };
        let made = match made {
            Ok(made) => made,
            Err(refusals) => {
                for refusal in refusals {
                    problems.found(file, at(refusal.field, Wrong::Refused(refusal)))?;
                }
                continue;
            }
        };
        for Made {
            field,
            kind,
            change,
        } in made
        {
            if let Some(id) = change.subject() {
                created.insert(id.clone());
            }
            if let Err(error) = sink.apply(change) {
                let field = match &error {
                    StoreError::Invalid(invalid) => field_at_fault(field, kind, &invalid.field),
                    _ => field,
                };
                let (_, message) = crate::refusal(error)?;
                problems.found(file, at(field, Wrong::Store(message)))?;
                // The rest of the row builds on what was refused.
                break;
            }
            *read.created.entry(kind).or_default() += 1;
        }
        progress(record.as_slice().len() as u64 + record.len() as u64);
    }
    Ok(read)
}

/// Collects records and writes one row per attestation of an act when finished.
pub(crate) struct CsvWriter<W: Write> {
    out: Option<W>,
    korean_headers: bool,
    persons: HashMap<RecordId, Person>,
    sources: HashMap<RecordId, Source>,
    acts: HashMap<RecordId, Act>,
    agencies: HashMap<RecordId, Vec<String>>,
    information: Vec<Information>,
}

impl<W: Write> CsvWriter<W> {
    pub(crate) fn new(out: W, korean_headers: bool) -> CsvWriter<W> {
        CsvWriter {
            out: Some(out),
            korean_headers,
            persons: HashMap::new(),
            sources: HashMap::new(),
            acts: HashMap::new(),
            agencies: HashMap::new(),
            information: Vec::new(),
        }
    }
}

impl<W: Write> RecordWriter for CsvWriter<W> {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        match record {
            Record::Person(p) => {
                self.persons.insert(p.id.clone(), p.clone());
            }
            Record::Source(s) => {
                self.sources.insert(s.id.clone(), s.clone());
            }
            Record::Act(a) => {
                self.acts.insert(a.id.clone(), a.clone());
            }
            Record::Involvement(i) => {
                if let Some(agency) = &i.agency {
                    self.agencies
                        .entry(i.act.clone())
                        .or_default()
                        .push(agency.clone());
                }
            }
            Record::Information(i) if i.act.is_some() => self.information.push(i.clone()),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<u64> {
        let Some(out) = self.out.take() else {
            return Ok(0);
        };
        let mut writer = csv::Writer::from_writer(out);
        let header: Vec<&str> = COLUMNS
            .iter()
            .map(|(_, en, ko, _)| if self.korean_headers { *ko } else { *en })
            .collect();
        writer.write_record(&header)?;
        let mut rows = 0u64;
        let text = |value: Option<&str>| value.unwrap_or_default().to_string();
        let date = |date: &FuzzyDate| {
            if date.is_unknown() {
                String::new()
            } else {
                date.to_string()
            }
        };
        for information in &self.information {
            let (Some(act), Some(source)) = (
                information.act.as_ref().and_then(|id| self.acts.get(id)),
                self.sources.get(&information.source),
            ) else {
                continue;
            };
            let victim = self.persons.get(&act.victim);
            let witness = source.witness.as_ref().and_then(|id| self.persons.get(id));
            let cells: Vec<String> = COLUMNS
                .iter()
                .map(|(column, ..)| match column {
                    Field::SourceId => source.id.to_string(),
                    Field::SourceKind => source.kind.to_string(),
                    Field::SourceTitle => source.title.clone(),
                    Field::Consent => text(source.consent.map(|c| c.as_str())),
                    Field::SourceDate => date(&source.obtained),
                    Field::Language => text(source.language.as_deref()),
                    Field::Organisation => text(source.organisation.as_deref()),
                    Field::SourceNotes => source.notes.clone(),
                    Field::WitnessId => text(source.witness.as_ref().map(RecordId::as_str)),
                    Field::WitnessName => witness
                        .and_then(|w| w.names.first())
                        .map(|n| n.text.clone())
                        .unwrap_or_default(),
                    Field::VictimId => act.victim.to_string(),
                    Field::VictimNames => victim
                        .map(|v| {
                            v.names
                                .iter()
                                .map(|n| n.text.as_str())
                                .collect::<Vec<_>>()
                                .join(";")
                        })
                        .unwrap_or_default(),
                    Field::Sex => victim.map(|v| v.sex.to_string()).unwrap_or_default(),
                    Field::Birth => victim.map(|v| date(&v.birth)).unwrap_or_default(),
                    Field::Origin => text(victim.and_then(|v| v.origin.as_deref())),
                    Field::WitnessSex => witness.map(|w| w.sex.to_string()).unwrap_or_default(),
                    Field::ActId => act.id.to_string(),
                    Field::EventId => text(act.event.as_ref().map(RecordId::as_str)),
                    Field::ActType => act.act_type.clone(),
                    Field::ActDate => date(&act.date),
                    Field::ActPlace => text(act.place.as_deref()),
                    Field::VictimAge => act.victim_age.map(|a| a.to_string()).unwrap_or_default(),
                    Field::Status => text(act.status.as_deref()),
                    Field::Facility => text(act.facility.as_deref()),
                    Field::Agency => self
                        .agencies
                        .get(&act.id)
                        .map(|a| a.join(";"))
                        .unwrap_or_default(),
                    Field::Relation => text(information.relation.as_deref()),
                    Field::Knowledge => information.knowledge.to_string(),
                    Field::Reliability => text(information.reliability.map(|r| r.as_str())),
                    Field::Credibility => information
                        .credibility
                        .map(|grade| grade.to_string())
                        .unwrap_or_default(),
                    Field::Description => act.description.clone(),
                })
                .collect();
            writer.write_record(&cells)?;
            rows += 1;
        }
        writer.flush()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_a_testimony_has_a_column_headed_by_its_name() {
        for field in Field::ALL {
            let columns: Vec<&str> = COLUMNS
                .iter()
                .filter(|(f, ..)| f == field)
                .map(|(_, en, ..)| *en)
                .collect();
            assert_eq!(columns, [field.name()], "{field:?}");
        }
        assert_eq!(COLUMNS.len(), Field::ALL.len());
    }
}
