//! CSV files uploaded for import, kept while a documenter reads their
//! preview and decides. They are kept in the data directory (or, on a
//! team's installation, in the shared database), not in a process's
//! memory, so that any server process sharing the database can take the
//! confirmation; each is named by its SHA-256, so a confirmation
//! names the exact bytes that were previewed, and removed once imported or
//! after [`STAGED_FOR`]. The preview and the import are the command line's
//! import path (`girok_interchange`), the import validated again as it writes.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use girok_interchange::{ImportError, ImportSummary, Preview};
use girok_store::{Blobs, Committed, Database, StoreError};

/// The directory of staged uploads inside a data directory.
const STAGING_DIR: &str = "import-staging";

/// The space of kept files that holds staged uploads, in a shared database.
const STAGED: &str = "import";

/// How long an upload waits for its confirmation.
pub const STAGED_FOR: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error(
        "no upload with SHA-256 {0} is waiting to be imported: it was imported or it expired; nothing was written"
    )]
    NotStaged(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot {action} {path}: {source}")]
    Directory {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The staged uploads of one data directory.
pub struct StagedImports {
    /// Where uploads are kept, or (shared) copied to while they are read.
    dir: PathBuf,
    shared: Option<Blobs>,
}

/// A staged upload, ready to read: its kept file, or a copy of the shared one.
enum Staged {
    Kept(PathBuf),
    Copied(tempfile::NamedTempFile),
}

impl Staged {
    fn path(&self) -> &Path {
        match self {
            Staged::Kept(path) => path,
            Staged::Copied(copy) => copy.path(),
        }
    }
}

impl StagedImports {
    pub fn of(data: &Path) -> Result<StagedImports, StagingError> {
        Ok(StagedImports {
            dir: data.join(STAGING_DIR),
            shared: crate::shared_database(data)?
                .map(|place| Blobs::open(&place))
                .transpose()?,
        })
    }

    fn make_dir(&self) -> Result<(), StagingError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|source| directory("create", &self.dir, source))
    }

    /// Keeps an uploaded file (a temporary file on the data directory's
    /// disk) under its SHA-256, which it returns; drops what has expired.
    pub fn keep(&self, upload: tempfile::NamedTempFile) -> Result<String, StagingError> {
        self.sweep();
        if let Some(blobs) = &self.shared {
            let (sha256, _) = girok_interchange::file_sha256(upload.path())?;
            // The same bytes staged again wait afresh.
            blobs.remove(STAGED, &sha256)?;
            return Ok(blobs.put(STAGED, upload.path())?.0);
        }
        self.make_dir()?;
        let (sha256, _) = girok_interchange::file_sha256(upload.path())?;
        let path = self.path_of(&sha256);
        // The same bytes staged again replace the older copy, and wait afresh.
        upload
            .persist(&path)
            .map_err(|e| directory("keep the upload as", &path, e.error))?;
        Ok(sha256)
    }

    /// What importing the staged file would do, with nothing written.
    pub fn preview(
        &self,
        store: &mut Database,
        actor: &str,
        sha256: &str,
        name: &str,
    ) -> Result<Preview, StagingError> {
        let staged = self.find(sha256)?;
        Ok(girok_interchange::preview(
            store,
            actor,
            staged.path(),
            name,
        )?)
    }

    /// Imports the staged file whole or not at all, read and checked again
    /// as it is written (the database may have changed since its preview).
    /// Once imported or refused it is no longer kept; after a failure of the
    /// store (say, a locked database) the same bytes can be confirmed again.
    pub fn import(
        &self,
        store: &mut Database,
        actor: &str,
        sha256: &str,
        name: &str,
    ) -> Result<(ImportSummary, Committed), StagingError> {
        let staged = self.find(sha256)?;
        let path = staged.path();
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let imported =
            girok_store::write_with(store, actor, girok_interchange::batch_size(bytes), |sink| {
                girok_interchange::import_as(path, name, sink, &mut |_| {})
            });
        let failed = matches!(
            &imported,
            Err(ImportError::Store(error)) if !matches!(error, StoreError::DuplicateImport(_))
        );
        if !failed {
            self.remove(sha256);
        }
        Ok(imported?)
    }

    /// No longer keeps the file (a preview with problems has nothing to confirm).
    pub fn remove(&self, sha256: &str) {
        if is_sha256(sha256) {
            // Already gone (another process imported it) is as good as removed.
            match &self.shared {
                Some(blobs) => {
                    let _ = blobs.remove(STAGED, sha256);
                }
                None => {
                    let _ = std::fs::remove_file(self.path_of(sha256));
                }
            }
        }
    }

    /// The staged file of `sha256` while it waits and its bytes still hash to it.
    fn find(&self, sha256: &str) -> Result<Staged, StagingError> {
        let not_staged = || StagingError::NotStaged(sha256.chars().take(64).collect());
        if !is_sha256(sha256) {
            return Err(not_staged());
        }
        if let Some(blobs) = &self.shared {
            let waited = blobs
                .stored(STAGED, sha256)?
                .map(|stored| chrono::Utc::now().timestamp() - stored);
            match waited {
                None => return Err(not_staged()),
                Some(waited) if waited > STAGED_FOR.as_secs() as i64 => {
                    self.remove(sha256);
                    return Err(not_staged());
                }
                Some(_) => {}
            }
            self.make_dir()?;
            let mut copy = tempfile::NamedTempFile::new_in(&self.dir)
                .map_err(|source| directory("copy the upload into", &self.dir, source))?;
            let mut reader = blobs.reader(STAGED, sha256)?.ok_or_else(not_staged)?;
            std::io::copy(&mut reader, copy.as_file_mut())
                .map_err(|source| directory("copy the upload into", &self.dir, source))?;
            if girok_interchange::file_sha256(copy.path())?.0 != sha256 {
                self.remove(sha256);
                return Err(not_staged());
            }
            return Ok(Staged::Copied(copy));
        }
        let path = self.path_of(sha256);
        let Ok(metadata) = std::fs::metadata(&path) else {
            return Err(not_staged());
        };
        if expired(&metadata) {
            self.remove(sha256);
            return Err(not_staged());
        }
        if girok_interchange::file_sha256(&path)?.0 != sha256 {
            self.remove(sha256);
            return Err(not_staged());
        }
        Ok(Staged::Kept(path))
    }

    /// Removes the uploads that waited longer than [`STAGED_FOR`]. One that
    /// cannot be removed (a read-only copy) stays, and is found no more.
    pub fn sweep(&self) {
        if let Some(blobs) = &self.shared {
            let before = chrono::Utc::now().timestamp() - STAGED_FOR.as_secs() as i64;
            let _ = blobs.remove_older(STAGED, before);
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.metadata().is_ok_and(|m| m.is_file() && expired(&m)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.csv"))
    }
}

fn directory(action: &'static str, path: &Path, source: std::io::Error) -> StagingError {
    StagingError::Directory {
        path: path.display().to_string(),
        action,
        source,
    }
}

fn expired(metadata: &std::fs::Metadata) -> bool {
    metadata
        .modified()
        .ok()
        .and_then(|kept| SystemTime::now().duration_since(kept).ok())
        .is_some_and(|waited| waited > STAGED_FOR)
}

/// Only a hash names a staged file: nothing from a form reaches a path otherwise.
fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The name an uploaded file is journaled under: its last path component,
/// without control characters; `None` when nothing is left.
pub fn upload_name(sent: &str) -> Option<String> {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(data: &Path, text: &str) -> (StagedImports, String) {
        let staging = StagedImports::of(data).expect("staging");
        let mut upload = tempfile::NamedTempFile::new_in(data).expect("upload");
        std::io::Write::write_all(&mut upload, text.as_bytes()).expect("write");
        let sha256 = staging.keep(upload).expect("kept");
        (staging, sha256)
    }

    #[test]
    fn an_upload_is_found_by_its_hash_until_it_expires_and_then_is_swept() {
        let data = tempfile::tempdir().expect("dir");
        let (staging, sha256) = staged(data.path(), "source_id\n");
        assert!(staging.find(&sha256).is_ok());
        let path = staging.path_of(&sha256);
        let long_ago = SystemTime::now() - STAGED_FOR - Duration::from_secs(1);
        let file = std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open");
        file.set_modified(long_ago).expect("age it");
        assert!(matches!(
            staging.find(&sha256),
            Err(StagingError::NotStaged(_))
        ));
        assert!(
            !path.exists(),
            "an expired upload is removed when asked for"
        );

        let (staging, first) = staged(data.path(), "one\n");
        let file = std::fs::File::options()
            .write(true)
            .open(staging.path_of(&first))
            .expect("open");
        file.set_modified(long_ago).expect("age it");
        let (staging, _) = staged(data.path(), "two\n");
        assert!(
            !staging.path_of(&first).exists(),
            "the next upload sweeps it"
        );
    }

    #[test]
    fn altered_bytes_or_a_name_that_is_no_hash_find_nothing() {
        let data = tempfile::tempdir().expect("dir");
        let (staging, sha256) = staged(data.path(), "source_id\n");
        std::fs::write(staging.path_of(&sha256), "other\n").expect("alter");
        assert!(matches!(
            staging.find(&sha256),
            Err(StagingError::NotStaged(_))
        ));
        for name in ["../girok.sqlite", "", &"A".repeat(64)] {
            assert!(
                matches!(staging.find(name), Err(StagingError::NotStaged(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn an_upload_is_journaled_under_its_last_name_without_controls() {
        assert_eq!(
            upload_name("C:\\Users\\kim\\rows.csv").as_deref(),
            Some("rows.csv")
        );
        assert_eq!(
            upload_name("../../rows\u{7}.csv").as_deref(),
            Some("rows.csv")
        );
        assert_eq!(upload_name(".."), None);
        assert_eq!(upload_name(" "), None);
    }
}
