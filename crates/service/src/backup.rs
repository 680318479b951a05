//! Backups: the whole data directory (database, users, audit log, keys,
//! evidence files) as one file sealed under a passphrase or key file,
//! written by the command line or by a background job for an admin in the
//! browser, and kept for a day for its download. A team's PostgreSQL
//! database is first made into an embedded data directory (its journal,
//! state, users, audit log, evidence files and pseudonym key as files), so
//! that it seals as any directory does and `girok restore` verifies the
//! journal before the copy is trusted.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use girok_store::{
    AUDIT_SCHEMA, Blobs, Database, EVIDENCE, EvidenceFiles, KdfParams, Place, Sidecar, Store,
    StoreError, Unlock,
};
use girok_vault::stream::SealingWriter;
use serde::{Deserialize, Serialize};

use crate::exports::{Download, DownloadError};
use crate::jobs::{Phase, Progress};
use crate::kept::{KeptFiles, Kind};
use crate::{ACCESS_FILE, AUDIT_FILE, DATABASE_FILE, JOBS_FILE, KEY_FILE, ServiceError};

/// How long a backup made for the browser waits to be downloaded.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Backups made for the browser: in `DIR/backups`, or the shared database's "backup" space.
pub(crate) static BACKUPS: Kind = Kind {
    dir: "backups",
    space: "backup",
    extension: "backup",
    kept_for: KEPT_FOR,
};

