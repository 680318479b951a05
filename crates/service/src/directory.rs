//! What a data directory may hold and who may read it: backups' private
//! staging directories, swept away once their process is gone, and owner-only
//! permissions on everything a restore unpacks.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::ServiceError;

/// Backups stage plaintext snapshots of the databases in a private directory
/// named with this prefix, the writing process's id and a random suffix.
pub const BACKUP_STAGING_PREFIX: &str = ".backup-";

/// A private directory inside `data` for a backup's snapshots, removed when
/// dropped (and by the next open if the backup is killed first).
pub fn backup_staging(data: &Path) -> Result<tempfile::TempDir, ServiceError> {
    tempfile::Builder::new()
        .prefix(&format!("{BACKUP_STAGING_PREFIX}{}-", std::process::id()))
        .tempdir_in(data)
        .map_err(|source| ServiceError::Directory {
            path: data.display().to_string(),
            action: "create a private staging directory in",
            source,
        })
}

/// Removes the staging directories of backups whose process is gone: a
/// backup killed midway leaves full plaintext snapshots of the databases,
/// data keys that `forget` has destroyed since included. Returns how many.
pub fn sweep_abandoned_backups(data: &Path) -> Result<usize, ServiceError> {
    let unreadable = |source| ServiceError::Directory {
        path: data.display().to_string(),
        action: "list",
        source,
    };
    let mut removed = 0;
    for entry in std::fs::read_dir(data).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let Some(pid) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_prefix(BACKUP_STAGING_PREFIX))
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        // A staging directory whose name carries no process id is from an older
        // version, whose backups could not outlive the command that made them.
        let alive = pid.parse::<u32>().is_ok_and(process_is_running);
        if path.is_dir() && !alive {
            std::fs::remove_dir_all(&path).map_err(|source| ServiceError::Directory {
                path: path.display().to_string(),
                action: "remove the abandoned backup snapshots in",
                source,
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn process_is_running(pid: u32) -> bool {
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

/// Closes `root` and everything under it to everyone but its owner:
/// directories 0700, files keep only their owner's bits (a read-only
/// evidence file stays read-only).
pub fn restrict_to_owner(root: &Path) -> Result<(), ServiceError> {
    let failed = |path: &Path, source| ServiceError::Permissions {
        path: path.display().to_string(),
        source,
    };
    let metadata = std::fs::symlink_metadata(root).map_err(|e| failed(root, e))?;
    if metadata.file_type().is_symlink() {
        return Ok(());
    }
    let mode = if metadata.is_dir() {
        0o700
    } else {
        metadata.permissions().mode() & 0o700
    };
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode))
        .map_err(|e| failed(root, e))?;
    if metadata.is_dir() {
        for entry in std::fs::read_dir(root).map_err(|e| failed(root, e))? {
            restrict_to_owner(&entry.map_err(|e| failed(root, e))?.path())?;
        }
    }
    Ok(())
}
