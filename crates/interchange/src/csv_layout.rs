//! The flat CSV layout: one row per act as one source tells it.
//!
//! A row names a source, a victim and an act. The source and the victim are
//! created from the first row that names a new id and reused by later rows
//! (and by later files). An act id that already exists adds one more
//! attestation of that act from the row's source: corroboration.
//! Headers may be English or Korean; values may be vocabulary keys or any
//! English, Korean or romanized label of a term.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use girok_model::*;
use girok_store::ChangeSink;

use crate::{ImportError, ImportSummary, RecordWriter};

/// The columns of the CSV layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    SourceId,
    SourceKind,
    SourceTitle,
    Consent,
    SourceDate,
    Organisation,
    WitnessId,
    WitnessName,
    VictimId,
    VictimNames,
    Sex,
    Birth,
    Origin,
    ActId,
    ActType,
    ActDate,
    ActPlace,
    VictimAge,
    Status,
    Facility,
    Agency,
    Relation,
    Knowledge,
    Reliability,
    Description,
}

/// Every column: English header, Korean header, what it holds.
pub const COLUMNS: &[(Column, &str, &str, &str)] = &[
    (
        Column::SourceId,
        "source_id",
        "출처ID",
        "required: id of the source (testimony, document...)",
    ),
    (
        Column::SourceKind,
        "source_kind",
        "출처유형",
        "interview (default), document, report, media, other",
    ),
    (
        Column::SourceTitle,
        "source_title",
        "출처제목",
        "required for a new source",
    ),
    (
        Column::Consent,
        "consent",
        "동의범위",
        "required for a new interview: internal, partners, public-anonymised, public",
    ),
    (
        Column::SourceDate,
        "source_date",
        "입수일",
        "when the source was obtained (fuzzy date)",
    ),
    (
        Column::Organisation,
        "organisation",
        "기록단체",
        "the documenting organisation",
    ),
    (
        Column::WitnessId,
        "witness_id",
        "증언자ID",
        "id of the person who gave the testimony",
    ),
    (
        Column::WitnessName,
        "witness_name",
        "증언자이름",
        "the witness's name, for a new witness",
    ),
    (
        Column::VictimId,
        "victim_id",
        "피해자ID",
        "required: id of the victim",
    ),
    (
        Column::VictimNames,
        "victim_names",
        "피해자이름",
        "names of a new victim, separated by ;",
    ),
    (
        Column::Sex,
        "sex",
        "성별",
        "female, male, other, unknown (or 여성, 남성...)",
    ),
    (Column::Birth, "birth", "출생", "birth date (fuzzy date)"),
    (
        Column::Origin,
        "origin",
        "출신지",
        "place of origin (gazetteer: any spelling)",
    ),
    (
        Column::ActId,
        "act_id",
        "행위ID",
        "id of the act; generated when empty; an existing id adds an attestation",
    ),
    (
        Column::ActType,
        "act_type",
        "행위유형",
        "required: act type (key or label)",
    ),
    (
        Column::ActDate,
        "act_date",
        "행위일시",
        "when (fuzzy date; empty means unknown)",
    ),
    (
        Column::ActPlace,
        "act_place",
        "행위장소",
        "where (gazetteer: any spelling)",
    ),
    (
        Column::VictimAge,
        "victim_age",
        "당시나이",
        "the victim's age at the act, in years",
    ),
    (
        Column::Status,
        "status",
        "상태",
        "what is known of the victim since",
    ),
    (
        Column::Facility,
        "facility",
        "구금시설",
        "detention facility type",
    ),
    (
        Column::Agency,
        "agency",
        "가해기관",
        "perpetrator agencies, separated by ;",
    ),
    (
        Column::Relation,
        "relation",
        "증언자와의관계",
        "the witness's relation to the victim",
    ),
    (
        Column::Knowledge,
        "knowledge",
        "인지경로",
        "saw, heard-from-victim, heard-from-others, document, unknown",
    ),
    (
        Column::Reliability,
        "reliability",
        "신뢰도",
        "reliability of the source, A to F",
    ),
    (
        Column::Description,
        "description",
        "내용",
        "what happened, in the source's words",
    ),
];

const REQUIRED: [Column; 3] = [Column::SourceId, Column::VictimId, Column::ActType];

