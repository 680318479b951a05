//! Evidence files: stored read-only and content-addressed, or for a
//! sensitive file in an encrypted database sealed under its record's own
//! data key with only a salted commitment journaled; each intake, copy and
//! export is a custody event in the journal.

use std::path::Path;

use girok_model::{Change, CustodyAction, Evidence, FuzzyDate, Record, RecordId, RecordKind};
use girok_store::{
    Database, EvidenceFiles, FileState, JournalRow, LockState, Opening, Store, StoreError,
};
use girok_vault::DataKey;

/// Evidence bytes inside a data directory.
pub(crate) const EVIDENCE_DIR: &str = "evidence";

/// The evidence files of a data directory: in its own directory, or in the
/// shared database of a team's installation, where every server has them.
pub fn files(data: &Path) -> Result<EvidenceFiles, StoreError> {
    match crate::shared_database(data)? {
        Some(place) => EvidenceFiles::shared(&place),
        None => Ok(EvidenceFiles::new(&data.join(EVIDENCE_DIR))),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no evidence file with SHA-256 {0}")]
    NoSuchFile(String),
    #[error("evidence record {id} of file {sha256} is gone")]
    RecordGone { id: RecordId, sha256: String },
    #[error(
        "evidence file {0} is sealed: unlock the database to copy it out \
         (if it was forgotten, it can never be read again)"
    )]
    Sealed(RecordId),
    #[error("cannot draw a random id: {0}")]
    Random(#[from] girok_vault::VaultError),
}

/// What `attach` is told about a file besides its bytes.
pub struct Intake {
    pub source: RecordId,
    /// The name the file had where it came from.
    pub file_name: String,
    pub captured: FuzzyDate,
    pub collector: Option<String>,
    pub media_type: Option<String>,
    pub sensitive: bool,
    pub id: Option<RecordId>,
}

/// Stores the bytes, then journals the evidence record and its intake custody event.
pub fn attach(
    store: &mut Database,
    data: &Path,
    actor: &str,
    file: &Path,
    intake: Intake,
) -> Result<(RecordId, String), EvidenceError> {
    let captured = intake.captured;
    let files = files(data)?;
    // In an encrypted database a sensitive file is sealed under its record's
    // own data key, and only a salted commitment to its bytes is journaled:
    // neither its id nor its custody says which file it is.
    let sealed = intake.sensitive && store.lock_state() != LockState::Plain;
    let given_id = intake.id.clone();
    let (id, sha256, size, content, new) = if sealed {
        let id = match given_id {
            Some(id) => id,
            None => RecordId::new(format!(
                "ev-{}",
                hex::encode(&girok_vault::random_salt()?[..8])
            )),
        };
        let (plain_sha256, _) = EvidenceFiles::sha256_of(file)?;
        let key = store.data_key(&id)?;
        let (content, commitment) = files.put_sealed(file, &id, &plain_sha256, &key)?;
        (id, commitment, 0, Some(content), true)
    } else {
        let (sha256, size, new) = files.put(file)?;
        let id = given_id.unwrap_or_else(|| RecordId::new(format!("ev-{}", &sha256[..16])));
        (id, sha256, size, None, new)
    };
    let file_name = intake.file_name;
    let note = match &content {
        // The note is journaled in the clear: in an encrypted database the
        // name, collector and size stay in the sealed evidence record only.
        Some(_) => format!("captured {captured}"),
        None if store.lock_state() != LockState::Plain => {
            format!("{size} bytes, captured {captured}")
        }
        None => format!(
            "original name {file_name}, {size} bytes, captured {captured}, collector {}",
            intake.collector.as_deref().unwrap_or("unknown")
        ),
    };
    let evidence = Evidence {
        id: id.clone(),
        source: intake.source,
        sha256: sha256.clone(),
        file_name,
        size,
        media_type: intake.media_type,
        captured,
        collector: intake.collector.clone(),
        sensitive: intake.sensitive,
        sealed: None,
        salted: content.is_some(),
        content,
    };
    let intake_event = Change::Custody {
        evidence: id.clone(),
        sha256: sha256.clone(),
        action: CustodyAction::Intake,
        recipient: None,
        note,
    };
    let written = store.write(actor, |sink| {
        sink.apply(Change::Create {
            record: Record::Evidence(evidence),
        })?;
        sink.apply(intake_event)
    });
    if let Err(error) = written {
        if sealed {
            files.discard_sealed(&id);
        } else if new {
            files.discard(&sha256);
        }
        return Err(error.into());
    }
    Ok((id, sha256))
}

