//! Carrying out the state rules' operations on the state tables, in SQL
//! every backend runs. Used
//! by the write path and by the replay, so state is the same function of the
//! journal in both. The rules themselves live in `girok-state`; this file
//! only answers their questions and writes what they decided, in SQL.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::StoreError;
use crate::sql::{Sql, Value};
use girok_journal::Entry;
use girok_model::{Change, ConsentScope, Record, RecordId, RecordKind, Vocabularies};
use girok_state::tables::{lookup_rows, tables_of};
use girok_state::{
    Decision, EntryMeta, PriorImport, RecordMeta, Refusal, RuleError, StateOp, StateView,
};

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(invalid) => StoreError::Invalid(invalid),
            Refusal::Conflict { id, message } => StoreError::Conflict { id, message },
            Refusal::DuplicateImport(duplicate) => StoreError::DuplicateImport(duplicate),
        }
    }
}

impl From<RuleError<StoreError>> for StoreError {
    fn from(error: RuleError<StoreError>) -> Self {
        match error {
            RuleError::Refused(refusal) => refusal.into(),
            RuleError::View(failure) => failure,
        }
    }
}

/// Whether an id is used, as a batch already knows: from a lookup ahead
/// of its changes, or from its own writes. The batch holds the write lock,
/// so no other writer changes it meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    Unused,
    Live(RecordKind),
    Deleted,
}

/// What one batch knows of record ids, so that a reference to a record it
/// created, or an id it looked up ahead, costs no query (on PostgreSQL a
/// query is a round trip to the server).
pub(crate) type Known = RefCell<HashMap<RecordId, Liveness>>;

/// The rules' read view over one connection (inside the writer's
/// transaction, or the replay's).
pub(crate) struct SqlView<'a> {
    sql: &'a dyn Sql,
    known: Option<&'a Known>,
}

impl<'a> SqlView<'a> {
    pub(crate) fn new(sql: &'a dyn Sql) -> SqlView<'a> {
        SqlView { sql, known: None }
    }

    pub(crate) fn with_known(sql: &'a dyn Sql, known: &'a Known) -> SqlView<'a> {
        SqlView {
            sql,
            known: Some(known),
        }
    }

    fn known(&self, id: &RecordId) -> Option<Liveness> {
        self.known.and_then(|known| known.borrow().get(id).copied())
    }
}

impl StateView for SqlView<'_> {
    type Error = StoreError;

    fn record(&self, id: &RecordId) -> Result<Option<RecordMeta>, StoreError> {
        record_meta(self.sql, id.as_str())
    }

    fn is_taken(&self, id: &RecordId) -> Result<bool, StoreError> {
        if let Some(liveness) = self.known(id) {
            return Ok(liveness != Liveness::Unused);
        }
        self.sql
            .exists("SELECT 1 FROM record WHERE id = ?1", &[id.as_str().into()])
    }

    fn live_kind(&self, id: &RecordId) -> Result<Option<RecordKind>, StoreError> {
        match self.known(id) {
            Some(Liveness::Live(kind)) => Ok(Some(kind)),
            Some(Liveness::Unused | Liveness::Deleted) => Ok(None),
            None => live_kind(self.sql, id.as_str()),
        }
    }

    fn consent(&self, source: &RecordId) -> Result<Option<ConsentScope>, StoreError> {
        stored_consent(self.sql, source)
    }

    fn referring(
        &self,
        kind: RecordKind,
        field: &'static str,
        target: &RecordId,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError> {
        // Table and column come from the model's list of reference fields, never from input.
        let sql = format!(
            "SELECT id FROM {} WHERE {field} = ?1 ORDER BY id LIMIT ?2",
            kind.as_str()
        );
        ids(self.sql, &sql, &[target.as_str().into(), limit.into()])
    }

    fn decided_with(
        &self,
        decision: Decision,
        person: &RecordId,
        limit: Option<u32>,
    ) -> Result<Vec<RecordId>, StoreError> {
        let table = decision.name();
        let sql = format!(
            "SELECT b AS other FROM {table} WHERE a = ?1 UNION SELECT a FROM {table} WHERE b = ?1 \
             ORDER BY other LIMIT ?2"
        );
        let limit = limit.map_or(u64::MAX, u64::from);
        ids(self.sql, &sql, &[person.as_str().into(), limit.into()])
    }

    fn is_decided(
        &self,
        decision: Decision,
        a: &RecordId,
        b: &RecordId,
    ) -> Result<bool, StoreError> {
        self.sql.exists(
            &format!("SELECT 1 FROM {} WHERE a = ?1 AND b = ?2", decision.name()),
            &[a.as_str().into(), b.as_str().into()],
        )
    }

    fn is_forgotten(&self, subject: &RecordId) -> Result<bool, StoreError> {
        self.sql.exists(
            "SELECT 1 FROM forgotten WHERE subject = ?1",
            &[subject.as_str().into()],
        )
    }

    fn evidence_sha256(&self, evidence: &RecordId) -> Result<Option<String>, StoreError> {
        self.sql
            .row(
                "SELECT sha256 FROM evidence WHERE id = ?1",
                &[evidence.as_str().into()],
            )?
            .map(|mut row| row.text(0))
            .transpose()
    }

    fn prior_import(&self, sha256: &str) -> Result<Option<PriorImport>, StoreError> {
        self.sql
            .row(
                "SELECT file_name, seq, time FROM import WHERE sha256 = ?1",
                &[sha256.into()],
            )?
            .map(|mut row| {
                Ok(PriorImport {
                    file_name: row.text(0)?,
                    seq: row.count(1)?,
                    time: row.text(2)?,
                })
            })
            .transpose()
    }
}

