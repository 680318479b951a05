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