/// The evidence record of a stored file, from its chain of custody.
pub fn evidence_of(
    store: &Database,
    sha256: &str,
    custody: &[JournalRow],
) -> Result<Evidence, EvidenceError> {
    let Some(Change::Custody { evidence, .. }) = custody.first().map(|row| &row.entry.change)
    else {
        return Err(EvidenceError::NoSuchFile(sha256.to_string()));
    };
    match store.get(evidence)?.map(|stored| stored.record) {
        Some(Record::Evidence(evidence)) => Ok(evidence),
        _ => Err(EvidenceError::RecordGone {
            id: evidence.clone(),
            sha256: sha256.to_string(),
        }),
    }
}

/// How to open an evidence record's sealed file with `key`; `None` when the
/// bytes' hash cannot be known (the record was read locked).
fn opening<'a>(evidence: &'a Evidence, key: &'a DataKey) -> Option<(&'a str, Opening<'a>)> {
    let sha256 = evidence.content_sha256()?;
    Some((
        sha256,
        Opening {
            id: &evidence.id,
            key,
            padded_from: evidence.content.as_ref().map(|c| c.size),
        },
    ))
}

/// Copies a stored file out, opening it with its key if it is sealed.
pub fn copy_out(
    store: &Database,
    files: &EvidenceFiles,
    evidence: &Evidence,
    to: &Path,
) -> Result<u64, EvidenceError> {
    if !files.is_sealed(&evidence.id) {
        return Ok(files.copy_out(&evidence.sha256, None, to)?);
    }
    let sealed = || EvidenceError::Sealed(evidence.id.clone());
    let key = store.existing_data_key(&evidence.id)?.ok_or_else(sealed)?;
    let (sha256, opening) = opening(evidence, &key).ok_or_else(sealed)?;
    Ok(files.copy_out(sha256, Some(&opening), to)?)
}

/// Copies a stored file out and journals the export.
pub fn export(
    store: &mut Database,
    data: &Path,
    actor: &str,
    sha256: &str,
    to: &Path,
    recipient: String,
    note: String,
) -> Result<u64, EvidenceError> {
    let evidence = evidence_of(store, sha256, &store.custody(sha256)?)?;
    let size = copy_out(store, &files(data)?, &evidence, to)?;
    let event = Change::Custody {
        evidence: evidence.id,
        sha256: sha256.to_string(),
        action: CustodyAction::Export,
        recipient: Some(recipient),
        note,
    };
    if let Err(error) = store.write(actor, |sink| sink.apply(event)) {
        // An export that is not in the custody chain must not exist.
        let _ = std::fs::remove_file(to);
        return Err(error.into());
    }
    Ok(size)
}

/// What re-hashing the evidence files found.
pub struct EvidenceReport {
    pub files: u64,
    pub problems: Vec<String>,
    /// Sealed files that could not be re-hashed (locked, or forgotten).
    pub unread: Vec<String>,
}

/// Re-hashes every evidence file the database names (a sealed one through
/// its key, when the store is unlocked).
pub fn check_all(store: &Database, data: &Path) -> Result<EvidenceReport, EvidenceError> {
    let files = files(data)?;
    let mut problems = Vec::new();
    let mut unread = Vec::new();
    let records = store.list(RecordKind::Evidence, 0, u64::MAX)?;
    for stored in &records {
        if let Record::Evidence(evidence) = &stored.record {
            let not_rehashed = |why: &str| {
                format!(
                    "evidence file {} (record {}) is sealed and was not re-hashed: {why}",
                    evidence.sha256, evidence.id
                )
            };
            let sealed = files.is_sealed(&evidence.id);
            let key = if sealed {
                match store.existing_data_key(&evidence.id)? {
                    Some(key) => Some(key),
                    None => {
                        unread.push(not_rehashed(if store.lock_state() == LockState::Unlocked {
                            "it was forgotten"
                        } else {
                            "the database is locked"
                        }));
                        continue;
                    }
                }
            } else {
                None
            };
            // A sealed record read locked has no file name to show.
            let named = if evidence.file_name.is_empty() {
                format!("record {}", evidence.id)
            } else {
                format!("{}, record {}", evidence.file_name, evidence.id)
            };
            let state = match &key {
                Some(key) => match opening(evidence, key) {
                    Some((sha256, opening)) => files.check(sha256, Some(&opening))?,
                    None => {
                        unread.push(not_rehashed("its record was not opened"));
                        continue;
                    }
                },
                None => files.check(&evidence.sha256, None)?,
            };
            match state {
                FileState::Intact => {}
                FileState::Missing => problems.push(format!(
                    "evidence file {} ({named}) is missing",
                    evidence.sha256
                )),
                FileState::Altered(actual) => problems.push(format!(
                    "evidence file {} ({named}) was altered: its bytes now hash to {actual}",
                    evidence.sha256
                )),
            }
        }
    }
    Ok(EvidenceReport {
        files: records.len() as u64,
        problems,
        unread,
    })
}