/// The record ids the first column of a query gives.
pub(crate) fn ids(
    sql: &dyn Sql,
    query: &str,
    parameters: &[Value<'_>],
) -> Result<Vec<RecordId>, StoreError> {
    let mut ids = Vec::new();
    sql.each(query, parameters, &mut |mut row| {
        ids.push(RecordId::new(row.text(0)?));
        Ok(())
    })?;
    Ok(ids)
}

pub(crate) fn record_meta(sql: &dyn Sql, id: &str) -> Result<Option<RecordMeta>, StoreError> {
    let Some(mut row) = sql.row(
        "SELECT kind, revision, created_seq, created_by, updated_seq, updated_by, content_seq, deleted \
         FROM record WHERE id = ?1",
        &[id.into()],
    )?
    else {
        return Ok(None);
    };
    let kind = row.text(0)?;
    Ok(Some(RecordMeta {
        kind: RecordKind::parse(&kind).ok_or_else(|| {
            StoreError::Corrupt(format!("record {id} has an unknown kind {kind}"))
        })?,
        revision: row.count(1)?,
        created_seq: row.count(2)?,
        created_by: row.text(3)?,
        updated_seq: row.count(4)?,
        updated_by: row.text(5)?,
        content_seq: row.count(6)?,
        deleted: row.boolean(7)?,
    }))
}

/// Applies a validated change: the rules decide, then the operation is
/// written to the state tables (and what the batch knows of ids follows it).
pub(crate) fn apply(
    sql: &dyn Sql,
    known: Option<&Known>,
    vocabularies: &mut std::sync::Arc<Vocabularies>,
    meta: &EntryMeta,
    change: &Change,
) -> Result<(), StoreError> {
    let op = girok_state::plan(&SqlView { sql, known }, vocabularies, change)?;
    let became = match &op {
        StateOp::Create { record } => Some((record.id().clone(), Liveness::Live(record.kind()))),
        StateOp::Delete { id, .. } => Some(((*id).clone(), Liveness::Deleted)),
        _ => None,
    };
    execute(sql, vocabularies, meta, op)?;
    if let (Some(known), Some((id, liveness))) = (known, became) {
        known.borrow_mut().insert(id, liveness);
    }
    Ok(())
}

/// Ids looked up per query ahead of a batch's changes: one statement text
/// for every lookup (the last id repeats to fill it).
const LOOKED_UP_AT_ONCE: usize = 128;

/// Learns in a few queries whether each of `ids` is used, for the changes
/// of a batch that are about to name them.
pub(crate) fn look_up_ahead(
    sql: &dyn Sql,
    known: &Known,
    ids: &[RecordId],
) -> Result<(), StoreError> {
    let mut wanted: Vec<&RecordId> = {
        let known = known.borrow();
        ids.iter().filter(|id| !known.contains_key(*id)).collect()
    };
    wanted.sort();
    wanted.dedup();
    // Point lookups joined rather than `IN (…)`: PostgreSQL keeps the plan
    // of a prepared statement, and one made while the table was small
    // would scan it whole once it has grown; a lookup by key never does.
    let statement = (1..=LOOKED_UP_AT_ONCE)
        .map(|n| format!("SELECT id, kind, deleted FROM record WHERE id = ?{n}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    for chunk in wanted.chunks(LOOKED_UP_AT_ONCE) {
        let mut parameters: Vec<Value<'_>> = chunk.iter().map(|id| id.as_str().into()).collect();
        let last = parameters[parameters.len() - 1];
        parameters.resize(LOOKED_UP_AT_ONCE, last);
        let mut found = HashMap::new();
        sql.each(&statement, &parameters, &mut |mut row| {
            let id = RecordId::new(row.text(0)?);
            let kind = row.text(1)?;
            let kind = RecordKind::parse(&kind).ok_or_else(|| {
                StoreError::Corrupt(format!("record {id} has an unknown kind {kind}"))
            })?;
            let liveness = if row.boolean(2)? {
                Liveness::Deleted
            } else {
                Liveness::Live(kind)
            };
            found.insert(id, liveness);
            Ok(())
        })?;
        let mut known = known.borrow_mut();
        for id in chunk {
            let liveness = found.get(*id).copied().unwrap_or(Liveness::Unused);
            known.insert((*id).clone(), liveness);
        }
    }
    Ok(())
}

fn execute(
    sql: &dyn Sql,
    vocabularies: &mut std::sync::Arc<Vocabularies>,
    meta: &EntryMeta,
    op: StateOp,
) -> Result<(), StoreError> {
    let (seq, actor) = (Value::from(meta.seq), Value::from(meta.actor));
    match op {
        StateOp::Create { record } => {
            sql.execute(
                "INSERT INTO record (id, kind, revision, created_seq, created_by, updated_seq, updated_by, content_seq, deleted) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?3, ?4, ?3, 0)",
                &[record.id().as_str().into(), record.kind().as_str().into(), seq, actor],
            )?;
            insert_state(sql, record)
        }
        StateOp::Replace { record, revision } => {
            delete_state(sql, record.kind(), record.id())?;
            insert_state(sql, record)?;
            bump(sql, record.id(), revision, meta, Bump::NewContent)
        }
        StateOp::Delete { kind, id, revision } => {
            delete_state(sql, kind, id)?;
            bump(sql, id, revision, meta, Bump::Deleted)
        }
        StateOp::SetConsent {
            source,
            scope,
            revision,
        } => {
            sql.execute(
                "UPDATE source SET consent = ?2 WHERE id = ?1",
                &[source.as_str().into(), scope.as_str().into()],
            )?;
            bump(sql, source, revision, meta, Bump::SameContent)
        }
        StateOp::Forget { subject, revision } => {
            sql.execute(
                "INSERT INTO forgotten (subject, seq) VALUES (?1, ?2)",
                &[subject.as_str().into(), seq],
            )?;
            bump(sql, subject, revision, meta, Bump::SameContent)
        }
        StateOp::Custody {
            evidence,
            sha256,
            action,
            recipient,
            note,
        } => {
            sql.execute(
                "INSERT INTO custody (seq, evidence, sha256, action, recipient, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[
                    seq,
                    evidence.as_str().into(),
                    sha256.into(),
                    action.as_str().into(),
                    recipient.into(),
                    note.into(),
                ],
            )?;
            Ok(())
        }
        StateOp::AddTerm { vocabulary, term } => {
            std::sync::Arc::make_mut(vocabularies)
                .add(vocabulary, term.clone())
                .map_err(|message| girok_model::Invalid::field(None, "key", message))?;
            let body =
                serde_json::to_string(term).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sql.execute(
                "INSERT INTO term (vocabulary, key, body, added_seq) VALUES (?1, ?2, ?3, ?4)",
                &[
                    vocabulary.name().into(),
                    term.key.as_str().into(),
                    body.as_str().into(),
                    seq,
                ],
            )?;
            Ok(())
        }
        StateOp::Import {
            sha256,
            file_name,
            records,
        } => {
            sql.execute(
                "INSERT INTO import (sha256, file_name, records, seq, time) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[
                    sha256.into(),
                    file_name.into(),
                    records.into(),
                    seq,
                    meta.time.into(),
                ],
            )?;
            Ok(())
        }
        StateOp::Decide { decision, pairs } => {
            let insert = format!(
                "INSERT INTO {} (a, b, seq) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                decision.name()
            );
            for (a, b) in pairs {
                sql.execute(&insert, &[a.as_str().into(), b.as_str().into(), seq])?;
            }
            Ok(())
        }
        StateOp::Withdraw { person } => {
            for decision in Decision::ALL {
                sql.execute(
                    &format!("DELETE FROM {} WHERE a = ?1 OR b = ?1", decision.name()),
                    &[person.as_str().into()],
                )?;
            }
            Ok(())
        }
    }
}

