//! The reference state: the rules' view and operations over plain maps.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use girok_model::{Change, ConsentScope, Record, RecordId, RecordKind, Vocabularies};

use crate::rows::{AddedTerm, CustodyRow, ImportRow, StateRows};
use crate::tables::{
    CUSTODY, FORGOTTEN, IMPORT, RECORD, Row, TERM, Table, decision_table, lookup_rows, record_row,
    tables_of,
};
use crate::{Decision, EntryMeta, PriorImport, RecordMeta, Refusal, RuleError, StateOp, StateView};

/// A whole state in memory: what a journal replays to.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    rows: StateRows,
    vocabularies: Vocabularies,
    /// For each record referred to: who refers to it (kind, field, id).
    referring: BTreeMap<RecordId, BTreeSet<(RecordKind, &'static str, RecordId)>>,
    /// For each person: the persons each decision pairs it with.
    decided: BTreeMap<(Decision, RecordId), BTreeSet<RecordId>>,
}

impl MemoryState {
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    pub fn rows(&self) -> &StateRows {
        &self.rows
    }

    pub fn into_rows(self) -> StateRows {
        self.rows
    }

    /// The rows of `table` this state gives, in key order.
    pub fn table_rows<'a>(&'a self, table: &'a Table) -> Box<dyn Iterator<Item = Row<'a>> + 'a> {
        let rows = &self.rows;
        match table.name {
            name if name == RECORD.name => {
                Box::new(rows.records.iter().map(|(id, meta)| record_row(id, meta)))
            }
            name if name == CUSTODY.name => Box::new(rows.custody.iter().map(|(seq, row)| {
                vec![
                    (*seq).into(),
                    (&row.evidence).into(),
                    (&row.sha256).into(),
                    row.action.as_str().into(),
                    row.recipient.as_ref().into(),
                    (&row.note).into(),
                ]
            })),
            name if name == TERM.name => {
                // Keyed by the vocabulary's name, which sorts apart from its enum order.
                let mut terms: Vec<Row> = rows
                    .terms
                    .iter()
                    .map(|((vocabulary, key), added)| {
                        vec![
                            vocabulary.name().into(),
                            key.into(),
                            serde_json::to_string(&added.term)
                                .unwrap_or_default()
                                .into(),
                            added.added_seq.into(),
                        ]
                    })
                    .collect();
                terms.sort();
                Box::new(terms.into_iter())
            }
            name if name == IMPORT.name => Box::new(rows.imports.iter().map(|(sha256, row)| {
                vec![
                    sha256.into(),
                    (&row.file_name).into(),
                    row.records.into(),
                    row.seq.into(),
                    (&row.time).into(),
                ]
            })),
            name if name == FORGOTTEN.name => Box::new(
                rows.forgotten
                    .iter()
                    .map(|(subject, seq)| vec![subject.into(), (*seq).into()]),
            ),
            name if Decision::ALL
                .iter()
                .any(|d| decision_table(*d).name == name) =>
            {
                Box::new(
                    rows.decisions
                        .iter()
                        .filter(move |((decision, _, _), _)| decision_table(*decision).name == name)
                        .map(|((_, a, b), seq)| vec![a.into(), b.into(), (*seq).into()]),
                )
            }
            name => Box::new(
                rows.content
                    .values()
                    .filter(move |record| tables_of(record.kind()).iter().any(|t| t.name == name))
                    .flat_map(move |record| {
                        lookup_rows(record)
                            .into_iter()
                            .filter(move |(of, _)| of.name == name)
                            .map(|(_, row)| row)
                    }),
            ),
        }
    }

    /// The vocabularies: the shipped ones and the terms this state added.
    pub fn vocabularies(&self) -> &Vocabularies {
        &self.vocabularies
    }

    /// Validates `change`, decides it under the rules and applies it, as a
    /// backend's write path does; a refused change leaves the state as it was.
    pub fn apply_change(&mut self, meta: EntryMeta, change: &Change) -> Result<(), Refusal> {
        change.validate(&self.vocabularies)?;
        let op = match crate::plan(self, &self.vocabularies, change) {
            Ok(op) => op,
            Err(RuleError::Refused(refusal)) => return Err(refusal),
            Err(RuleError::View(never)) => match never {},
        };
        self.apply(meta, op);
        Ok(())
    }

    /// Carries out an operation the rules decided.
    pub fn apply(&mut self, meta: EntryMeta, op: StateOp) {
        match op {
            StateOp::Create { record } => {
                let id = record.id().clone();
                self.rows.records.insert(
                    id.clone(),
                    RecordMeta {
                        kind: record.kind(),
                        revision: 1,
                        created_seq: meta.seq,
                        created_by: meta.actor.to_string(),
                        updated_seq: meta.seq,
                        updated_by: meta.actor.to_string(),
                        content_seq: meta.seq,
                        deleted: false,
                    },
                );
                self.insert_content(record.clone());
            }
            StateOp::Replace { record, revision } => {
                self.remove_content(record.id());
                self.insert_content(record.clone());
                self.bump(record.id(), revision, meta, Bump::NewContent);
            }
            StateOp::Delete { id, revision, .. } => {
                self.remove_content(id);
                self.bump(id, revision, meta, Bump::Deleted);
            }
            StateOp::SetConsent {
                source,
                scope,
                revision,
            } => {
                if let Some(Record::Source(stored)) = self.rows.content.get_mut(source) {
                    stored.consent = Some(scope);
                }
                self.bump(source, revision, meta, Bump::SameContent);
            }
            StateOp::Forget { subject, revision } => {
                self.rows.forgotten.insert(subject.clone(), meta.seq);
                self.bump(subject, revision, meta, Bump::SameContent);
            }
            StateOp::Custody {
                evidence,
                sha256,
                action,
                recipient,
                note,
            } => {
                self.rows.custody.insert(
                    meta.seq,
                    CustodyRow {
                        evidence: evidence.clone(),
                        sha256: sha256.to_string(),
                        action,
                        recipient: recipient.map(str::to_string),
                        note: note.to_string(),
                    },
                );
            }
            StateOp::AddTerm { vocabulary, term } => {
                // The rules checked the term can be added.
                let _ = self.vocabularies.add(vocabulary, term.clone());
                self.rows.terms.insert(
                    (vocabulary, term.key.clone()),
                    AddedTerm {
                        term: term.clone(),
                        added_seq: meta.seq,
                    },
                );
            }
            StateOp::Import {
                sha256,
                file_name,
                records,
            } => {
                self.rows.imports.insert(
                    sha256.to_string(),
                    ImportRow {
                        file_name: file_name.to_string(),
                        records,
                        seq: meta.seq,
                        time: meta.time.to_string(),
                    },
                );
            }
            StateOp::Decide { decision, pairs } => {
                for (a, b) in pairs {
                    self.rows
                        .decisions
                        .entry((decision, a.clone(), b.clone()))
                        .or_insert(meta.seq);
                    self.pair(decision, a, b, true);
                }
            }
            StateOp::Withdraw { person } => {
                for decision in Decision::ALL {
                    let others = self
                        .decided
                        .get(&(decision, person.clone()))
                        .cloned()
                        .unwrap_or_default();
                    for other in others {
                        self.pair(decision, person, &other, false);
                        let (a, b) = if *person < other {
                            (person.clone(), other)
                        } else {
                            (other, person.clone())
                        };
                        self.rows.decisions.remove(&(decision, a, b));
                    }
                }
            }
        }
    }

    fn pair(&mut self, decision: Decision, a: &RecordId, b: &RecordId, decided: bool) {
        for (one, other) in [(a, b), (b, a)] {
            if decided {
                self.decided
                    .entry((decision, one.clone()))
                    .or_default()
                    .insert(other.clone());
            } else if let Some(partners) = self.decided.get_mut(&(decision, one.clone())) {
                partners.remove(other);
            }
        }
    }

    fn insert_content(&mut self, record: Record) {
        for (field, target, _) in record.references() {
            self.referring.entry(target.clone()).or_default().insert((
                record.kind(),
                field,
                record.id().clone(),
            ));
        }
        self.rows.content.insert(record.id().clone(), record);
    }

    fn remove_content(&mut self, id: &RecordId) {
        let Some(record) = self.rows.content.remove(id) else {
            return;
        };
        for (field, target, _) in record.references() {
            if let Some(referrers) = self.referring.get_mut(target) {
                referrers.remove(&(record.kind(), field, id.clone()));
            }
        }
    }

    fn bump(&mut self, id: &RecordId, revision: u32, meta: EntryMeta, bump: Bump) {
        if let Some(stored) = self.rows.records.get_mut(id) {
            stored.revision = revision;
            stored.updated_seq = meta.seq;
            stored.updated_by = meta.actor.to_string();
            stored.deleted = bump == Bump::Deleted;
            if bump == Bump::NewContent {
                stored.content_seq = meta.seq;
            }
        }
    }
}

