//! The audit log: who read decrypted identifying data, which records, when,
//! and why. It is kept in its own file (`DIR/audit.sqlite`, readable only by
//! its owner) so reads never wait on the journal's writer, or in the shared
//! PostgreSQL database of a team's installation, where every server appends
//! to the one chain and no row can be changed. Each entry
//! carries the SHA-256 of the previous one: an entry altered or removed
//! from the middle breaks the chain, which `verify` names. A head (entry
//! count and last hash) signed and kept elsewhere also catches a log cut
//! short or replaced.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use girok_journal::format_time;
use serde::Serialize;
use sha2::{Digest, Sha256};

use girok_model::RecordId;

use crate::sql::Sql;
use crate::{Place, Schema, Sidecar, StoreError, run_script};

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
    sidecar: Sidecar,
}

/// The audit log's table: one row per read, chained by hash. On PostgreSQL
/// its rows can only be added.
pub static SCHEMA: Schema = Schema {
    name: "audit",
    steps: &[|sql| run_script(sql, TABLE)],
    postgres: TABLE,
    postgres_version: 1,
    append_only: &["audit"],
    mutable: &[],
};

/// Logs made before versions were counted hold it already, hence `IF NOT EXISTS`.
const TABLE: &str = "CREATE TABLE IF NOT EXISTS audit (
    seq      INTEGER PRIMARY KEY,
    time     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    purpose  TEXT NOT NULL,
    subjects TEXT NOT NULL,
    count    INTEGER NOT NULL,
    hash     BLOB NOT NULL
)";

impl AuditLog {
    /// Opens the audit log at `place`, creating it if needed.
    pub fn open(place: &Place) -> Result<AuditLog, StoreError> {
        Ok(AuditLog {
            sidecar: Sidecar::open(place, &SCHEMA)?,
        })
    }

    /// Lets a PostgreSQL role add entries and read them, never change them.
    pub fn grant_to(&self, role: &str) -> Result<(), StoreError> {
        self.sidecar.grant_to(role)
    }

    /// Records that `actor` opens the records `opened` doing `action` for
    /// `purpose`. Nothing is recorded when nothing is opened.
    pub fn record(
        &self,
        actor: &str,
        action: &str,
        purpose: &str,
        opened: &[RecordId],
    ) -> Result<(), StoreError> {
        if opened.is_empty() {
            return Ok(());
        }
        self.append(
            actor,
            action,
            purpose,
            opened.iter().map(ToString::to_string).collect(),
        )
    }

    /// Records that `actor` took `what` (a file handed out: an export, a
    /// report) doing `action` for `purpose`.
    pub fn taken(
        &self,
        actor: &str,
        action: &str,
        purpose: &str,
        what: &str,
    ) -> Result<(), StoreError> {
        self.append(actor, action, purpose, vec![what.to_string()])
    }

    fn append(
        &self,
        actor: &str,
        action: &str,
        purpose: &str,
        subjects: Vec<String>,
    ) -> Result<(), StoreError> {
        self.sidecar.write(|sql| {
            let (last, prev) = head(sql)?;
            let entry = AuditEntry {
                seq: last + 1,
                time: format_time(Utc::now()),
                actor: actor.to_string(),
                action: action.to_string(),
                purpose: purpose.to_string(),
                count: subjects.len() as u64,
                subjects,
            };
            let subjects = serde_json::to_string(&entry.subjects).unwrap_or_default();
            sql.execute(
                "INSERT INTO audit (seq, time, actor, action, purpose, subjects, count, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &[
                    entry.seq.into(),
                    entry.time.as_str().into(),
                    actor.into(),
                    action.into(),
                    purpose.into(),
                    subjects.as_str().into(),
                    entry.count.into(),
                    entry.hash(&prev).as_slice().into(),
                ],
            )
        })
    }

    fn rows(&self) -> Result<Vec<(AuditEntry, Vec<u8>)>, StoreError> {
        let mut rows = Vec::new();
        self.sidecar.sql().each(
            "SELECT seq, time, actor, action, purpose, subjects, count, hash FROM audit ORDER BY seq",
            &[],
            &mut |mut row| {
                let subjects = row.text(5)?;
                rows.push((
                    AuditEntry {
                        seq: row.count(0)?,
                        time: row.text(1)?,
                        actor: row.text(2)?,
                        action: row.text(3)?,
                        purpose: row.text(4)?,
                        subjects: serde_json::from_str(&subjects).unwrap_or_default(),
                        count: row.count(6)?,
                    },
                    row.blob(7)?,
                ));
                Ok(())
            },
        )?;
        Ok(rows)
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.rows()?.into_iter().map(|(entry, _)| entry).collect())
    }

    /// The number of entries and the hash of the last one (empty when there is none).
    pub fn head(&self) -> Result<(u64, Vec<u8>), StoreError> {
        head(self.sidecar.sql())
    }

    /// The hash of entry `seq`, if the log has it.
    pub fn hash_at(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.sidecar
            .sql()
            .row("SELECT hash FROM audit WHERE seq = ?1", &[seq.into()])?
            .map(|mut row| row.blob(0))
            .transpose()
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

/// The last entry's number and hash (0 and nothing for an empty log).
fn head(sql: &dyn Sql) -> Result<(u64, Vec<u8>), StoreError> {
    match sql.row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])? {
        Some(mut row) => Ok((row.count(0)?, row.blob(1)?)),
        None => Ok((0, Vec::new())),
    }
}