fn header_key(text: &str) -> String {
    text.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn headers_of(column: Column) -> (&'static str, &'static str) {
    COLUMNS
        .iter()
        .find(|(c, ..)| *c == column)
        .map(|(_, en, ko, _)| (*en, *ko))
        .unwrap_or(("?", "?"))
}

/// One parsed row, by column.
struct Row<'a> {
    file: &'a str,
    line: u64,
    cells: HashMap<Column, &'a str>,
    headers: &'a HashMap<Column, String>,
}

impl Row<'_> {
    fn get(&self, column: Column) -> Option<&str> {
        self.cells
            .get(&column)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn header(&self, column: Column) -> &str {
        self.headers
            .get(&column)
            .map(String::as_str)
            .unwrap_or_else(|| headers_of(column).0)
    }

    fn error(&self, column: Column, message: impl Into<String>) -> ImportError {
        ImportError::at(self.file, self.line, Some(self.header(column)), message)
    }

    fn required(&self, column: Column, why: &str) -> Result<&str, ImportError> {
        self.get(column)
            .ok_or_else(|| self.error(column, format!("must not be empty {why}")))
    }

    fn id(&self, column: Column) -> Result<Option<RecordId>, ImportError> {
        match self.get(column) {
            None => Ok(None),
            Some(text) => {
                let id = RecordId::new(text);
                if id.is_well_formed() {
                    Ok(Some(id))
                } else {
                    Err(self.error(
                        column,
                        format!(
                            "'{text}' is not a valid id: use 1 to 64 letters, digits or - _ . :"
                        ),
                    ))
                }
            }
        }
    }

    fn keyword<T>(
        &self,
        column: Column,
        parse: fn(&str) -> Option<T>,
        expected: String,
    ) -> Result<Option<T>, ImportError> {
        self.get(column)
            .map(|text| {
                parse(text)
                    .ok_or_else(|| self.error(column, format!("'{text}' is not one of {expected}")))
            })
            .transpose()
    }

    fn date(&self, column: Column) -> Result<FuzzyDate, ImportError> {
        match self.get(column) {
            None => Ok(FuzzyDate::UNKNOWN),
            Some(text) => FuzzyDate::parse(text).map_err(|e| self.error(column, e.to_string())),
        }
    }

    fn term(
        &self,
        column: Column,
        vocabularies: &Vocabularies,
        kind: VocabKind,
    ) -> Result<Option<String>, ImportError> {
        self.get(column)
            .map(|text| self.resolve(column, vocabularies, kind, text))
            .transpose()
    }

    fn resolve(
        &self,
        column: Column,
        vocabularies: &Vocabularies,
        kind: VocabKind,
        text: &str,
    ) -> Result<String, ImportError> {
        vocabularies
            .get(kind)
            .resolve(text)
            .map(|t| t.key.clone())
            .map_err(|e| self.error(column, e.to_string()))
    }

    /// The changes this row makes, given what is known already.
    fn changes(
        &self,
        prefix: &str,
        known: &Known,
        vocabularies: &Vocabularies,
    ) -> Result<Vec<(Column, Change)>, ImportError> {
        let mut changes = Vec::new();
        let source_id = self
            .id(Column::SourceId)?
            .ok_or_else(|| self.error(Column::SourceId, "must not be empty"))?;
        let victim_id = self
            .id(Column::VictimId)?
            .ok_or_else(|| self.error(Column::VictimId, "must not be empty"))?;
        let witness_id = self.id(Column::WitnessId)?;
        if let Some(witness) = witness_id.as_ref().filter(|id| !known.contains(id)) {
            let names = self
                .get(Column::WitnessName)
                .map(|n| vec![Name::detect(n, Romanization::Unknown)])
                .unwrap_or_default();
            changes.push((
                Column::WitnessName,
                create(Record::Person(Person {
                    protected: true,
                    ..Person::new(witness.clone(), names)
                })),
            ));
        }
        if !known.contains(&source_id) {
            let kind = self
                .keyword(
                    Column::SourceKind,
                    SourceKind::parse,
                    SourceKind::expected(),
                )?
                .unwrap_or(SourceKind::Interview);
            let source = Source {
                id: source_id.clone(),
                kind,
                title: self
                    .required(Column::SourceTitle, "for a new source")?
                    .to_string(),
                obtained: self.date(Column::SourceDate)?,
                language: None,
                organisation: self.get(Column::Organisation).map(str::to_string),
                provenance: format!("imported from {}", self.file),
                consent: self.keyword(
                    Column::Consent,
                    ConsentScope::parse,
                    ConsentScope::expected(),
                )?,
                witness: witness_id,
                received_by: None,
                notes: String::new(),
                clarifications: BTreeMap::new(),
                sealed: None,
            };
            changes.push((Column::SourceTitle, create(Record::Source(source))));
        }
        if !known.contains(&victim_id) {
            let names = self
                .get(Column::VictimNames)
                .map(|names| {
                    names
                        .split(';')
                        .filter(|n| !n.trim().is_empty())
                        .map(|n| Name::detect(n, Romanization::Unknown))
                        .collect()
                })
                .unwrap_or_default();
            let mut person = Person::new(victim_id.clone(), names);
            person.sex = self
                .keyword(Column::Sex, parse_sex, Sex::expected())?
                .unwrap_or(Sex::Unknown);
            person.birth = self.date(Column::Birth)?;
            person.origin = self.term(Column::Origin, vocabularies, VocabKind::Place)?;
            changes.push((Column::VictimNames, create(Record::Person(person))));
        }
        let line_id = |suffix: &str| RecordId::new(format!("{prefix}-L{:08}{suffix}", self.line));
        let act_id = self.id(Column::ActId)?.unwrap_or_else(|| line_id(""));
        if !known.contains(&act_id) {
            let act_type_text = self.required(Column::ActType, "")?;
            let act = Act {
                id: act_id.clone(),
                act_type: self.resolve(
                    Column::ActType,
                    vocabularies,
                    VocabKind::ActType,
                    act_type_text,
                )?,
                victim: victim_id,
                event: None,
                date: self.date(Column::ActDate)?,
                place: self.term(Column::ActPlace, vocabularies, VocabKind::Place)?,
                victim_age: self
                    .get(Column::VictimAge)
                    .map(|age| {
                        age.parse::<u16>().map_err(|_| {
                            self.error(
                                Column::VictimAge,
                                format!("'{age}' is not a whole number of years"),
                            )
                        })
                    })
                    .transpose()?,
                status: self.term(Column::Status, vocabularies, VocabKind::ActStatus)?,
                facility: self.term(Column::Facility, vocabularies, VocabKind::FacilityType)?,
                description: self
                    .get(Column::Description)
                    .unwrap_or_default()
                    .to_string(),
                received_by: None,
                clarifications: BTreeMap::new(),
            };
            changes.push((Column::ActType, create(Record::Act(act))));
            for (n, agency) in self
                .get(Column::Agency)
                .unwrap_or_default()
                .split(';')
                .filter(|a| !a.trim().is_empty())
                .enumerate()
            {
                let involvement = Involvement {
                    id: line_id(&format!("-inv{}", n + 1)),
                    act: act_id.clone(),
                    perpetrator: None,
                    agency: Some(self.resolve(
                        Column::Agency,
                        vocabularies,
                        VocabKind::Agency,
                        agency.trim(),
                    )?),
                    degree: Degree::Unknown,
                    clarifications: BTreeMap::new(),
                };
                changes.push((Column::Agency, create(Record::Involvement(involvement))));
            }
        }
        let information = Information {
            id: line_id("-inf"),
            source: source_id,
            act: Some(act_id),
            event: None,
            reliability: self.keyword(
                Column::Reliability,
                Reliability::parse,
                Reliability::expected(),
            )?,
            credibility: None,
            relation: self.term(Column::Relation, vocabularies, VocabKind::Relation)?,
            knowledge: self
                .keyword(Column::Knowledge, Knowledge::parse, Knowledge::expected())?
                .unwrap_or(Knowledge::Unknown),
            clarifications: BTreeMap::new(),
        };
        changes.push((Column::Relation, create(Record::Information(information))));
        Ok(changes)
    }
}

