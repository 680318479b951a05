//! The lookup tables: what queries need of each record, as rows. The journal
//! is the only copy of record content; these rows are a function of it,
//! defined once here so that every backend writes the same rows and `check`
//! can compare a backend's rows with the rows the replayed state gives,
//! naming table, row and column.

use std::borrow::Cow;

use girok_model::{FuzzyDate, Record, RecordId, RecordKind};

use crate::{Decision, Difference, MAX_REPORTED, RecordMeta};

/// One value of a row: what SQL calls NULL, INTEGER and TEXT.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell<'a> {
    Null,
    Integer(i64),
    Text(Cow<'a, str>),
}

impl Cell<'_> {
    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Integer(value) => Cell::Integer(value),
            Cell::Text(text) => Cell::Text(Cow::Owned(text.into_owned())),
        }
    }
}

impl std::fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Integer(value) => write!(f, "{value}"),
            // Long texts are cut: a difference names the row, it need not quote it whole.
            Cell::Text(text) if text.chars().count() > 80 => {
                let start: String = text.chars().take(80).collect();
                write!(f, "'{}…'", start.escape_debug())
            }
            Cell::Text(text) => write!(f, "'{}'", text.escape_debug()),
        }
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(text: &'a str) -> Self {
        Cell::Text(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(text: &'a String) -> Self {
        Cell::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Cell<'_> {
    fn from(text: String) -> Self {
        Cell::Text(Cow::Owned(text))
    }
}

impl<'a> From<&'a RecordId> for Cell<'a> {
    fn from(id: &'a RecordId) -> Self {
        Cell::from(id.as_str())
    }
}

impl From<bool> for Cell<'_> {
    fn from(value: bool) -> Self {
        Cell::Integer(i64::from(value))
    }
}

impl From<u16> for Cell<'_> {
    fn from(value: u16) -> Self {
        Cell::Integer(i64::from(value))
    }
}

impl From<u32> for Cell<'_> {
    fn from(value: u32) -> Self {
        Cell::Integer(i64::from(value))
    }
}

impl From<u64> for Cell<'_> {
    fn from(value: u64) -> Self {
        // Sequence numbers and file sizes never reach 2^63; saturate rather than wrap.
        Cell::Integer(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl<'a, T: Into<Cell<'a>>> From<Option<T>> for Cell<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Null, Into::into)
    }
}

/// A table of the state: its name, its columns, and how many of the first
/// columns make its key.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub key_len: usize,
}

impl Table {
    pub fn key_columns(&self) -> &'static [&'static str] {
        &self.columns[..self.key_len]
    }
}

/// The registry: every id ever used.
pub const RECORD: Table = Table {
    name: "record",
    columns: &[
        "id",
        "kind",
        "revision",
        "created_seq",
        "created_by",
        "updated_seq",
        "updated_by",
        "content_seq",
        "deleted",
    ],
    key_len: 1,
};

pub const SOURCE: Table = Table {
    name: "source",
    columns: &[
        "id",
        "kind",
        "title",
        "obtained_start",
        "obtained_end",
        "organisation",
        "consent",
        "witness",
    ],
    key_len: 1,
};

pub const PERSON: Table = Table {
    name: "person",
    columns: &[
        "id",
        "sex",
        "birth_start",
        "birth_end",
        "origin",
        "protected",
        "unit",
        "unit_size",
    ],
    key_len: 1,
};

pub const PERSON_NAME: Table = Table {
    name: "person_name",
    columns: &["person", "position", "text", "script", "system", "kind"],
    key_len: 2,
};

pub const EVENT: Table = Table {
    name: "event",
    columns: &[
        "id",
        "title",
        "date_start",
        "date_end",
        "date_precision",
        "place",
    ],
    key_len: 1,
};

pub const ACT: Table = Table {
    name: "act",
    columns: &[
        "id",
        "act_type",
        "victim",
        "event",
        "date_start",
        "date_end",
        "date_precision",
        "place",
        "victim_age",
        "status",
        "facility",
    ],
    key_len: 1,
};

pub const INVOLVEMENT: Table = Table {
    name: "involvement",
    columns: &["id", "act", "perpetrator", "agency", "degree"],
    key_len: 1,
};

pub const INFORMATION: Table = Table {
    name: "information",
    columns: &[
        "id",
        "source",
        "act",
        "event",
        "relation",
        "reliability",
        "knowledge",
    ],
    key_len: 1,
};

pub const RELATION: Table = Table {
    name: "relation",
    columns: &["id", "person", "other", "relation"],
    key_len: 1,
};

pub const EVIDENCE: Table = Table {
    name: "evidence",
    columns: &["id", "source", "sha256", "file_name", "size"],
    key_len: 1,
};

pub const CUSTODY: Table = Table {
    name: "custody",
    columns: &["seq", "evidence", "sha256", "action", "recipient", "note"],
    key_len: 1,
};

