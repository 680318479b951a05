//! `girok backup` and `girok restore`: the whole data directory (database,
//! users, keys, evidence files) as one encrypted, authenticated file, and
//! a restore that verifies the journal before it accepts anything.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use girok_store::{Database, KdfParams, Store};
use girok_vault::stream::{SealingWriter, open_backup};

/// SQLite files are copied through a consistent snapshot, not byte by byte.
const SNAPSHOTTED: [&str; 3] = [
    girok_service::DATABASE_FILE,
    girok_service::ACCESS_FILE,
    girok_service::AUDIT_FILE,
];

fn skipped(name: &str) -> bool {
    SNAPSHOTTED.iter().any(|file| name.starts_with(file))
        || name.starts_with(girok_service::BACKUP_STAGING_PREFIX)
}

/// Every file under `dir` but the live SQLite files, relative to `root`.
fn files_under(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let relative = path.strip_prefix(root)?.to_path_buf();
        if path.is_dir() {
            files_under(root, &path, found)?;
        } else if !skipped(&relative.to_string_lossy()) {
            found.push(relative);
        }
    }
    Ok(())
}

/// Writes the sealed archive: the snapshots, then the other files.
fn write_archive(
    file: File,
    secret: &girok_store::Unlock,
    (size, root): (u64, &[u8; 32]),
    staging: &Path,
    data: &Path,
    files: &[PathBuf],
) -> Result<()> {
    let sealing = SealingWriter::new(
        BufWriter::new(file),
        secret,
        KdfParams::default(),
        chrono::Utc::now().to_rfc3339(),
        size,
        hex::encode(root),
    )?;
    let mut archive = tar::Builder::new(sealing);
    for name in SNAPSHOTTED {
        let snapshot = staging.join(name);
        if snapshot.exists() {
            archive.append_path_with_name(&snapshot, name)?;
        }
    }
    for relative in files {
        archive.append_path_with_name(data.join(relative), relative)?;
    }
    let file = archive.into_inner()?.finish()?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

pub fn backup(data: &Path, out: &Path, key_file: Option<&Path>) -> Result<()> {
    let shared = data.join(girok_service::POSTGRES_FILE).exists();
    let store = girok_service::open(data)?;
    let (size, root) = store.tree_head()?;
    drop(store);
    // The secret first: a refused one must not leave snapshots waiting behind it.
    let secret = crate::keys::new_secret(key_file, crate::keys::PASSPHRASE_VARIABLE)?;
    // Snapshots go to a private directory inside the data directory, which only its
    // owner can enter; a backup killed before removing it is swept by the next open.
    let staging = girok_service::backup_staging(data)?;
    let mut files = Vec::new();
    let (size, root, files_from) = if shared {
        // A shared database becomes an embedded directory of its own, which
        // restores and verifies as any other (without the connection files).
        let (size, root) = girok_service::backup::stage_shared(data, staging.path())?;
        files_under(staging.path(), staging.path(), &mut files)?;
        (size, root, staging.path().to_path_buf())
    } else {
        for name in SNAPSHOTTED {
            if data.join(name).exists() {
                girok_store::snapshot(&data.join(name), &staging.path().join(name))?;
            }
        }
        files_under(data, data, &mut files)?;
        (size, root, data.to_path_buf())
    };

    let file = File::create_new(out)
        .with_context(|| format!("cannot create {} (it must not exist)", out.display()))?;
    let written = write_archive(
        file,
        &secret,
        (size, &root),
        staging.path(),
        &files_from,
        &files,
    );
    if let Err(error) = written {
        // A refused secret or a failed write leaves no partial backup behind.
        let _ = std::fs::remove_file(out);
        return Err(error.context(format!("cannot write {}", out.display())));
    }
    println!(
        "Backed up {} (journal of {size} entries, root {}) and {} other files to {}, encrypted.",
        data.display(),
        hex::encode(root),
        files.len(),
        out.display()
    );
    Ok(())
}

pub fn restore(
    backup: &Path,
    data: &Path,
    key_file: Option<&Path>,
    postgres: Option<&str>,
) -> Result<bool> {
    if data.exists() {
        bail!(
            "{} already exists; restore into a new directory (nothing was changed)",
            data.display()
        );
    }
    let secret = crate::keys::secret_at_hand(key_file)?
        .context("no secret to open the backup with: give --key-file, set GIROK_PASSPHRASE or run on a terminal")?;
    let input = File::open(backup).with_context(|| format!("cannot read {}", backup.display()))?;
    let (header, mut reader) = open_backup(BufReader::new(input), &secret)?;
    let parent = data
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".girok-restore-")
        .tempdir_in(parent)
        .context("cannot create a staging directory")?;
    tar::Archive::new(&mut reader)
        .unpack(staging.path())
        .context("the backup cannot be unpacked")?;
    // The archive ends before the stream does: the last chunk must still authenticate.
    std::io::copy(&mut reader, &mut std::io::sink()).context("the backup is damaged")?;
    println!(
        "The backup of {} authenticates: journal of {} entries, root {}.",
        header.created, header.journal_size, header.root
    );

    // The archive carries each file's mode as it was; a data directory is its owner's alone.
    girok_service::restrict_to_owner(staging.path())?;
    let store = Database::open(&staging.path().join("girok.sqlite"))?;
    let (size, root) = store.tree_head()?;
    if size != header.journal_size || hex::encode(root) != header.root {
        bail!(
            "the restored journal (size {size}, root {}) is not the one the backup was made from; nothing was restored",
            hex::encode(root)
        );
    }
    let clean = crate::integrity::verify(&store, staging.path(), None, None)?;
    drop(store);
    if !clean {
        println!("The restored journal does not verify; nothing was restored.");
        return Ok(false);
    }
    let Some(url) = postgres else {
        std::fs::rename(staging.keep(), data)
            .with_context(|| format!("cannot move the restored data to {}", data.display()))?;
        println!("Restored into {}.", data.display());
        return Ok(true);
    };
    let shared = girok_service::backup::restore_shared(staging.path(), data, url)?;
    let clean = crate::integrity::verify(&shared, data, None, None)?;
    if !clean {
        println!(
            "The journal copied into PostgreSQL does not verify: drop that database and restore again."
        );
        return Ok(false);
    }
    println!(
        "Restored into the PostgreSQL database {} names.",
        data.join(girok_service::POSTGRES_FILE).display()
    );
    Ok(true)
}
