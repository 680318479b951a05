//! Field-level encryption of identifying data.
//!
//! Key hierarchy:
//! - the **master key** (random, 32 bytes) is wrapped by a key derived from a
//!   passphrase (Argon2id) and/or from a key file; the wrapped forms and the
//!   Argon2 parameters are the public [`Header`];
//! - a **data key** per person and per source (random, 32 bytes), wrapped by
//!   the master key and stored apart from the journal, so destroying it
//!   makes that record's secrets unreadable for good (crypto-shredding);
//! - a **blind-index key** (random, wrapped by the master key) keys the
//!   hashes of name keys that linkage and search use without plaintext.
//!
//! Everything is XChaCha20-Poly1305 with random 192-bit nonces. Associated
//! data binds each ciphertext to its place: a record's secrets to its kind,
//! id and blind indexes, a data key to its subject, so ciphertexts swapped between records
//! fail authentication. Keys are zeroed when dropped.

mod blind;
mod header;
pub mod stream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use girok_model::{Record, RecordId, Sealed, Secrets};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub use header::{Header, KdfParams, Unlock};

/// The sealing scheme this build writes and reads.
pub const SCHEME: u8 = 1;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("wrong passphrase or key file: the master key could not be unwrapped")]
    WrongSecret,
    #[error("the database was not encrypted with a {0}")]
    NoSuchUnlock(&'static str),
    #[error(
        "the data key of {0} does not authenticate: it was altered or belongs to another record"
    )]
    BadDataKey(RecordId),
    #[error(
        "the sealed data of {0} does not authenticate: it was altered or belongs to another record"
    )]
    BadCiphertext(RecordId),
    #[error("the sealed data of {id} is malformed: {reason}")]
    Malformed { id: RecordId, reason: String },
    #[error("{id} was sealed with scheme {found}; this build reads scheme {SCHEME}")]
    UnknownScheme { id: RecordId, found: u8 },
    #[error("the key header is malformed: {0}")]
    BadHeader(String),
    #[error("a passphrase needs at least {min} characters")]
    WeakPassphrase { min: usize },
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("a message too long to encrypt (over 256 GiB)")]
    TooLong,
    #[error("cannot write sealed data: {0}")]
    Write(String),
}

/// A 256-bit secret key, zeroed on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    fn random() -> Result<Key, VaultError> {
        let mut key = Key([0; KEY_LEN]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    fn from_slice(bytes: &[u8]) -> Option<Key> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Key(array))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// 32 random bytes from the operating system, for salts.
pub fn random_salt() -> Result<[u8; 32], VaultError> {
    let mut salt = [0u8; 32];
    fill_random(&mut salt)?;
    Ok(salt)
}

fn fill_random(buffer: &mut [u8]) -> Result<(), VaultError> {
    getrandom::fill(buffer).map_err(|e| VaultError::Random(e.to_string()))
}

