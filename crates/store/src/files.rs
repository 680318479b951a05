//! Evidence bytes, stored content-addressed by their SHA-256 and never modified.
//!
//! `<dir>/<first two hex digits>/<sha256>`, read-only. A file is written to a
//! temporary name in the same directory, synced, then renamed into place, so a
//! crash never leaves a partial file under a hash name.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use girok_model::RecordId;
use girok_vault::DataKey;
use girok_vault::stream::{SealingWriter, open_file};
use sha2::{Digest, Sha256};

use crate::StoreError;

pub struct EvidenceFiles {
    dir: PathBuf,
}

/// What was found when a stored file was hashed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Intact,
    Missing,
    /// The bytes now hash to this.
    Altered(String),
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// Copies `reader` to `out` while hashing it; returns the hex hash and size.
fn copy_hashing(
    reader: &mut dyn Read,
    out: &mut dyn Write,
    context: &str,
) -> Result<(String, u64), StoreError> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(io(format!("cannot read {context}")))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])
            .map_err(io(format!("cannot write {context}")))?;
        size += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

impl EvidenceFiles {
    pub fn new(dir: &Path) -> EvidenceFiles {
        EvidenceFiles {
            dir: dir.to_path_buf(),
        }
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256.get(..2).unwrap_or("00")).join(sha256)
    }

    /// Where a sensitive file sealed for one evidence record is kept.
    pub fn sealed_path_of(&self, id: &RecordId) -> PathBuf {
        self.dir.join(SEALED_DIR).join(id.as_str())
    }

    /// Whether the evidence record's bytes are stored sealed.
    pub fn is_sealed(&self, id: &RecordId) -> bool {
        self.sealed_path_of(id).exists()
    }

    /// The SHA-256 and size of a file, read once.
    pub fn sha256_of(path: &Path) -> Result<(String, u64), StoreError> {
        let shown = path.display().to_string();
        let mut reader =
            BufReader::new(File::open(path).map_err(io(format!("cannot open {shown}")))?);
        copy_hashing(&mut reader, &mut std::io::sink(), &shown)
    }

    /// A temporary file beside `target`, filled by `fill`, made read-only and
    /// renamed into place.
    fn store(
        &self,
        shown: &str,
        fill: impl FnOnce(&mut File) -> Result<(String, u64), StoreError>,
        target_of: impl FnOnce(&str) -> PathBuf,
    ) -> Result<(String, u64, bool), StoreError> {
        fs::create_dir_all(&self.dir)
            .map_err(io(format!("cannot create {}", self.dir.display())))?;
        let mut temporary = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(io("cannot create a temporary file".into()))?;
        let (sha256, size) = fill(temporary.as_file_mut())?;
        let target = target_of(&sha256);
        if target.exists() {
            return Ok((sha256, size, false));
        }
        temporary
            .as_file()
            .sync_all()
            .map_err(io(format!("cannot sync {shown}")))?;
        let mut permissions = temporary
            .as_file()
            .metadata()
            .map_err(io(format!("cannot stat {shown}")))?
            .permissions();
        permissions.set_readonly(true);
        temporary
            .as_file()
            .set_permissions(permissions)
            .map_err(io(format!("cannot protect {shown}")))?;
        let parent = target.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
        temporary.persist(&target).map_err(|e| StoreError::Io {
            context: format!("cannot store {shown}"),
            source: e.error,
        })?;
        Ok((sha256, size, true))
    }

    /// Stores a file's bytes; returns (sha256, size, whether they were new).
    pub fn put(&self, source: &Path) -> Result<(String, u64, bool), StoreError> {
        let shown = source.display().to_string();
        let mut reader =
            BufReader::new(File::open(source).map_err(io(format!("cannot open {shown}")))?);
        self.store(
            &shown,
            |file| copy_hashing(&mut reader, file, &shown),
            |sha256| self.path_of(sha256),
        )
    }

    /// Stores a sensitive file sealed under its evidence record's data key
    /// (the id and the plaintext's SHA-256 are bound to the ciphertext);
    /// returns (sha256, size).
    pub fn put_sealed(
        &self,
        source: &Path,
        id: &RecordId,
        sha256: &str,
        key: &DataKey,
    ) -> Result<(String, u64), StoreError> {
        let shown = source.display().to_string();
        let mut reader =
            BufReader::new(File::open(source).map_err(io(format!("cannot open {shown}")))?);
        let (actual, size, _) = self.store(
            &shown,
            |file| {
                let mut sealing = SealingWriter::for_file(file, key, &file_aad(id, sha256))?;
                let hashed = copy_hashing(&mut reader, &mut sealing, &shown)?;
                sealing
                    .finish()
                    .map_err(io(format!("cannot seal {shown}")))?;
                Ok(hashed)
            },
            |_| self.sealed_path_of(id),
        )?;
        if actual != sha256 {
            self.discard_sealed(id);
            return Err(StoreError::Corrupt(format!(
                "{shown} changed while it was stored (SHA-256 {sha256}, then {actual})"
            )));
        }
        Ok((actual, size))
    }

    /// Removes a file that `put` just stored, when its journal entry did not commit.
    pub fn discard(&self, sha256: &str) {
        // Best effort: an orphan file is harmless, and `verify` only checks files the journal names.
        let _ = fs::remove_file(self.path_of(sha256));
    }

    /// Removes a sealed file whose journal entry did not commit.
    pub fn discard_sealed(&self, id: &RecordId) {
        let _ = fs::remove_file(self.sealed_path_of(id));
    }

    /// The plaintext of a stored file: the file itself, or a sealed one opened with its key.
    fn reader(
        &self,
        sha256: &str,
        sealed: Option<(&RecordId, &DataKey)>,
    ) -> Result<Option<Box<dyn Read>>, StoreError> {
        let path = match sealed {
            Some((id, _)) => self.sealed_path_of(id),
            None => self.path_of(sha256),
        };
        let Ok(file) = File::open(&path) else {
            return Ok(None);
        };
        let reader = BufReader::new(file);
        Ok(Some(match sealed {
            Some((id, key)) => Box::new(open_file(reader, key, &file_aad(id, sha256))?),
            None => Box::new(reader),
        }))
    }

    /// Hashes a stored file again (a sealed one through its key).
    pub fn check(
        &self,
        sha256: &str,
        sealed: Option<(&RecordId, &DataKey)>,
    ) -> Result<FileState, StoreError> {
        let Some(mut reader) = self.reader(sha256, sealed)? else {
            return Ok(FileState::Missing);
        };
        Ok(
            match copy_hashing(&mut reader, &mut std::io::sink(), sha256) {
                Ok((actual, _)) if actual == sha256 => FileState::Intact,
                Ok((actual, _)) => FileState::Altered(actual),
                // A sealed file that does not authenticate was altered.
                Err(_) if sealed.is_some() => FileState::Altered("(does not authenticate)".into()),
                Err(error) => return Err(error),
            },
        )
    }

    /// Copies a stored file out, refusing if its bytes no longer match their hash.
    pub fn copy_out(
        &self,
        sha256: &str,
        sealed: Option<(&RecordId, &DataKey)>,
        to: &Path,
    ) -> Result<u64, StoreError> {
        let mut reader = self
            .reader(sha256, sealed)?
            .ok_or_else(|| StoreError::Corrupt(format!("evidence file {sha256} is missing")))?;
        let mut out = File::create(to).map_err(io(format!("cannot create {}", to.display())))?;
        let copied = copy_hashing(&mut reader, &mut out, sha256);
        match copied {
            Ok((actual, size)) if actual == sha256 => {
                out.sync_all()
                    .map_err(io(format!("cannot sync {}", to.display())))?;
                Ok(size)
            }
            other => {
                drop(out);
                let _ = fs::remove_file(to);
                Err(match other {
                    Ok((actual, _)) => StoreError::Corrupt(format!(
                        "evidence file {sha256} was altered: its bytes hash to {actual}"
                    )),
                    Err(error) => error,
                })
            }
        }
    }
}

