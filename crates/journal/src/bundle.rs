//! Proof bundles: everything a court or partner needs to check a record
//! without the database, only the bundle and the installation's verifier key.
//!
//! A bundle is a directory: `checkpoint` (a signed note), `key` (the verifier
//! key, for reference only: the checker supplies the key it trusts),
//! `bundle.json` (the entries with their inclusion proofs, the evidence file
//! list) and, if asked, `files/<sha256>` with the evidence bytes.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use girok_model::{Change, Record, RecordId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::VerifierKey;
use crate::{Entry, Hash, leaf_hash, merkle};

pub const FORMAT: &str = "girok-proof-bundle/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub record: RecordId,
    pub tree_size: u64,
    pub entries: Vec<ProvenEntry>,
    pub evidence: Vec<EvidenceFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenEntry {
    pub seq: u64,
    /// The entry's canonical bytes, base64.
    pub bytes: String,
    /// Audit path in the checkpoint's tree, hex.
    pub inclusion_proof: Vec<String>,
}

impl ProvenEntry {
    pub fn new(seq: u64, bytes: &[u8], proof: &[Hash]) -> ProvenEntry {
        ProvenEntry {
            seq,
            bytes: BASE64.encode(bytes),
            inclusion_proof: proof.iter().map(hex::encode).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    pub record: RecordId,
    pub sha256: String,
    pub file_name: String,
    pub size: u64,
    /// Whether `files/<sha256>` is in the bundle.
    pub included: bool,
    /// Hex of the salt of a sealed file's commitment: the salt followed by
    /// the bytes hash to `sha256`. Given only with the file itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// What a successful check established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    pub record: RecordId,
    pub origin: String,
    pub tree_size: u64,
    pub entries: usize,
    pub files_checked: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0}")]
    Unreadable(String),
    #[error("the checkpoint: {0}")]
    Checkpoint(#[from] crate::checkpoint::NoteError),
    #[error("{0}")]
    Invalid(String),
}

fn read(dir: &Path, name: &str) -> Result<String, BundleError> {
    std::fs::read_to_string(dir.join(name)).map_err(|e| {
        BundleError::Unreadable(format!("cannot read {}: {e}", dir.join(name).display()))
    })
}

/// Checks a bundle directory against a verifier key the checker trusts.
pub fn verify(dir: &Path, key: &VerifierKey) -> Result<BundleReport, BundleError> {
    let invalid = |message: String| Err(BundleError::Invalid(message));
    let checkpoint = key.verify(&read(dir, "checkpoint")?)?;
    let bundle: Bundle = serde_json::from_str(&read(dir, "bundle.json")?)
        .map_err(|e| BundleError::Unreadable(format!("bundle.json is not a proof bundle: {e}")))?;
    if bundle.format != FORMAT {
        return invalid(format!("unknown bundle format {}", bundle.format));
    }
    if bundle.tree_size != checkpoint.size {
        return invalid(format!(
            "the proofs are for a tree of {} entries but the checkpoint signs {}",
            bundle.tree_size, checkpoint.size
        ));
    }
    let mut proven_hashes: Vec<(RecordId, String)> = Vec::new();
    let mut about_record = false;
    for proven in &bundle.entries {
        let seq = proven.seq;
        let Ok(bytes) = BASE64.decode(&proven.bytes) else {
            return invalid(format!("entry {seq}: its bytes are not base64"));
        };
        let proof: Vec<Hash> = match proven
            .inclusion_proof
            .iter()
            .map(|h| hex::decode(h).ok().and_then(|b| Hash::try_from(b).ok()))
            .collect()
        {
            Some(proof) => proof,
            None => {
                return invalid(format!(
                    "entry {seq}: its inclusion proof is not a list of hashes"
                ));
            }
        };
        if seq == 0
            || !merkle::verify_inclusion(
                &leaf_hash(&bytes),
                seq - 1,
                checkpoint.size,
                &proof,
                &checkpoint.root,
            )
        {
            return invalid(format!(
                "entry {seq} is not in the signed tree: it was altered, or the proof is wrong"
            ));
        }
        let entry = Entry::decode(seq, &bytes).map_err(|e| BundleError::Invalid(e.to_string()))?;
        if entry.seq != seq {
            return invalid(format!("entry {seq} says it is entry {}", entry.seq));
        }
        about_record |= entry.change.subject() == Some(&bundle.record);
        if let Change::Create {
            record: Record::Evidence(evidence),
        }
        | Change::Update {
            record: Record::Evidence(evidence),
            ..
        } = &entry.change
        {
            proven_hashes.push((evidence.id.clone(), evidence.sha256.clone()));
        }
    }
    if !about_record {
        return invalid(format!("no proven entry is about record {}", bundle.record));
    }
    let mut files_checked = 0;
    for file in &bundle.evidence {
        if !proven_hashes
            .iter()
            .any(|(id, sha)| *id == file.record && *sha == file.sha256)
        {
            return invalid(format!(
                "evidence {} ({}) is not backed by a proven entry",
                file.record, file.sha256
            ));
        }
        if file.included {
            let path = dir.join("files").join(&file.sha256);
            let bytes = std::fs::read(&path).map_err(|e| {
                BundleError::Unreadable(format!("cannot read {}: {e}", path.display()))
            })?;
            let mut hasher = Sha256::new();
            if let Some(salt) = &file.salt {
                let salt = hex::decode(salt).map_err(|_| {
                    BundleError::Invalid(format!("the salt of file {} is not hex", file.sha256))
                })?;
                hasher.update(salt);
            }
            hasher.update(&bytes);
            let actual = hex::encode(hasher.finalize());
            if actual != file.sha256 {
                return invalid(format!(
                    "file {} ({}) was altered: its bytes hash to {actual}",
                    file.sha256, file.file_name
                ));
            }
            files_checked += 1;
        }
    }
    Ok(BundleReport {
        record: bundle.record,
        origin: checkpoint.origin,
        tree_size: checkpoint.size,
        entries: bundle.entries.len(),
        files_checked,
    })
}
