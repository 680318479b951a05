//! The public part of a vault: how to derive the key that unwraps the
//! master key, and the wrapped keys themselves.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Key, Vault, VaultError, decrypt, encrypt, fill_random};

/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 12;
/// The smallest key file accepted, in bytes.
pub const MIN_KEY_FILE: usize = 32;

const MASTER_AAD: &[u8] = b"girok/master";
const BLIND_AAD: &[u8] = b"girok/blind";

/// What unlocks a vault. The secret is zeroed when dropped.
pub enum Unlock {
    Passphrase(String),
    KeyFile(Vec<u8>),
}

impl Drop for Unlock {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        match self {
            Unlock::Passphrase(text) => text.zeroize(),
            Unlock::KeyFile(bytes) => bytes.zeroize(),
        }
    }
}

/// Argon2id cost of deriving a key from a passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes: about half a second here, and as costly for anyone
    /// guessing passphrases on a seized disk.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub scheme: u8,
    pub kdf: KdfParams,
    /// Base64 of the salt of both derivations.
    pub salt: String,
    /// "passphrase" or "key-file".
    pub unlocked_by: String,
    /// Base64 of the master key wrapped by the derived key.
    pub master: String,
    /// Base64 of the blind-index key wrapped by the master key.
    pub blind: String,
}

impl Unlock {
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Unlock::Passphrase(_) => "passphrase",
            Unlock::KeyFile(_) => "key-file",
        }
    }

    /// The key that wraps the master key.
    pub(crate) fn derive(&self, salt: &[u8], params: KdfParams) -> Result<Key, VaultError> {
        let mut out = Zeroizing::new([0u8; 32]);
        match self {
            Unlock::Passphrase(text) => {
                let argon = Argon2::new(
                    Algorithm::Argon2id,
                    Version::V0x13,
                    Params::new(
                        params.memory_kib,
                        params.iterations,
                        params.parallelism,
                        Some(32),
                    )
                    .map_err(|e| VaultError::BadHeader(format!("Argon2 parameters: {e}")))?,
                );
                argon
                    .hash_password_into(text.as_bytes(), salt, out.as_mut())
                    .map_err(|e| VaultError::BadHeader(format!("Argon2: {e}")))?;
            }
            Unlock::KeyFile(bytes) => {
                // A key file is already high-entropy: a keyed hash suffices.
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes)
                    .map_err(|e| VaultError::BadHeader(e.to_string()))?;
                mac.update(b"girok/key-file/");
                mac.update(salt);
                out.copy_from_slice(&mac.finalize().into_bytes());
            }
        }
        Ok(Key(*out))
    }

    /// Refuses passphrases and key files too weak to protect anything.
    pub fn check(&self) -> Result<(), VaultError> {
        match self {
            Unlock::Passphrase(text) if text.chars().count() < MIN_PASSPHRASE => {
                Err(VaultError::WeakPassphrase {
                    min: MIN_PASSPHRASE,
                })
            }
            Unlock::KeyFile(bytes) if bytes.len() < MIN_KEY_FILE => Err(VaultError::BadHeader(
                format!("a key file needs at least {MIN_KEY_FILE} bytes"),
            )),
            _ => Ok(()),
        }
    }
}

impl Header {
    pub(crate) fn new(
        vault: &Vault,
        unlock: &Unlock,
        kdf: KdfParams,
    ) -> Result<Header, VaultError> {
        unlock.check()?;
        let mut salt = [0u8; 16];
        fill_random(&mut salt)?;
        let wrapping = unlock.derive(&salt, kdf)?;
        Ok(Header {
            scheme: crate::SCHEME,
            kdf,
            salt: BASE64.encode(salt),
            unlocked_by: unlock.method().to_string(),
            master: BASE64.encode(encrypt(&wrapping, &vault.master.0, MASTER_AAD)?),
            blind: BASE64.encode(encrypt(&vault.master, &vault.blind.0, BLIND_AAD)?),
        })
    }

    pub(crate) fn open(&self, unlock: &Unlock) -> Result<Vault, VaultError> {
        if unlock.method() != self.unlocked_by {
            return Err(VaultError::NoSuchUnlock(unlock.method()));
        }
        let decode = |field: &str, text: &str| {
            BASE64
                .decode(text)
                .map_err(|_| VaultError::BadHeader(format!("{field} is not base64")))
        };
        let wrapping = unlock.derive(&decode("salt", &self.salt)?, self.kdf)?;
        let master = decrypt(&wrapping, &decode("master", &self.master)?, MASTER_AAD)
            .and_then(|bytes| Key::from_slice(&bytes))
            .ok_or(VaultError::WrongSecret)?;
        let blind = decrypt(&master, &decode("blind", &self.blind)?, BLIND_AAD)
            .and_then(|bytes| Key::from_slice(&bytes))
            .ok_or_else(|| {
                VaultError::BadHeader("the blind-index key does not authenticate".into())
            })?;
        Ok(Vault { master, blind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::quick;

    #[test]
    fn the_right_passphrase_unlocks_and_a_wrong_one_is_named() {
        let (vault, header) =
            Vault::create(&Unlock::Passphrase("correct horse battery".into()), quick())
                .expect("create");
        let again = Vault::unlock(&header, &Unlock::Passphrase("correct horse battery".into()))
            .expect("unlock");
        assert_eq!(vault.blind_name("김은주"), again.blind_name("김은주"));
        assert!(matches!(
            Vault::unlock(&header, &Unlock::Passphrase("correct horse batterx".into())),
            Err(VaultError::WrongSecret)
        ));
        assert!(matches!(
            Vault::unlock(&header, &Unlock::KeyFile(vec![7; 32])),
            Err(VaultError::NoSuchUnlock("key-file"))
        ));
        assert!(matches!(
            Vault::create(&Unlock::Passphrase("short".into()), quick()),
            Err(VaultError::WeakPassphrase { .. })
        ));
    }

    #[test]
    fn key_files_unlock_and_a_corrupted_header_is_refused() {
        let file = vec![42u8; 64];
        let (_, mut header) =
            Vault::create(&Unlock::KeyFile(file.clone()), quick()).expect("create");
        assert!(Vault::unlock(&header, &Unlock::KeyFile(file.clone())).is_ok());
        assert!(matches!(
            Vault::unlock(&header, &Unlock::KeyFile(vec![41u8; 64])),
            Err(VaultError::WrongSecret)
        ));
        let mut wrapped = BASE64.decode(&header.master).expect("base64");
        wrapped[30] ^= 0x80;
        header.master = BASE64.encode(wrapped);
        assert!(matches!(
            Vault::unlock(&header, &Unlock::KeyFile(file)),
            Err(VaultError::WrongSecret)
        ));
    }
}
