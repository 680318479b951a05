//! A team's PostgreSQL database made into an embedded data directory: the
//! journal, state, users, audit log, evidence files and pseudonym key as
//! files, so that `girok backup` seals it as it seals any directory and
//! `girok restore` verifies the journal before the copy is trusted.

use std::path::Path;

use girok_store::{
    AUDIT_SCHEMA, Blobs, Database, EVIDENCE, EvidenceFiles, Place, Sidecar, Store, StoreError,
};

use crate::{ACCESS_FILE, AUDIT_FILE, DATABASE_FILE, KEY_FILE, ServiceError};

/// Writes into `staging` (an empty private directory) an embedded data
/// directory holding what the shared database of `data` holds, as of one
/// snapshot of its journal. Returns the journal's size and root.
pub fn stage_shared(data: &Path, staging: &Path) -> Result<(u64, [u8; 32]), ServiceError> {
    let Some(place) = crate::shared_database(data)? else {
        return Err(ServiceError::Store(StoreError::Missing {
            path: format!("a PostgreSQL database named by {}", data.display()),
        }));
    };
    let source = crate::open_database(data)?;
    let copy = Database::create(&staging.join(DATABASE_FILE))?;
    source.copy_into(&copy)?;
    let head = copy.tree_head()?;
    drop(copy);
    for (schema, file) in [
        (&girok_access::SCHEMA, ACCESS_FILE),
        (&AUDIT_SCHEMA, AUDIT_FILE),
    ] {
        let target = Sidecar::open(&Place::File(staging.join(file)), schema)?;
        Sidecar::open(&place, schema)?.copy_into(&target)?;
    }
    let blobs = Blobs::open(&place)?;
    let files = EvidenceFiles::new(&staging.join(crate::evidence::EVIDENCE_DIR));
    for sha256 in blobs.list(EVIDENCE)? {
        let mut bytes =
            tempfile::NamedTempFile::new_in(staging).map_err(|source| ServiceError::Directory {
                path: staging.display().to_string(),
                action: "copy an evidence file into",
                source,
            })?;
        if let Some(mut reader) = blobs.reader(EVIDENCE, &sha256)? {
            std::io::copy(&mut reader, bytes.as_file_mut()).map_err(|source| {
                ServiceError::Directory {
                    path: staging.display().to_string(),
                    action: "copy an evidence file into",
                    source,
                }
            })?;
        }
        let (kept, _, _) = files.put(bytes.path())?;
        if kept != sha256 {
            return Err(ServiceError::Store(StoreError::Corrupt(format!(
                "evidence file {sha256} in the database now hashes to {kept}"
            ))));
        }
    }
    crate::write_owner_only(
        &staging.join(crate::secrets::PSEUDONYM_FILE),
        &crate::secrets::pseudonym_key(data)?,
    )?;
    std::fs::copy(data.join(KEY_FILE), staging.join(KEY_FILE)).map_err(|source| {
        ServiceError::Directory {
            path: staging.display().to_string(),
            action: "copy the checkpoint key into",
            source,
        }
    })?;
    Ok(head)
}

/// Fills the new PostgreSQL database at `url` with the embedded data
/// directory `restored` (a verified restore of a backup) and makes `data`
/// a directory that names it. A database that was encrypted is refused:
/// PostgreSQL could not destroy a forgotten person's key.
pub fn restore_shared(restored: &Path, data: &Path, url: &str) -> Result<Database, ServiceError> {
    let embedded = Database::open(&restored.join(DATABASE_FILE))?;
    if embedded.lock_state() != girok_store::LockState::Plain {
        return Err(ServiceError::Store(StoreError::NoSecureDeletion));
    }
    let shared = crate::create_postgres(data, url)?;
    embedded.copy_into(&shared)?;
    let place = Place::Postgres(url.to_string());
    for (schema, file) in [
        (&girok_access::SCHEMA, ACCESS_FILE),
        (&AUDIT_SCHEMA, AUDIT_FILE),
    ] {
        if restored.join(file).exists() {
            let source = Sidecar::open(&Place::File(restored.join(file)), schema)?;
            source.copy_into(&Sidecar::open(&place, schema)?)?;
        }
    }
    let blobs = Blobs::open(&place)?;
    for file in evidence_files(&restored.join(crate::evidence::EVIDENCE_DIR))? {
        blobs.put(EVIDENCE, &file)?;
    }
    let pseudonyms = restored.join(crate::secrets::PSEUDONYM_FILE);
    if pseudonyms.exists() {
        let key = std::fs::read(&pseudonyms).map_err(|source| StoreError::Io {
            context: format!("cannot read {}", pseudonyms.display()),
            source,
        })?;
        crate::secrets::keep_pseudonym_key(&place, &key)?;
    }
    crate::write_owner_only(
        &data.join(KEY_FILE),
        &std::fs::read(restored.join(KEY_FILE)).map_err(|source| StoreError::Io {
            context: "cannot read the restored checkpoint key".into(),
            source,
        })?,
    )?;
    Ok(shared)
}

/// The content-addressed files of an evidence directory (`xx/<sha256>`).
fn evidence_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, ServiceError> {
    let mut found = Vec::new();
    let Ok(prefixes) = std::fs::read_dir(dir) else {
        return Ok(found);
    };
    let unreadable = |source| StoreError::Io {
        context: format!("cannot read {}", dir.display()),
        source,
    };
    for prefix in prefixes {
        let prefix = prefix.map_err(unreadable)?.path();
        // Two hex digits name a prefix; anything else (sealed files) is not plain evidence.
        let two_hex = prefix
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        if !prefix.is_dir() || !two_hex {
            continue;
        }
        for file in std::fs::read_dir(&prefix).map_err(unreadable)? {
            found.push(file.map_err(unreadable)?.path());
        }
    }
    found.sort();
    Ok(found)
}