/// What an operation did to a record besides raising its revision.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bump {
    /// The operation's entry holds the record's new content.
    NewContent,
    /// Content is unchanged; a column was set (consent) or a key forgotten.
    SameContent,
    Deleted,
}

fn bump(
    sql: &dyn Sql,
    id: &RecordId,
    revision: u32,
    meta: &EntryMeta,
    bump: Bump,
) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE record SET revision = ?2, updated_seq = ?3, updated_by = ?4, deleted = ?5, \
         content_seq = CASE WHEN ?6 = 1 THEN ?3 ELSE content_seq END WHERE id = ?1",
        &[
            id.as_str().into(),
            revision.into(),
            meta.seq.into(),
            meta.actor.into(),
            (bump == Bump::Deleted).into(),
            (bump == Bump::NewContent).into(),
        ],
    )?;
    Ok(())
}

/// A source's current consent: the `consent` column is authoritative, since
/// `set-consent` changes it without rewriting the record.
fn stored_consent(sql: &dyn Sql, id: &RecordId) -> Result<Option<ConsentScope>, StoreError> {
    let consent = sql
        .row(
            "SELECT consent FROM source WHERE id = ?1",
            &[id.as_str().into()],
        )?
        .map(|mut row| row.opt_text(0))
        .transpose()?
        .flatten();
    Ok(consent.as_deref().and_then(ConsentScope::parse))
}

