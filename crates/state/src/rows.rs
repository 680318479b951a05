//! The state as typed rows: what any backend can dump and compare with the
//! reference, naming table, row and column where they disagree.

use std::collections::BTreeMap;

use girok_model::{CustodyAction, Record, RecordId, Term, VocabKind};

use crate::tables::{Differences, RECORD, column_differences, record_row};
use crate::{Decision, RecordMeta};

/// One custody event of an evidence file, keyed by its journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyRow {
    pub evidence: RecordId,
    pub sha256: String,
    pub action: CustodyAction,
    pub recipient: Option<String>,
    pub note: String,
}

/// A vocabulary term added to a database, with the entry that added it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedTerm {
    pub term: Term,
    pub added_seq: u64,
}

/// An imported file, keyed by its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub file_name: String,
    pub records: u64,
    pub seq: u64,
    pub time: String,
}

/// The whole state of a database: a function of its journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateRows {
    /// Every id ever used.
    pub records: BTreeMap<RecordId, RecordMeta>,
    /// The current content of every live record, sources with their current consent.
    pub content: BTreeMap<RecordId, Record>,
    /// Linkage decisions by pair (`a < b`), with the entry that made each.
    pub decisions: BTreeMap<(Decision, RecordId, RecordId), u64>,
    /// Forgotten subjects, with the entry that forgot each.
    pub forgotten: BTreeMap<RecordId, u64>,
    pub custody: BTreeMap<u64, CustodyRow>,
    pub terms: BTreeMap<(VocabKind, String), AddedTerm>,
    pub imports: BTreeMap<String, ImportRow>,
}

/// One row where two states disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub table: String,
    pub key: String,
    pub detail: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "table {}, row {}: {}", self.table, self.key, self.detail)
    }
}

/// At most this many differences are reported per table; the rest are counted.
pub const MAX_REPORTED: usize = 20;

impl StateRows {
    /// Where `self` (the stored state) differs from `expected` (the state
    /// the journal gives), table by table.
    pub fn differences(&self, expected: &StateRows) -> Vec<Difference> {
        let mut found = Vec::new();
        found.extend(compare(
            "record",
            &self.records,
            &expected.records,
            meta_columns,
        ));
        found.extend(compare(
            "content",
            &self.content,
            &expected.content,
            |_, _, _| "the record differs from the content its journal entry holds".into(),
        ));
        found.extend(compare(
            "linkage decision",
            &self.decisions,
            &expected.decisions,
            |_, s, e| format!("made at entry {s} but the journal says {e}"),
        ));
        found.extend(compare(
            "forgotten",
            &self.forgotten,
            &expected.forgotten,
            |_, s, e| format!("forgotten at entry {s} but the journal says {e}"),
        ));
        found.extend(compare(
            "custody",
            &self.custody,
            &expected.custody,
            |_, s, e| format!("is {s:?} but the journal says {e:?}"),
        ));
        found.extend(compare("term", &self.terms, &expected.terms, |_, s, e| {
            format!("is {s:?} but the journal says {e:?}")
        }));
        found.extend(compare(
            "import",
            &self.imports,
            &expected.imports,
            |_, s, e| format!("is {s:?} but the journal says {e:?}"),
        ));
        found
    }
}

fn meta_columns(id: &RecordId, stored: &RecordMeta, expected: &RecordMeta) -> String {
    column_differences(&RECORD, &record_row(id, stored), &record_row(id, expected))
}

fn compare<K: Ord + RowKey, V: PartialEq>(
    table: &'static str,
    stored: &BTreeMap<K, V>,
    expected: &BTreeMap<K, V>,
    detail: impl Fn(&K, &V, &V) -> String,
) -> Vec<Difference> {
    let mut found = Differences::new(table);
    for (key, value) in stored {
        match expected.get(key) {
            None => found.push(
                key.show(),
                "is in the state tables but no journal entry creates it (written outside the journal)"
                    .into(),
            ),
            Some(other) if other != value => found.push(key.show(), detail(key, value, other)),
            Some(_) => {}
        }
    }
    for key in expected.keys().filter(|k| !stored.contains_key(k)) {
        found.push(
            key.show(),
            "is missing from the state tables although the journal creates it".into(),
        );
    }
    found.finish()
}

/// A row's key as a person reads it.
trait RowKey {
    fn show(&self) -> String;
}

impl RowKey for RecordId {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl RowKey for u64 {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl RowKey for String {
    fn show(&self) -> String {
        self.clone()
    }
}

impl RowKey for (Decision, RecordId, RecordId) {
    fn show(&self) -> String {
        format!("{} {}, {}", self.0.name(), self.1, self.2)
    }
}

impl RowKey for (VocabKind, String) {
    fn show(&self) -> String {
        format!("{} {}", self.0.name(), self.1)
    }
}