/// What an operation did to a record besides raising its revision.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bump {
    /// The entry holds the record's new content.
    NewContent,
    /// Content is unchanged (consent set in place, a key forgotten).
    SameContent,
    Deleted,
}

impl StateView for MemoryState {
    type Error = Infallible;

    fn record(&self, id: &RecordId) -> Result<Option<RecordMeta>, Infallible> {
        Ok(self.rows.records.get(id).cloned())
    }

    fn consent(&self, source: &RecordId) -> Result<Option<ConsentScope>, Infallible> {
        Ok(match self.rows.content.get(source) {
            Some(Record::Source(source)) => source.consent,
            _ => None,
        })
    }

    fn referring(
        &self,
        kind: RecordKind,
        field: &'static str,
        target: &RecordId,
        limit: u32,
    ) -> Result<Vec<RecordId>, Infallible> {
        Ok(self
            .referring
            .get(target)
            .into_iter()
            .flatten()
            .filter(|(k, f, _)| *k == kind && *f == field)
            .map(|(_, _, id)| id.clone())
            .take(limit as usize)
            .collect())
    }

    fn decided_with(
        &self,
        decision: Decision,
        person: &RecordId,
        limit: Option<u32>,
    ) -> Result<Vec<RecordId>, Infallible> {
        Ok(self
            .decided
            .get(&(decision, person.clone()))
            .into_iter()
            .flatten()
            .take(limit.map_or(usize::MAX, |l| l as usize))
            .cloned()
            .collect())
    }

    fn is_decided(
        &self,
        decision: Decision,
        a: &RecordId,
        b: &RecordId,
    ) -> Result<bool, Infallible> {
        Ok(self
            .rows
            .decisions
            .contains_key(&(decision, a.clone(), b.clone())))
    }

    fn is_forgotten(&self, subject: &RecordId) -> Result<bool, Infallible> {
        Ok(self.rows.forgotten.contains_key(subject))
    }

    fn evidence_sha256(&self, evidence: &RecordId) -> Result<Option<String>, Infallible> {
        Ok(match self.rows.content.get(evidence) {
            Some(Record::Evidence(evidence)) => Some(evidence.sha256.clone()),
            _ => None,
        })
    }

    fn prior_import(&self, sha256: &str) -> Result<Option<PriorImport>, Infallible> {
        Ok(self.rows.imports.get(sha256).map(|row| PriorImport {
            file_name: row.file_name.clone(),
            seq: row.seq,
            time: row.time.clone(),
        }))
    }
}
