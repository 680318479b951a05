//! The journal: every change as a numbered, timestamped, hash-chained entry.
//!
//! An entry's canonical bytes are its compact JSON encoding, fields in
//! declaration order (the model uses no hash maps and no floats, so the same
//! entry always encodes to the same bytes). Its hash is the RFC 6962 leaf hash
//! `SHA-256(0x00 ‖ bytes)`, and each entry names the hash of the one before it,
//! so removing, reordering or editing any entry breaks the chain after it.
//!
//! This crate is pure: it encodes, decodes and verifies; storing is the store's job.

pub mod bundle;
pub mod checkpoint;
mod controls;
pub mod merkle;

use chrono::{DateTime, SecondsFormat, Utc};
use girok_model::{Change, Invalid, Vocabularies};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev` of the first entry.
pub const GENESIS: Hash = [0; 32];

/// One journal entry. Field order is part of the format; never reorder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub seq: u64,
    /// UTC, RFC 3339 with microseconds.
    pub time: String,
    pub actor: String,
    /// Hex of the previous entry's hash.
    pub prev: String,
    pub change: Change,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal entry {seq} cannot be decoded: {source}")]
    Undecodable {
        seq: u64,
        #[source]
        source: serde_json::Error,
    },
    #[error("the actor of a change must be named")]
    NoActor,
}

impl Entry {
    pub fn new(
        seq: u64,
        time: DateTime<Utc>,
        actor: &str,
        prev: &Hash,
        change: Change,
    ) -> Result<Entry, JournalError> {
        if actor.trim().is_empty() {
            return Err(JournalError::NoActor);
        }
        Ok(Entry {
            seq,
            time: format_time(time),
            actor: actor.to_string(),
            prev: hex::encode(prev),
            change,
        })
    }

    /// The canonical bytes of this entry.
    pub fn encode(&self) -> Vec<u8> {
        // Serializing plain structs and enums into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(seq: u64, bytes: &[u8]) -> Result<Entry, JournalError> {
        serde_json::from_slice(bytes).map_err(|source| JournalError::Undecodable { seq, source })
    }
}

pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A change that has been validated and encoded, ready to be journaled.
///
/// Preparing is the part of the write path that needs no database, so callers
/// can prepare on one thread while another writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedChange {
    change: Change,
    encoded: Vec<u8>,
}

impl PreparedChange {
    pub fn new(change: Change, vocabularies: &Vocabularies) -> Result<PreparedChange, Invalid> {
        change.validate(vocabularies)?;
        // Serializing plain structs and enums into a Vec cannot fail.
        let encoded = serde_json::to_vec(&change).unwrap_or_default();
        controls::refuse_controls(&change, &encoded)?;
        // A new term may not take another's spelling; terms journaled before this rule still replay.
        if let Change::AddTerm { vocabulary, term } = &change
            && let Some((field, message)) = vocabularies.get(*vocabulary).spelling_taken(term)
        {
            return Err(Invalid::field(None, field, message));
        }
        Ok(PreparedChange { change, encoded })
    }

    pub fn change(&self) -> &Change {
        &self.change
    }

    /// The canonical bytes of the entry that journals this change: exactly
    /// what `Entry::encode` gives for the same fields.
    pub fn entry_bytes(&self, seq: u64, time: &str, actor: &str, prev: &Hash) -> Vec<u8> {
        let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
        let mut bytes = Vec::with_capacity(self.encoded.len() + 160);
        bytes.extend_from_slice(b"{\"seq\":");
        bytes.extend_from_slice(seq.to_string().as_bytes());
        bytes.extend_from_slice(b",\"time\":");
        bytes.extend_from_slice(quoted(time).as_bytes());
        bytes.extend_from_slice(b",\"actor\":");
        bytes.extend_from_slice(quoted(actor).as_bytes());
        bytes.extend_from_slice(b",\"prev\":\"");
        bytes.extend_from_slice(hex::encode(prev).as_bytes());
        bytes.extend_from_slice(b"\",\"change\":");
        bytes.extend_from_slice(&self.encoded);
        bytes.push(b'}');
        bytes
    }
}

/// RFC 6962 leaf hash of an entry's canonical bytes.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(bytes);
    hasher.finalize().into()
}

/// What is wrong at one place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {found} follows entry {}: entries are missing or out of order", .expected - 1)]
    Gap { expected: u64, found: u64 },
    #[error("entry {seq}: its bytes say it is entry {encoded}")]
    Renumbered { seq: u64, encoded: u64 },
    #[error("entry {seq}: stored hash does not match its bytes (the entry was edited)")]
    HashMismatch { seq: u64 },
    #[error(
        "entry {seq}: it does not name the previous entry's hash (an entry before it was edited, removed or reordered)"
    )]
    BrokenLink { seq: u64 },
    #[error("entry {seq}: {message}")]
    Undecodable { seq: u64, message: String },
}

/// Walks the journal in order, checking each link.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: u64,
    prev: Hash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_seq: 1,
            prev: GENESIS,
        }
    }
}

impl ChainVerifier {
    /// Checks the next stored entry and returns it decoded. After a break the
    /// verifier resynchronises on the stored entry, so later breaks are found too.
    pub fn check(
        &mut self,
        seq: u64,
        bytes: &[u8],
        stored_hash: &[u8],
    ) -> Result<Entry, ChainBreak> {
        let expected = self.next_seq;
        let previous = self.prev;
        let computed = leaf_hash(bytes);
        self.next_seq = seq + 1;
        self.prev = stored_hash.try_into().unwrap_or(computed);
        if seq != expected {
            return Err(ChainBreak::Gap {
                expected,
                found: seq,
            });
        }
        if computed.as_slice() != stored_hash {
            return Err(ChainBreak::HashMismatch { seq });
        }
        let entry = Entry::decode(seq, bytes).map_err(|e| ChainBreak::Undecodable {
            seq,
            message: e.to_string(),
        })?;
        if entry.seq != seq {
            return Err(ChainBreak::Renumbered {
                seq,
                encoded: entry.seq,
            });
        }
        if entry.prev != hex::encode(previous) {
            return Err(ChainBreak::BrokenLink { seq });
        }
        Ok(entry)
    }

    /// The hash of the last entry checked: the head of the chain.
    pub fn head(&self) -> Hash {
        self.prev
    }

    pub fn entries_checked(&self) -> u64 {
        self.next_seq - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use girok_model::{RecordId, RecordKind, Vocabularies};

    fn chain(n: u64) -> Vec<(u64, Vec<u8>, Hash)> {
        let mut prev = GENESIS;
        let time = DateTime::parse_from_rfc3339("2025-05-20T10:00:00Z")
            .expect("time")
            .to_utc();
        (1..=n)
            .map(|seq| {
                let change = Change::Delete {
                    kind: RecordKind::Person,
                    id: RecordId::new(format!("p{seq}")),
                    base_revision: 1,
                    reason: "test".into(),
                };
                let bytes = Entry::new(seq, time, "tester", &prev, change)
                    .expect("entry")
                    .encode();
                prev = leaf_hash(&bytes);
                (seq, bytes, prev)
            })
            .collect()
    }

    fn verify(entries: &[(u64, Vec<u8>, Hash)]) -> Vec<ChainBreak> {
        let mut verifier = ChainVerifier::default();
        entries
            .iter()
            .filter_map(|(seq, bytes, hash)| verifier.check(*seq, bytes, hash).err())
            .collect()
    }

    #[test]
    fn leaf_hash_is_rfc6962() {
        // From ../shared/data/rfc6962-roots.tsv: the tree of one empty leaf.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), vec![]);
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut entries = chain(5);
        entries[2].1 = String::from_utf8(entries[2].1.clone())
            .expect("utf8")
            .replace("p3", "p9")
            .into_bytes();
        assert_eq!(verify(&entries), vec![ChainBreak::HashMismatch { seq: 3 }]);
    }

    #[test]
    fn an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[2].1 = String::from_utf8(entries[2].1.clone())
            .expect("utf8")
            .replace("p3", "p9")
            .into_bytes();
        entries[2].2 = leaf_hash(&entries[2].1);
        assert_eq!(verify(&entries), vec![ChainBreak::BrokenLink { seq: 4 }]);
    }

    #[test]
    fn a_removed_entry_is_a_gap() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(
            verify(&entries),
            vec![ChainBreak::Gap {
                expected: 2,
                found: 3
            }]
        );
    }

    #[test]
    fn reordered_entries_are_found() {
        let mut entries = chain(5);
        entries.swap(1, 2);
        let breaks = verify(&entries);
        assert!(
            breaks.contains(&ChainBreak::Gap {
                expected: 2,
                found: 3
            }),
            "{breaks:?}"
        );
    }

    #[test]
    fn a_renumbered_entry_is_found() {
        let mut entries = chain(3);
        let bytes = entries[2].1.clone();
        entries[1] = (2, bytes.clone(), leaf_hash(&bytes));
        let breaks = verify(&entries);
        assert!(
            breaks.contains(&ChainBreak::Renumbered { seq: 2, encoded: 3 }),
            "{breaks:?}"
        );
    }

    #[test]
    fn encoding_is_canonical() {
        for (seq, bytes, _) in chain(3) {
            let entry = Entry::decode(seq, &bytes).expect("decode");
            assert_eq!(entry.encode(), bytes);
        }
    }

    #[test]
    fn prepared_changes_encode_exactly_like_entries() {
        let time = "2025-05-20T10:00:00.000001Z";
        let prev = leaf_hash(b"previous");
        for actor in ["tester", "김 \"documenter\" \\ 1", "tab\there"] {
            let change = Change::Delete {
                kind: RecordKind::Act,
                id: RecordId::new("a-1"),
                base_revision: 3,
                reason: "entered twice: \"same\" 행위\n".into(),
            };
            let prepared =
                PreparedChange::new(change.clone(), &Vocabularies::default()).expect("valid");
            let entry = Entry {
                seq: 42,
                time: time.into(),
                actor: actor.into(),
                prev: hex::encode(prev),
                change,
            };
            assert_eq!(
                prepared.entry_bytes(42, time, actor, &prev),
                entry.encode(),
                "{actor}"
            );
        }
    }

    #[test]
    fn preparing_validates() {
        let change = Change::Delete {
            kind: RecordKind::Act,
            id: RecordId::new("bad id"),
            base_revision: 1,
            reason: "x".into(),
        };
        assert!(PreparedChange::new(change, &Vocabularies::default()).is_err());
    }

    #[test]
    fn an_actor_is_required() {
        let change = Change::Import {
            file_name: "f".into(),
            sha256: "0".repeat(64),
            records: 0,
        };
        assert!(matches!(
            Entry::new(1, Utc::now(), " ", &GENESIS, change),
            Err(JournalError::NoActor)
        ));
    }
}
