//! Carrying out the state rules' operations on the SQLite state tables. Used
//! by the write path and by the replay, so state is the same function of the
//! journal in both. The rules themselves live in `girok-state`; this file
//! only answers their questions and writes what they decided, in SQL.

use girok_journal::Entry;
use girok_model::{Change, ConsentScope, Record, RecordId, RecordKind, Vocabularies};
use girok_state::tables::{Cell, lookup_rows, tables_of};
use girok_state::{
    Decision, EntryMeta, PriorImport, RecordMeta, Refusal, RuleError, StateOp, StateView,
};
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::StoreError;

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

/// The rules' read view over one SQLite connection (inside the writer's
/// transaction, or the replay's).
pub(crate) struct SqlView<'a>(pub &'a Connection);

impl StateView for SqlView<'_> {
    type Error = StoreError;

    fn record(&self, id: &RecordId) -> Result<Option<RecordMeta>, StoreError> {
        record_meta(self.0, id.as_str())
    }

    fn is_taken(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT 1 FROM record WHERE id = ?1")?
            .exists([id.as_str()])?)
    }

    fn live_kind(&self, id: &RecordId) -> Result<Option<RecordKind>, StoreError> {
        live_kind(self.0, id.as_str())
    }

    fn consent(&self, source: &RecordId) -> Result<Option<ConsentScope>, StoreError> {
        stored_consent(self.0, source)
    }

    fn referring(
        &self,
        kind: RecordKind,
        field: &'static str,
        target: &RecordId,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError> {
        // Table and column come from the model's list of reference fields, never from input.
        let mut statement = self.0.prepare_cached(&format!(
            "SELECT id FROM {} WHERE {field} = ?1 ORDER BY id LIMIT ?2",
            kind.as_str()
        ))?;
        let ids =
            statement.query_map(params![target.as_str(), limit], |r| r.get::<_, String>(0))?;
        ids.map(|id| Ok(RecordId::new(id?))).collect()
    }

    fn decided_with(
        &self,
        decision: Decision,
        person: &RecordId,
        limit: Option<u32>,
    ) -> Result<Vec<RecordId>, StoreError> {
        let table = decision.name();
        let mut statement = self.0.prepare_cached(&format!(
            "SELECT b AS other FROM {table} WHERE a = ?1 UNION SELECT a FROM {table} WHERE b = ?1 \
             ORDER BY other LIMIT ?2"
        ))?;
        let limit = limit.map_or(-1, i64::from);
        let ids =
            statement.query_map(params![person.as_str(), limit], |r| r.get::<_, String>(0))?;
        ids.map(|id| Ok(RecordId::new(id?))).collect()
    }

    fn is_decided(
        &self,
        decision: Decision,
        a: &RecordId,
        b: &RecordId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached(&format!(
                "SELECT 1 FROM {} WHERE a = ?1 AND b = ?2",
                decision.name()
            ))?
            .exists(params![a.as_str(), b.as_str()])?)
    }

    fn is_forgotten(&self, subject: &RecordId) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT 1 FROM forgotten WHERE subject = ?1")?
            .exists([subject.as_str()])?)
    }

    fn evidence_sha256(&self, evidence: &RecordId) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT sha256 FROM evidence WHERE id = ?1")?
            .query_row([evidence.as_str()], |r| r.get(0))
            .optional()?)
    }

    fn prior_import(&self, sha256: &str) -> Result<Option<PriorImport>, StoreError> {
        Ok(self
            .0
            .prepare_cached("SELECT file_name, seq, time FROM import WHERE sha256 = ?1")?
            .query_row([sha256], |r| {
                Ok(PriorImport {
                    file_name: r.get(0)?,
                    seq: r.get(1)?,
                    time: r.get(2)?,
                })
            })
            .optional()?)
    }
}

