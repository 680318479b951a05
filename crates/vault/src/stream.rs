//! Files sealed in chunks with the STREAM construction (XChaCha20-Poly1305,
//! big-endian 32-bit counter and last-chunk flag): reordered, dropped or
//! truncated chunks fail authentication, and files of any size stream.
//!
//! Two containers use it. A **backup** starts with a header in the clear
//! (how to derive the key from a passphrase or key file, and the journal
//! size and Merkle root it was made at), which is the associated data of
//! every chunk, so it cannot be altered. A sensitive **evidence file**
//! starts with its nonce and is sealed under its record's data key, with
//! the record's id and the file's SHA-256 as associated data.

use std::io::{self, Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, Payload};
use serde::{Deserialize, Serialize};

use crate::{DataKey, KdfParams, Key, Unlock, VaultError, fill_random};

/// The first bytes of every backup.
pub const MAGIC: &[u8] = b"GIROK-BACKUP-1\n";
/// Plaintext bytes per sealed chunk.
const CHUNK: usize = 1 << 20;
/// STREAM keeps 5 of XChaCha20's 24 nonce bytes for its counter and flag.
const STREAM_NONCE: usize = 19;
/// The longest header accepted when reading.
const MAX_HEADER: u32 = 64 * 1024;

/// What a backup says about itself, in the clear but authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupHeader {
    pub kdf: KdfParams,
    pub salt: String,
    pub unlocked_by: String,
    pub nonce: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// The journal's size and RFC 6962 root when it was made.
    pub journal_size: u64,
    pub root: String,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Writes sealed chunks as the plaintext is written (a backup writes its header first).
pub struct SealingWriter<W: Write> {
    out: W,
    stream: Option<EncryptorBE32<XChaCha20Poly1305>>,
    aad: Vec<u8>,
    buffer: Vec<u8>,
}

