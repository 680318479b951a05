//! Files a data directory keeps for a while between two requests (an
//! upload waiting for its import confirmation, an export waiting to be
//! downloaded): in a directory of its own, or on a team's installation in
//! the shared database, so that whichever server process the next request
//! reaches has them, never in one process's memory. Each is named by its
//! SHA-256, found only while its bytes still hash to it, and swept once it
//! has been kept longer than its kind's time.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use girok_store::{Blobs, EvidenceFiles, StoreError};

/// What a kind of kept file is, and how long it is kept.
pub(crate) struct Kind {
    /// The directory inside a data directory (embedded installations).
    pub dir: &'static str,
    /// The space of kept files in a shared database.
    pub space: &'static str,
    /// The end of a kept file's name in its directory.
    pub extension: &'static str,
    pub kept_for: Duration,
}

/// The kept files of one kind in one data directory.
pub(crate) struct KeptFiles {
    kind: &'static Kind,
    /// Where files are kept, or (shared) copied to while they are read.
    dir: PathBuf,
    shared: Option<Blobs>,
}

/// A kept file, ready to read: the file itself, or a copy of the shared one.
pub(crate) enum Found {
    Kept(PathBuf),
    Copied(tempfile::NamedTempFile),
}

impl Found {
    pub fn path(&self) -> &Path {
        match self {
            Found::Kept(path) => path,
            Found::Copied(copy) => copy.path(),
        }
    }
}

fn io(action: &str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = format!("cannot {action} {}", path.display());
    move |source| StoreError::Io { context, source }
}

impl KeptFiles {
    pub fn of(data: &Path, kind: &'static Kind) -> Result<KeptFiles, StoreError> {
        Ok(KeptFiles {
            kind,
            dir: data.join(kind.dir),
            shared: crate::shared_database(data)?
                .map(|place| Blobs::open(&place))
                .transpose()?,
        })
    }

    fn make_dir(&self) -> Result<(), StoreError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(io("create", &self.dir))
    }

    /// A new temporary file beside the kept ones, on the same disk, readable
    /// by its owner only: what will be kept is written there first.
    pub fn scratch(&self) -> Result<tempfile::NamedTempFile, StoreError> {
        self.make_dir()?;
        tempfile::Builder::new()
            .prefix(".being-written-")
            .tempfile_in(&self.dir)
            .map_err(io("create a temporary file in", &self.dir))
    }

    /// Keeps `file` under its SHA-256, which it returns with its size;
    /// drops what has expired. The same bytes kept again wait afresh.
    pub fn keep(&self, file: tempfile::NamedTempFile) -> Result<(String, u64), StoreError> {
        self.sweep();
        let (sha256, size) = EvidenceFiles::sha256_of(file.path())?;
        if let Some(blobs) = &self.shared {
            blobs.remove(self.kind.space, &sha256)?;
            blobs.put(self.kind.space, file.path())?;
            return Ok((sha256, size));
        }
        self.make_dir()?;
        let path = self.path_of(&sha256);
        file.persist(&path)
            .map_err(|e| io("keep the file as", &path)(e.error))?;
        Ok((sha256, size))
    }

    /// No longer keeps the file; one already gone (another process took it)
    /// is as good as removed.
    pub fn remove(&self, sha256: &str) {
        if !is_sha256(sha256) {
            return;
        }
        match &self.shared {
            Some(blobs) => {
                let _ = blobs.remove(self.kind.space, sha256);
            }
            None => {
                let _ = std::fs::remove_file(self.path_of(sha256));
            }
        }
    }

    /// The kept file of `sha256` while it is kept and its bytes still hash
    /// to it; `None` otherwise (an expired or altered one is removed).
    pub fn find(&self, sha256: &str) -> Result<Option<Found>, StoreError> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        let found = match &self.shared {
            Some(blobs) => {
                let waited = blobs
                    .stored(self.kind.space, sha256)?
                    .map(|stored| chrono::Utc::now().timestamp() - stored);
                match waited {
                    None => return Ok(None),
                    Some(waited) if waited > self.kind.kept_for.as_secs() as i64 => {
                        self.remove(sha256);
                        return Ok(None);
                    }
                    Some(_) => {}
                }
                let mut copy = self.scratch()?;
                let Some(mut reader) = blobs.reader(self.kind.space, sha256)? else {
                    return Ok(None);
                };
                std::io::copy(&mut reader, copy.as_file_mut())
                    .map_err(io("copy a kept file into", &self.dir))?;
                Found::Copied(copy)
            }
            None => {
                let path = self.path_of(sha256);
                let Ok(metadata) = std::fs::metadata(&path) else {
                    return Ok(None);
                };
                if self.expired(&metadata) {
                    self.remove(sha256);
                    return Ok(None);
                }
                Found::Kept(path)
            }
        };
        if EvidenceFiles::sha256_of(found.path())?.0 != sha256 {
            self.remove(sha256);
            return Ok(None);
        }
        Ok(Some(found))
    }

    /// Removes the files kept longer than their kind's time, and the
    /// temporary files of writers that died. One that cannot be removed (a
    /// read-only copy) stays, and is found no more.
    pub fn sweep(&self) {
        if let Some(blobs) = &self.shared {
            let before = chrono::Utc::now().timestamp() - self.kind.kept_for.as_secs() as i64;
            let _ = blobs.remove_older(self.kind.space, before);
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .metadata()
                .is_ok_and(|m| m.is_file() && self.expired(&m))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn expired(&self, metadata: &std::fs::Metadata) -> bool {
        metadata
            .modified()
            .ok()
            .and_then(|kept| SystemTime::now().duration_since(kept).ok())
            .is_some_and(|waited| waited > self.kind.kept_for)
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.{}", self.kind.extension))
    }
}

/// Only a hash names a kept file: nothing from a form reaches a path otherwise.
fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