pub(crate) fn record_meta(conn: &Connection, id: &str) -> Result<Option<RecordMeta>, StoreError> {
    conn.prepare_cached(
        "SELECT kind, revision, created_seq, created_by, updated_seq, updated_by, content_seq, deleted \
         FROM record WHERE id = ?1",
    )?
    .query_row([id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
        ))
    })
    .optional()?
    .map(
        |(kind, revision, created_seq, created_by, updated_seq, updated_by, content_seq, deleted)| {
            Ok(RecordMeta {
                kind: RecordKind::parse(&kind).ok_or_else(|| {
                    StoreError::Corrupt(format!("record {id} has an unknown kind {kind}"))
                })?,
                revision,
                created_seq,
                created_by,
                updated_seq,
                updated_by,
                content_seq,
                deleted,
            })
        },
    )
    .transpose()
}

/// Applies a validated change: the rules decide, then the operation is
/// written to the state tables.
pub(crate) fn apply(
    conn: &Connection,
    vocabularies: &mut Vocabularies,
    meta: &EntryMeta,
    change: &Change,
) -> Result<(), StoreError> {
    let op = girok_state::plan(&SqlView(conn), vocabularies, change)?;
    execute(conn, vocabularies, meta, op)
}

fn execute(
    conn: &Connection,
    vocabularies: &mut Vocabularies,
    meta: &EntryMeta,
    op: StateOp,
) -> Result<(), StoreError> {
    match op {
        StateOp::Create { record } => {
            conn.prepare_cached(
                "INSERT INTO record (id, kind, revision, created_seq, created_by, updated_seq, updated_by, content_seq) \
                 VALUES (?1, ?2, 1, ?3, ?4, ?3, ?4, ?3)",
            )?
            .execute(params![record.id().as_str(), record.kind().as_str(), meta.seq, meta.actor])?;
            insert_state(conn, record)
        }
        StateOp::Replace { record, revision } => {
            delete_state(conn, record.kind(), record.id())?;
            insert_state(conn, record)?;
            bump(conn, record.id(), revision, meta, Bump::NewContent)
        }
        StateOp::Delete { kind, id, revision } => {
            delete_state(conn, kind, id)?;
            bump(conn, id, revision, meta, Bump::Deleted)
        }
        StateOp::SetConsent {
            source,
            scope,
            revision,
        } => {
            conn.prepare_cached("UPDATE source SET consent = ?2 WHERE id = ?1")?
                .execute(params![source.as_str(), scope.as_str()])?;
            bump(conn, source, revision, meta, Bump::SameContent)
        }
        StateOp::Forget { subject, revision } => {
            conn.prepare_cached("INSERT INTO forgotten (subject, seq) VALUES (?1, ?2)")?
                .execute(params![subject.as_str(), meta.seq])?;
            bump(conn, subject, revision, meta, Bump::SameContent)
        }
        StateOp::Custody {
            evidence,
            sha256,
            action,
            recipient,
            note,
        } => {
            conn.prepare_cached(
                "INSERT INTO custody (seq, evidence, sha256, action, recipient, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![meta.seq, evidence.as_str(), sha256, action.as_str(), recipient, note])?;
            Ok(())
        }
        StateOp::AddTerm { vocabulary, term } => {
            vocabularies
                .add(vocabulary, term.clone())
                .map_err(|message| girok_model::Invalid::field(None, "key", message))?;
            let body =
                serde_json::to_string(term).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            conn.prepare_cached(
                "INSERT INTO term (vocabulary, key, body, added_seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![vocabulary.name(), term.key, body, meta.seq])?;
            Ok(())
        }
        StateOp::Import {
            sha256,
            file_name,
            records,
        } => {
            conn.prepare_cached("INSERT INTO import (sha256, file_name, records, seq, time) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![sha256, file_name, records, meta.seq, meta.time])?;
            Ok(())
        }
        StateOp::Decide { decision, pairs } => {
            let mut insert = conn.prepare_cached(&format!(
                "INSERT OR IGNORE INTO {} (a, b, seq) VALUES (?1, ?2, ?3)",
                decision.name()
            ))?;
            for (a, b) in pairs {
                insert.execute(params![a.as_str(), b.as_str(), meta.seq])?;
            }
            Ok(())
        }
        StateOp::Withdraw { person } => {
            for decision in Decision::ALL {
                conn.prepare_cached(&format!(
                    "DELETE FROM {} WHERE a = ?1 OR b = ?1",
                    decision.name()
                ))?
                .execute([person.as_str()])?;
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
    conn: &Connection,
    id: &RecordId,
    revision: u32,
    meta: &EntryMeta,
    bump: Bump,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE record SET revision = ?2, updated_seq = ?3, updated_by = ?4, deleted = ?5, \
         content_seq = CASE WHEN ?6 THEN ?3 ELSE content_seq END WHERE id = ?1",
    )?
    .execute(params![
        id.as_str(),
        revision,
        meta.seq,
        meta.actor,
        bump == Bump::Deleted,
        bump == Bump::NewContent
    ])?;
    Ok(())
}

/// A source's current consent: the `consent` column is authoritative, since
/// `set-consent` changes it without rewriting the record.
fn stored_consent(conn: &Connection, id: &RecordId) -> Result<Option<ConsentScope>, StoreError> {
    let consent: Option<Option<String>> = conn
        .prepare_cached("SELECT consent FROM source WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?;
    Ok(consent.flatten().as_deref().and_then(ConsentScope::parse))
}

/// The kind of a live record, with no other registry data: the lookup every
/// reference check and CSV row makes, so it allocates nothing it does not need.
pub(crate) fn live_kind(conn: &Connection, id: &str) -> Result<Option<RecordKind>, StoreError> {
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM record WHERE id = ?1 AND deleted = 0")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(kind.as_deref().and_then(RecordKind::parse))
}

/// Writes a record's rows into the lookup tables.
fn insert_state(conn: &Connection, record: &Record) -> Result<(), StoreError> {
    for (table, row) in lookup_rows(record) {
        let placeholders: Vec<String> =
            (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
        // Table and column names come from `girok_state::tables`, never from input.
        conn.prepare_cached(&format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name,
            table.columns.join(", "),
            placeholders.join(", ")
        ))?
        .execute(params_from_iter(row.iter().map(SqlCell)))?;
    }
    Ok(())
}

fn delete_state(conn: &Connection, kind: RecordKind, id: &RecordId) -> Result<(), StoreError> {
    for table in tables_of(kind) {
        conn.prepare_cached(&format!(
            "DELETE FROM {} WHERE {} = ?1",
            table.name, table.columns[0]
        ))?
        .execute([id.as_str()])?;
    }
    Ok(())
}

/// A cell as a SQL parameter.
pub(crate) struct SqlCell<'a>(pub &'a Cell<'a>);

impl ToSql for SqlCell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Cell::Null => ValueRef::Null,
            Cell::Integer(value) => ValueRef::Integer(*value),
            Cell::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

/// A stored value as a cell; the state tables hold no reals or blobs, so
/// one found there is shown as what it is and differs from any expected cell.
pub(crate) fn cell_of(value: ValueRef<'_>) -> Cell<'static> {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(value) => Cell::Integer(value),
        ValueRef::Text(text) => Cell::Text(String::from_utf8_lossy(text).into_owned().into()),
        ValueRef::Real(value) => Cell::Text(format!("real {value}").into()),
        ValueRef::Blob(bytes) => Cell::Text(format!("{} bytes", bytes.len()).into()),
    }
}

/// The record content a journal entry holds, with the authoritative columns applied.
pub(crate) fn decode(
    conn: &Connection,
    id: &str,
    seq: u64,
    bytes: &[u8],
) -> Result<Record, StoreError> {
    match Entry::decode(seq, bytes)?.change {
        Change::Create { mut record } | Change::Update { mut record, .. }
            if record.id().as_str() == id =>
        {
            if let Record::Source(source) = &mut record {
                source.consent = stored_consent(conn, &source.id)?;
            }
            Ok(record)
        }
        _ => Err(StoreError::Corrupt(format!(
            "{id}: journal entry {seq} does not hold its content"
        ))),
    }
}

/// The current content of a live record.
pub(crate) fn load(conn: &Connection, id: &RecordId) -> Result<Option<Record>, StoreError> {
    let row: Option<(u64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT j.seq, j.bytes FROM record r JOIN journal j ON j.seq = r.content_seq \
             WHERE r.id = ?1 AND r.deleted = 0",
        )?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(seq, bytes)| decode(conn, id.as_str(), seq, &bytes))
        .transpose()
}