/// Sealed files live under their record's id: each attachment its own copy
/// under its own key, so forgetting one forgets only it.
const SEALED_DIR: &str = "sealed";

fn file_aad(id: &RecordId, sha256: &str) -> Vec<u8> {
    format!("girok/evidence/{id}/{sha256}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_stored_once_read_only_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = EvidenceFiles::new(&dir.path().join("evidence"));
        let original = dir.path().join("photo.jpg");
        fs::write(&original, b"bytes of a photograph").expect("write");
        let (sha256, size, new) = files.put(&original).expect("put");
        assert_eq!((size, new), (21, true));
        assert_eq!(
            sha256,
            hex::encode(Sha256::digest(b"bytes of a photograph"))
        );
        assert!(
            fs::metadata(files.path_of(&sha256))
                .expect("stored")
                .permissions()
                .readonly()
        );
        assert!(
            !files.put(&original).expect("again").2,
            "the same bytes are stored once"
        );
        assert_eq!(
            files.check(&sha256, None).expect("check"),
            FileState::Intact
        );

        let copy = dir.path().join("copy.jpg");
        assert_eq!(files.copy_out(&sha256, None, &copy).expect("copy"), 21);
        assert_eq!(fs::read(&copy).expect("read"), b"bytes of a photograph");

        let stored = files.path_of(&sha256);
        let mut permissions = fs::metadata(&stored).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        fs::set_permissions(&stored, permissions).expect("unprotect");
        fs::write(&stored, b"bytes of a photographX").expect("tamper");
        assert!(matches!(
            files.check(&sha256, None).expect("check"),
            FileState::Altered(_)
        ));
        assert!(files.copy_out(&sha256, None, &copy).is_err());
        assert!(!copy.exists(), "an altered file is not handed out");
        fs::remove_file(&stored).expect("remove");
        assert_eq!(
            files.check(&sha256, None).expect("check"),
            FileState::Missing
        );
    }
}