/// Encrypts `plaintext` under `key`; the output is nonce then ciphertext and tag.
fn encrypt(key: &Key, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let ciphertext = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Encryption fails only for messages beyond 256 GiB.
        .map_err(|_| VaultError::TooLong)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts what [`encrypt`] wrote; `None` if it does not authenticate.
fn decrypt(key: &Key, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    key.cipher()
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

fn data_key_aad(subject: &RecordId) -> Vec<u8> {
    [b"girok/data-key/".as_slice(), subject.as_str().as_bytes()].concat()
}

/// Binds sealed secrets to their record and to their blind indexes, so
/// neither can be swapped or altered without failing authentication.
fn secrets_aad(record: &Record, blind: &[String], under: Option<&RecordId>) -> Vec<u8> {
    let mut aad = format!(
        "girok/secrets/{}/{}/{}",
        record.kind(),
        record.id(),
        blind.join(",")
    );
    // Only envelopes sealed under another record's key name it (older ones never do).
    if let Some(under) = under {
        aad.push_str(&format!("/under/{under}"));
    }
    aad.into_bytes()
}

/// The data key of one person, source, event or evidence file.
pub struct DataKey(Key);

/// An unlocked vault: the master and blind-index keys in memory.
pub struct Vault {
    master: Key,
    blind: Key,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(unlocked)")
    }
}

impl Vault {
    /// A new vault and the header that unlocks it with `unlock`.
    pub fn create(unlock: &Unlock, params: KdfParams) -> Result<(Vault, Header), VaultError> {
        let vault = Vault {
            master: Key::random()?,
            blind: Key::random()?,
        };
        let header = Header::new(&vault, unlock, params)?;
        Ok((vault, header))
    }

    /// Unlocks the vault a header describes.
    pub fn unlock(header: &Header, unlock: &Unlock) -> Result<Vault, VaultError> {
        header.open(unlock)
    }

    /// Key rotation: a new master key wrapped for `unlock`, the same blind-index
    /// key. Data keys must then be rewrapped with [`Vault::rewrap`].
    pub fn rotate(
        &self,
        unlock: &Unlock,
        params: KdfParams,
    ) -> Result<(Vault, Header), VaultError> {
        let vault = Vault {
            master: Key::random()?,
            blind: self.blind.clone(),
        };
        let header = Header::new(&vault, unlock, params)?;
        Ok((vault, header))
    }

    /// A fresh data key for `subject`, and its wrapped form to store.
    pub fn new_data_key(&self, subject: &RecordId) -> Result<(DataKey, Vec<u8>), VaultError> {
        let key = Key::random()?;
        let wrapped = encrypt(&self.master, &key.0, &data_key_aad(subject))?;
        Ok((DataKey(key), wrapped))
    }

    pub fn unwrap_data_key(
        &self,
        subject: &RecordId,
        wrapped: &[u8],
    ) -> Result<DataKey, VaultError> {
        decrypt(&self.master, wrapped, &data_key_aad(subject))
            .and_then(|bytes| Key::from_slice(&bytes))
            .map(DataKey)
            .ok_or_else(|| VaultError::BadDataKey(subject.clone()))
    }

    /// A data key unwrapped here and wrapped again for `next` (key rotation).
    pub fn rewrap(
        &self,
        next: &Vault,
        subject: &RecordId,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let key = self.unwrap_data_key(subject, wrapped)?;
        encrypt(&next.master, &key.0.0, &data_key_aad(subject))
    }

    /// Moves the record's secrets into a sealed envelope under `key`, with
    /// blind indexes of its names. Records without secrets are unchanged.
    pub fn seal(&self, record: &mut Record, key: &DataKey) -> Result<(), VaultError> {
        match record.take_secrets() {
            Some(secrets) => self.seal_secrets(record, secrets, key),
            None => Ok(()),
        }
    }

    /// Seals secrets already taken out of `record` into its envelope.
    pub fn seal_secrets(
        &self,
        record: &mut Record,
        secrets: Secrets,
        key: &DataKey,
    ) -> Result<(), VaultError> {
        let blind = self.blind_indexes(&secrets);
        let under = (record.key_subject() != record.id()).then(|| record.key_subject().clone());
        let plaintext = Zeroizing::new(serde_json::to_vec(&secrets).unwrap_or_default());
        let sealed = encrypt(
            &key.0,
            &plaintext,
            &secrets_aad(record, &blind, under.as_ref()),
        )?;
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        record.set_sealed(Some(Sealed {
            scheme: SCHEME,
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
            blind,
            under,
        }));
        Ok(())
    }

    /// The keyed hashes of a name's blocking keys, as stored in envelopes.
    pub fn blind_name(&self, text: &str) -> Vec<String> {
        blind::name_indexes(&self.blind, text)
    }

    fn blind_indexes(&self, secrets: &Secrets) -> Vec<String> {
        let mut all: Vec<String> = secrets
            .names
            .iter()
            .flat_map(|name| self.blind_name(&name.text))
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Opens a sealed record with its data key: the secrets go back into their
/// fields and the envelope is removed.
pub fn open(record: &mut Record, key: &DataKey) -> Result<(), VaultError> {
    let Some(sealed) = record.sealed().cloned() else {
        return Ok(());
    };
    let id = record.id().clone();
    if sealed.scheme != SCHEME {
        return Err(VaultError::UnknownScheme {
            id,
            found: sealed.scheme,
        });
    }
    let malformed = |reason: &str| VaultError::Malformed {
        id: id.clone(),
        reason: reason.to_string(),
    };
    let mut bytes = BASE64
        .decode(&sealed.nonce)
        .map_err(|_| malformed("the nonce is not base64"))?;
    if bytes.len() != NONCE_LEN {
        return Err(malformed("the nonce has the wrong length"));
    }
    bytes.extend(
        BASE64
            .decode(&sealed.ciphertext)
            .map_err(|_| malformed("the ciphertext is not base64"))?,
    );
    let plaintext = decrypt(
        &key.0,
        &bytes,
        &secrets_aad(record, &sealed.blind, sealed.under.as_ref()),
    )
    .ok_or_else(|| VaultError::BadCiphertext(id.clone()))?;
    let secrets: Secrets = serde_json::from_slice(&plaintext)
        .map_err(|e| malformed(&format!("the opened secrets do not parse: {e}")))?;
    record.set_sealed(None);
    record.restore_secrets(secrets);
    Ok(())
}

#[cfg(test)]
mod tests {
    use girok_model::{FuzzyDate, Name, Person, Romanization, Source, SourceKind};

    use super::*;

    pub(crate) fn quick() -> KdfParams {
        KdfParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn person(id: &str, name: &str) -> Record {
        let mut person = Person::new(
            RecordId::new(id),
            vec![Name::detect(name, Romanization::Unknown)],
        );
        person.birth = FuzzyDate::parse("1985").expect("date");
        person.notes = "her brother is still in Hoeryong".into();
        Record::Person(person)
    }

    fn vault() -> Vault {
        Vault::create(&Unlock::Passphrase("correct horse battery".into()), quick())
            .expect("vault")
            .0
    }

    #[test]
    fn sealed_records_open_to_what_was_sealed_and_leak_nothing() {
        let vault = vault();
        let original = person("p1", "김은주");
        let mut record = original.clone();
        let (key, _) = vault.new_data_key(record.id()).expect("key");
        vault.seal(&mut record, &key).expect("seal");
        let json = serde_json::to_string(&record).expect("json");
        for secret in ["김은주", "1985", "Hoeryong", "brother"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert!(!record.sealed().expect("sealed").blind.is_empty());
        open(&mut record, &key).expect("open");
        assert_eq!(record, original);
    }

    #[test]
    fn every_source_title_is_sealed_not_only_an_interviews() {
        let vault = vault();
        let source = |kind| {
            Record::Source(Source {
                id: RecordId::new("s1"),
                kind,
                title: "Testimony of Kim Eun-joo".into(),
                obtained: FuzzyDate::UNKNOWN,
                language: None,
                organisation: None,
                provenance: "given by her cousin".into(),
                consent: None,
                witness: None,
                received_by: None,
                notes: String::new(),
                clarifications: Default::default(),
                sealed: None,
            })
        };
        let (key, _) = vault.new_data_key(&RecordId::new("s1")).expect("key");
        let mut interview = source(SourceKind::Interview);
        vault.seal(&mut interview, &key).expect("seal");
        let json = serde_json::to_string(&interview).expect("json");
        assert!(
            !json.contains("Kim Eun-joo") && !json.contains("cousin"),
            "{json}"
        );
        let mut report = source(SourceKind::Report);
        vault.seal(&mut report, &key).expect("seal");
        let json = serde_json::to_string(&report).expect("json");
        assert!(
            !json.contains("Kim Eun-joo") && !json.contains("cousin"),
            "{json}"
        );
    }

    #[test]
    fn swapped_or_altered_ciphertexts_fail_authentication() {
        let vault = vault();
        let mut first = person("p1", "김은주");
        let mut second = person("p2", "강규리");
        let (key1, _) = vault.new_data_key(first.id()).expect("key");
        let (key2, _) = vault.new_data_key(second.id()).expect("key");
        vault.seal(&mut first, &key1).expect("seal");
        vault.seal(&mut second, &key2).expect("seal");

        // p2's envelope moved onto p1: wrong key and wrong record.
        let mut swapped = first.clone();
        swapped.set_sealed(second.sealed().cloned());
        assert!(matches!(
            open(&mut swapped.clone(), &key1),
            Err(VaultError::BadCiphertext(_))
        ));
        assert!(matches!(
            open(&mut swapped, &key2),
            Err(VaultError::BadCiphertext(_))
        ));

        // The same key cannot open another record's envelope either (the id is bound).
        let mut renamed = first.clone();
        if let Record::Person(p) = &mut renamed {
            p.id = RecordId::new("p3");
        }
        assert!(matches!(
            open(&mut renamed, &key1),
            Err(VaultError::BadCiphertext(_))
        ));

        // One flipped bit.
        let mut altered = first.clone();
        let mut envelope = altered.sealed().cloned().expect("sealed");
        let mut bytes = BASE64.decode(&envelope.ciphertext).expect("base64");
        bytes[3] ^= 1;
        envelope.ciphertext = BASE64.encode(bytes);
        altered.set_sealed(Some(envelope));
        assert!(matches!(
            open(&mut altered, &key1),
            Err(VaultError::BadCiphertext(_))
        ));

        // A data key wrapped for one subject does not unwrap as another's.
        let (_, wrapped) = vault.new_data_key(&RecordId::new("p1")).expect("key");
        assert!(
            vault
                .unwrap_data_key(&RecordId::new("p1"), &wrapped)
                .is_ok()
        );
        assert!(matches!(
            vault.unwrap_data_key(&RecordId::new("p2"), &wrapped),
            Err(VaultError::BadDataKey(_))
        ));
    }

    #[test]
    fn rotation_rewraps_data_keys_and_keeps_blind_indexes() {
        let old = vault();
        let (next, header) = old
            .rotate(&Unlock::Passphrase("a new passphrase here".into()), quick())
            .expect("rotate");
        let subject = RecordId::new("p1");
        let (key, wrapped) = old.new_data_key(&subject).expect("key");
        let rewrapped = old.rewrap(&next, &subject, &wrapped).expect("rewrap");
        let mut record = person("p1", "김은주");
        let original = record.clone();
        old.seal(&mut record, &key).expect("seal");
        let unlocked = Vault::unlock(&header, &Unlock::Passphrase("a new passphrase here".into()))
            .expect("unlock");
        let key = unlocked
            .unwrap_data_key(&subject, &rewrapped)
            .expect("unwrap");
        open(&mut record, &key).expect("open");
        assert_eq!(record, original);
        assert!(matches!(
            old.unwrap_data_key(&subject, &rewrapped),
            Err(VaultError::BadDataKey(_))
        ));
        // The blind-index key survives rotation: indexes stay comparable, and
        // a Hangul name shares one with its romanization.
        assert_eq!(old.blind_name("김은주"), next.blind_name("김은주"));
        let hangul = old.blind_name("김은주");
        assert!(
            next.blind_name("Kim Eun-joo")
                .iter()
                .any(|i| hangul.contains(i))
        );
        assert!(
            !next
                .blind_name("Kang Gyu-ri")
                .iter()
                .any(|i| hangul.contains(i))
        );
    }
}
