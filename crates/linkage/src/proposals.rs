//! Proposals of `girok link` as reviewers see them: clusters of person
//! records, each with the comparisons that linked it. The database keeps
//! them with no identifying value (ids, scores, levels); this module encodes
//! what linkage explains, describes a person record at display time, reads
//! the plaintext file earlier versions wrote so it can be moved in, and
//! turns a decision into its journal change.

use std::io::Write;
use std::path::{Path, PathBuf};

use girok_model::{Change, Person, Record, RecordId};
use serde::{Deserialize, Serialize};

use crate::person::{PersonRecord, PersonRecordsBuilder};
use crate::{Explanation, ModelOrigin};

/// Why a pair of person records was linked: no value of either, only the
/// comparisons' levels and weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplainedPair {
    pub a: String,
    pub b: String,
    pub explanation: Explanation,
}

/// What a reviewer sees of one person record: read from the record itself
/// when it is shown, never stored with the proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedPerson {
    pub names: String,
    pub sex: String,
    pub birth: String,
    pub origin: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProposalsError {
    #[error("the stored linkage proposals cannot be read: {0}")]
    Undecodable(String),
    #[error("cannot read {path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("cannot remove {path}: {message}")]
    Undeletable { path: String, message: String },
}

pub fn encode_links(links: &[ExplainedPair]) -> String {
    // Plain structs of strings and numbers always serialize.
    serde_json::to_string(links).unwrap_or_default()
}

pub fn decode_links(text: &str) -> Result<Vec<ExplainedPair>, ProposalsError> {
    serde_json::from_str(text).map_err(|e| ProposalsError::Undecodable(e.to_string()))
}

pub fn encode_training(origin: &ModelOrigin) -> String {
    serde_json::to_string(origin).unwrap_or_default()
}

pub fn decode_training(text: &str) -> Result<ModelOrigin, ProposalsError> {
    serde_json::from_str(text).map_err(|e| ProposalsError::Undecodable(e.to_string()))
}

/// A person record as a reviewer compares it, or `None` while it is sealed
/// (the database is locked, or the person was forgotten).
pub fn describe(person: &Person) -> Option<ProposedPerson> {
    if person.sealed.is_some() {
        return None;
    }
    let mut builder = PersonRecordsBuilder::default();
    builder.add(&Record::Person(person.clone()));
    builder
        .finish()
        .pop()
        .map(|record| describe_record(&record))
}

fn describe_record(person: &PersonRecord) -> ProposedPerson {
    let birth = match (person.birth_from, person.birth_to) {
        (Some(from), Some(to)) if from == to => from.to_string(),
        (Some(from), Some(to)) => format!("{from}–{to}"),
        _ => "unknown".into(),
    };
    let or_unknown = |text: &str| {
        if text.is_empty() {
            "unknown".to_string()
        } else {
            text.to_string()
        }
    };
    ProposedPerson {
        names: person.names.clone(),
        sex: or_unknown(&person.sex),
        birth,
        origin: or_unknown(&person.origin),
    }
}

/// The reviewer's decision on a whole proposal, as a journal change.
pub fn decide(persons: &[RecordId], same: bool, reason: &str) -> Change {
    Change::LinkDecision {
        same,
        persons: persons.to_vec(),
        reason: reason.to_string(),
    }
}

/// The plaintext file of proposals earlier versions kept in the data
/// directory (names, birth years and origins in clear).
pub fn legacy_path(data: &Path) -> PathBuf {
    data.join("link-proposals.json")
}

/// What the legacy file holds that the database keeps: everything but the
/// persons' names, sex, birth and origin, which serde skips.
#[derive(Debug, Deserialize)]
pub struct LegacyProposals {
    pub journal_size: u64,
    pub proposals: Vec<LegacyProposal>,
    #[serde(default)]
    pub training: Option<ModelOrigin>,
}

#[derive(Debug, Deserialize)]
pub struct LegacyProposal {
    pub persons: Vec<LegacyPerson>,
    pub probability: f64,
    pub links: Vec<ExplainedPair>,
}

#[derive(Debug, Deserialize)]
pub struct LegacyPerson {
    pub id: String,
    #[serde(default)]
    pub sources: String,
}

/// Reads the legacy file, if there is one.
pub fn read_legacy(data: &Path) -> Result<Option<LegacyProposals>, ProposalsError> {
    let path = legacy_path(data);
    let unreadable = |message: String| ProposalsError::Unreadable {
        path: path.display().to_string(),
        message,
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e.to_string())),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| unreadable(e.to_string()))
}

/// Overwrites the legacy file with zeros, syncs, and unlinks it (another
/// process may have done so first).
pub fn destroy_legacy(data: &Path) -> Result<(), ProposalsError> {
    let path = legacy_path(data);
    let failed = |e: std::io::Error| ProposalsError::Undeletable {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let overwrite = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
        let length = file.metadata()?.len();
        let zeros = vec![0u8; 64 * 1024];
        let mut left = length;
        while left > 0 {
            let chunk = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..chunk])?;
            left -= chunk as u64;
        }
        file.sync_all()
    };
    match overwrite().and_then(|()| std::fs::remove_file(&path)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(failed),
    }
}
