//! The stored state as the typed rows of `girok-state`, to compare with the
//! reference state.

use girok_model::{CustodyAction, RecordId, Term, VocabKind};
use girok_state::{AddedTerm, CustodyRow, Decision, ImportRow, StateRows};

use crate::StoreError;
use crate::apply::{self, record_meta};
use crate::sql::Sql;

/// Every row of the state (read in one snapshot by the caller).
pub(crate) fn state_rows(sql: &dyn Sql) -> Result<StateRows, StoreError> {
    let mut rows = StateRows::default();
    for id in apply::ids(sql, "SELECT id FROM record ORDER BY id", &[])? {
        let meta = record_meta(sql, id.as_str())?
            .ok_or_else(|| StoreError::Corrupt(format!("record {id} vanished during a read")))?;
        if !meta.deleted
            && let Some(record) = apply::load(sql, &id)?
        {
            rows.content.insert(id.clone(), record);
        }
        rows.records.insert(id, meta);
    }
    for decision in Decision::ALL {
        for mut row in sql.rows(&format!("SELECT a, b, seq FROM {}", decision.name()), &[])? {
            rows.decisions.insert(
                (
                    decision,
                    RecordId::new(row.text(0)?),
                    RecordId::new(row.text(1)?),
                ),
                row.count(2)?,
            );
        }
    }
    for mut row in sql.rows("SELECT subject, seq FROM forgotten", &[])? {
        rows.forgotten
            .insert(RecordId::new(row.text(0)?), row.count(1)?);
    }
    for mut row in sql.rows(
        "SELECT seq, evidence, sha256, action, recipient, note FROM custody",
        &[],
    )? {
        let seq: u64 = row.count(0)?;
        let action = row.text(3)?;
        let action = CustodyAction::parse(&action).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "custody entry {seq} has an unknown action {action}"
            ))
        })?;
        rows.custody.insert(
            seq,
            CustodyRow {
                evidence: RecordId::new(row.text(1)?),
                sha256: row.text(2)?,
                action,
                recipient: row.opt_text(4)?,
                note: row.text(5)?,
            },
        );
    }
    for mut row in sql.rows("SELECT vocabulary, key, body, added_seq FROM term", &[])? {
        let (vocabulary, key, body) = (row.text(0)?, row.text(1)?, row.text(2)?);
        let corrupt =
            || StoreError::Corrupt(format!("added term {vocabulary}/{key} cannot be read"));
        let kind = VocabKind::from_name(&vocabulary).ok_or_else(corrupt)?;
        let term: Term = serde_json::from_str(&body).map_err(|_| corrupt())?;
        let added_seq = row.count(3)?;
        rows.terms
            .insert((kind, key), AddedTerm { term, added_seq });
    }
    for mut row in sql.rows(
        "SELECT sha256, file_name, records, seq, time FROM import",
        &[],
    )? {
        let import = ImportRow {
            file_name: row.text(1)?,
            records: row.count(2)?,
            seq: row.count(3)?,
            time: row.text(4)?,
        };
        rows.imports.insert(row.text(0)?, import);
    }
    Ok(rows)
}
