//! CSV files uploaded for import, kept while a documenter reads their
//! preview and decides. They are kept in the data directory (or, on a
//! team's installation, in the shared database), not in a process's
//! memory, so that any server process sharing the database can take the
//! confirmation; each is named by its SHA-256, so a confirmation
//! names the exact bytes that were previewed, and removed once imported or
//! after [`STAGED_FOR`]. The preview and the import are the command line's
//! import path (`girok_interchange`), the import validated again as it writes.

use std::path::Path;
use std::time::Duration;

use girok_interchange::{ImportError, ImportSummary, Preview};
use girok_store::{Committed, Database, StoreError};

use crate::kept::{Found, KeptFiles, Kind};

/// How long an upload waits for its confirmation.
pub const STAGED_FOR: Duration = Duration::from_secs(60 * 60);

/// Staged uploads: in `DIR/import-staging`, or the shared database's "import" space.
pub(crate) static STAGED: Kind = Kind {
    dir: "import-staging",
    space: "import",
    extension: "csv",
    kept_for: STAGED_FOR,
};

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
}

/// The staged uploads of one data directory.
pub struct StagedImports {
    kept: KeptFiles,
}

impl StagedImports {
    pub fn of(data: &Path) -> Result<StagedImports, StagingError> {
        Ok(StagedImports {
            kept: KeptFiles::of(data, &STAGED)?,
        })
    }

    /// Keeps an uploaded file (a temporary file on the data directory's
    /// disk) under its SHA-256, which it returns; drops what has expired.
    pub fn keep(&self, upload: tempfile::NamedTempFile) -> Result<String, StagingError> {
        Ok(self.kept.keep(upload)?.0)
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
        self.kept.remove(sha256);
    }

    /// The staged file of `sha256` while it waits and its bytes still hash to it.
    fn find(&self, sha256: &str) -> Result<Found, StagingError> {
        self.kept
            .find(sha256)?
            .ok_or_else(|| StagingError::NotStaged(sha256.chars().take(64).collect()))
    }

    /// Removes the uploads that waited longer than [`STAGED_FOR`].
    pub fn sweep(&self) {
        self.kept.sweep();
    }
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
    use std::time::SystemTime;

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
        let path = staging.kept.path_of(&sha256);
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
            .open(staging.kept.path_of(&first))
            .expect("open");
        file.set_modified(long_ago).expect("age it");
        let (staging, _) = staged(data.path(), "two\n");
        assert!(
            !staging.kept.path_of(&first).exists(),
            "the next upload sweeps it"
        );
    }

    #[test]
    fn altered_bytes_or_a_name_that_is_no_hash_find_nothing() {
        let data = tempfile::tempdir().expect("dir");
        let (staging, sha256) = staged(data.path(), "source_id\n");
        std::fs::write(staging.kept.path_of(&sha256), "other\n").expect("alter");
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
