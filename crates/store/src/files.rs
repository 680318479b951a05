//! Evidence bytes, stored content-addressed by their SHA-256 and never modified.
//!
//! `<dir>/<first two hex digits>/<sha256>`, read-only. A file is written to a
//! temporary name in the same directory, synced, then renamed into place, so a
//! crash never leaves a partial file under a hash name.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use girok_model::{RecordId, SealedContent};
use girok_vault::DataKey;
use girok_vault::stream::{SealingWriter, open_file};
use sha2::{Digest, Sha256};

use crate::blobs::Blobs;
use crate::{Place, StoreError};

pub struct EvidenceFiles {
    keeping: Keeping,
}

enum Keeping {
    /// Files in a directory of the data directory.
    Directory(PathBuf),
    /// Files in the shared database of a team's installation, which is
    /// never encrypted: nothing there is sealed.
    Shared(Blobs),
}

/// The space of kept files that holds evidence.
pub const EVIDENCE: &str = "evidence";

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
    /// Evidence files kept in the directory `dir`.
    pub fn new(dir: &Path) -> EvidenceFiles {
        EvidenceFiles {
            keeping: Keeping::Directory(dir.to_path_buf()),
        }
    }

    /// Evidence files kept in the shared database at `place`.
    pub fn shared(place: &Place) -> Result<EvidenceFiles, StoreError> {
        Ok(EvidenceFiles {
            keeping: Keeping::Shared(Blobs::open(place)?),
        })
    }

    /// The directory files are kept in, or (shared) why there is none.
    fn dir(&self) -> Result<&Path, StoreError> {
        match &self.keeping {
            Keeping::Directory(dir) => Ok(dir),
            Keeping::Shared(_) => Err(StoreError::NoSecureDeletion),
        }
    }

    fn path_in(dir: &Path, sha256: &str) -> PathBuf {
        dir.join(sha256.get(..2).unwrap_or("00")).join(sha256)
    }

    fn sealed_path_in(dir: &Path, id: &RecordId) -> PathBuf {
        dir.join(SEALED_DIR).join(id.as_str())
    }

    /// Whether the evidence record's bytes are stored sealed.
    pub fn is_sealed(&self, id: &RecordId) -> bool {
        self.dir()
            .is_ok_and(|dir| Self::sealed_path_in(dir, id).exists())
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
        let dir = self.dir()?;
        fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        let mut temporary = tempfile::NamedTempFile::new_in(dir)
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
        let parent = target.parent().unwrap_or(dir);
        fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
        temporary.persist(&target).map_err(|e| StoreError::Io {
            context: format!("cannot store {shown}"),
            source: e.error,
        })?;
        Ok((sha256, size, true))
    }

    /// Stores a file's bytes; returns (sha256, size, whether they were new).
    pub fn put(&self, source: &Path) -> Result<(String, u64, bool), StoreError> {
        let dir = match &self.keeping {
            Keeping::Directory(dir) => dir,
            Keeping::Shared(blobs) => return blobs.put(EVIDENCE, source),
        };
        let shown = source.display().to_string();
        let mut reader =
            BufReader::new(File::open(source).map_err(io(format!("cannot open {shown}")))?);
        self.store(
            &shown,
            |file| copy_hashing(&mut reader, file, &shown),
            |sha256| Self::path_in(dir, sha256),
        )
    }

    /// Stores a sensitive file sealed under its evidence record's data key
    /// (the id and the bytes' SHA-256, `sha256`, are bound to the
    /// ciphertext), padded so that its stored size tells little of its own.
    /// Returns the bytes' hash, size and the salted commitment that is
    /// journaled in their place.
    pub fn put_sealed(
        &self,
        source: &Path,
        id: &RecordId,
        sha256: &str,
        key: &DataKey,
    ) -> Result<(SealedContent, String), StoreError> {
        let dir = self.dir()?;
        let shown = source.display().to_string();
        let mut reader =
            BufReader::new(File::open(source).map_err(io(format!("cannot open {shown}")))?);
        let salt = girok_vault::random_salt()?;
        let mut commitment = Sha256::new();
        commitment.update(salt);
        let (actual, size, _) = self.store(
            &shown,
            |file| {
                let mut sealing = SealingWriter::for_file(file, key, &file_aad(id, sha256))?;
                let mut both = Tee {
                    out: &mut sealing,
                    hasher: &mut commitment,
                };
                let hashed = copy_hashing(&mut reader, &mut both, &shown)?;
                std::io::copy(
                    &mut std::io::repeat(0).take(padded_size(hashed.1) - hashed.1),
                    &mut sealing,
                )
                .map_err(io(format!("cannot seal {shown}")))?;
                sealing
                    .finish()
                    .map_err(io(format!("cannot seal {shown}")))?;
                Ok(hashed)
            },
            |_| Self::sealed_path_in(dir, id),
        )?;
        if actual != sha256 {
            self.discard_sealed(id);
            return Err(StoreError::Corrupt(format!(
                "{shown} changed while it was stored (SHA-256 {sha256}, then {actual})"
            )));
        }
        let content = SealedContent {
            sha256: actual,
            size,
            salt: hex::encode(salt),
        };
        Ok((content, hex::encode(commitment.finalize())))
    }

    /// Removes a file that `put` just stored, when its journal entry did not commit.
    pub fn discard(&self, sha256: &str) {
        // Best effort: an orphan file is harmless, and `verify` only checks files the journal names.
        match &self.keeping {
            Keeping::Directory(dir) => {
                let _ = fs::remove_file(Self::path_in(dir, sha256));
            }
            Keeping::Shared(blobs) => {
                let _ = blobs.remove(EVIDENCE, sha256);
            }
        }
    }

    /// Removes a sealed file whose journal entry did not commit.
    pub fn discard_sealed(&self, id: &RecordId) {
        if let Ok(dir) = self.dir() {
            let _ = fs::remove_file(Self::sealed_path_in(dir, id));
        }
    }

    /// The plaintext of a stored file: the file itself, or a sealed one opened with its key.
    fn reader(
        &self,
        sha256: &str,
        sealed: Option<&Opening>,
    ) -> Result<Option<Box<dyn Read + '_>>, StoreError> {
        let dir = match (&self.keeping, sealed) {
            (Keeping::Directory(dir), _) => dir,
            (Keeping::Shared(blobs), None) => {
                return Ok(blobs
                    .reader(EVIDENCE, sha256)?
                    .map(|reader| Box::new(reader) as Box<dyn Read>));
            }
            (Keeping::Shared(_), Some(_)) => return Ok(None),
        };
        let path = match sealed {
            Some(opening) => Self::sealed_path_in(dir, opening.id),
            None => Self::path_in(dir, sha256),
        };
        let Ok(file) = File::open(&path) else {
            return Ok(None);
        };
        let reader = BufReader::new(file);
        Ok(Some(match sealed {
            Some(opening) => {
                let opened = open_file(reader, opening.key, &file_aad(opening.id, sha256))?;
                match opening.padded_from {
                    Some(size) => Box::new(opened.take(size)),
                    None => Box::new(opened),
                }
            }
            None => Box::new(reader),
        }))
    }

    /// Hashes a stored file again (a sealed one through its key).
    pub fn check(&self, sha256: &str, sealed: Option<&Opening>) -> Result<FileState, StoreError> {
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
        sealed: Option<&Opening>,
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

/// How to open a sealed file.
pub struct Opening<'a> {
    pub id: &'a RecordId,
    pub key: &'a DataKey,
    /// The size of the bytes, when zeros were sealed after them.
    pub padded_from: Option<u64>,
}