/// Whoever is about to open sealed records, for the audit log.
pub trait Auditor: Send + Sync {
    /// Records that the records `ids` are about to be opened. An error keeps
    /// them sealed and fails the read: nothing is read that is not recorded.
    fn opening(&self, ids: &[RecordId]) -> Result<(), StoreError>;
}

/// A data directory's audit log, opened when the first sealed record is
/// about to be opened and kept for the reads after it.
pub struct AuditTrail {
    place: Place,
    log: Mutex<Option<(AuditLog, Option<FileIdentity>)>>,
}

/// Which file an embedded log was opened from: a log removed or replaced
/// behind an open connection is opened again (or fails) rather than
/// written into a file no one can read any more.
type FileIdentity = (u64, u64);

fn identity(place: &Place) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    match place {
        Place::File(path) => std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino())),
        Place::Postgres(_) => None,
    }
}

impl AuditTrail {
    pub fn new(place: Place) -> AuditTrail {
        AuditTrail {
            place,
            log: Mutex::new(None),
        }
    }

    fn record(
        &self,
        actor: &str,
        action: &str,
        purpose: &str,
        opened: &[RecordId],
    ) -> Result<(), StoreError> {
        self.with_log(|log| log.record(actor, action, purpose, opened))
    }

    /// Records that `actor` took `what` (a file handed out) doing `action`.
    pub fn taken(
        &self,
        actor: &str,
        action: &str,
        purpose: &str,
        what: &str,
    ) -> Result<(), StoreError> {
        self.with_log(|log| log.taken(actor, action, purpose, what))
    }

    fn with_log(
        &self,
        work: impl FnOnce(&AuditLog) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut kept = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = identity(&self.place);
        if kept
            .as_ref()
            .is_none_or(|(_, opened_from)| *opened_from != now)
        {
            *kept = None;
            *kept = Some((AuditLog::open(&self.place)?, identity(&self.place)));
        }
        let (log, _) = kept.as_ref().ok_or_else(|| {
            StoreError::Corrupt("the audit log was not kept after opening".into())
        })?;
        work(log)
    }
}

/// One reader's reads, for a data directory's audit trail: who, doing
/// what, and why.
pub struct ReadAudit {
    trail: Arc<AuditTrail>,
    actor: String,
    action: String,
    purpose: String,
}

impl ReadAudit {
    pub fn new(trail: Arc<AuditTrail>, actor: &str, action: &str, purpose: &str) -> ReadAudit {
        ReadAudit {
            trail,
            actor: actor.to_string(),
            action: action.to_string(),
            purpose: purpose.to_string(),
        }
    }
}

impl Auditor for ReadAudit {
    fn opening(&self, ids: &[RecordId]) -> Result<(), StoreError> {
        self.trail
            .record(&self.actor, &self.action, &self.purpose, ids)
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
        let log = AuditLog::open(&Place::File(dir.path().join("audit.sqlite"))).expect("open");
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

        log.sidecar
            .sql()
            .execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2", &[])
            .expect("tamper");
        assert_eq!(log.verify().expect("verify").broken_at, Some(2));
        log.sidecar
            .sql()
            .execute("DELETE FROM audit WHERE seq = 2", &[])
            .expect("remove");
        assert_eq!(log.verify().expect("verify").broken_at, Some(3));
    }
}