impl<W: Write> SealingWriter<W> {
    pub fn new(
        mut out: W,
        unlock: &Unlock,
        kdf: KdfParams,
        created: String,
        journal_size: u64,
        root: String,
    ) -> Result<SealingWriter<W>, VaultError> {
        unlock.check()?;
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; STREAM_NONCE];
        fill_random(&mut salt)?;
        fill_random(&mut nonce)?;
        let key = unlock.derive(&salt, kdf)?;
        let header = BackupHeader {
            kdf,
            salt: BASE64.encode(salt),
            unlocked_by: unlock.method().to_string(),
            nonce: BASE64.encode(nonce),
            created,
            journal_size,
            root,
        };
        let aad = serde_json::to_vec(&header).unwrap_or_default();
        let write = |out: &mut W| -> io::Result<()> {
            out.write_all(MAGIC)?;
            out.write_all(&(aad.len() as u32).to_be_bytes())?;
            out.write_all(&aad)
        };
        write(&mut out).map_err(|e| VaultError::Write(e.to_string()))?;
        Ok(SealingWriter::start(out, &key, &nonce, aad))
    }

    /// A sealing writer for a file under a record's data key: the nonce first, then the chunks.
    pub fn for_file(mut out: W, key: &DataKey, aad: &[u8]) -> Result<SealingWriter<W>, VaultError> {
        let mut nonce = [0u8; STREAM_NONCE];
        fill_random(&mut nonce)?;
        out.write_all(&nonce)
            .map_err(|e| VaultError::Write(e.to_string()))?;
        Ok(SealingWriter::start(out, &key.0, &nonce, aad.to_vec()))
    }

    fn start(out: W, key: &Key, nonce: &[u8; STREAM_NONCE], aad: Vec<u8>) -> SealingWriter<W> {
        SealingWriter {
            out,
            stream: Some(EncryptorBE32::from_aead(
                XChaCha20Poly1305::new((&key.0).into()),
                nonce.into(),
            )),
            aad,
            buffer: Vec::with_capacity(CHUNK),
        }
    }

    fn emit(&mut self, last: bool) -> io::Result<()> {
        let payload = Payload {
            msg: &self.buffer,
            aad: &self.aad,
        };
        let sealed = if last {
            self.stream
                .take()
                .ok_or_else(|| invalid("the sealed data was already finished"))?
                .encrypt_last(payload)
        } else {
            self.stream
                .as_mut()
                .ok_or_else(|| invalid("the sealed data was already finished"))?
                .encrypt_next(payload)
        }
        .map_err(|_| invalid("a backup chunk could not be sealed"))?;
        self.out.write_all(&[u8::from(last)])?;
        self.out.write_all(&(sealed.len() as u32).to_be_bytes())?;
        self.out.write_all(&sealed)?;
        self.buffer.clear();
        Ok(())
    }

    /// Seals the last chunk and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.emit(true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for SealingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let taken = room.min(data.len());
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == CHUNK {
            self.emit(false)?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads a backup's plaintext, authenticating chunk by chunk; a stream that
/// ends before its last chunk is an error, not an end of file.
pub struct OpeningReader<R: Read> {
    input: R,
    stream: Option<DecryptorBE32<XChaCha20Poly1305>>,
    aad: Vec<u8>,
    plain: Vec<u8>,
    position: usize,
}

/// Reads and checks a backup's header, and derives its key.
pub fn open_backup<R: Read>(
    mut input: R,
    unlock: &Unlock,
) -> Result<(BackupHeader, OpeningReader<R>), VaultError> {
    let not_backup = || VaultError::BadHeader("this is not a Girok backup".into());
    let mut magic = vec![0u8; MAGIC.len()];
    input.read_exact(&mut magic).map_err(|_| not_backup())?;
    if magic != MAGIC {
        return Err(not_backup());
    }
    let mut length = [0u8; 4];
    input.read_exact(&mut length).map_err(|_| not_backup())?;
    let length = u32::from_be_bytes(length);
    if length > MAX_HEADER {
        return Err(not_backup());
    }
    let mut aad = vec![0u8; length as usize];
    input.read_exact(&mut aad).map_err(|_| not_backup())?;
    let header: BackupHeader = serde_json::from_slice(&aad)
        .map_err(|e| VaultError::BadHeader(format!("the backup header does not parse: {e}")))?;
    if unlock.method() != header.unlocked_by {
        return Err(VaultError::NoSuchUnlock(unlock.method()));
    }
    let decode = |field: &str, text: &str| {
        BASE64
            .decode(text)
            .map_err(|_| VaultError::BadHeader(format!("{field} is not base64")))
    };
    let key = unlock.derive(&decode("salt", &header.salt)?, header.kdf)?;
    let nonce: [u8; STREAM_NONCE] = decode("nonce", &header.nonce)?
        .try_into()
        .map_err(|_| VaultError::BadHeader("the nonce has the wrong length".into()))?;
    Ok((header, OpeningReader::start(input, &key, &nonce, aad)))
}

/// Reads a file sealed by [`SealingWriter::for_file`].
pub fn open_file<R: Read>(
    mut input: R,
    key: &DataKey,
    aad: &[u8],
) -> Result<OpeningReader<R>, VaultError> {
    let mut nonce = [0u8; STREAM_NONCE];
    input
        .read_exact(&mut nonce)
        .map_err(|_| VaultError::BadHeader("the sealed file is truncated".into()))?;
    Ok(OpeningReader::start(input, &key.0, &nonce, aad.to_vec()))
}

impl<R: Read> OpeningReader<R> {
    fn start(input: R, key: &Key, nonce: &[u8; STREAM_NONCE], aad: Vec<u8>) -> OpeningReader<R> {
        OpeningReader {
            input,
            stream: Some(DecryptorBE32::from_aead(
                XChaCha20Poly1305::new((&key.0).into()),
                nonce.into(),
            )),
            aad,
            plain: Vec::new(),
            position: 0,
        }
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let mut frame = [0u8; 5];
        self.input
            .read_exact(&mut frame)
            .map_err(|_| invalid("the sealed data is truncated: its last chunk is missing"))?;
        let last = match frame[0] {
            0 => false,
            1 => true,
            _ => {
                return Err(invalid(
                    "the sealed data is damaged: a chunk has a bad frame",
                ));
            }
        };
        let length = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
        if length > CHUNK + 16 {
            return Err(invalid("the sealed data is damaged: a chunk is too long"));
        }
        let mut sealed = vec![0u8; length];
        self.input
            .read_exact(&mut sealed)
            .map_err(|_| invalid("the sealed data is truncated inside a chunk"))?;
        let payload = Payload {
            msg: &sealed,
            aad: &self.aad,
        };
        let wrong = || {
            invalid(
                "the backup does not authenticate: wrong passphrase or key file, or it was altered",
            )
        };
        self.plain = if last {
            self.stream.take().ok_or_else(wrong)?.decrypt_last(payload)
        } else {
            self.stream
                .as_mut()
                .ok_or_else(wrong)?
                .decrypt_next(payload)
        }
        .map_err(|_| wrong())?;
        self.position = 0;
        Ok(())
    }
}

impl<R: Read> Read for OpeningReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position == self.plain.len() {
            if self.stream.is_none() {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.plain.len() - self.position);
        out[..n].copy_from_slice(&self.plain[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::quick;

    fn sealed(plaintext: &[u8]) -> Vec<u8> {
        let unlock = Unlock::Passphrase("correct horse battery".into());
        let mut writer =
            SealingWriter::new(Vec::new(), &unlock, quick(), "now".into(), 7, "ab".into())
                .expect("writer");
        writer.write_all(plaintext).expect("write");
        writer.finish().expect("finish")
    }

    fn opened(bytes: &[u8], passphrase: &str) -> Result<Vec<u8>, String> {
        let (_, mut reader) = open_backup(bytes, &Unlock::Passphrase(passphrase.into()))
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn a_backup_opens_to_what_was_written_and_nothing_else() {
        let plaintext: Vec<u8> = (0..(CHUNK * 2 + 1000)).map(|i| (i % 251) as u8).collect();
        let bytes = sealed(&plaintext);
        assert_eq!(
            opened(&bytes, "correct horse battery").expect("open"),
            plaintext
        );
        assert!(opened(&bytes, "correct horse batterx").is_err());
        // Truncated: the last chunk is missing.
        let cut = &bytes[..bytes.len() - 100];
        assert!(
            opened(cut, "correct horse battery")
                .expect_err("truncated")
                .contains("truncated")
        );
        // One flipped bit in the middle, or in the header.
        let mut flipped = bytes.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 1;
        assert!(opened(&flipped, "correct horse battery").is_err());
        let mut header = bytes.clone();
        let at = MAGIC.len() + 4 + 20;
        header[at] = if header[at] == b'7' {
            b'8'
        } else {
            header[at] ^ 1
        };
        assert!(opened(&header, "correct horse battery").is_err());
    }
}