/// Sealed files are padded to a multiple of 64 KiB, or of an eighth of
/// the largest power of two below their size when that is larger: at most
/// 64 KiB or an eighth more on disk, and one stored size for many originals.
fn padded_size(size: u64) -> u64 {
    const SMALLEST: u64 = 64 * 1024;
    let step = if size <= SMALLEST {
        SMALLEST
    } else {
        (1u64 << (63 - size.leading_zeros())) / 8
    }
    .max(SMALLEST);
    size.div_ceil(step).max(1) * step
}

/// Writes to `out` and hashes what it wrote.
struct Tee<'a, W: Write> {
    out: &'a mut W,
    hasher: &'a mut Sha256,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
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

    /// A data key for `id` from a vault made quickly.
    fn data_key(id: &RecordId) -> DataKey {
        let quick = girok_vault::KdfParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        };
        let (vault, _) =
            girok_vault::Vault::create(&girok_vault::Unlock::Passphrase("p".repeat(12)), quick)
                .expect("vault");
        vault.new_data_key(id).expect("key").0
    }

    #[test]
    fn files_are_stored_once_read_only_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let evidence = dir.path().join("evidence");
        let files = EvidenceFiles::new(&evidence);
        let original = dir.path().join("photo.jpg");
        fs::write(&original, b"bytes of a photograph").expect("write");
        let (sha256, size, new) = files.put(&original).expect("put");
        assert_eq!((size, new), (21, true));
        assert_eq!(
            sha256,
            hex::encode(Sha256::digest(b"bytes of a photograph"))
        );
        assert!(
            fs::metadata(EvidenceFiles::path_in(&evidence, &sha256))
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

        let stored = EvidenceFiles::path_in(&evidence, &sha256);
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

    #[test]
    fn sealed_files_are_padded_and_open_to_their_exact_bytes() {
        for size in [
            0,
            1,
            64 * 1024,
            64 * 1024 + 1,
            1 << 20,
            (1 << 20) + 1,
            3_000_001,
        ] {
            let padded = padded_size(size);
            assert!(
                padded >= size.max(1) && padded.is_multiple_of(64 * 1024),
                "{size}"
            );
            assert!(
                padded <= size + (size / 8).max(64 * 1024),
                "{size} to {padded}"
            );
        }
        assert_eq!(padded_size(1_000_000), padded_size(1_010_000));

        let dir = tempfile::tempdir().expect("tempdir");
        let evidence = dir.path().join("evidence");
        let files = EvidenceFiles::new(&evidence);
        let original = dir.path().join("testimony.txt");
        fs::write(&original, b"a witness names her brother").expect("write");
        let (sha256, _) = EvidenceFiles::sha256_of(&original).expect("hash");
        let id = RecordId::new("ev-1");
        let key = data_key(&id);
        let (content, commitment) = files
            .put_sealed(&original, &id, &sha256, &key)
            .expect("put");
        assert_eq!(
            (content.sha256.as_str(), content.size),
            (sha256.as_str(), 27)
        );
        let mut salted = Sha256::new();
        salted.update(hex::decode(&content.salt).expect("hex"));
        salted.update(b"a witness names her brother");
        assert_eq!(commitment, hex::encode(salted.finalize()));
        let on_disk = fs::metadata(EvidenceFiles::sealed_path_in(&evidence, &id))
            .expect("stored")
            .len();
        assert!(on_disk > 64 * 1024, "{on_disk}");
        let opening = Opening {
            id: &id,
            key: &key,
            padded_from: Some(content.size),
        };
        assert_eq!(
            files.check(&sha256, Some(&opening)).expect("check"),
            FileState::Intact
        );
        let copy = dir.path().join("copy.txt");
        assert_eq!(
            files
                .copy_out(&sha256, Some(&opening), &copy)
                .expect("copy"),
            27
        );
        assert_eq!(
            fs::read(&copy).expect("read"),
            b"a witness names her brother"
        );
    }

    #[test]
    fn files_kept_in_a_database_come_back_whole_in_parts_and_an_altered_part_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files =
            EvidenceFiles::shared(&Place::File(dir.path().join("blobs.sqlite"))).expect("shared");
        let original = dir.path().join("video.mp4");
        // Two parts and a bit: the reader crosses part boundaries.
        let bytes: Vec<u8> = (0..(2 * crate::blobs::PART + 12_345))
            .map(|n| (n * 7 % 251) as u8)
            .collect();
        fs::write(&original, &bytes).expect("write");
        let (sha256, size, new) = files.put(&original).expect("put");
        assert_eq!((size, new), (bytes.len() as u64, true));
        assert_eq!(sha256, hex::encode(Sha256::digest(&bytes)));
        assert!(!files.put(&original).expect("again").2);
        assert_eq!(
            files.check(&sha256, None).expect("check"),
            FileState::Intact
        );
        let copy = dir.path().join("copy.mp4");
        assert_eq!(
            files.copy_out(&sha256, None, &copy).expect("copy"),
            bytes.len() as u64
        );
        assert_eq!(fs::read(&copy).expect("read"), bytes);
        assert!(!files.is_sealed(&RecordId::new("ev-1")));
        let id = RecordId::new("ev-1");
        let key = data_key(&id);
        assert!(matches!(
            files.put_sealed(&original, &id, &sha256, &key),
            Err(StoreError::NoSecureDeletion)
        ));

        let Keeping::Shared(blobs) = &files.keeping else {
            panic!("not shared");
        };
        blobs
            .sidecar_sql()
            .execute(
                "UPDATE blob_part SET bytes = ?1 WHERE part = 1",
                &[b"tampered".as_slice().into()],
            )
            .expect("tamper");
        assert!(matches!(
            files.check(&sha256, None).expect("check"),
            FileState::Altered(_)
        ));
        assert!(files.copy_out(&sha256, None, &copy).is_err());
        files.discard(&sha256);
        assert_eq!(
            files.check(&sha256, None).expect("check"),
            FileState::Missing
        );
    }
}
