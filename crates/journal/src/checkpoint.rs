//! Signed checkpoints in the C2SP formats (signed-note and tlog-checkpoint).
//!
//! A checkpoint body is three lines: the log's origin, the tree size, and the
//! base64 root hash. A signed note is the body, an empty line, and one line per
//! signature: `— <key name> <base64(key id ‖ Ed25519 signature of the body)>`.
//! The key id is the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
//! Keys are written as `<name>+<key id hex>+<base64(0x01 ‖ key)>`, the private
//! one with a `PRIVATE+KEY+` prefix.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Hash;

/// The signature algorithm byte for Ed25519 in signed notes.
const ED25519: u8 = 0x01;
const EM_DASH_PREFIX: &str = "\u{2014} ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a key: {0}")]
    BadKey(String),
    #[error("not a checkpoint: {0}")]
    Malformed(String),
    #[error("the checkpoint has no signature by key {name} (id {id})")]
    NotSignedBy { name: String, id: String },
    #[error("the signature by {name} does not verify: the checkpoint was altered or forged")]
    BadSignature { name: String },
    #[error("cannot draw random bytes for a new key: {0}")]
    Random(String),
}

/// A tree head: what a checkpoint commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint body, the exact text that is signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let malformed = |what: &str| NoteError::Malformed(what.to_string());
        let mut lines = body
            .strip_suffix('\n')
            .ok_or_else(|| malformed("the body must end with a newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| malformed("no origin line"))?;
        let size = lines
            .next()
            .and_then(|s| {
                s.parse::<u64>()
                    .ok()
                    .filter(|_| !s.starts_with('+') && (s == "0" || !s.starts_with('0')))
            })
            .ok_or_else(|| malformed("the second line must be the tree size in decimal"))?;
        let root = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .and_then(|r| <Hash>::try_from(r).ok())
            .ok_or_else(|| malformed("the third line must be the base64 of a 32-byte root hash"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// The public half of a checkpoint key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ED25519]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

impl VerifierKey {
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let bad = |why: &str| NoteError::BadKey(why.to_string());
        // The base64 key may itself contain '+': it is everything after the second one.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(encoded)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        if !valid_name(name) {
            return Err(bad("the name is empty or has spaces or '+'"));
        }
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| bad("the key is not base64"))?;
        let [ED25519, key @ ..] = bytes.as_slice() else {
            return Err(bad("only Ed25519 keys (type 0x01) are supported"));
        };
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| bad("an Ed25519 key has 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not a valid Ed25519 point"))?;
        let id = key_id(name, &key);
        if hex::encode(id) != id_hex.to_ascii_lowercase() {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(VerifierKey {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// Checks that `note` is a checkpoint signed by this key and returns it.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse_body(&self.open(note)?)
    }

    /// Checks that `note` carries a valid signature by this key and returns its text.
    pub fn open(&self, note: &str) -> Result<String, NoteError> {
        let (text, signatures) = note
            .split_once("\n\n")
            .map(|(text, rest)| (format!("{text}\n"), rest))
            .ok_or_else(|| {
                NoteError::Malformed("no empty line between the text and the signatures".into())
            })?;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(EM_DASH_PREFIX) else {
                return Err(NoteError::Malformed(format!(
                    "'{line}' is not a signature line"
                )));
            };
            let Some((name, encoded)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed(format!(
                    "'{line}' is not a signature line"
                )));
            };
            let Ok(bytes) = BASE64.decode(encoded) else {
                return Err(NoteError::Malformed(format!(
                    "the signature of {name} is not base64"
                )));
            };
            if name != self.name || bytes.len() != 68 || bytes[..4] != self.id {
                continue;
            }
            let signature = Signature::from_slice(&bytes[4..])
                .map_err(|_| NoteError::BadSignature { name: name.into() })?;
            return self
                .key
                .verify_strict(text.as_bytes(), &signature)
                .map(|_| text)
                .map_err(|_| NoteError::BadSignature { name: name.into() });
        }
        Err(NoteError::NotSignedBy {
            name: self.name.clone(),
            id: hex::encode(self.id),
        })
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            BASE64.encode(bytes)
        )
    }
}

/// The private checkpoint key of an installation.
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKey({})", self.name)
    }
}

