//! The SQLite state as the typed rows of `girok-state`, to compare with the
//! reference state.

use girok_model::{CustodyAction, RecordId, Term, VocabKind};
use girok_state::{AddedTerm, CustodyRow, Decision, ImportRow, StateRows};
use rusqlite::Connection;

use crate::StoreError;
use crate::apply::{self, record_meta};

/// Every row of the state, read in one transaction.
pub(crate) fn state_rows(conn: &Connection) -> Result<StateRows, StoreError> {
    let snapshot = conn.unchecked_transaction()?;
    let rows = read_rows(&snapshot)?;
    Ok(rows)
}

fn read_rows(snapshot: &Connection) -> Result<StateRows, StoreError> {
    let mut rows = StateRows::default();
    let ids: Vec<String> = snapshot
        .prepare("SELECT id FROM record ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        let meta = record_meta(snapshot, &id)?
            .ok_or_else(|| StoreError::Corrupt(format!("record {id} vanished during a read")))?;
        let id = RecordId::new(id);
        if !meta.deleted
            && let Some(record) = apply::load(snapshot, &id)?
        {
            rows.content.insert(id.clone(), record);
        }
        rows.records.insert(id, meta);
    }
    for decision in Decision::ALL {
        let mut statement =
            snapshot.prepare(&format!("SELECT a, b, seq FROM {}", decision.name()))?;
        for row in statement.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })? {
            let (a, b, seq) = row?;
            rows.decisions
                .insert((decision, RecordId::new(a), RecordId::new(b)), seq);
        }
    }
    let mut statement = snapshot.prepare("SELECT subject, seq FROM forgotten")?;
    for row in statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
        let (subject, seq) = row?;
        rows.forgotten.insert(RecordId::new(subject), seq);
    }
    let mut statement =
        snapshot.prepare("SELECT seq, evidence, sha256, action, recipient, note FROM custody")?;
    for row in statement.query_map([], |r| {
        Ok((
            r.get::<_, u64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
        ))
    })? {
        let (seq, evidence, sha256, action, recipient, note) = row?;
        let action = CustodyAction::parse(&action).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "custody entry {seq} has an unknown action {action}"
            ))
        })?;
        rows.custody.insert(
            seq,
            CustodyRow {
                evidence: RecordId::new(evidence),
                sha256,
                action,
                recipient,
                note,
            },
        );
    }
    let mut statement = snapshot.prepare("SELECT vocabulary, key, body, added_seq FROM term")?;
    for row in statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u64>(3)?,
        ))
    })? {
        let (vocabulary, key, body, added_seq) = row?;
        let corrupt =
            || StoreError::Corrupt(format!("added term {vocabulary}/{key} cannot be read"));
        let kind = VocabKind::from_name(&vocabulary).ok_or_else(corrupt)?;
        let term: Term = serde_json::from_str(&body).map_err(|_| corrupt())?;
        rows.terms
            .insert((kind, key), AddedTerm { term, added_seq });
    }
    let mut statement =
        snapshot.prepare("SELECT sha256, file_name, records, seq, time FROM import")?;
    for row in statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            ImportRow {
                file_name: r.get(1)?,
                records: r.get(2)?,
                seq: r.get(3)?,
                time: r.get(4)?,
            },
        ))
    })? {
        let (sha256, import) = row?;
        rows.imports.insert(sha256, import);
    }
    Ok(rows)
}