pub const TERM: Table = Table {
    name: "term",
    columns: &["vocabulary", "key", "body", "added_seq"],
    key_len: 2,
};

pub const IMPORT: Table = Table {
    name: "import",
    columns: &["sha256", "file_name", "records", "seq", "time"],
    key_len: 1,
};

pub const SAME_PERSON: Table = Table {
    name: "same_person",
    columns: &["a", "b", "seq"],
    key_len: 2,
};

pub const DIFFERENT_PERSON: Table = Table {
    name: "different_person",
    columns: &["a", "b", "seq"],
    key_len: 2,
};

pub const FORGOTTEN: Table = Table {
    name: "forgotten",
    columns: &["subject", "seq"],
    key_len: 1,
};

/// Every table of the state, a function of the journal: what `check` compares.
pub const STATE_TABLES: [&Table; 16] = [
    &RECORD,
    &SOURCE,
    &PERSON,
    &PERSON_NAME,
    &EVENT,
    &ACT,
    &INVOLVEMENT,
    &INFORMATION,
    &RELATION,
    &EVIDENCE,
    &CUSTODY,
    &TERM,
    &IMPORT,
    &SAME_PERSON,
    &DIFFERENT_PERSON,
    &FORGOTTEN,
];

/// The table that holds the pairs of `decision`.
pub fn decision_table(decision: Decision) -> &'static Table {
    match decision {
        Decision::Same => &SAME_PERSON,
        Decision::Different => &DIFFERENT_PERSON,
    }
}

/// Every lookup table, each keyed first by the id of the record its rows
/// come from.
pub const LOOKUP_TABLES: [&Table; 9] = [
    &SOURCE,
    &PERSON,
    &PERSON_NAME,
    &EVENT,
    &ACT,
    &INVOLVEMENT,
    &INFORMATION,
    &RELATION,
    &EVIDENCE,
];

/// The lookup tables that hold rows of a record of `kind`.
pub fn tables_of(kind: RecordKind) -> &'static [&'static Table] {
    match kind {
        RecordKind::Source => &[&SOURCE],
        RecordKind::Person => &[&PERSON, &PERSON_NAME],
        RecordKind::Event => &[&EVENT],
        RecordKind::Act => &[&ACT],
        RecordKind::Involvement => &[&INVOLVEMENT],
        RecordKind::Information => &[&INFORMATION],
        RecordKind::Relation => &[&RELATION],
        RecordKind::Evidence => &[&EVIDENCE],
    }
}

/// One row of a table, its cells in the table's column order.
pub type Row<'a> = Vec<Cell<'a>>;

fn dates(date: &FuzzyDate) -> (Cell<'static>, Cell<'static>) {
    (
        date.start().map(|d| d.to_string()).into(),
        date.end().map(|d| d.to_string()).into(),
    )
}

/// The rows a live record has in the lookup tables, with the table of each.
/// A source's `consent` cell is the record's consent: callers pass the
/// record with its current consent.
pub fn lookup_rows(record: &Record) -> Vec<(&'static Table, Row<'_>)> {
    match record {
        Record::Source(r) => {
            let (start, end) = dates(&r.obtained);
            vec![(
                &SOURCE,
                vec![
                    (&r.id).into(),
                    r.kind.as_str().into(),
                    (&r.title).into(),
                    start,
                    end,
                    r.organisation.as_ref().into(),
                    r.consent.map(|c| c.as_str()).into(),
                    r.witness.as_ref().into(),
                ],
            )]
        }
        Record::Person(r) => {
            let (start, end) = dates(&r.birth);
            let mut rows = vec![(
                &PERSON,
                vec![
                    (&r.id).into(),
                    r.sex.as_str().into(),
                    start,
                    end,
                    r.origin.as_ref().into(),
                    r.protected.into(),
                    r.unit.kind.as_str().into(),
                    r.unit.size.into(),
                ],
            )];
            for (position, name) in r.names.iter().enumerate() {
                rows.push((
                    &PERSON_NAME,
                    vec![
                        (&r.id).into(),
                        (position as u64).into(),
                        (&name.text).into(),
                        name.script.as_str().into(),
                        name.system.as_str().into(),
                        name.kind.as_str().into(),
                    ],
                ));
            }
            rows
        }
        Record::Event(r) => {
            let (start, end) = dates(&r.date);
            vec![(
                &EVENT,
                vec![
                    (&r.id).into(),
                    (&r.title).into(),
                    start,
                    end,
                    r.date.precision().as_str().into(),
                    r.place.as_ref().into(),
                ],
            )]
        }
        Record::Act(r) => {
            let (start, end) = dates(&r.date);
            vec![(
                &ACT,
                vec![
                    (&r.id).into(),
                    (&r.act_type).into(),
                    (&r.victim).into(),
                    r.event.as_ref().into(),
                    start,
                    end,
                    r.date.precision().as_str().into(),
                    r.place.as_ref().into(),
                    r.victim_age.into(),
                    r.status.as_ref().into(),
                    r.facility.as_ref().into(),
                ],
            )]
        }
        Record::Involvement(r) => vec![(
            &INVOLVEMENT,
            vec![
                (&r.id).into(),
                (&r.act).into(),
                r.perpetrator.as_ref().into(),
                r.agency.as_ref().into(),
                r.degree.as_str().into(),
            ],
        )],
        Record::Information(r) => vec![(
            &INFORMATION,
            vec![
                (&r.id).into(),
                (&r.source).into(),
                r.act.as_ref().into(),
                r.event.as_ref().into(),
                r.relation.as_ref().into(),
                r.reliability.map(|v| v.as_str()).into(),
                r.knowledge.as_str().into(),
            ],
        )],
        Record::Relation(r) => vec![(
            &RELATION,
            vec![
                (&r.id).into(),
                (&r.person).into(),
                (&r.other).into(),
                (&r.relation).into(),
            ],
        )],
        Record::Evidence(r) => vec![(
            &EVIDENCE,
            vec![
                (&r.id).into(),
                (&r.source).into(),
                (&r.sha256).into(),
                (&r.file_name).into(),
                r.size.into(),
            ],
        )],
    }
}

