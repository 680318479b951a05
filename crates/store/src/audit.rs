//! The audit log: who read decrypted identifying data, which records, when,
//! and why. It is kept in its own file (`DIR/audit.sqlite`, readable only by
//! its owner) so reads never wait on the journal's writer, and each entry
//! carries the SHA-256 of the previous one: an entry altered or removed
//! from the middle breaks the chain, which `verify` names. A head (entry
//! count and last hash) signed and kept elsewhere also catches a log cut
//! short or replaced.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;
use girok_journal::format_time;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use girok_model::RecordId;

use crate::StoreError;

const FILE: &str = "audit.sqlite";

/// One recorded read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    /// What was done ("show p1", "GET /persons/p1").
    pub action: String,
    /// Why, as the reader stated it.
    pub purpose: String,
    /// The records opened (entries written before version 0.2 list only the first 100).
    pub subjects: Vec<String>,
    pub count: u64,
}

impl AuditEntry {
    /// The entry's hash, chained to the previous one.
    fn hash(&self, prev: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(prev);
        hasher.update(serde_json::to_vec(self).unwrap_or_default());
        hasher.finalize().to_vec()
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// The first entry whose hash does not follow from the ones before it.
    pub broken_at: Option<u64>,
}

pub struct AuditLog {
    conn: Connection,
}

impl AuditLog {
    /// Opens the audit log of a data directory, creating it (owner-only) if needed.
    pub fn open(data: &Path) -> Result<AuditLog, StoreError> {
        let path = data.join(FILE);
        let new = !path.exists();
        let conn = Connection::open(&path)?;
        if new {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| StoreError::Io {
                    context: format!("cannot restrict access to {}", path.display()),
                    source,
                },
            )?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS audit (
                seq      INTEGER PRIMARY KEY,
                time     TEXT NOT NULL,
                actor    TEXT NOT NULL,
                action   TEXT NOT NULL,
                purpose  TEXT NOT NULL,
                subjects TEXT NOT NULL,
                count    INTEGER NOT NULL,
                hash     BLOB NOT NULL
            )",
        )?;
        Ok(AuditLog { conn })
    }

    /// Records that `actor` opens the records `opened` doing `action` for
    /// `purpose`. Nothing is recorded when nothing is opened.
    pub fn record(
        &mut self,
        actor: &str,
        action: &str,
        purpose: &str,
        opened: &[RecordId],
    ) -> Result<(), StoreError> {
        if opened.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(u64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = last.map_or((1, Vec::new()), |(seq, hash)| (seq + 1, hash));
        let entry = AuditEntry {
            seq,
            time: format_time(Utc::now()),
            actor: actor.to_string(),
            action: action.to_string(),
            purpose: purpose.to_string(),
            subjects: opened.iter().map(ToString::to_string).collect(),
            count: opened.len() as u64,
        };
        let subjects = serde_json::to_string(&entry.subjects).unwrap_or_default();
        tx.execute(
            "INSERT INTO audit (seq, time, actor, action, purpose, subjects, count, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![seq, entry.time, entry.actor, entry.action, entry.purpose, subjects, entry.count, entry.hash(&prev)],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn rows(&self) -> Result<Vec<(AuditEntry, Vec<u8>)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT seq, time, actor, action, purpose, subjects, count, hash FROM audit ORDER BY seq",
        )?;
        let rows = statement.query_map([], |r| {
            let subjects: String = r.get(5)?;
            Ok((
                AuditEntry {
                    seq: r.get(0)?,
                    time: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    purpose: r.get(4)?,
                    subjects: serde_json::from_str(&subjects).unwrap_or_default(),
                    count: r.get(6)?,
                },
                r.get(7)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.rows()?.into_iter().map(|(entry, _)| entry).collect())
    }

    /// The number of entries and the hash of the last one (empty when there is none).
    pub fn head(&self) -> Result<(u64, Vec<u8>), StoreError> {
        let last: Option<(u64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(last.unwrap_or_default())
    }

    /// The hash of entry `seq`, if the log has it.
    pub fn hash_at(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
            .optional()?)
    }

    /// Recomputes the chain.
    pub fn verify(&self) -> Result<AuditReport, StoreError> {
        let rows = self.rows()?;
        let mut prev = Vec::new();
        let mut broken_at = None;
        for (expected_seq, (entry, hash)) in (1..).zip(&rows) {
            if entry.seq != expected_seq || entry.hash(&prev) != *hash {
                broken_at = Some(entry.seq);
                break;
            }
            prev.clone_from(hash);
        }
        Ok(AuditReport {
            entries: rows.len() as u64,
            broken_at,
        })
    }
}

/// Whoever is about to open sealed records, for the audit log.
pub trait Auditor: Send + Sync {
    /// Records that the records `ids` are about to be opened. An error keeps
    /// them sealed and fails the read: nothing is read that is not recorded.
    fn opening(&self, ids: &[RecordId]) -> Result<(), StoreError>;
}

/// One reader's reads in a data directory's audit log: who, doing what, and
/// why. The log is opened when the first sealed record is about to be opened.
pub struct ReadAudit {
    data: PathBuf,
    actor: String,
    action: String,
    purpose: String,
    log: Mutex<Option<AuditLog>>,
}

impl ReadAudit {
    pub fn new(data: &Path, actor: &str, action: &str, purpose: &str) -> ReadAudit {
        ReadAudit {
            data: data.to_path_buf(),
            actor: actor.to_string(),
            action: action.to_string(),
            purpose: purpose.to_string(),
            log: Mutex::new(None),
        }
    }
}

impl Auditor for ReadAudit {
    fn opening(&self, ids: &[RecordId]) -> Result<(), StoreError> {
        let mut kept = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut log = match kept.take() {
            Some(log) => log,
            None => AuditLog::open(&self.data)?,
        };
        let recorded = log.record(&self.actor, &self.action, &self.purpose, ids);
        *kept = Some(log);
        recorded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(ids: &[&str]) -> Vec<RecordId> {
        ids.iter().map(|id| RecordId::new(*id)).collect()
    }

    #[test]
    fn entries_chain_and_an_altered_one_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let mut log = AuditLog::open(dir.path()).expect("open");
        log.record("kim", "show p1", "case review", &opened(&["p1"]))
            .expect("record");
        log.record("kim", "list persons", "unspecified", &[])
            .expect("nothing");
        log.record("lee", "GET /persons/p2", "web", &opened(&["p2", "s1"]))
            .expect("record");
        log.record("kim", "export", "UN submission", &opened(&["p1"]))
            .expect("record");
        let entries = log.entries().expect("entries");
        assert_eq!(
            entries.len(),
            3,
            "reads that opened nothing are not recorded"
        );
        assert_eq!(entries[1].subjects, ["p2", "s1"]);
        assert_eq!(log.verify().expect("verify").broken_at, None);

        log.conn
            .execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2", [])
            .expect("tamper");
        assert_eq!(log.verify().expect("verify").broken_at, Some(2));
        log.conn
            .execute("DELETE FROM audit WHERE seq = 2", [])
            .expect("remove");
        assert_eq!(log.verify().expect("verify").broken_at, Some(3));
    }
}