/// SQLite files are copied through a consistent snapshot, not byte by byte.
const SNAPSHOTTED: [&str; 3] = [DATABASE_FILE, ACCESS_FILE, AUDIT_FILE];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot seal the backup: {0}")]
    Seal(#[from] girok_vault::VaultError),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.display().to_string();
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contents {
    /// The journal's size and root (hex) when it was taken.
    pub journal_size: u64,
    pub root: String,
    /// Files besides the databases (evidence, keys).
    pub other_files: u64,
}

/// Whether a file of a data directory stays out of a backup: the databases
/// (snapshotted instead), a backup's own staging, the jobs' table (work in
/// progress, written by the backup job itself) and the files kept between
/// two requests (uploads waiting to be imported, exports and backups
/// waiting to be downloaded).
fn left_out(relative: &Path) -> bool {
    let name = relative.to_string_lossy();
    let kept = [&crate::exports::EXPORTS, &crate::imports::STAGED, &BACKUPS];
    SNAPSHOTTED.iter().any(|file| name.starts_with(file))
        || name.starts_with(crate::BACKUP_STAGING_PREFIX)
        || name.starts_with(JOBS_FILE)
        || kept.iter().any(|kind| relative.starts_with(kind.dir))
}

/// Every file under `dir` but those left out, relative to `root`.
fn files_under(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), BackupError> {
    for entry in std::fs::read_dir(dir).map_err(io_error("read", dir))? {
        let path = entry.map_err(io_error("read", dir))?.path();
        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        if left_out(&relative) {
            continue;
        }
        if path.is_dir() {
            files_under(root, &path, found)?;
        } else {
            found.push(relative);
        }
    }
    Ok(())
}

/// Writes a backup of the data directory `data` into `out`, sealed under
/// `secret`, and syncs it to its disk; `progress` follows the bytes sealed.
/// The secret is checked first: a refused one copies nothing. Snapshots
/// wait in a private directory inside `data` that only its owner can enter;
/// a backup killed before removing it is swept by the next open.
pub fn write(
    data: &Path,
    out: File,
    secret: &Unlock,
    progress: &Progress,
) -> Result<Contents, BackupError> {
    secret.check()?;
    progress.enter(Phase::Copying, 0);
    let staging = crate::backup_staging(data)?;
    let mut files = Vec::new();
    let (size, root, files_from) = if crate::shared_database(data)?.is_some() {
        // A shared database becomes an embedded directory of its own, which
        // restores and verifies as any other (without the connection files).
        let (size, root) = stage_shared(data, staging.path())?;
        files_under(staging.path(), staging.path(), &mut files)?;
        (size, root, staging.path().to_path_buf())
    } else {
        for name in SNAPSHOTTED {
            if data.join(name).exists() {
                girok_store::snapshot(&data.join(name), &staging.path().join(name))?;
            }
        }
        // The snapshot's own head: writes go on while a server backs up.
        let (size, root) = Database::open(&staging.path().join(DATABASE_FILE))?.tree_head()?;
        files_under(data, data, &mut files)?;
        (size, root, data.to_path_buf())
    };
    let mut sources: Vec<(PathBuf, PathBuf)> = SNAPSHOTTED
        .iter()
        .map(|name| (staging.path().join(name), PathBuf::from(name)))
        .filter(|(path, _)| path.exists())
        .collect();
    sources.extend(
        files
            .iter()
            .map(|relative| (files_from.join(relative), relative.clone())),
    );
    // What the archive will hold: each file's header and its content in
    // 512-byte blocks, then two empty blocks; progress follows the archive's
    // bytes as they go to be sealed, so it ends at its total.
    let total = sources
        .iter()
        .filter_map(|(path, _)| std::fs::metadata(path).ok())
        .map(|metadata| 512 + metadata.len().div_ceil(512) * 512)
        .sum::<u64>()
        + 1024;
    progress.enter(Phase::Sealing, total);

    let sealing = SealingWriter::new(
        BufWriter::new(out),
        secret,
        KdfParams::default(),
        chrono::Utc::now().to_rfc3339(),
        size,
        hex::encode(root),
    )?;
    let mut archive = tar::Builder::new(Counted {
        inner: sealing,
        progress,
    });
    for (path, name) in &sources {
        archive
            .append_path_with_name(path, name)
            .map_err(io_error("add to the backup", path))?;
    }
    let sealed = archive
        .into_inner()
        .and_then(|counted| counted.inner.finish())
        .map_err(io_error("finish", data))?;
    let file = sealed.into_inner().map_err(|e| BackupError::Io {
        action: "write",
        path: data.display().to_string(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_error("sync", data))?;
    Ok(Contents {
        journal_size: size,
        root: hex::encode(root),
        other_files: files.len() as u64,
    })
}

/// A writer that tells `progress` of every byte it passes on.
struct Counted<'a, W> {
    inner: W,
    progress: &'a Progress,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.progress.advance(written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What a backup job made, kept for its download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupResult {
    pub contents: Contents,
    /// The name the download is offered under.
    pub file_name: String,
    /// The kept file's SHA-256.
    pub kept: String,
    pub bytes: u64,
    /// Until when it is kept (UTC, RFC 3339).
    pub kept_until: String,
}

/// Runs backup job `job` on the data directory `data`, sealed under
/// `secret` (which never leaves this process's memory), and keeps it.
/// Returns its [`BackupResult`] as JSON, or why it failed, written for people.
pub fn run_job(data: &Path, secret: &Unlock, progress: &Progress) -> Result<String, String> {
    run(data, secret, progress).map_err(|error| error.to_string())
}

fn run(data: &Path, secret: &Unlock, progress: &Progress) -> Result<String, BackupError> {
    let kept = KeptFiles::of(data, &BACKUPS)?;
    let scratch = kept.scratch()?;
    let file = scratch
        .as_file()
        .try_clone()
        .map_err(io_error("write", scratch.path()))?;
    let contents = write(data, file, secret, progress)?;
    progress.enter(Phase::Keeping, 0);
    let (sha256, bytes) = kept.keep(scratch)?;
    let now = chrono::Utc::now();
    let kept_until = now + chrono::Duration::seconds(KEPT_FOR.as_secs() as i64);
    let result = BackupResult {
        contents,
        file_name: format!("girok-{}.backup", now.format("%Y%m%d-%H%M")),
        kept: sha256,
        bytes,
        kept_until: girok_journal::format_time(kept_until),
    };
    serde_json::to_string(&result).map_err(|e| BackupError::Io {
        action: "describe",
        path: data.display().to_string(),
        source: std::io::Error::other(e),
    })
}

/// Opens a kept backup for its download (it is sealed already).
pub fn open(data: &Path, result: &BackupResult) -> Result<Download, DownloadError> {
    let kept = KeptFiles::of(data, &BACKUPS)?;
    let found = kept.find(&result.kept)?.ok_or(DownloadError::Expired)?;
    let file = File::open(found.path()).map_err(|source| StoreError::Io {
        context: "cannot open the kept backup".into(),
        source,
    })?;
    Ok(Download {
        _found: found,
        reader: Box::new(std::io::BufReader::new(file)),
    })
}

/// Removes the backups kept longer than [`KEPT_FOR`].
pub fn sweep(data: &Path) {
    if let Ok(kept) = KeptFiles::of(data, &BACKUPS) {
        kept.sweep();
    }
}

/// Writes into `staging` (an empty private directory) an embedded data
/// directory holding what the shared database of `data` holds, as of one
/// snapshot of its journal. Returns the journal's size and root.
fn stage_shared(data: &Path, staging: &Path) -> Result<(u64, [u8; 32]), ServiceError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backups_progress_ends_at_its_total() {
        let data = tempfile::tempdir().expect("dir");
        drop(Database::create(&data.path().join(DATABASE_FILE)).expect("database"));
        crate::create_key(data.path()).expect("key");
        let out = tempfile::tempfile().expect("out");
        let progress = Progress::default();
        let secret = Unlock::Passphrase("a long enough passphrase".into());
        write(data.path(), out, &secret, &progress).expect("backup");
        let (phase, done, total) = progress.now();
        assert_eq!(phase, Phase::Sealing);
        assert!(total > 1024);
        assert_eq!(done, total);
    }
}