/// A registry entry as a row of [`RECORD`].
pub fn record_row<'a>(id: &'a RecordId, meta: &'a RecordMeta) -> Row<'a> {
    vec![
        id.into(),
        meta.kind.as_str().into(),
        meta.revision.into(),
        meta.created_seq.into(),
        (&meta.created_by).into(),
        meta.updated_seq.into(),
        (&meta.updated_by).into(),
        meta.content_seq.into(),
        meta.deleted.into(),
    ]
}

/// Where a table's stored rows differ from the rows the journal gives. Both
/// come in key order, so neither side is held in memory whole.
pub fn compare_table<'e, E>(
    table: &Table,
    stored: impl IntoIterator<Item = Result<Row<'static>, E>>,
    expected: impl IntoIterator<Item = Result<Row<'e>, E>>,
) -> Result<Vec<Difference>, E> {
    let mut found = Differences::new(table.name);
    let mut stored = stored.into_iter();
    let mut expected = expected.into_iter();
    let mut next_stored = stored.next().transpose()?;
    let mut next_expected = expected.next().transpose()?;
    loop {
        let order = match (&next_stored, &next_expected) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(s), Some(e)) => s[..table.key_len].cmp(&e[..table.key_len]),
        };
        match order {
            std::cmp::Ordering::Less => {
                if let Some(row) = &next_stored {
                    found.push(
                        key_of(table, row),
                        "is in the state tables but no journal entry creates it \
                         (written outside the journal)"
                            .into(),
                    );
                }
                next_stored = stored.next().transpose()?;
            }
            std::cmp::Ordering::Greater => {
                if let Some(row) = &next_expected {
                    found.push(
                        key_of(table, row),
                        "is missing from the state tables although the journal creates it".into(),
                    );
                }
                next_expected = expected.next().transpose()?;
            }
            std::cmp::Ordering::Equal => {
                if let (Some(s), Some(e)) = (&next_stored, &next_expected)
                    && s != e
                {
                    found.push(key_of(table, s), column_differences(table, s, e));
                }
                next_stored = stored.next().transpose()?;
                next_expected = expected.next().transpose()?;
            }
        }
    }
    Ok(found.finish())
}

/// The columns in which a stored row differs from the row the journal gives.
pub(crate) fn column_differences(table: &Table, stored: &[Cell], expected: &[Cell]) -> String {
    table
        .columns
        .iter()
        .zip(stored.iter().zip(expected))
        .filter(|(_, (s, e))| s != e)
        .map(|(column, (s, e))| format!("column {column} is {s} but the journal says {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn key_of(table: &Table, row: &[Cell]) -> String {
    row[..table.key_len.min(row.len())]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// At most [`MAX_REPORTED`] differences of one table, the rest counted.
pub(crate) struct Differences {
    table: &'static str,
    found: Vec<Difference>,
    more: usize,
}

impl Differences {
    pub(crate) fn new(table: &'static str) -> Differences {
        Differences {
            table,
            found: Vec::new(),
            more: 0,
        }
    }

    pub(crate) fn push(&mut self, key: String, detail: String) {
        if self.found.len() == MAX_REPORTED {
            self.more += 1;
        } else {
            self.found.push(Difference {
                table: self.table.to_string(),
                key,
                detail,
            });
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Difference> {
        if self.more > 0 {
            self.found.push(Difference {
                table: self.table.to_string(),
                key: "…".into(),
                detail: format!("and {} more differing rows", self.more),
            });
        }
        self.found
    }
}