fn parse_sex(text: &str) -> Option<Sex> {
    Sex::parse(text).or(match text.trim().to_lowercase().as_str() {
        "f" | "여" | "woman" => Some(Sex::Female),
        "m" | "남" | "man" => Some(Sex::Male),
        _ => None,
    })
}

fn create(record: Record) -> Change {
    Change::Create { record }
}

/// Ids known to exist: created earlier in this file, or already in the store.
struct Known<'a> {
    created: &'a HashSet<RecordId>,
    sink: &'a dyn ChangeSink,
}

impl Known<'_> {
    fn contains(&self, id: &RecordId) -> bool {
        self.created.contains(id) || matches!(self.sink.kind_of(id), Ok(Some(_)))
    }
}

pub(crate) fn import(
    path: &Path,
    sha256: &str,
    sink: &mut dyn ChangeSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let file = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::new(crate::open(path)?));
    let located = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        ImportError::at(&file, line, None, format!("not valid CSV: {e}"))
    };
    let header_row = reader.headers().map_err(located)?.clone();
    let mut columns: Vec<Option<Column>> = Vec::new();
    let mut headers: HashMap<Column, String> = HashMap::new();
    for header in header_row.iter() {
        let key = header_key(header);
        let column = COLUMNS
            .iter()
            .find(|(_, en, ko, _)| header_key(en) == key || header_key(ko) == key)
            .map(|(c, ..)| *c)
            .ok_or_else(|| {
                let accepted: Vec<String> = COLUMNS
                    .iter()
                    .map(|(_, en, ko, _)| format!("{en}/{ko}"))
                    .collect();
                ImportError::at(
                    &file,
                    1,
                    Some(header),
                    format!("unknown column; the columns are {}", accepted.join(", ")),
                )
            })?;
        if headers.insert(column, header.to_string()).is_some() {
            return Err(ImportError::at(&file, 1, Some(header), "appears twice"));
        }
        columns.push(Some(column));
    }
    for column in REQUIRED {
        if !headers.contains_key(&column) {
            let (en, ko) = headers_of(column);
            return Err(ImportError::at(
                &file,
                1,
                None,
                format!("the required column {en} (or {ko}) is missing"),
            ));
        }
    }
    let prefix = &sha256[..12];
    let mut summary = ImportSummary::default();
    let mut created: HashSet<RecordId> = HashSet::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(located)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cells = columns
            .iter()
            .zip(record.iter())
            .filter_map(|(c, v)| c.map(|c| (c, v)))
            .collect();
        let row = Row {
            file: &file,
            line,
            cells,
            headers: &headers,
        };
        let known = Known {
            created: &created,
            sink: &*sink,
        };
        let changes = row.changes(prefix, &known, sink.vocabularies())?;
        let new_records = changes.len() as u64;
        for (column, change) in changes {
            if let Some(id) = change.subject() {
                created.insert(id.clone());
            }
            sink.apply(change)
                .map_err(|e| ImportError::refused(&file, line, Some(row.header(column)), e))?;
        }
        summary.records += new_records;
        progress(record.as_slice().len() as u64 + record.len() as u64);
    }
    Ok(summary)
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
                    Column::SourceId => source.id.to_string(),
                    Column::SourceKind => source.kind.to_string(),
                    Column::SourceTitle => source.title.clone(),
                    Column::Consent => text(source.consent.map(|c| c.as_str())),
                    Column::SourceDate => date(&source.obtained),
                    Column::Organisation => text(source.organisation.as_deref()),
                    Column::WitnessId => text(source.witness.as_ref().map(RecordId::as_str)),
                    Column::WitnessName => witness
                        .and_then(|w| w.names.first())
                        .map(|n| n.text.clone())
                        .unwrap_or_default(),
                    Column::VictimId => act.victim.to_string(),
                    Column::VictimNames => victim
                        .map(|v| {
                            v.names
                                .iter()
                                .map(|n| n.text.as_str())
                                .collect::<Vec<_>>()
                                .join(";")
                        })
                        .unwrap_or_default(),
                    Column::Sex => victim.map(|v| v.sex.to_string()).unwrap_or_default(),
                    Column::Birth => victim.map(|v| date(&v.birth)).unwrap_or_default(),
                    Column::Origin => text(victim.and_then(|v| v.origin.as_deref())),
                    Column::ActId => act.id.to_string(),
                    Column::ActType => act.act_type.clone(),
                    Column::ActDate => date(&act.date),
                    Column::ActPlace => text(act.place.as_deref()),
                    Column::VictimAge => act.victim_age.map(|a| a.to_string()).unwrap_or_default(),
                    Column::Status => text(act.status.as_deref()),
                    Column::Facility => text(act.facility.as_deref()),
                    Column::Agency => self
                        .agencies
                        .get(&act.id)
                        .map(|a| a.join(";"))
                        .unwrap_or_default(),
                    Column::Relation => text(information.relation.as_deref()),
                    Column::Knowledge => information.knowledge.to_string(),
                    Column::Reliability => text(information.reliability.map(|r| r.as_str())),
                    Column::Description => act.description.clone(),
                })
                .collect();
            writer.write_record(&cells)?;
            rows += 1;
        }
        writer.flush()?;
        Ok(rows)
    }
}