/// The kind of a live record: the lookup every reference check and CSV row makes.
pub(crate) fn live_kind(sql: &dyn Sql, id: &str) -> Result<Option<RecordKind>, StoreError> {
    let kind = sql
        .row(
            "SELECT kind FROM record WHERE id = ?1 AND deleted = 0",
            &[id.into()],
        )?
        .map(|mut row| row.text(0))
        .transpose()?;
    Ok(kind.as_deref().and_then(RecordKind::parse))
}

/// Writes a record's rows into the lookup tables.
fn insert_state(sql: &dyn Sql, record: &Record) -> Result<(), StoreError> {
    for (table, row) in lookup_rows(record) {
        let placeholders: Vec<String> =
            (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
        let values: Vec<Value> = row.iter().map(Value::from).collect();
        // Table and column names come from `girok_state::tables`, never from input.
        sql.execute(
            &format!(
                "INSERT INTO {} ({}) VALUES ({})",
                table.name,
                table.columns.join(", "),
                placeholders.join(", ")
            ),
            &values,
        )?;
    }
    Ok(())
}

fn delete_state(sql: &dyn Sql, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
    for table in tables_of(kind) {
        sql.execute(
            &format!("DELETE FROM {} WHERE {} = ?1", table.name, table.columns[0]),
            &[id.as_str().into()],
        )?;
    }
    Ok(())
}

/// The record content a journal entry holds, with the authoritative columns applied.
pub(crate) fn decode(
    sql: &dyn Sql,
    id: &str,
    seq: u64,
    bytes: &[u8],
) -> Result<Record, StoreError> {
    match Entry::decode(seq, bytes)?.change {
        Change::Create { mut record } | Change::Update { mut record, .. }
            if record.id().as_str() == id =>
        {
            if let Record::Source(source) = &mut record {
                source.consent = stored_consent(sql, &source.id)?;
            }
            Ok(record)
        }
        _ => Err(StoreError::Corrupt(format!(
            "{id}: journal entry {seq} does not hold its content"
        ))),
    }
}

/// The current content of a live record.
pub(crate) fn load(sql: &dyn Sql, id: &RecordId) -> Result<Option<Record>, StoreError> {
    let Some(mut row) = sql.row(
        "SELECT j.seq, j.bytes FROM record r JOIN journal j ON j.seq = r.content_seq \
         WHERE r.id = ?1 AND r.deleted = 0",
        &[id.as_str().into()],
    )?
    else {
        return Ok(None);
    };
    let seq = row.count(0)?;
    let bytes = row.blob(1)?;
    decode(sql, id.as_str(), seq, &bytes).map(Some)
}