impl SignerKey {
    /// A new random key with this name (the log's origin).
    pub fn generate(name: &str) -> Result<SignerKey, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::BadKey(format!("'{name}' is not a key name")));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NoteError::Random(e.to_string()))?;
        Ok(SignerKey {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn parse(text: &str) -> Result<SignerKey, NoteError> {
        let bad = |why: &str| NoteError::BadKey(why.to_string());
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("a private key starts with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(encoded)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected PRIVATE+KEY+<name>+<key id>+<key>"));
        };
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| bad("the key is not base64"))?;
        let [ED25519, seed @ ..] = bytes.as_slice() else {
            return Err(bad("only Ed25519 keys (type 0x01) are supported"));
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| bad("an Ed25519 private key has 32 bytes"))?;
        let signer = SignerKey {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        };
        if hex::encode(key_id(name, &signer.key.verifying_key())) != id_hex.to_ascii_lowercase() {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(signer)
    }

    /// The private key in its text form, for the key file only.
    pub fn to_private_text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        let id = key_id(&self.name, &self.key.verifying_key());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(id),
            BASE64.encode(bytes)
        )
    }

    pub fn verifier(&self) -> VerifierKey {
        let key = self.key.verifying_key();
        VerifierKey {
            name: self.name.clone(),
            id: key_id(&self.name, &key),
            key,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signed note of a checkpoint.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        self.sign_text(&checkpoint.body())
    }

    /// Signs note text (which ends with a newline and has no empty line).
    pub fn sign_text(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut bytes = key_id(&self.name, &self.key.verifying_key()).to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        format!(
            "{text}\n{EM_DASH_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(bytes)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(size: u64) -> Checkpoint {
        Checkpoint {
            origin: "girok.example/log".into(),
            size,
            root: crate::leaf_hash(&size.to_be_bytes()),
        }
    }

    /// The example of the signed-note reference implementation (golang.org/x/mod/sumdb/note).
    #[test]
    fn the_reference_example_signs_and_verifies_byte_for_byte() {
        let signer = SignerKey::parse(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        )
        .expect("key");
        assert_eq!(
            signer.verifier().to_string(),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
        let note = format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        assert_eq!(signer.sign_text(text), note);
        let verifier = VerifierKey::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .expect("vkey");
        assert_eq!(verifier.open(&note).as_deref(), Ok(text));
        assert!(
            verifier
                .open(&note.replace("cryptography", "cryptographY"))
                .is_err()
        );
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_printed_key() {
        let signer = SignerKey::generate("girok.example/log").expect("key");
        let note = signer.sign(&checkpoint(42));
        assert!(note.starts_with("girok.example/log\n42\n"));
        assert!(note.contains("\n\n\u{2014} girok.example/log "));
        let verifier = VerifierKey::parse(&signer.verifier().to_string()).expect("verifier key");
        assert_eq!(verifier.verify(&note), Ok(checkpoint(42)));
    }

    #[test]
    fn keys_round_trip_through_their_text_form() {
        let signer = SignerKey::generate("origin").expect("key");
        let again = SignerKey::parse(&signer.to_private_text()).expect("parse");
        assert_eq!(again.verifier(), signer.verifier());
        assert!(!format!("{signer:?}").contains(&signer.to_private_text()[20..]));
    }

    #[test]
    fn an_altered_checkpoint_fails() {
        let signer = SignerKey::generate("origin").expect("key");
        let note = signer.sign(&checkpoint(42));
        let altered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            signer.verifier().verify(&altered),
            Err(NoteError::BadSignature {
                name: "origin".into()
            })
        );
    }

    #[test]
    fn a_checkpoint_signed_with_another_key_fails() {
        let ours = SignerKey::generate("origin").expect("key");
        let theirs = SignerKey::generate("origin").expect("key");
        let forged = theirs.sign(&checkpoint(42));
        assert!(matches!(
            ours.verifier().verify(&forged),
            Err(NoteError::NotSignedBy { .. })
        ));
    }

    #[test]
    fn malformed_notes_and_keys_are_refused() {
        let signer = SignerKey::generate("origin").expect("key");
        let verifier = signer.verifier();
        for note in [
            "",
            "origin\n42\n",
            "origin\nx\nAAAA\n\n— origin AAAA\n",
            "origin\n042\nAAAA\n\n",
        ] {
            assert!(verifier.verify(note).is_err(), "{note:?}");
        }
        for key in ["", "a+b", "name+00000000+AAAA", "na me+00+AAAA"] {
            assert!(VerifierKey::parse(key).is_err(), "{key}");
        }
        let tampered = verifier.to_string().replace("origin+", "other+");
        assert!(VerifierKey::parse(&tampered).is_err());
    }
}
